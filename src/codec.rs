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

use bytes::{BufMut, Bytes, BytesMut};
use serde::{Serialize, de::DeserializeOwned};
use thiserror::Error;

use crate::protocol::ClientMsg;

/// WebSocket subprotocol that selects the bincode codec.
pub const BINCODE_SUBPROTOCOL: &str = "ticksync.bincode.v1";
/// WebSocket subprotocol that selects the MessagePack codec.
pub const MSGPACK_SUBPROTOCOL: &str = "ticksync.msgpack.v1";

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
    /// copied out at its exact size, one allocation. Encoding into a fresh empty buffer
    /// grew it by doubling from 8 bytes (four or five allocations for a 50-byte message),
    /// and freezing a buffer with room to spare allocates the `Bytes` header besides
    /// (heaptrack; BENCHMARKS.md, "Results storage", ninth session).
    static SCRATCH: std::cell::RefCell<BytesMut> = std::cell::RefCell::new(BytesMut::new());
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
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Codec {
    /// bincode 2 through serde; for Rust clients.
    Bincode,
    /// MessagePack with structs as maps keyed by field name; for every other language.
    MsgPack,
}

/// A codec's name, as command lines and configuration files give it: `bincode` or
/// `msgpack` (the subprotocol names are accepted too).
impl std::str::FromStr for Codec {
    type Err = String;

    fn from_str(text: &str) -> Result<Codec, String> {
        match text {
            "bincode" => Ok(Codec::Bincode),
            "msgpack" => Ok(Codec::MsgPack),
            other => Codec::from_subprotocol(other)
                .ok_or_else(|| format!("unknown codec `{other}`: use bincode or msgpack")),
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

impl Codec {
    /// Every codec. (The client's order of `Sec-WebSocket-Protocol` decides which one a
    /// connection uses.)
    pub const ALL: [Codec; 2] = [Codec::Bincode, Codec::MsgPack];

    /// The codec a WebSocket subprotocol name selects, if any.
    pub fn from_subprotocol(name: &str) -> Option<Codec> {
        match name.trim() {
            BINCODE_SUBPROTOCOL => Some(Codec::Bincode),
            MSGPACK_SUBPROTOCOL => Some(Codec::MsgPack),
            _ => None,
        }
    }

    /// The subprotocol name of this codec.
    pub fn subprotocol(self) -> &'static str {
        match self {
            Codec::Bincode => BINCODE_SUBPROTOCOL,
            Codec::MsgPack => MSGPACK_SUBPROTOCOL,
        }
    }

    /// A small dense index (0 or 1), for per-codec arrays.
    pub fn index(self) -> usize {
        match self {
            Codec::Bincode => 0,
            Codec::MsgPack => 1,
        }
    }

    /// Encodes `value` into a buffer of its own, exactly its size (empty: no allocation).
    ///
    /// # Errors
    /// [`CodecError::Encode`] if the value cannot be represented (never for protocol types).
    pub fn encode<T: Serialize + ?Sized>(self, value: &T) -> Result<Bytes, CodecError> {
        let scratched = SCRATCH.try_with(|scratch| {
            let mut buf = scratch.try_borrow_mut().ok()?;
            buf.clear();
            let encoded = self
                .encode_into(value, &mut buf)
                .map(|()| Bytes::copy_from_slice(&buf));
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
        let mut writer = buf.writer();
        match self {
            Codec::Bincode => {
                bincode::serde::encode_into_std_write(value, &mut writer, bincode_config())
                    .map(|_| ())
                    .map_err(|e| CodecError::Encode(e.to_string()))
            }
            Codec::MsgPack => {
                let mut ser = rmp_serde::Serializer::new(&mut writer).with_struct_map();
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
            Codec::MsgPack => {
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
    /// # Errors
    /// As [`Codec::decode`]; when neither form decodes, the error of the current form.
    pub fn decode_client_msg(self, bytes: &[u8]) -> Result<ClientMsg, CodecError> {
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codecs_parse_from_their_names_and_subprotocols() {
        for codec in Codec::ALL {
            let name = match codec {
                Codec::Bincode => "bincode",
                Codec::MsgPack => "msgpack",
            };
            assert_eq!(name.parse::<Codec>(), Ok(codec));
            assert_eq!(codec.subprotocol().parse::<Codec>(), Ok(codec));
        }
        let refused = "json".parse::<Codec>().unwrap_err();
        assert!(refused.contains("bincode or msgpack"), "{refused}");
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
        assert_eq!(&Codec::MsgPack.encode(&delta).unwrap()[..], &positional[..]);
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
        assert_eq!(Codec::MsgPack.decode::<ServerMsg>(&map).unwrap(), delta);
        // bincode is unchanged: the variant index, then the fields in order.
        assert_eq!(
            &Codec::Bincode.encode(&delta).unwrap()[..],
            &[11, 5, 3, 1, 1, 0x90]
        );
        // A field short is malformed.
        positional[7] = 0x93;
        assert!(
            Codec::MsgPack
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
}
