//! The cluster: several `ticksync serve` processes made one service through Redis.
//!
//! A node started with `--cluster redis://HOST:PORT` joins at start-up (a node that cannot
//! reach Redis does not start) and then:
//!
//! - **registers** itself and its load (`node`): every [`HEARTBEAT`] (1 s) one Lua
//!   script, atomically, writes its hash `ticksync:node:<id>` (public URL, connections,
//!   rooms, CPU, start time) with a TTL of [`NODE_TTL`] (3 s, three heartbeats), scores it
//!   in the index `ticksync:nodes` with Redis's own clock, and drops from the index every
//!   node whose last heartbeat is older than [`NODE_TTL`]. A node that stops
//!   heart-beating (killed, cut off) is dead to the others within 3 s; one that stops
//!   cleanly removes both at once ([`Cluster::leave`]). A failed heartbeat is logged and
//!   the next one tried on time; the connection to Redis reconnects by itself.
//! - **checks seat tickets** ([`ticket`]): short-lived, HMAC-SHA256-signed with the
//!   cluster secret, single use through `SET NX PX` ([`Cluster::redeem`]).
//!
//! - **keeps the global quick-match queue** ([`queue`]): entries per game and options,
//!   groups decided by the single node's rules and claimed atomically, driven by the
//!   lobby's global matchmaker (`lobby/global.rs`);
//! - **talks to other nodes** ([`inbox`]): a placement to host, a redirect to send;
//! - **shares the room directory** ([`rooms`]): each node's rooms and join codes,
//!   published off the tick by the lobby (`lobby/cluster_rooms.rs`), read by every node
//!   for `GET /rooms` and `ListRooms`, codes looked up for `JoinRoom` (a redirect with a
//!   join ticket), and room ids unique across live nodes.
//!
//! Every key has a TTL ([`keys`]): whatever happens to a node, Redis holds nothing of it
//! for longer than its TTL.
//!
//! The atomic steps are Lua scripts (one round trip, no read-modify-write races); reads
//! and writes time out after [`REDIS_TIMEOUT`], so a stalled Redis never stalls a caller
//! for longer.
//!
//! - **knows where sessions live** ([`resume`]): a resume token shown to the wrong node is
//!   redirected to the session's node with a resume ticket, or answered `NodeLost` when
//!   that node is dead; a signed-in player's identity finds its session the same way
//!   ([`signin`]), and a ticket works only for the player it names;
//! - **publishes its rooms** ([`rooms`]): every node lists every live node's rooms, and
//!   a join code held by another node is answered with a redirect.

mod args;
pub mod inbox;
pub mod keys;
mod node;
pub mod placement;
pub mod queue;
pub mod resume;
pub mod rooms;
pub mod signin;
pub mod ticket;

use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use redis::aio::ConnectionManager;

pub use args::ClusterArgs;
pub use node::{Load, NodeInfo};
pub use ticket::{JoinByCode, SeatTicket, TicketError, TicketKey};

/// How often a node writes its heartbeat.
pub const HEARTBEAT: Duration = Duration::from_secs(1);

/// A node's key lives this long after its last heartbeat: three heartbeats. A node
/// silent this long is dead to the others.
pub const NODE_TTL: Duration = Duration::from_secs(3);

/// The longest any one Redis command may take before the caller gets an error.
pub const REDIS_TIMEOUT: Duration = Duration::from_secs(1);

/// How long a seat ticket is valid from when it is issued.
pub const TICKET_TTL: Duration = Duration::from_secs(10);

/// How long past its ticket's lifetime a reserved seat is held: a ticket redeemed at the
/// last moment still needs its single-use claim in Redis (at most [`REDIS_TIMEOUT`]) and
/// a tick to rebind into the room. The hosting room calls the match off (`MatchCalledOff`)
/// at the ticket's lifetime plus this: 12 s with the defaults.
pub const RESERVATION_MARGIN: Duration = Duration::from_secs(2);

/// Longest node id.
pub const MAX_NODE_ID_CHARS: usize = 64;

/// What a node needs to join a cluster.
#[derive(Debug, Clone)]
pub struct ClusterConfig {
    /// `redis://HOST:PORT` (or `redis://HOST:PORT/DB`).
    pub redis_url: String,
    /// The URL clients use to reach this node (`ws://` or `wss://`); sent in redirects.
    pub public_url: String,
    /// This node's id: 1 to 64 of `A-Z a-z 0-9 _ -`, unique in the cluster.
    pub node_id: String,
    /// The cluster secret, signing seat tickets; the same on every node.
    pub key: TicketKey,
    /// How long a seat ticket is valid.
    pub ticket_ttl: Duration,
}

impl ClusterConfig {
    /// A configuration with a random node id and the default ticket lifetime.
    ///
    /// # Errors
    /// A sentence naming the option that cannot work (see [`ClusterConfig::check`]).
    pub fn new(redis_url: &str, public_url: &str, secret: &[u8]) -> Result<ClusterConfig, String> {
        let config = ClusterConfig {
            redis_url: redis_url.to_string(),
            public_url: public_url.to_string(),
            node_id: random_node_id(),
            key: TicketKey::new(secret)?,
            ticket_ttl: TICKET_TTL,
        };
        config.check()?;
        Ok(config)
    }

    /// Checks the URLs and the node id.
    ///
    /// # Errors
    /// A sentence naming the option and why it cannot work.
    pub fn check(&self) -> Result<(), String> {
        if !(self.redis_url.starts_with("redis://") || self.redis_url.starts_with("rediss://")) {
            return Err(format!(
                "--cluster `{}` is not a Redis URL: expected redis://HOST:PORT",
                self.redis_url
            ));
        }
        match url::Url::parse(&self.public_url) {
            Ok(url) if matches!(url.scheme(), "ws" | "wss") && url.host().is_some() => {}
            _ => {
                return Err(format!(
                    "--public-url `{}` must be a ws:// or wss:// URL with a host: it is \
                     where other nodes send this node's players",
                    self.public_url
                ));
            }
        }
        if !valid_node_id(&self.node_id) {
            return Err(format!(
                "--node-id `{}` must be 1 to {MAX_NODE_ID_CHARS} of A-Z a-z 0-9 _ -",
                self.node_id
            ));
        }
        if self.ticket_ttl.is_zero() {
            return Err("the seat ticket lifetime must be more than 0".into());
        }
        if self.ticket_ttl > crate::config::MAX_DURATION {
            // Added to the clock when a ticket is made: past this it could overflow.
            return Err("the seat ticket lifetime must be at most 365 days".into());
        }
        Ok(())
    }
}

/// Whether `id` can be a node id: 1 to [`MAX_NODE_ID_CHARS`] of `A-Z a-z 0-9 _ -`.
pub fn valid_node_id(id: &str) -> bool {
    (1..=MAX_NODE_ID_CHARS).contains(&id.len())
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
}

/// A fresh random node id: 16 hex digits.
pub fn random_node_id() -> String {
    format!("{:016x}", rand::random::<u64>())
}

/// Why the cluster could not be joined or asked.
#[derive(Debug, thiserror::Error)]
pub enum ClusterError {
    /// Redis refused or failed a command, or could not be reached.
    #[error("redis: {0}")]
    Redis(#[from] redis::RedisError),
    /// Redis did not answer within [`REDIS_TIMEOUT`].
    #[error("redis did not answer within {REDIS_TIMEOUT:?}")]
    Timeout,
    /// Another live node has this node's id.
    #[error("node id `{0}` is already in use by a live node")]
    NodeIdTaken(String),
}

/// A ticket just issued: its text (for `Redirect`) and its nonce (its identity).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IssuedTicket {
    /// What the client sends in `Hello.ticket`.
    pub text: String,
    /// The ticket's nonce.
    pub nonce: String,
}

/// A joined node's handle on the cluster: cheap to clone.
#[derive(Clone)]
pub struct Cluster {
    inner: Arc<Inner>,
}

struct Inner {
    config: ClusterConfig,
    redis: ConnectionManager,
    started_at_ms: u64,
    /// This node's first room id, minus one, without a database ([`rooms`]).
    room_id_base: u64,
    /// Set by [`Cluster::retire`]: no more heartbeats.
    retired: std::sync::atomic::AtomicBool,
}

impl std::fmt::Debug for Cluster {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Cluster")
            .field("node_id", &self.inner.config.node_id)
            .field("public_url", &self.inner.config.public_url)
            .finish()
    }
}

/// Unix time in milliseconds, by this machine's clock.
pub fn unix_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
}

/// Runs one Redis request with [`REDIS_TIMEOUT`].
async fn bounded<T>(
    request: impl Future<Output = redis::RedisResult<T>>,
) -> Result<T, ClusterError> {
    match tokio::time::timeout(REDIS_TIMEOUT, request).await {
        Ok(result) => Ok(result?),
        Err(_) => Err(ClusterError::Timeout),
    }
}

impl Cluster {
    /// Connects to Redis and registers this node (its first heartbeat, with no load).
    ///
    /// # Errors
    /// Redis cannot be reached or refuses ([`ClusterError::Redis`], [`ClusterError::Timeout`]);
    /// a live node already has this id ([`ClusterError::NodeIdTaken`]).
    pub async fn join(config: ClusterConfig) -> Result<Cluster, ClusterError> {
        let client = redis::Client::open(config.redis_url.as_str())?;
        let manager_config = redis::aio::ConnectionManagerConfig::new()
            .set_connection_timeout(Some(REDIS_TIMEOUT))
            .set_response_timeout(Some(REDIS_TIMEOUT))
            .set_number_of_retries(1);
        let mut redis = bounded(client.get_connection_manager_with_config(manager_config)).await?;
        let room_id_base = Cluster::take_room_epoch(&mut redis).await?;
        let cluster = Cluster {
            inner: Arc::new(Inner {
                config,
                redis,
                room_id_base,
                started_at_ms: unix_ms(),
                retired: std::sync::atomic::AtomicBool::new(false),
            }),
        };
        cluster.register().await?;
        tracing::info!(
            node = %cluster.node_id(),
            url = %cluster.public_url(),
            "joined the cluster"
        );
        Ok(cluster)
    }

    /// This node's id.
    pub fn node_id(&self) -> &str {
        &self.inner.config.node_id
    }

    /// The URL clients use to reach this node.
    pub fn public_url(&self) -> &str {
        &self.inner.config.public_url
    }

    /// A connection to Redis (the manager is a cheap handle; it reconnects by itself).
    fn redis(&self) -> ConnectionManager {
        self.inner.redis.clone()
    }

    /// Issues a seat ticket for `seat` of `room` on node `node`, for `player`, valid for
    /// the configured ticket lifetime from now.
    pub fn issue_ticket(
        &self,
        node: &str,
        room: crate::protocol::RoomId,
        seat: u8,
        player: &str,
    ) -> String {
        self.issue_ticket_with(node, room, seat, player).text
    }

    /// As [`Cluster::issue_ticket`], with the ticket's nonce.
    pub fn issue_ticket_with(
        &self,
        node: &str,
        room: crate::protocol::RoomId,
        seat: u8,
        player: &str,
    ) -> IssuedTicket {
        self.issue_ticket_for(node, room, seat, player, None)
    }

    /// As [`Cluster::issue_ticket_with`], naming a signed-in player (`player` is then
    /// `user:<sub>`) with its display name.
    pub fn issue_ticket_for(
        &self,
        node: &str,
        room: crate::protocol::RoomId,
        seat: u8,
        player: &str,
        name: Option<&str>,
    ) -> IssuedTicket {
        let ttl = u64::try_from(self.inner.config.ticket_ttl.as_millis()).unwrap_or(u64::MAX);
        let nonce = ticket::new_nonce();
        let text = self.inner.config.key.sign(&SeatTicket {
            node: node.to_string(),
            room,
            seat,
            player: player.to_string(),
            name: name.map(str::to_string),
            expires_ms: unix_ms().saturating_add(ttl),
            nonce: nonce.clone(),
            join: None,
        });
        IssuedTicket { text, nonce }
    }

    /// How long the tickets this node issues are valid.
    pub fn ticket_ttl(&self) -> Duration {
        self.inner.config.ticket_ttl
    }

    /// Checks a seat ticket ([`TicketKey::verify`]) and uses it up: the first redemption
    /// of a ticket, on any node, claims its nonce in Redis; every later one is refused.
    ///
    /// # Errors
    /// The ticket's [`TicketError`]; [`TicketError::Unavailable`] when Redis does not
    /// answer (the ticket is then not used up).
    pub async fn redeem(&self, text: &str) -> Result<SeatTicket, TicketError> {
        let now = unix_ms();
        let ticket = self.inner.config.key.verify(text, now, self.node_id())?;
        self.use_up(&ticket.nonce, ticket.expires_ms, now).await?;
        Ok(ticket)
    }

    /// Claims a verified ticket's `nonce` in Redis (`SET NX PX`), once in the whole
    /// cluster: [`TicketError::Used`] when it was claimed before, on any node. Kept until
    /// the ticket (expiring at `expires_ms`) could no longer pass the expiry check anyway,
    /// plus a second for clocks a little apart.
    pub(crate) async fn use_up(
        &self,
        nonce: &str,
        expires_ms: u64,
        now: u64,
    ) -> Result<(), TicketError> {
        let keep_ms = expires_ms.saturating_sub(now).saturating_add(1_000);
        let mut redis = self.redis();
        let claimed: Option<String> = bounded(
            redis::cmd("SET")
                .arg(keys::ticket(nonce))
                .arg(self.node_id())
                .arg("NX")
                .arg("PX")
                .arg(keep_ms)
                .query_async(&mut redis),
        )
        .await
        .map_err(|e| TicketError::Unavailable(e.to_string()))?;
        match claimed {
            Some(_) => Ok(()),
            None => Err(TicketError::Used),
        }
    }
}
