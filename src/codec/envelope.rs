//! The two messages that are most of the traffic, read and written without serde: a state
//! message's envelope, which is what a client that only counts states (the arena bot with
//! checks off) needs from the frames that are most of what it receives; and
//! `ClientMsg::Input`, the one message a client sends many times a second, written by
//! [`put_input`] (the same bytes as the codec's, which the tests check for integers of
//! every width) and read back by the server's reader ([`read_input`]: where the input's
//! data lies in the frame, with no serde and no allocation).
//!
//! The read side of the server's hand-written envelope (`transport/ws_frame.rs`,
//! `put_state_prefix`): [`read_state_envelope`] accepts exactly the bytes the server writes
//! for [`ServerMsg::Snapshot`](crate::protocol::ServerMsg::Snapshot) and
//! [`ServerMsg::Delta`](crate::protocol::ServerMsg::Delta), and reads their integers:
//!
//! - bincode: the variant index (6 or 11), then `tick` (and `base_tick`), `input_seq` and
//!   the body's length as varints in their shortest form (PROTOCOL.md), then the body;
//! - MessagePack (`ticksync.msgpack.v2`): an array of the variant index (6 or 11, a
//!   fixint) and the fields, integers in their smallest form, the body as `bin` in its
//!   smallest form;
//! - MessagePack version 1: the one-entry map of the variant's name (`fixstr`) to the
//!   positional array of its fields, written alike.
//!
//! [`read_input`] accepts exactly what [`put_input`] writes: bincode, the variant index (7)
//! and three varints in their shortest form; MessagePack, `{"Input": {"seq", "ack_tick",
//! "data"}}` with the fields in that order, integers in their smallest form and `data` as
//! `bin` in its smallest form.
//!
//! **Policy: read less, never accept more.** The body (or the input's data) must end exactly
//! at the frame's end and the frame must be within [`MAX_DECODE_BYTES`]. Anything else,
//! another message, a message in a form the decoders also take (the named map older servers
//! sent, fields in another order, an integer written longer than it needs), a cut frame or
//! garbage, reads as `None`, and the caller decodes the frame in full with
//! [`Codec::decode`], which reads it or says why not. (serde cannot read version 2's
//! arrays: [`Codec::decode_server`] reads them here, so for them this reader is the
//! decoder, and it takes exactly the server's form.) So a frame these read is one the codec
//! decodes to the same message (the tests check both codecs against the real encoder and
//! against cut and altered frames); they never panic, never allocate and never look past
//! the frame.
//!
//! ```
//! use bytes::Bytes;
//! use ticksync::client::read_state_envelope;
//! use ticksync::codec::Codec;
//! use ticksync::protocol::ServerMsg;
//!
//! let delta = ServerMsg::Delta { tick: 300, base_tick: 298, input_seq: 7, delta: Bytes::from_static(b"xy") };
//! // serde writes the version-1 form: a one-entry map.
//! let frame = Codec::MsgPackV1.encode(&delta).unwrap();
//! let envelope = read_state_envelope(Codec::MsgPackV1, &frame).unwrap();
//! assert_eq!((envelope.tick, envelope.base_tick, envelope.body_len), (300, Some(298), 2));
//! // A cut frame is not a state: decoding it in full says why.
//! assert!(read_state_envelope(Codec::MsgPackV1, &frame[..frame.len() - 1]).is_none());
//! // Version 2: [11, 300, 298, 7, bin "xy"].
//! let short = [0x95, 0x0b, 0xcd, 0x01, 0x2c, 0xcd, 0x01, 0x2a, 0x07, 0xc4, 0x02, b'x', b'y'];
//! assert_eq!(read_state_envelope(Codec::MsgPack, &short), Some(envelope));
//! assert_eq!(Codec::MsgPack.decode_server(&short).unwrap(), delta);
//! ```

use std::ops::Range;

use bytes::{BufMut, BytesMut};

use crate::codec::{Codec, MAX_DECODE_BYTES};
use crate::protocol::Tick;
use crate::transport::ws_frame::{put_bincode_varint, put_msgpack_bin_len, put_msgpack_uint};

/// `ServerMsg::Snapshot`'s variant index in bincode.
const BINCODE_SNAPSHOT: u8 = 6;
/// `ServerMsg::Delta`'s variant index in bincode.
const BINCODE_DELTA: u8 = 11;
/// `ServerMsg::Snapshot`'s first element in `ticksync.msgpack.v2`: its variant index, a
/// positive fixint.
pub(crate) const MSGPACK_SNAPSHOT: u8 = BINCODE_SNAPSHOT;
/// `ServerMsg::Delta`'s first element in `ticksync.msgpack.v2`.
pub(crate) const MSGPACK_DELTA: u8 = BINCODE_DELTA;
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
    // The variant (whether a base tick follows), and how this codec writes the fields'
    // integers and the body's length; after the variant the fields are alike in all.
    type Read = fn(&mut Reader<'_>) -> Option<u64>;
    let (base, int, len): (bool, Read, Read) = match codec {
        Codec::Bincode => {
            let base = match reader.byte()? {
                BINCODE_SNAPSHOT => false,
                BINCODE_DELTA => true,
                _ => return None,
            };
            (base, |r| r.bincode_varint(), |r| r.bincode_varint())
        }
        Codec::MsgPack => {
            let base = match reader.array::<2>()? {
                [0x94, MSGPACK_SNAPSHOT] => false,
                [0x95, MSGPACK_DELTA] => true,
                _ => return None,
            };
            (base, |r| r.msgpack_uint(), |r| r.msgpack_bin_len())
        }
        Codec::MsgPackV1 => {
            reader.expect(&[0x81])?;
            let base = if reader.expect(b"\xa8Snapshot\x93").is_some() {
                false
            } else {
                reader.expect(b"\xa5Delta\x94")?;
                true
            };
            (base, |r| r.msgpack_uint(), |r| r.msgpack_bin_len())
        }
    };
    let tick = int(&mut reader)?;
    let base_tick = if base { Some(int(&mut reader)?) } else { None };
    let input_seq = u32::try_from(int(&mut reader)?).ok()?;
    let body_len = len(&mut reader)?;
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
        Codec::MsgPack | Codec::MsgPackV1 => {
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

/// `ClientMsg::Input`'s fields as [`read_input`] finds them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InputEnvelope {
    /// The input's `seq`.
    pub seq: u32,
    /// The newest state tick the client had applied.
    pub ack_tick: Tick,
    /// Where the game's input (`data`) is in the frame: its last bytes.
    pub data: Range<usize>,
}

/// Reads `frame` as `ClientMsg::Input` when it is written as [`put_input`] writes it
/// (module doc); `None` for anything else, which the caller decodes in full.
pub fn read_input(codec: Codec, frame: &[u8]) -> Option<InputEnvelope> {
    if frame.len() > MAX_DECODE_BYTES {
        return None;
    }
    let mut reader = Reader(frame);
    let (seq, ack_tick, data_len) = match codec {
        Codec::Bincode => {
            reader.expect(&[BINCODE_INPUT])?;
            let seq = reader.bincode_varint()?;
            let ack_tick = reader.bincode_varint()?;
            (seq, ack_tick, reader.bincode_varint()?)
        }
        Codec::MsgPack | Codec::MsgPackV1 => {
            reader.expect(b"\x81\xa5Input\x83\xa3seq")?;
            let seq = reader.msgpack_uint()?;
            reader.expect(b"\xa8ack_tick")?;
            let ack_tick = reader.msgpack_uint()?;
            reader.expect(b"\xa4data")?;
            (seq, ack_tick, reader.msgpack_bin_len()?)
        }
    };
    let seq = u32::try_from(seq).ok()?;
    // The data is the rest of the frame, to the byte.
    let data_len = usize::try_from(data_len).ok()?;
    (data_len == reader.0.len()).then(|| InputEnvelope {
        seq,
        ack_tick,
        data: frame.len() - data_len..frame.len(),
    })
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
#[path = "envelope_tests.rs"]
mod tests;
