//! The quick-match queue's requests: `FindMatch` (the game and its options checked
//! first, then the local matchmaker or, in a cluster, the global one) and `CancelMatch`.

use std::sync::Arc;

use bytes::Bytes;
use tokio::sync::oneshot;

use super::matchmaker::MatchCmd;
use super::{Lobby, Session, global};
use crate::codec::Codec;
use crate::engine::GameEntry;
use crate::protocol::ErrorCode;

impl Lobby {
    /// The game a `FindMatch` for `game` queues for, with its options (sent in `codec`)
    /// decoded, validated and re-encoded in bincode, as the queue and its rooms keep them.
    ///
    /// # Errors
    /// [`ErrorCode::UnknownGame`], or [`ErrorCode::InvalidOptions`] with the reason.
    pub fn match_game(
        &self,
        game: &str,
        codec: Codec,
        options: &[u8],
    ) -> Result<(GameEntry, Bytes), (ErrorCode, String)> {
        let entry = self
            .game(game)
            .map_err(|code| (code, "no such game on this server".to_string()))?;
        let options = (entry.check_options)(codec, options).map_err(|reason| {
            (
                ErrorCode::InvalidOptions,
                format!("invalid options: {reason}"),
            )
        })?;
        Ok((entry, options))
    }

    /// Puts the session in the quick-match queue for `entry` with `options` (see
    /// [`Lobby::match_game`]).
    ///
    /// # Errors
    /// [`ErrorCode::AlreadyInRoom`], [`ErrorCode::AlreadyQueued`], [`ErrorCode::ServerBusy`].
    pub async fn find_match(
        &self,
        session: &Arc<Session>,
        entry: GameEntry,
        options: Bytes,
    ) -> Result<(), ErrorCode> {
        let stored = self.match_rating(session, entry.name).await;
        let (rating, outbox) = {
            let mut state = session.lock();
            if state.room.is_some() {
                return Err(ErrorCode::AlreadyInRoom);
            }
            if state.queued.is_some() {
                return Err(ErrorCode::AlreadyQueued);
            }
            let outbox = state.outbox().cloned().ok_or(ErrorCode::ServerBusy)?;
            state.queued = Some(entry.name);
            (stored, outbox)
        };
        if let Some((global, _)) = self.shared.global.get() {
            let cmd = global::GlobalCmd::Enqueue {
                session: session.clone(),
                game: entry,
                options,
                rating,
            };
            return global.send(cmd).await.map_err(|_| ErrorCode::ServerBusy);
        }
        let cmd = MatchCmd::Enqueue {
            session: session.clone(),
            game: entry,
            options,
            rating,
            outbox,
        };
        self.shared
            .matchmaker
            .send(cmd)
            .await
            .map_err(|_| ErrorCode::ServerBusy)
    }

    /// Takes the session out of the quick-match queue. Returns the game it was queued for.
    ///
    /// # Errors
    /// [`ErrorCode::NotQueued`] if it was not queued (or was just matched).
    pub async fn cancel_match(&self, session: &Session) -> Result<&'static str, ErrorCode> {
        let Some(game) = session.lock().queued else {
            return Err(ErrorCode::NotQueued);
        };
        let (reply, answer) = oneshot::channel();
        if let Some((global, _)) = self.shared.global.get() {
            let cmd = global::GlobalCmd::Cancel {
                session: session.id(),
                reply,
            };
            global.send(cmd).await.map_err(|_| ErrorCode::ServerBusy)?;
        } else {
            let cmd = MatchCmd::Cancel {
                session: session.id(),
                reply,
            };
            self.shared
                .matchmaker
                .send(cmd)
                .await
                .map_err(|_| ErrorCode::ServerBusy)?;
        }
        if answer.await.unwrap_or(false) {
            session.lock().queued = None;
            Ok(game)
        } else {
            Err(ErrorCode::NotQueued)
        }
    }
}
