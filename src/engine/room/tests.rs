//! Deterministic tests of [`Room`] without sockets: members are bare outboxes, time is the
//! tick number passed in, and what the room said is read back from the outboxes.

use std::sync::{Arc, Mutex};

use bytes::{Bytes, BytesMut};
use serde::{Deserialize, Serialize};

use super::{Room, RoomLimits};
use crate::codec::Codec;
use crate::engine::registry::GameEntry;
use crate::engine::{FinishedGame, GameRegistry, Member, NewRoom, RoomObserver};
use crate::game::relay::InputFrame;
use crate::game::{Ctx, Game, GameConfig, Outcome, Rejection, Viewer};
use crate::outbox::{Batch, Outbox};
use crate::protocol::{
    ErrorCode, RoomEvent, RoomId, RoomSettings, RoomSummary, Seat, ServerMsg, SessionId, Tick,
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

#[derive(Default)]
struct Observed {
    left: Mutex<Vec<SessionId>>,
    finished: Mutex<Vec<FinishedGame>>,
}

impl RoomObserver for Observed {
    fn room_changed(&self, _summary: &RoomSummary) {}
    fn member_left(&self, _room: RoomId, session: SessionId) {
        self.left.lock().unwrap().push(session);
    }
    fn room_closed(&self, _room: RoomId, _members: &[SessionId]) {}
    fn game_finished(&self, game: FinishedGame) {
        self.finished.lock().unwrap().push(game);
    }
}

const GRACE: Tick = 10;

fn member(session: u64, codec: Codec) -> Member {
    Member {
        session: SessionId::new(session),
        outbox: Outbox::new(codec, 4096),
    }
}

/// A private room of `entry` with sessions 1 (bincode) and 2 (MessagePack) seated, started
/// at tick 1. Returns the room and the two members' outboxes.
fn new_room(entry: GameEntry, seed: u64) -> (Room, Arc<Observed>, [Arc<Outbox>; 2]) {
    let a = member(1, Codec::Bincode);
    let b = member(2, Codec::MsgPack);
    let outboxes = [a.outbox.clone(), b.outbox.clone()];
    let new = NewRoom {
        game: entry,
        settings: RoomSettings {
            allow_spectators: true,
            ..RoomSettings::default()
        },
        code: "ROOM".into(),
        public: false,
        players: vec![a, b],
        bots: Default::default(),
        start_now: false,
    };
    let limits = RoomLimits {
        grace_ticks: GRACE,
        tick_hz: 10,
        event_log_capacity: 8,
        recorder: Recorder::new(ReplayConfig::default(), Default::default()),
        seed,
    };
    let observer = Arc::new(Observed::default());
    (
        Room::new(RoomId::new(7), new, 1, limits, observer.clone()),
        observer,
        outboxes,
    )
}

/// Every message the room put in `outbox` since the last call, decoded (states left out).
fn said(outbox: &Outbox) -> Vec<ServerMsg> {
    let mut batch = Batch::default();
    outbox.take(&mut batch);
    batch
        .events
        .iter()
        .map(|frame| {
            outbox
                .codec()
                .decode(frame)
                .expect("the room's frames decode")
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

/// The seqs of every `Event` and `GameEvent` in `msgs`, in order.
fn seqs(msgs: &[ServerMsg]) -> Vec<u64> {
    msgs.iter()
        .filter_map(|msg| match msg {
            ServerMsg::Event { seq, .. } | ServerMsg::GameEvent { seq, .. } => Some(*seq),
            _ => None,
        })
        .collect()
}

fn input(room: &mut Room, session: u64, seq: u32, value: u8, now: Tick) {
    let data = Codec::Bincode.encode(&value).unwrap();
    // Session 2 speaks MessagePack: its input must be in its own codec.
    let data = if session == 2 {
        Codec::MsgPack.encode(&value).unwrap()
    } else {
        data
    };
    room.queue_input(SessionId::new(session), seq, data);
    room.tick(now, &mut BytesMut::new());
}

#[test]
fn a_games_events_reach_every_member_in_order_in_its_codec_numbered_with_the_rooms() {
    let (mut room, _, [a, b]) = new_room(GameEntry::of::<Tally>(), 42);
    input(&mut room, 1, 1, 3, 2);
    input(&mut room, 2, 1, 4, 3);
    let (to_a, to_b) = (said(&a), said(&b));
    for (codec, msgs) in [(Codec::Bincode, &to_a), (Codec::MsgPack, &to_b)] {
        let seqs = seqs(msgs);
        assert_eq!(
            seqs,
            (1..=seqs.len() as u64).collect::<Vec<_>>(),
            "one gap-free sequence"
        );
        let notes: Vec<Note> = notes(codec, msgs).into_iter().map(|(_, n)| n).collect();
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
    // A refused input emits nothing and is answered with the game's code.
    input(&mut room, 1, 2, 10, 4);
    let refused = said(&a);
    assert!(notes(Codec::Bincode, &refused).is_empty());
    assert!(refused.iter().any(|m| matches!(
        m,
        ServerMsg::Error {
            code: ErrorCode::IllegalInput,
            input_seq: Some(2),
            ..
        }
    )));
}

#[test]
fn the_games_generator_is_seeded_per_room_and_reproducible() {
    let draw = |seed| {
        let (_, _, [a, _]) = new_room(GameEntry::of::<Tally>(), seed);
        match notes(Codec::Bincode, &said(&a)).first() {
            Some((_, Note::Started { draw })) => *draw,
            other => panic!("{other:?}"),
        }
    };
    assert_eq!(draw(5), draw(5), "the same seed draws the same");
    assert_ne!(draw(5), draw(6), "another seed draws otherwise");
}

#[test]
fn an_absent_player_is_heard_of_by_the_game_and_given_up_at_the_grace_deadline() {
    let (mut room, observer, [a, _]) = new_room(GameEntry::of::<Tally>(), 0);
    said(&a);
    room.disconnected(SessionId::new(2), 5);
    room.disconnected(SessionId::new(2), 7); // a repeated notice: the first deadline stands
    for now in 6..5 + GRACE {
        room.tick(now, &mut BytesMut::new());
    }
    assert!(
        observer.left.lock().unwrap().is_empty(),
        "held until the deadline"
    );
    room.tick(5 + GRACE, &mut BytesMut::new());
    assert_eq!(*observer.left.lock().unwrap(), [SessionId::new(2)]);
    let msgs = said(&a);
    let notes: Vec<Note> = notes(Codec::Bincode, &msgs)
        .into_iter()
        .map(|(_, n)| n)
        .collect();
    assert_eq!(notes, [Note::Away { seat: 1 }, Note::Left { seat: 1 }]);
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
}

#[test]
fn a_player_back_within_the_grace_gets_what_it_missed_and_the_game_hears_of_it() {
    let (mut room, observer, [_, b]) = new_room(GameEntry::of::<Tally>(), 0);
    let before = said(&b);
    let last_seq = *seqs(&before).last().unwrap();
    room.disconnected(SessionId::new(2), 3);
    input(&mut room, 1, 1, 5, 4);
    let back = member(2, Codec::MsgPack);
    room.rebind(back.clone(), last_seq, 6);
    let missed = said(&back.outbox);
    assert!(matches!(missed[0], ServerMsg::RoomJoined(_)));
    let replayed = seqs(&missed);
    assert_eq!(
        replayed[0],
        last_seq + 1,
        "from the first missed event, no gap"
    );
    let notes: Vec<Note> = notes(Codec::MsgPack, &missed)
        .into_iter()
        .map(|(_, n)| n)
        .collect();
    assert_eq!(
        notes,
        [
            Note::Away { seat: 1 },
            Note::Added { seat: 0, value: 5 },
            Note::Back { seat: 1 }
        ]
    );
    room.tick(20, &mut BytesMut::new());
    assert!(
        observer.left.lock().unwrap().is_empty(),
        "no deadline after the return"
    );
}

#[test]
fn spectators_watch_but_cannot_play() {
    let (mut room, _, _) = new_room(GameEntry::of::<Tally>(), 0);
    let watcher = member(3, Codec::Bincode);
    let joined = room.join(watcher.clone(), true, 2).unwrap();
    assert_eq!(joined.seat, None);
    let history = said(&watcher.outbox);
    assert_eq!(
        seqs(&history)[0],
        1,
        "a spectator gets the room's log from its start"
    );
    assert!(
        !notes(Codec::Bincode, &history).is_empty(),
        "the game's events included"
    );
    room.queue_input(SessionId::new(3), 1, Codec::Bincode.encode(&1u8).unwrap());
    room.tick(3, &mut BytesMut::new());
    assert!(said(&watcher.outbox).iter().any(|m| matches!(
        m,
        ServerMsg::Error {
            code: ErrorCode::NotAPlayer,
            input_seq: Some(1),
            ..
        }
    )));
}

#[test]
fn a_freed_seat_is_taken_in_progress_only_by_games_that_allow_it() {
    let (mut room, _, [a, _]) = new_room(GameEntry::of::<Tally>(), 0);
    room.leave(SessionId::new(2), 3);
    let newcomer = member(4, Codec::Bincode);
    assert_eq!(room.join(newcomer, false, 4).unwrap().seat, Some(1));
    let notes: Vec<Note> = notes(Codec::Bincode, &said(&a))
        .into_iter()
        .map(|(_, n)| n)
        .collect();
    assert_eq!(
        notes[notes.len() - 2..],
        [Note::Left { seat: 1 }, Note::Joined { seat: 1 }]
    );

    let (mut relay, _, _) = new_room(GameEntry::relay(&GameEntry::of::<Tally>()), 0);
    relay.leave(SessionId::new(2), 3);
    let refused = relay.join(member(4, Codec::Bincode), false, 4);
    assert_eq!(refused.unwrap_err(), ErrorCode::GameAlreadyStarted);
}

#[test]
fn a_relay_room_frames_every_tick_and_a_resumed_player_gets_every_missed_frame() {
    let (mut relay_room, _, [a, b]) = new_room(GameEntry::relay(&GameEntry::of::<Tally>()), 0);
    relay_room.tick(2, &mut BytesMut::new());
    let last_seq = *seqs(&said(&b)).last().unwrap();
    relay_room.disconnected(SessionId::new(2), 2);
    // More frames than the room's ordinary log (8 events) holds: relay rooms keep a grace.
    for now in 3..3 + GRACE - 1 {
        relay_room.queue_input(SessionId::new(1), now as u32, Bytes::from(vec![now as u8]));
        relay_room.tick(now, &mut BytesMut::new());
    }
    let back = member(2, Codec::MsgPack);
    relay_room.rebind(back.clone(), last_seq, 3 + GRACE - 1);
    let missed = said(&back.outbox);
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
    let mut batch = Batch::default();
    a.take(&mut batch);
    assert!(batch.state.is_none());
}

#[test]
fn a_games_replay_records_its_seed_inputs_and_hook_calls_and_verifies() {
    let (mut room, observer, _) = new_room(GameEntry::of::<Tally>(), 99);
    for (seq, now) in (1..=5).zip(2..) {
        input(&mut room, 1 + u64::from(seq % 2), seq, seq as u8, now);
    }
    room.disconnected(SessionId::new(2), 8);
    input(&mut room, 1, 6, 9, 9);
    room.rebind(member(2, Codec::MsgPack), 0, 10);
    room.leave(SessionId::new(2), 11);
    room.join(member(3, Codec::Bincode), false, 12).unwrap();
    room.tick(13, &mut BytesMut::new());
    room.end_for_shutdown(14);
    let finished = observer.finished.lock().unwrap();
    let replay = finished[0].replay.as_ref().expect("recorded");
    let registry = GameRegistry::new([GameEntry::of::<Tally>()]);
    let verified = crate::replay::verify(replay, &registry).expect("the replay verifies");
    assert_eq!(verified.header.seed, room.config.seed);
    assert_eq!(verified.inputs, 6);
    // Another seed gives other random bits: the seed is what makes it verify.
    let log = crate::replay::decompress(replay).unwrap();
    let (mut header, mut reader) = crate::replay::LogReader::new(&log).unwrap();
    let mut records = Vec::new();
    while let Some(record) = reader.next_record().unwrap() {
        records.push(record);
    }
    let differs = (1..50u64).any(|other| {
        header.seed = room.config.seed ^ other;
        let changed = crate::replay::encode_records(&header, &records);
        crate::replay::verify_log(&changed, &registry).is_err()
    });
    assert!(differs, "the random bits depend on the seed");
}

/// A quick-match tic-tac-toe room: session 1 (bincode) in seat 1 and a perfect server bot
/// in seat 0, the human playing the first free cell whenever it is to move. Returns the
/// boards after each tick, the finished game's record, and what the human was told.
fn play_against_a_bot(seed: u64) -> (Vec<[u8; 9]>, FinishedGame, Vec<ServerMsg>) {
    use crate::engine::BotFill;
    use crate::game::tictactoe::{TicTacToe, TicTacToeMove, TicTacToeView};

    let human = member(1, Codec::Bincode);
    let outbox = human.outbox.clone();
    let new = NewRoom {
        game: GameEntry::of::<TicTacToe>().with_bot::<TicTacToe>(),
        settings: RoomSettings::default(),
        code: "BOTS".into(),
        public: true,
        players: vec![human],
        bots: BotFill {
            seats: vec![0],
            strategy: "perfect".into(),
        },
        start_now: true,
    };
    let limits = RoomLimits {
        grace_ticks: GRACE,
        tick_hz: 10,
        event_log_capacity: 64,
        recorder: Recorder::new(ReplayConfig::default(), Default::default()),
        seed,
    };
    let observer = Arc::new(Observed::default());
    let mut room = Room::new(RoomId::new(7), new, 1, limits, observer.clone());
    let mut scratch = BytesMut::new();
    let mut boards = Vec::new();
    let mut seq = 0;
    let mut moved_on = None;
    for now in 2..100 {
        let done = room.tick(now, &mut scratch);
        let mut buf = BytesMut::new();
        let game = room.game.as_ref().expect("running");
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
            room.queue_input(SessionId::new(1), seq, data);
            moved_on = Some(view.board);
        }
    }
    let finished = observer.finished.lock().unwrap().pop().expect("finished");
    (boards, finished, said(&outbox))
}

#[test]
fn a_bot_seat_plays_through_the_input_path_is_deterministic_and_is_recorded() {
    use crate::game::tictactoe::TicTacToe;

    let (boards, finished, msgs) = play_against_a_bot(5);
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
    assert_eq!(
        roster,
        [(0, SessionId::new(0), true), (1, SessionId::new(1), false)]
    );
    // Its inputs were recorded like the human's: the replay re-runs to the same outcome.
    let registry = GameRegistry::new([GameEntry::of::<TicTacToe>()]);
    let replay = finished.replay.as_ref().expect("recorded");
    let verified = crate::replay::verify(replay, &registry).expect("verifies");
    assert_eq!(verified.outcome, finished.outcome);
    let marks = boards.last().unwrap().iter().filter(|&&c| c != 0).count();
    assert_eq!(verified.inputs, u64::try_from(marks).unwrap());
    // Same seed, same game.
    assert_eq!(play_against_a_bot(5).0, boards);
}

#[test]
fn a_game_without_an_end_of_its_own_is_reported_once_when_every_player_has_left() {
    let (mut room, observer, _) = new_room(GameEntry::of::<Tally>(), 0);
    room.disconnected(SessionId::new(1), 5);
    room.disconnected(SessionId::new(2), 5);
    for now in 6..5 + GRACE {
        assert!(
            !room.tick(now, &mut BytesMut::new()),
            "seats held for the grace"
        );
    }
    assert!(observer.finished.lock().unwrap().is_empty());
    assert!(
        room.tick(5 + GRACE, &mut BytesMut::new()),
        "nobody seated: the room closes"
    );
    let finished = observer.finished.lock().unwrap();
    assert_eq!(finished.len(), 1, "reported once");
    assert_eq!(
        finished[0].outcome,
        Outcome {
            winner: None,
            reason: crate::protocol::EndReason::Abandoned
        }
    );
    assert_eq!(finished[0].players.len(), 2, "the roster keeps who played");
}
