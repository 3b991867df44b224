#!/usr/bin/env bash
# Alternating pairs of the ttt load at 1000 clients, SQLite (default) then `--database none`,
# each on a fresh release server (storage-ttt-run.sh), each started only once the machine
# is quiet (at most 15% busy over a second, waiting up to 90 s; the busy figure is kept).
# usage: storage-pairs.sh OUTDIR PAIRS
# Prints one line per pair: the two `server CPU ms per 1000 moves` and their ratio.
set -u
OUT=$(realpath -m "$1"); PAIRS=${2:-6}; HERE=$(cd "$(dirname "$0")" && pwd)
mkdir -p "$OUT"
busy_pct() {
  read -r _ u1 n1 s1 i1 w1 q1 sq1 st1 _ < /proc/stat; sleep 1
  read -r _ u2 n2 s2 i2 w2 q2 sq2 st2 _ < /proc/stat
  local busy=$(( (u2+n2+s2+q2+sq2+st2) - (u1+n1+s1+q1+sq1+st1) )) idle=$(( (i2+w2) - (i1+w1) ))
  echo $(( 100 * busy / (busy + idle) ))
}
wait_quiet() {
  local p
  for _ in $(seq 30); do p=$(busy_pct); [ "$p" -le 15 ] && { echo "$p"; return; }; sleep 2; done
  echo "$p"
}
cpu() { grep 'server CPU ms per 1000 moves' "$1" | awk '{print $(NF-1)}'; }
for i in $(seq "$PAIRS"); do
  for db in sqlite none; do
    busy=$(wait_quiet)
    bash "$HERE/storage-ttt-run.sh" "$db" "pair$i-$db" > /dev/null 2>&1
    { echo "# busy ${busy}% at the start"; cat "/tmp/stbench/pair$i-$db/loadgen.txt";
      echo "# server threads (CPU clock ticks, whole run)"; cat "/tmp/stbench/pair$i-$db/threads.txt"; } > "$OUT/pair$i-$db.txt"
  done
  s=$(cpu "$OUT/pair$i-sqlite.txt"); n=$(cpu "$OUT/pair$i-none.txt")
  echo "pair $i: sqlite $s none $n ratio $(awk -v s="$s" -v n="$n" 'BEGIN {printf "%.3f", s/n}') (busy at start: $(head -1 "$OUT/pair$i-sqlite.txt" | tr -dc 0-9)% / $(head -1 "$OUT/pair$i-none.txt" | tr -dc 0-9)%)"
done
