//! Test support: an in-process server on 127.0.0.1:0, a real WebSocket client, a raw HTTP
//! request, tic-tac-toe play helpers, and a private `redis-server` for the cluster tests.
//!
//! Every wait is on an event with a deadline ([`WAIT`], counted once per wait however many
//! other frames arrive meanwhile); nothing sleeps to synchronise. The loops that poll
//! ([`wait_until`], [`Client::listed_room`]) poll server state and end as soon as the
//! condition holds; [`Client::ping_until_closed`] only paces its pings.

mod client;
mod edge;
mod games;
mod http;
mod raw;
mod redis_server;

pub use client::*;
pub use edge::*;
pub use games::*;
pub use http::*;
pub use raw::*;
pub use redis_server::*;

use std::time::Duration;

use anyhow::{Context, Result, bail};
use ticksync::config::ServerConfig;
use ticksync::server::{Server, Stats};
use tokio::net::TcpListener;
use tokio::time::Instant;

/// The longest any test waits for one expected event. Generous: CI machines are loaded.
pub const WAIT: Duration = Duration::from_secs(20);

/// The game every test plays.
pub const TICTACTOE: &str = "tictactoe";

/// A server config for tests: the defaults, with a fast tick and no per-IP limits (tests
/// run many clients from 127.0.0.1; `tests/it/edge.rs` tests the limits).
/// `msg` as the server sends it ([`ticksync::transport::ws_frame::server_frame`]).
pub fn as_sent(codec: ticksync::codec::Codec, msg: &ticksync::protocol::ServerMsg) -> bytes::Bytes {
    ticksync::transport::ws_frame::server_frame(codec, msg).expect("protocol messages encode")
}

pub fn test_config() -> ServerConfig {
    let mut config = ServerConfig {
        tick_hz: 60,
        shards: 2,
        ..ServerConfig::default()
    };
    config.security.guard = ticksync::transport::guard::GuardConfig::unlimited();
    // Every test client comes from 127.0.0.1: the per-address budget of room-code
    // lookups is lifted like the other per-IP limits (tests/it/limits.rs sets it).
    config.limits.ip_code_lookup_burst = 1_000_000;
    config
}

/// Starts a server on an ephemeral loopback port.
pub async fn start(config: ServerConfig) -> Server {
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    Server::start(listener, config).expect("server starts")
}

/// Waits until `server`'s counters satisfy `done`, polling them (not sleeping to
/// synchronise: the loop ends as soon as the condition holds). Returns the counters seen.
pub async fn wait_until(server: &Server, done: impl Fn(&Stats) -> bool) -> Result<Stats> {
    let deadline = Instant::now() + WAIT;
    loop {
        let stats = server.stats();
        if done(&stats) {
            return Ok(stats);
        }
        if Instant::now() > deadline {
            bail!("stats stayed at {stats:?}");
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// Waits until `server`'s counters equal `expected`.
pub async fn wait_for_stats(server: &Server, expected: Stats) -> Result<()> {
    wait_until(server, |stats| *stats == expected)
        .await
        .with_context(|| format!("expected {expected:?}"))?;
    Ok(())
}
