//! Every Redis key the cluster writes, in one place (ARCHITECTURE.md's table lists them
//! with their owners and lifetimes). Each one has a TTL: nothing is left behind by a node
//! that dies.

/// The prefix of every key.
pub const PREFIX: &str = "ticksync:";

/// The index of live nodes: a sorted set, member a node id, score its last heartbeat
/// (Redis `TIME`, milliseconds). Every heartbeat drops members older than the node TTL and
/// renews the set's own TTL, so it goes when the last node does.
pub const NODES: &str = "ticksync:nodes";

/// One node's hash (`url`, `connections`, `rooms`, `cpu_permille`, `started_at_ms`),
/// renewed by each of its heartbeats with the node TTL.
pub fn node(id: &str) -> String {
    format!("ticksync:node:{id}")
}

/// One quick-match queue (a hash per game and options): see [`super::queue::queue_key`],
/// which builds it; alive 10 s after the last enqueue or read that found players.
pub const QUEUE_PREFIX: &str = "ticksync:queue:";

/// A node's inbox (a list of JSON messages from other nodes), alive 10 s after the last
/// message sent to it.
pub fn inbox(id: &str) -> String {
    format!("ticksync:inbox:{id}")
}

/// A redeemed seat ticket's nonce (single use), alive until the ticket's expiry plus a
/// second.
pub fn ticket(nonce: &str) -> String {
    format!("ticksync:ticket:{nonce}")
}

/// Where a session lives, for resuming it through any node: `<node id> <session id>`,
/// under the SHA-256 of its current resume token (hex; the token itself is never stored).
/// Written by the session's node while the session holds a seat, renewed while it lives,
/// deleted when it ends or its token rotates; alive the reconnect grace plus a margin
/// after its node's last renewal (see [`super::resume`]).
pub fn session(token_sha: &str) -> String {
    format!("ticksync:session:{token_sha}")
}

/// Where a signed-in player's session lives, for finding it from any node: `<node id>
/// <session id>`, under the SHA-256 of the player's key `user:<sub>` (hex). Written by the
/// session's node (most recent session wins), renewed while it lives, deleted when it ends
/// (only while it names that session); alive the reconnect grace plus a margin after its
/// node's last renewal (see [`super::signin`]).
pub fn player(player_sha: &str) -> String {
    format!("ticksync:player:{player_sha}")
}

/// One node's published rooms (a hash: field the room id, value the room's summary as
/// JSON), rewritten by its directory publisher every heartbeat with the node TTL and
/// patched on every change; deleted when the node stops cleanly.
pub fn rooms(node: &str) -> String {
    format!("ticksync:rooms:{node}")
}

/// A join code claimed in the cluster (value: the node id of its room), claimed with
/// `SET NX` and renewed by the owning node's publisher with the node TTL; deleted when the
/// room closes.
pub fn code(code: &str) -> String {
    format!("ticksync:code:{code}")
}

/// The counter of cluster starts of nodes without a database: a node's rooms are
/// numbered from `INCR` of it times 2^32, so room ids are unique across live nodes.
/// Renewed with the node TTL by every node's publisher, which raises it to the node's
/// own epoch if below (after Redis lost its data).
pub const EPOCH: &str = "ticksync:epoch";
