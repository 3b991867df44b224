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
use super::{BATCH, Backend, Db, FLUSH_GRACE, GATHER, WRITE_TIMEOUT};
use crate::protocol::{Seat, SessionId};

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
    pub match_id: u64,
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
                let gathered = Instant::now() + GATHER;
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
                self.db.stats.pruned(pruned);
                if pruned > 0 {
                    self.known = Known::new(self.db.backend);
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

    async fn attempt(&mut self, batch: &[MatchRecord]) -> Attempt {
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
    async fn write(&mut self, batch: &[MatchRecord]) -> Result<Vec<Committed>, sqlx::Error> {
        let now = now_ms();
        self.known.expire(now);
        // Until this batch is known to be committed or not, nothing is remembered.
        let known = std::mem::take(&mut self.known);
        let mut tx = self.db.writes.begin().await;
        let result = match &mut tx {
            Ok(tx) => write_records(tx, self.db.backend, batch, now, &known).await,
            Err(_) => Ok((Vec::new(), Written::default())),
        };
        let outcome = async {
            let tx = tx?;
            let (committed, written) = result?;
            tx.commit().await?;
            Ok::<_, sqlx::Error>((committed, written))
        }
        .await;
        match outcome {
            Ok((committed, written)) => {
                self.known = known;
                self.known.remember(written, now);
                Ok(committed)
            }
            Err(error) => {
                // The commit may have happened or not: forget what this writer knew
                // rather than build on a guess.
                self.known = Known::new(self.db.backend);
                Err(error)
            }
        }
    }
}

/// How long a committed player row counts as fresh: a player in a later batch within this
/// time is not written again (their name is the same), so `players.seen_at_ms` is exact
/// to this much. A returning player of a busy server would otherwise rewrite their row
/// once per batch, several times a second.
const SEEN_REFRESH_MS: i64 = 60_000;
/// Most rows [`Known`] remembers of each kind; past it that memory starts again empty.
const KNOWN_ROWS: usize = 100_000;

/// What the writer committed lately, so that the next batches need not read or write it
/// again:
///
/// - **players**: key, display name and when the row was written (see
///   [`SEEN_REFRESH_MS`]);
/// - **ratings** (SQLite only): each (player, game)'s rating as last committed, so the
///   batch reads only the ratings of players it has not seen. Sound because this writer
///   is the only one writing an SQLite file's ratings; PostgreSQL may be shared by
///   several servers, so there every batch reads them.
///
/// Taken out while a batch is written and put back only once it is committed; after a
/// failed attempt (the commit may or may not have happened) it starts again empty.
#[derive(Debug, Default)]
struct Known {
    players: std::collections::HashMap<String, (String, i64)>,
    ratings: Option<std::collections::HashMap<(String, String), Glicko2Rating>>,
}

/// The rows a batch wrote, for [`Known`].
#[derive(Debug, Default)]
struct Written {
    players: Vec<(String, String)>,
    ratings: Vec<((String, String), Glicko2Rating)>,
}

impl Known {
    fn new(backend: Backend) -> Known {
        Known {
            players: Default::default(),
            ratings: (backend == Backend::Sqlite).then(Default::default),
        }
    }

    /// Forgets player rows older than [`SEEN_REFRESH_MS`].
    fn expire(&mut self, now: i64) {
        self.players
            .retain(|_, (_, at)| now - *at < SEEN_REFRESH_MS);
    }

    /// Whether `key` was written lately under `name`.
    fn player(&self, key: &str, name: &str) -> bool {
        self.players
            .get(key)
            .is_some_and(|(known, _)| known == name)
    }

    /// The committed rating of `key` in `game`, if known.
    fn rating(&self, key: &str, game: &str) -> Option<Glicko2Rating> {
        // A borrowed (&str, &str) cannot look up a (String, String) key; the ratings
        // map is small enough per batch that building the key costs little.
        let ratings = self.ratings.as_ref()?;
        ratings.get(&(key.to_string(), game.to_string())).copied()
    }

    /// `written` was committed at `now`.
    fn remember(&mut self, written: Written, now: i64) {
        if self.players.len() + written.players.len() > KNOWN_ROWS {
            self.players.clear();
        }
        for (key, name) in written.players {
            self.players.insert(key, (name, now));
        }
        if let Some(ratings) = &mut self.ratings {
            if ratings.len() + written.ratings.len() > KNOWN_ROWS {
                ratings.clear();
            }
            ratings.extend(written.ratings);
        }
    }
}

/// Most rows one multi-row statement carries (SQLite allows 32766 parameters).
const ROWS_PER_STATEMENT: usize = 500;

/// `rows` groups of `columns` placeholders, `(.., ..), (.., ..)`: numbered (`$1`) for
/// PostgreSQL, anonymous (`?`) for SQLite, whose lookup of a numbered parameter's name
/// walks every name before it (measured: 40% of the server's CPU with 500-row
/// statements numbered `$N`).
fn placeholders(backend: Backend, rows: usize, columns: usize) -> String {
    let mut sql = String::with_capacity(rows * columns * 5);
    for row in 0..rows {
        if row > 0 {
            sql.push_str(", ");
        }
        sql.push('(');
        for column in 0..columns {
            if column > 0 {
                sql.push_str(", ");
            }
            match backend {
                Backend::Sqlite => sql.push('?'),
                Backend::Postgres => sql.push_str(&format!("${}", row * columns + column + 1)),
            }
        }
        sql.push(')');
    }
    sql
}

/// `n` placeholders for an `IN (...)` list.
fn in_list(backend: Backend, n: usize) -> String {
    let one_row = placeholders(backend, 1, n);
    one_row[1..one_row.len() - 1].to_string()
}

/// A rating as it stands while a batch is written: the stored one (or a new player's),
/// updated by each rated game of the batch in order, with the games it added.
#[derive(Debug, Clone, Copy)]
struct Standing {
    rating: Glicko2Rating,
    games: i64,
    wins: i64,
    losses: i64,
    draws: i64,
}

impl Standing {
    /// `rating`, before any game of this batch.
    fn of(rating: Glicko2Rating) -> Standing {
        Standing {
            rating,
            games: 0,
            wins: 0,
            losses: 0,
            draws: 0,
        }
    }
}

/// Writes a batch inside the caller's transaction, in a handful of multi-row statements
/// (one per table, not one per row): the matches not yet stored, their players, the
/// ratings of rated games (read once, updated in memory game by game in the batch's
/// order, written once), and the seats with their ratings before and after. A match id
/// already stored is not written again; its stored result is returned (a retry after a
/// commit whose answer was lost).
async fn write_records(
    conn: &mut AnyConnection,
    backend: Backend,
    batch: &[MatchRecord],
    now: i64,
    known: &Known,
) -> Result<(Vec<Committed>, Written), sqlx::Error> {
    // Match ids already stored.
    let mut stored = std::collections::HashSet::new();
    for chunk in batch.chunks(ROWS_PER_STATEMENT) {
        let sql = format!(
            "SELECT id FROM matches WHERE id IN ({})",
            in_list(backend, chunk.len())
        );
        let mut query = sqlx::query_as::<_, (i64,)>(&sql);
        for record in chunk {
            query = query.bind(record.id as i64);
        }
        for (id,) in query.fetch_all(&mut *conn).await? {
            stored.insert(id as u64);
        }
    }
    let mut fresh: Vec<&MatchRecord> = Vec::with_capacity(batch.len());
    let mut fresh_ids = std::collections::HashSet::with_capacity(batch.len());
    for record in batch {
        if !stored.contains(&record.id) && fresh_ids.insert(record.id) {
            fresh.push(record);
        }
    }
    for chunk in fresh.chunks(ROWS_PER_STATEMENT) {
        let sql = format!(
            "INSERT INTO matches (id, game, settings, ranked, public, started_at_ms, \
             ended_at_ms, ticks, tick_hz, winner_seat, reason, replay) VALUES {}",
            placeholders(backend, chunk.len(), 12)
        );
        let mut query = sqlx::query(&sql);
        for record in chunk {
            let settings = serde_json::to_string(&record.settings).unwrap_or_else(|_| "{}".into());
            query = query
                .bind(record.id as i64)
                .bind(record.game.as_str())
                .bind(settings)
                .bind(i64::from(record.ranked))
                .bind(i64::from(record.public))
                .bind(record.started_at_ms)
                .bind(record.ended_at_ms)
                .bind(i64::try_from(record.ticks).unwrap_or(i64::MAX))
                .bind(i64::from(record.tick_hz))
                .bind(record.winner.map(i64::from))
                .bind(reason_name(record.reason))
                .bind(record.replay.as_deref());
        }
        query.execute(&mut *conn).await?;
    }

    // Players: one row per key (a statement may not upsert the same row twice), except
    // rows committed lately with the same name.
    let mut players: Vec<(&str, &str, bool)> = Vec::new();
    let mut seen = std::collections::HashMap::new();
    for player in fresh.iter().flat_map(|r| &r.players) {
        if known.player(&player.player_key, &player.display_name) {
            continue;
        }
        let row = (
            player.player_key.as_str(),
            player.display_name.as_str(),
            player.guest,
        );
        match seen.get(player.player_key.as_str()) {
            Some(&i) => players[i] = row,
            None => {
                seen.insert(player.player_key.as_str(), players.len());
                players.push(row);
            }
        }
    }
    for chunk in players.chunks(ROWS_PER_STATEMENT) {
        let sql = format!(
            "INSERT INTO players (player_key, display_name, guest, created_at_ms, seen_at_ms) \
             VALUES {} ON CONFLICT (player_key) DO UPDATE \
             SET display_name = excluded.display_name, seen_at_ms = excluded.seen_at_ms",
            placeholders(backend, chunk.len(), 5)
        );
        let mut query = sqlx::query(&sql);
        for (key, name, guest) in chunk {
            query = query
                .bind(*key)
                .bind(*name)
                .bind(i64::from(*guest))
                .bind(now)
                .bind(now);
        }
        query.execute(&mut *conn).await?;
    }

    // Ratings of every player of a rated game, read once.
    let mut standings: std::collections::HashMap<(String, String), Standing> =
        std::collections::HashMap::new();
    let rated_keys: Vec<(&str, &str)> = fresh
        .iter()
        .filter(|r| r.rated())
        .flat_map(|r| {
            r.players
                .iter()
                .map(|p| (p.player_key.as_str(), r.game.as_str()))
        })
        .collect::<std::collections::BTreeSet<_>>()
        .into_iter()
        .filter(|&(key, game)| match known.rating(key, game) {
            Some(rating) => {
                standings.insert((key.to_string(), game.to_string()), Standing::of(rating));
                false
            }
            None => true,
        })
        .collect();
    for chunk in rated_keys.chunks(ROWS_PER_STATEMENT) {
        let sql = format!(
            "SELECT player_key, game, rating, deviation, volatility FROM ratings \
             WHERE player_key IN ({})",
            in_list(backend, chunk.len())
        );
        let mut query = sqlx::query_as::<_, (String, String, f64, f64, f64)>(&sql);
        for (key, _) in chunk {
            query = query.bind(*key);
        }
        for (key, game, rating, deviation, volatility) in query.fetch_all(&mut *conn).await? {
            let rating = Glicko2Rating {
                rating,
                deviation,
                volatility,
            };
            // Only the games this batch rates; a stored rating in another game must
            // not be mistaken for one that moved.
            standings.entry((key, game)).or_insert(Standing::of(rating));
        }
    }

    // Each rated game in order, on the standings so far.
    let mut committed = Vec::with_capacity(batch.len());
    let mut seat_rows = Vec::new();
    for record in &fresh {
        let results: Vec<SeatResult> = record
            .players
            .iter()
            .map(|p| SeatResult::of(p.seat, record.winner))
            .collect();
        let mut before = Vec::new();
        let mut after = Vec::new();
        if record.rated() {
            for player in &record.players {
                let key = (player.player_key.clone(), record.game.clone());
                let standing = standings
                    .entry(key)
                    .or_insert(Standing::of(Glicko2Rating::new()));
                before.push(standing.rating);
            }
            let inputs: Vec<_> = before
                .iter()
                .copied()
                .zip(results.iter().copied())
                .collect();
            after = new_ratings(&inputs);
            for ((player, rating), result) in record.players.iter().zip(&after).zip(&results) {
                let key = (player.player_key.clone(), record.game.clone());
                if let Some(standing) = standings.get_mut(&key) {
                    standing.rating = *rating;
                    standing.games += 1;
                    match result {
                        SeatResult::Win => standing.wins += 1,
                        SeatResult::Loss => standing.losses += 1,
                        SeatResult::Draw => standing.draws += 1,
                    }
                }
            }
        }
        let mut seats = Vec::new();
        for (i, (player, result)) in record.players.iter().zip(&results).enumerate() {
            let (previous, rating) = (before.get(i).copied(), after.get(i).copied());
            seat_rows.push((record.id, player, *result, previous, rating));
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
        committed.push(Committed {
            match_id: record.id,
            game: record.game.clone(),
            seats,
        });
    }

    // The ratings that moved, written once each.
    let moved: Vec<(&(String, String), &Standing)> =
        standings.iter().filter(|(_, s)| s.games > 0).collect();
    for chunk in moved.chunks(ROWS_PER_STATEMENT) {
        let sql = format!(
            "INSERT INTO ratings (player_key, game, rating, deviation, volatility, games, \
             wins, losses, draws, updated_at_ms) VALUES {} \
             ON CONFLICT (player_key, game) DO UPDATE SET rating = excluded.rating, \
             deviation = excluded.deviation, volatility = excluded.volatility, \
             games = ratings.games + excluded.games, wins = ratings.wins + excluded.wins, \
             losses = ratings.losses + excluded.losses, \
             draws = ratings.draws + excluded.draws, updated_at_ms = excluded.updated_at_ms",
            placeholders(backend, chunk.len(), 10)
        );
        let mut query = sqlx::query(&sql);
        for ((key, game), standing) in chunk {
            query = query
                .bind(key.as_str())
                .bind(game.as_str())
                .bind(standing.rating.rating)
                .bind(standing.rating.deviation)
                .bind(standing.rating.volatility)
                .bind(standing.games)
                .bind(standing.wins)
                .bind(standing.losses)
                .bind(standing.draws)
                .bind(now);
        }
        query.execute(&mut *conn).await?;
    }

    for chunk in seat_rows.chunks(ROWS_PER_STATEMENT) {
        let sql = format!(
            "INSERT INTO match_players (match_id, seat, player_key, session_id, display_name, \
             result, rating_before, rating_after) VALUES {}",
            placeholders(backend, chunk.len(), 8)
        );
        let mut query = sqlx::query(&sql);
        for (match_id, player, result, previous, rating) in chunk {
            query = query
                .bind(*match_id as i64)
                .bind(i64::from(player.seat))
                .bind(player.player_key.as_str())
                .bind(player.session as i64)
                .bind(player.display_name.as_str())
                .bind(result.name())
                .bind(previous.map(|r| r.rating))
                .bind(rating.map(|r| r.rating));
        }
        query.execute(&mut *conn).await?;
    }

    // A match given twice in this batch: the same answer again.
    let written = committed.len();
    let mut firsts = std::collections::HashSet::new();
    for record in batch {
        if !stored.contains(&record.id)
            && !firsts.insert(record.id)
            && let Some(first) = committed[..written]
                .iter()
                .find(|c| c.match_id == record.id)
        {
            committed.push(first.clone());
        }
    }
    // Matches that were already stored: their stored result.
    for record in batch {
        if stored.contains(&record.id) {
            committed.push(stored_result(conn, record).await?);
        }
    }
    let written = Written {
        players: players
            .into_iter()
            .map(|(key, name, _)| (key.to_string(), name.to_string()))
            .collect(),
        ratings: standings
            .into_iter()
            .filter(|(_, s)| s.games > 0)
            .map(|(key, s)| (key, s.rating))
            .collect(),
    };
    Ok((committed, written))
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
