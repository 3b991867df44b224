#!/usr/bin/env python3
"""Summarises inout.sh's rounds: per round, the bare server's CPU per client-second at 10,
20 and 40 inputs a second (least squares: C = a + b * rate), its CPU per frame in (b) and
per frame out (a / 30, the tick's own work included), and ttt's server CPU per move on the
two builds against two comparators:
  three average frames  = C(20) / 50 * 3        (the method of the earlier sessions)
  one in and two out    = b + 2 * a / 30        (the issue's "1 in, 2 out", measured)
and, on the last line, against the frames a move really takes on the wire, the game's
own (a match's first write, the next FindMatch) included: SENDS out and RECVS in per move
(env; default 2.230 and 1.249, `strace -c` of ttt at 200, strace/ts-ttt-n200.strace).
usage: inout.py DIR...  (rounds of every DIR together; DIR/ROUND/bare-arena-n200-hz30[-inRATE].txt, DIR/ROUND/{new,old}/ts-ttt-n200-hz30.txt)
"""
import json, os, statistics, sys

SENDS = float(os.environ.get('SENDS', '2.230'))
RECVS = float(os.environ.get('RECVS', '1.249'))

def last_json(path):
    with open(path) as f:
        lines = [l for l in f if l.startswith('{')]
    return json.loads(lines[-1]) if lines else None

def fitted_rounds(dirs, incomplete=print):
    """Each complete round of `dirs` (in name order): the bare server's fit and ttt on both
    builds, as a dict (`in_us`, `out_us`, `new_cmp` = one in and two out in µs, `ttt_new`,
    `ttt_old`, ...); `incomplete` is told of the others."""
    rows = []
    for d, r in sorted((d, r) for d in dirs for r in os.listdir(d)):
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
            incomplete(f'{r}: incomplete ({sorted(c)}, {sorted(t)})')
            continue
        xs = sorted(c); mx = statistics.mean(xs); my = statistics.mean(c[x] for x in xs)
        b = sum((x - mx) * (c[x] - my) for x in xs) / sum((x - mx) ** 2 for x in xs)
        a = my - b * mx
        resid20 = c[20] - (a + b * 20)
        old_cmp = c[20] / 50 * 3 * 1000
        new_cmp = (b + 2 * a / 30) * 1000
        rows.append(dict(round=r, c10=c[10], c20=c[20], c40=c[40], in_us=b * 1000, out_us=a / 30 * 1000,
                         resid20=resid20, old_cmp=old_cmp, new_cmp=new_cmp, wire_cmp=(RECVS * b + SENDS * a / 30) * 1000, ttt_new=t['new'], ttt_old=t['old']))
    return rows


if __name__ == '__main__':
    rows = fitted_rounds(sys.argv[1:])
    hdr = 'round  C10    C20    C40   | in µs  out µs  fit@20 | 3 avg µs  1in+2out µs | ttt new  old µs | new/3avg new/1+2 | old/3avg old/1+2 | new/old'
    print(hdr)
    for x in rows:
        print(f"{x['round']:5} {x['c10']:.3f}  {x['c20']:.3f}  {x['c40']:.3f} | {x['in_us']:5.2f}  {x['out_us']:6.2f}  {x['resid20']:+.3f} |"
              f" {x['old_cmp']:8.2f}  {x['new_cmp']:11.2f} | {x['ttt_new']:7.2f} {x['ttt_old']:5.2f} |"
              f" {x['ttt_new']/x['old_cmp']:7.3f}  {x['ttt_new']/x['new_cmp']:7.3f} | {x['ttt_old']/x['old_cmp']:7.3f}  {x['ttt_old']/x['new_cmp']:7.3f} | {x['ttt_new']/x['ttt_old']:.3f}")
    if rows:
        med = lambda k: statistics.median(k(x) for x in rows)
        print(f"median: in {med(lambda x: x['in_us']):.2f} µs, out {med(lambda x: x['out_us']):.2f} µs, in/out {med(lambda x: x['in_us']/x['out_us']):.3f};"
              f" new/3avg {med(lambda x: x['ttt_new']/x['old_cmp']):.3f}, new/1+2 {med(lambda x: x['ttt_new']/x['new_cmp']):.3f},"
              f" old/3avg {med(lambda x: x['ttt_old']/x['old_cmp']):.3f}, old/1+2 {med(lambda x: x['ttt_old']/x['new_cmp']):.3f},"
              f" new/old {med(lambda x: x['ttt_new']/x['ttt_old']):.3f}  ({len(rows)} rounds)")
        print(f"against the frames a move takes ({SENDS} out, {RECVS} in): new {med(lambda x: x['ttt_new']/x['wire_cmp']):.3f},"
              f" old {med(lambda x: x['ttt_old']/x['wire_cmp']):.3f}; range new {min(x['ttt_new']/x['wire_cmp'] for x in rows):.3f}"
              f" to {max(x['ttt_new']/x['wire_cmp'] for x in rows):.3f}")
