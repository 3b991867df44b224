//! The fixed-tick engine: shards that own rooms and run their games on the tick.
//!
//! The engine runs N shards (default: one per core). Each shard is one task with one timer
//! that owns a `SlotMap` of rooms and ticks all of them; a room is placed on the least-loaded
//! shard when created and never moves. Everything reaches a shard through its bounded inbox
//! and is applied at the shard's next tick, in arrival order. A room itself only produces
//! values (`room/output.rs`); the shard delivers them into the members' [`Outbox`]es,
//! which it only puts into, and to the [`RoomObserver`] that the layer above installs.
//!
//! [`Engine`] is the cheap-to-clone handle to all of it.

mod admin;
#[doc(hidden)]
pub mod bench;
mod event_log;
mod finished;
mod frames;
mod hook;
mod inbox;
mod input_data;
mod pacing;
mod registry;
mod room;
mod shard;
mod warn_limit;

pub use admin::{MemberInfo, RoomDetail, RoomInfo, TickCost};
pub use finished::{FinishedGame, FinishedSeat};
pub use hook::FinishedHook;
pub use inbox::{InboxWait, JoinAnswer, JoinPermit, Offered};
pub use input_data::{INLINE_INPUT_BYTES, InputData};
pub use registry::{
    BotFactory, DynBot, DynGame, EncodedEvent, Erased, GameEntry, GameRegistry, InputError,
    WithDeltas, decode_options,
};
pub use room::{GAME_FAILED, SHUTDOWN_REASON};
pub use shard::ShardStats;

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::time::Duration;

use tokio::sync::{mpsc, oneshot};
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

use crate::limits::InboxShare;
use crate::outbox::Outbox;
use crate::protocol::{ErrorCode, RoomId, RoomJoined, RoomSettings, RoomSummary, SessionId};

/// Engine settings.
#[derive(Debug, Clone)]
pub struct EngineConfig {
    /// Ticks per second.
    pub tick_hz: u16,
    /// Number of shards (tick tasks).
    pub shards: usize,
    /// Capacity of each shard's command inbox.
    pub inbox_capacity: usize,
    /// Reliable events each room keeps for replay to resuming clients.
    pub event_log_capacity: usize,
    /// How long a disconnected player's seat is held.
    pub reconnect_grace: Duration,
    /// Replay recording (on by default).
    pub replay: crate::replay::ReplayConfig,
    /// Called with every finished game, after the observer (see [`FinishedHook`]).
    pub on_game_finished: Option<FinishedHook>,
    /// The first room's id (1 without a database; see `storage::Storage::id_base`).
    pub first_room_id: RoomId,
}

impl EngineConfig {
    /// The tick period.
    pub fn tick_period(&self) -> Duration {
        Duration::from_secs_f64(1.0 / f64::from(self.tick_hz.max(1)))
    }

    /// The reconnect grace period in ticks (at least one).
    pub fn grace_ticks(&self) -> u64 {
        let ticks = self.reconnect_grace.as_secs_f64() * f64::from(self.tick_hz.max(1));
        (ticks.ceil() as u64).max(1)
    }
}

/// Told by the engine about room lifecycle changes. Implemented by the lobby, which keeps
/// the room directory and the sessions' room memberships. Called from a shard's tick, so
/// implementations must be quick and must not block on I/O.
pub trait RoomObserver: Send + Sync + 'static {
    /// A room was created, or its status or occupancy changed.
    fn room_changed(&self, summary: RoomSummary);
    /// `session` is no longer a member of `room` (left, or removed after its grace).
    fn member_left(&self, room: RoomId, session: SessionId);
    /// The room seated `session` as a player in `seat`. The room alone decides seats; it
    /// says so before the player hears `MatchFound` or `RoomJoined`.
    fn member_seated(&self, _room: RoomId, _session: SessionId, _seat: crate::protocol::Seat) {}
    /// `room` closed; `members` were still in it.
    fn room_closed(&self, room: RoomId, members: &[SessionId]);
    /// A game in a room ended (once per game). Called on the shard's tick right after the
    /// room logged `GameOver`: hand the record to another task, never wait on I/O here.
    fn game_finished(&self, _game: FinishedGame) {}
    /// A room waiting for reserved players ([`Reserved`]) gave up: no game was played.
    /// `present` are the connected players it held, already told (`Error MatchCalledOff`,
    /// `RoomLeft`) and already out of the room ([`RoomObserver::member_left`] came first).
    fn match_called_off(&self, _room: RoomId, _present: &[SessionId]) {}
}

/// A room's address: its id and the shard that owns it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct RoomAddr {
    /// Server-wide room id.
    pub id: RoomId,
    /// Index of the owning shard.
    pub shard: usize,
}

/// A connected session entering a room.
#[derive(Debug, Clone)]
pub struct Member {
    /// The session.
    pub session: SessionId,
    /// Its current connection's outbox.
    pub outbox: Arc<Outbox>,
}

/// A room to create.
#[derive(Debug)]
pub struct NewRoom {
    /// The game.
    pub game: GameEntry,
    /// Room settings.
    pub settings: RoomSettings,
    /// The join code.
    pub code: String,
    /// Listed with its code in the directory (quick-match rooms) or not (private rooms).
    pub public: bool,
    /// Players, seated in this order in the seats the bots leave free (the room decides
    /// the seat numbers, and reports each through [`RoomObserver::member_seated`]).
    pub players: Vec<Member>,
    /// Server bots to seat (quick match's bot fill); none by default.
    pub bots: BotFill,
    /// Start the game now with these players (quick match, possibly fewer than every seat
    /// after the fill wait). Otherwise it starts when the last seat is filled.
    pub start_now: bool,
    /// Seats held for players still on their way (a cluster's redirected players): none
    /// by default. The game waits for them (see [`Reserved`]).
    pub reserved: Reserved,
}

/// Players among [`NewRoom::players`] who have not arrived yet: a cluster's redirected
/// players, whose seats are held until their seat ticket is redeemed (their session's
/// connection rebinds into the room). The room seats them at once but starts no game until
/// every one has arrived; if one has not within [`Reserved::wait`], the room closes without
/// a result and reports the players who were there
/// ([`RoomObserver::match_called_off`]), so they can be queued again.
#[derive(Debug, Clone, Default)]
pub struct Reserved {
    /// The sessions the seats are held for.
    pub sessions: Vec<SessionId>,
    /// How long from the room's creation they may take to arrive (rounded up to ticks).
    pub wait: Duration,
}

/// How many seats a room gives to server bots, and the strategy they play. The room draws
/// the bots' seats from its seed (seat order decides who moves first), and makes each bot
/// with the game's [`BotFactory`] ([`GameEntry::bot`]), seeded from the room's seed and the
/// seat, so a room's seating and its bots are deterministic.
#[derive(Debug, Clone, Default)]
pub struct BotFill {
    /// How many bots (at most the game's seats).
    pub count: u8,
    /// The strategy's name, as the game's bot factory reads it (`--bot-strategy`).
    pub strategy: String,
}

/// Why the engine could not take a request.
#[derive(Debug, thiserror::Error)]
pub enum EngineError {
    /// The shard has stopped (the server is shutting down).
    #[error("the engine is shutting down")]
    ShuttingDown,
}

/// Commands a shard applies at its next tick, in arrival order.
#[derive(Debug)]
pub(crate) enum ShardCmd {
    Create {
        id: RoomId,
        room: Box<NewRoom>,
    },
    Join {
        room: RoomId,
        member: Member,
        spectate: bool,
        /// `Ok(None)`: seated, then the room's game panicked and the room closed; the
        /// joiner was told as its other members were.
        reply: oneshot::Sender<Result<Option<RoomJoined>, ErrorCode>>,
    },
    Input {
        room: RoomId,
        session: SessionId,
        seq: u32,
        data: InputData,
        /// Given back to the sending connection when the shard takes the input out.
        share: InboxShare,
    },
    Leave {
        room: RoomId,
        session: SessionId,
    },
    Disconnected {
        room: RoomId,
        session: SessionId,
        /// The connection that dropped: a notice about an earlier one than the member's
        /// (it resumed meanwhile) is ignored.
        connection: Arc<Outbox>,
    },
    Rebind {
        room: RoomId,
        member: Member,
        last_event_seq: u64,
    },
    Chat {
        room: RoomId,
        session: SessionId,
        text: String,
    },
    Stats(oneshot::Sender<ShardStats>),
    /// Start a shutdown drain (see `shard/drain.rs`).
    Drain,
    /// The drain ran out: end every room.
    EndAll,
    /// The operator's requests (`/admin/`).
    Admin(admin::AdminCmd),
}

impl ShardCmd {
    /// The one room the command is for, if it is for one.
    fn room(&self) -> Option<RoomId> {
        match self {
            ShardCmd::Create { id, .. } => Some(*id),
            ShardCmd::Join { room, .. }
            | ShardCmd::Input { room, .. }
            | ShardCmd::Leave { room, .. }
            | ShardCmd::Disconnected { room, .. }
            | ShardCmd::Rebind { room, .. }
            | ShardCmd::Chat { room, .. }
            | ShardCmd::Admin(admin::AdminCmd::Inspect { room, .. })
            | ShardCmd::Admin(admin::AdminCmd::Close { room, .. }) => Some(*room),
            ShardCmd::Stats(_)
            | ShardCmd::Drain
            | ShardCmd::EndAll
            | ShardCmd::Admin(admin::AdminCmd::List(_)) => None,
        }
    }
}

struct ShardLink {
    tx: mpsc::Sender<ShardCmd>,
    rooms: Arc<AtomicUsize>,
    /// Rooms placed on the shard whose `Create` it has not applied yet.
    placed: Arc<shard::Placed>,
}

struct EngineShared {
    config: EngineConfig,
    registry: GameRegistry,
    shards: Vec<ShardLink>,
    next_room_id: AtomicU64,
}

/// Handle to the running engine. Cheap to clone.
#[derive(Clone)]
pub struct Engine {
    shared: Arc<EngineShared>,
}

impl std::fmt::Debug for Engine {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Engine")
            .field("shards", &self.shared.shards.len())
            .field("tick_hz", &self.shared.config.tick_hz)
            .finish()
    }
}

impl Engine {
    /// Starts the shards on `tracker`; they stop when `shutdown` is cancelled.
    pub fn start(
        config: EngineConfig,
        registry: GameRegistry,
        observer: Arc<dyn RoomObserver>,
        shutdown: CancellationToken,
        tracker: &TaskTracker,
    ) -> Engine {
        Engine::start_paced(
            config,
            registry,
            observer,
            shutdown,
            tracker,
            pacing::SPREAD_ABOVE,
        )
    }

    /// [`Engine::start`], with the shards staggered from `spread_above` writers woken per
    /// period on (`pacing.rs`).
    fn start_paced(
        config: EngineConfig,
        registry: GameRegistry,
        observer: Arc<dyn RoomObserver>,
        shutdown: CancellationToken,
        tracker: &TaskTracker,
        spread_above: usize,
    ) -> Engine {
        let observer: Arc<dyn RoomObserver> = match config.on_game_finished.clone() {
            Some(hook) => Arc::new(hook::Hooked {
                inner: observer,
                hook,
            }),
            None => observer,
        };
        let shard_count = config.shards.max(1);
        let pacing = Arc::new(pacing::Pacing::new(shard_count, spread_above));
        let epoch = tokio::time::Instant::now();
        let mut shards = Vec::with_capacity(shard_count);
        for index in 0..shard_count {
            let (tx, rx) = mpsc::channel(config.inbox_capacity.max(1));
            let rooms = Arc::new(AtomicUsize::new(0));
            let placed = Arc::new(shard::Placed::default());
            let shard = shard::Shard::new(
                index,
                &config,
                rx,
                observer.clone(),
                rooms.clone(),
                placed.clone(),
            )
            .paced(pacing.clone(), shard_count);
            tracker.spawn(shard.run(config.tick_period(), epoch, shutdown.clone()));
            shards.push(ShardLink { tx, rooms, placed });
        }
        let first_room_id = config.first_room_id.get().max(1);
        Engine {
            shared: Arc::new(EngineShared {
                config,
                registry,
                shards,
                next_room_id: AtomicU64::new(first_room_id),
            }),
        }
    }

    /// The games this engine runs.
    pub fn registry(&self) -> &GameRegistry {
        &self.shared.registry
    }

    /// The engine's settings.
    pub fn config(&self) -> &EngineConfig {
        &self.shared.config
    }

    /// Rooms currently open on all shards.
    pub fn room_count(&self) -> usize {
        self.shared
            .shards
            .iter()
            .map(|s| s.rooms.load(Ordering::Relaxed))
            .sum()
    }

    /// Chooses the least-loaded shard for a new room and gives the room its id. The room
    /// counts towards that shard's load from now on, so concurrent placements spread out.
    /// Call [`Engine::create_room`] with the address next.
    pub fn place_room(&self) -> RoomAddr {
        let id = RoomId::new(self.shared.next_room_id.fetch_add(1, Ordering::Relaxed));
        let (shard, link) = self
            .shared
            .shards
            .iter()
            .enumerate()
            .min_by_key(|(_, s)| s.rooms.load(Ordering::Relaxed))
            .expect("the engine always has at least one shard");
        link.rooms.fetch_add(1, Ordering::Relaxed);
        link.placed.insert(id);
        RoomAddr { id, shard }
    }

    /// Creates the room placed at `addr`. The room announces itself to its players
    /// (`MatchFound` or `RoomJoined`) at that shard's next tick.
    ///
    /// # Errors
    /// [`EngineError::ShuttingDown`] if the shard has stopped.
    pub async fn create_room(&self, addr: RoomAddr, room: NewRoom) -> Result<(), EngineError> {
        let cmd = ShardCmd::Create {
            id: addr.id,
            room: Box::new(room),
        };
        let sent = self.send(addr.shard, cmd).await;
        if sent.is_err()
            && let Some(link) = self.shared.shards.get(addr.shard)
        {
            link.rooms.fetch_sub(1, Ordering::Relaxed);
            link.placed.remove(addr.id);
        }
        sent
    }

    /// Seats `member` in a waiting room, or adds it as a spectator. The room itself sends
    /// `RoomJoined`; the result tells the caller what happened: `Ok(None)` when the room's
    /// game panicked as the member joined, so the room closed and told it so (`Error
    /// RoomClosed`, `RoomLeft`), and the member is in no room.
    ///
    /// # Errors
    /// The [`ErrorCode`] to answer the client with ([`ErrorCode::ServerBusy`] when shutting
    /// down).
    pub async fn join(
        &self,
        addr: RoomAddr,
        member: Member,
        spectate: bool,
    ) -> Result<Option<RoomJoined>, ErrorCode> {
        self.reserve_join(addr)
            .await?
            .join(member, spectate)
            .answer()
            .await
    }

    /// Queues a game input for the room's next tick. `share` (the sending connection's
    /// place in the inbox) is dropped when the shard takes the input out of its inbox.
    /// There is no future: the input is queued at once unless the shard's inbox is full,
    /// and then the wait is handed back, boxed ([`Offered::Waiting`]); a stopped shard
    /// gives [`EngineError::ShuttingDown`]. A connection's reader keeps its own future
    /// (alive as long as the connection) small this way: an awaited input carried the
    /// command and every caller's arguments inline.
    pub fn offer_input(
        &self,
        addr: RoomAddr,
        session: SessionId,
        seq: u32,
        data: impl Into<InputData>,
        share: InboxShare,
    ) -> Offered<'_> {
        let cmd = ShardCmd::Input {
            room: addr.id,
            session,
            seq,
            data: data.into(),
            share,
        };
        self.offer(addr.shard, cmd)
    }

    /// Removes `session` from the room for good; a player forfeits a running game.
    ///
    /// # Errors
    /// [`EngineError::ShuttingDown`] if the shard has stopped.
    pub async fn leave(&self, addr: RoomAddr, session: SessionId) -> Result<(), EngineError> {
        self.reserve(addr).await?.leave(session);
        Ok(())
    }

    /// Tells the room that `session`'s connection, the one with outbox `connection`,
    /// dropped: its seat is held for the grace period. The room ignores it if the member
    /// is on another connection by then (a resume's `Rebind` got there first).
    ///
    /// # Errors
    /// [`EngineError::ShuttingDown`] if the shard has stopped.
    pub async fn disconnected(
        &self,
        addr: RoomAddr,
        session: SessionId,
        connection: Arc<Outbox>,
    ) -> Result<(), EngineError> {
        self.reserve(addr).await?.disconnected(session, connection);
        Ok(())
    }

    /// Binds a resumed session's new connection to its place in the room; the room replays
    /// the events after `last_event_seq` and sends a full snapshot.
    ///
    /// # Errors
    /// [`EngineError::ShuttingDown`] if the shard has stopped.
    pub async fn rebind(
        &self,
        addr: RoomAddr,
        member: Member,
        last_event_seq: u64,
    ) -> Result<(), EngineError> {
        let cmd = ShardCmd::Rebind {
            room: addr.id,
            member,
            last_event_seq,
        };
        self.send(addr.shard, cmd).await
    }

    /// Posts a chat line to the room.
    ///
    /// # Errors
    /// [`EngineError::ShuttingDown`] if the shard has stopped.
    pub async fn chat(
        &self,
        addr: RoomAddr,
        session: SessionId,
        text: String,
    ) -> Result<(), EngineError> {
        let cmd = ShardCmd::Chat {
            room: addr.id,
            session,
            text,
        };
        self.send(addr.shard, cmd).await
    }

    /// Each shard's tick statistics.
    pub async fn stats(&self) -> Vec<ShardStats> {
        let mut all = Vec::with_capacity(self.shared.shards.len());
        for link in &self.shared.shards {
            let (reply, answer) = oneshot::channel();
            if link.tx.send(ShardCmd::Stats(reply)).await.is_ok()
                && let Ok(stats) = answer.await
            {
                all.push(stats);
            }
        }
        all
    }

    /// Starts a shutdown drain on every shard: running games that end by their rules go on,
    /// every other room ends with `EndReason::ServerShutdown`, new rooms end at once and
    /// joins are refused. Rooms that close from now on close their members' connections
    /// with 1001.
    pub async fn begin_drain(&self) {
        for link in &self.shared.shards {
            let _ = link.tx.send(ShardCmd::Drain).await;
        }
    }

    /// Ends every room still open, with `EndReason::ServerShutdown` for running games.
    pub async fn end_all(&self) {
        for link in &self.shared.shards {
            let _ = link.tx.send(ShardCmd::EndAll).await;
        }
    }
}

#[cfg(test)]
mod tests;
