//! Seat tickets: what a node hands a player it redirects, and what the target node checks.
//!
//! A ticket is `BASE64URL(payload) "." BASE64URL(tag)` (no padding), where the payload is
//! the JSON object of a [`SeatTicket`] and the tag its HMAC-SHA256 under the cluster secret
//! (`--cluster-secret`, shared by every node). The checks, in this order, each with its
//! own [`TicketError`] and so its own [`ErrorCode`]:
//!
//! 1. at most [`MAX_TICKET_CHARS`] characters, two base64url parts: else `TicketInvalid`;
//! 2. the tag verifies (compared in constant time): else `TicketInvalid` (forged or altered);
//! 3. the payload is a ticket: else `TicketInvalid`;
//! 4. `expires_ms` is after now (the wall clock, Unix milliseconds: nodes' clocks must agree
//!    to well within [`crate::cluster::ClusterConfig::ticket_ttl`], as NTP keeps them):
//!    else `TicketExpired`;
//! 5. `node` is this node's id: else `TicketWrongNode`;
//! 6. single use: the node claims `ticksync:ticket:<nonce>` in Redis with `SET NX PX`
//!    (alive until the ticket expires, plus a second): a second redemption, on any node,
//!    finds the key and gets `TicketUsed` ([`crate::cluster::Cluster::redeem`]).
//!
//! Steps 1 to 5 are pure ([`TicketKey::verify`], given the time), unit-tested below.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use hmac::{Hmac, Mac};
use serde::{Deserialize, Serialize};
use sha2::Sha256;

use crate::protocol::{ErrorCode, RoomId, Seat};

/// The longest ticket a node reads; longer ones are refused before decoding.
pub const MAX_TICKET_CHARS: usize = 1024;

/// The shortest cluster secret accepted, in bytes.
pub const MIN_SECRET_BYTES: usize = 16;

type HmacSha256 = Hmac<Sha256>;

/// What a seat ticket grants: one seat in one room on one node, to one player, until a time.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SeatTicket {
    /// The node the room is on ([`crate::cluster::ClusterConfig::node_id`]).
    pub node: String,
    /// The room on that node.
    pub room: RoomId,
    /// The player's place in the match's seating order (the room seats its players in
    /// that order in the seats its bots leave free, and chooses the numbers).
    pub seat: Seat,
    /// The player the seat is for: `user:<sub>` for an authenticated player, else
    /// `guest:<node>:<session id>` (the node the player was queued on).
    pub player: String,
    /// A signed-in player's display name (the host's session for the seat carries it with
    /// `player`); absent for a guest.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// Unix time in milliseconds after which the ticket is refused.
    pub expires_ms: u64,
    /// 128 random bits in hex: the ticket's identity for single use.
    pub nonce: String,
    /// A ticket from `JoinRoom` for a room on another node (see `cluster/rooms.rs`): the
    /// join code and whether to watch; `room` and `seat` are then 0 (the room on the
    /// named node decides the seat as for any `JoinRoom`). `None` for a reserved seat.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub join: Option<JoinByCode>,
}

/// What a join ticket asks of the node it names: `JoinRoom { code, spectate }` there.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct JoinByCode {
    /// The room's join code, normalised (upper case).
    pub code: String,
    /// `true` to watch without a seat.
    pub spectate: bool,
}

/// Why a ticket was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TicketError {
    /// Not a ticket: too long, not two base64url parts, or the payload is no ticket.
    #[error("the seat ticket is malformed")]
    Malformed,
    /// The signature does not verify under the cluster secret (forged or altered).
    #[error("the seat ticket's signature does not verify")]
    BadSignature,
    /// Its `expires_ms` has passed.
    #[error("the seat ticket has expired")]
    Expired,
    /// It names another node.
    #[error("the seat ticket is for node `{0}`, not this one")]
    WrongNode(String),
    /// It was redeemed before (here or on another node).
    #[error("the seat ticket was already used")]
    Used,
    /// It was issued to another player than the one whose token came with it (see
    /// [`super::signin`]).
    #[error("the ticket was issued to another player than this token's")]
    WrongPlayer,
    /// This server is not in a cluster, or Redis did not answer.
    #[error("cannot check seat tickets now: {0}")]
    Unavailable(String),
}

impl TicketError {
    /// The `Error.code` a client gets for this refusal.
    pub fn error_code(&self) -> ErrorCode {
        match self {
            TicketError::Malformed | TicketError::BadSignature => ErrorCode::TicketInvalid,
            TicketError::Expired => ErrorCode::TicketExpired,
            TicketError::WrongNode(_) => ErrorCode::TicketWrongNode,
            TicketError::Used => ErrorCode::TicketUsed,
            TicketError::WrongPlayer => ErrorCode::TicketWrongPlayer,
            TicketError::Unavailable(_) => ErrorCode::ClusterUnavailable,
        }
    }
}

/// The cluster secret, able to sign and verify tickets. Its `Debug` shows no secret.
#[derive(Clone)]
pub struct TicketKey {
    mac: HmacSha256,
}

impl std::fmt::Debug for TicketKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("TicketKey(..)")
    }
}

impl TicketKey {
    /// A key from the cluster secret.
    ///
    /// # Errors
    /// The secret is shorter than [`MIN_SECRET_BYTES`].
    pub fn new(secret: &[u8]) -> Result<TicketKey, String> {
        if secret.len() < MIN_SECRET_BYTES {
            return Err(format!(
                "--cluster-secret must be at least {MIN_SECRET_BYTES} bytes: it signs the seat \
                 tickets every node accepts, so a short one can be guessed"
            ));
        }
        // HMAC takes a key of any length; the error is unreachable but not unwrapped.
        HmacSha256::new_from_slice(secret)
            .map(|mac| TicketKey { mac })
            .map_err(|e| e.to_string())
    }

    /// The ticket's text: payload and signature, both base64url.
    pub fn sign(&self, ticket: &SeatTicket) -> String {
        self.seal(SEAT_DOMAIN, ticket)
    }

    /// Checks a ticket's form, signature, expiry and node (steps 1 to 5 of the module
    /// doc), at `now_ms` (Unix milliseconds) on node `this_node`. Single use is checked
    /// by [`crate::cluster::Cluster::redeem`].
    ///
    /// # Errors
    /// The first check that fails, as a [`TicketError`].
    pub fn verify(
        &self,
        text: &str,
        now_ms: u64,
        this_node: &str,
    ) -> Result<SeatTicket, TicketError> {
        self.open(SEAT_DOMAIN, text, now_ms, this_node)
    }

    /// `BASE64URL(json) "." BASE64URL(tag)`, the tag an HMAC-SHA256 of `domain` then the
    /// JSON: one format for every kind of ticket, the domain keeping one kind from passing
    /// for another.
    pub(crate) fn seal(&self, domain: &[u8], claims: &impl Serialize) -> String {
        // Structs of strings and integers always serialize.
        let payload = serde_json::to_vec(claims).unwrap_or_default();
        let mut mac = self.mac.clone();
        mac.update(domain);
        mac.update(&payload);
        let tag = mac.finalize().into_bytes();
        format!(
            "{}.{}",
            URL_SAFE_NO_PAD.encode(&payload),
            URL_SAFE_NO_PAD.encode(tag)
        )
    }

    /// Checks what [`TicketKey::seal`] made under `domain`: length, form, signature
    /// (constant time), then the claims' expiry at `now_ms` and node.
    pub(crate) fn open<T: Claims>(
        &self,
        domain: &[u8],
        text: &str,
        now_ms: u64,
        this_node: &str,
    ) -> Result<T, TicketError> {
        if text.len() > MAX_TICKET_CHARS {
            return Err(TicketError::Malformed);
        }
        let (payload, tag) = text.split_once('.').ok_or(TicketError::Malformed)?;
        let payload = URL_SAFE_NO_PAD
            .decode(payload)
            .map_err(|_| TicketError::Malformed)?;
        let tag = URL_SAFE_NO_PAD
            .decode(tag)
            .map_err(|_| TicketError::Malformed)?;
        let mut mac = self.mac.clone();
        mac.update(domain);
        mac.update(&payload);
        mac.verify_slice(&tag)
            .map_err(|_| TicketError::BadSignature)?;
        let claims: T = serde_json::from_slice(&payload).map_err(|_| TicketError::Malformed)?;
        if claims.expires_ms() <= now_ms {
            return Err(TicketError::Expired);
        }
        if claims.node() != this_node {
            return Err(TicketError::WrongNode(claims.node().to_string()));
        }
        Ok(claims)
    }
}

/// Seat tickets sign their payload alone (an empty domain): the format they had first.
const SEAT_DOMAIN: &[u8] = b"";

/// What [`TicketKey::open`] checks of any ticket: whose it is and until when.
pub(crate) trait Claims: serde::de::DeserializeOwned {
    /// The node the ticket is for.
    fn node(&self) -> &str;
    /// Unix milliseconds after which it is refused.
    fn expires_ms(&self) -> u64;
}

impl Claims for SeatTicket {
    fn node(&self) -> &str {
        &self.node
    }
    fn expires_ms(&self) -> u64 {
        self.expires_ms
    }
}

/// 128 random bits from the OS-seeded CSPRNG, in hex: a ticket's nonce.
pub fn new_nonce() -> String {
    format!("{:032x}", rand::random::<u128>())
}

#[cfg(test)]
mod tests {
    use super::*;

    const NOW: u64 = 1_700_000_000_000;

    fn key() -> TicketKey {
        TicketKey::new(b"a cluster secret of some length").unwrap()
    }

    fn ticket() -> SeatTicket {
        SeatTicket {
            node: "node-b".into(),
            room: crate::protocol::RoomId::new(42),
            seat: 1,
            player: "guest:node-a:7".into(),
            name: None,
            expires_ms: NOW + 10_000,
            nonce: new_nonce(),
            join: None,
        }
    }

    #[test]
    fn a_signed_ticket_verifies_on_its_node_before_it_expires() {
        let ticket = ticket();
        let text = key().sign(&ticket);
        assert!(text.len() < MAX_TICKET_CHARS);
        assert_eq!(key().verify(&text, NOW, "node-b"), Ok(ticket.clone()));
        assert_eq!(
            key().verify(&text, ticket.expires_ms - 1, "node-b"),
            Ok(ticket)
        );
    }

    #[test]
    fn forged_and_altered_tickets_are_refused() {
        let ticket = ticket();
        // Signed with another secret.
        let other = TicketKey::new(b"another secret, just as long").unwrap();
        let forged = other.sign(&ticket);
        assert_eq!(
            key().verify(&forged, NOW, "node-b"),
            Err(TicketError::BadSignature)
        );
        // The payload altered (another seat), the old signature kept.
        let text = key().sign(&ticket);
        let (_, tag) = text.split_once('.').unwrap();
        let altered = SeatTicket { seat: 0, ..ticket };
        let payload = URL_SAFE_NO_PAD.encode(serde_json::to_vec(&altered).unwrap());
        assert_eq!(
            key().verify(&format!("{payload}.{tag}"), NOW, "node-b"),
            Err(TicketError::BadSignature)
        );
        assert_eq!(
            TicketError::BadSignature.error_code(),
            ErrorCode::TicketInvalid
        );
    }

    #[test]
    fn malformed_tickets_are_refused_without_panicking() {
        let long = "a".repeat(MAX_TICKET_CHARS + 1);
        for bad in ["", ".", "abc", "a.b.c", "!!.??", "e30.", long.as_str()] {
            assert!(
                matches!(
                    key().verify(bad, NOW, "node-b"),
                    Err(TicketError::Malformed | TicketError::BadSignature)
                ),
                "{bad:?}"
            );
        }
        // Correctly signed bytes that are not a ticket.
        let mut mac = key().mac;
        mac.update(b"{}");
        let tag = URL_SAFE_NO_PAD.encode(mac.finalize().into_bytes());
        let text = format!("{}.{tag}", URL_SAFE_NO_PAD.encode(b"{}"));
        assert_eq!(
            key().verify(&text, NOW, "node-b"),
            Err(TicketError::Malformed)
        );
    }

    #[test]
    fn expired_tickets_are_refused() {
        let ticket = ticket();
        let text = key().sign(&ticket);
        assert_eq!(
            key().verify(&text, ticket.expires_ms, "node-b"),
            Err(TicketError::Expired)
        );
        assert_eq!(TicketError::Expired.error_code(), ErrorCode::TicketExpired);
    }

    #[test]
    fn tickets_for_another_node_are_refused() {
        let text = key().sign(&ticket());
        assert_eq!(
            key().verify(&text, NOW, "node-c"),
            Err(TicketError::WrongNode("node-b".into()))
        );
        assert_eq!(
            TicketError::WrongNode(String::new()).error_code(),
            ErrorCode::TicketWrongNode
        );
    }

    #[test]
    fn short_secrets_are_refused_and_debug_shows_none() {
        assert!(TicketKey::new(b"short").is_err());
        assert_eq!(format!("{:?}", key()), "TicketKey(..)");
    }

    #[test]
    fn the_largest_signed_in_player_fits_in_a_ticket() {
        // The longest node id, player id (all quotes: escaped, twice the bytes) and
        // display name (32 four-byte characters) still make a ticket a node reads.
        let ticket = SeatTicket {
            node: "n".repeat(crate::cluster::MAX_NODE_ID_CHARS),
            room: crate::protocol::RoomId::new(u64::MAX),
            seat: u8::MAX,
            player: format!(
                "user:{}",
                "\"".repeat(crate::auth::text::MAX_PLAYER_ID_BYTES)
            ),
            name: Some("\u{1F600}".repeat(crate::auth::text::MAX_DISPLAY_NAME_CHARS)),
            expires_ms: u64::MAX,
            nonce: new_nonce(),
            join: None,
        };
        let text = key().sign(&ticket);
        assert!(text.len() <= MAX_TICKET_CHARS, "{}", text.len());
        assert_eq!(key().verify(&text, NOW, &ticket.node), Ok(ticket));
    }

    #[test]
    fn nonces_are_128_bits_of_hex_and_differ() {
        let (a, b) = (new_nonce(), new_nonce());
        assert_eq!(a.len(), 32);
        assert!(a.bytes().all(|c| c.is_ascii_hexdigit()));
        assert_ne!(a, b);
    }
}
