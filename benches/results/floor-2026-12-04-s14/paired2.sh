#!/usr/bin/env bash
# Paired capacity rounds, second set: the bare server at N, ticksync at about 0.91 N.
set -u
D=${1:-/tmp/s14/cap}
S=/work/main/benches/results/profile/sitting.sh
for r in q1 q2 q3; do
  bash $S $D/$r-bare "bare:arena:2750"
  TS_DIR=/work/main TS_ARGS="--database none" bash $S $D/$r-ts "ts:arena:2500"
  bash $S $D/$r-bare "bare:arena:3000"
  TS_DIR=/work/main TS_ARGS="--database none" bash $S $D/$r-ts "ts:arena:2750"
done
echo PAIRED2 DONE
