//! Durable results: players, ratings, match history, replays and leaderboards, in an
//! embedded SQLite file by default or in PostgreSQL.
//!
//! - [`Database`]: what `--database` names: `sqlite://PATH` (the default, `./ticksync.db`,
//!   in WAL mode), `postgres://...`, or `none` (nothing is kept; ids restart at 1).
//! - [`Storage`]: the handle. One async access layer for both databases (sqlx's `Any`
//!   driver, plain runtime queries), versioned migrations embedded in the binary
//!   (`migrations/sqlite`, `migrations/postgres`) and applied by [`Storage::open`].
//! - `writer`: the one task that writes finished games (`batch`: one batch's statements;
//!   `known`: what it committed lately; `history`: the history by player); `record`: a finished game as
//!   stored; `rating`: Glicko-2 (the `skillratings` crate) over a game's seats;
//!   `queries`: what the HTTP endpoints and the lobby read; `ids`: ids unique across
//!   restarts; `stats`: the `/metrics` counters.
//!
//! # No database call on a shard's tick
//!
//! A room reports its finished game on its shard's tick; the lobby turns it into a
//! [`MatchRecord`] and calls [`Storage::submit`], which only `try_send`s into the writer's
//! bounded queue (`--database-queue`, default [`DEFAULT_QUEUE`] records) and returns. The
//! writer task takes the first record, gathers more for up to `--database-gather-ms`
//! ([`DEFAULT_GATHER`]; or until it has [`BATCH`]), and writes them in one transaction, a
//! few multi-row statements per table: each match, its players, and (for a ranked game)
//! the players' new ratings, read and written inside that same transaction. Gathering makes one transaction dirty each index
//! page once for hundreds of games instead of once per few: at 1000 tic-tac-toe clients it
//! halved the SQLite thread's CPU (BENCHMARKS.md, "Results storage"); it delays
//! `RatingChanged` by at most that long. Only after the commit does it tell the lobby,
//! which sends each player `RatingChanged`: a player is never told of a result that is not
//! durable.
//!
//! What a finished game costs the writer, and how it is kept small (measured with
//! `cargo bench --bench storage`, CPU per game): the writer has a connection of its own
//! (SQLite has one writer at a time anyway, and a connection that alone writes keeps its
//! page cache valid between batches), SQLite's tables have no B-tree they do not need
//! (`migrations/sqlite/0002_compact_tables.sql`), multi-row statements use anonymous
//! `?` parameters, and a player row committed in the last minute with the same name is
//! not written again (`players.seen_at_ms` is exact to a minute), and the history by
//! player is kept batch by batch in write order (on SQLite one row per batch holding all
//! its pairs, on PostgreSQL appended by a trigger on the seats' table) and moved into its
//! by-player table in bulk (`history`: an index by player took a leaf page per player per
//! batch, most of what the writer wrote). The writer's SQLite connection checks no
//! foreign keys (it writes parents first; see `WRITER_PRAGMAS`), a batch's first attempt
//! looks up no stored match ids (`batch::write_records`), and each statement text is
//! made once per process. A new SQLite file has 16 KiB pages (`SQLITE_PAGE_SIZE`: a
//! quarter of the WAL writes). Per thread and game, in instructions:
//! `benches/results/profile/cg-storage.sh`.
//!
//! # Back-pressure, retries, and what is dropped
//!
//! - **Queue full**: the finished game is dropped (not recorded, nobody is told of a
//!   rating change), counted in `ticksync_storage_dropped_total{reason="queue_full"}` and
//!   logged. The tick never waits for the database.
//! - **Database unreachable, busy or slow** (I/O errors, pool time-outs, SQLite
//!   `BUSY`/`LOCKED`/`IOERR`/`FULL`, PostgreSQL connection or resource errors, a
//!   transaction taking longer than [`WRITE_TIMEOUT`]): the batch is kept and retried after
//!   a back-off that doubles from 100 ms to 5 s, for as long as it takes; meanwhile new
//!   results wait in the queue, and once it is full they are dropped as above. Every
//!   failed attempt counts in `ticksync_storage_failures_total` and every retry in
//!   `ticksync_storage_retries_total`. A retry after an ambiguous failure (the commit may
//!   have happened) is harmless: every attempt after a batch's first looks up its match
//!   ids, and a match id already stored is not written twice.
//! - **A record the database refuses** (any other error, e.g. a constraint): the batch is
//!   tried once more at once (counted as a retry), looking up stored match ids (the first
//!   attempt does not; a stored id fails its insert), then one record at a time, and the
//!   record that is refused again is dropped,
//!   counted in `ticksync_storage_dropped_total{reason="refused"}` and logged at `error`.
//! - **Shutdown**: the writer keeps writing what is queued for up to [`FLUSH_GRACE`]
//!   after the shutdown, then stops; what is left is counted as
//!   `dropped{reason="shutdown"}`.
//!
//! `ticksync_storage_queue_depth` is the queue's length at scrape time and
//! `ticksync_storage_writes_total` the matches committed.
//!
//! # Reads
//!
//! Reads (`GET /matches`, `/leaderboard`, the stored rating at `FindMatch`) go to the
//! pool directly from the connection or HTTP task that asks, each bounded by
//! [`READ_TIMEOUT`]; at most [`MAX_HTTP_READS`] HTTP reads run at once (more get 503).
//! Leaderboards are cached for a second per game.

mod batch;
mod config;
mod history;
mod ids;
mod known;
pub mod prune;
mod queries;
mod rating;
mod record;
mod stats;
mod writer;

pub use config::{Database, StorageConfig};
pub use prune::{PRUNE_EVERY, PRUNED_GUEST};
pub use queries::{MAX_BOARD, MAX_PAGE, MatchDetail, MatchPage, MatchSeat, MatchSummary};
pub use rating::{Glicko2Rating, SeatResult, display_rating, new_ratings};
pub use record::{
    MatchPlayer, MatchRecord, display_name_guest, now_ms, player_key_bot, player_key_guest,
    player_key_user,
};
pub use stats::StorageStats;
pub use writer::{Committed, CommittedSeat, ResultListener};

use std::fmt;
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;

use sqlx::AnyPool;
use sqlx::any::AnyPoolOptions;
use tokio::sync::{Semaphore, mpsc};

/// Default capacity of the writer's queue, in finished games.
pub const DEFAULT_QUEUE: usize = 4096;
/// Most records the writer puts in one transaction: about two seconds of the ttt load at
/// 1000 clients, so that the default gather window, not this, ends a busy server's
/// batches.
pub const BATCH: usize = 2048;
/// How long the writer gathers results after the first one before writing them
/// (`--database-gather-ms`). 1000 ms rather than 500: about 1% less of the whole server's
/// CPU under the ttt load at 1000 clients, as 500 rather than 250 was about 2% (fewer
/// commits rewrite the same hot pages of the ratings and their index; BENCHMARKS.md,
/// "Results storage", seventh and tenth sessions), for a `RatingChanged` that comes at
/// most a second after `GameOver`. A server that wants its ratings sooner sets less.
pub const DEFAULT_GATHER: Duration = Duration::from_millis(1000);
/// The most `--database-gather-ms` may be.
pub const MAX_GATHER: Duration = Duration::from_secs(10);
/// A write transaction that takes longer than this counts as failed and is retried.
pub const WRITE_TIMEOUT: Duration = Duration::from_secs(10);
/// A read that takes longer than this is answered as unavailable.
pub const READ_TIMEOUT: Duration = Duration::from_secs(2);
/// How long the writer goes on writing queued results after a shutdown.
pub const FLUSH_GRACE: Duration = Duration::from_millis(1500);
/// HTTP reads of the database running at once; more are answered 503.
pub const MAX_HTTP_READS: usize = 32;
/// The default database file, next to whoever starts the server.
pub const DEFAULT_SQLITE_PATH: &str = "./ticksync.db";

/// What went wrong with the database.
#[derive(Debug, thiserror::Error)]
pub enum StorageError {
    /// `--database` is not a database this server can use.
    #[error("bad --database: {0}")]
    Url(String),
    /// The database could not be opened or reached.
    #[error("cannot open the database {database}: {source}")]
    Open {
        /// The database, without a password.
        database: String,
        /// Why.
        source: sqlx::Error,
    },
    /// Applying the schema's migrations failed.
    #[error("cannot bring the database schema up to date: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
    /// The server has started this database more than 2^21 times: ids would reach 2^53.
    #[error("the database has recorded {0} server starts; ids would pass 2^53")]
    TooManyStarts(i64),
    /// A query failed.
    #[error("database query failed: {0}")]
    Query(#[from] sqlx::Error),
    /// A query took longer than its time limit.
    #[error("the database did not answer in time")]
    Timeout,
    /// This server keeps no records (`--database none`).
    #[error("this server keeps no records (--database none)")]
    Disabled,
    /// `Server::start` cannot open a database (it is synchronous); use `Server::open`.
    #[error("a database is configured: start the server with Server::open, which opens it")]
    NeedsOpen,
}

/// Connections for reads, by [`Backend`].
const POOL_READERS: [u32; 2] = [4, 8];

/// The page size of a new SQLite file, in bytes (SQLite's default is 4096). A commit
/// writes each page it changed to the WAL, a header and a page per `pwrite`, and a batch's
/// rows are appended to a few tables' last pages: four times fewer, larger pages took the
/// writes from 1.28 to 0.50 per game and SQLite's instructions from 66.5k to 63.2k per
/// game (BENCHMARKS.md, "Results storage", ninth session). Set when the file is made;
/// a file made with another keeps it. SQLite checkpoints its WAL every 1000 pages, so the
/// `-wal` file beside the database now grows to about 16 MiB between checkpoints (4 MiB
/// with 4 KiB pages).
const SQLITE_PAGE_SIZE: u32 = 16384;

/// Pool options for `backend` with at most `connections` connections; SQLite connections
/// get their per-connection pragmas (and `writer`'s, see [`WRITER_PRAGMAS`]).
fn pool_options(backend: Backend, connections: u32, writer: bool) -> AnyPoolOptions {
    let options = AnyPoolOptions::new()
        .max_connections(connections)
        .acquire_timeout(Duration::from_secs(5));
    match backend {
        // WAL is a property of the file (set once in `Storage::open`); these are per
        // connection. synchronous=FULL: a committed result survives a power cut, not only
        // a crash. A 16 MiB page cache holds the hot index pages of a busy server.
        Backend::Sqlite => options.after_connect(move |conn, _| {
            Box::pin(async move {
                let writer_pragmas: &[&str] = if writer { &WRITER_PRAGMAS } else { &[] };
                for pragma in [
                    "PRAGMA busy_timeout = 5000",
                    "PRAGMA synchronous = FULL",
                    "PRAGMA cache_size = -16384",
                ]
                .iter()
                .chain(writer_pragmas)
                {
                    sqlx::query(pragma).execute(&mut *conn).await?;
                }
                Ok(())
            })
        }),
        Backend::Postgres => options,
    }
}

/// The SQLite writer connection's own pragmas. It does not check foreign keys on each
/// row: every transaction it runs writes a row's parents before the row (players before
/// their ratings and seats, a match before its seats) and prunes re-point or delete
/// children before their parents (`prune.rs`), so the checks never fail. A player row the
/// writer skips because it wrote it lately (`known`) is sound because every prune is
/// counted ([`Db::prunes`]) and the writer forgets what it knew when the count moved. The
/// checks were 10% of the writer's SQLite instructions per game (BENCHMARKS.md, "Results
/// storage"). The schema keeps its `REFERENCES`; every other connection checks them, and
/// the writer's tests run SQLite's `pragma_foreign_key_check` over what it wrote.
/// PostgreSQL always checks.
const WRITER_PRAGMAS: [&str; 1] = ["PRAGMA foreign_keys = OFF"];

/// Which SQL dialect the pool speaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Backend {
    Sqlite = 0,
    Postgres = 1,
}

pub(crate) struct Db {
    /// Reads (HTTP, leaderboards, stored ratings) and migrations.
    pub(crate) pool: AnyPool,
    /// The results writer's connection(s).
    pub(crate) writes: AnyPool,
    pub(crate) backend: Backend,
    pub(crate) epoch: u64,
    pub(crate) stats: Arc<StorageStats>,
    queue_capacity: usize,
    /// [`StorageConfig::gather`].
    pub(crate) gather: Duration,
    pub(crate) guest_retention: Option<Duration>,
    queue: OnceLock<mpsc::Sender<MatchRecord>>,
    pub(crate) http_reads: Arc<Semaphore>,
    pub(crate) boards: Mutex<queries::BoardCache>,
    /// Prunes so far, counted by [`prune::prune_guests`] before it commits (whoever runs
    /// it: the writer, or [`Storage::prune_guests`] from another task): the writer forgets
    /// what it knows of players and ratings (see `known`) when this moved since its last
    /// transaction, so that it never builds on a row a prune deleted.
    pub(crate) prunes: std::sync::atomic::AtomicU64,
}

/// Handle to the results store; cheap to clone. [`Storage::none`] keeps nothing.
#[derive(Clone, Default)]
pub struct Storage {
    db: Option<Arc<Db>>,
}

impl fmt::Debug for Storage {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.db {
            None => f.write_str("Storage(none)"),
            Some(db) => write!(f, "Storage({:?}, epoch {})", db.backend, db.epoch),
        }
    }
}

impl Storage {
    /// A store that keeps nothing (`--database none`).
    pub fn none() -> Storage {
        Storage::default()
    }

    /// Opens (creating if needed) the configured database, applies the migrations it
    /// lacks, and records this server start (its epoch; see [`Storage::id_base`]).
    ///
    /// # Errors
    /// [`StorageError::Open`] when it cannot be reached, [`StorageError::Migrate`] when its
    /// schema cannot be brought up to date.
    pub async fn open(config: &StorageConfig) -> Result<Storage, StorageError> {
        sqlx::any::install_default_drivers();
        let (url, backend) = match &config.database {
            Database::None => return Ok(Storage::none()),
            Database::Sqlite(path) => (config::sqlite_url(path)?, Backend::Sqlite),
            Database::Postgres(url) => (url.clone(), Backend::Postgres),
        };
        let open_error = |source| StorageError::Open {
            database: config.database.to_string(),
            source,
        };
        let pool = pool_options(backend, POOL_READERS[backend as usize], false)
            .connect(&url)
            .await
            .map_err(open_error)?;
        if backend == Backend::Sqlite {
            // Both on one connection, page size first: it only takes effect on a file
            // that has no pages yet (an older file keeps its own), and WAL writes the first.
            let mut conn = pool.acquire().await.map_err(open_error)?;
            let page_size = format!("PRAGMA page_size = {SQLITE_PAGE_SIZE}");
            for pragma in [page_size.as_str(), "PRAGMA journal_mode = WAL"] {
                sqlx::query(pragma)
                    .execute(&mut *conn)
                    .await
                    .map_err(open_error)?;
            }
        }
        match backend {
            Backend::Sqlite => sqlx::migrate!("migrations/sqlite").run(&pool).await?,
            Backend::Postgres => sqlx::migrate!("migrations/postgres").run(&pool).await?,
        }
        // The writer's own connection: SQLite keeps one writer at a time anyway, and a
        // connection that alone writes keeps its page cache valid between batches (a
        // pooled one would find its cache stale after another connection's commit).
        let writes = match backend {
            Backend::Sqlite => pool_options(backend, 1, true)
                .connect(&url)
                .await
                .map_err(open_error)?,
            Backend::Postgres => pool.clone(),
        };
        let epoch = ids::record_start(&pool).await?;
        tracing::info!(database = %config.database, epoch, "results are kept in the database");
        Ok(Storage {
            db: Some(Arc::new(Db {
                pool,
                writes,
                backend,
                epoch,
                stats: Arc::default(),
                queue_capacity: config.queue.max(1),
                gather: config.gather.min(MAX_GATHER),
                guest_retention: config.guest_retention,
                queue: OnceLock::new(),
                http_reads: Arc::new(Semaphore::new(MAX_HTTP_READS)),
                boards: Mutex::default(),
                prunes: std::sync::atomic::AtomicU64::new(0),
            })),
        })
    }

    /// Prunes the guests last seen before `cutoff_ms` (milliseconds since the Unix epoch)
    /// now, as the writer does every [`PRUNE_EVERY`] (see the [`prune`] module). Returns
    /// how many were pruned.
    ///
    /// # Errors
    /// [`StorageError::Disabled`] without a database; [`StorageError::Query`] when the
    /// database fails.
    pub async fn prune_guests(&self, cutoff_ms: i64) -> Result<u64, StorageError> {
        let db = self.db()?;
        let pruned = prune::prune_guests(db, cutoff_ms).await?;
        db.stats.pruned(pruned);
        Ok(pruned)
    }

    /// Whether results are kept.
    pub fn enabled(&self) -> bool {
        self.db.is_some()
    }

    pub(crate) fn db(&self) -> Result<&Arc<Db>, StorageError> {
        self.db.as_ref().ok_or(StorageError::Disabled)
    }

    /// The first room and session id of this run, minus one: this start's epoch times
    /// 2^32 (0 without a database). Ids stay below 2^53 (JavaScript reads them as numbers)
    /// for 2^21 starts of 2^32 ids each.
    pub fn id_base(&self) -> u64 {
        self.db.as_ref().map_or(0, |db| ids::base(db.epoch))
    }

    /// The counters behind `/metrics`, when results are kept.
    pub fn stats(&self) -> Option<Arc<StorageStats>> {
        self.db.as_ref().map(|db| db.stats.clone())
    }

    /// Starts the writer task on `tracker`; `listener` hears of every commit. Call once;
    /// a second call does nothing. Does nothing without a database.
    pub fn start_writer(
        &self,
        listener: Arc<dyn ResultListener>,
        shutdown: tokio_util::sync::CancellationToken,
        tracker: &tokio_util::task::TaskTracker,
    ) {
        let Some(db) = &self.db else { return };
        // Clamped to what a tokio channel can count (2^61; `mpsc::channel` panics past it).
        let capacity = db
            .queue_capacity
            .clamp(1, tokio::sync::Semaphore::MAX_PERMITS);
        let (tx, rx) = mpsc::channel(capacity);
        if db.queue.set(tx).is_ok() {
            let writer = writer::Writer::new(db.clone(), listener);
            tracker.spawn(writer.run(rx, shutdown));
        }
    }

    /// Hands a finished game to the writer without waiting: `true` if it was queued.
    /// Without a database, or before [`Storage::start_writer`], nothing is kept and this
    /// returns `false`; with a full queue the record is dropped and counted.
    pub fn submit(&self, record: MatchRecord) -> bool {
        let Some(db) = &self.db else { return false };
        let Some(queue) = db.queue.get() else {
            return false;
        };
        match queue.try_send(record) {
            Ok(()) => {
                db.stats.queued(1);
                true
            }
            Err(mpsc::error::TrySendError::Full(record)) => {
                db.stats.dropped(stats::DropReason::QueueFull, 1);
                tracing::warn!(
                    match_id = record.id.get(),
                    game = %record.game,
                    "the results queue is full (the database is unreachable or too slow); \
                     this game's result is not recorded"
                );
                false
            }
            Err(mpsc::error::TrySendError::Closed(_)) => {
                db.stats.dropped(stats::DropReason::Shutdown, 1);
                false
            }
        }
    }
}

#[cfg(test)]
mod writer_tests;
