#!/usr/bin/env bash
# A profile-guided (PGO) build of the server, as tried in the sixteenth session and not
# adopted (BENCHMARKS.md, "Sixteenth session"): about a fifth fewer instructions per arena
# update and per tic-tac-toe move under callgrind, but no less CPU time for the arena.
# Kept as the record of what was built and measured.
#
# usage: bash benches/results/floor-2026-12-04-s16/pgo-build.sh [SECONDS]
#   SECONDS: how long each training load runs (default 15).
# Env:  LLVM_PROFDATA  the llvm-profdata to use (default: found, see below)
#       PGO_TRAIN      a command run as one more training load, with TICKSYNC_URL set to
#                      the instrumented server's WebSocket URL
# Prints the path of the optimised binary last: target/pgo/<host>/release/ticksync
#
# Steps: build an instrumented server; run it under the loads of WORKLOADS.md (arena and
# tic-tac-toe, both codecs, with and without the results database, idle connections);
# merge the profile; build again with it.
#
# llvm-profdata must come from the same LLVM as rustc (`rustc -vV` prints its version):
# rustup's `llvm-tools` component, or Debian's `llvm-N` package where N is that major
# version.
set -euo pipefail
cd "$(dirname "$0")/../../.."
SECONDS_EACH=${1:-15}
HOST=$(rustc -vV | sed -n 's/^host: //p')
LLVM_MAJOR=$(rustc -vV | sed -n 's/^LLVM version: \([0-9]*\).*/\1/p')

profdata_major() { "$1" --version 2>/dev/null | sed -n 's/.*LLVM version \([0-9]*\).*/\1/p' | head -n1; }
find_profdata() {
  local c
  for c in "${LLVM_PROFDATA:-}" \
    "$(rustc --print sysroot)/lib/rustlib/$HOST/bin/llvm-profdata" \
    "llvm-profdata-$LLVM_MAJOR" "/usr/lib/llvm-$LLVM_MAJOR/bin/llvm-profdata" llvm-profdata; do
    [ -n "$c" ] || continue
    c=$(command -v "$c" 2>/dev/null) || continue
    if [ "$(profdata_major "$c")" = "$LLVM_MAJOR" ]; then echo "$c"; return 0; fi
  done
  return 1
}
PROFDATA=$(find_profdata) || {
  echo "pgo-build: no llvm-profdata of LLVM $LLVM_MAJOR (rustc's). Install one:" >&2
  echo "  rustup component add llvm-tools     or     apt-get install llvm-$LLVM_MAJOR" >&2
  echo "  (or set LLVM_PROFDATA)" >&2
  exit 1
}
echo "== llvm-profdata: $PROFDATA"

WORK=target/pgo-work
RAW=$PWD/$WORK/raw
rm -rf "$WORK" && mkdir -p "$RAW"
# --target keeps the flags off build scripts and proc macros.
echo "== instrumented build"
RUSTFLAGS="${RUSTFLAGS:-} -Cprofile-generate=$RAW" \
  cargo build --release --bin ticksync --target "$HOST" --target-dir target/pgo-gen
cargo build --release --example loadgen
GEN=target/pgo-gen/$HOST/release/ticksync
LG=target/release/examples/loadgen

PORT=$((29000 + RANDOM % 900))
# train WORKLOAD CLIENTS CODEC [serve options...]: one fresh instrumented server, one load;
# the server stops with SIGINT, so it exits normally and writes its profile.
train() {
  local wl=$1 n=$2 codec=$3; shift 3
  PORT=$((PORT + 1))
  local log="$WORK/train-$wl-$n-$codec.log"
  "$GEN" serve --addr "127.0.0.1:$PORT" --log warn --max-connections-per-ip 0 \
    --new-connections-per-ip 0 "$@" > "$log" 2>&1 &
  local spid=$!
  local up=0
  for _ in $(seq 200); do
    if curl -sf "http://127.0.0.1:$PORT/healthz" > /dev/null; then up=1; break; fi
    kill -0 "$spid" 2> /dev/null || break
    sleep 0.1
  done
  if [ "$up" != 1 ]; then echo "pgo-build: the instrumented server did not start (see $log)" >&2; exit 1; fi
  if [ "$wl" = custom ]; then
    TICKSYNC_URL="ws://127.0.0.1:$PORT" bash -c "$PGO_TRAIN" >> "$log" 2>&1
  else
    "$LG" --workload "$wl" --clients "$n" --seconds "$SECONDS_EACH" --codec "$codec" \
      --url "ws://127.0.0.1:$PORT" "${LG_EXTRA[@]}" >> "$log" 2>&1
  fi
  curl -sf "http://127.0.0.1:$PORT/metrics" > /dev/null
  curl -sf "http://127.0.0.1:$PORT/metrics.json" > /dev/null
  kill -INT "$spid"
  wait "$spid"
  echo "   $wl, $n clients, $codec: $(grep -E 'updates per client per second|moves per second' "$log" | head -n1 | tr -s ' ')"
}
echo "== training loads, $SECONDS_EACH s each"
LG_EXTRA=(--no-checks)
train arena 800 bincode --database none
LG_EXTRA=()
train arena 200 msgpack --database none
train ttt 200 bincode --database none
train ttt 200 msgpack --database "sqlite://$PWD/$WORK/train.db"
train idle 400 bincode --database none
if [ -n "${PGO_TRAIN:-}" ]; then train custom 0 - ; fi

echo "== merge"
"$PROFDATA" merge -o "$WORK/ticksync.profdata" "$RAW"
echo "== optimised build"
RUSTFLAGS="${RUSTFLAGS:-} -Cprofile-use=$PWD/$WORK/ticksync.profdata" \
  cargo build --release --bin ticksync --target "$HOST" --target-dir target/pgo
echo "target/pgo/$HOST/release/ticksync"
