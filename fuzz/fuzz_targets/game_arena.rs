//! Fuzzes arena input decode and apply through the registry, with deltas.
//!
//! The body is `ticksync::fuzzing::games::arena`, which `cargo test` also replays over the
//! committed corpus. Run: `cargo fuzz run --sanitizer none game_arena` (see ../README.md).

#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| ticksync::fuzzing::games::arena(data));
