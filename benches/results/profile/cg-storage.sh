#!/usr/bin/env bash
# Instructions the results writer spends per finished game (BENCHMARKS.md, "Results
# storage"): the storage bench's batches (512 tic-tac-toe games on average, 1000 returning
# guests) written outside criterion under callgrind, once with WARM batches and once with
# WARM + BATCHES, so that opening the database and preparing each statement shape cancel
# out; the difference over the games between them is printed per thread (SQLite's
# workers, tokio's workers, the bench's own thread that builds and submits the records).
# usage: cg-storage.sh TAG [BATCHES] [WARM]   (after `cargo build --release --bench storage`)
set -eu
tag=$1; warm=${3:-6}; batches=$((warm + ${2:-12})); out=${OUT:-/tmp/cgst}; mkdir -p "$out"
root=$(cd "$(dirname "$0")/../../.." && pwd)
bin=$(ls -t "$root"/target/release/deps/storage-* | grep -v '\.d$' | head -1)
for n in "$warm" "$batches"; do
  STORAGE_BATCHES=$n valgrind --tool=callgrind --separate-threads=yes \
    --callgrind-out-file="$out/$tag-$n.cg" "$bin" > "$out/$tag-$n.txt" 2> "$out/$tag-$n.err"
done
python3 - "$out" "$tag" "$warm" "$batches" <<'PY'
import glob, re, sys
out, tag, w, n = sys.argv[1:5]
def run(k):
    games = int(re.search(r"games written: (\d+)", open(f"{out}/{tag}-{k}.txt").read()).group(1))
    by = {}
    for f in glob.glob(f"{out}/{tag}-{k}.cg-*"):
        text = open(f, errors="replace").read()
        total = int(re.search(r"^totals: (\d+)", text, re.M).group(1))
        # SQLite's worker threads (sqlx runs each connection on its own thread).
        # the bench's thread (it builds and submits the records), tokio's workers.
        if "ConnectionWorker::establish" in text:
            cmd = "sqlite"
        elif f.endswith(".cg-01"):
            cmd = "bench"
        else:
            cmd = "tokio"
        by[cmd] = by.get(cmd, 0) + total
    return games, by
g1, b1 = run(w); gn, bn = run(n)
games = gn - g1
for k in sorted(set(b1) | set(bn)):
    print(f"{tag}: {k:6} {(bn.get(k, 0) - b1.get(k, 0)) / games:10.0f} instructions per game")
total = sum(bn.values()) - sum(b1.values())
print(f"{tag}: total  {total / games:10.0f} instructions per game ({games} games)")
PY
