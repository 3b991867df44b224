//! Server configuration: every knob `ticksync serve` exposes, with production defaults.

mod check;

use std::time::Duration;

use crate::engine::EngineConfig;
use crate::limits::LimitsConfig;
use crate::lobby::{LobbyConfig, MatchConfig};
use crate::protocol::RoomId;
use crate::shutdown::ShutdownConfig;
pub use check::{ConfigError, MAX_DURATION, MAX_SHARDS};

/// Everything [`crate::server::Server::start`] needs to know.
#[derive(Debug, Clone)]
pub struct ServerConfig {
    /// Ticks per second (1 to 128).
    pub tick_hz: u16,
    /// Tick shards; 0 means one per available core.
    pub shards: usize,
    /// Interval between WebSocket pings to each client.
    pub ping_interval: Duration,
    /// A connection that sends nothing (not even a pong) for this long is dropped.
    pub idle_timeout: Duration,
    /// A TCP connection must complete its HTTP request (the WebSocket handshake) this fast.
    pub handshake_timeout: Duration,
    /// After the handshake, `Hello` must arrive within this.
    pub hello_timeout: Duration,
    /// A stalled write (client not reading) longer than this drops the connection.
    pub write_timeout: Duration,
    /// How long a disconnected player's seat and session are held.
    pub reconnect_grace: Duration,
    /// Most WebSocket connections at once; further handshakes get HTTP 503.
    pub max_connections: usize,
    /// Reliable frames queued per connection before it is closed as too slow.
    pub outbox_events: usize,
    /// Reliable events each room keeps for replay on resume.
    pub event_log: usize,
    /// Undecodable messages tolerated per connection before closing it (close 1008).
    pub max_bad_messages: u32,
    /// Quick-match settings.
    pub matching: MatchConfig,
    /// Chat burst per session.
    pub chat_burst: u32,
    /// Chat messages per second per session, sustained.
    pub chat_per_second: f64,
    /// Player identity, TLS, per-IP limits and allowed origins.
    pub security: crate::security::SecurityConfig,
    /// Abuse limits per connection and for the room directory.
    pub limits: LimitsConfig,
    /// The shutdown drain.
    pub shutdown: ShutdownConfig,
    /// How often the log gets a summary line (connections, rooms, games finished); zero
    /// for never.
    pub log_summary: Duration,
    /// The operator's monitor (`/monitor`, `/admin/`): off unless a token is set.
    pub admin: crate::admin::AdminConfig,
    /// Replay recording: on, with a state hash every 30 ticks and 8 MiB per game (games
    /// are recorded only when something keeps them: see [`ServerConfig::records_replays`]).
    pub replay: crate::replay::ReplayConfig,
    /// For embedders and tests: called with every finished game, replay included, on the
    /// shard's tick (it must not block). `None` by default.
    pub on_game_finished: Option<crate::engine::FinishedHook>,
    /// Where results are kept (`--database`); none by default in the library.
    pub storage: crate::storage::StorageConfig,
    /// The cluster this node joins (`--cluster`); `None` (a single node) by default.
    /// Needs [`crate::server::Server::open`], which connects to Redis.
    pub cluster: Option<crate::cluster::ClusterConfig>,
}

impl Default for ServerConfig {
    fn default() -> Self {
        ServerConfig {
            tick_hz: 30,
            shards: 0,
            ping_interval: Duration::from_secs(10),
            idle_timeout: Duration::from_secs(30),
            handshake_timeout: Duration::from_secs(5),
            hello_timeout: Duration::from_secs(5),
            write_timeout: Duration::from_secs(10),
            reconnect_grace: Duration::from_secs(20),
            max_connections: 100_000,
            outbox_events: 1024,
            event_log: 512,
            max_bad_messages: 16,
            matching: MatchConfig::default(),
            chat_burst: 5,
            chat_per_second: 1.0,
            security: crate::security::SecurityConfig::default(),
            limits: LimitsConfig::default(),
            shutdown: ShutdownConfig::default(),
            log_summary: Duration::from_secs(60),
            admin: crate::admin::AdminConfig::default(),
            replay: crate::replay::ReplayConfig::default(),
            on_game_finished: None,
            storage: crate::storage::StorageConfig::default(),
            cluster: None,
        }
    }
}

impl ServerConfig {
    /// The tick rate clamped to what the engine supports.
    pub fn effective_tick_hz(&self) -> u16 {
        self.tick_hz.clamp(1, 128)
    }

    /// Shards to run: the configured count, or one per core.
    pub fn effective_shards(&self) -> usize {
        match self.shards {
            0 => std::thread::available_parallelism().map_or(1, |n| n.get()),
            n => n,
        }
    }

    pub(crate) fn engine(&self, id_base: u64) -> EngineConfig {
        EngineConfig {
            first_room_id: RoomId::new(id_base + 1),
            tick_hz: self.effective_tick_hz(),
            shards: self.effective_shards(),
            inbox_capacity: 8192,
            event_log_capacity: self.event_log.max(1),
            reconnect_grace: self.reconnect_grace,
            replay: crate::replay::ReplayConfig {
                record: self.records_replays(),
                ..self.replay
            },
            on_game_finished: self.on_game_finished.clone(),
        }
    }

    /// Whether rooms record their games' replays: when recording is on and someone keeps
    /// them (a database, or the embedder's [`ServerConfig::on_game_finished`]). With
    /// `--database none` and no hook a replay would be compressed and dropped at once.
    pub fn records_replays(&self) -> bool {
        self.replay.record
            && (self.storage.database != crate::storage::Database::None
                || self.on_game_finished.is_some())
    }

    pub(crate) fn lobby(&self) -> LobbyConfig {
        LobbyConfig {
            reconnect_grace: self.reconnect_grace,
            matching: self.matching.clone(),
            chat_burst: self.chat_burst,
            chat_per_second: self.chat_per_second,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::storage::Database;

    /// Replays are recorded when something keeps them: a database or the embedder's hook.
    #[test]
    fn replays_are_recorded_only_when_kept() {
        let mut config = ServerConfig::default();
        assert_eq!(config.storage.database, Database::None);
        assert!(!config.records_replays(), "nothing keeps them");
        assert!(!config.engine(0).replay.record);
        config.storage.database = Database::Sqlite("x.db".into());
        assert!(config.records_replays());
        assert!(config.engine(0).replay.record);
        config.storage.database = Database::None;
        config.on_game_finished = Some(crate::engine::FinishedHook::new(|_| {}));
        assert!(config.records_replays());
        config.replay.record = false;
        assert!(!config.records_replays(), "turned off");
    }
}
