#!/usr/bin/env bash
# How much of link/ticksync.order the release server has: its names found among the
# binary's symbols. Under about 90%, a dependency or the toolchain changed the names since
# the file was made: run link/refresh.sh.
# usage: link/check.sh [BINARY]     (default target/release/ticksync)
set -euo pipefail
cd "$(dirname "$0")/.."
bin=${1:-target/release/ticksync}
[ -f "$bin" ] || { echo "no binary at $bin (cargo build --release)" >&2; exit 1; }
total=$(grep -vc '^#' link/ticksync.order)
found=$(nm "$bin" | awk '{print $NF}' | sort -u | comm -12 - <(grep -v '^#' link/ticksync.order | sort -u) | wc -l)
echo "$bin has $found of the $total functions in link/ticksync.order ($((100 * found / total))%)"
