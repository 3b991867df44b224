//! A connection's outbox: where the tick loop and the lobby leave frames for one client.
//!
//! Producers (a shard, the matchmaker, the connection's own reader) only ever put into an
//! outbox and never wait; the connection's writer task takes everything out, writes it, and
//! flushes once. Two parts with two overflow policies:
//!
//! - **state**: a latest-wins slot. A newer snapshot replaces one not yet written, so a slow
//!   client skips to the newest state instead of queueing stale ones. Each state replaced
//!   unsent is counted (the shard's `superseded`, `ticksync_states_superseded_total`): a
//!   client that misses states because the server did not get to its writer in time shows
//!   there, not only in the client's own tick gaps.
//! - **events**: a bounded FIFO of fully encoded frames (room events, replies, errors) that
//!   are never dropped. If it overflows the client is too slow: the outbox closes with
//!   [`close_code::TOO_SLOW`] and the writer ends the connection. Frames *replayed* to a
//!   client that joins late or resumes (a room's event log) are queued beside them but do
//!   not count towards the capacity: a replay is bounded by the room's log, so the queue
//!   holds at most capacity plus one log's worth, and a long replay never makes a client
//!   that reads normally look slow. The writer streams them like any other frames.
//!
//!   An event may be pushed **unhurried** ([`Outbox::push_unhurried`]): it is queued like
//!   any other but does not wake the writer, so it goes out with the connection's next
//!   write instead of costing a write of its own; whoever pushes it calls
//!   [`Outbox::hurry`] after the wait it allows, which wakes the writer only if the frame
//!   is still waiting. (Results announced after a database commit use this: a player in
//!   their next game gets them with that game's next frame.)
//!
//! - **control**: WebSocket control frames that tungstenite wrote while reading (pongs to
//!   the client's pings, the reply to its close), already framed. At most
//!   [`CONTROL_BYTES`] may wait; past that the client is pinging faster than it reads, and
//!   the outbox closes with [`close_code::TOO_SLOW`]. The writer sends them first in its
//!   next batch.
//!
//! **Buffers grown for a burst are given back.** A room's start (its joins,
//! `GameStarted`, the first state), a replay or a room list queues more events at once
//! than a connection usually holds, and the queue would keep that capacity for the
//! connection's life. A queue that grew past [`KEEP_EVENTS`] frames is given back as soon
//! as the writer has taken it (as is the writer's own batch), so the memory is free for
//! the connections that come next, not left as holes: a tic-tac-toe game's start stays
//! under the limit and reuses its queue game after game. At each ping the writer also
//! gives back whatever an empty queue still holds ([`Outbox::release_buffers`]) (issue
//! 13, memory per connection, BENCHMARKS.md).
//!
//! The lock is a plain mutex held for a few pointer moves and never across an `.await`.

use std::cell::RefCell;
use std::collections::VecDeque;
use std::future::poll_fn;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::task::Poll;

use bytes::{Bytes, BytesMut};
use futures_util::task::AtomicWaker;

use crate::codec::Codec;
use crate::protocol::{ServerMsg, Tick, close_code};

/// The most control-frame bytes (pongs, a close reply) that may wait for the writer.
pub const CONTROL_BYTES: usize = 4096;

/// An event queue (the outbox's, or a writer's batch) whose capacity grew past this many
/// frames for a burst is given back once emptied; a smaller one is kept for the next.
pub const KEEP_EVENTS: usize = 8;

/// The newest state for one client: the shared, already encoded game view (or delta) plus
/// the fields that are this client's own. The writer wraps them in a `ServerMsg::Snapshot`,
/// or a `ServerMsg::Delta` when `base_tick` is set.
#[derive(Debug, Clone)]
pub struct StateFrame {
    /// The tick of the state.
    pub tick: Tick,
    /// For a delta: the acknowledged tick it applies to. `None` for a full snapshot.
    pub base_tick: Option<Tick>,
    /// The last input seq of this client the room processed.
    pub input_seq: u32,
    /// The game view (or delta), encoded once per codec and base per tick and shared by
    /// every recipient.
    pub body: Bytes,
}

/// Why and how a connection is being closed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CloseReason {
    /// The WebSocket close code (see [`close_code`]).
    pub code: u16,
    /// A short human-readable reason sent in the close frame.
    pub reason: &'static str,
}

/// What the writer takes from the outbox in one go.
#[derive(Debug, Default)]
pub struct Batch {
    /// Event frames, oldest first.
    pub events: Vec<Bytes>,
    /// The newest state, if one is pending.
    pub state: Option<StateFrame>,
    /// How many of `events` were queued before `state` was set: the writer sends those
    /// events, then the state, then the rest, so the client sees them in the order the room
    /// produced them.
    pub state_position: usize,
    /// Set when the connection must close after (or instead of) writing the rest.
    pub close: Option<CloseReason>,
    /// Framed control frames written by tungstenite (pongs, a close reply), sent first.
    pub control: Bytes,
}

#[derive(Debug, Default)]
struct Inner {
    control: BytesMut,
    events: VecDeque<Bytes>,
    /// How many of `events` were replayed (exempt from the capacity check).
    replayed: usize,
    state: Option<StateFrame>,
    state_position: usize,
    close: Option<CloseReason>,
    /// An unhurried event is queued and no write has taken it yet.
    unhurried: bool,
    /// The tick of the newest state any room has put here (see [`Outbox::set_state`]).
    newest_state_tick: Tick,
}

/// One connection's outgoing frames. Shared as `Arc<Outbox>` between producers and the writer.
#[derive(Debug)]
pub struct Outbox {
    codec: Codec,
    capacity: usize,
    inner: Mutex<Inner>,
    wake: Arc<Wake>,
    acked_tick: AtomicU64,
    /// Set by the reader when a pong arrives; taken by the writer at its next ping.
    pong: AtomicBool,
}

/// The writer's wake-up, shareable so a deferred wake can outlive the borrow of the outbox.
#[derive(Debug, Default)]
struct Wake {
    /// The writer's waker, registered before each look at the outbox (so a push after the
    /// look wakes it; see [`Outbox::poll_next_batch`]).
    writer: AtomicWaker,
    /// Set while this wake-up sits in a deferred batch, so it is queued once per batch.
    deferred: AtomicBool,
}

/// The wake-ups deferred on this thread while a shard runs a tick.
#[derive(Default)]
struct Deferred {
    active: bool,
    pending: Vec<Arc<Wake>>,
}

thread_local! {
    static DEFERRED: RefCell<Deferred> = RefCell::new(Deferred::default());
}

/// Runs `work` (a shard's tick: synchronous, on this thread) with writer wake-ups
/// deferred: every outbox it puts into wakes its writer once, after `work` returns, so each
/// writer finds the whole tick's frames and writes them with one flush (one `send`) instead
/// of racing the tick and sending them piecemeal. The wake-ups are sent even if `work`
/// panics.
pub fn with_deferred_wakes<R>(work: impl FnOnce() -> R) -> R {
    with_deferred_wakes_counted(work).0
}

/// [`with_deferred_wakes`], also returning how many writers `work` woke (0 when nested in
/// another deferred batch, which wakes them).
pub fn with_deferred_wakes_counted<R>(work: impl FnOnce() -> R) -> (R, usize) {
    struct Flush {
        nested: bool,
    }
    impl Drop for Flush {
        fn drop(&mut self) {
            if self.nested {
                return;
            }
            let mut pending = DEFERRED.with(|d| {
                let mut d = d.borrow_mut();
                d.active = false;
                std::mem::take(&mut d.pending)
            });
            for wake in pending.drain(..) {
                wake.deferred.store(false, Ordering::Release);
                wake.writer.wake();
            }
            // Hand the emptied list back so that its capacity is reused next tick.
            DEFERRED.with(|d| d.borrow_mut().pending = pending);
        }
    }
    let nested = DEFERRED.with(|d| std::mem::replace(&mut d.borrow_mut().active, true));
    let _flush = Flush { nested };
    let result = work();
    let woken = if nested {
        0
    } else {
        DEFERRED.with(|d| d.borrow().pending.len())
    };
    (result, woken)
}

impl Outbox {
    /// A new outbox for a connection using `codec`, holding at most `capacity` event frames.
    pub fn new(codec: Codec, capacity: usize) -> Arc<Outbox> {
        Arc::new(Outbox {
            codec,
            capacity: capacity.max(1),
            inner: Mutex::new(Inner::default()),
            wake: Arc::new(Wake::default()),
            acked_tick: AtomicU64::new(0),
            pong: AtomicBool::new(false),
        })
    }

    /// Records that the client has applied the state of `tick` (from `Input.ack_tick` or
    /// `Ack`). Only ever moves forward. Written by the reader, read by the shard for the
    /// room before its tick: an atomic, so acknowledgements cost no message to the shard.
    pub fn acknowledge(&self, tick: Tick) {
        self.acked_tick.fetch_max(tick, Ordering::Relaxed);
    }

    /// Records that the client answered a WebSocket ping (written by the reader).
    pub fn pong_received(&self) {
        self.pong.store(true, Ordering::Relaxed);
    }

    /// Whether a pong arrived since the last call (read by the writer at each ping).
    pub fn take_pong(&self) -> bool {
        self.pong.swap(false, Ordering::Relaxed)
    }

    /// The tick of the newest state any room has put in this outbox (0 for none): a room
    /// reads it when it makes a member's first state, as the bound of every acknowledgement
    /// the client may still send for an earlier room.
    pub fn newest_state_tick(&self) -> Tick {
        self.lock().newest_state_tick
    }

    /// The newest tick the client has acknowledged on this connection (0 for none).
    pub fn acked_tick(&self) -> Tick {
        self.acked_tick.load(Ordering::Relaxed)
    }

    /// Wakes the writer now, or at the end of the current deferred batch.
    fn wake(&self) {
        let deferred = DEFERRED.with(|d| {
            let mut d = d.borrow_mut();
            if !d.active {
                return false;
            }
            if !self.wake.deferred.swap(true, Ordering::AcqRel) {
                d.pending.push(self.wake.clone());
            }
            true
        });
        if !deferred {
            self.wake.writer.wake();
        }
    }

    /// The codec every frame in this outbox must be encoded with.
    pub fn codec(&self) -> Codec {
        self.codec
    }

    fn lock(&self) -> MutexGuard<'_, Inner> {
        // A panic while holding this lock cannot leave the queue half-updated (every
        // critical section is a single push, pop or swap), so a poisoned lock is still usable.
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Queues an encoded event frame. Returns `false` if the outbox is closed or was too
    /// full (in which case it is now closed with [`close_code::TOO_SLOW`]).
    pub fn push_event(&self, frame: Bytes) -> bool {
        self.push_queued(frame, true)
    }

    /// Queues an encoded event frame without waking the writer: it is written with the
    /// next frame that does, or at the latest when [`Outbox::hurry`] is called. Counts
    /// towards the capacity like any event. Returns `false` as [`Outbox::push_event`].
    pub fn push_unhurried(&self, frame: Bytes) -> bool {
        self.push_queued(frame, false)
    }

    /// Wakes the writer if an unhurried event is still waiting. Returns whether one was.
    pub fn hurry(&self) -> bool {
        let waiting = std::mem::take(&mut self.lock().unhurried);
        if waiting {
            self.wake();
        }
        waiting
    }

    fn push_queued(&self, frame: Bytes, wake: bool) -> bool {
        let mut inner = self.lock();
        if inner.close.is_some() {
            return false;
        }
        if inner.events.len() - inner.replayed >= self.capacity {
            inner.close = Some(CloseReason {
                code: close_code::TOO_SLOW,
                reason: "client too slow: event queue overflowed",
            });
            inner.events.clear();
            inner.replayed = 0;
            inner.state = None;
            drop(inner);
            self.wake();
            return false;
        }
        inner.events.push_back(frame);
        if !wake {
            inner.unhurried = true;
            return true;
        }
        drop(inner);
        self.wake();
        true
    }

    /// Queues control frames that tungstenite wrote while reading (already framed).
    /// Returns `false` if they were dropped: the outbox is closed, or more than
    /// [`CONTROL_BYTES`] would wait (it is now closed with [`close_code::TOO_SLOW`]).
    pub fn push_control(&self, frames: &[u8]) -> bool {
        let mut inner = self.lock();
        if inner.close.is_some() {
            return false;
        }
        if inner.control.len() + frames.len() > CONTROL_BYTES {
            inner.close = Some(CloseReason {
                code: close_code::TOO_SLOW,
                reason: "client too slow: control frames piled up",
            });
            inner.control.clear();
            drop(inner);
            self.wake();
            return false;
        }
        inner.control.extend_from_slice(frames);
        drop(inner);
        self.wake();
        true
    }

    /// Queues a replayed event frame (a resume or a late joiner catching up) outside the
    /// capacity: a replay is bounded by the room's event log, so the queue stays bounded
    /// by capacity plus the log size, and live events queued after it still have the whole
    /// capacity. Returns `false` if the outbox is closed.
    pub fn push_replayed(&self, frame: Bytes) -> bool {
        let mut inner = self.lock();
        if inner.close.is_some() {
            return false;
        }
        inner.replayed += 1;
        inner.events.push_back(frame);
        drop(inner);
        self.wake();
        true
    }

    /// Encodes `msg` with this outbox's codec and queues it. Returns `false` if it was not
    /// queued (closed, overflow, or the message could not be encoded).
    pub fn push_msg(&self, msg: &ServerMsg) -> bool {
        self.push_encoded(msg, true)
    }

    /// [`Outbox::push_msg`], unhurried (see [`Outbox::push_unhurried`]).
    pub fn push_msg_unhurried(&self, msg: &ServerMsg) -> bool {
        self.push_encoded(msg, false)
    }

    fn push_encoded(&self, msg: &ServerMsg, wake: bool) -> bool {
        // serde writes a state message in MessagePack version 1's form whatever the codec:
        // states go through `set_state`, whose envelope the writer writes for the codec.
        debug_assert!(
            !matches!(msg, ServerMsg::Snapshot { .. } | ServerMsg::Delta { .. }),
            "a state message queued as a message: {msg:?}"
        );
        match self.codec.encode(msg) {
            Ok(frame) => self.push_queued(frame, wake),
            Err(error) => {
                tracing::error!(%error, "failed to encode a server message");
                false
            }
        }
    }

    /// Replaces the pending state with a newer one. Returns `true` when that superseded a
    /// state the writer had not yet taken (the client will skip that state: it reads
    /// slowly, or the server is too busy to write every tick).
    pub fn set_state(&self, frame: StateFrame) -> bool {
        let mut inner = self.lock();
        if inner.close.is_some() {
            return false;
        }
        // Under the lock already taken, not an atomic of its own: this runs for every
        // client at every tick, and is read only when a room makes a member's first state.
        inner.newest_state_tick = inner.newest_state_tick.max(frame.tick);
        let superseded = inner.state.replace(frame).is_some();
        inner.state_position = inner.events.len();
        drop(inner);
        self.wake();
        superseded
    }

    /// Asks the writer to close the connection after writing the events already queued.
    /// The first close reason wins.
    pub fn close(&self, code: u16, reason: &'static str) {
        let mut inner = self.lock();
        if inner.close.is_none() {
            inner.close = Some(CloseReason { code, reason });
        }
        drop(inner);
        self.wake();
    }

    /// Whether a close has been requested.
    pub fn is_closed(&self) -> bool {
        self.lock().close.is_some()
    }

    /// Replaces `batch` with everything pending (its vector keeps its capacity between
    /// calls, up to what the writer gives back; see the module doc). Returns `false` if
    /// nothing was pending.
    pub fn take(&self, batch: &mut Batch) -> bool {
        batch.events.clear();
        let mut inner = self.lock();
        batch.events.extend(inner.events.drain(..));
        if inner.events.capacity() > KEEP_EVENTS {
            inner.events = VecDeque::new();
        }
        inner.replayed = 0;
        inner.unhurried = false;
        batch.state = inner.state.take();
        batch.state_position = std::mem::take(&mut inner.state_position);
        batch.close = inner.close;
        batch.control = inner.control.split().freeze();
        !batch.events.is_empty()
            || batch.state.is_some()
            || batch.close.is_some()
            || !batch.control.is_empty()
    }

    /// Gives back the event queue's memory if nothing is queued (the writer calls it at
    /// each ping; see the module doc).
    pub fn release_buffers(&self) {
        let mut inner = self.lock();
        if inner.events.is_empty() {
            inner.events = VecDeque::new();
        }
        if inner.control.is_empty() {
            inner.control = BytesMut::new();
        }
    }

    /// Waits until something is pending, then moves it into `batch`.
    pub async fn next_batch(&self, batch: &mut Batch) {
        poll_fn(|cx| self.poll_next_batch(cx, batch)).await;
    }

    /// Moves what is pending into `batch`, or registers `cx`'s waker to be woken by the
    /// next push. The waker is registered before the look, so a push between the look and
    /// the wait is not lost; a wake with nothing new (the batch was taken already) only
    /// costs a look.
    pub fn poll_next_batch(&self, cx: &mut std::task::Context<'_>, batch: &mut Batch) -> Poll<()> {
        self.wake.writer.register(cx.waker());
        if self.take(batch) {
            Poll::Ready(())
        } else {
            Poll::Pending
        }
    }
}

#[cfg(test)]
#[path = "outbox_tests.rs"]
mod tests;
