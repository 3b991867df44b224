//! The bodies of the `cargo fuzz` targets in `fuzz/`, shared with the corpus replay test.
//!
//! Each function takes the fuzzer's raw bytes, drives one entry point that sees hostile
//! input, and panics only when an invariant breaks (a panic inside the server's own code is
//! a bug the fuzzer reports the same way). The `fuzz/` crate calls these from its
//! `fuzz_target!`s under libFuzzer; `tests/it/fuzz_corpus.rs` replays every committed corpus
//! file and crash case through the same functions on the stable toolchain, so `cargo test`
//! keeps every bug the fuzzer found fixed. fuzz/README.md says how to run them.
//!
//! - [`codec::client_msg`]: `ClientMsg` decode in either codec, then round trips.
//! - [`games::tictactoe`] and [`games::arena`]: a script of game inputs (raw and well
//!   formed), ticks, abandons and delta requests through the registry's [`DynGame`] path,
//!   checked against the rules after every step.
//! - [`handshake::upgrade_request`]: the WebSocket handshake check over arbitrary headers.
//!
//! Hidden from the documentation: it is test support, not part of the server's API.
//!
//! [`DynGame`]: crate::engine::DynGame

pub mod codec;
pub mod games;
pub mod handshake;
mod script;

/// A fuzz target's body: the fuzzer's bytes in, a panic when an invariant breaks.
pub type FuzzBody = fn(&[u8]);

/// Every fuzz target, by the name of its file in `fuzz/fuzz_targets/`, with its body.
/// The replay test walks this table, so a target added here is replayed automatically.
pub const TARGETS: [(&str, FuzzBody); 5] = [
    ("client_msg_bincode", codec::client_msg_bincode),
    ("client_msg_msgpack", codec::client_msg_msgpack),
    ("game_tictactoe", games::tictactoe),
    ("game_arena", games::arena),
    ("handshake", handshake::upgrade_request),
];
