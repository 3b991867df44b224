//! Refusing settings that cannot work, with a sentence saying why, before anything starts.
//!
//! [`ServerConfig::validate`] runs in [`crate::server::Server::start`], so an embedder gets
//! the same refusal as `ticksync serve`. The messages name the command-line option.

use std::time::Duration;

use super::ServerConfig;

/// A setting that cannot work.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ConfigError {
    /// A duration that must be positive is zero.
    #[error("--{option} must be more than 0 seconds: {why}")]
    Zero {
        /// The option, without its dashes.
        option: &'static str,
        /// What the setting does, and so why zero breaks it.
        why: &'static str,
    },
    /// A duration setting is longer than [`MAX_DURATION`].
    #[error(
        "--{option} must be at most {max_days} days ({given:?} given): a setting this long \
         is not a timeout any more, and adding it to the clock could overflow; to keep \
         something for good, use a long but finite time"
    )]
    TooLong {
        /// The option, without its dashes.
        option: &'static str,
        /// What was given.
        given: Duration,
        /// [`MAX_DURATION`] in days.
        max_days: u64,
    },
    /// `MatchConfig::retry_interval` is zero (the embedding API: it has no flag).
    #[error(
        "matching.retry_interval must be more than 0: it is how often quick match retries \
         its queue, and the matchmaker cannot run a timer of period 0"
    )]
    ZeroRetry,
    /// `--shards` past [`MAX_SHARDS`].
    #[error(
        "--shards must be at most {max} ({0} given): each shard is a task with its own \
         timer; one per core (0, the default) is what the tick loop is made for"
    , max = MAX_SHARDS)]
    TooManyShards(usize),
    /// `--outbox-events 0`.
    #[error(
        "--outbox-events must be at least 1: it is how many reliable frames a connection \
         may have queued, and with 0 every connection would be closed as too slow (4003) \
         at its first message"
    )]
    NoOutbox,
    /// The idle timeout is shorter than two ping intervals.
    #[error(
        "--idle-timeout ({idle:?}) must be at least twice --ping-interval ({ping:?}): the \
         server's pings are what a quiet but healthy client answers, so with fewer than two \
         pings per idle timeout such clients are dropped as idle (close 4004)"
    )]
    IdleBeforePings {
        /// The idle timeout.
        idle: Duration,
        /// The ping interval.
        ping: Duration,
    },
    /// The admin token is unusable.
    #[error("{0}")]
    AdminToken(String),
    /// The cluster settings cannot work ([`crate::cluster::ClusterConfig::check`]).
    #[error("{0}")]
    Cluster(String),
    /// `--cluster` with an SQLite database: each node would keep its own file.
    #[error(
        "--cluster cannot use the SQLite database `{0}`: each node would keep its own file, \
         so match ids, ratings and history would split between the nodes; give every node \
         the same `--database postgres://...`, or `--database none` to keep no records"
    )]
    ClusterWithSqlite(String),
}

/// The longest any duration setting may be (a year): far beyond a sensible timeout or
/// grace period, and far below where adding it to the clock, or turning it into ticks,
/// would overflow (`Instant + Duration` panics on overflow, and every connection's tasks
/// add these to the clock).
pub const MAX_DURATION: Duration = Duration::from_secs(365 * 86_400);

/// The most tick shards a server runs (`--shards`).
pub const MAX_SHARDS: usize = 1024;

impl ServerConfig {
    /// Checks that these settings can work.
    ///
    /// # Errors
    /// The first [`ConfigError`] found.
    pub fn validate(&self) -> Result<(), ConfigError> {
        let positive = [
            (
                "ping-interval",
                self.ping_interval,
                "it is how often each client is pinged",
            ),
            (
                "idle-timeout",
                self.idle_timeout,
                "a connection silent this long is dropped, so 0 drops every connection",
            ),
            (
                "handshake-timeout",
                self.handshake_timeout,
                "every HTTP request and WebSocket handshake must complete within it",
            ),
            (
                "hello-timeout",
                self.hello_timeout,
                "every connection must send Hello within it",
            ),
            (
                "write-timeout",
                self.write_timeout,
                "a write stalled this long drops the connection",
            ),
        ];
        for (option, value, why) in positive {
            if value.is_zero() {
                return Err(ConfigError::Zero { option, why });
            }
        }
        let bounded = [
            ("ping-interval", self.ping_interval),
            ("idle-timeout", self.idle_timeout),
            ("handshake-timeout", self.handshake_timeout),
            ("hello-timeout", self.hello_timeout),
            ("write-timeout", self.write_timeout),
            ("reconnect-grace", self.reconnect_grace),
            ("log-summary", self.log_summary),
            (
                "bot-fill-after",
                self.matching.bot_fill_after.unwrap_or_default(),
            ),
            ("drain-timeout", self.shutdown.drain_timeout),
        ];
        for (option, given) in bounded {
            if given > MAX_DURATION {
                return Err(ConfigError::TooLong {
                    option,
                    given,
                    max_days: MAX_DURATION.as_secs() / 86_400,
                });
            }
        }
        if self.shards > MAX_SHARDS {
            return Err(ConfigError::TooManyShards(self.shards));
        }
        if self.matching.retry_interval.is_zero() {
            return Err(ConfigError::ZeroRetry);
        }
        if self.outbox_events == 0 {
            return Err(ConfigError::NoOutbox);
        }
        if self.idle_timeout < self.ping_interval.saturating_mul(2) {
            return Err(ConfigError::IdleBeforePings {
                idle: self.idle_timeout,
                ping: self.ping_interval,
            });
        }
        if let Some(cluster) = &self.cluster {
            cluster.check().map_err(ConfigError::Cluster)?;
            // A cluster shares one database or none: SQLite is one file per node.
            if let crate::storage::Database::Sqlite(path) = &self.storage.database {
                return Err(ConfigError::ClusterWithSqlite(path.display().to_string()));
            }
        }
        self.admin.validate().map_err(ConfigError::AdminToken)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_defaults_are_valid() {
        assert_eq!(ServerConfig::default().validate(), Ok(()));
    }

    #[test]
    fn settings_that_cannot_work_are_refused_with_the_option_and_the_reason() {
        let refused = |change: fn(&mut ServerConfig)| {
            let mut config = ServerConfig::default();
            change(&mut config);
            config.validate().expect_err("refused").to_string()
        };
        let message = refused(|c| c.ping_interval = Duration::ZERO);
        assert!(
            message.starts_with("--ping-interval must be more than 0"),
            "{message}"
        );
        let message = refused(|c| c.idle_timeout = Duration::ZERO);
        assert!(
            message.starts_with("--idle-timeout must be more than 0"),
            "{message}"
        );
        let message = refused(|c| c.hello_timeout = Duration::ZERO);
        assert!(message.starts_with("--hello-timeout"), "{message}");
        let message = refused(|c| c.outbox_events = 0);
        assert!(
            message.starts_with("--outbox-events must be at least 1"),
            "{message}"
        );
        let message = refused(|c| {
            c.ping_interval = Duration::from_secs(10);
            c.idle_timeout = Duration::from_secs(15);
        });
        assert!(message.contains("twice --ping-interval"), "{message}");
        assert!(
            message.contains("15s") && message.contains("10s"),
            "{message}"
        );
        // Past a year (`MAX_DURATION`), where `Instant + Duration` in every connection's
        // tasks could overflow and panic: refused at start, naming the flag.
        let message = refused(|c| c.idle_timeout = Duration::MAX);
        assert!(
            message.starts_with("--idle-timeout must be at most 365 days"),
            "{message}"
        );
        let message = refused(|c| c.hello_timeout = Duration::MAX);
        assert!(
            message.starts_with("--hello-timeout must be at most"),
            "{message}"
        );
        let message = refused(|c| c.reconnect_grace = MAX_DURATION + Duration::from_secs(1));
        assert!(message.starts_with("--reconnect-grace"), "{message}");
        let message = refused(|c| c.matching.bot_fill_after = Some(Duration::MAX));
        assert!(message.starts_with("--bot-fill-after"), "{message}");
        let message = refused(|c| c.shutdown.drain_timeout = Duration::MAX);
        assert!(message.starts_with("--drain-timeout"), "{message}");
        let message = refused(|c| c.matching.retry_interval = Duration::ZERO);
        assert!(
            message.contains("retry_interval must be more than 0"),
            "{message}"
        );
        let message = refused(|c| c.shards = usize::MAX);
        assert!(
            message.starts_with("--shards must be at most 1024"),
            "{message}"
        );
        let message = refused(|c| c.admin.token = Some("short".into()));
        assert!(message.contains("--admin-token"), "{message}");
    }

    #[test]
    fn a_year_exactly_is_allowed() {
        let config = ServerConfig {
            reconnect_grace: MAX_DURATION,
            idle_timeout: MAX_DURATION,
            ..ServerConfig::default()
        };
        assert_eq!(config.validate(), Ok(()));
    }

    #[test]
    fn an_idle_timeout_of_exactly_two_pings_is_enough() {
        let config = ServerConfig {
            ping_interval: Duration::from_secs(5),
            idle_timeout: Duration::from_secs(10),
            ..ServerConfig::default()
        };
        assert_eq!(config.validate(), Ok(()));
    }

    #[test]
    fn an_embedder_cluster_config_is_checked_too() {
        let mut cluster = crate::cluster::ClusterConfig::new(
            "redis://127.0.0.1:6379",
            "ws://127.0.0.1:7878/",
            b"sixteen bytes or more",
        )
        .unwrap();
        let good = ServerConfig {
            cluster: Some(cluster.clone()),
            ..ServerConfig::default()
        };
        assert_eq!(good.validate(), Ok(()));
        cluster.public_url = "http://a/".into();
        let bad = ServerConfig {
            cluster: Some(cluster),
            ..ServerConfig::default()
        };
        let message = bad.validate().unwrap_err().to_string();
        assert!(message.contains("--public-url"), "{message}");
    }

    #[test]
    fn a_cluster_refuses_sqlite_and_names_what_works() {
        use crate::storage::Database;
        let cluster = crate::cluster::ClusterConfig::new(
            "redis://127.0.0.1:6379",
            "ws://127.0.0.1:7878/",
            b"sixteen bytes or more",
        )
        .unwrap();
        let with = |database: Database| {
            let mut config = ServerConfig {
                cluster: Some(cluster.clone()),
                ..ServerConfig::default()
            };
            config.storage.database = database;
            config.validate()
        };
        let refused = with(Database::Sqlite("./ticksync.db".into()));
        assert_eq!(
            refused,
            Err(ConfigError::ClusterWithSqlite("./ticksync.db".into()))
        );
        let message = refused.unwrap_err().to_string();
        assert!(message.contains("--database postgres://"), "{message}");
        assert!(message.contains("--database none"), "{message}");
        assert_eq!(with(Database::None), Ok(()));
        assert_eq!(with(Database::Postgres("postgres://u@h/db".into())), Ok(()));
        // Without a cluster SQLite is the default and fine.
        let mut single = ServerConfig::default();
        single.storage.database = Database::Sqlite("./ticksync.db".into());
        assert_eq!(single.validate(), Ok(()));
    }
}
