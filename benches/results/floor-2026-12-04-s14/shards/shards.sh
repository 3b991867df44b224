#!/usr/bin/env bash
# ticksync at 2,750 with 2 (the default on 2 cores), 4 and 8 shards, alternated.
set -u
D=${1:-/tmp/s14/shards}
S=/work/main/benches/results/profile/sitting.sh
for r in 1 2 3; do
  TS_DIR=/work/main TS_ARGS="--database none" bash $S $D/s2-$r "ts:arena:2750"
  TS_DIR=/work/main TS_ARGS="--database none --shards 4" bash $S $D/s4-$r "ts:arena:2750"
  TS_DIR=/work/main TS_ARGS="--database none --shards 8" bash $S $D/s8-$r "ts:arena:2750"
done
echo SHARDS DONE
