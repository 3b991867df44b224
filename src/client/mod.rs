//! A Rust client for ticksync, and the tic-tac-toe bots built on it.
//!
//! Used by `examples/bot.rs`, `examples/loadgen.rs` and the load tests, which run the same
//! code in-process against a server on port 0. The parts:
//!
//! - [`Connection`]: one WebSocket with one codec: `Hello`/resume, typed send and receive,
//!   every wait bounded by a timeout, a 1000 close or an abrupt drop.
//! - [`Bot`]: a player's loop: quick match, play with a
//!   [`Strategy`](crate::game::tictactoe_ai::Strategy), check the ending, queue again;
//!   optionally dropping its connection at random and resuming ("chaos").
//! - [`check_outcome`]: whether a game's `GameOver` matches its final board. Pure.
//! - [`Recorder`] and [`Tally`]: what bots count, inside a measurement [`Window`].
//! - [`Load`]: the `ttt` workload of WORKLOADS.md: many bots, bounded joins, a deadline.
//!
//! Errors are [`ClientError`]. The pure move choosers live with the rules, in
//! [`crate::game::tictactoe_ai`].

mod backoff;
mod bot;
mod connection;
mod error;
mod load;
mod outcome;
mod stats;

pub use backoff::Backoff;
pub use bot::{Bot, BotConfig, GAME};
pub use connection::{Connection, Resume, Welcome};
pub use error::ClientError;
pub use load::{Load, LoadConfig};
pub use outcome::{Verdict, check_outcome};
pub use stats::{GameResult, Recorder, Tally, Window};
