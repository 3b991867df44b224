#!/usr/bin/env bash
# usage: cg.sh ours|bare LOADGEN_OR_BASELINE N SECS TAG [extra]
set -u
kind=$1; bin=$2; n=$3; secs=$4; tag=$5; shift 5
PORT=$((29300 + RANDOM % 500))
out=/tmp/lean/cg
if [ "$kind" = ours ]; then
  /tmp/lean/${SERVER:-ticksync-before} serve --addr 127.0.0.1:$PORT --log warn --database none --max-connections-per-ip 0 --new-connections-per-ip 0 >$out/$tag.server.log 2>&1 &
  spid=$!
  for i in $(seq 50); do curl -sf http://127.0.0.1:$PORT/healthz >/dev/null && break; sleep 0.1; done
  valgrind --tool=callgrind --callgrind-out-file=$out/$tag.cg $bin --workload arena --clients $n --seconds $secs --no-checks --url ws://127.0.0.1:$PORT --server-pid $spid "$@" >$out/$tag.out 2>$out/$tag.err
else
  /tmp/baseline-target/release/baseline server --addr 127.0.0.1:$PORT --hz 30 --room-size 8 --frame-bytes ${FRAME:-60} >$out/$tag.server.log 2>&1 &
  spid=$!
  sleep 0.5
  valgrind --tool=callgrind --callgrind-out-file=$out/$tag.cg $bin client --url ws://127.0.0.1:$PORT --clients $n --seconds $secs --input-hz 20 --server-pid $spid "$@" >$out/$tag.out 2>$out/$tag.err
fi
echo "rc=$?"
kill $spid; wait $spid 2>/dev/null
grep -h "summary\|totals" $out/$tag.err | tail -2
