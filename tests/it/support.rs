//! Test support: an in-process server on 127.0.0.1:0 and a real WebSocket client.
//!
//! Every wait is on an event with a deadline ([`WAIT`]); nothing sleeps to synchronise.

use std::net::SocketAddr;
use std::time::Duration;

use anyhow::{Context, Result, anyhow, bail};
use bytes::Bytes;
use futures_util::{SinkExt, StreamExt};
use ticksync::codec::Codec;
use ticksync::config::ServerConfig;
use ticksync::game::tictactoe::{TicTacToeMove, TicTacToeView};
use ticksync::protocol::{
    ClientMsg, PROTOCOL_VERSION, RoomEvent, RoomJoined, ServerMsg, SessionId, Tick,
};
use ticksync::server::{Server, Stats};
use tokio::net::{TcpListener, TcpStream};
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::http::HeaderValue;
use tokio_tungstenite::tungstenite::protocol::CloseFrame;
use tokio_tungstenite::tungstenite::{self, Message};
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream, connect_async};

/// The longest any test waits for one expected event. Generous: CI machines are loaded.
pub const WAIT: Duration = Duration::from_secs(20);

/// A server config for tests: the defaults, with a fast tick.
pub fn test_config() -> ServerConfig {
    ServerConfig {
        tick_hz: 60,
        shards: 2,
        ..ServerConfig::default()
    }
}

/// Starts a server on an ephemeral loopback port.
pub async fn start(config: ServerConfig) -> Server {
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    Server::start(listener, config).expect("server starts")
}

/// Waits until `server`'s counters equal `expected`, polling its state (not sleeping to
/// synchronise: the loop ends as soon as the condition holds).
pub async fn wait_for_stats(server: &Server, expected: Stats) -> Result<()> {
    let deadline = tokio::time::Instant::now() + WAIT;
    loop {
        let stats = server.stats();
        if stats == expected {
            return Ok(());
        }
        if tokio::time::Instant::now() > deadline {
            bail!("stats stayed at {stats:?}, expected {expected:?}");
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// A connected WebSocket client speaking one codec.
pub struct Client {
    ws: WebSocketStream<MaybeTlsStream<TcpStream>>,
    /// The negotiated codec.
    pub codec: Codec,
    /// From `Welcome`.
    pub session_id: SessionId,
    /// The latest resume token.
    pub token: String,
    /// Highest event seq seen.
    pub last_event_seq: u64,
    next_seq: u32,
}

impl Client {
    /// Opens a WebSocket offering only `codec`'s subprotocol; sends no `Hello`.
    pub async fn connect_raw(addr: SocketAddr, codec: Codec) -> Result<Client> {
        let mut request = format!("ws://{addr}/").into_client_request()?;
        request.headers_mut().insert(
            "Sec-WebSocket-Protocol",
            HeaderValue::from_static(codec.subprotocol()),
        );
        let (ws, response) = tokio::time::timeout(WAIT, connect_async(request))
            .await
            .context("handshake timed out")??;
        let chosen = response
            .headers()
            .get("Sec-WebSocket-Protocol")
            .and_then(|v| v.to_str().ok());
        anyhow::ensure!(
            chosen == Some(codec.subprotocol()),
            "server chose {chosen:?}"
        );
        Ok(Client {
            ws,
            codec,
            session_id: 0,
            token: String::new(),
            last_event_seq: 0,
            next_seq: 0,
        })
    }

    /// Like [`Client::connect`], over a socket with a tiny receive buffer (for clients
    /// that stop reading: the server's writes back up quickly).
    pub async fn connect_small_buffer(addr: SocketAddr, codec: Codec) -> Result<Client> {
        let socket = tokio::net::TcpSocket::new_v4()?;
        socket.set_recv_buffer_size(4096)?;
        let stream = socket.connect(addr).await?;
        let mut request = format!("ws://{addr}/").into_client_request()?;
        request.headers_mut().insert(
            "Sec-WebSocket-Protocol",
            HeaderValue::from_static(codec.subprotocol()),
        );
        let (ws, _) = tokio::time::timeout(
            WAIT,
            tokio_tungstenite::client_async(request, MaybeTlsStream::Plain(stream)),
        )
        .await
        .context("handshake timed out")??;
        let mut client = Client {
            ws,
            codec,
            session_id: 0,
            token: String::new(),
            last_event_seq: 0,
            next_seq: 0,
        };
        client.hello(None).await?;
        Ok(client)
    }

    /// Connects and completes `Hello`/`Welcome` with a new session.
    pub async fn connect(addr: SocketAddr, codec: Codec) -> Result<Client> {
        let mut client = Client::connect_raw(addr, codec).await?;
        client.hello(None).await?;
        Ok(client)
    }

    /// Connects and resumes the session `token` names.
    pub async fn resume(
        addr: SocketAddr,
        codec: Codec,
        token: &str,
        last_event_seq: u64,
    ) -> Result<Client> {
        let mut client = Client::connect_raw(addr, codec).await?;
        client.last_event_seq = last_event_seq;
        let resumed = client.hello(Some(token.to_string())).await?;
        anyhow::ensure!(resumed, "Welcome.resumed was false");
        Ok(client)
    }

    /// Sends `Hello` and waits for `Welcome`. Returns `Welcome.resumed`.
    pub async fn hello(&mut self, resume_token: Option<String>) -> Result<bool> {
        self.send(&ClientMsg::Hello {
            version: PROTOCOL_VERSION,
            resume_token,
            last_event_seq: self.last_event_seq,
        })
        .await?;
        match self.recv().await? {
            ServerMsg::Welcome {
                session_id,
                resume_token,
                resumed,
                ..
            } => {
                self.session_id = session_id;
                self.token = resume_token;
                Ok(resumed)
            }
            other => bail!("expected Welcome, got {other:?}"),
        }
    }

    /// Encodes and sends a message.
    pub async fn send(&mut self, msg: &ClientMsg) -> Result<()> {
        let bytes = self.codec.encode(msg)?;
        self.send_raw(Message::Binary(bytes)).await
    }

    /// Sends any WebSocket message as is.
    pub async fn send_raw(&mut self, message: Message) -> Result<()> {
        self.ws.send(message).await?;
        Ok(())
    }

    /// Sends a tic-tac-toe move with the next input seq; returns the seq.
    pub async fn send_move(&mut self, cell: u8) -> Result<u32> {
        self.next_seq += 1;
        let seq = self.next_seq;
        let data = self.codec.encode(&TicTacToeMove { cell })?;
        self.send(&ClientMsg::Input {
            seq,
            ack_tick: 0,
            data,
        })
        .await?;
        Ok(seq)
    }

    /// Sends raw bytes as game input data (for malformed-input tests); returns the seq.
    pub async fn send_input_bytes(&mut self, data: Bytes) -> Result<u32> {
        self.next_seq += 1;
        let seq = self.next_seq;
        self.send(&ClientMsg::Input {
            seq,
            ack_tick: 0,
            data,
        })
        .await?;
        Ok(seq)
    }

    /// The next server message. Fails on a close, a non-binary frame, or after [`WAIT`].
    pub async fn recv(&mut self) -> Result<ServerMsg> {
        loop {
            let frame = tokio::time::timeout(WAIT, self.ws.next())
                .await
                .context("no message within the wait limit")?
                .ok_or_else(|| anyhow!("connection ended"))??;
            match frame {
                Message::Binary(bytes) => {
                    let msg: ServerMsg = self.codec.decode(&bytes)?;
                    if let ServerMsg::Event { seq, .. } = &msg {
                        self.last_event_seq = self.last_event_seq.max(*seq);
                    }
                    return Ok(msg);
                }
                Message::Ping(_) | Message::Pong(_) => continue,
                Message::Close(frame) => bail!("closed: {frame:?}"),
                other => bail!("unexpected frame {other:?}"),
            }
        }
    }

    /// Receives until `pick` returns `Some`, returning that value.
    pub async fn recv_until<T>(
        &mut self,
        mut pick: impl FnMut(&ServerMsg) -> Option<T>,
    ) -> Result<T> {
        loop {
            let msg = self.recv().await?;
            if let Some(value) = pick(&msg) {
                return Ok(value);
            }
        }
    }

    /// Waits for `MatchFound`.
    pub async fn match_found(&mut self) -> Result<RoomJoined> {
        self.recv_until(|m| match m {
            ServerMsg::MatchFound(joined) => Some(joined.clone()),
            _ => None,
        })
        .await
    }

    /// Waits for `RoomJoined`.
    pub async fn room_joined(&mut self) -> Result<RoomJoined> {
        self.recv_until(|m| match m {
            ServerMsg::RoomJoined(joined) => Some(joined.clone()),
            _ => None,
        })
        .await
    }

    /// Waits for a room event matching `pick`.
    pub async fn event<T>(&mut self, mut pick: impl FnMut(&RoomEvent) -> Option<T>) -> Result<T> {
        self.recv_until(|m| match m {
            ServerMsg::Event { event, .. } => pick(event),
            _ => None,
        })
        .await
    }

    /// Waits for a tic-tac-toe snapshot satisfying `pick`; returns (tick, input_seq, view).
    pub async fn snapshot_where(
        &mut self,
        mut pick: impl FnMut(&TicTacToeView) -> bool,
    ) -> Result<(Tick, u32, TicTacToeView)> {
        let codec = self.codec;
        self.recv_until(|m| match m {
            ServerMsg::Snapshot {
                tick,
                input_seq,
                state,
            } => {
                let view: TicTacToeView = codec.decode(state).ok()?;
                pick(&view).then_some((*tick, *input_seq, view))
            }
            _ => None,
        })
        .await
    }

    /// Waits for an `Error`; returns (code, input_seq).
    pub async fn error(&mut self) -> Result<(ticksync::protocol::ErrorCode, Option<u32>)> {
        self.recv_until(|m| match m {
            ServerMsg::Error {
                code, input_seq, ..
            } => Some((*code, *input_seq)),
            _ => None,
        })
        .await
    }

    /// Reads until the server closes; returns the close code (None if the TCP stream just
    /// ended). Messages before the close are skipped.
    pub async fn closed(&mut self) -> Result<Option<u16>> {
        loop {
            let frame = tokio::time::timeout(WAIT, self.ws.next())
                .await
                .context("connection not closed within the wait limit")?;
            match frame {
                None => return Ok(None),
                Some(Err(tungstenite::Error::ConnectionClosed))
                | Some(Err(tungstenite::Error::AlreadyClosed)) => return Ok(None),
                Some(Err(tungstenite::Error::Io(_))) => return Ok(None),
                Some(Err(tungstenite::Error::Protocol(_))) => return Ok(None),
                Some(Err(e)) => return Err(e.into()),
                Some(Ok(Message::Close(frame))) => {
                    return Ok(frame.map(|f: CloseFrame| u16::from(f.code)));
                }
                Some(Ok(_)) => continue,
            }
        }
    }

    /// Drops the connection without a close handshake (a network failure).
    pub fn drop_connection(self) {
        drop(self.ws);
    }

    /// Closes the WebSocket with 1000: the client is leaving for good.
    pub async fn close(mut self) -> Result<()> {
        self.ws
            .close(Some(CloseFrame {
                code: tungstenite::protocol::frame::coding::CloseCode::Normal,
                reason: "bye".into(),
            }))
            .await?;
        // Drain until the server's close arrives so the server has seen ours.
        while let Ok(Some(Ok(_))) = tokio::time::timeout(WAIT, self.ws.next()).await {}
        Ok(())
    }
}

/// Two clients quick-matched into a tic-tac-toe room, ordered so `.0` holds seat 0 (X).
pub async fn matched_pair(addr: SocketAddr, codecs: (Codec, Codec)) -> Result<(Client, Client)> {
    let mut a = Client::connect(addr, codecs.0).await?;
    let mut b = Client::connect(addr, codecs.1).await?;
    a.send(&ClientMsg::FindMatch {
        game: "tictactoe".into(),
    })
    .await?;
    b.send(&ClientMsg::FindMatch {
        game: "tictactoe".into(),
    })
    .await?;
    let seat_a = a.match_found().await?.seat;
    let seat_b = b.match_found().await?.seat;
    match (seat_a, seat_b) {
        (Some(0), Some(1)) => Ok((a, b)),
        (Some(1), Some(0)) => Ok((b, a)),
        other => bail!("unexpected seats {other:?}"),
    }
}
