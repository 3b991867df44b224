//! What the server does with clients that misbehave at every layer: the HTTP handshake, the
//! WebSocket framing, the `Hello` exchange, undecodable or oversized messages, silence.
//! Each test also checks that the server goes on serving everyone else.

use std::time::Duration;

use anyhow::{Result, bail, ensure};
use bytes::Bytes;
use ticksync::codec::{BINCODE_SUBPROTOCOL, Codec, MAX_DECODE_BYTES, MSGPACK_SUBPROTOCOL};
use ticksync::config::ServerConfig;
use ticksync::protocol::{
    ClientMsg, EndReason, ErrorCode, PROTOCOL_VERSION, ServerMsg, close_code,
};
use ticksync::server::Stats;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::time::Instant;
use tokio_tungstenite::connect_async;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::http::HeaderValue;
use tokio_tungstenite::tungstenite::{self, Message};

use crate::support::{
    Client, WAIT, http_get, matched_pair, play, play_from, start, test_config, wait_for_stats,
    wait_until,
};

/// A frame that is no message in either codec: 0xC1 is an unknown bincode variant and a
/// reserved MessagePack marker.
const GARBAGE: &[u8] = &[0xC1, 0xFF, 0x00];

/// Proves the server still works: a fresh client gets through `Hello` and a ping.
async fn still_serving(addr: std::net::SocketAddr) -> Result<()> {
    for codec in Codec::ALL {
        let mut client = Client::connect(addr, codec).await?;
        client.ping(42).await?;
        client.close().await?;
    }
    Ok(())
}

#[tokio::test]
async fn a_handshake_without_a_supported_subprotocol_gets_400_naming_both() -> Result<()> {
    let server = start(test_config()).await;
    let addr = server.local_addr();
    for offered in [None, Some("ticksync.json.v1, chat")] {
        let mut request = format!("ws://{addr}/").into_client_request()?;
        if let Some(offered) = offered {
            request
                .headers_mut()
                .insert("Sec-WebSocket-Protocol", HeaderValue::from_static(offered));
        }
        let response = match tokio::time::timeout(WAIT, connect_async(request)).await? {
            Err(tungstenite::Error::Http(response)) => response,
            Err(other) => bail!("offered {offered:?}: expected an HTTP error, got {other}"),
            Ok(_) => bail!("offered {offered:?}: the handshake was accepted"),
        };
        assert_eq!(response.status(), 400, "offered {offered:?}");
        let body = String::from_utf8(response.body().clone().unwrap_or_default())?;
        assert!(
            body.contains(BINCODE_SUBPROTOCOL) && body.contains(MSGPACK_SUBPROTOCOL),
            "offered {offered:?}: body {body:?}"
        );
    }
    still_serving(addr).await?;
    wait_for_stats(&server, Stats::default()).await?;
    server.shutdown().await;
    Ok(())
}

#[tokio::test]
async fn a_text_frame_gets_an_error_then_close_1003() -> Result<()> {
    let server = start(test_config()).await;
    for codec in Codec::ALL {
        let mut client = Client::connect(server.local_addr(), codec).await?;
        client.send_raw(Message::text("{\"Ping\":{}}")).await?;
        assert_eq!(client.error().await?, (ErrorCode::TextFrame, None));
        assert_eq!(client.closed().await?, Some(close_code::UNSUPPORTED_DATA));
    }
    still_serving(server.local_addr()).await?;
    server.shutdown().await;
    Ok(())
}

#[tokio::test]
async fn hello_with_another_version_gets_an_error_then_close_4000() -> Result<()> {
    let server = start(test_config()).await;
    for codec in Codec::ALL {
        let mut client = Client::connect_raw(server.local_addr(), codec).await?;
        client
            .send(&ClientMsg::Hello {
                version: PROTOCOL_VERSION + 1,
                resume_token: None,
                last_event_seq: 0,
                auth_token: None,
                ticket: None,
            })
            .await?;
        assert_eq!(client.error().await?, (ErrorCode::UnsupportedVersion, None));
        assert_eq!(
            client.closed().await?,
            Some(close_code::UNSUPPORTED_VERSION)
        );
    }
    still_serving(server.local_addr()).await?;
    wait_for_stats(&server, Stats::default()).await?;
    server.shutdown().await;
    Ok(())
}

#[tokio::test]
async fn a_first_message_other_than_hello_closes_4001() -> Result<()> {
    let server = start(test_config()).await;
    for codec in Codec::ALL {
        let mut client = Client::connect_raw(server.local_addr(), codec).await?;
        client.send(&ClientMsg::Ping { nonce: 1 }).await?;
        assert_eq!(client.error().await?, (ErrorCode::HelloRequired, None));
        assert_eq!(client.closed().await?, Some(close_code::HELLO_REQUIRED));
    }
    still_serving(server.local_addr()).await?;
    server.shutdown().await;
    Ok(())
}

#[tokio::test]
async fn a_second_hello_is_refused_and_the_connection_stays() -> Result<()> {
    let server = start(test_config()).await;
    let mut client = Client::connect(server.local_addr(), Codec::MsgPack).await?;
    let hello = ClientMsg::Hello {
        version: PROTOCOL_VERSION,
        resume_token: None,
        last_event_seq: 0,
        auth_token: None,
        ticket: None,
    };
    client.refused(&hello, ErrorCode::HelloRequired).await?;
    client.ping(7).await?;
    server.shutdown().await;
    Ok(())
}

#[tokio::test]
async fn no_hello_within_the_hello_timeout_closes_4001() -> Result<()> {
    let hello_timeout = Duration::from_millis(300);
    let server = start(ServerConfig {
        hello_timeout,
        ..test_config()
    })
    .await;
    let started = Instant::now();
    let mut client = Client::connect_raw(server.local_addr(), Codec::Bincode).await?;
    assert_eq!(client.closed().await?, Some(close_code::HELLO_REQUIRED));
    assert!(started.elapsed() >= hello_timeout);
    still_serving(server.local_addr()).await?;
    wait_for_stats(&server, Stats::default()).await?;
    server.shutdown().await;
    Ok(())
}

/// The `Hello` deadline runs from the handshake: frames that are not `Hello` (here WebSocket
/// pings, which the server answers) do not extend it.
#[tokio::test]
async fn websocket_pings_do_not_extend_the_hello_deadline() -> Result<()> {
    let hello_timeout = Duration::from_millis(300);
    let server = start(ServerConfig {
        hello_timeout,
        ..test_config()
    })
    .await;
    let mut client = Client::connect_raw(server.local_addr(), Codec::MsgPack).await?;
    let code = client.ping_until_closed().await?;
    assert_eq!(code, Some(close_code::HELLO_REQUIRED));
    server.shutdown().await;
    Ok(())
}

#[tokio::test]
async fn garbage_mid_game_is_answered_the_game_goes_on_and_too_much_closes_1008() -> Result<()> {
    let server = start(ServerConfig {
        max_bad_messages: 4,
        ..test_config()
    })
    .await;
    let (mut x, mut o) =
        matched_pair(server.local_addr(), (Codec::Bincode, Codec::MsgPack)).await?;
    let garbage = || Message::Binary(Bytes::from_static(GARBAGE));
    x.send_raw(garbage()).await?;
    assert_eq!(x.error().await?, (ErrorCode::BadMessage, None));
    play(&mut x, &mut o, &[0, 3]).await?;
    o.send_raw(garbage()).await?;
    assert_eq!(o.error().await?, (ErrorCode::BadMessage, None));
    x.send_raw(garbage()).await?;
    assert_eq!(x.error().await?, (ErrorCode::BadMessage, None));
    play_from(&mut x, &mut o, 2, &[1, 4, 2]).await?;
    assert_eq!(x.game_over().await?, (Some(0), EndReason::Win));
    assert_eq!(o.game_over().await?, (Some(0), EndReason::Win));
    // X has sent 2 bad messages; the limit is 4: two more are answered, the fifth closes.
    for _ in 0..2 {
        x.send_raw(garbage()).await?;
        assert_eq!(x.error().await?, (ErrorCode::BadMessage, None));
    }
    x.send_raw(garbage()).await?;
    assert_eq!(x.error().await?, (ErrorCode::TooManyErrors, None));
    assert_eq!(x.closed().await?, Some(close_code::POLICY_VIOLATION));
    // O's connection is untouched.
    o.ping(9).await?;
    server.shutdown().await;
    Ok(())
}

#[tokio::test]
async fn a_message_over_16_kib_closes_1009_and_others_play_on() -> Result<()> {
    let server = start(test_config()).await;
    let addr = server.local_addr();
    let (mut x, mut o) = matched_pair(addr, (Codec::MsgPack, Codec::Bincode)).await?;
    play(&mut x, &mut o, &[4, 0]).await?;
    for codec in Codec::ALL {
        let mut big = Client::connect(addr, codec).await?;
        // Exactly at the cap: accepted as a frame, refused as a message.
        big.send_raw(Message::Binary(Bytes::from(vec![0u8; MAX_DECODE_BYTES])))
            .await?;
        assert_eq!(big.error().await?, (ErrorCode::BadMessage, None));
        // One byte over: the connection closes.
        big.send_raw(Message::Binary(Bytes::from(vec![
            0u8;
            MAX_DECODE_BYTES + 1
        ])))
        .await?;
        let code = big.closed().await?;
        assert!(
            matches!(code, None | Some(close_code::MESSAGE_TOO_BIG)),
            "{codec:?}: closed with {code:?}"
        );
    }
    // The game in progress is unaffected: X takes the middle column.
    play_from(&mut x, &mut o, 2, &[1, 2, 7]).await?;
    assert_eq!(x.game_over().await?, (Some(0), EndReason::Win));
    assert_eq!(o.game_over().await?, (Some(0), EndReason::Win));
    wait_until(&server, |s| s.connections == 2).await?;
    server.shutdown().await;
    Ok(())
}

#[tokio::test]
async fn handshakes_beyond_max_connections_get_503() -> Result<()> {
    let server = start(ServerConfig {
        max_connections: 2,
        ..test_config()
    })
    .await;
    let addr = server.local_addr();
    let first = Client::connect(addr, Codec::Bincode).await?;
    let mut second = Client::connect(addr, Codec::MsgPack).await?;
    let mut request = format!("ws://{addr}/").into_client_request()?;
    request.headers_mut().insert(
        "Sec-WebSocket-Protocol",
        HeaderValue::from_static(BINCODE_SUBPROTOCOL),
    );
    match tokio::time::timeout(WAIT, connect_async(request)).await? {
        Err(tungstenite::Error::Http(response)) => assert_eq!(response.status(), 503),
        Err(other) => bail!("expected HTTP 503, got {other}"),
        Ok(_) => bail!("a third connection was accepted"),
    }
    assert_eq!(server.stats().connections, 2);
    // Plain HTTP is not counted against the limit.
    assert_eq!(http_get(addr, "/healthz").await?.status, 200);
    // A slot frees up when a connection ends.
    first.close().await?;
    wait_until(&server, |s| s.connections == 1).await?;
    let mut third = Client::connect(addr, Codec::Bincode).await?;
    third.ping(1).await?;
    second.ping(2).await?;
    server.shutdown().await;
    Ok(())
}

/// Connects over plain TCP, sends `sent`, then reads until the server ends the connection.
/// Returns what was read and how long after connecting the connection ended.
async fn stall(addr: std::net::SocketAddr, sent: &[u8]) -> Result<(Vec<u8>, Duration)> {
    let started = Instant::now();
    let mut stream = TcpStream::connect(addr).await?;
    stream.write_all(sent).await?;
    let mut received = Vec::new();
    let mut buf = [0u8; 1024];
    loop {
        match tokio::time::timeout(WAIT, stream.read(&mut buf)).await {
            Err(_) => bail!("the server kept a stalled connection open ({sent:?})"),
            Ok(Ok(0)) | Ok(Err(_)) => return Ok((received, started.elapsed())),
            Ok(Ok(n)) => received.extend_from_slice(&buf[..n]),
        }
    }
}

#[tokio::test]
async fn stalled_http_connections_are_closed_after_the_handshake_timeout() -> Result<()> {
    let handshake_timeout = Duration::from_millis(300);
    let server = start(ServerConfig {
        handshake_timeout,
        ..test_config()
    })
    .await;
    let addr = server.local_addr();
    // Part of a WebSocket handshake, without the blank line that ends it.
    let partial =
        format!("GET / HTTP/1.1\r\nHost: {addr}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n");
    let (received, took) = stall(addr, partial.as_bytes()).await?;
    assert!(took >= handshake_timeout, "closed after {took:?}");
    assert!(
        received.is_empty() || received.starts_with(b"HTTP/1.1 4"),
        "{:?}",
        String::from_utf8_lossy(&received)
    );
    // Nothing at all.
    let (received, took) = stall(addr, b"").await?;
    assert!(took >= handshake_timeout, "closed after {took:?}");
    assert!(received.is_empty() || received.starts_with(b"HTTP/1.1 4"));
    // A kept-alive connection that sends no second request.
    let request = format!("GET /healthz HTTP/1.1\r\nHost: {addr}\r\n\r\n");
    let (received, _) = stall(addr, request.as_bytes()).await?;
    assert!(
        received.starts_with(b"HTTP/1.1 200"),
        "{:?}",
        String::from_utf8_lossy(&received)
    );
    still_serving(addr).await?;
    server.shutdown().await;
    Ok(())
}

#[tokio::test]
async fn a_client_that_goes_silent_is_dropped_after_the_idle_timeout() -> Result<()> {
    let idle_timeout = Duration::from_secs(2);
    let server = start(ServerConfig {
        ping_interval: Duration::from_millis(100),
        idle_timeout,
        ..test_config()
    })
    .await;
    let addr = server.local_addr();
    let mut active = Client::connect(addr, Codec::Bincode).await?;
    let started = Instant::now();
    // Never polled after `Welcome`: it neither reads nor answers the server's pings.
    let silent = Client::connect(addr, Codec::MsgPack).await?;
    assert_eq!(server.stats().connections, 2);
    // The active client keeps talking until the server is down to one connection.
    let deadline = Instant::now() + WAIT;
    let mut nonce = 0;
    while server.stats().connections != 1 {
        ensure!(
            Instant::now() < deadline,
            "the silent client was never dropped"
        );
        nonce += 1;
        active.ping(nonce).await?;
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert!(started.elapsed() >= idle_timeout);
    // Reading now, the silent client finds the server's close waiting.
    assert_eq!(
        silent.raw_close_code().await?,
        Some(close_code::IDLE_TIMEOUT)
    );
    active.ping(u64::MAX).await?;
    active.close().await?;
    wait_until(&server, |s| s.connections == 0).await?;
    server.shutdown().await;
    Ok(())
}

/// A few bytes that claim a 4 GB string or byte string, as a real frame in each codec.
fn length_bombs(codec: Codec) -> Vec<Vec<u8>> {
    match codec {
        Codec::Bincode => vec![
            // Input { seq: 1, ack_tick: 0, data: <u32 length 0xFFFF_FFFF> }
            vec![7, 1, 0, 252, 0xFF, 0xFF, 0xFF, 0xFF],
            // Input { seq: 1, ack_tick: 0, data: <u64 length 2^32> }
            vec![7, 1, 0, 253, 0, 0, 0, 0, 1, 0, 0, 0],
            // FindMatch { game: <u32 length 0xFFFF_FFFF> }
            vec![2, 252, 0xFF, 0xFF, 0xFF, 0xFF],
        ],
        Codec::MsgPack | Codec::MsgPackV1 => {
            let mut find_match = vec![0x81, 0xA9];
            find_match.extend_from_slice(b"FindMatch");
            let mut str32 = find_match.clone();
            // {"FindMatch": {"game": str32 of 0xFFFF_FFF0 bytes}}
            str32.extend_from_slice(&[0x81, 0xA4]);
            str32.extend_from_slice(b"game");
            str32.extend_from_slice(&[0xDB, 0xFF, 0xFF, 0xFF, 0xF0]);
            // {"FindMatch": array32 of 0xFFFF_FFFF elements}
            let mut array32 = find_match;
            array32.extend_from_slice(&[0xDD, 0xFF, 0xFF, 0xFF, 0xFF]);
            // {"Input": {"seq": 1, "ack_tick": 0, "data": bin32 of 0xFFFF_FFFF bytes}}
            let mut bin32 = vec![0x81, 0xA5];
            bin32.extend_from_slice(b"Input");
            bin32.extend_from_slice(&[0x83, 0xA3]);
            bin32.extend_from_slice(b"seq");
            bin32.extend_from_slice(&[0x01, 0xA8]);
            bin32.extend_from_slice(b"ack_tick");
            bin32.extend_from_slice(&[0x00, 0xA4]);
            bin32.extend_from_slice(b"data");
            bin32.extend_from_slice(&[0xC6, 0xFF, 0xFF, 0xFF, 0xFF]);
            vec![str32, array32, bin32]
        }
    }
}

#[tokio::test]
async fn huge_claimed_lengths_get_bad_message_and_the_connection_stays_usable() -> Result<()> {
    let server = start(test_config()).await;
    for codec in Codec::ALL {
        let mut client = Client::connect(server.local_addr(), codec).await?;
        for (i, bomb) in length_bombs(codec).into_iter().enumerate() {
            client.send_raw(Message::Binary(Bytes::from(bomb))).await?;
            match client.recv().await? {
                ServerMsg::Error {
                    code: ErrorCode::BadMessage,
                    input_seq: None,
                    ..
                } => {}
                other => bail!("{codec:?} bomb {i}: got {other:?}"),
            }
            client.ping(i as u64).await?;
        }
        // Still a working session.
        client.find_match().await?;
        match client.recv().await? {
            ServerMsg::Queued { position: 1, .. } => {}
            other => bail!("{codec:?}: expected Queued, got {other:?}"),
        }
        client.close().await?;
    }
    wait_for_stats(&server, Stats::default()).await?;
    server.shutdown().await;
    Ok(())
}

#[tokio::test]
async fn ping_list_rooms_and_the_http_endpoints_answer() -> Result<()> {
    let server = start(test_config()).await;
    let addr = server.local_addr();
    for codec in Codec::ALL {
        let mut client = Client::connect(addr, codec).await?;
        for nonce in [0, 1, 250, 251, 1 << 53, u64::MAX] {
            client.send(&ClientMsg::Ping { nonce }).await?;
            assert_eq!(client.recv().await?, ServerMsg::Pong { nonce });
        }
        client.send(&ClientMsg::ListRooms).await?;
        assert_eq!(client.recv().await?, ServerMsg::RoomList { rooms: vec![] });
        client.close().await?;
    }
    wait_for_stats(&server, Stats::default()).await?;

    let health = http_get(addr, "/healthz").await?;
    assert_eq!(health.status, 200);
    assert_eq!(health.content_type.as_deref(), Some("application/json"));
    let health: serde_json::Value = serde_json::from_str(&health.body)?;
    assert_eq!(
        health,
        serde_json::json!({
            "status": "ok", "connections": 0, "sessions": 0, "rooms": 0, "queued": 0,
        })
    );

    let (x, o) = matched_pair(addr, (Codec::Bincode, Codec::MsgPack)).await?;
    let mut waiting = Client::connect(addr, Codec::MsgPack).await?;
    waiting.find_match().await?;
    waiting.recv().await?;
    let health: serde_json::Value = serde_json::from_str(&http_get(addr, "/healthz").await?.body)?;
    assert_eq!(health["connections"], 3);
    assert_eq!(health["sessions"], 3);
    assert_eq!(health["rooms"], 1);
    assert_eq!(health["queued"], 1);

    let rooms = http_get(addr, "/rooms").await?;
    assert_eq!(rooms.status, 200);
    assert_eq!(rooms.content_type.as_deref(), Some("application/json"));
    let rooms: serde_json::Value = serde_json::from_str(&rooms.body)?;
    let listed = rooms["rooms"].as_array().cloned().unwrap_or_default();
    assert_eq!(listed.len(), 1, "{rooms}");
    assert_eq!(listed[0]["game"], "tictactoe");
    assert_eq!(listed[0]["status"], "Running");
    assert_eq!(listed[0]["players"], 2);
    assert_eq!(listed[0]["seats"], 2);
    assert_eq!(listed[0]["spectators"], 0);
    assert_eq!(listed[0]["public"], true);
    assert!(listed[0]["code"].is_string(), "{rooms}");

    assert_eq!(http_get(addr, "/nope").await?.status, 404);
    let root = http_get(addr, "/").await?;
    assert_eq!(root.status, 200);
    assert!(root.body.contains(BINCODE_SUBPROTOCOL));
    for client in [x, o, waiting] {
        client.close().await?;
    }
    wait_for_stats(&server, Stats::default()).await?;
    server.shutdown().await;
    Ok(())
}
