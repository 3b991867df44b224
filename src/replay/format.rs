//! The replay log's bytes: the header and the records, written by [`LogWriter`] and read
//! back by [`LogReader`]. The format itself is described in the [module doc](super).

use serde::{Deserialize, Serialize};

use super::ReplayError;
use crate::codec::Codec;
use crate::game::Outcome;
use crate::protocol::{EndReason, RoomSettings, Seat, Tick};

/// The first four bytes of every (decompressed) replay log.
pub const MAGIC: [u8; 4] = *b"TSRP";
/// The format version this build writes and reads.
pub const VERSION: u8 = 2;

/// `Ticks { n }`: `n` calls of `tick(cursor + 1)`, the cursor advancing by one each.
pub(super) const TAG_TICKS: u8 = 1;
/// `TickAt { dt }`: one call of `tick(cursor + dt)`; the cursor becomes that tick.
pub(super) const TAG_TICK_AT: u8 = 2;
/// `Input { dt, seat, codec, seq, len, data }`: one accepted input that changed the state.
pub(super) const TAG_INPUT: u8 = 3;
/// `Abandon { dt, seat }`.
pub(super) const TAG_ABANDON: u8 = 4;
/// `Check { tick, hash }`: the state hash after the tick at `tick`.
pub(super) const TAG_CHECK: u8 = 5;
/// `End { tick, winner, reason, hash }`: the last record.
pub(super) const TAG_END: u8 = 6;
/// `Disconnect { dt, seat }`: the player's connection dropped (`on_disconnect`).
pub(super) const TAG_DISCONNECT: u8 = 7;
/// `Reconnect { dt, seat }`: the player came back (`on_reconnect`).
pub(super) const TAG_RECONNECT: u8 = 8;
/// `Join { dt, seat }`: a player took a free seat in the running game (`on_join`).
pub(super) const TAG_JOIN: u8 = 9;

/// `End.winner` for a game without a winner.
const NO_WINNER: u8 = u8::MAX;

/// What a game was built from: enough to build the same game again.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReplayHeader {
    /// The game's registered name.
    pub game: String,
    /// The server's tick rate (`GameConfig::tick_hz`).
    pub tick_hz: u16,
    /// The room's settings (`GameConfig::settings`).
    pub settings: RoomSettings,
    /// Players seated when the game started (`GameConfig::players`).
    pub players: u8,
    /// The tick the game was created at; the record cursor starts here.
    pub start: Tick,
    /// Ticks between state checks.
    pub hash_every: u32,
    /// The seed of the game's random number generator (`GameConfig::seed`).
    pub seed: u64,
}

/// One record of the log, as read back.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Record<'a> {
    /// `n` ticks, one tick after another.
    Ticks(u64),
    /// One tick at `now`.
    TickAt(Tick),
    /// An accepted input that changed the state.
    Input {
        /// The tick it was applied at.
        now: Tick,
        /// The player's seat.
        seat: Seat,
        /// The codec its bytes are in.
        codec: Codec,
        /// The input's `seq`.
        seq: u32,
        /// The bytes, exactly as the client sent them.
        data: &'a [u8],
    },
    /// A player left for good.
    Abandon {
        /// The tick.
        now: Tick,
        /// The seat.
        seat: Seat,
    },
    /// A player's connection dropped.
    Disconnect {
        /// The tick.
        now: Tick,
        /// The seat.
        seat: Seat,
    },
    /// A player came back within the grace period.
    Reconnect {
        /// The tick.
        now: Tick,
        /// The seat.
        seat: Seat,
    },
    /// A player took a free seat in the running game.
    Join {
        /// The tick.
        now: Tick,
        /// The seat.
        seat: Seat,
    },
    /// The state hash after the tick at `tick`.
    Check {
        /// The tick.
        tick: Tick,
        /// The hash.
        hash: u64,
    },
    /// The end of the game: the outcome the room reported and the final state hash.
    End {
        /// The tick the outcome was reported at.
        tick: Tick,
        /// The outcome.
        outcome: Outcome,
        /// The state hash then.
        hash: u64,
    },
}

/// The wire number of an end reason in `End.reason` (its declaration order, as bincode
/// numbers it in `GameOver`).
pub(super) fn reason_code(reason: EndReason) -> u8 {
    match reason {
        EndReason::Win => 0,
        EndReason::Draw => 1,
        EndReason::TurnTimeout => 2,
        EndReason::Abandoned => 3,
        EndReason::ServerShutdown => 4,
        EndReason::Closed => 5,
    }
}

fn reason_from_code(code: u8) -> Option<EndReason> {
    Some(match code {
        0 => EndReason::Win,
        1 => EndReason::Draw,
        2 => EndReason::TurnTimeout,
        3 => EndReason::Abandoned,
        4 => EndReason::ServerShutdown,
        5 => EndReason::Closed,
        _ => return None,
    })
}

fn codec_from_code(code: u8) -> Option<Codec> {
    match code {
        0 => Some(Codec::Bincode),
        1 => Some(Codec::MsgPack),
        _ => None,
    }
}

fn put_varint(buf: &mut Vec<u8>, mut value: u64) {
    while value >= 0x80 {
        buf.push((value as u8) | 0x80);
        value >>= 7;
    }
    buf.push(value as u8);
}

/// Zigzag: 0, -1, 1, -2, ... become 0, 1, 2, 3, ...
fn put_signed(buf: &mut Vec<u8>, value: i64) {
    put_varint(buf, ((value << 1) ^ (value >> 63)) as u64);
}

/// `to - from` as a signed offset (ticks never differ by more than `i64::MAX`).
fn offset(from: Tick, to: Tick) -> i64 {
    (to as i128 - from as i128).clamp(i64::MIN as i128, i64::MAX as i128) as i64
}

/// Appends records to one game's log, bounded by a byte limit.
///
/// Consecutive ticks (`tick(cursor + 1)` with nothing between them) only count up a run,
/// so an idle tick costs no byte and no allocation; the run is written when anything else
/// is.
#[derive(Debug)]
pub(super) struct LogWriter {
    buf: Vec<u8>,
    cursor: Tick,
    run: u64,
    limit: usize,
    overflowed: bool,
}

impl LogWriter {
    /// A log with `header` written, holding at most `limit` bytes; `reserve` bytes are
    /// allocated up front.
    pub(super) fn new(header: &ReplayHeader, limit: usize, reserve: usize) -> LogWriter {
        let mut buf = Vec::with_capacity(reserve.min(limit));
        buf.extend_from_slice(&MAGIC);
        buf.push(VERSION);
        // The header is plain data (strings, integers, options): it always encodes.
        let encoded = Codec::Bincode.encode(header).unwrap_or_default();
        put_varint(&mut buf, encoded.len() as u64);
        buf.extend_from_slice(&encoded);
        LogWriter {
            buf,
            cursor: header.start,
            run: 0,
            limit,
            overflowed: false,
        }
    }

    /// Whether the log outgrew its limit (and was dropped).
    pub(super) fn overflowed(&self) -> bool {
        self.overflowed
    }

    fn flush_run(&mut self) {
        if self.run > 0 {
            self.buf.push(TAG_TICKS);
            put_varint(&mut self.buf, self.run);
            self.run = 0;
        }
    }

    /// Drops the log for good once it is over its limit.
    fn check_limit(&mut self) {
        if self.buf.len() > self.limit {
            self.overflowed = true;
            self.buf = Vec::new();
        }
    }

    pub(super) fn tick(&mut self, now: Tick) {
        if self.overflowed {
            return;
        }
        if self.cursor.checked_add(1) == Some(now) {
            self.run += 1;
        } else {
            self.flush_run();
            self.buf.push(TAG_TICK_AT);
            put_signed(&mut self.buf, offset(self.cursor, now));
            self.check_limit();
        }
        self.cursor = now;
    }

    pub(super) fn input(&mut self, now: Tick, seat: Seat, codec: Codec, seq: u32, data: &[u8]) {
        if self.overflowed {
            return;
        }
        self.flush_run();
        self.buf.push(TAG_INPUT);
        put_signed(&mut self.buf, offset(self.cursor, now));
        self.buf.push(seat);
        self.buf.push(codec.index() as u8);
        put_varint(&mut self.buf, u64::from(seq));
        put_varint(&mut self.buf, data.len() as u64);
        self.buf.extend_from_slice(data);
        self.check_limit();
    }

    pub(super) fn abandon(&mut self, now: Tick, seat: Seat) {
        self.seat_record(TAG_ABANDON, now, seat);
    }

    pub(super) fn disconnect(&mut self, now: Tick, seat: Seat) {
        self.seat_record(TAG_DISCONNECT, now, seat);
    }

    pub(super) fn reconnect(&mut self, now: Tick, seat: Seat) {
        self.seat_record(TAG_RECONNECT, now, seat);
    }

    pub(super) fn join(&mut self, now: Tick, seat: Seat) {
        self.seat_record(TAG_JOIN, now, seat);
    }

    fn seat_record(&mut self, tag: u8, now: Tick, seat: Seat) {
        if self.overflowed {
            return;
        }
        self.flush_run();
        self.buf.push(tag);
        put_signed(&mut self.buf, offset(self.cursor, now));
        self.buf.push(seat);
        self.check_limit();
    }

    pub(super) fn check(&mut self, tick: Tick, hash: u64) {
        if self.overflowed {
            return;
        }
        self.flush_run();
        self.buf.push(TAG_CHECK);
        put_varint(&mut self.buf, tick);
        self.buf.extend_from_slice(&hash.to_le_bytes());
        self.check_limit();
    }

    /// Writes the `End` record and hands the log over; `None` if it overflowed.
    pub(super) fn finish(&mut self, tick: Tick, outcome: Outcome, hash: u64) -> Option<Vec<u8>> {
        if self.overflowed {
            return None;
        }
        self.flush_run();
        self.buf.push(TAG_END);
        put_varint(&mut self.buf, tick);
        self.buf.push(outcome.winner.unwrap_or(NO_WINNER));
        self.buf.push(reason_code(outcome.reason));
        self.buf.extend_from_slice(&hash.to_le_bytes());
        // Finishing twice gives nothing the second time.
        self.overflowed = true;
        Some(std::mem::take(&mut self.buf))
    }
}

/// Reads a decompressed log: the header, then one record at a time.
#[derive(Debug)]
pub struct LogReader<'a> {
    bytes: &'a [u8],
    pos: usize,
    cursor: Tick,
}

impl<'a> LogReader<'a> {
    /// Checks the magic and version and decodes the header.
    ///
    /// # Errors
    /// [`ReplayError::NotAReplay`], [`ReplayError::Version`], [`ReplayError::Header`] or
    /// [`ReplayError::Truncated`].
    pub fn new(bytes: &'a [u8]) -> Result<(ReplayHeader, LogReader<'a>), ReplayError> {
        if bytes.len() < MAGIC.len() + 1 || bytes[..MAGIC.len()] != MAGIC {
            return Err(ReplayError::NotAReplay);
        }
        let version = bytes[MAGIC.len()];
        if version != VERSION {
            return Err(ReplayError::Version(version));
        }
        let mut reader = LogReader {
            bytes,
            pos: MAGIC.len() + 1,
            cursor: 0,
        };
        let len = reader.varint()?;
        let header_bytes = reader.take(len)?;
        let header: ReplayHeader = Codec::Bincode
            .decode(header_bytes)
            .map_err(ReplayError::Header)?;
        reader.cursor = header.start;
        Ok((header, reader))
    }

    /// The byte offset of the next record.
    pub fn position(&self) -> usize {
        self.pos
    }

    /// The tick of the last `tick` call read so far (the header's start before any).
    pub fn cursor(&self) -> Tick {
        self.cursor
    }

    fn truncated(&self) -> ReplayError {
        ReplayError::Truncated { offset: self.pos }
    }

    fn byte(&mut self) -> Result<u8, ReplayError> {
        let byte = *self.bytes.get(self.pos).ok_or_else(|| self.truncated())?;
        self.pos += 1;
        Ok(byte)
    }

    fn take(&mut self, len: u64) -> Result<&'a [u8], ReplayError> {
        let end = usize::try_from(len)
            .ok()
            .and_then(|len| self.pos.checked_add(len))
            .filter(|&end| end <= self.bytes.len())
            .ok_or_else(|| self.truncated())?;
        let slice = &self.bytes[self.pos..end];
        self.pos = end;
        Ok(slice)
    }

    fn varint(&mut self) -> Result<u64, ReplayError> {
        let start = self.pos;
        let mut value = 0u64;
        for shift in (0..64).step_by(7) {
            let byte = self.byte()?;
            value |= u64::from(byte & 0x7f) << shift;
            if byte & 0x80 == 0 {
                // A tenth byte may only hold the top bit.
                if shift == 63 && byte > 1 {
                    break;
                }
                return Ok(value);
            }
        }
        Err(ReplayError::BadRecord {
            offset: start,
            what: "a number longer than 64 bits",
        })
    }

    fn at(&mut self) -> Result<Tick, ReplayError> {
        let raw = self.varint()?;
        let dt = ((raw >> 1) as i64) ^ -((raw & 1) as i64);
        Ok(self.cursor.saturating_add_signed(dt))
    }

    fn hash(&mut self) -> Result<u64, ReplayError> {
        let bytes = self.take(8)?;
        let mut le = [0; 8];
        le.copy_from_slice(bytes);
        Ok(u64::from_le_bytes(le))
    }

    /// The next record, or `None` at the end of the bytes.
    ///
    /// # Errors
    /// [`ReplayError::Truncated`] or [`ReplayError::BadRecord`].
    pub fn next_record(&mut self) -> Result<Option<Record<'a>>, ReplayError> {
        if self.pos == self.bytes.len() {
            return Ok(None);
        }
        let start = self.pos;
        let bad = |what| ReplayError::BadRecord {
            offset: start,
            what,
        };
        let record = match self.byte()? {
            TAG_TICKS => {
                let n = self.varint()?;
                self.cursor = self.cursor.saturating_add(n);
                Record::Ticks(n)
            }
            TAG_TICK_AT => {
                let now = self.at()?;
                self.cursor = now;
                Record::TickAt(now)
            }
            TAG_INPUT => {
                let now = self.at()?;
                let seat = self.byte()?;
                let codec = codec_from_code(self.byte()?).ok_or_else(|| bad("an unknown codec"))?;
                let seq = u32::try_from(self.varint()?).map_err(|_| bad("a seq above u32"))?;
                let len = self.varint()?;
                let data = self.take(len)?;
                Record::Input {
                    now,
                    seat,
                    codec,
                    seq,
                    data,
                }
            }
            TAG_ABANDON => {
                let now = self.at()?;
                let seat = self.byte()?;
                Record::Abandon { now, seat }
            }
            TAG_DISCONNECT => {
                let now = self.at()?;
                let seat = self.byte()?;
                Record::Disconnect { now, seat }
            }
            TAG_RECONNECT => {
                let now = self.at()?;
                let seat = self.byte()?;
                Record::Reconnect { now, seat }
            }
            TAG_JOIN => {
                let now = self.at()?;
                let seat = self.byte()?;
                Record::Join { now, seat }
            }
            TAG_CHECK => {
                let tick = self.varint()?;
                let hash = self.hash()?;
                Record::Check { tick, hash }
            }
            TAG_END => {
                let tick = self.varint()?;
                let winner = self.byte()?;
                let reason =
                    reason_from_code(self.byte()?).ok_or_else(|| bad("an unknown end reason"))?;
                let hash = self.hash()?;
                let outcome = Outcome {
                    winner: (winner != NO_WINNER).then_some(winner),
                    reason,
                };
                Record::End {
                    tick,
                    outcome,
                    hash,
                }
            }
            _ => return Err(bad("an unknown record tag")),
        };
        Ok(Some(record))
    }
}

/// Writes records back from their read form: tests tamper with logs through it.
#[doc(hidden)]
pub fn encode_records(header: &ReplayHeader, records: &[Record<'_>]) -> Vec<u8> {
    let mut log = LogWriter::new(header, usize::MAX, 256);
    for record in records {
        match *record {
            Record::Ticks(n) => {
                log.flush_run();
                log.buf.push(TAG_TICKS);
                put_varint(&mut log.buf, n);
                log.cursor = log.cursor.saturating_add(n);
            }
            Record::TickAt(now) => {
                log.flush_run();
                log.buf.push(TAG_TICK_AT);
                put_signed(&mut log.buf, offset(log.cursor, now));
                log.cursor = now;
            }
            Record::Input {
                now,
                seat,
                codec,
                seq,
                data,
            } => log.input(now, seat, codec, seq, data),
            Record::Abandon { now, seat } => log.abandon(now, seat),
            Record::Disconnect { now, seat } => log.disconnect(now, seat),
            Record::Reconnect { now, seat } => log.reconnect(now, seat),
            Record::Join { now, seat } => log.join(now, seat),
            Record::Check { tick, hash } => log.check(tick, hash),
            Record::End {
                tick,
                outcome,
                hash,
            } => return log.finish(tick, outcome, hash).unwrap_or_default(),
        }
    }
    std::mem::take(&mut log.buf)
}

#[cfg(test)]
mod tests;
