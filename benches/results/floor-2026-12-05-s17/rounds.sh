#!/usr/bin/env bash
# Rounds of runs, one at a time on fresh servers (sitting.sh), alternating the bare server
# and ticksync (the release build of this checkout, `--database none`).
# usage: rounds.sh OUTDIR "r1 r2 ..." "SPEC ..."   SPEC = bare|ts:WORKLOAD:N
set -u
D=$1; ROUNDS=$2; SPECS=$3
REPO=$(cd "$(dirname "$0")/../../.." && pwd)
S=$REPO/benches/results/profile/sitting.sh
for r in $ROUNDS; do
  for spec in $SPECS; do
    IFS=: read -r who wl n <<< "$spec"
    case $who in
      bare) bash "$S" "$D/$r-bare-$wl-$n" "bare:arena:$n" ;;
      ts) TS_DIR=$REPO TS_ARGS="--database none" bash "$S" "$D/$r-ts-$wl-$n" "ts:$wl:$n" ;;
    esac
  done
done
echo ROUNDS DONE
