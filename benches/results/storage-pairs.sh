#!/usr/bin/env bash
# Pairs of the ttt load at 1000 clients, SQLite (default) and `--database none`, each on a
# fresh release server (storage-ttt-run.sh), each started only once the machine is quiet
# (at most 15% busy over a second, waiting up to 90 s; the busy figure is kept). Odd pairs
# run SQLite first, even pairs `none` first: the second run of a pair tends to be the
# cheaper (measured, BENCHMARKS.md "Results storage", seventh session), so a fixed order
# leans against one side.
# usage: storage-pairs.sh OUTDIR PAIRS
# Prints one line per pair: the two `server CPU ms per 1000 moves` and their ratio, and the
# ratio of the server's CPU to the load driver's in each run. The driver does the same work
# in both runs of a pair, so its CPU time moves only with the machine's speed (it ranged
# 0.84x to 1.20x between the two runs of one pair on this machine); the server's CPU per
# second of driver CPU cancels that out (BENCHMARKS.md, "Results storage", seventh session).
set -u
OUT=$(realpath -m "$1"); PAIRS=${2:-6}; HERE=$(cd "$(dirname "$0")" && pwd)
mkdir -p "$OUT"
. "$HERE/quiet.sh"
. "$HERE/storage-common.sh"
for i in $(seq "$PAIRS"); do
  if [ $((i % 2)) = 1 ]; then order="sqlite none"; else order="none sqlite"; fi
  for db in $order; do
    quiet_run "$db" "pair$i-$db" "$OUT/pair$i-$db.txt"
  done
  s=$(cpu "$OUT/pair$i-sqlite.txt"); n=$(cpu "$OUT/pair$i-none.txt")
  sd=$(per_driver "$OUT/pair$i-sqlite.txt"); nd=$(per_driver "$OUT/pair$i-none.txt")
  echo "pair $i: sqlite $s none $n ratio $(ratio "$s" "$n"); per driver CPU $sd / $nd ratio $(ratio "$sd" "$nd") ($order; busy at start: $(head -1 "$OUT/pair$i-sqlite.txt" | tr -dc 0-9)% / $(head -1 "$OUT/pair$i-none.txt" | tr -dc 0-9)%)"
done
