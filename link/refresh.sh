#!/usr/bin/env bash
# Makes link/ticksync.order again (see link/README.md): builds the server and the load
# generator, runs the server under callgrind (the default database, in a scratch folder)
# while the load generator plays the arena and tic-tac-toe loads, writes the functions that
# ran, hottest first, builds the server again with the new order and says how many of the
# file's names the new binary has.
# usage: link/refresh.sh        (needs valgrind and curl; about 6 minutes on 2 cores, builds included)
set -euo pipefail
cd "$(dirname "$0")/.."
for tool in valgrind curl python3 nm; do
  command -v "$tool" > /dev/null || { echo "link/refresh.sh needs $tool" >&2; exit 1; }
done
# The server alone, as `cargo build --release` makes it for users: building it together
# with an example would give its dependencies the dev-dependencies' features (tokio's
# test-util) and other symbol names than the users' build has.
cargo build --release --bin ticksync
cargo build --release --example loadgen
work=$(mktemp -d)
server=
trap '[ -n "$server" ] && kill "$server" 2> /dev/null; rm -rf "$work"' EXIT
cp target/release/ticksync "$work/ticksync"
port=$((29300 + RANDOM % 500))
valgrind --tool=callgrind --demangle=no --dump-instr=no --callgrind-out-file="$work/cg.out" \
  "$work/ticksync" serve --addr 127.0.0.1:$port --log warn --database "sqlite://$work/results.db" \
  --max-connections-per-ip 0 --new-connections-per-ip 0 > "$work/server.log" 2>&1 &
server=$!
for _ in $(seq 600); do curl -sf http://127.0.0.1:$port/healthz > /dev/null && break; sleep 0.1; done
curl -sf http://127.0.0.1:$port/healthz > /dev/null || { cat "$work/server.log"; exit 1; }
lg=target/release/examples/loadgen
$lg --workload arena --clients 40 --seconds 10 --url ws://127.0.0.1:$port --no-checks > "$work/arena.txt"
$lg --workload ttt --clients 40 --seconds 10 --url ws://127.0.0.1:$port > "$work/ttt.txt"
kill -INT $server
wait $server || true
server=
# The first line names the toolchain (build.rs warns when another one builds with it).
{ echo "# $(rustc --version)"; python3 link/callgrind_functions.py ticksync "$work"/cg.out*; } > "$work/order"
mv "$work/order" link/ticksync.order
echo "link/ticksync.order: $(grep -vc '^#' link/ticksync.order) functions"
cargo build --release --bin ticksync
link/check.sh
