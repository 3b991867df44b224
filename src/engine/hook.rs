//! [`FinishedHook`]: an embedder's callback for every finished game, beside the lobby's
//! observer.

use std::sync::Arc;

use super::{FinishedGame, RoomObserver};
use crate::protocol::{RoomId, RoomSummary, SessionId};

/// Called with every finished game (replay included), on the shard's tick, after the
/// lobby's observer has been told. Like [`RoomObserver::game_finished`], it must be quick
/// and must not block: hand the record to another task. Embedders and tests use it to
/// keep or check games (`ServerConfig::on_game_finished`).
#[derive(Clone)]
pub struct FinishedHook(Arc<dyn Fn(&FinishedGame) + Send + Sync>);

impl FinishedHook {
    /// A hook calling `f`.
    pub fn new(f: impl Fn(&FinishedGame) + Send + Sync + 'static) -> FinishedHook {
        FinishedHook(Arc::new(f))
    }
}

impl std::fmt::Debug for FinishedHook {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("FinishedHook")
    }
}

/// The lobby's observer, with the hook called after it for finished games.
pub(super) struct Hooked {
    pub(super) inner: Arc<dyn RoomObserver>,
    pub(super) hook: FinishedHook,
}

impl RoomObserver for Hooked {
    fn room_changed(&self, summary: RoomSummary) {
        self.inner.room_changed(summary);
    }
    fn member_left(&self, room: RoomId, session: SessionId) {
        self.inner.member_left(room, session);
    }
    fn member_seated(&self, room: RoomId, session: SessionId, seat: crate::protocol::Seat) {
        self.inner.member_seated(room, session, seat);
    }
    fn room_closed(&self, room: RoomId, members: &[SessionId]) {
        self.inner.room_closed(room, members);
    }
    fn match_called_off(&self, room: RoomId, present: &[SessionId]) {
        self.inner.match_called_off(room, present);
    }
    fn game_finished(&self, game: FinishedGame) {
        let copy = game.clone();
        self.inner.game_finished(game);
        // The embedder's code, on the shard's tick: a panic in it is logged, not the
        // shard's end (the record is in the lobby's hands already).
        let called =
            std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| (self.hook.0)(&copy)));
        if called.is_err() {
            tracing::error!(
                room = copy.room.get(),
                "the on_game_finished hook panicked; the shard goes on"
            );
        }
    }
}
