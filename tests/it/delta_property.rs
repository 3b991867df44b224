//! The delta guarantee, as a property: whatever the loss (latest-wins skips) and however
//! late acknowledgements arrive, a client that applies what it receives rebuilds exactly the
//! server's state for every tick it sees.
//!
//! A shard is driven by hand (no timer, no sockets): an arena room with several players
//! who each receive on some ticks and not others, and whose acknowledgements reach the
//! server after a random delay. One extra member never acknowledges, so it always gets full
//! snapshots: it is the oracle for the server's true state at each tick.

use std::collections::{BTreeMap, VecDeque};
use std::sync::Arc;
use std::time::Duration;

use proptest::prelude::*;
use ticksync::codec::Codec;
use ticksync::engine::bench::ManualShard;
use ticksync::engine::{EngineConfig, GameEntry, Member, NewRoom};
use ticksync::game::DeltaGame;
use ticksync::game::arena::{Arena, ArenaDelta, ArenaInput, ArenaView};
use ticksync::outbox::{Batch, Outbox};
use ticksync::protocol::{RoomId, RoomSettings, SessionId, Tick};

/// One simulated client's behaviour.
#[derive(Debug, Clone)]
struct Behaviour {
    codec: Codec,
    /// Chance to read its outbox at a tick (otherwise the state there may be replaced).
    receive: f64,
    /// Ticks before an acknowledgement reaches the server.
    ack_delay: usize,
    /// Chance to send a new direction at a tick.
    input: f64,
}

fn behaviour() -> impl Strategy<Value = Behaviour> {
    (any::<bool>(), 0.1f64..1.0, 0usize..6, 0.0f64..0.5).prop_map(
        |(bincode, receive, ack_delay, input)| Behaviour {
            codec: if bincode {
                Codec::Bincode
            } else {
                Codec::MsgPack
            },
            receive,
            ack_delay,
            input,
        },
    )
}

struct SimClient {
    behaviour: Behaviour,
    outbox: Arc<Outbox>,
    states: BTreeMap<Tick, ArenaView>,
    acks_in_flight: VecDeque<(usize, Tick)>,
    seq: u32,
    deltas: usize,
}

fn config() -> EngineConfig {
    EngineConfig {
        tick_hz: 30,
        shards: 1,
        inbox_capacity: 1024,
        event_log_capacity: 512,
        reconnect_grace: Duration::from_secs(20),
        replay: ticksync::replay::ReplayConfig::default(),
        on_game_finished: None,
        first_room_id: RoomId::new(1),
    }
}

/// Runs one simulation; returns how many deltas the clients applied.
fn simulate(behaviours: Vec<Behaviour>, ticks: usize, seed: u64) -> Result<usize, TestCaseError> {
    use rand::{Rng, SeedableRng};
    let mut rng = rand::rngs::StdRng::seed_from_u64(seed);
    let mut shard = ManualShard::new(&config());
    let oracle = Outbox::new(Codec::Bincode, 1 << 16);
    let mut clients: Vec<SimClient> = behaviours
        .into_iter()
        .map(|behaviour| SimClient {
            outbox: Outbox::new(behaviour.codec, 1 << 16),
            behaviour,
            states: BTreeMap::new(),
            acks_in_flight: VecDeque::new(),
            seq: 0,
            deltas: 0,
        })
        .collect();
    let mut players: Vec<Member> = clients
        .iter()
        .enumerate()
        .map(|(i, c)| Member {
            session: SessionId::new(i as u64 + 1),
            outbox: c.outbox.clone(),
        })
        .collect();
    players.push(Member {
        session: SessionId::new(100),
        outbox: oracle.clone(),
    });
    let room = shard.create_room(NewRoom {
        game: GameEntry::with_deltas::<Arena>(),
        settings: RoomSettings::default(),
        code: "PROP01".into(),
        public: true,
        players,
        bots: Default::default(),
        start_now: true,
        reserved: Default::default(),
    });
    let mut batch = Batch::default();
    let mut truth: BTreeMap<Tick, ArenaView> = BTreeMap::new();
    for now in 1..=ticks {
        let now = now as Tick;
        for (i, client) in clients.iter_mut().enumerate() {
            // Acknowledgements that have travelled long enough reach the server.
            while client
                .acks_in_flight
                .front()
                .is_some_and(|&(due, _)| due <= now as usize)
            {
                if let Some((_, tick)) = client.acks_in_flight.pop_front() {
                    client.outbox.acknowledge(tick);
                }
            }
            if rng.random_bool(client.behaviour.input) {
                client.seq += 1;
                let input = ArenaInput {
                    dx: rng.random_range(-1..=1),
                    dy: rng.random_range(-1..=1),
                };
                let data = client.behaviour.codec.encode(&input).expect("encodes");
                shard.input(room, SessionId::new(i as u64 + 1), client.seq, data);
            }
        }
        shard.tick();
        // The oracle reads every tick and always gets full snapshots.
        oracle.take(&mut batch);
        if let Some(state) = batch.state.take() {
            prop_assert!(state.base_tick.is_none(), "the oracle never acknowledged");
            let view = Codec::Bincode
                .decode::<ArenaView>(&state.body)
                .expect("view");
            truth.insert(state.tick, view);
        }
        for client in &mut clients {
            if !rng.random_bool(client.behaviour.receive) {
                continue; // Not read now: a newer state may replace this one.
            }
            client.outbox.take(&mut batch);
            let Some(state) = batch.state.take() else {
                continue;
            };
            let codec = client.behaviour.codec;
            let view = match state.base_tick {
                None => codec.decode::<ArenaView>(&state.body).expect("view"),
                Some(base_tick) => {
                    let base = client.states.get(&base_tick);
                    prop_assert!(
                        base.is_some(),
                        "delta against tick {base_tick}, never received"
                    );
                    let delta: ArenaDelta = codec.decode(&state.body).expect("delta");
                    client.deltas += 1;
                    Arena::apply_delta(base.expect("checked"), base_tick, &delta, state.tick)
                }
            };
            // The newest state is the oracle's newest, which it read at every tick.
            prop_assert_eq!(Some(&state.tick), truth.keys().next_back());
            prop_assert_eq!(
                &view,
                &truth[&state.tick],
                "client rebuilt a different state"
            );
            client.states.insert(state.tick, view);
            let due = now as usize + client.behaviour.ack_delay;
            client.acks_in_flight.push_back((due, state.tick));
        }
    }
    Ok(clients.iter().map(|c| c.deltas).sum())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(48))]

    #[test]
    fn clients_rebuild_the_servers_state_under_any_loss_and_ack_delay(
        behaviours in prop::collection::vec(behaviour(), 1..8),
        ticks in 20usize..150,
        seed in any::<u64>(),
    ) {
        simulate(behaviours, ticks, seed)?;
    }
}

/// The property above must not pass vacuously: with typical behaviour, deltas are sent.
#[test]
fn typical_runs_use_deltas() {
    let behaviours = vec![
        Behaviour {
            codec: Codec::Bincode,
            receive: 0.9,
            ack_delay: 2,
            input: 0.2,
        };
        4
    ];
    let deltas = simulate(behaviours, 120, 7).expect("property holds");
    assert!(deltas > 100, "only {deltas} deltas");
}
