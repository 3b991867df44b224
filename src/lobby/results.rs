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
use std::time::Duration;

use crate::engine::FinishedGame;
use crate::protocol::{ErrorCode, LeaderboardRow, MAX_LEADERBOARD_ROWS, MatchId, ServerMsg};
use crate::storage::{
    Committed, MatchPlayer, MatchRecord, ResultListener, Storage, StorageError, player_key_bot,
};

use super::{Lobby, Session, SessionTable};

/// What the lobby reads back from storage: leaderboards and stored ratings.
impl Lobby {
    /// Where results are kept.
    pub fn storage(&self) -> &Storage {
        &self.shared.storage
    }

    /// The best players of `game`, at most `limit` (and [`MAX_LEADERBOARD_ROWS`]).
    ///
    /// # Errors
    /// [`ErrorCode::UnknownGame`], [`ErrorCode::NoRecords`] (no database),
    /// [`ErrorCode::RecordsUnavailable`] (the database did not answer in time).
    pub async fn leaderboard(
        &self,
        game: &str,
        limit: usize,
    ) -> Result<Vec<LeaderboardRow>, ErrorCode> {
        let entry = self.game(game)?;
        let limit = limit.min(MAX_LEADERBOARD_ROWS);
        match self.shared.storage.leaderboard(entry.name, limit).await {
            Ok(rows) => Ok(rows.as_ref().clone()),
            Err(StorageError::Disabled) => Err(ErrorCode::NoRecords),
            Err(error) => {
                tracing::warn!(%error, "reading a leaderboard failed");
                Err(ErrorCode::RecordsUnavailable)
            }
        }
    }

    /// The session's rating in `game` for matchmaking: its stored rating (read from the
    /// database once per session and game, then kept up to date by each commit), or the
    /// session's own rating (token or default) when none is stored, for guests, or when
    /// the database does not answer in time.
    pub(super) async fn match_rating(&self, session: &Session, game: &'static str) -> u16 {
        if let Some(rating) = session.lock().game_rating(game) {
            return rating;
        }
        let storage = &self.shared.storage;
        if !storage.enabled() || session.identity().is_none() {
            return session.lock().rating;
        }
        match storage.rating(&session.player_key(), game).await {
            Ok(Some(rating)) => {
                session.lock().set_game_rating(game, rating);
                rating
            }
            Ok(None) => session.lock().rating,
            Err(error) => {
                tracing::debug!(%error, "no stored rating; matching with the session's");
                session.lock().rating
            }
        }
    }
}

/// The record of `game`, with each session's player looked up in `sessions`.
pub(super) fn record_of(game: FinishedGame, sessions: &SessionTable) -> MatchRecord {
    let ended_at_ms = crate::storage::now_ms();
    let ticks = game.ticks();
    let played_ms = ticks.saturating_mul(1000) / u64::from(game.tick_hz.max(1));
    let with_bot = game.players.iter().any(|seat| seat.bot);
    let players = game
        .players
        .iter()
        .map(|seat| {
            if seat.bot {
                // A server bot is no player: one key per game, never rated (the game is
                // unranked below), and not a guest (guests' rows are pruned and their seats
                // renamed; the bot's one row stays).
                return MatchPlayer {
                    seat: seat.seat,
                    player_key: player_key_bot(game.game),
                    session: seat.session,
                    display_name: "bot".to_string(),
                    guest: false,
                };
            }
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
        id: MatchId::from(game.room),
        game: game.game.to_string(),
        // A game against a server bot moves nobody's rating.
        ranked: (game.public || game.settings.ranked) && !game.settings.relay && !with_bot,
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

/// Longest a `RatingChanged` waits for the player's connection to write something else
/// (see [`Notifier`]).
pub(crate) const RATING_CHANGED_WAIT: Duration = Duration::from_millis(100);

/// Tells players of their committed results.
///
/// A `RatingChanged` is in no hurry: it is pushed unhurried
/// ([`Outbox::push_unhurried`](crate::outbox::Outbox::push_unhurried)), so it rides on
/// the player's next frame (they are usually in their next game by the time their last
/// one is committed) instead of costing a write of its own, and is sent by itself after
/// [`RATING_CHANGED_WAIT`] if nothing else went out. One timer per committed batch, not
/// one per player.
pub(super) struct Notifier {
    pub(super) sessions: Arc<SessionTable>,
}

impl ResultListener for Notifier {
    fn committed(&self, results: &[Committed]) {
        let mut waiting = Vec::new();
        for result in results {
            for seat in &result.seats {
                let Some(session) = self.sessions.get(seat.session) else {
                    continue;
                };
                let mut state = session.lock();
                state.set_game_rating(&result.game, seat.rating);
                if let Some(outbox) = state.outbox() {
                    let pushed = outbox.push_msg_unhurried(&ServerMsg::RatingChanged {
                        match_id: result.match_id,
                        game: result.game.clone(),
                        previous: seat.previous,
                        rating: seat.rating,
                    });
                    if pushed {
                        waiting.push(outbox.clone());
                    }
                }
            }
        }
        if !waiting.is_empty() {
            tokio::spawn(async move {
                tokio::time::sleep(RATING_CHANGED_WAIT).await;
                for outbox in waiting {
                    outbox.hurry();
                }
            });
        }
    }
}
