//! Keeps this node's session homes in Redis (`ticksync:session:<token hash>`, see
//! [`crate::cluster::resume`]) in step with the session table.
//!
//! One task per clustered node. Every [`HOME_SYNC`] it walks the table and compares the
//! sessions that hold a seat (a player's membership: only those outlive their connection)
//! with the homes it has written: a session newly seated, or whose token rotated (a
//! resume), gets its home written; a home whose session ended, left its seat, or rotated
//! its token is deleted. Every third of the TTL every home is renewed. All of it is one
//! pipeline per pass, and nothing at all when nothing changed and no renewal is due.
//!
//! In the same pipeline it keeps the homes of this node's signed-in players
//! (`ticksync:player:<hash of user:<sub>>`, see [`crate::cluster::signin`]): one per
//! player with a session here (when it has several, the seated one, then the newest; a
//! seat reserved for a player who has not arrived yet does not count: the player is still
//! on its own node),
//! written when made or changed, renewed with the others, deleted when the player has no
//! session here; deletes and renewals only while the home still names this node's session.
//!
//! The task remembers only what Redis acknowledged, so a failed pass (Redis away) is
//! simply done again by the next one. On shutdown it deletes every home it wrote: a node
//! that stops cleanly leaves nothing; one that dies leaves homes that expire within the
//! reconnect grace plus [`crate::cluster::resume::HOME_MARGIN`].

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use tokio::time::{Instant, MissedTickBehavior};
use tokio_util::sync::CancellationToken;

use super::sessions::SessionTable;
use crate::cluster::Cluster;
use crate::cluster::resume::{HOME_SYNC, token_sha};
use crate::cluster::signin::{PlayerChanges, player_key, player_sha};
use crate::protocol::SessionId;

/// A home written: the token it was written for and that token's hash.
struct Written {
    token: String,
    sha: String,
}

/// The homes task's state.
pub(crate) struct Homes {
    cluster: Cluster,
    sessions: Arc<SessionTable>,
    ttl: Duration,
    written: HashMap<SessionId, Written>,
    /// Player homes Redis acknowledged: player hash to session.
    players: HashMap<String, SessionId>,
    /// The player hash of each signed-in session seen (hashed once per session).
    player_shas: HashMap<SessionId, String>,
}

impl Homes {
    /// A task writing homes with `ttl` (the reconnect grace plus the margin).
    pub(crate) fn new(cluster: Cluster, sessions: Arc<SessionTable>, ttl: Duration) -> Homes {
        Homes {
            cluster,
            sessions,
            ttl,
            written: HashMap::new(),
            players: HashMap::new(),
            player_shas: HashMap::new(),
        }
    }

    pub(crate) async fn run(mut self, shutdown: CancellationToken) {
        let mut ticker = tokio::time::interval(HOME_SYNC);
        ticker.set_missed_tick_behavior(MissedTickBehavior::Delay);
        let renew_every = (self.ttl / 3).max(HOME_SYNC);
        let mut renewed = Instant::now();
        let mut failing = false;
        loop {
            tokio::select! {
                _ = shutdown.cancelled() => break,
                _ = ticker.tick() => {}
            }
            let renew = renewed.elapsed() >= renew_every;
            match self.sync(renew).await {
                Ok(()) => {
                    if renew {
                        renewed = Instant::now();
                    }
                    if failing {
                        failing = false;
                        tracing::info!("session homes are written again");
                    }
                }
                Err(error) => {
                    if !failing {
                        tracing::warn!(%error, "session homes not written; resumes through other nodes may fail until Redis answers");
                    }
                    failing = true;
                }
            }
        }
        let all: Vec<String> = self.written.into_values().map(|w| w.sha).collect();
        let players = PlayerChanges {
            delete: self.players.into_iter().collect(),
            ..PlayerChanges::default()
        };
        if !(all.is_empty() && players.is_empty())
            && let Err(error) = self
                .cluster
                .sync_homes(&[], &all, &[], &players, self.ttl)
                .await
        {
            tracing::warn!(%error, "session homes not deleted at shutdown; they expire with their TTL");
        }
    }

    /// One pass: writes, deletes and (when `renew`) renews homes; remembers what Redis
    /// took.
    async fn sync(&mut self, renew: bool) -> Result<(), crate::cluster::ClusterError> {
        let mut seen: HashMap<SessionId, Option<String>> = HashMap::new();
        // Each signed-in player's session here: (session, seated), the best one kept.
        let mut live_players: HashMap<String, (SessionId, bool)> = HashMap::new();
        let mut player_shas = HashMap::with_capacity(self.player_shas.len());
        for session in self.sessions.all() {
            let state = session.lock();
            let seated = state.room.is_some_and(|m| m.player);
            // A seat reserved for a player still on its own node is not its home yet.
            if let Some(identity) = session.identity().filter(|_| !state.awaiting_arrival) {
                let mine = (session.id(), seated);
                let sha = self
                    .player_shas
                    .remove(&session.id())
                    .unwrap_or_else(|| player_sha(&player_key(identity)));
                player_shas.insert(session.id(), sha.clone());
                live_players
                    .entry(sha)
                    .and_modify(|best| {
                        if (mine.1, mine.0) > (best.1, best.0) {
                            *best = mine;
                        }
                    })
                    .or_insert(mine);
            }
            if !seated {
                continue;
            }
            let changed = self
                .written
                .get(&session.id())
                .is_none_or(|w| w.token != state.token);
            // The token only when it changed: the rest keep their home as it is.
            seen.insert(session.id(), changed.then(|| state.token.clone()));
        }
        let mut put = Vec::new();
        let mut fresh = Vec::new();
        let mut delete = Vec::new();
        for (&id, token) in &seen {
            if let Some(token) = token {
                if let Some(old) = self.written.get(&id) {
                    delete.push(old.sha.clone());
                }
                let sha = token_sha(token);
                put.push((sha.clone(), id));
                fresh.push((id, token.clone(), sha));
            }
        }
        let gone: Vec<SessionId> = self
            .written
            .keys()
            .filter(|id| !seen.contains_key(id))
            .copied()
            .collect();
        for id in &gone {
            if let Some(old) = self.written.get(id) {
                delete.push(old.sha.clone());
            }
        }
        let renew_due = renew;
        let renew: Vec<String> = if renew {
            self.written
                .iter()
                .filter(|(id, _)| seen.get(id).is_some_and(Option::is_none))
                .map(|(_, w)| w.sha.clone())
                .collect()
        } else {
            Vec::new()
        };
        self.player_shas = player_shas;
        let live_players: HashMap<String, SessionId> = live_players
            .into_iter()
            .map(|(sha, (id, _))| (sha, id))
            .collect();
        let players = PlayerChanges::between(&self.players, &live_players, renew_due);
        if put.is_empty() && delete.is_empty() && renew.is_empty() && players.is_empty() {
            return Ok(());
        }
        self.cluster
            .sync_homes(&put, &delete, &renew, &players, self.ttl)
            .await?;
        self.players = live_players;
        for id in gone {
            self.written.remove(&id);
        }
        for (id, token, sha) in fresh {
            self.written.insert(id, Written { token, sha });
        }
        Ok(())
    }
}
