//! What a room's step produces, as values: frames for its members and notices for the lobby.
//!
//! A room never puts into an outbox and never calls the lobby. Each of its steps (a command
//! the shard hands it, or a tick) appends to a [`RoomOutput`] that the shard owns and reuses;
//! the shard then hands the buffer to [`deliver`](super::deliver::deliver), the one place
//! that puts a room's frames into outboxes and calls the [`RoomObserver`]. The room's unit
//! tests read the same values instead, with no socket, outbox or observer in the way.
//!
//! Policy:
//!
//! - **Order is kept.** Outputs are applied in the order the room produced them, notices
//!   for the lobby among the frames: a member's session is out of the room before it is
//!   sent `RoomLeft`, the lobby hears a member's place is given up before anyone hears
//!   `PlayerLeft`, the final board goes out before `GameOver`.
//! - **No allocation per member per tick.** The buffer keeps its capacity from step to
//!   step; a state or event for a member is a reference count on bytes encoded once per
//!   codec (and delta base) and one on the member's [`Link`]. Messages encoded per member
//!   ([`Out::Msg`]: replies, refusals, `RoomJoined`) are encoded at delivery, as before.
//! - **One room at a time.** The shard delivers after each room's step, so the buffer
//!   holds one room's output, never a whole shard's.
//!
//! [`RoomObserver`]: crate::engine::RoomObserver

use std::sync::Arc;

use bytes::Bytes;

use crate::codec::Codec;
use crate::engine::{FinishedGame, Member};
use crate::outbox::{Outbox, StateFrame};
use crate::protocol::{RoomId, RoomSummary, Seat, ServerMsg, SessionId, Tick};

/// Where a member's frames go: its session, the codec of its connection (fixed when the
/// connection joined the room or resumed into it), and that connection's outbox. The room
/// only reads the session and the codec; the outbox is touched by
/// [`deliver`](super::deliver::deliver) and by the shard reading acknowledgements.
#[derive(Debug, Clone)]
pub(crate) struct Link {
    session: SessionId,
    codec: Codec,
    pub(super) outbox: Arc<Outbox>,
}

impl Link {
    /// The link to `member`'s connection.
    pub(crate) fn of(member: Member) -> Link {
        Link {
            session: member.session,
            codec: member.outbox.codec(),
            outbox: member.outbox,
        }
    }

    /// The member it reaches.
    pub(crate) fn session(&self) -> SessionId {
        self.session
    }

    /// The codec every frame for it is encoded with.
    pub(crate) fn codec(&self) -> Codec {
        self.codec
    }
}

/// Where a room reads its members' acknowledged ticks, the one input it needs from their
/// connections. Asked only while the room chooses delta bases for the states it sends, so
/// an idle room reads none. The shard passes
/// [`FromConnections`](super::deliver::FromConnections); tests pass a table.
pub(crate) trait Acks {
    /// The newest tick `to`'s connection acknowledged (0 for none).
    fn acked(&self, to: &Link) -> Tick;
    /// The tick of the newest state any room has put in `to`'s connection (0 for none).
    /// Read when a room makes a member's first state, it bounds every acknowledgement the
    /// connection can still send for an earlier room.
    fn newest_sent(&self, to: &Link) -> Tick;
}

/// A test's connections: acknowledged ticks and newest states sent, by session, 0 for one
/// not listed.
#[cfg(test)]
#[derive(Debug, Default)]
pub(crate) struct TestAcks {
    pub(crate) acked: std::collections::HashMap<SessionId, Tick>,
    pub(crate) sent: std::collections::HashMap<SessionId, Tick>,
}

#[cfg(test)]
impl Acks for TestAcks {
    fn acked(&self, to: &Link) -> Tick {
        self.acked.get(&to.session()).copied().unwrap_or(0)
    }
    fn newest_sent(&self, to: &Link) -> Tick {
        self.sent.get(&to.session()).copied().unwrap_or(0)
    }
}

/// One thing a room's step produced.
#[derive(Debug)]
pub(crate) enum Out {
    /// A message for one member, encoded in its codec when delivered.
    Msg { to: Link, msg: Box<ServerMsg> },
    /// A reliable event frame, already encoded in the member's codec (the room's event
    /// log: encoded once per codec, shared by every member).
    Event { to: Link, frame: Bytes },
    /// A frame of the room's log replayed to a member that joined late or resumed: queued
    /// beside the outbox's capacity (bounded by the log).
    Replayed { to: Link, frame: Bytes },
    /// The member's newest state (latest wins in its outbox).
    State { to: Link, frame: StateFrame },
    /// Close the member's connection after what is queued (a shutdown drain).
    Close {
        to: Link,
        code: u16,
        reason: &'static str,
    },
    /// For the lobby.
    Notice(Notice),
}

/// What a room tells the lobby ([`RoomObserver`](crate::engine::RoomObserver)'s calls, as
/// values).
#[derive(Debug)]
pub(crate) enum Notice {
    /// The room was created, or its status or occupancy changed.
    RoomChanged(RoomSummary),
    /// The room seated `session` as a player in `seat` (told before the player is).
    Seated {
        room: RoomId,
        session: SessionId,
        seat: Seat,
    },
    /// `session` is no longer a member of `room` (left, or its grace ran out).
    MemberLeft { room: RoomId, session: SessionId },
    /// A game ended (once per game).
    GameFinished(Box<FinishedGame>),
    /// The room closed with `members` still in it.
    RoomClosed {
        room: RoomId,
        members: Vec<SessionId>,
    },
    /// A reserved seat was not taken in time: no game; `present` are the connected
    /// players it held (already out of the room), to be queued again.
    MatchCalledOff {
        room: RoomId,
        present: Vec<SessionId>,
    },
}

/// The outputs of a room's steps since the buffer was last delivered, in order. Owned by
/// the shard and reused: delivering drains it and keeps its capacity.
#[derive(Debug, Default)]
pub(crate) struct RoomOutput {
    pub(super) items: Vec<Out>,
}

impl RoomOutput {
    /// Queues `msg` for the member behind `to`.
    pub(crate) fn msg(&mut self, to: &Link, msg: ServerMsg) {
        self.items.push(Out::Msg {
            to: to.clone(),
            msg: Box::new(msg),
        });
    }

    /// Queues a notice for the lobby.
    pub(crate) fn notice(&mut self, notice: Notice) {
        self.items.push(Out::Notice(notice));
    }

    pub(crate) fn push(&mut self, out: Out) {
        self.items.push(out);
    }

    /// Takes everything produced since the last delivery (tests read outputs this way).
    #[cfg(test)]
    pub(crate) fn take(&mut self) -> Vec<Out> {
        std::mem::take(&mut self.items)
    }

    /// Takes what was produced for `session`, in order, and leaves the rest.
    #[cfg(test)]
    pub(crate) fn take_for(&mut self, session: SessionId) -> Vec<Out> {
        let (mine, rest) = std::mem::take(&mut self.items)
            .into_iter()
            .partition(|o| o.recipient() == Some(session));
        self.items = rest;
        mine
    }

    /// Takes the notices for the lobby, in order, and leaves the rest.
    #[cfg(test)]
    pub(crate) fn take_notices(&mut self) -> Vec<Notice> {
        let (notices, rest): (Vec<Out>, Vec<Out>) = std::mem::take(&mut self.items)
            .into_iter()
            .partition(|o| matches!(o, Out::Notice(_)));
        self.items = rest;
        notices
            .into_iter()
            .filter_map(|o| match o {
                Out::Notice(notice) => Some(notice),
                _ => None,
            })
            .collect()
    }
}

impl Out {
    /// The member this output is for; `None` for a notice.
    #[cfg(test)]
    pub(crate) fn recipient(&self) -> Option<SessionId> {
        match self {
            Out::Msg { to, .. }
            | Out::Event { to, .. }
            | Out::Replayed { to, .. }
            | Out::State { to, .. }
            | Out::Close { to, .. } => Some(to.session()),
            Out::Notice(_) => None,
        }
    }
}

#[cfg(test)]
mod tests {
    /// Every state and event of a tick passes through one `Out`: it stays small (the rare
    /// `ServerMsg` is boxed for that), so the buffer a room fills stays in cache.
    #[test]
    fn an_output_is_small() {
        assert!(size_of::<super::Out>() <= 96, "{}", size_of::<super::Out>());
    }
}
