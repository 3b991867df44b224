//! Replays: every game's log of what the room did to it, small enough to keep, and the
//! check that re-runs a game from its log.
//!
//! A room holds its game as a [`Recording`] (unless [`ReplayConfig::record`] is off): a
//! [`DynGame`](crate::engine::DynGame) decorator that passes every call on and writes each
//! state-changing one to the log exactly as the room made it - accepted inputs that changed
//! the state, with their seat, codec, seq and raw bytes (a refused input, or one the game
//! says changed nothing, such as a repeated arena direction, is not logged), every
//! `tick(now)` with its `now` (the shard may skip ticks), every `abandon`, `disconnect`,
//! `reconnect` and `join`. Every
//! [`ReplayConfig::hash_every`] ticks it logs a hash of the state (see [`state_hash`]). At
//! the game's end the room asks for the log (`DynGame::take_replay`), which gets the
//! outcome and a final hash, is compressed with zstd, and goes out in
//! [`FinishedGame::replay`](crate::engine::FinishedGame::replay).
//!
//! [`verify`] builds the same game from the log's header with the rules a
//! [`GameRegistry`](crate::engine::GameRegistry) has under the game's name, replays every
//! record and compares every hash; `ticksync replay FILE` runs it. This works because the
//! games are deterministic (the [`Game`](crate::game::Game) contract).
//!
//! **Cost on the tick.** Consecutive ticks only count up a run (no byte, no allocation);
//! inputs append to a buffer reserved when the game starts (512 bytes, a whole tic-tac-toe
//! game); a check encodes the views into a reused buffer. Compression runs once, at the
//! game's end.
//!
//! **Bound.** A log holds at most [`ReplayConfig::max_bytes`] (default 8 MiB,
//! uncompressed). A log that outgrows it is dropped at once (its memory freed); that
//! game's `replay` is `None`, the drop is logged at `warn` and counted
//! (`ticksync_replays_dropped_total`).
//!
//! # Format, version 2
//!
//! A replay as stored and served is one zstd frame. Decompressed (at most
//! [`MAX_LOG_BYTES`]), it is:
//!
//! ```text
//! "TSRP"            4 bytes, the magic
//! version           1 byte, 2
//! header_len        varint
//! header            header_len bytes: the bincode encoding of ReplayHeader
//! records...        one after another; the last is End
//! ```
//!
//! *varint* is unsigned LEB128 (7 bits a byte, least significant first, high bit set on
//! every byte but the last; at most 10 bytes). *dt* is a signed offset from the
//! **cursor**, zigzag-encoded (`0, -1, 1, -2` as `0, 1, 2, 3`) then a varint. The cursor
//! is the `now` of the last `tick` call, and the header's `start` before the first.
//!
//! The header ([`ReplayHeader`]) is encoded as protocol messages are in the bincode codec
//! (PROTOCOL.md, "Encodings": bincode 2, standard configuration, varint integers), fields
//! in order: `game` (string), `tick_hz` (u16), `settings` (`RoomSettings`, as in
//! `CreateRoom`, its `options` re-encoded in bincode), `players` (u8), `start` (u64),
//! `hash_every` (u32), `seed` (u64). The game is rebuilt as
//! `GameConfig { tick_hz, settings, players, seed }` at tick `start`.
//!
//! Records, each a tag byte and its fields:
//!
//! | Tag | Record | Fields | Replayed as |
//! |---|---|---|---|
//! | 1 | Ticks | `n` varint | `n` times: cursor += 1, `tick(cursor)` |
//! | 2 | TickAt | `dt` | cursor += dt, `tick(cursor)` |
//! | 3 | Input | `dt`, seat u8, codec u8 (0 bincode, 1 MessagePack), `seq` varint, `len` varint, `len` bytes | `apply_input(cursor + dt, seat, seq, codec, bytes)`, which must be accepted |
//! | 4 | Abandon | `dt`, seat u8 | `abandon(cursor + dt, seat)` |
//! | 5 | Check | `tick` varint, hash u64 (8 bytes little-endian) | the cursor must be `tick` and [`state_hash`] must equal `hash` |
//! | 6 | End | `tick` varint, winner u8 (255: none), reason u8, hash u64 LE | [`state_hash`] must equal `hash`; nothing may follow |
//! | 7 | Disconnect | `dt`, seat u8 | `disconnect(cursor + dt, seat)` |
//! | 8 | Reconnect | `dt`, seat u8 | `reconnect(cursor + dt, seat)` |
//! | 9 | Join | `dt`, seat u8 | `join(cursor + dt, seat)` |
//!
//! `End.tick` and the outcome are what the room reported (a game ended by a shutdown or
//! by the operator reports `ServerShutdown` or `Closed` while its rules have no outcome).
//! Reasons are numbered in `EndReason`'s order: 0 Win, 1 Draw, 2 TurnTimeout, 3 Abandoned,
//! 4 ServerShutdown, 5 Closed. A `Check` follows the tick record whose tick reached the
//! next multiple of `hash_every` past `start`; the hash covers the views and the outcome
//! (see [`state_hash`]), so it needs nothing from the game but the `Game` trait.
//!
//! A reader must refuse an unknown version, tag, codec or reason. A change to the records
//! or the header, or to a built-in game's rules or view types, is a new version.

mod args;
mod format;
mod recorder;
mod verify;

pub use args::{ReplayArgs, ReplayFileArgs};
pub use format::{LogReader, MAGIC, Record, ReplayHeader, VERSION, encode_records};
pub use recorder::{Recorder, Recording, ReplayCounters, ReplayTally, state_hash};
pub use verify::{Verified, decompress, verify, verify_log};

use crate::codec::CodecError;
use crate::protocol::Tick;

/// The most a decompressed log may hold, for [`ReplayConfig::max_bytes`] and for
/// [`decompress`].
pub const MAX_LOG_BYTES: usize = 64 << 20;

/// The most `tick` calls a log may replay: thirty days at 128 ticks per second.
pub const MAX_REPLAY_TICKS: u64 = 30 * 24 * 3600 * 128;

/// zstd's level for logs of [`SMALL_LOG_BYTES`] or more: its default. Finishing a log
/// (compression included) took 9.5 us for a tic-tac-toe game and 46 us for an arena
/// minute (BENCHMARKS.md, "Replay sizes").
const COMPRESSION_LEVEL: i32 = 3;

/// zstd's level for logs under [`SMALL_LOG_BYTES`]: a short turn-based game, finished on
/// the shard's tick by the thousand per second. A negative level leaves literals without
/// Huffman coding, whose tables cost most of the time of compressing a few hundred bytes
/// and saved little on them (BENCHMARKS.md, "Replay sizes"); the output is an ordinary
/// zstd frame, read back like any other.
const SMALL_LOG_LEVEL: i32 = -1;

/// Below this many bytes a log is compressed at [`SMALL_LOG_LEVEL`].
const SMALL_LOG_BYTES: usize = 4096;

/// Below this many bytes a log is not compressed: it is stored in a zstd frame of one raw
/// block, which any zstd decoder reads like any other frame. Compressing a log this short
/// cost about 12.8k instructions (4 us) on the shard's tick, mostly zstd building its
/// default entropy tables for the frame, and saved from 5% of it (the load driver's
/// tic-tac-toe logs, 116 bytes on average, to 110) to about 18% (games of moves seconds
/// apart: 277 bytes to 226) (BENCHMARKS.md, "Replay sizes").
const STORED_LOG_BYTES: usize = 256;

/// Replay recording, an engine setting.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ReplayConfig {
    /// Record every game (default on).
    pub record: bool,
    /// Ticks between state hashes in the log (default 30; at least 1).
    pub hash_every: u32,
    /// The most bytes one game's log may hold before compression (default 8 MiB, at
    /// most [`MAX_LOG_BYTES`]).
    pub max_bytes: usize,
}

impl Default for ReplayConfig {
    fn default() -> Self {
        ReplayConfig {
            record: true,
            hash_every: 30,
            max_bytes: 8 << 20,
        }
    }
}

/// Why a replay could not be read or did not verify.
#[derive(Debug, thiserror::Error)]
pub enum ReplayError {
    /// The bytes are not a zstd frame.
    #[error("the replay does not decompress (zstd): {0}")]
    Decompress(std::io::Error),
    /// Decompressed, it would be larger than [`MAX_LOG_BYTES`].
    #[error("the replay is larger than {MAX_LOG_BYTES} bytes uncompressed")]
    TooLarge,
    /// No `TSRP` magic.
    #[error("not a ticksync replay (no TSRP magic)")]
    NotAReplay,
    /// A format version this build does not read.
    #[error("replay format version {0}; this build reads version {VERSION}")]
    Version(u8),
    /// The header does not decode.
    #[error("the replay's header does not decode: {0}")]
    Header(CodecError),
    /// The log ends inside a record.
    #[error("the replay is cut short at byte {offset}")]
    Truncated {
        /// Where the missing bytes start.
        offset: usize,
    },
    /// A record that breaks the format.
    #[error("bad record at byte {offset}: {what}")]
    BadRecord {
        /// Where it starts.
        offset: usize,
        /// What is wrong.
        what: &'static str,
    },
    /// The log ends without its `End` record.
    #[error("the replay has no end record (cut short)")]
    NoEnd,
    /// The registry has no game of that name.
    #[error("the replay's game {0:?} is not offered by this server")]
    UnknownGame(String),
    /// The replayed game differs from the recorded one.
    #[error("the replay differs at tick {tick} (last verified at tick {last_good}): {what}")]
    Diverged {
        /// The first checked tick that differs.
        tick: Tick,
        /// The last tick whose state matched (the start if none did).
        last_good: Tick,
        /// What differs.
        what: String,
    },
}

#[cfg(test)]
mod tests;
