#!/usr/bin/env bash
# perf profile (system-wide, cpu-clock) of one bare and one ticksync arena run at N clients.
set -u
N=${1:-2500}; OUT=/tmp/s13/perf
cd /work/main
. benches/results/quiet.sh
BARE=/tmp/baseline-target/release/baseline
TS=${TS:-./target/release/ticksync}; LG=${LG:-./target/release/examples/loadgen}
wait_quiet >/dev/null
$BARE server --addr 127.0.0.1:29801 --hz 30 --room-size 8 --frame-bytes 60 2> $OUT/bare-server.log & SPID=$!
sleep 0.5
$BARE client --url ws://127.0.0.1:29801 --clients $N --seconds 15 --input-hz 20 --server-pid $SPID > $OUT/bare-client-$N.txt 2>/dev/null & CPID=$!
sleep 9; perf record -a -e cpu-clock -F 1999 -o $OUT/bare-$N$TAG.data -- sleep 6 2>/dev/null
wait $CPID; kill $SPID; wait $SPID 2>/dev/null
wait_quiet >/dev/null
$TS serve --addr 127.0.0.1:29802 --log warn --max-connections-per-ip 0 --new-connections-per-ip 0 --database none > $OUT/ts-server.log 2>&1 & SPID=$!
for _ in $(seq 100); do curl -s 127.0.0.1:29802/healthz >/dev/null && break; sleep 0.1; done
$LG --workload arena --clients $N --seconds 20 --url ws://127.0.0.1:29802 --server-pid $SPID --no-checks > $OUT/ts-client-$N.txt 2>/dev/null & CPID=$!
sleep 10; perf record -a -e cpu-clock -F 1999 -o $OUT/ts-$N$TAG.data -- sleep 6 2>/dev/null
wait $CPID; kill -INT $SPID; wait $SPID 2>/dev/null
