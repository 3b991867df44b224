#!/usr/bin/env bash
# Instructions the ttt load driver spends per finished game against a native release
# server, with the SQLite default or `--database none` (BENCHMARKS.md, "Results storage",
# tenth session): with SQLite the driver also decodes each player's RatingChanged, so the
# server's CPU per driver CPU (storage-pairs.sh) leans towards SQLite by at most this much.
# usage: cg-driver.sh TAG sqlite|none [CLIENTS]   (OUT, default /tmp/cgw; binaries from
# target/release, or T)
set -u
tag=$1; db=$2; n=${3:-200}; out=${OUT:-/tmp/cgw}; mkdir -p "$out"
root=$(cd "$(dirname "$0")/../../.." && pwd)
T=${T:-$root/target/release}
port=$((29800 + RANDOM % 100))
if [ "$db" = sqlite ]; then dbarg=(--database "sqlite://$out/$tag.db"); rm -f "$out/$tag.db"*; else dbarg=(--database none); fi
"$T/ticksync" serve --addr 127.0.0.1:$port --log warn "${dbarg[@]}" --max-connections-per-ip 0 \
  --new-connections-per-ip 0 > /dev/null 2>&1 &
spid=$!
for _ in $(seq 300); do curl -sf http://127.0.0.1:$port/healthz >/dev/null && break; sleep 0.1; done
valgrind --tool=callgrind --callgrind-out-file="$out/$tag.cg" "$T/examples/loadgen" --workload ttt \
  --clients "$n" --seconds 30 --url ws://127.0.0.1:$port > "$out/$tag.lg" 2> "$out/$tag.err"
g=$(curl -s 127.0.0.1:$port/metrics | awk '/^ticksync_games_finished_total/ {s+=$2} END {print s}')
kill -INT $spid; wait $spid
t=$(grep -o "summary: [0-9]*" "$out/$tag.cg" | awk '{print $2}')
echo "$tag games $g driver instructions $t per game $((t / g))"
