//! Fuzzes ClientMsg decode with the MessagePack codec, then round trips.
//!
//! The body is `ticksync::fuzzing::codec::client_msg_msgpack`, which `cargo test` also replays over the
//! committed corpus. Run: `cargo fuzz run --sanitizer none client_msg_msgpack` (see ../README.md).

#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| ticksync::fuzzing::codec::client_msg_msgpack(data));
