//! Server-to-client WebSocket frames, built by hand (RFC 6455, section 5.2).
//!
//! Server frames are never masked, so a frame is a 2-, 4- or 10-byte header followed by
//! the payload as it is: the connection's writer (`transport/writer.rs`) puts the header in front
//! of payloads that were encoded once and are shared by every recipient (a room's view or
//! delta, a broadcast event) without copying or re-framing them per connection.
//! tokio-tungstenite still does the handshake's aftermath, reads and checks every client
//! frame, and answers pings; the bytes it writes (pongs, the reply to a client's close)
//! reach the writer through the outbox (`transport/split_io.rs`), so frames never interleave.
//!
//! Pure functions: no socket, no state.

use bytes::{BufMut, Bytes, BytesMut};

use crate::codec::envelope::{MSGPACK_DELTA, MSGPACK_SNAPSHOT};
use crate::codec::{Codec, CodecError};
use crate::outbox::StateFrame;
use crate::protocol::ServerMsg;

/// Opcode of a binary data frame.
pub const OP_BINARY: u8 = 0x2;
/// Opcode of a close frame.
pub const OP_CLOSE: u8 = 0x8;
/// Opcode of a ping frame.
pub const OP_PING: u8 = 0x9;

/// The longest close reason that fits a control frame (125 bytes of payload, 2 of them the
/// code).
pub const MAX_CLOSE_REASON: usize = 123;

/// Appends the header of a final (FIN), unmasked frame with `opcode` and a payload of `len`
/// bytes: 2 bytes below 126, 4 up to 65,535, 10 above.
#[inline]
pub fn put_header(out: &mut BytesMut, opcode: u8, len: usize) {
    out.put_u8(0x80 | opcode);
    if len < 126 {
        out.put_u8(len as u8);
    } else if let Ok(len) = u16::try_from(len) {
        out.put_u8(126);
        out.put_u16(len);
    } else {
        out.put_u8(127);
        out.put_u64(len as u64);
    }
}

/// The length of the header [`put_header`] writes for a payload of `len` bytes.
pub fn header_len(len: usize) -> usize {
    match len {
        0..126 => 2,
        126..=65_535 => 4,
        _ => 10,
    }
}

/// Appends a close frame with `code` and `reason` (cut at a character boundary to fit).
pub fn put_close(out: &mut BytesMut, code: u16, reason: &str) {
    let mut end = reason.len().min(MAX_CLOSE_REASON);
    while !reason.is_char_boundary(end) {
        end -= 1;
    }
    let reason = &reason.as_bytes()[..end];
    put_header(out, OP_CLOSE, 2 + reason.len());
    out.put_u16(code);
    out.put_slice(reason);
}

/// Appends an empty ping frame.
pub fn put_ping(out: &mut BytesMut) {
    put_header(out, OP_PING, 0);
}

/// The code of the first close frame in `raw`, a run of whole unmasked frames (what
/// tungstenite wrote as the server): 1005 ("no status") for a close frame without one, and
/// `None` without a close frame. A run that ends inside a frame is read as far as it goes.
pub fn find_close(raw: &[u8]) -> Option<u16> {
    let mut at = 0;
    while raw.len().saturating_sub(at) >= 2 {
        if raw[at] & 0x0f == OP_CLOSE {
            let code = raw.get(at + 2..at + 4).filter(|_| raw[at + 1] & 0x7f >= 2);
            return Some(code.map_or(1005, |c| u16::from_be_bytes([c[0], c[1]])));
        }
        let (len, header) = match raw[at + 1] & 0x7f {
            126 if at + 4 <= raw.len() => (
                usize::from(u16::from_be_bytes([raw[at + 2], raw[at + 3]])),
                4,
            ),
            127 if at + 10 <= raw.len() => {
                let mut len = [0u8; 8];
                len.copy_from_slice(&raw[at + 2..at + 10]);
                (
                    usize::try_from(u64::from_be_bytes(len)).unwrap_or(usize::MAX),
                    10,
                )
            }
            126 | 127 => return None,
            len => (usize::from(len), 2),
        };
        // A masked frame would carry 4 more bytes; tungstenite never masks as the server.
        at = at.saturating_add(header).saturating_add(len);
    }
    None
}

/// `ServerMsg::Snapshot`'s variant index (bincode).
const SNAPSHOT_INDEX: u8 = 6;
/// `ServerMsg::Delta`'s variant index (bincode).
const DELTA_INDEX: u8 = 11;

/// Appends the encoding of `state`'s envelope (`ServerMsg::Snapshot` or `ServerMsg::Delta`)
/// *up to and including the length of its body*, so that the envelope is exactly these
/// bytes followed by `state.body`. The body, shared by every recipient, is not copied.
///
/// Written by hand, not through serde: this runs once per recipient per tick. The bytes
/// are exactly the codec's (bincode: the variant index and varints; MessagePack version 1:
/// the one-entry map of the variant's name to the array of its fields, integers in their
/// smallest form, the body as `bin`), which the tests check against the codec for
/// integers of every width. MessagePack (version 2) has a form of its own, which serde
/// cannot write: an array of the variant index and the fields, otherwise alike
/// (PROTOCOL.md, "MessagePack"); the tests read it back with [`Codec::decode_server`].
pub fn put_state_prefix(codec: Codec, state: &StateFrame, out: &mut BytesMut) {
    let len = state.body.len();
    match codec {
        Codec::Bincode => {
            let index = if state.base_tick.is_some() {
                DELTA_INDEX
            } else {
                SNAPSHOT_INDEX
            };
            out.put_u8(index);
            put_bincode_varint(out, state.tick);
            if let Some(base) = state.base_tick {
                put_bincode_varint(out, base);
            }
            put_bincode_varint(out, u64::from(state.input_seq));
            put_bincode_varint(out, len as u64);
        }
        Codec::MsgPack => {
            // `[6, tick, input_seq, state]` or `[11, tick, base_tick, input_seq, delta]`.
            match state.base_tick {
                None => {
                    out.put_slice(&[0x94, MSGPACK_SNAPSHOT]);
                    put_msgpack_uint(out, state.tick);
                }
                Some(base) => {
                    out.put_slice(&[0x95, MSGPACK_DELTA]);
                    put_msgpack_uint(out, state.tick);
                    put_msgpack_uint(out, base);
                }
            }
            put_msgpack_uint(out, u64::from(state.input_seq));
            put_msgpack_bin_len(out, len);
        }
        Codec::MsgPackV1 => {
            // `{"Snapshot": [tick, input_seq, state]}` or
            // `{"Delta": [tick, base_tick, input_seq, delta]}`: positional fields.
            out.put_u8(0x81);
            match state.base_tick {
                None => {
                    put_msgpack_str(out, "Snapshot");
                    out.put_u8(0x93);
                    put_msgpack_uint(out, state.tick);
                }
                Some(base) => {
                    put_msgpack_str(out, "Delta");
                    out.put_u8(0x94);
                    put_msgpack_uint(out, state.tick);
                    put_msgpack_uint(out, base);
                }
            }
            put_msgpack_uint(out, u64::from(state.input_seq));
            put_msgpack_bin_len(out, len);
        }
    }
}

/// `msg` whole, as the server sends it: a state message (`Snapshot`, `Delta`) as the writer
/// writes it ([`put_state_prefix`], then the body: the only way to get
/// `ticksync.msgpack.v2`'s form, which serde cannot write), any other message as the codec
/// encodes it. The writer itself does not call this (it writes the envelope in front of the
/// shared body without copying the body): it is for tests, benches and tools that need a
/// server's frame.
///
/// # Errors
/// [`CodecError::Encode`] if a message other than a state cannot be encoded.
pub fn server_frame(codec: Codec, msg: &ServerMsg) -> Result<Bytes, CodecError> {
    let (tick, base_tick, input_seq, body) = match msg {
        ServerMsg::Snapshot {
            tick,
            input_seq,
            state,
        } => (*tick, None, *input_seq, state),
        ServerMsg::Delta {
            tick,
            base_tick,
            input_seq,
            delta,
        } => (*tick, Some(*base_tick), *input_seq, delta),
        _ => return codec.encode(msg),
    };
    let state = StateFrame {
        tick,
        base_tick,
        input_seq,
        body: body.clone(),
    };
    let mut out = BytesMut::new();
    put_state_prefix(codec, &state, &mut out);
    out.extend_from_slice(body);
    Ok(out.freeze())
}

/// A MessagePack fixstr (the field names here are all under 32 bytes).
fn put_msgpack_str(out: &mut BytesMut, text: &str) {
    debug_assert!(text.len() < 32);
    out.put_u8(0xa0 | text.len() as u8);
    out.put_slice(text.as_bytes());
}

/// The header of a MessagePack `bin` of `len` bytes (bin 8, 16 or 32), as rmp-serde writes
/// it; the bytes follow.
pub(crate) fn put_msgpack_bin_len(out: &mut BytesMut, len: usize) {
    if let Ok(len) = u8::try_from(len) {
        out.put_u8(0xc4);
        out.put_u8(len);
    } else if let Ok(len) = u16::try_from(len) {
        out.put_u8(0xc5);
        out.put_u16(len);
    } else {
        out.put_u8(0xc6);
        out.put_u32(u32::try_from(len).unwrap_or(u32::MAX));
    }
}

/// A MessagePack unsigned integer in its smallest form, as rmp-serde writes it.
#[inline]
pub(crate) fn put_msgpack_uint(out: &mut BytesMut, value: u64) {
    if value < 128 {
        out.put_u8(value as u8);
    } else if let Ok(value) = u8::try_from(value) {
        out.put_u8(0xcc);
        out.put_u8(value);
    } else if let Ok(value) = u16::try_from(value) {
        out.put_u8(0xcd);
        out.put_u16(value);
    } else if let Ok(value) = u32::try_from(value) {
        out.put_u8(0xce);
        out.put_u32(value);
    } else {
        out.put_u8(0xcf);
        out.put_u64(value);
    }
}

/// bincode's variable-length unsigned integer (see PROTOCOL.md): one byte below 251, else
/// a tag (251, 252, 253) and a 2-, 4- or 8-byte little-endian value.
#[inline]
pub(crate) fn put_bincode_varint(out: &mut BytesMut, value: u64) {
    if value < 251 {
        out.put_u8(value as u8);
    } else if let Ok(value) = u16::try_from(value) {
        out.put_u8(251);
        out.put_u16_le(value);
    } else if let Ok(value) = u32::try_from(value) {
        out.put_u8(252);
        out.put_u32_le(value);
    } else {
        out.put_u8(253);
        out.put_u64_le(value);
    }
}

/// Integers of every width either codec tells apart (bincode's varint tags at 251, 2^16
/// and 2^32; MessagePack's fixint, `uint 8` to `uint 64`): for tests of both ends' integer
/// writers and readers.
#[cfg(test)]
pub(crate) const INTEGER_WIDTHS: [u64; 11] = [
    0,
    127,
    128,
    250,
    251,
    255,
    256,
    65_535,
    65_536,
    1 << 32,
    u64::MAX,
];

#[cfg(test)]
mod tests {
    use super::*;
    use crate::protocol::ServerMsg;
    use bytes::Bytes;
    use std::io::Cursor;
    use tokio_tungstenite::tungstenite::protocol::{Role, WebSocket};
    use tokio_tungstenite::tungstenite::{Message, protocol::frame::coding::CloseCode};

    fn state(base_tick: Option<u64>, body_len: usize, tick: u64, input_seq: u32) -> StateFrame {
        StateFrame {
            tick,
            base_tick,
            input_seq,
            body: Bytes::from((0..body_len).map(|i| i as u8).collect::<Vec<u8>>()),
        }
    }

    /// Reads `wire` as a client would, with tungstenite's own reader.
    fn read_all(wire: Vec<u8>) -> Vec<Message> {
        let mut ws = WebSocket::from_raw_socket(Cursor::new(wire), Role::Client, None);
        let mut messages = Vec::new();
        while let Ok(message) = ws.read() {
            messages.push(message);
        }
        messages
    }

    #[test]
    fn the_prefix_and_the_body_are_the_whole_envelope() {
        for codec in Codec::ALL {
            // Integers of every width either codec distinguishes, and a delta's base.
            let cases = INTEGER_WIDTHS.into_iter().flat_map(|tick| {
                [None, Some(tick / 2)].into_iter().flat_map(move |base| {
                    [0, 1, 127, 128, 251, 300, 70_000, u32::MAX]
                        .into_iter()
                        .map(move |seq| (tick, base, seq))
                })
            });
            for (tick, base, seq) in cases {
                for len in [0, 1, 250, 251, 255, 256, 65_535, 65_536, 70_000] {
                    if len > 256 && tick != 1 << 32 {
                        continue;
                    }
                    let state = state(base, len, tick, seq);
                    let mut out = BytesMut::new();
                    put_state_prefix(codec, &state, &mut out);
                    out.extend_from_slice(&state.body);
                    let msg = match base {
                        None => ServerMsg::Snapshot {
                            tick: state.tick,
                            input_seq: state.input_seq,
                            state: state.body.clone(),
                        },
                        Some(base_tick) => ServerMsg::Delta {
                            tick: state.tick,
                            base_tick,
                            input_seq: state.input_seq,
                            delta: state.body.clone(),
                        },
                    };
                    let case = format!(
                        "{codec:?}, tick {tick}, base {base:?}, seq {seq}, body of {len} bytes"
                    );
                    let serde = codec.encode(&msg).unwrap();
                    if codec == Codec::MsgPack {
                        // Version 1's bytes with the map of the name and the array's
                        // header in front made one array led by the variant index.
                        let (named, short): (&[u8], &[u8]) = match base {
                            None => (b"\x81\xa8Snapshot\x93", b"\x94\x06"),
                            Some(_) => (b"\x81\xa5Delta\x94", b"\x95\x0b"),
                        };
                        let fields = serde.strip_prefix(named).expect(&case);
                        assert_eq!(out, [short, fields].concat(), "{case}");
                        if out.len() <= crate::codec::MAX_DECODE_BYTES {
                            assert_eq!(codec.decode_server(&out).unwrap(), msg, "{case}");
                        }
                    } else {
                        assert_eq!(out.freeze(), serde, "{case}");
                    }
                }
            }
        }
    }

    #[test]
    fn tungstenite_reads_our_frames() {
        let mut wire = BytesMut::new();
        let sizes = [0, 1, 125, 126, 65_535, 65_536, 100_000];
        for len in sizes {
            put_header(&mut wire, OP_BINARY, len);
            wire.extend((0..len).map(|i| (i % 251) as u8));
        }
        put_ping(&mut wire);
        put_close(&mut wire, 4003, "client too slow");
        let messages = read_all(wire.to_vec());
        assert_eq!(messages.len(), sizes.len() + 2);
        for (message, len) in messages.iter().zip(sizes) {
            let expected: Vec<u8> = (0..len).map(|i| (i % 251) as u8).collect();
            assert_eq!(message, &Message::Binary(expected.into()));
        }
        assert_eq!(messages[sizes.len()], Message::Ping(Bytes::new()));
        match &messages[sizes.len() + 1] {
            Message::Close(Some(frame)) => {
                assert_eq!(frame.code, CloseCode::from(4003));
                assert_eq!(frame.reason.as_str(), "client too slow");
            }
            other => panic!("expected a close frame, got {other:?}"),
        }
    }

    #[test]
    fn header_lengths_match_what_is_written() {
        for len in [0, 125, 126, 65_535, 65_536] {
            let mut out = BytesMut::new();
            put_header(&mut out, OP_BINARY, len);
            assert_eq!(out.len(), header_len(len));
        }
    }

    #[test]
    fn long_close_reasons_are_cut_at_a_character_boundary() {
        let reason = "é".repeat(100);
        let mut out = BytesMut::new();
        put_close(&mut out, 1000, &reason);
        assert!(out.len() <= 2 + 125);
        match read_all(out.to_vec()).pop() {
            Some(Message::Close(Some(frame))) => assert_eq!(frame.reason.len(), 122),
            other => panic!("expected a close frame, got {other:?}"),
        }
    }

    #[test]
    fn close_frames_are_found_in_a_run_of_frames() {
        let mut raw = BytesMut::new();
        put_header(&mut raw, 0xA, 3);
        raw.extend_from_slice(b"abc");
        assert_eq!(find_close(&raw), None);
        put_header(&mut raw, OP_BINARY, 300);
        raw.extend_from_slice(&[0; 300]);
        assert_eq!(find_close(&raw), None);
        put_close(&mut raw, 4001, "bye");
        assert_eq!(find_close(&raw), Some(4001));
        assert_eq!(find_close(&[0x88, 0x00]), Some(1005));
        assert_eq!(find_close(&[0x8a, 0x7e]), None, "a cut header is no close");
        // A length near u64::MAX (never written by tungstenite, but the reader must not
        // wrap past the end and index out of bounds), followed by more bytes.
        let mut huge = vec![0x82, 0x7f];
        huge.extend_from_slice(&u64::MAX.to_be_bytes());
        huge.extend_from_slice(&[0x88, 0x02, 0x0f, 0xa1]);
        assert_eq!(
            find_close(&huge),
            None,
            "the claimed frame runs past the end"
        );
        huge[2] = 0x7f;
        assert_eq!(find_close(&huge), None);
    }
}
