//! The room's edge: the one place its outputs reach outboxes and the lobby, and where the
//! members' acknowledgements are read from their connections. Everything else in `room`
//! works on values (see [`output`](super::output)).

use super::output::{Acks, Link, Notice, Out, RoomOutput};
use crate::engine::RoomObserver;
use crate::protocol::Tick;

/// Applies `out` in order: frames into their members' outboxes, notices to `observer`.
/// Drains the buffer and keeps its capacity.
pub(crate) fn deliver(out: &mut RoomOutput, observer: &dyn RoomObserver) {
    for item in out.items.drain(..) {
        match item {
            Out::Msg { to, msg } => {
                to.outbox.push_msg(&msg);
            }
            Out::Event { to, frame } => {
                to.outbox.push_event(frame);
            }
            Out::Replayed { to, frame } => {
                to.outbox.push_replayed(frame);
            }
            Out::State { to, frame } => to.outbox.set_state(frame),
            Out::Close { to, code, reason } => to.outbox.close(code, reason),
            Out::Notice(notice) => match notice {
                Notice::RoomChanged(summary) => observer.room_changed(&summary),
                Notice::Seated {
                    room,
                    session,
                    seat,
                } => observer.member_seated(room, session, seat),
                Notice::MemberLeft { room, session } => observer.member_left(room, session),
                Notice::GameFinished(game) => observer.game_finished(*game),
                Notice::RoomClosed { room, members } => observer.room_closed(room, &members),
            },
        }
    }
}

/// Acknowledgements as the connections' readers stored them (an atomic in each outbox):
/// what the shard hands [`Room::tick`](super::Room::tick).
pub(crate) struct FromConnections;

impl Acks for FromConnections {
    fn acked(&self, to: &Link) -> Tick {
        to.outbox.acked_tick()
    }
}
