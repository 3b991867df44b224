#!/usr/bin/env bash
# ttt per move against three bare frames: the bare arena at 200, then ticksync's ttt at 200.
set -u
D=${1:-/tmp/s15/ttt}
S=/work/main/benches/results/profile/sitting.sh
for r in u1 u2 u3 u4 u5 u6 u7; do
  bash $S $D/$r-bare "bare:arena:200"
  TS_DIR=/work/main TS_ARGS="--database none" bash $S $D/$r-ts "ts:ttt:200"
done
echo TTT DONE
