//! Messages between nodes: a list per node in Redis, `ticksync:inbox:<node id>`.
//!
//! A node sends with `RPUSH` and renews the list's TTL ([`INBOX_TTL`]); the receiving node
//! pops with `BLPOP` on a connection of its own (a blocking pop would hold up every other
//! command on the shared one) and hands each message to the lobby through a bounded
//! channel. A message for a node that died expires with its list.

use std::time::Duration;

use serde::{Deserialize, Serialize};
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

use super::{Cluster, ClusterError, bounded, keys};
use crate::protocol::SessionId;

/// An inbox lives this long after the last message sent to it.
pub const INBOX_TTL: Duration = Duration::from_secs(10);

/// How long one `BLPOP` waits before the receiving task looks at its shutdown again.
const POP_WAIT: Duration = Duration::from_secs(1);

/// Largest message a node reads from its inbox; larger ones are dropped (no node sends
/// them: a placement of 8 seats is a few hundred bytes).
const MAX_MESSAGE_BYTES: usize = 64 * 1024;

/// One player of a placed match.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PlacedSeat {
    /// Its place in the seating order (the room seats its players in this order in the
    /// seats its bots leave free).
    pub seat: u8,
    /// The node the player is queued on.
    pub node: String,
    /// The player's session on that node.
    pub session: SessionId,
    /// The rating it was matched with (queued again with it if the match is called off).
    #[serde(default = "default_rating")]
    pub rating: u16,
    /// Who it is, for a signed-in player (the host seats it as that player).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub player: Option<super::queue::QueuedPlayer>,
}

fn default_rating() -> u16 {
    crate::lobby::DEFAULT_RATING
}

/// A match the global queue formed, for the node that is to host it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Placement {
    /// Game name.
    pub game: String,
    /// The game's options in bincode (empty: the defaults).
    pub options: Vec<u8>,
    /// The players, in seating order.
    pub seats: Vec<PlacedSeat>,
    /// How many server bots take seats.
    pub bots: u8,
}

/// What one node tells another.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum NodeMsg {
    /// Host this match: create the room, seat the players queued here, reserve the seats of
    /// the others and have their nodes redirect them.
    Place(Placement),
    /// Send session `session` (queued on the receiving node) `Redirect { url, ticket }`.
    Redirect {
        /// The queued player's session on the receiving node.
        session: SessionId,
        /// The hosting node's public URL.
        url: String,
        /// The seat ticket.
        ticket: String,
    },
}

impl Cluster {
    /// Sends `msg` to node `node`'s inbox.
    ///
    /// # Errors
    /// Redis failed or did not answer in time.
    pub async fn send_to(&self, node: &str, msg: &NodeMsg) -> Result<(), ClusterError> {
        // A message of plain fields always serializes.
        let body = serde_json::to_string(msg).unwrap_or_default();
        let key = keys::inbox(node);
        let mut redis = self.redis();
        let mut pipe = redis::pipe();
        pipe.atomic()
            .cmd("RPUSH")
            .arg(&key)
            .arg(body)
            .ignore()
            .cmd("PEXPIRE")
            .arg(&key)
            .arg(INBOX_TTL.as_millis() as u64)
            .ignore();
        bounded(pipe.query_async::<()>(&mut redis)).await
    }

    /// Spawns the task that pops this node's inbox and hands each message to `to`, until
    /// `shutdown`. A lost connection is logged and retried every second.
    pub fn spawn_inbox(
        &self,
        to: mpsc::Sender<NodeMsg>,
        shutdown: CancellationToken,
        tracker: &TaskTracker,
    ) {
        let cluster = self.clone();
        tracker.spawn(async move {
            let key = keys::inbox(cluster.node_id());
            let mut conn = None;
            let mut failing = false;
            loop {
                if conn.is_none() {
                    match cluster.blocking_connection().await {
                        Ok(c) => conn = Some(c),
                        Err(error) => {
                            if !failing {
                                tracing::warn!(node = %cluster.node_id(), %error, "cluster inbox: cannot connect");
                            }
                            failing = true;
                            tokio::select! {
                                _ = shutdown.cancelled() => return,
                                _ = tokio::time::sleep(POP_WAIT) => continue,
                            }
                        }
                    }
                }
                let Some(redis) = conn.as_mut() else { continue };
                let mut pop = redis::cmd("BLPOP");
                pop.arg(&key).arg(POP_WAIT.as_secs_f64());
                let popped: redis::RedisResult<Option<(String, Vec<u8>)>> = tokio::select! {
                    _ = shutdown.cancelled() => return,
                    popped = pop.query_async(redis) => popped,
                };
                match popped {
                    Ok(Some((_, body))) => {
                        failing = false;
                        if body.len() > MAX_MESSAGE_BYTES {
                            continue;
                        }
                        match serde_json::from_slice::<NodeMsg>(&body) {
                            Ok(msg) => {
                                if to.send(msg).await.is_err() {
                                    return;
                                }
                            }
                            Err(error) => {
                                tracing::warn!(node = %cluster.node_id(), %error, "cluster inbox: unreadable message dropped");
                            }
                        }
                    }
                    Ok(None) => failing = false,
                    Err(error) => {
                        if !failing {
                            tracing::warn!(node = %cluster.node_id(), %error, "cluster inbox: pop failed");
                        }
                        failing = true;
                        conn = None;
                    }
                }
            }
        });
    }

    /// A connection of its own for `BLPOP`, whose answers may take [`POP_WAIT`].
    async fn blocking_connection(&self) -> Result<redis::aio::MultiplexedConnection, ClusterError> {
        let client = redis::Client::open(self.inner.config.redis_url.as_str())?;
        let config = redis::AsyncConnectionConfig::new()
            .set_connection_timeout(Some(super::REDIS_TIMEOUT))
            .set_response_timeout(Some(POP_WAIT + super::REDIS_TIMEOUT));
        bounded(client.get_multiplexed_async_connection_with_config(&config)).await
    }
}
