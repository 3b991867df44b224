//! One WebSocket connection: a reader task and a writer task around an [`Outbox`].
//!
//! The **reader** decodes each frame with limits, answers what needs no room (ping,
//! lobby requests) and forwards game input to the room's shard. A malformed frame is
//! answered with an `Error` and the connection carries on; after
//! [`ServerConfig::max_bad_messages`] of them it closes with 1008.
//!
//! The **writer** waits on the outbox, writes the pending events and the newest state in
//! the order the room produced them, and flushes once per batch. It also sends a WebSocket
//! ping every [`ServerConfig::ping_interval`]; the reader drops a connection that has sent
//! nothing for [`ServerConfig::idle_timeout`].

use std::sync::Arc;

use bytes::{Bytes, BytesMut};
use futures_util::stream::{SplitSink, SplitStream};
use futures_util::{SinkExt, StreamExt};
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::time::{Instant, timeout};
use tokio_tungstenite::WebSocketStream;
use tokio_tungstenite::tungstenite::protocol::CloseFrame;
use tokio_tungstenite::tungstenite::{self, Message};
use tokio_util::sync::CancellationToken;

use super::Context;
use super::dispatch::{dispatch, error};
use crate::codec::Codec;
use crate::config::ServerConfig;
use crate::engine::SHUTDOWN_REASON;
use crate::lobby::{Binding, Session};
use crate::metrics::{ClientKind, WireCounters};
use crate::outbox::{Batch, Outbox, StateFrame};
use crate::protocol::{ClientMsg, ErrorCode, PROTOCOL_VERSION, ServerMsg, close_code};

/// Runs a connection whose handshake is done, until it closes.
pub(crate) async fn run<S>(ws: WebSocketStream<S>, codec: Codec, ctx: Arc<Context>)
where
    S: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    let conn_id = ctx.next_conn_id();
    let _counted = ctx.count_connection();
    ctx.metrics.wire().opened();
    let outbox = Outbox::new(codec, ctx.config.outbox_events);
    let _registered = ctx.drain.register(conn_id, &outbox);
    let (sink, stream) = ws.split();
    let writer_done = CancellationToken::new();
    let writer = ctx.tracker.spawn(write_loop(
        sink,
        outbox.clone(),
        ctx.config.clone(),
        writer_done.clone(),
        ctx.metrics.wire().clone(),
    ));
    let mut reader = Reader {
        ctx: &ctx,
        outbox: &outbox,
        conn_id,
        session: None,
        bad_messages: 0,
        farewell: false,
    };
    reader.read_loop(stream, &writer_done).await;
    if let Some(session) = reader.session.take() {
        ctx.lobby
            .connection_closed(&session, conn_id, reader.farewell)
            .await;
    }
    outbox.close(close_code::NORMAL, "");
    let _ = writer.await;
    tracing::debug!(conn_id, "connection closed");
}

struct Reader<'a> {
    ctx: &'a Context,
    outbox: &'a Arc<Outbox>,
    conn_id: u64,
    session: Option<Arc<Session>>,
    bad_messages: u32,
    /// The client closed with 1000: it is leaving, not dropping out.
    farewell: bool,
}

/// Which stage of a shutdown the reader saw.
#[derive(Debug, PartialEq, Eq)]
enum Stop {
    Drain,
    Shutdown,
}

/// Completes when the drain begins or, once it has been seen, when the server stops.
async fn stop_signal(ctx: &Context, drain_seen: bool) -> Stop {
    if drain_seen {
        ctx.shutdown.cancelled().await;
        Stop::Shutdown
    } else {
        ctx.drain.started().await;
        Stop::Drain
    }
}

/// What the reader does after one frame.
enum Next {
    Continue,
    Stop,
}

impl Reader<'_> {
    async fn read_loop<S>(
        &mut self,
        mut stream: SplitStream<WebSocketStream<S>>,
        writer_done: &CancellationToken,
    ) where
        S: AsyncRead + AsyncWrite + Unpin,
    {
        let config = &self.ctx.config;
        // `Hello` must arrive within `hello_timeout` of the handshake, however many other
        // frames (pings, undecodable messages) come first; only after it does each frame
        // restart the idle timer. One timer serves the whole connection: a frame only
        // records when it came, and the timer is moved when it fires early, so a busy
        // connection does not register and cancel a timer per message.
        let timer = tokio::time::sleep_until(Instant::now() + config.hello_timeout);
        tokio::pin!(timer);
        let mut last_frame = Instant::now();
        let mut drain_seen = false;
        loop {
            let frame = tokio::select! {
                _ = writer_done.cancelled() => return,
                // One wait per message, as before the drain existed: the drain's start
                // until it is seen, then the shutdown (which always comes after it).
                stop = stop_signal(self.ctx, drain_seen) => {
                    // The drain told this connection already; one in no room is closed
                    // now, one in a room when its room ends (see `crate::shutdown`).
                    if stop == Stop::Drain && self.in_room() {
                        drain_seen = true;
                        continue;
                    }
                    self.outbox.close(close_code::GOING_AWAY, SHUTDOWN_REASON);
                    return;
                }
                () = &mut timer => None,
                frame = stream.next() => Some(frame),
            };
            let next = match frame {
                None if self.session.is_none() => {
                    self.close(close_code::HELLO_REQUIRED, "no Hello in time");
                    Next::Stop
                }
                None => {
                    let deadline = last_frame + config.idle_timeout;
                    if deadline > Instant::now() {
                        timer.as_mut().reset(deadline);
                        continue;
                    }
                    self.close(close_code::IDLE_TIMEOUT, "idle timeout");
                    Next::Stop
                }
                Some(None) => Next::Stop,
                Some(Some(Err(error))) => self.on_socket_error(error),
                Some(Some(Ok(message))) => {
                    last_frame = Instant::now();
                    let had_session = self.session.is_some();
                    let next = self.on_message(message).await;
                    if !had_session && self.session.is_some() {
                        timer.as_mut().reset(last_frame + config.idle_timeout);
                    }
                    next
                }
            };
            if let Next::Stop = next {
                return;
            }
        }
    }

    fn in_room(&self) -> bool {
        self.session
            .as_ref()
            .is_some_and(|session| session.lock().room.is_some())
    }

    fn close(&self, code: u16, reason: &'static str) {
        self.outbox.close(code, reason);
    }

    fn reply(&self, msg: &ServerMsg) {
        self.outbox.push_msg(msg);
    }

    fn on_socket_error(&self, error: tungstenite::Error) -> Next {
        match error {
            tungstenite::Error::Capacity(detail) => {
                tracing::debug!(conn_id = self.conn_id, %detail, "frame over the size cap");
                self.close(close_code::MESSAGE_TOO_BIG, "message too big");
            }
            tungstenite::Error::ConnectionClosed | tungstenite::Error::AlreadyClosed => {}
            error => {
                // Resets and protocol violations are ordinary ways for clients to go.
                tracing::debug!(conn_id = self.conn_id, %error, "connection read failed");
            }
        }
        Next::Stop
    }

    async fn on_message(&mut self, message: Message) -> Next {
        match message {
            Message::Binary(bytes) => self.on_binary(&bytes).await,
            Message::Text(_) => {
                self.reply(&error(
                    ErrorCode::TextFrame,
                    "text frames are not supported: send binary frames",
                    None,
                ));
                self.close(close_code::UNSUPPORTED_DATA, "binary frames only");
                Next::Stop
            }
            Message::Close(frame) => {
                self.farewell = frame.is_some_and(|f| u16::from(f.code) == close_code::NORMAL);
                Next::Stop
            }
            // Pings are answered by tungstenite; any frame counts as activity.
            Message::Ping(_) | Message::Pong(_) | Message::Frame(_) => Next::Continue,
        }
    }

    async fn on_binary(&mut self, bytes: &Bytes) -> Next {
        let wire = self.ctx.metrics.wire();
        let msg: ClientMsg = match self.outbox.codec().decode(bytes) {
            Ok(msg) => msg,
            Err(decode_error) => {
                wire.received(ClientKind::Undecodable, bytes.len());
                return self.on_bad_message(&decode_error.to_string());
            }
        };
        wire.received(ClientKind::of(&msg), bytes.len());
        let Some(session) = self.session.clone() else {
            return self.on_hello(msg).await;
        };
        match &msg {
            ClientMsg::Ack { tick } | ClientMsg::Input { ack_tick: tick, .. } => {
                self.outbox.acknowledge(*tick);
            }
            _ => {}
        }
        if self.ctx.drain.refuses(&msg) {
            self.reply(&error(
                ErrorCode::ShuttingDown,
                "the server is shutting down: no new matches or rooms",
                None,
            ));
            return Next::Continue;
        }
        dispatch(&self.ctx.lobby, &session, self.outbox, msg).await;
        Next::Continue
    }

    fn on_bad_message(&mut self, detail: &str) -> Next {
        self.bad_messages += 1;
        if self.bad_messages > self.ctx.config.max_bad_messages {
            self.reply(&error(
                ErrorCode::TooManyErrors,
                "too many malformed messages",
                None,
            ));
            self.close(close_code::POLICY_VIOLATION, "too many malformed messages");
            return Next::Stop;
        }
        self.reply(&error(ErrorCode::BadMessage, detail, None));
        Next::Continue
    }

    async fn on_hello(&mut self, msg: ClientMsg) -> Next {
        let ClientMsg::Hello {
            version,
            resume_token,
            last_event_seq,
        } = msg
        else {
            self.reply(&error(
                ErrorCode::HelloRequired,
                "the first message must be Hello",
                None,
            ));
            self.close(
                close_code::HELLO_REQUIRED,
                "the first message must be Hello",
            );
            return Next::Stop;
        };
        if version != PROTOCOL_VERSION {
            self.reply(&error(
                ErrorCode::UnsupportedVersion,
                format!("protocol version {version} is not supported; this server speaks {PROTOCOL_VERSION}"),
                None,
            ));
            self.close(
                close_code::UNSUPPORTED_VERSION,
                "unsupported protocol version",
            );
            return Next::Stop;
        }
        let binding = Binding {
            conn_id: self.conn_id,
            outbox: self.outbox.clone(),
        };
        let lobby = &self.ctx.lobby;
        let (session, token, resumed) = match resume_token {
            None => {
                let (session, token) = lobby.open_session(binding);
                (session, token, false)
            }
            Some(token) => match lobby.resume(&token, binding) {
                Ok(resumed) => {
                    self.ctx.metrics.wire().resume(true);
                    (resumed.session, resumed.token, true)
                }
                Err(code) => {
                    self.ctx.metrics.wire().resume(false);
                    self.reply(&error(
                        code,
                        "resume token unknown, expired or already used",
                        None,
                    ));
                    self.close(close_code::INVALID_RESUME_TOKEN, "invalid resume token");
                    return Next::Stop;
                }
            },
        };
        self.reply(&ServerMsg::Welcome {
            version: PROTOCOL_VERSION,
            session_id: session.id(),
            resume_token: token,
            resumed,
            tick_hz: self.ctx.config.effective_tick_hz(),
        });
        if resumed {
            lobby.rejoin_room(&session, last_event_seq).await;
        }
        tracing::debug!(
            conn_id = self.conn_id,
            session = session.id(),
            resumed,
            "hello"
        );
        self.session = Some(session);
        Next::Continue
    }
}

/// Writes what the outbox holds, flushing once per batch, and pings on schedule. Cancels
/// `done` when it stops, so the reader stops too.
async fn write_loop<S>(
    mut sink: SplitSink<WebSocketStream<S>, Message>,
    outbox: Arc<Outbox>,
    config: Arc<ServerConfig>,
    done: CancellationToken,
    wire: Arc<WireCounters>,
) where
    S: AsyncRead + AsyncWrite + Unpin,
{
    let _done = done.drop_guard();
    let mut tally = CloseTally { wire, code: None };
    let mut batch = Batch::default();
    let mut scratch = BytesMut::with_capacity(512);
    let mut ping =
        tokio::time::interval_at(Instant::now() + config.ping_interval, config.ping_interval);
    loop {
        let wake = tokio::select! {
            _ = outbox.next_batch(&mut batch) => Wake::Batch,
            _ = ping.tick() => Wake::Ping,
        };
        let write = async {
            match wake {
                Wake::Batch => {
                    let codec = outbox.codec();
                    write_batch(&mut sink, &mut batch, codec, &mut scratch, &tally.wire).await
                }
                Wake::Ping => sink.send(Message::Ping(Bytes::new())).await,
            }
        };
        match timeout(config.write_timeout, write).await {
            Ok(Ok(())) => {}
            Ok(Err(error)) => {
                tracing::debug!(%error, "connection write failed");
                return;
            }
            Err(_) => {
                tracing::info!("dropping a client that stopped reading");
                return;
            }
        }
        if let Some(close) = batch.close.take() {
            tally.code = Some(close.code);
            let frame = CloseFrame {
                code: close.code.into(),
                reason: close.reason.into(),
            };
            let _ = timeout(config.write_timeout, sink.send(Message::Close(Some(frame)))).await;
            return;
        }
    }
}

/// Counts the connection's end in the metrics, however the writer stops: by the close code
/// the server chose, or as having none (the socket failed or stalled first).
struct CloseTally {
    wire: Arc<WireCounters>,
    code: Option<u16>,
}

impl Drop for CloseTally {
    fn drop(&mut self) {
        self.wire.closed(self.code);
    }
}

/// Why the writer woke up.
enum Wake {
    Batch,
    Ping,
}

/// Feeds a batch's frames (events before the state, the state, events after it) and flushes
/// once. A close request in the batch is left for the caller.
async fn write_batch<S>(
    sink: &mut SplitSink<WebSocketStream<S>, Message>,
    batch: &mut Batch,
    codec: Codec,
    scratch: &mut BytesMut,
    wire: &WireCounters,
) -> Result<(), tungstenite::Error>
where
    S: AsyncRead + AsyncWrite + Unpin,
{
    let state = batch.state.take();
    let split = batch.state_position.min(batch.events.len());
    for frame in batch.events.drain(..split) {
        wire.sent(codec, &frame);
        sink.feed(Message::Binary(frame)).await?;
    }
    if let Some(state) = state {
        let frame = encode_snapshot(codec, state, scratch);
        wire.sent(codec, &frame);
        sink.feed(Message::Binary(frame)).await?;
    }
    for frame in batch.events.drain(..) {
        wire.sent(codec, &frame);
        sink.feed(Message::Binary(frame)).await?;
    }
    sink.flush().await
}

/// Wraps a shared view in this client's `Snapshot` envelope. The scratch buffer's memory is
/// reused once the previous frame has been written, so steady state allocates nothing.
fn encode_snapshot(codec: Codec, state: StateFrame, scratch: &mut BytesMut) -> Bytes {
    let msg = match state.base_tick {
        None => ServerMsg::Snapshot {
            tick: state.tick,
            input_seq: state.input_seq,
            state: state.body,
        },
        Some(base_tick) => ServerMsg::Delta {
            tick: state.tick,
            base_tick,
            input_seq: state.input_seq,
            delta: state.body,
        },
    };
    scratch.clear();
    if let Err(error) = codec.encode_into(&msg, scratch) {
        tracing::error!(%error, "failed to encode a snapshot");
    }
    scratch.split().freeze()
}
