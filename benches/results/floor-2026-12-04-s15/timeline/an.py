import sys
rows=[l.split() for l in open(sys.argv[1]) if l.strip() and l.split()[0].isdigit()]
prev=None
for r in rows:
    t=int(r[0]); s=int(r[1]); p=list(map(int,r[2:6])); c=list(map(int,r[6:15]))
    if prev:
        ds=s-prev[1]; dp=[a-b for a,b in zip(p,prev[2])]; dc=[a-b for a,b in zip(c,prev[3])]
        print(f"{t%100000:6d} sup {ds:5d} srv u{dp[0]:3d} s{dp[1]:3d} drv u{dp[2]:3d} s{dp[3]:3d} | mach user {dc[0]:3d} sys {dc[2]:3d} idle {dc[3]:3d} sirq {dc[6]:3d}")
    prev=(t,s,p,c)
