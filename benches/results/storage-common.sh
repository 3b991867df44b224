# Sourced by storage-pairs.sh and storage-ab.sh (after quiet.sh): one ttt run kept, and
# the figures read back from it.
# quiet_run DB TAG OUT [NOTE]: waits for a quiet machine, runs storage-ttt-run.sh (its
# binaries from $T, if set) and writes the load report, the server threads' CPU and the
# process's user and system time to OUT.
quiet_run() {
  local busy; busy=$(wait_quiet)
  bash "$HERE/storage-ttt-run.sh" "$1" "$2" > /dev/null 2>&1
  { echo "# busy ${busy}% at the start${4:+; $4}"; cat "/tmp/stbench/$2/loadgen.txt";
    echo "# server threads (CPU clock ticks, whole run)"; cat "/tmp/stbench/$2/threads.txt"
    echo "# server process (minor faults, user and system ticks, context switches)"
    cat "/tmp/stbench/$2/process.txt"; } > "$3"
}
# Server CPU ms per 1000 moves.
cpu() { grep 'server CPU ms per 1000 moves' "$1" | awk '{print $(NF-1)}'; }
# Server CPU seconds per driver CPU second.
per_driver() { awk '/^  server CPU  /{s=$(NF-1)} /^  driver CPU  /{d=$(NF-1)} END {printf "%.4f", s/d}' "$1"; }
# ratio X Y: X / Y to three places.
ratio() { awk -v x="$1" -v y="$2" 'BEGIN {printf "%.3f", x/y}'; }
