//! Private rooms: `CreateRoom` (the game and its options checked first), `JoinRoom` by
//! code and `LeaveRoom`.

use super::{Lobby, Membership, Session, check_free};
use crate::codec::Codec;
use crate::engine::{GameEntry, Member, NewRoom};
use crate::protocol::{ErrorCode, RoomSettings};

impl Lobby {
    /// The game a `CreateRoom` for `game` makes (its relay room when `settings.relay`),
    /// and the settings the room keeps: the game's options, sent in `codec`, decoded,
    /// validated and re-encoded in bincode.
    ///
    /// # Errors
    /// [`ErrorCode::UnknownGame`], or [`ErrorCode::InvalidOptions`] with the reason.
    pub fn room_game(
        &self,
        game: &str,
        codec: Codec,
        mut settings: RoomSettings,
    ) -> Result<(GameEntry, RoomSettings), (ErrorCode, String)> {
        let named = self
            .game(game)
            .map_err(|code| (code, "no such game on this server".to_string()))?;
        let entry = if settings.relay {
            GameEntry::relay(&named)
        } else {
            named
        };
        settings.options = (entry.check_options)(codec, &settings.options).map_err(|reason| {
            (
                ErrorCode::InvalidOptions,
                format!("invalid options: {reason}"),
            )
        })?;
        Ok((entry, settings))
    }

    /// Creates a private room of `entry` (see [`Lobby::room_game`]) with the session in
    /// seat 0. The room sends `RoomJoined` with the join code.
    ///
    /// # Errors
    /// [`ErrorCode::AlreadyInRoom`], [`ErrorCode::AlreadyQueued`], [`ErrorCode::ServerBusy`].
    pub async fn create_room(
        &self,
        session: &Session,
        entry: GameEntry,
        settings: RoomSettings,
    ) -> Result<(), ErrorCode> {
        let engine = &self.shared.engine;
        // In a cluster the code is claimed cluster-wide first (`cluster_rooms.rs`).
        let claimed = self.claim_private_code(session).await?;
        let placed = {
            let mut state = session.lock();
            check_free(&state).and_then(|()| {
                let outbox = state.outbox().cloned().ok_or(ErrorCode::ServerBusy)?;
                let addr = engine.place_room();
                let directory = &self.shared.directory;
                let code = match &claimed {
                    Some(code) if directory.register_with(addr, code) => code.clone(),
                    _ => directory.register(addr),
                };
                state.room = Some(Membership {
                    addr,
                    player: true,
                    seat: None,
                    joining: false,
                });
                Ok((addr, code, outbox))
            })
        };
        let (addr, code, outbox) = match placed {
            Ok(placed) => placed,
            Err(refused) => {
                if let Some(code) = claimed {
                    self.release_private_code(code).await;
                }
                return Err(refused);
            }
        };
        let room = NewRoom {
            game: entry,
            settings,
            code,
            public: false,
            players: vec![Member {
                session: session.id(),
                outbox,
            }],
            bots: Default::default(),
            start_now: false,
            reserved: Default::default(),
        };
        if engine.create_room(addr, room).await.is_err() {
            self.shared.directory.remove(addr.id);
            session.lock().room = None;
            return Err(ErrorCode::ServerBusy);
        }
        Ok(())
    }

    /// Joins the room with join code `code` as a player or spectator.
    ///
    /// # Errors
    /// [`ErrorCode::UnknownRoomCode`], [`ErrorCode::RoomFull`],
    /// [`ErrorCode::GameAlreadyStarted`], [`ErrorCode::SpectatorsNotAllowed`],
    /// [`ErrorCode::AlreadyInRoom`], [`ErrorCode::AlreadyQueued`].
    pub async fn join_room(
        &self,
        session: &Session,
        code: &str,
        spectate: bool,
    ) -> Result<(), ErrorCode> {
        let addr = self
            .shared
            .directory
            .find_code(code)
            .ok_or(ErrorCode::UnknownRoomCode)?;
        // The membership is recorded as the `Join` is queued, under the session's lock (a
        // place in the shard's inbox is reserved first): a kick, a takeover's `Rebind` or a
        // disconnect of this session that finds the membership reaches the shard behind
        // the `Join`. The answer may come a tick or more later, after the room's own
        // notices; until it does, the membership is `joining`, so that a notice about the
        // session's earlier stay in the room (a `LeaveRoom` just before) does not clear it.
        // Refused at once when already busy, without waiting for room in a full inbox; the
        // check is made again under the lock, with the place reserved.
        check_free(&session.lock())?;
        let permit = self.shared.engine.reserve_join(addr).await?;
        let queued = {
            let mut state = session.lock();
            check_free(&state)?;
            let outbox = state.outbox().cloned().ok_or(ErrorCode::ServerBusy)?;
            state.room = Some(Membership {
                addr,
                player: !spectate,
                seat: None,
                joining: true,
            });
            let member = Member {
                session: session.id(),
                outbox,
            };
            permit.join(member, spectate)
        };
        let answer = queued.answer().await;
        let mut state = session.lock();
        let ours = state.room.is_some_and(|m| m.addr == addr && m.joining);
        match answer {
            Ok(Some(joined)) => {
                if let Some(membership) = state.room.as_mut().filter(|_| ours) {
                    membership.player = joined.seat.is_some();
                    membership.seat = joined.seat;
                    membership.joining = false;
                }
                drop(state);
                // A room that closed since it answered skipped this membership while it
                // was `joining`. A closing room leaves the directory before it clears its
                // members' memberships, so one still listed now will clear it itself.
                if ours && !self.shared.directory.contains(addr.id) {
                    let mut state = session.lock();
                    if state.room.is_some_and(|m| m.addr == addr) {
                        state.room = None;
                    }
                }
                Ok(())
            }
            // Never in it (`Err`), or seated and then the room's game failed and the room
            // closed, which said so (`Ok(None)`).
            other => {
                if ours {
                    state.room = None;
                }
                other.map(|_| ())
            }
        }
    }

    /// Leaves the session's room; a player forfeits a running game. The room answers
    /// `RoomLeft`.
    ///
    /// # Errors
    /// [`ErrorCode::NotInRoom`].
    pub async fn leave_room(&self, session: &Session) -> Result<(), ErrorCode> {
        let membership = session.lock().room.take().ok_or(ErrorCode::NotInRoom)?;
        self.shared
            .engine
            .leave(membership.addr, session.id())
            .await
            .map_err(|_| ErrorCode::ServerBusy)
    }
}
