//! A room's reliable event log: numbered events, fanned out to members as they happen
//! (encoded once per codec) and kept, up to a capacity, for replay to clients that resume
//! or join late. Two kinds share one sequence: the room's own [`RoomEvent`]s (sent as
//! `ServerMsg::Event`) and the events its game emits (sent as `ServerMsg::GameEvent`).

use std::collections::VecDeque;
use std::sync::Arc;

use bytes::Bytes;

use super::registry::EncodedEvent;
use crate::codec::Codec;
use crate::outbox::Outbox;
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

impl EventLog {
    /// Numbers `event`, sends it to every outbox (one encoding per codec, shared), and keeps
    /// it, dropping the oldest entry beyond `capacity`.
    pub(super) fn emit<'a>(
        &mut self,
        now: Tick,
        event: Logged,
        capacity: usize,
        outboxes: impl Iterator<Item = &'a Arc<Outbox>>,
    ) {
        self.last_seq += 1;
        let seq = self.last_seq;
        let mut frames: [Option<Bytes>; 2] = [None, None];
        for outbox in outboxes {
            let codec = outbox.codec();
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
            outbox.push_event(frame);
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

    /// Queues every kept event after `after_seq` into `outbox`, in order.
    pub(super) fn replay(&self, outbox: &Outbox, after_seq: u64) {
        for logged in self.entries.iter().filter(|e| e.seq > after_seq) {
            let codec = outbox.codec();
            match codec.encode(&logged.event.msg(logged.seq, logged.tick, codec)) {
                Ok(frame) => {
                    outbox.push_replayed(frame);
                }
                Err(error) => tracing::error!(%error, "failed to encode a replayed event"),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::outbox::Batch;

    #[test]
    fn events_are_numbered_without_gaps_and_the_oldest_are_dropped() {
        let live = Outbox::new(Codec::Bincode, 64);
        let mut log = EventLog::default();
        for _ in 0..5 {
            log.emit(
                1,
                Logged::Room(RoomEvent::GameStarted),
                3,
                std::iter::once(&live),
            );
        }
        let mut batch = Batch::default();
        live.take(&mut batch);
        assert_eq!(batch.events.len(), 5);
        let late = Outbox::new(Codec::MsgPack, 64);
        log.replay(&late, 0);
        late.take(&mut batch);
        let seqs: Vec<u64> = batch
            .events
            .iter()
            .map(|frame| match Codec::MsgPack.decode::<ServerMsg>(frame) {
                Ok(ServerMsg::Event { seq, .. }) => seq,
                other => panic!("{other:?}"),
            })
            .collect();
        assert_eq!(seqs, vec![3, 4, 5], "the last three, in order");
    }
}
