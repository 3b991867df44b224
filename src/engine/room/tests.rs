//! Deterministic tests of [`Room`] without sockets: time is the tick number passed in,
//! acknowledgements are set by hand, and what the room said is read back from its
//! [`RoomOutput`]: messages, events and states per member, notices for the lobby. The
//! harness (a test game, [`Rig`]) is here; the tests are in `tests/`: the game's events,
//! states and replays (`play.rs`), membership, grace and resume (`members.rs`), server
//! bots and seating (`bots.rs`), seats reserved for players on their way (`reserved.rs`).

mod bots;
mod members;
mod play;
mod reserved;

use bytes::{Bytes, BytesMut};
use serde::{Deserialize, Serialize};
use std::sync::Arc;

use super::output::{Notice, Out, RoomOutput, TestAcks};
use super::{Room, RoomLimits};
use crate::codec::Codec;
use crate::engine::registry::GameEntry;
use crate::engine::{FinishedGame, GameRegistry, Member, NewRoom};
use crate::game::relay::InputFrame;
use crate::game::{Ctx, DeltaGame, Game, GameConfig, Outcome, Rejection, Viewer};
use crate::outbox::{Outbox, StateFrame};
use crate::protocol::{
    ErrorCode, RoomEvent, RoomId, RoomJoined, RoomSettings, Seat, ServerMsg, SessionId, Tick,
};
use crate::replay::{Recorder, ReplayConfig};

/// What the test game emits: one event per hook, so the tests see every call the room
/// makes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
enum Note {
    Started { draw: u32 },
    Added { seat: Seat, value: u8 },
    Away { seat: Seat },
    Back { seat: Seat },
    Left { seat: Seat },
    Joined { seat: Seat },
}

/// A two-seat game that sums its inputs (plus a random bit each), counts the hooks called,
/// takes players in progress, and reports every hook as an event.
struct Tally {
    total: u32,
    hooks: u32,
}

impl Game for Tally {
    const NAME: &'static str = "tally";
    const SEATS: u8 = 2;
    const ENDS_BY_ITSELF: bool = false;
    const JOIN_IN_PROGRESS: bool = true;

    type Options = ();
    type Input = u8;
    type View = (u32, u32);
    type Event = Note;

    fn new(_config: &GameConfig, _options: (), ctx: &mut Ctx<'_, Note>) -> Self {
        let draw = rand::Rng::random(ctx.rng());
        ctx.emit(Note::Started { draw });
        Tally { total: 0, hooks: 0 }
    }

    fn validate(&self, _seat: Seat, input: &u8) -> Result<(), Rejection> {
        if *input > 9 {
            return Err(Rejection::illegal("at most 9"));
        }
        Ok(())
    }

    fn apply(&mut self, ctx: &mut Ctx<'_, Note>, seat: Seat, value: u8) -> bool {
        self.total += u32::from(value) + u32::from(rand::Rng::random::<bool>(ctx.rng()));
        ctx.emit(Note::Added { seat, value });
        true
    }

    fn tick(&mut self, _ctx: &mut Ctx<'_, Note>) -> bool {
        false
    }

    fn on_leave(&mut self, ctx: &mut Ctx<'_, Note>, seat: Seat) -> bool {
        ctx.emit(Note::Left { seat });
        self.hooks += 1;
        true
    }

    fn on_disconnect(&mut self, ctx: &mut Ctx<'_, Note>, seat: Seat) -> bool {
        ctx.emit(Note::Away { seat });
        self.hooks += 1;
        true
    }

    fn on_reconnect(&mut self, ctx: &mut Ctx<'_, Note>, seat: Seat) -> bool {
        ctx.emit(Note::Back { seat });
        self.hooks += 1;
        true
    }

    fn on_join(&mut self, ctx: &mut Ctx<'_, Note>, seat: Seat) -> bool {
        ctx.emit(Note::Joined { seat });
        self.hooks += 1;
        true
    }

    fn view(&self, _viewer: Viewer) -> (u32, u32) {
        (self.total, self.hooks)
    }

    fn outcome(&self) -> Option<Outcome> {
        None
    }
}

/// Tally's views as deltas: the delta is the new view with the base tick it answers (the
/// tests check which base the room chose).
impl DeltaGame for Tally {
    type Delta = (Tick, (u32, u32));

    fn diff(_base: &(u32, u32), base_tick: Tick, current: &(u32, u32), _tick: Tick) -> Self::Delta {
        (base_tick, *current)
    }

    fn apply_delta(
        _base: &(u32, u32),
        _base_tick: Tick,
        delta: &Self::Delta,
        _tick: Tick,
    ) -> (u32, u32) {
        delta.1
    }
}

const GRACE: Tick = 10;

/// The room under test's id.
const ROOM: RoomId = RoomId::new(7);

/// Session `n`: the tests number sessions 1, 2, 3...
fn sid(n: u64) -> SessionId {
    SessionId::new(n)
}

fn member(session: u64, codec: Codec) -> Member {
    Member {
        session: sid(session),
        // Only a handle here: nothing is delivered to it, its codec is what the room reads.
        outbox: Outbox::new(codec, 4096),
    }
}

fn limits(seed: u64, event_log_capacity: usize) -> RoomLimits {
    RoomLimits {
        grace_ticks: GRACE,
        tick_hz: 10,
        event_log_capacity,
        recorder: Recorder::new(ReplayConfig::default(), Default::default()),
        seed,
    }
}

/// A room under test, its members' acknowledgements, the output of its steps, and the
/// lobby's notices read from it.
struct Rig {
    room: Room,
    acks: TestAcks,
    out: RoomOutput,
    notices: Vec<Notice>,
    scratch: BytesMut,
}

impl Rig {
    /// A private room of `entry` with sessions 1 (bincode) and 2 (MessagePack) seated,
    /// created (and started, if it fills) at tick 1.
    fn new(entry: GameEntry, seed: u64) -> Rig {
        let new = NewRoom {
            game: entry,
            settings: RoomSettings {
                allow_spectators: true,
                ..RoomSettings::default()
            },
            code: "ROOM".into(),
            public: false,
            players: vec![member(1, Codec::Bincode), member(2, Codec::MsgPack)],
            bots: Default::default(),
            start_now: false,
            reserved: Default::default(),
        };
        Rig::with(new, limits(seed, 8))
    }

    fn with(new: NewRoom, limits: RoomLimits) -> Rig {
        let mut out = RoomOutput::default();
        let room = Room::new(ROOM, new, 1, limits, &mut out);
        Rig {
            room,
            acks: TestAcks::default(),
            out,
            notices: Vec::new(),
            scratch: BytesMut::new(),
        }
    }

    fn tick(&mut self, now: Tick) -> bool {
        self.room
            .tick(now, &mut self.scratch, &self.acks, &mut self.out)
    }

    /// An earlier room put its state of `tick` in `session`'s connection.
    fn sent_before(&mut self, session: u64, tick: Tick) {
        self.acks.sent.insert(sid(session), tick);
    }

    /// `session`'s connection acknowledges the state of `tick`.
    fn acknowledge(&mut self, session: u64, tick: Tick) {
        self.acks.acked.insert(sid(session), tick);
    }

    /// Queues `value` from `session` (in its codec: 2 speaks MessagePack) and runs tick `now`.
    fn input(&mut self, session: u64, seq: u32, value: u8, now: Tick) {
        let codec = if session == 2 {
            Codec::MsgPack
        } else {
            Codec::Bincode
        };
        self.queue_input(session, seq, codec.encode(&value).unwrap());
        self.tick(now);
    }

    fn queue_input(&mut self, session: u64, seq: u32, data: Bytes) {
        self.room.queue_input(sid(session), seq, data);
    }

    fn join(&mut self, member: Member, spectate: bool, now: Tick) -> Result<RoomJoined, ErrorCode> {
        self.room.join(member, spectate, now, &mut self.out)
    }

    fn leave(&mut self, session: u64, now: Tick) {
        self.room.leave(sid(session), now, &mut self.out);
    }

    /// The connection the member is on now drops (an absent member's notice repeats).
    fn disconnected(&mut self, session: u64, now: Tick) {
        let connection = self
            .room
            .member_link(sid(session))
            .map_or_else(|| Outbox::new(Codec::Bincode, 4), |link| link.outbox);
        self.disconnected_from(session, &connection, now);
    }

    /// A notice that `connection` of `session` dropped.
    fn disconnected_from(&mut self, session: u64, connection: &Arc<Outbox>, now: Tick) {
        self.room
            .disconnected(sid(session), connection, now, &mut self.out);
    }

    fn rebind(&mut self, member: Member, last_event_seq: u64, now: Tick) {
        self.room.rebind(member, last_event_seq, now, &mut self.out);
    }

    /// Everything produced for `session` since the last call for it, in order.
    fn heard(&mut self, session: u64) -> Vec<Out> {
        self.out.take_for(sid(session))
    }

    /// The messages `session` was sent since the last call for it, decoded (states left
    /// out).
    fn said(&mut self, session: u64) -> Vec<ServerMsg> {
        msgs(&self.heard(session))
    }

    fn take_notices(&mut self) {
        let notices = self.out.take_notices();
        self.notices.extend(notices);
    }

    /// The sessions the lobby was told left, since the last call.
    fn left(&mut self) -> Vec<u64> {
        self.take_notices();
        let mut left = Vec::new();
        self.notices.retain(|n| match n {
            Notice::MemberLeft { session, .. } => {
                left.push(session.get());
                false
            }
            _ => true,
        });
        left
    }

    /// The games the lobby was told finished, since the last call.
    fn finished(&mut self) -> Vec<FinishedGame> {
        self.take_notices();
        let (finished, rest): (Vec<Notice>, Vec<Notice>) = std::mem::take(&mut self.notices)
            .into_iter()
            .partition(|n| matches!(n, Notice::GameFinished(_)));
        self.notices = rest;
        finished
            .into_iter()
            .filter_map(|n| match n {
                Notice::GameFinished(game) => Some(*game),
                _ => None,
            })
            .collect()
    }
}

/// The messages in `outs`, each decoded as its recipient's connection would read it.
fn msgs(outs: &[Out]) -> Vec<ServerMsg> {
    outs.iter()
        .filter_map(|out| match out {
            Out::Msg { msg, .. } => Some((**msg).clone()),
            Out::Event { to, frame } | Out::Replayed { to, frame } => {
                Some(to.codec().decode(frame).expect("the room's frames decode"))
            }
            _ => None,
        })
        .collect()
}

/// The state frames in `outs`.
fn states(outs: &[Out]) -> Vec<StateFrame> {
    outs.iter()
        .filter_map(|out| match out {
            Out::State { frame, .. } => Some(frame.clone()),
            _ => None,
        })
        .collect()
}

/// The seq and the decoded game event of every `GameEvent` in `msgs`.
fn notes(codec: Codec, msgs: &[ServerMsg]) -> Vec<(u64, Note)> {
    msgs.iter()
        .filter_map(|msg| match msg {
            ServerMsg::GameEvent { seq, data, .. } => Some((*seq, codec.decode(data).unwrap())),
            _ => None,
        })
        .collect()
}

fn just_notes(codec: Codec, msgs: &[ServerMsg]) -> Vec<Note> {
    notes(codec, msgs).into_iter().map(|(_, n)| n).collect()
}

/// The seqs of every `Event` and `GameEvent` in `msgs`, in order.
fn seqs(msgs: &[ServerMsg]) -> Vec<u64> {
    msgs.iter()
        .filter_map(|msg| match msg {
            ServerMsg::Event { seq, .. } | ServerMsg::GameEvent { seq, .. } => Some(*seq),
            _ => None,
        })
        .collect()
}
