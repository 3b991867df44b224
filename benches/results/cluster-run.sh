#!/usr/bin/env bash
# The cluster benchmark (BENCHMARKS.md, "Cluster"): a private redis-server, NODES ticksync
# nodes joined to it (`--database none`), the ttt load spread over the nodes, then Redis's
# command counts. usage: cluster-run.sh OUTDIR NODES CLIENTS SECONDS [IDLE_SECONDS]
# IDLE_SECONDS (default 10): first, the idle cluster is watched that long (heartbeats only).
# T: the release binaries (default: this checkout's target/release).
set -u
OUT=$(realpath -m "$1"); NODES=$2; CLIENTS=$3; SECONDS_=$4; IDLE=${5:-10}
T=${T:-$(cd "$(dirname "$0")/../.." && pwd)/target/release}
RPORT=6391; BASE=7960
mkdir -p "$OUT"; cd "$OUT" || exit 1
redis-server --port $RPORT --save "" --appendonly no --daemonize no > redis.log 2>&1 &
RPID=$!
for _ in $(seq 50); do redis-cli -p $RPORT ping >/dev/null 2>&1 && break; sleep 0.1; done
export TICKSYNC_CLUSTER_SECRET=the-benchmark-cluster-secret
PIDS=(); URLS=()
for i in $(seq 1 "$NODES"); do
  port=$((BASE + i))
  $T/ticksync serve --addr 127.0.0.1:$port --log warn --database none \
    --max-connections-per-ip 0 --new-connections-per-ip 0 \
    --cluster redis://127.0.0.1:$RPORT --public-url ws://127.0.0.1:$port/ --node-id node-$i \
    > node-$i.log 2>&1 &
  PIDS+=($!); URLS+=("ws://127.0.0.1:$port/")
done
for i in $(seq 1 "$NODES"); do
  for _ in $(seq 100); do curl -s 127.0.0.1:$((BASE + i))/healthz >/dev/null && break; sleep 0.1; done
done
cpu_of() { awk '{print $14+$15}' /proc/$1/stat; }
# The idle cluster: heartbeats only.
redis-cli -p $RPORT config resetstat >/dev/null
sleep "$IDLE"
redis-cli -p $RPORT info commandstats > idle-commandstats.txt
redis-cli -p $RPORT info stats | grep -E "total_commands_processed" > idle-stats.txt
# The load.
redis-cli -p $RPORT config resetstat >/dev/null
before=(); for p in "${PIDS[@]}"; do before+=("$(cpu_of "$p")"); done
rbefore=$(cpu_of $RPID)
URL_LIST=$(IFS=,; echo "${URLS[*]}")
# Each node's load as the others see it (its last heartbeat), once a second.
( while kill -0 $RPID 2>/dev/null; do
    printf '%s' "$(date +%s)"; for i in $(seq 1 "$NODES"); do
      printf ' node-%s:%s' "$i" "$(redis-cli -p $RPORT hget ticksync:node:node-$i connections)"; done; echo
    sleep 1; done ) > loads.txt 2>/dev/null &
SAMPLER=$!
$T/examples/loadgen --workload ttt --clients "$CLIENTS" --seconds "$SECONDS_" --url "$URL_LIST" \
  > loadgen.txt 2> loadgen.err
redis-cli -p $RPORT info commandstats > load-commandstats.txt
redis-cli -p $RPORT info stats | grep -E "total_commands_processed|instantaneous_ops" > load-stats.txt
{ i=0; for p in "${PIDS[@]}"; do echo "node-$((i+1)) cpu_ticks $(( $(cpu_of "$p") - ${before[$i]} ))"; i=$((i+1)); done
  echo "redis cpu_ticks $(( $(cpu_of $RPID) - rbefore ))"; } > cpu.txt
# Games each node hosted (every game of the load ended before the loadgen returned).
for i in $(seq 1 "$NODES"); do
  echo "node-$i games $(curl -s 127.0.0.1:$((BASE + i))/metrics | awk '/^ticksync_games_finished_total/ {s+=$NF} END {print s+0}')"
done > games.txt
for p in "${PIDS[@]}"; do kill -INT "$p"; done; wait "${PIDS[@]}" 2>/dev/null
# What is left once every node stopped, with each key's TTL (ms; -1 would be a leak).
for k in $(redis-cli -p $RPORT --scan --pattern '*'); do echo "$k $(redis-cli -p $RPORT pttl "$k")"; done > keys-after-stop.txt
kill $RPID; wait $RPID 2>/dev/null; kill $SAMPLER 2>/dev/null
grep -E "games completed|moves per second|matchmaking|redirect|errors" loadgen.txt; cat cpu.txt games.txt
echo "redis commands during the load: $(grep total_commands_processed load-stats.txt)"
echo "keys left after the nodes stopped: $(wc -l < keys-after-stop.txt), without a TTL: $(awk '$2 == -1' keys-after-stop.txt | wc -l)"
