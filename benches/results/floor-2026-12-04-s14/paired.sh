#!/usr/bin/env bash
# Paired capacity rounds: the bare server at N, ticksync at about 0.92 N, alternated.
set -u
D=${1:-/tmp/s14/cap}
S=/work/main/benches/results/profile/sitting.sh
for r in p1 p2 p3 p4; do
  bash $S $D/$r-bare "bare:arena:3000"
  TS_DIR=/work/main TS_ARGS="--database none" bash $S $D/$r-ts "ts:arena:2750"
  bash $S $D/$r-bare "bare:arena:3250"
  TS_DIR=/work/main TS_ARGS="--database none" bash $S $D/$r-ts "ts:arena:3000"
done
echo PAIRED DONE
