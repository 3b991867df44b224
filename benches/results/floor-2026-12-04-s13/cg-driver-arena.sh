#!/usr/bin/env bash
# callgrind of the arena load driver (--no-checks) against a native release server.
# usage: cg-lg.sh SERVER LOADGEN TAG [CLIENTS]
set -u
S=$1; L=$2; tag=$3; n=${4:-40}; out=/tmp/s13/cgl; mkdir -p $out
port=$((29600 + RANDOM % 100))
$S serve --addr 127.0.0.1:$port --log warn --database none --max-connections-per-ip 0 --new-connections-per-ip 0 > /dev/null 2>&1 &
spid=$!
for _ in $(seq 300); do curl -sf http://127.0.0.1:$port/healthz >/dev/null && break; sleep 0.1; done
valgrind --tool=callgrind --callgrind-out-file=$out/$tag.cg $L --workload arena --no-checks --clients $n --seconds 20 --url ws://127.0.0.1:$port > $out/$tag.lg 2> $out/$tag.err
kill -INT $spid; wait $spid
grep -h "Collected" $out/$tag.err; grep -h "states received\|inputs sent" $out/$tag.lg
