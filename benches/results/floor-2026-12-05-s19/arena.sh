#!/usr/bin/env bash
# The arena at 200 and 800 clients on one build beside the bare server (CPU and memory per
# client; a check that this session's changes cost the arena nothing): per round and N,
# the bare server, then ticksync (TS_BIN), one run at a time on a fresh server.
# usage: TS_BIN=... arena.sh OUT "ROUNDS" "N..."
set -u
HERE=$(cd "$(dirname "$0")" && pwd)
S="$HERE/../profile/sitting.sh"
for r in $2; do
  for n in $3; do
    bash "$S" "$1/$r" "bare:arena:$n"
    TS_ARGS="--database none" bash "$S" "$1/$r" "ts:arena:$n"
  done
done
