#!/usr/bin/env bash
# ticksync at N under perf -a (monotonic clock) with a superseded timeline on the same clock
N=${1:-2750}; OUT=${2:-/tmp/s15/pf/r1}; mkdir -p $OUT; cd /work/main
PORT=29881
./target/release/ticksync serve --addr 127.0.0.1:$PORT --log warn --tick-hz 30 --max-connections-per-ip 0 --new-connections-per-ip 0 --database none > $OUT/server.log 2>&1 &
SP=$!
for _ in $(seq 100); do curl -s 127.0.0.1:$PORT/healthz >/dev/null && break; sleep 0.1; done
./target/release/examples/loadgen --workload arena --clients $N --seconds 22 --url ws://127.0.0.1:$PORT --server-pid $SP --no-checks > $OUT/lg.txt 2>/dev/null &
LP=$!
echo "server $SP loadgen $LP" > $OUT/pids
python3 /tmp/s15/pf/sampler.py $PORT $OUT/timeline.txt $LP &
TP=$!
sleep 8
perf record -a -k CLOCK_MONOTONIC -F 499 -o $OUT/perf.data -- sleep 12 2> $OUT/perf.err
wait $LP; wait $TP
kill -INT $SP; wait $SP
grep -E 'updates per|superseded|tick duration|driver CPU %|server CPU %' $OUT/lg.txt
