#!/usr/bin/env bash
# Rounds of runs, one at a time on fresh servers (sitting.sh), alternating the bare server,
# ticksync's plain release build and its PGO build (deploy/pgo-build.sh).
# usage: rounds.sh OUTDIR "r1 r2 ..." "SPEC ..."   SPEC = bare|def|pgo:WORKLOAD:N
set -u
D=$1; ROUNDS=$2; SPECS=$3
REPO=$(cd "$(dirname "$0")/../../.." && pwd)
S=$REPO/benches/results/profile/sitting.sh
PGO=$REPO/target/pgo/$(rustc -vV | sed -n 's/^host: //p')/release/ticksync
for r in $ROUNDS; do
  for spec in $SPECS; do
    IFS=: read -r who wl n <<< "$spec"
    case $who in
      bare) bash "$S" "$D/$r-bare-$wl-$n" "bare:arena:$n" ;;
      def) TS_DIR=$REPO TS_ARGS="--database none" bash "$S" "$D/$r-def-$wl-$n" "ts:$wl:$n" ;;
      pgo) TS_DIR=$REPO TS_BIN=$PGO TS_ARGS="--database none" bash "$S" "$D/$r-pgo-$wl-$n" "ts:$wl:$n" ;;
    esac
  done
done
echo ROUNDS DONE
