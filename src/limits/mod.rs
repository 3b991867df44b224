//! Abuse limits: what one connection may cost the server, and what happens past it.
//!
//! Every limit here sits in a connection's reader, **before** anything reaches the lobby or
//! a shard's inbox, so a flooding client spends only its own reader's time:
//!
//! - [`ConnLimiter`]: token buckets (the `governor` crate's GCRA) on messages per second
//!   and bytes per second. A message over either limit is dropped undecoded and counted; a
//!   connection that keeps going past [`LimitsConfig::flood_drop_burst`] drops (refilled at
//!   [`LimitsConfig::flood_drops_per_second`]) is closed with 1008.
//! - [`InboxShares`]: each connection's fair share of its shard's inbox: at most
//!   [`LimitsConfig::inbox_share`] of its game inputs wait there at once.
//! - [`CodeGuard`]: failed private-room code attempts per connection, rate-limited and
//!   capped (close 4020); with 8-character codes a guess is hopeless at these limits.
//! - Room directory requests: `ListRooms` per connection, `GET /rooms` server-wide.
//!
//! [`LimitCounters`] counts every limit hit by reason, as plain atomics.

mod args;
mod code_guard;
mod conn;
mod counters;
mod inbox;
mod ip_codes;

pub use args::LimitsArgs;
pub use code_guard::{CodeGuard, Guess};
pub use conn::{Admit, ConnLimiter, bucket};
pub use counters::{CounterRow, LimitCounters, LimitReason};
pub use inbox::{InboxShare, InboxShares};
pub use ip_codes::IpCodeLimiter;

use std::time::Duration;

/// Every abuse limit, with defaults that a legitimate client never meets: an arena player
/// sends about 20 inputs, up to 10 acknowledgements and a ping per second (about 31
/// messages, under 2 KB); a relay player at most 2 inputs per tick of up to 512 bytes
/// (60 messages and 31 KB per second at 30 Hz).
#[derive(Debug, Clone, PartialEq)]
pub struct LimitsConfig {
    /// Messages per second one connection may send, sustained (every WebSocket message
    /// counts, pings included).
    pub messages_per_second: u32,
    /// Messages one connection may send at once.
    pub message_burst: u32,
    /// Payload bytes per second one connection may send, sustained.
    pub bytes_per_second: u32,
    /// Payload bytes one connection may send at once (at least one maximum-size message).
    pub byte_burst: u32,
    /// Dropped messages tolerated at once before the connection is closed with 1008.
    pub flood_drop_burst: u32,
    /// Dropped messages tolerated per second, sustained.
    pub flood_drops_per_second: u32,
    /// Most game inputs of one connection waiting in its shard's inbox at once.
    pub inbox_share: u32,
    /// Failed room-code attempts a connection may make at once.
    pub code_failure_burst: u32,
    /// Failed room-code attempts per minute after the burst.
    pub code_failures_per_minute: u32,
    /// Failed room-code attempts after which the connection is closed with 4020.
    pub max_code_failures: u32,
    /// `JoinRoom` lookups one client address may make at once, over all its connections.
    pub ip_code_lookup_burst: u32,
    /// `JoinRoom` lookups per minute one client address may make after the burst.
    pub ip_code_lookups_per_minute: u32,
    /// `ListRooms`/`ListRoomsAfter` requests a connection may make at once.
    pub list_rooms_burst: u32,
    /// `ListRooms`/`ListRoomsAfter` requests per second per connection, sustained.
    pub list_rooms_per_second: u32,
    /// `GET /rooms` requests the whole server answers at once.
    pub http_rooms_burst: u32,
    /// `GET /rooms` requests per second the whole server answers, sustained; more get 429.
    pub http_rooms_per_second: u32,
    /// A latest-wins state whose write has not completed for this long marks a client
    /// that is not reading: it is closed with 4003.
    pub slow_reader_timeout: Duration,
    /// At shutdown, and after a stalled write, the close frame gets this long to go out.
    pub close_timeout: Duration,
    /// The kernel send buffer of each accepted socket (`SO_SNDBUF`), so that a client that
    /// stops reading stalls the server's writes after this much instead of megabytes.
    pub send_buffer_bytes: u32,
}

impl Default for LimitsConfig {
    fn default() -> Self {
        LimitsConfig {
            messages_per_second: 200,
            message_burst: 400,
            bytes_per_second: 256 * 1024,
            byte_burst: 64 * 1024,
            flood_drop_burst: 400,
            flood_drops_per_second: 40,
            inbox_share: 64,
            code_failure_burst: 5,
            code_failures_per_minute: 6,
            max_code_failures: 20,
            ip_code_lookup_burst: 30,
            ip_code_lookups_per_minute: 10,
            list_rooms_burst: 5,
            list_rooms_per_second: 1,
            http_rooms_burst: 100,
            http_rooms_per_second: 50,
            slow_reader_timeout: Duration::from_secs(5),
            close_timeout: Duration::from_secs(1),
            send_buffer_bytes: 64 * 1024,
        }
    }
}
