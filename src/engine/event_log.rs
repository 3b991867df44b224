//! A room's reliable event log: numbered events, fanned out to members as they happen
//! (encoded once per codec) and kept, up to a capacity, for replay to clients that resume
//! or join late.

use std::collections::VecDeque;
use std::sync::Arc;

use bytes::Bytes;

use crate::outbox::Outbox;
use crate::protocol::{RoomEvent, ServerMsg, Tick};

#[derive(Debug)]
struct LoggedEvent {
    seq: u64,
    tick: Tick,
    event: RoomEvent,
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
        event: RoomEvent,
        capacity: usize,
        outboxes: impl Iterator<Item = &'a Arc<Outbox>>,
    ) {
        self.last_seq += 1;
        let seq = self.last_seq;
        let msg = ServerMsg::Event {
            seq,
            tick: now,
            event,
        };
        let mut frames: [Option<Bytes>; 2] = [None, None];
        for outbox in outboxes {
            let codec = outbox.codec();
            let frame = match &frames[codec.index()] {
                Some(frame) => frame.clone(),
                None => match codec.encode(&msg) {
                    Ok(frame) => frames[codec.index()].insert(frame).clone(),
                    Err(error) => {
                        tracing::error!(%error, "failed to encode a room event");
                        continue;
                    }
                },
            };
            outbox.push_event(frame);
        }
        let ServerMsg::Event { event, .. } = msg else {
            return;
        };
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
            let msg = ServerMsg::Event {
                seq: logged.seq,
                tick: logged.tick,
                event: logged.event.clone(),
            };
            match outbox.codec().encode(&msg) {
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
    use crate::codec::Codec;
    use crate::outbox::Batch;

    #[test]
    fn events_are_numbered_without_gaps_and_the_oldest_are_dropped() {
        let live = Outbox::new(Codec::Bincode, 64);
        let mut log = EventLog::default();
        for _ in 0..5 {
            log.emit(1, RoomEvent::GameStarted, 3, std::iter::once(&live));
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
