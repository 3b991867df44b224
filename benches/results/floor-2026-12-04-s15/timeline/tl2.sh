#!/usr/bin/env bash
# ts at N: every 0.25 s, supersedes, machine cpu, server and driver utime/stime (ticks)
N=${1:-2750}; OUT=${2:-/tmp/s15/tl}; mkdir -p $OUT
cd /work/main
PORT=29880
./target/release/ticksync serve --addr 127.0.0.1:$PORT --log warn --tick-hz 30 --max-connections-per-ip 0 --new-connections-per-ip 0 --database none > $OUT/server.log 2>&1 &
SP=$!
for _ in $(seq 100); do curl -s 127.0.0.1:$PORT/healthz >/dev/null && break; sleep 0.1; done
./target/release/examples/loadgen --workload arena --clients $N --seconds 20 --url ws://127.0.0.1:$PORT --server-pid $SP --no-checks > $OUT/lg.txt 2>/dev/null &
LP=$!
pst() { awk '{print $14, $15}' /proc/$1/stat 2>/dev/null || echo "0 0"; }
while kill -0 $LP 2>/dev/null; do
  s=$(curl -s 127.0.0.1:$PORT/metrics | awk '/^ticksync_states_superseded/ {s+=$2} END {print s+0}')
  echo "$(date +%s%3N) $s $(pst $SP) $(pst $LP) $(head -1 /proc/stat | cut -d' ' -f3-11)"
  sleep 0.25
done > $OUT/timeline.txt
kill -INT $SP; wait $SP
grep -E 'updates per|superseded|tick duration|driver CPU %|server CPU %' $OUT/lg.txt
