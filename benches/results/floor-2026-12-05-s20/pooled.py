#!/usr/bin/env python3
"""ttt per move against one in and two out (the bare server's, measured in the same round),
per build and pooled over sittings: the nineteenth session's rounds (io, io2) and this
session's two sittings (io; io3, where both columns ran the same build). Each round's ratio uses that round's own comparator.
usage: pooled.py  (from benches/results/)"""
import importlib.util, os, statistics

# The nineteenth session's fit of the bare server's frame in and frame out, per round.
_spec = importlib.util.spec_from_file_location(
    'inout', os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', 'floor-2026-12-05-s19', 'inout.py'))
inout = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(inout)


def rounds(d):
    for row in inout.fitted_rounds([d], incomplete=lambda _: None):
        yield {'new': row['ttt_new'] / row['new_cmp'], 'old': row['ttt_old'] / row['new_cmp']}


S19 = 'floor-2026-12-05-s19'
S20 = 'floor-2026-12-05-s20'
# Which code each directory's builds ran (BENCHMARKS.md, nineteenth and twentieth sessions).
groups = {
    '7f83011 (s19 start)': [(f'{S19}/io', 'old'), (f'{S19}/io2', 'old')],
    '225c257 per-message code (s19 new, s20 old)': [(f'{S19}/io', 'new'), (f'{S19}/io2', 'new'), (f'{S20}/io', 'old')],
    '5bac319 (s20 new; io3 ran it in both columns)': [(f'{S20}/io', 'new'), (f'{S20}/io3', 'new'), (f'{S20}/io3', 'old')],
}
if __name__ == '__main__':
    for name, parts in groups.items():
        per = {}
        for d, b in parts:
            per[(d, b)] = [r[b] for r in rounds(d)]
        allr = [x for v in per.values() for x in v]
        detail = ', '.join(f'{d.split("/")[0][-3:]}/{d.split("/")[1]} {b}: {statistics.median(v):.3f} ({len(v)})' for (d, b), v in per.items())
        print(f'{name}: pooled median {statistics.median(allr):.3f} over {len(allr)} rounds '
              f'(quartiles {statistics.quantiles(allr, n=4)[0]:.3f} to {statistics.quantiles(allr, n=4)[2]:.3f}); {detail}')
