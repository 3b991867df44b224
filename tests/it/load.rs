//! The load driver's own code, run in-process: a short `ttt` load, chaos bots that drop and
//! resume, and perfect bots that must always draw. Nothing here asserts timing.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use anyhow::Result;
use ticksync::client::{Backoff, Bot, BotConfig, Load, LoadConfig, Recorder};
use ticksync::codec::Codec;
use ticksync::engine::{FinishedGame, FinishedHook};
use ticksync::game::tictactoe_ai::Strategy;
use ticksync::server::Stats;
use ticksync::server::builtin_games;
use tokio::task::JoinSet;
use tokio_util::sync::CancellationToken;

use crate::support::{WAIT, start, test_config, wait_for_stats};

fn url(server: &ticksync::server::Server) -> String {
    format!("ws://{}/", server.local_addr())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_short_ttt_load_has_no_errors_and_only_legal_outcomes() -> Result<()> {
    let server = start(test_config()).await;
    let config = LoadConfig {
        warmup: Duration::ZERO,
        timeout: WAIT,
        ..LoadConfig::ttt(url(&server), 100, Duration::from_secs(5))
    };
    let tally = Load::start(config).finish().await;
    assert_eq!(tally.errors, 0, "errors: {:?}", tally.error_samples);
    assert_eq!(tally.illegal_outcomes, 0, "{:?}", tally.error_samples);
    assert!(tally.games > 0, "no game finished");
    assert!(
        tally.moves >= 5 * tally.games,
        "a game has at least five moves"
    );
    assert_eq!(
        tally.wins + tally.losses + tally.draws + tally.forfeits,
        2 * tally.games,
        "both players of every game recorded a result"
    );
    assert_eq!(tally.forfeits, 0, "nobody timed out or left mid-game");
    wait_for_stats(&server, Stats::default()).await?;
    server.shutdown().await;
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn chaos_bots_drop_resume_and_finish_every_game_legally() -> Result<()> {
    let mut config = test_config();
    let finished = Arc::new(Mutex::new(Vec::<FinishedGame>::new()));
    let sink = finished.clone();
    config.on_game_finished = Some(FinishedHook::new(move |game| {
        sink.lock().unwrap().push(game.clone());
    }));
    let server = start(config).await;
    let recorder = Recorder::default();
    let stop = CancellationToken::new();
    let mut bots = JoinSet::new();
    for seed in 0..4u64 {
        let config = BotConfig {
            codec: if seed % 2 == 0 {
                Codec::Bincode
            } else {
                Codec::MsgPack
            },
            games: Some(4),
            chaos: 0.2,
            backoff: Backoff {
                base: Duration::from_millis(5),
                max: Duration::from_millis(50),
                attempts: 10,
            },
            timeout: WAIT,
            seed: Some(seed),
            ..BotConfig::new(url(&server))
        };
        bots.spawn(Bot::new(config, recorder.clone(), stop.clone()).run());
    }
    let mut played = 0;
    while let Some(result) = bots.join_next().await {
        played += result??;
        // A bot whose partners have all finished would wait in the queue alone: let it go.
        if bots.len() < 2 {
            stop.cancel();
        }
    }
    let tally = recorder.tally();
    assert_eq!(tally.errors, 0, "errors: {:?}", tally.error_samples);
    assert_eq!(tally.illegal_outcomes, 0, "{:?}", tally.error_samples);
    assert!(tally.reconnects > 0, "chaos never struck");
    assert!(tally.games >= 4, "only {} games", tally.games);
    assert_eq!(
        tally.wins + tally.losses + tally.draws + tally.forfeits,
        played,
        "every game a bot finished has a legal result"
    );
    assert_eq!(tally.forfeits, 0, "every dropped bot came back in time");
    wait_for_stats(&server, Stats::default()).await?;
    // Every game the server finished has a replay that re-runs to the same outcome.
    let finished = std::mem::take(&mut *finished.lock().unwrap());
    assert!(
        finished.len() as u64 >= tally.games,
        "{} games reported for {} played",
        finished.len(),
        tally.games
    );
    let registry = builtin_games();
    for game in &finished {
        let replay = game.replay.as_ref().expect("every game is recorded");
        let verified = ticksync::replay::verify(replay, &registry)
            .unwrap_or_else(|error| panic!("room {}: {error}", game.room));
        assert_eq!(verified.outcome, game.outcome, "room {}", game.room);
        assert_eq!(
            (verified.header.start, verified.ended),
            (game.started, game.ended)
        );
        assert!(
            verified.inputs >= 5,
            "a finished game has five moves or more"
        );
    }
    server.shutdown().await;
    Ok(())
}

#[tokio::test]
async fn two_perfect_bots_always_draw() -> Result<()> {
    let server = start(test_config()).await;
    let recorder = Recorder::default();
    let stop = CancellationToken::new();
    let mut bots = JoinSet::new();
    for (seed, codec) in [(1u64, Codec::Bincode), (2, Codec::MsgPack)] {
        let config = BotConfig {
            codec,
            strategy: Strategy::Perfect,
            games: Some(3),
            timeout: WAIT,
            seed: Some(seed),
            ..BotConfig::new(url(&server))
        };
        bots.spawn(Bot::new(config, recorder.clone(), stop.clone()).run());
    }
    while let Some(result) = bots.join_next().await {
        assert_eq!(result??, 3);
    }
    let tally = recorder.tally();
    assert_eq!(tally.errors, 0, "errors: {:?}", tally.error_samples);
    assert_eq!(tally.games, 3);
    assert_eq!(tally.draws, 6, "both bots drew all three games: {tally:?}");
    server.shutdown().await;
    Ok(())
}

#[tokio::test]
async fn metrics_report_every_shards_ticks() -> Result<()> {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let server = start(test_config()).await;
    let mut stream = tokio::net::TcpStream::connect(server.local_addr()).await?;
    stream
        .write_all(b"GET /metrics.json HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n")
        .await?;
    let mut response = String::new();
    tokio::time::timeout(WAIT, stream.read_to_string(&mut response)).await??;
    let (head, body) = response.split_once("\r\n\r\n").unwrap_or_default();
    assert!(head.starts_with("HTTP/1.1 200"), "{head}");
    let metrics: serde_json::Value = serde_json::from_str(body)?;
    let shards = metrics["shards"].as_array().expect("a shards array");
    assert_eq!(shards.len(), 2);
    for shard in shards {
        assert!(shard["tick_us"]["p99"].is_u64(), "{shard}");
        assert!(shard["tick_us_recorded"].is_array(), "{shard}");
    }
    server.shutdown().await;
    Ok(())
}
