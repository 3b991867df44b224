//! Fuzzes tic-tac-toe input decode and apply through the registry.
//!
//! The body is `ticksync::fuzzing::games::tictactoe`, which `cargo test` also replays over the
//! committed corpus. Run: `cargo fuzz run --sanitizer none game_tictactoe` (see ../README.md).

#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| ticksync::fuzzing::games::tictactoe(data));
