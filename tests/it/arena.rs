//! The real-time arena over real sockets: deltas against acknowledged ticks, slow clients,
//! and lockstep relay rooms with resume.

use std::collections::BTreeMap;
use std::time::Duration;

use anyhow::{Context, Result, bail, ensure};
use bytes::Bytes;
use ticksync::codec::Codec;
use ticksync::game::DeltaGame;
use ticksync::game::arena::{Arena, ArenaDelta, ArenaInput, ArenaView};
use ticksync::game::relay::InputFrame;
use ticksync::protocol::{ClientMsg, RoomEvent, RoomSettings, ServerMsg, Tick};
use ticksync::server::Stats;

use crate::support::{Client, start, test_config, wait_for_stats};

/// A client-side arena state store: the states received, by tick, as PROTOCOL.md says a
/// client must keep them.
#[derive(Default)]
struct Mirror {
    states: BTreeMap<Tick, ArenaView>,
    fulls: usize,
    deltas: usize,
    last_input_seq: u32,
}

impl Mirror {
    /// Applies one state message; returns its tick, or `None` for other messages.
    fn apply(&mut self, codec: Codec, msg: &ServerMsg) -> Result<Option<Tick>> {
        let (tick, view) = match msg {
            ServerMsg::Snapshot {
                tick,
                input_seq,
                state,
            } => {
                self.fulls += 1;
                self.last_input_seq = *input_seq;
                (*tick, codec.decode::<ArenaView>(state)?)
            }
            ServerMsg::Delta {
                tick,
                base_tick,
                input_seq,
                delta,
            } => {
                self.deltas += 1;
                self.last_input_seq = *input_seq;
                let base = self
                    .states
                    .get(base_tick)
                    .with_context(|| format!("delta against unknown base tick {base_tick}"))?;
                let delta: ArenaDelta = codec.decode(delta)?;
                (*tick, Arena::apply_delta(base, *base_tick, &delta, *tick))
            }
            _ => return Ok(None),
        };
        self.states.insert(tick, view);
        while self.states.len() > 256 {
            self.states.pop_first();
        }
        Ok(Some(tick))
    }
}

fn arena_config() -> ticksync::config::ServerConfig {
    let mut config = test_config();
    config.tick_hz = 30;
    config
}

async fn queue_arena(client: &mut Client) -> Result<u8> {
    client
        .send(&ClientMsg::FindMatch {
            game: "arena".into(),
            options: bytes::Bytes::new(),
        })
        .await?;
    client
        .match_found()
        .await?
        .seat
        .context("a player has a seat")
}

async fn send_direction(client: &mut Client, seq: u32, ack: Tick, dx: i8, dy: i8) -> Result<()> {
    let data = client.codec.encode(&ArenaInput { dx, dy })?;
    client
        .send(&ClientMsg::Input {
            seq,
            ack_tick: ack,
            data,
        })
        .await
}

/// Eight players (mixed codecs) move and turn while acknowledging what they apply. Every
/// delta must apply to a state the client holds, all clients must agree on every tick they
/// share, and a spectator's full snapshot must equal what the players rebuilt.
#[tokio::test]
async fn deltas_rebuild_the_same_state_for_everyone() -> Result<()> {
    let server = start(arena_config()).await;
    let addr = server.local_addr();
    let mut clients = Vec::new();
    for i in 0..8 {
        let codec = if i % 2 == 0 {
            Codec::Bincode
        } else {
            Codec::MsgPack
        };
        clients.push(Client::connect(addr, codec).await?);
    }
    let mut seats = Vec::new();
    for client in &mut clients {
        client
            .send(&ClientMsg::FindMatch {
                game: "arena".into(),
                options: bytes::Bytes::new(),
            })
            .await?;
    }
    for client in &mut clients {
        seats.push(client.match_found().await?.seat.context("seat")?);
    }
    let mut mirrors: Vec<Mirror> = (0..8).map(|_| Mirror::default()).collect();
    let directions = [
        (1, 0),
        (0, 1),
        (-1, 0),
        (0, -1),
        (1, 1),
        (-1, -1),
        (1, -1),
        (-1, 1),
    ];
    // Forty rounds: each client reads states until it has a new one, then turns.
    for round in 0..40u32 {
        for (i, client) in clients.iter_mut().enumerate() {
            let codec = client.codec;
            let mirror = &mut mirrors[i];
            let tick = loop {
                let msg = client.recv().await?;
                if let Some(tick) = mirror.apply(codec, &msg)? {
                    break tick;
                }
            };
            let (dx, dy) = directions[(i + round as usize / 5) % directions.len()];
            send_direction(client, round + 1, tick, dx, dy).await?;
        }
    }
    // A spectator gets a full snapshot; every player's rebuilt state for that tick agrees.
    let code = {
        let client = &mut clients[0];
        client.send(&ClientMsg::ListRooms).await?;
        client
            .recv_until(|m| match m {
                ServerMsg::RoomList { rooms } => rooms
                    .iter()
                    .find(|r| r.game == "arena")
                    .and_then(|r| r.code.clone()),
                _ => None,
            })
            .await?
    };
    let mut spectator = Client::connect(addr, Codec::MsgPack).await?;
    spectator
        .send(&ClientMsg::JoinRoom {
            code,
            spectate: true,
        })
        .await?;
    let mut watched = Mirror::default();
    let spectator_tick = loop {
        let msg = spectator.recv().await?;
        if let Some(tick) = watched.apply(Codec::MsgPack, &msg)? {
            break tick;
        }
    };
    ensure!(
        watched.fulls == 1,
        "a new spectator starts from a full snapshot"
    );
    // Players read on to the spectator's tick, turning at every state so that the state
    // keeps changing (a player pinned in a corner would otherwise stop the updates).
    for (i, client) in clients.iter_mut().enumerate() {
        let codec = client.codec;
        let mut seq: u32 = 40;
        while mirrors[i].states.keys().next_back().copied() < Some(spectator_tick) {
            let msg = client.recv().await?;
            if let Some(tick) = mirrors[i].apply(codec, &msg)? {
                seq += 1;
                let dx = if seq.is_multiple_of(2) { 1 } else { -1 };
                send_direction(client, seq, tick, dx, 0).await?;
            }
        }
        if let Some(state) = mirrors[i].states.get(&spectator_tick) {
            ensure!(
                state == &watched.states[&spectator_tick],
                "client {i} disagrees with the spectator at tick {spectator_tick}"
            );
        }
    }
    // All players agree on every tick they share.
    for i in 1..8 {
        for (tick, state) in &mirrors[i].states {
            if let Some(other) = mirrors[0].states.get(tick) {
                ensure!(state == other, "clients 0 and {i} disagree at tick {tick}");
            }
        }
    }
    for (i, mirror) in mirrors.iter().enumerate() {
        ensure!(mirror.deltas > 0, "client {i} got no deltas");
        ensure!(
            mirror.fulls >= 1,
            "client {i} started without a full snapshot"
        );
        ensure!(
            mirror.last_input_seq > 0,
            "client {i}'s inputs were acknowledged"
        );
    }
    ensure!(seats.len() == 8);
    for client in clients {
        client.close().await?;
    }
    spectator.close().await?;
    wait_for_stats(&server, Stats::default()).await?;
    server.shutdown().await;
    Ok(())
}

/// A client that never acknowledges gets only full snapshots.
#[tokio::test]
async fn without_acknowledgements_every_state_is_full() -> Result<()> {
    let mut config = arena_config();
    config.matching.fill_wait = Duration::from_millis(50);
    let server = start(config).await;
    let mut client = Client::connect(server.local_addr(), Codec::Bincode).await?;
    queue_arena(&mut client).await?;
    send_direction(&mut client, 1, 0, 1, 0).await?;
    let mut mirror = Mirror::default();
    while mirror.fulls < 10 {
        let msg = client.recv().await?;
        mirror.apply(Codec::Bincode, &msg)?;
        ensure!(mirror.deltas == 0, "a delta without any acknowledgement");
    }
    server.shutdown().await;
    Ok(())
}

/// One client stops reading while a chat flood fills its queue: the others, reading
/// normally, keep getting states with advancing ticks and are never cut off, and the slow
/// one is disconnected.
#[tokio::test]
async fn a_client_that_stops_reading_is_cut_off_without_delaying_the_others() -> Result<()> {
    let mut config = arena_config();
    config.matching.fill_wait = Duration::from_secs(60);
    config.write_timeout = Duration::from_millis(500);
    config.chat_burst = u32::MAX;
    config.chat_per_second = 1e9;
    // The flooder is this test's tool for filling the slow client's queue, not its subject:
    // lift the per-connection rate limits (tests/it/limits.rs tests those).
    config.limits.messages_per_second = 1_000_000;
    config.limits.message_burst = 1_000_000;
    config.limits.bytes_per_second = 1 << 30;
    config.limits.byte_burst = 1 << 30;
    let server = start(config).await;
    let addr = server.local_addr();
    let mut clients = Vec::new();
    for _ in 0..7 {
        clients.push(Client::connect(addr, Codec::Bincode).await?);
    }
    let mut slow = Client::connect_small_buffer(addr, Codec::Bincode).await?;
    for client in clients.iter_mut().chain(std::iter::once(&mut slow)) {
        client
            .send(&ClientMsg::FindMatch {
                game: "arena".into(),
                options: bytes::Bytes::new(),
            })
            .await?;
    }
    for client in clients.iter_mut().chain(std::iter::once(&mut slow)) {
        client.match_found().await?;
    }
    let mut flooder = clients.pop().context("seven clients")?;
    // The readers: each counts states with advancing ticks until the flood is over.
    let (flood_done_tx, flood_done) = tokio::sync::watch::channel(false);
    let mut readers = Vec::new();
    for (i, mut client) in clients.into_iter().enumerate() {
        let mut done = flood_done.clone();
        send_direction(&mut client, 1, 0, if i % 2 == 0 { 1 } else { -1 }, 1).await?;
        readers.push(tokio::spawn(async move {
            let mut last_tick = 0;
            let mut states = 0u32;
            loop {
                let msg = client.recv().await?;
                if let ServerMsg::Snapshot { tick, .. } | ServerMsg::Delta { tick, .. } = msg {
                    ensure!(tick > last_tick, "states move forward");
                    last_tick = tick;
                    states += 1;
                    // Turn at every state so the room keeps changing.
                    let dx = if states.is_multiple_of(2) { 1 } else { -1 };
                    send_direction(&mut client, states + 1, 0, dx, 0).await?;
                    if *done.borrow_and_update() && states >= 30 {
                        return anyhow::Ok(states);
                    }
                }
            }
        }));
    }
    // The flood reaches everyone; only the slow client, which never reads, falls behind.
    // The flooder reads its own lines back in between, so that it keeps up itself.
    let text = "x".repeat(200);
    for _ in 0..40 {
        for _ in 0..500 {
            flooder
                .send(&ClientMsg::Chat { text: text.clone() })
                .await?;
        }
        let mut echoed = 0;
        while echoed < 500 {
            if let ServerMsg::Event {
                event: RoomEvent::Chat { .. },
                ..
            } = flooder.recv().await?
            {
                echoed += 1;
            }
        }
    }
    let _ = flood_done_tx.send(true);
    let deadline = tokio::time::Instant::now() + crate::support::WAIT;
    while server.stats().connections > 7 {
        if tokio::time::Instant::now() > deadline {
            bail!(
                "the slow client was never disconnected: {:?}",
                server.stats()
            );
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    for reader in readers {
        let states = reader.await??;
        ensure!(states >= 30);
    }
    // The slow client, reading at last, finds its connection closed.
    let code = slow.closed().await?;
    ensure!(
        matches!(code, None | Some(4003)),
        "closed as too slow, or dropped: {code:?}"
    );
    drop(flooder);
    server.shutdown().await;
    Ok(())
}

/// Relay rooms relay every tick's inputs as reliable frames; a dropped player who resumes
/// gets every frame it missed, in order, without gaps.
#[tokio::test]
async fn relay_rooms_replay_every_missed_input_frame_on_resume() -> Result<()> {
    let server = start(arena_config()).await;
    let addr = server.local_addr();
    let mut a = Client::connect(addr, Codec::Bincode).await?;
    let mut b = Client::connect(addr, Codec::MsgPack).await?;
    a.send(&ClientMsg::CreateRoom {
        game: "tictactoe".into(),
        settings: RoomSettings {
            allow_spectators: false,
            relay: true,
            ranked: false,
            options: bytes::Bytes::new(),
        },
    })
    .await?;
    let code = a.room_joined().await?.code;
    b.send(&ClientMsg::JoinRoom {
        code,
        spectate: false,
    })
    .await?;
    b.room_joined().await?;
    // Frames flow; a's inputs show up in the frames both see, byte for byte.
    a.send_input_bytes(Bytes::from_static(b"move-1")).await?;
    let frame_with = |payload: &'static [u8]| {
        move |f: &InputFrame| {
            f.inputs
                .iter()
                .any(|i| i.data.as_ref() == payload)
                .then_some(f.frame)
        }
    };
    let seen_by_a = a.game_event(frame_with(b"move-1")).await?;
    let seen_by_b = b.game_event(frame_with(b"move-1")).await?;
    ensure!(
        seen_by_a == seen_by_b,
        "both see the input in the same frame"
    );
    // b drops; a keeps sending; b resumes and must get every frame since its last seq.
    let b_seq = b.last_event_seq;
    let resumable = b.drop_connection();
    for n in 2..=6 {
        a.send_input_bytes(Bytes::from(format!("move-{n}"))).await?;
        a.game_event(|f: &InputFrame| {
            f.inputs
                .iter()
                .any(|i| i.data.as_ref() == format!("move-{n}").as_bytes())
                .then_some(())
        })
        .await?;
    }
    let mut b = Client::resume(addr, &resumable).await?;
    b.room_joined().await?;
    let mut expected_seq = b_seq + 1;
    let mut last_frame = seen_by_b;
    let mut payloads = Vec::new();
    while payloads.len() < 5 {
        match b.recv().await? {
            ServerMsg::Event { seq, .. } => {
                ensure!(
                    seq == expected_seq,
                    "event seq {seq}, expected {expected_seq}"
                );
                expected_seq += 1;
            }
            ServerMsg::GameEvent { seq, tick, data } => {
                ensure!(
                    seq == expected_seq,
                    "event seq {seq}, expected {expected_seq}"
                );
                expected_seq += 1;
                let InputFrame { frame, inputs } = b.codec.decode(&data)?;
                ensure!(frame == tick, "a frame is its event's tick");
                ensure!(frame > last_frame, "frames in order");
                last_frame = frame;
                payloads.extend(inputs.into_iter().map(|i| i.data));
            }
            ServerMsg::Snapshot { .. } | ServerMsg::Delta { .. } => {
                bail!("relay rooms send no snapshots")
            }
            _ => {}
        }
    }
    let expected: Vec<Bytes> = (2..=6).map(|n| Bytes::from(format!("move-{n}"))).collect();
    ensure!(payloads == expected, "missed inputs replayed: {payloads:?}");
    server.shutdown().await;
    Ok(())
}
