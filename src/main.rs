//! The `ticksync` command: parses arguments and runs the server. Nothing else lives here.

use std::time::Duration;

use anyhow::Context as _;
use clap::parser::ValueSource;
use clap::{Args, CommandFactory, FromArgMatches, Parser, Subcommand, ValueEnum};
use ticksync::config::ServerConfig;
use ticksync::limits::LimitsArgs;
use ticksync::shutdown::{ShutdownArgs, Signals};

/// ticksync: an authoritative multiplayer game state-sync server.
#[derive(Debug, Parser)]
#[command(version, about, long_about = None)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Run the game server (WebSocket and HTTP on one port).
    Serve(Box<ServeArgs>),
    /// Re-run a game from its replay file and check every recorded state hash; prints the
    /// outcome, or exits non-zero naming the first tick that differs.
    Replay(ticksync::replay::ReplayFileArgs),
}

/// Seconds as a decimal number, e.g. `20` or `0.5`.
fn seconds(text: &str) -> Result<Duration, String> {
    let value: f64 = text
        .parse()
        .map_err(|_| format!("`{text}` is not a number of seconds"))?;
    Duration::try_from_secs_f64(value).map_err(|e| format!("`{text}`: {e}"))
}

#[derive(Debug, Args)]
struct ServeArgs {
    /// Address to listen on (WebSocket, /healthz and /rooms).
    #[arg(long, env = "TICKSYNC_ADDR", default_value = "127.0.0.1:7878")]
    addr: String,
    /// Ticks per second, 1 to 128.
    #[arg(long, env = "TICKSYNC_TICK_HZ", default_value_t = 30,
          value_parser = clap::value_parser!(u16).range(1..=128))]
    tick_hz: u16,
    /// Tick shards (tasks that own rooms), at most 1024; 0 means one per core.
    #[arg(long, env = "TICKSYNC_SHARDS", default_value_t = 0)]
    shards: usize,
    /// Seconds between WebSocket pings to each client.
    #[arg(long, env = "TICKSYNC_PING_INTERVAL", default_value = "10", value_parser = seconds)]
    ping_interval: Duration,
    /// Seconds of silence after which a connection is dropped.
    #[arg(long, env = "TICKSYNC_IDLE_TIMEOUT", default_value = "30", value_parser = seconds)]
    idle_timeout: Duration,
    /// Seconds a TCP connection has to complete its WebSocket handshake.
    #[arg(long, env = "TICKSYNC_HANDSHAKE_TIMEOUT", default_value = "5", value_parser = seconds)]
    handshake_timeout: Duration,
    /// Seconds a new connection has to send Hello.
    #[arg(long, env = "TICKSYNC_HELLO_TIMEOUT", default_value = "5", value_parser = seconds)]
    hello_timeout: Duration,
    /// Seconds a disconnected player's seat and session are held for a reconnect.
    #[arg(long, env = "TICKSYNC_RECONNECT_GRACE", default_value = "20", value_parser = seconds)]
    reconnect_grace: Duration,
    /// Most concurrent WebSocket connections; more get HTTP 503.
    #[arg(long, env = "TICKSYNC_MAX_CONNECTIONS", default_value_t = 100_000)]
    max_connections: usize,
    /// Reliable frames queued per connection before it is closed as too slow (4003).
    #[arg(long, env = "TICKSYNC_OUTBOX_EVENTS", default_value_t = 1024)]
    outbox_events: usize,
    /// Log filter (tracing-subscriber EnvFilter syntax), e.g. `info` or `ticksync=debug`.
    #[arg(long, env = "TICKSYNC_LOG", default_value = "info")]
    log: String,
    #[command(flatten)]
    security: ticksync::security::SecurityArgs,
    #[command(flatten)]
    limits: LimitsArgs,
    /// Log lines as human-readable text or as one JSON object per line.
    #[arg(long, env = "TICKSYNC_LOG_FORMAT", value_enum, default_value_t = LogFormat::Text)]
    log_format: LogFormat,
    #[command(flatten)]
    shutdown: ShutdownArgs,
    /// Seconds between summary lines in the log (connections, rooms, games finished); 0 for none.
    #[arg(long, env = "TICKSYNC_LOG_SUMMARY", default_value = "60", value_parser = seconds)]
    log_summary: Duration,
    /// Turns on the room monitor at /monitor and the /admin/ endpoints, which require this
    /// token as `Authorization: Bearer TOKEN` (16 characters or more). Off when unset.
    #[arg(long, env = "TICKSYNC_ADMIN_TOKEN", hide_env_values = true)]
    admin_token: Option<String>,
    #[command(flatten)]
    replay: ticksync::replay::ReplayArgs,
    #[command(flatten)]
    cluster: ticksync::cluster::ClusterArgs,
    /// Where results (players, ratings, match history, replays) are kept:
    /// `sqlite://PATH` (created if missing), `postgres://USER:PASSWORD@HOST/DB`, or `none`
    /// to keep nothing.
    #[arg(long, env = "TICKSYNC_DATABASE", hide_env_values = true,
          default_value = "sqlite://./ticksync.db", value_parser = database)]
    database: ticksync::storage::Database,
    /// Finished games waiting to be written before new ones are dropped (see /metrics
    /// ticksync_storage_dropped_total).
    #[arg(long, env = "TICKSYNC_DATABASE_QUEUE", default_value_t = ticksync::storage::DEFAULT_QUEUE)]
    database_queue: usize,
    /// Milliseconds the results writer gathers finished games into one transaction (at
    /// most 10000). More costs less CPU per game; a player's `RatingChanged` comes up to
    /// this long after the game ends.
    #[arg(long, env = "TICKSYNC_DATABASE_GATHER_MS",
          default_value_t = ticksync::storage::DEFAULT_GATHER.as_millis() as u64,
          value_parser = clap::value_parser!(u64)
              .range(0..=ticksync::storage::MAX_GATHER.as_millis() as u64))]
    database_gather_ms: u64,
    /// Seconds a lone player waits in quick match before server bots fill the other seats
    /// of its room (games with a bot: tic-tac-toe). Off when not given. Games with a bot
    /// are unranked.
    #[arg(long, env = "TICKSYNC_BOT_FILL_AFTER", value_parser = seconds)]
    bot_fill_after: Option<Duration>,
    /// How server bots play: `random` or `perfect` (tic-tac-toe: any free cell / never
    /// loses; Battleship: a random untried cell / hunting around its hits).
    #[arg(long, env = "TICKSYNC_BOT_STRATEGY", default_value = "random", value_parser = bot_strategy)]
    bot_strategy: String,
    /// Days a guest (a player without a token) is kept after its last game; then its rating
    /// is deleted and its seats in match history are shown as "a guest". 0 keeps guests.
    #[arg(long, env = "TICKSYNC_GUEST_RETENTION_DAYS", default_value_t = 30)]
    guest_retention_days: u32,
}

/// A `--bot-strategy` value: one the built-in games' bots know.
fn bot_strategy(text: &str) -> Result<String, String> {
    text.parse::<ticksync::game::tictactoe_ai::Strategy>()?;
    Ok(text.to_string())
}

/// A `--database` value.
fn database(text: &str) -> Result<ticksync::storage::Database, String> {
    text.parse()
        .map_err(|e: ticksync::storage::StorageError| e.to_string())
}

/// How log lines are written.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum LogFormat {
    /// Human-readable text.
    Text,
    /// One JSON object per line (for log collectors).
    Json,
}

impl ServeArgs {
    fn config(&self) -> ServerConfig {
        ServerConfig {
            tick_hz: self.tick_hz,
            shards: self.shards,
            ping_interval: self.ping_interval,
            idle_timeout: self.idle_timeout,
            handshake_timeout: self.handshake_timeout,
            hello_timeout: self.hello_timeout,
            reconnect_grace: self.reconnect_grace,
            max_connections: self.max_connections,
            outbox_events: self.outbox_events,
            security: self.security.config(),
            limits: self.limits.config(),
            shutdown: self.shutdown.config(),
            log_summary: self.log_summary,
            admin: ticksync::admin::AdminConfig {
                token: self.admin_token.clone(),
            },
            replay: self.replay.config(),
            storage: ticksync::storage::StorageConfig {
                database: self.database.clone(),
                queue: self.database_queue,
                gather: std::time::Duration::from_millis(self.database_gather_ms),
                guest_retention: (self.guest_retention_days > 0).then(|| {
                    std::time::Duration::from_secs(u64::from(self.guest_retention_days) * 86_400)
                }),
            },
            matching: ticksync::lobby::MatchConfig {
                bot_fill_after: self.bot_fill_after,
                bot_strategy: self.bot_strategy.clone(),
                ..ticksync::lobby::MatchConfig::default()
            },
            ..ServerConfig::default()
        }
    }
}

fn main() -> anyhow::Result<()> {
    let matches = Cli::command().get_matches();
    let cli = Cli::from_arg_matches(&matches).unwrap_or_else(|error| error.exit());
    match cli.command {
        Command::Serve(args) => {
            let from_env = matches
                .subcommand_matches("serve")
                .and_then(|serve| serve.value_source("addr"))
                == Some(ValueSource::EnvVariable);
            serve(*args, from_env)
        }
        Command::Replay(args) => {
            let (bytes, name) = replay_bytes(&args)?;
            let registry = ticksync::server::builtin_games();
            let verified = ticksync::replay::verify(&bytes, &registry)
                .with_context(|| format!("{name} does not verify"))?;
            println!("{verified}");
            Ok(())
        }
    }
}

/// The replay `ticksync replay` checks: a file's bytes, or a stored match's. Returns them
/// with how to name them in messages.
fn replay_bytes(args: &ticksync::replay::ReplayFileArgs) -> anyhow::Result<(Vec<u8>, String)> {
    if let Some(file) = &args.file {
        let bytes =
            std::fs::read(file).with_context(|| format!("cannot read {}", file.display()))?;
        return Ok((bytes, file.display().to_string()));
    }
    let id = args.match_id.context("give a replay FILE or --match ID")?;
    let database: ticksync::storage::Database = args
        .database
        .parse()
        .map_err(|e: ticksync::storage::StorageError| anyhow::anyhow!("--database: {e}"))?;
    if matches!(database, ticksync::storage::Database::None) {
        anyhow::bail!("--match needs a database (--database sqlite://PATH or postgres://...)");
    }
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    let config = ticksync::storage::StorageConfig {
        database,
        ..ticksync::storage::StorageConfig::default()
    };
    let bytes = runtime.block_on(async {
        let storage = ticksync::storage::Storage::open(&config).await?;
        storage.replay(id).await
    })?;
    let bytes = bytes.with_context(|| format!("match {id} has no stored replay"))?;
    Ok((bytes, format!("match {id}")))
}

/// Checks that `addr` has the `HOST:PORT` form (`[v6]:PORT` for IPv6), before resolving.
fn check_addr(addr: &str) -> Result<(), &'static str> {
    let Some((host, port)) = addr.rsplit_once(':') else {
        return Err("there is no `:PORT`");
    };
    if host.is_empty() {
        return Err("the HOST before `:` is empty");
    }
    if host.contains(':') && !(host.starts_with('[') && host.ends_with(']')) {
        return Err("an IPv6 HOST goes in brackets, e.g. [::1]:7878");
    }
    match port.parse::<u16>() {
        Ok(_) => Ok(()),
        Err(_) => Err("the PORT after `:` is not a number from 0 to 65535"),
    }
}

fn serve(args: ServeArgs, addr_from_env: bool) -> anyhow::Result<()> {
    let source = if addr_from_env {
        "from the environment variable TICKSYNC_ADDR"
    } else {
        "from --addr"
    };
    if let Err(why) = check_addr(&args.addr) {
        anyhow::bail!(
            "cannot listen on `{}` ({source}): {why}; expected HOST:PORT, \
             e.g. 127.0.0.1:7878, or 0.0.0.0:7878 for every interface",
            args.addr
        );
    }
    let mut config = args.config();
    config.cluster = args.cluster.config().map_err(anyhow::Error::msg)?;
    config.validate()?;
    let filter = tracing_subscriber::EnvFilter::try_new(&args.log)
        .with_context(|| format!("bad --log filter `{}`", args.log))?;
    // Colour only for a person at a terminal: not in files, pipes or journald.
    let ansi = std::io::IsTerminal::is_terminal(&std::io::stdout())
        && std::env::var_os("NO_COLOR").is_none();
    let logs = tracing_subscriber::fmt().with_env_filter(filter);
    match args.log_format {
        LogFormat::Text => logs.with_ansi(ansi).init(),
        LogFormat::Json => logs.json().with_ansi(false).init(),
    }
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("starting the tokio runtime")?;
    let result = runtime.block_on(async move {
        // Before binding: a signal from now on starts a drain instead of killing us.
        let mut signals = Signals::new().context("installing the SIGTERM/SIGINT handlers")?;
        let listener = tokio::net::TcpListener::bind(&args.addr)
            .await
            .with_context(|| format!("cannot listen on `{}` ({source})", args.addr))?;
        let drain_timeout = config.shutdown.drain_timeout;
        // The games this binary offers: the built-in ones. An embedder builds its own
        // registry (see examples/custom_game.rs).
        let games = ticksync::server::builtin_games();
        let server = ticksync::server::Server::open_with_games(listener, config, games).await?;
        let signal = signals.recv().await;
        tracing::info!(
            ?signal,
            "shutting down: draining (a second signal stops at once)"
        );
        tokio::select! {
            _ = server.drain(drain_timeout) => Ok(()),
            signal = signals.recv() => {
                tracing::warn!(?signal, "second signal: exiting now");
                std::process::exit(signal.exit_code());
            }
        }
    });
    // Tasks left after the drain's close grace (a client that never read) must not hold
    // the exit up.
    runtime.shutdown_timeout(Duration::from_secs(1));
    result
}

#[cfg(test)]
mod tests {
    use super::check_addr;

    #[test]
    fn addresses_need_host_and_port() {
        for good in ["127.0.0.1:7878", "0.0.0.0:0", "localhost:80", "[::1]:7878"] {
            assert_eq!(check_addr(good), Ok(()), "{good}");
        }
        for bad in [
            "7878",
            ":7878",
            "127.0.0.1",
            "127.0.0.1:http",
            "::1:7878",
            "a:70000",
        ] {
            assert!(check_addr(bad).is_err(), "{bad}");
        }
    }
}
