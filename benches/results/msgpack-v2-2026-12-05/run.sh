#!/usr/bin/env bash
# MessagePack bytes per arena update, ticksync.msgpack.v2 against v1 and bincode, one
# fresh server per run (profile/sitting.sh, the arena at N clients, checks off), on one
# build, in rounds: bincode, msgpack (v2), msgpack-v1.
# usage: run.sh OUT "ROUNDS" N
set -u
HERE=$(cd "$(dirname "$0")" && pwd)
S="$HERE/../profile/sitting.sh"
for r in $2; do
  for codec in bincode msgpack msgpack-v1; do
    LG_ARGS="--codec $codec" TS_ARGS="--database none" bash "$S" "$1/$r/$codec" "ts:arena:$3"
  done
done
