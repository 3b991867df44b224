//! A room's membership: seating players and spectators, leaving, losing and regaining a
//! connection, chat. Every step appends what it says to the step's [`RoomOutput`].
//!
//! Seats are decided here and only here: a player takes the lowest seat no member or bot
//! holds ([`Room::free_seat`]). So is a member's grace: a dropped connection sets the
//! deadline tick (`away_until`) that the tick enforces (`tick.rs`).

use std::sync::Arc;

use super::output::{Link, Notice, RoomOutput};
use super::{MemberState, PendingInput, Role, Room, Sender};
use crate::engine::{InputData, Member};
use crate::outbox::Outbox;
use crate::protocol::{
    ErrorCode, RoomEvent, RoomJoined, RoomStatus, Seat, ServerMsg, SessionId, Tick,
};

impl MemberState {
    fn new(link: Link, role: Role) -> MemberState {
        MemberState {
            session: link.session(),
            role,
            link: Some(link),
            input_seq: 0,
            inputs_in_tick: (0, 0),
            away_until: None,
            needs_state: true,
            full_at: None,
            acked_before: 0,
        }
    }
}

impl Room {
    pub(super) fn seat_member(
        &mut self,
        member: Member,
        seat: Seat,
        quick_match: bool,
        now: Tick,
        out: &mut RoomOutput,
    ) {
        let link = Link::of(member);
        // The lobby first: the player may send input as soon as it hears its seat.
        out.notice(Notice::Seated {
            room: self.id,
            session: link.session(),
            seat,
        });
        let joined = self.joined_msg(Some(seat));
        out.msg(
            &link,
            if quick_match {
                ServerMsg::MatchFound(joined)
            } else {
                ServerMsg::RoomJoined(joined)
            },
        );
        // Everything the room said before this player arrived (the earlier players'
        // `PlayerJoined`, `Occupancy`, chat): its events then run from the room's first
        // kept event without a gap, whatever seat it got.
        self.log.replay(&link, 0, out);
        let session = link.session();
        self.members
            .push(MemberState::new(link, Role::Player(seat)));
        if self.status == RoomStatus::Running {
            self.enrol(seat, session);
        }
        self.emit(now, RoomEvent::PlayerJoined { seat }, out);
    }

    /// A player the room has no seat for (more players than the bots leave seats: a bug
    /// above): it is told it is not in the room, and so is the lobby.
    pub(super) fn turn_away(&mut self, member: Member, out: &mut RoomOutput) {
        tracing::error!(
            room = self.id.get(),
            session = member.session.get(),
            "no seat left for a player"
        );
        let link = Link::of(member);
        out.notice(Notice::MemberLeft {
            room: self.id,
            session: link.session(),
        });
        out.msg(&link, ServerMsg::RoomLeft { room_id: self.id });
    }

    /// Handles `JoinRoom`.
    pub(crate) fn join(
        &mut self,
        member: Member,
        spectate: bool,
        now: Tick,
        out: &mut RoomOutput,
    ) -> Result<RoomJoined, ErrorCode> {
        if self.member_index(member.session).is_some() {
            return Err(ErrorCode::AlreadyInRoom);
        }
        if spectate {
            if !self.public && !self.config.settings.allow_spectators {
                return Err(ErrorCode::SpectatorsNotAllowed);
            }
            let link = Link::of(member);
            let joined = self.joined_msg(None);
            out.msg(&link, ServerMsg::RoomJoined(joined.clone()));
            self.log.replay(&link, 0, out);
            self.members.push(MemberState::new(link, Role::Spectator));
            self.emit_occupancy(now, out);
            self.changed(out);
            return Ok(joined);
        }
        // Every seat taken is the more useful answer: the game has then started too.
        let seat = self.free_seat().ok_or(ErrorCode::RoomFull)?;
        let in_progress = self.status == RoomStatus::Running && self.entry.join_in_progress;
        if self.status != RoomStatus::Waiting && !in_progress {
            // A seat freed by a player who left: nobody takes over a game under way,
            // unless the game takes players in progress.
            return Err(ErrorCode::GameAlreadyStarted);
        }
        let joined = self.joined_msg(Some(seat));
        self.seat_member(member, seat, false, now, out);
        self.emit_occupancy(now, out);
        if in_progress {
            if let Some(game) = &mut self.game
                && game.join(now, seat)
            {
                self.dirty = true;
            }
            self.flush_game_events(now, out);
        } else {
            self.start_if_full(now, out);
        }
        self.changed(out);
        Ok(joined)
    }

    /// Queues an input for this tick's [`Room::tick`].
    pub(crate) fn queue_input(&mut self, session: SessionId, seq: u32, data: impl Into<InputData>) {
        self.pending.push(PendingInput {
            from: Sender::Member(session),
            seq,
            data: data.into(),
        });
    }

    /// Handles `LeaveRoom` and expired sessions: the member is gone for good.
    pub(crate) fn leave(&mut self, session: SessionId, now: Tick, out: &mut RoomOutput) {
        let Some(index) = self.member_index(session) else {
            return;
        };
        let member = self.members.remove(index);
        // Membership first, `RoomLeft` second (see `close`).
        out.notice(Notice::MemberLeft {
            room: self.id,
            session,
        });
        if let Some(link) = &member.link {
            out.msg(link, ServerMsg::RoomLeft { room_id: self.id });
        }
        if let Role::Player(seat) = member.role {
            self.player_gone(seat, now, out);
        }
        self.emit_occupancy(now, out);
        self.changed(out);
    }

    pub(super) fn player_gone(&mut self, seat: Seat, now: Tick, out: &mut RoomOutput) {
        self.seated_player_gone(now);
        self.emit(now, RoomEvent::PlayerLeft { seat }, out);
        if let Some(game) = &mut self.game
            && self.status == RoomStatus::Running
            && game.abandon(now, seat)
        {
            self.dirty = true;
        }
        self.flush_game_events(now, out);
    }

    /// The member's connection dropped: hold its place for the grace period. The deadline
    /// is `now` plus the grace in ticks, decided here once (a repeated notice keeps it). A
    /// notice about another connection than the member's (`connection`, its outbox) is
    /// stale: the member resumed on a new one, whose `Rebind` came first. Unless the
    /// member's is closed too: two takeovers in a row can land their `Rebind`s out of
    /// order, leaving the room on the first one's connection, which the second closed.
    pub(crate) fn disconnected(
        &mut self,
        session: SessionId,
        connection: &Arc<Outbox>,
        now: Tick,
        out: &mut RoomOutput,
    ) {
        let Some(index) = self.member_index(session) else {
            return;
        };
        if self.members[index]
            .link
            .as_ref()
            .is_some_and(|link| !Arc::ptr_eq(&link.outbox, connection) && !link.outbox.is_closed())
        {
            return;
        }
        let deadline = now + self.limits.grace_ticks;
        let member = &mut self.members[index];
        if member.away_until.is_some() {
            // Already away (a repeated notice): the first deadline stands.
            return;
        }
        member.link = None;
        member.away_until = Some(deadline);
        if let Role::Player(seat) = member.role {
            let grace_ms = self.limits.grace_ticks * 1000 / u64::from(self.limits.tick_hz.max(1));
            self.emit(
                now,
                RoomEvent::PlayerDisconnected {
                    seat,
                    deadline_tick: deadline,
                    grace_ms: u32::try_from(grace_ms).unwrap_or(u32::MAX),
                },
                out,
            );
            if let Some(game) = &mut self.game
                && self.status == RoomStatus::Running
                && game.disconnect(now, seat)
            {
                self.dirty = true;
            }
            self.flush_game_events(now, out);
        }
    }

    /// A resumed session's new connection: replay what it missed and resend the state.
    pub(crate) fn rebind(
        &mut self,
        member: Member,
        last_event_seq: u64,
        now: Tick,
        out: &mut RoomOutput,
    ) {
        let link = Link::of(member);
        let Some(index) = self.member_index(link.session()) else {
            // The seat was given up meanwhile: tell the client it is no longer here.
            out.msg(&link, ServerMsg::RoomLeft { room_id: self.id });
            out.notice(Notice::MemberLeft {
                room: self.id,
                session: link.session(),
            });
            return;
        };
        let session_of_link = link.session();
        let role = self.members[index].role;
        let seat = match role {
            Role::Player(seat) => Some(seat),
            Role::Spectator => None,
        };
        out.msg(&link, ServerMsg::RoomJoined(self.joined_msg(seat)));
        self.log.replay(&link, last_event_seq, out);
        let state = &mut self.members[index];
        let was_away = state.away_until.take().is_some();
        // A new connection (its codec may differ): deltas wait for its first state again.
        state.link = Some(link);
        state.needs_state = true;
        state.full_at = None;
        if was_away && let Some(seat) = seat {
            self.emit(now, RoomEvent::PlayerReconnected { seat }, out);
            if let Some(game) = &mut self.game
                && self.status == RoomStatus::Running
                && game.reconnect(now, seat)
            {
                self.dirty = true;
            }
            self.flush_game_events(now, out);
        }
        self.reservation_taken(session_of_link, now, out);
    }

    /// Posts a chat line from a member.
    pub(crate) fn chat(
        &mut self,
        session: SessionId,
        text: String,
        now: Tick,
        out: &mut RoomOutput,
    ) {
        let Some(index) = self.member_index(session) else {
            return;
        };
        let seat = match self.members[index].role {
            Role::Player(seat) => Some(seat),
            Role::Spectator => None,
        };
        self.emit(
            now,
            RoomEvent::Chat {
                from_session: session,
                seat,
                text,
            },
            out,
        );
    }

    /// Reports who the remaining members were, then tells them the room is gone. In that
    /// order: a client that reads `RoomLeft` may send `FindMatch` at once, and must find its
    /// session already out of the room.
    pub(crate) fn close(self, out: &mut RoomOutput) {
        let members: Vec<SessionId> = self.members.iter().map(|m| m.session).collect();
        out.notice(Notice::RoomClosed {
            room: self.id,
            members,
        });
        for link in self.members.iter().filter_map(|m| m.link.as_ref()) {
            out.msg(link, ServerMsg::RoomLeft { room_id: self.id });
        }
    }
}
