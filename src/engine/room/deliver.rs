//! The room's edge: the one place its outputs reach outboxes and the lobby, and where the
//! members' acknowledgements are read from their connections. Everything else in `room`
//! works on values (see [`output`](super::output)).

use super::output::{Acks, Link, Notice, Out, RoomOutput};
use crate::engine::RoomObserver;
use crate::protocol::Tick;

/// Applies `out` in order: frames into their members' outboxes, notices to `observer`.
/// Drains the buffer and keeps its capacity. An idle room's step produced nothing, and
/// costs no more than this check. Returns how many states superseded one their writer had
/// not yet sent ([`crate::outbox::Outbox::set_state`]).
#[inline]
pub(crate) fn deliver(out: &mut RoomOutput, observer: &dyn RoomObserver) -> u64 {
    if out.items.is_empty() {
        0
    } else {
        deliver_all(out, observer)
    }
}

fn deliver_all(out: &mut RoomOutput, observer: &dyn RoomObserver) -> u64 {
    let mut superseded = 0;
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
            Out::State { to, frame } => superseded += u64::from(to.outbox.set_state(frame)),
            Out::Close { to, code, reason } => to.outbox.close(code, reason),
            Out::Notice(notice) => match notice {
                Notice::RoomChanged(summary) => observer.room_changed(summary),
                Notice::Seated {
                    room,
                    session,
                    seat,
                } => observer.member_seated(room, session, seat),
                Notice::MemberLeft { room, session } => observer.member_left(room, session),
                Notice::GameFinished(game) => observer.game_finished(*game),
                Notice::RoomClosed { room, members } => observer.room_closed(room, &members),
                Notice::MatchCalledOff { room, present } => {
                    observer.match_called_off(room, &present);
                }
            },
        }
    }
    superseded
}

/// Acknowledgements as the connections' readers stored them (an atomic in each outbox):
/// what the shard hands [`Room::tick`](super::Room::tick).
pub(crate) struct FromConnections;

impl Acks for FromConnections {
    fn acked(&self, to: &Link) -> Tick {
        to.outbox.acked_tick()
    }
    fn newest_sent(&self, to: &Link) -> Tick {
        to.outbox.newest_state_tick()
    }
}

#[cfg(test)]
mod tests {
    use std::sync::{Arc, Mutex};

    use bytes::Bytes;

    use super::*;
    use crate::codec::Codec;
    use crate::engine::Member;
    use crate::outbox::{Batch, Outbox, StateFrame};
    use crate::protocol::{RoomId, RoomSummary, ServerMsg, SessionId, close_code};

    /// Records each call with how many events the watched outbox held at that moment.
    struct Watcher {
        outbox: Arc<Outbox>,
        calls: Mutex<Vec<(&'static str, usize)>>,
    }

    impl Watcher {
        fn note(&self, call: &'static str) {
            let mut batch = Batch::default();
            // Taking empties the outbox: count what arrived since the last call.
            self.outbox.take(&mut batch);
            self.calls.lock().unwrap().push((call, batch.events.len()));
        }
    }

    impl RoomObserver for Watcher {
        fn room_changed(&self, _summary: RoomSummary) {
            self.note("room_changed");
        }
        fn member_left(&self, _room: RoomId, _session: SessionId) {
            self.note("member_left");
        }
        fn room_closed(&self, _room: RoomId, _members: &[SessionId]) {
            self.note("room_closed");
        }
    }

    #[test]
    fn outputs_reach_their_outboxes_and_the_lobby_in_the_rooms_order() {
        let (a, b) = (
            Outbox::new(Codec::Bincode, 8),
            Outbox::new(Codec::MsgPack, 8),
        );
        let link = |n, outbox: &Arc<Outbox>| {
            Link::of(Member {
                session: SessionId::new(n),
                outbox: outbox.clone(),
            })
        };
        let (to_a, to_b) = (link(1, &a), link(2, &b));
        let room = RoomId::new(7);
        let mut out = RoomOutput::default();
        out.push(Out::Event {
            to: to_a.clone(),
            frame: Bytes::from_static(b"e1"),
        });
        out.notice(Notice::MemberLeft {
            room,
            session: SessionId::new(2),
        });
        out.msg(&to_a, ServerMsg::RoomLeft { room_id: room });
        out.push(Out::Replayed {
            to: to_a.clone(),
            frame: Bytes::from_static(b"r1"),
        });
        out.notice(Notice::RoomClosed {
            room,
            members: vec![],
        });
        out.push(Out::State {
            to: to_b.clone(),
            frame: StateFrame {
                tick: 3,
                base_tick: None,
                input_seq: 0,
                body: Bytes::from_static(b"s"),
            },
        });
        out.push(Out::Close {
            to: to_b,
            code: close_code::GOING_AWAY,
            reason: "bye",
        });
        let watcher = Watcher {
            outbox: a.clone(),
            calls: Mutex::new(Vec::new()),
        };
        assert_eq!(deliver(&mut out, &watcher), 0, "no state superseded");
        assert!(out.take().is_empty(), "drained");
        // One event before the first notice, the message and the replayed frame before the
        // second: each notice came at its place.
        assert_eq!(
            *watcher.calls.lock().unwrap(),
            [("member_left", 1), ("room_closed", 2)]
        );
        let mut batch = Batch::default();
        b.take(&mut batch);
        assert_eq!(batch.state.map(|s| s.tick), Some(3));
        assert_eq!(batch.close.map(|c| c.code), Some(close_code::GOING_AWAY));
        assert!(batch.events.is_empty(), "nothing of a's reached b");
    }

    #[test]
    fn states_their_writer_never_took_are_counted_as_superseded() {
        let outbox = Outbox::new(Codec::Bincode, 8);
        let to = Link::of(Member {
            session: SessionId::new(1),
            outbox: outbox.clone(),
        });
        let state = |tick| Out::State {
            to: to.clone(),
            frame: StateFrame {
                tick,
                base_tick: None,
                input_seq: 0,
                body: Bytes::from_static(b"s"),
            },
        };
        let watcher = Watcher {
            outbox: Outbox::new(Codec::Bincode, 8),
            calls: Mutex::new(Vec::new()),
        };
        let mut out = RoomOutput::default();
        out.push(state(1));
        assert_eq!(deliver(&mut out, &watcher), 0, "the slot was empty");
        // Ticks 2 and 3 before the writer takes anything: 1 and 2 are never sent.
        out.push(state(2));
        out.push(state(3));
        assert_eq!(deliver(&mut out, &watcher), 2);
        let mut batch = Batch::default();
        outbox.take(&mut batch);
        assert_eq!(batch.state.map(|s| s.tick), Some(3));
        out.push(state(4));
        assert_eq!(deliver(&mut out, &watcher), 0, "tick 3 was taken");
    }
}
