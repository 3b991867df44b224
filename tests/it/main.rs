//! Integration tests: the real server on 127.0.0.1:0, real WebSocket clients, the real
//! protocol. One test binary, one link.

mod chat;
mod lifecycle;
mod matchmaking;
mod private_rooms;
mod protocol_vectors;
mod reconnect;
mod robustness;
mod spectators;
mod support;
mod tictactoe_games;
