//! Reserved seats: players the room holds a seat for before they arrive (a cluster's
//! redirected players, [`Reserved`]).
//!
//! Policy:
//!
//! - **Seated, not present.** A reserved player is a member in its seat from the room's
//!   creation, with no connection: it takes no other player's seat, and the room cannot be
//!   joined into it. It arrives when its session's connection rebinds ([`Room::rebind`],
//!   after the seat ticket was redeemed), like a resume.
//! - **No game before everyone is there.** While any reservation is pending the room stays
//!   `Waiting`; the arrival of the last one starts the game (at once for a quick match,
//!   whatever [`NewRoom::start_now`] said, else when every seat is filled).
//! - **A reservation not taken cancels the match.** At the deadline (the creation tick
//!   plus [`Reserved::wait`] in ticks, rounded up), or at the tick after any seated player
//!   leaves while one is pending, the room gives up: each reserved member is dropped (the
//!   lobby ends its session: a late ticket then finds no seat), each connected player is
//!   told `Error MatchCalledOff` and `RoomLeft` and is out of the room, and the lobby hears
//!   [`Notice::MatchCalledOff`] with those players, to queue them again. No game was
//!   created, so nothing is reported or recorded and no rating moves. The room then
//!   closes (its spectators, and players away at that moment, get the usual close).
//!
//! [`Reserved`]: crate::engine::Reserved
//! [`Reserved::wait`]: crate::engine::Reserved
//! [`NewRoom::start_now`]: crate::engine::NewRoom

use super::output::{Notice, RoomOutput};
use super::{Role, Room};
use crate::engine::Reserved;
use crate::protocol::{ErrorCode, RoomStatus, ServerMsg, SessionId, Tick};

/// What the room remembers of its reservations.
#[derive(Debug, Default)]
pub(super) struct Pending {
    /// The sessions not arrived yet.
    sessions: Vec<SessionId>,
    /// The tick at which the match is called off if any is still pending.
    deadline: Tick,
    /// Start the game as soon as the last one arrives (quick match).
    start_now: bool,
}

impl Pending {
    /// Whether any reservation is still pending.
    pub(super) fn any(&self) -> bool {
        !self.sessions.is_empty()
    }
}

/// `wait` in ticks at `tick_hz`, rounded up, at least one.
fn ticks(wait: std::time::Duration, tick_hz: u16) -> Tick {
    let ticks = wait.as_secs_f64() * f64::from(tick_hz.max(1));
    (ticks.ceil() as Tick).max(1)
}

impl Room {
    /// Holds the seats of `reserved` (members already seated by [`Room::new`]): their
    /// placeholder connections are dropped and the deadline set. Called before the game
    /// could start; returns whether any seat is held (then the game waits).
    pub(super) fn hold_reserved(&mut self, reserved: Reserved, start_now: bool, now: Tick) -> bool {
        let mut held = Vec::new();
        for session in reserved.sessions {
            if let Some(index) = self.member_index(session)
                && matches!(self.members[index].role, Role::Player(_))
                && !held.contains(&session)
            {
                self.members[index].link = None;
                held.push(session);
            }
        }
        if held.is_empty() {
            return false;
        }
        self.reservations = Pending {
            sessions: held,
            deadline: now + ticks(reserved.wait, self.limits.tick_hz),
            start_now,
        };
        true
    }

    /// A member's connection came (back): if it held a reservation, it has arrived, and
    /// when it was the last one the game starts.
    pub(super) fn reservation_taken(
        &mut self,
        session: SessionId,
        now: Tick,
        out: &mut RoomOutput,
    ) {
        let Some(index) = self
            .reservations
            .sessions
            .iter()
            .position(|&s| s == session)
        else {
            return;
        };
        self.reservations.sessions.swap_remove(index);
        if self.reservations.any() || self.status != RoomStatus::Waiting {
            return;
        }
        if self.reservations.start_now {
            self.start(now, out);
        } else {
            self.start_if_full(now, out);
        }
        self.changed(out);
    }

    /// A seated player left for good while reservations are pending: the match cannot be
    /// played as placed, so it is called off at the next tick.
    pub(super) fn seated_player_gone(&mut self, now: Tick) {
        if self.reservations.any() {
            self.reservations.deadline = self.reservations.deadline.min(now + 1);
        }
    }

    /// Whether a pending reservation has passed its deadline at `now`.
    pub(super) fn reservation_lapsed(&self, now: Tick) -> bool {
        self.reservations.any() && now >= self.reservations.deadline
    }

    /// Calls the match off (see the module doc). The room must close after this.
    pub(super) fn cancel_match(&mut self, out: &mut RoomOutput) {
        let reserved = std::mem::take(&mut self.reservations.sessions);
        let mut present = Vec::new();
        let mut kept = Vec::with_capacity(self.members.len());
        for member in std::mem::take(&mut self.members) {
            let player = matches!(member.role, Role::Player(_));
            if player && reserved.contains(&member.session) {
                // Away, so the lobby ends its session: its ticket finds no seat now.
                out.notice(Notice::MemberLeft {
                    room: self.id,
                    session: member.session,
                });
                continue;
            }
            match (&member.link, player) {
                (Some(link), true) => {
                    out.msg(
                        link,
                        ServerMsg::Error {
                            code: ErrorCode::MatchCalledOff,
                            message: "a player did not take their seat in time: the match is \
                                      called off and you are queued again"
                                .into(),
                            input_seq: None,
                        },
                    );
                    // Membership first, `RoomLeft` second (see `close`).
                    out.notice(Notice::MemberLeft {
                        room: self.id,
                        session: member.session,
                    });
                    out.msg(link, ServerMsg::RoomLeft { room_id: self.id });
                    present.push(member.session);
                }
                // Spectators, and players away now: closed with the room.
                _ => kept.push(member),
            }
        }
        self.members = kept;
        tracing::info!(
            room = self.id.get(),
            requeued = present.len(),
            "a reserved seat was not taken in time; match called off"
        );
        out.notice(Notice::MatchCalledOff {
            room: self.id,
            present,
        });
    }
}
