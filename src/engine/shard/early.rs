//! Commands that reach a shard for a room before the room's `Create` does.
//!
//! The lobby records a room in a session's membership first and sends the room's
//! `Create` right after, so that whatever happens to the session meanwhile finds the
//! room. But "right after" is another task's send: a takeover's `Rebind`, a kick's or a
//! leave's `Leave`, a dropped connection's `Disconnected`, a `Join` by the room's code
//! (registered with the directory as the room is placed) can each read the membership and
//! be sent in between, from another thread, and reach the shard first. Applied to no room,
//! each would be lost (a `Rebind` even answered `RoomLeft`), and the room created a moment
//! later would hold the player on a connection that was replaced, or seat one who left.
//!
//! Policy:
//!
//! - [`Engine::place_room`](super::super::Engine::place_room) records the id in the
//!   shard's [`Placed`] set; the shard takes it out when it applies the `Create` (and the
//!   engine when the `Create` could not be sent).
//! - A command for a room the shard does not hold, while that room is placed, **waits**
//!   (in arrival order, at most [`EARLY_PER_ROOM`] per room) and is applied right after
//!   the room's `Create`, each as if it had arrived then. Inputs are not kept: a client
//!   learns of its room from the room itself, after the `Create`.
//! - A room whose `Create` has not come [`EARLY_WAIT`] after the first command kept for it
//!   is given up: it leaves the placed set, and its commands are applied as for a room
//!   that is not there. (Only a `Create` lost on the way can leave one waiting: whoever
//!   places a room sends its `Create` right after, and an id also leaves the set when that
//!   send fails.)
//! - Past the per-room bound, a command is applied at once, as for a room that is not
//!   there.

use std::sync::Mutex;
use std::time::Duration;

use foldhash::HashSet;

use super::Shard;
use crate::engine::ShardCmd;
use crate::protocol::{RoomId, Tick};

/// Most commands kept for one placed room before its `Create`.
pub(crate) const EARLY_PER_ROOM: usize = 64;

/// How long a placed room's kept commands wait for its `Create` before they are applied
/// as for a room that is not there.
pub(crate) const EARLY_WAIT: Duration = Duration::from_secs(10);

/// The rooms placed on one shard whose `Create` it has not applied yet, shared by the
/// engine (which adds them) and the shard (which takes them out).
#[derive(Debug, Default)]
pub(crate) struct Placed {
    ids: Mutex<HashSet<RoomId>>,
}

impl Placed {
    fn lock(&self) -> std::sync::MutexGuard<'_, HashSet<RoomId>> {
        // Every critical section is a single insert, remove or lookup.
        self.ids.lock().unwrap_or_else(|e| e.into_inner())
    }

    pub(crate) fn insert(&self, id: RoomId) {
        self.lock().insert(id);
    }

    pub(crate) fn remove(&self, id: RoomId) {
        self.lock().remove(&id);
    }

    fn contains(&self, id: RoomId) -> bool {
        self.lock().contains(&id)
    }
}

/// The commands waiting for one placed room's `Create`.
#[derive(Debug)]
pub(super) struct Waiting {
    /// The tick the first of them came at.
    since: Tick,
    commands: Vec<ShardCmd>,
}

impl Shard {
    /// Keeps `cmd` for its placed room if it came before the room's `Create` (see the
    /// module doc); hands it back to be applied now otherwise.
    pub(super) fn keep_if_early(&mut self, cmd: ShardCmd) -> Option<ShardCmd> {
        let room = match &cmd {
            ShardCmd::Create { .. } | ShardCmd::Input { .. } => return Some(cmd),
            other => other.room(),
        };
        let Some(room) = room else {
            return Some(cmd);
        };
        if self.by_id.contains_key(&room) || !self.placed.contains(room) {
            return Some(cmd);
        }
        let now = self.now;
        let waiting = self.early.entry(room).or_insert_with(|| Waiting {
            since: now,
            commands: Vec::new(),
        });
        if waiting.commands.len() >= EARLY_PER_ROOM {
            return Some(cmd);
        }
        waiting.commands.push(cmd);
        None
    }

    /// The room `id` was just created: the commands that came for it first, in order.
    pub(super) fn take_early(&mut self, id: RoomId) -> Vec<ShardCmd> {
        self.early
            .remove(&id)
            .map(|waiting| waiting.commands)
            .unwrap_or_default()
    }

    /// Gives up the placed rooms whose `Create` has not come in time (see the module doc):
    /// their ids leave the placed set and their commands are returned, to be applied as
    /// for rooms that are not there.
    pub(super) fn overdue_early(&mut self) -> Vec<ShardCmd> {
        if self.early.is_empty() {
            return Vec::new();
        }
        let limit =
            (EARLY_WAIT.as_secs_f64() * f64::from(self.limits.tick_hz.max(1))).ceil() as Tick;
        let now = self.now;
        let overdue: Vec<RoomId> = self
            .early
            .iter()
            .filter(|(_, waiting)| now.saturating_sub(waiting.since) >= limit)
            .map(|(&id, _)| id)
            .collect();
        let mut commands = Vec::new();
        for id in overdue {
            tracing::warn!(
                shard = self.index,
                room = id.get(),
                "a placed room's Create never came; the commands sent to it are applied as for a \
                 room that is not there"
            );
            self.placed.remove(id);
            if let Some(waiting) = self.early.remove(&id) {
                commands.extend(waiting.commands);
            }
        }
        commands
    }
}
