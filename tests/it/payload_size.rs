//! Bytes per arena update in each codec (issue 13): the whole state message a client
//! receives each tick (the `Delta` envelope, as the server's writer puts it around the
//! `ArenaDelta`), for the arena workload's shape, so that the MessagePack size cannot grow
//! back unnoticed. Both MessagePack subprotocols are measured: `ticksync.msgpack.v2`
//! (`Codec::MsgPack`, the state messages as short arrays) and `ticksync.msgpack.v1`.
//!
//! Pure and deterministic: the rules are driven by hand, with no server or socket. The
//! workload is the loadgen's (WORKLOADS.md `arena`): 8 players, each holding a direction for
//! 10 inputs at 20 Hz (15 ticks at 30 Hz) and then turning to another of the 8 non-zero
//! directions; every client acknowledges the newest state it applied with each input, so
//! at a tick the server holds an acknowledgement of the previous tick two times in three
//! and of the one before otherwise (inputs every 1.5 ticks).
//!
//! Tick numbers count from the server's start and `input_seq` from the client's join, so
//! their encoded widths grow with the server's age. Two points are checked: the loadgen's
//! 20-second run on a fresh server (ticks 90 to 600, the window BENCHMARKS.md measures, where
//! the targets were set), and a room on a server up for over an hour (ticks past 2^16).

use std::collections::VecDeque;
use ticksync::game::arena::DIRECTIONS;

use bytes::{Bytes, BytesMut};
use ticksync::codec::Codec;
use ticksync::game::arena::{Arena, ArenaDelta, ArenaInput, ArenaView};
use ticksync::game::{CtxState, DeltaGame, Game, GameConfig, Viewer};
use ticksync::outbox::StateFrame;
use ticksync::protocol::{RoomSettings, ServerMsg, Tick};
use ticksync::transport::ws_frame::put_state_prefix;

/// What one simulated run sent: message sizes per codec, indexed by [`slot`].
#[derive(Default)]
struct Sizes {
    /// Total bytes of every `Delta` message.
    delta_bytes: [usize; 3],
    /// Total bytes of the `ArenaDelta`s alone (`Delta.delta`).
    body_bytes: [usize; 3],
    deltas: usize,
    /// Bytes of a full `Snapshot` of 8 players.
    snapshot_bytes: [usize; 3],
    /// Players sent in all deltas together.
    changed_players: usize,
}

/// A codec's place in [`Codec::ALL`], and so in [`Sizes`]' arrays.
fn slot(codec: Codec) -> usize {
    Codec::ALL
        .iter()
        .position(|c| *c == codec)
        .expect("every codec is in ALL")
}

/// The bytes of the state message the server's writer sends around `body`, which a client
/// decodes back to the same fields.
fn state_msg(codec: Codec, tick: Tick, base: Option<Tick>, input_seq: u32, body: &[u8]) -> usize {
    let state = StateFrame {
        tick,
        base_tick: base,
        input_seq,
        body: Bytes::copy_from_slice(body),
    };
    let mut frame = BytesMut::new();
    put_state_prefix(codec, &state, &mut frame);
    frame.extend_from_slice(body);
    let read = codec
        .decode_server(&frame)
        .expect("a state message decodes");
    let (read_tick, read_body) = match read {
        ServerMsg::Snapshot { tick, state, .. } => (tick, state),
        ServerMsg::Delta { tick, delta, .. } => (tick, delta),
        other => panic!("{codec:?}: {other:?}"),
    };
    assert_eq!((read_tick, &read_body[..]), (tick, body), "{codec:?}");
    frame.len()
}

/// Runs the workload from tick `start` to `end` and sums the sizes of what seat 0's
/// client receives.
fn simulate(start: Tick, end: Tick) -> Sizes {
    let config = GameConfig {
        tick_hz: 30,
        settings: RoomSettings::default(),
        players: 8,
        seed: 0,
    };
    let mut ctx = CtxState::<()>::new(config.seed);
    let mut game = Arena::new(&config, (), &mut ctx.at(start));
    let mut rng: u64 = 0x2545_f491_4f6c_dd1d;
    let mut next = move || {
        // xorshift64: a fixed, dependency-free sequence.
        rng ^= rng << 13;
        rng ^= rng >> 7;
        rng ^= rng << 17;
        rng
    };
    let mut facing = [0usize; 8];
    let mut history: VecDeque<(Tick, ArenaView)> = VecDeque::new();
    let mut sizes = Sizes::default();
    for tick in start + 1..=end {
        for seat in 0..8u8 {
            // Seat s turns every 15 ticks, seats two ticks apart.
            if (tick + 2 * u64::from(seat)) % 15 == 0 {
                let turn = 1 + (next() % 7) as usize;
                let index = usize::from(seat);
                facing[index] = (facing[index] + turn) % DIRECTIONS.len();
                let (dx, dy) = DIRECTIONS[facing[index]];
                let input = ArenaInput { dx, dy };
                game.validate(seat, &input).expect("a legal direction");
                game.apply(&mut ctx.at(tick), seat, input);
            }
        }
        game.tick(&mut ctx.at(tick));
        let current = game.view(Viewer::Player(0));
        let lag = [1, 1, 2][(tick % 3) as usize];
        // 20 inputs a second since the client joined, a second after the server started.
        let input_seq = u32::try_from(tick.saturating_sub(30) * 2 / 3).unwrap_or(u32::MAX);
        if let Some((base_tick, base)) = history.iter().find(|(t, _)| *t == tick - lag) {
            let delta = Arena::diff(base, *base_tick, &current, tick);
            sizes.changed_players += delta.changed.len();
            sizes.deltas += 1;
            for codec in Codec::ALL {
                let body = codec.encode(&delta).expect("a delta encodes");
                let back: ArenaDelta = codec.decode(&body).expect("a delta decodes");
                assert_eq!(back, delta, "{codec:?}");
                sizes.body_bytes[slot(codec)] += body.len();
                sizes.delta_bytes[slot(codec)] +=
                    state_msg(codec, tick, Some(*base_tick), input_seq, &body);
            }
        }
        history.push_back((tick, current));
        if history.len() > 8 {
            history.pop_front();
        }
    }
    let (tick, view) = history.back().expect("ticks ran");
    for codec in Codec::ALL {
        let body = codec.encode(view).expect("a view encodes");
        let back: ArenaView = codec.decode(&body).expect("a view decodes");
        assert_eq!(&back, view, "{codec:?}");
        sizes.snapshot_bytes[slot(codec)] = state_msg(codec, *tick, None, 700, &body);
    }
    sizes
}

/// One simulated run's figures, per codec: bytes per update, and the 8-player snapshot's
/// bytes.
struct Figures {
    bincode: f64,
    msgpack: f64,
    msgpack_v1: f64,
    /// bincode, MessagePack, MessagePack version 1.
    snapshot: [usize; 3],
}

/// Prints one simulated run's figures and returns them.
fn figures(what: &str, sizes: &Sizes) -> Figures {
    let per_update = |codec: Codec| sizes.delta_bytes[slot(codec)] as f64 / sizes.deltas as f64;
    let body = |codec: Codec| sizes.body_bytes[slot(codec)] as f64 / sizes.deltas as f64;
    let [snapshot_bincode, snapshot_msgpack, snapshot_v1] =
        Codec::ALL.map(|codec| sizes.snapshot_bytes[slot(codec)]);
    let figures = Figures {
        bincode: per_update(Codec::Bincode),
        msgpack: per_update(Codec::MsgPack),
        msgpack_v1: per_update(Codec::MsgPackV1),
        snapshot: [snapshot_bincode, snapshot_msgpack, snapshot_v1],
    };
    let Figures {
        bincode,
        msgpack,
        msgpack_v1,
        ..
    } = figures;
    eprintln!(
        "{what}: {} deltas, {:.2} changed players each: bincode {bincode:.2} B, MessagePack \
         {msgpack:.2} B per update ({:.2}x; version 1: {msgpack_v1:.2} B, {:.2}x; the \
         ArenaDelta alone {:.2} / {:.2} B); 8-player snapshot {snapshot_bincode} / \
         {snapshot_msgpack} / {snapshot_v1} B",
        sizes.deltas,
        sizes.changed_players as f64 / sizes.deltas as f64,
        msgpack / bincode,
        msgpack_v1 / bincode,
        body(Codec::Bincode),
        body(Codec::MsgPack),
    );
    figures
}

/// Issue 13's targets for the loadgen's measured window: at most 16 bytes per update in
/// bincode and 26 in MessagePack (named maps made it 83), in both MessagePack
/// subprotocols.
#[test]
fn arena_updates_on_a_fresh_server_meet_the_byte_targets() {
    let young = simulate(90, 600);
    assert!(
        young.deltas > 450,
        "every tick after the first sent a delta"
    );
    let figures = figures("ticks 90 to 600", &young);
    assert!(
        figures.bincode <= 16.0,
        "bincode: {:.2} bytes per update",
        figures.bincode
    );
    for (name, msgpack) in [("v2", figures.msgpack), ("v1", figures.msgpack_v1)] {
        assert!(
            msgpack <= 26.0,
            "MessagePack {name}: {msgpack:.2} bytes per update"
        );
    }
}

/// `ticksync.msgpack.v2` within 1.6x of bincode at every age of the server: on a fresh
/// one (ticks 90 to 690, where bincode's one-byte integers reach 250 and MessagePack's stop
/// at 127), once tick numbers take their 3-byte forms in both codecs (from tick 256, 8.5 s
/// of uptime), and on a server up for over an hour; the 8-player snapshot too.
/// `ticksync.msgpack.v1`'s envelope (`{"Delta": [...]}`, 6 bytes more) made the first of
/// these 1.63x (BENCHMARKS.md): it is held to 1.6x only from tick 300 on, as before.
#[test]
fn arena_updates_in_messagepack_stay_within_1_6x_of_bincode() {
    for (what, start) in [
        ("ticks 90 to 690", 90),
        ("ticks 300 to 900", 300),
        ("ticks past 2^16", 70_000),
    ] {
        let figures = figures(what, &simulate(start, start + 600));
        let bincode = figures.bincode;
        let mut held = vec![("v2", figures.msgpack)];
        if start >= 300 {
            held.push(("v1", figures.msgpack_v1));
        }
        for (name, msgpack) in held {
            assert!(
                msgpack <= 1.6 * bincode,
                "{what}: MessagePack {name} {msgpack:.2} bytes per update, {:.2}x bincode's \
                 {bincode:.2}",
                msgpack / bincode
            );
        }
        let [bincode_snapshot, msgpack_snapshot, v1_snapshot] = figures.snapshot;
        assert!(
            msgpack_snapshot as f64 <= 1.6 * bincode_snapshot as f64,
            "{what}: snapshot {:?}",
            figures.snapshot
        );
        assert!(
            msgpack_snapshot < v1_snapshot,
            "{what}: {:?}",
            figures.snapshot
        );
        assert!(
            v1_snapshot as f64 <= 1.6 * bincode_snapshot as f64,
            "{what}: version 1's snapshot, {:?}",
            figures.snapshot
        );
    }
}

/// Malformed arena payloads are errors in both codecs, never panics or guesses.
#[test]
fn malformed_arena_payloads_are_refused() {
    use ticksync::game::arena::ArenaPlayer;
    // MessagePack: a player cut short, a view as the old named map, a delta whose last
    // player lacks its dir, a negative x, a lead that is no i8.
    let msgpack: [&[u8]; 5] = [
        &[0x91, 0x93, 0x00, 0x01, 0x02],
        &[0x81, 0xa7, b'p', b'l', b'a', b'y', b'e', b'r', b's', 0x90],
        &[0x93, 0x02, 0x10, 0x10],
        &[0x94, 0x02, 0xff, 0x10, 0x04],
        &[0x91, 0xd1, 0xff, 0x7f],
    ];
    for bytes in msgpack {
        assert!(
            Codec::MsgPack.decode::<ArenaDelta>(bytes).is_err(),
            "{bytes:02x?}"
        );
        assert!(
            Codec::MsgPack.decode::<ArenaView>(bytes).is_err(),
            "{bytes:02x?}"
        );
    }
    // bincode: a count claiming more integers than follow, and trailing bytes.
    assert!(
        Codec::Bincode
            .decode::<ArenaDelta>(&[0x05, 0x02, 0x10])
            .is_err()
    );
    assert!(
        Codec::Bincode
            .decode::<ArenaDelta>(&[0x01, 0xfa, 0x00])
            .is_err()
    );
    // What does decode: removed seats alone, in both codecs.
    let removed = ArenaDelta {
        changed: vec![],
        removed: vec![0, 7],
    };
    assert_eq!(
        Codec::MsgPack
            .decode::<ArenaDelta>(&[0x92, 0xff, 0xf8])
            .unwrap(),
        removed
    );
    assert_eq!(
        Codec::Bincode
            .decode::<ArenaDelta>(&[0x02, 0xff, 0xf8])
            .unwrap(),
        removed
    );
    // A seat that does not fit the delta's i8 is an encode error, not a wrong byte.
    let wide = ArenaDelta {
        changed: vec![ArenaPlayer {
            seat: 200,
            x: 0,
            y: 0,
            dir: 4,
        }],
        removed: vec![],
    };
    for codec in Codec::ALL {
        assert!(codec.encode(&wide).is_err(), "{codec:?}");
    }
}

/// The arena's input is written as `[dx, dy]`; the named map clients sent before is still
/// read, in any key order.
#[test]
fn arena_inputs_are_pairs_and_named_maps_still_decode() {
    let input = ArenaInput { dx: -1, dy: 1 };
    assert_eq!(
        &Codec::MsgPack.encode(&input).unwrap()[..],
        &[0x92, 0xff, 0x01]
    );
    assert_eq!(&Codec::Bincode.encode(&input).unwrap()[..], &[0xff, 0x01]);
    let named = [0x82, 0xa2, b'd', b'y', 0x01, 0xa2, b'd', b'x', 0xff];
    assert_eq!(Codec::MsgPack.decode::<ArenaInput>(&named).unwrap(), input);
    assert!(Codec::MsgPack.decode::<ArenaInput>(&[0x91, 0xff]).is_err());
    assert!(
        Codec::MsgPack
            .decode::<ArenaInput>(&[0x92, 0xff, 0xcc, 0x80])
            .is_err()
    );
}
