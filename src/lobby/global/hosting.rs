//! The hosting side of a match across the cluster: what other nodes send this node's
//! global queue (`NodeMsg`): a placement to host here (the room, this node's players
//! seated, the others' seats reserved and their nodes asked to redirect them), or a
//! `Redirect` for one of this node's queued players.

use bytes::Bytes;
use tokio::time::Instant;

use super::{GlobalMatch, HOSTED_KEEP, Hosted, Reservation};
use crate::cluster::RESERVATION_MARGIN;
use crate::cluster::inbox::{NodeMsg, Placement};
use crate::engine::{BotFill, Member, NewRoom, Reserved};
use crate::lobby::matchmaker::{quick_match_settings, settle_seated};
use crate::lobby::sessions::{Binding, Membership};
use crate::outbox::Outbox;
use crate::protocol::{ServerMsg, SessionId};

impl GlobalMatch {
    pub(super) async fn on_node_msg(&mut self, msg: NodeMsg) {
        match msg {
            NodeMsg::Place(placement) => self.host(placement).await,
            NodeMsg::Redirect {
                session,
                url,
                ticket,
            } => {
                let Some(waiter) = self.forget(session) else {
                    return;
                };
                let outbox = {
                    let mut state = waiter.session.lock();
                    state.queued = None;
                    state.outbox().cloned()
                };
                if let Some(outbox) = outbox {
                    outbox.push_msg(&ServerMsg::Redirect { url, ticket });
                }
            }
        }
    }

    /// Hosts a placed match here: the room, this node's players seated, the others'
    /// seats reserved and their nodes asked to redirect them.
    pub(super) async fn host(&mut self, placement: Placement) {
        let Some(game) = self.engine.registry().get(&placement.game) else {
            tracing::warn!(game = %placement.game, "global queue: placement of an unknown game dropped");
            return;
        };
        let me = self.cluster.node_id().to_string();
        if placement
            .seats
            .iter()
            .any(|s| s.node == me && !self.waits_for(&placement, s.session))
        {
            self.call_off_unhosted(&placement, &me).await;
            return;
        }
        let addr = self.engine.place_room();
        let code = self.directory.register(addr);
        let mut members = Vec::with_capacity(placement.seats.len());
        // This node's players, each with the connection it was seated through.
        let mut here = Vec::new();
        let mut reserved = Vec::new();
        let mut ratings = Vec::with_capacity(placement.seats.len());
        let mut redirects = Vec::new();
        let wait = self.cluster.ticket_ttl() + RESERVATION_MARGIN;
        for placed in &placement.seats {
            let local = if placed.node == me {
                self.forget(placed.session)
            } else {
                None
            };
            let (session, outbox) = match local {
                Some(waiter) => {
                    ratings.push((waiter.session.id(), waiter.rating));
                    let mut state = waiter.session.lock();
                    state.queued = None;
                    state.room = Some(Membership {
                        addr,
                        player: true,
                        seat: None,
                        joining: false,
                    });
                    // No connection now (a resume may be on its way): seated as absent,
                    // then settled once the room exists.
                    let outbox = state
                        .outbox()
                        .cloned()
                        .unwrap_or_else(|| Outbox::new(crate::codec::Codec::Bincode, 1));
                    drop(state);
                    here.push((waiter.session.clone(), outbox.clone()));
                    (waiter.session.id(), outbox)
                }
                None => {
                    // A player queued on another node (every one queued here is still
                    // waiting, checked above): a reserved session, seated but away until
                    // its ticket is redeemed.
                    let outbox = Outbox::new(crate::codec::Codec::Bincode, self.outbox_events);
                    let binding = Binding {
                        conn_id: 0,
                        outbox: outbox.clone(),
                    };
                    // A signed-in player arrives as itself: its identity came with its
                    // queue entry, and its rating is the one it was matched with.
                    let identity = placed.player.as_ref().map(|p| crate::auth::Identity {
                        player_id: p.id.clone(),
                        display_name: p.name.clone(),
                        rating: Some(placed.rating),
                    });
                    let (session, token) =
                        self.sessions.open_as(binding, self.chat_burst, identity);
                    {
                        let mut state = session.lock();
                        state.binding = None;
                        state.awaiting_arrival = true;
                        // Away from the deadline on: the lobby's reaper leaves it to the
                        // room until then.
                        state.disconnected_at = Some(std::time::Instant::now() + wait);
                        state.rating = placed.rating;
                        if placed.player.is_some() {
                            state.set_game_rating(game.name, placed.rating);
                        }
                        state.room = Some(Membership {
                            addr,
                            player: true,
                            seat: None,
                            joining: false,
                        });
                    }
                    reserved.push(session.id());
                    ratings.push((session.id(), placed.rating));
                    let player = session.player_key_as_from(&placed.node, placed.session);
                    let ticket = self.cluster.issue_ticket_for(
                        &me,
                        addr.id,
                        placed.seat,
                        &player,
                        placed.player.as_ref().map(|p| p.name.as_str()),
                    );
                    self.reservations.insert(
                        ticket.nonce.clone(),
                        Reservation {
                            room: addr.id,
                            seat: placed.seat,
                            player,
                            token,
                            expires: std::time::Instant::now() + self.cluster.ticket_ttl(),
                        },
                    );
                    redirects.push((placed.node.clone(), placed.session, ticket.text));
                    (session.id(), outbox)
                }
            };
            members.push(Member { session, outbox });
        }
        let room = NewRoom {
            game,
            settings: quick_match_settings(Bytes::from(placement.options.clone())),
            code,
            public: true,
            players: members,
            bots: BotFill {
                count: placement.bots,
                strategy: self.config.bot_strategy.clone(),
            },
            start_now: true,
            reserved: Reserved {
                sessions: reserved,
                wait,
            },
        };
        if self.engine.create_room(addr, room).await.is_err() {
            self.directory.remove(addr.id);
            return;
        }
        let now = Instant::now();
        self.hosted.retain(|_, h| h.until > now);
        self.hosted.insert(
            addr.id,
            Hosted {
                game,
                options: Bytes::from(placement.options),
                ratings,
                until: now + wait + HOSTED_KEEP,
            },
        );
        settle_seated(&self.engine, &self.sessions, addr, here).await;
        let url = self.cluster.public_url().to_string();
        for (node, session, ticket) in redirects {
            let msg = NodeMsg::Redirect {
                session,
                url: url.clone(),
                ticket,
            };
            if let Err(error) = self.cluster.send_to(&node, &msg).await {
                tracing::warn!(%error, %node, "global queue: redirect not sent; the seat waits out its grace");
            }
        }
    }

    /// Whether this node's player `session` still waits in the queue `placement` was
    /// formed from: still a waiter here, for that game and those options, with a session
    /// that has not ended (a closed connection's `Remove` may still be on its way).
    fn waits_for(&self, placement: &Placement, session: SessionId) -> bool {
        self.waiters.get(&session).is_some_and(|w| {
            w.game.name == placement.game && w.options[..] == placement.options[..]
        }) && self.sessions.get(session).is_some()
    }

    /// Calls off a placement that names a player queued here who no longer waits for it:
    /// it left the queue after the claim and before the placement came (its `Remove` or
    /// `Cancel` came first, or its session ended and the `Remove` is on its way), queued
    /// again for another game, or another placement seated it. The match cannot be played
    /// as placed; hosting it anyway would hold the others for the whole reservation wait
    /// before calling it off, or hand a player a win over an opponent who never knew of the
    /// game. No room is made and nobody hears of it: this node's players who still wait
    /// for it are queued again at once (their entries went with the claim; like any entry
    /// queued again, from now on, so they lose their time waited); the other nodes' players
    /// are queued again by their own nodes once their entries have been missing for
    /// [`super::CLAIMED_WAIT`].
    async fn call_off_unhosted(&mut self, placement: &Placement, me: &str) {
        tracing::info!(
            game = %placement.game,
            "global queue: a placement named a player no longer queued here; not hosted, \
             its players are queued again"
        );
        let still: Vec<SessionId> = placement
            .seats
            .iter()
            .filter(|s| s.node == me && self.waits_for(placement, s.session))
            .map(|s| s.session)
            .collect();
        for session in still {
            let Some(waiter) = self.waiters.get_mut(&session) else {
                continue;
            };
            waiter.missing_since = None;
            let (game, options, rating) = (waiter.game.name, waiter.options.clone(), waiter.rating);
            let player = super::queued_player(&waiter.session);
            if let Err(error) = self
                .cluster
                .enqueue_as(game, &options, session, rating, player.as_ref())
                .await
            {
                tracing::warn!(%error, "global queue: queueing again failed; retried once the entry has been missing a while");
            }
        }
    }
}
