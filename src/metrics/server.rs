//! The server's state as read for one scrape: connections, sessions, queues, rooms and
//! every shard's tick statistics.

use super::{MetricSource, Rows};
use crate::engine::ShardStats;
use crate::histogram::Recorded;
use crate::protocol::{RoomStatus, RoomSummary};

/// Upper bounds of the tick-duration histogram buckets, in seconds.
const TICK_BUCKETS: [f64; 13] = [
    0.000_05, 0.000_1, 0.000_25, 0.000_5, 0.001, 0.002_5, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1.0,
];

/// What one scrape read from the server.
#[derive(Debug)]
pub(crate) struct ServerSnapshot {
    pub(crate) connections: usize,
    pub(crate) sessions: usize,
    pub(crate) games: Vec<&'static str>,
    pub(crate) queued_by_game: Vec<(&'static str, usize)>,
    pub(crate) rooms: Vec<RoomSummary>,
    pub(crate) shards: Vec<ShardStats>,
    pub(crate) draining: bool,
}

fn status_name(status: RoomStatus) -> &'static str {
    match status {
        RoomStatus::Waiting => "waiting",
        RoomStatus::Running => "running",
        RoomStatus::Finished => "finished",
    }
}

/// Converts a microsecond hdrhistogram to (per-bucket counts in seconds, sum in seconds).
///
/// Each recorded value stands for its histogram bucket's highest value: tick histograms
/// keep two significant digits (`histogram::TICK_DIGITS`), so a tick within 1% below a
/// bound of 256 µs or more can count in the next bucket up.
fn buckets(histogram: &Recorded) -> (Vec<(f64, u64)>, f64) {
    let mut counts = vec![0u64; TICK_BUCKETS.len()];
    for &(value, count) in histogram.pairs() {
        let seconds = value as f64 / 1e6;
        if let Some(i) = TICK_BUCKETS.iter().position(|&bound| seconds <= bound) {
            counts[i] += count;
        }
    }
    let sum = histogram.mean() * histogram.len() as f64 / 1e6;
    (TICK_BUCKETS.iter().copied().zip(counts).collect(), sum)
}

impl MetricSource for ServerSnapshot {
    fn collect(&self, out: &mut Rows) {
        out.gauge(
            "ticksync_connections",
            "Open WebSocket connections.",
            &[],
            self.connections as f64,
        );
        out.gauge(
            "ticksync_sessions",
            "Live sessions (connected, or disconnected within their reconnect grace).",
            &[],
            self.sessions as f64,
        );
        out.gauge(
            "ticksync_draining",
            "1 while the server drains for a shutdown, else 0.",
            &[],
            if self.draining { 1.0 } else { 0.0 },
        );
        for game in &self.games {
            let queued = self
                .queued_by_game
                .iter()
                .filter(|(g, _)| g == game)
                .map(|(_, n)| *n)
                .sum::<usize>();
            out.gauge(
                "ticksync_queued_players",
                "Players in the quick-match queue, by game.",
                &[("game", game)],
                queued as f64,
            );
            for status in [
                RoomStatus::Waiting,
                RoomStatus::Running,
                RoomStatus::Finished,
            ] {
                let rooms = self
                    .rooms
                    .iter()
                    .filter(|r| r.game == *game && r.status == status)
                    .count();
                out.gauge(
                    "ticksync_rooms",
                    "Open rooms, by game and state.",
                    &[("game", game), ("state", status_name(status))],
                    rooms as f64,
                );
            }
        }
        for shard in &self.shards {
            let index = shard.shard.to_string();
            let labels = [("shard", index.as_str())];
            out.counter(
                "ticksync_ticks",
                "Ticks run, by shard.",
                &labels,
                shard.ticks,
            );
            out.counter(
                "ticksync_late_ticks",
                "Ticks whose work took longer than the tick period, by shard.",
                &labels,
                shard.overruns,
            );
            out.counter(
                "ticksync_skipped_ticks",
                "Tick slots skipped because an earlier tick ran late, by shard.",
                &labels,
                shard.skipped,
            );
            out.counter(
                "ticksync_states_superseded",
                "States replaced by a newer one before the connection's writer sent them \
                 (the client skipped a state: it reads slowly, or the server is too busy \
                 to write every tick), by shard.",
                &labels,
                shard.superseded,
            );
            out.counter(
                "ticksync_room_panics",
                "Panics in a game's (or a server bot's) code, by shard: the room's players \
                 got GameOver Closed and Error RoomClosed (a panic as the game was dropped, \
                 its room closing, closed it as it would have); the shard and its other \
                 rooms went on.",
                &labels,
                shard.room_panics,
            );
            out.gauge(
                "ticksync_shard_rooms",
                "Rooms owned by each shard.",
                &labels,
                shard.rooms as f64,
            );
            let (counts, sum) = buckets(&shard.tick_us);
            out.histogram(
                "ticksync_tick_duration_seconds",
                "Wall-clock time of each tick's work, by shard.",
                &labels,
                sum,
                shard.tick_us.len(),
                counts,
            );
            let (counts, sum) = buckets(&shard.lateness_us);
            out.histogram(
                "ticksync_tick_lateness_seconds",
                "How late each tick started after its scheduled instant, by shard.",
                &labels,
                sum,
                shard.lateness_us.len(),
                counts,
            );
            let replays = [
                (
                    "ticksync_replays_recorded",
                    "Finished games whose replay was recorded, by shard.",
                    shard.replays.recorded,
                ),
                (
                    "ticksync_replay_bytes",
                    "Bytes of the recorded replays as stored (zstd frames), by shard.",
                    shard.replays.bytes,
                ),
                (
                    "ticksync_replays_dropped",
                    "Finished games whose replay log outgrew its limit and was dropped, by shard.",
                    shard.replays.dropped,
                ),
            ];
            for (name, help, value) in replays {
                out.counter(name, help, &labels, value);
            }
            for (game, reason, n) in &shard.games_finished {
                out.counter(
                    "ticksync_games_finished",
                    "Games that ended (GameOver), by game and EndReason.",
                    &[("game", game), ("reason", &format!("{reason:?}"))],
                    *n,
                );
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn microseconds_land_in_second_buckets() {
        let mut h = crate::histogram::ticks();
        h.record(40).unwrap(); // 40 us: first bucket
        h.record(900).unwrap(); // 0.9 ms: the 1 ms bucket
        h.record(2_000_000).unwrap(); // 2 s: above every bound
        let (counts, sum) = buckets(&Recorded::of(&h));
        assert_eq!(counts[0], (0.000_05, 1));
        assert_eq!(counts[4], (0.001, 1));
        assert_eq!(counts.iter().map(|(_, n)| n).sum::<u64>(), 2);
        assert!((sum - 2.000_94).abs() < 0.01, "{sum}");
    }
}
