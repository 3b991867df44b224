//! The room directory, private codes and spectating across a cluster (`--cluster`): the
//! lobby's side of [`crate::cluster::rooms`].
//!
//! One publisher task per node ([`publish`]) keeps Redis in step with this node's
//! [`Directory`] and the directory in step with the other nodes:
//!
//! 1. **Changes** are noted, never sent, where they happen: the directory's `update` and
//!    `remove` (called by the engine's observer on a shard's tick) put the room's id in
//!    [`RoomFeed`] and wake the task; no Redis call is ever made on a tick. The task
//!    gathers changes for [`BATCH_DELAY`] and publishes them in one script.
//! 2. **Every heartbeat period** ([`REFRESH`]) it rewrites this node's rooms whole, renews
//!    its codes (and the room id epoch), then reads every other live node's rooms into
//!    the directory: `GET /rooms`, `ListRooms` and `ListRoomsAfter` on any node list every
//!    live node's rooms, each with its `node`, at most a heartbeat period (plus the other
//!    node's batch delay) behind. While Redis cannot be read a node lists its own rooms.
//! 3. **On stop** it deletes this node's rooms and releases their codes.
//!
//! **Order.** Room ids are unique across the cluster's live rooms (each node numbers its
//! rooms from an epoch of its own: the shared database's, or the cluster's counter), so
//! the listing stays sorted by room id alone and `ListRoomsAfter { after }` and
//! `GET /rooms?after=` page across nodes exactly as on one node.
//!
//! **Codes.** A private room's code is claimed in Redis (`SET NX`) before the room is
//! made ([`Lobby::claim_private_code`]); Redis unreachable refuses `CreateRoom` with
//! `ClusterUnavailable`. A quick-match room's code is claimed when it is first published
//! (a code another node already holds is logged, and that room is then found by code on
//! this node only). A `JoinRoom` whose code names no room here asks Redis for the code's
//! node ([`Lobby::join_room_anywhere`]) and answers `Redirect { url, ticket }` with a
//! **join ticket** (a seat ticket naming the code and whether to watch, single use as
//! every ticket); the node named seats (or seats as a spectator) the player that presents
//! it in `Hello`, as a `JoinRoom` there would ([`Lobby::join_by_ticket`]).

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex};

use tokio::sync::Notify;
use tokio_util::sync::CancellationToken;

use super::directory::{Directory, normalise_code};
use super::{Lobby, Session, check_free};
use crate::cluster::rooms::{BATCH_DELAY, REFRESH, RoomBatch};
use crate::cluster::{Cluster, JoinByCode};
use crate::protocol::{ErrorCode, RoomId, ServerMsg};

/// How many fresh codes a `CreateRoom` tries to claim before it gives up (each one is
/// taken elsewhere with a chance of about rooms / 8.5 × 10^11).
const CLAIM_TRIES: usize = 4;

/// Room changes noted for the publisher: cheap to note (a lock and a wake-up).
#[derive(Debug)]
pub(crate) struct RoomFeed {
    pub(crate) cluster: Cluster,
    pending: Mutex<Pending>,
    notify: Notify,
}

#[derive(Debug, Default)]
struct Pending {
    changed: HashSet<RoomId>,
    closed: Vec<(RoomId, String)>,
}

impl RoomFeed {
    pub(crate) fn new(cluster: Cluster) -> RoomFeed {
        RoomFeed {
            cluster,
            pending: Mutex::default(),
            notify: Notify::new(),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Pending> {
        self.pending.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// A room's summary changed.
    pub(crate) fn changed(&self, id: RoomId) {
        self.lock().changed.insert(id);
        self.notify.notify_one();
    }

    /// A room closed; its code is released.
    pub(crate) fn closed(&self, id: RoomId, code: String) {
        {
            let mut pending = self.lock();
            pending.changed.remove(&id);
            pending.closed.push((id, code));
        }
        self.notify.notify_one();
    }

    fn take(&self) -> Pending {
        std::mem::take(&mut *self.lock())
    }
}

/// The publisher task (see the module doc), until `shutdown`.
pub(crate) async fn publish(
    directory: Arc<Directory>,
    feed: Arc<RoomFeed>,
    shutdown: CancellationToken,
) {
    let mut publisher = Publisher {
        directory,
        feed,
        published: HashMap::new(),
        foreign: HashSet::new(),
        failing: false,
    };
    let mut refresh = tokio::time::interval(REFRESH);
    refresh.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            _ = shutdown.cancelled() => break,
            _ = refresh.tick() => publisher.refresh().await,
            _ = publisher.feed.notify.notified() => {
                tokio::select! {
                    _ = shutdown.cancelled() => break,
                    _ = tokio::time::sleep(BATCH_DELAY) => {}
                }
                publisher.patch().await;
            }
        }
    }
    publisher.stop().await;
}

struct Publisher {
    directory: Arc<Directory>,
    feed: Arc<RoomFeed>,
    /// Rooms published, with their codes.
    published: HashMap<RoomId, String>,
    /// Codes another node holds (their rooms are listed but found by code here only),
    /// each logged once.
    foreign: HashSet<String>,
    failing: bool,
}

impl Publisher {
    /// Publishes the changes noted since the last batch.
    async fn patch(&mut self) {
        let pending = self.feed.take();
        let ids: Vec<RoomId> = pending.changed.into_iter().collect();
        let mut batch = RoomBatch {
            full: false,
            set: self.directory.published(Some(&ids)),
            removed: Vec::new(),
        };
        for (id, code) in pending.closed {
            self.published.remove(&id);
            self.foreign.remove(&code);
            batch.removed.push((id, code));
        }
        if batch.set.is_empty() && batch.removed.is_empty() {
            return;
        }
        self.send(batch).await;
    }

    /// Rewrites this node's rooms whole, then reads the other nodes'.
    async fn refresh(&mut self) {
        // Changes noted meanwhile are in the full set; closes still release their codes.
        let pending = self.feed.take();
        let mut batch = RoomBatch {
            full: true,
            set: self.directory.published(None),
            removed: Vec::new(),
        };
        for (id, code) in pending.closed {
            self.published.remove(&id);
            self.foreign.remove(&code);
            batch.removed.push((id, code));
        }
        self.send(batch).await;
        match self.feed.cluster.remote_rooms().await {
            Ok(rooms) => self.directory.set_remote(rooms),
            Err(error) => {
                tracing::debug!(%error, "room directory: the other nodes' rooms not read");
                self.directory.set_remote(Vec::new());
            }
        }
    }

    async fn send(&mut self, batch: RoomBatch) {
        match self.feed.cluster.publish_rooms(&batch).await {
            Ok(refused) => {
                if self.failing {
                    self.failing = false;
                    tracing::info!("room directory: publishing to the cluster again");
                }
                for room in &batch.set {
                    self.published
                        .insert(room.summary.room_id, room.code.clone());
                }
                // The script neither takes nor releases a code another node holds.
                for code in refused {
                    if self.foreign.insert(code.clone()) {
                        tracing::warn!(%code, "room directory: another node holds this room's code; it is found by code on this node only");
                    }
                }
            }
            Err(error) => {
                if !self.failing {
                    self.failing = true;
                    tracing::warn!(%error, "room directory: publishing failed; other nodes stop listing this node's rooms within the node TTL");
                }
                // Closed rooms' codes go with their TTL; the next refresh rewrites the rest.
            }
        }
    }

    /// On stop: this node's rooms go at once, their codes are released.
    async fn stop(&mut self) {
        let codes: Vec<String> = self
            .published
            .drain()
            .map(|(_, code)| code)
            .chain(self.feed.take().closed.into_iter().map(|(_, code)| code))
            .collect();
        if let Err(error) = self.feed.cluster.unpublish_rooms(&codes).await {
            tracing::warn!(%error, "room directory: could not remove this node's rooms; they go with the node TTL");
        }
    }
}

impl Lobby {
    /// Starts publishing this node's rooms to `cluster` and reading the others' (see the
    /// module doc).
    pub(super) fn publish_rooms(
        &self,
        cluster: Cluster,
        shutdown: CancellationToken,
        tracker: &tokio_util::task::TaskTracker,
    ) {
        let feed = Arc::new(RoomFeed::new(cluster));
        let directory = self.shared.directory.clone();
        directory.set_feed(feed.clone());
        tracker.spawn(publish(directory, feed, shutdown));
    }

    /// In a cluster, a fresh join code claimed for a private room about to be made here;
    /// `None` in no cluster.
    ///
    /// # Errors
    /// [`ErrorCode::AlreadyInRoom`] / [`ErrorCode::AlreadyQueued`] (checked first),
    /// [`ErrorCode::ClusterUnavailable`] when Redis does not answer, [`ErrorCode::ServerBusy`]
    /// when every code tried was taken.
    pub(super) async fn claim_private_code(
        &self,
        session: &Session,
    ) -> Result<Option<String>, ErrorCode> {
        let Some(feed) = self.shared.directory.feed() else {
            return Ok(None);
        };
        check_free(&session.lock())?;
        for _ in 0..CLAIM_TRIES {
            let code = self.shared.directory.fresh_code();
            match feed.cluster.claim_code(&code).await {
                Ok(true) => return Ok(Some(code)),
                Ok(false) => {}
                Err(error) => {
                    tracing::warn!(%error, "CreateRoom: the code could not be claimed in the cluster");
                    return Err(ErrorCode::ClusterUnavailable);
                }
            }
        }
        Err(ErrorCode::ServerBusy)
    }

    /// Releases a code [`Lobby::claim_private_code`] claimed for a room never made.
    pub(super) async fn release_private_code(&self, code: String) {
        if let Some(feed) = self.shared.directory.feed()
            && let Err(error) = feed.cluster.release_codes(&[code]).await
        {
            tracing::debug!(%error, "an unused code goes with its TTL");
        }
    }

    /// `JoinRoom` in a cluster: joins the room here, or, when the code names a room on
    /// another live node, answers the `Redirect` to that node with a join ticket.
    ///
    /// # Errors
    /// As [`Lobby::join_room`]; [`ErrorCode::ClusterUnavailable`] when the code is unknown
    /// here and Redis does not answer.
    pub async fn join_room_anywhere(
        &self,
        session: &Session,
        code: &str,
        spectate: bool,
    ) -> Result<Option<ServerMsg>, ErrorCode> {
        let refused = match self.join_room(session, code, spectate).await {
            Ok(()) => return Ok(None),
            Err(refused) => refused,
        };
        let Some(feed) = self.shared.directory.feed() else {
            return Err(refused);
        };
        if refused != ErrorCode::UnknownRoomCode
            || !crate::auth::text::is_plausible_code(code.trim())
        {
            return Err(refused);
        }
        let code = normalise_code(code);
        let found = feed.cluster.find_code(&code).await.map_err(|error| {
            tracing::debug!(%error, "JoinRoom: the cluster's codes cannot be read");
            ErrorCode::ClusterUnavailable
        })?;
        let (node, url) = found.ok_or(ErrorCode::UnknownRoomCode)?;
        check_free(&session.lock())?;
        // The ticket is for this player only (`user:<sub>`, or this guest session).
        let player = session.player_key_as_from(feed.cluster.node_id(), session.id());
        let ticket = feed
            .cluster
            .issue_join_ticket(&node, &code, spectate, &player);
        Ok(Some(ServerMsg::Redirect { url, ticket }))
    }

    /// A redeemed join ticket: `JoinRoom { code, spectate }` here, for the new session.
    ///
    /// # Errors
    /// As [`Lobby::join_room`] (the room may have filled, started or closed since).
    pub async fn join_by_ticket(
        &self,
        session: &Session,
        join: &JoinByCode,
    ) -> Result<(), ErrorCode> {
        self.join_room(session, &join.code, join.spectate).await
    }
}
