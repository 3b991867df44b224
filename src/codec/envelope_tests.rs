//! Tests of the hand-written envelopes (`envelope.rs`) against the codecs.
use bytes::{Bytes, BytesMut};

use super::*;
use crate::codec::CodecError;
use crate::outbox::StateFrame;
use crate::protocol::{ClientMsg, ErrorCode, ServerMsg};
use crate::transport::ws_frame::{INTEGER_WIDTHS as WIDTHS, put_state_prefix};

/// Input `seq`s of every width either codec tells apart that fits a `u32`, and the
/// largest.
fn seqs() -> impl Iterator<Item = u32> + Clone {
    WIDTHS
        .into_iter()
        .filter_map(|width| u32::try_from(width).ok())
        .chain([1, u32::MAX])
}

fn state_msg(tick: Tick, base_tick: Option<Tick>, input_seq: u32, body: Bytes) -> ServerMsg {
    match base_tick {
        None => ServerMsg::Snapshot {
            tick,
            input_seq,
            state: body,
        },
        Some(base_tick) => ServerMsg::Delta {
            tick,
            base_tick,
            input_seq,
            delta: body,
        },
    }
}

/// The envelope a decoded state has, if it is one.
fn envelope_of(msg: &ServerMsg) -> Option<StateEnvelope> {
    match msg {
        ServerMsg::Snapshot {
            tick,
            input_seq,
            state,
        } => Some(StateEnvelope {
            tick: *tick,
            base_tick: None,
            input_seq: *input_seq,
            body_len: state.len(),
        }),
        ServerMsg::Delta {
            tick,
            base_tick,
            input_seq,
            delta,
        } => Some(StateEnvelope {
            tick: *tick,
            base_tick: Some(*base_tick),
            input_seq: *input_seq,
            body_len: delta.len(),
        }),
        _ => None,
    }
}

/// The prefix of a state message in MessagePack version 1 and in version 2: the map of the
/// variant's name and the array's header, or the array's header and the variant index.
/// The rest of the message is the same bytes in both.
fn msgpack_prefixes(full: bool) -> (&'static [u8], &'static [u8]) {
    if full {
        (b"\x81\xa8Snapshot\x93", b"\x94\x06")
    } else {
        (b"\x81\xa5Delta\x94", b"\x95\x0b")
    }
}

/// `msg` as the server sends it, built without the server's writer: the codec's own bytes,
/// except in MessagePack version 2, whose state messages serde cannot write: there
/// version 1's bytes with their prefix swapped ([`msgpack_prefixes`]).
fn as_sent(codec: Codec, msg: &ServerMsg) -> Bytes {
    let full = match msg {
        ServerMsg::Snapshot { .. } => true,
        ServerMsg::Delta { .. } => false,
        _ => return codec.encode(msg).unwrap(),
    };
    if codec != Codec::MsgPack {
        return codec.encode(msg).unwrap();
    }
    let named = Codec::MsgPackV1.encode(msg).unwrap();
    let (v1, v2) = msgpack_prefixes(full);
    Bytes::from([v2, named.strip_prefix(v1).unwrap()].concat())
}

/// The full decoder, independent of the envelope reader: serde, and for a MessagePack
/// version 2 array, serde on the version-1 bytes it stands for.
fn decode_fully(codec: Codec, frame: &[u8]) -> Result<ServerMsg, CodecError> {
    if codec == Codec::MsgPack {
        for full in [true, false] {
            let (v1, v2) = msgpack_prefixes(full);
            if let Some(rest) = frame.strip_prefix(v2) {
                return Codec::MsgPackV1.decode(&[v1, rest].concat());
            }
        }
    }
    codec.decode(frame)
}

/// The rule the fast path must keep: whatever it reads, the full decoder reads as the
/// same state. (The other way round it may give up: the caller decodes those.) Returns
/// whether the frame was read.
fn assert_agrees(codec: Codec, frame: &[u8]) -> bool {
    let Some(envelope) = read_state_envelope(codec, frame) else {
        return false;
    };
    let decoded = decode_fully(codec, frame);
    // The client's decoder gives the whole message the independent one does, body and all.
    assert_eq!(
        codec.decode_server(frame).ok(),
        decoded.as_ref().ok().cloned(),
        "{codec:?}: {frame:02x?}"
    );
    let state = decoded.as_ref().ok().and_then(envelope_of);
    assert_eq!(
        state,
        Some(envelope),
        "{codec:?}: read {frame:02x?} as {envelope:?}, the codec as {decoded:?}"
    );
    true
}

/// Every state of the width table, as the real encoder writes it.
fn encoded_states(codec: Codec) -> impl Iterator<Item = (StateEnvelope, Bytes)> {
    WIDTHS.into_iter().flat_map(move |tick| {
        [None, Some(tick / 3)].into_iter().flat_map(move |base| {
            [0u32, 1, 127, 128, 251, 300, 70_000, u32::MAX]
                .into_iter()
                .flat_map(move |seq| {
                    [0usize, 1, 13, 250, 251, 255, 256, 1000, 65_536 / 5]
                        .into_iter()
                        .filter(move |&len| len <= 13 || seq == 300)
                        .map(move |len| {
                            let body = Bytes::from((0..len).map(|i| i as u8).collect::<Vec<_>>());
                            let envelope = StateEnvelope {
                                tick,
                                base_tick: base,
                                input_seq: seq,
                                body_len: len,
                            };
                            let frame = as_sent(codec, &state_msg(tick, base, seq, body));
                            (envelope, frame)
                        })
                })
        })
    })
}

#[test]
fn states_from_the_codec_and_from_the_servers_writer_read_back_exactly() {
    for codec in Codec::ALL {
        let mut read = 0;
        for (envelope, frame) in encoded_states(codec) {
            assert_eq!(
                read_state_envelope(codec, &frame),
                Some(envelope),
                "{codec:?}"
            );
            // The server writes the same bytes by hand around the shared body.
            let state = StateFrame {
                tick: envelope.tick,
                base_tick: envelope.base_tick,
                input_seq: envelope.input_seq,
                body: frame.slice(frame.len() - envelope.body_len..),
            };
            let mut written = BytesMut::new();
            put_state_prefix(codec, &state, &mut written);
            written.extend_from_slice(&state.body);
            assert_eq!(&written[..], &frame[..], "{codec:?}: {envelope:?}");
            assert_eq!(read_state_envelope(codec, &written), Some(envelope));
            assert!(envelope.is_full() == envelope.base_tick.is_none());
            read += 1;
        }
        assert!(read > 300, "{read}");
    }
}

#[test]
fn inputs_written_by_hand_are_the_codecs_bytes() {
    for codec in Codec::ALL {
        for seq in seqs() {
            for ack_tick in WIDTHS {
                for len in [0usize, 2, 255, 256, 65_535, 65_536] {
                    if len > 2 && seq != 300 && seq != 256 {
                        continue;
                    }
                    let data = Bytes::from(vec![0x5A; len]);
                    let mut out = BytesMut::from(&b"kept"[..]);
                    put_input(codec, seq, ack_tick, &data, &mut out);
                    let msg = ClientMsg::Input {
                        seq,
                        ack_tick,
                        data,
                    };
                    assert_eq!(
                        &out[4..],
                        &codec.encode(&msg).unwrap()[..],
                        "{codec:?}: seq {seq}, ack {ack_tick}, {len} bytes"
                    );
                    assert_eq!(&out[..4], b"kept", "appended, not replaced");
                }
            }
        }
    }
}

#[test]
fn cut_and_lengthened_states_are_left_to_the_decoder() {
    for codec in Codec::ALL {
        for (_, frame) in encoded_states(codec).filter(|(e, _)| e.body_len <= 13) {
            for end in 0..frame.len() {
                assert_eq!(read_state_envelope(codec, &frame[..end]), None);
                assert!(codec.decode_server(&frame[..end]).is_err());
                assert!(decode_fully(codec, &frame[..end]).is_err());
            }
            let mut longer = frame.to_vec();
            longer.push(0);
            assert_eq!(read_state_envelope(codec, &longer), None);
            assert!(codec.decode_server(&longer).is_err());
            assert!(decode_fully(codec, &longer).is_err());
        }
    }
}

#[test]
fn other_messages_are_not_states() {
    let others = [
        ServerMsg::Pong { nonce: 6 },
        ServerMsg::Pong { nonce: 11 },
        ServerMsg::Error {
            code: ErrorCode::BadMessage,
            message: "Snapshot".into(),
            input_seq: Some(6),
        },
        ServerMsg::RoomLeft {
            room_id: crate::protocol::RoomId::new(11),
        },
    ];
    for codec in Codec::ALL {
        for msg in &others {
            let frame = codec.encode(msg).unwrap();
            assert_eq!(read_state_envelope(codec, &frame), None, "{msg:?}");
        }
        assert_eq!(read_state_envelope(codec, &[]), None);
    }
}

#[test]
fn states_in_other_forms_the_decoder_takes_are_left_to_it() {
    // bincode: tick 5 written in three bytes instead of one.
    let long_tick = [BINCODE_SNAPSHOT, 251, 5, 0, 0, 1, 0xAA];
    assert_eq!(read_state_envelope(Codec::Bincode, &long_tick), None);
    assert_eq!(
        Codec::Bincode.decode::<ServerMsg>(&long_tick).unwrap(),
        state_msg(5, None, 0, Bytes::from_static(&[0xAA]))
    );
    // MessagePack: the named map older servers sent, and a uint 16 holding 5.
    let mut named = b"\x81\xa5Delta\x84".to_vec();
    for (key, value) in [
        ("tick", &[5u8][..]),
        ("base_tick", &[3]),
        ("input_seq", &[1]),
        ("delta", &[0xc4, 1, 0x90]),
    ] {
        named.push(0xa0 | key.len() as u8);
        named.extend_from_slice(key.as_bytes());
        named.extend_from_slice(value);
    }
    for codec in [Codec::MsgPack, Codec::MsgPackV1] {
        assert!(matches!(
            codec.decode_server(&named),
            Ok(ServerMsg::Delta { tick: 5, .. })
        ));
        assert_eq!(read_state_envelope(codec, &named), None);
    }
    let long_tick = b"\x81\xa5Delta\x94\xcd\x00\x05\x03\x01\xc4\x01\x90";
    assert_eq!(read_state_envelope(Codec::MsgPackV1, long_tick), None);
    assert_eq!(
        Codec::MsgPackV1.decode::<ServerMsg>(long_tick).unwrap(),
        state_msg(5, Some(3), 1, Bytes::from_static(&[0x90]))
    );
    // Version 2's arrays have no serde decoder to fall back on: the server's form only.
    let long_tick = b"\x95\x0b\xcd\x00\x05\x03\x01\xc4\x01\x90";
    assert_eq!(read_state_envelope(Codec::MsgPack, long_tick), None);
    assert!(Codec::MsgPack.decode_server(long_tick).is_err());
    let short_tick = b"\x95\x0b\x05\x03\x01\xc4\x01\x90";
    assert_eq!(
        Codec::MsgPack.decode_server(short_tick).unwrap(),
        state_msg(5, Some(3), 1, Bytes::from_static(&[0x90]))
    );
    let short_tick = b"\x81\xa5Delta\x94\x05\x03\x01\xc4\x01\x90";
    assert_eq!(
        read_state_envelope(Codec::MsgPackV1, short_tick),
        Some(StateEnvelope {
            tick: 5,
            base_tick: Some(3),
            input_seq: 1,
            body_len: 1
        })
    );
    // Larger than any message the decoder takes.
    let mut huge = vec![BINCODE_SNAPSHOT, 1, 1, 253];
    let len = (MAX_DECODE_BYTES as u64) << 8;
    huge.extend_from_slice(&len.to_le_bytes());
    huge.resize(MAX_DECODE_BYTES + 1, 0);
    assert_eq!(read_state_envelope(Codec::Bincode, &huge), None);
}

#[test]
fn altered_and_random_frames_never_read_as_a_state_the_decoder_refuses() {
    let mut next = xorshift(0x9E37_79B9_7F4A_7C15);
    for codec in Codec::ALL {
        let frames = encoded_states(codec).filter(|(e, _)| e.body_len <= 13);
        altered_and_random_frames_agree(
            codec,
            frames.map(|(_, frame)| frame),
            &[0, 1, 0x7f, 0x80, 0xc4, 0xcc, 0xfb, 0xfd, 0xff],
            || near_state(codec, &mut next),
            assert_agrees,
        );
    }
}

/// A fixed xorshift: the same frames on every run.
fn xorshift(mut seed: u64) -> impl FnMut() -> u64 {
    move || {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        seed
    }
}

/// The rule a hand-written reader keeps, checked on hostile frames: each of `frames` with
/// each of its bytes set to each of `values`, then 20,000 frames from `near`, must pass
/// `agrees` (which also says whether the reader read the frame). Both kinds must reach a
/// read, so the rule was checked, not only the refusals.
fn altered_and_random_frames_agree(
    codec: Codec,
    frames: impl Iterator<Item = Bytes>,
    values: &[u8],
    mut near: impl FnMut() -> Vec<u8>,
    agrees: impl Fn(Codec, &[u8]) -> bool,
) {
    let (mut altered_read, mut random_read) = (0, 0);
    for frame in frames {
        for at in 0..frame.len() {
            for &value in values {
                let mut altered = frame.to_vec();
                altered[at] = value;
                altered_read += usize::from(agrees(codec, &altered));
            }
        }
    }
    for _ in 0..20_000 {
        random_read += usize::from(agrees(codec, &near()));
    }
    assert!(altered_read > 1000, "{codec:?}: {altered_read}");
    assert!(random_read > 10, "{codec:?}: {random_read}");
}

/// A random frame built from the pieces of a state: most begin like one, then a few
/// integers of random widths (some the wrong kind, some longer than they need), then a
/// body whose length is right, one short or one over.
fn near_state(codec: Codec, next: &mut impl FnMut() -> u64) -> Vec<u8> {
    let mut frame = Vec::new();
    match (codec, next() % 4) {
        (Codec::Bincode, 0) => frame.push(BINCODE_SNAPSHOT),
        (Codec::Bincode, 1 | 2) => frame.push(BINCODE_DELTA),
        (Codec::MsgPack, 0) => frame.extend_from_slice(b"\x94\x06"),
        (Codec::MsgPack, 1 | 2) => frame.extend_from_slice(b"\x95\x0b"),
        (Codec::MsgPackV1, 0) => frame.extend_from_slice(b"\x81\xa8Snapshot\x93"),
        (Codec::MsgPackV1, 1 | 2) => frame.extend_from_slice(b"\x81\xa5Delta\x94"),
        _ => frame.push(next() as u8),
    }
    for _ in 0..next() % 5 {
        push_random_integer(codec, &mut frame, next);
    }
    push_random_body(codec, &mut frame, next);
    frame
}

/// An integer: half the time a small one in a byte, else a random tag (some not an
/// integer's) with a random value of that tag's width.
fn push_random_integer(codec: Codec, frame: &mut Vec<u8>, next: &mut impl FnMut() -> u64) {
    let tags: &[(u8, usize)] = match codec {
        Codec::Bincode => &[(251, 2), (252, 4), (253, 8), (254, 16), (255, 0)],
        Codec::MsgPack | Codec::MsgPackV1 => &[
            (0xcc, 1),
            (0xcd, 2),
            (0xce, 4),
            (0xcf, 8),
            (0xd0, 1),
            (0xc0, 0),
        ],
    };
    if next().is_multiple_of(2) {
        frame.push((next() % 0x80) as u8);
    } else {
        let (tag, width) = tags[(next() % tags.len() as u64) as usize];
        frame.push(tag);
        let value = next() >> (next() % 64);
        frame.extend_from_slice(&value.to_le_bytes()[..width.min(8)]);
        frame.resize(frame.len() + width.saturating_sub(8), 0);
    }
}

/// A body's length, then a body of that length, one short or one over.
fn push_random_body(codec: Codec, frame: &mut Vec<u8>, next: &mut impl FnMut() -> u64) {
    let len = (next() % 8) as usize;
    match codec {
        Codec::Bincode => frame.push(len as u8),
        Codec::MsgPack | Codec::MsgPackV1 => frame.extend_from_slice(&[0xc4, len as u8]),
    }
    let body = match next() % 4 {
        0 => len.saturating_sub(1),
        1 => len + 1,
        _ => len,
    };
    frame.extend((0..body).map(|_| next() as u8));
}

/// The rule for inputs: the reader's decoding (`read_input`, then
/// `decode_client_msg_by_serde` for what it does not read; together `decode_client_msg`)
/// decodes every frame the strict decoder does to the same message, and whatever
/// [`read_input`] reads, the strict decoder reads as the same `Input`. Returns whether the
/// frame was read.
fn assert_input_agrees(codec: Codec, frame: &[u8]) -> bool {
    let strict = codec.decode::<ClientMsg>(frame);
    let reader = codec.decode_client_msg(frame);
    if let Ok(strict) = &strict {
        assert_eq!(
            reader.as_ref().ok(),
            Some(strict),
            "{codec:?}: {frame:02x?}"
        );
    }
    let Some(input) = read_input(codec, frame) else {
        // The reader's second step alone decodes such a frame as the two steps do.
        assert_eq!(
            codec.decode_client_msg_by_serde(frame).ok(),
            reader.ok(),
            "{codec:?}: {frame:02x?}"
        );
        return false;
    };
    let read = ClientMsg::Input {
        seq: input.seq,
        ack_tick: input.ack_tick,
        data: Bytes::copy_from_slice(&frame[input.data.clone()]),
    };
    assert_eq!(
        strict.ok(),
        Some(read),
        "{codec:?}: read {frame:02x?} as {input:?}"
    );
    true
}

/// Every input of the width table as the codec encodes it, with what it holds.
fn encoded_inputs(codec: Codec) -> impl Iterator<Item = (u32, Tick, usize, Bytes)> {
    seqs().flat_map(move |seq| {
        WIDTHS.into_iter().flat_map(move |ack_tick| {
            [0usize, 2, 13, 255, 256, 65_535, 65_536]
                .into_iter()
                .filter(move |&len| len <= 13 || seq == 256)
                .map(move |len| {
                    let data = Bytes::from((0..len).map(|i| i as u8).collect::<Vec<_>>());
                    let msg = ClientMsg::Input {
                        seq,
                        ack_tick,
                        data,
                    };
                    (seq, ack_tick, len, codec.encode(&msg).unwrap())
                })
        })
    })
}

#[test]
fn inputs_from_the_codec_are_read_without_the_decoder() {
    for codec in Codec::ALL {
        let mut read = 0;
        for (seq, ack_tick, len, frame) in encoded_inputs(codec) {
            if frame.len() > MAX_DECODE_BYTES {
                // Too large for any decoder: refused both ways.
                assert_eq!(read_input(codec, &frame), None);
                assert!(codec.decode_client_msg(&frame).is_err());
                continue;
            }
            let expected = InputEnvelope {
                seq,
                ack_tick,
                data: frame.len() - len..frame.len(),
            };
            assert_eq!(
                read_input(codec, &frame),
                Some(expected.clone()),
                "{codec:?}"
            );
            assert!(assert_input_agrees(codec, &frame));
            read += 1;
        }
        assert!(read > 300, "{codec:?}: {read}");
    }
}

#[test]
fn cut_and_lengthened_inputs_are_left_to_the_decoder() {
    for codec in Codec::ALL {
        for (_, _, _, frame) in encoded_inputs(codec).filter(|(_, _, len, _)| *len <= 13) {
            for end in 0..frame.len() {
                assert_eq!(read_input(codec, &frame[..end]), None);
                assert!(codec.decode_client_msg(&frame[..end]).is_err());
            }
            let mut longer = frame.to_vec();
            longer.push(0);
            assert_eq!(read_input(codec, &longer), None);
            assert!(codec.decode_client_msg(&longer).is_err());
        }
    }
}

#[test]
fn inputs_in_other_forms_the_decoder_takes_are_left_to_it() {
    let expected = ClientMsg::Input {
        seq: 5,
        ack_tick: 9,
        data: Bytes::from_static(&[0xAA]),
    };
    let cases: [(Codec, &[u8]); 4] = [
        // bincode: seq 5 written in three bytes instead of one.
        (Codec::Bincode, &[BINCODE_INPUT, 251, 5, 0, 9, 1, 0xAA]),
        // MessagePack: the fields in another order.
        (
            Codec::MsgPack,
            b"\x81\xa5Input\x83\xa8ack_tick\x09\xa3seq\x05\xa4data\xc4\x01\xaa",
        ),
        // MessagePack: seq as a uint 16 holding 5.
        (
            Codec::MsgPack,
            b"\x81\xa5Input\x83\xa3seq\xcd\x00\x05\xa8ack_tick\x09\xa4data\xc4\x01\xaa",
        ),
        // MessagePack: the data as a bin 16 of one byte.
        (
            Codec::MsgPack,
            b"\x81\xa5Input\x83\xa3seq\x05\xa8ack_tick\x09\xa4data\xc5\x00\x01\xaa",
        ),
    ];
    for (codec, frame) in cases {
        assert_eq!(read_input(codec, frame), None, "{codec:?}: {frame:02x?}");
        assert_eq!(codec.decode_client_msg(frame).unwrap(), expected);
    }
    // Other messages are not inputs.
    for codec in Codec::ALL {
        for msg in [ClientMsg::Ping { nonce: 7 }, ClientMsg::LeaveRoom] {
            let frame = codec.encode(&msg).unwrap();
            assert_eq!(read_input(codec, &frame), None, "{msg:?}");
            assert_eq!(codec.decode_client_msg(&frame).unwrap(), msg);
        }
        assert_eq!(read_input(codec, &[]), None);
    }
}

#[test]
fn altered_and_random_frames_never_read_as_an_input_the_decoder_refuses() {
    let mut next = xorshift(0x2545_F491_4F6C_DD1D);
    for codec in Codec::ALL {
        let frames = encoded_inputs(codec).filter(|(_, _, len, _)| *len <= 2);
        altered_and_random_frames_agree(
            codec,
            frames.map(|(_, _, _, frame)| frame),
            &[0, 1, 7, 0x7f, 0x80, 0xc4, 0xcc, 0xfb, 0xfd, 0xff],
            || near_input(codec, &mut next),
            assert_input_agrees,
        );
    }
}

/// A random frame built from the pieces of an input: most begin like one, then three
/// integers of random widths (MessagePack's mostly behind their keys), then data whose
/// length is right, one short or one over.
fn near_input(codec: Codec, next: &mut impl FnMut() -> u64) -> Vec<u8> {
    let mut frame = Vec::new();
    match (codec, next() % 4) {
        (Codec::Bincode, 0..=2) => frame.push(BINCODE_INPUT),
        (Codec::MsgPack | Codec::MsgPackV1, 0..=2) => {
            frame.extend_from_slice(b"\x81\xa5Input\x83");
        }
        _ => frame.push(next() as u8),
    }
    for key in [&b"\xa3seq"[..], b"\xa8ack_tick"] {
        if codec != Codec::Bincode && !next().is_multiple_of(8) {
            frame.extend_from_slice(key);
        }
        push_random_integer(codec, &mut frame, next);
    }
    if codec != Codec::Bincode && !next().is_multiple_of(8) {
        frame.extend_from_slice(b"\xa4data");
    }
    push_random_body(codec, &mut frame, next);
    frame
}
