//! Deterministic tests of [`Room`] without sockets: time is the tick number passed in,
//! acknowledgements are set by hand, and what the room said is read back from its
//! [`RoomOutput`]: messages, events and states per member, notices for the lobby.

use bytes::{Bytes, BytesMut};
use serde::{Deserialize, Serialize};

use super::output::{Notice, Out, RoomOutput};
use super::{Room, RoomLimits};
use crate::codec::Codec;
use crate::engine::registry::GameEntry;
use crate::engine::{FinishedGame, GameRegistry, Member, NewRoom};
use crate::game::relay::InputFrame;
use crate::game::{Ctx, DeltaGame, Game, GameConfig, Outcome, Rejection, Viewer};
use crate::outbox::{Outbox, StateFrame};
use crate::protocol::{ErrorCode, RoomEvent, RoomSettings, Seat, ServerMsg, SessionId, Tick};
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

fn member(session: SessionId, codec: Codec) -> Member {
    Member {
        session,
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

/// A room under test, the output of its steps, and the lobby's notices read from it.
struct Rig {
    room: Room,
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
        };
        Rig::with(new, limits(seed, 8))
    }

    fn with(new: NewRoom, limits: RoomLimits) -> Rig {
        let mut out = RoomOutput::default();
        let room = Room::new(7, new, 1, limits, &mut out);
        Rig {
            room,
            out,
            notices: Vec::new(),
            scratch: BytesMut::new(),
        }
    }

    fn tick(&mut self, now: Tick) -> bool {
        self.room.tick(now, &mut self.scratch, &mut self.out)
    }

    /// Queues `value` from `session` (in its codec: 2 speaks MessagePack) and runs tick `now`.
    fn input(&mut self, session: SessionId, seq: u32, value: u8, now: Tick) {
        let codec = if session == 2 {
            Codec::MsgPack
        } else {
            Codec::Bincode
        };
        self.room
            .queue_input(session, seq, codec.encode(&value).unwrap());
        self.tick(now);
    }

    /// Everything produced for `session` since the last call for it, in order.
    fn heard(&mut self, session: SessionId) -> Vec<Out> {
        self.out.take_for(session)
    }

    /// The messages `session` was sent since the last call for it, decoded (states left
    /// out).
    fn said(&mut self, session: SessionId) -> Vec<ServerMsg> {
        msgs(&self.heard(session))
    }

    fn take_notices(&mut self) {
        let notices = self.out.take_notices();
        self.notices.extend(notices);
    }

    /// The sessions the lobby was told left, since the last call.
    fn left(&mut self) -> Vec<SessionId> {
        self.take_notices();
        let mut left = Vec::new();
        self.notices.retain(|n| match n {
            Notice::MemberLeft { session, .. } => {
                left.push(*session);
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

#[test]
fn a_games_events_reach_every_member_in_order_in_its_codec_numbered_with_the_rooms() {
    let mut rig = Rig::new(GameEntry::of::<Tally>(), 42);
    rig.input(1, 1, 3, 2);
    rig.input(2, 1, 4, 3);
    let (to_a, to_b) = (rig.said(1), rig.said(2));
    for (codec, msgs) in [(Codec::Bincode, &to_a), (Codec::MsgPack, &to_b)] {
        let seqs = seqs(msgs);
        assert_eq!(
            seqs,
            (1..=seqs.len() as u64).collect::<Vec<_>>(),
            "one gap-free sequence"
        );
        let notes = just_notes(codec, msgs);
        assert!(matches!(notes[0], Note::Started { .. }), "{notes:?}");
        assert_eq!(
            notes[1..],
            [
                Note::Added { seat: 0, value: 3 },
                Note::Added { seat: 1, value: 4 }
            ]
        );
    }
    // `Started` comes right after `GameStarted`.
    let started = to_a
        .iter()
        .position(|m| {
            matches!(
                m,
                ServerMsg::Event {
                    event: RoomEvent::GameStarted,
                    ..
                }
            )
        })
        .unwrap();
    assert!(matches!(to_a[started + 1], ServerMsg::GameEvent { .. }));
    // A refused input emits nothing and is answered with the game's code, to its sender.
    rig.input(1, 2, 10, 4);
    let refused = rig.said(1);
    assert!(notes(Codec::Bincode, &refused).is_empty());
    assert!(refused.iter().any(|m| matches!(
        m,
        ServerMsg::Error {
            code: ErrorCode::IllegalInput,
            input_seq: Some(2),
            ..
        }
    )));
    assert!(rig.said(2).is_empty(), "the other player hears nothing");
}

#[test]
fn the_games_generator_is_seeded_per_room_and_reproducible() {
    let draw = |seed| {
        let mut rig = Rig::new(GameEntry::of::<Tally>(), seed);
        match notes(Codec::Bincode, &rig.said(1)).first() {
            Some((_, Note::Started { draw })) => *draw,
            other => panic!("{other:?}"),
        }
    };
    assert_eq!(draw(5), draw(5), "the same seed draws the same");
    assert_ne!(draw(5), draw(6), "another seed draws otherwise");
}

#[test]
fn an_absent_player_is_heard_of_by_the_game_and_given_up_at_the_grace_deadline() {
    let mut rig = Rig::new(GameEntry::of::<Tally>(), 0);
    rig.out.take();
    rig.room.disconnected(2, 5, &mut rig.out);
    // A repeated notice: the first deadline stands.
    rig.room.disconnected(2, 7, &mut rig.out);
    for now in 6..5 + GRACE {
        rig.tick(now);
    }
    assert!(rig.left().is_empty(), "held until the deadline");
    rig.tick(5 + GRACE);
    assert_eq!(rig.left(), [2], "the room gives the place up, and says so");
    let msgs = rig.said(1);
    assert_eq!(
        just_notes(Codec::Bincode, &msgs),
        [Note::Away { seat: 1 }, Note::Left { seat: 1 }]
    );
    assert!(msgs.iter().any(|m| matches!(
        m,
        ServerMsg::Event {
            event: RoomEvent::PlayerDisconnected {
                seat: 1,
                deadline_tick: 15,
                ..
            },
            ..
        }
    )));
    assert!(msgs.iter().any(|m| matches!(
        m,
        ServerMsg::Event {
            event: RoomEvent::PlayerLeft { seat: 1 },
            tick: 15,
            ..
        }
    )));
    assert!(rig.heard(2).is_empty(), "nothing for the absent player");
}

#[test]
fn the_lobby_hears_a_place_is_given_up_before_anyone_hears_player_left() {
    let mut rig = Rig::new(GameEntry::of::<Tally>(), 0);
    rig.out.take();
    rig.room.disconnected(2, 5, &mut rig.out);
    rig.out.take();
    rig.tick(5 + GRACE);
    let outs = rig.out.take();
    let left = outs
        .iter()
        .position(|o| matches!(o, Out::Notice(Notice::MemberLeft { session: 2, .. })))
        .expect("the lobby is told");
    let player_left = outs
        .iter()
        .position(|o| {
            msgs(std::slice::from_ref(o)).iter().any(|m| {
                matches!(
                    m,
                    ServerMsg::Event {
                        event: RoomEvent::PlayerLeft { seat: 1 },
                        ..
                    }
                )
            })
        })
        .expect("PlayerLeft");
    assert!(left < player_left, "{outs:?}");

    // Leaving: the session is out of the room before its `RoomLeft`.
    let mut rig = Rig::new(GameEntry::of::<Tally>(), 0);
    rig.out.take();
    rig.room.leave(1, 3, &mut rig.out);
    let outs = rig.out.take();
    let left = outs
        .iter()
        .position(|o| matches!(o, Out::Notice(Notice::MemberLeft { session: 1, .. })));
    let room_left = outs.iter().position(|o| {
        matches!(o, Out::Msg { to, msg } if to.session() == 1
            && matches!(**msg, ServerMsg::RoomLeft { room_id: 7 }))
    });
    assert!(left.is_some() && left < room_left, "{outs:?}");

    // Closing: the lobby learns who was still in the room before anyone hears `RoomLeft`.
    let mut rig = Rig::new(GameEntry::of::<Tally>(), 0);
    rig.out.take();
    let mut out = RoomOutput::default();
    rig.room.close(&mut out);
    let outs = out.take();
    match &outs[..] {
        [
            Out::Notice(Notice::RoomClosed { room: 7, members }),
            Out::Msg { to: to_a, msg: a },
            Out::Msg { to: to_b, msg: b },
        ] => {
            assert_eq!(members, &[1, 2]);
            assert_eq!((to_a.session(), to_b.session()), (1, 2));
            for msg in [a, b] {
                assert!(matches!(**msg, ServerMsg::RoomLeft { room_id: 7 }));
            }
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn a_player_back_within_the_grace_gets_what_it_missed_and_the_game_hears_of_it() {
    let mut rig = Rig::new(GameEntry::of::<Tally>(), 0);
    let before = rig.said(2);
    let last_seq = *seqs(&before).last().unwrap();
    rig.room.disconnected(2, 3, &mut rig.out);
    rig.input(1, 1, 5, 4);
    rig.room
        .rebind(member(2, Codec::MsgPack), last_seq, 6, &mut rig.out);
    let missed = rig.said(2);
    assert!(matches!(missed[0], ServerMsg::RoomJoined(_)));
    let replayed = seqs(&missed);
    assert_eq!(
        replayed[0],
        last_seq + 1,
        "from the first missed event, no gap"
    );
    assert_eq!(
        just_notes(Codec::MsgPack, &missed),
        [
            Note::Away { seat: 1 },
            Note::Added { seat: 0, value: 5 },
            Note::Back { seat: 1 }
        ]
    );
    // Its next state is a full one, whatever its old connection acknowledged.
    rig.tick(7);
    let back = states(&rig.heard(2));
    assert_eq!(back.len(), 1);
    assert_eq!(back[0].base_tick, None);
    rig.tick(20);
    assert!(rig.left().is_empty(), "no deadline after the return");
}

#[test]
fn a_resume_after_the_place_was_given_up_is_told_room_left() {
    let mut rig = Rig::new(GameEntry::of::<Tally>(), 0);
    rig.room.disconnected(2, 3, &mut rig.out);
    rig.tick(3 + GRACE);
    assert_eq!(rig.left(), [2]);
    rig.out.take();
    rig.room
        .rebind(member(2, Codec::MsgPack), 0, 4 + GRACE, &mut rig.out);
    assert!(matches!(
        rig.said(2)[..],
        [ServerMsg::RoomLeft { room_id: 7 }]
    ));
    assert_eq!(rig.left(), [2], "the lobby clears the membership");
}

#[test]
fn spectators_watch_but_cannot_play() {
    let mut rig = Rig::new(GameEntry::of::<Tally>(), 0);
    let joined = rig
        .room
        .join(member(3, Codec::Bincode), true, 2, &mut rig.out)
        .unwrap();
    assert_eq!(joined.seat, None);
    let history = rig.said(3);
    assert_eq!(
        seqs(&history)[0],
        1,
        "a spectator gets the room's log from its start"
    );
    assert!(
        !notes(Codec::Bincode, &history).is_empty(),
        "the game's events included"
    );
    rig.room
        .queue_input(3, 1, Codec::Bincode.encode(&1u8).unwrap());
    rig.tick(3);
    let heard = rig.heard(3);
    assert!(msgs(&heard).iter().any(|m| matches!(
        m,
        ServerMsg::Error {
            code: ErrorCode::NotAPlayer,
            input_seq: Some(1),
            ..
        }
    )));
    // It watches: the state, as a spectator sees it.
    let state = states(&heard);
    assert_eq!(state.len(), 1);
    let view: (u32, u32) = Codec::Bincode.decode(&state[0].body).unwrap();
    assert_eq!(view, (0, 0), "its input changed nothing");
    // A spectator's connection dropping holds no seat and changes no player count.
    rig.out.take();
    rig.room.disconnected(3, 4, &mut rig.out);
    assert!(
        rig.said(1).is_empty(),
        "no PlayerDisconnected for a spectator"
    );
    assert_eq!(rig.room.summary().players, 2);
}

#[test]
fn a_freed_seat_is_taken_in_progress_only_by_games_that_allow_it() {
    let mut rig = Rig::new(GameEntry::of::<Tally>(), 0);
    rig.room.leave(2, 3, &mut rig.out);
    let newcomer = member(4, Codec::Bincode);
    let joined = rig.room.join(newcomer, false, 4, &mut rig.out);
    assert_eq!(joined.unwrap().seat, Some(1), "the seat the room freed");
    let notes = just_notes(Codec::Bincode, &rig.said(1));
    assert_eq!(
        notes[notes.len() - 2..],
        [Note::Left { seat: 1 }, Note::Joined { seat: 1 }]
    );

    let mut relay = Rig::new(GameEntry::relay(&GameEntry::of::<Tally>()), 0);
    relay.room.leave(2, 3, &mut relay.out);
    let refused = relay
        .room
        .join(member(4, Codec::Bincode), false, 4, &mut relay.out);
    assert_eq!(refused.unwrap_err(), ErrorCode::GameAlreadyStarted);
}

#[test]
fn a_relay_room_frames_every_tick_and_a_resumed_player_gets_every_missed_frame() {
    let mut rig = Rig::new(GameEntry::relay(&GameEntry::of::<Tally>()), 0);
    rig.tick(2);
    let last_seq = *seqs(&rig.said(2)).last().unwrap();
    rig.room.disconnected(2, 2, &mut rig.out);
    // More frames than the room's ordinary log (8 events) holds: relay rooms keep a grace.
    for now in 3..3 + GRACE - 1 {
        rig.room
            .queue_input(1, now as u32, Bytes::from(vec![now as u8]));
        rig.tick(now);
    }
    rig.room.rebind(
        member(2, Codec::MsgPack),
        last_seq,
        3 + GRACE - 1,
        &mut rig.out,
    );
    let missed = rig.said(2);
    let seqs = seqs(&missed);
    assert_eq!(
        seqs,
        (last_seq + 1..=last_seq + seqs.len() as u64).collect::<Vec<_>>()
    );
    let frames: Vec<InputFrame> = missed
        .iter()
        .filter_map(|m| match m {
            ServerMsg::GameEvent { data, .. } => Some(Codec::MsgPack.decode(data).unwrap()),
            _ => None,
        })
        .collect();
    assert_eq!(frames.len() as u64, GRACE - 1, "one frame per missed tick");
    for (frame, now) in frames.iter().zip(3..) {
        assert_eq!(frame.frame, now);
        assert_eq!(frame.inputs.len(), 1);
        assert_eq!(frame.inputs[0].data.as_ref(), [now as u8], "relayed raw");
        assert_eq!((frame.inputs[0].seat, frame.inputs[0].seq), (0, now as u32));
    }
    // Relay rooms send no states.
    assert!(states(&rig.heard(1)).is_empty());
}

#[test]
fn delta_bases_are_acknowledged_ticks_only_and_survive_lost_acknowledgements() {
    let mut rig = Rig::new(GameEntry::with_deltas::<Tally>(), 0);
    // A third member in the first's codec, to see frames shared.
    rig.room
        .join(member(3, Codec::Bincode), true, 1, &mut rig.out)
        .unwrap();
    // A leftover acknowledgement from an earlier room (ticks are comparable across
    // shards) is no base: the first state is full.
    rig.room.acknowledge(1, 1);
    rig.input(1, 1, 1, 2);
    let first: Vec<StateFrame> = [1, 2, 3].map(|s| states(&rig.heard(s))[0].clone()).to_vec();
    assert!(first.iter().all(|s| s.tick == 2 && s.base_tick.is_none()));
    assert_eq!(first[0].input_seq, 1, "each member's own input seq");
    assert_eq!(first[1].input_seq, 0);
    assert_eq!(
        first[0].body.as_ptr(),
        first[2].body.as_ptr(),
        "one encoding per codec, shared"
    );

    // Tick 3: 1 and 3 acknowledged tick 2; 2's acknowledgement was lost.
    rig.room.acknowledge(1, 2);
    rig.room.acknowledge(3, 2);
    rig.input(1, 2, 1, 3);
    let third: Vec<StateFrame> = [1, 2, 3].map(|s| states(&rig.heard(s))[0].clone()).to_vec();
    assert_eq!(third[0].base_tick, Some(2));
    assert_eq!(third[1].base_tick, None, "nothing acknowledged: full again");
    assert_eq!(third[2].base_tick, Some(2));
    assert_eq!(
        third[0].body.as_ptr(),
        third[2].body.as_ptr(),
        "same base, shared"
    );
    let (base, view): (Tick, (u32, u32)) = Codec::Bincode.decode(&third[0].body).unwrap();
    assert_eq!(base, 2);
    assert!(view.0 >= 2, "{view:?}");

    // Tick 4: 1's acknowledgement of tick 3 is lost, so its base stays tick 2 (never the
    // tick it was sent, which it may not have); 2 now acknowledges tick 3.
    rig.room.acknowledge(2, 3);
    rig.input(1, 3, 1, 4);
    let fourth: Vec<StateFrame> = [1, 2, 3].map(|s| states(&rig.heard(s))[0].clone()).to_vec();
    assert_eq!(fourth[0].base_tick, Some(2), "still the acknowledged tick");
    assert_eq!(fourth[1].base_tick, Some(3));
    let (base, _): (Tick, (u32, u32)) = Codec::MsgPack.decode(&fourth[1].body).unwrap();
    assert_eq!(base, 3, "the delta answers that base");

    // A tick the room never sent (or no longer keeps) is no base either.
    rig.room.acknowledge(3, 99);
    rig.input(1, 4, 1, 5);
    assert_eq!(states(&rig.heard(3))[0].base_tick, None);

    // An idle tick sends nothing.
    rig.out.take();
    rig.tick(6);
    assert!(states(&rig.out.take()).is_empty());
}

#[test]
fn a_games_replay_records_its_seed_inputs_and_hook_calls_and_verifies() {
    let mut rig = Rig::new(GameEntry::of::<Tally>(), 99);
    for (seq, now) in (1..=5).zip(2..) {
        rig.input(1 + u64::from(seq % 2), seq, seq as u8, now);
    }
    rig.room.disconnected(2, 8, &mut rig.out);
    rig.input(1, 6, 9, 9);
    rig.room
        .rebind(member(2, Codec::MsgPack), 0, 10, &mut rig.out);
    rig.room.leave(2, 11, &mut rig.out);
    rig.room
        .join(member(3, Codec::Bincode), false, 12, &mut rig.out)
        .unwrap();
    rig.tick(13);
    rig.room.end_for_shutdown(14, &mut rig.out);
    let finished = rig.finished();
    let replay = finished[0].replay.as_ref().expect("recorded");
    let registry = GameRegistry::new([GameEntry::of::<Tally>()]);
    let verified = crate::replay::verify(replay, &registry).expect("the replay verifies");
    let seed = rig.room.config.seed;
    assert_eq!(verified.header.seed, seed);
    assert_eq!(verified.inputs, 6);
    // Another seed gives other random bits: the seed is what makes it verify.
    let log = crate::replay::decompress(replay).unwrap();
    let (mut header, mut reader) = crate::replay::LogReader::new(&log).unwrap();
    let mut records = Vec::new();
    while let Some(record) = reader.next_record().unwrap() {
        records.push(record);
    }
    let differs = (1..50u64).any(|other| {
        header.seed = seed ^ other;
        let changed = crate::replay::encode_records(&header, &records);
        crate::replay::verify_log(&changed, &registry).is_err()
    });
    assert!(differs, "the random bits depend on the seed");
}

/// A quick-match tic-tac-toe room of `players` (sessions 1, 2, ...; bincode) and perfect
/// server bots in the other seats.
fn bot_room(players: u64) -> NewRoom {
    use crate::engine::BotFill;
    use crate::game::tictactoe::TicTacToe;

    NewRoom {
        game: GameEntry::of::<TicTacToe>().with_bot::<TicTacToe>(),
        settings: RoomSettings::default(),
        code: "BOTS".into(),
        public: true,
        players: (1..=players).map(|s| member(s, Codec::Bincode)).collect(),
        bots: BotFill {
            count: 2 - players as u8,
            strategy: "perfect".into(),
        },
        start_now: true,
    }
}

/// The first engine seed whose room 7 draws seat 0 for its one bot.
fn seed_with_the_bot_in_seat_0() -> u64 {
    (0..)
        .find(|&seed| super::bots::bot_seats(super::room_seed(seed, 7), 2, 1) == [0])
        .unwrap()
}

/// A quick-match tic-tac-toe room: session 1 (bincode) in seat 1 and a perfect server bot
/// in seat 0 (`seed` must draw that), the human playing the first free cell whenever it is to move. Returns the
/// boards after each tick, the finished game's record, and what the human was told.
fn play_against_a_bot(seed: u64) -> (Vec<[u8; 9]>, FinishedGame, Vec<ServerMsg>) {
    use crate::game::tictactoe::{TicTacToeMove, TicTacToeView};

    let mut rig = Rig::with(bot_room(1), limits(seed, 64));
    let mut said = Vec::new();
    let mut boards = Vec::new();
    let mut seq = 0;
    let mut moved_on = None;
    for now in 2..100 {
        let done = rig.tick(now);
        said.extend(rig.said(1));
        let mut buf = BytesMut::new();
        let game = rig.room.game.as_ref().expect("running");
        game.encode_view(Viewer::Player(1), Codec::Bincode, &mut buf)
            .unwrap();
        let view: TicTacToeView = Codec::Bincode.decode(&buf).unwrap();
        boards.push(view.board);
        // A finished room whose player is connected closes at once.
        assert_eq!(done, view.over, "the room closes when the game is over");
        if view.over {
            break;
        }
        if view.to_move == Some(1) && moved_on != Some(view.board) {
            let cell = (0u8..9).find(|&c| view.board[usize::from(c)] == 0).unwrap();
            seq += 1;
            let data = Codec::Bincode.encode(&TicTacToeMove { cell }).unwrap();
            rig.room.queue_input(1, seq, data);
            moved_on = Some(view.board);
        }
    }
    let finished = rig.finished().pop().expect("finished");
    (boards, finished, said)
}

#[test]
fn a_bot_seat_plays_through_the_input_path_is_deterministic_and_is_recorded() {
    use crate::game::tictactoe::TicTacToe;

    let seed = seed_with_the_bot_in_seat_0();
    let (boards, finished, msgs) = play_against_a_bot(seed);
    // The human learns of the bot in `MatchFound`, after the bot's `PlayerJoined`.
    let joined = msgs
        .iter()
        .find_map(|m| match m {
            ServerMsg::MatchFound(joined) => Some(joined.clone()),
            _ => None,
        })
        .expect("MatchFound");
    assert_eq!((joined.seat, joined.bots.clone()), (Some(1), vec![0]));
    assert!(msgs.iter().any(|m| matches!(
        m,
        ServerMsg::Event {
            event: RoomEvent::PlayerJoined { seat: 0 },
            ..
        }
    )));
    // The bot (X, seat 0) moved first, on the tick after the start, and never lost.
    assert_eq!(
        boards[0].iter().filter(|&&c| c == 0).count(),
        9,
        "{boards:?}"
    );
    assert_eq!(
        boards[1].iter().filter(|&&c| c == 1).count(),
        1,
        "{boards:?}"
    );
    assert_ne!(finished.outcome.winner, Some(1));
    let roster: Vec<(Seat, SessionId, bool)> = finished
        .players
        .iter()
        .map(|p| (p.seat, p.session, p.bot))
        .collect();
    assert_eq!(roster, [(0, 0, true), (1, 1, false)]);
    // Its inputs were recorded like the human's: the replay re-runs to the same outcome.
    let registry = GameRegistry::new([GameEntry::of::<TicTacToe>()]);
    let replay = finished.replay.as_ref().expect("recorded");
    let verified = crate::replay::verify(replay, &registry).expect("verifies");
    assert_eq!(verified.outcome, finished.outcome);
    let marks = boards.last().unwrap().iter().filter(|&&c| c != 0).count();
    assert_eq!(verified.inputs, u64::try_from(marks).unwrap());
    // Same seed, same game.
    assert_eq!(play_against_a_bot(seed).0, boards);
}

#[test]
fn a_game_without_an_end_of_its_own_is_reported_once_when_every_player_has_left() {
    let mut rig = Rig::new(GameEntry::of::<Tally>(), 0);
    rig.room.disconnected(1, 5, &mut rig.out);
    rig.room.disconnected(2, 5, &mut rig.out);
    for now in 6..5 + GRACE {
        assert!(!rig.tick(now), "seats held for the grace");
    }
    assert!(rig.finished().is_empty());
    assert!(rig.left().is_empty());
    assert!(rig.tick(5 + GRACE), "nobody seated: the room closes");
    assert_eq!(rig.left(), [1, 2], "both places given up at the deadline");
    let finished = rig.finished();
    assert_eq!(finished.len(), 1, "reported once");
    assert_eq!(
        finished[0].outcome,
        Outcome {
            winner: None,
            reason: crate::protocol::EndReason::Abandoned
        }
    );
    assert_eq!(finished[0].players.len(), 2, "the roster keeps who played");
    // Closing: nobody is left to tell.
    let room = rig.room;
    let mut out = RoomOutput::default();
    room.close(&mut out);
    match &out.take()[..] {
        [Out::Notice(Notice::RoomClosed { room: 7, members })] => assert!(members.is_empty()),
        other => panic!("{other:?}"),
    }
}

#[test]
fn the_room_alone_seats_bots_by_its_seed_and_players_in_order_and_tells_the_lobby_first() {
    let mut bot_seat_seen = [false; 2];
    for seed in 0..32 {
        let mut rig = Rig::with(bot_room(1), limits(seed, 64));
        let drawn = super::bots::bot_seats(rig.room.config.seed, 2, 1);
        assert_eq!(
            rig.room.bots.iter().map(|b| b.seat).collect::<Vec<_>>(),
            drawn
        );
        let human = 1 - drawn[0];
        bot_seat_seen[usize::from(drawn[0])] = true;
        let outs = rig.out.take();
        let seated = outs
            .iter()
            .position(|o| {
                matches!(o, Out::Notice(Notice::Seated { room: 7, session: 1, seat }) if *seat == human)
            })
            .expect("the lobby hears the seat");
        let found = outs
            .iter()
            .position(
                |o| matches!(o, Out::Msg { msg, .. } if matches!(**msg, ServerMsg::MatchFound(_))),
            )
            .expect("MatchFound");
        assert!(seated < found, "the lobby before the player");
        match &outs[found] {
            Out::Msg { msg, .. } => match &**msg {
                ServerMsg::MatchFound(joined) => {
                    assert_eq!((joined.seat, joined.bots.clone()), (Some(human), drawn));
                }
                other => panic!("{other:?}"),
            },
            other => panic!("{other:?}"),
        }
    }
    assert_eq!(bot_seat_seen, [true, true], "either seat, by the seed");

    // Players in order in the seats left; one too many is turned away, and the lobby told.
    let mut new = bot_room(2);
    new.players.push(member(3, Codec::Bincode));
    let mut rig = Rig::with(new, limits(0, 64));
    let notices = rig.out.take_notices();
    let seats: Vec<(SessionId, Seat)> = notices
        .iter()
        .filter_map(|n| match n {
            Notice::Seated { session, seat, .. } => Some((*session, *seat)),
            _ => None,
        })
        .collect();
    assert_eq!(seats, [(1, 0), (2, 1)]);
    assert!(
        notices
            .iter()
            .any(|n| matches!(n, Notice::MemberLeft { session: 3, .. }))
    );
    assert!(matches!(
        rig.said(3)[..],
        [ServerMsg::RoomLeft { room_id: 7 }]
    ));
}
