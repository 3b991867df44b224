//! The lobby's side of the engine's rooms: what a room reports (`RoomObserver`) kept in
//! the directory and the sessions, called-off matches queued again, finished games sent
//! to the results writer.

use std::sync::Arc;

use tokio::sync::mpsc;

use super::{Directory, SessionTable, global, results};
use crate::engine::RoomObserver;
use crate::protocol::{RoomId, RoomSummary, Seat, SessionId};
use crate::storage::Storage;

/// Keeps the directory and sessions in step with the engine's rooms.
pub(super) struct Observer {
    pub(super) sessions: Arc<SessionTable>,
    pub(super) directory: Arc<Directory>,
    pub(super) storage: Storage,
    /// With a cluster: the global matchmaker, which queues again the players of a match
    /// called off (`RoomObserver::match_called_off`).
    pub(super) global: Arc<std::sync::OnceLock<mpsc::Sender<global::GlobalCmd>>>,
}

impl Observer {
    /// Forgets that `session` is in `room`, unless the session is disconnected.
    ///
    /// A disconnected member cannot be told that it left (the room closed while it was
    /// away), so its session keeps the stale membership: a resume then sends `Rebind` to
    /// the room's shard, which answers `RoomLeft` because the room is gone, and calls back
    /// here to clear it. Without this the resumed client would hear nothing about its room
    /// ever again.
    fn clear_membership(&self, room: RoomId, session: SessionId) {
        if let Some(session) = self.sessions.get(session) {
            let mut state = session.lock();
            // Not a membership whose `Join` is still on its way: the notice is about the
            // session's earlier stay in the room (see `Membership::joining`).
            if state.binding.is_some()
                && state.room.is_some_and(|m| m.addr.id == room && !m.joining)
            {
                state.room = None;
            }
        }
    }
}

impl RoomObserver for Observer {
    fn room_changed(&self, summary: RoomSummary) {
        self.directory.update(summary);
    }

    /// A member left for good. If its session is disconnected, the room gave its place up
    /// because the grace ran out: the session ends here, before the room tells the others
    /// (`PlayerLeft`), so its token is refused from the moment anyone could know. The room
    /// is the one clock that decides when a member's grace ends; the lobby's reaper ends
    /// sessions in no room. A session that resumed just before (bound again, its `Rebind`
    /// not yet at the room) is kept: the room answers its `Rebind` with `RoomLeft`.
    fn member_left(&self, room: RoomId, session: SessionId) {
        if !self.sessions.end_if_away(session, room) {
            self.clear_membership(room, session);
        }
    }

    /// The room's word on the seat: the lobby records it, never decides it.
    fn member_seated(&self, room: RoomId, session: SessionId, seat: Seat) {
        if let Some(session) = self.sessions.get(session) {
            let mut state = session.lock();
            if let Some(membership) = state.room.as_mut().filter(|m| m.addr.id == room) {
                membership.seat = Some(seat);
            }
        }
    }

    /// On the shard's tick: the players go back to the global queue through its task's
    /// bounded inbox, without waiting. A full inbox drops them, logged, and tells each
    /// `Error ClusterUnavailable` in place of the `Queued` it was promised, so that it
    /// queues again itself.
    fn match_called_off(&self, room: RoomId, present: &[SessionId]) {
        let Some(global) = self.global.get() else {
            return;
        };
        let cmd = global::GlobalCmd::Requeue {
            room,
            present: present.to_vec(),
        };
        if global.try_send(cmd).is_err() {
            tracing::warn!(
                room = room.get(),
                "global queue busy: a called-off match's players were not queued again"
            );
            global::none_queued(&self.sessions, present);
        }
    }

    fn room_closed(&self, room: RoomId, members: &[SessionId]) {
        self.directory.remove(room);
        for &session in members {
            self.clear_membership(room, session);
        }
    }

    /// On the shard's tick: the record goes into the results writer's bounded queue
    /// without waiting (`lobby/results.rs`); a full queue drops it, counted.
    fn game_finished(&self, game: crate::engine::FinishedGame) {
        if self.storage.enabled() {
            self.storage
                .submit(results::record_of(game, &self.sessions));
        }
    }
}
