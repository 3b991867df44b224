//! Bytes to messages and back, for each codec a connection can negotiate.
//!
//! Pure functions: no socket, no state. Every decode is bounded: bincode refuses any length
//! that claims more than [`MAX_DECODE_BYTES`] before allocating; MessagePack is read from
//! the frame through a reader that copies at most what the frame holds (a claimed length
//! larger than the frame fails at its end, without pre-allocating) with a nesting limit of
//! [`MAX_MSGPACK_DEPTH`]; and both refuse trailing bytes.
//!
//! ```
//! use ticksync::codec::Codec;
//! use ticksync::protocol::ClientMsg;
//!
//! let codec = Codec::from_subprotocol("ticksync.msgpack.v1").unwrap();
//! let bytes = codec.encode(&ClientMsg::Ping { nonce: 7 }).unwrap();
//! assert_eq!(codec.decode::<ClientMsg>(&bytes).unwrap(), ClientMsg::Ping { nonce: 7 });
//! // A truncated message is an error, never a panic.
//! assert!(codec.decode::<ClientMsg>(&bytes[..bytes.len() - 1]).is_err());
//! ```

use bytes::{Bytes, BytesMut};
use serde::{Serialize, de::DeserializeOwned};
use thiserror::Error;

use crate::protocol::{ClientMsg, ServerMsg};

/// WebSocket subprotocol that selects the bincode codec.
pub const BINCODE_SUBPROTOCOL: &str = "ticksync.bincode.v1";
/// WebSocket subprotocol that selects the MessagePack codec, with the state messages in
/// their short form ([`Codec::MsgPack`]).
pub const MSGPACK_SUBPROTOCOL: &str = "ticksync.msgpack.v2";
/// WebSocket subprotocol that selects the MessagePack codec as it was first published, the
/// state messages as one-entry maps ([`Codec::MsgPackV1`]); still spoken for clients
/// written before [`MSGPACK_SUBPROTOCOL`].
pub const MSGPACK_V1_SUBPROTOCOL: &str = "ticksync.msgpack.v1";

/// The largest message the decoders accept, in bytes. Also the WebSocket message cap.
pub const MAX_DECODE_BYTES: usize = 16 * 1024;
/// The deepest MessagePack nesting the decoder follows before refusing the message.
pub const MAX_MSGPACK_DEPTH: usize = 16;

/// bincode's decode budget. bincode charges every integer its full width (8 for a `u64`
/// read from a one-byte varint) and a byte string's length once more, so a message of
/// [`MAX_DECODE_BYTES`] can be charged up to 8 times its size; the budget allows that (a
/// valid message at the cap must decode) and still bounds what a lying length can make
/// the decoder allocate to 128 KiB. The frame itself is capped at [`MAX_DECODE_BYTES`]
/// before decoding.
const BINCODE_BUDGET: usize = 8 * MAX_DECODE_BYTES;

/// The most a thread's [`Codec::encode`] scratch buffer keeps between calls; one grown
/// past it by a large message is dropped after that message.
const SCRATCH_KEEP_BYTES: usize = 64 * 1024;

thread_local! {
    /// Each thread's buffer for [`Codec::encode`]: a message is encoded into it and then
    /// copied out into one allocation of its own ([`owned_frame`]). Encoding into a fresh empty buffer
    /// grew it by doubling from 8 bytes (four or five allocations for a 50-byte message),
    /// and freezing a buffer with room to spare allocates the `Bytes` header besides
    /// (heaptrack; BENCHMARKS.md, "Results storage", ninth session).
    static SCRATCH: std::cell::RefCell<BytesMut> = std::cell::RefCell::new(BytesMut::new());
}

/// bincode's output straight into a buffer: bincode writes a message a field at a time,
/// mostly single bytes, and through `std::io::Write` (`BytesMut::writer`) each of those
/// took the writer's `write_all` loop and its error mapping besides the copy: 4.7% of a
/// tic-tac-toe move's instructions (callgrind; BENCHMARKS.md, nineteenth session).
struct BincodeWriter<'a>(&'a mut BytesMut);

impl bincode::enc::write::Writer for BincodeWriter<'_> {
    #[inline]
    fn write(&mut self, bytes: &[u8]) -> Result<(), bincode::error::EncodeError> {
        self.0.extend_from_slice(bytes);
        Ok(())
    }
}

/// The same for MessagePack, which writes through `std::io::Write`: every write is taken
/// whole, so `write_all` needs no loop.
struct MsgPackWriter<'a>(&'a mut BytesMut);

impl std::io::Write for MsgPackWriter<'_> {
    #[inline]
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        self.0.extend_from_slice(bytes);
        Ok(bytes.len())
    }

    #[inline]
    fn write_all(&mut self, bytes: &[u8]) -> std::io::Result<()> {
        self.0.extend_from_slice(bytes);
        Ok(())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// The bincode configuration of the `ticksync.bincode.v1` subprotocol: little-endian,
/// variable-length integers (one byte below 251, else a tag byte 251/252/253 and a 2-, 4- or
/// 8-byte little-endian value; see PROTOCOL.md), and a decode limit.
fn bincode_config() -> impl bincode::config::Config {
    bincode::config::standard()
        .with_little_endian()
        .with_variable_int_encoding()
        .with_limit::<BINCODE_BUDGET>()
}

/// A wire encoding, chosen per connection by WebSocket subprotocol.
///
/// The two MessagePack subprotocols encode every value alike (one [`Codec::index`], one
/// payload encoding shared by their clients) and differ only in the envelope of the state
/// messages, `Snapshot` and `Delta`, which the writer puts around the shared payload
/// (`transport::ws_frame::put_state_prefix`): a one-entry map of the variant's name in
/// version 1, an array led by the variant's index in version 2 (PROTOCOL.md,
/// "MessagePack"). [`Codec::encode`] writes values through serde and so writes a state
/// message in the version-1 form whatever the codec; [`Codec::decode_server`] reads
/// either.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Codec {
    /// bincode 2 through serde; for Rust clients.
    Bincode,
    /// MessagePack with structs as maps keyed by field name and the state messages as
    /// arrays ([`MSGPACK_SUBPROTOCOL`]); for every other language.
    MsgPack,
    /// MessagePack as first published, the state messages as one-entry maps
    /// ([`MSGPACK_V1_SUBPROTOCOL`]).
    MsgPackV1,
}

/// A codec's name, as command lines and configuration files give it: `bincode`, `msgpack`
/// or `msgpack-v1` (the subprotocol names are accepted too).
impl std::str::FromStr for Codec {
    type Err = String;

    fn from_str(text: &str) -> Result<Codec, String> {
        match text {
            "bincode" => Ok(Codec::Bincode),
            "msgpack" => Ok(Codec::MsgPack),
            "msgpack-v1" => Ok(Codec::MsgPackV1),
            other => Codec::from_subprotocol(other).ok_or_else(|| {
                format!("unknown codec `{other}`: use bincode, msgpack or msgpack-v1")
            }),
        }
    }
}

/// Why bytes could not become a message, or a message bytes.
#[derive(Debug, Error)]
pub enum CodecError {
    /// The bytes are not a valid message of the expected type.
    #[error("malformed message: {0}")]
    Malformed(String),
    /// A valid message was followed by extra bytes.
    #[error("{0} unexpected trailing bytes after the message")]
    TrailingBytes(usize),
    /// The message is larger than [`MAX_DECODE_BYTES`].
    #[error("message of {0} bytes exceeds the {MAX_DECODE_BYTES}-byte limit")]
    TooLarge(usize),
    /// A value could not be encoded (a bug in the caller's types).
    #[error("encode failed: {0}")]
    Encode(String),
}

/// The two sizes of frame [`owned_frame`] keeps inline: most replies and room events in
/// bincode fit the first, and in MessagePack (names spelled out) the second.
const SMALL_FRAME: usize = 48;
const LARGE_FRAME: usize = 120;

/// An encoding of at most `N` (at most 255) bytes, held inline.
struct InlineFrame<const N: usize> {
    len: u8,
    bytes: [u8; N],
}

impl<const N: usize> InlineFrame<N> {
    /// Shared bytes holding a copy of `bytes` (at most `N` of them).
    fn shared(bytes: &[u8]) -> Bytes {
        const { assert!(N <= u8::MAX as usize) };
        debug_assert!(bytes.len() <= N);
        let mut frame = InlineFrame {
            len: u8::try_from(bytes.len()).unwrap_or(u8::MAX),
            bytes: [0; N],
        };
        frame.bytes[..bytes.len()].copy_from_slice(bytes);
        Bytes::from_owner(frame)
    }
}

impl<const N: usize> AsRef<[u8]> for InlineFrame<N> {
    fn as_ref(&self) -> &[u8] {
        &self.bytes[..usize::from(self.len)]
    }
}

/// `bytes` copied into shared bytes of their own. A frame of up to [`LARGE_FRAME`] bytes
/// (every server message but states, room lists and long errors) is one allocation
/// whose clones only count references ([`Bytes::from_owner`]); `Bytes::copy_from_slice`
/// would allocate a second time when the frame is first cloned for a second recipient or
/// the event log. Measured under the tic-tac-toe load: about 0.7 allocations fewer a move
/// (BENCHMARKS.md, "Twentieth session").
///
/// The price is memory while a frame waits: a frame of up to 48 bytes takes a 64-byte
/// allocation, one of 49 to 120 bytes 136, where an exact copy took its own size rounded
/// up to 16 (and 32 more once cloned). An outbox's queue is bounded by frames, not bytes
/// (`outbox.rs`), so the most a slow client's queued small frames can hold grows by about
/// an eighth at worst.
fn owned_frame(bytes: &[u8]) -> Bytes {
    if bytes.is_empty() {
        Bytes::new()
    } else if bytes.len() <= SMALL_FRAME {
        InlineFrame::<SMALL_FRAME>::shared(bytes)
    } else if bytes.len() <= LARGE_FRAME {
        InlineFrame::<LARGE_FRAME>::shared(bytes)
    } else {
        Bytes::copy_from_slice(bytes)
    }
}

impl Codec {
    /// Every codec. (The client's order of `Sec-WebSocket-Protocol` decides which one a
    /// connection uses.)
    pub const ALL: [Codec; 3] = [Codec::Bincode, Codec::MsgPack, Codec::MsgPackV1];

    /// The codec a WebSocket subprotocol name selects, if any.
    pub fn from_subprotocol(name: &str) -> Option<Codec> {
        match name.trim() {
            BINCODE_SUBPROTOCOL => Some(Codec::Bincode),
            MSGPACK_SUBPROTOCOL => Some(Codec::MsgPack),
            MSGPACK_V1_SUBPROTOCOL => Some(Codec::MsgPackV1),
            _ => None,
        }
    }

    /// The subprotocol name of this codec.
    pub fn subprotocol(self) -> &'static str {
        match self {
            Codec::Bincode => BINCODE_SUBPROTOCOL,
            Codec::MsgPack => MSGPACK_SUBPROTOCOL,
            Codec::MsgPackV1 => MSGPACK_V1_SUBPROTOCOL,
        }
    }

    /// A small dense index (0 or 1) of the codec's encoding of values, for per-codec
    /// arrays of encoded payloads: both MessagePack subprotocols are 1.
    pub fn index(self) -> usize {
        match self {
            Codec::Bincode => 0,
            Codec::MsgPack | Codec::MsgPackV1 => 1,
        }
    }

    /// Encodes `value` into shared bytes of its own, one allocation (`owned_frame`; empty:
    /// none).
    ///
    /// # Errors
    /// [`CodecError::Encode`] if the value cannot be represented (never for protocol types).
    pub fn encode<T: Serialize + ?Sized>(self, value: &T) -> Result<Bytes, CodecError> {
        let scratched = SCRATCH.try_with(|scratch| {
            let mut buf = scratch.try_borrow_mut().ok()?;
            buf.clear();
            let encoded = self
                .encode_into(value, &mut buf)
                .map(|()| owned_frame(&buf));
            if buf.capacity() > SCRATCH_KEEP_BYTES {
                *buf = BytesMut::new();
            }
            Some(encoded)
        });
        match scratched {
            Ok(Some(encoded)) => encoded,
            // A value whose `Serialize` encodes another with this codec (the scratch is in
            // use), or a thread tearing its locals down: a buffer of its own.
            Ok(None) | Err(_) => {
                let mut buf = BytesMut::new();
                self.encode_into(value, &mut buf)?;
                Ok(buf.freeze())
            }
        }
    }

    /// Appends the encoding of `value` to `buf`. Reusing one buffer avoids an allocation per
    /// message on hot paths.
    ///
    /// # Errors
    /// [`CodecError::Encode`] if the value cannot be represented.
    pub fn encode_into<T: Serialize + ?Sized>(
        self,
        value: &T,
        buf: &mut BytesMut,
    ) -> Result<(), CodecError> {
        match self {
            Codec::Bincode => {
                bincode::serde::encode_into_writer(value, BincodeWriter(buf), bincode_config())
                    .map_err(|e| CodecError::Encode(e.to_string()))
            }
            Codec::MsgPack | Codec::MsgPackV1 => {
                let mut ser = rmp_serde::Serializer::new(MsgPackWriter(buf)).with_struct_map();
                value
                    .serialize(&mut ser)
                    .map_err(|e| CodecError::Encode(e.to_string()))
            }
        }
    }

    /// Decodes one whole message from `bytes`, with the limits described in the module doc.
    ///
    /// # Errors
    /// [`CodecError::TooLarge`], [`CodecError::Malformed`] or [`CodecError::TrailingBytes`].
    pub fn decode<T: DeserializeOwned>(self, bytes: &[u8]) -> Result<T, CodecError> {
        if bytes.len() > MAX_DECODE_BYTES {
            return Err(CodecError::TooLarge(bytes.len()));
        }
        match self {
            Codec::Bincode => {
                let (value, read) = bincode::serde::decode_from_slice(bytes, bincode_config())
                    .map_err(|e| CodecError::Malformed(e.to_string()))?;
                match bytes.len() - read {
                    0 => Ok(value),
                    extra => Err(CodecError::TrailingBytes(extra)),
                }
            }
            Codec::MsgPack | Codec::MsgPackV1 => {
                let mut de = rmp_serde::Deserializer::new(std::io::Cursor::new(bytes));
                de.set_max_depth(MAX_MSGPACK_DEPTH);
                let value =
                    T::deserialize(&mut de).map_err(|e| CodecError::Malformed(e.to_string()))?;
                // `position` cannot exceed the slice length, which fits in usize.
                let read = usize::try_from(de.position()).unwrap_or(bytes.len());
                match bytes.len().saturating_sub(read) {
                    0 => Ok(value),
                    extra => Err(CodecError::TrailingBytes(extra)),
                }
            }
        }
    }

    /// Decodes one whole server message, for clients: [`Codec::decode`], except that a
    /// frame of [`Codec::MsgPack`] that is an array of 4 or 5 (a state message's short
    /// form, which serde's enums cannot read) is read by its envelope
    /// ([`envelope::read_state_envelope`]) and its body copied out.
    ///
    /// # Errors
    /// As [`Codec::decode`]; [`CodecError::Malformed`] for an array that is not a state
    /// message exactly as PROTOCOL.md writes it.
    pub fn decode_server(self, bytes: &[u8]) -> Result<ServerMsg, CodecError> {
        if self != Codec::MsgPack || !matches!(bytes.first(), Some(0x94 | 0x95)) {
            return self.decode(bytes);
        }
        if bytes.len() > MAX_DECODE_BYTES {
            return Err(CodecError::TooLarge(bytes.len()));
        }
        let state = envelope::read_state_envelope(self, bytes).ok_or_else(|| {
            CodecError::Malformed("an array that is not a Snapshot or a Delta".into())
        })?;
        let body_at = bytes.len().saturating_sub(state.body_len);
        let body = Bytes::copy_from_slice(bytes.get(body_at..).unwrap_or_default());
        Ok(match state.base_tick {
            None => ServerMsg::Snapshot {
                tick: state.tick,
                input_seq: state.input_seq,
                state: body,
            },
            Some(base_tick) => ServerMsg::Delta {
                tick: state.tick,
                base_tick,
                input_seq: state.input_seq,
                delta: body,
            },
        })
    }
}

/// A bincode `FindMatch` from before `FindMatch.options` existed.
#[derive(serde::Deserialize)]
struct FindMatchWithoutOptions {
    game: String,
}

/// `ClientMsg::Hello` as bincode clients sent it before `ticket` was appended.
#[derive(serde::Deserialize)]
struct HelloWithoutTicket {
    version: u16,
    resume_token: Option<String>,
    last_event_seq: u64,
    auth_token: Option<String>,
}

/// `ClientMsg::Hello` as bincode clients sent it before `auth_token` was appended.
#[derive(serde::Deserialize)]
struct HelloWithoutToken {
    version: u16,
    resume_token: Option<String>,
    last_event_seq: u64,
}

impl Codec {
    /// Decodes a client's message like [`Codec::decode`], also accepting the bincode
    /// `Hello` of clients built before `Hello.ticket` existed: variant 0 followed by
    /// exactly its first four fields reads as `ticket: None`, and exactly its first three
    /// (before `Hello.auth_token`) as `auth_token: None` too; and their `FindMatch`
    /// from before `FindMatch.options`: variant 2 followed by exactly a game name reads as
    /// empty options. (MessagePack needs no help: a missing key takes its default.)
    ///
    /// Two steps: an `Input` written in the form clients send it is read by
    /// [`envelope::read_input`] (which reads only what [`Codec::decode`] decodes to the same
    /// message), anything else by [`Codec::decode_client_msg_by_serde`]. The server's reader
    /// runs the same two steps itself, copying an `Input`'s `data` straight into the
    /// engine's `InputData`. Here its `data` is copied once into a buffer of its own (a view of `bytes` would keep the
    /// reader's read buffer, up to a 16 KiB message, from being reused until the room's
    /// next tick).
    ///
    /// # Errors
    /// As [`Codec::decode`]; when neither form decodes, the error of the current form.
    pub fn decode_client_msg(self, bytes: &[u8]) -> Result<ClientMsg, CodecError> {
        if let Some(input) = envelope::read_input(self, bytes)
            && let Some(data) = bytes.get(input.data)
        {
            return Ok(ClientMsg::Input {
                seq: input.seq,
                ack_tick: input.ack_tick,
                data: Bytes::copy_from_slice(data),
            });
        }
        self.decode_client_msg_by_serde(bytes)
    }

    /// [`Codec::decode_client_msg`] without its first step: every message through serde,
    /// with the older bincode forms. For a caller that has already tried
    /// [`envelope::read_input`] on `bytes` (the server's reader), so that the frame is not
    /// read twice.
    ///
    /// # Errors
    /// As [`Codec::decode_client_msg`].
    pub fn decode_client_msg_by_serde(self, bytes: &[u8]) -> Result<ClientMsg, CodecError> {
        let error = match self.decode::<ClientMsg>(bytes) {
            Ok(msg) => return Ok(msg),
            Err(error) => error,
        };
        match (self, bytes.split_first()) {
            (Codec::Bincode, Some((0, fields))) => self
                .decode::<HelloWithoutTicket>(fields)
                .map(|hello| ClientMsg::Hello {
                    version: hello.version,
                    resume_token: hello.resume_token,
                    last_event_seq: hello.last_event_seq,
                    auth_token: hello.auth_token,
                    ticket: None,
                })
                .or_else(|_| {
                    self.decode::<HelloWithoutToken>(fields)
                        .map(|hello| ClientMsg::Hello {
                            version: hello.version,
                            resume_token: hello.resume_token,
                            last_event_seq: hello.last_event_seq,
                            auth_token: None,
                            ticket: None,
                        })
                })
                .map_err(|_| error),
            (Codec::Bincode, Some((2, fields))) => self
                .decode::<FindMatchWithoutOptions>(fields)
                .map(|find| ClientMsg::FindMatch {
                    game: find.game,
                    options: Bytes::new(),
                })
                .map_err(|_| error),
            _ => Err(error),
        }
    }
}

pub mod envelope;

#[cfg(test)]
mod tests;
