//! Tick cost per room: one shard ticking 1, 100 and 10,000 tic-tac-toe rooms, driven by
//! hand through `engine::bench::ManualShard` (no tokio timer, no sockets).
//!
//! Before the criterion groups it prints how many heap allocations one tick makes on the
//! broadcast path, per client, counted by a global allocator wrapper.
//!
//! Run: `cargo bench --bench tick`.

use std::hint::black_box;
use std::time::{Duration, Instant};

use bytes::Bytes;
use criterion::{BenchmarkId, Criterion, Throughput, criterion_group};
use ticksync::codec::Codec;
use ticksync::engine::bench::ManualShard;
use ticksync::engine::{EngineConfig, GameEntry, Member, NewRoom};
use ticksync::game::tictactoe::{TicTacToe, TicTacToeMove, TicTacToeOptions};
use ticksync::outbox::Outbox;
use ticksync::protocol::{RoomId, RoomSettings, SessionId};

#[path = "common/counting_alloc.rs"]
mod counting_alloc;
use counting_alloc::Counting;

#[global_allocator]
static GLOBAL: Counting = Counting;

/// The first eight moves of a drawn game (X O X / X O O / O X X): the ninth would end it,
/// so eight ticks of moves never close a room.
const MOVES: [u8; 8] = [0, 1, 2, 4, 3, 5, 7, 6];

const ROOM_COUNTS: [usize; 3] = [1, 100, 10_000];

fn engine_config() -> EngineConfig {
    EngineConfig {
        tick_hz: 30,
        shards: 1,
        inbox_capacity: 8192,
        event_log_capacity: 512,
        reconnect_grace: Duration::from_secs(20),
        replay: ticksync::replay::ReplayConfig::default(),
        on_game_finished: None,
        first_room_id: RoomId::new(1),
    }
}

/// A shard with `rooms` running games, two bincode players each, and the rooms' first
/// (full-state) tick already run. Player sessions are `2 * room_index + seat + 1`.
fn shard_with_rooms(rooms: usize) -> (ManualShard, Vec<RoomId>) {
    let mut shard = ManualShard::new(&engine_config());
    let ids = (0..rooms)
        .map(|i| {
            let players = (0..2u64)
                .map(|seat| Member {
                    session: SessionId::new(2 * i as u64 + seat + 1),
                    outbox: Outbox::new(Codec::Bincode, 1024),
                })
                .collect();
            shard.create_room(NewRoom {
                game: GameEntry::of::<TicTacToe>(),
                // A turn timer far beyond any run, so idle rooms never time out.
                settings: RoomSettings {
                    allow_spectators: false,
                    relay: false,
                    ranked: false,
                    options: Codec::Bincode
                        .encode(&TicTacToeOptions {
                            turn_seconds: Some(ticksync::game::tictactoe::MAX_TURN_SECONDS),
                        })
                        .expect("options encode"),
                },
                code: format!("R{i:06}"),
                public: true,
                players,
                bots: Default::default(),
                start_now: true,
                reserved: Default::default(),
            })
        })
        .collect();
    shard.tick();
    (shard, ids)
}

fn move_inputs() -> Vec<Bytes> {
    MOVES
        .iter()
        .map(|&cell| Codec::Bincode.encode(&TicTacToeMove { cell }).unwrap())
        .collect()
}

/// Queues move `k` of `MOVES` in every room (untimed).
fn queue_moves(shard: &mut ManualShard, ids: &[RoomId], inputs: &[Bytes], k: usize) {
    let seat = (k % 2) as u64;
    let seq = (k / 2 + 1) as u32;
    for (i, &room) in ids.iter().enumerate() {
        shard.input(
            room,
            SessionId::new(2 * i as u64 + seat + 1),
            seq,
            inputs[k].clone(),
        );
    }
}

/// Allocations per client during ticks that apply one move per room and broadcast it, then
/// during idle ticks (replay recording's runs and state hashes).
fn report_allocations() {
    let inputs = move_inputs();
    for rooms in [100, 10_000] {
        let (mut shard, ids) = shard_with_rooms(rooms);
        let mut during_ticks = 0;
        for k in 0..MOVES.len() {
            queue_moves(&mut shard, &ids, &inputs, k);
            let before = counting_alloc::allocations();
            shard.tick();
            during_ticks += counting_alloc::allocations() - before;
        }
        let client_ticks = (MOVES.len() * rooms * 2) as f64;
        eprintln!(
            "tick/allocations: {rooms} rooms, {} clients: {during_ticks} allocations in {} \
             moving ticks = {:.5} per client per tick",
            rooms * 2,
            MOVES.len(),
            during_ticks as f64 / client_ticks
        );
        // Then two seconds of idle ticks: every room's replay recording counts a run of
        // ticks and takes two state hashes (one every 30 ticks).
        let before = counting_alloc::allocations();
        for _ in 0..IDLE_TICKS {
            shard.tick();
        }
        let idle = counting_alloc::allocations() - before;
        eprintln!(
            "tick/allocations: {rooms} rooms, {} clients: {idle} allocations in {IDLE_TICKS} \
             idle ticks with replay state hashes = {:.5} per client per tick",
            rooms * 2,
            idle as f64 / (IDLE_TICKS * rooms * 2) as f64
        );
    }
}

/// Idle ticks counted after the moving ones: two replay hash intervals.
const IDLE_TICKS: usize = 60;

/// Rooms whose game is running but nobody moves: the per-tick floor (visit each room, check
/// its turn timer, nothing to send). Expected: time per tick linear in rooms, so the
/// throughput in rooms per second is flat from 100 to 10,000 (1 room shows the fixed cost
/// of a tick).
fn idle_rooms(c: &mut Criterion) {
    let mut group = c.benchmark_group("tick/idle_rooms");
    for rooms in ROOM_COUNTS {
        let (mut shard, _ids) = shard_with_rooms(rooms);
        group.throughput(Throughput::Elements(rooms as u64));
        group.bench_function(BenchmarkId::from_parameter(rooms), |b| {
            b.iter(|| shard.tick());
        });
    }
    group.finish();
}

/// Every room applies one move per tick and sends the new state to both players (decode,
/// validate, apply, encode the view once per codec, two outbox writes). Expected: linear in
/// rooms, flat rooms/s; the per-room cost is the number to watch.
fn moving_rooms(c: &mut Criterion) {
    let inputs = move_inputs();
    let mut group = c.benchmark_group("tick/moving_rooms");
    for rooms in ROOM_COUNTS {
        if rooms >= 10_000 {
            group.sample_size(20);
        }
        group.throughput(Throughput::Elements(rooms as u64));
        group.bench_function(BenchmarkId::from_parameter(rooms), |b| {
            b.iter_custom(|iters| {
                let mut timed = Duration::ZERO;
                let mut done = 0;
                while done < iters {
                    // Fresh games every eight moves; building them is not timed.
                    let (mut shard, ids) = shard_with_rooms(rooms);
                    for k in 0..MOVES.len() {
                        if done == iters {
                            break;
                        }
                        queue_moves(&mut shard, &ids, &inputs, k);
                        let start = Instant::now();
                        shard.tick();
                        timed += start.elapsed();
                        done += 1;
                    }
                    black_box(&shard);
                }
                timed
            });
        });
    }
    group.finish();
}

criterion_group!(benches, idle_rooms, moving_rooms);

fn main() {
    report_allocations();
    benches();
    Criterion::default().configure_from_args().final_summary();
}
