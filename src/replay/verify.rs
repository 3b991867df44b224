//! Re-running a game from its replay log and checking every recorded state hash.

use std::io::Read;

use bytes::BytesMut;

use super::format::{LogReader, Record, ReplayHeader};
use super::recorder::state_hash;
use super::{MAX_LOG_BYTES, MAX_REPLAY_TICKS, ReplayError};
use crate::engine::GameRegistry;
use crate::game::{GameConfig, Outcome};
use crate::protocol::{EndReason, Tick};

/// A replay that verified: what was played and how it ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Verified {
    /// The header: game, settings, players, start tick.
    pub header: ReplayHeader,
    /// The tick the game's outcome was reported at.
    pub ended: Tick,
    /// How it ended, as the room reported it.
    pub outcome: Outcome,
    /// Calls of the game's `tick` replayed.
    pub ticks: u64,
    /// Inputs replayed.
    pub inputs: u64,
    /// State hashes that matched, the final one included.
    pub checks: u64,
}

impl std::fmt::Display for Verified {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let result = match self.outcome.winner {
            Some(seat) => format!("seat {seat} won"),
            None => "no winner".to_string(),
        };
        write!(
            f,
            "{} game of {} players, ticks {} to {}: {result} ({:?}); replayed {} ticks and {} \
             inputs; state checks passed: {}",
            self.header.game,
            self.header.players,
            self.header.start,
            self.ended,
            self.outcome.reason,
            self.ticks,
            self.inputs,
            self.checks,
        )
    }
}

/// Decompresses a replay as stored (zstd), refusing more than [`MAX_LOG_BYTES`].
///
/// # Errors
/// [`ReplayError::Decompress`] or [`ReplayError::TooLarge`].
pub fn decompress(compressed: &[u8]) -> Result<Vec<u8>, ReplayError> {
    let decoder = zstd::stream::read::Decoder::new(compressed).map_err(ReplayError::Decompress)?;
    let mut log = Vec::new();
    decoder
        .take(MAX_LOG_BYTES as u64 + 1)
        .read_to_end(&mut log)
        .map_err(ReplayError::Decompress)?;
    if log.len() > MAX_LOG_BYTES {
        return Err(ReplayError::TooLarge);
    }
    Ok(log)
}

/// Verifies a replay as stored (zstd-compressed): see [`verify_log`]. This is what
/// `ticksync replay FILE` runs; a replay read from the database goes through it too.
///
/// # Errors
/// As [`decompress`] and [`verify_log`].
pub fn verify(compressed: &[u8], registry: &GameRegistry) -> Result<Verified, ReplayError> {
    verify_log(&decompress(compressed)?, registry)
}

/// Re-runs the game of a decompressed log with `registry`'s rules for its game, checking
/// each `Check` and the `End` hash against the replayed state.
///
/// # Errors
/// [`ReplayError::Diverged`] naming the first tick whose state differs (or whose tick
/// number the replay did not reach, or where a recorded input was refused), and the
/// format errors of a damaged log.
pub fn verify_log(log: &[u8], registry: &GameRegistry) -> Result<Verified, ReplayError> {
    let (header, mut reader) = LogReader::new(log)?;
    let entry = registry
        .get(&header.game)
        .ok_or_else(|| ReplayError::UnknownGame(header.game.clone()))?;
    let config = GameConfig {
        tick_hz: header.tick_hz,
        settings: header.settings.clone(),
        players: header.players,
        seed: header.seed,
    };
    let mut game = (entry.create)(&config, header.start);
    let mut scratch = BytesMut::new();
    let mut now = header.start;
    let mut last_good = header.start;
    let (mut ticks, mut inputs, mut checks) = (0u64, 0u64, 0u64);
    let diverged = |tick: Tick, last_good: Tick, what: String| ReplayError::Diverged {
        tick,
        last_good,
        what,
    };
    loop {
        let offset = reader.position();
        let Some(record) = reader.next_record()? else {
            return Err(ReplayError::NoEnd);
        };
        let too_long = |n: u64| {
            (n > MAX_REPLAY_TICKS).then_some(ReplayError::BadRecord {
                offset,
                what: "more ticks than any game can have",
            })
        };
        match record {
            Record::Ticks(n) => {
                if let Some(error) = too_long(ticks.saturating_add(n)) {
                    return Err(error);
                }
                for _ in 0..n {
                    now = now.saturating_add(1);
                    game.tick(now);
                }
                ticks += n;
            }
            Record::TickAt(at) => {
                if let Some(error) = too_long(ticks.saturating_add(1)) {
                    return Err(error);
                }
                now = at;
                game.tick(now);
                ticks += 1;
            }
            Record::Input {
                now: at,
                seat,
                codec,
                seq,
                data,
            } => {
                if let Err(error) = game.apply_input(at, seat, seq, codec, data) {
                    let what = format!("a recorded input of seat {seat} was refused: {error}");
                    return Err(diverged(at, last_good, what));
                }
                inputs += 1;
            }
            Record::Abandon { now: at, seat } => {
                game.abandon(at, seat);
            }
            Record::Disconnect { now: at, seat } => {
                game.disconnect(at, seat);
            }
            Record::Reconnect { now: at, seat } => {
                game.reconnect(at, seat);
            }
            Record::Join { now: at, seat } => {
                game.join(at, seat);
            }
            Record::Check { tick, hash } => {
                if tick != now {
                    let what =
                        format!("the log's ticks reach tick {now} where it checks tick {tick}");
                    return Err(diverged(tick, last_good, what));
                }
                if state_hash(&*game, entry.seats, &mut scratch) != hash {
                    return Err(diverged(tick, last_good, "the state hash differs".into()));
                }
                last_good = tick;
                checks += 1;
            }
            Record::End {
                tick,
                outcome,
                hash,
            } => {
                if state_hash(&*game, entry.seats, &mut scratch) != hash {
                    let what = "the final state hash differs".to_string();
                    return Err(diverged(tick.max(now), last_good, what));
                }
                // The rules' outcome is the one reported; a game without one was ended
                // from outside (a shutdown, the operator, or every player leaving), with
                // no winner.
                let agrees = match game.outcome() {
                    Some(rules) => rules == outcome,
                    None => {
                        outcome.winner.is_none()
                            && matches!(
                                outcome.reason,
                                EndReason::ServerShutdown
                                    | EndReason::Closed
                                    | EndReason::Abandoned
                            )
                    }
                };
                if !agrees {
                    let what = format!(
                        "the recorded outcome {outcome:?} is not the replayed game's {:?}",
                        game.outcome()
                    );
                    return Err(diverged(tick.max(now), last_good, what));
                }
                if reader.position() != log.len() {
                    return Err(ReplayError::BadRecord {
                        offset: reader.position(),
                        what: "bytes after the end record",
                    });
                }
                return Ok(Verified {
                    header,
                    ended: tick,
                    outcome,
                    ticks,
                    inputs,
                    checks: checks + 1,
                });
            }
        }
    }
}
