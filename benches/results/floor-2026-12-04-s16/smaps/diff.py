import sys,re
def parse(p):
    out={}; cur=None
    for l in open(p):
        if re.match(r'^[0-9a-f]+-[0-9a-f]+ ',l):
            f=l.split(); cur=(f[0], f[5] if len(f)>5 else '[anon]', f[1]); out[cur]={}
        else:
            k,v=l.split(':',1); v=v.strip().split()
            if v and v[0].isdigit(): out[cur][k]=int(v[0])
    return out
a=parse(sys.argv[1]); b=parse(sys.argv[2])
tot=0
for k in b:
    d=b[k].get('Rss',0)-a.get(k,{}).get('Rss',0)
    if d: print(f"{d:7d} KiB  {k[2]} {k[1]} {k[0]}  (file {b[k].get('Rss',0)-b[k].get('Anonymous',0) - (a.get(k,{}).get('Rss',0)-a.get(k,{}).get('Anonymous',0))})")
