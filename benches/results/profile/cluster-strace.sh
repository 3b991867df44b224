#!/usr/bin/env bash
# Syscalls per game of one node of a two-node cluster under the ttt load (BENCHMARKS.md,
# "Cluster"): a private redis-server, two release nodes (`--database none`), the load
# spread over both; `strace -c -f` on node 1 for 8 s of a 20 s load, its games of those
# 8 s read from its own /metrics before and after.
# usage: cluster-strace.sh RELEASE_DIR TAG [CLIENTS]   (RELEASE_DIR holds ticksync and
# examples/loadgen)
set -u
T=$1; tag=$2; n=${3:-200}; out=${OUT:-/tmp/clst}; mkdir -p "$out"
RPORT=$((6400 + RANDOM % 100)); BASE=$((7700 + RANDOM % 200))
redis-server --port $RPORT --save "" --appendonly no > "$out/$tag.redis.log" 2>&1 &
rpid=$!
for _ in $(seq 50); do redis-cli -p $RPORT ping >/dev/null 2>&1 && break; sleep 0.1; done
export TICKSYNC_CLUSTER_SECRET=the-benchmark-cluster-secret
pids=()
for i in 1 2; do
  port=$((BASE + i))
  "$T/ticksync" serve --addr 127.0.0.1:$port --log warn --database none \
    --max-connections-per-ip 0 --new-connections-per-ip 0 \
    --cluster redis://127.0.0.1:$RPORT --public-url ws://127.0.0.1:$port/ --node-id node-$i \
    > "$out/$tag.node-$i.log" 2>&1 &
  pids+=($!)
done
for i in 1 2; do
  for _ in $(seq 100); do curl -sf 127.0.0.1:$((BASE + i))/healthz >/dev/null && break; sleep 0.1; done
done
"$T/examples/loadgen" --workload ttt --clients "$n" --seconds 20 \
  --url "ws://127.0.0.1:$((BASE + 1))/,ws://127.0.0.1:$((BASE + 2))/" > "$out/$tag.lg" 2>&1 &
lp=$!
sleep 6
m() { curl -s 127.0.0.1:$((BASE + 1))/metrics | awk -v k="$1" '$1 ~ k {s+=$2} END {print s}'; }
g0=$(m '^ticksync_games_finished_total')
timeout -s INT 8 strace -c -f -p "${pids[0]}" -o "$out/$tag.strace" > /dev/null 2>&1
g1=$(m '^ticksync_games_finished_total')
wait $lp; kill -9 "${pids[@]}" $rpid 2>/dev/null; wait "${pids[@]}" $rpid 2>/dev/null
games=$((g1-g0))
echo "$tag node-1 games=$games"
awk -v g=$games '$NF ~ /^(sendto|recvfrom|epoll_wait|writev|futex)$/ {printf "  %-12s %8d calls  %.2f per game\n", $NF, $4, $4/g}' "$out/$tag.strace"
