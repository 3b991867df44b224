#!/usr/bin/env bash
set -u
D=/work/main/benches/results/floor-2026-12-04-s13
S=/work/main/benches/results/profile/sitting.sh
for r in t4 t5 t6 t7; do
  bash $S $D/$r-bare "bare:arena:200"
  TS_DIR=/work/main TS_ARGS="--database none" bash $S $D/$r-new "ts:ttt:200"
  TS_DIR=/tmp/s13/oldtree TS_ARGS="--database none" bash $S $D/$r-old "ts:ttt:200"
done
echo TTT DONE
