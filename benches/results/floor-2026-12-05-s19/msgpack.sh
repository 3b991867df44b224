#!/usr/bin/env bash
# Arena payload bytes per update in both codecs at 800 clients, alternated (TS_BIN).
# usage: TS_BIN=... msgpack.sh OUT "ROUNDS"
set -u
HERE=$(cd "$(dirname "$0")" && pwd)
S="$HERE/../profile/sitting.sh"
for r in $2; do
  TS_ARGS="--database none" LG_ARGS="--codec msgpack" bash "$S" "$1/$r/msgpack" "ts:arena:800"
  TS_ARGS="--database none" bash "$S" "$1/$r/bincode" "ts:arena:800"
done
