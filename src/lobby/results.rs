//! Finished games on their way to storage, and their results on the way back.
//!
//! [`record_of`] turns the engine's [`FinishedGame`] (players named by session) into a
//! [`MatchRecord`] (players named by key: `user:<subject>` for a player with a token,
//! `guest:<session id>` for a guest). It runs on the shard's tick inside
//! `RoomObserver::game_finished`, so it only reads the session table and the clock; the
//! record is then `try_send`-ed to the writer ([`Storage::submit`]), never awaited.
//!
//! [`Notifier`] hears from the writer after each commit: it remembers each player's new
//! rating in its session (the next `FindMatch` uses it without a database read) and sends
//! the player `RatingChanged`, if it is connected.
//!
//! [`Storage::submit`]: crate::storage::Storage::submit

use std::sync::Arc;

use crate::engine::FinishedGame;
use crate::protocol::ServerMsg;
use crate::storage::{Committed, MatchPlayer, MatchRecord, ResultListener};

use super::SessionTable;

/// The record of `game`, with each session's player looked up in `sessions`.
pub(super) fn record_of(game: FinishedGame, sessions: &SessionTable) -> MatchRecord {
    let ended_at_ms = crate::storage::now_ms();
    let ticks = game.ticks();
    let played_ms = ticks.saturating_mul(1000) / u64::from(game.tick_hz.max(1));
    let players = game
        .players
        .iter()
        .map(|seat| {
            let (player_key, display_name, guest) = sessions.player_of(seat.session);
            MatchPlayer {
                seat: seat.seat,
                player_key,
                session: seat.session,
                display_name,
                guest,
            }
        })
        .collect();
    MatchRecord {
        id: game.room,
        game: game.game.to_string(),
        ranked: (game.public || game.settings.ranked) && !game.settings.relay,
        settings: game.settings,
        public: game.public,
        started_at_ms: ended_at_ms.saturating_sub(i64::try_from(played_ms).unwrap_or(0)),
        ended_at_ms,
        ticks,
        tick_hz: game.tick_hz,
        winner: game.outcome.winner,
        reason: game.outcome.reason,
        players,
        replay: game.replay,
    }
}

/// Tells players of their committed results.
pub(super) struct Notifier {
    pub(super) sessions: Arc<SessionTable>,
}

impl ResultListener for Notifier {
    fn committed(&self, result: &Committed) {
        for seat in &result.seats {
            let Some(session) = self.sessions.get(seat.session) else {
                continue;
            };
            let mut state = session.lock();
            state.set_game_rating(&result.game, seat.rating);
            if let Some(outbox) = state.outbox() {
                outbox.push_msg(&ServerMsg::RatingChanged {
                    match_id: result.match_id,
                    game: result.game.clone(),
                    previous: seat.previous,
                    rating: seat.rating,
                });
            }
        }
    }
}
