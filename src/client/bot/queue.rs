//! The bot's queueing phase: `FindMatch`, waiting for the match, a cluster's `Redirect`
//! followed with its ticket, a called-off match waited out, and a stop while queued
//! answered with `CancelMatch`.

use std::time::{Duration, Instant};

use super::{Bot, BotStatus, GAME};
use crate::client::{ClientError, Connection};
use crate::protocol::{ClientMsg, ErrorCode, RoomJoined, ServerMsg};

/// How long a ticket from `Redirect` is good for (PROTOCOL.md, "Clusters").
const TICKET_LIFETIME: Duration = Duration::from_secs(10);

/// Stopped while queued, with the cancel answered `NotQueued`: how long the bot waits for
/// what the server may still send (a `MatchFound` that crossed the cancel; after a
/// called-off match, the `Queued` or `ClusterUnavailable` of its queueing again, which
/// waits on the cluster's Redis, up to a second a call) before it takes it that nothing
/// comes and ends.
const SETTLE: Duration = Duration::from_secs(5);

/// Whether following a redirect may work on a later try with the same ticket: the node
/// could not be reached, or could not check the ticket (which did not use it up).
fn worth_another_try(error: &ClientError) -> bool {
    matches!(
        error,
        ClientError::WebSocket(_)
            | ClientError::Timeout(..)
            | ClientError::Refused {
                code: ErrorCode::ClusterUnavailable,
                ..
            }
    )
}

/// Whether a redirect that could not be followed leaves its ticket unused for good (tried
/// while it lasted, or expired), so that the player may simply queue again.
fn ticket_lapsed(error: &ClientError) -> bool {
    worth_another_try(error)
        || matches!(
            error,
            ClientError::Refused {
                code: ErrorCode::TicketExpired,
                ..
            }
        )
}

impl Bot {
    /// Queues (unless `ask` is false: the server queued it again already) and waits for a
    /// room. `None` when stopped while queued.
    pub(super) async fn find_match(
        &mut self,
        ask: bool,
    ) -> Result<Option<RoomJoined>, ClientError> {
        let asked = Instant::now();
        if ask {
            self.send_find_match().await?;
        }
        let stop = self.stop.clone();
        // `FindMatch` refused with `ClusterUnavailable` so far.
        let mut unavailable = 0;
        // Stopped, and the cancel answered `NotQueued`: what the server still owes comes
        // at once (the `MatchFound` that crossed the cancel, or the `Queued` of a called-off
        // match queued again), so silence until `SETTLE` after the answer means nothing is
        // coming.
        let mut not_queued: Option<tokio::time::Instant> = None;
        loop {
            let msg = if self.cancel_unanswered {
                self.recv().await?
            } else if let Some(until) = not_queued {
                match tokio::time::timeout_at(until, self.recv()).await {
                    Ok(Ok(msg)) => msg,
                    // Silence (the connection's own read timeout may be the shorter).
                    Err(_) | Ok(Err(ClientError::Timeout(..))) => return Ok(None),
                    Ok(Err(error)) => return Err(error),
                }
            } else {
                tokio::select! {
                    msg = self.recv() => msg?,
                    _ = stop.cancelled() => {
                        self.send(&ClientMsg::CancelMatch).await?;
                        self.cancel_unanswered = true;
                        continue;
                    }
                }
            };
            match msg {
                ServerMsg::Queued { queue_size, .. } => {
                    // Queued after all (stopped: cancelled again).
                    not_queued = None;
                    let waiting = queue_size;
                    self.status
                        .send_replace(BotStatus::WaitingForOpponent { waiting });
                }
                ServerMsg::Pong { .. } => {}
                ServerMsg::RatingChanged { match_id, .. } => self.confirmed(match_id),
                ServerMsg::MatchFound(joined) => {
                    if let Some(seat) = joined.seat {
                        let room = joined.room_id;
                        self.status.send_replace(BotStatus::Playing { room, seat });
                    }
                    self.recorder.matched(asked, Instant::now());
                    return Ok(Some(joined));
                }
                ServerMsg::MatchCancelled { .. } => {
                    self.cancel_unanswered = false;
                    return Ok(None);
                }
                // A cluster placed the match on another node: go there with the ticket.
                // The reserved seat's `RoomJoined` stands for `MatchFound`.
                ServerMsg::Redirect { url, ticket } => {
                    let received = Instant::now();
                    match self.follow_redirect(&url, ticket).await {
                        Ok(()) => self.redirected = Some(received),
                        // The ticket could not be used while it lasted (its node out of
                        // reach, or unable to check it): the match is lost to this player
                        // and called off there; queue again from here, where the session
                        // still is (PROTOCOL.md, "Clusters").
                        // Stopped meanwhile: not queued anywhere now, so done.
                        Err(error) if ticket_lapsed(&error) && stop.is_cancelled() => {
                            return Ok(None);
                        }
                        Err(error) if ticket_lapsed(&error) => self.send_find_match().await?,
                        Err(error) => return Err(error),
                    }
                }
                // The redirected seat is gone (given up, or the match called off before
                // the ticket came): a new session on that node, which queues again there.
                ServerMsg::Error {
                    code: ErrorCode::ReservationExpired,
                    ..
                } if self.redirected.is_some() => {
                    self.redirected = None;
                    // Stopped meanwhile: not queued there, so done.
                    if stop.is_cancelled() {
                        return Ok(None);
                    }
                    self.send_find_match().await?;
                }
                ServerMsg::RoomJoined(joined) if self.redirected.is_some() => {
                    if let Some(received) = self.redirected.take() {
                        self.recorder.redirected(received, Instant::now());
                    }
                    if let Some(seat) = joined.seat {
                        let room = joined.room_id;
                        self.status.send_replace(BotStatus::Playing { room, seat });
                    }
                    self.recorder.matched(asked, Instant::now());
                    return Ok(Some(joined));
                }
                // The cancel crossed a match (`MatchFound` is on its way), or the server
                // has not queued this bot again yet after a called-off match.
                ServerMsg::Error {
                    code: ErrorCode::NotQueued,
                    ..
                } if self.cancel_unanswered => {
                    self.cancel_unanswered = false;
                    not_queued.get_or_insert(tokio::time::Instant::now() + SETTLE);
                }
                // Not queued (the cluster's Redis is away), and stopped: not asked again.
                ServerMsg::Error {
                    code: ErrorCode::ClusterUnavailable,
                    ..
                } if stop.is_cancelled() => return Ok(None),
                // The cluster's Redis is away (restarting, cut off): the queue is not
                // there to join. Ask again with backoff, as PROTOCOL.md says.
                ServerMsg::Error {
                    code: ErrorCode::ClusterUnavailable,
                    message,
                    ..
                } if !self.cancel_unanswered => {
                    if unavailable >= self.config.backoff.attempts {
                        let code = ErrorCode::ClusterUnavailable;
                        return Err(ClientError::Refused { code, message });
                    }
                    let delay = self.config.backoff.delay(unavailable, &mut self.rng);
                    unavailable += 1;
                    tokio::time::sleep(delay).await;
                    self.send_find_match().await?;
                }
                ServerMsg::Error { code, message, .. } => {
                    return Err(ClientError::Refused { code, message });
                }
                other => self
                    .recorder
                    .error(format!("unexpected while queued: {other:?}")),
            }
        }
    }

    /// Moves to the node a `Redirect` names: a new connection with the seat ticket, the old
    /// one closed with 1000. Later reconnects (chaos) go to the new node.
    async fn follow_redirect(&mut self, url: &str, ticket: String) -> Result<(), ClientError> {
        // A node that cannot be reached, or that cannot reach the cluster's Redis to check
        // the ticket (`ClusterUnavailable`, then close 4050: the ticket is not used up), may
        // take the ticket on a later try: again with backoff while it lasts (PROTOCOL.md,
        // "Clusters": 10 s).
        let lasts_until = Instant::now() + TICKET_LIFETIME;
        let mut attempt = 0;
        let (conn, welcome) = loop {
            let result = Connection::follow_redirect_with(
                url,
                ticket.clone(),
                self.config.codec,
                self.config.timeout,
                None,
                self.config.tls.as_ref(),
            )
            .await;
            match result {
                Err(error)
                    if worth_another_try(&error)
                        && attempt + 1 < self.config.backoff.attempts
                        && Instant::now() < lasts_until =>
                {
                    let delay = self.config.backoff.delay(attempt, &mut self.rng);
                    attempt += 1;
                    tokio::time::sleep(delay).await;
                }
                other => break other?,
            }
        };
        if let Some(old) = self.conn.replace(conn) {
            let _ = old.close().await;
        }
        self.token.clone_from(&welcome.resume_token);
        self.config.url = url.to_string();
        Ok(())
    }

    /// Sends `FindMatch` (the game's queue, no options), on the current connection.
    async fn send_find_match(&mut self) -> Result<(), ClientError> {
        self.send(&ClientMsg::FindMatch {
            game: GAME.into(),
            options: bytes::Bytes::new(),
        })
        .await
    }
}
