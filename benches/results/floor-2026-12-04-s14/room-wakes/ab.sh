#!/usr/bin/env bash
# A/B at 2,750 arena clients: A = writers woken at the end of the shard's tick (main),
# B = each room's writers woken after its delivery (TICKSYNC_EXP_ROOM_WAKES).
set -u
D=${1:-/tmp/s14/ab}
S=/work/main/benches/results/profile/sitting.sh
for r in 1 2 3 4 5; do
  TS_DIR=/work/main TS_ARGS="--database none" bash $S $D/a$r "ts:arena:2750"
  TICKSYNC_EXP_ROOM_WAKES=1 TS_DIR=/work/main TS_ARGS="--database none" bash $S $D/b$r "ts:arena:2750"
done
echo AB DONE
