//! The reader's `Hello`: the protocol version, the token or resume ticket it carries, a
//! session opened, resumed or bound to this connection, and in a cluster the redirects to a
//! player's home node (see [`crate::cluster`]).

use super::{Next, Reader};
use crate::cluster::resume::Home;
use crate::lobby::Binding;
use crate::protocol::{ClientMsg, ErrorCode, PROTOCOL_VERSION, ServerMsg, close_code};
use crate::transport::dispatch::error;

impl Reader<'_> {
    pub(super) fn hello_required(&self) -> Next {
        self.reply(&error(
            ErrorCode::HelloRequired,
            "the first message must be Hello",
            None,
        ));
        self.close(
            close_code::HELLO_REQUIRED,
            "the first message must be Hello",
        );
        Next::Stop
    }

    /// Checks and uses up a seat ticket from `Hello` (see [`crate::cluster::ticket`]).
    async fn redeem(
        &self,
        ticket: &str,
        identity: Option<&crate::auth::Identity>,
    ) -> Result<crate::cluster::SeatTicket, crate::cluster::TicketError> {
        let Some(cluster) = &self.ctx.cluster else {
            return Err(crate::cluster::TicketError::Unavailable(
                "this server is not in a cluster".into(),
            ));
        };
        cluster.redeem_as(ticket, identity).await
    }

    /// Checks and uses up a resume ticket from `Hello` (see [`crate::cluster::resume`]).
    async fn redeem_resume(
        &self,
        ticket: &str,
        identity: Option<&crate::auth::Identity>,
    ) -> Result<crate::cluster::resume::ResumeTicket, crate::cluster::TicketError> {
        let Some(cluster) = &self.ctx.cluster else {
            return Err(crate::cluster::TicketError::Unavailable(
                "this server is not in a cluster".into(),
            ));
        };
        cluster.redeem_resume_as(ticket, identity).await
    }

    /// Where the session of a resume token unknown here lives, in a cluster
    /// ([`Home::Unknown`] in none); `None` when Redis does not answer.
    async fn find_home(&self, token: &str) -> Option<Home> {
        let Some(cluster) = self.ctx.cluster.as_ref() else {
            return Some(Home::Unknown);
        };
        // Only what could be a token (48 hex digits) costs a Redis round trip.
        if token.len() != 48 || !token.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Some(Home::Unknown);
        }
        match cluster.find_home(token).await {
            Ok(home) => Some(home),
            Err(error) => {
                tracing::warn!(conn_id = self.conn_id, %error, "cannot look a session's home up");
                None
            }
        }
    }

    /// Where the session of signed-in player `identity`, which has none here, lives in a
    /// cluster ([`Home::Unknown`] in none, or when it has one here); `None` when Redis does
    /// not answer (see [`crate::cluster::signin`]).
    async fn find_player_home(&self, identity: &crate::auth::Identity) -> Option<Home> {
        let Some(cluster) = self.ctx.cluster.as_ref() else {
            return Some(Home::Unknown);
        };
        if self.ctx.lobby.has_player(&identity.player_id) {
            return Some(Home::Unknown);
        }
        let player = crate::cluster::signin::player_key(identity);
        match cluster.find_player_home(&player).await {
            Ok(home) => Some(home),
            Err(error) => {
                tracing::warn!(conn_id = self.conn_id, %error, "cannot look a player's session up");
                None
            }
        }
    }

    /// Tells the client the cluster cannot say now where its session is, and closes 1013.
    fn cluster_unavailable(&self) -> Next {
        // The token may be good on another node: not refused, retry.
        self.reply(&error(
            ErrorCode::ClusterUnavailable,
            "this session is not on this node, and the cluster cannot be \
             asked where it is now; try again",
            None,
        ));
        self.close(close_code::TRY_AGAIN_LATER, "the cluster cannot be reached");
        Next::Stop
    }

    pub(super) async fn on_hello(&mut self, msg: ClientMsg) -> Next {
        let ClientMsg::Hello {
            version,
            resume_token,
            last_event_seq,
            auth_token,
            ticket,
        } = msg
        else {
            return self.hello_required();
        };
        if version != PROTOCOL_VERSION {
            self.reply(&error(
                ErrorCode::UnsupportedVersion,
                format!("protocol version {version} is not supported; this server speaks {PROTOCOL_VERSION}"),
                None,
            ));
            self.close(
                close_code::UNSUPPORTED_VERSION,
                "unsupported protocol version",
            );
            return Next::Stop;
        }
        let identity = match self
            .ctx
            .security
            .authenticate(auth_token.as_deref(), self.peer.token.as_deref())
        {
            Ok(identity) => identity,
            Err(refused) => {
                tracing::debug!(conn_id = self.conn_id, ip = %self.peer.ip, %refused, "token refused");
                self.reply(&error(refused.error_code(), refused.to_string(), None));
                self.close(refused.close_code(), refused.close_reason());
                return Next::Stop;
            }
        };
        self.peer.token = None;
        // A resume ticket: a resume another node redirected here (`cluster::resume`).
        let (ticket, resume_ticket) = match ticket {
            Some(t) if crate::cluster::resume::is_resume_ticket(&t) => (None, Some(t)),
            other => (other, None),
        };
        let resume_ticket = match resume_ticket {
            Some(text) => match Box::pin(self.redeem_resume(&text, identity.as_ref())).await {
                Ok(ticket) => Some(ticket),
                Err(refused) => {
                    tracing::debug!(conn_id = self.conn_id, ip = %self.peer.ip, %refused, "resume ticket refused");
                    self.reply(&error(refused.error_code(), refused.to_string(), None));
                    self.close(close_code::TICKET_REFUSED, "resume ticket refused");
                    return Next::Stop;
                }
            },
            None => None,
        };
        let seat_ticket = match ticket {
            Some(ticket) => match Box::pin(self.redeem(&ticket, identity.as_ref())).await {
                Ok(seat) => Some(seat),
                Err(refused) => {
                    tracing::debug!(conn_id = self.conn_id, ip = %self.peer.ip, %refused, "seat ticket refused");
                    self.reply(&error(refused.error_code(), refused.to_string(), None));
                    self.close(close_code::TICKET_REFUSED, "seat ticket refused");
                    return Next::Stop;
                }
            },
            None => None,
        };
        // A signed-in player's resume ticket: another node found its session here.
        let (signin_ticket, resume_ticket) = match resume_ticket {
            Some(t) if t.player.is_some() => (Some(t), None),
            other => (None, other),
        };
        // The cluster sent this client here: no looking for its session elsewhere.
        let sent_here = seat_ticket.is_some() || signin_ticket.is_some();
        let binding = Binding {
            conn_id: self.conn_id,
            outbox: self.outbox.clone(),
        };
        let lobby = &self.ctx.lobby;
        // A redeemed ticket whose seat is held here takes the reserved session over, as a
        // resume does (the player arrives as that session, whoever it was at home).
        // A seat no longer held (its session ended when the match was called off) leaves the
        // ticket unused: `Welcome` for a new session, then `ReservationExpired` below.
        let reserved = seat_ticket
            .as_ref()
            .and_then(|seat| lobby.take_reservation(seat))
            .and_then(|token| lobby.resume(&token, binding.clone()).ok());
        let seat_ticket = seat_ticket.filter(|_| reserved.is_none());
        let redirected = match resume_ticket {
            Some(ticket) => match lobby.resume_redirected(&ticket, binding.clone()) {
                Ok(resumed) => {
                    self.ctx.metrics.wire().resume(true);
                    Some(resumed)
                }
                Err(code) => {
                    self.ctx.metrics.wire().resume(false);
                    self.reply(&error(
                        code,
                        "the session ended or was resumed elsewhere",
                        None,
                    ));
                    self.close(close_code::INVALID_RESUME_TOKEN, "invalid resume token");
                    return Next::Stop;
                }
            },
            None => None,
        };
        // Set when the resume token's node is gone: a new session, then `NodeLost`.
        let mut node_lost = None;
        let (session, token, resumed) = match (redirected.or(reserved), identity, resume_token) {
            (Some(reserved), _, _) => (reserved.session, reserved.token, true),
            (None, identity, resume_token) => match (identity, resume_token) {
                // An authenticated player's id finds its session; a resume token adds nothing.
                (Some(identity), _) => {
                    let login = match signin_ticket {
                        Some(ticket) => lobby.login_redirected(ticket.session, identity, binding),
                        None if sent_here => lobby.login(identity, binding),
                        None => match Box::pin(self.find_player_home(&identity)).await {
                            Some(Home::Elsewhere { node, url, session }) => {
                                let Some(cluster) = &self.ctx.cluster else {
                                    return Next::Stop;
                                };
                                let player = crate::cluster::signin::player_key(&identity);
                                let ticket = cluster.issue_signin_ticket(&node, session, &player);
                                self.reply(&ServerMsg::Redirect { url, ticket });
                                self.close(
                                    close_code::RESUME_ELSEWHERE,
                                    "the player's session is on another node",
                                );
                                return Next::Stop;
                            }
                            Some(Home::Lost { node }) => {
                                node_lost = Some(node);
                                lobby.login(identity, binding)
                            }
                            Some(Home::Unknown) => lobby.login(identity, binding),
                            None => return self.cluster_unavailable(),
                        },
                    };
                    self.ctx
                        .security
                        .auth_counters
                        .login(login.previous.is_some());
                    (login.session, login.token, login.resumed)
                }
                (None, None) => {
                    let (session, token) = lobby.open_session(binding);
                    (session, token, false)
                }
                (None, Some(token)) => match lobby.resume(&token, binding.clone()) {
                    Ok(resumed) => {
                        self.ctx.metrics.wire().resume(true);
                        (resumed.session, resumed.token, true)
                    }
                    Err(code) => match Box::pin(self.find_home(&token)).await {
                        Some(Home::Elsewhere { node, url, session }) => {
                            let Some(cluster) = &self.ctx.cluster else {
                                return Next::Stop;
                            };
                            let sha = crate::cluster::resume::token_sha(&token);
                            let ticket = cluster.issue_resume_ticket(&node, session, &sha);
                            self.reply(&ServerMsg::Redirect { url, ticket });
                            self.close(
                                close_code::RESUME_ELSEWHERE,
                                "the session is on another node",
                            );
                            return Next::Stop;
                        }
                        Some(Home::Lost { node }) => {
                            node_lost = Some(node);
                            let (session, token) = lobby.open_session(binding);
                            (session, token, false)
                        }
                        None => return self.cluster_unavailable(),
                        _ => {
                            self.ctx.metrics.wire().resume(false);
                            self.reply(&error(
                                code,
                                "resume token unknown, expired or already used",
                                None,
                            ));
                            self.close(close_code::INVALID_RESUME_TOKEN, "invalid resume token");
                            return Next::Stop;
                        }
                    },
                },
            },
        };
        self.reply(&ServerMsg::Welcome {
            version: PROTOCOL_VERSION,
            session_id: session.id(),
            resume_token: token,
            resumed,
            tick_hz: self.ctx.config.effective_tick_hz(),
        });
        if resumed {
            lobby.rejoin_room(&session, last_event_seq).await;
        }
        if let Some(node) = node_lost {
            self.reply(&error(
                ErrorCode::NodeLost,
                format!(
                    "node {node}, which held this session, left the cluster (no heartbeat): \
                     its rooms ended with it. This is a new session: queue again"
                ),
                None,
            ));
        }
        if let Some(join) = seat_ticket.as_ref().and_then(|seat| seat.join.as_ref()) {
            // A join ticket (`JoinRoom` on another node): joined here as by `JoinRoom`.
            if let Err(code) = lobby.join_by_ticket(&session, join).await {
                self.reply(&error(
                    code,
                    format!("the room of code {} could not be joined", join.code),
                    None,
                ));
            }
        } else if let Some(seat) = seat_ticket {
            // A good ticket whose seat is no longer held here.
            self.reply(&error(
                ErrorCode::ReservationExpired,
                format!(
                    "seat {} of room {} is not held on this node; queue again",
                    seat.seat, seat.room
                ),
                None,
            ));
        }
        tracing::debug!(
            conn_id = self.conn_id,
            ip = %self.peer.ip,
            session = session.id().get(),
            player = session.identity().map(|i| i.player_id.as_str()),
            resumed,
            "hello"
        );
        self.session = Some(session);
        Next::Continue
    }
}
