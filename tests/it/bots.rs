//! Server bots over real sockets (`MatchConfig::bot_fill_after`, `--bot-fill-after`): a
//! lone quick-match player gets a bot opponent and plays a whole game against it; the
//! bot's moves are in the replay; the record marks the bot and is unranked. That nobody
//! gets a bot with the option off, and when the bot comes, are tested on paused time in
//! `src/lobby/matchmaker.rs` (`driver_tests`).

use std::sync::{Arc, Mutex};
use std::time::Duration;

use anyhow::{Context, Result, bail, ensure};
use serde_json::Value;
use ticksync::codec::Codec;
use ticksync::config::ServerConfig;
use ticksync::engine::{FinishedGame, FinishedHook};
use ticksync::protocol::ServerMsg;
use ticksync::server::{Server, builtin_games};
use ticksync::storage::{Database, StorageConfig};
use tokio::net::TcpListener;
use tokio::time::Instant;

use crate::support::{Client, TICTACTOE, WAIT, http_get, scratch_dir, test_config};

/// Starts a server that opens its database.
async fn open(config: ServerConfig) -> Result<Server> {
    let listener = TcpListener::bind("127.0.0.1:0").await?;
    Ok(Server::open(listener, config).await?)
}

/// Polls `GET path` (server state, not a sleep to synchronise) until it answers 200.
async fn wait_for_json(server: &Server, path: &str) -> Result<Value> {
    let deadline = Instant::now() + WAIT;
    loop {
        let response = http_get(server.local_addr(), path).await?;
        if response.status == 200 {
            return Ok(serde_json::from_str(&response.body)?);
        }
        if Instant::now() > deadline {
            bail!("GET {path} stayed {} {}", response.status, response.body);
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// The next message must be `Queued` alone in the tic-tac-toe queue.
async fn expect_queued(client: &mut Client) -> Result<()> {
    match client.recv().await? {
        ServerMsg::Queued {
            game,
            position: 1,
            queue_size: 1,
        } if game == TICTACTOE => Ok(()),
        other => bail!("expected Queued, got {other:?}"),
    }
}

#[tokio::test]
async fn a_lone_player_gets_a_bot_and_plays_a_whole_game_against_it() -> Result<()> {
    for codec in [Codec::MsgPack, Codec::Bincode] {
        let finished: Arc<Mutex<Vec<FinishedGame>>> = Arc::default();
        let sink = finished.clone();
        let mut config = test_config();
        config.matching.bot_fill_after = Some(Duration::from_millis(200));
        config.matching.retry_interval = Duration::from_millis(20);
        config.matching.bot_strategy = "perfect".into();
        config.on_game_finished = Some(FinishedHook::new(move |game| {
            sink.lock().unwrap().push(game.clone());
        }));
        config.storage = StorageConfig {
            database: Database::Sqlite(scratch_dir("bots").join("results.db")),
            ..StorageConfig::default()
        };
        let server = open(config).await?;
        let mut human = Client::connect(server.local_addr(), codec).await?;
        let queued_at = Instant::now();
        human.find_match().await?;
        expect_queued(&mut human).await?;
        let joined = human.match_found().await?;
        let waited = queued_at.elapsed();
        ensure!(
            waited >= Duration::from_millis(200),
            "a bot after {waited:?}"
        );
        let seat = joined.seat.context("seated")?;
        assert_eq!(joined.game, TICTACTOE);
        assert_eq!(joined.bots, vec![1 - seat], "the other seat is the bot's");

        // The human plays the first free cell whenever it is to move; the bot answers.
        let mut moves = 0;
        let final_view = loop {
            let (_, _, view) = human
                .snapshot_where(|v| v.over || v.to_move == Some(seat))
                .await?;
            if view.over {
                break view;
            }
            let cell = (0u8..9)
                .find(|&c| view.board[usize::from(c)] == 0)
                .context("a free cell")?;
            human.send_move(cell).await?;
            moves += 1;
        };
        let (winner, _) = human.game_over().await?;
        // A perfect bot never loses.
        assert_ne!(winner, Some(seat), "{final_view:?}");
        let marks = final_view.board.iter().filter(|&&c| c != 0).count();
        assert!(marks > moves, "the bot moved too: {final_view:?}");

        // The engine's record marks the bot's seat, and its moves are in the replay.
        let deadline = Instant::now() + WAIT;
        let game = loop {
            if let Some(game) = finished.lock().unwrap().first().cloned() {
                break game;
            }
            ensure!(Instant::now() < deadline, "no finished game reported");
            tokio::time::sleep(Duration::from_millis(20)).await;
        };
        let bots: Vec<(u8, bool)> = game.players.iter().map(|p| (p.seat, p.bot)).collect();
        let mut expected = vec![(seat, false), (1 - seat, true)];
        expected.sort();
        assert_eq!(bots, expected);
        let replay = game.replay.as_ref().context("recorded")?;
        let verified = ticksync::replay::verify(replay, &builtin_games())?;
        assert_eq!(verified.outcome, game.outcome);
        assert_eq!(
            verified.inputs,
            u64::try_from(marks)?,
            "every move, the bot's too"
        );

        // The stored record: unranked, the bot under its own key, no rating for anyone.
        let detail = wait_for_json(&server, &format!("/matches/{}", joined.room_id)).await?;
        assert_eq!(detail["ranked"], false, "{detail}");
        assert_eq!(detail["public"], true, "{detail}");
        let players = detail["players"].as_array().context("players")?;
        assert_eq!(players.len(), 2, "{detail}");
        for player in players {
            let is_bot = player["seat"] == u64::from(1 - seat);
            assert_eq!(player["player"] == "bot:tictactoe", is_bot, "{detail}");
            assert!(player["rating_after"].is_null(), "{detail}");
        }
        human.close().await?;
        server.shutdown().await;
    }
    Ok(())
}
