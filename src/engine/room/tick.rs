//! A room's tick: queued inputs applied in arrival order, the game advanced, reconnect
//! deadlines enforced, states sent, the outcome reported, and whether the room is done.

use bytes::BytesMut;

use super::output::{Acks, Notice, RoomOutput};
use super::{PendingInput, Role, Room, Sender};
use crate::codec::Codec;
use crate::engine::finished::FinishedGame;
use crate::engine::registry::InputError;
use crate::game::Outcome;
use crate::protocol::{ErrorCode, RoomEvent, RoomStatus, Seat, ServerMsg, Tick};

impl Room {
    /// Runs tick `now`: applies queued inputs in arrival order, advances the game, enforces
    /// reconnect deadlines, chooses and encodes states (asking `acks` for the members'
    /// acknowledged ticks), and reports the outcome, all as outputs appended to `out`.
    /// Returns `true` when the room is done and must be removed.
    pub(crate) fn tick(
        &mut self,
        now: Tick,
        scratch: &mut BytesMut,
        acks: &impl Acks,
        out: &mut RoomOutput,
    ) -> bool {
        if self.reservation_lapsed(now) {
            self.cancel_match(out);
            return true;
        }
        self.apply_inputs(now, out);
        if let Some(game) = &mut self.game
            && self.status == RoomStatus::Running
            && game.tick(now)
        {
            self.dirty = true;
        }
        self.flush_game_events(now, out);
        self.expire_absent(now, out);
        let changed = self.dirty;
        self.broadcast_state(now, scratch, acks, out);
        self.finish_if_over(now, out);
        if changed {
            self.ask_bots(scratch);
        }
        let close = self.should_close(now);
        if close {
            self.end_deserted(now, out);
        }
        close
    }

    /// A running game whose players have all left ends with the room: `Abandoned`, no
    /// winner. Games that end by their own rules report that themselves (a forfeit);
    /// this is for the rest (the arena has no end of its own), so that every game played
    /// is reported once and its record and replay are kept.
    fn end_deserted(&mut self, now: Tick, out: &mut RoomOutput) {
        if self.status != RoomStatus::Running || self.game.is_none() {
            return;
        }
        let outcome = Outcome {
            winner: None,
            reason: crate::protocol::EndReason::Abandoned,
        };
        self.end_game(now, outcome, out);
        self.changed(out);
    }

    /// Ends the running game with `outcome`: the room is finished, its members (the
    /// spectators, when every player has gone) hear `GameOver`, and the game is reported
    /// once. Every way a game ends goes through here.
    ///
    /// The game's last call, its replay (which hashes its views), comes first: should the
    /// game's code panic there, the room fails (`shard/contain.rs`) before anyone is told
    /// a result, and the game is reported ended `Closed` instead; nobody hears a result
    /// that is not recorded.
    pub(super) fn end_game(&mut self, now: Tick, outcome: Outcome, out: &mut RoomOutput) {
        let replay = self
            .game
            .as_mut()
            .and_then(|game| game.take_replay(now, outcome));
        self.status = RoomStatus::Finished;
        self.ended = Some((now, outcome.reason));
        self.emit(
            now,
            RoomEvent::GameOver {
                winner: outcome.winner,
                reason: outcome.reason,
            },
            out,
        );
        self.report_finished(now, outcome, replay, out);
    }

    fn apply_inputs(&mut self, now: Tick, out: &mut RoomOutput) {
        let pending = std::mem::take(&mut self.pending);
        for input in &pending {
            self.apply_input(now, input, out);
        }
        // Keep the vector's capacity for the next tick.
        self.pending = pending;
        self.pending.clear();
    }

    fn apply_input(&mut self, now: Tick, input: &PendingInput, out: &mut RoomOutput) {
        let session = match input.from {
            Sender::Member(session) => session,
            Sender::Bot(seat) => {
                // A bot's input takes the clients' path into the game (decoded, validated,
                // applied, recorded); a refusal is a bug in the bot, logged.
                if let Err((code, message)) =
                    self.feed_game(now, seat, input.seq, Codec::Bincode, &input.data)
                {
                    tracing::warn!(
                        game = self.entry.name,
                        seat,
                        ?code,
                        message,
                        "a server bot's input was refused"
                    );
                }
                return;
            }
        };
        let Some(index) = self.member_index(session) else {
            return;
        };
        let per_tick = self.entry.max_inputs_per_tick;
        let member = &mut self.members[index];
        let Some(link) = member.link.clone() else {
            return;
        };
        let mut refuse = |code: ErrorCode, message: String| {
            out.msg(
                &link,
                ServerMsg::Error {
                    code,
                    message,
                    input_seq: Some(input.seq),
                },
            );
        };
        let Role::Player(seat) = member.role else {
            return refuse(ErrorCode::NotAPlayer, "spectators cannot send input".into());
        };
        if input.seq <= member.input_seq {
            // A duplicate or stale input: ignored, as documented in PROTOCOL.md.
            return;
        }
        // A refused input is processed too: its seq is used up and shows in `input_seq`.
        member.input_seq = input.seq;
        let (tick, count) = &mut member.inputs_in_tick;
        if *tick != now {
            *tick = now;
            *count = 0;
        }
        if *count >= per_tick {
            return refuse(
                ErrorCode::RateLimited,
                format!("at most {per_tick} inputs per player per tick"),
            );
        }
        *count += 1;
        if let Err((code, message)) =
            self.feed_game(now, seat, input.seq, link.codec(), &input.data)
        {
            refuse(code, message);
        }
    }

    /// Gives one input of `seat` to the running game; the code and message of a refusal.
    fn feed_game(
        &mut self,
        now: Tick,
        seat: Seat,
        seq: u32,
        codec: Codec,
        data: &[u8],
    ) -> Result<(), (ErrorCode, String)> {
        let Some(game) = self
            .game
            .as_mut()
            .filter(|_| self.status == RoomStatus::Running)
        else {
            return Err((ErrorCode::GameNotRunning, "the game is not running".into()));
        };
        match game.apply_input(now, seat, seq, codec, data) {
            Ok(changed) => {
                self.dirty |= changed;
                Ok(())
            }
            Err(InputError::Malformed(error)) => Err((
                ErrorCode::BadMessage,
                format!("malformed game input: {error}"),
            )),
            Err(InputError::Rejected(rejection)) => {
                Err((rejection.code, rejection.message.into_owned()))
            }
        }
    }

    fn expire_absent(&mut self, now: Tick, out: &mut RoomOutput) {
        while let Some(index) = self
            .members
            .iter()
            .position(|m| m.away_until.is_some_and(|deadline| now >= deadline))
        {
            let member = self.members.remove(index);
            out.notice(Notice::MemberLeft {
                room: self.id,
                session: member.session,
            });
            if let Role::Player(seat) = member.role {
                self.player_gone(seat, now, out);
            }
            self.emit_occupancy(now, out);
            self.changed(out);
        }
    }

    fn finish_if_over(&mut self, now: Tick, out: &mut RoomOutput) {
        if self.status != RoomStatus::Running {
            return;
        }
        let Some(outcome) = self.game.as_ref().and_then(|g| g.outcome()) else {
            return;
        };
        self.end_game(now, outcome, out);
        self.changed(out);
    }

    fn should_close(&self, now: Tick) -> bool {
        let anyone_seated = self
            .members
            .iter()
            .any(|m| matches!(m.role, Role::Player(_)));
        if !anyone_seated {
            return true;
        }
        match self.ended.map(|(at, _)| at) {
            None => false,
            // Linger while an absent player may still come back for the result.
            Some(at) => {
                // Only players: an absent spectator has no result to come back for.
                let anyone_away = self
                    .members
                    .iter()
                    .any(|m| matches!(m.role, Role::Player(_)) && m.away_until.is_some());
                !anyone_away || now >= at + self.limits.grace_ticks
            }
        }
    }

    /// Hands the finished game's record to the lobby. Called once, at the tick the room's
    /// status became `Finished`.
    fn report_finished(
        &mut self,
        now: Tick,
        outcome: Outcome,
        replay: Option<bytes::Bytes>,
        out: &mut RoomOutput,
    ) {
        let mut players = std::mem::take(&mut self.roster);
        players.sort_by_key(|p| p.seat);
        out.notice(Notice::GameFinished(Box::new(FinishedGame {
            room: self.id,
            game: self.entry.name,
            settings: self.config.settings.clone(),
            public: self.public,
            players,
            started: self.started_at.unwrap_or(now),
            ended: now,
            tick_hz: self.limits.tick_hz,
            outcome,
            replay,
        })));
    }
}
