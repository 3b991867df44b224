//! A headless bot: quick-matches, plays N games of tic-tac-toe (or, with
//! `--game battleship`, of Battleship), and prints what happened.
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
//!
//! Battleship (hunt-and-target shots; `--size` and `--fleet` are the room options, and
//! quick match pairs bots that ask for the same):
//!
//! ```text
//! cargo run --release --example bot -- --game battleship --games 3 &
//! cargo run --release --example bot -- --game battleship --games 3 --codec msgpack
//! ```
//!
//! Through a TLS proxy whose certificate a local CA signed (README, "Run a cluster"):
//!
//! ```text
//! cargo run --release --example bot -- --url wss://127.0.0.1:8443/ --ca-file ca.pem
//! ```

use std::path::PathBuf;
use std::time::Duration;

use anyhow::{Context, bail};
use clap::Parser;
use ticksync::client::{
    Backoff, BattleshipBotConfig, Bot, BotConfig, ClientTls, Recorder, play_battleship, words,
};
use ticksync::codec::Codec;
use ticksync::game::battleship::{BattleshipOptions, Fleet};
use ticksync::game::tictactoe_ai::Strategy;
use ticksync::protocol::EndReason;
use tokio_util::sync::CancellationToken;

/// A headless bot for ticksync.
#[derive(Debug, Parser)]
struct Args {
    /// Server WebSocket URL.
    #[arg(long, default_value = "ws://127.0.0.1:7878")]
    url: String,
    /// The game to play: tictactoe or battleship.
    #[arg(long, default_value = "tictactoe", value_parser = ["tictactoe", "battleship"])]
    game: String,
    /// Battleship: cells a side (6 to 10); the server's default (8) when left out.
    #[arg(long)]
    size: Option<u8>,
    /// Battleship: the fleet, classic or quick; the server's default (classic) when left out.
    #[arg(long, value_parser = parse_fleet)]
    fleet: Option<Fleet>,
    /// Wire codec: bincode, msgpack (`ticksync.msgpack.v2`) or msgpack-v1.
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
    /// PEM file of certificate authorities to trust for `wss://`, besides the webpki roots
    /// (e.g. the CA that signed a local nginx's certificate).
    #[arg(long)]
    ca_file: Option<PathBuf>,
}

impl Args {
    /// What to trust over `wss://`: `None` (the webpki roots) without `--ca-file`.
    fn tls(&self) -> anyhow::Result<Option<ClientTls>> {
        self.ca_file
            .as_deref()
            .map(ClientTls::with_ca_file)
            .transpose()
            .map_err(anyhow::Error::from)
    }
}

fn parse_fleet(text: &str) -> Result<Fleet, String> {
    match text {
        "classic" => Ok(Fleet::Classic),
        "quick" => Ok(Fleet::Quick),
        _ => Err(format!("`{text}` is not a fleet: classic or quick")),
    }
}

/// Plays Battleship: no chaos, one line per game.
async fn battleship(args: &Args) -> anyhow::Result<()> {
    let config = BattleshipBotConfig {
        codec: args.codec,
        games: args.games,
        options: BattleshipOptions {
            size: args.size,
            fleet: args.fleet,
            turn_seconds: None,
        },
        timeout: Duration::from_secs(args.timeout.max(1)),
        tls: args.tls()?,
        ..BattleshipBotConfig::new(args.url.clone())
    };
    eprintln!("bot: connecting to {}, waiting for an opponent", args.url);
    let reports = play_battleship(&config)
        .await
        .map_err(|error| anyhow::anyhow!(words::explain(&error, &args.url)))?;
    let (mut wins, mut losses) = (0, 0);
    for r in &reports {
        let won = r.winner == Some(r.seat);
        (wins, losses) = if won {
            (wins + 1, losses)
        } else {
            (wins, losses + 1)
        };
        let how = match r.reason {
            EndReason::Win => "the whole fleet sunk",
            EndReason::TurnTimeout => "out of time",
            EndReason::Abandoned => "a player left",
            _ => "the room closed",
        };
        eprintln!(
            "bot: room {} seat {}: {} ({how}) after {} shots of ours, {} events",
            r.room_id,
            r.seat,
            if won { "won" } else { "lost" },
            r.shots,
            r.events.len()
        );
    }
    println!("games {}  wins {wins}  losses {losses}", reports.len());
    Ok(())
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
    if args.game == "battleship" {
        return battleship(&args).await;
    }
    let config = BotConfig {
        codec: args.codec,
        strategy: args.strategy,
        games: Some(args.games),
        chaos: args.chaos,
        backoff: Backoff::default(),
        timeout: Duration::from_secs(args.timeout.max(1)),
        tls: args.tls()?,
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
