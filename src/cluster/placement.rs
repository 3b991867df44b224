//! Which node hosts a match the global queue formed: a pure choice, values in, value out.
//!
//! Loads come from heartbeats, up to [`super::HEARTBEAT`] old, so "the least-loaded node"
//! alone sends every match formed in one second to the same node. Measured with the `ttt`
//! load on three nodes (BENCHMARKS.md, "Cluster"): all 300 players swung between two nodes
//! every second (each match moved both of them), and the third node, never first on the
//! id tie-break, hosted 14 of 6,294 games. The rules now:
//!
//! 1. **What this node already sent counts.** A node adds the players it placed on a host
//!    since that host's last heartbeat ([`Pending`]) to the heartbeat's connections.
//! 2. **Stay where the players are when that is fair.** Among the nodes holding players of
//!    the match, the least loaded hosts it if its load is within the slack of the least
//!    loaded node overall ([`slack`]: 10%, at least 8 connections): fewer players move.
//! 3. **Else the least loaded node**; ties go to the node holding more of the match's
//!    players, then to the lower id.

use std::collections::HashMap;

/// The slack is this share (percent) of the least loaded node's load...
pub const SLACK_PERCENT: usize = 10;
/// ...and at least this many connections.
pub const SLACK_MIN: usize = 8;

/// A live node as the choice sees it.
#[derive(Debug, Clone, Copy)]
pub struct Candidate<'a> {
    /// Its id.
    pub id: &'a str,
    /// Connections at its last heartbeat.
    pub connections: usize,
    /// When that heartbeat was (Unix milliseconds): what [`Pending`] counts since.
    pub seen_ms: u64,
}

/// Players this node placed on each host since that host's last heartbeat.
#[derive(Debug, Default)]
pub struct Pending {
    by_node: HashMap<String, (u64, usize)>,
}

impl Pending {
    /// Players placed on `node` since its heartbeat of `seen_ms`.
    pub fn players(&self, node: &str, seen_ms: u64) -> usize {
        match self.by_node.get(node) {
            Some(&(since, players)) if since == seen_ms => players,
            _ => 0,
        }
    }

    /// Notes `players` placed on `node`, whose last heartbeat was at `seen_ms`; counts from
    /// an older heartbeat are dropped (the new heartbeat's load includes them).
    pub fn add(&mut self, node: &str, seen_ms: u64, players: usize) {
        let entry = self.by_node.entry(node.to_string()).or_insert((seen_ms, 0));
        if entry.0 != seen_ms {
            *entry = (seen_ms, 0);
        }
        entry.1 += players;
    }

    /// Forgets nodes no longer live.
    pub fn retain_live(&mut self, live: &[Candidate<'_>]) {
        self.by_node
            .retain(|node, _| live.iter().any(|candidate| candidate.id == node));
    }
}

/// The slack around the least loaded node's `least` connections (rule 2).
pub fn slack(least: usize) -> usize {
    (least * SLACK_PERCENT / 100).max(SLACK_MIN)
}

/// The host for a match whose players are connected to the nodes `players_on` (one entry
/// per player), among the live `nodes`; `None` when there is no live node.
pub fn choose_host<'a>(
    nodes: &[Candidate<'a>],
    players_on: &[&str],
    pending: &Pending,
) -> Option<&'a str> {
    let load = |node: &Candidate<'_>| node.connections + pending.players(node.id, node.seen_ms);
    let holding = |node: &Candidate<'_>| players_on.iter().filter(|&&on| on == node.id).count();
    let least = nodes.iter().map(load).min()?;
    let best_holder = nodes
        .iter()
        .filter(|node| holding(node) > 0)
        .min_by_key(|node| (load(node), std::cmp::Reverse(holding(node)), node.id));
    if let Some(holder) = best_holder
        && load(holder) <= least + slack(least)
    {
        return Some(holder.id);
    }
    nodes
        .iter()
        .min_by_key(|node| (load(node), std::cmp::Reverse(holding(node)), node.id))
        .map(|node| node.id)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn nodes(loads: &[(&'static str, usize)]) -> Vec<Candidate<'static>> {
        loads
            .iter()
            .map(|&(id, connections)| Candidate {
                id,
                connections,
                seen_ms: 1_000,
            })
            .collect()
    }

    #[test]
    fn a_match_stays_with_its_players_when_loads_are_even() {
        let live = nodes(&[("a", 100), ("b", 100), ("c", 100)]);
        let pending = Pending::default();
        assert_eq!(
            choose_host(&live, &["b", "b"], &pending),
            Some("b"),
            "nobody moves"
        );
        assert_eq!(
            choose_host(&live, &["c", "b"], &pending),
            Some("b"),
            "tie: lower id"
        );
        assert_eq!(
            choose_host(&live, &["c", "c", "a"], &pending),
            Some("c"),
            "more of them"
        );
    }

    #[test]
    fn a_node_above_the_slack_does_not_host_even_its_own_players() {
        let live = nodes(&[("a", 200), ("b", 100), ("c", 150)]);
        assert_eq!(slack(100), 10);
        let pending = Pending::default();
        assert_eq!(choose_host(&live, &["a", "a"], &pending), Some("b"));
        // c is the best holder but 150 > 100 + 10: the least loaded hosts.
        assert_eq!(choose_host(&live, &["a", "c"], &pending), Some("b"));
        // Within the slack (at least 8 connections), the holder hosts.
        let live = nodes(&[("a", 7), ("b", 0)]);
        assert_eq!(choose_host(&live, &["a", "a"], &pending), Some("a"));
        assert_eq!(choose_host(&[], &["a"], &pending), None);
    }

    /// What herded every match of a second onto one node: the same stale heartbeat read
    /// for every match. Counting the players already sent spreads them.
    #[test]
    fn matches_placed_between_heartbeats_spread_over_the_nodes() {
        let live = nodes(&[("a", 0), ("b", 0), ("c", 0)]);
        let mut pending = Pending::default();
        let mut hosted: HashMap<&str, usize> = HashMap::new();
        // 30 pairs whose players are on a node that is not the least loaded.
        for i in 0..30 {
            let on = ["a", "b", "c"][i % 3];
            let host = choose_host(&live, &[on, on], &pending).unwrap();
            pending.add(host, 1_000, 2);
            *hosted.entry(host).or_default() += 1;
        }
        for node in ["a", "b", "c"] {
            assert_eq!(hosted[node], 10, "{hosted:?}");
        }
        // A new heartbeat from a replaces what was counted for it.
        assert_eq!(pending.players("a", 1_000), 20);
        assert_eq!(pending.players("a", 2_000), 0);
        pending.add("a", 2_000, 2);
        assert_eq!(pending.players("a", 2_000), 2);
        pending.retain_live(&nodes(&[("a", 0)]));
        assert_eq!(pending.players("b", 1_000), 0);
    }

    #[test]
    fn pending_players_tip_the_choice_to_an_idle_node() {
        let live = nodes(&[("a", 8), ("b", 8), ("c", 0)]);
        let mut pending = Pending::default();
        // a and b hold the players and are within 8 of c.
        assert_eq!(choose_host(&live, &["a", "b"], &pending), Some("a"));
        pending.add("a", 1_000, 2);
        assert_eq!(choose_host(&live, &["a", "b"], &pending), Some("b"));
        pending.add("b", 1_000, 2);
        // Both are now 10 > 0 + 8: the idle node hosts.
        assert_eq!(choose_host(&live, &["a", "b"], &pending), Some("c"));
    }
}
