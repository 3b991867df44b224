//! [`Recording`]: the [`DynGame`] decorator that writes a game's replay log as the room
//! plays it.

use std::cell::RefCell;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use bytes::{Bytes, BytesMut};
use xxhash_rust::xxh3::xxh3_64;

use super::format::{LogWriter, ReplayHeader, reason_code};
use super::{
    COMPRESSION_LEVEL, MAX_LOG_BYTES, ReplayConfig, SMALL_LOG_BYTES, SMALL_LOG_LEVEL,
    STORED_LOG_BYTES,
};
use crate::codec::{Codec, CodecError};
use crate::engine::{DynGame, GameEntry, InputError};
use crate::game::{GameConfig, Outcome, Viewer};
use crate::protocol::{Seat, Tick};

/// Bytes each log reserves when its game starts: a whole tic-tac-toe game fits, so a
/// short game's log never grows on a tick.
const RESERVE_BYTES: usize = 512;
/// Bytes each thread reserves for encoding views when hashing; a scratch grown past
/// [`MAX_KEPT_SCRATCH`] (1 MiB: a game's views are far smaller) by a huge game is dropped
/// after the hash.
const SCRATCH_BYTES: usize = 256;
const MAX_KEPT_SCRATCH: usize = 1 << 20;

thread_local! {
    /// The views of the hash being taken (see [`Recording::hash`]): one buffer per shard
    /// thread rather than one per room.
    static SCRATCH: RefCell<BytesMut> = RefCell::new(BytesMut::with_capacity(SCRATCH_BYTES));
}

/// Replays recorded, their bytes as stored (zstd frames), and logs dropped for outgrowing
/// [`ReplayConfig::max_bytes`]. One per shard; read into `ShardStats`.
#[derive(Debug, Default)]
pub struct ReplayCounters {
    recorded: AtomicU64,
    bytes: AtomicU64,
    dropped: AtomicU64,
}

/// A snapshot of [`ReplayCounters`].
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ReplayTally {
    /// Replays handed over with a finished game.
    pub recorded: u64,
    /// Their compressed size, in bytes, together.
    pub bytes: u64,
    /// Games whose log outgrew the limit and was dropped (their `replay` is `None`).
    pub dropped: u64,
}

impl ReplayCounters {
    /// The counts now.
    pub fn tally(&self) -> ReplayTally {
        ReplayTally {
            recorded: self.recorded.load(Ordering::Relaxed),
            bytes: self.bytes.load(Ordering::Relaxed),
            dropped: self.dropped.load(Ordering::Relaxed),
        }
    }
}

/// Wraps new games in [`Recording`] when recording is on. Cheap to clone (one per room).
#[derive(Debug, Clone)]
pub struct Recorder {
    config: ReplayConfig,
    counters: Arc<ReplayCounters>,
}

impl Recorder {
    /// A recorder with `config`, counting into `counters`.
    pub fn new(config: ReplayConfig, counters: Arc<ReplayCounters>) -> Recorder {
        Recorder { config, counters }
    }

    /// `game` as the room should hold it: recorded, unless recording is off.
    pub fn wrap(
        &self,
        game: Box<dyn DynGame>,
        entry: &GameEntry,
        config: &GameConfig,
        start: Tick,
    ) -> Box<dyn DynGame> {
        if !self.config.record {
            return game;
        }
        Box::new(Recording::new(
            game,
            entry,
            config,
            start,
            self.config,
            self.counters.clone(),
        ))
    }
}

/// A game whose every state-changing call is written to its replay log before (inputs) or
/// after (ticks) it is passed on; every other call is passed on untouched.
pub struct Recording {
    inner: Box<dyn DynGame>,
    game: &'static str,
    seats: u8,
    log: LogWriter,
    hash_every: Tick,
    next_check: Tick,
    counters: Arc<ReplayCounters>,
    /// The log was handed over (or found dropped) at the game's end.
    taken: bool,
}

impl Recording {
    /// Starts the log of `inner`, a game `entry` built from `config` at tick `start`.
    pub fn new(
        inner: Box<dyn DynGame>,
        entry: &GameEntry,
        config: &GameConfig,
        start: Tick,
        replay: ReplayConfig,
        counters: Arc<ReplayCounters>,
    ) -> Recording {
        let hash_every = replay.hash_every.max(1);
        let header = ReplayHeader {
            game: entry.name.to_string(),
            tick_hz: config.tick_hz,
            settings: config.settings.clone(),
            players: config.players,
            start,
            hash_every,
            seed: config.seed,
        };
        Recording {
            inner,
            game: entry.name,
            seats: entry.seats,
            log: LogWriter::new(&header, replay.max_bytes.min(MAX_LOG_BYTES), RESERVE_BYTES),
            hash_every: Tick::from(hash_every),
            next_check: start.saturating_add(Tick::from(hash_every)),
            counters,
            taken: false,
        }
    }

    /// The state hash of the game now, taken in this thread's scratch buffer (a fresh
    /// one if that is in use or gone, as while the thread ends).
    fn hash(&self) -> u64 {
        let with = |scratch: &mut BytesMut| state_hash(&*self.inner, self.seats, scratch);
        SCRATCH
            .try_with(|cell| {
                let mut scratch = cell.try_borrow_mut().ok()?;
                let hash = with(&mut scratch);
                if scratch.capacity() > MAX_KEPT_SCRATCH {
                    *scratch = BytesMut::with_capacity(SCRATCH_BYTES);
                }
                Some(hash)
            })
            .ok()
            .flatten()
            .unwrap_or_else(|| with(&mut BytesMut::new()))
    }
}

/// The state hash of `game`: xxh3 (64 bits) over, in order, each view's bincode encoding
/// prefixed by its length (8 bytes, little-endian) - the spectator's, then, unless the
/// game's views are shared, seat 0's to seat `seats - 1`'s - and then three outcome bytes:
/// `0, 0, 0` while running, else `1`, the winner (255 for none) and the reason's number.
///
/// The bytes are gathered in `scratch` and hashed in one call: xxh3 over a concatenation
/// equals its streaming form fed the pieces (the replay property tests compare every hash
/// with the streamed one, `streamed_hash` in `tests.rs`, so logs recorded either way
/// verify), and the streaming form set up a 600-byte state for every hash.
pub fn state_hash(game: &dyn DynGame, seats: u8, scratch: &mut BytesMut) -> u64 {
    scratch.clear();
    let mut add = |viewer: Viewer| {
        let at = scratch.len();
        scratch.extend_from_slice(&[0; 8]);
        match game.encode_view(viewer, Codec::Bincode, scratch) {
            Ok(()) => {
                let len = (scratch.len() - at - 8) as u64;
                scratch[at..at + 8].copy_from_slice(&len.to_le_bytes());
            }
            // A view that cannot be encoded is never sent either; hash the fact.
            Err(_) => {
                scratch.truncate(at);
                scratch.extend_from_slice(&u64::MAX.to_le_bytes());
            }
        }
    };
    add(Viewer::Spectator);
    if !game.shared_view() {
        for seat in 0..seats {
            add(Viewer::Player(seat));
        }
    }
    let outcome = match game.outcome() {
        None => [0, 0, 0],
        Some(o) => [1, o.winner.unwrap_or(u8::MAX), reason_code(o.reason)],
    };
    scratch.extend_from_slice(&outcome);
    xxh3_64(scratch)
}

impl DynGame for Recording {
    fn apply_input(
        &mut self,
        now: Tick,
        seat: Seat,
        seq: u32,
        codec: Codec,
        data: &[u8],
    ) -> Result<bool, InputError> {
        let result = self.inner.apply_input(now, seat, seq, codec, data);
        // A refused input changed nothing, and neither did an accepted one that says so
        // (`Game::apply` returned false: a held key repeated, an arena player's unchanged
        // direction): the replay has no need of either. Most arena inputs are repeats,
        // so this keeps a running arena's log (memory held until the game ends) small.
        if let Ok(true) = result {
            self.log.input(now, seat, codec, seq, data);
        }
        result
    }

    fn tick(&mut self, now: Tick) -> bool {
        let changed = self.inner.tick(now);
        self.log.tick(now);
        if now >= self.next_check && !self.log.overflowed() {
            let hash = self.hash();
            self.log.check(now, hash);
            self.next_check = now.saturating_add(self.hash_every);
        }
        changed
    }

    fn abandon(&mut self, now: Tick, seat: Seat) -> bool {
        let changed = self.inner.abandon(now, seat);
        self.log.abandon(now, seat);
        changed
    }

    fn disconnect(&mut self, now: Tick, seat: Seat) -> bool {
        let changed = self.inner.disconnect(now, seat);
        self.log.disconnect(now, seat);
        changed
    }

    fn reconnect(&mut self, now: Tick, seat: Seat) -> bool {
        let changed = self.inner.reconnect(now, seat);
        self.log.reconnect(now, seat);
        changed
    }

    fn join(&mut self, now: Tick, seat: Seat) -> bool {
        let changed = self.inner.join(now, seat);
        self.log.join(now, seat);
        changed
    }

    fn take_events(&mut self, out: &mut Vec<crate::engine::EncodedEvent>) {
        self.inner.take_events(out);
    }

    fn shared_view(&self) -> bool {
        self.inner.shared_view()
    }

    fn ends_by_itself(&self) -> bool {
        self.inner.ends_by_itself()
    }

    fn encode_view(
        &self,
        viewer: Viewer,
        codec: Codec,
        buf: &mut BytesMut,
    ) -> Result<(), CodecError> {
        self.inner.encode_view(viewer, codec, buf)
    }

    fn outcome(&self) -> Option<Outcome> {
        self.inner.outcome()
    }

    fn view_json(&self, viewer: Viewer) -> Option<serde_json::Value> {
        self.inner.view_json(viewer)
    }

    fn record_view(&mut self, now: Tick) {
        self.inner.record_view(now);
    }

    fn forget_before(&mut self, tick: Tick) {
        self.inner.forget_before(tick);
    }

    fn has_base(&self, base_tick: Tick) -> bool {
        self.inner.has_base(base_tick)
    }

    fn encode_delta(
        &self,
        base_tick: Tick,
        now: Tick,
        codec: Codec,
        buf: &mut BytesMut,
    ) -> Result<bool, CodecError> {
        self.inner.encode_delta(base_tick, now, codec, buf)
    }

    fn take_replay(&mut self, now: Tick, outcome: Outcome) -> Option<Bytes> {
        if std::mem::replace(&mut self.taken, true) {
            return None;
        }
        if self.log.overflowed() {
            self.counters.dropped.fetch_add(1, Ordering::Relaxed);
            tracing::warn!(
                game = self.game,
                "replay log outgrew --replay-max-bytes and was dropped"
            );
            return None;
        }
        let hash = self.hash();
        let log = self.log.finish(now, outcome, hash)?;
        match compress(&log) {
            Ok(compressed) => {
                self.counters.recorded.fetch_add(1, Ordering::Relaxed);
                self.counters
                    .bytes
                    .fetch_add(compressed.len() as u64, Ordering::Relaxed);
                Some(Bytes::from(compressed))
            }
            Err(error) => {
                self.counters.dropped.fetch_add(1, Ordering::Relaxed);
                tracing::warn!(game = self.game, %error, "replay log could not be compressed");
                None
            }
        }
    }
}

thread_local! {
    /// This thread's zstd compression context and the level it is set to, made once:
    /// creating one allocates and clears its tables (several hundred KiB at level 3), which
    /// cost more than compressing a tic-tac-toe log.
    static COMPRESSOR: std::cell::RefCell<Option<(zstd::bulk::Compressor<'static>, i32)>> =
        const { std::cell::RefCell::new(None) };
}

/// zstd's level for a log of `len` bytes.
fn level_for(len: usize) -> i32 {
    if len < SMALL_LOG_BYTES {
        SMALL_LOG_LEVEL
    } else {
        COMPRESSION_LEVEL
    }
}

/// `log` as a zstd frame: stored ([`stored_frame`]) under [`STORED_LOG_BYTES`], else
/// compressed at its [`level_for`] with this thread's context.
fn compress(log: &[u8]) -> std::io::Result<Vec<u8>> {
    if let Some(frame) = stored_frame(log) {
        return Ok(frame);
    }
    let level = level_for(log.len());
    COMPRESSOR.with(|cell| {
        let mut cell = cell.borrow_mut();
        let (compressor, set) = match &mut *cell {
            Some(made) => made,
            empty => empty.insert((zstd::bulk::Compressor::new(level)?, level)),
        };
        if *set != level {
            compressor.set_compression_level(level)?;
            *set = level;
        }
        compressor.compress(log)
    })
}

/// `log` in a zstd frame without compression, when it is shorter than
/// [`STORED_LOG_BYTES`] (RFC 8878, section 3.1.1): the magic number, a frame header
/// descriptor with `Single_Segment_flag` set and a one-byte `Frame_Content_Size`, and one
/// block of type `Raw_Block` marked last. Nine bytes more than the log.
fn stored_frame(log: &[u8]) -> Option<Vec<u8>> {
    // The content size below is one byte.
    const _: () = assert!(STORED_LOG_BYTES <= 256);
    const ZSTD_MAGIC: u32 = 0xFD2F_B528;
    const SINGLE_SEGMENT: u8 = 1 << 5;
    const LAST_BLOCK: u32 = 1;
    const RAW_BLOCK: u32 = 0 << 1;
    let len = u8::try_from(log.len())
        .ok()
        .filter(|&len| usize::from(len) < STORED_LOG_BYTES)?;
    let mut frame = Vec::with_capacity(log.len() + 9);
    frame.extend_from_slice(&ZSTD_MAGIC.to_le_bytes());
    frame.extend_from_slice(&[SINGLE_SEGMENT, len]);
    let block_header = LAST_BLOCK | RAW_BLOCK | (u32::from(len) << 3);
    frame.extend_from_slice(&block_header.to_le_bytes()[..3]);
    frame.extend_from_slice(log);
    Some(frame)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A log under [`STORED_LOG_BYTES`] goes in a frame of its own bytes that zstd's own
    /// decoders (the bulk one and the streaming one `verify::decompress` uses) read back,
    /// with the content size in its header; from that length on, logs are compressed.
    #[test]
    fn short_logs_are_stored_in_frames_zstd_reads() {
        for len in [0, 1, 7, 116, STORED_LOG_BYTES - 1] {
            let log: Vec<u8> = (0..len).map(|i| (i * 31 % 256) as u8).collect();
            let frame = compress(&log).expect("stores");
            assert_eq!(frame.len(), len + 9, "{len} bytes");
            assert_eq!(&frame[9..], &log[..]);
            assert_eq!(
                zstd::zstd_safe::get_frame_content_size(&frame).ok(),
                Some(Some(len as u64))
            );
            assert_eq!(zstd::bulk::decompress(&frame, len).expect("decodes"), log);
            assert_eq!(super::super::decompress(&frame).expect("decodes"), log);
        }
        let repetitive = vec![7u8; STORED_LOG_BYTES];
        let frame = compress(&repetitive).expect("compresses");
        assert!(frame.len() < 32, "{} bytes", frame.len());
        assert_eq!(
            super::super::decompress(&frame).expect("decodes"),
            repetitive
        );
    }

    /// Both levels, and a context switched between them, give frames that decompress to
    /// the log (the level is a per-call choice on one reused context).
    #[test]
    fn small_and_large_logs_round_trip_through_one_context() {
        let small: Vec<u8> = (0..300u32).map(|i| (i * 7 % 251) as u8).collect();
        let large: Vec<u8> = (0..20_000u32).map(|i| (i % 97) as u8).collect();
        assert_eq!(level_for(small.len()), SMALL_LOG_LEVEL);
        assert_eq!(level_for(large.len()), COMPRESSION_LEVEL);
        for log in [&small, &large, &small] {
            let frame = compress(log).expect("compresses");
            let back = zstd::bulk::decompress(&frame, log.len()).expect("decompresses");
            assert_eq!(&back, log);
        }
        // The repetitive large log shrinks more than tenfold.
        assert!(compress(&large).expect("compresses").len() < large.len() / 10);
    }
}
