//! A Rust client for ticksync, and the tic-tac-toe, arena and Battleship bots built on it.
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
//! - [`ArenaMirror`]: an arena room's recent states rebuilt from `Snapshot`s and `Delta`s
//!   in a bounded ring, as PROTOCOL.md asks a client to keep them. Pure.
//! - [`Predictor`] and [`TickClock`]: client-side prediction of the client's own arena
//!   player, checked and reconciled against every state. Pure.
//! - [`ArenaBot`]: an arena player's loop (20 Hz inputs, a new direction every 500 ms,
//!   acknowledgements, input latency, prediction checks), counting into an
//!   [`ArenaRecorder`] inside a [`LiveWindow`]; with checks off, a lighter loop that reads
//!   states by their envelope alone ([`read_state_envelope`]: pure).
//! - [`ArenaLoad`]: the `arena` workload of WORKLOADS.md.
//! - [`play_battleship`]: a Battleship player's loop (quick match, hunt-and-target shots,
//!   the ending checked against the last view and the game's events).
//! - [`flood`](fn@flood): a client that sends `Ack`s as fast as asked (100,000 per second) until the
//!   server closes it, for checking the server's rate limits.
//!
//! - [`ClientTls`]: what a client trusts over `wss://` (the webpki roots, plus a CA file of
//!   one's own); every connecting function has a `_with` form taking one, and every bot
//!   and load config a `tls` field.
//!
//! Errors are [`ClientError`]; [`words`] says codes and errors in words for people. The pure move choosers live with the rules, in
//! [`crate::game::tictactoe_ai`].

mod arena_bot;
mod arena_load;
mod arena_stats;
mod backoff;
mod battleship_bot;
mod bot;
mod connection;
mod error;
mod flood;
mod load;
mod mirror;
mod outcome;
mod pool;
mod predict;
mod stats;
mod tls;
pub mod words;

pub use crate::codec::envelope::{StateEnvelope, put_input, read_state_envelope};
pub use arena_bot::{ARENA, ArenaBot, ArenaBotConfig, HOLD_INPUTS, INPUT_PERIOD};
pub use arena_load::{ArenaLoad, ArenaLoadConfig};
pub use arena_stats::{ArenaCounts, ArenaRecorder, ArenaTally, LiveWindow, frame_header_bytes};
pub use backoff::Backoff;
pub use battleship_bot::{BattleshipBotConfig, BattleshipReport, play_battleship};
pub use bot::{Bot, BotConfig, BotStatus, GAME};
pub use connection::{Connection, Resume, Welcome};
pub use error::ClientError;
pub use flood::{FloodConfig, FloodOutcome, flood};
pub use load::{Load, LoadConfig};
pub use mirror::{Applied, ArenaMirror, MirrorError, StateKind};
pub use outcome::{Verdict, check_outcome};
pub use predict::{Check, PredictionError, Predictor, TickClock};
pub use stats::{GameResult, Recorder, Tally, Window};
pub use tls::{CaFileError, ClientTls, MAX_CA_FILE_BYTES};
