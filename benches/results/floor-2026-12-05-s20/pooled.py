#!/usr/bin/env python3
"""ttt per move against one in and two out (the bare server's, measured in the same round),
per build and pooled over sittings: the nineteenth session's rounds (io, io2) and this
session's two sittings (io; io3, where both columns ran the same build). Each round's ratio uses that round's own comparator.
usage: pooled.py  (from benches/results/)"""
import json, os, statistics

def last_json(path):
    with open(path) as f:
        lines = [l for l in f if l.startswith('{')]
    return json.loads(lines[-1]) if lines else None

def rounds(d):
    for r in sorted(os.listdir(d)):
        rd = os.path.join(d, r)
        if not os.path.isdir(rd):
            continue
        c = {}
        for rate, suffix in ((10, '-in10'), (20, ''), (40, '-in40')):
            p = os.path.join(rd, f'bare-arena-n200-hz30{suffix}.txt')
            if os.path.exists(p) and (j := last_json(p)) and j.get('frames_per_client_s_min', 0) >= 29.7:
                c[rate] = j['server_cpu_ms_per_client_s']
        t = {}
        for b in ('new', 'old'):
            p = os.path.join(rd, b, 'ts-ttt-n200-hz30.txt')
            if os.path.exists(p) and (j := last_json(p)) and not j.get('errors'):
                t[b] = j['server_cpu_ms_per_1000_moves']
        if len(c) < 3 or len(t) < 2:
            continue
        xs = sorted(c); mx = statistics.mean(xs); my = statistics.mean(c[x] for x in xs)
        b = sum((x - mx) * (c[x] - my) for x in xs) / sum((x - mx) ** 2 for x in xs)
        a = my - b * mx
        cmp12 = (b + 2 * a / 30) * 1000
        yield {k: v / cmp12 for k, v in t.items()}

S19 = 'floor-2026-12-05-s19'
S20 = 'floor-2026-12-05-s20'
# Which code each directory's builds ran (BENCHMARKS.md, nineteenth and twentieth sessions).
groups = {
    '7f83011 (s19 start)': [(f'{S19}/io', 'old'), (f'{S19}/io2', 'old')],
    '225c257 per-message code (s19 new, s20 old)': [(f'{S19}/io', 'new'), (f'{S19}/io2', 'new'), (f'{S20}/io', 'old')],
    '5bac319 (s20 new; io3 ran it in both columns)': [(f'{S20}/io', 'new'), (f'{S20}/io3', 'new'), (f'{S20}/io3', 'old')],
}
for name, parts in groups.items():
    per = {}
    for d, b in parts:
        per[(d, b)] = [r[b] for r in rounds(d)]
    allr = [x for v in per.values() for x in v]
    detail = ', '.join(f'{d.split("/")[0][-3:]}/{d.split("/")[1]} {b}: {statistics.median(v):.3f} ({len(v)})' for (d, b), v in per.items())
    print(f'{name}: pooled median {statistics.median(allr):.3f} over {len(allr)} rounds '
          f'(quartiles {statistics.quantiles(allr, n=4)[0]:.3f} to {statistics.quantiles(allr, n=4)[2]:.3f}); {detail}')
