//! Replays end to end: games played over real sockets are captured with their replays
//! (`ServerConfig::on_game_finished`), verified, and checked by the `ticksync replay`
//! command, which names the tick where a tampered replay differs.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use anyhow::{Context, Result, bail};
use ticksync::client::{ArenaLoad, ArenaLoadConfig, Bot, BotConfig, Recorder};
use ticksync::codec::Codec;
use ticksync::config::ServerConfig;
use ticksync::engine::{FinishedGame, FinishedHook};
use ticksync::protocol::EndReason;
use ticksync::replay::{LogReader, Record, decompress, encode_records, verify};
use ticksync::server::builtin_games;
use tokio::task::JoinSet;
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

use crate::support::{WAIT, http_get, start, test_config};

type Finished = Arc<Mutex<Vec<FinishedGame>>>;

fn capturing(mut config: ServerConfig) -> (ServerConfig, Finished) {
    let finished = Finished::default();
    let sink = finished.clone();
    config.on_game_finished = Some(FinishedHook::new(move |game| {
        sink.lock().unwrap().push(game.clone());
    }));
    (config, finished)
}

/// Runs `ticksync replay` on `bytes`; returns whether it succeeded, stdout and stderr.
fn replay_command(name: &str, bytes: &[u8]) -> Result<(bool, String, String)> {
    let dir = std::env::temp_dir().join(format!("ticksync-replay-{}", std::process::id()));
    std::fs::create_dir_all(&dir)?;
    let path = dir.join(name);
    std::fs::write(&path, bytes)?;
    let output = std::process::Command::new(env!("CARGO_BIN_EXE_ticksync"))
        .arg("replay")
        .arg(&path)
        .output()
        .context("runs ticksync replay")?;
    std::fs::remove_file(&path)?;
    Ok((
        output.status.success(),
        String::from_utf8_lossy(&output.stdout).into_owned(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    ))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tictactoe_games_over_sockets_replay_and_the_command_names_a_tampered_tick() -> Result<()> {
    let (config, finished) = capturing(test_config());
    let server = start(config).await;
    let url = format!("ws://{}/", server.local_addr());
    let recorder = Recorder::default();
    let stop = CancellationToken::new();
    let mut bots = JoinSet::new();
    for (seed, codec) in [(5u64, Codec::Bincode), (6, Codec::MsgPack)] {
        let config = BotConfig {
            codec,
            games: Some(2),
            timeout: WAIT,
            seed: Some(seed),
            ..BotConfig::new(url.clone())
        };
        bots.spawn(Bot::new(config, recorder.clone(), stop.clone()).run());
    }
    while let Some(result) = bots.join_next().await {
        assert_eq!(result??, 2);
    }
    let replays = server
        .shard_stats()
        .await
        .iter()
        .fold((0, 0, 0), |sum, shard| {
            let r = shard.replays;
            (sum.0 + r.recorded, sum.1 + r.bytes, sum.2 + r.dropped)
        });
    let metrics = http_get(server.local_addr(), "/metrics").await?.body;
    server.shutdown().await;
    let finished = std::mem::take(&mut *finished.lock().unwrap());
    assert_eq!(finished.len(), 2, "both games reported");
    let bytes: usize = finished
        .iter()
        .filter_map(|g| g.replay.as_ref())
        .map(|r| r.len())
        .sum();
    assert_eq!(
        replays,
        (2, bytes as u64, 0),
        "the shards counted both replays"
    );
    for name in [
        "ticksync_replays_recorded_total",
        "ticksync_replay_bytes_total",
        "ticksync_replays_dropped_total",
    ] {
        assert!(metrics.contains(name), "{name} missing from /metrics");
    }
    let registry = builtin_games();
    for game in &finished {
        let replay = game.replay.as_ref().context("recorded")?;
        let verified = verify(replay, &registry)?;
        assert_eq!(verified.outcome, game.outcome);
        assert_eq!(verified.header.game, "tictactoe");
    }

    // The command: the untouched replay verifies and prints the outcome.
    let game = &finished[0];
    let replay = game.replay.as_ref().context("recorded")?;
    let (ok, stdout, stderr) = replay_command("good.tsrp", replay)?;
    assert!(ok, "{stderr}");
    let reason = format!("({:?})", game.outcome.reason);
    assert!(
        stdout.starts_with("tictactoe game of 2 players"),
        "{stdout}"
    );
    assert!(stdout.contains(&reason), "{stdout}");

    // The last move changed to another cell: the final state differs at the end tick.
    let log = decompress(replay)?;
    let (header, mut reader) = LogReader::new(&log)?;
    let mut records = Vec::new();
    while let Some(record) = reader.next_record()? {
        records.push(record);
    }
    let last_input = records
        .iter()
        .rposition(|r| matches!(r, Record::Input { .. }))
        .context("a game has inputs")?;
    let Record::Input { now, data, .. } = records[last_input] else {
        bail!("not an input");
    };
    let mut changed_cell = data.to_vec();
    // Both codecs put a small cell number in the input's last byte.
    let cell = changed_cell.last_mut().context("an input has bytes")?;
    *cell = if *cell == 8 { 0 } else { 8 };
    if let Record::Input { data, .. } = &mut records[last_input] {
        *data = &changed_cell;
    }
    let tampered = zstd::bulk::compress(&encode_records(&header, &records), 3)?;
    let (ok, _, stderr) = replay_command("tampered.tsrp", &tampered)?;
    assert!(!ok, "a tampered replay verified");
    // Either the changed move is refused (the cell is taken) or the state differs; both
    // are named at a tick from the changed input's on.
    let named = stderr
        .split("differs at tick ")
        .nth(1)
        .and_then(|rest| rest.split(' ').next())
        .and_then(|tick| tick.parse::<u64>().ok())
        .with_context(|| format!("no tick named: {stderr}"))?;
    assert!(named >= now && named <= game.ended, "{stderr}");
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_arena_ended_by_a_shutdown_has_a_replay_that_verifies() -> Result<()> {
    let mut config = test_config();
    config.tick_hz = 30;
    config.matching.fill_wait = Duration::from_millis(100);
    let (config, finished) = capturing(config);
    let server = start(config).await;
    let url = format!("ws://{}/", server.local_addr());
    let load = ArenaLoad::start(ArenaLoadConfig {
        codec: Codec::MsgPack,
        settle: Duration::ZERO,
        timeout: WAIT,
        ..ArenaLoadConfig::arena(url, 8, Duration::from_secs(60))
    });
    // Until the bots have been moving for a while (a few dozen states each).
    let deadline = Instant::now() + WAIT;
    while load.recorder().updates_so_far() < 8 * 40 {
        if Instant::now() > deadline {
            bail!("the arena bots got no states");
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    server.shutdown().await;
    load.stop();
    let _ = load.finish().await;
    let finished = std::mem::take(&mut *finished.lock().unwrap());
    assert!(!finished.is_empty(), "the arena game was reported");
    for game in &finished {
        assert_eq!(game.game, "arena");
        assert_eq!(game.outcome.reason, EndReason::ServerShutdown);
        let replay = game.replay.as_ref().context("recorded")?;
        let verified = verify(replay, &builtin_games())?;
        assert_eq!(verified.outcome, game.outcome);
        assert!(verified.inputs > 0, "the bots' inputs are in the replay");
        assert!(verified.checks >= 2, "{verified}");
    }
    Ok(())
}

/// An arena has no end of its own: when every player has gone (here past a short
/// reconnect grace), the game is still reported, once, as `Abandoned` with no winner, and
/// its replay verifies.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_arena_every_player_left_is_reported_and_its_replay_verifies() -> Result<()> {
    let mut config = test_config();
    config.tick_hz = 30;
    config.reconnect_grace = Duration::from_millis(300);
    config.matching.fill_wait = Duration::from_millis(100);
    let (config, finished) = capturing(config);
    let server = start(config).await;
    let url = format!("ws://{}/", server.local_addr());
    let load = ArenaLoad::start(ArenaLoadConfig {
        codec: Codec::Bincode,
        settle: Duration::ZERO,
        timeout: WAIT,
        ..ArenaLoadConfig::arena(url, 4, Duration::from_secs(60))
    });
    let deadline = Instant::now() + WAIT;
    while load.recorder().updates_so_far() < 4 * 40 {
        if Instant::now() > deadline {
            bail!("the arena bots got no states");
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    load.stop();
    let _ = load.finish().await;
    // Polls what the server reported (its state, not a sleep to synchronise).
    let deadline = Instant::now() + WAIT;
    let finished = loop {
        let now = std::mem::take(&mut *finished.lock().unwrap());
        if !now.is_empty() {
            break now;
        }
        if Instant::now() > deadline {
            bail!("the deserted arena game was never reported");
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    };
    assert_eq!(finished.len(), 1, "one game, reported once");
    let game = &finished[0];
    assert_eq!(game.game, "arena");
    assert_eq!(game.outcome.reason, EndReason::Abandoned);
    assert_eq!(game.outcome.winner, None);
    assert_eq!(game.players.len(), 4);
    let replay = game.replay.as_ref().context("recorded")?;
    let verified = verify(replay, &builtin_games())?;
    assert_eq!(verified.outcome, game.outcome);
    assert!(verified.inputs > 0, "the bots' inputs are in the replay");
    server.shutdown().await;
    Ok(())
}
