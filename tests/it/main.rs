//! Integration tests: the real server on 127.0.0.1:0, real WebSocket clients, the real
//! protocol. One test binary, one link.

mod arena;
mod arena_load;
mod load;
mod protocol_vectors;
// Shared helpers; not every test module uses every one of them.
#[allow(dead_code)]
mod support;
mod tictactoe_games;
