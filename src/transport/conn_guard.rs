//! One connection's limits as its reader applies them: every message through the rate
//! limiter before it is even decoded, then, per message kind, the room-code guard, the
//! directory budget and the connection's share of its shard's inbox, before anything
//! reaches the lobby or the engine.

use std::net::IpAddr;
use std::sync::Arc;
use std::time::Duration;

use governor::RateLimiter;
use governor::clock::DefaultClock;
use tokio_tungstenite::tungstenite::Message;

use super::dispatch::error;
use crate::limits::{
    Admit, CodeGuard, ConnLimiter, Guess, InboxShare, InboxShares, IpCodeLimiter, LimitCounters,
    LimitReason, LimitsConfig, bucket,
};
use crate::protocol::{ClientMsg, ErrorCode, ServerMsg, close_code};

/// Close the connection: send `reply` (if any), then close with `code` and `reason`.
#[derive(Debug)]
pub(crate) struct Close {
    pub(crate) reply: Option<ServerMsg>,
    pub(crate) code: u16,
    pub(crate) reason: &'static str,
}

/// What to do with a decoded message before dispatching it.
#[derive(Debug)]
pub(crate) enum Before {
    /// Dispatch it (an `Input` with its inbox share).
    Go(Option<InboxShare>),
    /// Answer with this refusal instead.
    Refuse(ServerMsg),
    /// Close the connection.
    Close(Close),
}

/// The per-connection limits.
pub(crate) struct ConnGuard {
    limiter: ConnLimiter,
    codes: CodeGuard,
    list_rooms: RateLimiter<
        governor::state::NotKeyed,
        governor::state::InMemoryState,
        DefaultClock,
        governor::middleware::NoOpMiddleware<<DefaultClock as governor::clock::Clock>::Instant>,
    >,
    shares: InboxShares,
    /// This connection's client address and the server-wide lookups per address.
    ip: IpAddr,
    ip_codes: Arc<IpCodeLimiter>,
}

impl ConnGuard {
    pub(crate) fn new(
        config: &LimitsConfig,
        ip: IpAddr,
        ip_codes: Arc<IpCodeLimiter>,
    ) -> ConnGuard {
        let list_rooms = bucket(
            config.list_rooms_per_second,
            Duration::from_secs(1),
            config.list_rooms_burst,
        );
        ConnGuard {
            limiter: ConnLimiter::new(config),
            codes: CodeGuard::new(config),
            list_rooms: RateLimiter::direct(list_rooms),
            shares: InboxShares::new(config.inbox_share),
            ip,
            ip_codes,
        }
    }

    /// Whether a message may be read at all. Close frames always may (they end it).
    /// Counts drops; a flood is closed with 1008.
    pub(crate) fn admit(
        &self,
        message: &Message,
        counters: &LimitCounters,
    ) -> Result<(), Option<Close>> {
        if matches!(message, Message::Close(_)) {
            return Ok(());
        }
        match self.limiter.admit(message.len()) {
            Admit::Pass => Ok(()),
            Admit::Drop(reason) => {
                counters.hit(reason);
                Err(None)
            }
            Admit::Close(reason) => {
                counters.hit(reason);
                counters.hit(LimitReason::Flood);
                Err(Some(Close {
                    reply: None,
                    code: close_code::POLICY_VIOLATION,
                    reason: "message rate limit exceeded",
                }))
            }
        }
    }

    /// The per-kind limits, before `msg` is dispatched.
    pub(crate) fn before(&mut self, msg: &ClientMsg, counters: &LimitCounters) -> Before {
        match msg {
            ClientMsg::JoinRoom { .. } => match self.codes.check() {
                Guess::Allowed if !self.ip_codes.allow(self.ip) => {
                    counters.hit(LimitReason::CodeAttemptsIp);
                    Before::Refuse(error(
                        ErrorCode::RateLimited,
                        "too many room codes from this address; wait before trying again",
                        None,
                    ))
                }
                Guess::Allowed => Before::Go(None),
                Guess::Limited => {
                    counters.hit(LimitReason::CodeAttemptsLimited);
                    Before::Refuse(error(
                        ErrorCode::RateLimited,
                        "too many room codes that named no room; wait before trying again",
                        None,
                    ))
                }
                Guess::Close => Before::Close(too_many_guesses(counters)),
            },
            ClientMsg::ListRooms
            | ClientMsg::ListRoomsAfter { .. }
            | ClientMsg::Leaderboard { .. } => {
                if self.list_rooms.check().is_ok() {
                    Before::Go(None)
                } else {
                    counters.hit(LimitReason::ListRooms);
                    Before::Refuse(error(
                        ErrorCode::RateLimited,
                        "too many room directory requests; slow down",
                        None,
                    ))
                }
            }
            ClientMsg::Input { seq, .. } => match self.shares.try_take() {
                Some(share) => Before::Go(Some(share)),
                None => {
                    counters.hit(LimitReason::InboxShare);
                    Before::Refuse(error(
                        ErrorCode::RateLimited,
                        "too many inputs waiting for the next tick; slow down",
                        Some(*seq),
                    ))
                }
            },
            _ => Before::Go(None),
        }
    }

    /// After a `JoinRoom` was dispatched: counts the attempt, and closes the connection
    /// once it has guessed too many codes.
    pub(crate) fn joined(
        &mut self,
        refused: Option<ErrorCode>,
        counters: &LimitCounters,
    ) -> Option<Close> {
        let unknown = refused == Some(ErrorCode::UnknownRoomCode);
        counters.code_attempt(!unknown);
        if unknown && self.codes.failed() == Guess::Close {
            return Some(too_many_guesses(counters));
        }
        None
    }
}

fn too_many_guesses(counters: &LimitCounters) -> Close {
    counters.hit(LimitReason::CodeGuessClose);
    Close {
        reply: Some(error(
            ErrorCode::TooManyCodeGuesses,
            "too many room codes that named no room",
            None,
        )),
        code: close_code::TOO_MANY_CODE_GUESSES,
        reason: "too many wrong room codes",
    }
}
