//! Tests of `codec.rs`.

use super::*;

#[test]
fn codecs_parse_from_their_names_and_subprotocols() {
    for codec in Codec::ALL {
        let name = match codec {
            Codec::Bincode => "bincode",
            Codec::MsgPack => "msgpack",
            Codec::MsgPackV1 => "msgpack-v1",
        };
        assert_eq!(name.parse::<Codec>(), Ok(codec));
        assert_eq!(codec.subprotocol().parse::<Codec>(), Ok(codec));
    }
    let refused = "json".parse::<Codec>().unwrap_err();
    assert!(
        refused.contains("bincode, msgpack or msgpack-v1"),
        "{refused}"
    );
}
use crate::protocol::{ClientMsg, ServerMsg};

/// [`Codec::encode`] gives each message its exact bytes, whatever the scratch buffer
/// held before (a longer message, one too large to keep), and empty values no bytes.
#[test]
fn encode_reuses_its_scratch_and_returns_exact_bytes() {
    use crate::protocol::{MatchId, RoomId, RoomJoined};
    let big = u64::MAX >> 8;
    let messages = [
        ServerMsg::RatingChanged {
            match_id: MatchId::new(big),
            game: "tictactoe".into(),
            previous: 1500,
            rating: 1662,
        },
        ServerMsg::MatchFound(RoomJoined {
            room_id: RoomId::new(big),
            code: "ABCDEF".into(),
            game: "tictactoe".into(),
            seat: Some(1),
            seats: 2,
            bots: Vec::new(),
        }),
    ];
    let huge = ServerMsg::RatingChanged {
        match_id: MatchId::new(1),
        game: "g".repeat(SCRATCH_KEEP_BYTES + 1),
        previous: 1,
        rating: 2,
    };
    for codec in Codec::ALL {
        for msg in messages.iter().chain([&huge]).chain(&messages) {
            let frame = codec.encode(msg).unwrap();
            let mut fresh = BytesMut::new();
            codec.encode_into(msg, &mut fresh).unwrap();
            assert!(
                frame == fresh.freeze(),
                "{codec:?}: not the bytes encode_into gives"
            );
            if frame.len() <= MAX_DECODE_BYTES {
                assert_eq!(codec.decode::<ServerMsg>(&frame).ok().as_ref(), Some(msg));
            }
        }
        assert!(SCRATCH.with_borrow(|buf| buf.capacity()) <= SCRATCH_KEEP_BYTES);
    }
    // bincode writes nothing for `()` (MessagePack a nil byte).
    assert!(Codec::Bincode.encode(&()).unwrap().is_empty());
}

/// [`Codec::encode_into`] appends: what the buffer held stays in front, untouched, and the
/// message after it is the bytes [`Codec::encode`] gives (both codecs write into the
/// buffer through writers of their own).
#[test]
fn encode_into_appends_after_what_the_buffer_holds() {
    let msg = ServerMsg::Error {
        code: crate::protocol::ErrorCode::NotInRoom,
        message: "x".repeat(300),
        input_seq: Some(70_000),
    };
    for codec in Codec::ALL {
        let mut buf = BytesMut::from(&b"held"[..]);
        codec.encode_into(&msg, &mut buf).unwrap();
        codec.encode_into(&msg, &mut buf).unwrap();
        let one = codec.encode(&msg).unwrap();
        assert_eq!(&buf[..4], b"held", "{codec:?}");
        assert_eq!(&buf[4..4 + one.len()], &one[..], "{codec:?}");
        assert_eq!(&buf[4 + one.len()..], &one[..], "{codec:?}");
    }
}

#[test]
fn owned_frames_hold_exactly_their_bytes_from_none_to_past_the_inline_sizes() {
    for len in [
        0,
        1,
        SMALL_FRAME,
        SMALL_FRAME + 1,
        LARGE_FRAME,
        LARGE_FRAME + 1,
        4096,
    ] {
        let bytes: Vec<u8> = (0..len).map(|i| (i % 251) as u8).collect();
        let frame = owned_frame(&bytes);
        let clone = frame.clone();
        drop(frame);
        assert_eq!(&clone[..], &bytes[..], "{len}");
    }
}

#[test]
fn frames_of_every_size_around_the_inline_sizes_encode_to_the_same_bytes() {
    let mut sizes = std::collections::BTreeSet::new();
    for codec in Codec::ALL {
        for len in 0..=LARGE_FRAME + 8 {
            let msg = ServerMsg::Error {
                code: crate::protocol::ErrorCode::NotInRoom,
                message: "x".repeat(len),
                input_seq: None,
            };
            let mut expected = BytesMut::new();
            codec.encode_into(&msg, &mut expected).unwrap();
            let frame = codec.encode(&msg).unwrap();
            let copy = frame.clone();
            drop(frame);
            assert_eq!(&copy[..], &expected[..], "{codec:?}, {len}");
            assert_eq!(codec.decode::<ServerMsg>(&copy).unwrap(), msg);
            sizes.insert(copy.len());
        }
    }
    // Each side of both inline sizes was encoded.
    for edge in [SMALL_FRAME, LARGE_FRAME] {
        assert!(
            sizes.contains(&edge) && sizes.contains(&(edge + 1)),
            "{edge}"
        );
    }
}

#[test]
fn subprotocols_round_trip() {
    for codec in Codec::ALL {
        assert_eq!(Codec::from_subprotocol(codec.subprotocol()), Some(codec));
    }
    assert_eq!(Codec::from_subprotocol("ticksync.json.v1"), None);
}

#[test]
fn both_codecs_round_trip_messages() {
    let msgs = [
        ClientMsg::Hello {
            version: 1,
            resume_token: Some("abc".into()),
            last_event_seq: 7,
            auth_token: Some("a.b.c".into()),
            ticket: Some("t.s".into()),
        },
        ClientMsg::Input {
            seq: 300,
            ack_tick: 1 << 40,
            data: Bytes::from_static(&[1, 2, 3]),
        },
        ClientMsg::CancelMatch,
    ];
    for codec in Codec::ALL {
        for msg in &msgs {
            let bytes = codec.encode(msg).unwrap();
            let back: ClientMsg = codec.decode(&bytes).unwrap();
            assert_eq!(&back, msg, "{codec:?}");
        }
    }
}

#[test]
fn huge_claimed_lengths_are_refused_without_allocating() {
    // bincode: variant 7 (Input), seq 1, ack 0, then a byte string claiming u64::MAX bytes.
    let bincode_bomb = [
        7u8, 1, 0, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF,
    ];
    assert!(matches!(
        Codec::Bincode.decode::<ClientMsg>(&bincode_bomb),
        Err(CodecError::Malformed(_))
    ));
    // msgpack: {"FindMatch": {"game": str32 claiming 4 GB}}.
    let mut msgpack_bomb = vec![0x81, 0xA9];
    msgpack_bomb.extend_from_slice(b"FindMatch");
    msgpack_bomb.extend_from_slice(&[0x81, 0xA4]);
    msgpack_bomb.extend_from_slice(b"game");
    msgpack_bomb.extend_from_slice(&[0xDB, 0xFF, 0xFF, 0xFF, 0xF0]);
    assert!(matches!(
        Codec::MsgPack.decode::<ClientMsg>(&msgpack_bomb),
        Err(CodecError::Malformed(_))
    ));
}

#[test]
fn deep_msgpack_nesting_is_refused() {
    // {"FindMatch": {"game": "t", "x": [[[[...]]]]}}: the unknown field is skipped, but
    // skipping a 200-deep array must stop at the depth limit.
    let mut bytes = vec![0x81, 0xA9];
    bytes.extend_from_slice(b"FindMatch");
    bytes.extend_from_slice(&[0x82, 0xA4]);
    bytes.extend_from_slice(b"game");
    bytes.extend_from_slice(&[0xA1, b't', 0xA1, b'x']);
    bytes.extend(std::iter::repeat_n(0x91, 200));
    bytes.push(0xC0);
    let err = Codec::MsgPack.decode::<ClientMsg>(&bytes).unwrap_err();
    assert!(err.to_string().contains("depth"), "{err}");
}

#[test]
fn trailing_bytes_and_oversize_are_refused() {
    for codec in Codec::ALL {
        let mut bytes = codec
            .encode(&ServerMsg::Pong { nonce: 5 })
            .unwrap()
            .to_vec();
        bytes.push(0);
        assert!(matches!(
            codec.decode::<ServerMsg>(&bytes),
            Err(CodecError::TrailingBytes(1))
        ));
        let big = vec![0u8; MAX_DECODE_BYTES + 1];
        assert!(matches!(
            codec.decode::<ServerMsg>(&big),
            Err(CodecError::TooLarge(_))
        ));
    }
}

#[test]
fn a_message_of_exactly_the_cap_decodes_in_both_codecs() {
    for codec in Codec::ALL {
        let mut data = MAX_DECODE_BYTES;
        let bytes = loop {
            let msg = ClientMsg::Input {
                seq: u32::MAX,
                ack_tick: u64::MAX,
                data: Bytes::from(vec![0xAB; data]),
            };
            let bytes = codec.encode(&msg).unwrap();
            if bytes.len() <= MAX_DECODE_BYTES {
                break bytes;
            }
            data -= bytes.len() - MAX_DECODE_BYTES;
        };
        assert_eq!(bytes.len(), MAX_DECODE_BYTES, "{codec:?}");
        let back: ClientMsg = codec.decode(&bytes).unwrap();
        assert!(matches!(back, ClientMsg::Input { seq: u32::MAX, .. }));
    }
}

#[test]
fn msgpack_room_settings_fields_default_when_left_out() {
    // {"CreateRoom": {"game": "arena", "settings": {}}}
    let mut bytes = vec![0x81, 0xAA];
    bytes.extend_from_slice(b"CreateRoom");
    bytes.extend_from_slice(&[0x82, 0xA4]);
    bytes.extend_from_slice(b"game");
    bytes.push(0xA5);
    bytes.extend_from_slice(b"arena");
    bytes.push(0xA8);
    bytes.extend_from_slice(b"settings");
    bytes.push(0x80);
    let msg: ClientMsg = Codec::MsgPack.decode(&bytes).unwrap();
    assert_eq!(
        msg,
        ClientMsg::CreateRoom {
            game: "arena".into(),
            settings: crate::protocol::RoomSettings::default(),
        }
    );
}

#[test]
fn bincode_hello_without_the_token_field_reads_as_none() {
    // Hello { version: 1, resume_token: None, last_event_seq: 0 }, version-1 form.
    let legacy = [0u8, 1, 0, 0];
    let expected = ClientMsg::Hello {
        version: 1,
        resume_token: None,
        last_event_seq: 0,
        auth_token: None,
        ticket: None,
    };
    assert_eq!(Codec::Bincode.decode_client_msg(&legacy).unwrap(), expected);
    // The plain decoder needs the field; the current form still decodes either way.
    assert!(Codec::Bincode.decode::<ClientMsg>(&legacy).is_err());
    let current = Codec::Bincode.encode(&expected).unwrap();
    assert_eq!(&current[..], &[0, 1, 0, 0, 0, 0]);
    assert_eq!(
        Codec::Bincode.decode_client_msg(&current).unwrap(),
        expected
    );
    // Only Hello and FindMatch have a legacy form, and only without trailing bytes.
    assert!(
        Codec::Bincode
            .decode_client_msg(&[0, 1, 0, 0, 0, 0, 9])
            .is_err()
    );
    assert!(Codec::Bincode.decode_client_msg(&[0, 1, 0]).is_err());
    assert!(Codec::Bincode.decode_client_msg(&[1]).is_err());
}

#[test]
fn msgpack_state_messages_are_positional_and_still_read_as_named_maps() {
    // serde's form is version 1's (`ticksync.msgpack.v1`); the server writes version 2's
    // short arrays by hand (`ws_frame::put_state_prefix`), which `decode_server` reads.
    let delta = ServerMsg::Delta {
        tick: 5,
        base_tick: 3,
        input_seq: 1,
        delta: Bytes::from_static(&[0x90]),
    };
    // {"Delta": [5, 3, 1, bin 90]}
    let mut positional = vec![0x81, 0xA5];
    positional.extend_from_slice(b"Delta");
    positional.extend_from_slice(&[0x94, 5, 3, 1, 0xC4, 1, 0x90]);
    assert_eq!(
        &Codec::MsgPackV1.encode(&delta).unwrap()[..],
        &positional[..]
    );
    assert_eq!(Codec::MsgPackV1.decode_server(&positional).unwrap(), delta);
    // Version 2: [11, 5, 3, 1, bin 90].
    let short = [0x95, 11, 5, 3, 1, 0xC4, 1, 0x90];
    assert_eq!(Codec::MsgPack.decode_server(&short).unwrap(), delta);
    assert!(
        Codec::MsgPackV1.decode_server(&short).is_err(),
        "version 1 has no arrays"
    );
    assert!(Codec::MsgPack.decode_server(&short[..7]).is_err());
    // The named map servers sent before is read too.
    let mut map = vec![0x81, 0xA5];
    map.extend_from_slice(b"Delta");
    map.push(0x84);
    for (key, value) in [
        ("tick", &[5u8][..]),
        ("base_tick", &[3]),
        ("input_seq", &[1]),
        ("delta", &[0xC4, 1, 0x90]),
    ] {
        map.push(0xA0 | key.len() as u8);
        map.extend_from_slice(key.as_bytes());
        map.extend_from_slice(value);
    }
    for codec in [Codec::MsgPack, Codec::MsgPackV1] {
        assert_eq!(codec.decode_server(&map).unwrap(), delta);
    }
    // bincode is unchanged: the variant index, then the fields in order.
    assert_eq!(
        &Codec::Bincode.encode(&delta).unwrap()[..],
        &[11, 5, 3, 1, 1, 0x90]
    );
    // A field short is malformed.
    positional[7] = 0x93;
    assert!(
        Codec::MsgPackV1
            .decode::<ServerMsg>(&positional[..positional.len() - 3])
            .is_err()
    );
}

#[test]
fn bincode_find_match_without_options_reads_as_the_defaults() {
    // FindMatch { game: "pig" }, the form before `options`.
    let legacy = [2u8, 3, b'p', b'i', b'g'];
    let expected = ClientMsg::FindMatch {
        game: "pig".into(),
        options: Bytes::new(),
    };
    assert_eq!(Codec::Bincode.decode_client_msg(&legacy).unwrap(), expected);
    assert!(Codec::Bincode.decode::<ClientMsg>(&legacy).is_err());
    let current = Codec::Bincode.encode(&expected).unwrap();
    assert_eq!(&current[..], &[2, 3, b'p', b'i', b'g', 0]);
    assert_eq!(
        Codec::Bincode.decode_client_msg(&current).unwrap(),
        expected
    );
    // A cut-off name is still an error.
    assert!(Codec::Bincode.decode_client_msg(&[2, 3, b'p']).is_err());
    // MessagePack: a missing key is empty options.
    let msgpack =
        rmp_serde::to_vec_named(&serde_json::json!({"FindMatch": {"game": "pig"}})).unwrap();
    assert_eq!(
        Codec::MsgPack.decode_client_msg(&msgpack).unwrap(),
        expected
    );
}

#[test]
fn bincode_hello_without_the_ticket_field_reads_as_none() {
    // Hello { version: 2, resume_token: None, last_event_seq: 0, auth_token: "t" },
    // the form before `ticket`.
    let legacy = [0u8, 2, 0, 0, 1, 1, b't'];
    let expected = ClientMsg::Hello {
        version: 2,
        resume_token: None,
        last_event_seq: 0,
        auth_token: Some("t".into()),
        ticket: None,
    };
    assert_eq!(Codec::Bincode.decode_client_msg(&legacy).unwrap(), expected);
    assert!(Codec::Bincode.decode::<ClientMsg>(&legacy).is_err());
    let with_ticket = ClientMsg::Hello {
        version: 2,
        resume_token: None,
        last_event_seq: 0,
        auth_token: Some("t".into()),
        ticket: Some("k".into()),
    };
    let current = Codec::Bincode.encode(&with_ticket).unwrap();
    assert_eq!(&current[..], &[0, 2, 0, 0, 1, 1, b't', 1, 1, b'k']);
    assert_eq!(
        Codec::Bincode.decode_client_msg(&current).unwrap(),
        with_ticket
    );
    // A ticket cut short is an error, not a ticket-less Hello.
    assert!(Codec::Bincode.decode_client_msg(&current[..9]).is_err());
    // MessagePack: a missing key is no ticket.
    let msgpack = rmp_serde::to_vec_named(&serde_json::json!({"Hello": {
        "version": 2, "resume_token": null, "last_event_seq": 0, "auth_token": "t"
    }}))
    .unwrap();
    assert_eq!(
        Codec::MsgPack.decode_client_msg(&msgpack).unwrap(),
        expected
    );
}

#[test]
fn unknown_variants_are_malformed_not_panics() {
    assert!(Codec::Bincode.decode::<ClientMsg>(&[200]).is_err());
    assert!(Codec::MsgPack.decode::<ClientMsg>(b"\xA4Nope").is_err());
    assert!(Codec::Bincode.decode::<ClientMsg>(&[]).is_err());
    assert!(Codec::MsgPack.decode::<ClientMsg>(&[]).is_err());
}
