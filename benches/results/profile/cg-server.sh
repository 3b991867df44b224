#!/usr/bin/env bash
# Instructions of a whole release server's life under a fixed load (callgrind; BENCHMARKS.md,
# issue 13): the server runs under valgrind, the load (this checkout's release loadgen)
# runs outside it; the total is printed when the server exits.
# usage: [DB=sqlite] cg-server.sh SERVER_BIN TAG [arena|ttt] [CLIENTS]
# (DB=sqlite: the default database, a file in a fresh folder; otherwise `--database none`)
set -u
bin=$1; tag=$2; wl=${3:-arena}; n=${4:-40}; out=${OUT:-/tmp/cgs}; mkdir -p "$out"
LG=$(cd "$(dirname "$0")/../../.." && pwd)/target/release/examples/loadgen
PORT=$((29300 + RANDOM % 500))
if [ "${DB:-none}" = sqlite ]; then dbarg=(--database "sqlite://$out/$tag.db"); rm -f "$out/$tag.db"*; else dbarg=(--database none); fi
valgrind --tool=callgrind --callgrind-out-file="$out/$tag.cg" $bin serve --addr 127.0.0.1:$PORT --log warn "${dbarg[@]}" --max-connections-per-ip 0 --new-connections-per-ip 0 > "$out/$tag.server.log" 2> "$out/$tag.err" &
spid=$!
for _ in $(seq 300); do curl -sf http://127.0.0.1:$PORT/healthz >/dev/null && break; sleep 0.1; done
EXTRA=""; [ "$wl" = arena ] && EXTRA="--no-checks"
$LG --workload "$wl" --clients "$n" --seconds 20 --url ws://127.0.0.1:$PORT $EXTRA > "$out/$tag.lg" 2>&1
kill -INT $spid; wait $spid
grep -E "updates per client|moves accepted" "$out/$tag.lg"
grep -h "Collected" "$out/$tag.err"
