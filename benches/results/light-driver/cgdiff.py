import re, subprocess, sys
# usage: cgdiff.py short.cg long.cg client_seconds [top]
def load(f):
    out = subprocess.run(["callgrind_annotate", "--threshold=100", f], capture_output=True, text=True).stdout
    d = {}
    total = None
    for line in out.splitlines():
        m = re.match(r"\s*([\d,]+) \([ \d.]+%\)\s+(.*)$", line)
        if not m: continue
        n = int(m.group(1).replace(",", "")); name = m.group(2)
        if "PROGRAM TOTALS" in name: total = n; continue
        name = re.sub(r" \[.*\]$", "", name)
        name = re.sub(r"^\?\?\?:", "", name)
        name = re.sub(r"^\./[^:]*:", "", name)
        d[name] = d.get(name, 0) + n
    return total, d
ts, s = load(sys.argv[1]); tl, l = load(sys.argv[2]); cs = float(sys.argv[3])
top = int(sys.argv[4]) if len(sys.argv) > 4 else 40
memset = sum(v for k, v in l.items() if "memset" in k) - sum(v for k, v in s.items() if "memset" in k)
print(f"total Ir per client-second: {(tl-ts)/cs:,.0f}   memset: {memset/cs:,.0f}   without memset: {(tl-ts-memset)/cs:,.0f}")
diff = sorted(((l.get(k,0)-s.get(k,0))/cs, k) for k in set(l)|set(s))[::-1]
for v, k in diff[:top]:
    print(f"{v:10,.0f}  {k[:150]}")
