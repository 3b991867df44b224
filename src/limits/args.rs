//! The `ticksync serve` options for the abuse limits (flattened into its arguments).

use std::time::Duration;

use clap::Args;

use super::LimitsConfig;

/// Seconds as a decimal number, e.g. `5` or `0.5`.
fn seconds(text: &str) -> Result<Duration, String> {
    let value: f64 = text
        .parse()
        .map_err(|_| format!("`{text}` is not a number of seconds"))?;
    Duration::try_from_secs_f64(value).map_err(|e| format!("`{text}`: {e}"))
}

/// Abuse limits; see PROTOCOL.md, "Abuse limits". Every default leaves legitimate
/// clients alone.
#[derive(Debug, Clone, Args)]
pub struct LimitsArgs {
    /// Messages per second one connection may send, sustained (pings included).
    #[arg(long, env = "TICKSYNC_CONN_MESSAGES_PER_SECOND", default_value_t = 200)]
    pub conn_messages_per_second: u32,
    /// Messages one connection may send in a burst.
    #[arg(long, env = "TICKSYNC_CONN_MESSAGE_BURST", default_value_t = 400)]
    pub conn_message_burst: u32,
    /// Payload bytes per second one connection may send, sustained.
    #[arg(
        long,
        env = "TICKSYNC_CONN_BYTES_PER_SECOND",
        default_value_t = 262_144
    )]
    pub conn_bytes_per_second: u32,
    /// Payload bytes one connection may send in a burst (at least 16384).
    #[arg(long, env = "TICKSYNC_CONN_BYTE_BURST", default_value_t = 65_536)]
    pub conn_byte_burst: u32,
    /// Dropped messages tolerated in a burst before closing the connection with 1008.
    #[arg(long, env = "TICKSYNC_FLOOD_DROP_BURST", default_value_t = 400)]
    pub flood_drop_burst: u32,
    /// Dropped messages tolerated per second, sustained.
    #[arg(long, env = "TICKSYNC_FLOOD_DROPS_PER_SECOND", default_value_t = 40)]
    pub flood_drops_per_second: u32,
    /// Most game inputs of one connection waiting in its shard's inbox.
    #[arg(long, env = "TICKSYNC_INBOX_SHARE", default_value_t = 64)]
    pub inbox_share: u32,
    /// Failed room-code attempts per connection before closing it with 4020.
    #[arg(long, env = "TICKSYNC_MAX_CODE_FAILURES", default_value_t = 20)]
    pub max_code_failures: u32,
    /// `JoinRoom` lookups one client address may make at once, over all its connections.
    #[arg(long, env = "TICKSYNC_IP_CODE_LOOKUP_BURST", default_value_t = 30)]
    pub ip_code_lookup_burst: u32,
    /// `JoinRoom` lookups per minute one client address may make after the burst.
    #[arg(
        long,
        env = "TICKSYNC_IP_CODE_LOOKUPS_PER_MINUTE",
        default_value_t = 10
    )]
    pub ip_code_lookups_per_minute: u32,
    /// `GET /rooms` requests per second, server-wide; more get HTTP 429.
    #[arg(long, env = "TICKSYNC_HTTP_ROOMS_PER_SECOND", default_value_t = 50)]
    pub http_rooms_per_second: u32,
    /// Seconds a client's latest state may stay unwritten before it is closed with 4003.
    #[arg(long, env = "TICKSYNC_SLOW_READER_TIMEOUT", default_value = "5", value_parser = seconds)]
    pub slow_reader_timeout: Duration,
}

impl LimitsArgs {
    /// The limits these options describe; the rest keep their defaults.
    pub fn config(&self) -> LimitsConfig {
        LimitsConfig {
            messages_per_second: self.conn_messages_per_second,
            message_burst: self.conn_message_burst,
            bytes_per_second: self.conn_bytes_per_second,
            byte_burst: self.conn_byte_burst,
            flood_drop_burst: self.flood_drop_burst,
            flood_drops_per_second: self.flood_drops_per_second,
            inbox_share: self.inbox_share,
            max_code_failures: self.max_code_failures,
            ip_code_lookup_burst: self.ip_code_lookup_burst,
            ip_code_lookups_per_minute: self.ip_code_lookups_per_minute,
            http_rooms_per_second: self.http_rooms_per_second,
            slow_reader_timeout: self.slow_reader_timeout,
            ..LimitsConfig::default()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Parser;

    #[derive(Parser)]
    struct Cli {
        #[command(flatten)]
        limits: LimitsArgs,
    }

    #[test]
    fn the_option_defaults_are_the_config_defaults() {
        let cli = Cli::try_parse_from(["ticksync"]).unwrap();
        assert_eq!(cli.limits.config(), LimitsConfig::default());
    }
}
