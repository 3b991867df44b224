#!/usr/bin/env python3
"""ttt per move against one in and two out (the bare server's, measured in the same round),
this session's sitting (io: the same build, 179f798, in both columns) alone and pooled with
the twentieth session's rounds of its new build (5bac319), whose ttt path it keeps (the
changes since touch MessagePack's state envelope and the delta cache, which ttt, in bincode
with no deltas, does not take). Each round's ratio uses that round's own comparator.
usage: pooled.py  (from benches/results/)"""
import importlib.util, os, statistics

# The twentieth session's per-round ratios (its `rounds`, on the nineteenth session's fit).
_spec = importlib.util.spec_from_file_location(
    'pooled20', os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', 'floor-2026-12-05-s20', 'pooled.py'))
pooled20 = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(pooled20)
rounds = pooled20.rounds


S20 = 'floor-2026-12-05-s20'
S21 = 'ttt-2026-12-05-s21'
groups = {
    '179f798 (s21, both columns)': [(f'{S21}/io', 'new'), (f'{S21}/io', 'old')],
    '5bac319 (s20 new)': [(f'{S20}/io', 'new'), (f'{S20}/io3', 'new'), (f'{S20}/io3', 'old')],
    'both builds': [(f'{S21}/io', 'new'), (f'{S21}/io', 'old'), (f'{S20}/io', 'new'),
                    (f'{S20}/io3', 'new'), (f'{S20}/io3', 'old')],
}
for name, parts in groups.items():
    allr = [r[b] for d, b in parts for r in rounds(d)]
    q = statistics.quantiles(allr, n=4)
    print(f'{name}: pooled median {statistics.median(allr):.3f} over {len(allr)} runs '
          f'(quartiles {q[0]:.3f} to {q[2]:.3f})')
