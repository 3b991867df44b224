//! Client-side prediction and reconciliation of the client's own arena player.
//!
//! Pure: the caller feeds in what it sent, what it received and when; nothing here reads a
//! clock or a socket, so it is tested with made-up times.
//!
//! **The model.** The server applies an input at its room's next tick after the input
//! arrives, and "the tick that applies it already moves the player along the new direction"
//! (PROTOCOL.md, Arena): with the player at `p` after tick `t - 1`, an input applied at tick
//! `t` sets the direction, then tick `t` moves the player 5 units per axis along it,
//! clamped to the box. So a client that knows *at which tick* each of its inputs is applied
//! can compute its own position exactly.
//!
//! **Predicting.** When it sends an input, the client guesses that tick: the server tick it
//! estimates is current ([`TickClock`]) plus one. [`Predictor::predict`] replays, from the
//! last server state of its own player (the *anchor*), the inputs the server had not yet
//! processed at that state, each switching the direction at its guessed tick.
//!
//! **What [`Predictor::observe`] checks,** on every state (`Snapshot` or `Delta`, after it
//! is applied) at tick `T` with `input_seq = s`:
//!
//! 1. *Consistency, exact* (a failure is a [`PredictionError`], a protocol error): the
//!    client's seat is in the state; `s` never decreases and never names an input that was
//!    not sent; and the seat's direction is the direction of input `s` (standing still
//!    before any input), because the server applies inputs in order and the last one
//!    processed sets the direction.
//! 2. *Prediction* (a miss is a *correction*, not an error): the seat's position and
//!    direction at `T` equal the prediction for `T` replayed from the previous state. They
//!    differ only when the guessed tick of an input was wrong: the input reached the shard
//!    after the tick the client expected (or before), or the server skipped late ticks (the
//!    game then moves the whole gap along the new direction). Each correction moves the
//!    player by a multiple of 5 units; its size is reported.
//!
//! **Reconciling.** After each state the anchor becomes the server's player at `T`; inputs
//! up to `s` are dropped, and the guessed tick of every later input is moved to at least
//! `T + 1` (the server has not applied them by `T`). A check is only made when the state's
//! `input_seq` acknowledges an input (`s > 0`) and a previous state exists to replay from.

use std::collections::VecDeque;
use std::time::{Duration, Instant};

use thiserror::Error;

use crate::game::arena::{ArenaPlayer, ArenaView, pack_dir};
use crate::protocol::{Seat, Tick};

/// A state contradicted what this client sent: the server broke a protocol rule.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum PredictionError {
    /// The client's own seat is not in the state.
    #[error("seat {seat} missing from the state at tick {tick}")]
    SeatMissing {
        /// The client's seat.
        seat: Seat,
        /// The state's tick.
        tick: Tick,
    },
    /// `input_seq` went down, or names an input never sent.
    #[error("input_seq {input_seq} at tick {tick}: expected {min} to {max}")]
    BadInputSeq {
        /// The state's `input_seq`.
        input_seq: u32,
        /// The state's tick.
        tick: Tick,
        /// The previous state's `input_seq`.
        min: u32,
        /// The last seq sent.
        max: u32,
    },
    /// The seat's direction is not the direction of the last input the server processed.
    #[error("seat direction {actual} at tick {tick}, but input {input_seq} set {expected}")]
    WrongDirection {
        /// The state's tick.
        tick: Tick,
        /// The state's `input_seq`.
        input_seq: u32,
        /// The packed direction of that input.
        expected: u8,
        /// The packed direction in the state.
        actual: u8,
    },
}

/// The result of checking one state against the prediction.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Check {
    /// Nothing to compare (no previous state, or no input acknowledged yet).
    Skipped,
    /// The server's player equals the prediction.
    Matched,
    /// The server's player differs from the prediction by `units` (the larger axis
    /// difference) and the prediction was corrected.
    Corrected {
        /// The largest per-axis difference, in arena units.
        units: u16,
    },
}

#[derive(Debug, Clone, Copy)]
struct SentInput {
    seq: u32,
    dir: u8,
    /// The tick at which the client expects (or, after a state, knows the earliest) the
    /// server to apply it.
    tick: Tick,
}

#[derive(Debug, Clone, Copy)]
struct Anchor {
    tick: Tick,
    player: ArenaPlayer,
}

/// Predicts and reconciles one seat. See the module docs for exactly what is checked.
#[derive(Debug, Clone)]
pub struct Predictor {
    seat: Seat,
    anchor: Option<Anchor>,
    /// Sent and not yet processed by the server (per the last state), in seq order.
    unacked: VecDeque<SentInput>,
    /// The last processed input's seq and direction (`(0, standing)` before any).
    acked: (u32, u8),
    last_sent: u32,
    checks: u64,
    corrections: u64,
}

impl Predictor {
    /// A predictor for the player in `seat`, standing still, before any input.
    pub fn new(seat: Seat) -> Predictor {
        Predictor {
            seat,
            anchor: None,
            unacked: VecDeque::new(),
            acked: (0, pack_dir(0, 0)),
            last_sent: 0,
            checks: 0,
            corrections: 0,
        }
    }

    /// The seat predicted.
    pub fn seat(&self) -> Seat {
        self.seat
    }

    /// States compared with a prediction so far.
    pub fn checks(&self) -> u64 {
        self.checks
    }

    /// Comparisons that differed and were corrected.
    pub fn corrections(&self) -> u64 {
        self.corrections
    }

    /// Notes an input sent with `seq` and direction `(dx, dy)` that the client expects the
    /// server to apply at tick `tick`. Seqs must increase; a seq not above the last one is
    /// ignored (the server ignores it too).
    pub fn sent(&mut self, seq: u32, dx: i8, dy: i8, tick: Tick) {
        if seq <= self.last_sent {
            return;
        }
        self.last_sent = seq;
        let floor = self.anchor.map_or(0, |a| a.tick.saturating_add(1));
        let floor = self.unacked.back().map_or(floor, |i| floor.max(i.tick));
        self.unacked.push_back(SentInput {
            seq,
            dir: pack_dir(dx, dy),
            tick: tick.max(floor),
        });
    }

    /// The predicted player at `tick`: the last server state replayed with the inputs the
    /// server had not processed, each applied at its expected tick. `None` before the first
    /// state, or for a tick before it.
    pub fn predict(&self, tick: Tick) -> Option<ArenaPlayer> {
        let anchor = self.anchor?;
        if tick < anchor.tick {
            return None;
        }
        let mut player = anchor.player;
        let mut at = anchor.tick;
        for input in self.unacked.iter().take_while(|i| i.tick <= tick) {
            // Old direction up to the tick before, then the new one from its tick on.
            let before = input.tick.saturating_sub(1).max(at);
            player = player.advanced(before - at);
            at = before;
            player.dir = input.dir;
        }
        Some(player.advanced(tick - at))
    }

    /// Checks the state `view` at `tick`, whose `input_seq` is `input_seq`, and reconciles.
    ///
    /// # Errors
    /// A [`PredictionError`] when the state contradicts what was sent; the predictor is
    /// then re-anchored on the state anyway, so later states are checked normally.
    pub fn observe(
        &mut self,
        tick: Tick,
        input_seq: u32,
        view: &ArenaView,
    ) -> Result<Check, PredictionError> {
        let Some(actual) = view.players.iter().find(|p| p.seat == self.seat).copied() else {
            return Err(PredictionError::SeatMissing {
                seat: self.seat,
                tick,
            });
        };
        let predicted = self.predict(tick);
        let (min, max) = (self.acked.0, self.last_sent);
        if input_seq < min || input_seq > max {
            self.reanchor(tick, actual);
            return Err(PredictionError::BadInputSeq {
                input_seq,
                tick,
                min,
                max,
            });
        }
        while let Some(input) = self.unacked.front().copied() {
            if input.seq > input_seq {
                break;
            }
            self.unacked.pop_front();
            self.acked = (input.seq, input.dir);
        }
        let check = match predicted {
            Some(predicted) if input_seq > 0 => {
                self.checks += 1;
                if predicted == actual {
                    Check::Matched
                } else {
                    self.corrections += 1;
                    let units = predicted
                        .x
                        .abs_diff(actual.x)
                        .max(predicted.y.abs_diff(actual.y));
                    Check::Corrected { units }
                }
            }
            _ => Check::Skipped,
        };
        self.reanchor(tick, actual);
        let expected = self.acked.1;
        if actual.dir != expected {
            return Err(PredictionError::WrongDirection {
                tick,
                input_seq,
                expected,
                actual: actual.dir,
            });
        }
        Ok(check)
    }

    fn reanchor(&mut self, tick: Tick, player: ArenaPlayer) {
        self.anchor = Some(Anchor { tick, player });
        for input in &mut self.unacked {
            input.tick = input.tick.max(tick.saturating_add(1));
        }
    }
}

/// The client's estimate of the server's tick clock.
///
/// Tick `n` is scheduled `n` tick periods after the server started (PROTOCOL.md, "Tick
/// numbers"), and its state can only arrive after that instant. So every state gives an
/// upper bound of the server's start: its arrival minus `tick` periods; the smallest bound
/// seen (the state that travelled fastest) is the estimate. It is late by the fastest
/// delivery time, a fraction of a millisecond on loopback.
#[derive(Debug, Clone, Copy)]
pub struct TickClock {
    period: Duration,
    reference: Instant,
    /// Estimated start of tick 0, in nanoseconds after `reference` (may be negative).
    epoch_ns: Option<i128>,
}

impl TickClock {
    /// A clock for a server ticking at `tick_hz`, with no observation yet.
    pub fn new(tick_hz: u16, now: Instant) -> TickClock {
        TickClock {
            period: Duration::from_secs_f64(1.0 / f64::from(tick_hz.max(1))),
            reference: now,
            epoch_ns: None,
        }
    }

    fn ns_since_reference(&self, at: Instant) -> i128 {
        match at.checked_duration_since(self.reference) {
            Some(after) => after.as_nanos() as i128,
            None => -(self.reference.duration_since(at).as_nanos() as i128),
        }
    }

    /// Notes that the state for `tick` arrived at `at`.
    pub fn observe(&mut self, tick: Tick, at: Instant) {
        let bound = self.ns_since_reference(at) - i128::from(tick) * self.period.as_nanos() as i128;
        self.epoch_ns = Some(self.epoch_ns.map_or(bound, |e| e.min(bound)));
    }

    /// The server tick estimated to be the latest one started at `at`; `None` before any
    /// observation.
    pub fn tick_at(&self, at: Instant) -> Option<Tick> {
        let epoch = self.epoch_ns?;
        let since = self.ns_since_reference(at) - epoch;
        let period = (self.period.as_nanos() as i128).max(1);
        u64::try_from(since.div_euclid(period)).ok()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn me(x: u16, y: u16, dx: i8, dy: i8) -> ArenaPlayer {
        ArenaPlayer {
            seat: 3,
            x,
            y,
            dir: pack_dir(dx, dy),
        }
    }

    fn state(player: ArenaPlayer) -> ArenaView {
        ArenaView {
            players: vec![player],
        }
    }

    #[test]
    fn a_right_guess_matches_exactly_and_a_late_apply_is_a_correction() {
        let mut p = Predictor::new(3);
        assert_eq!(
            p.observe(10, 0, &state(me(500, 500, 0, 0))),
            Ok(Check::Skipped)
        );
        // Expected at tick 11; the server applies it at 11: an exact match.
        p.sent(1, 1, 0, 11);
        assert_eq!(p.predict(12), Some(me(510, 500, 1, 0)));
        assert_eq!(
            p.observe(11, 1, &state(me(505, 500, 1, 0))),
            Ok(Check::Matched)
        );
        // Expected at 12, applied at 13 (it reached the shard after tick 12 began): the
        // state at 12 still shows the old direction, a correction of one step.
        p.sent(2, 0, 1, 12);
        assert_eq!(
            p.observe(12, 1, &state(me(510, 500, 1, 0))),
            Ok(Check::Corrected { units: 5 })
        );
        // Reconciliation moved the guess to 13, so the state at 13 matches.
        assert_eq!(
            p.observe(13, 2, &state(me(510, 505, 0, 1))),
            Ok(Check::Matched)
        );
        // Expected at 14, applied at 15, and the client skips to tick 15's state.
        p.sent(3, -1, 0, 14);
        assert_eq!(
            p.observe(15, 3, &state(me(505, 510, -1, 0))),
            Ok(Check::Corrected { units: 5 })
        );
        assert_eq!((p.checks(), p.corrections()), (4, 2));
    }

    #[test]
    fn walls_clamp_the_prediction_like_the_server() {
        let mut p = Predictor::new(3);
        p.observe(1, 0, &state(me(995, 0, 0, 0))).unwrap();
        p.sent(1, 1, -1, 2);
        assert_eq!(p.predict(5), Some(me(1000, 0, 1, -1)));
        assert_eq!(
            p.observe(5, 1, &state(me(1000, 0, 1, -1))),
            Ok(Check::Matched)
        );
    }

    #[test]
    fn contradictions_are_errors() {
        let mut p = Predictor::new(3);
        p.observe(1, 0, &state(me(500, 500, 0, 0))).unwrap();
        p.sent(1, 1, 0, 2);
        assert!(matches!(
            p.observe(2, 1, &state(me(505, 500, 0, 1))),
            Err(PredictionError::WrongDirection { .. })
        ));
        assert!(matches!(
            p.observe(3, 7, &state(me(505, 505, 0, 1))),
            Err(PredictionError::BadInputSeq { input_seq: 7, .. })
        ));
        assert!(matches!(
            p.observe(4, 1, &ArenaView::default()),
            Err(PredictionError::SeatMissing { seat: 3, tick: 4 })
        ));
    }

    #[test]
    fn extreme_ticks_from_the_server_never_panic() {
        let mut p = Predictor::new(3);
        p.observe(u64::MAX - 1, 0, &state(me(0, 0, 0, 0))).unwrap();
        p.sent(1, 1, 1, u64::MAX);
        assert_eq!(
            p.observe(u64::MAX, 1, &state(me(5, 5, 1, 1))),
            Ok(Check::Matched)
        );
        let mut clock = TickClock::new(30, Instant::now());
        clock.observe(u64::MAX, Instant::now());
        assert_eq!(clock.tick_at(Instant::now()), Some(u64::MAX));
    }

    #[test]
    fn the_clock_estimates_the_current_tick_from_the_fastest_state() {
        let start = Instant::now();
        let period = Duration::from_millis(25);
        let mut clock = TickClock::new(40, start);
        assert_eq!(clock.tick_at(start), None);
        // Tick 100 arrives 2 ms late, tick 101 only 0.5 ms late.
        clock.observe(100, start + Duration::from_millis(2));
        clock.observe(101, start + period + Duration::from_micros(500));
        assert_eq!(clock.tick_at(start + period * 2), Some(101));
        assert_eq!(
            clock.tick_at(start + period * 2 + Duration::from_millis(1)),
            Some(102)
        );
        assert_eq!(clock.tick_at(start - period * 200), None);
    }
}
