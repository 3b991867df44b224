#!/usr/bin/env python3
"""One line per raw file of sitting.sh: system, workload, N, Hz, server CPU per client-second
(ms) or per 1000 moves, RSS per client (VmRSS, the drivers' own figure), anonymous RSS per
client (the `# memory:` line), and the capacity criterion's figures (slowest client's
updates per second, clients under 29.7, tick p99)."""
import json, re, sys, pathlib

for path in sys.argv[1:]:
    text = pathlib.Path(path).read_text()
    name = pathlib.Path(path).name
    rec = {}
    for line in text.splitlines():
        if line.startswith('{'):
            try:
                rec = json.loads(line)
            except ValueError:
                pass
    anon = re.search(r'anon per client ([0-9.]+) KiB', text)
    busy = re.search(r'host busy (\d+)%', text)
    out = [name.replace('.txt', '')]
    if 'frames_per_client_s_min' in rec:  # the bare client
        out += [f"cpu {rec['server_cpu_ms_per_client_s']:.3f} ms/client-s",
                f"rss {rec['server_rss_per_client_kb']:.2f}",
                f"slowest {rec['frames_per_client_s_min']:.3f}/s",
                f"gaps {rec['tick_gaps']}",
                f"driver {rec.get('driver_cpu_pct', 0):.0f}%"]
    elif rec.get('workload') == 'ttt':
        out += [f"cpu {rec['server_cpu_ms_per_1000_moves']:.2f} ms/1000 moves",
                f"games {rec['games']}", f"moves {rec['moves']}"]
    elif rec:
        slow = re.search(r'([0-9.]+) slowest client; (\d+) clients under', text)
        p99 = re.search(r'server tick duration p50/p99/max\s+[0-9.]+ / ([0-9.]+) /', text)
        drv = re.search(r'driver CPU % of one core\s+([0-9.]+)', text)
        out += [f"cpu {rec['server_cpu_ms_per_client_s']:.3f} ms/client-s",
                f"rss {rec['server_rss_per_client_kb']:.2f}",
                f"slowest {slow.group(1) if slow else '?'}/s",
                f"under {slow.group(2) if slow else '?'}",
                f"tick p99 {p99.group(1) if p99 else '?'} ms",
                f"driver {drv.group(1) if drv else '?'}%"]
    if anon:
        out.append(f"anon {anon.group(1)}")
    if busy:
        out.append(f"(busy {busy.group(1)}% before)")
    print('  '.join(out))
