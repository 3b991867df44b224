//! One connection's writer: it waits on the outbox, frames the pending control frames,
//! events and the newest state in the order the room produced them, and writes them with
//! one write (vectored when a large shared payload rides along). It also sends a WebSocket
//! ping every [`ServerConfig::ping_interval`] and closes a client that stops reading: a
//! write stalled for the slow-reader timeout, or no pong for the idle timeout plus a ping
//! interval (4003). At shutdown a pending write gets only the close timeout.
//!
//! The writer owns the socket's write half and frames by hand ([`ws_frame`]): a payload
//! that was encoded once for many recipients (a room's view or delta, a broadcast event)
//! is written as it is behind its own header, never copied into a per-connection
//! buffer once it is large ([`VECTOR_MIN`] bytes); small ones are copied, which is cheaper
//! than an extra I/O vector. Steady state allocates nothing per write: the frame buffer's
//! memory is reused once the previous write is done. What a burst grew is given back
//! (past [`KEEP_BUFFER`] after a write, the rest at each ping, see `crate::outbox`), so a
//! ping may cost one allocation of [`FRAME_BUFFER`] bytes.
//!
//! A write is tried at once, without a timer; only a write the socket cannot take right
//! away (the client is not reading fast enough) is raced against the stall and shutdown
//! timers, so a connection that keeps up costs no timer per write.

use std::collections::VecDeque;
use std::future::poll_fn;
use std::io::{self, IoSlice};
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context as TaskContext, Poll};
use std::time::Duration;

use bytes::{Buf, Bytes, BytesMut};
use futures_util::FutureExt;
use tokio::io::AsyncWrite;
use tokio::time::{Instant, timeout};
use tokio_util::sync::CancellationToken;

use super::Context;
use super::ws_frame::{self, OP_BINARY};
use crate::codec::Codec;
use crate::limits::LimitReason;
use crate::metrics::WireCounters;
use crate::outbox::{Batch, KEEP_EVENTS, Outbox, StateFrame};
use crate::protocol::close_code;
use crate::side_wake::SideWake;

/// Payloads at least this long are written from their shared buffer (an I/O vector of
/// their own) instead of being copied behind their header.
pub(super) const VECTOR_MIN: usize = 512;
/// A frame buffer with more than this left after a write (it grew for a room's start, a
/// replay, a room list) is given back then; a smaller one at the next ping
/// ([`Frames::release_buffers`]). A tic-tac-toe game's start fits, so its buffer is
/// reused game after game.
const KEEP_BUFFER: usize = 512;
/// The frame buffer a connection starts with: a tick's state and a few events.
const FRAME_BUFFER: usize = 128;
/// The most I/O vectors one write passes to the kernel.
const MAX_IOVECS: usize = 16;

/// How one write ended.
enum Wrote {
    Done,
    Failed(io::Error),
    /// Not finished within the slow-reader timeout: the client is not reading.
    Stalled,
    /// Not finished within the close timeout after shutdown began.
    ShutDown,
}

/// Writes what the outbox holds, one write per batch, and pings on schedule. Cancels
/// `done` when it stops, so the reader stops too. Gives the write half back at the end.
pub(super) async fn write_loop<W>(
    mut io: W,
    outbox: Arc<Outbox>,
    ctx: Arc<Context>,
    done: CancellationToken,
    wire: Arc<WireCounters>,
) -> W
where
    W: AsyncWrite + Unpin,
{
    let _done = done.drop_guard();
    let mut tally = CloseTally { wire, code: None };
    write_until_closed(&mut io, &outbox, &ctx, &mut tally).await;
    io
}

/// Why the writer woke up.
enum Wake {
    Batch,
    Ping,
}

async fn write_until_closed<W>(io: &mut W, outbox: &Outbox, ctx: &Context, tally: &mut CloseTally)
where
    W: AsyncWrite + Unpin,
{
    let config = &ctx.config;
    let limits = &config.limits;
    let stall_limit = config.write_timeout.min(limits.slow_reader_timeout);
    let mut batch = Batch::default();
    let mut frames = Frames::default();
    // The next ping's instant, and a timer for it that is polled only while the outbox is
    // empty; a busy writer checks the instant itself after each batch (see below).
    let mut next_ping = Instant::now() + config.ping_interval;
    let ping = tokio::time::sleep_until(next_ping);
    tokio::pin!(ping);
    let mut ping_due = false;
    let side = SideWake::new();
    // A client that answers no ping for this long is not reading, even while the kernel
    // still takes our writes (its buffers absorb a slow stream for a long time). Longer
    // than the idle timeout, so a client that is wholly silent is closed as idle first.
    let pong_deadline = config.idle_timeout + config.ping_interval;
    let mut last_pong = Instant::now();
    loop {
        // The outbox first: a waiting batch is taken without looking at the ping timer, and
        // the timer is polled only after it fired or was reset (`side_wake`), not at every
        // tick. A client that reads slowly but steadily can leave a batch waiting at every
        // wake-up, so the timer alone could then be put off for as long as that lasts: after
        // each batch the writer compares the clock with the ping's instant itself, and pings
        // next time round if it passed.
        let wake = if std::mem::take(&mut ping_due) {
            Wake::Ping
        } else {
            poll_fn(|cx| {
                if outbox.poll_next_batch(cx, &mut batch).is_ready() {
                    return Poll::Ready(Wake::Batch);
                }
                // The timer is polled only when it fired or was reset (`side_wake`).
                if let Some(mut side_cx) = side.look(cx)
                    && ping.as_mut().poll(&mut side_cx).is_ready()
                {
                    return Poll::Ready(Wake::Ping);
                }
                Poll::Pending
            })
            .await
        };
        let mut last = false;
        match wake {
            Wake::Ping => {
                // Between batches: what a burst grew is given back (see `crate::outbox`).
                outbox.release_buffers();
                batch.events = Vec::new();
                frames.release_buffers();
                next_ping = Instant::now() + config.ping_interval;
                ping.as_mut().reset(next_ping);
                side.touch();
                if outbox.take_pong() {
                    last_pong = Instant::now();
                }
                if last_pong.elapsed() > pong_deadline {
                    tracing::info!("closing a client that answers no pings (4003)");
                    ctx.counters().hit(LimitReason::NoPong);
                    tally.code = Some(close_code::TOO_SLOW);
                    frames.close(close_code::TOO_SLOW, "client too slow: it answers no pings");
                    last = true;
                } else {
                    frames.ping();
                }
            }
            Wake::Batch => {
                // tungstenite's pongs, or its reply to the client's close: after a close
                // nothing more may be sent.
                if !batch.control.is_empty() {
                    let close = ws_frame::find_close(&batch.control);
                    frames.raw(std::mem::take(&mut batch.control));
                    if let Some(code) = close {
                        tally.code = Some(code);
                        last = true;
                    }
                }
                if !last {
                    frames.batch(&mut batch, outbox.codec(), &tally.wire);
                    if batch.events.capacity() > KEEP_EVENTS {
                        batch.events = Vec::new();
                    }
                    if let Some(close) = batch.close.take() {
                        tally.code = Some(close.code);
                        frames.close(close.code, close.reason);
                        last = true;
                    }
                }
                ping_due = Instant::now() >= next_ping;
            }
        }
        let limit = if last {
            stall_limit.min(limits.close_timeout)
        } else {
            stall_limit
        };
        match write_frames(io, &mut frames, limit, ctx, limits.close_timeout).await {
            Wrote::Done => {}
            Wrote::Failed(error) => {
                tracing::debug!(%error, "connection write failed");
                return;
            }
            Wrote::Stalled if last => return,
            Wrote::Stalled => {
                tracing::info!("closing a client that stopped reading (4003)");
                ctx.counters().hit(LimitReason::SlowReader);
                tally.code = Some(close_code::TOO_SLOW);
                // Whatever part of the batch is still unwritten goes first, so the close
                // frame never lands inside another frame.
                frames.close(
                    close_code::TOO_SLOW,
                    "client too slow: its state went unsent",
                );
                let close_timeout = limits.close_timeout;
                let _ = write_frames(io, &mut frames, close_timeout, ctx, close_timeout).await;
                return;
            }
            Wrote::ShutDown => return,
        }
        if last {
            return;
        }
        frames.release_if_large();
    }
}

/// Writes everything in `frames`: first at once (no timer: the usual case), and only if
/// the socket cannot take it all, raced against `limit` and, after shutdown began, the
/// close timeout.
async fn write_frames<W>(
    io: &mut W,
    frames: &mut Frames,
    limit: Duration,
    ctx: &Context,
    close_timeout: Duration,
) -> Wrote
where
    W: AsyncWrite + Unpin,
{
    match poll_fn(|cx| frames.poll_write_all(Pin::new(&mut *io), cx)).now_or_never() {
        Some(Ok(())) => return Wrote::Done,
        Some(Err(error)) => return Wrote::Failed(error),
        None => {}
    }
    // Rare (the client is not keeping up) and large (two timers and a cancellation
    // future): boxed, so that it is not part of every connection's writer future for the
    // connection's whole life.
    Box::pin(write_with_timers(io, frames, limit, ctx, close_timeout)).await
}

/// The rest of [`write_frames`] once the socket could not take everything at once.
async fn write_with_timers<W>(
    io: &mut W,
    frames: &mut Frames,
    limit: Duration,
    ctx: &Context,
    close_timeout: Duration,
) -> Wrote
where
    W: AsyncWrite + Unpin,
{
    let write = poll_fn(|cx| frames.poll_write_all(Pin::new(&mut *io), cx));
    let shutting_down = async {
        ctx.shutdown.cancelled().await;
        tokio::time::sleep(close_timeout).await;
    };
    tokio::select! {
        biased;
        wrote = timeout(limit, write) => match wrote {
            Ok(Ok(())) => Wrote::Done,
            Ok(Err(error)) => Wrote::Failed(error),
            Err(_) => Wrote::Stalled,
        },
        () = shutting_down => Wrote::ShutDown,
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

thread_local! {
    /// Where a state's envelope is encoded before its header is known; one per thread,
    /// so connections carry no buffer of their own for it.
    static ENVELOPE: std::cell::RefCell<BytesMut> = std::cell::RefCell::new(BytesMut::with_capacity(64));
}

/// Framed bytes waiting to be written, in order: `parts` first, then `small`. Public for
/// the `send_path` bench, which drives the writer's per-client path with it.
#[derive(Default)]
pub struct Frames {
    /// Headers and small payloads, copied.
    small: BytesMut,
    /// Sealed runs of `small` and large shared payloads, in write order.
    parts: VecDeque<Bytes>,
}

impl Frames {
    /// Frames a batch: events queued before the state, the state, the rest of the events.
    /// The close request is left to the caller.
    pub fn batch(&mut self, batch: &mut Batch, codec: Codec, wire: &WireCounters) {
        let state = batch.state.take();
        let split = batch.state_position.min(batch.events.len());
        for frame in batch.events.drain(..split) {
            wire.sent(codec, &frame);
            self.binary(frame);
        }
        if let Some(state) = state {
            self.state(codec, &state, wire);
        }
        for frame in batch.events.drain(..) {
            wire.sent(codec, &frame);
            self.binary(frame);
        }
    }

    /// One binary message whose payload is `payload`.
    pub fn binary(&mut self, payload: Bytes) {
        self.reserve();
        ws_frame::put_header(&mut self.small, OP_BINARY, payload.len());
        self.payload(&payload);
    }

    /// One state message: this client's envelope around the shared body.
    pub fn state(&mut self, codec: Codec, state: &StateFrame, wire: &WireCounters) {
        self.reserve();
        ENVELOPE.with(|envelope| {
            let mut envelope = envelope.borrow_mut();
            envelope.clear();
            ws_frame::put_state_prefix(codec, state, &mut envelope);
            let len = envelope.len() + state.body.len();
            wire.sent_head(codec, &envelope, len);
            ws_frame::put_header(&mut self.small, OP_BINARY, len);
            self.small.extend_from_slice(&envelope);
        });
        self.payload(&state.body);
    }

    /// Frames tungstenite already built (pongs, a close reply).
    fn raw(&mut self, frames: Bytes) {
        self.payload(&frames);
    }

    fn ping(&mut self) {
        self.reserve();
        ws_frame::put_ping(&mut self.small);
    }

    fn close(&mut self, code: u16, reason: &str) {
        self.reserve();
        ws_frame::put_close(&mut self.small, code, reason);
    }

    fn reserve(&mut self) {
        if self.small.capacity() == 0 {
            self.small.reserve(FRAME_BUFFER);
        }
    }

    /// Copies a small payload behind its header; a large one becomes its own part. Taken by
    /// reference: a small shared body (a room's state, in every member's outbox) is copied
    /// without touching its reference count, which every core's writers share.
    fn payload(&mut self, payload: &Bytes) {
        if payload.len() < VECTOR_MIN {
            self.small.extend_from_slice(payload);
        } else {
            self.seal();
            self.parts.push_back(payload.clone());
        }
    }

    /// Moves what `small` holds to the end of `parts`. The split-off bytes share `small`'s
    /// allocation, which `small` takes back once they have been written and dropped.
    fn seal(&mut self) {
        if !self.small.is_empty() {
            self.parts.push_back(self.small.split().freeze());
        }
    }

    /// Writes what is framed to `io` as the writer's first try does: at once, without
    /// waiting. Returns whether all of it was written. For benches.
    ///
    /// # Errors
    ///
    /// The write's error.
    pub fn write_now<W: AsyncWrite + Unpin>(&mut self, io: &mut W) -> io::Result<bool> {
        let waker = futures_util::task::noop_waker();
        let mut cx = TaskContext::from_waker(&waker);
        let done = match self.poll_write_all(Pin::new(io), &mut cx) {
            Poll::Ready(result) => result.map(|()| true),
            Poll::Pending => Ok(false),
        };
        self.release_if_large();
        done
    }

    /// Gives back the frame buffers' memory if nothing waits in them (at a ping).
    fn release_buffers(&mut self) {
        if self.parts.is_empty() {
            self.parts = VecDeque::new();
            if self.small.is_empty() {
                self.small = BytesMut::new();
            }
        }
    }

    /// Gives back a frame buffer that grew large for one batch, once it is written out
    /// (frames not yet written stay, whoever calls this).
    fn release_if_large(&mut self) {
        if self.small.is_empty() && self.small.capacity() > KEEP_BUFFER {
            self.small = BytesMut::new();
        }
    }

    /// Whether nothing is waiting.
    fn is_empty(&self) -> bool {
        self.parts.is_empty() && self.small.is_empty()
    }

    /// Writes `parts`, then `small`, until all is written or the socket would block:
    /// vectored when parts wait (`small` rides along as the last vector), and straight
    /// from `small` when only it holds frames, the usual case: then `small` is written in
    /// place and cleared, with no split, no shared allocation and no reference count.
    fn poll_write_all<W>(
        &mut self,
        mut io: Pin<&mut W>,
        cx: &mut TaskContext<'_>,
    ) -> Poll<io::Result<()>>
    where
        W: AsyncWrite,
    {
        while !self.is_empty() {
            let written = if let Some(first) = self.parts.front()
                && (self.parts.len() == 1 && self.small.is_empty() || !io.is_write_vectored())
            {
                io.as_mut().poll_write(cx, first)
            } else if self.parts.is_empty() {
                io.as_mut().poll_write(cx, &self.small)
            } else {
                let mut slices = [IoSlice::new(&[]); MAX_IOVECS];
                let pieces = self.parts.iter().map(|part| &part[..]);
                let pieces = pieces.chain(std::iter::once(&self.small[..]));
                let mut count = 0;
                for (slot, piece) in slices.iter_mut().zip(pieces) {
                    *slot = IoSlice::new(piece);
                    count += 1;
                }
                io.as_mut().poll_write_vectored(cx, &slices[..count])
            };
            let mut n = match written {
                Poll::Ready(Ok(0)) => return Poll::Ready(Err(io::ErrorKind::WriteZero.into())),
                Poll::Ready(Ok(n)) => n,
                Poll::Ready(Err(error)) => return Poll::Ready(Err(error)),
                Poll::Pending => return Poll::Pending,
            };
            while n > 0 {
                let Some(part) = self.parts.front_mut() else {
                    // The rest is in `small`: what was written of it goes.
                    if n < self.small.len() {
                        self.small.advance(n);
                    } else {
                        self.small.clear();
                    }
                    break;
                };
                if n < part.len() {
                    part.advance(n);
                    n = 0;
                } else {
                    n -= part.len();
                    self.parts.pop_front();
                }
            }
        }
        Poll::Ready(Ok(()))
    }
}

#[cfg(test)]
#[path = "writer_tests.rs"]
mod tests;
