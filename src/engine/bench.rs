//! A shard driven by hand, for benchmarks and allocation counts: no task, no timer, no
//! lobby. Not part of the server's API; hidden from the docs.
//!
//! [`ManualShard`] applies commands directly (no inbox capacity to respect) and runs one
//! tick per [`ManualShard::tick`] call, exactly the work the shard's timer loop does per
//! tick.

use std::sync::Arc;
use std::sync::atomic::AtomicUsize;

use tokio::sync::mpsc;

use super::shard::Shard;
use super::{EngineConfig, NewRoom, RoomObserver, ShardCmd};
use crate::protocol::{RoomId, RoomSummary, SessionId};

/// An observer that ignores everything (the lobby's directory is not under test).
struct NoObserver;

impl RoomObserver for NoObserver {
    fn room_changed(&self, _summary: RoomSummary) {}
    fn member_left(&self, _room: RoomId, _session: SessionId) {}
    fn room_closed(&self, _room: RoomId, _members: &[SessionId]) {}
}

/// One shard whose ticks the caller runs.
pub struct ManualShard {
    shard: Shard,
    // Held so the shard's inbox stays open and `tick` keeps reporting `true`.
    _inbox: mpsc::Sender<ShardCmd>,
    next_room: u64,
    now: crate::protocol::Tick,
}

impl std::fmt::Debug for ManualShard {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ManualShard")
            .field("next_room", &self.next_room)
            .finish()
    }
}

impl ManualShard {
    /// An empty shard with `config`'s tick rate, grace and event log size.
    pub fn new(config: &EngineConfig) -> ManualShard {
        let (tx, rx) = mpsc::channel(1);
        let shard = Shard::new(
            0,
            config,
            rx,
            Arc::new(NoObserver),
            Arc::new(AtomicUsize::new(0)),
            Arc::default(),
        );
        ManualShard {
            shard,
            _inbox: tx,
            next_room: 1,
            now: 0,
        }
    }

    /// Creates a room now (the shard's next tick does not need to run first). Returns its id.
    pub fn create_room(&mut self, room: NewRoom) -> RoomId {
        let id = RoomId::new(self.next_room);
        self.next_room += 1;
        self.shard.apply(ShardCmd::Create {
            id,
            room: Box::new(room),
        });
        id
    }

    /// Queues a game input for the room's next tick, as a client's `Input` would.
    pub fn input(
        &mut self,
        room: RoomId,
        session: SessionId,
        seq: u32,
        data: impl Into<super::InputData>,
    ) {
        self.shard.apply(ShardCmd::Input {
            room,
            session,
            seq,
            data: data.into(),
            share: crate::limits::InboxShare::untracked(),
        });
    }

    /// Runs one tick: apply queued inputs, advance every game, broadcast, close finished
    /// rooms.
    pub fn tick(&mut self) {
        self.now += 1;
        self.shard.tick(self.now);
    }
}
