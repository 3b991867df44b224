#!/usr/bin/env bash
# One sitting: bare baseline vs ticksync, one run at a time, each on a fresh server.
# usage: sitting.sh OUTDIR "RUNS"   where RUNS is a list of  sys:workload:N[:hz]
#   sys = bare | ts ; workload = arena | ttt
# Env: TS_DIR (the checkout whose release build runs; default: this one), TS_ARGS (more
#   `ticksync serve` options, for experiments).
set -u
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/../quiet.sh"
OUT=$(realpath -m "$1"); RUNS=$2
# Run from the checkout that holds this script (its release build), or TS_DIR.
cd "${TS_DIR:-$(dirname "$0")/../../..}"
TS=./target/release/ticksync; LG=./target/release/examples/loadgen
BARE=/tmp/baseline-target/release/baseline
mkdir -p "$OUT"
PORT=29700
for R in $RUNS; do
  IFS=: read -r SYS WL N HZ <<< "$R"; HZ=${HZ:-30}
  PORT=$((PORT+1))
  PCT=$(wait_quiet)
  F="$OUT/$SYS-$WL-n$N-hz$HZ.txt"
  { echo "# $(date -u +%H:%M:%S) host busy ${PCT}% before the run; load: $(cut -d' ' -f1-3 /proc/loadavg)"; } > "$F"
  if [ "$SYS" = bare ]; then
    $BARE server --addr 127.0.0.1:$PORT --hz $HZ --room-size 8 --frame-bytes 60 2> "$OUT/server.log" &
    SPID=$!
    for _ in $(seq 50); do grep -q listening "$OUT/server.log" 2>/dev/null && break; sleep 0.1; done
    $BARE client --url ws://127.0.0.1:$PORT --clients $N --seconds 15 --input-hz 20 --server-pid $SPID >> "$F" 2>/dev/null
    kill -TERM $SPID; wait $SPID 2>/dev/null
  else
    $TS serve --addr 127.0.0.1:$PORT --log warn --tick-hz $HZ --max-connections-per-ip 0 --new-connections-per-ip 0 ${TS_ARGS:-} > "$OUT/server.log" 2>&1 &
    SPID=$!
    for _ in $(seq 100); do curl -s 127.0.0.1:$PORT/healthz >/dev/null && break; sleep 0.1; done
    EXTRA=""; [ "$WL" = arena ] && EXTRA="--no-checks"
    $LG --workload $WL --clients $N --seconds 20 --url ws://127.0.0.1:$PORT --server-pid $SPID $EXTRA >> "$F" 2>/dev/null
    kill -INT $SPID; wait $SPID 2>/dev/null
  fi
  echo "$R -> $F: $(tail -n1 "$F" | head -c 400)"
done
