#!/usr/bin/env bash
# Instructions per finished game of a whole server in steady state (BENCHMARKS.md, "Results
# storage", tenth session): the release server under callgrind with instrumentation off,
# the ttt load (CLIENTS bots for 40 s), and instrumentation on for 20 s from the 12th
# second only (after every bot has joined), the games finished in that window read from
# the server's /metrics. Divide the PROGRAM TOTALS of OUT/TAG.cg by the games printed.
# usage: cg-window.sh SERVER_BINARY TAG sqlite|none [CLIENTS]   (OUT, default /tmp/cgw)
set -u
bin=$1; tag=$2; db=$3; n=${4:-200}; out=${OUT:-/tmp/cgw}; mkdir -p "$out"
root=$(cd "$(dirname "$0")/../../.." && pwd)
lg=${LOADGEN:-$root/target/release/examples/loadgen}
port=$((29300 + RANDOM % 500))
if [ "$db" = sqlite ]; then dbarg=(--database "sqlite://$out/$tag.db"); rm -f "$out/$tag.db"*; else dbarg=(--database none); fi
valgrind --tool=callgrind --instr-atstart=no --callgrind-out-file="$out/$tag.cg" "$bin" serve \
  --addr 127.0.0.1:$port --log warn "${dbarg[@]}" --max-connections-per-ip 0 \
  --new-connections-per-ip 0 > "$out/$tag.server.log" 2> "$out/$tag.err" &
spid=$!
for _ in $(seq 300); do curl -sf http://127.0.0.1:$port/healthz >/dev/null && break; sleep 0.1; done
"$lg" --workload ttt --clients "$n" --seconds 40 --url ws://127.0.0.1:$port > "$out/$tag.lg" 2>&1 &
lgpid=$!
games() { curl -s 127.0.0.1:$port/metrics | awk '/^ticksync_games_finished_total/ {s+=$2} END {print s}'; }
sleep 12
g0=$(games); callgrind_control -i on $spid >/dev/null
sleep 20
callgrind_control -i off $spid >/dev/null; g1=$(games)
echo "$tag games in window: $((g1 - g0))" | tee "$out/$tag.games"
wait $lgpid
kill -INT $spid; wait $spid
