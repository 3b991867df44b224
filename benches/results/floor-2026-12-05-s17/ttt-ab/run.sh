#!/usr/bin/env bash
# ttt at 200: the bare arena at 200 (the yardstick), then ticksync's shards ticking together
# (/tmp/ts-plain: build 0f7ad88) and staggered (/tmp/ts-s17: build 165d945), order of the
# two swapped every round. usage: run.sh OUT "r1 r2 ..."
set -u
OUT=$1; ROUNDS=$2
S=/work/main/benches/results/profile/sitting.sh
i=0
for r in $ROUNDS; do
  i=$((i+1))
  bash $S $OUT/$r-bare "bare:arena:200"
  if [ $((i % 2)) -eq 1 ]; then order="plain s17"; else order="s17 plain"; fi
  for v in $order; do
    TS_BIN=/tmp/ts-$v TS_DIR=/work/main TS_ARGS="--database none" bash $S $OUT/$r-$v "ts:ttt:200"
  done
done
echo TTT-AB DONE
