//! A state message's envelope read without decoding the message: what a client that only
//! counts states (the arena bot with checks off) needs from the frames that are most of
//! what it receives; and the one message such a client sends many times a second,
//! `ClientMsg::Input`, written without serde ([`put_input`]: the same bytes as the codec's,
//! which the tests check for integers of every width).
//!
//! The read side of the server's hand-written envelope (`transport/ws_frame.rs`,
//! `put_state_prefix`): [`read_state_envelope`] accepts exactly the bytes the server writes
//! for [`ServerMsg::Snapshot`](crate::protocol::ServerMsg::Snapshot) and
//! [`ServerMsg::Delta`](crate::protocol::ServerMsg::Delta), and reads their integers:
//!
//! - bincode: the variant index (6 or 11), then `tick` (and `base_tick`), `input_seq` and
//!   the body's length as varints in their shortest form (PROTOCOL.md), then the body;
//! - MessagePack: the one-entry map of the variant's name (`fixstr`) to the positional array
//!   of its fields, integers in their smallest form, the body as `bin` in its smallest form.
//!
//! **Policy: read less, never accept more.** The body must end exactly at the frame's end
//! and the frame must be within [`MAX_DECODE_BYTES`]. Anything else, another message, a
//! state in a form the decoders also take (the named map older servers sent, an integer
//! written longer than it needs), a cut frame or garbage, reads as `None`, and the caller
//! decodes the frame in full with [`Codec::decode`], which reads it or says why not. So a
//! frame this reads is one the codec decodes to the same state (the tests check both codecs
//! against the real encoder and against cut and altered frames); it never panics, never
//! allocates and never looks past the frame.
//!
//! ```
//! use bytes::Bytes;
//! use ticksync::client::read_state_envelope;
//! use ticksync::codec::Codec;
//! use ticksync::protocol::ServerMsg;
//!
//! let delta = ServerMsg::Delta { tick: 300, base_tick: 298, input_seq: 7, delta: Bytes::from_static(b"xy") };
//! let frame = Codec::MsgPack.encode(&delta).unwrap();
//! let envelope = read_state_envelope(Codec::MsgPack, &frame).unwrap();
//! assert_eq!((envelope.tick, envelope.base_tick, envelope.body_len), (300, Some(298), 2));
//! // A cut frame is not a state: decoding it in full says why.
//! assert!(read_state_envelope(Codec::MsgPack, &frame[..frame.len() - 1]).is_none());
//! ```

use bytes::{BufMut, BytesMut};

use crate::codec::{Codec, MAX_DECODE_BYTES};
use crate::protocol::Tick;
use crate::transport::ws_frame::{put_bincode_varint, put_msgpack_bin_len, put_msgpack_uint};

/// `ServerMsg::Snapshot`'s variant index in bincode.
const BINCODE_SNAPSHOT: u8 = 6;
/// `ServerMsg::Delta`'s variant index in bincode.
const BINCODE_DELTA: u8 = 11;
/// `ClientMsg::Input`'s variant index in bincode.
const BINCODE_INPUT: u8 = 7;

/// The fields of a `Snapshot` or `Delta` before its body.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StateEnvelope {
    /// The tick of the state.
    pub tick: Tick,
    /// A delta's base tick; `None` for a full `Snapshot`.
    pub base_tick: Option<Tick>,
    /// The last input `seq` of this client the server had processed.
    pub input_seq: u32,
    /// The length of the body (the game's view or delta), which ends the frame.
    pub body_len: usize,
}

impl StateEnvelope {
    /// Whether this is a full `Snapshot` (not a `Delta`).
    pub fn is_full(&self) -> bool {
        self.base_tick.is_none()
    }
}

/// Reads `frame`'s envelope when it is a `Snapshot` or `Delta` written as the server writes
/// it (module doc); `None` for anything else, which the caller decodes in full.
pub fn read_state_envelope(codec: Codec, frame: &[u8]) -> Option<StateEnvelope> {
    if frame.len() > MAX_DECODE_BYTES {
        return None;
    }
    let mut reader = Reader(frame);
    let (tick, base_tick, input_seq, body_len) = match codec {
        Codec::Bincode => {
            let base = match reader.byte()? {
                BINCODE_SNAPSHOT => false,
                BINCODE_DELTA => true,
                _ => return None,
            };
            let tick = reader.bincode_varint()?;
            let base_tick = if base {
                Some(reader.bincode_varint()?)
            } else {
                None
            };
            let input_seq = u32::try_from(reader.bincode_varint()?).ok()?;
            let body_len = reader.bincode_varint()?;
            (tick, base_tick, input_seq, body_len)
        }
        Codec::MsgPack => {
            reader.expect(&[0x81])?;
            let base = if reader.expect(b"\xa8Snapshot\x93").is_some() {
                false
            } else {
                reader.expect(b"\xa5Delta\x94")?;
                true
            };
            let tick = reader.msgpack_uint()?;
            let base_tick = if base {
                Some(reader.msgpack_uint()?)
            } else {
                None
            };
            let input_seq = u32::try_from(reader.msgpack_uint()?).ok()?;
            let body_len = reader.msgpack_bin_len()?;
            (tick, base_tick, input_seq, body_len)
        }
    };
    // The body is the rest of the frame, to the byte.
    let body_len = usize::try_from(body_len).ok()?;
    (body_len == reader.0.len()).then_some(StateEnvelope {
        tick,
        base_tick,
        input_seq,
        body_len,
    })
}

/// Appends `ClientMsg::Input { seq, ack_tick, data }` as `codec` encodes it: bincode, the
/// variant index and varints; MessagePack, `{"Input": {"seq", "ack_tick", "data"}}` (a named
/// map, integers in their smallest form, `data` as `bin`). `data` is the game's input,
/// already encoded; it must be under 4 GiB (a message is at most 16 KiB anyway).
pub fn put_input(codec: Codec, seq: u32, ack_tick: Tick, data: &[u8], out: &mut BytesMut) {
    match codec {
        Codec::Bincode => {
            out.put_u8(BINCODE_INPUT);
            put_bincode_varint(out, u64::from(seq));
            put_bincode_varint(out, ack_tick);
            put_bincode_varint(out, data.len() as u64);
        }
        Codec::MsgPack => {
            out.put_slice(b"\x81\xa5Input\x83\xa3seq");
            put_msgpack_uint(out, u64::from(seq));
            out.put_slice(b"\xa8ack_tick");
            put_msgpack_uint(out, ack_tick);
            out.put_slice(b"\xa4data");
            put_msgpack_bin_len(out, data.len());
        }
    }
    out.put_slice(data);
}

/// The unread rest of a frame. Every read is checked; a short frame is `None`.
struct Reader<'a>(&'a [u8]);

impl Reader<'_> {
    fn byte(&mut self) -> Option<u8> {
        let (&byte, rest) = self.0.split_first()?;
        self.0 = rest;
        Some(byte)
    }

    fn array<const N: usize>(&mut self) -> Option<[u8; N]> {
        let (head, rest) = self.0.split_first_chunk::<N>()?;
        self.0 = rest;
        Some(*head)
    }

    /// Consumes `bytes` if the frame goes on with exactly them.
    fn expect(&mut self, bytes: &[u8]) -> Option<()> {
        self.0 = self.0.strip_prefix(bytes)?;
        Some(())
    }

    /// bincode's varint in its shortest form: one byte below 251, else a tag (251, 252,
    /// 253) and a 2-, 4- or 8-byte little-endian value that needs that width.
    fn bincode_varint(&mut self) -> Option<u64> {
        let (value, least) = match self.byte()? {
            small @ 0..=250 => return Some(u64::from(small)),
            251 => (u64::from(u16::from_le_bytes(self.array()?)), 251),
            252 => (u64::from(u32::from_le_bytes(self.array()?)), 1 << 16),
            253 => (u64::from_le_bytes(self.array()?), 1 << 32),
            _ => return None,
        };
        (value >= least).then_some(value)
    }

    /// A MessagePack unsigned integer in its smallest form: a positive fixint, or `uint 8`
    /// to `uint 64` (big-endian) holding a value that needs that width.
    fn msgpack_uint(&mut self) -> Option<u64> {
        let (value, least) = match self.byte()? {
            small @ 0..=0x7f => return Some(u64::from(small)),
            0xcc => (u64::from(self.byte()?), 0x80),
            0xcd => (u64::from(u16::from_be_bytes(self.array()?)), 1 << 8),
            0xce => (u64::from(u32::from_be_bytes(self.array()?)), 1 << 16),
            0xcf => (u64::from_be_bytes(self.array()?), 1 << 32),
            _ => return None,
        };
        (value >= least).then_some(value)
    }

    /// The length of a MessagePack `bin` in its smallest form (`bin 8`, `bin 16`, `bin 32`).
    fn msgpack_bin_len(&mut self) -> Option<u64> {
        let (len, least) = match self.byte()? {
            0xc4 => (u64::from(self.byte()?), 0),
            0xc5 => (u64::from(u16::from_be_bytes(self.array()?)), 1 << 8),
            0xc6 => (u64::from(u32::from_be_bytes(self.array()?)), 1 << 16),
            _ => return None,
        };
        (len >= least).then_some(len)
    }
}

#[cfg(test)]
mod tests {
    use bytes::{Bytes, BytesMut};

    use super::*;
    use crate::outbox::StateFrame;
    use crate::protocol::{ClientMsg, ErrorCode, ServerMsg};
    use crate::transport::ws_frame::{INTEGER_WIDTHS as WIDTHS, put_state_prefix};

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

    /// The rule the fast path must keep: whatever it reads, the full decoder reads as the
    /// same state. (The other way round it may give up: the caller decodes those.) Returns
    /// whether the frame was read.
    fn assert_agrees(codec: Codec, frame: &[u8]) -> bool {
        let Some(envelope) = read_state_envelope(codec, frame) else {
            return false;
        };
        let decoded = codec.decode::<ServerMsg>(frame);
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
                                let body =
                                    Bytes::from((0..len).map(|i| i as u8).collect::<Vec<_>>());
                                let envelope = StateEnvelope {
                                    tick,
                                    base_tick: base,
                                    input_seq: seq,
                                    body_len: len,
                                };
                                let frame =
                                    codec.encode(&state_msg(tick, base, seq, body)).unwrap();
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
            for seq in [
                0u32,
                1,
                127,
                128,
                250,
                251,
                255,
                256,
                65_535,
                65_536,
                u32::MAX,
            ] {
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
                    assert!(codec.decode::<ServerMsg>(&frame[..end]).is_err());
                }
                let mut longer = frame.to_vec();
                longer.push(0);
                assert_eq!(read_state_envelope(codec, &longer), None);
                assert!(codec.decode::<ServerMsg>(&longer).is_err());
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
        assert!(matches!(
            Codec::MsgPack.decode::<ServerMsg>(&named),
            Ok(ServerMsg::Delta { tick: 5, .. })
        ));
        assert_eq!(read_state_envelope(Codec::MsgPack, &named), None);
        let long_tick = b"\x81\xa5Delta\x94\xcd\x00\x05\x03\x01\xc4\x01\x90";
        assert_eq!(read_state_envelope(Codec::MsgPack, long_tick), None);
        assert_eq!(
            Codec::MsgPack.decode::<ServerMsg>(long_tick).unwrap(),
            state_msg(5, Some(3), 1, Bytes::from_static(&[0x90]))
        );
        let short_tick = b"\x81\xa5Delta\x94\x05\x03\x01\xc4\x01\x90";
        assert_eq!(
            read_state_envelope(Codec::MsgPack, short_tick),
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
        // A fixed xorshift: the same frames on every run.
        let mut seed = 0x9E37_79B9_7F4A_7C15u64;
        let mut next = move || {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            seed
        };
        for codec in Codec::ALL {
            let (mut altered_read, mut random_read) = (0, 0);
            for (_, frame) in encoded_states(codec).filter(|(e, _)| e.body_len <= 13) {
                for at in 0..frame.len() {
                    for value in [0u8, 1, 0x7f, 0x80, 0xc4, 0xcc, 0xfb, 0xfd, 0xff] {
                        let mut altered = frame.to_vec();
                        altered[at] = value;
                        altered_read += usize::from(assert_agrees(codec, &altered));
                    }
                }
            }
            for _ in 0..20_000 {
                let frame = near_state(codec, &mut next);
                random_read += usize::from(assert_agrees(codec, &frame));
            }
            // Both kinds reached a read, so the rule was checked, not only the refusals.
            assert!(altered_read > 1000, "{codec:?}: {altered_read}");
            assert!(random_read > 10, "{codec:?}: {random_read}");
        }
    }

    /// A random frame built from the pieces of a state: most begin like one, then a few
    /// integers of random widths (some the wrong kind, some longer than they need), then a
    /// body whose length is right, one short or one over.
    fn near_state(codec: Codec, next: &mut impl FnMut() -> u64) -> Vec<u8> {
        let mut frame = Vec::new();
        match (codec, next() % 4) {
            (Codec::Bincode, 0) => frame.push(BINCODE_SNAPSHOT),
            (Codec::Bincode, 1 | 2) => frame.push(BINCODE_DELTA),
            (Codec::MsgPack, 0) => frame.extend_from_slice(b"\x81\xa8Snapshot\x93"),
            (Codec::MsgPack, 1 | 2) => frame.extend_from_slice(b"\x81\xa5Delta\x94"),
            _ => frame.push(next() as u8),
        }
        let tags: &[(u8, usize)] = match codec {
            Codec::Bincode => &[(251, 2), (252, 4), (253, 8), (254, 16), (255, 0)],
            Codec::MsgPack => &[
                (0xcc, 1),
                (0xcd, 2),
                (0xce, 4),
                (0xcf, 8),
                (0xd0, 1),
                (0xc0, 0),
            ],
        };
        for _ in 0..next() % 5 {
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
        let len = (next() % 8) as usize;
        match codec {
            Codec::Bincode => frame.push(len as u8),
            Codec::MsgPack => frame.extend_from_slice(&[0xc4, len as u8]),
        }
        let body = match next() % 4 {
            0 => len.saturating_sub(1),
            1 => len + 1,
            _ => len,
        };
        frame.extend((0..body).map(|_| next() as u8));
        frame
    }
}
