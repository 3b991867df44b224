//! Arena tick cost: one shard ticking rooms of 8 moving players, with the per-client delta
//! encoding the acknowledgements call for, driven by hand through
//! `engine::bench::ManualShard` (no tokio timer, no sockets).
//!
//! Every player moves around an octagon (a new direction every 15 ticks, the workload's
//! 500 ms at 30 Hz, staggered by seat, so about one player in eight turns per tick and
//! nobody ever reaches a wall) and sends an input on two ticks of three (the workload's
//! 20 Hz against 30 Hz ticks), most of them repeating its direction. Two patterns of
//! acknowledgement:
//!
//! - `acked_previous`: every client acknowledged the previous tick (a client that reads and
//!   acks at once): one delta per codec serves the whole room;
//! - `base_spread`: seat `s` acknowledged tick `now - 1 - s`, eight different bases (clients
//!   that ack at 20 Hz and some that fall behind): eight deltas per room per tick, each
//!   holding the players who turned in the last `1 + s` ticks.
//!
//! Before the criterion groups it prints, for each pattern, the payload bytes of the `Delta`
//! messages the writers would send (envelope included) and the heap allocations per tick.
//!
//! Run: `cargo bench --bench arena`.

use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::Bytes;
use criterion::{BenchmarkId, Criterion, Throughput, criterion_group};
use ticksync::codec::Codec;
use ticksync::engine::bench::ManualShard;
use ticksync::engine::{EngineConfig, GameEntry, Member, NewRoom};
use ticksync::game::arena::{Arena, ArenaInput};
use ticksync::outbox::{Batch, Outbox};
use ticksync::protocol::{RoomId, RoomSettings, ServerMsg, SessionId, Tick};

#[path = "common/counting_alloc.rs"]
mod counting_alloc;
use counting_alloc::Counting;

#[global_allocator]
static GLOBAL: Counting = Counting;

const SEATS: u64 = 8;

/// An octagon: the eight directions in turn, summing to zero, so a player circles forever.
const OCTAGON: [(i8, i8); 8] = [
    (1, 0),
    (1, 1),
    (0, 1),
    (-1, 1),
    (-1, 0),
    (-1, -1),
    (0, -1),
    (1, -1),
];

/// Ticks a direction is held (500 ms at 30 Hz).
const HOLD: Tick = 15;

/// How clients acknowledge.
#[derive(Debug, Clone, Copy)]
enum Acks {
    /// Everyone acknowledged the previous tick.
    Previous,
    /// Seat `s` acknowledged `now - 1 - s`.
    Spread,
}

impl Acks {
    fn name(self) -> &'static str {
        match self {
            Acks::Previous => "acked_previous",
            Acks::Spread => "base_spread",
        }
    }

    /// The tick a client acknowledges before tick `next` (0, no acknowledgement, while
    /// the spread reaches back before the first tick; the warm-up runs past that).
    fn base(self, next: Tick, seat: u64) -> Tick {
        match self {
            Acks::Previous => next - 1,
            Acks::Spread => next.saturating_sub(1 + seat),
        }
    }
}

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

/// A shard of arena rooms with everything needed to drive them.
struct Rig {
    shard: ManualShard,
    rooms: Vec<RoomId>,
    /// Every member's outbox, room by room, seat by seat.
    outboxes: Vec<Arc<Outbox>>,
    /// The encoded inputs, by octagon index.
    inputs: Vec<Bytes>,
    /// The last tick run.
    now: Tick,
    acks: Acks,
}

impl Rig {
    /// `rooms` full rooms of 8 bincode players, warmed up past the first full snapshots
    /// and the widest base spread.
    fn new(rooms: usize, acks: Acks) -> Rig {
        let mut shard = ManualShard::new(&engine_config());
        let mut outboxes = Vec::new();
        let ids = (0..rooms)
            .map(|i| {
                let players: Vec<Member> = (0..SEATS)
                    .map(|seat| {
                        let outbox = Outbox::new(Codec::Bincode, 1024);
                        outboxes.push(outbox.clone());
                        Member {
                            session: SessionId::new(SEATS * i as u64 + seat + 1),
                            outbox,
                        }
                    })
                    .collect();
                shard.create_room(NewRoom {
                    game: GameEntry::with_deltas::<Arena>(),
                    settings: RoomSettings::default(),
                    code: format!("A{i:06}"),
                    public: true,
                    players,
                    bots: Default::default(),
                    start_now: true,
                    reserved: Default::default(),
                })
            })
            .collect();
        let inputs = OCTAGON
            .iter()
            .map(|&(dx, dy)| Codec::Bincode.encode(&ArenaInput { dx, dy }).unwrap())
            .collect();
        let mut rig = Rig {
            shard,
            rooms: ids,
            outboxes,
            inputs,
            now: 0,
            acks,
        };
        for _ in 0..2 * HOLD {
            rig.prepare();
            rig.shard.tick();
            rig.now += 1;
            rig.drain(|_| {});
        }
        rig
    }

    /// Queues the next tick's inputs and sets every client's acknowledgement (untimed).
    fn prepare(&mut self) {
        let next = self.now + 1;
        for (i, &room) in self.rooms.iter().enumerate() {
            for seat in 0..SEATS {
                // Inputs on two ticks of three; a turn every HOLD ticks, staggered by seat.
                if (next + seat).is_multiple_of(3) {
                    continue;
                }
                let leg = ((next + 2 * seat) / HOLD) as usize % OCTAGON.len();
                let session = SessionId::new(SEATS * i as u64 + seat + 1);
                self.shard
                    .input(room, session, next as u32, self.inputs[leg].clone());
            }
        }
        for (index, outbox) in self.outboxes.iter().enumerate() {
            let seat = index as u64 % SEATS;
            outbox.acknowledge(self.acks.base(next, seat));
        }
    }

    /// Takes every pending frame, handing each state's `Delta` or `Snapshot` message
    /// size (as the writer would encode it) to `size`.
    fn drain(&mut self, mut size: impl FnMut(usize)) {
        let mut batch = Batch::default();
        for outbox in &self.outboxes {
            if outbox.take(&mut batch)
                && let Some(state) = batch.state.take()
            {
                let msg = match state.base_tick {
                    Some(base_tick) => ServerMsg::Delta {
                        tick: state.tick,
                        base_tick,
                        input_seq: state.input_seq,
                        delta: state.body,
                    },
                    None => ServerMsg::Snapshot {
                        tick: state.tick,
                        input_seq: state.input_seq,
                        state: state.body,
                    },
                };
                size(Codec::Bincode.encode(&msg).map_or(0, |b| b.len()));
            }
        }
    }

    /// Runs one timed tick (inputs and acknowledgements prepared untimed before it).
    fn timed_tick(&mut self) -> Duration {
        self.prepare();
        let start = Instant::now();
        self.shard.tick();
        let took = start.elapsed();
        self.now += 1;
        took
    }
}

/// Delta sizes and allocations per tick, for one room over 150 ticks (10 turns a player).
fn report_sizes_and_allocations() {
    for acks in [Acks::Previous, Acks::Spread] {
        let mut rig = Rig::new(1, acks);
        let (mut bytes, mut states, mut allocations) = (0usize, 0usize, 0u64);
        let ticks = 10 * HOLD;
        for _ in 0..ticks {
            rig.prepare();
            let before = counting_alloc::allocations();
            rig.shard.tick();
            allocations += counting_alloc::allocations() - before;
            rig.now += 1;
            rig.drain(|size| {
                bytes += size;
                states += 1;
            });
        }
        eprintln!(
            "arena/{}: {states} states to 8 bincode clients in {ticks} ticks: {:.2} bytes per \
             Delta message (envelope included); {:.1} allocations per room tick",
            acks.name(),
            bytes as f64 / states.max(1) as f64,
            allocations as f64 / ticks as f64
        );
    }
}

/// One room of 8 moving players: apply the inputs, move, record the view, encode the deltas
/// the acknowledgements call for, hand them to 8 outboxes. Expected: `base_spread` costs
/// more than `acked_previous` by about seven extra delta encodes (one per distinct base).
fn room_tick(c: &mut Criterion) {
    let mut group = c.benchmark_group("arena/room_tick");
    group.throughput(Throughput::Elements(SEATS));
    for acks in [Acks::Previous, Acks::Spread] {
        let mut rig = Rig::new(1, acks);
        group.bench_function(BenchmarkId::from_parameter(acks.name()), |b| {
            b.iter_custom(|iters| {
                let mut timed = Duration::ZERO;
                for _ in 0..iters {
                    timed += rig.timed_tick();
                    rig.drain(|_| {});
                }
                timed
            });
        });
    }
    group.finish();
}

/// Rooms of 8 on one shard, everyone acknowledging the previous tick: 1, 25 and 250 rooms
/// (8 to 2000 clients). Expected: time per tick linear in rooms, so clients/s (the
/// throughput line) flat; at 250 rooms this is the pure tick work of one shard holding all
/// 2000 clients of the largest standard run.
fn rooms(c: &mut Criterion) {
    let mut group = c.benchmark_group("arena/rooms");
    for rooms in [1usize, 25, 250] {
        let mut rig = Rig::new(rooms, Acks::Previous);
        group.throughput(Throughput::Elements(rooms as u64 * SEATS));
        group.bench_function(BenchmarkId::from_parameter(rooms), |b| {
            b.iter_custom(|iters| {
                let mut timed = Duration::ZERO;
                for _ in 0..iters {
                    timed += rig.timed_tick();
                    rig.drain(|_| {});
                }
                timed
            });
        });
    }
    group.finish();
}

criterion_group!(benches, room_tick, rooms);

fn main() {
    report_sizes_and_allocations();
    benches();
    Criterion::default().configure_from_args().final_summary();
}
