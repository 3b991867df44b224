//! A room's reliable event log: numbered events, fanned out to members as they happen
//! (encoded once per codec, as [`Out::Event`]s in the room's output) and kept, up to a
//! capacity, for replay to clients that resume or join late ([`Out::Replayed`]). Two kinds
//! share one sequence: the room's own [`RoomEvent`]s (sent as `ServerMsg::Event`) and the
//! events its game emits (sent as `ServerMsg::GameEvent`).

use std::collections::VecDeque;

use bytes::Bytes;

use super::registry::EncodedEvent;
use super::room::{Link, Out, RoomOutput};
use crate::codec::Codec;
use crate::protocol::{RoomEvent, ServerMsg, Tick};

/// One logged event of either kind.
#[derive(Debug, Clone)]
pub(super) enum Logged {
    /// The room's own.
    Room(RoomEvent),
    /// The game's, already encoded in both codecs.
    Game(EncodedEvent),
}

impl Logged {
    fn msg(&self, seq: u64, tick: Tick, codec: Codec) -> ServerMsg {
        match self {
            Logged::Room(event) => ServerMsg::Event {
                seq,
                tick,
                event: event.clone(),
            },
            Logged::Game(event) => ServerMsg::GameEvent {
                seq,
                tick,
                data: event.data(codec).clone(),
            },
        }
    }
}

#[derive(Debug)]
struct LoggedEvent {
    seq: u64,
    tick: Tick,
    event: Logged,
}

/// Numbered events, oldest first. Sequence numbers start at 1 and have no gaps.
#[derive(Debug, Default)]
pub(super) struct EventLog {
    entries: VecDeque<LoggedEvent>,
    last_seq: u64,
}

/// The room a log has from the start: a short game's whole log (tic-tac-toe logs five
/// events a game) in one allocation, where growing from empty would take two.
const FIRST_ENTRIES: usize = 8;

impl EventLog {
    /// An empty log with room for [`FIRST_ENTRIES`] (or `capacity`, if smaller).
    pub(super) fn with_capacity(capacity: usize) -> EventLog {
        EventLog {
            entries: VecDeque::with_capacity(FIRST_ENTRIES.min(capacity.max(1))),
            last_seq: 0,
        }
    }

    /// Numbers `event`, sends it to every link in `to` (one encoding per codec, shared),
    /// and keeps it, dropping the oldest entry beyond `capacity`.
    pub(super) fn emit<'a>(
        &mut self,
        now: Tick,
        event: Logged,
        capacity: usize,
        to: impl Iterator<Item = &'a Link>,
        out: &mut RoomOutput,
    ) {
        self.last_seq += 1;
        let seq = self.last_seq;
        let mut frames: [Option<Bytes>; 2] = [None, None];
        for link in to {
            let codec = link.codec();
            let frame = match &frames[codec.index()] {
                Some(frame) => frame.clone(),
                None => match codec.encode(&event.msg(seq, now, codec)) {
                    Ok(frame) => frames[codec.index()].insert(frame).clone(),
                    Err(error) => {
                        tracing::error!(%error, "failed to encode a room event");
                        continue;
                    }
                },
            };
            out.push(Out::Event {
                to: link.clone(),
                frame,
            });
        }
        while self.entries.len() >= capacity.max(1) {
            self.entries.pop_front();
        }
        self.entries.push_back(LoggedEvent {
            seq,
            tick: now,
            event,
        });
    }

    /// Replays every kept event after `after_seq` to `to`, in order.
    pub(super) fn replay(&self, to: &Link, after_seq: u64, out: &mut RoomOutput) {
        for logged in self.entries.iter().filter(|e| e.seq > after_seq) {
            let codec = to.codec();
            match codec.encode(&logged.event.msg(logged.seq, logged.tick, codec)) {
                Ok(frame) => out.push(Out::Replayed {
                    to: to.clone(),
                    frame,
                }),
                Err(error) => tracing::error!(%error, "failed to encode a replayed event"),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::Member;
    use crate::outbox::Outbox;

    fn link(session: u64, codec: Codec) -> Link {
        Link::of(Member {
            session: crate::protocol::SessionId::new(session),
            outbox: Outbox::new(codec, 64),
        })
    }

    /// The seqs of the event frames in `out` for `session`, decoded in its codec.
    fn seqs(out: &[Out], codec: Codec, replayed: bool) -> Vec<u64> {
        out.iter()
            .filter_map(|o| match o {
                Out::Event { frame, .. } if !replayed => Some(frame),
                Out::Replayed { frame, .. } if replayed => Some(frame),
                _ => None,
            })
            .map(|frame| match codec.decode::<ServerMsg>(frame) {
                Ok(ServerMsg::Event { seq, .. }) => seq,
                other => panic!("{other:?}"),
            })
            .collect()
    }

    #[test]
    fn events_are_numbered_without_gaps_and_the_oldest_are_dropped() {
        let live = link(1, Codec::Bincode);
        let mut log = EventLog::default();
        let mut out = RoomOutput::default();
        for _ in 0..5 {
            log.emit(
                1,
                Logged::Room(RoomEvent::GameStarted),
                3,
                std::iter::once(&live),
                &mut out,
            );
        }
        assert_eq!(seqs(&out.take(), Codec::Bincode, false), [1, 2, 3, 4, 5]);
        let late = link(2, Codec::MsgPack);
        log.replay(&late, 0, &mut out);
        assert_eq!(
            seqs(&out.take(), Codec::MsgPack, true),
            [3, 4, 5],
            "the last three, in order"
        );
    }

    #[test]
    fn a_log_made_with_room_for_fewer_than_eight_still_keeps_its_capacity() {
        let live = link(1, Codec::Bincode);
        for capacity in [0, 1, 2, 8, 20] {
            let mut log = EventLog::with_capacity(capacity);
            let mut out = RoomOutput::default();
            for _ in 0..12 {
                let event = Logged::Room(RoomEvent::GameStarted);
                log.emit(1, event, capacity, std::iter::once(&live), &mut out);
            }
            let kept = capacity.clamp(1, 12) as u64;
            let late = link(2, Codec::Bincode);
            let mut replayed = RoomOutput::default();
            log.replay(&late, 0, &mut replayed);
            let expected: Vec<u64> = (13 - kept..=12).collect();
            assert_eq!(
                seqs(&replayed.take(), Codec::Bincode, true),
                expected,
                "{capacity}"
            );
        }
    }
}
