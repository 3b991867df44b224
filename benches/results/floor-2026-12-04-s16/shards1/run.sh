#!/usr/bin/env bash
# ticksync at 2,750: one shard against the default two (one per core), alternated.
set -u
D=${1:-$(dirname "$0")}
S=$(cd "$(dirname "$0")/../../profile" && pwd)/sitting.sh
REPO=$(cd "$(dirname "$0")/../../../.." && pwd)
for r in 1 2 3 4; do
  TS_DIR=$REPO TS_ARGS="--database none --shards 1" bash $S $D/s1-$r "ts:arena:2750"
  TS_DIR=$REPO TS_ARGS="--database none" bash $S $D/s2-$r "ts:arena:2750"
done
echo SHARDS1 DONE
