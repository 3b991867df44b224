# Sourced by the sitting scripts: how busy the machine is, and waiting until it is quiet.
# busy_pct: the share of CPU time (all cores) in use over one second, in percent.
busy_pct() {
  read -r _ u1 n1 s1 i1 w1 q1 sq1 st1 _ < /proc/stat; sleep 1
  read -r _ u2 n2 s2 i2 w2 q2 sq2 st2 _ < /proc/stat
  local busy=$(( (u2+n2+s2+q2+sq2+st2) - (u1+n1+s1+q1+sq1+st1) )) idle=$(( (i2+w2) - (i1+w1) ))
  echo $(( 100 * busy / (busy + idle) ))
}
# wait_quiet: waits (at most about 90 s) until busy_pct is at most 15; prints the last one.
wait_quiet() {
  local p
  for _ in $(seq 30); do p=$(busy_pct); [ "$p" -le 15 ] && { echo "$p"; return; }; sleep 2; done
  echo "$p"
}
