#!/usr/bin/env bash
# Capacity at N (every client 30 updates a second, ticksync's tick p99 under 8.3 ms): per
# round the bare server and ticksync (TS_BIN) at N, their order swapped every round, one run
# at a time on a fresh server; then the MessagePack arena payload at 800 clients (ticksync
# with the loadgen's --codec msgpack, beside a bincode run).
# usage: TS_BIN=... cap.sh OUT "ROUNDS" N
set -u
HERE=$(cd "$(dirname "$0")" && pwd)
S="$HERE/../profile/sitting.sh"
i=0
for r in $2; do
  if [ $((i % 2)) = 0 ]; then order="bare ts"; else order="ts bare"; fi
  for sys in $order; do
    TS_ARGS="--database none" bash "$S" "$1/$r" "$sys:arena:$3"
  done
  i=$((i + 1))
done
