//! The global quick-match queue in Redis: enqueue, leave, and claim groups atomically,
//! with the single node's pairing rule ([`crate::lobby::MatchConfig`]'s windows, fill wait
//! and bot fill) decided by the same code, `lobby::matchmaker::Queues`.
//!
//! The lobby's global matchmaker (`lobby/global.rs`) drives it: it queues `FindMatch`es
//! here and places the groups it wins.
//!
//! **Keys.** One hash per game and options, `ticksync:queue:<game>:<options in hex>`:
//! field `<node id>/<session id>`, value `"<rating> <since_ms>"` (Redis's clock), followed
//! for a signed-in player by a space and its [`QueuedPlayer`] in JSON (who it is, so that
//! the node hosting its match seats it as that player). Its TTL
//! ([`QUEUE_TTL`]) is renewed by every enqueue and every read that finds it non-empty, so
//! it goes 10 s after the last node stops looking at it. A read drops the entries of nodes
//! that are no longer live (their `ticksync:node:<id>` key is gone): a dead node's queued
//! players leave the queue within the node TTL.
//!
//! **Claiming, not read-modify-write.** A node reads a queue ([`Cluster::queue_entries`]),
//! decides its groups in memory with `Queues`, and claims each group with one Lua script
//! that removes all of the group's entries only if every one is still there
//! ([`Cluster::claim`]). Two nodes deciding on the same snapshot cannot both win a player:
//! the second claim finds an entry gone and takes nothing.

use std::time::Duration;

use bytes::Bytes;
use serde::{Deserialize, Serialize};
use tokio::time::Instant;

use super::{Cluster, ClusterError, bounded, keys};
use crate::engine::GameEntry;
use crate::lobby::MatchConfig;
use crate::lobby::matchmaker::{Queues, Waiting};
use crate::protocol::SessionId;

/// A queue lives this long after the last enqueue or read that found players in it.
pub const QUEUE_TTL: Duration = Duration::from_secs(10);

/// Most entries one read of a queue returns (the oldest are not guaranteed to be among
/// them past this; a queue this long is matched from whatever the read returned).
pub const MAX_QUEUE_READ: usize = 1000;

/// Adds or replaces an entry with Redis's time, renews the queue's TTL.
/// KEYS: queue. ARGV: field, rating, TTL ms, identity suffix (empty, or a space and JSON).
const ENQUEUE_LUA: &str = r"
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
redis.call('HSET', KEYS[1], ARGV[1], ARGV[2] .. ' ' .. now .. ARGV[4])
redis.call('PEXPIRE', KEYS[1], ARGV[3])
return now
";

/// Reads a queue: Redis's time first, then field/value pairs of live nodes' entries;
/// entries of nodes whose key is gone are deleted. Renews the TTL while entries remain.
/// KEYS: queue. ARGV: node key prefix, TTL ms, most entries.
const READ_LUA: &str = r"
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local out = {now}
local most = tonumber(ARGV[3])
local fields = redis.call('HGETALL', KEYS[1])
for i = 1, #fields, 2 do
  local node = string.match(fields[i], '^([^/]+)/')
  if node and redis.call('EXISTS', ARGV[1] .. node) == 1 then
    if #out < 1 + 2 * most then
      table.insert(out, fields[i])
      table.insert(out, fields[i + 1])
    end
  else
    redis.call('HDEL', KEYS[1], fields[i])
  end
end
if redis.call('HLEN', KEYS[1]) > 0 then
  redis.call('PEXPIRE', KEYS[1], ARGV[2])
end
return out
";

/// Removes every given entry if all are present; else removes none. Returns 1 or 0.
/// KEYS: queue. ARGV: fields.
const CLAIM_LUA: &str = r"
for i = 1, #ARGV do
  if redis.call('HEXISTS', KEYS[1], ARGV[i]) == 0 then
    return 0
  end
end
redis.call('HDEL', KEYS[1], unpack(ARGV))
return 1
";

/// Who a signed-in queued player is (from its token on its own node): what the hosting
/// node needs to seat it as that player, not as a guest. Guests have none.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct QueuedPlayer {
    /// The token's `sub`: the player id (its results are stored as `user:<id>`).
    pub id: String,
    /// Its display name.
    pub name: String,
}

/// One queued player, anywhere in the cluster.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QueueEntry {
    /// The node the player's connection is on.
    pub node: String,
    /// The player's session id on that node.
    pub session: SessionId,
    /// The rating it queued with.
    pub rating: u16,
    /// How long it has waited, by Redis's clock.
    pub waited: Duration,
    /// Who it is, for a signed-in player.
    pub player: Option<QueuedPlayer>,
}

impl QueueEntry {
    fn field(&self) -> String {
        field(&self.node, self.session)
    }
}

fn field(node: &str, session: SessionId) -> String {
    format!("{node}/{session}")
}

/// The queue key of a game and its options (in bincode, as the lobby keeps them).
pub fn queue_key(game: &str, options: &[u8]) -> String {
    let hex: String = options.iter().map(|b| format!("{b:02x}")).collect();
    format!("{}{game}:{hex}", keys::QUEUE_PREFIX)
}

/// Parses one entry; `None` for anything malformed (skipped, never a panic).
fn parse_entry(field: &str, value: &str, now_ms: u64) -> Option<QueueEntry> {
    let (node, session) = field.split_once('/')?;
    let (rating, rest) = value.split_once(' ')?;
    let (since, player) = match rest.split_once(' ') {
        Some((since, json)) => (since, Some(serde_json::from_str(json).ok()?)),
        None => (rest, None),
    };
    let since: u64 = since.parse().ok()?;
    Some(QueueEntry {
        node: node.to_string(),
        session: session.parse().ok()?,
        rating: rating.parse().ok()?,
        waited: Duration::from_millis(now_ms.saturating_sub(since)),
        player,
    })
}

/// A group the queue allows: players to seat together (queue order) and bots for the
/// other seats, as `Queues` decides for a single node.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QueueGroup {
    /// The players, oldest first.
    pub players: Vec<QueueEntry>,
    /// Server bots for the remaining seats.
    pub bots: u8,
}

/// The groups `config`'s rules form from `entries` of one queue of `game` (pure: the
/// waits are the entries' own). Uses the single node's `Queues`, so the rules cannot
/// drift apart.
pub fn decide_groups(
    config: &MatchConfig,
    game: GameEntry,
    entries: Vec<QueueEntry>,
) -> Vec<QueueGroup> {
    let longest = entries.iter().map(|e| e.waited).max().unwrap_or_default();
    // Instants on a made-up line: `now` is `longest` after the base, each entry arrived
    // its wait before `now`.
    let base = Instant::now();
    let now = base + longest;
    let mut queues = Queues::new(config.clone());
    for (id, entry) in entries.into_iter().enumerate() {
        let since = base + (longest - entry.waited);
        queues.push(
            game,
            Bytes::new(),
            Waiting {
                id: SessionId::new(id as u64),
                rating: entry.rating,
                since,
                payload: entry,
            },
        );
    }
    queues
        .take_groups(now)
        .into_iter()
        .map(|group| QueueGroup {
            players: group.players.into_iter().map(|w| w.payload).collect(),
            bots: group.bots,
        })
        .collect()
}

impl Cluster {
    /// Queues this node's session `session` (a guest) with `rating` for `game` and
    /// `options`.
    ///
    /// # Errors
    /// Redis failed or did not answer in time.
    pub async fn enqueue(
        &self,
        game: &str,
        options: &[u8],
        session: SessionId,
        rating: u16,
    ) -> Result<(), ClusterError> {
        self.enqueue_as(game, options, session, rating, None).await
    }

    /// As [`Cluster::enqueue`], for a signed-in `player` when given.
    ///
    /// # Errors
    /// Redis failed or did not answer in time.
    pub async fn enqueue_as(
        &self,
        game: &str,
        options: &[u8],
        session: SessionId,
        rating: u16,
        player: Option<&QueuedPlayer>,
    ) -> Result<(), ClusterError> {
        let suffix = player
            .and_then(|p| serde_json::to_string(p).ok())
            .map_or_else(String::new, |json| format!(" {json}"));
        let mut redis = self.redis();
        let script = redis::Script::new(ENQUEUE_LUA);
        let mut call = script.key(queue_key(game, options));
        call.arg(field(self.node_id(), session))
            .arg(rating)
            .arg(QUEUE_TTL.as_millis() as u64)
            .arg(suffix);
        let _: u64 = bounded(call.invoke_async(&mut redis)).await?;
        Ok(())
    }

    /// Takes this node's session out of a queue; whether it was there.
    ///
    /// # Errors
    /// Redis failed or did not answer in time.
    pub async fn dequeue(
        &self,
        game: &str,
        options: &[u8],
        session: SessionId,
    ) -> Result<bool, ClusterError> {
        let mut redis = self.redis();
        let removed: u64 = bounded(
            redis::cmd("HDEL")
                .arg(queue_key(game, options))
                .arg(field(self.node_id(), session))
                .query_async(&mut redis),
        )
        .await?;
        Ok(removed > 0)
    }

    /// The live entries of a queue (dead nodes' entries are dropped by the read), in no
    /// particular order; at most [`MAX_QUEUE_READ`].
    ///
    /// # Errors
    /// Redis failed or did not answer in time.
    pub async fn queue_entries(
        &self,
        game: &str,
        options: &[u8],
    ) -> Result<Vec<QueueEntry>, ClusterError> {
        let mut redis = self.redis();
        let script = redis::Script::new(READ_LUA);
        let mut call = script.key(queue_key(game, options));
        call.arg(keys::node(""))
            .arg(QUEUE_TTL.as_millis() as u64)
            .arg(MAX_QUEUE_READ);
        let reply: Vec<redis::Value> = bounded(call.invoke_async(&mut redis)).await?;
        let mut values = reply
            .into_iter()
            .map(|v| redis::from_redis_value::<String>(v).ok());
        let now_ms: u64 = values
            .next()
            .flatten()
            .and_then(|t| t.parse().ok())
            .unwrap_or(0);
        let mut entries = Vec::new();
        while let (Some(field), Some(value)) = (values.next(), values.next()) {
            if let (Some(field), Some(value)) = (field, value)
                && let Some(entry) = parse_entry(&field, &value, now_ms)
            {
                entries.push(entry);
            }
        }
        // Oldest first, as the single node's queue is in arrival order.
        entries.sort_by(|a, b| b.waited.cmp(&a.waited).then(a.field().cmp(&b.field())));
        Ok(entries)
    }

    /// Takes `players` out of the queue, all or none: `true` when this call took them
    /// all, `false` when any was gone (claimed by another node, left, or dropped).
    ///
    /// # Errors
    /// Redis failed or did not answer in time (nothing was taken).
    pub async fn claim(
        &self,
        game: &str,
        options: &[u8],
        players: &[QueueEntry],
    ) -> Result<bool, ClusterError> {
        if players.is_empty() {
            return Ok(false);
        }
        let mut redis = self.redis();
        let script = redis::Script::new(CLAIM_LUA);
        let mut call = script.key(queue_key(game, options));
        for player in players {
            call.arg(player.field());
        }
        let taken: u64 = bounded(call.invoke_async(&mut redis)).await?;
        Ok(taken == 1)
    }

    /// Reads a queue, decides its groups with the single node's rules, and claims each
    /// one; returns the groups this node won.
    ///
    /// # Errors
    /// Redis failed or did not answer in time.
    pub async fn take_groups(
        &self,
        config: &MatchConfig,
        game: GameEntry,
        options: &[u8],
    ) -> Result<Vec<QueueGroup>, ClusterError> {
        let entries = self.queue_entries(game.name, options).await?;
        let mut won = Vec::new();
        for group in decide_groups(config, game, entries) {
            if self.claim(game.name, options, &group.players).await? {
                won.push(group);
            }
        }
        Ok(won)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::game::tictactoe::TicTacToe;

    fn entry(node: &str, session: u64, rating: u16, waited_s: f64) -> QueueEntry {
        QueueEntry {
            node: node.into(),
            session: SessionId::new(session),
            rating,
            waited: Duration::from_secs_f64(waited_s),
            player: None,
        }
    }

    fn config() -> MatchConfig {
        MatchConfig {
            initial_window: 100,
            widen_per_second: 100,
            max_window: 1000,
            ..MatchConfig::default()
        }
    }

    #[test]
    fn groups_follow_the_single_node_rules() {
        let ttt = GameEntry::of::<TicTacToe>();
        // Close ratings pair at once, across nodes.
        let groups = decide_groups(
            &config(),
            ttt,
            vec![entry("a", 1, 1500, 0.0), entry("b", 2, 1550, 0.0)],
        );
        assert_eq!(groups.len(), 1);
        assert_eq!(groups[0].players.len(), 2);
        assert_eq!(groups[0].bots, 0);
        // 400 apart: not yet; after 3 s of waiting the window (100 + 300) admits them.
        let far = vec![entry("a", 1, 1500, 0.0), entry("b", 2, 1900, 0.0)];
        assert!(decide_groups(&config(), ttt, far).is_empty());
        let waited = vec![entry("a", 1, 1500, 3.0), entry("b", 2, 1900, 0.0)];
        let groups = decide_groups(&config(), ttt, waited);
        assert_eq!(groups.len(), 1);
        // The oldest waiter anchors the group and comes first.
        assert_eq!(groups[0].players[0].session, SessionId::new(1));
        // Alone: tic-tac-toe needs two.
        assert!(decide_groups(&config(), ttt, vec![entry("a", 1, 1500, 60.0)]).is_empty());
    }

    #[test]
    fn bot_fill_applies_as_on_one_node() {
        let ttt = GameEntry::of::<TicTacToe>().with_bot::<TicTacToe>();
        let config = MatchConfig {
            bot_fill_after: Some(Duration::from_secs(5)),
            ..config()
        };
        assert!(decide_groups(&config, ttt, vec![entry("a", 1, 1500, 4.0)]).is_empty());
        let groups = decide_groups(&config, ttt, vec![entry("a", 1, 1500, 5.0)]);
        assert_eq!(
            groups,
            [QueueGroup {
                players: vec![entry("a", 1, 1500, 5.0)],
                bots: 1
            }]
        );
    }

    #[test]
    fn entries_parse_or_are_skipped() {
        let e = parse_entry("node-a/42", "1500 1000", 4000).unwrap();
        assert_eq!(e, entry("node-a", 42, 1500, 3.0));
        // A clock step back reads as no wait, not a panic.
        assert_eq!(
            parse_entry("a/1", "1500 5000", 4000).unwrap().waited,
            Duration::ZERO
        );
        // A signed-in player's entry names it; a name may hold spaces.
        let e = parse_entry("a/1", r#"1500 1000 {"id":"ada","name":"Ada L"}"#, 4000).unwrap();
        assert_eq!(
            e.player,
            Some(QueuedPlayer {
                id: "ada".into(),
                name: "Ada L".into()
            })
        );
        for (field, value) in [
            ("a/1", "1500 1000 {not json"),
            ("a", "1 2"),
            ("a/x", "1 2"),
            ("a/1", "1"),
            ("a/1", "x 2"),
            ("a/1", "70000 2"),
        ] {
            assert!(parse_entry(field, value, 9).is_none(), "{field} {value}");
        }
    }

    #[test]
    fn queue_keys_name_game_and_options() {
        assert_eq!(queue_key("tictactoe", &[]), "ticksync:queue:tictactoe:");
        assert_eq!(
            queue_key("tictactoe", &[1, 0xab]),
            "ticksync:queue:tictactoe:01ab"
        );
    }
}
