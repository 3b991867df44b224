//! PROTOCOL.md's "Conformance" section, the wire-level promises: what the decoders accept
//! (varints, nesting, MessagePack defaults) and how the process ends on SIGTERM. The room
//! and session promises are in `conformance.rs`.

use std::time::Duration;

use anyhow::{Context, Result, ensure};
use bytes::Bytes;
use ticksync::codec::Codec;
use ticksync::protocol::{ClientMsg, ErrorCode, ServerMsg, close_code};
use tokio_tungstenite::tungstenite::Message;

use crate::support::{Client, TICTACTOE, start, test_config};

/// bincode varints need not be in their shortest form: 5 written as `fb 05 00` is 5.
#[tokio::test]
async fn non_shortest_bincode_varints_are_accepted() -> Result<()> {
    let server = start(test_config()).await;
    let mut client = Client::connect(server.local_addr(), Codec::Bincode).await?;
    let mut bytes = Codec::Bincode
        .encode(&ClientMsg::Ping { nonce: 5 })?
        .to_vec();
    ensure!(bytes.last() == Some(&5), "{bytes:02x?}");
    bytes.pop();
    bytes.extend_from_slice(&[0xfb, 0x05, 0x00]);
    client.send_raw(Message::Binary(Bytes::from(bytes))).await?;
    let nonce = client
        .recv_until(|m| match m {
            ServerMsg::Pong { nonce } => Some(*nonce),
            _ => None,
        })
        .await?;
    assert_eq!(nonce, 5);
    server.shutdown().await;
    Ok(())
}

/// A MessagePack `RoomSettings` may leave fields out; they take their defaults. An older
/// client's `CreateRoom` without `relay` makes an ordinary (not relay) room.
#[tokio::test]
async fn a_msgpack_room_settings_without_relay_takes_the_default() -> Result<()> {
    #[derive(serde::Serialize)]
    struct OldSettings {
        allow_spectators: bool,
    }
    #[derive(serde::Serialize)]
    enum OldMsg {
        CreateRoom { game: String, settings: OldSettings },
    }
    let server = start(test_config()).await;
    let addr = server.local_addr();
    let mut creator = Client::connect(addr, Codec::MsgPack).await?;
    let old = OldMsg::CreateRoom {
        game: TICTACTOE.into(),
        settings: OldSettings {
            allow_spectators: true,
        },
    };
    creator
        .send_raw(Message::Binary(Codec::MsgPack.encode(&old)?))
        .await?;
    let code = creator.room_joined().await?.code;
    let mut joiner = Client::connect(addr, Codec::MsgPack).await?;
    joiner
        .send(&ClientMsg::JoinRoom {
            code,
            spectate: false,
        })
        .await?;
    joiner.room_joined().await?;
    // Not a relay room: a game with snapshots (a relay room sends none).
    joiner.snapshot_where(|v| !v.over).await?;
    server.shutdown().await;
    Ok(())
}

/// `Ping { nonce: 1 }` in MessagePack with an unknown key whose value is `arrays` nested
/// one-element arrays: the message nests `arrays + 2` maps and arrays in all.
fn nested_ping(arrays: usize) -> Bytes {
    let mut bytes = vec![0x81, 0xa4];
    bytes.extend_from_slice(b"Ping");
    bytes.extend_from_slice(&[0x82, 0xa5]);
    bytes.extend_from_slice(b"nonce");
    bytes.extend_from_slice(&[0x01, 0xa1, b'x']);
    bytes.extend(std::iter::repeat_n(0x91, arrays));
    bytes.push(0x00);
    Bytes::from(bytes)
}

/// "16 levels" counts maps and arrays, the message's own outer map included: 16 are
/// accepted, 17 are a `BadMessage`.
#[tokio::test]
async fn msgpack_nesting_is_limited_to_16_maps_and_arrays() -> Result<()> {
    let server = start(test_config()).await;
    let mut client = Client::connect(server.local_addr(), Codec::MsgPack).await?;
    client.send_raw(Message::Binary(nested_ping(14))).await?;
    let pong = client
        .recv_until(|m| match m {
            ServerMsg::Pong { nonce } => Some(*nonce),
            ServerMsg::Error { .. } => Some(0),
            _ => None,
        })
        .await?;
    assert_eq!(pong, 1, "16 levels are accepted");
    client.send_raw(Message::Binary(nested_ping(15))).await?;
    assert_eq!(client.error().await?, (ErrorCode::BadMessage, None));
    client.ping(2).await?;
    server.shutdown().await;
    Ok(())
}

/// SIGTERM, like SIGINT, closes every connection with 1001 and the process exits 0.
#[tokio::test]
async fn sigterm_closes_every_connection_with_1001() -> Result<()> {
    // A free port for the child: bound here, released, then handed to it.
    let port = std::net::TcpListener::bind("127.0.0.1:0")?
        .local_addr()?
        .port();
    let addr: std::net::SocketAddr = ([127, 0, 0, 1], port).into();
    // With no --database the results file appears where the server was started.
    let dir = crate::support::scratch_dir("sigterm");
    let mut child = tokio::process::Command::new(env!("CARGO_BIN_EXE_ticksync"))
        .args(["serve", "--addr", &addr.to_string()])
        .current_dir(&dir)
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .kill_on_drop(true)
        .spawn()?;
    let deadline = tokio::time::Instant::now() + crate::support::WAIT;
    let mut client = loop {
        match Client::connect(addr, Codec::MsgPack).await {
            Ok(client) => break client,
            Err(_) if tokio::time::Instant::now() < deadline => {
                // The child is still starting: try again shortly.
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
            Err(error) => return Err(error.context("the server never came up")),
        }
    };
    client.ping(1).await?;
    let pid = i32::try_from(child.id().context("child pid")?)?;
    // SAFETY: sending a signal to our own child process.
    ensure!(
        unsafe { libc::kill(pid, libc::SIGTERM) } == 0,
        "kill failed"
    );
    assert_eq!(client.closed().await?, Some(close_code::GOING_AWAY));
    let status = tokio::time::timeout(crate::support::WAIT, child.wait()).await??;
    ensure!(status.success(), "exit status {status}");
    ensure!(
        dir.join("ticksync.db").is_file(),
        "no ticksync.db next to where the server was started"
    );
    Ok(())
}
