//! One room: its members, its game, its reliable event log, and what it does each tick.
//!
//! A room is owned and mutated by exactly one shard. It never waits: it reads commands the
//! shard hands it and puts frames into its members' outboxes.

mod bots;
mod ops;

pub use ops::SHUTDOWN_REASON;
mod admin;
#[cfg(test)]
mod tests;

use std::sync::Arc;

use bytes::{Bytes, BytesMut};

use super::event_log::{EventLog, Logged};
use super::finished::{FinishedGame, FinishedSeat};
use super::frames::{FrameCache, encode_with};
use super::registry::{DynGame, EncodedEvent, GameEntry, InputError};
use super::{Member, NewRoom, RoomObserver};
use crate::codec::Codec;
use crate::game::{GameConfig, Outcome, Viewer};
use crate::outbox::{Outbox, StateFrame};
use crate::protocol::{
    ErrorCode, RoomEvent, RoomId, RoomJoined, RoomStatus, RoomSummary, Seat, ServerMsg, SessionId,
    Tick,
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
    /// `None` while the member's connection is down.
    outbox: Option<Arc<Outbox>>,
    /// Last input seq processed for this member.
    input_seq: u32,
    /// The tick of the member's latest processed input, and how many it had in that tick.
    inputs_in_tick: (Tick, usize),
    /// Set while disconnected: the tick at which the seat is given up.
    away_until: Option<Tick>,
    /// Send this member a full snapshot at the next tick even if nothing changed.
    needs_state: bool,
    /// The tick of the first state sent to this member's connection in this room. Deltas
    /// are only taken against acknowledged ticks at or after it, so an acknowledgement that
    /// belongs to an earlier room (ticks are comparable across shards) is never used as a
    /// base. (Not the latest full snapshot: with acknowledgements a tick or more behind, a
    /// moving target would never let deltas start.)
    full_at: Option<Tick>,
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
    data: Bytes,
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
    finished_at: Option<Tick>,
    /// The game was ended by a server shutdown, not by its rules.
    shutdown_ended: bool,
    /// The tick play started at, and everyone seated since: the finished game's record.
    started_at: Option<Tick>,
    roster: Vec<FinishedSeat>,
    observer: Arc<dyn RoomObserver>,
}

impl Room {
    /// Creates the room, seats its first players, announces it, and starts the game if every
    /// seat is filled.
    pub(crate) fn new(
        id: RoomId,
        new: NewRoom,
        now: Tick,
        limits: RoomLimits,
        observer: Arc<dyn RoomObserver>,
    ) -> Room {
        let config = GameConfig {
            tick_hz: limits.tick_hz,
            settings: new.settings,
            players: 0,
            seed: room_seed(limits.seed, id.get()),
        };
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
            log: EventLog::default(),
            pending: Vec::new(),
            game_events: Vec::new(),
            dirty: false,
            finished_at: None,
            shutdown_ended: false,
            started_at: None,
            roster: Vec::new(),
            observer,
        };
        room.seat_bots(&new.bots, now);
        let quick_match = room.public;
        for member in new.players.into_iter().take(usize::from(room.entry.seats)) {
            let seat = room.free_seat().unwrap_or(0);
            room.seat_member(member, seat, quick_match, now);
        }
        room.emit_occupancy(now);
        if new.start_now {
            room.start(now);
        } else {
            room.start_if_full(now);
        }
        room.observer.room_changed(&room.summary());
        room
    }

    fn log_capacity(&self) -> usize {
        if self.entry.event_every_tick {
            self.limits.every_tick_log_capacity()
        } else {
            self.limits.event_log_capacity.max(1)
        }
    }

    pub(crate) fn id(&self) -> RoomId {
        self.id
    }

    pub(crate) fn summary(&self) -> RoomSummary {
        RoomSummary {
            room_id: self.id,
            game: self.entry.name.to_string(),
            status: self.status,
            players: self.player_count(),
            seats: self.entry.seats,
            spectators: self.spectator_count(),
            public: self.public,
            code: self.public.then(|| self.code.clone()),
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
            game: self.entry.name.to_string(),
            seat,
            seats: self.entry.seats,
            bots: self.bots.iter().map(|b| b.seat).collect(),
        }
    }

    fn seat_member(&mut self, member: Member, seat: Seat, quick_match: bool, now: Tick) {
        let joined = self.joined_msg(Some(seat));
        member.outbox.push_msg(&if quick_match {
            ServerMsg::MatchFound(joined)
        } else {
            ServerMsg::RoomJoined(joined)
        });
        // Everything the room said before this player arrived (the earlier players'
        // `PlayerJoined`, `Occupancy`, chat): its events then run from the room's first
        // kept event without a gap, whatever seat it got.
        self.replay_log(&member.outbox, 0);
        self.members.push(MemberState {
            session: member.session,
            role: Role::Player(seat),
            outbox: Some(member.outbox),
            input_seq: 0,
            inputs_in_tick: (0, 0),
            away_until: None,
            needs_state: true,
            full_at: None,
        });
        if self.status == RoomStatus::Running {
            self.enrol(seat, member.session);
        }
        self.emit(now, RoomEvent::PlayerJoined { seat });
    }

    fn start_if_full(&mut self, now: Tick) {
        if self.player_count() >= self.entry.seats {
            self.start(now);
        }
    }

    /// Starts play with the players seated now.
    fn start(&mut self, now: Tick) {
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
        self.emit(now, RoomEvent::GameStarted);
        // What the game emitted as it was made comes after `GameStarted`.
        self.flush_game_events(now);
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

    /// Hands the finished game's record to the observer. Called once, at the tick the
    /// room's status became `Finished`.
    fn report_finished(&mut self, now: Tick, outcome: Outcome) {
        let mut players = std::mem::take(&mut self.roster);
        players.sort_by_key(|p| p.seat);
        let replay = self
            .game
            .as_mut()
            .and_then(|game| game.take_replay(now, outcome));
        self.observer.game_finished(FinishedGame {
            room: self.id,
            game: self.entry.name,
            settings: self.config.settings.clone(),
            public: self.public,
            players,
            started: self.started_at.unwrap_or(now),
            ended: now,
            tick_hz: self.limits.tick_hz,
            outcome,
            replay,
        });
    }

    /// Handles `JoinRoom`.
    pub(crate) fn join(
        &mut self,
        member: Member,
        spectate: bool,
        now: Tick,
    ) -> Result<RoomJoined, ErrorCode> {
        if self.member_index(member.session).is_some() {
            return Err(ErrorCode::AlreadyInRoom);
        }
        if spectate {
            if !self.public && !self.config.settings.allow_spectators {
                return Err(ErrorCode::SpectatorsNotAllowed);
            }
            let joined = self.joined_msg(None);
            member
                .outbox
                .push_msg(&ServerMsg::RoomJoined(joined.clone()));
            self.replay_log(&member.outbox, 0);
            self.members.push(MemberState {
                session: member.session,
                role: Role::Spectator,
                outbox: Some(member.outbox),
                input_seq: 0,
                inputs_in_tick: (0, 0),
                away_until: None,
                needs_state: true,
                full_at: None,
            });
            self.emit_occupancy(now);
            self.observer.room_changed(&self.summary());
            return Ok(joined);
        }
        // Every seat taken is the more useful answer: the game has then started too.
        let seat = self.free_seat().ok_or(ErrorCode::RoomFull)?;
        let in_progress = self.status == RoomStatus::Running && self.entry.join_in_progress;
        if self.status != RoomStatus::Waiting && !in_progress {
            // A seat freed by a player who left: nobody takes over a game under way,
            // unless the game takes players in progress.
            return Err(ErrorCode::GameAlreadyStarted);
        }
        let joined = self.joined_msg(Some(seat));
        self.seat_member(member, seat, false, now);
        self.emit_occupancy(now);
        if in_progress {
            if let Some(game) = &mut self.game
                && game.join(now, seat)
            {
                self.dirty = true;
            }
            self.flush_game_events(now);
        } else {
            self.start_if_full(now);
        }
        self.observer.room_changed(&self.summary());
        Ok(joined)
    }

    /// Queues an input for this tick's [`Room::tick`].
    pub(crate) fn queue_input(&mut self, session: SessionId, seq: u32, data: Bytes) {
        self.pending.push(PendingInput {
            from: Sender::Member(session),
            seq,
            data,
        });
    }

    /// Handles `LeaveRoom` and expired sessions: the member is gone for good.
    pub(crate) fn leave(&mut self, session: SessionId, now: Tick) {
        let Some(index) = self.member_index(session) else {
            return;
        };
        let member = self.members.remove(index);
        // Membership first, `RoomLeft` second (see `close`).
        self.observer.member_left(self.id, session);
        if let Some(outbox) = &member.outbox {
            outbox.push_msg(&ServerMsg::RoomLeft { room_id: self.id });
        }
        if let Role::Player(seat) = member.role {
            self.player_gone(seat, now);
        }
        self.emit_occupancy(now);
        self.observer.room_changed(&self.summary());
    }

    fn player_gone(&mut self, seat: Seat, now: Tick) {
        self.emit(now, RoomEvent::PlayerLeft { seat });
        if let Some(game) = &mut self.game
            && self.status == RoomStatus::Running
            && game.abandon(now, seat)
        {
            self.dirty = true;
        }
        self.flush_game_events(now);
    }

    /// The member's connection dropped: hold its place for the grace period.
    pub(crate) fn disconnected(&mut self, session: SessionId, now: Tick) {
        let Some(index) = self.member_index(session) else {
            return;
        };
        let deadline = now + self.limits.grace_ticks;
        let member = &mut self.members[index];
        if member.away_until.is_some() {
            // Already away (a repeated notice): the first deadline stands.
            return;
        }
        member.outbox = None;
        member.away_until = Some(deadline);
        if let Role::Player(seat) = member.role {
            let grace_ms = self.limits.grace_ticks * 1000 / u64::from(self.limits.tick_hz.max(1));
            self.emit(
                now,
                RoomEvent::PlayerDisconnected {
                    seat,
                    deadline_tick: deadline,
                    grace_ms: u32::try_from(grace_ms).unwrap_or(u32::MAX),
                },
            );
            if let Some(game) = &mut self.game
                && self.status == RoomStatus::Running
                && game.disconnect(now, seat)
            {
                self.dirty = true;
            }
            self.flush_game_events(now);
        }
    }

    /// A resumed session's new connection: replay what it missed and resend the state.
    pub(crate) fn rebind(&mut self, member: Member, last_event_seq: u64, now: Tick) {
        let Some(index) = self.member_index(member.session) else {
            // The seat was given up meanwhile: tell the client it is no longer here.
            member
                .outbox
                .push_msg(&ServerMsg::RoomLeft { room_id: self.id });
            self.observer.member_left(self.id, member.session);
            return;
        };
        let role = self.members[index].role;
        let seat = match role {
            Role::Player(seat) => Some(seat),
            Role::Spectator => None,
        };
        member
            .outbox
            .push_msg(&ServerMsg::RoomJoined(self.joined_msg(seat)));
        self.replay_log(&member.outbox, last_event_seq);
        let state = &mut self.members[index];
        let was_away = state.away_until.take().is_some();
        state.outbox = Some(member.outbox);
        state.needs_state = true;
        state.full_at = None;
        if was_away && let Some(seat) = seat {
            self.emit(now, RoomEvent::PlayerReconnected { seat });
            if let Some(game) = &mut self.game
                && self.status == RoomStatus::Running
                && game.reconnect(now, seat)
            {
                self.dirty = true;
            }
            self.flush_game_events(now);
        }
    }

    fn replay_log(&self, outbox: &Outbox, after_seq: u64) {
        self.log.replay(outbox, after_seq);
    }

    /// Posts a chat line from a member.
    pub(crate) fn chat(&mut self, session: SessionId, text: String, now: Tick) {
        let Some(index) = self.member_index(session) else {
            return;
        };
        let seat = match self.members[index].role {
            Role::Player(seat) => Some(seat),
            Role::Spectator => None,
        };
        self.emit(
            now,
            RoomEvent::Chat {
                from_session: session,
                seat,
                text,
            },
        );
    }

    /// Runs one tick: applies queued inputs in arrival order, advances the game, enforces
    /// reconnect deadlines, sends snapshots, and reports the outcome. Returns `true` when the
    /// room is done and must be removed.
    pub(crate) fn tick(&mut self, now: Tick, scratch: &mut BytesMut) -> bool {
        self.apply_inputs(now);
        if let Some(game) = &mut self.game
            && self.status == RoomStatus::Running
            && game.tick(now)
        {
            self.dirty = true;
        }
        self.flush_game_events(now);
        self.expire_absent(now);
        let changed = self.dirty;
        self.broadcast_state(now, scratch);
        self.finish_if_over(now);
        if changed {
            self.ask_bots(scratch);
        }
        let close = self.should_close(now);
        if close {
            self.end_deserted(now);
        }
        close
    }

    /// A running game whose players have all left ends with the room: `Abandoned`, no
    /// winner. Games that end by their own rules report that themselves (a forfeit);
    /// this is for the rest (the arena has no end of its own), so that every game played
    /// is reported once and its record and replay are kept.
    fn end_deserted(&mut self, now: Tick) {
        if self.status != RoomStatus::Running || self.game.is_none() {
            return;
        }
        let outcome = Outcome {
            winner: None,
            reason: crate::protocol::EndReason::Abandoned,
        };
        self.end_game(now, outcome);
        self.observer.room_changed(&self.summary());
    }

    /// Ends the running game with `outcome`: the room is finished, its members (the
    /// spectators, when every player has gone) hear `GameOver`, and the game is reported
    /// once. Every way a game ends goes through here.
    fn end_game(&mut self, now: Tick, outcome: Outcome) {
        self.status = RoomStatus::Finished;
        self.finished_at = Some(now);
        self.emit(
            now,
            RoomEvent::GameOver {
                winner: outcome.winner,
                reason: outcome.reason,
            },
        );
        self.report_finished(now, outcome);
    }

    fn apply_inputs(&mut self, now: Tick) {
        let pending = std::mem::take(&mut self.pending);
        for input in &pending {
            self.apply_input(now, input);
        }
        // Keep the vector's capacity for the next tick.
        self.pending = pending;
        self.pending.clear();
    }

    fn apply_input(&mut self, now: Tick, input: &PendingInput) {
        let session = match input.from {
            Sender::Member(session) => session,
            Sender::Bot(seat) => {
                // A bot's input takes the clients' path into the game (decoded, validated,
                // applied, recorded); a refusal is a bug in the bot, logged.
                if let Err((code, message)) =
                    self.feed_game(now, seat, input.seq, Codec::Bincode, &input.data)
                {
                    tracing::warn!(
                        game = self.entry.name,
                        seat,
                        ?code,
                        message,
                        "a server bot's input was refused"
                    );
                }
                return;
            }
        };
        let Some(index) = self.member_index(session) else {
            return;
        };
        let per_tick = self.entry.max_inputs_per_tick;
        let member = &mut self.members[index];
        let Some(outbox) = member.outbox.clone() else {
            return;
        };
        let refuse = |code: ErrorCode, message: String| {
            outbox.push_msg(&ServerMsg::Error {
                code,
                message,
                input_seq: Some(input.seq),
            });
        };
        let Role::Player(seat) = member.role else {
            return refuse(ErrorCode::NotAPlayer, "spectators cannot send input".into());
        };
        if input.seq <= member.input_seq {
            // A duplicate or stale input: ignored, as documented in PROTOCOL.md.
            return;
        }
        // A refused input is processed too: its seq is used up and shows in `input_seq`.
        member.input_seq = input.seq;
        let (tick, count) = &mut member.inputs_in_tick;
        if *tick != now {
            *tick = now;
            *count = 0;
        }
        if *count >= per_tick {
            return refuse(
                ErrorCode::RateLimited,
                format!("at most {per_tick} inputs per player per tick"),
            );
        }
        *count += 1;
        if let Err((code, message)) =
            self.feed_game(now, seat, input.seq, outbox.codec(), &input.data)
        {
            refuse(code, message);
        }
    }

    /// Gives one input of `seat` to the running game; the code and message of a refusal.
    fn feed_game(
        &mut self,
        now: Tick,
        seat: Seat,
        seq: u32,
        codec: Codec,
        data: &[u8],
    ) -> Result<(), (ErrorCode, String)> {
        let Some(game) = self
            .game
            .as_mut()
            .filter(|_| self.status == RoomStatus::Running)
        else {
            return Err((ErrorCode::GameNotRunning, "the game is not running".into()));
        };
        match game.apply_input(now, seat, seq, codec, data) {
            Ok(changed) => {
                self.dirty |= changed;
                Ok(())
            }
            Err(InputError::Malformed(error)) => Err((
                ErrorCode::BadMessage,
                format!("malformed game input: {error}"),
            )),
            Err(InputError::Rejected(rejection)) => {
                Err((rejection.code, rejection.message.into_owned()))
            }
        }
    }

    fn expire_absent(&mut self, now: Tick) {
        while let Some(index) = self
            .members
            .iter()
            .position(|m| m.away_until.is_some_and(|deadline| now >= deadline))
        {
            let member = self.members.remove(index);
            self.observer.member_left(self.id, member.session);
            if let Role::Player(seat) = member.role {
                self.player_gone(seat, now);
            }
            self.emit_occupancy(now);
            self.observer.room_changed(&self.summary());
        }
    }

    fn broadcast_state(&mut self, now: Tick, scratch: &mut BytesMut) {
        let Some(game) = &mut self.game else {
            return;
        };
        if !self.entry.sends_views {
            return;
        }
        let everyone = std::mem::take(&mut self.dirty);
        if !everyone && !self.members.iter().any(|m| m.needs_state) {
            return;
        }
        game.record_view(now);
        let game = &**game;
        let shared = game.shared_view();
        let mut cache = FrameCache::default();
        // The oldest tick a member may still take a delta against: its acknowledged tick,
        // or its first state's while it has not acknowledged that one yet.
        let mut oldest_base = now;
        for member in &mut self.members {
            let Some(outbox) = &member.outbox else {
                continue;
            };
            let acked = outbox.acked_tick();
            if let Some(full) = member.full_at {
                oldest_base = oldest_base.min(acked.max(full));
            }
            if !(everyone || member.needs_state) {
                continue;
            }
            let codec = outbox.codec();
            let base = member
                .full_at
                .filter(|&full| shared && !member.needs_state && acked >= full)
                .map(|_| acked)
                .filter(|&base| base < now && game.has_base(base));
            let encoded = match base {
                Some(base) => cache.delta(game, codec, base, now, scratch),
                None if shared => cache.full(game, codec, scratch),
                None => {
                    let viewer = match member.role {
                        Role::Player(seat) => Viewer::Player(seat),
                        Role::Spectator => Viewer::Spectator,
                    };
                    encode_with(scratch, |buf| game.encode_view(viewer, codec, buf))
                }
            };
            let Some(body) = encoded else {
                continue;
            };
            // Only the first: every later tick the client acknowledges is one it got here.
            member.full_at.get_or_insert(now);
            outbox.set_state(StateFrame {
                tick: now,
                base_tick: base,
                input_seq: member.input_seq,
                body,
            });
            member.needs_state = false;
        }
        if let Some(game) = &mut self.game {
            game.forget_before(oldest_base);
        }
    }

    fn finish_if_over(&mut self, now: Tick) {
        if self.status != RoomStatus::Running {
            return;
        }
        let Some(outcome) = self.game.as_ref().and_then(|g| g.outcome()) else {
            return;
        };
        self.end_game(now, outcome);
        self.observer.room_changed(&self.summary());
    }

    fn should_close(&self, now: Tick) -> bool {
        let anyone_seated = self
            .members
            .iter()
            .any(|m| matches!(m.role, Role::Player(_)));
        if !anyone_seated {
            return true;
        }
        match self.finished_at {
            None => false,
            // Linger while an absent player may still come back for the result.
            Some(at) => {
                // Only players: an absent spectator has no result to come back for.
                let anyone_away = self
                    .members
                    .iter()
                    .any(|m| matches!(m.role, Role::Player(_)) && m.away_until.is_some());
                !anyone_away || now >= at + self.limits.grace_ticks
            }
        }
    }

    /// Reports who the remaining members were, then tells them the room is gone. In that
    /// order: a client that reads `RoomLeft` may send `FindMatch` at once, and must find its
    /// session already out of the room.
    pub(crate) fn close(self) {
        let sessions: Vec<SessionId> = self.members.iter().map(|m| m.session).collect();
        self.observer.room_closed(self.id, &sessions);
        for member in &self.members {
            if let Some(outbox) = &member.outbox {
                outbox.push_msg(&ServerMsg::RoomLeft { room_id: self.id });
            }
        }
    }

    fn emit_occupancy(&mut self, now: Tick) {
        let event = RoomEvent::Occupancy {
            players: self.player_count(),
            spectators: self.spectator_count(),
        };
        self.emit(now, event);
    }

    /// Logs a reliable event and sends it to every connected member, encoded once per codec.
    fn emit(&mut self, now: Tick, event: RoomEvent) {
        self.log_event(now, Logged::Room(event));
    }

    fn log_event(&mut self, now: Tick, event: Logged) {
        let capacity = self.log_capacity();
        let outboxes = self.members.iter().filter_map(|m| m.outbox.as_ref());
        self.log.emit(now, event, capacity, outboxes);
    }

    /// Logs and sends, in order, the events the game emitted since the last call.
    fn flush_game_events(&mut self, now: Tick) {
        let Some(game) = &mut self.game else {
            return;
        };
        let mut events = std::mem::take(&mut self.game_events);
        game.take_events(&mut events);
        for event in events.drain(..) {
            self.log_event(now, Logged::Game(event));
        }
        self.game_events = events;
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
