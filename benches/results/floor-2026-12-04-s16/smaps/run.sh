#!/usr/bin/env bash
# smaps of a fresh server before and during a 200-client arena load: Rss per mapping.
BIN=$1; TAG=$2; PORT=$((29500 + RANDOM % 300))
$BIN serve --addr 127.0.0.1:$PORT --log warn --database none --max-connections-per-ip 0 --new-connections-per-ip 0 > /tmp/smaps/$TAG.log 2>&1 &
S=$!
for _ in $(seq 100); do curl -s 127.0.0.1:$PORT/healthz >/dev/null && break; sleep 0.1; done
sleep 0.6; cp /proc/$S/smaps /tmp/smaps/$TAG.idle
/work/main/target/release/examples/loadgen --workload arena --clients 200 --seconds 12 --url ws://127.0.0.1:$PORT --no-checks > /tmp/smaps/$TAG.lg 2>&1 &
L=$!
sleep 9; cp /proc/$S/smaps /tmp/smaps/$TAG.load
wait $L; kill -INT $S; wait $S
