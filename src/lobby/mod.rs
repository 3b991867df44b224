//! The lobby: sessions, the quick-match queue, private rooms by code, the room directory,
//! and reconnects.
//!
//! Everything a connection asks for that is not a game input about its room's rules goes
//! through [`Lobby`]. It decides *where* a session is (queued, seated, watching) and tells
//! the engine; the engine's rooms decide what happens *inside* a room and report back
//! through [`RoomObserver`](crate::engine::RoomObserver).

mod admin;
mod cluster_rooms;
mod directory;
pub(crate) mod global;
mod homes;
mod listing;
pub(crate) mod matchmaker;
mod observer;
mod queue;
mod results;
mod rooms;
mod sessions;
mod unhurried;

#[cfg(test)]
mod tests;

pub use admin::{QueueInfo, SessionInfo};
pub use directory::{CODE_ALPHABET, CODE_LENGTH, Directory};
pub use listing::Listing;
pub use matchmaker::MatchConfig;
pub use sessions::{
    Binding, DEFAULT_RATING, Login, Membership, Session, SessionState, SessionTable,
};

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

use crate::engine::{Engine, EngineConfig, GameEntry, GameRegistry, Member, Offered};
use crate::limits::{InboxShare, LimitCounters};
use crate::protocol::{ErrorCode, RoomSummary, SessionId, close_code};
use crate::storage::Storage;
use matchmaker::{MatchCmd, Matchmaker};
use observer::Observer;

/// Lobby settings.
#[derive(Debug, Clone)]
pub struct LobbyConfig {
    /// How long a session outlives its connection.
    pub reconnect_grace: Duration,
    /// Matchmaking settings.
    pub matching: MatchConfig,
    /// Chat messages a session may send at once.
    pub chat_burst: u32,
    /// Chat messages per second a session may sustain.
    pub chat_per_second: f64,
}

impl Default for LobbyConfig {
    fn default() -> Self {
        LobbyConfig {
            reconnect_grace: Duration::from_secs(20),
            matching: MatchConfig::default(),
            chat_burst: 5,
            chat_per_second: 1.0,
        }
    }
}

/// Counters that must return to zero when every player has left.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Serialize)]
pub struct LobbyStats {
    /// Live sessions (connected, or disconnected within their grace).
    pub sessions: usize,
    /// Open rooms.
    pub rooms: usize,
    /// Players in quick-match queues.
    pub queued: usize,
}

/// What a successful resume gives the connection.
#[derive(Debug)]
pub struct Resumed {
    /// The session taken back.
    pub session: Arc<Session>,
    /// Its new resume token.
    pub token: String,
}

struct LobbyShared {
    config: LobbyConfig,
    engine: Engine,
    sessions: Arc<SessionTable>,
    directory: Arc<Directory>,
    queued: Arc<AtomicUsize>,
    matchmaker: mpsc::Sender<MatchCmd>,
    counters: Arc<LimitCounters>,
    storage: Storage,
    /// With a cluster: the global matchmaker's inbox and the seats reserved here.
    global: std::sync::OnceLock<(mpsc::Sender<global::GlobalCmd>, Arc<global::Reservations>)>,
    /// The same inbox, for the room observer.
    requeue: Arc<std::sync::OnceLock<mpsc::Sender<global::GlobalCmd>>>,
}

/// Handle to the lobby. Cheap to clone.
#[derive(Clone)]
pub struct Lobby {
    shared: Arc<LobbyShared>,
}

impl std::fmt::Debug for Lobby {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Lobby")
            .field("stats", &self.stats())
            .finish()
    }
}

impl Lobby {
    /// Starts the engine, the matchmaker, the session reaper and the results writer of
    /// `storage` on `tracker`. Session ids count up from `storage.id_base()`.
    pub fn start(
        config: LobbyConfig,
        engine_config: EngineConfig,
        registry: GameRegistry,
        storage: Storage,
        shutdown: CancellationToken,
        tracker: &TaskTracker,
    ) -> Lobby {
        let sessions = Arc::new(SessionTable::with_id_base(storage.id_base()));
        let directory = Arc::new(Directory::new(engine_config.tick_period()));
        storage.start_writer(
            Arc::new(results::Notifier {
                sessions: sessions.clone(),
            }),
            shutdown.clone(),
            tracker,
        );
        let requeue = Arc::new(std::sync::OnceLock::new());
        let observer = Arc::new(Observer {
            sessions: sessions.clone(),
            directory: directory.clone(),
            storage: storage.clone(),
            global: requeue.clone(),
        });
        let engine = Engine::start(engine_config, registry, observer, shutdown.clone(), tracker);
        let queued = Arc::new(AtomicUsize::new(0));
        let (tx, rx) = mpsc::channel(4096);
        let matchmaker = Matchmaker::new(
            config.matching.clone(),
            engine.clone(),
            directory.clone(),
            sessions.clone(),
            queued.clone(),
            rx,
        );
        tracker.spawn(matchmaker.run(shutdown.clone()));
        let lobby = Lobby {
            shared: Arc::new(LobbyShared {
                config,
                engine,
                sessions,
                directory,
                queued,
                matchmaker: tx,
                counters: Arc::default(),
                storage,
                global: std::sync::OnceLock::new(),
                requeue,
            }),
        };
        tracker.spawn(lobby.clone().reap_sessions(shutdown));
        lobby
    }

    /// Makes quick match global through `cluster` (see `lobby::global`): starts the global
    /// matchmaker and this node's inbox. Called once, at start-up; later calls do nothing.
    pub fn join_cluster(
        &self,
        cluster: crate::cluster::Cluster,
        shutdown: CancellationToken,
        tracker: &TaskTracker,
    ) {
        let reservations = Arc::new(global::Reservations::default());
        let (tx, rx) = mpsc::channel(4096);
        if self
            .shared
            .global
            .set((tx.clone(), reservations.clone()))
            .is_err()
        {
            return;
        }
        let ttl = self.shared.config.reconnect_grace + crate::cluster::resume::HOME_MARGIN;
        let homes = homes::Homes::new(cluster.clone(), self.shared.sessions.clone(), ttl);
        tracker.spawn(homes.run(shutdown.clone()));
        self.publish_rooms(cluster.clone(), shutdown.clone(), tracker);
        let _ = self.shared.requeue.set(tx);
        let (inbox_tx, inbox_rx) = mpsc::channel(256);
        cluster.spawn_inbox(inbox_tx, shutdown.clone(), tracker);
        let task = global::GlobalMatch::new(
            cluster,
            self.shared.config.matching.clone(),
            self.shared.engine.clone(),
            self.shared.directory.clone(),
            self.shared.sessions.clone(),
            reservations,
            self.shared.queued.clone(),
            f64::from(self.shared.config.chat_burst),
        );
        tracker.spawn(task.run(rx, inbox_rx, shutdown));
    }

    /// The resume token of the session reserved here for a redeemed seat ticket (taken:
    /// it works once). `None` when no such seat is held (expired, or not this node's).
    pub fn take_reservation(&self, ticket: &crate::cluster::SeatTicket) -> Option<String> {
        self.shared.global.get()?.1.take(ticket)
    }

    /// The engine under this lobby.
    pub fn engine(&self) -> &Engine {
        &self.shared.engine
    }

    /// Limit hits by reason, shared by every connection.
    pub fn limit_counters(&self) -> &Arc<LimitCounters> {
        &self.shared.counters
    }

    /// Current counters.
    pub fn stats(&self) -> LobbyStats {
        LobbyStats {
            sessions: self.shared.sessions.len(),
            rooms: self.shared.directory.len(),
            queued: self.shared.queued.load(Ordering::Relaxed),
        }
    }

    /// Players in quick-match queues, by game (walks every session: for metrics scrapes).
    pub fn queued_by_game(&self) -> Vec<(&'static str, usize)> {
        self.shared.sessions.queued_by_game()
    }

    /// Sets a session's matchmaking rating. Returns `false` for an unknown session.
    /// (Ratings come from the embedding application until authentication provides them.)
    pub fn set_rating(&self, session: SessionId, rating: u16) -> bool {
        match self.shared.sessions.get(session) {
            Some(session) => {
                session.lock().rating = rating;
                true
            }
            None => false,
        }
    }

    /// Opens a new session bound to a connection. Returns it with its resume token.
    pub fn open_session(&self, binding: Binding) -> (Arc<Session>, String) {
        let burst = f64::from(self.shared.config.chat_burst);
        self.shared.sessions.open(binding, burst)
    }

    /// Takes back the session `token` names for a new connection. A connection still bound
    /// to it is closed with [`close_code::SESSION_TAKEN_OVER`]. Call
    /// [`Lobby::rejoin_room`] after sending `Welcome`.
    ///
    /// # Errors
    /// [`ErrorCode::InvalidResumeToken`] for an unknown, expired or rotated token.
    pub fn resume(&self, token: &str, binding: Binding) -> Result<Resumed, ErrorCode> {
        let (session, token, previous) = self
            .shared
            .sessions
            .resume(token, binding)
            .ok_or(ErrorCode::InvalidResumeToken)?;
        if let Some(previous) = previous {
            previous.outbox.close(
                close_code::SESSION_TAKEN_OVER,
                "another connection resumed this session",
            );
        }
        Ok(Resumed { session, token })
    }

    /// Takes back session `ticket.session` for a resume another node redirected here
    /// (the ticket already redeemed): as [`Lobby::resume`], if the session's token still
    /// hashes to the ticket's. Call [`Lobby::rejoin_room`] after sending `Welcome`.
    ///
    /// # Errors
    /// [`ErrorCode::InvalidResumeToken`] when the session ended or its token rotated.
    pub fn resume_redirected(
        &self,
        ticket: &crate::cluster::resume::ResumeTicket,
        binding: Binding,
    ) -> Result<Resumed, ErrorCode> {
        let (session, token, previous) = self
            .shared
            .sessions
            .resume_hashed(ticket.session, &ticket.token_sha, binding)
            .ok_or(ErrorCode::InvalidResumeToken)?;
        if let Some(previous) = previous {
            previous.outbox.close(
                close_code::SESSION_TAKEN_OVER,
                "another connection resumed this session",
            );
        }
        Ok(Resumed { session, token })
    }

    /// Opens the session of an authenticated player, or takes over the one it already has
    /// (as a resume does: the connection still bound to it is closed with
    /// [`close_code::SESSION_TAKEN_OVER`]; call [`Lobby::rejoin_room`] after `Welcome`
    /// when `resumed`). The token's rating replaces the session's.
    pub fn login(&self, identity: crate::auth::Identity, binding: Binding) -> Login {
        let burst = f64::from(self.shared.config.chat_burst);
        let login = self.shared.sessions.login(identity, binding, burst);
        if let Some(previous) = &login.previous {
            previous.outbox.close(
                close_code::SESSION_TAKEN_OVER,
                "the same player logged in on another connection",
            );
        }
        login
    }

    /// As [`Lobby::login`], for a login another node redirected here with a signed-in
    /// player's resume ticket (already redeemed, for this player): its session `session`
    /// is taken over if it is still the player's (see [`crate::cluster::signin`]).
    pub fn login_redirected(
        &self,
        session: SessionId,
        identity: crate::auth::Identity,
        binding: Binding,
    ) -> Login {
        let burst = f64::from(self.shared.config.chat_burst);
        let login = self
            .shared
            .sessions
            .login_at(session, identity, binding, burst);
        if let Some(previous) = &login.previous {
            previous.outbox.close(
                close_code::SESSION_TAKEN_OVER,
                "the same player logged in on another connection",
            );
        }
        login
    }

    /// Whether signed-in player `player_id` has a session on this node.
    pub fn has_player(&self, player_id: &str) -> bool {
        self.shared.sessions.has_player(player_id)
    }

    /// After a resume: puts the session's new connection back in its room, which replays
    /// the events after `last_event_seq` and sends a full snapshot.
    pub async fn rejoin_room(&self, session: &Session, last_event_seq: u64) {
        let (room, outbox) = {
            let state = session.lock();
            (state.room, state.outbox().cloned())
        };
        if let (Some(membership), Some(outbox)) = (room, outbox) {
            let member = Member {
                session: session.id(),
                outbox,
            };
            // Only fails when shutting down.
            let _ = self
                .shared
                .engine
                .rebind(membership.addr, member, last_event_seq)
                .await;
        }
    }

    /// The connection `conn_id` bound to `session` has ended. Unless another connection
    /// took the session over, it leaves the queue. If the client said goodbye (`farewell`:
    /// a close frame with code 1000), or the session holds no seat (it was queued,
    /// watching, or nowhere), the session ends now and leaves its room; otherwise the room
    /// holds its seat and the session waits for a resume for the grace period. So only a
    /// seat is ever held for a client that is gone.
    pub async fn connection_closed(&self, session: &Session, conn_id: u64, farewell: bool) {
        let (room, connection) = {
            let mut state = session.lock();
            let binding = match state.binding.take() {
                Some(binding) if binding.conn_id == conn_id => binding,
                other => {
                    state.binding = other;
                    return;
                }
            };
            state.disconnected_at = Some(std::time::Instant::now());
            (state.room, binding.outbox)
        };
        let engine = &self.shared.engine;
        if !farewell && let Some(membership) = room.filter(|m| m.player) {
            // A seat is held for the grace.
            let _ = engine
                .disconnected(membership.addr, session.id(), connection)
                .await;
            return;
        }
        // Ended at once, before anything here waits (a busy queue's inbox, a shard's): a
        // connection that resumes the session from now on is refused. Not if another
        // connection resumed it since the binding was let go above: that connection has
        // it now, with its place in a queue or a room.
        let Some(ended) = self.shared.sessions.end_if_unbound(session.id()) else {
            return;
        };
        if !farewell {
            self.shared.counters.seatless_session_ended();
        }
        if ended.queued.is_some() {
            self.unqueue(session.id()).await;
        }
        if let Some(membership) = ended.room {
            let _ = engine.leave(membership.addr, session.id()).await;
        }
    }

    /// Takes session `id` out of its quick-match queue: the cluster's global one when this
    /// node is in a cluster, else the local matchmaker's.
    pub(crate) async fn unqueue(&self, id: SessionId) {
        if let Some((global, _)) = self.shared.global.get() {
            let _ = global.send(global::GlobalCmd::Remove { session: id }).await;
        } else {
            let _ = self
                .shared
                .matchmaker
                .send(MatchCmd::Remove { session: id })
                .await;
        }
    }

    /// Forwards a game input to the session's room for its next tick. `share` is the
    /// input's place in the shard's inbox, given back when the shard takes it out. No
    /// future unless the room's shard has no room for it now (see
    /// [`Engine::offer_input`](crate::engine::Engine::offer_input)); an engine error means
    /// [`ErrorCode::ServerBusy`].
    ///
    /// # Errors
    /// [`ErrorCode::NotInRoom`], [`ErrorCode::NotAPlayer`].
    pub fn offer_input(
        &self,
        session: &Session,
        seq: u32,
        data: impl Into<crate::engine::InputData>,
        share: InboxShare,
    ) -> Result<Offered<'_>, ErrorCode> {
        let membership = session.lock().room.ok_or(ErrorCode::NotInRoom)?;
        if !membership.player {
            return Err(ErrorCode::NotAPlayer);
        }
        Ok(self
            .shared
            .engine
            .offer_input(membership.addr, session.id(), seq, data, share))
    }

    /// Posts a chat line to the session's room.
    ///
    /// # Errors
    /// [`ErrorCode::ChatTooLong`], [`ErrorCode::InvalidText`], [`ErrorCode::RateLimited`],
    /// [`ErrorCode::NotInRoom`].
    pub async fn chat(&self, session: &Session, text: String) -> Result<(), ErrorCode> {
        match crate::auth::text::check_chat(&text) {
            Ok(()) => {}
            Err(crate::auth::text::TextError::BadCharacter) => return Err(ErrorCode::InvalidText),
            Err(_) => return Err(ErrorCode::ChatTooLong),
        }
        let config = &self.shared.config;
        let membership = {
            let mut state = session.lock();
            let membership = state.room.ok_or(ErrorCode::NotInRoom)?;
            if !state
                .chat
                .allow(f64::from(config.chat_burst), config.chat_per_second)
            {
                return Err(ErrorCode::RateLimited);
            }
            membership
        };
        self.shared
            .engine
            .chat(membership.addr, session.id(), text)
            .await
            .map_err(|_| ErrorCode::ServerBusy)
    }

    /// The registered game called `name`.
    fn game(&self, name: &str) -> Result<GameEntry, ErrorCode> {
        self.shared
            .engine
            .registry()
            .get(name)
            .ok_or(ErrorCode::UnknownGame)
    }

    /// The room directory, read from its tables now (O(rooms)).
    pub fn list_rooms(&self) -> Vec<RoomSummary> {
        self.shared.directory.list()
    }

    /// The room directory as clients read it: cached, rebuilt at most once per tick.
    pub fn listing(&self) -> Arc<Listing> {
        self.shared.directory.listing()
    }

    /// Ends sessions whose connection has been gone longer than the grace period. A session
    /// in a room is ended by its room when the room's deadline passes (the one clock that
    /// decides, see `Observer::clear_membership`); here only after twice the grace, as a
    /// backstop, and then its room is told it left for good.
    async fn reap_sessions(self, shutdown: CancellationToken) {
        let grace = self.shared.config.reconnect_grace;
        let backstop = grace.saturating_mul(2);
        let period = (grace / 4).clamp(Duration::from_millis(50), Duration::from_secs(1));
        let mut interval = tokio::time::interval(period);
        loop {
            tokio::select! {
                _ = shutdown.cancelled() => break,
                _ = interval.tick() => {}
            }
            for session in self.shared.sessions.remove_expired(grace, backstop) {
                let room = session.lock().room.take();
                if let Some(membership) = room {
                    tracing::warn!(
                        session = session.id().get(),
                        room = membership.addr.id.get(),
                        "a room kept an absent member past twice its grace; removing it"
                    );
                    let _ = self
                        .shared
                        .engine
                        .leave(membership.addr, session.id())
                        .await;
                }
            }
        }
        self.shared.sessions.clear();
    }
}

/// A session may join or create a room only when it is in none and not queued.
fn check_free(state: &SessionState) -> Result<(), ErrorCode> {
    if state.room.is_some() {
        return Err(ErrorCode::AlreadyInRoom);
    }
    if state.queued.is_some() {
        return Err(ErrorCode::AlreadyQueued);
    }
    Ok(())
}
