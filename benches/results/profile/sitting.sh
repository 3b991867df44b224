#!/usr/bin/env bash
# One sitting: bare baseline vs ticksync, one run at a time, each on a fresh server.
# usage: sitting.sh OUTDIR "RUNS"   where RUNS is a list of  sys:workload:N[:hz]
#   sys = bare | ts ; workload = arena | ttt
# Env: TS_DIR (the checkout whose release build runs; default: this one), TS_BIN (the server
#   binary to run instead of that checkout's release build, e.g. deploy/pgo-build.sh's), TS_ARGS (more
#   `ticksync serve` options, for experiments), LG_ARGS and BARE_ARGS (more options for
#   ticksync's loadgen and for the bare client, e.g. `--joins 1`, `--connect-rate 100000`),
#   BARE_INPUT_HZ (the bare client's inputs a second per client, default 20; another rate
#   names the file `bare-WL-nN-hzHZ-inRATE.txt`).
set -u
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/../quiet.sh"
OUT=$(realpath -m "$1"); RUNS=$2
# Run from the checkout that holds this script (its release build), or TS_DIR.
cd "${TS_DIR:-$(dirname "$0")/../../..}"
TS=${TS_BIN:-./target/release/ticksync}; LG=./target/release/examples/loadgen
BARE=/tmp/baseline-target/release/baseline
mkdir -p "$OUT"
PORT=29700
# sample_mem PID FILE: every 0.5 s "epoch_ms RssAnon RssFile" (KiB) while PID runs.
sample_mem() {
  while kill -0 "$1" 2>/dev/null; do
    echo "$(date +%s%3N) $(awk '/^RssAnon/{a=$2} /^RssFile/{f=$2} END{print a, f}' /proc/"$1"/status 2>/dev/null)"
    sleep 0.5
  done > "$2"
}
# mem_line FILE START_MS END_MS N: the server's anonymous and file-backed RSS at the
# driver's start (idle) and 3 s before the driver ended (all clients in, steady), and the
# anonymous growth per client. File-backed RSS is the binary's code and data paged in as
# code paths first run: not per client, and much larger for a large binary.
mem_line() {
  awk -v s="$2" -v e="$3" -v n="$4" '$1 <= s {a0=$2; f0=$3} $1 <= e - 3000 {a1=$2; f1=$3}
    END {printf "# memory: RssAnon %d -> %d KiB, RssFile %d -> %d KiB; anon per client %.2f KiB, file per client %.2f KiB\n", a0, a1, f0, f1, (a1-a0)/n, (f1-f0)/n}' "$1"
}
for R in $RUNS; do
  IFS=: read -r SYS WL N HZ <<< "$R"; HZ=${HZ:-30}
  PORT=$((PORT+1))
  PCT=$(wait_quiet)
  IN=${BARE_INPUT_HZ:-20}; SUFFIX=""; [ "$SYS" = bare ] && [ "$IN" != 20 ] && SUFFIX="-in$IN"
  F="$OUT/$SYS-$WL-n$N-hz$HZ$SUFFIX.txt"
  { echo "# $(date -u +%H:%M:%S) host busy ${PCT}% before the run; load: $(cut -d' ' -f1-3 /proc/loadavg)"; } > "$F"
  if [ "$SYS" = bare ]; then
    $BARE server --addr 127.0.0.1:$PORT --hz $HZ --room-size 8 --frame-bytes 60 2> "$OUT/server.log" &
    SPID=$!
    for _ in $(seq 50); do grep -q listening "$OUT/server.log" 2>/dev/null && break; sleep 0.1; done
    sample_mem $SPID "$OUT/mem.tmp" & sleep 0.6; T0=$(date +%s%3N)
    $BARE client --url ws://127.0.0.1:$PORT --clients $N --seconds 15 --input-hz $IN --server-pid $SPID ${BARE_ARGS:-} >> "$F" 2>/dev/null
    T1=$(date +%s%3N); sleep 0.6; mem_line "$OUT/mem.tmp" $T0 $T1 $N >> "$F"; rm -f "$OUT/mem.tmp"
    kill -TERM $SPID; wait $SPID 2>/dev/null
  else
    $TS serve --addr 127.0.0.1:$PORT --log warn --tick-hz $HZ --max-connections-per-ip 0 --new-connections-per-ip 0 ${TS_ARGS:-} > "$OUT/server.log" 2>&1 &
    SPID=$!
    for _ in $(seq 100); do curl -s 127.0.0.1:$PORT/healthz >/dev/null && break; sleep 0.1; done
    EXTRA=""; [ "$WL" = arena ] && EXTRA="--no-checks"
    sample_mem $SPID "$OUT/mem.tmp" & sleep 0.6; T0=$(date +%s%3N)
    $LG --workload $WL --clients $N --seconds 20 --url ws://127.0.0.1:$PORT --server-pid $SPID $EXTRA ${LG_ARGS:-} >> "$F" 2>/dev/null
    T1=$(date +%s%3N); sleep 0.6; mem_line "$OUT/mem.tmp" $T0 $T1 $N >> "$F"; rm -f "$OUT/mem.tmp"
    kill -INT $SPID; wait $SPID 2>/dev/null
  fi
  echo "$R -> $F: $(grep '^{' "$F" | tail -n1 | head -c 400)"
  tail -n1 "$F"
done
