//! A real WebSocket test client speaking one codec: the library's
//! [`ticksync::client::Connection`] underneath (framing, codec, control frames), with the
//! bookkeeping and assertions tests want on top (events seen, the room entered, input seqs,
//! close codes).

use std::net::SocketAddr;
use std::time::Duration;

use anyhow::{Context, Result, bail, ensure};
use bytes::Bytes;
use ticksync::client::{ClientError, Connection};
use ticksync::codec::Codec;
use ticksync::game::tictactoe::{TicTacToeMove, TicTacToeView};
use ticksync::protocol::{
    ClientMsg, EndReason, ErrorCode, PROTOCOL_VERSION, RoomEvent, RoomId, RoomJoined, RoomSummary,
    Seat, ServerMsg, SessionId, Tick,
};
use tokio::io::AsyncReadExt;
use tokio::time::Instant;
use tokio_tungstenite::MaybeTlsStream;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::http::HeaderValue;
use tokio_tungstenite::tungstenite::protocol::CloseFrame;
use tokio_tungstenite::tungstenite::{self, Message};

use super::{TICTACTOE, WAIT};

/// What a client keeps to resume its session after losing its connection.
#[derive(Debug, Clone)]
pub struct Resumable {
    /// The codec to reconnect with.
    pub codec: Codec,
    /// The latest resume token.
    pub token: String,
    /// Highest event seq seen.
    pub last_event_seq: u64,
    /// The last input seq sent; input seqs keep increasing across connections.
    pub input_seq: u32,
}

/// A connected WebSocket client speaking one codec.
pub struct Client {
    conn: Connection,
    /// The negotiated codec.
    pub codec: Codec,
    /// From `Welcome`.
    pub session_id: SessionId,
    /// The latest resume token.
    pub token: String,
    /// Highest event seq seen.
    pub last_event_seq: u64,
    /// The room this connection last entered, from `MatchFound` or `RoomJoined`.
    pub room: Option<RoomJoined>,
    /// Every room event received on this connection, in order: (seq, tick, event).
    pub events: Vec<(u64, Tick, RoomEvent)>,
    /// The last input `seq` sent (carried over by a resume).
    pub input_seq: u32,
}

impl Client {
    /// Opens a WebSocket offering only `codec`'s subprotocol; sends no `Hello`.
    pub async fn connect_raw(addr: SocketAddr, codec: Codec) -> Result<Client> {
        Client::connect_request(format!("ws://{addr}/").into_client_request()?, codec, None).await
    }

    /// Opens a WebSocket with a prepared request (a `wss://` URL, a query, extra headers)
    /// and TLS connector, offering only `codec`'s subprotocol; sends no `Hello`. A refused
    /// handshake is the error (`tungstenite::Error::Http` carries the response).
    pub async fn connect_request(
        request: tungstenite::handshake::client::Request,
        codec: Codec,
        connector: Option<tokio_tungstenite::Connector>,
    ) -> Result<Client> {
        Client::connect_request_from(request, codec, connector, None).await
    }

    /// [`Client::connect_request`] from the local address `from` when given (e.g.
    /// 127.0.0.2: on loopback the kernel otherwise picks 127.0.0.1 whatever the target).
    pub async fn connect_request_from(
        mut request: tungstenite::handshake::client::Request,
        codec: Codec,
        connector: Option<tokio_tungstenite::Connector>,
        from: Option<std::net::IpAddr>,
    ) -> Result<Client> {
        request.headers_mut().insert(
            "Sec-WebSocket-Protocol",
            HeaderValue::from_static(codec.subprotocol()),
        );
        let target = match from {
            None => None,
            Some(ip) => {
                let uri = request.uri();
                let host = uri.host().context("no host in the URL")?;
                let port = uri.port_u16().context("no port in the URL")?;
                Some((ip, format!("{host}:{port}").parse::<SocketAddr>()?))
            }
        };
        let connecting = async {
            match target {
                None => {
                    tokio_tungstenite::connect_async_tls_with_config(request, None, true, connector)
                        .await
                }
                Some((ip, addr)) => {
                    let socket = tokio::net::TcpSocket::new_v4()?;
                    socket.bind(SocketAddr::new(ip, 0))?;
                    let stream = socket.connect(addr).await?;
                    tokio_tungstenite::client_async_tls_with_config(
                        request, stream, None, connector,
                    )
                    .await
                }
            }
        };
        let (ws, response) = tokio::time::timeout(WAIT, connecting)
            .await
            .context("handshake timed out")??;
        let chosen = response
            .headers()
            .get("Sec-WebSocket-Protocol")
            .and_then(|v| v.to_str().ok());
        ensure!(
            chosen == Some(codec.subprotocol()),
            "server chose {chosen:?}"
        );
        Ok(Client {
            conn: Connection::from_websocket(ws, codec, WAIT),
            codec,
            session_id: SessionId::new(0),
            token: String::new(),
            last_event_seq: 0,
            room: None,
            events: Vec::new(),
            input_seq: 0,
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
            conn: Connection::from_websocket(ws, codec, WAIT),
            codec,
            session_id: SessionId::new(0),
            token: String::new(),
            last_event_seq: 0,
            room: None,
            events: Vec::new(),
            input_seq: 0,
        };
        client.hello(None).await?;
        Ok(client)
    }

    /// Connects and completes `Hello`/`Welcome` with a new session.
    pub async fn connect(addr: SocketAddr, codec: Codec) -> Result<Client> {
        let mut client = Client::connect_raw(addr, codec).await?;
        let resumed = client.hello(None).await?;
        ensure!(!resumed, "a new session came back as resumed");
        Ok(client)
    }

    /// Connects and resumes the session `from` describes; fails unless `Welcome` says
    /// `resumed`.
    pub async fn resume(addr: SocketAddr, from: &Resumable) -> Result<Client> {
        let mut client = Client::connect_raw(addr, from.codec).await?;
        client.last_event_seq = from.last_event_seq;
        client.input_seq = from.input_seq;
        let resumed = client.hello(Some(from.token.clone())).await?;
        ensure!(resumed, "Welcome.resumed was false");
        Ok(client)
    }

    /// Connects and logs in with the JWT `jwt` in `Hello`, carrying on `from`'s event and
    /// input seqs when given (a player coming back). Returns the client and
    /// `Welcome.resumed`.
    pub async fn login(
        addr: SocketAddr,
        codec: Codec,
        jwt: &str,
        from: Option<&Resumable>,
    ) -> Result<(Client, bool)> {
        let mut client = Client::connect_raw(addr, codec).await?;
        if let Some(from) = from {
            client.last_event_seq = from.last_event_seq;
            client.input_seq = from.input_seq;
        }
        let resumed = client.hello_with(None, Some(jwt.to_string())).await?;
        Ok((client, resumed))
    }

    /// Connects, offers `token`, and expects the server to refuse it: `Error`
    /// `InvalidResumeToken`, then close 4005.
    pub async fn resume_refused(addr: SocketAddr, codec: Codec, token: &str) -> Result<()> {
        let mut client = Client::connect_raw(addr, codec).await?;
        client
            .send(&ClientMsg::Hello {
                version: PROTOCOL_VERSION,
                resume_token: Some(token.to_string()),
                last_event_seq: 0,
                auth_token: None,
                ticket: None,
            })
            .await?;
        match client.recv().await? {
            ServerMsg::Error {
                code: ErrorCode::InvalidResumeToken,
                ..
            } => {}
            other => bail!("expected Error InvalidResumeToken, got {other:?}"),
        }
        let code = client.closed().await?;
        ensure!(
            code == Some(ticksync::protocol::close_code::INVALID_RESUME_TOKEN),
            "closed with {code:?}"
        );
        Ok(())
    }

    /// Sends `Hello` and waits for `Welcome`. Returns `Welcome.resumed`.
    pub async fn hello(&mut self, resume_token: Option<String>) -> Result<bool> {
        self.hello_with(resume_token, None).await
    }

    /// Sends `Hello` with an auth token and waits for `Welcome`. Returns `Welcome.resumed`.
    pub async fn hello_with(
        &mut self,
        resume_token: Option<String>,
        auth_token: Option<String>,
    ) -> Result<bool> {
        self.send(&ClientMsg::Hello {
            version: PROTOCOL_VERSION,
            resume_token,
            last_event_seq: self.last_event_seq,
            auth_token,
            ticket: None,
        })
        .await?;
        match self.recv().await? {
            ServerMsg::Welcome {
                version,
                session_id,
                resume_token,
                resumed,
                ..
            } => {
                ensure!(version == PROTOCOL_VERSION, "Welcome.version {version}");
                self.session_id = session_id;
                self.token = resume_token;
                Ok(resumed)
            }
            other => bail!("expected Welcome, got {other:?}"),
        }
    }

    /// What this client needs to resume its session later.
    pub fn resumable(&self) -> Resumable {
        Resumable {
            codec: self.codec,
            token: self.token.clone(),
            last_event_seq: self.last_event_seq,
            input_seq: self.input_seq,
        }
    }

    /// Encodes and sends a message.
    pub async fn send(&mut self, msg: &ClientMsg) -> Result<()> {
        self.conn.send(msg).await?;
        Ok(())
    }

    /// Sends any WebSocket message as is.
    pub async fn send_raw(&mut self, message: Message) -> Result<()> {
        self.conn.send_message(message).await?;
        Ok(())
    }

    /// Sends `FindMatch` for tic-tac-toe.
    pub async fn find_match(&mut self) -> Result<()> {
        self.send(&ClientMsg::FindMatch {
            game: TICTACTOE.into(),
            options: bytes::Bytes::new(),
        })
        .await
    }

    /// Sends a tic-tac-toe move with the next input seq; returns the seq.
    pub async fn send_move(&mut self, cell: u8) -> Result<u32> {
        let data = self.codec.encode(&TicTacToeMove { cell })?;
        self.send_input_bytes(data).await
    }

    /// Sends raw bytes as game input data (for malformed-input tests); returns the seq.
    pub async fn send_input_bytes(&mut self, data: Bytes) -> Result<u32> {
        self.input_seq += 1;
        let seq = self.input_seq;
        self.send(&ClientMsg::Input {
            seq,
            ack_tick: 0,
            data,
        })
        .await?;
        Ok(seq)
    }

    /// Sends `Ping` and waits for the `Pong` with the same nonce, skipping other messages.
    pub async fn ping(&mut self, nonce: u64) -> Result<()> {
        self.send(&ClientMsg::Ping { nonce }).await?;
        let answered = self
            .recv_until(|m| match m {
                ServerMsg::Pong { nonce } => Some(*nonce),
                _ => None,
            })
            .await?;
        ensure!(answered == nonce, "Pong {answered} answered Ping {nonce}");
        Ok(())
    }

    /// The next server message. Fails on a close, a non-binary frame, or after [`WAIT`].
    pub async fn recv(&mut self) -> Result<ServerMsg> {
        self.recv_by(Instant::now() + WAIT).await
    }

    /// The next server message, if it arrives by `deadline`. WebSocket pings and pongs are
    /// skipped without extending the deadline.
    async fn recv_by(&mut self, deadline: Instant) -> Result<ServerMsg> {
        let msg = match tokio::time::timeout_at(deadline, self.conn.recv()).await {
            Err(_) => bail!("no message within the wait limit"),
            Ok(Err(ClientError::Closed { code, reason })) => {
                bail!("closed: code {code:?}, reason {reason:?}")
            }
            Ok(result) => result?,
        };
        match &msg {
            ServerMsg::Event { seq, tick, event } => {
                self.last_event_seq = self.last_event_seq.max(*seq);
                self.events.push((*seq, *tick, event.clone()));
            }
            ServerMsg::GameEvent { seq, .. } => {
                self.last_event_seq = self.last_event_seq.max(*seq);
            }
            ServerMsg::MatchFound(joined) | ServerMsg::RoomJoined(joined) => {
                self.room = Some(joined.clone());
            }
            _ => {}
        }
        Ok(msg)
    }

    /// Receives until `pick` returns `Some`, returning that value. The whole wait is bounded
    /// by [`WAIT`], however many other messages arrive meanwhile.
    pub async fn recv_until<T>(
        &mut self,
        mut pick: impl FnMut(&ServerMsg) -> Option<T>,
    ) -> Result<T> {
        let deadline = Instant::now() + WAIT;
        loop {
            let msg = self.recv_by(deadline).await?;
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

    /// Waits for a game event (`GameEvent`) of type `E`, decoded in this client's codec,
    /// matching `pick`.
    pub async fn game_event<E: serde::de::DeserializeOwned, T>(
        &mut self,
        mut pick: impl FnMut(&E) -> Option<T>,
    ) -> Result<T> {
        let codec = self.codec;
        self.recv_until(|m| match m {
            ServerMsg::GameEvent { data, .. } => {
                codec.decode::<E>(data).ok().and_then(|e| pick(&e))
            }
            _ => None,
        })
        .await
    }

    /// The first event already received that matches `pick`, else waits for one.
    pub async fn seen_or_next_event<T>(
        &mut self,
        mut pick: impl FnMut(&RoomEvent) -> Option<T>,
    ) -> Result<T> {
        if let Some(found) = self.events.iter().find_map(|(_, _, e)| pick(e)) {
            return Ok(found);
        }
        self.event(pick).await
    }

    /// The game's `GameOver`: (winner, reason), whether it already arrived or is still to come.
    pub async fn game_over(&mut self) -> Result<(Option<Seat>, EndReason)> {
        self.seen_or_next_event(|e| match e {
            RoomEvent::GameOver { winner, reason } => Some((*winner, *reason)),
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
    pub async fn error(&mut self) -> Result<(ErrorCode, Option<u32>)> {
        self.recv_until(|m| match m {
            ServerMsg::Error {
                code, input_seq, ..
            } => Some((*code, *input_seq)),
            _ => None,
        })
        .await
    }

    /// Sends `msg` and expects its answer to be an `Error` with `code`: the next message
    /// other than room traffic (events and snapshots, which may arrive at any time).
    pub async fn refused(&mut self, msg: &ClientMsg, code: ErrorCode) -> Result<()> {
        self.send(msg).await?;
        loop {
            match self.recv().await? {
                ServerMsg::Event { .. } | ServerMsg::Snapshot { .. } => continue,
                ServerMsg::Error { code: got, .. } if got == code => return Ok(()),
                other => bail!("{msg:?}: expected Error {code:?}, got {other:?}"),
            }
        }
    }

    /// Asks for the room directory.
    pub async fn list_rooms(&mut self) -> Result<Vec<RoomSummary>> {
        self.send(&ClientMsg::ListRooms).await?;
        self.recv_until(|m| match m {
            ServerMsg::RoomList { rooms } => Some(rooms.clone()),
            _ => None,
        })
        .await
    }

    /// The directory row of `room_id` once `ready` holds for it, asking again until then (the
    /// directory is updated by the room's shard, asynchronously to the room's messages).
    pub async fn listed_room(
        &mut self,
        room_id: RoomId,
        ready: impl Fn(&RoomSummary) -> bool,
    ) -> Result<RoomSummary> {
        let deadline = Instant::now() + WAIT;
        loop {
            let rooms = self.list_rooms().await?;
            let row = rooms.into_iter().find(|r| r.room_id == room_id);
            if let Some(row) = row.as_ref().filter(|r| ready(r)) {
                return Ok(row.clone());
            }
            if Instant::now() > deadline {
                bail!("room {room_id} is listed as {row:?}");
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    /// Reads until the server closes; returns the close code (None if the TCP stream just
    /// ended). Messages before the close are skipped.
    pub async fn closed(&mut self) -> Result<Option<u16>> {
        let deadline = Instant::now() + WAIT;
        loop {
            let frame = tokio::time::timeout_at(deadline, self.conn.next_message())
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

    /// Sends WebSocket pings, each after the previous one's pong, until the server closes
    /// the connection; returns the close code (None if the TCP stream just ended).
    pub async fn ping_until_closed(&mut self) -> Result<Option<u16>> {
        let deadline = Instant::now() + WAIT;
        loop {
            ensure!(Instant::now() < deadline, "the connection stayed open");
            if self
                .conn
                .send_message(Message::Ping(Bytes::new()))
                .await
                .is_err()
            {
                return self.closed().await;
            }
            loop {
                let frame = tokio::time::timeout_at(deadline, self.conn.next_message())
                    .await
                    .context("no pong within the wait limit")?;
                match frame {
                    Some(Ok(Message::Pong(_))) => break,
                    Some(Ok(Message::Close(frame))) => {
                        return Ok(frame.map(|f: CloseFrame| u16::from(f.code)));
                    }
                    None | Some(Err(_)) => return Ok(None),
                    Some(Ok(_)) => continue,
                }
            }
            // Pace the pings; the server's deadline, not this loop, decides when it ends.
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    /// Reads the server's frames straight off the socket until it ends, answering nothing,
    /// and returns the code of the close frame among them. For clients that never polled:
    /// answering the pings that queued up meanwhile would write to a socket the server may
    /// have closed, and fail before the close frame is read.
    pub async fn raw_close_code(mut self) -> Result<Option<u16>> {
        let Some(tcp) = self.conn.tcp_mut() else {
            bail!("not a plain TCP stream");
        };
        let mut raw = Vec::new();
        tokio::time::timeout(WAIT, tcp.read_to_end(&mut raw))
            .await
            .context("the server did not end the connection")??;
        let mut rest = raw.as_slice();
        while let [first, second, tail @ ..] = rest {
            ensure!(second & 0x80 == 0, "server frames are not masked");
            let (len, tail) = match second & 0x7F {
                126 if tail.len() >= 2 => (
                    usize::from(u16::from_be_bytes([tail[0], tail[1]])),
                    &tail[2..],
                ),
                126 | 127 => bail!("unexpectedly long control frame"),
                len => (usize::from(len), tail),
            };
            ensure!(tail.len() >= len, "truncated frame");
            let (payload, after) = tail.split_at(len);
            if first & 0x0F == 0x8 {
                return Ok(payload
                    .get(..2)
                    .map(|code| u16::from_be_bytes([code[0], code[1]])));
            }
            rest = after;
        }
        Ok(None)
    }

    /// Drops the connection without a close handshake (a network failure). Returns what
    /// the client needs to resume.
    pub fn drop_connection(self) -> Resumable {
        let resumable = self.resumable();
        self.conn.abort();
        resumable
    }

    /// Closes the WebSocket with 1000 (the client is leaving for good) and waits for the
    /// server's close, so the server has seen ours.
    pub async fn close(self) -> Result<()> {
        self.conn.close().await?;
        Ok(())
    }
}
