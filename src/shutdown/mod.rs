//! Graceful shutdown: what SIGTERM and SIGINT do.
//!
//! The first signal starts a **drain** ([`crate::server::Server::drain`]):
//!
//! 1. the listener closes (new TCP connections are refused) and HTTP requests on open
//!    connections get 503; every open WebSocket connection is sent
//!    `ServerShutdown { retry_after_ms, drain_ms }`, exactly once;
//! 2. `FindMatch`, `CreateRoom` and `JoinRoom` are refused with `ShuttingDown` (80);
//! 3. connections that are in no room are closed with 1001; running games that end by
//!    their own rules (tic-tac-toe) go on, and every other room ends at once
//!    (`GameOver { winner: None, reason: ServerShutdown }` if it was running, then
//!    `RoomLeft`, then close 1001);
//! 4. as each remaining game ends, its members get `GameOver`, `RoomLeft` and close 1001;
//! 5. when no room is left, or after [`ShutdownConfig::drain_timeout`], the rooms still
//!    running end with `ServerShutdown`, every connection still open is closed with 1001,
//!    and the server waits at most [`CLOSE_GRACE`] for the close frames to be written
//!    (a client that does not read cannot hold the exit up), then stops.
//!
//! The binary exits 0 after a drain. A second signal during the drain exits at once with
//! 128 + the signal number (130 for SIGINT, 143 for SIGTERM). From the first signal to the
//! exit takes at most `drain_timeout` + [`END_GRACE`] + [`CLOSE_GRACE`] + one second for
//! the runtime to stop.

pub(crate) mod drain;
mod signals;

pub(crate) use drain::Drain;
pub use drain::DrainReport;
pub use signals::{Signal, Signals};

use std::time::Duration;

/// How long the rooms ended when the drain runs out have to send their last frames.
pub const END_GRACE: Duration = Duration::from_secs(1);

/// How long close frames have to be written once every room is gone.
pub const CLOSE_GRACE: Duration = Duration::from_secs(2);

/// Shutdown settings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ShutdownConfig {
    /// How long running turn-based games may go on after the first signal.
    pub drain_timeout: Duration,
    /// The reconnect hint sent in `ServerShutdown`.
    pub retry_after: Duration,
}

impl Default for ShutdownConfig {
    fn default() -> Self {
        ShutdownConfig {
            drain_timeout: Duration::from_secs(10),
            retry_after: Duration::from_secs(5),
        }
    }
}

/// Seconds as a decimal number, e.g. `10` or `0.5`.
fn seconds(text: &str) -> Result<Duration, String> {
    let value: f64 = text
        .parse()
        .map_err(|_| format!("`{text}` is not a number of seconds"))?;
    Duration::try_from_secs_f64(value).map_err(|e| format!("`{text}`: {e}"))
}

/// The `ticksync serve` options of this module.
#[derive(Debug, Clone, clap::Args)]
pub struct ShutdownArgs {
    /// Seconds running turn-based games may go on after SIGTERM or SIGINT before they are
    /// ended (reason `ServerShutdown`).
    #[arg(long, env = "TICKSYNC_DRAIN_TIMEOUT", default_value = "10", value_parser = seconds)]
    pub drain_timeout: Duration,
    /// Seconds clients are told to wait before reconnecting (`ServerShutdown.retry_after_ms`).
    #[arg(long, env = "TICKSYNC_SHUTDOWN_RETRY_AFTER", default_value = "5", value_parser = seconds)]
    pub shutdown_retry_after: Duration,
}

impl ShutdownArgs {
    /// The settings these options give.
    pub fn config(&self) -> ShutdownConfig {
        ShutdownConfig {
            drain_timeout: self.drain_timeout,
            retry_after: self.shutdown_retry_after,
        }
    }
}
