//! A headless tic-tac-toe bot: quick-matches, plays N games, and prints what happened.
//!
//! Shows the library client ([`ticksync::client::Bot`]) end to end, including session resume:
//! with `--chaos P` the bot drops its connection on a turn with probability P and comes back
//! with its resume token (exponential backoff with jitter). Exits non-zero on any protocol
//! error or illegal game outcome.
//!
//! It says what it is doing and waiting for on stderr ("waiting for an opponent", each
//! game's result), and the totals on stdout at the end.
//!
//! Start a server, then two bots (two perfect bots always draw):
//!
//! ```text
//! cargo run --release -- serve --addr 127.0.0.1:7878
//! cargo run --release --example bot -- --strategy perfect --games 5 &
//! cargo run --release --example bot -- --strategy perfect --games 5 --codec msgpack --chaos 0.2
//! ```

use std::time::Duration;

use anyhow::{Context, bail};
use clap::Parser;
use ticksync::client::{Backoff, Bot, BotConfig, Recorder, words};
use ticksync::codec::Codec;
use ticksync::game::tictactoe_ai::Strategy;
use tokio_util::sync::CancellationToken;

/// A headless tic-tac-toe bot for ticksync.
#[derive(Debug, Parser)]
struct Args {
    /// Server WebSocket URL.
    #[arg(long, default_value = "ws://127.0.0.1:7878")]
    url: String,
    /// Wire codec: bincode or msgpack.
    #[arg(long, default_value = "bincode")]
    codec: Codec,
    /// Move strategy: random or perfect.
    #[arg(long, default_value = "random")]
    strategy: Strategy,
    /// Games to play.
    #[arg(long, default_value_t = 1)]
    games: u64,
    /// Probability (0 to 1) of dropping the connection on each turn and resuming.
    #[arg(long, default_value_t = 0.0, value_parser = parse_probability)]
    chaos: f64,
    /// Seconds to wait for any one server message (an opponent included).
    #[arg(long, default_value_t = 120)]
    timeout: u64,
}

fn parse_probability(text: &str) -> Result<f64, String> {
    match text.parse::<f64>() {
        Ok(p) if (0.0..=1.0).contains(&p) => Ok(p),
        _ => Err(format!("`{text}` is not a probability between 0 and 1")),
    }
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    let config = BotConfig {
        codec: args.codec,
        strategy: args.strategy,
        games: Some(args.games),
        chaos: args.chaos,
        backoff: Backoff::default(),
        timeout: Duration::from_secs(args.timeout.max(1)),
        ..BotConfig::new(args.url.clone())
    };
    let recorder = Recorder::default();
    let stop = CancellationToken::new();
    let bot = Bot::new(config, recorder.clone(), stop.clone());
    let mut status = bot.status();
    eprintln!("bot: connecting to {}", args.url);
    tokio::spawn(async move {
        while status.changed().await.is_ok() {
            let now = status.borrow_and_update().to_string();
            eprintln!("bot: {now}");
        }
    });
    let run = tokio::spawn(bot.run());
    // Ctrl-C: stop queueing, finish the game in progress, leave.
    tokio::spawn(async move {
        if tokio::signal::ctrl_c().await.is_ok() {
            eprintln!("stopping after the current game");
            stop.cancel();
        }
    });
    let result = run.await.context("the bot task failed")?;
    let tally = recorder.tally();
    println!(
        "games {}  wins {}  losses {}  draws {}  forfeits {}  reconnects {}  errors {}",
        tally.wins + tally.losses + tally.draws + tally.forfeits + tally.illegal_outcomes,
        tally.wins,
        tally.losses,
        tally.draws,
        tally.forfeits,
        tally.reconnects,
        tally.errors + tally.illegal_outcomes,
    );
    if let Some(p50) = tally.move_latency_ms(0.5) {
        println!(
            "move latency p50 {p50:.2} ms, p99 {:.2} ms",
            tally.move_latency_ms(0.99).unwrap_or(p50)
        );
    }
    // Each error once: the one that stopped the bot is said last, with a hint.
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
    if tally.errors > 0 || tally.illegal_outcomes > 0 {
        bail!(
            "{} errors, {} illegal outcomes",
            tally.errors,
            tally.illegal_outcomes
        );
    }
    Ok(())
}
