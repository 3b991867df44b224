import json, re, sys, glob, os
d = sys.argv[1]
def load(name):
    p = os.path.join(d, name)
    if not os.path.exists(p): return None
    lines = open(p).read().splitlines()
    j = None
    for l in reversed(lines):
        if l.startswith('{'):
            j = json.loads(l); break
    t = {}
    for l in lines:
        m = re.match(r'\s\s(\S.*?)\s{2,}(.*)$', l)
        if m: t[m.group(1).strip()] = m.group(2).strip()
    return {'j': j, 't': t, 'head': lines[0] if lines else ''}
for f in sorted(glob.glob(os.path.join(d, '*.txt'))):
    name = os.path.basename(f); r = load(name); j = r['j']
    if j is None: print(name, 'NO RESULT'); continue
    if name.startswith('bare'):
        print(f"{name}: cpu/client-s {j['server_cpu_ms_per_client_s']} ms, rss/client {j['server_rss_per_client_kb']} KiB, frames/client-s mean {j['frames_per_client_s']} min {j['frames_per_client_s_min']}, gaps {j['tick_gaps']}, server {j['server_cpu_pct']}%, driver {j['driver_cpu_pct']}%, us/frame {j['server_cpu_us_per_frame']}, errors {j['errors']} | {r['head']}")
    elif '-ttt-' in name:
        print(f"{name}: cpu/1000 moves {j['server_cpu_ms_per_1000_moves']} ms, moves/s {j['moves_per_s']}, server {j['server_cpu_pct']}%, errors {j['errors']} | {r['head']}")
    else:
        t = r['t']
        print(f"{name}: cpu/client-s {j['server_cpu_ms_per_client_s']} ms, rss/client {j['server_rss_per_client_kb']} KiB, updates {t.get('updates per client per second')}, tick {t.get('server tick duration p50/p99/max')}, rate ok {t.get('capacity: every client at rate')}, p99 ok {t.get('capacity: tick p99 < 25% of budget')}, server {j['server_cpu_pct']}%, driver {t.get('driver CPU % of one core')}, other {t.get('machine CPU − server − driver')}, join {t.get('joins done / window')}, errors {j['errors']} | {r['head']}")
