//! The game's events, state frames (delta bases) and replays, read from the room's output.

use super::*;

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
fn a_relay_room_frames_every_tick_and_a_resumed_player_gets_every_missed_frame() {
    let mut rig = Rig::new(GameEntry::relay(&GameEntry::of::<Tally>()), 0);
    rig.tick(2);
    let last_seq = *seqs(&rig.said(2)).last().unwrap();
    rig.disconnected(2, 2);
    // More frames than the room's ordinary log (8 events) holds: relay rooms keep a grace.
    for now in 3..3 + GRACE - 1 {
        rig.queue_input(1, now as u32, Bytes::from(vec![now as u8]));
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
fn both_messagepack_subprotocols_share_each_frame() {
    let mut rig = Rig::new(GameEntry::with_deltas::<Tally>(), 0);
    // Member 2 speaks `ticksync.msgpack.v2`; 3 joins with version 1.
    rig.join(member(3, Codec::MsgPackV1), true, 1).unwrap();
    rig.input(1, 1, 1, 2);
    let full: Vec<StateFrame> = [2, 3].map(|s| states(&rig.heard(s))[0].clone()).to_vec();
    assert!(full.iter().all(|s| s.base_tick.is_none()));
    assert_eq!(
        full[0].body.as_ptr(),
        full[1].body.as_ptr(),
        "one full view"
    );
    rig.acknowledge(2, 2);
    rig.acknowledge(3, 2);
    rig.input(1, 2, 1, 3);
    let delta: Vec<StateFrame> = [2, 3].map(|s| states(&rig.heard(s))[0].clone()).to_vec();
    assert!(delta.iter().all(|s| s.base_tick == Some(2)));
    assert_eq!(delta[0].body.as_ptr(), delta[1].body.as_ptr(), "one delta");
}

#[test]
fn delta_bases_are_acknowledged_ticks_only_and_survive_lost_acknowledgements() {
    let mut rig = Rig::new(GameEntry::with_deltas::<Tally>(), 0);
    // A third member in the first's codec, to see frames shared.
    rig.join(member(3, Codec::Bincode), true, 1).unwrap();
    // A leftover acknowledgement from an earlier room (ticks are comparable across
    // shards) is no base: the first state is full.
    rig.acknowledge(1, 1);
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
    rig.acknowledge(1, 2);
    rig.acknowledge(3, 2);
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
    rig.acknowledge(2, 3);
    rig.input(1, 3, 1, 4);
    let fourth: Vec<StateFrame> = [1, 2, 3].map(|s| states(&rig.heard(s))[0].clone()).to_vec();
    assert_eq!(fourth[0].base_tick, Some(2), "still the acknowledged tick");
    assert_eq!(fourth[1].base_tick, Some(3));
    let (base, _): (Tick, (u32, u32)) = Codec::MsgPack.decode(&fourth[1].body).unwrap();
    assert_eq!(base, 3, "the delta answers that base");

    // A tick the room never sent (or no longer keeps) is no base either.
    rig.acknowledge(3, 99);
    rig.input(1, 4, 1, 5);
    assert_eq!(states(&rig.heard(3))[0].base_tick, None);

    // An idle tick sends nothing.
    rig.out.take();
    rig.tick(6);
    assert!(states(&rig.out.take()).is_empty());
}

#[test]
fn an_earlier_rooms_acknowledgement_is_no_base_even_with_this_rooms_tick() {
    // A shard running late ticks a number another shard used a moment before, so the
    // earlier room's last state can carry the number of this room's first: session 1's
    // connection got an earlier room's tick 2.
    let mut rig = Rig::new(GameEntry::with_deltas::<Tally>(), 0);
    rig.sent_before(1, 2);
    rig.input(1, 1, 1, 2);
    let first = states(&rig.heard(1))[0].clone();
    assert_eq!((first.tick, first.base_tick), (2, None));
    // Its first input here still acknowledges the earlier room's tick 2 (this room's had
    // not arrived): the same number, so nothing tells the two apart, and a delta against
    // it could reach a client that has only the old room's tick 2. Full again.
    rig.acknowledge(1, 2);
    rig.input(1, 2, 1, 3);
    assert_eq!(states(&rig.heard(1))[0].base_tick, None);
    // A later acknowledgement can only be this room's.
    rig.acknowledge(1, 3);
    rig.input(1, 3, 1, 4);
    assert_eq!(states(&rig.heard(1))[0].base_tick, Some(3));
    // Session 2's connection had nothing from an earlier room: its acknowledgement of the
    // first state it got here is a base at once.
    rig.heard(2);
    rig.acknowledge(2, 4);
    rig.input(1, 4, 1, 5);
    assert_eq!(states(&rig.heard(2))[0].base_tick, Some(4));
}

#[test]
fn a_games_replay_records_its_seed_inputs_and_hook_calls_and_verifies() {
    let mut rig = Rig::new(GameEntry::of::<Tally>(), 99);
    for (seq, now) in (1..=5).zip(2..) {
        rig.input(1 + u64::from(seq % 2), seq, seq as u8, now);
    }
    rig.disconnected(2, 8);
    rig.input(1, 6, 9, 9);
    rig.rebind(member(2, Codec::MsgPack), 0, 10);
    rig.leave(2, 11);
    rig.join(member(3, Codec::Bincode), false, 12).unwrap();
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
