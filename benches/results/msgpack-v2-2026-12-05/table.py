#!/usr/bin/env python3
"""Bytes per update and CPU per client-second per codec from run.sh's output folder."""
import json, pathlib, statistics, sys

root = pathlib.Path(sys.argv[1] if len(sys.argv) > 1 else pathlib.Path(__file__).parent)
rows = {}
for f in sorted(root.glob("*/*/ts-arena-n*-hz30.txt")):
    codec = f.parent.name
    record = json.loads([l for l in f.read_text().splitlines() if l.startswith("{")][-1])
    rows.setdefault(codec, []).append(record)
base = statistics.median(r["bytes_per_update"] for r in rows["bincode"])
print("| codec | runs | bytes per update (each run) | median | / bincode | CPU ms per client-second (median) | errors |")
print("|---|---|---|---|---|---|---|")
for codec in ("bincode", "msgpack", "msgpack-v1"):
    rs = rows.get(codec, [])
    if not rs:
        continue
    b = [r["bytes_per_update"] for r in rs]
    cpu = statistics.median(r["server_cpu_ms_per_client_s"] for r in rs)
    print(f"| {codec} | {len(rs)} | {', '.join(f'{x:.2f}' for x in b)} | {statistics.median(b):.2f} | "
          f"{statistics.median(b) / base:.2f}x | {cpu:.3f} | {sum(r['errors'] for r in rs)} |")
