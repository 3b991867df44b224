#!/usr/bin/env bash
# The release server with its code ordered (link/ticksync.order) against the same build
# linked in the default order (TICKSYNC_NO_LINK_ORDER=1), beside the bare server.
# usage: [WL=ttt] ab.sh OUT "ROUNDS" "N..."   (ORDERED, PLAIN: the two server binaries)
# Per round and N: the bare server's arena, then the two ticksync builds on workload WL
# (default arena; ttt's comparator is the bare arena at the same N), their order swapped
# every round.
set -u
HERE=$(cd "$(dirname "$0")" && pwd)
S=$HERE/../profile/sitting.sh
i=0
for r in $2; do
  i=$((i + 1))
  if [ $((i % 2)) = 1 ]; then first=$ORDERED; second=$PLAIN; else first=$PLAIN; second=$ORDERED; fi
  for n in $3; do
    bash "$S" "$1/$r-bare" "bare:arena:$n"
    for bin in $first $second; do
      tag=$([ "$bin" = "$ORDERED" ] && echo ordered || echo plain)
      TS_ARGS="--database none" TS_BIN=$bin bash "$S" "$1/$r-$tag" "ts:${WL:-arena}:$n"
    done
  done
done
