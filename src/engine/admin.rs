//! The operator's view of the engine: list every live room with its tick cost, inspect one
//! room's members and current state, and close a room with a reason.
//!
//! Served over HTTP by `transport::admin` (`/admin/`, `/monitor`). Like every other
//! request these are commands to the owning shard, applied at its next tick; the engine
//! asks every shard (there are few) rather than keeping a second room index.

use std::time::{Duration, Instant};

use serde::Serialize;
use tokio::sync::oneshot;

use super::{Engine, ShardCmd};
use crate::protocol::{RoomId, RoomStatus, Seat, SessionId, Tick};

/// Commands of the operator's view, applied by the shard like any other.
#[derive(Debug)]
pub(crate) enum AdminCmd {
    /// Every room of the shard.
    List(oneshot::Sender<Vec<RoomInfo>>),
    /// One room in detail, if the shard has it.
    Inspect {
        room: RoomId,
        reply: oneshot::Sender<Option<RoomDetail>>,
    },
    /// Close a room: its players get `GameOver { reason: Closed }` (if it was running),
    /// `Error RoomClosed` with `reason`, and `RoomLeft`. Replies whether the shard had it.
    Close {
        room: RoomId,
        reason: String,
        reply: oneshot::Sender<bool>,
    },
}

/// One live room, as the operator sees it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RoomInfo {
    /// Server-wide room id.
    pub room_id: RoomId,
    /// The shard that owns it.
    pub shard: usize,
    /// Game name.
    pub game: String,
    /// Lifecycle state.
    pub status: RoomStatus,
    /// Seated players (connected or within their grace).
    pub players: u8,
    /// Seats.
    pub seats: u8,
    /// Seated players whose connection is down (within their grace).
    pub players_away: u8,
    /// Spectators.
    pub spectators: u32,
    /// Quick-match room (listed) or private room.
    pub public: bool,
    /// Lockstep relay room.
    pub relay: bool,
    /// The join code (private rooms' too: the operator sees everything).
    pub code: String,
    /// Seconds since the room was created.
    pub age_s: f64,
    /// Ticks the room has run.
    pub ticks: u64,
    /// The room's own share of its shard's tick, microseconds: last tick, mean, most.
    pub tick_us: TickCost,
}

/// What one room's tick costs its shard (wall clock, microseconds).
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize)]
pub struct TickCost {
    /// The latest tick.
    pub last: f64,
    /// Mean over the room's life.
    pub mean: f64,
    /// The most expensive tick.
    pub max: f64,
}

/// One member of a room.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct MemberInfo {
    /// The member's session (what `POST /admin/sessions/{id}/kick` takes).
    pub session: SessionId,
    /// Its seat; `None` for a spectator.
    pub seat: Option<Seat>,
    /// Whether its connection is up.
    pub connected: bool,
    /// While away: the tick at which its place is given up.
    pub away_until_tick: Option<Tick>,
    /// The last input `seq` the room processed from it.
    pub input_seq: u32,
}

/// One room in detail: [`RoomInfo`], its members, and its current state.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RoomDetail {
    /// The listing row.
    #[serde(flatten)]
    pub info: RoomInfo,
    /// The shard's current tick.
    pub tick: Tick,
    /// Members, players first in join order, then spectators.
    pub members: Vec<MemberInfo>,
    /// Seats played by server bots (quick match's bot fill), ascending.
    pub bots: Vec<Seat>,
    /// The game's current view as a spectator sees it, as JSON; `null` while waiting for
    /// players, in relay rooms (no rules run), and for games without a JSON view.
    pub state: Option<serde_json::Value>,
}

/// Per-room tick accounting, kept by the shard beside each room.
#[derive(Debug, Clone, Copy)]
pub(crate) struct RoomMeter {
    created: Instant,
    ticks: u64,
    total: Duration,
    last: Duration,
    max: Duration,
}

impl RoomMeter {
    pub(crate) fn new() -> RoomMeter {
        RoomMeter {
            created: Instant::now(),
            ticks: 0,
            total: Duration::ZERO,
            last: Duration::ZERO,
            max: Duration::ZERO,
        }
    }

    /// Records one tick of the room that took `took`.
    pub(crate) fn record(&mut self, took: Duration) {
        self.ticks += 1;
        self.total += took;
        self.last = took;
        self.max = self.max.max(took);
    }

    /// Seconds since creation.
    pub(crate) fn age_s(&self) -> f64 {
        self.created.elapsed().as_secs_f64()
    }

    /// Ticks recorded.
    pub(crate) fn ticks(&self) -> u64 {
        self.ticks
    }

    /// Last, mean and largest tick, in microseconds.
    pub(crate) fn cost(&self) -> TickCost {
        let us = |d: Duration| d.as_secs_f64() * 1e6;
        TickCost {
            last: us(self.last),
            mean: if self.ticks == 0 {
                0.0
            } else {
                us(self.total) / self.ticks as f64
            },
            max: us(self.max),
        }
    }
}

impl Engine {
    /// Every live room on every shard, by room id. Each shard answers at its next tick.
    pub async fn admin_rooms(&self) -> Vec<RoomInfo> {
        let mut rooms = Vec::new();
        for shard in 0..self.shared.shards.len() {
            let (reply, answer) = oneshot::channel();
            if self
                .send(shard, ShardCmd::Admin(AdminCmd::List(reply)))
                .await
                .is_ok()
                && let Ok(list) = answer.await
            {
                rooms.extend(list);
            }
        }
        rooms.sort_by_key(|room| room.room_id);
        rooms
    }

    /// Room `id` in detail, or `None` if no shard has it.
    pub async fn inspect_room(&self, id: RoomId) -> Option<RoomDetail> {
        for shard in 0..self.shared.shards.len() {
            let (reply, answer) = oneshot::channel();
            let cmd = ShardCmd::Admin(AdminCmd::Inspect { room: id, reply });
            if self.send(shard, cmd).await.is_ok()
                && let Ok(Some(detail)) = answer.await
            {
                return Some(detail);
            }
        }
        None
    }

    /// Closes room `id`, telling its members `reason`. Returns `false` if no shard has it.
    /// The room is gone (and its members told) when this returns `true`.
    pub async fn close_room(&self, id: RoomId, reason: String) -> bool {
        for shard in 0..self.shared.shards.len() {
            let (reply, answer) = oneshot::channel();
            let cmd = ShardCmd::Admin(AdminCmd::Close {
                room: id,
                reason: reason.clone(),
                reply,
            });
            if self.send(shard, cmd).await.is_ok() && answer.await == Ok(true) {
                return true;
            }
        }
        false
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_meter_reports_last_mean_and_max_in_microseconds() {
        let mut meter = RoomMeter::new();
        assert_eq!(meter.cost(), TickCost::default());
        meter.record(Duration::from_micros(10));
        meter.record(Duration::from_micros(30));
        meter.record(Duration::from_micros(20));
        assert_eq!(meter.ticks(), 3);
        let cost = meter.cost();
        assert!((cost.last - 20.0).abs() < 1e-6, "{cost:?}");
        assert!((cost.mean - 20.0).abs() < 1e-6, "{cost:?}");
        assert!((cost.max - 30.0).abs() < 1e-6, "{cost:?}");
    }
}
