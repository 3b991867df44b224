//! How big replays are: the compressed log of a tic-tac-toe game and of a minute of an
//! eight-player arena, recorded exactly as a room records them (the same `Recording`
//! decorator, default settings: a state hash every 30 ticks; logs under 256 bytes stored
//! in a raw zstd block, zstd level -1 under 4 KiB and 3 above), at 30 ticks per second;
//! each log is also compressed at level 3 alone, for comparison. No server: the games are
//! driven in-process, deterministically (seeded).
//!
//! - tic-tac-toe: two random players, each thinking 0.5 to 3 s per move (15 to 90 ticks);
//! - arena: eight players doing what `arena_bot` and the `arena` workload do: an input
//!   every 50 ms (20 Hz, repeating the held direction), a new direction every 500 ms.
//!
//! Every replay is verified (`ticksync::replay::verify`) before it is counted.
//!
//! Run: `cargo run --release --example replay_sizes`

use std::sync::Arc;
use ticksync::game::arena::DIRECTIONS;

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use ticksync::codec::Codec;
use ticksync::engine::{DynGame, GameRegistry};
use ticksync::game::arena::ArenaInput;
use ticksync::game::tictactoe::TicTacToeMove;
use ticksync::game::tictactoe_ai::Strategy;
use ticksync::game::{GameConfig, Outcome};
use ticksync::protocol::{EndReason, RoomSettings, Tick};
use ticksync::replay::{Recorder, ReplayConfig, ReplayCounters, decompress, verify};
use ticksync::server::builtin_games;

const TICK_HZ: u16 = 30;
const START: Tick = 1_000;

fn recorded(registry: &GameRegistry, name: &str, players: u8) -> Box<dyn DynGame> {
    let entry = registry.get(name).expect("a built-in game");
    let config = GameConfig {
        tick_hz: TICK_HZ,
        settings: RoomSettings::default(),
        players,
        seed: 0,
    };
    let recorder = Recorder::new(ReplayConfig::default(), Arc::new(ReplayCounters::default()));
    recorder.wrap((entry.create)(&config, START), &entry, &config, START)
}

/// Compressed, uncompressed and compressed-at-level-3 bytes of one verified replay.
type Sizes = (usize, usize, usize);

fn finish(
    registry: &GameRegistry,
    mut game: Box<dyn DynGame>,
    now: Tick,
    outcome: Outcome,
) -> Sizes {
    let replay = game.take_replay(now, outcome).expect("recorded");
    verify(&replay, registry).expect("the replay verifies");
    let log = decompress(&replay).expect("decompresses");
    let at_level_3 = zstd::bulk::compress(&log, 3).expect("compresses").len();
    (replay.len(), log.len(), at_level_3)
}

fn tictactoe_game(registry: &GameRegistry, rng: &mut StdRng, codec: Codec) -> Sizes {
    let mut game = recorded(registry, "tictactoe", 2);
    let mut board = [0u8; 9];
    let mut now = START;
    let mut seat = 0u8;
    let mut next_move = now + rng.random_range(15..=90);
    while game.outcome().is_none() {
        now += 1;
        if now == next_move {
            let cell = Strategy::Random
                .choose(&board, seat, rng)
                .expect("a running game has an empty cell");
            let data = codec.encode(&TicTacToeMove { cell }).expect("encodes");
            game.apply_input(now, seat, 0, codec, &data)
                .expect("a legal move");
            board[usize::from(cell)] = seat + 1;
            seat = 1 - seat;
            next_move = now + rng.random_range(15..=90);
        }
        game.tick(now);
    }
    let outcome = game.outcome().expect("over");
    finish(registry, game, now, outcome)
}

fn arena_minute(registry: &GameRegistry, rng: &mut StdRng, codec: Codec) -> Sizes {
    let mut game = recorded(registry, "arena", 8);
    // Per player: the next input's time in milliseconds, the direction, inputs held.
    let mut players: Vec<(u64, (i8, i8), u32)> = (0..8)
        .map(|_| {
            (
                rng.random_range(0..50),
                DIRECTIONS[rng.random_range(0..8)],
                0,
            )
        })
        .collect();
    let ticks = 60 * Tick::from(TICK_HZ);
    for now in START + 1..=START + ticks {
        let until_ms = (now - START) * 1000 / Tick::from(TICK_HZ);
        for (seat, (next_ms, direction, held)) in players.iter_mut().enumerate() {
            while *next_ms <= until_ms {
                if *held >= 10 {
                    let others: Vec<_> = DIRECTIONS.iter().filter(|d| *d != direction).collect();
                    *direction = *others[rng.random_range(0..others.len())];
                    *held = 0;
                }
                *held += 1;
                *next_ms += 50;
                let (dx, dy) = *direction;
                let data = codec.encode(&ArenaInput { dx, dy }).expect("encodes");
                game.apply_input(now, seat as u8, 0, codec, &data)
                    .expect("a legal input");
            }
        }
        game.tick(now);
    }
    let closed = Outcome {
        winner: None,
        reason: EndReason::ServerShutdown,
    };
    finish(registry, game, START + ticks, closed)
}

fn report(what: &str, sizes: &[Sizes]) {
    let n = sizes.len();
    let mean = |f: fn(&Sizes) -> usize| sizes.iter().map(f).sum::<usize>() / n;
    let mut compressed: Vec<_> = sizes.iter().map(|s| s.0).collect();
    let mut raw: Vec<_> = sizes.iter().map(|s| s.1).collect();
    compressed.sort_unstable();
    raw.sort_unstable();
    println!(
        "{what}: {n} replays, compressed bytes mean {} (min {}, median {}, max {}); \
         uncompressed mean {} (max {}); at zstd level 3 mean {}",
        mean(|s| s.0),
        compressed[0],
        compressed[n / 2],
        compressed[n - 1],
        mean(|s| s.1),
        raw[n - 1],
        mean(|s| s.2),
    );
}

fn main() {
    let registry = builtin_games();
    let mut rng = StdRng::seed_from_u64(11);
    for codec in [Codec::Bincode, Codec::MsgPack] {
        let games: Vec<_> = (0..1000)
            .map(|_| tictactoe_game(&registry, &mut rng, codec))
            .collect();
        report(&format!("tictactoe game, {codec:?} inputs"), &games);
    }
    for codec in [Codec::Bincode, Codec::MsgPack] {
        let minutes: Vec<_> = (0..20)
            .map(|_| arena_minute(&registry, &mut rng, codec))
            .collect();
        report(
            &format!("arena minute (8 players), {codec:?} inputs"),
            &minutes,
        );
    }
}
