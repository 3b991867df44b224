//! The room directory across the cluster: every node's rooms and join codes in Redis.
//!
//! The lobby's publisher (`lobby/cluster_rooms.rs`) drives it; here are the Redis steps,
//! each one script or one pipeline:
//!
//! - **Publishing** ([`Cluster::publish_rooms`]): a node's rooms live in one hash,
//!   `ticksync:rooms:<node>` (field the room id, value its [`RoomSummary`] as JSON), with
//!   the node TTL. A change (a room created, filled, finished, closed) patches the hash
//!   within a batch delay; every heartbeat period the node rewrites it whole and renews its
//!   TTL, so a dead node's rooms vanish with its TTL (3 s), and a Redis that lost its data
//!   gets them back within a second.
//! - **Codes** ([`Cluster::claim_code`]): a join code is claimed cluster-wide as
//!   `ticksync:code:<CODE>` = node id, with `SET NX` (a private room's code before the
//!   room exists; a quick-match room's on its first publication), renewed with the rooms
//!   and deleted with the room. A code another node holds is never taken over.
//! - **Reading** ([`Cluster::remote_rooms`]): the live nodes, then each other node's hash
//!   in one pipeline: O(rooms in the cluster) per read; the publisher reads once per
//!   heartbeat period and clients read that copy.
//! - **Finding a code** ([`Cluster::find_code`]): the code's node and that node's URL, for
//!   a `JoinRoom` whose code names no room here: the client is redirected there with a
//!   join ticket ([`Cluster::issue_join_ticket`]).
//! - **Room ids** ([`Cluster::room_id_base`]): without a shared database a node's room ids
//!   count up from `INCR ticksync:epoch` times 2^32 (renewed by every publisher, which
//!   raises it to its own epoch if Redis lost it), so live rooms' ids are unique across
//!   the cluster and a listing pages by room id alone.
//!   (With a database, the database's start epoch does the same, once it is shared.)

use std::time::Duration;

use super::{Cluster, ClusterError, NODE_TTL, SeatTicket, bounded, keys, unix_ms};
use crate::protocol::{RoomId, RoomSummary};

/// Rewrites or patches a node's rooms and claims, renews or releases its codes.
///
/// KEYS: rooms hash, epoch, then the codes to claim or renew, then the codes to release.
/// ARGV: node id, TTL ms, "full" or "patch", number of rooms set, number of codes claimed,
/// this node's room id epoch, then the set rooms' id/JSON pairs, then the ids of rooms
/// removed. The epoch counter is raised to this node's epoch if below it (a Redis that
/// lost its data numbers the next joining node above every live one).
/// Returns the 1-based indices (among the claimed) of codes another node holds.
const PUBLISH_LUA: &str = r"
local node, ttl = ARGV[1], tonumber(ARGV[2])
local sets, claims = tonumber(ARGV[4]), tonumber(ARGV[5])
if ARGV[3] == 'full' then
  redis.call('DEL', KEYS[1])
end
for i = 0, sets - 1 do
  redis.call('HSET', KEYS[1], ARGV[7 + 2 * i], ARGV[8 + 2 * i])
end
for i = 7 + 2 * sets, #ARGV do
  redis.call('HDEL', KEYS[1], ARGV[i])
end
if redis.call('EXISTS', KEYS[1]) == 1 then
  redis.call('PEXPIRE', KEYS[1], ttl)
end
local epoch = tonumber(redis.call('GET', KEYS[2]) or '0') or 0
if epoch < tonumber(ARGV[6]) then
  redis.call('SET', KEYS[2], ARGV[6], 'PX', ttl)
else
  redis.call('PEXPIRE', KEYS[2], ttl)
end
local refused = {}
for i = 1, claims do
  local owner = redis.call('GET', KEYS[2 + i])
  if owner == false or owner == node then
    redis.call('SET', KEYS[2 + i], node, 'PX', ttl)
  else
    table.insert(refused, i)
  end
end
for i = 3 + claims, #KEYS do
  if redis.call('GET', KEYS[i]) == node then
    redis.call('DEL', KEYS[i])
  end
end
return refused
";

/// Takes a room id epoch: `INCR` and the node TTL. KEYS: epoch. ARGV: TTL ms.
const EPOCH_LUA: &str = r"
local epoch = redis.call('INCR', KEYS[1])
redis.call('PEXPIRE', KEYS[1], ARGV[1])
return epoch
";

/// On a clean stop: deletes the epoch counter when no other live node remains, so a
/// cluster whose last node stopped leaves nothing behind. KEYS: node index, epoch.
/// ARGV: node id, node TTL ms.
const LAST_OUT_LUA: &str = r"
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local live = redis.call('ZRANGEBYSCORE', KEYS[1], now - tonumber(ARGV[2]), '+inf')
for _, id in ipairs(live) do
  if id ~= ARGV[1] then
    return 0
  end
end
redis.call('DEL', KEYS[2])
return 1
";

/// Bits of a room id below its epoch (as the database's epochs, `storage/ids.rs`).
const EPOCH_SHIFT: u32 = 32;

/// Most epochs before room ids would reach 2^53 (JavaScript's exact integers).
const MAX_EPOCH: u64 = (1 << (53 - EPOCH_SHIFT)) - 1;

/// A room as a node publishes it: its summary and its join code.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PublishedRoom {
    /// The room's summary (its `node` is left out: the key names the node).
    pub summary: RoomSummary,
    /// Its join code, claimed with it.
    pub code: String,
}

/// One publication: rooms set (and their codes claimed or renewed), rooms removed (and
/// their codes released).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RoomBatch {
    /// `true`: the hash is rewritten with exactly `set` (every heartbeat period).
    pub full: bool,
    /// Rooms written.
    pub set: Vec<PublishedRoom>,
    /// Rooms removed, with their codes.
    pub removed: Vec<(RoomId, String)>,
}

impl Cluster {
    /// Takes this node's room id base from the cluster's epoch counter (see the module
    /// doc): `INCR ticksync:epoch` times 2^32.
    pub(super) async fn take_room_epoch(
        redis: &mut redis::aio::ConnectionManager,
    ) -> Result<u64, ClusterError> {
        let ttl_ms = NODE_TTL.as_millis() as u64;
        let script = redis::Script::new(EPOCH_LUA);
        let mut call = script.key(keys::EPOCH);
        call.arg(ttl_ms);
        let epoch: u64 = bounded(call.invoke_async(redis)).await?;
        // Past 2^21 epochs without a pause of the whole cluster: wrap (the epochs of 2^21
        // starts ago have long stopped).
        Ok(((epoch.saturating_sub(1) % MAX_EPOCH) + 1) << EPOCH_SHIFT)
    }

    /// The first room id of this node, minus one (see the module doc).
    pub fn room_id_base(&self) -> u64 {
        self.inner.room_id_base
    }

    /// Claims `code` for this node (`SET NX` with the node TTL; this node's publisher
    /// renews it). `false`: another node holds it.
    ///
    /// # Errors
    /// Redis failed or did not answer in time.
    pub async fn claim_code(&self, code: &str) -> Result<bool, ClusterError> {
        let mut redis = self.redis();
        let claimed: Option<String> = bounded(
            redis::cmd("SET")
                .arg(keys::code(code))
                .arg(self.node_id())
                .arg("NX")
                .arg("PX")
                .arg(NODE_TTL.as_millis() as u64)
                .query_async(&mut redis),
        )
        .await?;
        Ok(claimed.is_some())
    }

    /// Releases codes this node claimed for rooms it never made.
    ///
    /// # Errors
    /// Redis failed or did not answer in time (the codes then go with their TTL).
    pub async fn release_codes(&self, codes: &[String]) -> Result<(), ClusterError> {
        let batch = RoomBatch {
            full: false,
            set: Vec::new(),
            removed: codes
                .iter()
                .map(|code| (RoomId::new(0), code.clone()))
                .collect(),
        };
        // Room 0 is no room: its HDEL removes nothing.
        self.publish_rooms(&batch).await.map(|_| ())
    }

    /// Publishes a batch of this node's rooms (see the module doc) and renews the epoch.
    /// Returns the codes of `batch.set` that another node holds (their rooms are published
    /// but cannot be found by code from other nodes).
    ///
    /// # Errors
    /// Redis failed or did not answer in time.
    pub async fn publish_rooms(&self, batch: &RoomBatch) -> Result<Vec<String>, ClusterError> {
        let ttl_ms = NODE_TTL.as_millis() as u64;
        let script = redis::Script::new(PUBLISH_LUA);
        let mut call = script.key(keys::rooms(self.node_id()));
        call.key(keys::EPOCH);
        for room in &batch.set {
            call.key(keys::code(&room.code));
        }
        for (_, code) in &batch.removed {
            call.key(keys::code(code));
        }
        call.arg(self.node_id())
            .arg(ttl_ms)
            .arg(if batch.full { "full" } else { "patch" })
            .arg(batch.set.len())
            .arg(batch.set.len())
            .arg(self.inner.room_id_base >> EPOCH_SHIFT);
        for room in &batch.set {
            // A struct of strings and integers always serializes.
            let json = serde_json::to_string(&room.summary).unwrap_or_default();
            call.arg(room.summary.room_id.get()).arg(json);
        }
        for (id, _) in &batch.removed {
            call.arg(id.get());
        }
        let mut redis = self.redis();
        let refused: Vec<usize> = bounded(call.invoke_async(&mut redis)).await?;
        Ok(refused
            .into_iter()
            .filter_map(|i| batch.set.get(i.checked_sub(1)?))
            .map(|room| room.code.clone())
            .collect())
    }

    /// On a clean stop: removes this node's rooms hash and releases `codes` at once, and
    /// the room id epoch counter when no other live node remains.
    ///
    /// # Errors
    /// Redis failed or did not answer in time (the keys then go with their TTL).
    pub async fn unpublish_rooms(&self, codes: &[String]) -> Result<(), ClusterError> {
        let batch = RoomBatch {
            full: true,
            set: Vec::new(),
            removed: codes
                .iter()
                .map(|code| (RoomId::new(0), code.clone()))
                .collect(),
        };
        self.publish_rooms(&batch).await?;
        let script = redis::Script::new(LAST_OUT_LUA);
        let mut call = script.key(keys::NODES);
        call.key(keys::EPOCH)
            .arg(self.node_id())
            .arg(NODE_TTL.as_millis() as u64);
        let mut redis = self.redis();
        let _: i64 = bounded(call.invoke_async(&mut redis)).await?;
        Ok(())
    }

    /// Every other live node's published rooms, each with its `node`, in no order.
    /// Summaries that do not parse are skipped.
    ///
    /// # Errors
    /// Redis failed or did not answer in time.
    pub async fn remote_rooms(&self) -> Result<Vec<RoomSummary>, ClusterError> {
        let nodes: Vec<String> = self
            .live_nodes()
            .await?
            .into_iter()
            .map(|n| n.id)
            .filter(|id| id != self.node_id())
            .collect();
        if nodes.is_empty() {
            return Ok(Vec::new());
        }
        let mut pipe = redis::pipe();
        for id in &nodes {
            pipe.cmd("HVALS").arg(keys::rooms(id));
        }
        let mut redis = self.redis();
        let values: Vec<Vec<String>> = bounded(pipe.query_async(&mut redis)).await?;
        let mut rooms = Vec::new();
        for (node, summaries) in nodes.into_iter().zip(values) {
            for json in summaries {
                if let Ok(mut summary) = serde_json::from_str::<RoomSummary>(&json) {
                    summary.node = Some(node.clone());
                    rooms.push(summary);
                }
            }
        }
        Ok(rooms)
    }

    /// The node holding join code `code` (normalised) and its public URL, if another live
    /// node holds it.
    ///
    /// # Errors
    /// Redis failed or did not answer in time.
    pub async fn find_code(&self, code: &str) -> Result<Option<(String, String)>, ClusterError> {
        let mut redis = self.redis();
        let node: Option<String> = bounded(
            redis::cmd("GET")
                .arg(keys::code(code))
                .query_async(&mut redis),
        )
        .await?;
        let Some(node) = node.filter(|n| n != self.node_id()) else {
            return Ok(None);
        };
        let url: Option<String> = bounded(
            redis::cmd("HGET")
                .arg(keys::node(&node))
                .arg("url")
                .query_async(&mut redis),
        )
        .await?;
        // No URL: the node is dead (its hash expired); its codes follow within the TTL.
        Ok(url.map(|url| (node, url)))
    }

    /// A join ticket for `JoinRoom { code, spectate }` on node `node`, for `player`
    /// (single use, valid for the ticket lifetime).
    pub fn issue_join_ticket(
        &self,
        node: &str,
        code: &str,
        spectate: bool,
        player: &str,
    ) -> String {
        let ttl = u64::try_from(self.inner.config.ticket_ttl.as_millis()).unwrap_or(u64::MAX);
        self.inner.config.key.sign(&SeatTicket {
            node: node.to_string(),
            room: RoomId::new(0),
            seat: 0,
            player: player.to_string(),
            name: None,
            expires_ms: unix_ms().saturating_add(ttl),
            nonce: super::ticket::new_nonce(),
            join: Some(super::JoinByCode {
                code: code.to_string(),
                spectate,
            }),
        })
    }
}

/// How often a node rewrites its rooms whole and reads the others': the heartbeat period.
pub const REFRESH: Duration = super::HEARTBEAT;

/// How long a node gathers room changes before it publishes them in one script.
pub const BATCH_DELAY: Duration = Duration::from_millis(20);
