//! A WebSocket client over a raw TCP stream, for what tungstenite's client refuses to send:
//! unmasked frames, reserved bits and opcodes, bare continuations, lying length fields,
//! floods written in one go.

use std::net::SocketAddr;

use anyhow::{Context, Result, bail, ensure};
use ticksync::codec::Codec;
use ticksync::protocol::{ClientMsg, PROTOCOL_VERSION, ServerMsg};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::time::Instant;

use super::WAIT;

/// WebSocket opcodes.
pub mod opcode {
    /// Continuation.
    pub const CONTINUATION: u8 = 0x0;
    /// Text.
    pub const TEXT: u8 = 0x1;
    /// Binary.
    pub const BINARY: u8 = 0x2;
    /// Close.
    pub const CLOSE: u8 = 0x8;
    /// Ping.
    pub const PING: u8 = 0x9;
}

/// One frame as the raw client writes it.
#[derive(Debug, Clone)]
pub struct Frame {
    /// FIN bit.
    pub fin: bool,
    /// RSV1-3 as the low three bits.
    pub rsv: u8,
    /// The opcode (4 bits).
    pub opcode: u8,
    /// Whether to mask the payload (clients must).
    pub masked: bool,
    /// The payload.
    pub payload: Vec<u8>,
}

impl Frame {
    /// A final, masked frame.
    pub fn new(opcode: u8, payload: impl Into<Vec<u8>>) -> Frame {
        Frame {
            fin: true,
            rsv: 0,
            opcode,
            masked: true,
            payload: payload.into(),
        }
    }

    /// The frame's bytes.
    pub fn encode(&self) -> Vec<u8> {
        let mut out = vec![(u8::from(self.fin) << 7) | ((self.rsv & 7) << 4) | (self.opcode & 0xF)];
        let mask_bit = if self.masked { 0x80 } else { 0 };
        let len = self.payload.len();
        if len < 126 {
            out.push(mask_bit | len as u8);
        } else if let Ok(len) = u16::try_from(len) {
            out.push(mask_bit | 126);
            out.extend_from_slice(&len.to_be_bytes());
        } else {
            out.push(mask_bit | 127);
            out.extend_from_slice(&(len as u64).to_be_bytes());
        }
        if self.masked {
            let key = [0x37, 0xFA, 0x21, 0x3D];
            out.extend_from_slice(&key);
            out.extend(self.payload.iter().enumerate().map(|(i, b)| b ^ key[i % 4]));
        } else {
            out.extend_from_slice(&self.payload);
        }
        out
    }
}

/// A frame header that claims `len` payload bytes (masked), with no payload after it.
pub fn length_claim(opcode: u8, len: u64) -> Vec<u8> {
    let mut out = vec![0x80 | opcode, 0x80 | 127];
    out.extend_from_slice(&len.to_be_bytes());
    out.extend_from_slice(&[1, 2, 3, 4]);
    out
}

/// A WebSocket connection driven byte by byte.
pub struct RawWs {
    stream: TcpStream,
    buf: Vec<u8>,
    /// The negotiated codec.
    pub codec: Codec,
}

impl RawWs {
    /// Opens a TCP connection and completes the WebSocket handshake for `codec`.
    pub async fn connect(addr: SocketAddr, codec: Codec) -> Result<RawWs> {
        let stream = TcpStream::connect(addr).await?;
        RawWs::handshake(stream, Vec::new(), codec, "", &[]).await
    }

    /// Completes the WebSocket handshake for `codec` on `stream` (of which `buf` was read
    /// and not consumed), with `headers` (each ending in CRLF) added to the request and
    /// `after` written in the same write, right after it.
    pub async fn handshake(
        mut stream: TcpStream,
        buf: Vec<u8>,
        codec: Codec,
        headers: &str,
        after: &[u8],
    ) -> Result<RawWs> {
        let request = format!(
            "GET / HTTP/1.1\r\nHost: localhost\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
             Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\
             Sec-WebSocket-Protocol: {}\r\n{headers}\r\n",
            codec.subprotocol()
        );
        stream
            .write_all(&[request.as_bytes(), after].concat())
            .await?;
        let mut raw = RawWs { stream, buf, codec };
        let deadline = Instant::now() + WAIT;
        let end = raw.head_end(deadline).await?;
        let head = String::from_utf8_lossy(&raw.buf[..end]).to_string();
        ensure!(
            head.starts_with("HTTP/1.1 101"),
            "handshake refused: {head}"
        );
        raw.buf.drain(..end);
        Ok(raw)
    }

    /// Reads until the buffer holds an HTTP head; returns its length.
    async fn head_end(&mut self, deadline: Instant) -> Result<usize> {
        loop {
            if let Some(end) = self.buf.windows(4).position(|w| w == b"\r\n\r\n") {
                return Ok(end + 4);
            }
            ensure!(self.fill(deadline).await? > 0, "no response head");
        }
    }

    /// Connects and completes `Hello`/`Welcome`.
    pub async fn connect_hello(addr: SocketAddr, codec: Codec) -> Result<RawWs> {
        let mut raw = RawWs::connect(addr, codec).await?;
        raw.send_msg(&ClientMsg::Hello {
            version: PROTOCOL_VERSION,
            resume_token: None,
            last_event_seq: 0,
            auth_token: None,
            ticket: None,
        })
        .await?;
        match raw.recv().await? {
            ServerMsg::Welcome { .. } => Ok(raw),
            other => bail!("expected Welcome, got {other:?}"),
        }
    }

    async fn fill(&mut self, deadline: Instant) -> Result<usize> {
        let mut chunk = [0u8; 8192];
        let n = tokio::time::timeout_at(deadline, self.stream.read(&mut chunk))
            .await
            .context("nothing from the server within the wait limit")??;
        self.buf.extend_from_slice(&chunk[..n]);
        Ok(n)
    }

    /// Writes bytes as they are.
    pub async fn send_bytes(&mut self, bytes: &[u8]) -> Result<()> {
        self.stream.write_all(bytes).await?;
        Ok(())
    }

    /// Writes frames in one go.
    pub async fn send_frames(&mut self, frames: &[Frame]) -> Result<()> {
        let bytes: Vec<u8> = frames.iter().flat_map(Frame::encode).collect();
        self.send_bytes(&bytes).await
    }

    /// Sends a message as one masked binary frame.
    pub async fn send_msg(&mut self, msg: &ClientMsg) -> Result<()> {
        let payload = self.codec.encode(msg)?;
        self.send_frames(&[Frame::new(opcode::BINARY, payload.to_vec())])
            .await
    }

    /// The next server frame as (opcode, payload); `None` when the server ended the stream.
    pub async fn next_frame(&mut self, deadline: Instant) -> Result<Option<(u8, Vec<u8>)>> {
        loop {
            if let [first, second, rest @ ..] = self.buf.as_slice() {
                ensure!(second & 0x80 == 0, "server frames are not masked");
                let (len, header) = match second & 0x7F {
                    126 if rest.len() >= 2 => {
                        (usize::from(u16::from_be_bytes([rest[0], rest[1]])), 4)
                    }
                    127 if rest.len() >= 8 => {
                        let len = u64::from_be_bytes(rest[..8].try_into()?);
                        (usize::try_from(len)?, 10)
                    }
                    126 | 127 => (usize::MAX, 0),
                    len => (usize::from(len), 2),
                };
                if header > 0 && self.buf.len() >= header + len {
                    let opcode = first & 0x0F;
                    let payload = self.buf[header..header + len].to_vec();
                    self.buf.drain(..header + len);
                    return Ok(Some((opcode, payload)));
                }
            }
            match self.fill(deadline).await {
                Ok(0) => return Ok(None),
                Ok(_) => {}
                // A reset after the server closed: the stream is over.
                Err(error) if error.downcast_ref::<std::io::Error>().is_some() => return Ok(None),
                Err(error) => return Err(error),
            }
        }
    }

    /// The next server message, skipping pings.
    pub async fn recv(&mut self) -> Result<ServerMsg> {
        let deadline = Instant::now() + WAIT;
        loop {
            match self.next_frame(deadline).await? {
                Some((opcode::BINARY, payload)) => {
                    return Ok(self.codec.decode_server(&payload)?);
                }
                Some((opcode::CLOSE, payload)) => bail!("closed: {payload:?}"),
                Some(_) => continue,
                None => bail!("connection ended"),
            }
        }
    }

    /// Reads until the server's close frame; returns its code (`None` if the stream ended
    /// without one). Messages before it are skipped.
    pub async fn close_code(&mut self) -> Result<Option<u16>> {
        let deadline = Instant::now() + WAIT;
        loop {
            match self.next_frame(deadline).await? {
                Some((opcode::CLOSE, payload)) => {
                    return Ok(payload.get(..2).map(|c| u16::from_be_bytes([c[0], c[1]])));
                }
                Some(_) => continue,
                None => return Ok(None),
            }
        }
    }
}
