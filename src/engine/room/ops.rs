//! What operating the server needs from a room: the shutdown drain (which rooms keep
//! running, how the others end, closing members with 1001) and the game-over report for
//! metrics. A child module of `room`, so it sees the room's fields without widening them.

use super::Room;
use super::output::{Link, Out, RoomOutput};
use crate::game::Outcome;
use crate::protocol::{EndReason, RoomStatus, SessionId, Tick, close_code};

/// The close reason of connections the drain ends.
pub const SHUTDOWN_REASON: &str = "server shutting down";

impl Room {
    /// Whether this room may go on during a shutdown drain: a running game that ends by its
    /// own rules (turn-based). Waiting rooms, relay rooms and games that never end by
    /// their rules (the arena) are ended when the drain starts.
    pub(crate) fn drains(&self) -> bool {
        self.status == RoomStatus::Running && self.game.as_ref().is_some_and(|g| g.ends_by_itself())
    }

    /// Ends the room for a shutdown: a running game gets `GameOver { winner: None,
    /// reason: ServerShutdown }`. The caller removes the room and then calls
    /// [`Room::close_for_shutdown`].
    pub(crate) fn end_for_shutdown(&mut self, now: Tick, out: &mut RoomOutput) {
        if self.status == RoomStatus::Running {
            let outcome = Outcome {
                winner: None,
                reason: EndReason::ServerShutdown,
            };
            self.end_game(now, outcome, out);
        }
        self.changed(out);
    }

    /// Closes the room during a drain: `RoomLeft` to every connected member, as
    /// [`Room::close`] does, then their connections are closed with 1001.
    pub(crate) fn close_for_shutdown(self, out: &mut RoomOutput) {
        let links: Vec<Link> = self.members.iter().filter_map(|m| m.link.clone()).collect();
        self.close(out);
        for link in links {
            out.push(shutdown_close(link));
        }
    }

    /// The link of a connected member, so a drain can close it after it leaves.
    pub(crate) fn member_link(&self, session: SessionId) -> Option<Link> {
        let index = self.member_index(session)?;
        self.members[index].link.clone()
    }

    /// The game's name and end reason, if its game ended at tick `now`.
    pub(crate) fn finished_now(&self, now: Tick) -> Option<(&'static str, EndReason)> {
        match self.ended {
            Some((at, reason)) if at == now => Some((self.entry.name, reason)),
            _ => None,
        }
    }
}

/// Closing `to`'s connection with 1001 after what is queued for it.
pub(crate) fn shutdown_close(to: Link) -> Out {
    Out::Close {
        to,
        code: close_code::GOING_AWAY,
        reason: SHUTDOWN_REASON,
    }
}
