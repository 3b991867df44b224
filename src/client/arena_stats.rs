//! What arena players count: state updates and their bytes, input latency, prediction
//! checks, errors.
//!
//! Thousands of players each receive 30 states a second, so a player counts into its own
//! [`ArenaCounts`] (no lock, no shared cache line) and merges them into the shared
//! [`ArenaRecorder`] once, when it stops. Only errors, which must be seen as they happen,
//! and two progress counters are shared while the load runs.
//!
//! Samples count inside a [`LiveWindow`]: the `arena` workload's window starts 2 s after
//! the last client joined, which is only known while the load runs, so its start is set
//! once, later. A sample counts when it *completes* inside the window (a state when it
//! arrives, a latency sample when the state that completes it arrives).

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, OnceLock};
use std::time::{Duration, Instant};

use hdrhistogram::Histogram;

/// Error messages kept verbatim for the report; later ones are only counted.
const ERROR_SAMPLES: usize = 10;

/// A measurement window whose start may be decided after the load has begun.
#[derive(Debug)]
pub struct LiveWindow {
    start: OnceLock<Instant>,
    end: Option<Instant>,
}

impl LiveWindow {
    /// A window that opens when [`LiveWindow::open_at`] is called and ends at `end`.
    pub fn until(end: Instant) -> LiveWindow {
        LiveWindow {
            start: OnceLock::new(),
            end: Some(end),
        }
    }

    /// A window that counts everything from `start` on, without an end.
    pub fn from(start: Instant) -> LiveWindow {
        let window = LiveWindow {
            start: OnceLock::new(),
            end: None,
        };
        let _ = window.start.set(start);
        window
    }

    /// Sets the start (clamped to the end). Only the first call counts; returns whether
    /// this call set it.
    pub fn open_at(&self, start: Instant) -> bool {
        let start = match self.end {
            Some(end) => start.min(end),
            None => start,
        };
        self.start.set(start).is_ok()
    }

    /// The start, once set.
    pub fn start(&self) -> Option<Instant> {
        self.start.get().copied()
    }

    /// The end, if the window has one.
    pub fn end(&self) -> Option<Instant> {
        self.end
    }

    /// Whether `at` is inside the window (never before the start is set).
    pub fn contains(&self, at: Instant) -> bool {
        self.start.get().is_some_and(|&start| at >= start) && self.end.is_none_or(|end| at <= end)
    }

    /// From the start to the end (zero before the start is set; `None` without an end).
    pub fn length(&self) -> Option<Duration> {
        let end = self.end?;
        Some(
            self.start()
                .map_or(Duration::ZERO, |start| end.saturating_duration_since(start)),
        )
    }
}

/// One player's counts, kept without locks and merged once by
/// [`ArenaRecorder::merge`]. Everything but the error count is for the window only.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ArenaCounts {
    /// States (`Snapshot` + `Delta`) received.
    pub updates: u64,
    /// Of those, full `Snapshot`s.
    pub fulls: u64,
    /// Of those, `Delta`s.
    pub deltas: u64,
    /// WebSocket payload bytes of every binary message received.
    pub payload_bytes: u64,
    /// The same with each frame's header (server frames are unmasked: 2 bytes under 126
    /// payload bytes, 4 up to 65535, else 10).
    pub frame_bytes: u64,
    /// Payload bytes of the full snapshots.
    pub full_bytes: u64,
    /// Payload bytes of the deltas.
    pub delta_bytes: u64,
    /// Ticks skipped between consecutive states (`tick - previous - 1`, summed): updates a
    /// client never saw, because the room did not change, the server skipped a late tick,
    /// or a newer state replaced an unwritten one.
    pub missed_ticks: u64,
    /// Inputs sent.
    pub inputs: u64,
    /// Input latency samples, microseconds (see [`crate::client::ArenaBot`]).
    pub latency_us: Vec<u64>,
    /// New directions sent before the previous new direction had shown in a state (its
    /// latency sample is lost).
    pub latency_unresolved: u64,
    /// States compared with the client's own prediction.
    pub prediction_checks: u64,
    /// Comparisons that differed (see [`crate::client::Predictor`]).
    pub prediction_corrections: u64,
    /// The largest correction, in arena units.
    pub max_correction_units: u16,
}

impl ArenaCounts {
    /// Counts a binary message of `payload` bytes.
    pub fn message(&mut self, payload: usize) {
        self.payload_bytes += payload as u64;
        self.frame_bytes += (payload + frame_header_bytes(payload)) as u64;
    }
}

/// The header size of an unmasked (server-to-client) WebSocket frame with `payload` bytes.
pub fn frame_header_bytes(payload: usize) -> usize {
    match payload {
        0..=125 => 2,
        126..=65535 => 4,
        _ => 10,
    }
}

/// Everything the players counted. [`ArenaRecorder::tally`] returns a copy.
#[derive(Debug, Clone)]
pub struct ArenaTally {
    /// Window counts of every player merged so far.
    pub counts: ArenaCounts,
    /// States each merged player received in the window, one entry per player.
    pub per_client_updates: Vec<u64>,
    /// Input latency, microseconds: the first input of a new direction sent to the first
    /// state showing that direction received.
    pub input_latency_us: Histogram<u64>,
    /// Errors of any kind (server `Error` messages, socket failures, timeouts, protocol
    /// contradictions), over the whole run.
    pub errors: u64,
    /// Of those, deltas whose base the client did not hold.
    pub missing_bases: u64,
    /// The server's tick rate, from `Welcome`.
    pub tick_hz: Option<u16>,
    /// The first few error messages, verbatim.
    pub error_samples: Vec<String>,
}

impl Default for ArenaTally {
    fn default() -> Self {
        ArenaTally {
            counts: ArenaCounts::default(),
            per_client_updates: Vec::new(),
            input_latency_us: crate::histogram::latencies(),
            errors: 0,
            missing_bases: 0,
            tick_hz: None,
            error_samples: Vec::new(),
        }
    }
}

impl ArenaTally {
    /// An input-latency quantile (0.0 to 1.0; 1.0 is the maximum) in milliseconds; `None`
    /// without samples.
    pub fn input_latency_ms(&self, quantile: f64) -> Option<f64> {
        crate::histogram::quantile_ms(&self.input_latency_us, quantile)
    }

    /// Milliseconds expressed in server ticks, using the server's tick rate.
    pub fn ms_to_ticks(&self, ms: f64) -> Option<f64> {
        self.tick_hz.map(|hz| ms * f64::from(hz) / 1000.0)
    }
}

#[derive(Debug)]
struct Shared {
    tally: Mutex<ArenaTally>,
    updates: AtomicU64,
    errors: AtomicU64,
}

/// Shared counters for any number of arena players. Cheap to clone.
#[derive(Debug, Clone)]
pub struct ArenaRecorder {
    window: Arc<LiveWindow>,
    shared: Arc<Shared>,
}

impl ArenaRecorder {
    /// A recorder whose players count samples inside `window`.
    pub fn new(window: Arc<LiveWindow>) -> ArenaRecorder {
        ArenaRecorder {
            window,
            shared: Arc::new(Shared {
                tally: Mutex::new(ArenaTally::default()),
                updates: AtomicU64::new(0),
                errors: AtomicU64::new(0),
            }),
        }
    }

    /// The measurement window.
    pub fn window(&self) -> &LiveWindow {
        &self.window
    }

    fn lock(&self) -> MutexGuard<'_, ArenaTally> {
        // Every critical section is a few counter bumps; a poisoned lock is still consistent.
        self.shared.tally.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// A copy of everything merged so far.
    pub fn tally(&self) -> ArenaTally {
        self.lock().clone()
    }

    /// States received by every player so far, window or not (for progress displays).
    pub fn updates_so_far(&self) -> u64 {
        self.shared.updates.load(Ordering::Relaxed)
    }

    /// Errors so far.
    pub fn errors_so_far(&self) -> u64 {
        self.shared.errors.load(Ordering::Relaxed)
    }

    /// Adds `n` states to the progress counter.
    pub fn progress(&self, n: u64) {
        self.shared.updates.fetch_add(n, Ordering::Relaxed);
    }

    /// Notes the server's tick rate.
    pub fn tick_hz(&self, hz: u16) {
        self.lock().tick_hz = Some(hz);
    }

    /// An error of any kind.
    pub fn error(&self, detail: impl std::fmt::Display) {
        self.shared.errors.fetch_add(1, Ordering::Relaxed);
        let mut tally = self.lock();
        tally.errors += 1;
        if tally.error_samples.len() < ERROR_SAMPLES {
            tally.error_samples.push(detail.to_string());
        }
    }

    /// A delta against a base the client did not hold (also an error).
    pub fn missing_base(&self, detail: impl std::fmt::Display) {
        self.lock().missing_bases += 1;
        self.error(detail);
    }

    /// Merges one player's window counts (call once per player, when it stops).
    pub fn merge(&self, counts: &ArenaCounts) {
        let mut tally = self.lock();
        let total = &mut tally.counts;
        total.updates += counts.updates;
        total.fulls += counts.fulls;
        total.deltas += counts.deltas;
        total.payload_bytes += counts.payload_bytes;
        total.frame_bytes += counts.frame_bytes;
        total.full_bytes += counts.full_bytes;
        total.delta_bytes += counts.delta_bytes;
        total.missed_ticks += counts.missed_ticks;
        total.inputs += counts.inputs;
        total.latency_unresolved += counts.latency_unresolved;
        total.prediction_checks += counts.prediction_checks;
        total.prediction_corrections += counts.prediction_corrections;
        total.max_correction_units = total.max_correction_units.max(counts.max_correction_units);
        for &us in &counts.latency_us {
            tally.input_latency_us.saturating_record(us.max(1));
        }
        tally.per_client_updates.push(counts.updates);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_live_window_counts_nothing_until_opened() {
        let t0 = Instant::now();
        let window = LiveWindow::until(t0 + Duration::from_secs(10));
        assert!(!window.contains(t0 + Duration::from_secs(5)));
        assert_eq!(window.length(), Some(Duration::ZERO));
        assert!(window.open_at(t0 + Duration::from_secs(4)));
        assert!(!window.open_at(t0), "only the first start counts");
        assert!(!window.contains(t0 + Duration::from_secs(3)));
        assert!(window.contains(t0 + Duration::from_secs(5)));
        assert!(!window.contains(t0 + Duration::from_secs(11)));
        assert_eq!(window.length(), Some(Duration::from_secs(6)));
        let late = LiveWindow::until(t0);
        late.open_at(t0 + Duration::from_secs(1));
        assert_eq!(late.length(), Some(Duration::ZERO), "clamped to the end");
    }

    #[test]
    fn merged_counts_add_up_and_frame_headers_follow_the_payload_size() {
        assert_eq!(frame_header_bytes(125), 2);
        assert_eq!(frame_header_bytes(126), 4);
        assert_eq!(frame_header_bytes(70_000), 10);
        let recorder = ArenaRecorder::new(Arc::new(LiveWindow::from(Instant::now())));
        let mut a = ArenaCounts::default();
        a.message(20);
        a.updates = 3;
        a.latency_us = vec![20_000, 30_000];
        let mut b = ArenaCounts::default();
        b.message(200);
        b.updates = 5;
        b.max_correction_units = 5;
        recorder.merge(&a);
        recorder.merge(&b);
        recorder.error("boom");
        let tally = recorder.tally();
        assert_eq!(tally.counts.payload_bytes, 220);
        assert_eq!(tally.counts.frame_bytes, 226);
        assert_eq!(tally.per_client_updates, vec![3, 5]);
        assert_eq!(tally.counts.max_correction_units, 5);
        assert_eq!(tally.errors, 1);
        assert_eq!(recorder.errors_so_far(), 1);
        let p50 = tally.input_latency_ms(0.5).unwrap();
        assert!((p50 - 20.0).abs() < 0.1, "{p50}");
    }
}
