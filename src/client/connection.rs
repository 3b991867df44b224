//! One WebSocket connection to a ticksync server, speaking one codec.
//!
//! Owns the socket: typed [`Connection::send`] and [`Connection::recv`] of
//! [`ClientMsg`] and [`ServerMsg`], every wait bounded by the connection's timeout (except
//! the raw reads, [`Connection::next_message`] and [`Connection::recv_payload`], whose
//! callers bound them), the `Hello`/`Welcome` exchange, and both ways to leave (a 1000
//! close or an abrupt drop).
//! It keeps no game state except the highest room event `seq` it has received, which a
//! resume needs.

use std::time::Duration;

use bytes::Bytes;
use futures_util::{SinkExt, StreamExt};
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::http::HeaderValue;
use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;
use tokio_tungstenite::tungstenite::protocol::{CloseFrame, WebSocketConfig};
use tokio_tungstenite::tungstenite::{self, Message};
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream, connect_async_tls_with_config};

use super::{ClientError, ClientTls};
use crate::codec::{Codec, MAX_DECODE_BYTES};
use crate::protocol::{ClientMsg, PROTOCOL_VERSION, ServerMsg, SessionId};

/// A client's read buffer. Server messages are small; the 128 KiB default would cost a
/// load generator with thousands of connections hundreds of megabytes.
const READ_BUFFER_BYTES: usize = 4 * 1024;

/// The read buffer of [`Connection::connect_light`]: tungstenite zeroes the free part of
/// its read buffer before every read attempt, found or not (the most expensive step of a
/// read that finds nothing), and the messages of a light client are a few dozen bytes (an
/// arena delta with its frame header: about 17). A larger message still arrives whole: the
/// buffer grows for it.
const LIGHT_READ_BUFFER_BYTES: usize = 256;

/// What the server said in `Welcome`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Welcome {
    /// The session's id, stable across resumes.
    pub session_id: SessionId,
    /// The token to resume this session with next time (it rotates on every resume).
    pub resume_token: String,
    /// Whether an existing session was taken back.
    pub resumed: bool,
    /// The server's tick rate in Hz.
    pub tick_hz: u16,
}

/// What a `Hello` needs to resume a session.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Resume {
    /// The latest resume token from `Welcome`.
    pub token: String,
    /// The highest room event `seq` received (0 for none).
    pub last_event_seq: u64,
}

/// A connected WebSocket speaking one codec.
pub struct Connection {
    ws: WebSocketStream<MaybeTlsStream<TcpStream>>,
    codec: Codec,
    timeout: Duration,
    last_event_seq: u64,
    auth_token: Option<String>,
}

impl std::fmt::Debug for Connection {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Connection")
            .field("codec", &self.codec)
            .field("timeout", &self.timeout)
            .finish()
    }
}

impl Connection {
    /// Opens a WebSocket to `url` (e.g. `ws://127.0.0.1:7878/`) offering only `codec`'s
    /// subprotocol. Sends nothing; call [`Connection::hello`] next. Every later wait on this
    /// connection is bounded by `timeout`.
    ///
    /// # Errors
    /// [`ClientError::WebSocket`] if the handshake fails, [`ClientError::Subprotocol`] if the
    /// server does not choose the offered codec, [`ClientError::Timeout`].
    pub async fn connect(
        url: &str,
        codec: Codec,
        timeout: Duration,
    ) -> Result<Connection, ClientError> {
        Connection::connect_with(url, codec, timeout, None).await
    }

    /// As [`Connection::connect`], trusting `tls`'s roots for a `wss://` URL (`None`: the
    /// webpki roots only). Ignored for `ws://`.
    ///
    /// # Errors
    /// As [`Connection::connect`]; a certificate no root vouches for is
    /// [`ClientError::WebSocket`] with rustls' reason.
    pub async fn connect_with(
        url: &str,
        codec: Codec,
        timeout: Duration,
        tls: Option<&ClientTls>,
    ) -> Result<Connection, ClientError> {
        Connection::connect_buffered(url, codec, timeout, tls, READ_BUFFER_BYTES).await
    }

    /// As [`Connection::connect_with`], for a client whose messages are small and many (the
    /// arena bot with checks off): a read buffer of 256 bytes instead of 4 KiB, which makes
    /// every read attempt cheaper.
    ///
    /// # Errors
    /// As [`Connection::connect_with`].
    pub async fn connect_light(
        url: &str,
        codec: Codec,
        timeout: Duration,
        tls: Option<&ClientTls>,
    ) -> Result<Connection, ClientError> {
        Connection::connect_buffered(url, codec, timeout, tls, LIGHT_READ_BUFFER_BYTES).await
    }

    async fn connect_buffered(
        url: &str,
        codec: Codec,
        timeout: Duration,
        tls: Option<&ClientTls>,
        read_buffer: usize,
    ) -> Result<Connection, ClientError> {
        let mut request = url.into_client_request()?;
        request.headers_mut().insert(
            "Sec-WebSocket-Protocol",
            HeaderValue::from_static(codec.subprotocol()),
        );
        let config = WebSocketConfig::default()
            .read_buffer_size(read_buffer)
            .write_buffer_size(0)
            .max_message_size(Some(MAX_DECODE_BYTES))
            .max_frame_size(Some(MAX_DECODE_BYTES));
        let connecting = connect_async_tls_with_config(
            request,
            Some(config),
            true,
            tls.map(ClientTls::connector),
        );
        let (ws, response) = tokio::time::timeout(timeout, connecting)
            .await
            .map_err(|_| ClientError::Timeout(timeout, "the WebSocket handshake"))??;
        let chosen = response
            .headers()
            .get("Sec-WebSocket-Protocol")
            .and_then(|v| v.to_str().ok());
        if chosen != Some(codec.subprotocol()) {
            return Err(ClientError::Subprotocol {
                expected: codec.subprotocol(),
                chosen: chosen.map(str::to_string),
            });
        }
        Ok(Connection::from_websocket(ws, codec, timeout))
    }

    /// Wraps a WebSocket that is already open (a handshake the caller made itself: over TLS,
    /// with extra headers, or on a socket it tuned) and that negotiated `codec`. Sends
    /// nothing; call [`Connection::hello`] next.
    pub fn from_websocket(
        ws: WebSocketStream<MaybeTlsStream<TcpStream>>,
        codec: Codec,
        timeout: Duration,
    ) -> Connection {
        Connection {
            ws,
            codec,
            timeout,
            last_event_seq: 0,
            auth_token: None,
        }
    }

    /// Sets the JWT that [`Connection::hello`] sends, for servers that require one.
    pub fn set_auth_token(&mut self, token: Option<String>) {
        self.auth_token = token;
    }

    /// Sends `Hello` (resuming when `resume` is given) and waits for `Welcome`.
    ///
    /// # Errors
    /// [`ClientError::Refused`] when the server answers with an `Error` (e.g. an invalid
    /// resume token), [`ClientError::Unexpected`] for any other answer, or a socket error.
    pub async fn hello(&mut self, resume: Option<Resume>) -> Result<Welcome, ClientError> {
        self.hello_with(resume, None).await
    }

    /// Follows a cluster's `Redirect`: opens a connection to `url` with `codec`, sends
    /// `Hello` with the seat `ticket`, and waits for `Welcome` (the node then seats the
    /// player in its reserved seat: `RoomJoined`, the room's events and a snapshot follow).
    ///
    /// # Errors
    /// As [`Connection::connect`] and [`Connection::hello`]; a refused ticket is
    /// [`ClientError::Refused`] with its code (`TicketExpired`, `TicketUsed`, ...).
    pub async fn follow_redirect(
        url: &str,
        ticket: String,
        codec: Codec,
        timeout: Duration,
        auth_token: Option<String>,
    ) -> Result<(Connection, Welcome), ClientError> {
        Connection::follow_redirect_with(url, ticket, codec, timeout, auth_token, None).await
    }

    /// As [`Connection::follow_redirect`], trusting `tls`'s roots for a `wss://` URL.
    ///
    /// # Errors
    /// As [`Connection::follow_redirect`].
    pub async fn follow_redirect_with(
        url: &str,
        ticket: String,
        codec: Codec,
        timeout: Duration,
        auth_token: Option<String>,
        tls: Option<&ClientTls>,
    ) -> Result<(Connection, Welcome), ClientError> {
        let mut conn = Connection::connect_with(url, codec, timeout, tls).await?;
        conn.set_auth_token(auth_token);
        let welcome = conn.hello_with(None, Some(ticket)).await?;
        Ok((conn, welcome))
    }

    /// Resumes a session through `url`, any node of a cluster: connects, sends `Hello`
    /// with `resume` and, when that node answers `Redirect` (the session lives on another
    /// node), connects to the node it names and sends the same `Hello` with the resume
    /// ticket. Returns the connection, `Welcome`, and the URL of the node that answered
    /// it (where later reconnects should go).
    ///
    /// # Errors
    /// As [`Connection::connect`] and [`Connection::hello`] (a refused ticket is
    /// [`ClientError::Refused`]); a second `Redirect` is [`ClientError::Unexpected`].
    pub async fn resume_at(
        url: &str,
        resume: Resume,
        codec: Codec,
        timeout: Duration,
        auth_token: Option<String>,
    ) -> Result<(Connection, Welcome, String), ClientError> {
        Connection::resume_at_with(url, resume, codec, timeout, auth_token, None).await
    }

    /// As [`Connection::resume_at`], trusting `tls`'s roots for `wss://` URLs.
    ///
    /// # Errors
    /// As [`Connection::resume_at`].
    pub async fn resume_at_with(
        url: &str,
        resume: Resume,
        codec: Codec,
        timeout: Duration,
        auth_token: Option<String>,
        tls: Option<&ClientTls>,
    ) -> Result<(Connection, Welcome, String), ClientError> {
        let mut conn = Connection::connect_with(url, codec, timeout, tls).await?;
        conn.set_auth_token(auth_token.clone());
        match conn.hello_with(Some(resume.clone()), None).await {
            Ok(welcome) => Ok((conn, welcome, url.to_string())),
            Err(ClientError::Redirected { url: home, ticket }) => {
                conn.abort();
                let mut conn = Connection::connect_with(&home, codec, timeout, tls).await?;
                conn.set_auth_token(auth_token);
                match conn.hello_with(Some(resume), Some(ticket)).await {
                    Ok(welcome) => Ok((conn, welcome, home)),
                    Err(ClientError::Redirected { url, .. }) => Err(ClientError::Unexpected(
                        format!("redirected again, to {url}"),
                    )),
                    Err(error) => Err(error),
                }
            }
            Err(error) => Err(error),
        }
    }

    /// Logs a signed-in player in through `url`, any node of a cluster: connects, sends
    /// `Hello` with `auth_token` (and `last_event_seq`, for a session still in a room) and,
    /// when that node answers `Redirect` (the player's session lives on another node),
    /// connects to the node it names and sends the same `Hello` with the resume ticket,
    /// taking that session over. Returns the connection, `Welcome`, and the URL of the node
    /// that answered it.
    ///
    /// # Errors
    /// As [`Connection::resume_at`].
    pub async fn login_at(
        url: &str,
        auth_token: String,
        last_event_seq: u64,
        codec: Codec,
        timeout: Duration,
    ) -> Result<(Connection, Welcome, String), ClientError> {
        let mut conn = Connection::connect(url, codec, timeout).await?;
        conn.set_auth_token(Some(auth_token.clone()));
        match conn.hello_from(last_event_seq, None).await {
            Ok(welcome) => Ok((conn, welcome, url.to_string())),
            Err(ClientError::Redirected { url: home, ticket }) => {
                conn.abort();
                let mut conn = Connection::connect(&home, codec, timeout).await?;
                conn.set_auth_token(Some(auth_token));
                match conn.hello_from(last_event_seq, Some(ticket)).await {
                    Ok(welcome) => Ok((conn, welcome, home)),
                    Err(ClientError::Redirected { url, .. }) => Err(ClientError::Unexpected(
                        format!("redirected again, to {url}"),
                    )),
                    Err(error) => Err(error),
                }
            }
            Err(error) => Err(error),
        }
    }

    /// `Hello` with no resume token but `last_event_seq` (a signed-in player's login).
    async fn hello_from(
        &mut self,
        last_event_seq: u64,
        ticket: Option<String>,
    ) -> Result<Welcome, ClientError> {
        self.hello_raw(None, last_event_seq, ticket).await
    }

    async fn hello_with(
        &mut self,
        resume: Option<Resume>,
        ticket: Option<String>,
    ) -> Result<Welcome, ClientError> {
        let (resume_token, last_event_seq) = match resume {
            Some(resume) => (Some(resume.token), resume.last_event_seq),
            None => (None, 0),
        };
        self.hello_raw(resume_token, last_event_seq, ticket).await
    }

    async fn hello_raw(
        &mut self,
        resume_token: Option<String>,
        last_event_seq: u64,
        ticket: Option<String>,
    ) -> Result<Welcome, ClientError> {
        self.last_event_seq = last_event_seq;
        self.send(&ClientMsg::Hello {
            version: PROTOCOL_VERSION,
            resume_token,
            last_event_seq,
            auth_token: self.auth_token.clone(),
            ticket,
        })
        .await?;
        match self.recv().await? {
            ServerMsg::Welcome {
                session_id,
                resume_token,
                resumed,
                tick_hz,
                ..
            } => Ok(Welcome {
                session_id,
                resume_token,
                resumed,
                tick_hz,
            }),
            ServerMsg::Error { code, message, .. } => Err(ClientError::Refused { code, message }),
            ServerMsg::Redirect { url, ticket } => Err(ClientError::Redirected { url, ticket }),
            other => Err(ClientError::Unexpected(format!(
                "expected Welcome, got {other:?}"
            ))),
        }
    }

    /// The codec of this connection.
    pub fn codec(&self) -> Codec {
        self.codec
    }

    /// The highest room event `seq` received on this connection (or given to
    /// [`Connection::hello`] when resuming).
    pub fn last_event_seq(&self) -> u64 {
        self.last_event_seq
    }

    /// Forgets the event seq, for a new room whose events count from 1 again.
    pub fn reset_event_seq(&mut self) {
        self.last_event_seq = 0;
    }

    /// Sets the highest event seq seen, for clients that carry it across connections
    /// themselves (a `Resume` given to [`Connection::hello`] sets it too).
    pub fn set_last_event_seq(&mut self, seq: u64) {
        self.last_event_seq = seq;
    }

    /// Sends one WebSocket message as it is: a text frame, a ping, hand-made bytes. For
    /// tests of the server's handling of what a well-behaved client never sends.
    ///
    /// # Errors
    /// [`ClientError::WebSocket`], or [`ClientError::Timeout`] when the write does not
    /// complete in time.
    pub async fn send_message(&mut self, message: Message) -> Result<(), ClientError> {
        tokio::time::timeout(self.timeout, self.ws.send(message))
            .await
            .map_err(|_| ClientError::Timeout(self.timeout, "a write"))??;
        Ok(())
    }

    /// The next WebSocket message of any kind, with no timeout and no decoding: `None`
    /// once the stream has ended. For callers that watch control frames (a close code, a
    /// pong); [`Connection::recv`] is the typed way to read.
    pub async fn next_message(&mut self) -> Option<Result<Message, tungstenite::Error>> {
        self.ws.next().await
    }

    /// The plain TCP stream under the WebSocket (`None` over TLS), to read the server's
    /// bytes without the WebSocket layer answering anything.
    pub fn tcp_mut(&mut self) -> Option<&mut TcpStream> {
        match self.ws.get_mut() {
            MaybeTlsStream::Plain(tcp) => Some(tcp),
            _ => None,
        }
    }

    /// Encodes and sends one message.
    ///
    /// # Errors
    /// [`ClientError::Codec`], [`ClientError::WebSocket`], or [`ClientError::Timeout`] when
    /// the write does not complete in time.
    pub async fn send(&mut self, msg: &ClientMsg) -> Result<(), ClientError> {
        let bytes = self.codec.encode(msg)?;
        tokio::time::timeout(self.timeout, self.ws.send(Message::Binary(bytes)))
            .await
            .map_err(|_| ClientError::Timeout(self.timeout, "a write"))??;
        Ok(())
    }

    /// Sends one message already encoded with this connection's codec (by a client that
    /// encodes into a buffer of its own).
    ///
    /// # Errors
    /// [`ClientError::WebSocket`], or [`ClientError::Timeout`] when the write does not
    /// complete in time.
    pub async fn send_encoded(&mut self, bytes: Bytes) -> Result<(), ClientError> {
        self.send_message(Message::Binary(bytes)).await
    }

    /// Encodes `msg` once and sends it `count` times, flushing once (a flood, for tests
    /// of the server's limits).
    ///
    /// # Errors
    /// As [`Connection::send`].
    pub async fn send_burst(&mut self, msg: &ClientMsg, count: usize) -> Result<(), ClientError> {
        let bytes = self.codec.encode(msg)?;
        let burst = async {
            for _ in 0..count {
                self.ws.feed(Message::Binary(bytes.clone())).await?;
            }
            self.ws.flush().await
        };
        tokio::time::timeout(self.timeout, burst)
            .await
            .map_err(|_| ClientError::Timeout(self.timeout, "a write"))??;
        Ok(())
    }

    /// Changes the limit on every later wait.
    pub fn set_timeout(&mut self, timeout: Duration) {
        self.timeout = timeout;
    }

    /// The next server message, skipping pings and pongs (tungstenite answers pings).
    ///
    /// Cancel-safe: dropping the future before it completes loses no message.
    ///
    /// # Errors
    /// [`ClientError::Timeout`] after the connection's timeout, [`ClientError::Closed`] on a
    /// close frame or end of stream, [`ClientError::Codec`] for an undecodable frame,
    /// [`ClientError::Unexpected`] for a text frame.
    pub async fn recv(&mut self) -> Result<ServerMsg, ClientError> {
        self.recv_sized().await.map(|(msg, _)| msg)
    }

    /// Like [`Connection::recv`], also returning the message's WebSocket payload size in
    /// bytes (the frame without its header).
    ///
    /// Cancel-safe, like [`Connection::recv`].
    ///
    /// # Errors
    /// As [`Connection::recv`].
    pub async fn recv_sized(&mut self) -> Result<(ServerMsg, usize), ClientError> {
        loop {
            let frame = tokio::time::timeout(self.timeout, self.ws.next())
                .await
                .map_err(|_| ClientError::Timeout(self.timeout, "a server message"))?;
            if let Some(bytes) = binary_payload(frame)? {
                let msg = self.codec.decode_server(&bytes)?;
                if let ServerMsg::Event { seq, .. } | ServerMsg::GameEvent { seq, .. } = &msg {
                    self.last_event_seq = self.last_event_seq.max(*seq);
                }
                return Ok((msg, bytes.len()));
            }
        }
    }

    /// The next binary message's payload as it came, undecoded, skipping pings and pongs,
    /// **with no timeout**: for a client that reads the bytes its own way (the arena bot with
    /// checks off reads states by their envelope, [`super::read_state_envelope`]) and
    /// bounds the wait itself. The event seq is not tracked: such a client resumes nothing.
    ///
    /// Cancel-safe, like [`Connection::recv`].
    ///
    /// # Errors
    /// [`ClientError::Closed`] on a close frame or end of stream,
    /// [`ClientError::Unexpected`] for a text frame, [`ClientError::WebSocket`].
    pub async fn recv_payload(&mut self) -> Result<Bytes, ClientError> {
        std::future::poll_fn(|cx| self.poll_payload(cx)).await
    }

    /// [`Connection::recv_payload`] as a poll, for loops that wait on more than the socket.
    ///
    /// # Errors
    /// As [`Connection::recv_payload`].
    pub fn poll_payload(
        &mut self,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Result<Bytes, ClientError>> {
        loop {
            let frame = std::task::ready!(self.ws.poll_next_unpin(cx));
            if let Some(bytes) = binary_payload(frame)? {
                return std::task::Poll::Ready(Ok(bytes));
            }
        }
    }

    /// Closes with code 1000 (the client is leaving for good: the server ends the session
    /// at once) and waits, within the timeout, for the server's close.
    ///
    /// # Errors
    /// [`ClientError::WebSocket`] if the close frame cannot be sent.
    pub async fn close(mut self) -> Result<(), ClientError> {
        let frame = CloseFrame {
            code: CloseCode::Normal,
            reason: "bye".into(),
        };
        match tokio::time::timeout(self.timeout, self.ws.close(Some(frame))).await {
            Ok(Ok(())) | Ok(Err(tungstenite::Error::ConnectionClosed)) => {}
            Ok(Err(error)) => return Err(error.into()),
            Err(_) => return Err(ClientError::Timeout(self.timeout, "the close")),
        }
        // Drain until the server's close arrives (or the stream ends), so the server has
        // seen ours before the socket goes away.
        let deadline = tokio::time::Instant::now() + self.timeout;
        while let Ok(Some(Ok(_))) = tokio::time::timeout_at(deadline, self.ws.next()).await {}
        Ok(())
    }

    /// Drops the TCP connection without a close handshake, as a network failure would. The
    /// server keeps the session for its reconnect grace period.
    pub fn abort(self) {
        drop(self.ws);
    }
}

/// A binary message's payload; `None` for a ping, a pong or a raw frame (tungstenite
/// answers pings itself).
///
/// # Errors
/// [`ClientError::Closed`] on a close frame or end of stream, [`ClientError::Unexpected`]
/// for a text frame, [`ClientError::WebSocket`].
fn binary_payload(
    frame: Option<Result<Message, tungstenite::Error>>,
) -> Result<Option<Bytes>, ClientError> {
    let message = match frame {
        None => {
            return Err(ClientError::Closed {
                code: None,
                reason: "end of stream".into(),
            });
        }
        Some(frame) => frame?,
    };
    match message {
        Message::Binary(bytes) => Ok(Some(bytes)),
        Message::Ping(_) | Message::Pong(_) | Message::Frame(_) => Ok(None),
        Message::Close(frame) => Err(ClientError::Closed {
            code: frame.as_ref().map(|f| u16::from(f.code)),
            reason: frame.map(|f| f.reason.to_string()).unwrap_or_default(),
        }),
        Message::Text(text) => Err(ClientError::Unexpected(format!("text frame {text:?}"))),
    }
}
