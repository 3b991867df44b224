//! The end of a run: the human-readable table and the JSON result record of WORKLOADS.md.

use std::time::Duration;

use serde_json::{Value, json};
use ticksync::client::Tally;

use crate::http::TickReading;
use crate::procfs::ProcSample;

/// What was measured around the load, beside the bots' own tally.
#[derive(Debug, Default)]
pub struct Around {
    /// The measured window's length.
    pub window: Duration,
    /// Driver CPU over the window.
    pub driver_cpu: Option<Duration>,
    /// The server before any client connected.
    pub server_before: Option<ProcSample>,
    /// The server at the start of the window.
    pub server_start: Option<ProcSample>,
    /// The server at the end of the window (everyone connected).
    pub server_end: Option<ProcSample>,
    /// The server after every client left.
    pub server_after: Option<ProcSample>,
    /// Tick durations inside the window, from `/metrics`.
    pub ticks: Option<TickReading>,
    /// Clients connected at the start of the window.
    pub connected: usize,
}

fn mb(kb: u64) -> f64 {
    round(kb as f64 / 1024.0, 1)
}

fn round(value: f64, places: i32) -> f64 {
    let scale = 10f64.powi(places);
    (value * scale).round() / scale
}

impl Around {
    fn server_cpu(&self) -> Option<Duration> {
        match (self.server_start, self.server_end) {
            (Some(start), Some(end)) => Some(end.cpu.saturating_sub(start.cpu)),
            _ => None,
        }
    }

    fn peak_rss_kb(&self) -> Option<u64> {
        [self.server_end, self.server_after]
            .iter()
            .flatten()
            .map(|s| s.hwm_kb)
            .max()
    }
}

fn latency(tally: &Tally, pick: impl Fn(&Tally, f64) -> Option<f64>) -> Value {
    match (pick(tally, 0.5), pick(tally, 0.99), pick(tally, 1.0)) {
        (Some(p50), Some(p99), Some(max)) => json!({
            "p50": round(p50, 3),
            "p99": round(p99, 3),
            "max": round(max, 3),
        }),
        _ => Value::Null,
    }
}

/// The `ttt` result record: exactly the keys WORKLOADS.md lists, `null` where unmeasured.
pub fn ttt_record(clients: usize, seconds: u64, tally: &Tally, around: &Around) -> Value {
    let window_s = around.window.as_secs_f64();
    let server_cpu = around.server_cpu().map(|d| d.as_secs_f64());
    let moves_per_s = (window_s > 0.0).then(|| round(tally.moves as f64 / window_s, 1));
    json!({
        "workload": "ttt",
        "clients": clients,
        "seconds": seconds,
        "errors": tally.errors,
        "driver_cpu_s": around.driver_cpu.map(|d| round(d.as_secs_f64(), 3)),
        "server_cpu_s": server_cpu.map(|s| round(s, 3)),
        "server_cpu_pct": server_cpu.filter(|_| window_s > 0.0).map(|s| round(100.0 * s / window_s, 1)),
        "server_peak_rss_mb": around.peak_rss_kb().map(mb),
        "server_rss_before_mb": around.server_before.map(|s| mb(s.rss_kb)),
        "server_rss_after_mb": around.server_after.map(|s| mb(s.rss_kb)),
        "games": tally.games,
        "moves": tally.moves,
        "moves_per_s": moves_per_s,
        "illegal_outcomes": tally.illegal_outcomes,
        "move_latency_ms": latency(tally, Tally::move_latency_ms),
        "match_ms": latency(tally, Tally::match_ms),
        "server_cpu_ms_per_1000_moves": server_cpu
            .filter(|_| tally.moves > 0)
            .map(|s| round(s * 1000.0 * 1000.0 / tally.moves as f64, 2)),
    })
}

fn cell(value: Option<f64>, unit: &str) -> String {
    value.map_or_else(|| "n/a".to_string(), |v| format!("{v:.2}{unit}"))
}

/// The human-readable table.
pub fn ttt_table(tally: &Tally, around: &Around) -> String {
    let mut out = String::new();
    let mut row = |name: &str, value: String| out.push_str(&format!("  {name:<34} {value}\n"));
    let window_s = around.window.as_secs_f64();
    row("measured window", format!("{window_s:.1} s"));
    row(
        "clients connected at window start",
        around.connected.to_string(),
    );
    row("games completed", tally.games.to_string());
    row("moves accepted", tally.moves.to_string());
    row(
        "moves per second",
        cell((window_s > 0.0).then(|| tally.moves as f64 / window_s), ""),
    );
    row(
        "results (per player)",
        format!(
            "{} wins, {} losses, {} draws, {} forfeits",
            tally.wins, tally.losses, tally.draws, tally.forfeits
        ),
    );
    for (name, q) in [("p50", 0.5), ("p99", 0.99), ("max", 1.0)] {
        let ms = tally.move_latency_ms(q);
        let ticks = ms.and_then(|ms| tally.ms_to_ticks(ms));
        row(
            &format!("move latency {name}"),
            format!("{} ({} ticks)", cell(ms, " ms"), cell(ticks, "")),
        );
    }
    for (name, q) in [("p50", 0.5), ("p99", 0.99), ("max", 1.0)] {
        row(
            &format!("matchmaking {name}"),
            cell(tally.match_ms(q), " ms"),
        );
    }
    row("errors", tally.errors.to_string());
    row("illegal outcomes", tally.illegal_outcomes.to_string());
    let window = |d: Option<Duration>| d.map(|d| d.as_secs_f64());
    row("driver CPU", cell(window(around.driver_cpu), " s"));
    row(
        "driver CPU % of one core",
        cell(
            window(around.driver_cpu).map(|s| 100.0 * s / window_s.max(1e-9)),
            " %",
        ),
    );
    let server_cpu = window(around.server_cpu());
    row("server CPU", cell(server_cpu, " s"));
    row(
        "server CPU % of one core",
        cell(server_cpu.map(|s| 100.0 * s / window_s.max(1e-9)), " %"),
    );
    row(
        "server CPU ms per 1000 moves",
        cell(
            server_cpu
                .filter(|_| tally.moves > 0)
                .map(|s| s * 1e6 / tally.moves as f64),
            " ms",
        ),
    );
    let kb = |s: Option<ProcSample>, f: fn(&ProcSample) -> u64| s.map(|s| f(&s) as f64 / 1024.0);
    row(
        "server RSS before",
        cell(kb(around.server_before, |s| s.rss_kb), " MiB"),
    );
    row(
        "server RSS at window end",
        cell(kb(around.server_end, |s| s.rss_kb), " MiB"),
    );
    row(
        "server RSS after all left",
        cell(kb(around.server_after, |s| s.rss_kb), " MiB"),
    );
    row(
        "server peak RSS (VmHWM)",
        cell(around.peak_rss_kb().map(|k| k as f64 / 1024.0), " MiB"),
    );
    match &around.ticks {
        Some(ticks) if !ticks.tick_us.is_empty() => {
            let h = &ticks.tick_us;
            row(
                "server tick duration p50/p99/max",
                format!(
                    "{:.3} / {:.3} / {:.3} ms over {} ticks on {} shards",
                    h.value_at_quantile(0.5) as f64 / 1000.0,
                    h.value_at_quantile(0.99) as f64 / 1000.0,
                    h.max() as f64 / 1000.0,
                    h.len(),
                    ticks.shards
                ),
            );
            let c = &ticks.tick_cpu_us;
            if !c.is_empty() {
                row(
                    "server tick CPU time p50/p99/max",
                    format!(
                        "{:.3} / {:.3} / {:.3} ms",
                        c.value_at_quantile(0.5) as f64 / 1000.0,
                        c.value_at_quantile(0.99) as f64 / 1000.0,
                        c.max() as f64 / 1000.0,
                    ),
                );
            }
            row(
                "server tick overruns / skipped",
                format!("{} / {}", ticks.overruns, ticks.skipped),
            );
        }
        _ => row("server tick duration", "n/a (no /metrics)".into()),
    }
    for sample in &tally.error_samples {
        out.push_str(&format!("  error: {sample}\n"));
    }
    out
}
