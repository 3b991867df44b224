//! The load generator: drives the standard workloads of WORKLOADS.md against a running
//! server and prints a table, then the JSON result record as the last line on stdout.
//!
//! Shows the library's load driver ([`ticksync::client::Load`]) and how the server is
//! measured from outside: CPU and memory from /proc, tick durations from `GET /metrics.json`.
//!
//! `--server-pid` lets it read the server's CPU time and memory from /proc (Linux); without
//! it those rows say n/a. The server must be running first: loadgen checks `GET /healthz`
//! and stops at once if nothing answers.
//!
//! ```text
//! cargo build --release && cargo build --release --examples   # the server on its own
//! target/release/ticksync serve --addr 127.0.0.1:7878 --log warn &
//! target/release/examples/loadgen --workload ttt --clients 200 --seconds 20 \
//!     --url ws://127.0.0.1:7878 --server-pid $! --plot latency.svg
//! target/release/examples/loadgen --workload arena --clients 800 --seconds 20 \
//!     --url ws://127.0.0.1:7878 --server-pid $SERVER --plot arena-latency.svg
//! ```
//!
//! Through a TLS proxy (e.g. `deploy/cluster/local.sh`'s nginx) give its `wss://` URL and,
//! for a certificate a local CA signed, `--ca-file ca.pem`; `/healthz` and `/metrics.json`
//! are then read over HTTPS from the same address (through a proxy in front of several
//! nodes the tick row may read n/a: the window's two readings came from different nodes).
//!
//! Workloads: `ttt` and `arena` (WORKLOADS.md), and `idle` (N clients that only say Hello
//! and stay, for server memory per idle connection). Use a fresh server for each run.
//!
//! For capacity runs, `--workload arena --no-checks` makes the driver light, so that the
//! search measures the server and not the driver sharing its cores: the same traffic and
//! counts, but each state read by its envelope alone (no view, delta or prediction), no
//! timer per message, inputs written by hand into a kept buffer (`ArenaBotConfig::checks`;
//! BENCHMARKS.md, issue 13, has its CPU against the bare client's).
//! Exits non-zero when any error or illegal outcome was counted.

mod args;
mod http;
mod plot;
mod procfs;
mod report;
mod status;

use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use clap::Parser;
use indicatif::{ProgressBar, ProgressStyle};
use serde_json::json;
use ticksync::client::{
    ArenaLoad, ArenaLoadConfig, ArenaTally, Connection, Load, LoadConfig, Tally,
};
use tokio::sync::Semaphore;
use tokio::task::JoinSet;
use tokio_util::sync::CancellationToken;

use args::{Args, Workload, check};
use http::TickReading;
use procfs::ProcSample;
use report::{ArenaTimes, Around};

fn driver_cpu() -> Option<Duration> {
    procfs::sample("self").ok().map(|s| s.cpu)
}

/// Stops at the first sign that no server is there, instead of N connection errors.
async fn reachable(args: &Args, authority: &http::Endpoint) -> anyhow::Result<()> {
    if let Err(error) = http::get(authority, "/healthz").await {
        if http::untrusted_certificate(&error) {
            bail!(
                "the server at {} showed a certificate no trusted root vouches for (GET \
                 {authority}/healthz: {error:#}); if a CA of your own signed it, pass \
                 --ca-file with that CA's PEM file",
                args.url
            );
        }
        bail!(
            "cannot reach a ticksync server at {} (GET {authority}/healthz: {error:#}); \
             is it running? Start one with `cargo run --release -- serve`, or pass --url",
            args.url
        );
    }
    Ok(())
}

/// Says why the server's figures are missing when they are.
fn note_server_pid(args: &Args) {
    if args.server_pid.is_none() {
        eprintln!(
            "note: server CPU and memory are n/a: pass --server-pid PID (e.g. \
             --server-pid \"$(pgrep -xn ticksync)\") to read them from /proc"
        );
    }
}

fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    check(&args)?;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("starting the tokio runtime")?;
    let (record, failed) = runtime.block_on(async {
        reachable(&args, &args.authority()?).await?;
        match args.workload {
            Workload::Ttt => run_ttt(&args).await,
            Workload::Idle => run_idle(&args).await,
            Workload::Arena => run_arena(&args).await,
        }
    })?;
    println!("{record}");
    if failed {
        std::process::exit(1);
    }
    Ok(())
}

fn progress_bar(seconds: u64) -> ProgressBar {
    let bar = ProgressBar::new(seconds.max(1) * 1000);
    // 4 + 2 + 20 + 2 columns: status::BAR_COLUMNS.
    let style = ProgressStyle::with_template("{elapsed:>4} [{bar:20}] {msg}")
        .map(|s| s.progress_chars("=> "))
        .unwrap_or_else(|_| ProgressStyle::default_bar());
    bar.set_style(style);
    bar
}

/// The `ttt` workload. Returns the JSON record and whether anything failed.
async fn run_ttt(args: &Args) -> anyhow::Result<(serde_json::Value, bool)> {
    if !args.clients.is_multiple_of(2) {
        bail!("--clients must be even for ttt (players are paired)");
    }
    let authority = args.authority()?;
    let mut around = Around {
        server_before: args.server_sample(),
        ..Around::default()
    };
    let config = LoadConfig {
        codec: args.codec(),
        warmup: Duration::from_secs(args.warmup),
        joins_in_flight: args.joins.max(1),
        tls: Some(args.tls()?),
        ..LoadConfig::ttt(
            args.url.clone(),
            args.clients,
            Duration::from_secs(args.seconds),
        )
    };
    let mut load = Load::start(config);
    let window = load.recorder().window();
    let bar = progress_bar(args.seconds);

    // Sample the server and the driver at both edges of the window while the load runs.
    let edges = tokio::spawn(sample_window(
        std::future::ready(Some(window.start)),
        window.end.unwrap_or(window.start),
        args.server_pid,
        authority.clone(),
    ));
    let connected_at_start = {
        let started = load.started();
        let mut connected = 0;
        let mut tick = tokio::time::interval(Duration::from_millis(200));
        loop {
            tokio::select! {
                more = load.join_next() => if !more { break },
                _ = tick.tick() => {
                    let tally = load.recorder().tally();
                    let elapsed = started.elapsed();
                    if Instant::now() <= window.start {
                        connected = load.connected();
                    }
                    bar.set_position(elapsed.as_millis().min(u128::from(args.seconds) * 1000) as u64);
                    let now = Instant::now();
                    let warmup_left = (now < window.start).then(|| {
                        window.start.saturating_duration_since(now).as_secs_f64().ceil() as u64
                    });
                    bar.set_message(status::ttt(
                        warmup_left,
                        load.connected(),
                        args.clients,
                        tally.games,
                        tally.moves,
                        tally.errors,
                    ));
                }
            }
        }
        connected
    };
    let tally = load.finish().await;
    bar.finish_and_clear();
    let edges = edges.await.context("the sampling task failed")?;
    around.window = window.length().unwrap_or_default();
    around.connected = connected_at_start;
    around.take_edges(edges);
    around.server_after = after_everyone_left(args, &authority).await;

    if let Some(path) = &args.plot {
        let title = format!(
            "ttt move latency, {} clients, {} s ({} moves)",
            args.clients, args.seconds, tally.moves
        );
        plot::latency_svg(path, &title, "move latency (ms)", &tally.move_latency_us)
            .with_context(|| format!("writing {}", path.display()))?;
        eprintln!("wrote {}", path.display());
    }
    print_table(args, &tally, &around);
    let record = report::ttt_record(args.clients, args.seconds, &tally, &around);
    Ok((record, tally.errors > 0 || tally.illegal_outcomes > 0))
}

/// One reading at an edge of the measured window.
#[derive(Debug)]
struct Edge {
    server: Option<ProcSample>,
    driver_cpu: Option<Duration>,
    machine_busy: Option<Duration>,
    ticks: Option<TickReading>,
}

async fn sample_edge(server_pid: Option<u32>, authority: &http::Endpoint) -> Edge {
    Edge {
        server: server_pid.and_then(|pid| procfs::sample(&pid.to_string()).ok()),
        driver_cpu: driver_cpu(),
        machine_busy: procfs::machine_busy().ok(),
        ticks: http::ticks(authority).await.ok(),
    }
}

/// Samples the server and the driver when `start` resolves to the window's start (and
/// that instant has come), then at `end`. `None` if the window never opens or is empty.
async fn sample_window(
    start: impl std::future::Future<Output = Option<Instant>>,
    end: Instant,
    server_pid: Option<u32>,
    authority: http::Endpoint,
) -> Option<(Edge, Edge)> {
    let start = start.await.filter(|&start| start < end)?;
    tokio::time::sleep_until(start.into()).await;
    let first = sample_edge(server_pid, &authority).await;
    tokio::time::sleep_until(end.into()).await;
    let last = sample_edge(server_pid, &authority).await;
    Some((first, last))
}

impl Around {
    /// Fills in the window's edge readings: server samples, driver CPU and tick durations
    /// over the window.
    fn take_edges(&mut self, edges: Option<(Edge, Edge)>) {
        let Some((first, last)) = edges else {
            return;
        };
        self.server_start = first.server;
        self.server_end = last.server;
        self.driver_cpu = first
            .driver_cpu
            .zip(last.driver_cpu)
            .map(|(a, b)| b.saturating_sub(a));
        self.machine_busy = first
            .machine_busy
            .zip(last.machine_busy)
            .map(|(a, b)| b.saturating_sub(a));
        self.ticks = match (first.ticks, last.ticks) {
            (Some(t0), Some(t1)) => t1.since(&t0).ok(),
            _ => None,
        };
    }
}

fn print_table(args: &Args, tally: &Tally, around: &Around) {
    println!(
        "ttt: {} clients, {} s ({} s warm-up), codec {:?}, {}",
        args.clients,
        args.seconds,
        args.warmup,
        args.codec(),
        args.url
    );
    print!("{}", report::ttt_table(tally, around));
    note_server_pid(args);
}

/// The `arena` workload. Returns the JSON record and whether anything failed.
async fn run_arena(args: &Args) -> anyhow::Result<(serde_json::Value, bool)> {
    let authority = args.authority()?;
    let mut around = Around {
        server_before: args.server_sample(),
        ..Around::default()
    };
    let config = ArenaLoadConfig {
        codec: args.codec(),
        joins_in_flight: args.joins.max(1),
        checks: !args.no_checks,
        tls: Some(args.tls()?),
        ..ArenaLoadConfig::arena(
            args.url.clone(),
            args.clients,
            Duration::from_secs(args.seconds),
        )
    };
    let settle = config.settle;
    let mut load = ArenaLoad::start(config);
    let started = load.started();
    let end = started + Duration::from_secs(args.seconds);
    let mut last_join = load.last_join();
    let window_start = async move {
        let last = *last_join.wait_for(Option::is_some).await.ok()?;
        last.map(|at| at + settle)
    };
    let edges = tokio::spawn(sample_window(
        window_start,
        end,
        args.server_pid,
        authority.clone(),
    ));
    let bar = progress_bar(args.seconds);
    let mut playing_at_start = 0;
    let mut tick = tokio::time::interval(Duration::from_millis(200));
    loop {
        tokio::select! {
            more = load.join_next() => if !more { break },
            _ = tick.tick() => {
                let now = Instant::now();
                if load.recorder().window().start().is_none_or(|start| now <= start) {
                    playing_at_start = load.playing();
                }
                bar.set_position(started.elapsed().as_millis().min(u128::from(args.seconds) * 1000) as u64);
                let measuring = load.recorder().window().start().is_some_and(|start| now > start);
                bar.set_message(status::arena(
                    measuring,
                    load.joined(),
                    load.playing(),
                    args.clients,
                    load.recorder().updates_so_far(),
                    load.recorder().errors_so_far(),
                ));
            }
        }
    }
    let recorder = load.recorder().clone();
    let last_join = *load.last_join().borrow();
    let tally = load.finish().await;
    bar.finish_and_clear();
    let window = recorder.window();
    let times = ArenaTimes {
        joins: last_join.map(|at| at.saturating_duration_since(started)),
        window_start: window
            .start()
            .map(|at| at.saturating_duration_since(started)),
    };
    let edges = edges.await.context("the sampling task failed")?;
    let mut errors = tally.errors;
    if edges.is_none() {
        eprintln!("the measured window is empty: the joins took too long for --seconds");
        errors += 1;
    }
    around.window = window.length().unwrap_or_default();
    around.connected = playing_at_start;
    around.take_edges(edges);
    around.server_after = after_everyone_left(args, &authority).await;
    if let Some(path) = &args.plot {
        let title = format!(
            "arena input latency, {} clients, {} s ({} turns)",
            args.clients,
            args.seconds,
            tally.input_latency_us.len()
        );
        plot::latency_svg(path, &title, "input latency (ms)", &tally.input_latency_us)
            .with_context(|| format!("writing {}", path.display()))?;
        eprintln!("wrote {}", path.display());
    }
    print_arena_table(args, &tally, &around, times);
    let mut record = report::arena_record(args.clients, args.seconds, &tally, &around);
    record["errors"] = errors.into();
    Ok((record, errors > 0))
}

fn print_arena_table(args: &Args, tally: &ArenaTally, around: &Around, times: ArenaTimes) {
    println!(
        "arena: {} clients, {} s (window from 2 s after the last join), codec {:?}, {}",
        args.clients,
        args.seconds,
        args.codec(),
        args.url
    );
    print!(
        "{}",
        report::arena_table(args.clients, tally, around, times)
    );
    note_server_pid(args);
}

/// Waits (bounded) until the server reports no connections, then samples it.
async fn after_everyone_left(
    args: &Args,
    authority: &http::Endpoint,
) -> Option<procfs::ProcSample> {
    args.server_pid?;
    let deadline = Instant::now() + Duration::from_secs(10);
    while Instant::now() < deadline {
        match http::connections(authority).await {
            Ok(0) | Err(_) => break,
            Ok(_) => tokio::time::sleep(Duration::from_millis(100)).await,
        }
    }
    args.server_sample()
}

/// The `idle` workload: N clients connect (bounded joins), say Hello, and stay for S
/// seconds; the server's RSS before and with everyone connected gives memory per idle
/// connection.
async fn run_idle(args: &Args) -> anyhow::Result<(serde_json::Value, bool)> {
    let authority = args.authority()?;
    let before = args.server_sample();
    let cpu_start = driver_cpu();
    let stop = CancellationToken::new();
    let joins = Arc::new(Semaphore::new(args.joins.max(1)));
    let errors = Arc::new(std::sync::atomic::AtomicU64::new(0));
    let (ready_tx, mut ready_rx) = tokio::sync::mpsc::channel::<()>(args.clients.max(1));
    let mut clients = JoinSet::new();
    let timeout = Duration::from_secs(args.seconds + 30);
    let tls = args.tls()?;
    for _ in 0..args.clients {
        let (url, codec, tls) = (args.url.clone(), args.codec(), tls.clone());
        let (stop, joins, errors, ready) = (
            stop.clone(),
            joins.clone(),
            errors.clone(),
            ready_tx.clone(),
        );
        clients.spawn(async move {
            let conn = {
                let Ok(_permit) = joins.acquire().await else {
                    return;
                };
                let opened = async {
                    let mut conn =
                        Connection::connect_with(&url, codec, timeout, Some(&tls)).await?;
                    conn.hello(None).await?;
                    Ok::<_, ticksync::client::ClientError>(conn)
                };
                match opened.await {
                    Ok(conn) => conn,
                    Err(error) => {
                        eprintln!("idle client: {error}");
                        errors.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                        let _ = ready.send(()).await;
                        return;
                    }
                }
            };
            let _ = ready.send(()).await;
            let mut conn = conn;
            // Keep reading, so that the server's pings are answered.
            loop {
                tokio::select! {
                    _ = stop.cancelled() => break,
                    msg = conn.recv() => if msg.is_err() {
                        errors.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                        return;
                    },
                }
            }
            if conn.close().await.is_err() {
                errors.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            }
        });
    }
    drop(ready_tx);
    let started = Instant::now();
    for _ in 0..args.clients {
        if ready_rx.recv().await.is_none() {
            break;
        }
    }
    let join_s = started.elapsed().as_secs_f64();
    let server_connections = http::connections(&authority).await.ok();
    // Let the server's allocations settle before reading its memory.
    tokio::time::sleep(Duration::from_secs(1)).await;
    let connected = args.server_sample();
    tokio::time::sleep_until((started + Duration::from_secs(args.seconds)).into()).await;
    stop.cancel();
    while clients.join_next().await.is_some() {}
    let cpu_end = driver_cpu();
    let after = after_everyone_left(args, &authority).await;
    let errors = errors.load(std::sync::atomic::Ordering::Relaxed);
    let mb = |s: Option<procfs::ProcSample>| s.map(|s| round1(s.rss_kb as f64 / 1024.0));
    let per_client_kb = before
        .zip(connected)
        .map(|(b, c)| round1((c.rss_kb as f64 - b.rss_kb as f64) / args.clients.max(1) as f64));
    let show = |v: Option<f64>| v.map_or_else(|| "n/a".to_string(), |v| v.to_string());
    println!(
        "idle: {} clients joined in {join_s:.2} s; the server counted {} connections",
        args.clients,
        server_connections.map_or_else(|| "n/a".to_string(), |n| n.to_string())
    );
    println!(
        "  server RSS before {} MiB, all connected {} MiB, after all left {} MiB: {} KiB per idle connection",
        show(mb(before)),
        show(mb(connected)),
        show(mb(after)),
        show(per_client_kb)
    );
    note_server_pid(args);
    let peak_mb = [connected, after]
        .iter()
        .flatten()
        .map(|s| round1(s.hwm_kb as f64 / 1024.0))
        .reduce(f64::max);
    let record = json!({
        "workload": "idle",
        "clients": args.clients,
        "seconds": args.seconds,
        "errors": errors,
        "driver_cpu_s": cpu_start.zip(cpu_end).map(|(a, b)| b.saturating_sub(a).as_secs_f64()),
        "server_rss_before_mb": mb(before),
        "server_rss_connected_mb": mb(connected),
        "server_rss_after_mb": mb(after),
        "server_peak_rss_mb": peak_mb,
        "server_rss_per_client_kb": per_client_kb,
    });
    Ok((record, errors > 0))
}

fn round1(value: f64) -> f64 {
    (value * 10.0).round() / 10.0
}
