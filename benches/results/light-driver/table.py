import json, re, glob, os, collections
rows = collections.defaultdict(dict)
for f in sorted(glob.glob("/tmp/lean/timed/*-*-*.txt")):
    name = os.path.basename(f)[:-4]
    kind, n, rnd = name.split("-")
    t = open(f).read()
    js = [l for l in t.splitlines() if l.startswith("{")]
    if not js: continue
    j = json.loads(js[-1]); n = int(n)
    if "driver_cpu_pct" in j:
        w = j["seconds"]; other = 100 * j["host_other_cpu_s"] / w
    else:
        w = float(re.search(r"window from [\d.]+ s for ([\d.]+) s", t).group(1))
        other = float(re.search(r"machine CPU − server − driver\s+([-\d.]+)", t).group(1))
    rows[(n, rnd)][kind] = (1e6 * j["driver_cpu_s"] / (n * w), other)
for (n, rnd), k in sorted(rows.items()):
    cell = lambda x: f"{k[x][0]:.1f} µs ({k[x][1]:.0f}%)" if x in k else ""
    ratio = lambda a, b: f"{k[a][0]/k[b][0]:.2f}x" if a in k and b in k else ""
    print(f"| {n} | {rnd} | {cell('bare')} | {cell('before')} | {cell('after')} | {ratio('before','bare')} | {ratio('after','bare')} | {ratio('after','before')} | {cell('barenolto')} |")
