//! A connection's outbox: where the tick loop and the lobby leave frames for one client.
//!
//! Producers (a shard, the matchmaker, the connection's own reader) only ever put into an
//! outbox and never wait; the connection's writer task takes everything out, writes it, and
//! flushes once. Two parts with two overflow policies:
//!
//! - **state**: a latest-wins slot. A newer snapshot replaces one not yet written, so a slow
//!   client skips to the newest state instead of queueing stale ones.
//! - **events**: a bounded FIFO of fully encoded frames (room events, replies, errors) that
//!   are never dropped. If it overflows the client is too slow: the outbox closes with
//!   [`close_code::TOO_SLOW`] and the writer ends the connection.
//!
//! The lock is a plain mutex held for a few pointer moves and never across an `.await`.

use std::collections::VecDeque;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};

use bytes::Bytes;
use tokio::sync::Notify;

use crate::codec::Codec;
use crate::protocol::{ServerMsg, Tick, close_code};

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
}

#[derive(Debug, Default)]
struct Inner {
    events: VecDeque<Bytes>,
    state: Option<StateFrame>,
    state_position: usize,
    close: Option<CloseReason>,
}

/// One connection's outgoing frames. Shared as `Arc<Outbox>` between producers and the writer.
#[derive(Debug)]
pub struct Outbox {
    codec: Codec,
    capacity: usize,
    inner: Mutex<Inner>,
    notify: Notify,
    acked_tick: AtomicU64,
}

impl Outbox {
    /// A new outbox for a connection using `codec`, holding at most `capacity` event frames.
    pub fn new(codec: Codec, capacity: usize) -> Arc<Outbox> {
        Arc::new(Outbox {
            codec,
            capacity: capacity.max(1),
            inner: Mutex::new(Inner::default()),
            notify: Notify::new(),
            acked_tick: AtomicU64::new(0),
        })
    }

    /// Records that the client has applied the state of `tick` (from `Input.ack_tick` or
    /// `Ack`). Only ever moves forward. Written by the reader, read by the room at its
    /// tick: an atomic, so acknowledgements cost no message to the shard.
    pub fn acknowledge(&self, tick: Tick) {
        self.acked_tick.fetch_max(tick, Ordering::Relaxed);
    }

    /// The newest tick the client has acknowledged on this connection (0 for none).
    pub fn acked_tick(&self) -> Tick {
        self.acked_tick.load(Ordering::Relaxed)
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
        let mut inner = self.lock();
        if inner.close.is_some() {
            return false;
        }
        if inner.events.len() >= self.capacity {
            inner.close = Some(CloseReason {
                code: close_code::TOO_SLOW,
                reason: "client too slow: event queue overflowed",
            });
            inner.events.clear();
            inner.state = None;
            drop(inner);
            self.notify.notify_one();
            return false;
        }
        inner.events.push_back(frame);
        drop(inner);
        self.notify.notify_one();
        true
    }

    /// Queues a replayed event frame (a resume or a spectator catching up) without the
    /// capacity check: a replay is bounded by the room's event log, so the queue stays
    /// bounded by capacity plus the log size. Returns `false` if the outbox is closed.
    pub fn push_replayed(&self, frame: Bytes) -> bool {
        let mut inner = self.lock();
        if inner.close.is_some() {
            return false;
        }
        inner.events.push_back(frame);
        drop(inner);
        self.notify.notify_one();
        true
    }

    /// Encodes `msg` with this outbox's codec and queues it. Returns `false` if it was not
    /// queued (closed, overflow, or the message could not be encoded).
    pub fn push_msg(&self, msg: &ServerMsg) -> bool {
        match self.codec.encode(msg) {
            Ok(frame) => self.push_event(frame),
            Err(error) => {
                tracing::error!(%error, "failed to encode a server message");
                false
            }
        }
    }

    /// Replaces the pending state with a newer one.
    pub fn set_state(&self, frame: StateFrame) {
        let mut inner = self.lock();
        if inner.close.is_some() {
            return;
        }
        inner.state = Some(frame);
        inner.state_position = inner.events.len();
        drop(inner);
        self.notify.notify_one();
    }

    /// Asks the writer to close the connection after writing the events already queued.
    /// The first close reason wins.
    pub fn close(&self, code: u16, reason: &'static str) {
        let mut inner = self.lock();
        if inner.close.is_none() {
            inner.close = Some(CloseReason { code, reason });
        }
        drop(inner);
        self.notify.notify_one();
    }

    /// Whether a close has been requested.
    pub fn is_closed(&self) -> bool {
        self.lock().close.is_some()
    }

    /// Replaces `batch` with everything pending (its vector keeps its capacity between
    /// calls). Returns `false` if nothing was pending.
    pub fn take(&self, batch: &mut Batch) -> bool {
        batch.events.clear();
        let mut inner = self.lock();
        batch.events.extend(inner.events.drain(..));
        batch.state = inner.state.take();
        batch.state_position = std::mem::take(&mut inner.state_position);
        batch.close = inner.close;
        !batch.events.is_empty() || batch.state.is_some() || batch.close.is_some()
    }

    /// Waits until something is pending, then moves it into `batch`.
    pub async fn next_batch(&self, batch: &mut Batch) {
        loop {
            if self.take(batch) {
                return;
            }
            // `notify_one` stores a permit when nobody waits, so a push between `take` and
            // this await is not lost.
            self.notify.notified().await;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn frame(tick: Tick) -> StateFrame {
        StateFrame {
            tick,
            base_tick: None,
            input_seq: 0,
            body: Bytes::new(),
        }
    }

    #[test]
    fn state_is_latest_wins() {
        let outbox = Outbox::new(Codec::Bincode, 4);
        outbox.set_state(frame(1));
        outbox.set_state(frame(2));
        let mut batch = Batch::default();
        assert!(outbox.take(&mut batch));
        assert_eq!(batch.state.map(|s| s.tick), Some(2));
        assert!(!outbox.take(&mut Batch::default()));
    }

    #[test]
    fn events_keep_order_and_overflow_closes() {
        let outbox = Outbox::new(Codec::Bincode, 2);
        assert!(outbox.push_event(Bytes::from_static(b"a")));
        assert!(outbox.push_event(Bytes::from_static(b"b")));
        let mut batch = Batch::default();
        outbox.take(&mut batch);
        assert_eq!(
            batch.events,
            vec![Bytes::from_static(b"a"), Bytes::from_static(b"b")]
        );
        assert!(outbox.push_event(Bytes::from_static(b"c")));
        assert!(outbox.push_event(Bytes::from_static(b"d")));
        assert!(!outbox.push_event(Bytes::from_static(b"e")));
        let mut batch = Batch::default();
        outbox.take(&mut batch);
        assert!(batch.events.is_empty());
        assert_eq!(batch.close.map(|c| c.code), Some(close_code::TOO_SLOW));
    }

    #[tokio::test]
    async fn next_batch_wakes_on_push() {
        let outbox = Outbox::new(Codec::MsgPack, 4);
        let waiter = {
            let outbox = outbox.clone();
            tokio::spawn(async move {
                let mut batch = Batch::default();
                outbox.next_batch(&mut batch).await;
                batch.events.len()
            })
        };
        outbox.push_event(Bytes::from_static(b"x"));
        assert_eq!(waiter.await.unwrap(), 1);
    }
}
