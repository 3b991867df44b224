#!/usr/bin/env bash
# The thirteenth session's sitting: one run at a time, each on a fresh server.
# bare = ../shared/baseline; new = /work/main's release build; old = the session's start (45895c9).
set -u
D=${1:-/work/main/benches/results/floor-2026-12-04-s13}
S=/work/main/benches/results/profile/sitting.sh
NEW=/work/main; OLD=/tmp/s13/oldtree
one() { # sys tag run
  case $1 in
    bare) bash $S $D/$2-bare "$3" ;;
    new) TS_DIR=$NEW TS_ARGS="--database none" bash $S $D/$2-new "$3" ;;
    old) TS_DIR=$OLD TS_ARGS="--database none" bash $S $D/$2-old "$3" ;;
  esac
}
for r in r1 r2 r3; do
  for n in 200 800; do
    one bare $r bare:arena:$n; one new $r ts:arena:$n; one old $r ts:arena:$n
  done
  one new $r ts:ttt:200; one old $r ts:ttt:200
done
for r in c1 c2; do
  for n in 2500 2750 3000 3250; do
    one bare $r bare:arena:$n; one new $r ts:arena:$n
    case $n in 2750|3000) one old $r ts:arena:$n ;; esac
  done
done
echo SITTING DONE
