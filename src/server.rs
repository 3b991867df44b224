//! Wiring: starts the engine, the lobby and the accept loop on a listener, and stops them.
//!
//! [`run`] is what `ticksync serve` calls; [`Server::start`] is the same for embedders and
//! tests, returning a [`Server`] handle with the bound address, live counters, the
//! [`Metrics`] registry, and a graceful [`Server::drain`] (see [`crate::shutdown`]).
//!
//! ```
//! # #[tokio::main(flavor = "multi_thread", worker_threads = 2)]
//! # async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
//! let server = ticksync::server::Server::start(listener, Default::default())?;
//! assert_eq!(server.stats(), ticksync::server::Stats::default());
//! println!("listening on {}", server.local_addr());
//! server.shutdown().await;
//! # Ok(())
//! # }
//! ```

mod log;

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

use crate::config::ServerConfig;
use crate::engine::{GameEntry, GameRegistry, ShardStats};
use crate::lobby::Lobby;
use crate::metrics::Metrics;
use crate::shutdown::DrainReport;
use crate::transport::{self, Context};

/// Live counters. In a quiet server every one of them is zero.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Serialize)]
pub struct Stats {
    /// Open WebSocket connections.
    pub connections: usize,
    /// Live sessions.
    pub sessions: usize,
    /// Open rooms.
    pub rooms: usize,
    /// Players in quick-match queues.
    pub queued: usize,
}

/// Why the server could not start.
#[derive(Debug, thiserror::Error)]
pub enum ServerError {
    /// The listener's address could not be read.
    #[error("listener has no local address: {0}")]
    Listener(#[from] std::io::Error),
    /// Auth keys or TLS files could not be used.
    #[error(transparent)]
    Security(#[from] crate::security::SecurityError),
    /// The SIGHUP handler (TLS reload) could not be installed.
    #[error("cannot listen for SIGHUP: {0}")]
    Signal(std::io::Error),
    /// A setting cannot work ([`ServerConfig::validate`]).
    #[error(transparent)]
    Config(#[from] crate::config::ConfigError),
    /// The database could not be opened (or `Server::start` was given one).
    #[error(transparent)]
    Storage(#[from] crate::storage::StorageError),
    /// The cluster could not be joined (Redis unreachable, node id taken).
    #[error("cannot join the cluster: {0}")]
    Cluster(#[from] crate::cluster::ClusterError),
    /// A cluster is configured but the server was started without connecting to it: use
    /// [`Server::open`] (or [`Server::open_with_games`]).
    #[error("a cluster (--cluster) needs Server::open, which connects to Redis")]
    ClusterNeedsOpen,
}

/// A running server.
pub struct Server {
    local_addr: SocketAddr,
    ctx: Arc<Context>,
    shutdown: CancellationToken,
    tracker: TaskTracker,
}

impl std::fmt::Debug for Server {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Server")
            .field("local_addr", &self.local_addr)
            .finish()
    }
}

/// The games `ticksync serve` offers: tic-tac-toe (`"tictactoe"`), the arena (`"arena"`,
/// with deltas) and Battleship (`"battleship"`, hidden information). The replay CLI and the tests use the same registry. The
/// engine names no game: this wiring is where the built-in ones are registered.
pub fn builtin_games() -> GameRegistry {
    GameRegistry::new([
        GameEntry::of::<crate::game::tictactoe::TicTacToe>()
            .with_bot::<crate::game::tictactoe::TicTacToe>(),
        GameEntry::with_deltas::<crate::game::arena::Arena>(),
        GameEntry::of::<crate::game::battleship::Battleship>()
            .with_bot::<crate::game::battleship::Battleship>(),
    ])
}

impl Server {
    /// Starts serving on `listener` with the built-in games. Must be called inside a tokio
    /// runtime.
    ///
    /// # Errors
    /// [`ServerError::Config`] for settings that cannot work, [`ServerError::Listener`] if
    /// the listener's address cannot be read.
    pub fn start(listener: TcpListener, config: ServerConfig) -> Result<Server, ServerError> {
        Server::start_with_games(listener, config, builtin_games())
    }

    /// Opens the configured database ([`ServerConfig::storage`]: applies its migrations
    /// and records this start), then starts serving on `listener` with the built-in games.
    ///
    /// # Errors
    /// As [`Server::start`], and [`ServerError::Storage`] when the database cannot be
    /// opened.
    pub async fn open(listener: TcpListener, config: ServerConfig) -> Result<Server, ServerError> {
        Server::open_with_games(listener, config, builtin_games()).await
    }

    /// As [`Server::open`], with the games in `registry` (what `ticksync serve` calls with
    /// [`builtin_games`]).
    ///
    /// # Errors
    /// As [`Server::open`].
    pub async fn open_with_games(
        listener: TcpListener,
        config: ServerConfig,
        registry: GameRegistry,
    ) -> Result<Server, ServerError> {
        config.validate()?;
        let storage = crate::storage::Storage::open(&config.storage).await?;
        let cluster = match &config.cluster {
            Some(cluster) => Some(crate::cluster::Cluster::join(cluster.clone()).await?),
            None => None,
        };
        Server::start_parts(listener, config, registry, storage, cluster)
    }

    /// Starts serving on `listener` with the games in `registry`. Keeps no results: a
    /// configured database needs [`Server::open`] or [`Server::start_with_storage`].
    ///
    /// # Errors
    /// [`ServerError::Config`] for settings that cannot work, [`ServerError::Listener`] if
    /// the listener's address cannot be read, [`ServerError::Storage`] when a database is
    /// configured.
    pub fn start_with_games(
        listener: TcpListener,
        config: ServerConfig,
        registry: GameRegistry,
    ) -> Result<Server, ServerError> {
        if config.storage.database != crate::storage::Database::None {
            return Err(crate::storage::StorageError::NeedsOpen.into());
        }
        Server::start_with_storage(listener, config, registry, crate::storage::Storage::none())
    }

    /// Starts serving on `listener` with the games in `registry`, keeping results in
    /// `storage` (opened with [`crate::storage::Storage::open`]).
    ///
    /// # Errors
    /// [`ServerError::Config`] for settings that cannot work, [`ServerError::Listener`] if
    /// the listener's address cannot be read, [`ServerError::ClusterNeedsOpen`] when a
    /// cluster is configured.
    pub fn start_with_storage(
        listener: TcpListener,
        config: ServerConfig,
        registry: GameRegistry,
        storage: crate::storage::Storage,
    ) -> Result<Server, ServerError> {
        if config.cluster.is_some() {
            return Err(ServerError::ClusterNeedsOpen);
        }
        Server::start_parts(listener, config, registry, storage, None)
    }

    fn start_parts(
        listener: TcpListener,
        config: ServerConfig,
        registry: GameRegistry,
        storage: crate::storage::Storage,
        cluster: Option<crate::cluster::Cluster>,
    ) -> Result<Server, ServerError> {
        config.validate()?;
        let local_addr = listener.local_addr()?;
        let security = crate::security::Security::from_config(&config.security)?;
        let shutdown = CancellationToken::new();
        let tracker = TaskTracker::new();
        if let Some(tls) = &security.tls {
            crate::transport::tls::reload_on_sighup(tls.clone(), shutdown.clone(), &tracker)
                .map_err(ServerError::Signal)?;
        }
        // Room ids unique across the cluster's live rooms: a node without a database
        // takes its base from the cluster (`cluster/rooms.rs`).
        let room_id_base = match &cluster {
            Some(cluster) if !storage.enabled() => cluster.room_id_base(),
            _ => storage.id_base(),
        };
        let engine_config = config.engine(room_id_base);
        let storage_stats = storage.stats();
        let lobby = Lobby::start(
            config.lobby(),
            engine_config,
            registry,
            storage,
            shutdown.clone(),
            &tracker,
        );
        let ctx = Arc::new(Context::new(
            Arc::new(config),
            lobby,
            shutdown.clone(),
            tracker.clone(),
            security,
            Arc::new(Metrics::default()),
            cluster.clone(),
        ));
        if let Some(cluster) = &cluster {
            ctx.lobby
                .join_cluster(cluster.clone(), shutdown.clone(), &tracker);
            let weak = Arc::downgrade(&ctx);
            let load = Arc::new(move || {
                weak.upgrade()
                    .map_or((0, 0), |ctx| (ctx.connections(), ctx.lobby.stats().rooms))
            });
            cluster.spawn_heartbeat(load, shutdown.clone(), &tracker);
        }
        if let Some(stats) = storage_stats {
            ctx.metrics.register(stats);
        }
        tracker.spawn(transport::accept_loop(listener, ctx.clone()));
        tracker.spawn(log::summaries(ctx.clone(), shutdown.clone()));
        log::started(local_addr, &ctx.config);
        Ok(Server {
            local_addr,
            ctx,
            shutdown,
            tracker,
        })
    }

    /// The address the server is bound to.
    pub fn local_addr(&self) -> SocketAddr {
        self.local_addr
    }

    /// The lobby, for embedders (e.g. to set ratings).
    pub fn lobby(&self) -> &Lobby {
        &self.ctx.lobby
    }

    /// The cluster this node joined (`--cluster`), if any.
    pub fn cluster(&self) -> Option<&crate::cluster::Cluster> {
        self.ctx.cluster.as_ref()
    }

    /// Live counters.
    pub fn stats(&self) -> Stats {
        let lobby = self.ctx.lobby.stats();
        Stats {
            connections: self.ctx.connections(),
            sessions: lobby.sessions,
            rooms: lobby.rooms,
            queued: lobby.queued,
        }
    }

    /// Reads the TLS certificate and key files again (what `SIGHUP` does); new connections
    /// get the new certificate. Returns `Ok(false)` when TLS is off.
    ///
    /// # Errors
    /// The new files are unusable; the previous certificate stays in use.
    pub fn reload_tls(&self) -> Result<bool, crate::transport::tls::TlsError> {
        match &self.ctx.security.tls {
            Some(tls) => tls.reload().map(|()| true),
            None => Ok(false),
        }
    }

    /// Auth outcomes and refused upgrades, as `(name, labels, value)` counter rows.
    pub fn security_counters(&self) -> Vec<crate::security::CounterRow> {
        self.ctx.security.counter_rows()
    }

    /// The metrics registry behind `GET /metrics`: register more sources here at start-up.
    pub fn metrics(&self) -> &Arc<Metrics> {
        &self.ctx.metrics
    }

    /// Each shard's tick statistics.
    pub async fn shard_stats(&self) -> Vec<ShardStats> {
        self.ctx.lobby.engine().stats().await
    }

    /// Shuts down now: a drain with no time for games to finish (every running game ends
    /// with `EndReason::ServerShutdown`). See [`Server::drain`].
    pub async fn shutdown(self) {
        self.drain(Duration::ZERO).await;
    }

    /// Drains and stops: in a cluster, first leaves it (no more matches placed here; see
    /// [`crate::cluster::Cluster::retire`]); stops accepting, sends every connection `ServerShutdown`, refuses
    /// new matches and rooms, lets running turn-based games go on for up to `timeout`, ends
    /// the rest, closes every connection with 1001, and waits (boundedly) for every task.
    /// The steps and their bounds are in [`crate::shutdown`].
    pub async fn drain(self, timeout: Duration) -> DrainReport {
        // In a cluster, first stop being chosen to host new matches.
        if let Some(cluster) = &self.ctx.cluster
            && let Err(error) = cluster.retire().await
        {
            tracing::warn!(%error, "could not leave the cluster; this node's key expires within 3 s");
        }
        let report = crate::shutdown::drain::run(
            &self.ctx.drain,
            self.ctx.lobby.engine(),
            timeout,
            &self.shutdown,
            &self.tracker,
        )
        .await;
        tracing::info!(
            told = report.told,
            ended = report.ended,
            clean = report.clean,
            took_ms = report.took.as_millis() as u64,
            "ticksync stopped"
        );
        report
    }
}

/// Serves on `listener` until `shutdown` completes, then drains for
/// `config.shutdown.drain_timeout` and stops.
///
/// # Errors
/// [`ServerError`] if the server cannot start.
pub async fn run(
    listener: TcpListener,
    config: ServerConfig,
    shutdown: impl Future<Output = ()>,
) -> Result<(), ServerError> {
    let timeout = config.shutdown.drain_timeout;
    let server = Server::open(listener, config).await?;
    shutdown.await;
    server.drain(timeout).await;
    Ok(())
}
