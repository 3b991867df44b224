#!/usr/bin/env bash
# Syscalls per move and per game of a release server under the ttt load (BENCHMARKS.md,
# issue 13, sixth session): `strace -c -f` on the server for 8 s of a 20 s load, the moves
# and games of those 8 s read from the server's own /metrics counters before and after.
# usage: [DB=sqlite] ttt-strace.sh SERVER_BIN TAG [N]   (the loadgen of this checkout's release build;
# DB=sqlite: the default database, a file in a fresh folder; otherwise `--database none`)
set -u
bin=$1; tag=$2; n=${3:-200}; out=${OUT:-/tmp/tttst}; mkdir -p "$out"
LG=$(cd "$(dirname "$0")/../../.." && pwd)/target/release/examples/loadgen
PORT=$((29400 + RANDOM % 300))
if [ "${DB:-none}" = sqlite ]; then dbarg=(--database "sqlite://$out/$tag.db"); rm -f "$out/$tag.db"*; else dbarg=(--database none); fi
$bin serve --addr 127.0.0.1:$PORT --log warn "${dbarg[@]}" --max-connections-per-ip 0 --new-connections-per-ip 0 > "$out/$tag.server.log" 2>&1 &
spid=$!
for _ in $(seq 100); do curl -sf http://127.0.0.1:$PORT/healthz >/dev/null && break; sleep 0.1; done
$LG --workload ttt --clients "$n" --seconds 20 --url ws://127.0.0.1:$PORT --server-pid $spid > "$out/$tag.lg" 2>&1 &
lp=$!
sleep 6
m() { curl -s 127.0.0.1:$PORT/metrics | awk -v k="$1" '$1 ~ k {s+=$2} END {print s}'; }
i0=$(m 'ticksync_messages_in_total\\{kind="Input"'); g0=$(m '^ticksync_games_finished_total')
timeout -s INT 8 strace -c -f -p $spid -o "$out/$tag.strace" > /dev/null 2>&1
i1=$(m 'ticksync_messages_in_total\\{kind="Input"'); g1=$(m '^ticksync_games_finished_total')
wait $lp; kill -9 $spid
moves=$((i1-i0)); games=$((g1-g0))
echo "$tag inputs=$moves games=$games"
awk -v mv=$moves -v g=$games '$NF ~ /^(sendto|recvfrom|epoll_wait|writev|sendmsg|futex|write|read|pwrite64|pread64|fdatasync|fsync|mmap|munmap|madvise|total)$/ {printf "  %-12s %8d calls  %.3f per move  %.2f per game\n", $NF, $4, $4/mv, $4/g}' "$out/$tag.strace"
