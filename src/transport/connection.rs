//! One WebSocket connection: a reader task and a writer task around an [`Outbox`].
//!
//! The **reader** decodes each frame with limits, answers what needs no room (ping,
//! lobby requests) and forwards game input to the room's shard. Before `Hello`, any other
//! frame (undecodable or not) closes the connection with 4001. After it, a malformed frame
//! is answered with an `Error` and the connection carries on; the frame after
//! [`ServerConfig::max_bad_messages`](crate::config::ServerConfig::max_bad_messages) of them closes it with 1008.
//!
//! Before a frame is even decoded, the reader passes it through the connection's limits
//! ([`conn_guard`](super::conn_guard)): over the message or byte rate it is dropped, and a flood is
//! closed with 1008. A WebSocket protocol violation closes with its RFC 6455 code
//! ([`violation`]).
//!
//! The reader's `Hello` path (sessions, tokens, resume tickets, cluster redirects) is in
//! `hello`.
//!
//! The **writer** ([`writer`](super::writer)) waits on the outbox and writes what it holds,
//! pings, and closes a client that stops reading. The reader drops a connection that has
//! sent nothing for [`ServerConfig::idle_timeout`](crate::config::ServerConfig::idle_timeout).

mod hello;

use std::future::{Future, poll_fn};
use std::sync::Arc;
use std::task::Poll;

use bytes::Bytes;
use futures_util::StreamExt;
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::time::{Instant, timeout};
use tokio_tungstenite::WebSocketStream;
use tokio_tungstenite::tungstenite::protocol::Role;
use tokio_tungstenite::tungstenite::{self, Message};
use tokio_util::sync::CancellationToken;

use super::conn_guard::{Before, Close, ConnGuard};
use super::dispatch::{dispatch, error, input_waited, offer_input};
use super::split_io::{Halves, ReaderIo};
use super::violation;
use super::writer::write_loop;
use super::{Context, websocket_config};
use crate::codec::{Codec, envelope};
use crate::engine::{InputData, SHUTDOWN_REASON};
use crate::limits::InboxShare;
use crate::lobby::Session;
use crate::metrics::ClientKind;
use crate::outbox::Outbox;
use crate::protocol::{ClientMsg, ErrorCode, ServerMsg, close_code};
use crate::side_wake::SideWake;

/// What the handshake learned about the client: its address (as the per-IP limits count
/// it), the token it offered, and its place in its address's connection count.
pub(crate) struct Peer {
    pub(crate) ip: std::net::IpAddr,
    pub(crate) token: Option<String>,
    pub(crate) _permit: super::guard::IpPermit,
}

/// Runs a connection whose handshake is done, until it closes.
pub(crate) async fn run(halves: Halves, codec: Codec, ctx: Arc<Context>, peer: Peer) {
    let conn_id = ctx.next_conn_id();
    let _counted = ctx.count_connection();
    ctx.metrics.wire().opened();
    let outbox = Outbox::new(codec, ctx.config.outbox_events);
    let _registered = ctx.drain.register(conn_id, &outbox);
    // tungstenite reads; whatever it writes (pongs, close replies) goes to the outbox, and
    // only the writer writes to the socket.
    let Halves { read, ahead, write } = halves;
    let io = ReaderIo::new(read, ahead, outbox.clone());
    let mut stream =
        WebSocketStream::from_raw_socket(io, Role::Server, Some(websocket_config())).await;
    let writer_done = CancellationToken::new();
    let writer = ctx.tracker.spawn(write_loop(
        write,
        outbox.clone(),
        ctx.clone(),
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
        guard: ConnGuard::new(&ctx.config.limits, peer.ip, ctx.ip_codes.clone()),
        peer,
    };
    reader.read_loop(&mut stream, &writer_done).await;
    // tungstenite answers a client's close (with 1002 if its code is not allowed) on its
    // next read or flush: flushing hands that reply to the outbox, ahead of our own close.
    let _ = futures_util::SinkExt::flush(&mut stream).await;
    if let Some(session) = reader.session.take() {
        // Boxed, like every rare path: the connection's future stays small (it lives as
        // long as the connection; see `Reader::on_binary`).
        Box::pin(
            ctx.lobby
                .connection_closed(&session, conn_id, reader.farewell),
        )
        .await;
    }
    outbox.close(close_code::NORMAL, "");
    if let Ok(mut write) = writer.await {
        let read = stream.get_mut().read_half();
        // Boxed: its 4 KiB buffer would otherwise be part of the connection's future for
        // the connection's whole life (measured: 5.5 KiB of future per connection).
        Box::pin(linger(&mut write, read, ctx.config.limits.close_timeout)).await;
    }
    tracing::debug!(conn_id, "connection closed");
}

/// After the close frame: ends our side of the TCP stream and reads (and discards) what
/// the client still sends until it ends its side, for at most `limit`. Closing a socket
/// with unread input makes the kernel send a reset, which can destroy our close frame
/// before the client reads it (a flooding client always has unread input); lingering lets
/// the close code arrive.
async fn linger<W, R>(write: &mut W, read: &mut R, limit: std::time::Duration)
where
    W: AsyncWrite + Unpin,
    R: AsyncRead + Unpin,
{
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    const MOST: usize = 1 << 20;
    let drain = async {
        let _ = write.shutdown().await;
        let mut buf = [0u8; 4096];
        let mut total = 0;
        while let Ok(n @ 1..) = read.read(&mut buf).await {
            total += n;
            if total > MOST {
                break;
            }
        }
    };
    let _ = timeout(limit, drain).await;
}

struct Reader<'a> {
    ctx: &'a Context,
    outbox: &'a Arc<Outbox>,
    conn_id: u64,
    session: Option<Arc<Session>>,
    bad_messages: u32,
    /// The client closed with 1000: it is leaving, not dropping out.
    farewell: bool,
    peer: Peer,
    /// This connection's limits.
    guard: ConnGuard,
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

/// A binary frame after [`Reader::prepare`]: answered already, or what is left to do.
enum Prepared {
    Done(Next),
    /// The hot path.
    Input {
        session: Arc<Session>,
        seq: u32,
        data: InputData,
        share: Option<InboxShare>,
    },
    /// The first message (it must be a `Hello`).
    Hello(Box<ClientMsg>),
    /// Any other request.
    Request {
        session: Arc<Session>,
        msg: Box<ClientMsg>,
        share: Option<InboxShare>,
    },
}

/// What woke the reader: a frame (or the stream's end), or one of its side futures.
enum Woke {
    Frame(Option<Result<Message, tungstenite::Error>>),
    WriterStopped,
    Stop(Stop),
    Timer,
}

/// What the reader does after one frame.
enum Next {
    Continue,
    Stop,
}

impl Reader<'_> {
    async fn read_loop(
        &mut self,
        stream: &mut WebSocketStream<ReaderIo>,
        writer_done: &CancellationToken,
    ) {
        let config = &self.ctx.config;
        // `Hello` must arrive within `hello_timeout` of the handshake, however many other
        // frames (pings, undecodable messages) come first; only after it does each frame
        // restart the idle timer. One timer serves the whole connection: a frame only
        // records when it came, and the timer is moved when it fires early, so a busy
        // connection does not register and cancel a timer per message.
        let hello_deadline = Instant::now() + config.hello_timeout;
        let timer = tokio::time::sleep_until(hello_deadline);
        tokio::pin!(timer);
        let mut last_frame = Instant::now();
        // The writer's end and the drain are waited on by futures made once, not once per
        // message: each registers its waker once, where a new one would take the
        // server-wide token's lock again for every message.
        let writer_stopped = writer_done.cancelled();
        tokio::pin!(writer_stopped);
        let stop = stop_signal(self.ctx, false);
        tokio::pin!(stop);
        // The timer and the two signals are polled only after one of them woke the task
        // (or was reset): see `side_wake`.
        let side = SideWake::new();
        loop {
            // The socket first: a frame that is ready is taken without looking at the timer
            // and the two signals; they are looked at whenever the socket has nothing, and
            // polled only if one of them fired. A client that never lets the socket run dry
            // could keep them from being polled (the socket also yields to tokio's
            // cooperative budget), so the Hello deadline is also checked on every frame
            // before `Hello`, and a flood is closed by the per-connection rate limits
            // (`guard`).
            let woke = poll_fn(|cx| {
                if let Poll::Ready(frame) = stream.poll_next_unpin(cx) {
                    return Poll::Ready(Woke::Frame(frame));
                }
                let Some(mut side_cx) = side.look(cx) else {
                    return Poll::Pending;
                };
                if writer_stopped.as_mut().poll(&mut side_cx).is_ready() {
                    return Poll::Ready(Woke::WriterStopped);
                }
                if let Poll::Ready(stop_now) = stop.as_mut().poll(&mut side_cx) {
                    return Poll::Ready(Woke::Stop(stop_now));
                }
                if timer.as_mut().poll(&mut side_cx).is_ready() {
                    return Poll::Ready(Woke::Timer);
                }
                Poll::Pending
            })
            .await;
            let frame = match woke {
                Woke::Frame(frame) => Some(frame),
                Woke::WriterStopped => return,
                // The drain's start until it is seen, then the shutdown (which always
                // comes after it).
                Woke::Stop(stop_now) => {
                    // The drain told this connection already; one in no room is closed
                    // now, one in a room when its room ends (see `crate::shutdown`).
                    if stop_now == Stop::Drain && self.in_room() {
                        stop.set(stop_signal(self.ctx, true));
                        side.touch();
                        continue;
                    }
                    self.outbox.close(close_code::GOING_AWAY, SHUTDOWN_REASON);
                    return;
                }
                Woke::Timer => None,
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
                        side.touch();
                        continue;
                    }
                    self.close(close_code::IDLE_TIMEOUT, "idle timeout");
                    Next::Stop
                }
                Some(None) => Next::Stop,
                Some(Some(Err(error))) => self.on_socket_error(error),
                Some(Some(Ok(message))) => {
                    last_frame = Instant::now();
                    if self.session.is_none() && last_frame >= hello_deadline {
                        self.close(close_code::HELLO_REQUIRED, "no Hello in time");
                        return;
                    }
                    match self.guard.admit(&message, self.ctx.counters()) {
                        Ok(()) => {}
                        Err(None) => continue,
                        Err(Some(close)) => {
                            self.close_with(close);
                            return;
                        }
                    }
                    let had_session = self.session.is_some();
                    let next = self.on_message(message).await;
                    if !had_session && self.session.is_some() {
                        timer.as_mut().reset(last_frame + config.idle_timeout);
                        side.touch();
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

    fn close_with(&self, close: Close) {
        if let Some(reply) = &close.reply {
            self.reply(reply);
        }
        self.close(close.code, close.reason);
    }

    fn reply(&self, msg: &ServerMsg) {
        self.outbox.push_msg(msg);
    }

    fn on_socket_error(&self, error: tungstenite::Error) -> Next {
        // Resets are ordinary ways for clients to go; violations get their close code.
        tracing::debug!(conn_id = self.conn_id, %error, "connection read failed");
        if let Some(violation) = violation::classify(&error) {
            self.ctx.counters().hit(violation.counted);
            self.close(violation.code, violation.reason);
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
            Message::Pong(_) => {
                self.outbox.pong_received();
                Next::Continue
            }
            Message::Ping(_) | Message::Frame(_) => Next::Continue,
        }
    }

    /// A binary frame. Its checks run synchronously ([`Reader::prepare`]), and so does an
    /// `Input`'s trip to its shard's inbox unless that inbox is full (the wait is boxed);
    /// a rare request (`Hello`, lobby requests) is boxed. The connection's future lives as long
    /// as the connection, so it is only as large as the hot path needs (an inline
    /// `on_binary` holding every request's state was 864 bytes of it).
    async fn on_binary(&mut self, bytes: &Bytes) -> Next {
        match self.prepare(bytes) {
            Prepared::Done(next) => next,
            Prepared::Input {
                session,
                seq,
                data,
                share,
            } => {
                let lobby = &self.ctx.lobby;
                if let Some(wait) = offer_input(lobby, &session, self.outbox, seq, data, share) {
                    input_waited(self.outbox, seq, wait.await);
                }
                Next::Continue
            }
            Prepared::Hello(msg) => Box::pin(self.on_hello(*msg)).await,
            Prepared::Request {
                session,
                msg,
                share,
            } => Box::pin(self.on_request(session, *msg, share)).await,
        }
    }

    /// Decodes a binary frame and runs every check that needs no waiting: `Hello` first, the
    /// drain, this connection's limits.
    ///
    /// An `Input` in the form clients write reaches those checks as a `ClientMsg::Input`
    /// whose `data` is empty: its bytes are already in `input`. A check that ever needs an
    /// input's bytes must read them there.
    fn prepare(&mut self, bytes: &Bytes) -> Prepared {
        let wire = self.ctx.metrics.wire();
        let codec = self.outbox.codec();
        // An `Input` (most of what clients send) is read without serde, and its bytes are
        // copied straight into an `InputData` (inline for a short input: no allocation);
        // the checks below look only at its kind and numbers, so the message they see
        // carries no bytes of its own.
        let read = envelope::read_input(codec, bytes).and_then(|envelope| {
            Some((envelope.seq, envelope.ack_tick, bytes.get(envelope.data)?))
        });
        let (decoded, input) = match read {
            Some((seq, ack_tick, data)) => (
                Ok(ClientMsg::Input {
                    seq,
                    ack_tick,
                    data: Bytes::new(),
                }),
                Some(InputData::copy_from_slice(data)),
            ),
            // Not an `Input` in the form clients write (`read_input` was tried: not again).
            None => (codec.decode_client_msg_by_serde(bytes), None),
        };
        match &decoded {
            Ok(msg) => wire.received(ClientKind::of(msg), bytes.len()),
            Err(_) => wire.received(ClientKind::Undecodable, bytes.len()),
        }
        let Some(session) = self.session.clone() else {
            // Before `Hello`, anything that is not a `Hello` (undecodable or not) ends the
            // connection: there is no session to answer for.
            return match decoded {
                Ok(msg) => Prepared::Hello(Box::new(msg)),
                Err(_) => Prepared::Done(self.hello_required()),
            };
        };
        let msg = match decoded {
            Ok(msg) => msg,
            Err(decode_error) => {
                return Prepared::Done(self.on_bad_message(&decode_error.to_string()));
            }
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
            return Prepared::Done(Next::Continue);
        }
        let share = match self.guard.before(&msg, self.ctx.counters()) {
            Before::Go(share) => share,
            Before::Refuse(reply) => {
                self.reply(&reply);
                return Prepared::Done(Next::Continue);
            }
            Before::Close(close) => {
                self.close_with(close);
                return Prepared::Done(Next::Stop);
            }
        };
        match msg {
            ClientMsg::Input { seq, data, .. } => Prepared::Input {
                session,
                seq,
                data: input.unwrap_or_else(|| InputData::from(data)),
                share,
            },
            msg => Prepared::Request {
                session,
                msg: Box::new(msg),
                share,
            },
        }
    }

    /// Any request but an `Input`, once [`Reader::prepare`] let it through.
    async fn on_request(
        &mut self,
        session: Arc<Session>,
        msg: ClientMsg,
        share: Option<InboxShare>,
    ) -> Next {
        let joining = matches!(msg, ClientMsg::JoinRoom { .. });
        let refused = dispatch(&self.ctx.lobby, &session, self.outbox, msg, share).await;
        if joining && let Some(close) = self.guard.joined(refused, self.ctx.counters()) {
            self.close_with(close);
            return Next::Stop;
        }
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
}
