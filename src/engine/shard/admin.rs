//! A shard's side of the operator's view: answering [`AdminCmd`]s about its rooms.

use super::Shard;
use crate::engine::admin::{AdminCmd, RoomMeter};
use crate::engine::room::RoomOutput;

impl Shard {
    /// Applies one operator command at the current tick. Replies go to askers that may
    /// have given up; that is not an error.
    pub(super) fn admin(&mut self, cmd: AdminCmd, out: &mut RoomOutput) {
        let now = self.now;
        match cmd {
            AdminCmd::List(reply) => {
                let rooms = self
                    .rooms
                    .iter()
                    .map(|(key, room)| room.admin_info(self.index, &self.meter(key)))
                    .collect();
                let _ = reply.send(rooms);
            }
            AdminCmd::Inspect { room, reply } => {
                let detail = self.by_id.get(&room).and_then(|&key| {
                    let room = self.rooms.get(key)?;
                    Some(room.admin_detail(self.index, &self.meter(key), now))
                });
                let _ = reply.send(detail);
            }
            AdminCmd::Close {
                room,
                reason,
                reply,
            } => {
                let found = self.by_id.get(&room).copied();
                let found = found.and_then(|key| self.take_room(key));
                let closed = found.is_some();
                if let Some(mut closing) = found {
                    tracing::info!(room = room.get(), %reason, "room closed by the operator");
                    // The game's code may run as it ends (its replay): contained, the room
                    // is failed instead, and closed either way.
                    super::contain::step(
                        self.index,
                        &mut self.stats.room_panics,
                        &mut closing,
                        now,
                        out,
                        |room, out| room.admin_close(now, &reason, out),
                    );
                    self.close_now(closing, out);
                }
                let _ = reply.send(closed);
            }
        }
    }

    /// The room's meter (every room gets one when created; a fresh one otherwise).
    fn meter(&self, key: super::RoomKey) -> RoomMeter {
        self.meters.get(key).copied().unwrap_or_else(RoomMeter::new)
    }
}
