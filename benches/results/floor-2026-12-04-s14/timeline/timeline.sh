#!/usr/bin/env bash
# ts at N with a 0.25 s timeline of supersedes and machine steal/idle
N=${1:-2750}; OUT=${2:-/tmp/s14/tl}; mkdir -p $OUT
cd /work/main
PORT=29880
./target/release/ticksync serve --addr 127.0.0.1:$PORT --log warn --tick-hz 30 --max-connections-per-ip 0 --new-connections-per-ip 0 --database none > $OUT/server.log 2>&1 &
SP=$!
for _ in $(seq 100); do curl -s 127.0.0.1:$PORT/healthz >/dev/null && break; sleep 0.1; done
./target/release/examples/loadgen --workload arena --clients $N --seconds 20 --url ws://127.0.0.1:$PORT --server-pid $SP --no-checks > $OUT/lg.txt 2>/dev/null &
LP=$!
while kill -0 $LP 2>/dev/null; do
  s=$(curl -s 127.0.0.1:$PORT/metrics | awk '/^ticksync_states_superseded/ {s+=$2} END {print s+0}')
  echo "$(date +%s%3N) $s $(head -1 /proc/stat | cut -d' ' -f3-11)"
  sleep 0.25
done > $OUT/timeline.txt
kill -INT $SP; wait $SP
grep -E 'updates per|superseded|tick duration|driver CPU %|server CPU %' $OUT/lg.txt
