//! ticksync: an authoritative multiplayer game state-sync server.
//!
//! Clients send inputs over binary WebSocket frames; a fixed-tick loop applies them to
//! authoritative game rooms and broadcasts compact snapshots. The layers, each ignorant of
//! the ones above it:
//!
//! - [`protocol`]: the wire messages, error codes and close codes. Data only.
//! - [`codec`]: bytes to messages and back (bincode, MessagePack), with decode limits.
//! - [`game`]: the [`game::Game`] trait (options, hooks, a [`game::Ctx`] with the tick, a
//!   seeded RNG and `emit`), the built-in games, lockstep relay as a game, and the bot
//!   strategies. Pure rules: no I/O, no clock. `examples/custom_game.rs` is a whole game.
//! - [`outbox`]: a connection's outgoing frames: a latest-wins state slot and a bounded
//!   event queue, filled by the tick loop and drained by the connection's writer.
//! - [`engine`]: shards that own rooms and tick them at a fixed rate, running the games of
//!   the [`engine::GameRegistry`] the embedder hands in (it names no game itself).
//! - [`replay`]: each game's log of inputs and ticks, written as the room plays it, and
//!   the check that re-runs a game from its log against the recorded state hashes.
//! - [`lobby`]: sessions and reconnects, the quick-match queue, private rooms, the directory.
//! - [`limits`]: what one connection may cost: message and byte rate limits, its share of
//!   a shard's inbox, room-code guessing; counted by reason.
//! - [`transport`]: the accept loop, HTTP endpoints (with the browser client at `/play`),
//!   the WebSocket handshake, and each connection's reader and writer.
//! - [`auth`] and [`security`]: player identity from signed tokens (JWT), name and text
//!   rules, and the edge settings (TLS, per-IP limits, allowed origins).
//! - [`server`] and [`config`]: wiring: [`server::run`], [`server::Server::start`],
//!   [`server::Server::start_with_games`] and [`server::builtin_games`].
//! - [`shutdown`]: the SIGTERM/SIGINT drain; [`metrics`]: `GET /metrics` for Prometheus;
//!   [`histogram`]: the microsecond histograms behind them and the load drivers' reports.
//! - [`cluster`]: several nodes made one service through Redis (`--cluster`): node
//!   registration with a TTL heartbeat, the global quick-match queue, signed single-use
//!   seat tickets for players redirected to the node that hosts their match.
//! - [`admin`]: the operator's token for `/monitor` and the `/admin/` endpoints.
//! - [`client`]: a Rust client of the protocol, the tic-tac-toe bots and the `ttt` load
//!   driver built on it (used by the examples and the load tests; the server never uses it).
//!
//! ARCHITECTURE.md has the codemap, the invariants and the path of one input from socket
//! to snapshot; PROTOCOL.md the wire format.

#![warn(missing_docs)]
#![warn(unreachable_pub)]

pub mod admin;
pub mod auth;
pub mod client;
pub mod cluster;
pub mod codec;
pub mod config;
pub mod engine;
#[doc(hidden)]
pub mod fuzzing;
pub mod game;
pub mod histogram;
pub mod limits;
pub mod lobby;
pub mod metrics;
pub mod outbox;
pub mod protocol;
pub mod replay;
pub mod security;
pub mod server;
pub mod shutdown;
mod side_wake;
pub mod storage;
pub mod transport;

/// README.md's Rust examples, compiled and run as doc tests so they stay true.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
pub struct ReadmeDoctests;
