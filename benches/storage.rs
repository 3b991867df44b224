//! What the results writer costs per finished game on the default database (an SQLite
//! file, WAL, `synchronous=FULL`): a batch of [`GAMES`] tic-tac-toe games between 1000
//! returning guest players (each with a 220-byte replay; near what the `ttt` load at 1000
//! clients finishes in one default gathering window of a second, about 1,700) handed to the writer, measured until its
//! commit is announced. The writer runs the same statements as in the server. As in the
//! server, batches are not all the same size: they alternate `GAMES + k` and `GAMES - k`
//! games (k from 1 to 199), so the mean is [`GAMES`] per batch and a statement made for
//! one batch's exact row count is not found ready for the next.
//!
//! The time reported is the process's **CPU time** (user and system, every thread:
//! the writer task, SQLite's worker thread, the kernel's file writes), not wall time:
//! the writer waits out its gathering window on purpose, and that wait costs nothing.
//!
//! Expected: a flat cost per game (tens of microseconds) that does not grow with the
//! file: the hundredth batch costs what the first did.
//!
//! Run: `cargo bench --bench storage`. With `STORAGE_BATCHES=N` in the environment the
//! bench binary instead writes `N` batches outside criterion and exits, printing the
//! games written: a fixed amount of work for `valgrind --tool=callgrind`, whose
//! instruction counts do not move with the machine's load
//! (`benches/results/profile/cg-storage.sh`).

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use bytes::Bytes;
use criterion::{Criterion, Throughput, criterion_group};
use ticksync::protocol::{EndReason, MatchId, RoomSettings, SessionId};
use ticksync::storage::{
    BATCH, Committed, Database, MatchPlayer, MatchRecord, ResultListener, Storage, StorageConfig,
    player_key_guest,
};
use tokio::sync::Notify;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

/// Players the games are drawn from.
const PLAYERS: u64 = 1000;
/// Games per batch.
const GAMES: usize = 1536;

/// CPU time (user and system) this process has used, all threads.
fn cpu_time() -> Duration {
    // SAFETY: getrusage only writes the struct it is given.
    let usage = unsafe {
        let mut usage = std::mem::zeroed::<libc::rusage>();
        libc::getrusage(libc::RUSAGE_SELF, &mut usage);
        usage
    };
    let tv = |t: libc::timeval| Duration::new(t.tv_sec as u64, t.tv_usec as u32 * 1000);
    tv(usage.ru_utime) + tv(usage.ru_stime)
}

/// Counts commits and wakes the bench when a batch is in.
#[derive(Default)]
struct Counter {
    committed: AtomicUsize,
    notify: Notify,
}

impl ResultListener for Counter {
    fn committed(&self, results: &[Committed]) {
        self.committed.fetch_add(results.len(), Ordering::Relaxed);
        self.notify.notify_one();
    }
}

fn record(id: u64) -> MatchRecord {
    let a = id.wrapping_mul(7919) % PLAYERS;
    let b = (a + 1 + id % (PLAYERS - 1)) % PLAYERS;
    let player = |seat: u8, n: u64| MatchPlayer {
        seat,
        player_key: player_key_guest(SessionId::new(n)),
        session: SessionId::new(n),
        display_name: format!("bot-{n}"),
        guest: true,
    };
    MatchRecord {
        id: MatchId::new(id),
        game: "tictactoe".to_string(),
        settings: RoomSettings::default(),
        ranked: true,
        public: true,
        started_at_ms: 1_700_000_000_000,
        ended_at_ms: 1_700_000_001_000,
        ticks: 90,
        tick_hz: 30,
        winner: (!id.is_multiple_of(3)).then_some((id % 2) as u8),
        reason: if id.is_multiple_of(3) {
            EndReason::Draw
        } else {
            EndReason::Win
        },
        players: vec![player(0, a), player(1, b)],
        replay: Some(Bytes::from(vec![(id % 251) as u8; 220])),
    }
}

/// Games in the `i`th batch: `GAMES + k`, then `GAMES - k`, with `k` moving on each pair.
fn batch_size(i: u64) -> usize {
    let k = ((i / 2) * 37 % 199 + 1) as usize;
    if i.is_multiple_of(2) {
        GAMES + k
    } else {
        GAMES - k
    }
}

/// The writer of a fresh database in a scratch folder, on its own runtime.
struct Rig {
    runtime: tokio::runtime::Runtime,
    dir: std::path::PathBuf,
    storage: Storage,
    counter: Arc<Counter>,
    shutdown: CancellationToken,
    tracker: TaskTracker,
    next_id: u64,
    batches: u64,
}

impl Rig {
    fn open() -> Rig {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .expect("runtime");
        let dir =
            std::env::temp_dir().join(format!("ticksync-bench-storage-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).expect("scratch directory");
        let config = StorageConfig {
            database: Database::Sqlite(dir.join("bench.db")),
            queue: 4 * BATCH,
            guest_retention: None,
            ..StorageConfig::default()
        };
        let storage = runtime
            .block_on(Storage::open(&config))
            .expect("open SQLite");
        let counter = Arc::new(Counter::default());
        let shutdown = CancellationToken::new();
        let tracker = TaskTracker::new();
        runtime.block_on(async {
            storage.start_writer(counter.clone(), shutdown.clone(), &tracker);
        });
        let next_id = storage.id_base() + 1;
        Rig {
            runtime,
            dir,
            storage,
            counter,
            shutdown,
            tracker,
            next_id,
            batches: 0,
        }
    }

    /// Writes the next batch and returns the process's CPU time it took and its games.
    fn batch(&mut self) -> (Duration, usize) {
        let n = batch_size(self.batches);
        self.batches += 1;
        let records: Vec<MatchRecord> = (0..n as u64).map(|i| record(self.next_id + i)).collect();
        self.next_id += n as u64;
        let target = self.counter.committed.load(Ordering::Relaxed) + n;
        let start = cpu_time();
        self.runtime.block_on(async {
            for record in records {
                assert!(self.storage.submit(record), "the queue holds a batch");
            }
            while self.counter.committed.load(Ordering::Relaxed) < target {
                self.counter.notify.notified().await;
            }
        });
        (cpu_time() - start, n)
    }

    fn close(self) {
        self.shutdown.cancel();
        self.tracker.close();
        self.runtime.block_on(self.tracker.wait());
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

fn writer(c: &mut Criterion) {
    let rig = std::cell::RefCell::new(Rig::open());
    let mut group = c.benchmark_group("storage_writer");
    group.throughput(Throughput::Elements(GAMES as u64));
    group.sample_size(20);
    group.measurement_time(Duration::from_secs(10));
    group.bench_function("sqlite_ttt_batch", |b| {
        b.iter_custom(|iters| (0..iters).map(|_| rig.borrow_mut().batch().0).sum());
    });
    group.finish();
    rig.into_inner().close();
}

criterion_group!(benches, writer);

fn main() {
    let batches = std::env::var("STORAGE_BATCHES").ok().map(|n| {
        n.parse::<u64>()
            .unwrap_or_else(|_| panic!("STORAGE_BATCHES is not a number of batches: {n:?}"))
    });
    match batches {
        Some(batches) => {
            let mut rig = Rig::open();
            let games: usize = (0..batches).map(|_| rig.batch().1).sum();
            rig.close();
            println!("games written: {games}");
        }
        None => {
            benches();
            Criterion::default().configure_from_args().final_summary();
        }
    }
}
