//! The results writer: one task that takes finished games from the bounded queue and
//! writes them, a batch per transaction, retrying while the database is unreachable (the
//! policy is in the [module documentation](super)).

use std::sync::Arc;
use std::time::Duration;

use sqlx::AnyConnection;
use tokio::sync::mpsc;
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

use super::rating::{Glicko2Rating, SeatResult, display_rating, new_ratings};
use super::record::{MatchRecord, now_ms, reason_name};
use super::stats::DropReason;
use super::{BATCH, Db, FLUSH_GRACE, WRITE_TIMEOUT};
use crate::protocol::{Seat, SessionId};

/// First wait before a retry; it doubles up to [`MAX_BACKOFF`].
const FIRST_BACKOFF: Duration = Duration::from_millis(100);
/// Longest wait between retries.
const MAX_BACKOFF: Duration = Duration::from_secs(5);

/// One player's rating change in a committed match.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CommittedSeat {
    /// The seat played.
    pub seat: Seat,
    /// The session that played it.
    pub session: SessionId,
    /// The player's key.
    pub player_key: String,
    /// The rating before the game.
    pub previous: u16,
    /// The rating after it.
    pub rating: u16,
}

/// A match that is now durable.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Committed {
    /// The match id.
    pub match_id: u64,
    /// The game's name.
    pub game: String,
    /// The rating changes; empty for a game that moves no ratings.
    pub seats: Vec<CommittedSeat>,
}

/// Hears of every match once it is committed (the lobby: it tells the players). Called
/// on the writer task; must not block.
pub trait ResultListener: Send + Sync + 'static {
    /// `result` is durable.
    fn committed(&self, result: &Committed);
}

pub(super) struct Writer {
    db: Arc<Db>,
    listener: Arc<dyn ResultListener>,
    /// Set once the server shuts down: retries stop at this instant.
    flush_deadline: Option<Instant>,
}

/// Whether `error` may go away by itself (the database is unreachable, busy or slow), so
/// that the same write should be tried again.
fn transient(error: &sqlx::Error) -> bool {
    match error {
        sqlx::Error::Io(_)
        | sqlx::Error::Tls(_)
        | sqlx::Error::Protocol(_)
        | sqlx::Error::PoolTimedOut
        | sqlx::Error::WorkerCrashed => true,
        sqlx::Error::Database(db) => {
            if db.try_downcast_ref::<sqlx::sqlite::SqliteError>().is_some() {
                let code: i64 = db.code().and_then(|c| c.parse().ok()).unwrap_or_default();
                // BUSY, LOCKED, IOERR, FULL, CANTOPEN (primary codes, low byte).
                matches!(code & 0xff, 5 | 6 | 10 | 13 | 14)
            } else {
                // PostgreSQL: connection exceptions, insufficient resources, operator
                // intervention, serialization failure and deadlock.
                db.code().is_some_and(|code| {
                    ["08", "53", "57", "40"]
                        .iter()
                        .any(|class| code.starts_with(class))
                })
            }
        }
        _ => false,
    }
}

/// What one attempt at writing a batch came to.
enum Attempt {
    Done(Vec<Committed>),
    /// Transient failure: try the same again later.
    Again,
    /// The database refused it.
    Refused(sqlx::Error),
}

impl Writer {
    pub(super) fn new(db: Arc<Db>, listener: Arc<dyn ResultListener>) -> Writer {
        Writer {
            db,
            listener,
            flush_deadline: None,
        }
    }

    pub(super) async fn run(
        mut self,
        mut queue: mpsc::Receiver<MatchRecord>,
        shutdown: CancellationToken,
    ) {
        let mut batch = Vec::with_capacity(BATCH);
        loop {
            if self.flush_deadline.is_none() {
                tokio::select! {
                    biased;
                    _ = shutdown.cancelled() => {
                        self.flush_deadline = Some(Instant::now() + FLUSH_GRACE);
                        queue.close();
                        continue;
                    }
                    n = queue.recv_many(&mut batch, BATCH) => if n == 0 { return },
                }
            } else {
                while batch.len() < BATCH {
                    match queue.try_recv() {
                        Ok(record) => batch.push(record),
                        Err(_) => break,
                    }
                }
                if batch.is_empty() {
                    return;
                }
            }
            if !self.write_batch(&mut batch, &shutdown).await {
                break;
            }
        }
        // Out of time after a shutdown: count what is left.
        let mut left = batch.len();
        while queue.try_recv().is_ok() {
            left += 1;
        }
        if left > 0 {
            self.db.stats.dropped(DropReason::Shutdown, left);
            self.db.stats.taken(left);
            tracing::warn!(
                results = left,
                "the server stopped before these finished games could be written"
            );
        }
    }

    /// Writes `batch` until it is committed or dropped (then empties it and returns
    /// `true`), or until the flush deadline passes (returns `false`, `batch` untouched).
    async fn write_batch(
        &mut self,
        batch: &mut Vec<MatchRecord>,
        shutdown: &CancellationToken,
    ) -> bool {
        let mut backoff = FIRST_BACKOFF;
        loop {
            match self.attempt(batch).await {
                Attempt::Done(committed) => {
                    self.done(batch.len(), &committed);
                    batch.clear();
                    return true;
                }
                Attempt::Refused(error) if batch.len() == 1 => {
                    self.db.stats.dropped(DropReason::Refused, 1);
                    self.db.stats.taken(1);
                    tracing::error!(
                        match_id = batch[0].id,
                        %error,
                        "the database refused a finished game; it is not recorded"
                    );
                    batch.clear();
                    return true;
                }
                Attempt::Refused(error) => {
                    // Find the record at fault: one at a time, each in its own batch.
                    tracing::warn!(%error, records = batch.len(), "a batch was refused; writing its records one by one");
                    let records: Vec<MatchRecord> = std::mem::take(batch);
                    let mut records = records.into_iter();
                    while let Some(record) = records.next() {
                        let mut one = vec![record];
                        if !Box::pin(self.write_batch(&mut one, shutdown)).await {
                            batch.extend(one);
                            batch.extend(records);
                            return false;
                        }
                    }
                    return true;
                }
                Attempt::Again => {}
            }
            if shutdown.is_cancelled() && self.flush_deadline.is_none() {
                self.flush_deadline = Some(Instant::now() + FLUSH_GRACE);
            }
            if let Some(deadline) = self.flush_deadline
                && Instant::now() + backoff > deadline
            {
                return false;
            }
            tokio::time::sleep(backoff).await;
            self.db.stats.retried();
            backoff = (backoff * 2).min(MAX_BACKOFF);
        }
    }

    fn done(&self, records: usize, committed: &[Committed]) {
        self.db.stats.committed(records);
        self.db.stats.taken(records);
        for result in committed {
            self.listener.committed(result);
        }
    }

    async fn attempt(&self, batch: &[MatchRecord]) -> Attempt {
        let result = match tokio::time::timeout(WRITE_TIMEOUT, self.write(batch)).await {
            Ok(result) => result,
            Err(_) => {
                self.db.stats.failed();
                tracing::warn!(
                    records = batch.len(),
                    timeout_s = WRITE_TIMEOUT.as_secs(),
                    "writing results timed out; retrying"
                );
                return Attempt::Again;
            }
        };
        match result {
            Ok(committed) => Attempt::Done(committed),
            Err(error) => {
                self.db.stats.failed();
                if transient(&error) {
                    tracing::warn!(%error, records = batch.len(), "writing results failed; retrying");
                    Attempt::Again
                } else {
                    Attempt::Refused(error)
                }
            }
        }
    }

    /// One transaction: every record of `batch`, then the commit.
    async fn write(&self, batch: &[MatchRecord]) -> Result<Vec<Committed>, sqlx::Error> {
        let mut tx = self.db.pool.begin().await?;
        let mut committed = Vec::with_capacity(batch.len());
        for record in batch {
            committed.push(write_match(&mut tx, record).await?);
        }
        tx.commit().await?;
        Ok(committed)
    }
}

/// Writes one match, its players and (when rated) their new ratings, inside the caller's
/// transaction. A match id already stored is not written again: its stored result is
/// returned (a retry after a commit whose answer was lost).
async fn write_match(
    conn: &mut AnyConnection,
    record: &MatchRecord,
) -> Result<Committed, sqlx::Error> {
    let settings = serde_json::to_string(&record.settings).unwrap_or_else(|_| "{}".into());
    let inserted = sqlx::query(
        "INSERT INTO matches (id, game, settings, ranked, public, started_at_ms, ended_at_ms, \
         ticks, tick_hz, winner_seat, reason, replay) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12) ON CONFLICT (id) DO NOTHING",
    )
    .bind(record.id as i64)
    .bind(&record.game)
    .bind(settings)
    .bind(i64::from(record.ranked))
    .bind(i64::from(record.public))
    .bind(record.started_at_ms)
    .bind(record.ended_at_ms)
    .bind(i64::try_from(record.ticks).unwrap_or(i64::MAX))
    .bind(i64::from(record.tick_hz))
    .bind(record.winner.map(i64::from))
    .bind(reason_name(record.reason))
    .bind(record.replay.as_ref().map(|replay| replay.to_vec()))
    .execute(&mut *conn)
    .await?
    .rows_affected();
    if inserted == 0 {
        return stored_result(conn, record).await;
    }
    let now = now_ms();
    for player in &record.players {
        sqlx::query(
            "INSERT INTO players (player_key, display_name, guest, created_at_ms, seen_at_ms) \
             VALUES ($1, $2, $3, $4, $4) ON CONFLICT (player_key) DO UPDATE \
             SET display_name = excluded.display_name, seen_at_ms = excluded.seen_at_ms",
        )
        .bind(&player.player_key)
        .bind(&player.display_name)
        .bind(i64::from(player.guest))
        .bind(now)
        .execute(&mut *conn)
        .await?;
    }
    let results: Vec<SeatResult> = record
        .players
        .iter()
        .map(|p| SeatResult::of(p.seat, record.winner))
        .collect();
    let mut before = Vec::new();
    let mut after = Vec::new();
    if record.rated() {
        for player in &record.players {
            let stored: Option<(f64, f64, f64)> = sqlx::query_as(
                "SELECT rating, deviation, volatility FROM ratings \
                 WHERE player_key = $1 AND game = $2",
            )
            .bind(&player.player_key)
            .bind(&record.game)
            .fetch_optional(&mut *conn)
            .await?;
            before.push(
                stored.map_or_else(Glicko2Rating::new, |(r, d, v)| Glicko2Rating {
                    rating: r,
                    deviation: d,
                    volatility: v,
                }),
            );
        }
        let inputs: Vec<_> = before
            .iter()
            .copied()
            .zip(results.iter().copied())
            .collect();
        after = new_ratings(&inputs);
        for ((player, rating), result) in record.players.iter().zip(&after).zip(&results) {
            let count = |r: SeatResult| i64::from(*result == r);
            sqlx::query(
                "INSERT INTO ratings (player_key, game, rating, deviation, volatility, games, \
                 wins, losses, draws, updated_at_ms) \
                 VALUES ($1, $2, $3, $4, $5, 1, $6, $7, $8, $9) \
                 ON CONFLICT (player_key, game) DO UPDATE SET rating = excluded.rating, \
                 deviation = excluded.deviation, volatility = excluded.volatility, \
                 games = ratings.games + 1, wins = ratings.wins + excluded.wins, \
                 losses = ratings.losses + excluded.losses, \
                 draws = ratings.draws + excluded.draws, updated_at_ms = excluded.updated_at_ms",
            )
            .bind(&player.player_key)
            .bind(&record.game)
            .bind(rating.rating)
            .bind(rating.deviation)
            .bind(rating.volatility)
            .bind(count(SeatResult::Win))
            .bind(count(SeatResult::Loss))
            .bind(count(SeatResult::Draw))
            .bind(now)
            .execute(&mut *conn)
            .await?;
        }
    }
    let mut seats = Vec::new();
    for (i, (player, result)) in record.players.iter().zip(&results).enumerate() {
        let (previous, rating) = (before.get(i), after.get(i));
        sqlx::query(
            "INSERT INTO match_players (match_id, seat, player_key, session_id, display_name, \
             result, rating_before, rating_after) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
        )
        .bind(record.id as i64)
        .bind(i64::from(player.seat))
        .bind(&player.player_key)
        .bind(player.session as i64)
        .bind(&player.display_name)
        .bind(result.name())
        .bind(previous.map(|r| r.rating))
        .bind(rating.map(|r| r.rating))
        .execute(&mut *conn)
        .await?;
        if let (Some(previous), Some(rating)) = (previous, rating) {
            seats.push(CommittedSeat {
                seat: player.seat,
                session: player.session,
                player_key: player.player_key.clone(),
                previous: display_rating(previous.rating),
                rating: display_rating(rating.rating),
            });
        }
    }
    Ok(Committed {
        match_id: record.id,
        game: record.game.clone(),
        seats,
    })
}

/// The committed result of a match already stored.
async fn stored_result(
    conn: &mut AnyConnection,
    record: &MatchRecord,
) -> Result<Committed, sqlx::Error> {
    /// Seat, session, player key, rating before and after.
    type SeatRow = (i64, i64, String, Option<f64>, Option<f64>);
    let rows: Vec<SeatRow> = sqlx::query_as(
        "SELECT seat, session_id, player_key, rating_before, rating_after FROM match_players \
         WHERE match_id = $1 ORDER BY seat",
    )
    .bind(record.id as i64)
    .fetch_all(&mut *conn)
    .await?;
    let seats = rows
        .into_iter()
        .filter_map(|(seat, session, player_key, before, after)| {
            Some(CommittedSeat {
                seat: Seat::try_from(seat).ok()?,
                session: session as u64,
                player_key,
                previous: display_rating(before?),
                rating: display_rating(after?),
            })
        })
        .collect();
    Ok(Committed {
        match_id: record.id,
        game: record.game.clone(),
        seats,
    })
}
