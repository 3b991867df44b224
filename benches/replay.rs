//! What replay recording costs: a state hash (taken every 30 ticks per room), handing a
//! finished game's log over (the `End` record and zstd compression, once per game, on the
//! shard's tick), and verifying a replay (`ticksync replay`, off the server).
//!
//! Expected: a hash costs about one view encode (tens to hundreds of ns); finishing and
//! verifying grow with the log: microseconds for a tic-tac-toe game, tens to hundreds of
//! microseconds for an arena minute.
//!
//! Run: `cargo bench --bench replay`.

use std::hint::black_box;
use std::sync::Arc;

use bytes::{Bytes, BytesMut};
use criterion::{BatchSize, BenchmarkId, Criterion, criterion_group, criterion_main};
use ticksync::codec::Codec;
use ticksync::engine::DynGame;
use ticksync::game::arena::ArenaInput;
use ticksync::game::tictactoe::TicTacToeMove;
use ticksync::game::{GameConfig, Outcome};
use ticksync::protocol::{EndReason, RoomSettings, Tick};
use ticksync::replay::{Recording, ReplayConfig, ReplayCounters, state_hash, verify};
use ticksync::server::builtin_games;

const START: Tick = 1_000;

fn recording(name: &str, players: u8) -> Recording {
    let entry = builtin_games().get(name).expect("built in");
    let config = GameConfig {
        tick_hz: 30,
        settings: RoomSettings::default(),
        players,
        seed: 0,
    };
    Recording::new(
        (entry.create)(&config, START),
        &entry,
        &config,
        START,
        ReplayConfig::default(),
        Arc::new(ReplayCounters::default()),
    )
}

/// A drawn tic-tac-toe game, a move every second (30 ticks); returns the game before its
/// log is taken, and the end tick.
fn tictactoe_game() -> (Recording, Tick) {
    let mut game = recording("tictactoe", 2);
    let mut now = START;
    for (i, cell) in [0u8, 1, 2, 4, 3, 5, 7, 6, 8].into_iter().enumerate() {
        for _ in 0..29 {
            now += 1;
            game.tick(now);
        }
        now += 1;
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
    (game, now)
}

/// A minute of eight arena players sending an input on two ticks of three (20 Hz), each
/// turning every 15 ticks.
fn arena_minute() -> (Recording, Tick) {
    let mut game = recording("arena", 8);
    let turns = [
        (1, 0),
        (1, 1),
        (0, 1),
        (-1, 1),
        (-1, 0),
        (-1, -1),
        (0, -1),
        (1, -1),
    ];
    let mut now = START;
    for t in 0..1800u64 {
        now += 1;
        if t % 3 != 2 {
            for seat in 0..8u8 {
                let (dx, dy) = turns[((t / 15 + u64::from(seat)) % 8) as usize];
                let data = Codec::Bincode.encode(&ArenaInput { dx, dy }).unwrap();
                game.apply_input(now, seat, 0, Codec::Bincode, &data)
                    .unwrap();
            }
        }
        game.tick(now);
    }
    (game, now)
}

fn end(game: &Recording) -> Outcome {
    game.outcome().unwrap_or(Outcome {
        winner: None,
        reason: EndReason::ServerShutdown,
    })
}

fn finished(make: fn() -> (Recording, Tick)) -> Bytes {
    let (mut game, now) = make();
    let outcome = end(&game);
    game.take_replay(now, outcome).expect("recorded")
}

type Maker = fn() -> (Recording, Tick);
const GAMES: [(&str, u8, Maker); 2] = [
    ("tictactoe_game", 2, tictactoe_game),
    ("arena_minute", 8, arena_minute),
];

fn benches(c: &mut Criterion) {
    let mut group = c.benchmark_group("replay/state_hash");
    for (name, seats, make) in GAMES {
        let (game, _) = make();
        let mut scratch = BytesMut::with_capacity(256);
        group.bench_function(BenchmarkId::from_parameter(name), |b| {
            b.iter(|| state_hash(black_box(&game), seats, &mut scratch));
        });
    }
    group.finish();

    let mut group = c.benchmark_group("replay/finish");
    for (name, _, make) in GAMES {
        group.bench_function(BenchmarkId::from_parameter(name), |b| {
            b.iter_batched(
                make,
                |(mut game, now)| {
                    let outcome = end(&game);
                    game.take_replay(now, outcome)
                },
                BatchSize::LargeInput,
            );
        });
    }
    group.finish();

    let registry = builtin_games();
    let mut group = c.benchmark_group("replay/verify");
    for (name, _, make) in GAMES {
        let replay = finished(make);
        group.bench_function(BenchmarkId::from_parameter(name), |b| {
            b.iter(|| verify(black_box(&replay), &registry).expect("verifies"));
        });
    }
    group.finish();
}

criterion_group!(replay, benches);
criterion_main!(replay);
