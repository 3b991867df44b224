//! Fuzzes the WebSocket handshake check over arbitrary request heads.
//!
//! The body is `ticksync::fuzzing::handshake::upgrade_request`, which `cargo test` also replays over the
//! committed corpus. Run: `cargo fuzz run --sanitizer none handshake` (see ../README.md).

#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| ticksync::fuzzing::handshake::upgrade_request(data));
