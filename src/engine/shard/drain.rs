//! A shard's part in a shutdown drain.
//!
//! [`ShardCmd::Drain`](super::ShardCmd::Drain) starts it: rooms whose game ends by its own
//! rules and is running keep going; every other room gets
//! `GameOver { reason: ServerShutdown }` when running, then `RoomLeft`, and its members'
//! connections are closed with 1001. From then on every room that closes closes its
//! members' connections with 1001 too, a member that leaves is closed after its
//! `RoomLeft`, new rooms (a match formed as the drain began) end at once, and joins are
//! refused with `ShuttingDown`. [`ShardCmd::EndAll`](super::ShardCmd::EndAll), sent when
//! the drain timeout runs out, ends the rooms still running the same way.

use super::{RoomKey, Shard};
use crate::engine::room::{RoomOutput, shutdown_close};
use crate::protocol::{EndReason, SessionId, Tick};

impl Shard {
    /// Starts draining: ends every room that may not go on.
    pub(super) fn begin_drain(&mut self, now: Tick, out: &mut RoomOutput) {
        self.draining = true;
        self.end_rooms(now, false, out);
    }

    /// Ends every room left, however far its game is.
    pub(super) fn end_all(&mut self, now: Tick, out: &mut RoomOutput) {
        self.draining = true;
        self.end_rooms(now, true, out);
    }

    fn end_rooms(&mut self, now: Tick, all: bool, out: &mut RoomOutput) {
        let ending: Vec<RoomKey> = self
            .rooms
            .iter()
            .filter(|(_, room)| all || !room.drains())
            .map(|(key, _)| key)
            .collect();
        for key in ending {
            self.end_for_shutdown(key, now, out);
        }
    }

    /// A room created while draining (a match formed as the drain began) ends at once.
    pub(super) fn end_if_draining(&mut self, key: RoomKey, now: Tick, out: &mut RoomOutput) {
        if self.draining {
            self.end_for_shutdown(key, now, out);
        }
    }

    /// While draining, a member that leaves its room is closed after its `RoomLeft`.
    pub(super) fn leave_while_draining(
        &mut self,
        room: crate::protocol::RoomId,
        session: SessionId,
        now: Tick,
        out: &mut RoomOutput,
    ) {
        let Some(&key) = self.by_id.get(&room) else {
            return;
        };
        let link = self
            .rooms
            .get(key)
            .and_then(|room| room.member_link(session));
        // Contained here, not only around the command, so that the leaver is closed even
        // when its game panics as it leaves (its `RoomLeft` is out before the game's code
        // runs).
        self.contain_room(key, out, |room, out| room.leave(session, now, out));
        if let Some(link) = link {
            out.push(shutdown_close(link));
        }
    }

    /// Counts a game that ended at this tick.
    pub(super) fn count_finished(&mut self, game: &'static str, reason: EndReason) {
        let finished = &mut self.stats.games_finished;
        match finished
            .iter_mut()
            .find(|(g, r, _)| *g == game && *r == reason)
        {
            Some((_, _, n)) => *n += 1,
            None => finished.push((game, reason, 1)),
        }
    }
}
