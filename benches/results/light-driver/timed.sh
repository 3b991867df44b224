#!/usr/bin/env bash
# usage: timed.sh KIND TAG N   KIND: bare | barenolto | before | after
# (barenolto: the bare client built with ticksync's release profile, no LTO, 16 codegen units;
#  the server is always the LTO build)
set -u
kind=$1; tag=$2; n=$3
out=/tmp/lean/timed; mkdir -p $out
PORT=$((29100 + RANDOM % 500))
busy() { read -r _ u1 n1 s1 i1 w1 q1 sq1 st1 _ < /proc/stat; sleep 1; read -r _ u2 n2 s2 i2 w2 q2 sq2 st2 _ < /proc/stat
  local b=$(( (u2+n2+s2+q2+sq2+st2) - (u1+n1+s1+q1+sq1+st1) )); local i=$(( (i2+w2) - (i1+w1) )); echo $(( 100 * b / (b + i) )); }
for k in $(seq 120); do p=$(busy); [ "$p" -le 15 ] && break; echo "busy $p%, waiting" >&2; sleep 4; done
echo "host busy ${p}% before run; $(cat /proc/loadavg)" > $out/$tag.txt
if [ "$kind" = bare ] || [ "$kind" = barenolto ]; then
  cbin=/tmp/baseline-target/release/baseline; [ "$kind" = barenolto ] && cbin=/tmp/lean/baseline-nolto/release/baseline
  /tmp/baseline-target/release/baseline server --addr 127.0.0.1:$PORT --hz 30 --room-size 8 --frame-bytes 60 >$out/$tag.server.log 2>&1 &
  spid=$!; sleep 0.5
  $cbin client --url ws://127.0.0.1:$PORT --clients $n --seconds 15 --input-hz 20 --server-pid $spid >>$out/$tag.txt 2>$out/$tag.err
else
  bin=/tmp/lean/loadgen-$kind; [ "$kind" = after ] && bin=/tmp/lean/loadgen-v3
  /tmp/lean/ticksync-before serve --addr 127.0.0.1:$PORT --log warn --database none --max-connections-per-ip 0 --new-connections-per-ip 0 >$out/$tag.server.log 2>&1 &
  spid=$!
  for i in $(seq 50); do curl -sf http://127.0.0.1:$PORT/healthz >/dev/null && break; sleep 0.1; done
  $bin --workload arena --clients $n --seconds 20 --no-checks --url ws://127.0.0.1:$PORT --server-pid $spid >>$out/$tag.txt 2>$out/$tag.err
fi
echo "rc=$?" >> $out/$tag.txt
kill $spid; wait $spid 2>/dev/null
python3 - "$out/$tag.txt" "$n" <<'PY'
import sys, json, re
t = open(sys.argv[1]).read(); n = int(sys.argv[2])
js = [l for l in t.splitlines() if l.startswith("{")][-1]; j = json.loads(js)
if "driver_cpu_pct" in j:
    w = j["seconds"]; cpu = j["driver_cpu_s"]; ups = j["frames_per_client_s"]; errs = j["errors"]; extra = f"gaps {j['tick_gaps']} slowest {j['frames_per_client_s_min']}; other CPU {100*j['host_other_cpu_s']/w:.0f}%; server {j['server_cpu_pct']:.0f}%"
else:
    m = re.search(r"window from [\d.]+ s for ([\d.]+) s", t); w = float(m.group(1)); cpu = j["driver_cpu_s"]; ups = j["updates_per_client_s"]; errs = j["errors"]
    m2 = re.search(r"states received.*; (\d+) ticks missed", t); extra = f"missed {m2.group(1)}; " + re.search(r"updates per client per second\s+(.*)", t).group(1) + "; other CPU " + re.search(r"machine CPU − server − driver\s+(.*)", t).group(1) + "; server " + re.search(r"server CPU % of one core\s+(.*)", t).group(1)
print(f"{sys.argv[1].split('/')[-1]}: N={n} window {w:.2f} s driver {cpu:.3f} s = {100*cpu/w:.1f}% of a core, {1e6*cpu/(n*w):.1f} us per client-s; updates/s {ups}; errors {errs}; {extra}")
PY
