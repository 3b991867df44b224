#!/usr/bin/env bash
# The ordered build with glibc's malloc against the same binary with mimalloc or jemalloc
# preloaded (Debian's libmimalloc2.0 2.0.9 and libjemalloc2; wrappers that `exec` the
# server with LD_PRELOAD, so the PID measured is the server's): per round the bare arena at
# 200, then each variant's ttt at 200 and arena at 200, the variants' order rotated.
# usage: alloc.sh OUT "ROUNDS"     (GLIBC, MI, JE: the three server commands)
set -u
HERE=$(cd "$(dirname "$0")" && pwd)
S=$HERE/../profile/sitting.sh
i=0
for r in $2; do
  case $((i % 3)) in 0) order="glibc mi je" ;; 1) order="mi je glibc" ;; *) order="je glibc mi" ;; esac
  i=$((i + 1))
  bash "$S" "$1/$r-bare" "bare:arena:200"
  for v in $order; do
    case $v in glibc) bin=$GLIBC ;; mi) bin=$MI ;; je) bin=$JE ;; esac
    TS_ARGS="--database none" TS_BIN=$bin bash "$S" "$1/$r-$v" "ts:ttt:200 ts:arena:200"
  done
done
