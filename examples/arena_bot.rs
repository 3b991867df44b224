//! A headless arena bot: quick-matches into an arena room, moves like the `arena` workload
//! (20 Hz inputs, a new random direction every 500 ms) for `--seconds`, and prints what it
//! received and checked.
//!
//! Shows the library's arena client ([`ticksync::client::ArenaBot`]): deltas applied to a
//! mirror of recent states (a delta whose base is not held is an error), acknowledgements in
//! every input, client-side prediction of its own player checked against every state, and
//! input latency. Exits non-zero on any protocol error.
//!
//! A room starts when 8 players are queued, or after the fill wait (3 s) with fewer, so one
//! bot alone plays in a room of one. Start a server, then a few bots:
//!
//! ```text
//! cargo run --release -- serve --addr 127.0.0.1:7878
//! cargo run --release --example arena_bot -- --seconds 10 &
//! cargo run --release --example arena_bot -- --seconds 10 --codec msgpack
//! ```

use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::bail;
use clap::Parser;
use ticksync::client::{ArenaBot, ArenaBotConfig, ArenaRecorder, ClientTls, LiveWindow, words};
use ticksync::codec::Codec;
use tokio_util::sync::CancellationToken;

/// A headless arena bot for ticksync.
#[derive(Debug, Parser)]
struct Args {
    /// Server WebSocket URL.
    #[arg(long, default_value = "ws://127.0.0.1:7878")]
    url: String,
    /// Wire codec: bincode, msgpack (`ticksync.msgpack.v2`) or msgpack-v1.
    #[arg(long, default_value = "bincode")]
    codec: Codec,
    /// Seconds to play once seated.
    #[arg(long, default_value_t = 10)]
    seconds: u64,
    /// Seconds to wait for any one server message.
    #[arg(long, default_value_t = 30)]
    timeout: u64,
    /// Seed for the phase and the directions (random if not given).
    #[arg(long)]
    seed: Option<u64>,
    /// PEM file of certificate authorities to trust for `wss://`, besides the webpki roots
    /// (e.g. the CA that signed a local nginx's certificate).
    #[arg(long)]
    ca_file: Option<PathBuf>,
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    let config = ArenaBotConfig {
        codec: args.codec,
        timeout: Duration::from_secs(args.timeout.max(1)),
        seed: args.seed,
        tls: args
            .ca_file
            .as_deref()
            .map(ClientTls::with_ca_file)
            .transpose()?,
        ..ArenaBotConfig::new(args.url.clone())
    };
    // Everything counts: the window opens now and never ends.
    let recorder = ArenaRecorder::new(Arc::new(LiveWindow::from(Instant::now())));
    let mut bot = ArenaBot::new(config, recorder.clone());
    eprintln!(
        "arena_bot: connecting to {} and waiting for a room (a room starts with 8 players, \
         or 3 s after the first one queued)",
        args.url
    );
    let joined = match bot.join().await {
        Ok(joined) => joined,
        Err(error) => bail!("arena_bot: {}", words::explain(&error, &args.url)),
    };
    let seat = joined.seat.map_or_else(
        || "as a spectator".to_string(),
        |seat| format!("in seat {seat}"),
    );
    eprintln!(
        "arena_bot: playing in room {} (code {}) {seat} of {}, for {} s",
        joined.room_id, joined.code, joined.seats, args.seconds
    );
    let stop = CancellationToken::new();
    let timer = stop.clone();
    let seconds = args.seconds;
    tokio::spawn(async move {
        tokio::select! {
            _ = tokio::time::sleep(Duration::from_secs(seconds)) => {}
            _ = tokio::signal::ctrl_c() => eprintln!("stopping"),
        }
        timer.cancel();
    });
    let started = Instant::now();
    let result = bot.play(stop).await;
    let played = started.elapsed().as_secs_f64().max(1e-9);
    let tally = recorder.tally();
    let c = &tally.counts;
    println!(
        "states received: {} in {played:.1} s ({:.1} per second); {} deltas (changes against \
         a state this bot acknowledged), {} full snapshots",
        c.updates,
        c.updates as f64 / played,
        c.deltas,
        c.fulls,
    );
    println!(
        "server ticks never seen: {} (snapshots are latest-wins, so a slow reader skips \
         ticks; none is lost for good)",
        c.missed_ticks
    );
    println!(
        "bytes received: {} of game state, {} with message and WebSocket headers; \
         {:.1} per delta, {:.1} per full snapshot",
        c.payload_bytes,
        c.frame_bytes,
        c.delta_bytes as f64 / c.deltas.max(1) as f64,
        c.full_bytes as f64 / c.fulls.max(1) as f64
    );
    println!(
        "inputs sent: {}; own position predicted and checked against the server {} times, \
         wrong {} times (largest miss {} units; the arena is 1000 units wide)",
        c.inputs, c.prediction_checks, c.prediction_corrections, c.max_correction_units
    );
    if let (Some(p50), Some(p99), Some(max)) = (
        tally.input_latency_ms(0.5),
        tally.input_latency_ms(0.99),
        tally.input_latency_ms(1.0),
    ) {
        println!(
            "input latency (a turn sent until the first state showing it): median {p50:.2} \
             ms, 99th percentile {p99:.2} ms, max {max:.2} ms, over {} turns",
            tally.input_latency_us.len()
        );
    }
    println!(
        "errors: {} (of which deltas whose base state this bot did not hold: {})",
        tally.errors, tally.missing_bases
    );
    let fatal = result.as_ref().err().map(ToString::to_string);
    for sample in &tally.error_samples {
        if fatal
            .as_ref()
            .is_none_or(|fatal| !sample.ends_with(fatal.as_str()))
        {
            eprintln!("error: {sample}");
        }
    }
    if let Err(error) = result {
        bail!("the bot stopped: {}", words::explain(&error, &args.url));
    }
    if tally.errors > 0 {
        bail!("{} errors", tally.errors);
    }
    Ok(())
}
