//! Quick match across a cluster (`--cluster`): the lobby's side of the global queue.
//!
//! With a cluster, `FindMatch` puts the player in the global queue in Redis
//! ([`crate::cluster::queue`]) instead of this node's [`super::matchmaker`]. One task per
//! node ([`GlobalMatch::run`]):
//!
//! 1. **Matching.** Every retry interval (and on each arrival) it reads each queue one of
//!    its own players waits in, decides the groups with the single node's rules and claims
//!    each group atomically; a group it wins is **placed** ([`crate::cluster::placement`]:
//!    on a node holding its players when that node's load is within the slack of the least
//!    loaded, else on the least loaded, counting what this node sent since each node's last
//!    heartbeat): in place when that is this node, else through that node's inbox
//!    ([`NodeMsg::Place`]).
//! 2. **Hosting** a placement: it creates the room (a quick-match room, started at once,
//!    ranked), seats the players queued on this node directly (`MatchFound` as usual), and
//!    for each player queued elsewhere opens a **reserved session** here: seated in the
//!    room but away (the room's reconnect grace runs for it as for any absent player), with
//!    a seat ticket naming it; the player's node is asked to redirect it
//!    ([`NodeMsg::Redirect`]). A placement naming a player queued here who no longer
//!    waits for it (it left the queue after the claim, before the placement came; its
//!    session ended; it queued for another game) is not hosted: no room, and this node's
//!    players still waiting are queued again at once (the others by their own nodes,
//!    after [`CLAIMED_WAIT`]).
//! 3. **Redirecting.** On `NodeMsg::Redirect` it takes its player out of its local waiting
//!    list and sends `Redirect { url, ticket }`. The client connects to the hosting node
//!    with the ticket in `Hello`; the connection takes the reserved session over as a
//!    resume would (`Welcome { resumed: true }`, then `RoomJoined`, the room's events and a
//!    snapshot).
//!
//! **Nothing leaks.** The room starts its game only when every reserved seat is taken
//! ([`crate::engine::Reserved`], `engine/room/reserved.rs`). A reservation not redeemed
//! within the ticket's lifetime plus [`RESERVATION_MARGIN`] calls the match off: no game,
//! no record; the reserved sessions end (a late ticket has expired anyway), the connected
//! players hear `Error MatchCalledOff` and `RoomLeft`, and the lobby's observer hands them
//! back here ([`GlobalCmd::Requeue`]), where they are queued again with the game, options
//! and rating of the match (remembered per hosted room until it starts or is called off).
//! A player whose entry was claimed but who was neither seated nor redirected within
//! [`CLAIMED_WAIT`] (the claiming node died between its claim and its message) is queued
//! again. Redis unreachable: `FindMatch` is refused with `ClusterUnavailable` and rooms
//! already running go on.
//!
//! **Identity.** A signed-in player's queue entry names it ([`QueuedPlayer`]: id and
//! display name), the placement carries it, and the host opens the reserved session as
//! that player (`user:<sub>`, its name, the rating it was matched with; the player's
//! session on the host unless it already has one there) and names it in the signed
//! ticket (`player`, `name`).

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use bytes::Bytes;
use rand::seq::SliceRandom;
use tokio::sync::{mpsc, oneshot};
use tokio::time::{Instant, MissedTickBehavior};
use tokio_util::sync::CancellationToken;

use super::directory::Directory;
use super::matchmaker::MatchConfig;
use super::sessions::{Session, SessionTable};
use super::unhurried::queued_wait;
use crate::cluster::inbox::{NodeMsg, PlacedSeat, Placement};
use crate::cluster::placement::{Candidate, Pending, choose_host};
use crate::cluster::queue::{QueuedPlayer, decide_groups};
use crate::cluster::{Cluster, SeatTicket};
use crate::engine::{Engine, GameEntry};
use crate::protocol::{ErrorCode, Seat, ServerMsg, SessionId};

mod hosting;

/// A player whose entry left the queue (claimed) but who was neither seated nor
/// redirected this long after is queued again.
pub(crate) const CLAIMED_WAIT: Duration = Duration::from_secs(5);

/// How long a read of the live nodes (and their loads) serves placements: half a
/// heartbeat. Reading them for every match cost one Redis `HGETALL` per node per match.
pub(crate) const NODES_FRESH: Duration = Duration::from_millis(500);

/// Requests to the global matchmaker task.
#[derive(Debug)]
pub(crate) enum GlobalCmd {
    Enqueue {
        session: Arc<Session>,
        game: GameEntry,
        options: Bytes,
        rating: u16,
    },
    Cancel {
        session: SessionId,
        reply: oneshot::Sender<bool>,
    },
    Remove {
        session: SessionId,
    },
    /// A match hosted here was called off before it started (a reserved seat not taken):
    /// queue `present`, its connected players, again as they were.
    Requeue {
        room: crate::protocol::RoomId,
        present: Vec<SessionId>,
    },
}

/// A match hosted here that has not started yet: what its players queued for, kept until
/// it starts or is called off (forgotten after [`HOSTED_KEEP`] past its deadline).
struct Hosted {
    game: GameEntry,
    options: Bytes,
    ratings: Vec<(SessionId, u16)>,
    until: Instant,
}

/// How long after its reservation deadline a hosted match is forgotten.
const HOSTED_KEEP: Duration = Duration::from_secs(60);

/// Tells a player who is not in the queue, though it asked or was told it would be
/// (`FindMatch` whose entry Redis did not take, a called-off match not queued again), that
/// it is not: `Error ClusterUnavailable`, after which it queues again itself (PROTOCOL.md,
/// "Clusters"). A player in a room now, or queued again meanwhile, is not told.
pub(super) fn not_queued(session: &Session) {
    let outbox = {
        let state = session.lock();
        if state.room.is_some() || state.queued.is_some() {
            return;
        }
        state.outbox().cloned()
    };
    if let Some(outbox) = outbox {
        outbox.push_msg(&ServerMsg::Error {
            code: ErrorCode::ClusterUnavailable,
            message: "the cluster's queue cannot be reached now; try again".into(),
            input_seq: None,
        });
    }
}

/// [`not_queued`] for each of `present` that still has a session.
pub(super) fn none_queued(sessions: &SessionTable, present: &[SessionId]) {
    for &id in present {
        if let Some(session) = sessions.get(id) {
            not_queued(&session);
        }
    }
}

/// Who a session is, for its queue entry: a signed-in player's id and name; `None` for a
/// guest.
fn queued_player(session: &Session) -> Option<QueuedPlayer> {
    session.identity().map(|identity| QueuedPlayer {
        id: identity.player_id.clone(),
        name: identity.display_name.clone(),
    })
}

/// One of this node's players in the global queue.
struct Waiter {
    session: Arc<Session>,
    game: GameEntry,
    options: Bytes,
    rating: u16,
    /// Since when its entry has been missing from the queue (claimed by someone).
    missing_since: Option<Instant>,
}

/// The seats reserved on this node for players redirected here, by ticket nonce.
#[derive(Debug, Default)]
pub(crate) struct Reservations {
    by_nonce: std::sync::Mutex<HashMap<String, Reservation>>,
}

#[derive(Debug)]
struct Reservation {
    room: crate::protocol::RoomId,
    seat: Seat,
    player: String,
    /// The reserved session's resume token: redeeming the ticket resumes it.
    token: String,
    expires: std::time::Instant,
}

impl Reservations {
    fn insert(&self, nonce: String, reservation: Reservation) {
        let mut table = self.by_nonce.lock().unwrap_or_else(|e| e.into_inner());
        let now = std::time::Instant::now();
        table.retain(|_, r| r.expires > now);
        table.insert(nonce, reservation);
    }

    /// The reserved session's resume token for a redeemed ticket, once.
    pub(crate) fn take(&self, ticket: &SeatTicket) -> Option<String> {
        let mut table = self.by_nonce.lock().unwrap_or_else(|e| e.into_inner());
        let r = table.remove(&ticket.nonce)?;
        (r.room == ticket.room && r.seat == ticket.seat && r.player == ticket.player)
            .then_some(r.token)
    }
}

/// The global matchmaker task's state.
pub(crate) struct GlobalMatch {
    pub(crate) cluster: Cluster,
    pub(crate) config: MatchConfig,
    pub(crate) engine: Engine,
    pub(crate) directory: Arc<Directory>,
    pub(crate) sessions: Arc<SessionTable>,
    pub(crate) reservations: Arc<Reservations>,
    pub(crate) queued: Arc<AtomicUsize>,
    pub(crate) chat_burst: f64,
    pub(crate) outbox_events: usize,
    waiters: HashMap<SessionId, Waiter>,
    /// Players this node placed on each host since that host's last heartbeat.
    pending: Pending,
    /// The live nodes as last read, and when.
    nodes: Option<(Instant, Vec<crate::cluster::NodeInfo>)>,
    hosted: HashMap<crate::protocol::RoomId, Hosted>,
    /// How long a `Queued` waits to share a write (with a `MatchFound` or `Redirect`).
    queued_wait: Duration,
}

impl GlobalMatch {
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn new(
        cluster: Cluster,
        config: MatchConfig,
        engine: Engine,
        directory: Arc<Directory>,
        sessions: Arc<SessionTable>,
        reservations: Arc<Reservations>,
        queued: Arc<AtomicUsize>,
        chat_burst: f64,
    ) -> GlobalMatch {
        GlobalMatch {
            queued_wait: queued_wait(engine.config().tick_period()),
            cluster,
            config,
            engine,
            directory,
            sessions,
            reservations,
            queued,
            chat_burst,
            outbox_events: 64,
            waiters: HashMap::new(),
            pending: Pending::default(),
            nodes: None,
            hosted: HashMap::new(),
        }
    }

    pub(crate) async fn run(
        mut self,
        mut commands: mpsc::Receiver<GlobalCmd>,
        mut inbox: mpsc::Receiver<NodeMsg>,
        shutdown: CancellationToken,
    ) {
        let mut retry = tokio::time::interval(self.config.retry_interval);
        retry.set_missed_tick_behavior(MissedTickBehavior::Delay);
        loop {
            tokio::select! {
                _ = shutdown.cancelled() => break,
                _ = retry.tick() => self.try_match().await,
                cmd = commands.recv() => match cmd {
                    Some(cmd) => self.handle(cmd).await,
                    None => break,
                },
                msg = inbox.recv() => match msg {
                    Some(msg) => self.on_node_msg(msg).await,
                    None => break,
                },
            }
        }
        // Leave the queue on the way out: the players here are being disconnected.
        for (id, waiter) in std::mem::take(&mut self.waiters) {
            let _ = self
                .cluster
                .dequeue(waiter.game.name, &waiter.options, id)
                .await;
        }
    }

    async fn handle(&mut self, cmd: GlobalCmd) {
        match cmd {
            GlobalCmd::Enqueue {
                session,
                game,
                options,
                rating,
            } => self.enqueue(session, game, options, rating).await,
            GlobalCmd::Cancel { session, reply } => {
                let _ = reply.send(self.remove(session).await);
            }
            GlobalCmd::Remove { session } => {
                self.remove(session).await;
            }
            GlobalCmd::Requeue { room, present } => self.requeue(room, present).await,
        }
    }

    /// Queues this node's `session` in the global queue (its `queued` already set).
    async fn enqueue(
        &mut self,
        session: Arc<Session>,
        game: GameEntry,
        options: Bytes,
        rating: u16,
    ) {
        let id = session.id();
        let player = queued_player(&session);
        if let Err(error) = self
            .cluster
            .enqueue_as(game.name, &options, id, rating, player.as_ref())
            .await
        {
            tracing::warn!(%error, "global queue: enqueue failed");
            session.lock().queued = None;
            not_queued(&session);
            return;
        }
        // Unhurried: a match found at once takes it along with its `MatchFound` (hosted
        // here) or `Redirect` (hosted elsewhere); otherwise it goes alone after the wait.
        // Its own timer, not this task's: this task waits on Redis (up to a second a call
        // when Redis is slow), and the answer must not wait for it.
        let outbox = session.lock().outbox().cloned();
        if let Some(outbox) = outbox {
            let queued = ServerMsg::Queued {
                game: game.name.into(),
                position: 1,
                queue_size: 1,
            };
            if outbox.push_msg_unhurried(&queued) {
                let wait = self.queued_wait;
                tokio::spawn(async move {
                    tokio::time::sleep(wait).await;
                    outbox.hurry();
                });
            }
        }
        self.waiters.insert(
            id,
            Waiter {
                session,
                game,
                options,
                rating,
                missing_since: None,
            },
        );
        self.queued.fetch_add(1, Ordering::Relaxed);
        self.try_match().await;
    }

    /// Queues again the connected players of a hosted match that was called off, with
    /// the game, options and rating they were matched with.
    async fn requeue(&mut self, room: crate::protocol::RoomId, present: Vec<SessionId>) {
        let Some(hosted) = self.hosted.remove(&room) else {
            tracing::warn!(
                room = room.get(),
                "global queue: a called-off match not hosted here"
            );
            // They were told they are queued again: they hear that they are not.
            none_queued(&self.sessions, &present);
            return;
        };
        for id in present {
            let Some(session) = self.sessions.get(id) else {
                continue;
            };
            {
                let mut state = session.lock();
                // Gone, already elsewhere or queued by itself meanwhile: nothing to do.
                if state.binding.is_none() || state.room.is_some() || state.queued.is_some() {
                    continue;
                }
                state.queued = Some(hosted.game.name);
            }
            let rating = hosted
                .ratings
                .iter()
                .find(|(s, _)| *s == id)
                .map_or(crate::lobby::DEFAULT_RATING, |(_, r)| *r);
            self.enqueue(session, hosted.game, hosted.options.clone(), rating)
                .await;
        }
    }

    /// Takes a waiter out of the local list and the global queue; whether it was waiting.
    async fn remove(&mut self, session: SessionId) -> bool {
        let Some(waiter) = self.forget(session) else {
            return false;
        };
        if let Err(error) = self
            .cluster
            .dequeue(waiter.game.name, &waiter.options, session)
            .await
        {
            tracing::warn!(%error, "global queue: leaving failed; the entry goes with its TTL");
        }
        true
    }

    fn forget(&mut self, session: SessionId) -> Option<Waiter> {
        let waiter = self.waiters.remove(&session)?;
        self.queued.fetch_sub(1, Ordering::Relaxed);
        Some(waiter)
    }

    /// One pass over the queues this node's players wait in.
    async fn try_match(&mut self) {
        let mut queues: Vec<(GameEntry, Bytes)> = Vec::new();
        for waiter in self.waiters.values() {
            if !queues
                .iter()
                .any(|(g, o)| g.name == waiter.game.name && *o == waiter.options)
            {
                queues.push((waiter.game, waiter.options.clone()));
            }
        }
        for (game, options) in queues {
            let entries = match self.cluster.queue_entries(game.name, &options).await {
                Ok(entries) => entries,
                Err(error) => {
                    tracing::debug!(%error, "global queue: read failed");
                    continue;
                }
            };
            self.requeue_lost(game, &options, &entries).await;
            for group in decide_groups(&self.config, game, entries) {
                match self
                    .cluster
                    .claim(game.name, &options, &group.players)
                    .await
                {
                    Ok(true) => self.place(game, &options, group).await,
                    Ok(false) => {}
                    Err(error) => tracing::debug!(%error, "global queue: claim failed"),
                }
            }
        }
    }

    /// Queues again this node's players of this queue whose entry was claimed but who
    /// heard nothing for [`CLAIMED_WAIT`].
    async fn requeue_lost(
        &mut self,
        game: GameEntry,
        options: &Bytes,
        entries: &[crate::cluster::queue::QueueEntry],
    ) {
        let me = self.cluster.node_id().to_string();
        let now = Instant::now();
        let mut lost = Vec::new();
        for (&id, waiter) in &mut self.waiters {
            if waiter.game.name != game.name || waiter.options != *options {
                continue;
            }
            let present = entries.iter().any(|e| e.node == me && e.session == id);
            if present {
                waiter.missing_since = None;
            } else {
                let since = *waiter.missing_since.get_or_insert(now);
                if now.duration_since(since) >= CLAIMED_WAIT {
                    waiter.missing_since = None;
                    lost.push((id, waiter.rating, queued_player(&waiter.session)));
                }
            }
        }
        for (id, rating, player) in lost {
            let _ = self
                .cluster
                .enqueue_as(game.name, options, id, rating, player.as_ref())
                .await;
        }
    }

    /// Places a group this node won on the least-loaded live node.
    async fn place(
        &mut self,
        game: GameEntry,
        options: &Bytes,
        group: crate::cluster::queue::QueueGroup,
    ) {
        let mut players = group.players;
        // Seat order decides who moves first: shuffle it, as on one node. (The room draws
        // the bots' seats and seats the players in this order in the others.)
        players.shuffle(&mut rand::rng());
        let placement = Placement {
            game: game.name.into(),
            options: options.to_vec(),
            seats: players
                .into_iter()
                .enumerate()
                .map(|(order, p)| PlacedSeat {
                    seat: Seat::try_from(order).unwrap_or(Seat::MAX),
                    node: p.node,
                    session: p.session,
                    rating: p.rating,
                    player: p.player,
                })
                .collect(),
            bots: group.bots,
        };
        // The live nodes, read at most every NODES_FRESH: their loads change only with
        // their heartbeats, and reading them costs one Redis read per node.
        let stale = self
            .nodes
            .as_ref()
            .is_none_or(|(read, _)| read.elapsed() >= NODES_FRESH);
        if stale {
            match self.cluster.live_nodes().await {
                Ok(nodes) => self.nodes = Some((Instant::now(), nodes)),
                Err(error) => {
                    tracing::warn!(%error, "global queue: no live nodes read");
                    self.nodes = None;
                }
            }
        }
        let target = match &self.nodes {
            Some((_, nodes)) => {
                let candidates: Vec<Candidate<'_>> = nodes
                    .iter()
                    .map(|n| Candidate {
                        id: &n.id,
                        connections: n.load.connections,
                        seen_ms: n.seen_ms,
                    })
                    .collect();
                self.pending.retain_live(&candidates);
                let players_on: Vec<&str> =
                    placement.seats.iter().map(|s| s.node.as_str()).collect();
                let host = choose_host(&candidates, &players_on, &self.pending);
                if let Some(host) = host.and_then(|h| candidates.iter().find(|c| c.id == h)) {
                    self.pending
                        .add(host.id, host.seen_ms, placement.seats.len());
                }
                host.map(str::to_string)
            }
            // No live nodes read: hosting here.
            None => None,
        };
        match target {
            Some(target) if target != self.cluster.node_id() => {
                if let Err(error) = self
                    .cluster
                    .send_to(&target, &NodeMsg::Place(placement.clone()))
                    .await
                {
                    tracing::warn!(%error, %target, "global queue: placement not sent; hosting here");
                    self.host(placement).await;
                }
            }
            _ => self.host(placement).await,
        }
    }
}
