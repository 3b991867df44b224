#!/usr/bin/env bash
# Rounds of the arena memory comparison (BENCHMARKS.md, issue 13, "Memory"): per round and
# per N, the bare server, this checkout's release build and, if OLD is set, another
# checkout's (a folder holding target/release), one run at a time, each on a fresh
# server (sitting.sh). ticksync runs with `--database none`, as in every floor sitting.
# usage: [OLD=/path/to/checkout] memory-rounds.sh OUTDIR ROUNDS "N1 N2 ..."
# Prints one line per run: the anonymous and file-backed RSS per client.
set -u
HERE=$(cd "$(dirname "$0")" && pwd)
OUT=$(realpath -m "$1"); ROUNDS=$2; NS=$3
for r in $(seq "$ROUNDS"); do
  for n in $NS; do
    bash "$HERE/sitting.sh" "$OUT/r$r-bare" "bare:arena:$n" > /dev/null
    TS_ARGS="--database none" bash "$HERE/sitting.sh" "$OUT/r$r-new" "ts:arena:$n" > /dev/null
    if [ -n "${OLD:-}" ]; then
      TS_DIR=$OLD TS_ARGS="--database none" bash "$HERE/sitting.sh" "$OUT/r$r-old" "ts:arena:$n" > /dev/null
    fi
    for side in bare new ${OLD:+old}; do
      f=$(ls "$OUT/r$r-$side"/*-arena-n$n-hz30.txt)
      echo "round $r N=$n $side: $(grep '^# memory' "$f" | sed 's/^# memory: //')"
    done
  done
done
