//! What the operator's view (`/admin/`) reads from a room, and closing one by hand.
//!
//! Kept apart from the room's own logic; it only reads the room's fields, and
//! [`Room::admin_close`] goes through the room's own `emit`, so a closed room's events are
//! numbered and logged like every other.

use std::panic::{AssertUnwindSafe, catch_unwind};

use super::output::RoomOutput;
use super::{Role, Room};
use crate::engine::admin::{MemberInfo, RoomDetail, RoomInfo, RoomMeter};
use crate::game::{Outcome, Viewer};
use crate::protocol::{EndReason, ErrorCode, RoomStatus, ServerMsg, Tick};

/// What members of a room whose game's code panicked get, in `Error RoomClosed`.
pub const GAME_FAILED: &str =
    "the game failed on the server (its code panicked): the room is closed";

impl Room {
    /// The room's row in the operator's list.
    pub(in crate::engine) fn admin_info(&self, shard: usize, meter: &RoomMeter) -> RoomInfo {
        let away = self
            .members
            .iter()
            .filter(|m| matches!(m.role, Role::Player(_)) && m.link.is_none())
            .count();
        RoomInfo {
            room_id: self.id,
            shard,
            game: self.entry.name.to_string(),
            status: self.status,
            players: self.player_count(),
            seats: self.entry.seats,
            players_away: u8::try_from(away).unwrap_or(u8::MAX),
            spectators: self.spectator_count(),
            public: self.public,
            relay: self.entry.relay,
            code: self.code.clone(),
            age_s: meter.age_s(),
            ticks: meter.ticks(),
            tick_us: meter.cost(),
        }
    }

    /// The room's members and current state, for the operator's inspector.
    pub(in crate::engine) fn admin_detail(
        &self,
        shard: usize,
        meter: &RoomMeter,
        now: Tick,
    ) -> RoomDetail {
        let mut members: Vec<MemberInfo> = self
            .members
            .iter()
            .map(|m| MemberInfo {
                session: m.session,
                seat: match m.role {
                    Role::Player(seat) => Some(seat),
                    Role::Spectator => None,
                },
                connected: m.link.is_some(),
                away_until_tick: m.away_until,
                input_seq: m.input_seq,
            })
            .collect();
        // Players first (stable: join order within each group).
        members.sort_by_key(|m| m.seat.is_none());
        RoomDetail {
            info: self.admin_info(shard, meter),
            tick: now,
            members,
            bots: self.bots.iter().map(|b| b.seat).collect(),
            state: self
                .game
                .as_ref()
                .and_then(|game| game.view_json(Viewer::Spectator)),
        }
    }

    /// Ends the room after its game's (or a server bot's) code panicked, which the shard
    /// caught: the game is dropped unexamined (its state may be half-changed, and none of
    /// its code runs again; a panic while dropping it is caught too), then the room ends as
    /// an operator's close does ([`Room::admin_close`]) with [`GAME_FAILED`] as the reason:
    /// a running game ends `GameOver { winner: None, reason: Closed }` (recorded like any
    /// finished game, without a replay), every connected member gets `Error RoomClosed`,
    /// and the shard removes the room ([`Room::close`] sends `RoomLeft`).
    pub(in crate::engine) fn fail(&mut self, now: Tick, out: &mut RoomOutput) {
        if self.drop_game().is_err() {
            tracing::error!(
                room = self.id.get(),
                "the failed game (or a bot) panicked again as it was dropped"
            );
        }
        self.admin_close(now, GAME_FAILED, out);
    }

    /// Drops the game and the server bots now, catching a panic in their `Drop` (the
    /// embedder's code); the first is returned. The room needs neither to close. One at a
    /// time: a second panic while the first unwinds would abort the process.
    pub(in crate::engine) fn drop_game(&mut self) -> std::thread::Result<()> {
        let game = self.game.take();
        let mut dropped = catch_unwind(AssertUnwindSafe(move || drop(game)));
        for bot in std::mem::take(&mut self.bots) {
            dropped = dropped.and(catch_unwind(AssertUnwindSafe(move || drop(bot))));
        }
        dropped
    }

    /// Ends the room on the operator's word: a running game ends with
    /// `GameOver { winner: None, reason: Closed }`, then every connected member gets
    /// `Error RoomClosed` carrying `reason`. The shard then removes the room and
    /// [`Room::close`] sends `RoomLeft`.
    pub(in crate::engine) fn admin_close(&mut self, now: Tick, reason: &str, out: &mut RoomOutput) {
        if self.status == RoomStatus::Running {
            let outcome = Outcome {
                winner: None,
                reason: EndReason::Closed,
            };
            self.end_game(now, outcome, out);
        }
        let notice = ServerMsg::Error {
            code: ErrorCode::RoomClosed,
            message: reason.to_string(),
            input_seq: None,
        };
        for link in self.members.iter().filter_map(|m| m.link.as_ref()) {
            out.msg(link, notice.clone());
        }
    }
}
