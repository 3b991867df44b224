#!/usr/bin/env bash
# The server's user and system CPU (/proc/PID/stat utime, stime, clock ticks) over a load,
# the plain release build against the PGO build, alternated in pairs, each on a fresh server.
# usage: userab.sh OUTFILE "PAIRS" ; each line: pair order build workload N user_ticks sys_ticks units
set -u
OUTF=$1; PAIRS=$2
REPO=$(cd "$(dirname "$0")/../../.." && pwd)
. "$REPO/benches/results/quiet.sh"
DEF=$REPO/target/release/ticksync
PGO=$REPO/target/pgo/$(rustc -vV | sed -n 's/^host: //p')/release/ticksync
LG=$REPO/target/release/examples/loadgen
PORT=29400
one() { # pair build bin wl n
  PORT=$((PORT+1)); wait_quiet > /dev/null
  $3 serve --addr 127.0.0.1:$PORT --log warn --database none --max-connections-per-ip 0 --new-connections-per-ip 0 > /dev/null 2>&1 &
  local s=$!
  for _ in $(seq 100); do curl -s 127.0.0.1:$PORT/healthz > /dev/null && break; sleep 0.1; done
  local extra=""; [ "$4" = arena ] && extra="--no-checks"
  local out; out=$($LG --workload $4 --clients $5 --seconds 20 --url ws://127.0.0.1:$PORT $extra 2>/dev/null | grep -E 'moves accepted|states received')
  read -r u st < <(awk '{print $14, $15}' /proc/$s/stat)
  kill -INT $s; wait $s
  echo "$1 $2 $4 $5 $u $st $(echo "$out" | awk '{print $3}')" | tee -a "$OUTF"
}
for p in $PAIRS; do
  for wl in "arena 800" "ttt 200"; do
    set -- $wl
    if [ $((p % 2)) = 1 ]; then one $p def $DEF $1 $2; one $p pgo $PGO $1 $2
    else one $p pgo $PGO $1 $2; one $p def $DEF $1 $2; fi
  done
done
echo AB DONE
