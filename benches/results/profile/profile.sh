#!/usr/bin/env bash
# usage: profile.sh LABEL CG_CLIENTS ST_CLIENTS [codec]
# callgrind: the release server under valgrind for a whole arena run of CG_CLIENTS (20 s).
# strace: a normal server with ST_CLIENTS; strace -c -f attached for a 10 s window after the joins.
set -u
cd /work/wt/floor
LABEL=$1; N=$2; NS=$3; CODEC=${4:-bincode}
BIN=target/release/ticksync; LG=target/release/examples/loadgen
OUT=/tmp/floor/$LABEL; mkdir -p $OUT
PORT=$((29400 + RANDOM % 300))
serve() { $BIN serve --addr 127.0.0.1:$PORT --log warn --max-connections-per-ip 0 --new-connections-per-ip 0; }
valgrind --tool=callgrind --callgrind-out-file=$OUT/callgrind.out $BIN serve --addr 127.0.0.1:$PORT --log warn \
  --max-connections-per-ip 0 --new-connections-per-ip 0 > $OUT/cg-server.log 2>&1 &
SPID=$!
for i in $(seq 100); do curl -s 127.0.0.1:$PORT/healthz >/dev/null && break; sleep 0.3; done
$LG --workload arena --clients $N --seconds 20 --url ws://127.0.0.1:$PORT --server-pid $SPID --codec $CODEC > $OUT/cg-loadgen.txt 2>/dev/null
kill -INT $SPID; wait $SPID
PORT=$((PORT+1))
$BIN serve --addr 127.0.0.1:$PORT --log warn --max-connections-per-ip 0 --new-connections-per-ip 0 > $OUT/st-server.log 2>&1 &
SPID=$!
for i in $(seq 100); do curl -s 127.0.0.1:$PORT/healthz >/dev/null && break; sleep 0.3; done
$LG --workload arena --clients $NS --seconds 20 --url ws://127.0.0.1:$PORT --server-pid $SPID --codec $CODEC > $OUT/st-loadgen.txt 2>/dev/null &
LPID=$!
sleep 6
TIDS=$(ls /proc/$SPID/task | tr "\n" ",")
timeout -s INT 10 strace -c -f -p "${TIDS%,}" -o $OUT/strace.txt
wait $LPID
kill -INT $SPID; wait $SPID
echo done $OUT
