import sys, time, urllib.request
port=sys.argv[1]; out=open(sys.argv[2],'w'); lgpid=int(sys.argv[3])
import os
while True:
    try: os.kill(lgpid,0)
    except OSError: break
    t=time.monotonic()
    try:
        body=urllib.request.urlopen(f'http://127.0.0.1:{port}/metrics',timeout=1).read().decode()
        s=sum(float(l.split()[-1]) for l in body.splitlines() if l.startswith('ticksync_states_superseded'))
    except Exception: s=-1
    out.write(f"{t:.4f} {int(s)}\n"); out.flush()
    time.sleep(0.2)
