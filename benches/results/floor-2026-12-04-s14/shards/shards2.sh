#!/usr/bin/env bash
# ticksync at 2,750: 2 shards (the default on 2 cores) against 8, alternated, five pairs.
set -u
D=${1:-/tmp/s14/shards}
S=/work/main/benches/results/profile/sitting.sh
for r in 4 5 6 7 8; do
  TS_DIR=/work/main TS_ARGS="--database none --shards 8" bash $S $D/s8-$r "ts:arena:2750"
  TS_DIR=/work/main TS_ARGS="--database none" bash $S $D/s2-$r "ts:arena:2750"
done
echo SHARDS2 DONE
