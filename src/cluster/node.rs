//! A node's registration: its heartbeat (one Lua script), the list of live nodes, leaving.

use std::sync::Arc;
use std::time::Duration;

use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

use super::{Cluster, ClusterError, HEARTBEAT, NODE_TTL, bounded, keys};

/// One heartbeat, atomically: refuses a first registration whose id a live node holds,
/// writes the node's hash with the node TTL, scores the node in the index with Redis's
/// clock, drops the index's members silent for longer than the TTL, and renews the
/// index's own TTL. Returns Redis's time in milliseconds, or -1 for a taken id.
///
/// KEYS: node hash, index. ARGV: node id, TTL in ms, "first" or "again", then the hash's
/// field/value pairs.
const HEARTBEAT_LUA: &str = r"
local ttl = tonumber(ARGV[2])
if ARGV[3] == 'first' and redis.call('EXISTS', KEYS[1]) == 1 then
  return -1
end
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
redis.call('HSET', KEYS[1], unpack(ARGV, 4))
redis.call('PEXPIRE', KEYS[1], ttl)
redis.call('ZADD', KEYS[2], now, ARGV[1])
redis.call('ZREMRANGEBYSCORE', KEYS[2], '-inf', '(' .. (now - ttl))
redis.call('PEXPIRE', KEYS[2], ttl)
return now
";

/// Leaving: the node's hash and its index entry go together.
const LEAVE_LUA: &str = r"
redis.call('DEL', KEYS[1])
redis.call('ZREM', KEYS[2], ARGV[1])
return 1
";

/// What a node reports in each heartbeat.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Load {
    /// Open WebSocket connections.
    pub connections: usize,
    /// Open rooms.
    pub rooms: usize,
    /// CPU time the process used over the last heartbeat period, in thousandths of one
    /// core (1000: one core busy all the time).
    pub cpu_permille: u32,
}

/// A live node, as the index and its hash describe it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NodeInfo {
    /// Its id.
    pub id: String,
    /// Where clients reach it.
    pub url: String,
    /// Its load at its last heartbeat.
    pub load: Load,
    /// When it joined, Unix milliseconds.
    pub started_at_ms: u64,
    /// Its last heartbeat, Unix milliseconds by Redis's clock.
    pub seen_ms: u64,
}

impl Cluster {
    /// Writes this node's first heartbeat, refusing an id a live node holds.
    pub(super) async fn register(&self) -> Result<(), ClusterError> {
        match self.write_heartbeat(Load::default(), true).await? {
            -1 => Err(ClusterError::NodeIdTaken(self.node_id().to_string())),
            _ => Ok(()),
        }
    }

    /// Writes one heartbeat with this load.
    ///
    /// # Errors
    /// Redis failed or did not answer in time.
    pub async fn heartbeat(&self, load: Load) -> Result<(), ClusterError> {
        self.write_heartbeat(load, false).await.map(|_| ())
    }

    async fn write_heartbeat(&self, load: Load, first: bool) -> Result<i64, ClusterError> {
        let ttl_ms = NODE_TTL.as_millis() as u64;
        let mut redis = self.redis();
        let script = redis::Script::new(HEARTBEAT_LUA);
        let mut call = script.key(keys::node(self.node_id()));
        call.key(keys::NODES)
            .arg(self.node_id())
            .arg(ttl_ms)
            .arg(if first { "first" } else { "again" })
            .arg("url")
            .arg(self.public_url())
            .arg("connections")
            .arg(load.connections)
            .arg("rooms")
            .arg(load.rooms)
            .arg("cpu_permille")
            .arg(load.cpu_permille)
            .arg("started_at_ms")
            .arg(self.inner.started_at_ms);
        bounded(call.invoke_async(&mut redis)).await
    }

    /// The live nodes (those that heart-beat within the node TTL), this one included,
    /// least loaded first (fewest connections, then rooms, then id).
    ///
    /// # Errors
    /// Redis failed or did not answer in time.
    pub async fn live_nodes(&self) -> Result<Vec<NodeInfo>, ClusterError> {
        let mut redis = self.redis();
        let time: (u64, u64) = bounded(redis::cmd("TIME").query_async(&mut redis)).await?;
        let now = time.0 * 1000 + time.1 / 1000;
        let ttl = NODE_TTL.as_millis() as u64;
        let members: Vec<(String, u64)> = bounded(
            redis::cmd("ZRANGEBYSCORE")
                .arg(keys::NODES)
                .arg(now.saturating_sub(ttl))
                .arg("+inf")
                .arg("WITHSCORES")
                .query_async(&mut redis),
        )
        .await?;
        let mut pipe = redis::pipe();
        for (id, _) in &members {
            pipe.cmd("HGETALL").arg(keys::node(id));
        }
        let hashes: Vec<std::collections::HashMap<String, String>> =
            bounded(pipe.query_async(&mut redis)).await?;
        let mut nodes: Vec<NodeInfo> = members
            .into_iter()
            .zip(hashes)
            // A hash gone (expired between the two reads) is a dead node.
            .filter_map(|((id, seen_ms), hash)| {
                let number = |field: &str| hash.get(field).and_then(|v| v.parse().ok());
                Some(NodeInfo {
                    id,
                    url: hash.get("url")?.clone(),
                    load: Load {
                        connections: number("connections")?,
                        rooms: number("rooms")?,
                        cpu_permille: hash.get("cpu_permille")?.parse().ok()?,
                    },
                    started_at_ms: number("started_at_ms")? as u64,
                    seen_ms,
                })
            })
            .collect();
        nodes.sort_by(|a, b| {
            (a.load.connections, a.load.rooms, &a.id).cmp(&(
                b.load.connections,
                b.load.rooms,
                &b.id,
            ))
        });
        Ok(nodes)
    }

    /// Removes this node from the cluster at once (its hash and its index entry), as a
    /// clean stop does; the others no longer see it.
    ///
    /// # Errors
    /// Redis failed or did not answer in time (the node then disappears with its TTL).
    pub async fn leave(&self) -> Result<(), ClusterError> {
        let mut redis = self.redis();
        let script = redis::Script::new(LEAVE_LUA);
        let mut call = script.key(keys::node(self.node_id()));
        call.key(keys::NODES).arg(self.node_id());
        let _: i64 = bounded(call.invoke_async(&mut redis)).await?;
        tracing::info!(node = %self.node_id(), "left the cluster");
        Ok(())
    }

    /// Stops this node's heartbeats and removes it from the cluster at once: other nodes
    /// place no more matches here. What a draining node does first (its rooms play on;
    /// its players may still be redirected elsewhere).
    ///
    /// # Errors
    /// Redis failed or did not answer in time (the node then disappears with its TTL).
    pub async fn retire(&self) -> Result<(), ClusterError> {
        self.inner
            .retired
            .store(true, std::sync::atomic::Ordering::Relaxed);
        self.leave().await
    }

    /// Whether [`Cluster::retire`] was called.
    pub fn is_retired(&self) -> bool {
        self.inner
            .retired
            .load(std::sync::atomic::Ordering::Relaxed)
    }

    /// Spawns the heartbeat task: a heartbeat every [`HEARTBEAT`] with the load `load`
    /// reads, until `shutdown`, then [`Cluster::leave`]. A failed heartbeat is logged
    /// (once per run of failures, and when they stop) and the next one tried on time.
    pub fn spawn_heartbeat(
        &self,
        load: Arc<dyn Fn() -> (usize, usize) + Send + Sync>,
        shutdown: CancellationToken,
        tracker: &TaskTracker,
    ) {
        let cluster = self.clone();
        tracker.spawn(async move {
            let mut ticker = tokio::time::interval(HEARTBEAT);
            ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            let mut cpu = CpuMeter::new();
            let mut failing = false;
            loop {
                tokio::select! {
                    _ = shutdown.cancelled() => break,
                    _ = ticker.tick() => {}
                }
                if cluster.is_retired() {
                    continue;
                }
                let (connections, rooms) = load();
                let load = Load {
                    connections,
                    rooms,
                    cpu_permille: cpu.permille(),
                };
                match cluster.heartbeat(load).await {
                    Ok(()) if failing => {
                        failing = false;
                        tracing::info!(node = %cluster.node_id(), "cluster heartbeats are back");
                    }
                    Ok(()) => {}
                    Err(error) if !failing => {
                        failing = true;
                        tracing::warn!(node = %cluster.node_id(), %error,
                            "cluster heartbeat failed; other nodes drop this one after {NODE_TTL:?} without one");
                    }
                    Err(_) => {}
                }
            }
            if cluster.is_retired() {
                return;
            }
            if let Err(error) = cluster.leave().await {
                tracing::warn!(node = %cluster.node_id(), %error,
                    "could not leave the cluster; this node's key expires within {NODE_TTL:?}");
            }
        });
    }
}

/// The process's CPU time per wall-clock time since the last reading.
struct CpuMeter {
    cpu: Duration,
    at: std::time::Instant,
}

impl CpuMeter {
    fn new() -> CpuMeter {
        CpuMeter {
            cpu: process_cpu(),
            at: std::time::Instant::now(),
        }
    }

    fn permille(&mut self) -> u32 {
        let (cpu, at) = (process_cpu(), std::time::Instant::now());
        let used = cpu.saturating_sub(self.cpu).as_secs_f64();
        let wall = at.duration_since(self.at).as_secs_f64();
        (self.cpu, self.at) = (cpu, at);
        if wall <= 0.0 {
            return 0;
        }
        (used / wall * 1000.0).round().min(f64::from(u32::MAX)) as u32
    }
}

fn process_cpu() -> Duration {
    cpu_time::ProcessTime::try_now().map_or(Duration::ZERO, |t| t.as_duration())
}
