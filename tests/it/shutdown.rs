//! Graceful shutdown: the real `ticksync` binary as a child process, sent SIGTERM and
//! SIGINT with `kill(2)`, and the in-process drain for what needs no process.

use std::net::SocketAddr;
use std::process::Stdio;
use std::time::Duration;

use anyhow::{Context, Result, bail, ensure};
use ticksync::codec::Codec;
use ticksync::protocol::{ClientMsg, EndReason, ErrorCode, RoomEvent, ServerMsg, close_code};
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::{Child, Command};
use tokio::sync::mpsc;

use crate::support::*;

/// A `ticksync serve` child process and its log lines.
struct ServerProcess {
    child: Child,
    addr: SocketAddr,
    logs: mpsc::UnboundedReceiver<String>,
    seen: Vec<String>,
}

impl ServerProcess {
    /// Starts the binary on an ephemeral port with JSON logs and reads its address from
    /// the "ticksync listening" log line.
    async fn spawn(extra: &[&str]) -> Result<ServerProcess> {
        let mut child = Command::new(env!("CARGO_BIN_EXE_ticksync"))
            // The default database file (./ticksync.db) goes there, not into the repository.
            .current_dir(crate::support::scratch_dir("shutdown"))
            .args([
                "serve",
                "--addr",
                "127.0.0.1:0",
                "--tick-hz",
                "60",
                "--shards",
                "2",
            ])
            .args(["--log", "info", "--log-format", "json"])
            .args(extra)
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .kill_on_drop(true)
            .spawn()
            .context("spawning ticksync")?;
        let stdout = child.stdout.take().context("no stdout")?;
        let (tx, logs) = mpsc::unbounded_channel();
        // Keep reading, so the server never blocks on a full pipe.
        tokio::spawn(async move {
            let mut lines = BufReader::new(stdout).lines();
            while let Ok(Some(line)) = lines.next_line().await {
                if tx.send(line).is_err() {
                    break;
                }
            }
        });
        let mut server = ServerProcess {
            child,
            addr: "0.0.0.0:0".parse()?,
            logs,
            seen: Vec::new(),
        };
        let line = server.log_line("ticksync listening").await?;
        server.addr = line["fields"]["local_addr"]
            .as_str()
            .context("no local_addr field")?
            .parse()?;
        Ok(server)
    }

    /// The next JSON log line whose message starts with `message`. Every line must be JSON.
    async fn log_line(&mut self, message: &str) -> Result<serde_json::Value> {
        let found = async {
            while let Some(line) = self.logs.recv().await {
                self.seen.push(line.clone());
                let value: serde_json::Value = serde_json::from_str(&line)
                    .with_context(|| format!("not a JSON log line: {line}"))?;
                ensure!(value["level"].is_string(), "no level in {line}");
                let text = value["fields"]["message"].as_str().unwrap_or_default();
                if text.starts_with(message) {
                    return Ok(value);
                }
            }
            bail!(
                "the server's output ended before {message:?}: {:?}",
                self.seen
            )
        };
        tokio::time::timeout(WAIT, found)
            .await
            .with_context(|| format!("no {message:?} log line"))?
    }

    fn signal(&self, signal: libc::c_int) -> Result<()> {
        let pid = self.child.id().context("the server already exited")?;
        // SAFETY: kill(2) with a live child's pid and a valid signal number.
        let rc = unsafe { libc::kill(pid as libc::pid_t, signal) };
        ensure!(rc == 0, "kill failed: {}", std::io::Error::last_os_error());
        Ok(())
    }

    /// Waits for the process to exit; returns its exit code.
    async fn exit_code(mut self) -> Result<Option<i32>> {
        let status = tokio::time::timeout(WAIT, self.child.wait())
            .await
            .context("the server did not exit")??;
        Ok(status.code())
    }
}

/// Waits for `ServerShutdown`; returns (retry_after_ms, drain_ms).
async fn told(client: &mut Client) -> Result<(u32, u32)> {
    client
        .recv_until(|m| match m {
            ServerMsg::ServerShutdown {
                retry_after_ms,
                drain_ms,
            } => Some((*retry_after_ms, *drain_ms)),
            _ => None,
        })
        .await
}

async fn room_left(client: &mut Client) -> Result<()> {
    client
        .recv_until(|m| matches!(m, ServerMsg::RoomLeft { .. }).then_some(()))
        .await
}

#[tokio::test]
async fn sigterm_lets_a_running_game_finish_refuses_new_ones_and_exits_0() -> Result<()> {
    // A drain long enough for a loaded machine; the game ends well before it.
    let mut server = ServerProcess::spawn(&["--drain-timeout", "60"]).await?;
    let addr = server.addr;
    let (mut x, mut o) = matched_pair(addr, (Codec::Bincode, Codec::MsgPack)).await?;
    play(&mut x, &mut o, &[0, 3]).await?;
    let mut idle = Client::connect(addr, Codec::MsgPack).await?;

    server.signal(libc::SIGTERM)?;
    // Everyone is told; a connection in no room is closed at once with 1001.
    assert_eq!(told(&mut idle).await?, (5_000, 60_000));
    assert_eq!(idle.closed().await?, Some(close_code::GOING_AWAY));
    assert_eq!(told(&mut x).await?, (5_000, 60_000));
    assert_eq!(told(&mut o).await?, (5_000, 60_000));
    server
        .log_line("shutting down: draining (a second signal stops at once)")
        .await?;
    // No new matches or rooms, and no new connections.
    x.refused(
        &ClientMsg::FindMatch {
            game: TICTACTOE.into(),
            options: bytes::Bytes::new(),
        },
        ErrorCode::ShuttingDown,
    )
    .await?;
    let create = ClientMsg::CreateRoom {
        game: TICTACTOE.into(),
        settings: Default::default(),
    };
    o.refused(&create, ErrorCode::ShuttingDown).await?;
    assert!(
        Client::connect(addr, Codec::Bincode).await.is_err(),
        "a new connection was accepted during the drain"
    );
    // The running game goes on to its end, then its players are closed with 1001.
    play_from(&mut x, &mut o, 2, &[1, 4, 2]).await?;
    for player in [&mut x, &mut o] {
        assert_eq!(player.game_over().await?, (Some(0), EndReason::Win));
        room_left(player).await?;
        assert_eq!(player.closed().await?, Some(close_code::GOING_AWAY));
    }
    server.log_line("ticksync stopped").await?;
    assert_eq!(server.exit_code().await?, Some(0));
    Ok(())
}

#[tokio::test]
async fn a_second_signal_exits_at_once() -> Result<()> {
    // A drain far longer than any wait here: only the second signal can end it in time.
    let server = ServerProcess::spawn(&["--drain-timeout", "600"]).await?;
    let (mut x, mut o) = matched_pair(server.addr, (Codec::MsgPack, Codec::Bincode)).await?;
    play(&mut x, &mut o, &[4]).await?;
    server.signal(libc::SIGINT)?;
    told(&mut x).await?;
    server.signal(libc::SIGINT)?;
    assert_eq!(server.exit_code().await?, Some(128 + libc::SIGINT));
    Ok(())
}

#[tokio::test]
async fn when_the_drain_runs_out_unfinished_games_end_with_server_shutdown() -> Result<()> {
    let mut config = test_config();
    config.matching.fill_wait = Duration::from_millis(50);
    let server = start(config).await;
    let addr = server.local_addr();
    let (mut x, mut o) = matched_pair(addr, (Codec::Bincode, Codec::MsgPack)).await?;
    play(&mut x, &mut o, &[0]).await?;
    // A real-time arena game, which cannot end by its rules: it ends when the drain starts.
    let mut racer = Client::connect(addr, Codec::Bincode).await?;
    racer
        .send(&ClientMsg::FindMatch {
            game: "arena".into(),
            options: bytes::Bytes::new(),
        })
        .await?;
    racer.match_found().await?;
    racer
        .seen_or_next_event(|e| matches!(e, RoomEvent::GameStarted).then_some(()))
        .await?;

    let drain = tokio::spawn(server.drain(Duration::from_millis(300)));
    told(&mut racer).await?;
    assert_eq!(racer.game_over().await?, (None, EndReason::ServerShutdown));
    room_left(&mut racer).await?;
    assert_eq!(racer.closed().await?, Some(close_code::GOING_AWAY));
    for player in [&mut x, &mut o] {
        told(player).await?;
        assert_eq!(player.game_over().await?, (None, EndReason::ServerShutdown));
        room_left(player).await?;
        assert_eq!(player.closed().await?, Some(close_code::GOING_AWAY));
    }
    let report = drain.await?;
    assert_eq!(report.told, 3);
    assert_eq!(report.ended, 1, "the tic-tac-toe game was still running");
    assert!(report.clean, "{report:?}");
    Ok(())
}

/// A client that stops reading (its writer blocked on a full socket, with a write timeout
/// far longer than any wait here) cannot hold the drain up: the drain gives close frames
/// its close grace, reports the connection as not closed cleanly, and returns.
#[tokio::test]
async fn a_blocked_writer_does_not_hold_the_drain_up() -> Result<()> {
    const CHATS: u32 = 20_000;
    let mut config = test_config();
    config.write_timeout = Duration::from_secs(600);
    config.outbox_events = 1_000_000;
    config.chat_burst = u32::MAX;
    config.chat_per_second = 1e9;
    // Lift the per-connection rate limits and the slow-reader cut (tests/it/limits.rs
    // tests those): here the writer must stay blocked until the drain gives up on it.
    config.limits.messages_per_second = 1_000_000;
    config.limits.message_burst = 1_000_000;
    config.limits.bytes_per_second = 1 << 30;
    config.limits.byte_burst = 1 << 30;
    config.limits.slow_reader_timeout = Duration::from_secs(600);
    let server = start(config).await;
    let addr = server.local_addr();
    let mut slow = Client::connect_small_buffer(addr, Codec::Bincode).await?;
    slow.send(&ClientMsg::CreateRoom {
        game: TICTACTOE.into(),
        settings: Default::default(),
    })
    .await?;
    let code = slow.room_joined().await?.code;
    let mut flooder = Client::connect(addr, Codec::Bincode).await?;
    flooder
        .send(&ClientMsg::JoinRoom {
            code,
            spectate: false,
        })
        .await?;
    flooder.room_joined().await?;
    // About 4.5 MB of chat events for `slow`, which reads none of them.
    let text = "x".repeat(200);
    for _ in 0..CHATS {
        flooder
            .send(&ClientMsg::Chat { text: text.clone() })
            .await?;
    }
    // Once the flooder has its own copy of the last chat, every chat is in `slow`'s queue.
    let mut seen = 0;
    while seen < CHATS {
        flooder
            .event(|e| matches!(e, RoomEvent::Chat { .. }).then_some(()))
            .await?;
        seen += 1;
    }
    let report = tokio::time::timeout(WAIT, server.drain(Duration::ZERO))
        .await
        .context("the drain waited for a blocked writer")?;
    assert!(
        !report.clean,
        "the blocked connection cannot have closed: {report:?}"
    );
    assert_eq!(report.told, 2);
    Ok(())
}
