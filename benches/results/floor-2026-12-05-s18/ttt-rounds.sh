#!/usr/bin/env bash
# ttt on one build against three bare frames: per round the bare server's arena at 200,
# then ticksync's ttt at 200 (TS_BIN).
# usage: TS_BIN=... ttt-rounds.sh OUT "ROUNDS"
set -u
HERE=$(cd "$(dirname "$0")" && pwd)
for r in $2; do
  bash "$HERE/../profile/sitting.sh" "$1/$r" "bare:arena:200"
  TS_ARGS="--database none" bash "$HERE/../profile/sitting.sh" "$1/$r" "ts:ttt:200"
done
