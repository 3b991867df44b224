#!/usr/bin/env bash
# Two builds, both with the SQLite default, alternating: the ttt load at 1000 clients on a
# fresh server of build A, then of build B, ROUNDS times (storage-ttt-run.sh; each run
# starts only once the machine is quiet). A and B are folders holding release binaries
# (`ticksync` and `examples/loadgen`), e.g. another worktree's target/release.
# usage: [A_ARGS=... B_ARGS=...] storage-ab.sh OUTDIR ROUNDS A_RELEASE_DIR B_RELEASE_DIR
# (A_ARGS / B_ARGS: words added to that side's server command line)
# Prints per round the `server CPU ms per 1000 moves` of each and, as in storage-pairs.sh,
# the server's CPU per second of the load driver's CPU, and B's over A's.
set -u
OUT=$(realpath -m "$1"); ROUNDS=${2:-6}; A=$3; B=$4; HERE=$(cd "$(dirname "$0")" && pwd)
mkdir -p "$OUT"
. "$HERE/quiet.sh"
. "$HERE/storage-common.sh"
for i in $(seq "$ROUNDS"); do
  for side in a b; do
    if [ $side = a ]; then dir=$A; args=${A_ARGS:-}; else dir=$B; args=${B_ARGS:-}; fi
    SERVER_ARGS=$args T=$dir quiet_run sqlite "ab$i-$side" "$OUT/ab$i-$side.txt" "binaries from $dir${args:+, server args: $args}"
  done
  a=$(cpu "$OUT/ab$i-a.txt"); b=$(cpu "$OUT/ab$i-b.txt")
  ad=$(per_driver "$OUT/ab$i-a.txt"); bd=$(per_driver "$OUT/ab$i-b.txt")
  echo "round $i: A $a B $b ms per 1000 moves (B/A $(ratio "$b" "$a")); per driver CPU A $ad B $bd (B/A $(ratio "$bd" "$ad"))"
done
