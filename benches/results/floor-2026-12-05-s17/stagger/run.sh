#!/usr/bin/env bash
# Staggered shard ticks (the second shard's clock half a period later; an experiment behind
# TICKSYNC_EXP_STAGGER in a build of its own, /tmp/ts-stagger) against the same source
# ticking together (/tmp/ts-plain), ticksync's arena at N, alternated pairs, order swapped
# every round. usage: run.sh OUT N "r1 r2 ..."
set -u
OUT=$1; N=$2; ROUNDS=$3
S=/work/main/benches/results/profile/sitting.sh
i=0
for r in $ROUNDS; do
  i=$((i+1))
  if [ $((i % 2)) -eq 1 ]; then order="plain stagger"; else order="stagger plain"; fi
  for v in $order; do
    if [ $v = stagger ]; then
      TICKSYNC_EXP_STAGGER=1 TS_BIN=/tmp/ts-stagger TS_DIR=/work/main TS_ARGS="--database none" bash $S $OUT/$r-$v "ts:arena:$N"
    else
      TS_BIN=/tmp/ts-plain TS_DIR=/work/main TS_ARGS="--database none" bash $S $OUT/$r-$v "ts:arena:$N"
    fi
  done
done
echo STAGGER DONE
