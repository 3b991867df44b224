//! The server's hand-framed writes read by an independent WebSocket implementation: the
//! Python `websockets` library (`tests/python/ws_client.py`). The client says `Hello`,
//! joins an arena match, walks, and reads 40 messages (the `Welcome`, `MatchFound`, then
//! states),
//! checks that the server answers its ping (a pong the server's reader hands to its
//! writer), and closes with 1000; this test decodes every message it printed.
//!
//! Needs `python3` with `websockets` (`pip install websockets`); without them it prints
//! `SKIPPED: ...` and passes, unless `TICKSYNC_REQUIRE_SERVICES=1` (as in `.ci/run`).

use std::path::Path;
use std::process::Stdio;

use anyhow::{Context, Result, bail};
use ticksync::codec::Codec;
use ticksync::protocol::{ClientMsg, PROTOCOL_VERSION, ServerMsg};
use tokio::process::Command;

use crate::support::{WAIT, start, test_config};

/// Messages the client reads before it pings and closes.
const COUNT: usize = 40;

async fn missing_python() -> Option<String> {
    let probe = Command::new("python3")
        .args(["-c", "import websockets.sync.client"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .await;
    match probe {
        Ok(status) if status.success() => None,
        Ok(_) => Some("python3 has no `websockets` (pip install websockets)".into()),
        Err(_) => Some("`python3` is not on PATH".into()),
    }
}

#[tokio::test]
async fn python_websockets_reads_the_servers_frames_in_every_codec() -> Result<()> {
    if let Some(why) = missing_python().await {
        if std::env::var("TICKSYNC_REQUIRE_SERVICES").as_deref() == Ok("1") {
            bail!("the Python client test cannot run: {why}");
        }
        eprintln!("SKIPPED: python_websockets_reads_the_servers_frames_in_every_codec: {why}");
        return Ok(());
    }
    let mut config = test_config();
    // A lone client's match starts at once instead of waiting for the room to fill.
    config.matching.fill_wait = std::time::Duration::from_millis(50);
    let server = start(config).await;
    let url = format!("ws://{}/", server.local_addr());
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/python/ws_client.py");
    for codec in Codec::ALL {
        let hello = codec.encode(&ClientMsg::Hello {
            version: PROTOCOL_VERSION,
            resume_token: None,
            last_event_seq: 0,
            auth_token: None,
            ticket: None,
        })?;
        let find = codec.encode(&ClientMsg::FindMatch {
            game: "arena".into(),
            options: bytes::Bytes::new(),
        })?;
        // Once matched (Welcome, Queued, MatchFound), walk right: the player moves every
        // tick, so every tick sends a state.
        let walk = codec.encode(&ClientMsg::Input {
            seq: 1,
            ack_tick: 0,
            data: codec.encode(&ticksync::game::arena::ArenaInput { dx: 1, dy: 0 })?,
        })?;
        let run = Command::new("python3")
            .arg(&script)
            .arg(&url)
            .arg(codec.subprotocol())
            .arg(COUNT.to_string())
            .arg(format!("0:{}", hex(&hello)))
            .arg(format!("1:{}", hex(&find)))
            .arg(format!("3:{}", hex(&walk)))
            .kill_on_drop(true)
            .output();
        let output = tokio::time::timeout(WAIT * 2, run)
            .await
            .context("the Python client did not finish")??;
        let stdout = String::from_utf8_lossy(&output.stdout);
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(
            output.status.success(),
            "{codec:?}: the Python client failed: {stderr}\n{stdout}"
        );
        let mut messages = Vec::new();
        for line in stdout.lines() {
            if let Some(hex_message) = line.strip_prefix("msg ") {
                let bytes = unhex(hex_message)?;
                messages.push(
                    codec
                        .decode_server(&bytes)
                        .with_context(|| format!("{codec:?}: undecodable message {hex_message}"))?,
                );
            }
        }
        assert_eq!(messages.len(), COUNT, "{codec:?}: {stdout}");
        assert!(
            matches!(messages[0], ServerMsg::Welcome { .. }),
            "{codec:?}: {:?}",
            messages[0]
        );
        assert!(
            messages
                .iter()
                .any(|m| matches!(m, ServerMsg::MatchFound(joined) if joined.game == "arena")),
            "{codec:?}: no MatchFound"
        );
        let states = messages
            .iter()
            .filter(|m| matches!(m, ServerMsg::Snapshot { .. } | ServerMsg::Delta { .. }))
            .count();
        // Besides Welcome, Queued, MatchFound and the room's join events, all are states.
        assert!(states >= 30, "{codec:?}: only {states} states");
        assert!(stdout.contains("pong ok"), "{codec:?}: {stdout}");
        assert!(
            stdout.lines().any(|l| l == "close 1000"),
            "{codec:?}: the server's close: {stdout}"
        );
    }
    Ok(())
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn unhex(text: &str) -> Result<Vec<u8>> {
    if !text.len().is_multiple_of(2) {
        bail!("odd hex length");
    }
    (0..text.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&text[i..i + 2], 16).context("bad hex"))
        .collect()
}
