//! A shard's inbox, seen from the senders: commands are handed over at once when there is
//! room ([`Offered::Done`]) and wait, boxed, only when it is full ([`Offered::Waiting`]),
//! so a connection's long-lived future never carries a send inline; and a place can be
//! reserved first ([`Engine::reserve`], [`Engine::reserve_join`]), for a command that must
//! be queued in the same step as the caller looks at or changes its own state under its
//! lock (a joiner's membership; a quick match's players settled after its `Create`), and
//! for the room commands built in one place ([`Place`]). A stopping shard closes its inbox
//! and empties it (`engine/shard.rs`), so every queued command's waiting answer ends.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use tokio::sync::mpsc::error::TrySendError;
use tokio::sync::{mpsc, oneshot};

use super::{Engine, EngineError, Member, RoomAddr, ShardCmd};
use crate::outbox::Outbox;
use crate::protocol::{ErrorCode, RoomId, RoomJoined, SessionId};

/// Waiting for room in a shard's full inbox ([`Offered::Waiting`]).
pub type InboxWait<'a> = Pin<Box<dyn Future<Output = Result<(), EngineError>> + Send + 'a>>;

/// A command handed to a shard's inbox ([`Engine::offer_input`]).
pub enum Offered<'a> {
    /// Taken (or refused) at once.
    Done(Result<(), EngineError>),
    /// The inbox was full: this future queues the command once there is room.
    Waiting(InboxWait<'a>),
}

impl Offered<'_> {
    /// The outcome, waiting for room in the inbox if need be.
    pub async fn finish(self) -> Result<(), EngineError> {
        match self {
            Offered::Done(result) => result,
            Offered::Waiting(wait) => wait.await,
        }
    }
}

/// A place reserved in a shard's inbox for one command about one room
/// ([`Engine::reserve`]); dropped unused, the place is given back. The caller looks at its
/// own state and queues the command in one step under its own lock, so that whatever
/// another task sends after seeing that state reaches the shard behind the command.
#[must_use = "a reserved place does nothing until a command is queued with it"]
pub(crate) struct Place<'a> {
    permit: mpsc::Permit<'a, ShardCmd>,
    room: RoomId,
}

impl Place<'_> {
    /// Queues a `Leave` of `session` ([`Engine::leave`] waits for a place and sends this).
    pub(crate) fn leave(self, session: SessionId) {
        self.permit.send(ShardCmd::Leave {
            room: self.room,
            session,
        });
    }

    /// Queues a `Disconnected` of `session`'s `connection` (as [`Engine::disconnected`]
    /// does).
    pub(crate) fn disconnected(self, session: SessionId, connection: Arc<Outbox>) {
        self.permit.send(ShardCmd::Disconnected {
            room: self.room,
            session,
            connection,
        });
    }
}

/// A place reserved in a shard's inbox for one `Join` ([`Engine::reserve_join`]); dropped
/// unused, the place is given back.
#[must_use = "a reserved place does nothing until the Join is queued with it"]
pub struct JoinPermit<'a>(Place<'a>);

impl JoinPermit<'_> {
    /// Queues the `Join` of `member` now, without waiting.
    pub fn join(self, member: Member, spectate: bool) -> JoinAnswer {
        let (reply, answer) = oneshot::channel();
        self.0.permit.send(ShardCmd::Join {
            room: self.0.room,
            member,
            spectate,
            reply,
        });
        JoinAnswer(answer)
    }
}

/// The room's answer to a queued `Join` ([`JoinPermit::join`]).
#[must_use = "the caller settles the session's membership with the room's answer"]
pub struct JoinAnswer(oneshot::Receiver<Result<Option<RoomJoined>, ErrorCode>>);

impl JoinAnswer {
    /// What [`Engine::join`] returns.
    ///
    /// # Errors
    /// The room's refusal, or [`ErrorCode::ServerBusy`] if the shard stopped first.
    pub async fn answer(self) -> Result<Option<RoomJoined>, ErrorCode> {
        self.0.await.unwrap_or(Err(ErrorCode::ServerBusy))
    }
}

impl Engine {
    /// A place in room `addr`'s shard inbox for a `Join`, waiting for one if the inbox is
    /// full. With it the caller records the membership and queues the `Join` in one step
    /// under its own lock ([`JoinPermit::join`]), so that whatever it sends about the same
    /// session after that (a `Leave`, a `Rebind`) reaches the shard behind the `Join`.
    /// Use it at once: while held, the place is one fewer for every other sender, so await
    /// nothing between reserving and [`JoinPermit::join`].
    ///
    /// # Errors
    /// [`ErrorCode::ServerBusy`] when shutting down.
    pub async fn reserve_join(&self, addr: RoomAddr) -> Result<JoinPermit<'_>, ErrorCode> {
        self.reserve(addr)
            .await
            .map(JoinPermit)
            .map_err(|_| ErrorCode::ServerBusy)
    }

    /// A place in room `addr`'s shard inbox for one command ([`Place`]), waiting for one if
    /// the inbox is full. Use it at once: while held, the place is one fewer for every
    /// other sender.
    ///
    /// # Errors
    /// [`EngineError::ShuttingDown`] if the shard has stopped.
    pub(crate) async fn reserve(&self, addr: RoomAddr) -> Result<Place<'_>, EngineError> {
        let link = self
            .shared
            .shards
            .get(addr.shard)
            .ok_or(EngineError::ShuttingDown)?;
        let permit = match link.tx.try_reserve() {
            Ok(permit) => permit,
            // Boxed, as in `offer`: the caller's future does not carry the wait inline.
            Err(TrySendError::Full(())) => Box::pin(link.tx.reserve())
                .await
                .map_err(|_| EngineError::ShuttingDown)?,
            Err(TrySendError::Closed(())) => return Err(EngineError::ShuttingDown),
        };
        Ok(Place {
            permit,
            room: addr.id,
        })
    }

    pub(super) async fn send(&self, shard: usize, cmd: ShardCmd) -> Result<(), EngineError> {
        self.offer(shard, cmd).finish().await
    }

    /// Hands `cmd` to its shard's inbox. Nearly always the inbox has room and `try_send`
    /// takes it with no future at all. Only a full inbox waits, in a boxed future, behind
    /// the senders already waiting (the channel's permits go to them first), so callers'
    /// futures do not carry a `send` future and a second copy of the command inline (a
    /// connection's future lives as long as the connection).
    pub(super) fn offer(&self, shard: usize, cmd: ShardCmd) -> Offered<'_> {
        let Some(link) = self.shared.shards.get(shard) else {
            return Offered::Done(Err(EngineError::ShuttingDown));
        };
        match link.tx.try_send(cmd) {
            Ok(()) => Offered::Done(Ok(())),
            Err(TrySendError::Full(cmd)) => Offered::Waiting(Box::pin(async move {
                link.tx
                    .send(cmd)
                    .await
                    .map_err(|_| EngineError::ShuttingDown)
            })),
            Err(TrySendError::Closed(_)) => Offered::Done(Err(EngineError::ShuttingDown)),
        }
    }
}
