//! The `ticksync` command: parses arguments and runs the server. Nothing else lives here.

use std::time::Duration;

use anyhow::Context as _;
use clap::{Args, Parser, Subcommand, ValueEnum};
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
    Serve(ServeArgs),
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
    /// Tick shards (tasks that own rooms); 0 means one per core.
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
            ..ServerConfig::default()
        }
    }
}

fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    match cli.command {
        Command::Serve(args) => serve(args),
    }
}

fn serve(args: ServeArgs) -> anyhow::Result<()> {
    let filter = tracing_subscriber::EnvFilter::try_new(&args.log)
        .with_context(|| format!("bad --log filter `{}`", args.log))?;
    let logs = tracing_subscriber::fmt().with_env_filter(filter);
    match args.log_format {
        LogFormat::Text => logs.init(),
        LogFormat::Json => logs.json().init(),
    }
    let config = args.config();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("starting the tokio runtime")?;
    let result = runtime.block_on(async move {
        // Before binding: a signal from now on starts a drain instead of killing us.
        let mut signals = Signals::new().context("installing the SIGTERM/SIGINT handlers")?;
        let listener = tokio::net::TcpListener::bind(&args.addr)
            .await
            .with_context(|| format!("binding {}", args.addr))?;
        tracing::info!(
            tick_hz = config.effective_tick_hz(),
            shards = config.effective_shards(),
            "starting"
        );
        let drain_timeout = config.shutdown.drain_timeout;
        let server = ticksync::server::Server::start(listener, config)?;
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
