//! The end of a run: the human-readable table and the JSON result record of WORKLOADS.md.
//!
//! The keys and rows both workloads share (driver and server CPU, memory, tick durations)
//! are written once, by [`common_record`] and [`Table::server_rows`].

use std::time::Duration;

use serde_json::{Map, Value, json};
use ticksync::client::{ArenaTally, Tally};

use crate::http::TickReading;
use crate::procfs::ProcSample;

/// What was measured around the load, beside the bots' own tally.
#[derive(Debug, Default)]
pub struct Around {
    /// The measured window's length.
    pub window: Duration,
    /// Driver CPU over the window.
    pub driver_cpu: Option<Duration>,
    /// CPU the whole machine used over the window (all processes, all cores).
    pub machine_busy: Option<Duration>,
    /// The server before any client connected.
    pub server_before: Option<ProcSample>,
    /// The server at the start of the window.
    pub server_start: Option<ProcSample>,
    /// The server at the end of the window (everyone connected).
    pub server_end: Option<ProcSample>,
    /// The server after every client left.
    pub server_after: Option<ProcSample>,
    /// Tick durations inside the window, from `/metrics.json`.
    pub ticks: Option<TickReading>,
    /// Clients connected (ttt) or playing (arena) at the start of the window.
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

    fn server_cpu_s(&self) -> Option<f64> {
        self.server_cpu().map(|d| d.as_secs_f64())
    }

    fn window_s(&self) -> f64 {
        self.window.as_secs_f64()
    }

    fn peak_rss_kb(&self) -> Option<u64> {
        [self.server_end, self.server_after]
            .iter()
            .flatten()
            .map(|s| s.hwm_kb)
            .max()
    }

    /// Server RSS growth from before the load to the window's end, KiB per client.
    fn rss_per_client_kb(&self, clients: usize) -> Option<f64> {
        let (before, end) = (self.server_before?, self.server_end?);
        (clients > 0).then(|| (end.rss_kb as f64 - before.rss_kb as f64) / clients as f64)
    }

    /// Tick duration quantile over the window, milliseconds.
    pub fn tick_ms(&self, quantile: f64) -> Option<f64> {
        let ticks = self.ticks.as_ref().filter(|t| !t.tick_us.is_empty())?;
        let us = if quantile >= 1.0 {
            ticks.tick_us.max()
        } else {
            ticks.tick_us.value_at_quantile(quantile)
        };
        Some(us as f64 / 1000.0)
    }
}

fn latency(p50: Option<f64>, p99: Option<f64>, max: Option<f64>) -> Value {
    match (p50, p99, max) {
        (Some(p50), Some(p99), Some(max)) => json!({
            "p50": round(p50, 3),
            "p99": round(p99, 3),
            "max": round(max, 3),
        }),
        _ => Value::Null,
    }
}

/// The keys every workload's record has (WORKLOADS.md, "The result record").
pub fn common_record(
    workload: &str,
    clients: usize,
    seconds: u64,
    errors: u64,
    around: &Around,
) -> Map<String, Value> {
    let window_s = around.window_s();
    let server_cpu = around.server_cpu_s();
    let record = json!({
        "workload": workload,
        "clients": clients,
        "seconds": seconds,
        "errors": errors,
        "driver_cpu_s": around.driver_cpu.map(|d| round(d.as_secs_f64(), 3)),
        "server_cpu_s": server_cpu.map(|s| round(s, 3)),
        "server_cpu_pct": server_cpu.filter(|_| window_s > 0.0).map(|s| round(100.0 * s / window_s, 1)),
        "server_peak_rss_mb": around.peak_rss_kb().map(mb),
        "server_rss_before_mb": around.server_before.map(|s| mb(s.rss_kb)),
        "server_rss_after_mb": around.server_after.map(|s| mb(s.rss_kb)),
    });
    match record {
        Value::Object(map) => map,
        _ => Map::new(),
    }
}

/// The `ttt` result record: exactly the keys WORKLOADS.md lists, `null` where unmeasured.
pub fn ttt_record(clients: usize, seconds: u64, tally: &Tally, around: &Around) -> Value {
    let window_s = around.window_s();
    let server_cpu = around.server_cpu_s();
    let moves_per_s = (window_s > 0.0).then(|| round(tally.moves as f64 / window_s, 1));
    let mut record = common_record("ttt", clients, seconds, tally.errors, around);
    let pick =
        |f: fn(&Tally, f64) -> Option<f64>| latency(f(tally, 0.5), f(tally, 0.99), f(tally, 1.0));
    record.extend([
        ("games".into(), json!(tally.games)),
        ("moves".into(), json!(tally.moves)),
        ("moves_per_s".into(), json!(moves_per_s)),
        ("illegal_outcomes".into(), json!(tally.illegal_outcomes)),
        ("move_latency_ms".into(), pick(Tally::move_latency_ms)),
        ("match_ms".into(), pick(Tally::match_ms)),
        (
            "server_cpu_ms_per_1000_moves".into(),
            json!(
                server_cpu
                    .filter(|_| tally.moves > 0)
                    .map(|s| round(s * 1000.0 * 1000.0 / tally.moves as f64, 2))
            ),
        ),
    ]);
    Value::Object(record)
}

/// The arena figures derived from the tally and the window, shared by the table and the
/// record. Per-client figures divide by the N clients asked for (a client that never
/// joined counts as receiving nothing).
#[derive(Debug, Clone, Copy)]
pub struct ArenaFigures {
    /// States received per client per second.
    pub updates_per_client_s: Option<f64>,
    /// The slowest client's states per second (0 if any client never played).
    pub min_client_updates_s: Option<f64>,
    /// Clients that received fewer than 99% of the server's tick rate.
    pub clients_below_rate: Option<usize>,
    /// WebSocket payload bytes per client per second.
    pub bytes_per_client_s: Option<f64>,
    /// The same with frame headers.
    pub frame_bytes_per_client_s: Option<f64>,
    /// State payload bytes per state received.
    pub bytes_per_update: Option<f64>,
    /// Server CPU milliseconds per client-second.
    pub server_cpu_ms_per_client_s: Option<f64>,
    /// Server RSS growth per client, KiB.
    pub server_rss_per_client_kb: Option<f64>,
}

impl ArenaFigures {
    /// Computes the figures for `clients` clients.
    pub fn new(clients: usize, tally: &ArenaTally, around: &Around) -> ArenaFigures {
        let window_s = around.window_s();
        let client_s = clients as f64 * window_s;
        let per_client_s = |v: u64| (client_s > 0.0).then(|| v as f64 / client_s);
        let c = &tally.counts;
        let rate_floor = tally.tick_hz.map(|hz| 0.99 * f64::from(hz));
        let rates: Vec<f64> = tally
            .per_client_updates
            .iter()
            .map(|&u| u as f64 / window_s.max(1e-9))
            .chain(std::iter::repeat_n(
                0.0,
                clients.saturating_sub(tally.per_client_updates.len()),
            ))
            .collect();
        ArenaFigures {
            updates_per_client_s: per_client_s(c.updates),
            min_client_updates_s: rates
                .iter()
                .copied()
                .reduce(f64::min)
                .filter(|_| window_s > 0.0),
            clients_below_rate: rate_floor
                .filter(|_| window_s > 0.0)
                .map(|floor| rates.iter().filter(|&&r| r < floor).count()),
            bytes_per_client_s: per_client_s(c.payload_bytes),
            frame_bytes_per_client_s: per_client_s(c.frame_bytes),
            bytes_per_update: (c.updates > 0)
                .then(|| (c.full_bytes + c.delta_bytes) as f64 / c.updates as f64),
            server_cpu_ms_per_client_s: around
                .server_cpu_s()
                .filter(|_| client_s > 0.0)
                .map(|s| s * 1000.0 / client_s),
            server_rss_per_client_kb: around.rss_per_client_kb(clients),
        }
    }
}

/// The `arena` result record: exactly the keys WORKLOADS.md lists, `null` where unmeasured.
pub fn arena_record(clients: usize, seconds: u64, tally: &ArenaTally, around: &Around) -> Value {
    let f = ArenaFigures::new(clients, tally, around);
    let mut record = common_record("arena", clients, seconds, tally.errors, around);
    let r = |v: Option<f64>, places| json!(v.map(|v| round(v, places)));
    record.extend([
        ("updates_per_client_s".into(), r(f.updates_per_client_s, 2)),
        ("bytes_per_client_s".into(), r(f.bytes_per_client_s, 1)),
        ("bytes_per_update".into(), r(f.bytes_per_update, 2)),
        (
            "input_latency_ms".into(),
            latency(
                tally.input_latency_ms(0.5),
                tally.input_latency_ms(0.99),
                tally.input_latency_ms(1.0),
            ),
        ),
        (
            "server_cpu_ms_per_client_s".into(),
            r(f.server_cpu_ms_per_client_s, 4),
        ),
        (
            "server_rss_per_client_kb".into(),
            r(f.server_rss_per_client_kb, 2),
        ),
    ]);
    Value::Object(record)
}

fn cell(value: Option<f64>, unit: &str) -> String {
    value.map_or_else(|| "n/a".to_string(), |v| format!("{v:.2}{unit}"))
}

/// A two-column text table.
#[derive(Debug, Default)]
struct Table {
    out: String,
}

impl Table {
    fn row(&mut self, name: &str, value: impl Into<String>) {
        self.out
            .push_str(&format!("  {name:<34} {}\n", value.into()));
    }

    /// Errors, driver and server CPU, server memory and tick durations.
    fn server_rows(&mut self, around: &Around, errors: u64, error_samples: &[String]) {
        let window_s = around.window_s();
        let secs = |d: Option<Duration>| d.map(|d| d.as_secs_f64());
        self.row("errors", errors.to_string());
        self.row("driver CPU", cell(secs(around.driver_cpu), " s"));
        self.row(
            "driver CPU % of one core",
            cell(
                secs(around.driver_cpu).map(|s| 100.0 * s / window_s.max(1e-9)),
                " %",
            ),
        );
        let server_cpu = around.server_cpu_s();
        self.row("server CPU", cell(server_cpu, " s"));
        self.row(
            "server CPU % of one core",
            cell(server_cpu.map(|s| 100.0 * s / window_s.max(1e-9)), " %"),
        );
        // What everything else on the shared machine used meanwhile (other jobs, the kernel).
        let others = secs(around.machine_busy)
            .zip(server_cpu)
            .map(|(all, server)| all - server - secs(around.driver_cpu).unwrap_or_default());
        self.row(
            "machine CPU − server − driver",
            cell(others.map(|s| 100.0 * s / window_s.max(1e-9)), " %"),
        );
        let mib = |s: Option<ProcSample>| s.map(|s| s.rss_kb as f64 / 1024.0);
        self.row("server RSS before", cell(mib(around.server_before), " MiB"));
        self.row(
            "server RSS at window end",
            cell(mib(around.server_end), " MiB"),
        );
        self.row(
            "server RSS after all left",
            cell(mib(around.server_after), " MiB"),
        );
        self.row(
            "server peak RSS (VmHWM)",
            cell(around.peak_rss_kb().map(|k| k as f64 / 1024.0), " MiB"),
        );
        match &around.ticks {
            Some(ticks) if !ticks.tick_us.is_empty() => {
                self.row(
                    "server tick duration p50/p99/max",
                    format!(
                        "{:.3} / {:.3} / {:.3} ms over {} ticks on {} shards",
                        around.tick_ms(0.5).unwrap_or_default(),
                        around.tick_ms(0.99).unwrap_or_default(),
                        around.tick_ms(1.0).unwrap_or_default(),
                        ticks.tick_us.len(),
                        ticks.shards
                    ),
                );
                let c = &ticks.tick_cpu_us;
                if !c.is_empty() {
                    self.row(
                        "server tick CPU time p50/p99/max",
                        format!(
                            "{:.3} / {:.3} / {:.3} ms",
                            c.value_at_quantile(0.5) as f64 / 1000.0,
                            c.value_at_quantile(0.99) as f64 / 1000.0,
                            c.max() as f64 / 1000.0,
                        ),
                    );
                }
                self.row(
                    "server tick overruns / skipped",
                    format!("{} / {}", ticks.overruns, ticks.skipped),
                );
                self.row(
                    "server states superseded unsent",
                    ticks.superseded.to_string(),
                );
            }
            _ => self.row("server tick duration", "n/a (no /metrics.json)"),
        }
        for sample in error_samples {
            self.out.push_str(&format!("  error: {sample}\n"));
        }
    }
}

/// The human-readable `ttt` table.
pub fn ttt_table(tally: &Tally, around: &Around) -> String {
    let mut t = Table::default();
    let window_s = around.window_s();
    t.row("measured window", format!("{window_s:.1} s"));
    t.row(
        "clients connected at window start",
        around.connected.to_string(),
    );
    t.row("games completed", tally.games.to_string());
    t.row("moves accepted", tally.moves.to_string());
    t.row(
        "moves per second",
        cell((window_s > 0.0).then(|| tally.moves as f64 / window_s), ""),
    );
    t.row(
        "results (per player)",
        format!(
            "{} wins, {} losses, {} draws, {} forfeits",
            tally.wins, tally.losses, tally.draws, tally.forfeits
        ),
    );
    for (name, q) in [("p50", 0.5), ("p99", 0.99), ("max", 1.0)] {
        let ms = tally.move_latency_ms(q);
        let ticks = ms.and_then(|ms| tally.ms_to_ticks(ms));
        t.row(
            &format!("move latency {name}"),
            format!("{} ({} ticks)", cell(ms, " ms"), cell(ticks, "")),
        );
    }
    for (name, q) in [("p50", 0.5), ("p99", 0.99), ("max", 1.0)] {
        t.row(
            &format!("matchmaking {name}"),
            cell(tally.match_ms(q), " ms"),
        );
    }
    if !tally.redirect_us.is_empty() {
        t.row("redirects (cluster)", tally.redirect_us.len().to_string());
        for (name, q) in [("p50", 0.5), ("p99", 0.99), ("max", 1.0)] {
            t.row(
                &format!("redirect to playing {name}"),
                cell(tally.redirect_ms(q), " ms"),
            );
        }
    }
    t.row("illegal outcomes", tally.illegal_outcomes.to_string());
    let server_cpu = around.server_cpu_s();
    t.row(
        "server CPU ms per 1000 moves",
        cell(
            server_cpu
                .filter(|_| tally.moves > 0)
                .map(|s| s * 1e6 / tally.moves as f64),
            " ms",
        ),
    );
    t.server_rows(around, tally.errors, &tally.error_samples);
    t.out
}

/// Where the window fell, for the arena table.
#[derive(Debug, Clone, Copy)]
pub struct ArenaTimes {
    /// From the load's start to the last join.
    pub joins: Option<Duration>,
    /// From the load's start to the window's start.
    pub window_start: Option<Duration>,
}

/// The human-readable `arena` table, ending with the capacity criteria of WORKLOADS.md.
pub fn arena_table(
    clients: usize,
    tally: &ArenaTally,
    around: &Around,
    times: ArenaTimes,
) -> String {
    let mut t = Table::default();
    let f = ArenaFigures::new(clients, tally, around);
    let c = &tally.counts;
    let window_s = around.window_s();
    let at = |d: Option<Duration>| cell(d.map(|d| d.as_secs_f64()), " s");
    t.row(
        "joins done / window",
        format!(
            "last join at {}, window from {} for {window_s:.1} s",
            at(times.joins),
            at(times.window_start)
        ),
    );
    t.row(
        "clients playing at window start",
        format!("{} of {clients}", around.connected),
    );
    t.row(
        "states received (window)",
        format!(
            "{} ({} deltas, {} full); {} ticks missed",
            c.updates, c.deltas, c.fulls, c.missed_ticks
        ),
    );
    t.row(
        "updates per client per second",
        format!(
            "{} mean, {} slowest client; {} clients under 99% of {} Hz",
            cell(f.updates_per_client_s, ""),
            cell(f.min_client_updates_s, ""),
            f.clients_below_rate
                .map_or_else(|| "n/a".into(), |n| n.to_string()),
            tally
                .tick_hz
                .map_or_else(|| "n/a".into(), |hz| hz.to_string()),
        ),
    );
    t.row(
        "bytes per client per second",
        format!(
            "{} payload, {} with frame headers",
            cell(f.bytes_per_client_s, ""),
            cell(f.frame_bytes_per_client_s, "")
        ),
    );
    t.row(
        "payload bytes per update",
        format!(
            "{} (delta {}, full {})",
            cell(f.bytes_per_update, ""),
            cell(
                (c.deltas > 0).then(|| c.delta_bytes as f64 / c.deltas as f64),
                ""
            ),
            cell(
                (c.fulls > 0).then(|| c.full_bytes as f64 / c.fulls as f64),
                ""
            ),
        ),
    );
    t.row(
        "inputs sent per client per second",
        cell(
            (window_s > 0.0).then(|| c.inputs as f64 / (clients.max(1) as f64 * window_s)),
            "",
        ),
    );
    for (name, q) in [("p50", 0.5), ("p99", 0.99), ("max", 1.0)] {
        let ms = tally.input_latency_ms(q);
        let ticks = ms.and_then(|ms| tally.ms_to_ticks(ms));
        t.row(
            &format!("input latency {name}"),
            format!("{} ({} ticks)", cell(ms, " ms"), cell(ticks, "")),
        );
    }
    t.row(
        "input latency samples",
        format!(
            "{} ({} turns never seen before the next turn)",
            tally.input_latency_us.len(),
            c.latency_unresolved
        ),
    );
    t.row(
        "prediction checks / corrections",
        format!(
            "{} / {} (largest {} units)",
            c.prediction_checks, c.prediction_corrections, c.max_correction_units
        ),
    );
    t.row("deltas without their base", tally.missing_bases.to_string());
    t.row(
        "server CPU ms per client-second",
        cell(f.server_cpu_ms_per_client_s, " ms"),
    );
    t.row(
        "server RSS per client",
        cell(f.server_rss_per_client_kb, " KiB"),
    );
    t.server_rows(around, tally.errors, &tally.error_samples);
    let budget_ms = tally.tick_hz.map(|hz| 250.0 / f64::from(hz));
    let rate_ok = f.clients_below_rate.map(|n| n == 0);
    let tick_ok = around
        .tick_ms(0.99)
        .zip(budget_ms)
        .map(|(p99, budget)| p99 < budget);
    let yes_no = |v: Option<bool>| match v {
        Some(true) => "yes",
        Some(false) => "NO",
        None => "n/a",
    };
    t.row(
        "capacity: every client at rate",
        yes_no(rate_ok).to_string(),
    );
    t.row(
        "capacity: tick p99 < 25% of budget",
        format!("{} ({} ms budget)", yes_no(tick_ok), cell(budget_ms, "")),
    );
    t.out
}
