//! Replays of random games verify; the same inputs give the same states; tampered logs
//! fail at the right tick.

use std::sync::Arc;

use bytes::BytesMut;
use proptest::prelude::*;

use super::*;
use crate::codec::Codec;
use crate::engine::{DynGame, GameEntry};
use crate::game::arena::ArenaInput;
use crate::game::battleship::BattleshipShot;
use crate::game::tictactoe::TicTacToeMove;
use crate::game::{GameConfig, Outcome, Viewer};
use crate::protocol::{EndReason, RoomSettings, Tick};
use crate::server::builtin_games;

const START: Tick = 1000;

/// One thing a room may do to a game.
#[derive(Debug, Clone)]
enum Step {
    /// An input for the next tick: the seat, the codec, and either a move (a cell, or a
    /// direction) or garbage bytes.
    Input(u8, Codec, Result<(i8, i8), Vec<u8>>),
    /// Ticks `gap` ticks ahead (more than one: the shard skipped slots).
    Tick(u64),
    /// A player leaves.
    Abandon(u8),
}

fn codec() -> impl Strategy<Value = Codec> {
    prop_oneof![Just(Codec::Bincode), Just(Codec::MsgPack)]
}

fn steps(seats: u8, moves: std::ops::RangeInclusive<i8>) -> impl Strategy<Value = Vec<Step>> {
    let step = prop_oneof![
        6 => (0..seats + 1, codec(), moves.clone(), moves).prop_map(|(s, c, a, b)| Step::Input(s, c, Ok((a, b)))),
        1 => (0..seats, codec(), prop::collection::vec(any::<u8>(), 0..4))
            .prop_map(|(s, c, junk)| Step::Input(s, c, Err(junk))),
        8 => prop_oneof![4 => Just(1u64), 1 => 2..5u64].prop_map(Step::Tick),
        1 => (0..seats).prop_map(Step::Abandon),
    ];
    prop::collection::vec(step, 0..200)
}

fn entry(game: &str) -> GameEntry {
    builtin_games().get(game).expect("a built-in game")
}

fn config(players: u8) -> GameConfig {
    GameConfig {
        tick_hz: 30,
        settings: RoomSettings::default(),
        players,
        seed: 0,
    }
}

fn input_bytes(game: &str, codec: Codec, input: &Result<(i8, i8), Vec<u8>>) -> bytes::Bytes {
    match input {
        Ok((a, _)) if game == "tictactoe" => {
            codec.encode(&TicTacToeMove { cell: *a as u8 }).unwrap()
        }
        Ok((a, b)) if game == "battleship" => codec
            .encode(&BattleshipShot {
                cell: (*a as u8) * 8 + *b as u8,
            })
            .unwrap(),
        Ok((dx, dy)) => codec.encode(&ArenaInput { dx: *dx, dy: *dy }).unwrap(),
        Err(junk) => bytes::Bytes::copy_from_slice(junk),
    }
}

/// Plays `steps` on `game` as a room would; returns the state hash after every step and
/// the tick reached.
fn play(game: &mut dyn DynGame, name: &str, seats: u8, steps: &[Step]) -> (Vec<u64>, Tick) {
    let mut now = START;
    let mut scratch = BytesMut::new();
    let mut hashes = Vec::new();
    for step in steps {
        match step {
            Step::Input(seat, codec, input) => {
                let data = input_bytes(name, *codec, input);
                let _ = game.apply_input(now + 1, *seat, 0, *codec, &data);
            }
            Step::Tick(gap) => {
                now += gap;
                game.tick(now);
            }
            Step::Abandon(seat) => {
                game.abandon(now, *seat);
            }
        }
        let hash = state_hash(game, seats, &mut scratch);
        assert_eq!(
            hash,
            streamed_hash(game, seats),
            "the one-call hash changed"
        );
        hashes.push(hash);
    }
    (hashes, now)
}

/// [`state_hash`] as the replay format first defined it, fed to xxh3's streaming hasher
/// piece by piece: the one-call form must give the same hash, or logs recorded before it
/// would no longer verify.
fn streamed_hash(game: &dyn DynGame, seats: u8) -> u64 {
    let mut hasher = xxhash_rust::xxh3::Xxh3::new();
    let mut view = BytesMut::new();
    let mut viewers = vec![Viewer::Spectator];
    if !game.shared_view() {
        viewers.extend((0..seats).map(Viewer::Player));
    }
    for viewer in viewers {
        view.clear();
        match game.encode_view(viewer, Codec::Bincode, &mut view) {
            Ok(()) => {
                hasher.update(&(view.len() as u64).to_le_bytes());
                hasher.update(&view);
            }
            Err(_) => hasher.update(&u64::MAX.to_le_bytes()),
        }
    }
    hasher.update(&match game.outcome() {
        None => [0, 0, 0],
        Some(o) => [
            1,
            o.winner.unwrap_or(u8::MAX),
            super::format::reason_code(o.reason),
        ],
    });
    hasher.digest()
}

fn recorded(name: &str, players: u8, hash_every: u32) -> Recording {
    recorded_with(name, &config(players), hash_every)
}

fn recorded_with(name: &str, config: &GameConfig, hash_every: u32) -> Recording {
    let entry = entry(name);
    let replay = ReplayConfig {
        hash_every,
        ..ReplayConfig::default()
    };
    Recording::new(
        (entry.create)(config, START),
        &entry,
        config,
        START,
        replay,
        Arc::new(ReplayCounters::default()),
    )
}

/// What a room reports at the end: the game's outcome, or `Closed` for a running one.
fn end(game: &dyn DynGame) -> Outcome {
    game.outcome().unwrap_or(Outcome {
        winner: None,
        reason: EndReason::Closed,
    })
}

fn determinism_and_replay(name: &str, players: u8, steps: &[Step]) {
    determinism_and_replay_with(name, &config(players), steps);
}

/// As [`determinism_and_replay`], for a game made with `config` (its options and seed).
fn determinism_and_replay_with(name: &str, config: &GameConfig, steps: &[Step]) {
    let entry = entry(name);
    let seats = entry.seats;
    let mut first = (entry.create)(config, START);
    let mut second = (entry.create)(config, START);
    let (a, _) = play(&mut *first, name, seats, steps);
    let (b, _) = play(&mut *second, name, seats, steps);
    assert_eq!(a, b, "the same inputs gave different states");

    let mut recording = recorded_with(name, config, 7);
    let (c, now) = play(&mut recording, name, seats, steps);
    assert_eq!(a, c, "recording changed the game");
    let outcome = end(&recording);
    let replay = recording.take_replay(now + 1, outcome).expect("a replay");
    assert_eq!(
        recording.take_replay(now + 1, outcome),
        None,
        "handed over once"
    );
    let verified = verify(&replay, &builtin_games()).expect("the replay verifies");
    assert_eq!(verified.outcome, outcome);
    assert_eq!(verified.ended, now + 1);
    let ticks: u64 = steps.iter().filter(|s| matches!(s, Step::Tick(_))).count() as u64;
    assert_eq!(verified.ticks, ticks);
    // A check at the first tick at or past every 7 ticks from the last, and one at the end.
    let (mut tick, mut next, mut checks) = (START, START + 7, 1);
    for step in steps {
        if let Step::Tick(gap) = step {
            tick += gap;
            if tick >= next {
                checks += 1;
                next = tick + 7;
            }
        }
    }
    assert_eq!(verified.checks, checks);
}

proptest! {
    #[test]
    fn tictactoe_is_deterministic_and_its_replays_verify(steps in steps(2, 0..=9)) {
        determinism_and_replay("tictactoe", 2, &steps);
    }

    #[test]
    fn battleship_is_deterministic_and_its_replays_verify(steps in steps(2, 0..=8)) {
        determinism_and_replay("battleship", 2, &steps);
    }

    /// One-second turns at 30 Hz on a small board with the quick fleet, and any seed: the
    /// turn timer fires random shots (the room's generator, drawn in `tick`) and games end,
    /// and replays (which re-decode the recorded options) still verify.
    #[test]
    fn battleship_auto_fire_replays_verify(seed in any::<u64>(), steps in steps(2, 0..=5)) {
        use crate::game::battleship::{BattleshipOptions, Fleet};
        let options = BattleshipOptions {
            size: Some(6),
            fleet: Some(Fleet::Quick),
            turn_seconds: Some(1),
        };
        let config = GameConfig {
            settings: RoomSettings {
                options: Codec::Bincode.encode(&options).unwrap(),
                ..RoomSettings::default()
            },
            seed,
            ..config(2)
        };
        determinism_and_replay_with("battleship", &config, &steps);
    }

    #[test]
    fn the_arena_is_deterministic_and_its_replays_verify(
        players in 1..=8u8,
        steps in steps(8, -2..=2),
    ) {
        determinism_and_replay("arena", players, &steps);
    }

    #[test]
    fn damaged_logs_are_errors_not_panics(bytes in prop::collection::vec(any::<u8>(), 0..200)) {
        let registry = builtin_games();
        let _ = verify(&bytes, &registry);
        let mut log = MAGIC.to_vec();
        log.push(VERSION);
        log.extend_from_slice(&bytes);
        let _ = verify_log(&log, &registry);
    }
}

/// An arena game of two players with hashes every 10 ticks: player 0 turns right at tick
/// START + 15, player 1 goes down at START + 31, the operator closes it at START + 45.
fn arena_log() -> Vec<u8> {
    let mut game = recorded("arena", 2, 10);
    let turn = |codec: Codec, dx, dy| codec.encode(&ArenaInput { dx, dy }).unwrap();
    for now in START + 1..=START + 45 {
        if now == START + 15 {
            game.apply_input(now, 0, 0, Codec::Bincode, &turn(Codec::Bincode, 1, 0))
                .unwrap();
        }
        if now == START + 31 {
            game.apply_input(now, 1, 0, Codec::MsgPack, &turn(Codec::MsgPack, 0, 1))
                .unwrap();
        }
        game.tick(now);
    }
    let closed = Outcome {
        winner: None,
        reason: EndReason::Closed,
    };
    let replay = game.take_replay(START + 45, closed).unwrap();
    decompress(&replay).unwrap()
}

/// The log's records with every run of ticks spelled out one tick at a time.
fn records(log: &[u8]) -> (ReplayHeader, Vec<Record<'_>>) {
    let (header, mut reader) = LogReader::new(log).unwrap();
    let mut records = Vec::new();
    let mut now = header.start;
    while let Some(record) = reader.next_record().unwrap() {
        match record {
            Record::Ticks(n) => {
                for _ in 0..n {
                    now += 1;
                    records.push(Record::TickAt(now));
                }
            }
            Record::TickAt(at) => {
                now = at;
                records.push(record);
            }
            other => records.push(other),
        }
    }
    (header, records)
}

fn diverged_at(log: &[u8]) -> (Tick, Tick) {
    match verify_log(log, &builtin_games()) {
        Err(ReplayError::Diverged {
            tick, last_good, ..
        }) => (tick - START, last_good - START),
        other => panic!("expected a divergence, got {other:?}"),
    }
}

#[test]
fn an_untouched_log_verifies_and_spelled_out_ticks_are_the_same_game() {
    let log = arena_log();
    let verified = verify_log(&log, &builtin_games()).unwrap();
    assert_eq!(
        (verified.ticks, verified.inputs, verified.checks),
        (45, 2, 5)
    );
    let (header, records) = records(&log);
    verify_log(&encode_records(&header, &records), &builtin_games()).unwrap();
}

#[test]
fn inputs_that_change_nothing_are_not_logged() {
    // Player 0 holds "right" for 20 inputs (a key held down, sent 20 times a second):
    // only the first changed its direction, so only it is logged, and the replay verifies.
    let mut game = recorded("arena", 2, 10);
    let right = Codec::Bincode.encode(&ArenaInput { dx: 1, dy: 0 }).unwrap();
    for now in START + 1..=START + 40 {
        if now % 2 == 0 {
            assert_eq!(
                game.apply_input(now, 0, (now / 2) as u32, Codec::Bincode, &right)
                    .unwrap(),
                now == START + 2
            );
        }
        game.tick(now);
    }
    let closed = Outcome {
        winner: None,
        reason: EndReason::Closed,
    };
    let log = decompress(&game.take_replay(START + 40, closed).unwrap()).unwrap();
    let verified = verify_log(&log, &builtin_games()).unwrap();
    assert_eq!((verified.ticks, verified.inputs), (40, 1));
}

#[test]
fn a_changed_input_byte_fails_at_the_first_check_after_it() {
    let log = arena_log();
    let (header, mut records) = records(&log);
    let left = Codec::Bincode
        .encode(&ArenaInput { dx: -1, dy: 0 })
        .unwrap();
    for record in &mut records {
        if let Record::Input { now, data, .. } = record
            && *now == START + 15
        {
            assert_ne!(*data, &left[..]);
            *data = &left;
        }
    }
    // The input changed tick 15's state: the check at 20 fails, the one at 10 held.
    assert_eq!(diverged_at(&encode_records(&header, &records)), (20, 10));

    // The same in the log's own bytes: player 1's MessagePack input at tick 31.
    let mut bytes = log.clone();
    let down = Codec::MsgPack.encode(&ArenaInput { dx: 0, dy: 1 }).unwrap();
    let at = bytes
        .windows(down.len())
        .position(|w| w == &down[..])
        .expect("the input's bytes are in the log");
    // `dy: 1` becomes `dy: -1` (a MessagePack negative fixint).
    let last = at + down.len() - 1;
    assert_eq!(bytes[last], 0x01);
    bytes[last] = 0xff;
    assert_eq!(diverged_at(&bytes), (40, 30));
}

#[test]
fn a_dropped_tick_fails_at_the_first_check_after_it() {
    let log = arena_log();
    let (header, records) = records(&log);
    // Dropping the tick before player 0's turn (it stood still until then): the tick at 15
    // moves it by the two ticks elapsed in its new direction, one step too many.
    let dropped: Vec<_> = records
        .iter()
        .copied()
        .filter(|r| *r != Record::TickAt(START + 14))
        .collect();
    assert_eq!(diverged_at(&encode_records(&header, &dropped)), (20, 10));

    // A run of ticks one short: every later tick is one early, so the check at tick 40
    // finds the replay at tick 39.
    let mut short = records.clone();
    short.retain(|r| *r != Record::TickAt(START + 33));
    for record in &mut short {
        if let Record::TickAt(now) = record
            && *now > START + 33
        {
            *now -= 1;
        }
    }
    assert_eq!(diverged_at(&encode_records(&header, &short)), (40, 30));
}

#[test]
fn a_cut_log_has_no_end() {
    let log = arena_log();
    let (header, records) = records(&log);
    let cut = encode_records(&header, &records[..records.len() - 1]);
    assert!(matches!(
        verify_log(&cut, &builtin_games()),
        Err(ReplayError::NoEnd)
    ));
}

#[test]
fn recording_off_gives_no_replay_and_an_overflowing_log_is_counted() {
    let entry = entry("tictactoe");
    let counters = Arc::new(ReplayCounters::default());
    let off = Recorder::new(
        ReplayConfig {
            record: false,
            ..ReplayConfig::default()
        },
        counters.clone(),
    );
    let mut game = off.wrap((entry.create)(&config(2), START), &entry, &config(2), START);
    let draw = Outcome {
        winner: None,
        reason: EndReason::Draw,
    };
    assert_eq!(game.take_replay(START, draw), None);

    let small = Recorder::new(
        ReplayConfig {
            max_bytes: 64,
            ..ReplayConfig::default()
        },
        counters.clone(),
    );
    let mut game = small.wrap((entry.create)(&config(2), START), &entry, &config(2), START);
    let name = "x".repeat(40);
    for now in START + 1..START + 40 {
        // Refused inputs are not logged; ticks with gaps are.
        let _ = game.apply_input(now, 1, 0, Codec::Bincode, name.as_bytes());
        game.tick(now * 3);
    }
    assert_eq!(game.take_replay(START + 30, draw), None);
    assert_eq!(
        counters.tally(),
        ReplayTally {
            recorded: 0,
            bytes: 0,
            dropped: 1
        }
    );
}

/// The example of docs/replays.md: X takes the top row at ticks 102 to 106 (O plays 3 and
/// 4 in between), in a game created at tick 100; decompressed, byte for byte.
const DOC_EXAMPLE: &str = "5453525002" /* magic, version */;

fn doc_example_log() -> Vec<u8> {
    let entry = entry("tictactoe");
    let config = config(2);
    let mut game = Recording::new(
        (entry.create)(&config, 100),
        &entry,
        &config,
        100,
        ReplayConfig::default(),
        Arc::new(ReplayCounters::default()),
    );
    game.tick(101);
    for (i, cell) in [0u8, 3, 1, 4, 2].into_iter().enumerate() {
        let now = 102 + i as Tick;
        let data = Codec::Bincode.encode(&TicTacToeMove { cell }).unwrap();
        game.apply_input(
            now,
            (i % 2) as u8,
            (i / 2 + 1) as u32,
            Codec::Bincode,
            &data,
        )
        .unwrap();
        game.tick(now);
    }
    let outcome = game.outcome().unwrap();
    decompress(&game.take_replay(106, outcome).unwrap()).unwrap()
}

#[test]
fn the_documented_example_is_what_a_recording_writes() {
    let hex: String = doc_example_log()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    let doc = include_str!("../../docs/replays.md");
    let documented: String = doc
        .split("```hex\n")
        .nth(1)
        .and_then(|rest| rest.split("```").next())
        .expect("docs/replays.md has a ```hex block")
        .lines()
        .map(|line| line.split('#').next().unwrap_or("").replace(' ', ""))
        .collect();
    assert!(hex.starts_with(DOC_EXAMPLE));
    assert_eq!(hex, documented, "docs/replays.md's example is out of date");
}

#[test]
fn a_changed_outcome_is_refused() {
    let log = doc_example_log();
    let (header, mut list) = records(&log);
    let Some(Record::End { outcome, .. }) = list.last_mut() else {
        panic!("the log ends with End");
    };
    outcome.reason = EndReason::Draw;
    let error = verify_log(&encode_records(&header, &list), &builtin_games());
    assert!(
        matches!(
            error,
            Err(ReplayError::Diverged {
                tick: 106,
                last_good: 100,
                ..
            })
        ),
        "{error:?}"
    );
    // An arena (no outcome of its own) may only have been ended from outside.
    let log = arena_log();
    let (header, mut list) = records(&log);
    if let Some(Record::End { outcome, .. }) = list.last_mut() {
        *outcome = Outcome {
            winner: Some(0),
            reason: EndReason::Win,
        };
    }
    assert_eq!(diverged_at(&encode_records(&header, &list)), (45, 40));
}
