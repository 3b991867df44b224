//! ticksync: an authoritative multiplayer game state-sync server.
//!
//! Clients send inputs over binary WebSocket frames; a fixed-tick loop applies them to
//! authoritative game rooms and broadcasts compact snapshots. The layers, each ignorant of
//! the ones above it:
//!
//! - [`protocol`]: the wire messages, error codes and close codes. Data only.
//! - [`codec`]: bytes to messages and back (bincode, MessagePack), with decode limits.
//! - [`game`]: the [`game::Game`] trait and the built-in games. Pure rules.

pub mod codec;
pub mod game;
pub mod protocol;
