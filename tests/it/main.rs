//! Integration tests: the real server on 127.0.0.1:0, real WebSocket clients, the real
//! protocol. One test binary, one link.

mod admin;
mod arena;
mod arena_load;
mod arena_unchecked;
mod auth;
mod battleship;
mod bot_redirect;
mod bots;
mod chat;
mod client_tls;
mod cluster;
mod cluster_directory;
mod cluster_kick;
mod cluster_load;
mod cluster_reserve;
mod cluster_resume;
mod cluster_script;
mod cluster_signin;
mod conformance;
mod conformance_wire;
mod custom_game;
mod delta_property;
mod deploy;
mod durability;
mod first_hour;
mod fuzz_corpus;
mod game_panic;
mod hostile;
mod ip_limits;
mod lifecycle;
mod limits;
mod load;
mod matchmaking;
mod metrics;
mod nginx;
mod node_suite;
mod payload_size;
mod private_rooms;
mod protocol_vectors;
mod python_client;
mod reconnect;
mod replay;
mod robustness;
mod shutdown;
mod spectators;
mod storage;
// Shared helpers; not every test module uses every one of them.
#[allow(dead_code)]
mod support;
mod tictactoe_games;
mod tls;
mod upgrade_path;
mod web_client;
