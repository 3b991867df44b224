#!/usr/bin/env bash
# The bare server's CPU per frame in and per frame out, and ttt on two builds against them.
# Per round: the bare arena at 200 clients with 10, 20 and 40 inputs a second per client
# (30 frames out a second each time), then ticksync's ttt at 200 on NEW and OLD (their
# order swapped every round), one run at a time on a fresh server (../profile/sitting.sh).
# usage: NEW=... OLD=... inout.sh OUT "ROUNDS"
set -u
HERE=$(cd "$(dirname "$0")" && pwd)
S="$HERE/../profile/sitting.sh"
i=0
for r in $2; do
  for in in 10 20 40; do
    BARE_INPUT_HZ=$in bash "$S" "$1/$r" "bare:arena:200"
  done
  if [ $((i % 2)) = 0 ]; then order="new old"; else order="old new"; fi
  for b in $order; do
    bin=$NEW; [ "$b" = old ] && bin=$OLD
    TS_BIN=$bin TS_ARGS="--database none" bash "$S" "$1/$r/$b" "ts:ttt:200"
  done
  i=$((i + 1))
done
