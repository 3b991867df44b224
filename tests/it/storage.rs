//! Durable results over real sockets: a ranked game is recorded and moves both ratings
//! (`RatingChanged` after the commit), history and leaderboards over HTTP and the
//! protocol, unranked private rooms, ids and ratings across a restart, and `--database
//! none`. Every test runs on SQLite (a scratch file); the backend tests also run on
//! PostgreSQL when `TICKSYNC_TEST_POSTGRES_URL` is set (each in a schema of its own).

use std::net::SocketAddr;
use std::time::Duration;

use anyhow::{Context, Result, bail, ensure};
use serde_json::Value;
use ticksync::codec::Codec;
use ticksync::config::ServerConfig;
use ticksync::protocol::{ClientMsg, EndReason, ErrorCode, MatchId, RoomSettings, ServerMsg};
use ticksync::server::Server;
use ticksync::storage::{Database, StorageConfig};
use tokio::net::TcpListener;
use tokio::time::Instant;

use crate::support::{
    Client, SECRET, TICTACTOE, WAIT, claims, hs256, http_get, matched_pair, play, scratch_dir,
    start, test_config,
};

/// Starts a server that opens its database.
async fn open(config: ServerConfig) -> Result<Server> {
    let listener = TcpListener::bind("127.0.0.1:0").await?;
    Ok(Server::open(listener, config).await?)
}

/// A scratch SQLite file.
fn sqlite(tag: &str) -> StorageConfig {
    StorageConfig {
        database: Database::Sqlite(scratch_dir(tag).join("results.db")),
        ..StorageConfig::default()
    }
}

/// A fresh schema in the PostgreSQL database `TICKSYNC_TEST_POSTGRES_URL` names, or
/// `None` (with a loud SKIPPED line) when it is not set, unless services are required.
pub async fn postgres(test: &str) -> Result<Option<StorageConfig>> {
    let Ok(url) = std::env::var("TICKSYNC_TEST_POSTGRES_URL") else {
        if std::env::var("TICKSYNC_REQUIRE_SERVICES").as_deref() == Ok("1") {
            bail!("TICKSYNC_REQUIRE_SERVICES=1 but TICKSYNC_TEST_POSTGRES_URL is not set");
        }
        eprintln!(
            "SKIPPED: {test} on PostgreSQL: set TICKSYNC_TEST_POSTGRES_URL \
             (e.g. postgres://ticksync:ticksync@127.0.0.1/ticksync_test)"
        );
        return Ok(None);
    };
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)?
        .subsec_nanos();
    let schema = format!("it_{}_{nanos}", std::process::id());
    let pool = sqlx::PgPool::connect(&url)
        .await
        .context("TICKSYNC_TEST_POSTGRES_URL does not connect")?;
    drop_schemas_of_finished_runs(&pool).await?;
    sqlx::query(&format!("CREATE SCHEMA {schema}"))
        .execute(&pool)
        .await?;
    pool.close().await;
    let sep = if url.contains('?') { '&' } else { '?' };
    Ok(Some(StorageConfig {
        database: Database::Postgres(format!("{url}{sep}options=-c%20search_path%3D{schema}")),
        ..StorageConfig::default()
    }))
}

/// Drops the schemas earlier test processes made (`it_<pid>_<nanos>`) whose process is
/// gone, so that repeated runs against one database do not pile them up; a run's own
/// schemas are left for the next run to drop (a test cannot drop its schema while its
/// server may still be writing).
async fn drop_schemas_of_finished_runs(pool: &sqlx::PgPool) -> Result<()> {
    let schemas: Vec<(String,)> =
        sqlx::query_as("SELECT nspname FROM pg_namespace WHERE nspname LIKE 'it\\_%'")
            .fetch_all(pool)
            .await?;
    for (schema,) in schemas {
        let pid = schema.split('_').nth(1).and_then(|p| p.parse::<u32>().ok());
        let alive = pid.is_some_and(|pid| std::path::Path::new(&format!("/proc/{pid}")).exists());
        if pid.is_some() && !alive {
            // Another run may be dropping it at the same time: ignore the race.
            let _ = sqlx::query(&format!("DROP SCHEMA IF EXISTS {schema} CASCADE"))
                .execute(pool)
                .await;
        }
    }
    Ok(())
}

/// Every backend to test: SQLite, and PostgreSQL when configured.
async fn backends(test: &str) -> Result<Vec<StorageConfig>> {
    let mut all = vec![sqlite(test)];
    all.extend(postgres(test).await?);
    Ok(all)
}

fn config_with(storage: StorageConfig) -> ServerConfig {
    ServerConfig {
        storage,
        ..test_config()
    }
}

/// The client's next `RatingChanged`, skipping anything else.
async fn rating_changed(client: &mut Client) -> Result<(MatchId, u16, u16)> {
    client
        .recv_until(|msg| match msg {
            ServerMsg::RatingChanged {
                match_id,
                game,
                previous,
                rating,
            } if game == TICTACTOE => Some((*match_id, *previous, *rating)),
            _ => None,
        })
        .await
}

/// `GET path` as JSON, requiring 200.
async fn get_json(addr: SocketAddr, path: &str) -> Result<Value> {
    let response = http_get(addr, path).await?;
    ensure!(
        response.status == 200,
        "GET {path}: {} {}",
        response.status,
        response.body
    );
    Ok(serde_json::from_str(&response.body)?)
}

/// Polls `GET path` (server state, not a sleep to synchronise) until it answers 200.
pub(crate) async fn wait_for_json(addr: SocketAddr, path: &str) -> Result<Value> {
    let deadline = Instant::now() + WAIT;
    loop {
        let response = http_get(addr, path).await?;
        if response.status == 200 {
            return Ok(serde_json::from_str(&response.body)?);
        }
        if Instant::now() > deadline {
            bail!("GET {path} stayed {} {}", response.status, response.body);
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

#[tokio::test]
async fn a_ranked_game_is_recorded_and_moves_both_ratings() -> Result<()> {
    for storage in backends("ranked_game").await? {
        let server = open(config_with(storage.clone())).await?;
        let addr = server.local_addr();
        let (mut x, mut o) = matched_pair(addr, (Codec::Bincode, Codec::MsgPack)).await?;
        play(&mut x, &mut o, &[0, 3, 1, 4, 2]).await?;
        assert_eq!(x.game_over().await?, (Some(0), EndReason::Win));
        let (id, before_x, after_x) = rating_changed(&mut x).await?;
        let (id_o, before_o, after_o) = rating_changed(&mut o).await?;
        assert_eq!(id, id_o, "{storage:?}");
        assert_eq!((before_x, before_o), (1500, 1500));
        assert!(after_x > 1500 && after_o < 1500, "{after_x} {after_o}");

        // Told after the commit: the match is there at once.
        let page = get_json(addr, "/matches?game=tictactoe").await?;
        let matches = page["matches"].as_array().context("matches")?;
        assert_eq!(matches.len(), 1);
        assert_eq!(matches[0]["id"], id.get());
        assert_eq!(matches[0]["reason"], "win");
        assert_eq!(matches[0]["winner"], 0);
        assert_eq!(matches[0]["players"][0]["result"], "win");
        assert_eq!(matches[0]["players"][1]["rating_after"], after_o);
        let player = matches[0]["players"][0]["player"]
            .as_str()
            .context("player")?
            .to_string();
        assert!(player.starts_with("guest:"), "{player}");
        let mine = get_json(addr, &format!("/matches?player={player}")).await?;
        assert_eq!(mine["matches"].as_array().map(Vec::len), Some(1));
        let nobody = get_json(addr, "/matches?player=user%3Anobody").await?;
        assert_eq!(nobody["matches"].as_array().map(Vec::len), Some(0));

        let detail = get_json(addr, &format!("/matches/{id}")).await?;
        assert_eq!(detail["ranked"], true);
        assert_eq!(detail["settings"]["ranked"], true);
        assert!(detail["ticks"].as_u64().is_some_and(|t| t > 0));
        // Replays are recorded by default: the match's is served as bytes.
        let replay = http_get(addr, &format!("/matches/{id}/replay")).await?;
        assert_eq!(replay.status, 200);
        assert_eq!(
            replay.content_type.as_deref(),
            Some("application/octet-stream")
        );
        assert!(!replay.body.is_empty());
        assert_eq!(http_get(addr, "/matches/999999").await?.status, 404);

        let board = get_json(addr, "/leaderboard?game=tictactoe&limit=5").await?;
        let rows = board["rows"].as_array().context("rows")?;
        assert_eq!(rows.len(), 2);
        assert_eq!(rows[0]["rank"], 1);
        assert_eq!(rows[0]["rating"], after_x);
        assert_eq!(
            (rows[0]["games"].clone(), rows[0]["wins"].clone()),
            (1.into(), 1.into())
        );
        assert_eq!(http_get(addr, "/leaderboard?game=chess").await?.status, 404);

        x.send(&ClientMsg::Leaderboard {
            game: TICTACTOE.into(),
            limit: 1,
        })
        .await?;
        let rows = x
            .recv_until(|msg| match msg {
                ServerMsg::Leaderboard { rows, .. } => Some(rows.clone()),
                _ => None,
            })
            .await?;
        assert_eq!(rows.len(), 1);
        assert_eq!((rows[0].rank, rows[0].rating), (1, after_x));

        let metrics = http_get(addr, "/metrics").await?.body;
        assert!(
            metrics.contains("ticksync_storage_writes_total 1"),
            "{metrics}"
        );

        // Both players are guests: pruned as if their retention had passed, the match
        // keeps both seats (as `guest:pruned`) and the leaderboard empties.
        let storage = server.lobby().storage();
        let tomorrow = ticksync::storage::now_ms() + 86_400_000;
        assert_eq!(storage.prune_guests(tomorrow).await?, 2, "{storage:?}");
        let detail = get_json(addr, &format!("/matches/{id}")).await?;
        let seats = detail["players"].as_array().context("players")?;
        assert_eq!(seats.len(), 2);
        for seat in seats {
            assert_eq!(seat["player"], ticksync::storage::PRUNED_GUEST);
        }
        assert_eq!(seats[1]["rating_after"], after_o);
        let gone = get_json(addr, &format!("/matches?player={player}")).await?;
        assert_eq!(gone["matches"].as_array().map(Vec::len), Some(0));
        let pruned = get_json(addr, "/matches?player=guest%3Apruned").await?;
        assert_eq!(pruned["matches"][0]["id"], id.get(), "{storage:?}");
        let metrics = http_get(addr, "/metrics").await?.body;
        assert!(
            metrics.contains("ticksync_storage_guests_pruned_total 2"),
            "{metrics}"
        );
        server.shutdown().await;
    }
    Ok(())
}

#[tokio::test]
async fn a_private_room_is_unranked_unless_asked() -> Result<()> {
    for storage in backends("unranked").await? {
        let server = open(config_with(storage)).await?;
        let addr = server.local_addr();
        let mut ids = Vec::new();
        for ranked in [false, true] {
            let mut x = Client::connect(addr, Codec::MsgPack).await?;
            x.send(&ClientMsg::CreateRoom {
                game: TICTACTOE.into(),
                settings: RoomSettings {
                    ranked,
                    ..RoomSettings::default()
                },
            })
            .await?;
            let joined = x.room_joined().await?;
            let mut o = Client::connect(addr, Codec::Bincode).await?;
            o.send(&ClientMsg::JoinRoom {
                code: joined.code.clone(),
                spectate: false,
            })
            .await?;
            o.room_joined().await?;
            play(&mut x, &mut o, &[0, 3, 1, 4, 2]).await?;
            x.game_over().await?;
            if ranked {
                let (id, ..) = rating_changed(&mut o).await?;
                assert_eq!(id, MatchId::from(joined.room_id));
            }
            ids.push((joined.room_id, ranked));
        }
        for (id, ranked) in ids {
            let detail = wait_for_json(addr, &format!("/matches/{id}")).await?;
            assert_eq!(detail["ranked"], ranked);
            assert_eq!(detail["public"], false);
            assert_eq!(detail["players"][0]["rating_after"].is_null(), !ranked);
        }
        server.shutdown().await;
    }
    Ok(())
}

#[tokio::test]
async fn ids_and_ratings_outlive_a_restart() -> Result<()> {
    for storage in backends("restart").await? {
        let mut config = config_with(storage);
        config.security.auth.hs256_secret = Some(SECRET.to_vec());
        let (alice, bob) = (hs256(&claims("alice")), hs256(&claims("bob")));
        let mut rooms = Vec::new();
        let mut sessions = Vec::new();
        // Each player's rating after the first run, read back as `previous` in the second.
        let mut after_first: Option<(u16, u16)> = None;
        for _run in 0..2 {
            let server = open(config.clone()).await?;
            let addr = server.local_addr();
            let (mut a, _) = Client::login(addr, Codec::Bincode, &alice, None).await?;
            a.find_match().await?;
            let (mut b, _) = Client::login(addr, Codec::MsgPack, &bob, None).await?;
            b.find_match().await?;
            let joined = a.match_found().await?;
            b.match_found().await?;
            rooms.push(joined.room_id.get());
            sessions.push(a.session_id.get());
            let a_moves_first = joined.seat == Some(0);
            {
                let (x, o) = if a_moves_first {
                    (&mut a, &mut b)
                } else {
                    (&mut b, &mut a)
                };
                play(x, o, &[0, 3, 1, 4, 2]).await?;
            }
            let (_, a_before, a_after) = rating_changed(&mut a).await?;
            let (_, b_before, b_after) = rating_changed(&mut b).await?;
            match after_first {
                None => after_first = Some((a_after, b_after)),
                Some(first) => assert_eq!(
                    (a_before, b_before),
                    first,
                    "the stored ratings were read back after the restart"
                ),
            }
            server.shutdown().await;
        }
        assert!(rooms[1] > rooms[0] + u64::from(u32::MAX), "{rooms:?}");
        assert!(
            sessions[1] > sessions[0] + u64::from(u32::MAX),
            "{sessions:?}"
        );
        assert!(rooms[1] < 1 << 53);
    }
    Ok(())
}

#[tokio::test]
async fn without_a_database_there_are_no_records() -> Result<()> {
    let server = start(test_config()).await;
    let addr = server.local_addr();
    assert_eq!(
        http_get(addr, "/leaderboard?game=tictactoe").await?.status,
        404
    );
    assert_eq!(http_get(addr, "/matches").await?.status, 404);
    let mut client = Client::connect(addr, Codec::Bincode).await?;
    client
        .refused(
            &ClientMsg::Leaderboard {
                game: TICTACTOE.into(),
                limit: 10,
            },
            ErrorCode::NoRecords,
        )
        .await?;
    // Ids start at 1 as before.
    let (x, _o) = matched_pair(addr, (Codec::Bincode, Codec::Bincode)).await?;
    assert!(x.room.as_ref().is_some_and(|r| r.room_id.get() < 1 << 32));
    server.shutdown().await;
    Ok(())
}

#[tokio::test]
async fn a_server_that_cannot_open_its_database_does_not_start() -> Result<()> {
    let dir = scratch_dir("unopenable");
    let config = config_with(StorageConfig {
        // A directory is not a database file.
        database: Database::Sqlite(dir),
        ..StorageConfig::default()
    });
    let Err(error) = open(config).await else {
        bail!("started on a directory");
    };
    assert!(
        error.to_string().contains("cannot open the database"),
        "{error}"
    );
    Ok(())
}

/// A metric's value from `GET /metrics` (0 when absent).
async fn metric(addr: SocketAddr, line_start: &str) -> Result<f64> {
    let body = http_get(addr, "/metrics").await?.body;
    Ok(body
        .lines()
        .find_map(|line| line.strip_prefix(line_start)?.trim().parse().ok())
        .unwrap_or(0.0))
}

/// Polls `/metrics` (server state, not a sleep to synchronise) until `line_start`'s value
/// reaches `at_least`.
async fn wait_for_metric(addr: SocketAddr, line_start: &str, at_least: f64) -> Result<()> {
    let deadline = Instant::now() + WAIT;
    loop {
        let value = metric(addr, line_start).await?;
        if value >= at_least {
            return Ok(());
        }
        if Instant::now() > deadline {
            bail!("{line_start} stayed at {value}, expected {at_least}");
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// While another connection holds the SQLite file's write lock, a finished game waits in
/// the writer (failed attempts, retried), the next one waits in the queue (capacity 1),
/// and the one after is dropped and counted; once the lock goes, the two kept are written.
#[tokio::test]
async fn results_wait_and_retry_while_the_database_is_locked_and_overflow_is_counted() -> Result<()>
{
    use sqlx::Connection as _;
    let storage = StorageConfig {
        queue: 1,
        ..sqlite("locked")
    };
    let Database::Sqlite(path) = storage.database.clone() else {
        unreachable!()
    };
    let server = open(config_with(storage)).await?;
    let addr = server.local_addr();
    let mut lock = sqlx::SqliteConnection::connect(&format!("sqlite:{}", path.display())).await?;
    sqlx::query("BEGIN EXCLUSIVE").execute(&mut lock).await?;

    let mut rooms = Vec::new();
    let mut players = Vec::new();
    for game in 0..3 {
        let (mut x, mut o) = matched_pair(addr, (Codec::Bincode, Codec::Bincode)).await?;
        rooms.push(x.room.as_ref().context("room")?.room_id);
        play(&mut x, &mut o, &[0, 3, 1, 4, 2]).await?;
        x.game_over().await?;
        if game == 0 {
            // The writer holds the first game and fails on the lock (SQLite's 5 s busy
            // timeout), then retries.
            wait_for_metric(addr, "ticksync_storage_failures_total ", 1.0).await?;
        }
        players.push((x, o));
    }
    wait_for_metric(
        addr,
        "ticksync_storage_dropped_total{reason=\"queue_full\"} ",
        1.0,
    )
    .await?;
    assert!(metric(addr, "ticksync_storage_retries_total ").await? >= 1.0);
    sqlx::query("ROLLBACK").execute(&mut lock).await?;
    lock.close().await?;

    for (i, (x, _)) in players.iter_mut().take(2).enumerate() {
        let (id, ..) = rating_changed(x).await?;
        assert_eq!(id, MatchId::from(rooms[i]));
    }
    wait_for_metric(addr, "ticksync_storage_writes_total ", 2.0).await?;
    let page = get_json(addr, "/matches").await?;
    let ids: Vec<u64> = page["matches"]
        .as_array()
        .context("matches")?
        .iter()
        .filter_map(|m| m["id"].as_u64())
        .collect();
    assert_eq!(
        ids,
        [rooms[1].get(), rooms[0].get()],
        "the dropped game is not recorded"
    );
    server.shutdown().await;
    Ok(())
}
