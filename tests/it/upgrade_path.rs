//! The two ways a WebSocket upgrade is served: read and answered before hyper (a
//! connection's first request, if it is a plain upgrade), or by hyper (a request that
//! follows another on a kept-alive connection, or a head the first reader leaves to it).
//! Both must give the same connection.

use anyhow::{Context, Result, ensure};
use ticksync::codec::Codec;
use ticksync::protocol::{ClientMsg, PROTOCOL_VERSION, ServerMsg};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use crate::support::{Frame, RawWs, WAIT, opcode, start, test_config};

fn hello(codec: Codec) -> Result<Vec<u8>> {
    let payload = codec.encode(&ClientMsg::Hello {
        version: PROTOCOL_VERSION,
        resume_token: None,
        last_event_seq: 0,
        auth_token: None,
        ticket: None,
    })?;
    Ok(Frame::new(opcode::BINARY, payload.to_vec()).encode())
}

async fn welcomed(raw: &mut RawWs) -> Result<()> {
    match raw.recv().await? {
        ServerMsg::Welcome { .. } => Ok(()),
        other => anyhow::bail!("expected Welcome, got {other:?}"),
    }
}

/// Reads one HTTP response (head and `Content-Length` body) from `stream`; returns it and
/// the bytes read after it.
async fn response(stream: &mut TcpStream) -> Result<(String, Vec<u8>)> {
    let mut buf = Vec::new();
    let mut chunk = [0u8; 1024];
    loop {
        if let Some(end) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            let head = String::from_utf8_lossy(&buf[..end]).to_ascii_lowercase();
            let len: usize = head
                .lines()
                .find_map(|line| line.strip_prefix("content-length: "))
                .context("no content-length")?
                .trim()
                .parse()?;
            if buf.len() >= end + 4 + len {
                let rest = buf.split_off(end + 4 + len);
                return Ok((String::from_utf8(buf)?, rest));
            }
        }
        let n = tokio::time::timeout(WAIT, stream.read(&mut chunk)).await??;
        ensure!(n > 0, "the server ended the connection mid-response");
        buf.extend_from_slice(&chunk[..n]);
    }
}

#[tokio::test]
async fn an_upgrade_with_hello_in_the_same_write_is_welcomed_in_both_codecs() -> Result<()> {
    let server = start(test_config()).await;
    for codec in Codec::ALL {
        let stream = TcpStream::connect(server.local_addr()).await?;
        let mut raw = RawWs::handshake(stream, Vec::new(), codec, "", &hello(codec)?).await?;
        welcomed(&mut raw).await?;
    }
    server.shutdown().await;
    Ok(())
}

#[tokio::test]
async fn an_upgrade_after_a_kept_alive_request_is_served_by_hyper() -> Result<()> {
    let server = start(test_config()).await;
    for codec in Codec::ALL {
        let mut stream = TcpStream::connect(server.local_addr()).await?;
        stream
            .write_all(b"GET /healthz HTTP/1.1\r\nHost: localhost\r\n\r\n")
            .await?;
        let (first, rest) = response(&mut stream).await?;
        ensure!(first.starts_with("HTTP/1.1 200"), "{first}");
        // Its first frame in the same write: hyper reads it with the request.
        let mut raw = RawWs::handshake(stream, rest, codec, "", &hello(codec)?).await?;
        welcomed(&mut raw).await?;
        raw.send_msg(&ClientMsg::Ping { nonce: 7 }).await?;
        ensure!(matches!(
            raw.recv().await?,
            ServerMsg::Pong { nonce: 7, .. }
        ));
    }
    server.shutdown().await;
    Ok(())
}

#[tokio::test]
async fn an_upgrade_with_more_headers_than_the_first_reader_parses_is_served_by_hyper() -> Result<()>
{
    let server = start(test_config()).await;
    let many: String = (0..80).map(|i| format!("X-Filler-{i}: {i}\r\n")).collect();
    let stream = TcpStream::connect(server.local_addr()).await?;
    let codec = Codec::MsgPack;
    let mut raw = RawWs::handshake(stream, Vec::new(), codec, &many, &hello(codec)?).await?;
    welcomed(&mut raw).await?;
    server.shutdown().await;
    Ok(())
}

#[tokio::test]
async fn a_refused_first_upgrade_is_answered_whole_and_the_connection_ends() -> Result<()> {
    let server = start(test_config()).await;
    let mut stream = TcpStream::connect(server.local_addr()).await?;
    stream
        .write_all(
            b"GET / HTTP/1.1\r\nHost: localhost\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
              Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n",
        )
        .await?;
    let (answer, rest) = response(&mut stream).await?;
    ensure!(
        answer.starts_with("HTTP/1.1 400 Bad Request\r\n"),
        "{answer}"
    );
    ensure!(answer.contains("\r\nconnection: close\r\n"), "{answer}");
    ensure!(
        answer.ends_with("ticksync.bincode.v1 in Sec-WebSocket-Protocol\n"),
        "{answer}"
    );
    ensure!(rest.is_empty());
    let mut byte = [0u8; 1];
    let n = tokio::time::timeout(WAIT, stream.read(&mut byte)).await??;
    ensure!(n == 0, "the connection stayed open after the refusal");
    server.shutdown().await;
    Ok(())
}
