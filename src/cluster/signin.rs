//! Signed-in players across nodes: a player's identity finds its session on any node, and
//! a ticket works only for the player it was issued to.
//!
//! **Player homes.** Every node keeps, for each signed-in player it holds a session of,
//! `ticksync:player:<SHA-256 of "user:<sub>">` = `"<node id> <session id>"` in Redis
//! ([`keys::player`]). The lobby's `homes` task (the same one that keeps resume tokens'
//! homes, [`super::resume`], in the same pipeline) writes it within
//! [`super::resume::HOME_SYNC`] of the session being made here (a login, or a seat reserved
//! for a player redirected here), unconditionally: the most recent session wins. It
//! renews it every third of its TTL (writing it again if it is missing) and deletes it
//! when the session ends, both only while the record names this node's session or none
//! ([`PLAYER_IF_OURS_LUA`]): a newer session elsewhere is never clobbered. Its TTL is the
//! resume homes' (the reconnect grace plus [`super::resume::HOME_MARGIN`]).
//!
//! **A login on the wrong node.** `Hello` whose token (JWT) authenticates a player this
//! node holds no session of, with no seat or join ticket (a ticket means the cluster sent
//! the player here), looks the player's home up ([`Cluster::find_player_home`], the resume
//! tokens' script):
//!
//! - on another **live** node: `Redirect { url, ticket }` with a resume ticket naming that
//!   node, the session and the player ([`ResumeTicket::player`]), then close 4052
//!   (`RESUME_ELSEWHERE`), exactly as for a resume token. The client sends `Hello {
//!   auth_token, ticket }` (and its `last_event_seq`) there; the home node checks the
//!   ticket and that the token is the ticket's player, and logs the player in to that
//!   session as a second login on one node does: the session is taken over (the connection
//!   still bound to it closed with 4002, `SESSION_TAKEN_OVER`), `Welcome { resumed: true }`
//!   then its room's events after `last_event_seq` and a snapshot. If that session ended
//!   meanwhile, the player is logged in there afresh (no second lookup: no loops).
//! - on a **dead** node: the home is deleted; a new session here, `Welcome { resumed:
//!   false }`, then `Error NodeLost`.
//! - no home, or one naming this node: logged in here, as on one node.
//! - Redis does not answer: `Error ClusterUnavailable`, close 1013 (try again), as for a
//!   resume token: the player's game may be elsewhere.
//!
//! **Two logins at once.** The most recent login wins, as on one node: a login that finds
//! the player's session anywhere takes it over, and the connection it had is closed with
//! 4002. Two logins on two nodes within one sync period, neither of which finds a record
//! yet, each open a session; the record names the one written last, which later logins
//! find; the other lives as any session does (ended when its connection closes, or its
//! seat's grace runs out).
//!
//! **Tickets name their player.** A seat ticket names `user:<sub>` for a signed-in player
//! and `guest:<node>:<session>` for a guest; a join ticket the same. A ticket shown beside
//! a token (`Hello.auth_token` or the handshake's) of anyone but the ticket's player is
//! refused ([`check_player`]: `Error TicketWrongPlayer` (131), close 4050, and not used
//! up); a ticket shown with no token is the bearer's, as before.

use super::resume::{Home, ResumeTicket};
use super::ticket::{TicketError, new_nonce};
use super::{Cluster, ClusterError, SeatTicket, keys, unix_ms};
use crate::protocol::SessionId;

/// The key of a signed-in player (`user:<sub>`, as results are recorded under).
pub fn player_key(identity: &crate::auth::Identity) -> String {
    crate::storage::player_key_user(&identity.player_id)
}

/// SHA-256 of a player key, in hex: the name of the player's home in Redis.
pub fn player_sha(player: &str) -> String {
    super::resume::token_sha(player)
}

/// Checks that a ticket issued to `ticket_player` may be used by the client that showed
/// it, signed in as `identity` (`None`: no token, the ticket is the bearer's).
///
/// # Errors
/// [`TicketError::WrongPlayer`] when the token is another player's than the ticket's.
pub fn check_player(
    ticket_player: &str,
    identity: Option<&crate::auth::Identity>,
) -> Result<(), TicketError> {
    match identity {
        Some(identity) if player_key(identity) != ticket_player => Err(TicketError::WrongPlayer),
        _ => Ok(()),
    }
}

/// Deletes (`ARGV[2]` empty) or renews (`ARGV[2]` the TTL in ms) a player's home, only while
/// it names this node's session (`ARGV[1]`); a renewal also writes a home that is missing
/// (expired, or deleted by the older session's node). KEYS: the home.
pub const PLAYER_IF_OURS_LUA: &str = r"
local v = redis.call('GET', KEYS[1])
if ARGV[2] == '' then
  if v == ARGV[1] then redis.call('DEL', KEYS[1]) end
elseif v == ARGV[1] then
  redis.call('PEXPIRE', KEYS[1], ARGV[2])
elseif not v then
  redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
end
return 0
";

/// One pass's changes to this node's player homes, by player hash.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct PlayerChanges {
    /// Homes to write (unconditionally: the most recent session wins).
    pub put: Vec<(String, SessionId)>,
    /// Homes to delete, each only if it still names that session.
    pub delete: Vec<(String, SessionId)>,
    /// Homes to renew (or write, when missing), each only if none names another session.
    pub renew: Vec<(String, SessionId)>,
}

impl PlayerChanges {
    /// Whether there is nothing to send.
    pub fn is_empty(&self) -> bool {
        self.put.is_empty() && self.delete.is_empty() && self.renew.is_empty()
    }

    /// What one pass sends, given the homes Redis acknowledged (`written`) and this node's
    /// signed-in players now (`live`), both by player hash; renewals only when `renew`.
    pub fn between(
        written: &std::collections::HashMap<String, SessionId>,
        live: &std::collections::HashMap<String, SessionId>,
        renew: bool,
    ) -> PlayerChanges {
        let mut changes = PlayerChanges::default();
        for (sha, &session) in live {
            match written.get(sha) {
                Some(&old) if old == session => {
                    if renew {
                        changes.renew.push((sha.clone(), session));
                    }
                }
                _ => changes.put.push((sha.clone(), session)),
            }
        }
        for (sha, &session) in written {
            if !live.contains_key(sha) {
                changes.delete.push((sha.clone(), session));
            }
        }
        for list in [&mut changes.put, &mut changes.delete, &mut changes.renew] {
            list.sort();
        }
        changes
    }

    /// Adds the changes to `pipe`, for node `node`, homes living `ttl_ms`.
    pub(crate) fn add_to(&self, pipe: &mut redis::Pipeline, node: &str, ttl_ms: u64) {
        for (sha, session) in &self.put {
            pipe.cmd("SET")
                .arg(keys::player(sha))
                .arg(format!("{node} {session}"))
                .arg("PX")
                .arg(ttl_ms)
                .ignore();
        }
        let conditional = self
            .delete
            .iter()
            .map(|d| (d, String::new()))
            .chain(self.renew.iter().map(|r| (r, ttl_ms.to_string())));
        for ((sha, session), ttl) in conditional {
            pipe.cmd("EVAL")
                .arg(PLAYER_IF_OURS_LUA)
                .arg(1)
                .arg(keys::player(sha))
                .arg(format!("{node} {session}"))
                .arg(ttl)
                .ignore();
        }
    }
}

impl Cluster {
    /// Where the session of signed-in player `player` (`user:<sub>`) lives (see the module
    /// doc; the same answers as [`Cluster::find_home`]).
    ///
    /// # Errors
    /// Redis failed or did not answer in time.
    pub async fn find_player_home(&self, player: &str) -> Result<Home, ClusterError> {
        self.find_home_at(keys::player(&player_sha(player))).await
    }

    /// A resume ticket for signed-in player `player`'s session `session` on node `node`,
    /// valid for the configured ticket lifetime.
    pub fn issue_signin_ticket(&self, node: &str, session: SessionId, player: &str) -> String {
        let ttl = u64::try_from(self.inner.config.ticket_ttl.as_millis()).unwrap_or(u64::MAX);
        super::resume::sign(
            &self.inner.config.key,
            &ResumeTicket {
                node: node.to_string(),
                session,
                token_sha: String::new(),
                player: Some(player.to_string()),
                expires_ms: unix_ms().saturating_add(ttl),
                nonce: new_nonce(),
            },
        )
    }

    /// Checks a seat or join ticket ([`super::TicketKey::verify`]), then that the client
    /// signed in as `identity` may use it ([`check_player`]), then uses it up. A ticket
    /// refused for its player is not used up.
    ///
    /// # Errors
    /// The ticket's [`TicketError`].
    pub async fn redeem_as(
        &self,
        text: &str,
        identity: Option<&crate::auth::Identity>,
    ) -> Result<SeatTicket, TicketError> {
        let now = unix_ms();
        let ticket = self.inner.config.key.verify(text, now, self.node_id())?;
        check_player(&ticket.player, identity)?;
        self.use_up(&ticket.nonce, ticket.expires_ms, now).await?;
        Ok(ticket)
    }

    /// As [`Cluster::redeem_resume`], and a signed-in player's resume ticket only for that
    /// player's token ([`TicketError::WrongPlayer`] otherwise, not used up).
    ///
    /// # Errors
    /// The ticket's [`TicketError`].
    pub async fn redeem_resume_as(
        &self,
        text: &str,
        identity: Option<&crate::auth::Identity>,
    ) -> Result<ResumeTicket, TicketError> {
        let now = unix_ms();
        let ticket = super::resume::verify(&self.inner.config.key, text, now, self.node_id())?;
        if let Some(player) = &ticket.player {
            // Only the player's own token logs in as it: no token is not enough here.
            if identity.is_none() {
                return Err(TicketError::WrongPlayer);
            }
            check_player(player, identity)?;
        }
        self.use_up(&ticket.nonce, ticket.expires_ms, now).await?;
        Ok(ticket)
    }
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use super::*;
    use crate::auth::Identity;

    fn identity(sub: &str) -> Identity {
        Identity {
            player_id: sub.into(),
            display_name: format!("Player {sub}"),
            rating: None,
        }
    }

    #[test]
    fn a_ticket_is_only_for_its_player_or_a_bearer_without_a_token() {
        let ada = identity("ada");
        assert_eq!(check_player("user:ada", Some(&ada)), Ok(()));
        assert_eq!(check_player("user:ada", None), Ok(()));
        assert_eq!(
            check_player("user:bob", Some(&ada)),
            Err(TicketError::WrongPlayer)
        );
        // A guest's ticket is nobody's to use with a token.
        assert_eq!(
            check_player("guest:node-a:7", Some(&ada)),
            Err(TicketError::WrongPlayer)
        );
        assert_eq!(check_player("guest:node-a:7", None), Ok(()));
        // No prefix games: the whole key must match.
        assert_eq!(
            check_player("user:ada2", Some(&ada)),
            Err(TicketError::WrongPlayer)
        );
        assert_eq!(
            TicketError::WrongPlayer.error_code(),
            crate::protocol::ErrorCode::TicketWrongPlayer
        );
    }

    fn map(entries: &[(&str, u64)]) -> HashMap<String, SessionId> {
        entries
            .iter()
            .map(|(sha, id)| ((*sha).to_string(), SessionId::new(*id)))
            .collect()
    }

    #[test]
    fn player_homes_are_written_once_renewed_on_time_and_deleted_when_gone() {
        let none = map(&[]);
        // New players: written.
        let changes = PlayerChanges::between(&none, &map(&[("a", 1), ("b", 2)]), false);
        assert_eq!(
            changes.put,
            vec![
                ("a".into(), SessionId::new(1)),
                ("b".into(), SessionId::new(2))
            ]
        );
        assert!(changes.delete.is_empty() && changes.renew.is_empty());
        // Nothing changed, no renewal due: nothing to send.
        let written = map(&[("a", 1), ("b", 2)]);
        assert!(PlayerChanges::between(&written, &written, false).is_empty());
        // Renewal due: each (only if still ours, which Redis decides).
        let changes = PlayerChanges::between(&written, &written, true);
        assert_eq!(changes.renew.len(), 2);
        assert!(changes.put.is_empty() && changes.delete.is_empty());
        // b ended; a's player has another session here now (a seat reserved for it).
        let changes = PlayerChanges::between(&written, &map(&[("a", 3)]), true);
        assert_eq!(changes.put, vec![("a".into(), SessionId::new(3))]);
        assert_eq!(changes.delete, vec![("b".into(), SessionId::new(2))]);
        assert!(changes.renew.is_empty());
    }

    #[test]
    fn a_signin_ticket_names_its_player_and_no_token() {
        let key = crate::cluster::TicketKey::new(b"a cluster secret of some length").unwrap();
        let ticket = ResumeTicket {
            node: "node-b".into(),
            session: SessionId::new(7),
            token_sha: String::new(),
            player: Some("user:ada".into()),
            expires_ms: 2_000,
            nonce: new_nonce(),
        };
        let text = super::super::resume::sign(&key, &ticket);
        assert_eq!(
            super::super::resume::verify(&key, &text, 1_000, "node-b"),
            Ok(ticket)
        );
    }
}
