#!/usr/bin/env bash
# Allocations per tic-tac-toe game, with and without the database (BENCHMARKS.md, "Results
# storage", ninth session): a release server under `heaptrack` for 10 s of the ttt load at
# 200 clients, once with `--database none` and once with a fresh SQLite file; the games
# from the server's own counter. Then the allocation calls per game by the innermost
# ticksync, sqlx or SQLite function on their stacks, SQLite's run against none's.
# usage: alloc-count.sh SERVER_BIN OUTDIR   (the loadgen of this checkout's release build)
set -u
bin=$1; out=$(realpath -m "$2"); mkdir -p "$out"
LG=$(cd "$(dirname "$0")/../../.." && pwd)/target/release/examples/loadgen
PORT=$((29700 + RANDOM % 200))
for db in none sqlite; do
  rm -f "$out/$db".*
  if [ $db = sqlite ]; then dbarg=(--database "sqlite://$out/$db.db"); else dbarg=(--database none); fi
  heaptrack -o "$out/$db" "$bin" serve --addr 127.0.0.1:$PORT --log warn "${dbarg[@]}" \
    --max-connections-per-ip 0 --new-connections-per-ip 0 > "$out/$db.log" 2>&1 &
  hp=$!
  for _ in $(seq 100); do curl -sf http://127.0.0.1:$PORT/healthz >/dev/null && break; sleep 0.1; done
  $LG --workload ttt --clients 200 --seconds 10 --url ws://127.0.0.1:$PORT > "$out/$db.lg" 2>&1
  curl -s 127.0.0.1:$PORT/metrics | awk '/^ticksync_games_finished_total/ {s+=$2} END {print s}' > "$out/$db.games"
  pkill -INT -f "serve --addr 127.0.0.1:$PORT"; wait $hp
  heaptrack_print -f "$out/$db.zst" --flamegraph-cost-type allocations -F "$out/$db.folded" > "$out/$db.summary" 2>&1
  echo "$db: $(cat "$out/$db.games") games, $(grep -m1 '^calls to allocation' "$out/$db.summary")"
done
python3 - "$out" <<'PY'
import collections, re, sys
out = sys.argv[1]
def load(db):
    games = int(open(f"{out}/{db}.games").read().split()[0])
    by = collections.Counter()
    for line in open(f"{out}/{db}.folded"):
        stack, n = line.rstrip().rsplit(" ", 1)
        key = "?"
        for frame in reversed(stack.split(";")):
            if frame.startswith(("ticksync::", "_$LT$ticksync", "sqlite3")) or "sqlx" in frame:
                key = re.sub(r"::h[0-9a-f]{16}$", "", frame)
                break
        by[key] += int(n)
    return games, by
gs, s = load("sqlite"); gn, n = load("none")
print(f"allocations per game: sqlite {sum(s.values()) / gs:.1f}, none {sum(n.values()) / gn:.1f}")
rows = sorted(((s[k] / gs - n[k] / gn, k) for k in set(s) | set(n)), reverse=True)
for d, k in rows[:16]:
    print(f"{d:7.2f} {s[k] / gs:7.2f} {n[k] / gn:7.2f}  {k[:120]}")
PY
