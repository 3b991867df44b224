#!/usr/bin/env bash
# driver A/B: the same server build, old then new loadgen (alternating order per round), N clients
N=${1:-2500}; ROUNDS=${2:-4}; OUT=${3:-/tmp/s15/drv}; mkdir -p $OUT
one() { # $1 tag $2 loadgen
  local PORT=29890
  /work/main/target/release/ticksync serve --addr 127.0.0.1:$PORT --log warn --tick-hz 30 --max-connections-per-ip 0 --new-connections-per-ip 0 --database none > /dev/null 2>&1 &
  local SP=$!
  for _ in $(seq 100); do curl -s 127.0.0.1:$PORT/healthz >/dev/null && break; sleep 0.1; done
  $2 --workload arena --clients $N --seconds 20 --url ws://127.0.0.1:$PORT --server-pid $SP --no-checks > $OUT/$1.txt 2>/dev/null
  kill -INT $SP; wait $SP
  echo "$1 $(grep -E 'driver CPU %|server CPU %|updates per client' $OUT/$1.txt | awk -F'  +' '{printf "%s | ", $NF}')"
  sleep 3
}
for r in $(seq ${FIRST:-1} $ROUNDS); do
  if [ $((r % 2)) = 1 ]; then one r$r-old /tmp/s15/loadgen-old; one r$r-new /work/main/target/release/examples/loadgen
  else one r$r-new /work/main/target/release/examples/loadgen; one r$r-old /tmp/s15/loadgen-old; fi
done
