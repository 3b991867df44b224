//! What bots count: games and their results, moves, latencies, reconnects and errors.
//!
//! A [`Recorder`] is a cheap-to-clone handle that many bots record into at once (a plain
//! mutex, held for a counter bump and never across an `.await`). Throughput and latency are
//! counted only inside its measurement [`Window`], so a load's warm-up stays out of its
//! figures; errors and illegal outcomes are counted whenever they happen, because any one of
//! them is a failure.

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use hdrhistogram::Histogram;

use crate::protocol::RoomId;

/// Error messages kept verbatim for the report; later ones are only counted.
const ERROR_SAMPLES: usize = 10;

/// The span of time whose samples count. Outside it only errors are recorded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Window {
    /// Samples completed before this instant are warm-up.
    pub start: Instant,
    /// Samples completed after this instant are cool-down; `None` for no end.
    pub end: Option<Instant>,
}

impl Window {
    /// A window that counts everything from now on.
    pub fn from_now() -> Window {
        Window {
            start: Instant::now(),
            end: None,
        }
    }

    /// Whether `at` is inside the window.
    pub fn contains(&self, at: Instant) -> bool {
        at >= self.start && self.end.is_none_or(|end| at <= end)
    }

    /// The window's length, if it has an end.
    pub fn length(&self) -> Option<Duration> {
        self.end
            .map(|end| end.saturating_duration_since(self.start))
    }
}

/// How one game ended, from one player's side.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GameResult {
    /// This player completed a line.
    Won,
    /// The other player completed a line.
    Lost,
    /// A full board without a line.
    Drew,
    /// Someone ran out of turn time or abandoned the game (a legal end, counted apart).
    Forfeit,
}

/// Everything counted so far. [`Recorder::tally`] returns a copy.
#[derive(Debug, Clone)]
pub struct Tally {
    /// Distinct games (rooms) finished inside the window, whoever played them.
    pub games: u64,
    /// Games this side won by a line.
    pub wins: u64,
    /// Games this side lost to a line.
    pub losses: u64,
    /// Games drawn.
    pub draws: u64,
    /// Games ended by a turn timeout or abandonment.
    pub forfeits: u64,
    /// Moves the server accepted (seen on the board) inside the window.
    pub moves: u64,
    /// Times a bot dropped its connection on purpose and resumed.
    pub reconnects: u64,
    /// Errors of any kind (server `Error` messages, socket failures, timeouts).
    pub errors: u64,
    /// Distinct games whose end did not match the board (always counted).
    pub illegal_outcomes: u64,
    /// Move latency, microseconds: a move sent to the first snapshot showing it.
    pub move_latency_us: Histogram<u64>,
    /// Matchmaking time, microseconds: `FindMatch` sent to `MatchFound` received (for a
    /// player a cluster redirects: to the host node's `RoomJoined`).
    pub match_us: Histogram<u64>,
    /// In a cluster, redirect to playing, microseconds: `Redirect` received to the host
    /// node's `RoomJoined` (a new connection, `Hello` with the ticket, `Welcome`).
    pub redirect_us: Histogram<u64>,
    /// The server's tick rate, from `Welcome`.
    pub tick_hz: Option<u16>,
    /// The first few error messages, verbatim.
    pub error_samples: Vec<String>,
}

impl Default for Tally {
    fn default() -> Self {
        Tally {
            games: 0,
            wins: 0,
            losses: 0,
            draws: 0,
            forfeits: 0,
            moves: 0,
            reconnects: 0,
            errors: 0,
            illegal_outcomes: 0,
            move_latency_us: crate::histogram::latencies(),
            match_us: crate::histogram::latencies(),
            redirect_us: crate::histogram::latencies(),
            tick_hz: None,
            error_samples: Vec::new(),
        }
    }
}

impl Tally {
    /// A move latency quantile (0.0 to 1.0) in milliseconds; `None` without samples.
    pub fn move_latency_ms(&self, quantile: f64) -> Option<f64> {
        crate::histogram::quantile_ms(&self.move_latency_us, quantile)
    }

    /// A matchmaking-time quantile in milliseconds; `None` without samples.
    pub fn match_ms(&self, quantile: f64) -> Option<f64> {
        crate::histogram::quantile_ms(&self.match_us, quantile)
    }

    /// A redirect-to-playing quantile in milliseconds; `None` without redirects.
    pub fn redirect_ms(&self, quantile: f64) -> Option<f64> {
        crate::histogram::quantile_ms(&self.redirect_us, quantile)
    }

    /// Milliseconds expressed in server ticks, using the server's tick rate.
    pub fn ms_to_ticks(&self, ms: f64) -> Option<f64> {
        self.tick_hz.map(|hz| ms * f64::from(hz) / 1000.0)
    }
}

#[derive(Debug)]
struct Inner {
    tally: Tally,
    /// Rooms whose end was reported, and whether the game counts (see `game_over`).
    rooms: HashMap<RoomId, bool>,
    illegal_rooms: HashSet<RoomId>,
}

/// Shared counters for any number of bots. Cheap to clone.
#[derive(Debug, Clone)]
pub struct Recorder {
    window: Window,
    inner: Arc<Mutex<Inner>>,
}

impl Default for Recorder {
    fn default() -> Self {
        Recorder::new(Window::from_now())
    }
}

impl Recorder {
    /// A recorder that counts samples inside `window`.
    pub fn new(window: Window) -> Recorder {
        Recorder {
            window,
            inner: Arc::new(Mutex::new(Inner {
                tally: Tally::default(),
                rooms: HashMap::new(),
                illegal_rooms: HashSet::new(),
            })),
        }
    }

    /// The measurement window.
    pub fn window(&self) -> Window {
        self.window
    }

    fn lock(&self) -> MutexGuard<'_, Inner> {
        // Every critical section is a few counter bumps; a poisoned lock is still consistent.
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// A copy of everything counted so far.
    pub fn tally(&self) -> Tally {
        self.lock().tally.clone()
    }

    /// Notes the server's tick rate.
    pub fn tick_hz(&self, hz: u16) {
        self.lock().tally.tick_hz = Some(hz);
    }

    /// A move sent at `sent` was seen on the board at `seen`.
    pub fn move_accepted(&self, sent: Instant, seen: Instant) {
        if !self.window.contains(seen) {
            return;
        }
        let us = seen.saturating_duration_since(sent).as_micros().max(1) as u64;
        let mut inner = self.lock();
        inner.tally.moves += 1;
        inner.tally.move_latency_us.saturating_record(us);
    }

    /// `FindMatch` sent at `asked` was answered by `MatchFound` at `found`.
    pub fn matched(&self, asked: Instant, found: Instant) {
        if !self.window.contains(found) {
            return;
        }
        let us = found.saturating_duration_since(asked).as_micros().max(1) as u64;
        self.lock().tally.match_us.saturating_record(us);
    }

    /// A game in `room` ended at `at` with `result` for this player. A game counts if its
    /// first player's report falls inside the window, and then every player's report of it
    /// counts, even one that comes in just after the window closed: both players of a game
    /// are counted or neither.
    pub fn game_over(&self, room: RoomId, result: GameResult, at: Instant) {
        let mut inner = self.lock();
        let counted = match inner.rooms.get(&room) {
            Some(&counted) => counted,
            None => {
                let inside = self.window.contains(at);
                inner.rooms.insert(room, inside);
                if inside {
                    inner.tally.games += 1;
                }
                inside
            }
        };
        if !counted {
            return;
        }
        let tally = &mut inner.tally;
        match result {
            GameResult::Won => tally.wins += 1,
            GameResult::Lost => tally.losses += 1,
            GameResult::Drew => tally.draws += 1,
            GameResult::Forfeit => tally.forfeits += 1,
        }
    }

    /// A game in `room` ended without a legal outcome. Counted once per room.
    pub fn illegal_outcome(&self, room: RoomId, detail: &str) {
        let mut inner = self.lock();
        if inner.illegal_rooms.insert(room) {
            inner.tally.illegal_outcomes += 1;
            if inner.tally.error_samples.len() < ERROR_SAMPLES {
                inner
                    .tally
                    .error_samples
                    .push(format!("room {room}: illegal outcome: {detail}"));
            }
        }
    }

    /// A bot dropped its connection and came back.
    pub fn reconnected(&self) {
        self.lock().tally.reconnects += 1;
    }

    /// A cluster's `Redirect` received at `redirected`, the player seated on the host node
    /// at `seated`.
    pub fn redirected(&self, redirected: Instant, seated: Instant) {
        if !self.window.contains(seated) {
            return;
        }
        let us = seated
            .saturating_duration_since(redirected)
            .as_micros()
            .max(1) as u64;
        self.lock().tally.redirect_us.saturating_record(us);
    }

    /// An error of any kind.
    pub fn error(&self, detail: impl std::fmt::Display) {
        let mut inner = self.lock();
        inner.tally.errors += 1;
        if inner.tally.error_samples.len() < ERROR_SAMPLES {
            inner.tally.error_samples.push(detail.to_string());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_samples_inside_the_window_count_but_errors_always_do() {
        let start = Instant::now();
        let window = Window {
            start: start + Duration::from_secs(1),
            end: Some(start + Duration::from_secs(2)),
        };
        let recorder = Recorder::new(window);
        recorder.move_accepted(start, start + Duration::from_millis(500));
        recorder.move_accepted(start, start + Duration::from_millis(1500));
        recorder.game_over(
            RoomId::new(1),
            GameResult::Won,
            start + Duration::from_millis(1500),
        );
        recorder.game_over(
            RoomId::new(1),
            GameResult::Lost,
            start + Duration::from_millis(1500),
        );
        recorder.game_over(
            RoomId::new(2),
            GameResult::Drew,
            start + Duration::from_millis(2500),
        );
        recorder.error("boom");
        recorder.illegal_outcome(RoomId::new(3), "no line");
        recorder.illegal_outcome(RoomId::new(3), "no line");
        let tally = recorder.tally();
        assert_eq!(tally.moves, 1);
        assert_eq!(tally.games, 1, "two players of one room count one game");
        assert_eq!((tally.wins, tally.losses, tally.draws), (1, 1, 0));
        assert_eq!(tally.errors, 1);
        assert_eq!(tally.illegal_outcomes, 1);
        let p50 = tally.move_latency_ms(0.5).unwrap();
        assert!((p50 - 1500.0).abs() < 2.0, "{p50}");
    }

    #[test]
    fn both_players_of_a_game_count_or_neither() {
        let start = Instant::now();
        let at = |ms| start + Duration::from_millis(ms);
        let recorder = Recorder::new(Window {
            start: at(1000),
            end: Some(at(2000)),
        });
        // Ends on the window's edge: the second report comes in just after it closed.
        recorder.game_over(RoomId::new(1), GameResult::Won, at(1999));
        recorder.game_over(RoomId::new(1), GameResult::Lost, at(2001));
        // Ends just before the window opens: neither report counts.
        recorder.game_over(RoomId::new(2), GameResult::Won, at(999));
        recorder.game_over(RoomId::new(2), GameResult::Lost, at(1001));
        let tally = recorder.tally();
        assert_eq!(tally.games, 1);
        assert_eq!((tally.wins, tally.losses), (1, 1));
    }
}
