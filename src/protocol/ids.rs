//! The ids the wire carries, as types of their own: [`SessionId`], [`RoomId`] and
//! [`MatchId`].
//!
//! Each is a `u64` on the wire and nothing more: `#[serde(transparent)]`, so bincode writes
//! the same varint and MessagePack the same integer as for a plain `u64`, the HTTP JSON
//! shows a plain number, and PROTOCOL.md's byte vectors are unchanged. In Rust they are
//! distinct types, so a room id cannot be passed where a session id is meant. They are
//! `Copy`, ordered and hashable; [`Display`](std::fmt::Display) writes the plain number and
//! [`FromStr`] reads it back (HTTP paths, command lines, resume tokens), refusing anything
//! `u64::from_str` refuses. Code that needs the number (SQL bindings, seeds, hex tokens)
//! calls `get()`; there is no arithmetic on ids.
//!
//! Seats ([`Seat`](super::Seat)) and ticks ([`Tick`](super::Tick)) stay plain integers:
//! a seat is an index into a room's seats and a tick is counted and compared, not named.
//!
//! ```
//! use ticksync::protocol::{MatchId, RoomId};
//!
//! let room: RoomId = "42".parse().unwrap();
//! assert_eq!(room.get(), 42);
//! assert_eq!(room.to_string(), "42");
//! // A match is recorded under its room's id.
//! assert_eq!(MatchId::from(room), MatchId::new(42));
//! assert!("-1".parse::<RoomId>().is_err());
//! ```

use std::fmt;
use std::num::ParseIntError;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

/// Defines one id newtype around a `u64` with its constructor, accessor, `Display` and
/// `FromStr`.
macro_rules! id_type {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(
            Debug, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize,
            Deserialize,
        )]
        #[serde(transparent)]
        pub struct $name(u64);

        impl $name {
            /// The id whose number is `n`.
            pub const fn new(n: u64) -> $name {
                $name(n)
            }

            /// The id's number, as the wire carries it.
            pub const fn get(self) -> u64 {
                self.0
            }
        }

        /// The plain number, as the wire, the HTTP JSON and the logs show it.
        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                fmt::Display::fmt(&self.0, f)
            }
        }

        /// A decimal number, as `u64::from_str` reads it.
        impl FromStr for $name {
            type Err = ParseIntError;

            fn from_str(text: &str) -> Result<$name, ParseIntError> {
                text.parse().map($name)
            }
        }
    };
}

id_type!(
    /// A session's server-wide id, stable across reconnects. Allocated by the lobby's
    /// session table; a guest's player key is `guest:` and this number.
    SessionId
);

id_type!(
    /// A room's server-wide id, unique across restarts (the engine starts counting above
    /// the last recorded match). The room directory is ordered by it.
    RoomId
);

id_type!(
    /// A recorded match's id (`GET /matches/{id}`, `RatingChanged`): the id of the room
    /// it was played in ([`MatchId::from`] a [`RoomId`]).
    MatchId
);

/// A match is recorded under the id of its room.
impl From<RoomId> for MatchId {
    fn from(room: RoomId) -> MatchId {
        MatchId(room.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_encode_as_plain_u64s() {
        use crate::codec::Codec;
        for n in [0, 5, 250, 251, 300, u64::MAX] {
            for codec in [Codec::Bincode, Codec::MsgPack] {
                let plain = codec.encode(&n).unwrap();
                assert_eq!(codec.encode(&RoomId::new(n)).unwrap(), plain);
                assert_eq!(codec.encode(&SessionId::new(n)).unwrap(), plain);
                assert_eq!(codec.encode(&MatchId::new(n)).unwrap(), plain);
                assert_eq!(codec.decode::<RoomId>(&plain).unwrap(), RoomId::new(n));
            }
            assert_eq!(
                serde_json::to_string(&SessionId::new(n)).unwrap(),
                n.to_string()
            );
        }
    }

    #[test]
    fn ids_read_and_write_the_plain_number() {
        assert_eq!("7".parse::<SessionId>().unwrap(), SessionId::new(7));
        assert_eq!(MatchId::new(12).to_string(), "12");
        assert_eq!(format!("{:>4}", RoomId::new(3)), "   3");
        for bad in ["", "x", "-1", "1.5", "18446744073709551616", " 1"] {
            assert!(bad.parse::<RoomId>().is_err(), "{bad:?}");
        }
    }
}
