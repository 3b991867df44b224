//! Containing a panic to its room. A game's code (and a server bot's) is the embedder's,
//! run on the shard's task: a panic in it would end the task and with it every room the
//! shard owns. The shard catches it instead, at each place it calls into a room (the
//! room's tick, a command for one room, the drain's and the operator's end of a room), and
//! fails only that room ([`Room::fail`]): its players get `GameOver { reason: Closed }`,
//! `Error RoomClosed` and `RoomLeft`, the game is recorded ended `Closed`, the panic is
//! logged and counted (`ticksync_room_panics_total`), and the shard and its other rooms go
//! on. A quick-match room that panics as it is made (its game's `new`, its bots) was never
//! the shard's: its players are turned away the same way and the lobby told. A panic in
//! the game's or a bot's `Drop`, as its room closes or the shard stops, is logged and
//! counted too; the room closes as it would have ([`drop_game`]). The engine's own code
//! does not panic; this is for the code it cannot vouch for.
//!
//! Catching is sound here because nothing of the failed room is used again except through
//! [`Room::fail`], which drops the game unexamined, and the shard's own state is not
//! in the middle of a change where a room's method is called (`AssertUnwindSafe`).

use std::any::Any;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::atomic::Ordering;

use super::{RoomKey, Shard};
use crate::engine::Member;
use crate::engine::room::{GAME_FAILED, Link, Notice, Room, RoomOutput};
use crate::protocol::{ErrorCode, RoomId, ServerMsg, Tick};

/// What a caught panic said, for the log.
fn panic_message(panic: &(dyn Any + Send)) -> &str {
    panic
        .downcast_ref::<&str>()
        .copied()
        .or_else(|| panic.downcast_ref::<String>().map(String::as_str))
        .unwrap_or("(a panic without a message)")
}

/// Runs `f` on `room`; after a panic in it, fails the room and returns `None`.
pub(super) fn step<R>(
    shard: usize,
    panics: &mut u64,
    room: &mut Room,
    now: Tick,
    out: &mut RoomOutput,
    f: impl FnOnce(&mut Room, &mut RoomOutput) -> R,
) -> Option<R> {
    match catch_unwind(AssertUnwindSafe(|| f(room, out))) {
        Ok(value) => Some(value),
        Err(panic) => {
            *panics += 1;
            log(shard, room.id(), room.game_name(), &*panic);
            room.fail(now, out);
            None
        }
    }
}

/// Drops `room`'s game and bots as the room closes: a panic in their `Drop` is logged and
/// counted, and the room closes as it would have.
pub(super) fn drop_game(shard: usize, panics: &mut u64, room: &mut Room) {
    if let Err(panic) = room.drop_game() {
        *panics += 1;
        tracing::error!(
            shard,
            room = room.id().get(),
            game = room.game_name(),
            panic = panic_message(&*panic),
            "a game's code panicked as it was dropped (its room closing, or its shard \
             stopping); the room closes as it would have, and the shard goes on"
        );
    }
}

fn log(shard: usize, room: RoomId, game: &str, panic: &(dyn Any + Send)) {
    tracing::error!(
        shard,
        room = room.get(),
        game,
        panic = panic_message(panic),
        "a game's code panicked: its room is closed (GameOver Closed, Error RoomClosed); \
         the shard and its other rooms go on"
    );
}

impl Shard {
    /// Runs `apply` (a command, which may call into the room `target`); after a panic in
    /// it, fails and removes that room if it is there. `made` is the room a `Create` was
    /// making and its players: a quick match's room starts its game (and makes its bots)
    /// as it is made, before the shard holds it, so a panic there leaves no room to fail,
    /// only players to turn away.
    pub(super) fn contain_command(
        &mut self,
        target: Option<RoomId>,
        made: Option<(RoomId, Vec<Member>)>,
        out: &mut RoomOutput,
        apply: impl FnOnce(&mut Shard, &mut RoomOutput),
    ) {
        let Err(panic) = catch_unwind(AssertUnwindSafe(|| apply(self, out))) else {
            return;
        };
        self.stats.room_panics += 1;
        let key = target.and_then(|id| self.by_id.get(&id).copied());
        let Some(mut room) = key.and_then(|key| self.take_room(key)) else {
            tracing::error!(
                shard = self.index,
                room = target.map(RoomId::get),
                panic = panic_message(&*panic),
                "a game's code panicked outside a running room; the shard goes on"
            );
            if let Some((id, players)) = made {
                self.turn_away(id, &players, out);
            }
            return;
        };
        log(self.index, room.id(), room.game_name(), &*panic);
        room.fail(self.now, out);
        self.close_now(room, out);
    }

    /// Runs `f` on room `key`; after a panic in it, fails the room and closes it at once.
    /// `None` when the room failed (or is not there).
    pub(super) fn contain_room<R>(
        &mut self,
        key: RoomKey,
        out: &mut RoomOutput,
        f: impl FnOnce(&mut Room, &mut RoomOutput) -> R,
    ) -> Option<R> {
        let room = self.rooms.get_mut(key)?;
        let stepped = step(
            self.index,
            &mut self.stats.room_panics,
            room,
            self.now,
            out,
            f,
        );
        if stepped.is_none()
            && let Some(room) = self.take_room(key)
        {
            self.close_now(room, out);
        }
        stepped
    }

    /// Closes a room taken out of the shard between ticks (failed, or closed by the
    /// operator): its game, if it ended now, is counted here, as the tick counts the rooms
    /// it steps.
    pub(super) fn close_now(&mut self, room: Room, out: &mut RoomOutput) {
        if let Some((game, reason)) = room.finished_now(self.now) {
            self.count_finished(game, reason);
        }
        self.close_room(room, out);
    }

    /// The players of room `id`, which panicked as it was made: the engine counted the
    /// room and the lobby seated them, so the count is given back and they are told as a
    /// failed room's players are (`Error RoomClosed`, `RoomLeft`), then the lobby
    /// (`RoomClosed`), which takes them out of it and its code out of the directory.
    fn turn_away(&mut self, id: RoomId, players: &[Member], out: &mut RoomOutput) {
        self.room_count.fetch_sub(1, Ordering::Relaxed);
        let notice = ServerMsg::Error {
            code: ErrorCode::RoomClosed,
            message: GAME_FAILED.to_string(),
            input_seq: None,
        };
        for member in players {
            let link = Link::of(member.clone());
            out.msg(&link, notice.clone());
            out.msg(&link, ServerMsg::RoomLeft { room_id: id });
        }
        out.notice(Notice::RoomClosed {
            room: id,
            members: players.iter().map(|m| m.session).collect(),
        });
    }

    /// [`Room::end_for_shutdown`] for the drain, contained: a room whose game panics as it
    /// ends is failed instead. Either way the room is closed after this tick.
    pub(super) fn end_for_shutdown(&mut self, key: RoomKey, now: Tick, out: &mut RoomOutput) {
        if let Some(room) = self.rooms.get_mut(key) {
            step(
                self.index,
                &mut self.stats.room_panics,
                room,
                now,
                out,
                |room, out| room.end_for_shutdown(now, out),
            );
            self.closed.push(key);
        }
    }
}

#[cfg(test)]
#[path = "contain_tests.rs"]
mod tests;
