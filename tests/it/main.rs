//! Integration tests: the real server on 127.0.0.1:0, real WebSocket clients, the real
//! protocol. One test binary, one link.

mod arena;
mod arena_load;
mod chat;
mod delta_property;
mod lifecycle;
mod load;
mod matchmaking;
mod node_suite;
mod private_rooms;
mod protocol_vectors;
mod reconnect;
mod robustness;
mod spectators;
// Shared helpers; not every test module uses every one of them.
#[allow(dead_code)]
mod support;
mod tictactoe_games;
mod web_client;
