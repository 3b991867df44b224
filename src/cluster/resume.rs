//! Resuming a session through any node, and what a client hears when its node is gone.
//!
//! **Homes.** While a session holds a seat on a node, that node keeps
//! `ticksync:session:<SHA-256 of its resume token>` = `"<node id> <session id>"` in Redis
//! ([`keys::session`]; the lobby's `homes` task writes it within [`HOME_SYNC`] of the seat
//! or of a token rotation, renews it every third of its TTL, deletes it when the session
//! ends or its token rotates, and deletes all of them when the node stops cleanly). Its TTL
//! is the reconnect grace plus [`HOME_MARGIN`]: a node that dies leaves its homes for a
//! grace, so its players hear `NodeLost` instead of a bare `InvalidResumeToken`, and then
//! nothing. Only the token's hash is stored: reading Redis gives no one a session.
//!
//! **A resume on the wrong node.** `Hello { resume_token }` whose token this node does not
//! know looks the hash up ([`Cluster::find_home`], one Lua script):
//!
//! - the home is another **live** node (its `ticksync:node:<id>` key exists): this node
//!   answers `Redirect { url, ticket }` with a **resume ticket** naming that node, the
//!   session and the token's hash, and closes with 4052 (`RESUME_ELSEWHERE`). The client
//!   sends `Hello { resume_token, last_event_seq, ticket }` there; the home node checks
//!   the ticket ([`Cluster::redeem_resume`]: signature, expiry, node, single use) and that
//!   the session's token still hashes to the ticket's, then resumes it exactly as a local
//!   resume (`Welcome { resumed: true }`, then the room's events after `last_event_seq`
//!   and a snapshot).
//! - the home is a **dead** node (its key expired: no heartbeat for [`super::NODE_TTL`]):
//!   the script deletes the home, and this node opens a new session and answers
//!   `Welcome { resumed: false }`, then `Error NodeLost`. The dead node's rooms ended with
//!   it (results of games finished before are in the database); the client queues again.
//! - no home, or a home on this node (the session ended): `InvalidResumeToken`, as on a
//!   single node.
//!
//! **Resume tickets** are `resume:` followed by `BASE64URL(payload) "." BASE64URL(tag)`,
//! the payload the JSON of a [`ResumeTicket`] and the tag the cluster secret's HMAC-SHA256
//! of [`DOMAIN`] then the payload (the domain keeps a seat ticket's signature from passing
//! for a resume ticket's and back). The checks and their errors are the seat tickets'
//! ([`super::ticket`]); single use claims the same `ticksync:ticket:<nonce>` key.

use std::time::Duration;

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use super::ticket::{MAX_TICKET_CHARS, TicketError, new_nonce};
use super::{Cluster, ClusterError, bounded, keys, unix_ms};
use crate::protocol::SessionId;

/// What every resume ticket's text starts with (never the start of a seat ticket, whose
/// base64url has no `:`).
pub const RESUME_TICKET_PREFIX: &str = "resume:";

/// What a resume ticket's tag signs before its payload.
pub const DOMAIN: &[u8] = b"ticksync resume ticket v1\n";

/// A home outlives its node's last renewal by the reconnect grace plus this.
pub const HOME_MARGIN: Duration = Duration::from_secs(10);

/// How often a node writes the homes of sessions that took a seat or rotated their token.
pub const HOME_SYNC: Duration = Duration::from_millis(200);

/// What a resume ticket grants: taking back one session on one node, until a time.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ResumeTicket {
    /// The node that holds the session.
    pub node: String,
    /// The session on that node.
    pub session: SessionId,
    /// SHA-256 (hex) of the resume token the client showed: the session's token must
    /// still hash to it (a token rotated since voids the ticket). Empty in a signed-in
    /// player's ticket, which names the player instead.
    pub token_sha: String,
    /// A signed-in player's ticket (`user:<sub>`, see [`super::signin`]): the player's
    /// token, not a resume token, takes the session back. `None` for a resume token's.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub player: Option<String>,
    /// Unix time in milliseconds after which the ticket is refused.
    pub expires_ms: u64,
    /// 128 random bits in hex: the ticket's identity for single use.
    pub nonce: String,
}

/// SHA-256 of a resume token, in hex: the name of its home in Redis.
pub fn token_sha(token: &str) -> String {
    Sha256::digest(token.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// Whether `Hello.ticket` is a resume ticket (else it is read as a seat ticket).
pub fn is_resume_ticket(text: &str) -> bool {
    text.starts_with(RESUME_TICKET_PREFIX)
}

/// The text of a resume ticket signed with `key`.
pub fn sign(key: &super::TicketKey, ticket: &ResumeTicket) -> String {
    format!("{RESUME_TICKET_PREFIX}{}", key.seal(DOMAIN, ticket))
}

/// Checks a resume ticket's form, signature, expiry and node at `now_ms` on `this_node`
/// (single use is [`Cluster::redeem_resume`]'s).
///
/// # Errors
/// The first check that fails, as for seat tickets.
pub fn verify(
    key: &super::TicketKey,
    text: &str,
    now_ms: u64,
    this_node: &str,
) -> Result<ResumeTicket, TicketError> {
    if text.len() > MAX_TICKET_CHARS {
        return Err(TicketError::Malformed);
    }
    let text = text
        .strip_prefix(RESUME_TICKET_PREFIX)
        .ok_or(TicketError::Malformed)?;
    key.open(DOMAIN, text, now_ms, this_node)
}

impl super::ticket::Claims for ResumeTicket {
    fn node(&self) -> &str {
        &self.node
    }
    fn expires_ms(&self) -> u64 {
        self.expires_ms
    }
}

/// Where a resume token's session lives, as Redis says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Home {
    /// On another live node.
    Elsewhere {
        /// Its id.
        node: String,
        /// Its public URL.
        url: String,
        /// The session there.
        session: SessionId,
    },
    /// On a node that is dead (its heartbeat key expired); the home was deleted.
    Lost {
        /// The dead node's id.
        node: String,
    },
    /// No home (unknown, ended, rotated), or the home is this node.
    Unknown,
}

/// Looks a home up. Returns `{}` (none), `{'here'}`, `{'live', node, session, url}`, or
/// `{'lost', node}` after deleting the home of a dead node.
/// KEYS: the home. ARGV: this node's id, the node key prefix.
const FIND_HOME_LUA: &str = r"
local v = redis.call('GET', KEYS[1])
if not v then return {} end
local node, session = string.match(v, '^(%S+) (%d+)$')
if not node then return {} end
if node == ARGV[1] then return {'here'} end
local url = redis.call('HGET', ARGV[2] .. node, 'url')
if url then return {'live', node, session, url} end
redis.call('DEL', KEYS[1])
return {'lost', node}
";

impl Cluster {
    /// Where the session of resume token `token` lives (see the module doc).
    ///
    /// # Errors
    /// Redis failed or did not answer in time.
    pub async fn find_home(&self, token: &str) -> Result<Home, ClusterError> {
        self.find_home_at(keys::session(&token_sha(token))).await
    }

    /// Where the session that home `key` names lives (a resume token's or a signed-in
    /// player's, [`super::signin`]).
    pub(crate) async fn find_home_at(&self, key: String) -> Result<Home, ClusterError> {
        let mut redis = self.redis();
        let script = redis::Script::new(FIND_HOME_LUA);
        let mut call = script.key(key);
        call.arg(self.node_id()).arg(keys::node(""));
        let answer: Vec<String> = bounded(call.invoke_async(&mut redis)).await?;
        Ok(match answer.as_slice() {
            [kind, node, session, url] if kind == "live" => match session.parse() {
                Ok(session) => Home::Elsewhere {
                    node: node.clone(),
                    url: url.clone(),
                    session,
                },
                Err(_) => Home::Unknown,
            },
            [kind, node] if kind == "lost" => Home::Lost { node: node.clone() },
            _ => Home::Unknown,
        })
    }

    /// A resume ticket for session `session` on node `node`, whose token hashes to
    /// `token_sha`, valid for the configured ticket lifetime.
    pub fn issue_resume_ticket(&self, node: &str, session: SessionId, token_sha: &str) -> String {
        let ttl = u64::try_from(self.inner.config.ticket_ttl.as_millis()).unwrap_or(u64::MAX);
        sign(
            &self.inner.config.key,
            &ResumeTicket {
                node: node.to_string(),
                session,
                token_sha: token_sha.to_string(),
                player: None,
                expires_ms: unix_ms().saturating_add(ttl),
                nonce: new_nonce(),
            },
        )
    }

    /// Checks a resume ticket ([`verify`]) and uses it up (its nonce claimed in Redis, as
    /// a seat ticket's).
    ///
    /// # Errors
    /// The ticket's [`TicketError`]; [`TicketError::Unavailable`] when Redis does not
    /// answer (the ticket is then not used up).
    pub async fn redeem_resume(&self, text: &str) -> Result<ResumeTicket, TicketError> {
        let now = unix_ms();
        let ticket = verify(&self.inner.config.key, text, now, self.node_id())?;
        self.use_up(&ticket.nonce, ticket.expires_ms, now).await?;
        Ok(ticket)
    }

    /// One round trip of home changes: `put` homes (token hash, session) written with
    /// `ttl`, `delete` homes removed, `renew` homes given `ttl` again, and the signed-in
    /// players' homes changed as `players` says ([`super::signin`]).
    ///
    /// # Errors
    /// Redis failed or did not answer in time (the caller tries again later).
    pub async fn sync_homes(
        &self,
        put: &[(String, SessionId)],
        delete: &[String],
        renew: &[String],
        players: &super::signin::PlayerChanges,
        ttl: Duration,
    ) -> Result<(), ClusterError> {
        let ttl_ms = u64::try_from(ttl.as_millis()).unwrap_or(u64::MAX).max(1);
        let mut pipe = redis::pipe();
        for (sha, session) in put {
            pipe.cmd("SET")
                .arg(keys::session(sha))
                .arg(format!("{} {session}", self.node_id()))
                .arg("PX")
                .arg(ttl_ms)
                .ignore();
        }
        for sha in delete {
            pipe.cmd("DEL").arg(keys::session(sha)).ignore();
        }
        for sha in renew {
            pipe.cmd("PEXPIRE")
                .arg(keys::session(sha))
                .arg(ttl_ms)
                .ignore();
        }
        players.add_to(&mut pipe, self.node_id(), ttl_ms);
        let mut redis = self.redis();
        bounded(pipe.query_async::<()>(&mut redis)).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cluster::TicketKey;
    use base64::Engine as _;
    use base64::engine::general_purpose::URL_SAFE_NO_PAD;

    const NOW: u64 = 1_700_000_000_000;

    fn key() -> TicketKey {
        TicketKey::new(b"a cluster secret of some length").unwrap()
    }

    fn ticket() -> ResumeTicket {
        ResumeTicket {
            node: "node-b".into(),
            session: SessionId::new(7),
            token_sha: token_sha("a token"),
            player: None,
            expires_ms: NOW + 10_000,
            nonce: new_nonce(),
        }
    }

    #[test]
    fn a_resume_ticket_verifies_on_its_node_before_it_expires() {
        let ticket = ticket();
        let text = sign(&key(), &ticket);
        assert!(is_resume_ticket(&text));
        assert!(text.len() < MAX_TICKET_CHARS);
        assert_eq!(verify(&key(), &text, NOW, "node-b"), Ok(ticket.clone()));
        assert_eq!(
            verify(&key(), &text, ticket.expires_ms, "node-b"),
            Err(TicketError::Expired)
        );
        assert_eq!(
            verify(&key(), &text, NOW, "node-a"),
            Err(TicketError::WrongNode("node-b".into()))
        );
    }

    #[test]
    fn forged_altered_and_malformed_resume_tickets_are_refused() {
        let ticket = ticket();
        let other = TicketKey::new(b"another secret, just as long").unwrap();
        assert_eq!(
            verify(&key(), &sign(&other, &ticket), NOW, "node-b"),
            Err(TicketError::BadSignature)
        );
        // Another session under the old tag.
        let text = sign(&key(), &ticket);
        let (_, tag) = text.rsplit_once('.').unwrap();
        let altered = ResumeTicket {
            session: SessionId::new(8),
            ..ticket.clone()
        };
        let payload = URL_SAFE_NO_PAD.encode(serde_json::to_vec(&altered).unwrap());
        assert_eq!(
            verify(
                &key(),
                &format!("{RESUME_TICKET_PREFIX}{payload}.{tag}"),
                NOW,
                "node-b"
            ),
            Err(TicketError::BadSignature)
        );
        let long = format!("{RESUME_TICKET_PREFIX}{}", "a".repeat(MAX_TICKET_CHARS));
        for bad in [
            "",
            "resume:",
            "resume:.",
            "resume:abc",
            "resume:!!.??",
            long.as_str(),
        ] {
            assert!(
                matches!(
                    verify(&key(), bad, NOW, "node-b"),
                    Err(TicketError::Malformed | TicketError::BadSignature)
                ),
                "{bad:?}"
            );
        }
    }

    #[test]
    fn seat_and_resume_tickets_cannot_pass_for_each_other() {
        // A seat ticket's text under the resume prefix: its tag is not over the domain.
        let seat = crate::cluster::SeatTicket {
            node: "node-b".into(),
            room: crate::protocol::RoomId::new(1),
            seat: 0,
            player: "guest:node-a:7".into(),
            name: None,
            expires_ms: NOW + 10_000,
            nonce: new_nonce(),
            join: None,
        };
        let seat_text = key().sign(&seat);
        assert!(!is_resume_ticket(&seat_text));
        assert_eq!(
            verify(
                &key(),
                &format!("{RESUME_TICKET_PREFIX}{seat_text}"),
                NOW,
                "node-b"
            ),
            Err(TicketError::BadSignature)
        );
        // A resume ticket shown as a seat ticket is malformed there.
        let resume_text = sign(&key(), &ticket());
        assert!(key().verify(&resume_text, NOW, "node-b").is_err());
    }

    #[test]
    fn token_hashes_are_sha256_in_hex() {
        assert_eq!(
            token_sha("abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
    }
}
