# perf samples split by the supersede timeline: burst intervals against calm ones
import sys, subprocess, collections, bisect
d=sys.argv[1]
pids=open(f'{d}/pids').read().split(); spid=int(pids[1]); lpid=int(pids[3])
tl=[tuple(map(float,l.split())) for l in open(f'{d}/timeline.txt') if l.strip()]
times=[t for t,_ in tl]
# interval i = (times[i], times[i+1]] with superseded delta
delta=[tl[i+1][1]-tl[i][1] for i in range(len(tl)-1)]
rate=[delta[i]/(times[i+1]-times[i]) for i in range(len(delta))]
def cls(i):
    r=rate[i]
    return 'burst' if r>3000 else ('calm' if r==0 else 'some')
out=subprocess.run(['perf','script','-i',f'{d}/perf.data','-F','pid,tid,time,ip,sym,dso','--ns'],capture_output=True,text=True).stdout
agg={c:collections.Counter() for c in ('burst','calm','some')}
secs={c:0.0 for c in agg}
seen=set()
n=0
for line in out.splitlines():
    parts=line.split()
    if len(parts)<3: continue
    try:
        pidtid=parts[0]; pid=int(pidtid.split('/')[0]); t=float(parts[1].rstrip(':'))
    except Exception: continue
    i=bisect.bisect_left(times,t)-1
    if i<0 or i>=len(delta): continue
    c=cls(i)
    if i not in seen: seen.add(i); secs[c]+=times[i+1]-times[i]
    who='server' if pid==spid else ('driver' if pid==lpid else ('idle' if pid==0 else 'other'))
    rest=' '.join(parts[2:])
    sym=rest.rsplit('(',1)
    dso=sym[1].rstrip(')') if len(sym)>1 else '?'
    name=sym[0].strip()
    # strip address
    name=name.split(' ',1)[1] if ' ' in name else name
    agg[c][(who,dso.split('/')[-1],name[:90])]+=1
    n+=1
print('samples',n,'seconds',{k:round(v,2) for k,v in secs.items()})
rate_of=lambda c,k: agg[c][k]/secs[c] if secs[c] else 0
whos=collections.defaultdict(lambda:collections.Counter())
for c in agg:
    for (who,dso,name),v in agg[c].items(): whos[c][who]+=v
for c in agg:
    if secs[c]: print(c, {w:round(v/secs[c]/4.99,1) for w,v in whos[c].items()}, '% of one core')
keys=set(agg['burst'])|set(agg['calm'])
diff=sorted(keys,key=lambda k: rate_of('burst',k)-rate_of('calm',k),reverse=True)
print('\nlargest increases, burst minus calm, samples/s (499 Hz per core: 5 samples/s = 1% of a core)')
for k in diff[:35]:
    print(f"{rate_of('burst',k)-rate_of('calm',k):7.1f} {rate_of('calm',k):7.1f}  {k[0]:6s} {k[1][:18]:18s} {k[2]}")
print('\nlargest decreases')
for k in diff[-10:]:
    print(f"{rate_of('burst',k)-rate_of('calm',k):7.1f} {rate_of('calm',k):7.1f}  {k[0]:6s} {k[1][:18]:18s} {k[2]}")
