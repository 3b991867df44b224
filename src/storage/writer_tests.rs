//! The results writer against a real SQLite file: batches, ratings in order, ids once,
//! migrations over old data, guest pruning.

use std::path::{Path, PathBuf};
use std::sync::Mutex;

use super::*;
use crate::protocol::{EndReason, MatchId, RoomSettings, SessionId};

#[derive(Default)]
struct Heard(Mutex<Vec<Committed>>);

impl ResultListener for Heard {
    fn committed(&self, results: &[Committed]) {
        self.0.lock().unwrap().extend_from_slice(results);
    }
}

fn record(id: u64, winner: u8) -> MatchRecord {
    let player = |seat: u8, key: &str| MatchPlayer {
        seat,
        player_key: key.into(),
        session: SessionId::new(u64::from(seat) + 1),
        display_name: key.into(),
        guest: false,
    };
    MatchRecord {
        id: MatchId::new(id),
        game: "tictactoe".into(),
        settings: RoomSettings::default(),
        ranked: true,
        public: true,
        started_at_ms: 1,
        ended_at_ms: 2,
        ticks: 60,
        tick_hz: 30,
        winner: Some(winner),
        reason: EndReason::Win,
        players: vec![player(0, "user:a"), player(1, "user:b")],
        replay: None,
    }
}

/// A scratch SQLite database with its writer running, and what the writer announced.
struct Harness {
    storage: Storage,
    heard: Arc<Heard>,
    shutdown: tokio_util::sync::CancellationToken,
    tracker: tokio_util::task::TaskTracker,
    path: std::path::PathBuf,
}

impl Harness {
    async fn open(tag: &str) -> Harness {
        Harness::open_with(tag, StorageConfig::default()).await
    }

    /// [`Harness::open`] with `config`'s settings but its own scratch database.
    async fn open_with(tag: &str, config: StorageConfig) -> Harness {
        let path = std::env::temp_dir().join(format!(
            "ticksync-{tag}-{}-{}.db",
            std::process::id(),
            record::now_ms()
        ));
        let config = StorageConfig {
            database: Database::Sqlite(path.clone()),
            ..config
        };
        let storage = Storage::open(&config).await.unwrap();
        let heard = Arc::new(Heard::default());
        let shutdown = tokio_util::sync::CancellationToken::new();
        let tracker = tokio_util::task::TaskTracker::new();
        storage.start_writer(heard.clone(), shutdown.clone(), &tracker);
        Harness {
            storage,
            heard,
            shutdown,
            tracker,
            path,
        }
    }

    /// Waits (polling the listener, at most 20 s) until `n` results were announced.
    async fn heard(&self, n: usize) -> Vec<Committed> {
        let deadline = std::time::Instant::now() + Duration::from_secs(20);
        loop {
            let heard = self.heard.0.lock().unwrap().clone();
            if heard.len() >= n {
                return heard;
            }
            assert!(std::time::Instant::now() < deadline, "writer too slow");
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
    }

    async fn close(self) {
        self.shutdown.cancel();
        self.tracker.close();
        self.tracker.wait().await;
        for suffix in ["", "-wal", "-shm"] {
            let _ = std::fs::remove_file(format!("{}{suffix}", self.path.display()));
        }
    }
}

/// The writer holds what it is given for its gather window (`--database-gather-ms`)
/// and writes it in one transaction: with the longest window ([`MAX_GATHER`], 10 s),
/// three games submitted one after another are not committed until the shutdown ends the
/// window, and then in one transaction. The history by player has one pair per seat.
#[tokio::test]
async fn the_writer_gathers_for_its_window_then_writes_one_transaction() {
    let harness = Harness::open_with(
        "gather",
        StorageConfig {
            gather: MAX_GATHER,
            ..StorageConfig::default()
        },
    )
    .await;
    let storage = harness.storage.clone();
    let stats = storage.db().unwrap().stats.clone();
    for id in 1..=3 {
        assert!(storage.submit(record(id, 0)));
    }
    // Nothing is committed within one and a half default windows (this waits for an
    // event that must not happen; the writer would have committed by now with the
    // default window on an idle machine).
    tokio::time::sleep(DEFAULT_GATHER + DEFAULT_GATHER / 2).await;
    assert_eq!(stats.transactions(), 0);
    assert!(harness.heard.0.lock().unwrap().is_empty());
    harness.shutdown.cancel();
    harness.tracker.close();
    harness.tracker.wait().await;
    assert_eq!(harness.heard.0.lock().unwrap().len(), 3);
    assert_eq!((stats.writes(), stats.transactions()), (3, 1));
    let pool = &storage.db().unwrap().pool;
    // (The first batch after a start also moves `recent_players` into `player_matches`.)
    let (pairs,): (i64,) = sqlx::query_as(
        "SELECT (SELECT count(*) FROM recent_players) + (SELECT count(*) FROM player_matches)",
    )
    .fetch_one(pool)
    .await
    .unwrap();
    let (seats,): (i64,) = sqlx::query_as("SELECT count(*) FROM match_players")
        .fetch_one(pool)
        .await
        .unwrap();
    assert_eq!((pairs, seats), (6, 6));
    assert_consistent(&storage).await;
    harness.close().await;
}

/// The database passes SQLite's integrity and foreign-key checks.
async fn assert_consistent(storage: &Storage) {
    let pool = &storage.db().unwrap().pool;
    let (check,): (String,) = sqlx::query_as("PRAGMA integrity_check")
        .fetch_one(pool)
        .await
        .unwrap();
    assert_eq!(check, "ok");
    let (violations,): (i64,) = sqlx::query_as("SELECT count(*) FROM pragma_foreign_key_check")
        .fetch_one(pool)
        .await
        .unwrap();
    assert_eq!(violations, 0);
}

/// The writer's connection leaves foreign keys unchecked (it writes parents first; see
/// `WRITER_PRAGMAS`), the readers' connections check them; what the writer wrote passes
/// SQLite's own check (here and in every test that calls [`assert_consistent`]).
#[tokio::test]
async fn only_the_writers_connection_skips_foreign_key_checks() {
    let harness = Harness::open("fk").await;
    let storage = &harness.storage;
    let db = storage.db().unwrap();
    let (writer,): (i64,) = sqlx::query_as("PRAGMA foreign_keys")
        .fetch_one(&db.writes)
        .await
        .unwrap();
    assert_eq!(writer, 0, "the writer's connection checks foreign keys");
    let (reader,): (i64,) = sqlx::query_as("PRAGMA foreign_keys")
        .fetch_one(&db.pool)
        .await
        .unwrap();
    assert_eq!(
        reader, 1,
        "a reader's connection does not check foreign keys"
    );
    let (page_size,): (i64,) = sqlx::query_as("PRAGMA page_size")
        .fetch_one(&db.pool)
        .await
        .unwrap();
    assert_eq!(
        page_size,
        i64::from(super::SQLITE_PAGE_SIZE),
        "a new file's pages"
    );
    for id in 21..25 {
        assert!(storage.submit(record(id, (id % 2) as u8)));
    }
    harness.heard(4).await;
    assert_consistent(storage).await;
    harness.close().await;
}

/// Games of the same players in one batch each start from the rating the one before
/// left, and a match id written twice is stored once (the second answer is the
/// stored result).
#[tokio::test]
async fn one_batch_applies_its_games_in_order_and_ids_once() {
    let harness = Harness::open("writer").await;
    let storage = &harness.storage;
    for (id, winner) in [(11, 0), (12, 0), (13, 1), (11, 0)] {
        assert!(storage.submit(record(id, winner)));
    }
    harness.heard(4).await;
    // A later batch starts from the ratings the earlier ones committed (remembered by
    // the writer, not read again).
    assert!(storage.submit(record(14, 1)));
    harness.heard(5).await;
    // A later batch with a stored id: answered with the stored result. Its first
    // attempt looks nothing up and fails on the stored id; the second looks.
    let stats = &storage.db().unwrap().stats;
    let (failures, retries) = (stats.failures(), stats.retries());
    assert!(storage.submit(record(12, 1)));
    let heard = harness.heard(6).await;
    assert_eq!(
        stats.failures(),
        failures + 1,
        "one attempt met the stored id"
    );
    assert_eq!(stats.retries(), retries + 1);
    assert_eq!(stats.dropped_total(), 0);
    let twelve: Vec<_> = heard
        .iter()
        .filter(|c| c.match_id == MatchId::new(12))
        .collect();
    assert_eq!(twelve.len(), 2);
    assert_eq!(twelve[0], twelve[1], "the stored result, not a second game");
    let a = |c: &Committed| (c.seats[0].previous, c.seats[0].rating);
    let by_id = |id| {
        heard
            .iter()
            .find(|c| c.match_id == MatchId::new(id))
            .unwrap()
    };
    assert_eq!(a(by_id(11)).0, 1500);
    assert_eq!(a(by_id(12)).0, a(by_id(11)).1, "12 starts where 11 left");
    assert_eq!(a(by_id(13)).0, a(by_id(12)).1, "13 starts where 12 left");
    assert!(a(by_id(13)).1 < a(by_id(13)).0, "a lost game lowers it");
    assert_eq!(a(by_id(14)).0, a(by_id(13)).1, "14 starts where 13 left");
    let page = storage.matches(None, None, None, 10).await.unwrap();
    assert_eq!(page.matches.len(), 4, "match 11 stored once");
    let board = storage.leaderboard("tictactoe", 10).await.unwrap();
    let alice = board.iter().find(|r| r.player == "user:a").unwrap();
    assert_eq!(
        (alice.games, alice.wins, alice.rating),
        (4, 2, a(by_id(14)).1)
    );
    assert_consistent(storage).await;
    harness.close().await;
}

/// A scratch folder and an SQLite file in it migrated with the first `upto` of
/// `migrations/sqlite` and then given `rows` (statements), as an older server left it;
/// then opened as the server opens it (which applies the later migrations).
async fn older_database(tag: &str, upto: usize, rows: &[&str]) -> (PathBuf, Storage) {
    sqlx::any::install_default_drivers();
    let scratch = std::env::temp_dir().join(format!(
        "ticksync-migrate-{tag}-{}-{}",
        std::process::id(),
        record::now_ms()
    ));
    let older = scratch.join("migrations");
    std::fs::create_dir_all(&older).unwrap();
    let all = Path::new(env!("CARGO_MANIFEST_DIR")).join("migrations/sqlite");
    let mut files: Vec<PathBuf> = std::fs::read_dir(&all)
        .unwrap()
        .map(|entry| entry.unwrap().path())
        .collect();
    files.sort();
    for file in &files[..upto] {
        std::fs::copy(file, older.join(file.file_name().unwrap())).unwrap();
    }
    let path = scratch.join("old.db");
    let url = super::config::sqlite_url(&path).unwrap();
    let pool = AnyPoolOptions::new()
        .max_connections(1)
        .connect(&url)
        .await
        .unwrap();
    sqlx::migrate::Migrator::new(older.as_path())
        .await
        .unwrap()
        .run(&pool)
        .await
        .unwrap();
    for sql in rows {
        sqlx::query(sql).execute(&pool).await.unwrap();
    }
    pool.close().await;
    let config = StorageConfig {
        database: Database::Sqlite(path),
        ..StorageConfig::default()
    };
    (scratch, Storage::open(&config).await.unwrap())
}

/// A database written by the first schema keeps every row through the later
/// migrations (0002 rebuilds the tables), and the server reads it back.
#[tokio::test]
async fn migrations_keep_rows_written_by_the_first_schema() {
    let (scratch, storage) = older_database(
        "first",
        1,
        &[
            "INSERT INTO players VALUES ('user:a', 'Ann', 0, 1, 2), ('guest:7', 'G', 1, 1, 2)",
            "INSERT INTO ratings VALUES ('user:a', 'tictactoe', 1662.4, 290.3, 0.06, 1, 1, 0, 0, 2)",
            "INSERT INTO matches VALUES (4294967301, 'tictactoe', '{}', 1, 1, 1, 2, 90, 30, 0, 'Win', x'28b52ffd')",
            "INSERT INTO match_players VALUES (4294967301, 0, 'user:a', 5, 'Ann', 'win', 1500.0, 1662.4), \
             (4294967301, 1, 'guest:7', 7, 'G', 'loss', NULL, NULL)",
        ],
    )
    .await;
    let (page_size,): (i64,) = sqlx::query_as("PRAGMA page_size")
        .fetch_one(&storage.db().unwrap().pool)
        .await
        .unwrap();
    assert_eq!(page_size, 4096, "an older file keeps its pages");
    let detail = storage
        .match_detail(MatchId::new(4294967301))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(detail.summary.players.len(), 2);
    assert_eq!(detail.summary.players[0].player, "user:a");
    assert_eq!(detail.summary.players[0].rating_after, Some(1662));
    let board = storage.leaderboard("tictactoe", 10).await.unwrap();
    assert_eq!(board.len(), 1);
    assert_eq!(
        (board[0].player.as_str(), board[0].rating),
        ("user:a", 1662)
    );
    assert_eq!(
        storage
            .replay(MatchId::new(4294967301))
            .await
            .unwrap()
            .as_deref(),
        Some(&[0x28, 0xb5, 0x2f, 0xfd][..])
    );
    // The history by player was filled from the rows already there.
    for player in ["user:a", "guest:7"] {
        let page = storage.matches(Some(player), None, None, 10).await.unwrap();
        let ids: Vec<u64> = page.matches.iter().map(|m| m.id.get()).collect();
        assert_eq!(ids, [4294967301], "{player}'s history");
    }
    assert_consistent(&storage).await;
    let _ = std::fs::remove_dir_all(&scratch);
}

/// The history pairs a trigger appended under migration 0004 (`recent_players` was a
/// table then) are in `player_matches` after 0005, which makes `recent_players` a view
/// over `recent_batches`; the players' histories still find the match.
#[tokio::test]
async fn migration_0005_moves_the_triggers_pairs() {
    let (scratch, storage) = older_database(
        "0004",
        4,
        &[
            "INSERT INTO players VALUES ('user:a', 'Ann', 0, 1, 2), ('guest:7', 'G', 1, 1, 2)",
            "INSERT INTO matches VALUES (4294967302, 'tictactoe', '{}', 1, 1, 1, 2, 90, 30, 0, 'Win', NULL)",
            "INSERT INTO match_players VALUES (4294967302, 0, 'user:a', 5, 'Ann', 'win', NULL, NULL), \
             (4294967302, 1, 'guest:7', 7, 'G', 'loss', NULL, NULL)",
        ],
    )
    .await;
    let pool = storage.db().unwrap().pool.clone();
    let count = |sql: &'static str| {
        let pool = pool.clone();
        async move {
            let (n,): (i64,) = sqlx::query_as(sql).fetch_one(&pool).await.unwrap();
            n
        }
    };
    assert_eq!(count("SELECT count(*) FROM player_matches").await, 2);
    assert_eq!(count("SELECT count(*) FROM recent_players").await, 0);
    assert_eq!(
        count("SELECT count(*) FROM sqlite_master WHERE type = 'trigger'").await,
        0
    );
    for player in ["user:a", "guest:7"] {
        let page = storage.matches(Some(player), None, None, 10).await.unwrap();
        let ids: Vec<u64> = page.matches.iter().map(|m| m.id.get()).collect();
        assert_eq!(ids, [4294967302], "{player}'s history");
    }
    assert_consistent(&storage).await;
    drop(storage);
    let _ = std::fs::remove_dir_all(&scratch);
}

/// A stale guest is pruned: its seats stay in match history under `guest:pruned`, its
/// rating leaves the leaderboard, and nobody else is touched.
#[tokio::test]
async fn pruning_keeps_history_and_drops_stale_guests() {
    let harness = Harness::open("prune").await;
    let storage = &harness.storage;
    // A first batch (the writer's first batch also brings the history by player up to
    // date), so that the guests' games below are still in `recent_players` when pruned.
    assert!(storage.submit(record(20, 0)));
    harness.heard(1).await;
    // Match 21: user:a beats guest:7; match 22: user:a beats guest:8.
    for (id, guest) in [(21, "guest:7"), (22, "guest:8")] {
        let mut game = record(id, 0);
        game.players[1].player_key = guest.into();
        game.players[1].guest = true;
        assert!(storage.submit(game));
    }
    harness.heard(3).await;
    let db = storage.db().unwrap().clone();
    // guest:7 was last seen long ago.
    sqlx::query("UPDATE players SET seen_at_ms = 5 WHERE player_key = 'guest:7'")
        .execute(&db.pool)
        .await
        .unwrap();
    assert_eq!(storage.prune_guests(1_000).await.unwrap(), 1);
    assert_eq!(
        storage.prune_guests(1_000).await.unwrap(),
        0,
        "nothing left"
    );
    assert_eq!(db.stats.guests_pruned(), 1);

    let seats = |detail: MatchDetail| {
        detail
            .summary
            .players
            .iter()
            .map(|p| (p.player.clone(), p.rating_after.is_some()))
            .collect::<Vec<_>>()
    };
    let pruned = storage
        .match_detail(MatchId::new(21))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        seats(pruned),
        [
            ("user:a".to_string(), true),
            (PRUNED_GUEST.to_string(), true)
        ]
    );
    let kept = storage
        .match_detail(MatchId::new(22))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        seats(kept),
        [("user:a".to_string(), true), ("guest:8".to_string(), true)]
    );
    let board = storage.leaderboard("tictactoe", 10).await.unwrap();
    let players: Vec<&str> = board.iter().map(|r| r.player.as_str()).collect();
    assert!(players.contains(&"guest:8") && players.contains(&"user:a"));
    assert!(!players.contains(&"guest:7") && !players.contains(&PRUNED_GUEST));
    // The history by player follows: guest:7's game is found under guest:pruned.
    let history = |player: &'static str| async move {
        let page = storage.matches(Some(player), None, None, 10).await.unwrap();
        page.matches
            .iter()
            .map(|m| m.id.get())
            .collect::<Vec<u64>>()
    };
    assert_eq!(history(PRUNED_GUEST).await, [21]);
    assert_eq!(history("guest:7").await, [] as [u64; 0]);
    assert_eq!(history("guest:8").await, [22]);
    assert_eq!(history("user:a").await, [22, 21, 20]);
    // guest:7 plays again at once: the writer wrote its player row moments before the
    // prune (another task's), so it must not skip that row as written lately, nor carry
    // on the deleted rating.
    let mut again = record(23, 1);
    again.players[1].player_key = "guest:7".into();
    again.players[1].guest = true;
    assert!(storage.submit(again));
    let heard = harness.heard(4).await;
    let seat = heard
        .iter()
        .find(|c| c.match_id == MatchId::new(23))
        .and_then(|c| c.seats.iter().find(|s| s.player_key == "guest:7"))
        .unwrap();
    assert_eq!(seat.previous, 1500, "a new rating, not the pruned one");
    assert_eq!(history("guest:7").await, [23]);
    assert_consistent(storage).await;
    harness.close().await;
}

/// A player's history is found whether its games were moved to `player_matches` in bulk
/// (the first batch after start is) or are still in `recent_players` (later batches, until
/// `history::MERGE_ROWS` seats gather), newest first and paged across both.
#[tokio::test]
async fn history_by_player_reads_moved_and_recent_games() {
    let harness = Harness::open("history").await;
    let storage = &harness.storage;
    let db = storage.db().unwrap().clone();
    let count = |table: &'static str| {
        let pool = db.pool.clone();
        async move {
            let (n,): (i64,) = sqlx::query_as(&format!("SELECT count(*) FROM {table}"))
                .fetch_one(&pool)
                .await
                .unwrap();
            n
        }
    };
    for id in [31, 32] {
        assert!(storage.submit(record(id, 0)));
    }
    harness.heard(2).await;
    let mut third = record(33, 1);
    third.players[1].player_key = "user:c".into();
    assert!(storage.submit(third));
    harness.heard(3).await;
    // 31 and 32 wait for their batch's commit; the writer's first batch moves them.
    // Whether they shared a batch or not, 33 came later and is still recent.
    assert!(count("player_matches").await >= 2);
    assert_eq!(count("recent_players").await % 2, 0);
    let recent: Vec<(i64,)> = sqlx::query_as("SELECT DISTINCT match_id FROM recent_players")
        .fetch_all(&db.pool)
        .await
        .unwrap();
    assert!(
        recent.contains(&(33,)),
        "33 is in recent_players: {recent:?}"
    );

    let ids = |page: &MatchPage| {
        page.matches
            .iter()
            .map(|m| m.id.get())
            .collect::<Vec<u64>>()
    };
    let a = storage
        .matches(Some("user:a"), None, None, 2)
        .await
        .unwrap();
    assert_eq!(ids(&a), [33, 32]);
    let rest = storage
        .matches(Some("user:a"), None, a.next, 2)
        .await
        .unwrap();
    assert_eq!(ids(&rest), [31]);
    assert_eq!(rest.next, None);
    let b = storage
        .matches(Some("user:b"), None, None, 10)
        .await
        .unwrap();
    assert_eq!(ids(&b), [32, 31]);
    let c = storage
        .matches(Some("user:c"), Some("tictactoe"), None, 10)
        .await
        .unwrap();
    assert_eq!(ids(&c), [33]);
    let none = storage
        .matches(Some("user:c"), Some("arena"), None, 10)
        .await
        .unwrap();
    assert!(none.matches.is_empty());
    assert_consistent(storage).await;
    harness.close().await;
}
