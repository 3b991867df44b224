//! The results writer: one task that takes finished games from the bounded queue and
//! writes them, a batch per transaction, retrying while the database is unreachable (the
//! policy is in the [module documentation](super)).

use std::sync::Arc;
use std::time::Duration;

use tokio::sync::mpsc;
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

use super::batch::write_records;
use super::history;
use super::known::Known;
use super::record::{MatchRecord, now_ms};
use super::stats::DropReason;
use super::{BATCH, Db, FLUSH_GRACE, WRITE_TIMEOUT};
use crate::protocol::{MatchId, Seat, SessionId};

/// First wait before a retry; it doubles up to [`MAX_BACKOFF`].
const FIRST_BACKOFF: Duration = Duration::from_millis(100);
/// Longest wait between retries.
const MAX_BACKOFF: Duration = Duration::from_secs(5);
/// When the writer first prunes guests after it starts.
const FIRST_PRUNE: Duration = Duration::from_secs(60);

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
    pub match_id: MatchId,
    /// The game's name.
    pub game: String,
    /// The rating changes; empty for a game that moves no ratings.
    pub seats: Vec<CommittedSeat>,
}

/// Hears of every match once it is committed (the lobby: it tells the players). Called
/// on the writer task, inside the tokio runtime, once per committed transaction; must
/// not block.
pub trait ResultListener: Send + Sync + 'static {
    /// `results` are durable, in the order the games were submitted.
    fn committed(&self, results: &[Committed]);
}

pub(super) struct Writer {
    db: Arc<Db>,
    listener: Arc<dyn ResultListener>,
    /// What this writer has committed lately (see [`Known`]).
    known: Known,
    /// Set once the server shuts down: retries stop at this instant.
    flush_deadline: Option<Instant>,
    /// Rows in `recent_players` as far as this writer knows; it starts at
    /// [`history::MERGE_ROWS`] so that the first batch moves what an earlier process left.
    staged: usize,
    /// [`Db::prunes`](super::Db::prunes) when `known` was last checked against it.
    prunes_seen: u64,
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
            known: Known::new(db.backend),
            db,
            listener,
            flush_deadline: None,
            staged: history::MERGE_ROWS,
            prunes_seen: 0,
        }
    }

    pub(super) async fn run(
        mut self,
        mut queue: mpsc::Receiver<MatchRecord>,
        shutdown: CancellationToken,
    ) {
        let mut batch = Vec::with_capacity(BATCH);
        // The first pruning soon after start (not during it), then every PRUNE_EVERY.
        let mut next_prune = self
            .db
            .guest_retention
            .map(|_| Instant::now() + FIRST_PRUNE);
        loop {
            if self.flush_deadline.is_none() {
                let prune_due = async {
                    match next_prune {
                        Some(at) => tokio::time::sleep_until(at).await,
                        None => std::future::pending().await,
                    }
                };
                tokio::select! {
                    biased;
                    _ = shutdown.cancelled() => {
                        self.flush_deadline = Some(Instant::now() + FLUSH_GRACE);
                        queue.close();
                        continue;
                    }
                    n = queue.recv_many(&mut batch, BATCH) => if n == 0 { return },
                    _ = prune_due => {
                        self.prune().await;
                        next_prune = Some(Instant::now() + super::PRUNE_EVERY);
                        continue;
                    }
                }
                // Gather for a moment: one transaction for many games dirties each
                // index page once instead of once per few games.
                let gathered = Instant::now() + self.db.gather;
                while batch.len() < BATCH {
                    let room = BATCH - batch.len();
                    tokio::select! {
                        _ = tokio::time::sleep_until(gathered) => break,
                        _ = shutdown.cancelled() => break,
                        n = queue.recv_many(&mut batch, room) => if n == 0 { break },
                    }
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
            if !self.write_batch(&mut batch, &shutdown, false).await {
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
    ///
    /// The first attempt looks up no stored match ids unless `check_stored` (see
    /// [`write_records`]); after any failure (an id already stored, or a commit whose
    /// answer was lost) every later attempt does.
    async fn write_batch(
        &mut self,
        batch: &mut Vec<MatchRecord>,
        shutdown: &CancellationToken,
        mut check_stored: bool,
    ) -> bool {
        let mut backoff = FIRST_BACKOFF;
        loop {
            let checked = check_stored;
            check_stored = true;
            match self.attempt(batch, checked).await {
                // Perhaps a match id already stored: at once, looking for it this time.
                Attempt::Refused(error) if !checked => {
                    tracing::debug!(%error, records = batch.len(), "a batch was refused; trying it again, skipping match ids already stored");
                    self.db.stats.retried();
                    continue;
                }
                Attempt::Done(committed) => {
                    self.done(batch.len(), &committed);
                    batch.clear();
                    return true;
                }
                Attempt::Refused(error) if batch.len() == 1 => {
                    self.db.stats.dropped(DropReason::Refused, 1);
                    self.db.stats.taken(1);
                    tracing::error!(
                        match_id = batch[0].id.get(),
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
                        if !Box::pin(self.write_batch(&mut one, shutdown, true)).await {
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

    /// Prunes the guests not seen for the retention (see `storage::prune`); what this
    /// writer remembers of players and ratings starts again, as pruned rows are gone.
    async fn prune(&mut self) {
        let Some(retention) = self.db.guest_retention else {
            return;
        };
        let retention_ms = i64::try_from(retention.as_millis()).unwrap_or(i64::MAX);
        let cutoff = now_ms().saturating_sub(retention_ms);
        match super::prune::prune_guests(&self.db, cutoff).await {
            Ok(pruned) => {
                // Pruning moved `recent_players` into `player_matches` first.
                self.staged = 0;
                self.db.stats.pruned(pruned);
                if pruned > 0 {
                    self.known.forget();
                    tracing::info!(pruned, "pruned guests not seen within the retention");
                }
            }
            Err(error) => {
                tracing::warn!(%error, "pruning guests failed; trying again at the next turn");
            }
        }
    }

    fn done(&self, records: usize, committed: &[Committed]) {
        self.db.stats.committed(records);
        self.db.stats.taken(records);
        if !committed.is_empty() {
            self.listener.committed(committed);
        }
    }

    async fn attempt(&mut self, batch: &[MatchRecord], check_stored: bool) -> Attempt {
        let result = tokio::time::timeout(WRITE_TIMEOUT, self.write(batch, check_stored)).await;
        if !matches!(result, Ok(Ok(_))) {
            // The commit may have happened or not: forget what this writer knew rather
            // than build on a guess.
            self.known.forget();
        }
        let result = match result {
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
    async fn write(
        &mut self,
        batch: &[MatchRecord],
        check_stored: bool,
    ) -> Result<Vec<Committed>, sqlx::Error> {
        let now = now_ms();
        self.known.expire(now);
        let mut tx = self.db.writes.begin().await?;
        // Once the transaction holds the connection, no prune runs until it ends (SQLite:
        // the writer's pool has one connection; PostgreSQL checks foreign keys anyway).
        let prunes = self.db.prunes.load(std::sync::atomic::Ordering::Acquire);
        if prunes != self.prunes_seen {
            self.known.forget();
            self.prunes_seen = prunes;
        }
        let (committed, written) = write_records(
            &mut tx,
            self.db.backend,
            batch,
            now,
            &self.known,
            check_stored,
        )
        .await?;
        let staged = self.staged + written.staged;
        let merge = staged >= history::MERGE_ROWS;
        if merge {
            history::merge(&mut tx, self.db.backend).await?;
        }
        tx.commit().await?;
        self.staged = if merge { 0 } else { staged };
        self.known.remember(written, now);
        Ok(committed)
    }
}
