//! The drain: telling every connection, refusing new games, waiting for running games,
//! and bounding the whole thing.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use tokio::time::Instant;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

use super::{CLOSE_GRACE, END_GRACE, ShutdownConfig};
use crate::engine::Engine;
use crate::outbox::Outbox;
use crate::protocol::{ClientMsg, ServerMsg};

/// How often the drain looks at the room count while it waits.
const POLL: Duration = Duration::from_millis(20);

/// What a drain did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DrainReport {
    /// Connections sent `ServerShutdown`.
    pub told: usize,
    /// Rooms still running when the drain timeout ran out, ended with `ServerShutdown`
    /// (0 if every drained game finished in time).
    pub ended: usize,
    /// Whether every task (connections included) stopped within the close grace.
    pub clean: bool,
    /// From the start of the drain to its end.
    pub took: Duration,
}

/// The drain's shared state: whether it has begun, and every open connection's outbox so
/// that each can be told.
#[derive(Debug)]
pub(crate) struct Drain {
    config: ShutdownConfig,
    started: CancellationToken,
    connections: Mutex<HashMap<u64, Arc<Outbox>>>,
}

/// Unregisters a connection when it ends.
pub(crate) struct Registered<'a> {
    drain: &'a Drain,
    conn_id: u64,
}

impl Drop for Registered<'_> {
    fn drop(&mut self) {
        self.drain.lock().remove(&self.conn_id);
    }
}

fn millis(duration: Duration) -> u32 {
    u32::try_from(duration.as_millis()).unwrap_or(u32::MAX)
}

impl Drain {
    pub(crate) fn new(config: ShutdownConfig) -> Drain {
        Drain {
            config,
            started: CancellationToken::new(),
            connections: Mutex::new(HashMap::new()),
        }
    }

    fn lock(&self) -> MutexGuard<'_, HashMap<u64, Arc<Outbox>>> {
        self.connections.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Whether the drain has begun.
    pub(crate) fn is_draining(&self) -> bool {
        self.started.is_cancelled()
    }

    /// Completes when the drain begins.
    pub(crate) fn started(&self) -> tokio_util::sync::WaitForCancellationFuture<'_> {
        self.started.cancelled()
    }

    /// The notice every connection gets.
    fn notice(&self) -> ServerMsg {
        ServerMsg::ServerShutdown {
            retry_after_ms: millis(self.config.retry_after),
            drain_ms: millis(self.config.drain_timeout),
        }
    }

    /// Registers a new connection. One that registers after the drain began is told at
    /// once; the check and the drain's own pass hold the same lock, so every connection is
    /// told exactly once.
    pub(crate) fn register(&self, conn_id: u64, outbox: &Arc<Outbox>) -> Registered<'_> {
        let mut connections = self.lock();
        connections.insert(conn_id, outbox.clone());
        if self.is_draining() {
            outbox.push_msg(&self.notice());
        }
        Registered {
            drain: self,
            conn_id,
        }
    }

    /// Begins the drain and tells every open connection. Returns how many were told.
    pub(crate) fn begin(&self) -> usize {
        let connections = self.lock();
        if self.is_draining() {
            return 0;
        }
        // The notices go first: cancelling wakes the readers, which close connections in
        // no room at once, and a notice pushed after such a close would be dropped.
        let notice = self.notice();
        for outbox in connections.values() {
            outbox.push_msg(&notice);
        }
        self.started.cancel();
        connections.len()
    }

    /// Whether `msg` is refused while draining: requests that would start something.
    pub(crate) fn refuses(&self, msg: &ClientMsg) -> bool {
        // The kind first: the drain flag is behind the token's lock, and this runs per message.
        matches!(
            msg,
            ClientMsg::FindMatch { .. } | ClientMsg::CreateRoom { .. } | ClientMsg::JoinRoom { .. }
        ) && self.is_draining()
    }
}

/// Waits until no room is open, or `deadline`. Returns the rooms still open.
async fn rooms_gone(engine: &Engine, deadline: Instant) -> usize {
    loop {
        let rooms = engine.room_count();
        if rooms == 0 || Instant::now() >= deadline {
            return rooms;
        }
        tokio::time::sleep(POLL).await;
    }
}

/// Runs a drain to its end: see the module documentation of [`crate::shutdown`].
pub(crate) async fn run(
    drain: &Drain,
    engine: &Engine,
    timeout: Duration,
    shutdown: &CancellationToken,
    tracker: &TaskTracker,
) -> DrainReport {
    let start = Instant::now();
    let told = drain.begin();
    engine.begin_drain().await;
    tracing::info!(told, drain_timeout_s = timeout.as_secs_f64(), "draining");
    let left = rooms_gone(engine, start + timeout).await;
    if left > 0 {
        tracing::info!(
            rooms = left,
            "drain timeout: ending the rooms still running"
        );
        engine.end_all().await;
        rooms_gone(engine, Instant::now() + END_GRACE).await;
    }
    shutdown.cancel();
    tracker.close();
    let clean = tokio::time::timeout(CLOSE_GRACE, tracker.wait())
        .await
        .is_ok();
    if !clean {
        tracing::warn!("some connections did not close within the close grace; leaving them");
    }
    DrainReport {
        told,
        ended: left,
        clean,
        took: start.elapsed(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::codec::Codec;
    use crate::outbox::Batch;

    fn notices(outbox: &Outbox) -> usize {
        let mut batch = Batch::default();
        outbox.take(&mut batch);
        batch
            .events
            .iter()
            .filter(|frame| {
                matches!(
                    Codec::Bincode.decode::<ServerMsg>(frame),
                    Ok(ServerMsg::ServerShutdown {
                        retry_after_ms: 5000,
                        drain_ms: 10_000
                    })
                )
            })
            .count()
    }

    #[test]
    fn every_connection_is_told_exactly_once() {
        let drain = Drain::new(ShutdownConfig::default());
        let before = Outbox::new(Codec::Bincode, 8);
        let gone = Outbox::new(Codec::Bincode, 8);
        let _before = drain.register(1, &before);
        drop(drain.register(2, &gone));
        assert!(!drain.is_draining());
        assert_eq!(drain.begin(), 1, "only the connection still open");
        assert_eq!(drain.begin(), 0, "a second begin tells nobody");
        let after = Outbox::new(Codec::Bincode, 8);
        let _after = drain.register(3, &after);
        assert_eq!(notices(&before), 1);
        assert_eq!(notices(&after), 1);
        assert_eq!(notices(&gone), 0);
    }

    #[test]
    fn only_requests_that_start_something_are_refused_while_draining() {
        let drain = Drain::new(ShutdownConfig::default());
        let find = ClientMsg::FindMatch {
            game: "g".into(),
            options: bytes::Bytes::new(),
        };
        assert!(!drain.refuses(&find));
        drain.begin();
        assert!(drain.refuses(&find));
        assert!(drain.refuses(&ClientMsg::JoinRoom {
            code: "ABCDEF".into(),
            spectate: true
        }));
        assert!(!drain.refuses(&ClientMsg::LeaveRoom));
        assert!(!drain.refuses(&ClientMsg::Ping { nonce: 1 }));
    }
}
