//! One room: its members, its game, its reliable event log, and what it does each tick.
//!
//! A room is owned and mutated by exactly one shard. It never waits, and it reads no clock:
//! every step takes the tick number `now` from the shard. Values in, values out: the shard
//! hands it commands, inputs, and the [`Acks`](output::Acks) of its members' connections
//! (read only while the room chooses delta bases); each step appends what it produced
//! (messages, events and states for members, notices for the lobby) to the shard's
//! [`RoomOutput`], which [`deliver`](deliver::deliver) then applies to outboxes and the
//! [`RoomObserver`] (`output.rs`, `deliver.rs`). The room's unit tests (`tests.rs`,
//! `tests/`) read the outputs.
//!
//! The room decides, alone, the seat of each player ([`Room::new`], [`Room::join`]) and when
//! an absent member's grace runs out (`away_until`, in ticks; `tick.rs`).
//!
//! Where the rest is: membership (`members.rs`), the tick (`tick.rs`), state frames
//! (`broadcast.rs`), server bots (`bots.rs`), the operator's view (`admin.rs`), a shutdown
//! drain (`ops.rs`).
//!
//! [`RoomObserver`]: crate::engine::RoomObserver

mod admin;
mod bots;
mod broadcast;
pub(crate) mod deliver;
mod members;
mod ops;
mod output;
mod reserved;
#[cfg(test)]
mod tests;
mod tick;

pub use admin::GAME_FAILED;
pub use ops::SHUTDOWN_REASON;
pub(crate) use ops::shutdown_close;
#[cfg(test)]
pub(crate) use output::TestAcks;
pub(crate) use output::{Link, Notice, Out, RoomOutput};

use super::NewRoom;
use super::event_log::{EventLog, Logged};
use super::finished::FinishedSeat;
use super::input_data::InputData;
use super::registry::{DynGame, EncodedEvent, GameEntry};
use crate::game::GameConfig;
use crate::protocol::{
    EndReason, RoomEvent, RoomId, RoomJoined, RoomStatus, RoomSummary, Seat, SessionId, Tick,
};
use crate::replay::Recorder;
use bots::BotSeat;

/// A member's place in the room.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Role {
    Player(Seat),
    Spectator,
}

#[derive(Debug)]
struct MemberState {
    session: SessionId,
    role: Role,
    /// Its connection; `None` while the connection is down.
    link: Option<Link>,
    /// Last input seq processed for this member.
    input_seq: u32,
    /// The tick of the member's latest processed input, and how many it had in that tick.
    inputs_in_tick: (Tick, usize),
    /// Set while disconnected: the tick at which the seat is given up.
    away_until: Option<Tick>,
    /// Send this member a full snapshot at the next tick even if nothing changed.
    needs_state: bool,
    /// The tick of the first state sent to this member's connection in this room. Deltas
    /// are only taken against acknowledged ticks at or after it (and above `acked_before`),
    /// so an acknowledgement that belongs to an earlier room is never used as a base. (Not the latest full snapshot: with acknowledgements a tick or more behind, a
    /// moving target would never let deltas start.)
    full_at: Option<Tick>,
    /// The tick of the newest state earlier rooms had put in the connection when that first
    /// state was made ([`Acks::newest_sent`](output::Acks::newest_sent)): the client may
    /// still acknowledge any of those (its first inputs here can carry one), so only a
    /// later acknowledgement is a base. (Tick numbers follow the clock on every shard, but
    /// busy shards tick a fraction of a period apart, and a late one later still, so an earlier
    /// room's last tick can carry the same number as this room's first.)
    acked_before: Tick,
}

/// Who sent an input.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Sender {
    Member(SessionId),
    /// The server bot in this seat.
    Bot(Seat),
}

#[derive(Debug)]
struct PendingInput {
    from: Sender,
    seq: u32,
    data: InputData,
}

/// Settings every room of a shard shares.
#[derive(Debug, Clone)]
pub(crate) struct RoomLimits {
    pub grace_ticks: Tick,
    pub tick_hz: u16,
    pub event_log_capacity: usize,
    /// Wraps each game in its replay recording (or not, when recording is off).
    pub recorder: Recorder,
    /// Mixed with each room's id into the seed of its game's random number generator.
    pub seed: u64,
}

impl RoomLimits {
    /// Games that emit an event every tick (relay rooms log one frame per tick) must
    /// replay a whole grace period's worth.
    fn every_tick_log_capacity(&self) -> usize {
        let grace = usize::try_from(self.grace_ticks).unwrap_or(usize::MAX);
        self.event_log_capacity.max(
            grace
                .saturating_mul(2)
                .saturating_add(usize::from(self.tick_hz)),
        )
    }
}

pub(crate) struct Room {
    id: RoomId,
    code: String,
    entry: GameEntry,
    config: GameConfig,
    public: bool,
    limits: RoomLimits,
    game: Option<Box<dyn DynGame>>,
    status: RoomStatus,
    members: Vec<MemberState>,
    /// Seats played by server bots, for the room's life.
    bots: Vec<BotSeat>,
    log: EventLog,
    pending: Vec<PendingInput>,
    /// Events taken from the game, kept for its capacity.
    game_events: Vec<EncodedEvent>,
    dirty: bool,
    /// When and why its game ended, once it has (the reason kept so the shard can count
    /// the game without asking the game's code again).
    ended: Option<(Tick, EndReason)>,
    /// The tick play started at, and everyone seated since: the finished game's record.
    started_at: Option<Tick>,
    roster: Vec<FinishedSeat>,
    /// Seats held for players not arrived yet (`reserved.rs`).
    reservations: reserved::Pending,
}

impl Room {
    /// Creates the room, seats its bots and first players (the players in order, in the
    /// seats the bots leave free), announces it, and starts the game if every seat is
    /// filled (or at once for `start_now`), unless seats are reserved for players still
    /// on their way: then when the last of them arrives (`reserved.rs`).
    pub(crate) fn new(
        id: RoomId,
        new: NewRoom,
        now: Tick,
        limits: RoomLimits,
        out: &mut RoomOutput,
    ) -> Room {
        let config = GameConfig {
            tick_hz: limits.tick_hz,
            settings: new.settings,
            players: 0,
            seed: room_seed(limits.seed, id.get()),
        };
        let log = EventLog::with_capacity(log_capacity(&new.game, &limits));
        let mut room = Room {
            id,
            code: new.code,
            entry: new.game,
            config,
            public: new.public,
            limits,
            game: None,
            status: RoomStatus::Waiting,
            members: Vec::new(),
            bots: Vec::new(),
            log,
            pending: Vec::new(),
            game_events: Vec::new(),
            dirty: false,
            ended: None,
            started_at: None,
            roster: Vec::new(),
            reservations: reserved::Pending::default(),
        };
        {
            // The game's code runs from here (bots, `new`): should it panic, the shard
            // catches it, and what was made of the game is dropped as it unwinds.
            let building = DropGameOnUnwind(&mut room);
            let room = &mut *building.0;
            room.seat_bots(&new.bots, now, out);
            let quick_match = room.public;
            for member in new.players {
                match room.free_seat() {
                    Some(seat) => room.seat_member(member, seat, quick_match, now, out),
                    None => room.turn_away(member, out),
                }
            }
            room.emit_occupancy(now, out);
            if room.hold_reserved(new.reserved, new.start_now, now) {
                // The game waits for the reserved players (`reserved.rs`).
            } else if new.start_now {
                room.start(now, out);
            } else {
                room.start_if_full(now, out);
            }
            room.changed(out);
        }
        room
    }

    /// Its game's name.
    pub(crate) fn game_name(&self) -> &'static str {
        self.entry.name
    }

    pub(crate) fn id(&self) -> RoomId {
        self.id
    }

    pub(crate) fn summary(&self) -> RoomSummary {
        RoomSummary {
            room_id: self.id,
            game: self.entry.name.into(),
            status: self.status,
            players: self.player_count(),
            seats: self.entry.seats,
            spectators: self.spectator_count(),
            public: self.public,
            code: self.public.then(|| self.code.clone()),
            node: None,
        }
    }

    fn player_count(&self) -> u8 {
        let players = self
            .members
            .iter()
            .filter(|m| matches!(m.role, Role::Player(_)))
            .count()
            + self.bots.len();
        u8::try_from(players).unwrap_or(u8::MAX)
    }

    fn spectator_count(&self) -> u32 {
        let spectators = self
            .members
            .iter()
            .filter(|m| m.role == Role::Spectator)
            .count();
        u32::try_from(spectators).unwrap_or(u32::MAX)
    }

    fn free_seat(&self) -> Option<Seat> {
        (0..self.entry.seats).find(|&seat| {
            !self.members.iter().any(|m| m.role == Role::Player(seat))
                && !self.bots.iter().any(|b| b.seat == seat)
        })
    }

    fn member_index(&self, session: SessionId) -> Option<usize> {
        self.members.iter().position(|m| m.session == session)
    }

    fn joined_msg(&self, seat: Option<Seat>) -> RoomJoined {
        RoomJoined {
            room_id: self.id,
            code: self.code.clone(),
            game: self.entry.name.into(),
            seat,
            seats: self.entry.seats,
            bots: self.bots.iter().map(|b| b.seat).collect(),
        }
    }

    /// Tells the lobby the room's status or occupancy changed.
    fn changed(&self, out: &mut RoomOutput) {
        out.notice(Notice::RoomChanged(self.summary()));
    }

    fn start_if_full(&mut self, now: Tick, out: &mut RoomOutput) {
        if self.player_count() >= self.entry.seats {
            self.start(now, out);
        }
    }

    /// Starts play with the players seated now.
    fn start(&mut self, now: Tick, out: &mut RoomOutput) {
        if self.status != RoomStatus::Waiting || self.player_count() == 0 {
            return;
        }
        self.config.players = self.player_count();
        let game = (self.entry.create)(&self.config, now);
        let game = if self.entry.recorded {
            self.limits
                .recorder
                .wrap(game, &self.entry, &self.config, now)
        } else {
            game
        };
        self.game = Some(game);
        self.status = RoomStatus::Running;
        self.started_at = Some(now);
        let seated: Vec<(Seat, SessionId)> = self
            .members
            .iter()
            .filter_map(|m| match m.role {
                Role::Player(seat) => Some((seat, m.session)),
                Role::Spectator => None,
            })
            .collect();
        for (seat, session) in seated {
            self.enrol(seat, session);
        }
        for bot in &self.bots {
            self.roster.push(FinishedSeat {
                seat: bot.seat,
                session: SessionId::new(0),
                bot: true,
            });
        }
        self.dirty = true;
        self.emit(now, RoomEvent::GameStarted, out);
        // What the game emitted as it was made comes after `GameStarted`.
        self.flush_game_events(now, out);
    }

    /// Adds a seated player to the finished game's record.
    fn enrol(&mut self, seat: Seat, session: SessionId) {
        let entry = FinishedSeat {
            seat,
            session,
            bot: false,
        };
        if !self.roster.contains(&entry) {
            self.roster.push(entry);
        }
    }

    fn emit_occupancy(&mut self, now: Tick, out: &mut RoomOutput) {
        let event = RoomEvent::Occupancy {
            players: self.player_count(),
            spectators: self.spectator_count(),
        };
        self.emit(now, event, out);
    }

    /// Logs a reliable event and sends it to every connected member, encoded once per codec.
    fn emit(&mut self, now: Tick, event: RoomEvent, out: &mut RoomOutput) {
        self.log_event(now, Logged::Room(event), out);
    }

    fn log_event(&mut self, now: Tick, event: Logged, out: &mut RoomOutput) {
        let capacity = log_capacity(&self.entry, &self.limits);
        let links = self.members.iter().filter_map(|m| m.link.as_ref());
        self.log.emit(now, event, capacity, links, out);
    }

    /// Logs and sends, in order, the events the game emitted since the last call.
    fn flush_game_events(&mut self, now: Tick, out: &mut RoomOutput) {
        let Some(game) = &mut self.game else {
            return;
        };
        let mut events = std::mem::take(&mut self.game_events);
        game.take_events(&mut events);
        for event in events.drain(..) {
            self.log_event(now, Logged::Game(event), out);
        }
        self.game_events = events;
    }
}

/// How many events a room of `entry`'s game keeps for replay.
fn log_capacity(entry: &GameEntry, limits: &RoomLimits) -> usize {
    if entry.event_every_tick {
        limits.every_tick_log_capacity()
    } else {
        limits.event_log_capacity.max(1)
    }
}

/// A room being made ([`Room::new`]), whose game or bots panicked as it was: they are
/// dropped contained as it unwinds ([`Room::drop_game`]), since a panic in their `Drop`
/// then would abort the process.
struct DropGameOnUnwind<'a>(&'a mut Room);

impl Drop for DropGameOnUnwind<'_> {
    fn drop(&mut self) {
        if std::thread::panicking() && self.0.drop_game().is_err() {
            tracing::error!(
                room = self.0.id.get(),
                "a game (or a bot) panicked again as it was dropped, its room being made"
            );
        }
    }
}

/// The seed of room `id`'s game: the engine's `seed` and the id, mixed (SplitMix64's
/// finaliser), so rooms made in a row get unrelated generators.
fn room_seed(seed: u64, id: u64) -> u64 {
    let mut z = seed ^ id.wrapping_mul(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}
