#!/usr/bin/env bash
# One ttt load run at 1000 clients against a fresh server (BENCHMARKS.md, "Results storage");
# $1 = sqlite|none, $2 = run tag; PERF=1 also records 5 s of `perf record -g`; SERVER_ARGS
# (words) are added to the server's command line.
set -u
db=$1; tag=$2; port=7947
# The release binaries (cargo build --release --bins --examples), as an absolute path.
T=${T:-$(cd "$(dirname "$0")/../.." && pwd)/target/release}
dir=/tmp/stbench/$tag; rm -rf "$dir"; mkdir -p "$dir"; cd "$dir"
if [ "$db" = sqlite ]; then dbarg=(); else dbarg=(--database none); fi
$T/ticksync serve --addr 127.0.0.1:$port --log warn --max-connections-per-ip 0 --new-connections-per-ip 0 "${dbarg[@]}" ${SERVER_ARGS:-} > server.log 2>&1 &
SERVER=$!
sleep 1   # the server opening its database; the load driver retries its connects anyway
( while kill -0 $SERVER 2>/dev/null; do
    printf '%s ' "$(date +%s.%N)"; curl -s 127.0.0.1:$port/metrics | grep -E '^ticksync_storage_(queue_depth|writes_total) ' | tr '\n' ' '; echo
    sleep 1; done ) > metrics.log 2>/dev/null &
SAMPLER=$!
uptime > load.txt
if [ -n "${PERF:-}" ]; then (sleep 8; perf record ${PERFARGS:--g} -o perf.data -p $SERVER -- sleep 5 >/dev/null 2>&1) & fi
$T/examples/loadgen --workload ttt --clients 1000 --seconds 20 --url ws://127.0.0.1:$port --server-pid $SERVER > loadgen.txt 2> loadgen.err
echo "loadgen exit $?" >> loadgen.txt
# Per thread: CPU ticks, then voluntary and involuntary context switches.
for t in /proc/$SERVER/task/*; do
  echo "$(cat $t/comm) $(awk '{print $14+$15}' $t/stat) $(awk '/ctxt_switches/ {printf "%s ", $2}' $t/status)"
done > threads.txt
# The whole process: minor faults, user and system ticks; context switches.
{ awk '{print "minflt", $10; print "utime", $14; print "stime", $15}' /proc/$SERVER/stat
  grep -E '^(voluntary|nonvoluntary)_ctxt_switches' /proc/$SERVER/status; } > process.txt
kill -INT $SERVER; wait $SERVER; kill $SAMPLER 2>/dev/null; wait $SAMPLER 2>/dev/null
ls -la "$dir"
