//! One handler per client message kind, once the connection has a session.
//!
//! Handlers answer through the connection's outbox: a reply, or an `Error` with a stable
//! code. None of them can fail the connection; that is for the reader to decide.

use std::sync::Arc;

use crate::engine::{EngineError, InboxWait, InputData, Offered};
use crate::limits::InboxShare;
use crate::lobby::{Lobby, Session};
use crate::outbox::Outbox;
use crate::protocol::{ClientMsg, ErrorCode, RoomSettings, ServerMsg};

/// Builds an `Error` message.
pub(super) fn error(
    code: ErrorCode,
    message: impl Into<String>,
    input_seq: Option<u32>,
) -> ServerMsg {
    ServerMsg::Error {
        code,
        message: message.into(),
        input_seq,
    }
}

/// A human-readable line for each lobby error code.
fn describe(code: ErrorCode) -> &'static str {
    match code {
        ErrorCode::UnknownGame => "no such game on this server",
        ErrorCode::NotInRoom => "you are not in a room",
        ErrorCode::AlreadyInRoom => "you are already in a room",
        ErrorCode::AlreadyQueued => "you are already in the quick-match queue",
        ErrorCode::NotQueued => "you are not in the quick-match queue",
        ErrorCode::UnknownRoomCode => "no room has this code",
        ErrorCode::RoomFull => "every seat in this room is taken",
        ErrorCode::GameAlreadyStarted => "this room's game has already started",
        ErrorCode::SpectatorsNotAllowed => "this room does not admit spectators",
        ErrorCode::NotAPlayer => "spectators cannot send game input",
        ErrorCode::ChatTooLong => "chat text must be 1 to 200 characters",
        ErrorCode::InvalidText => {
            "chat text must not hold control or invisible formatting characters"
        }
        ErrorCode::RateLimited => "too many messages of this kind; slow down",
        ErrorCode::ServerBusy => "the server cannot take this request now",
        ErrorCode::NoRecords => "this server keeps no records (it runs with --database none)",
        ErrorCode::RecordsUnavailable => "the results database did not answer in time; try again",
        ErrorCode::ClusterUnavailable => "the cluster cannot be reached now; try again",
        _ => "request refused",
    }
}

/// Handles one decoded message from a connection that has a session. `share` is the
/// connection's place in the shard inbox for an `Input` (the reader takes it first).
/// Returns the refusal, if the message was refused.
pub(super) async fn dispatch(
    lobby: &Lobby,
    session: &Arc<Session>,
    outbox: &Outbox,
    msg: ClientMsg,
    share: Option<InboxShare>,
) -> Option<ErrorCode> {
    let reply = match msg {
        ClientMsg::Hello { .. } => Some(error(
            ErrorCode::HelloRequired,
            "Hello was already sent on this connection",
            None,
        )),
        ClientMsg::Ping { nonce } => Some(ServerMsg::Pong { nonce }),
        ClientMsg::FindMatch { game, options } => {
            find_match(lobby, session, outbox, &game, &options).await
        }
        ClientMsg::CancelMatch => cancel_match(lobby, session).await,
        ClientMsg::CreateRoom { game, settings } => {
            create_room(lobby, session, outbox, &game, settings).await
        }
        ClientMsg::JoinRoom { code, spectate } => join_room(lobby, session, &code, spectate).await,
        ClientMsg::LeaveRoom => lobby.leave_room(session).await.err().map(refusal),
        // The reader sends inputs through `offer_input` itself; the same path here.
        ClientMsg::Input { seq, data, .. } => {
            if let Some(wait) = offer_input(lobby, session, outbox, seq, data, share) {
                input_waited(outbox, seq, wait.await);
            }
            None
        }
        ClientMsg::Chat { text } => lobby.chat(session, text).await.err().map(refusal),
        // Acknowledgements are recorded by the reader before dispatch.
        ClientMsg::Ack { .. } => None,
        ClientMsg::ListRooms => {
            // The first page, encoded once per codec per directory build.
            outbox.push_event(lobby.listing().first_page_frame(outbox.codec()));
            None
        }
        ClientMsg::ListRoomsAfter { after, limit } => {
            let listing = lobby.listing();
            let rooms = listing.page(after, usize::from(limit)).to_vec();
            Some(ServerMsg::RoomList { rooms })
        }
        ClientMsg::Leaderboard { game, limit } => {
            Some(match lobby.leaderboard(&game, usize::from(limit)).await {
                Ok(rows) => ServerMsg::Leaderboard { game, rows },
                Err(code) => refusal(code),
            })
        }
    };
    let refused = match &reply {
        Some(ServerMsg::Error { code, .. }) => Some(*code),
        _ => None,
    };
    if let Some(reply) = reply {
        outbox.push_msg(&reply);
    }
    refused
}

fn refusal(code: ErrorCode) -> ServerMsg {
    error(code, describe(code), None)
}

async fn find_match(
    lobby: &Lobby,
    session: &Arc<Session>,
    outbox: &Outbox,
    game: &str,
    options: &[u8],
) -> Option<ServerMsg> {
    let (entry, options) = match lobby.match_game(game, outbox.codec(), options) {
        Ok(queue) => queue,
        Err((ErrorCode::UnknownGame, _)) => return Some(refusal(ErrorCode::UnknownGame)),
        Err((code, message)) => return Some(error(code, message, None)),
    };
    // Success is answered by the matchmaker with `Queued`, then `MatchFound`.
    lobby
        .find_match(session, entry, options)
        .await
        .err()
        .map(refusal)
}

async fn cancel_match(lobby: &Lobby, session: &Session) -> Option<ServerMsg> {
    Some(match lobby.cancel_match(session).await {
        Ok(game) => ServerMsg::MatchCancelled { game: game.into() },
        Err(code) => refusal(code),
    })
}

async fn create_room(
    lobby: &Lobby,
    session: &Session,
    outbox: &Outbox,
    game: &str,
    settings: RoomSettings,
) -> Option<ServerMsg> {
    let (entry, settings) = match lobby.room_game(game, outbox.codec(), settings) {
        Ok(room) => room,
        Err((ErrorCode::UnknownGame, _)) => return Some(refusal(ErrorCode::UnknownGame)),
        Err((code, message)) => return Some(error(code, message, None)),
    };
    // Success is answered by the room with `RoomJoined`.
    lobby
        .create_room(session, entry, settings)
        .await
        .err()
        .map(refusal)
}

async fn join_room(
    lobby: &Lobby,
    session: &Session,
    code: &str,
    spectate: bool,
) -> Option<ServerMsg> {
    // In a cluster, a code of another node's room answers `Redirect`.
    match lobby.join_room_anywhere(session, code, spectate).await {
        Ok(redirect) => redirect,
        Err(code) => Some(refusal(code)),
    }
}

/// [`dispatch`] for an `Input`, the one message on the hot path, with no future: the input
/// goes into its shard's inbox at once, and a refusal is answered at once. Only when that
/// inbox is full is a wait handed back (boxed); the caller awaits it and passes the outcome
/// to [`input_waited`].
pub(super) fn offer_input<'a>(
    lobby: &'a Lobby,
    session: &Session,
    outbox: &Outbox,
    seq: u32,
    data: impl Into<InputData>,
    share: Option<InboxShare>,
) -> Option<InboxWait<'a>> {
    let share = share.unwrap_or_else(InboxShare::untracked);
    match lobby.offer_input(session, seq, data, share) {
        Ok(Offered::Done(Ok(()))) => None,
        Ok(Offered::Done(Err(_))) => {
            refuse_input(outbox, ErrorCode::ServerBusy, seq);
            None
        }
        Ok(Offered::Waiting(wait)) => Some(wait),
        Err(code) => {
            refuse_input(outbox, code, seq);
            None
        }
    }
}

/// The end of an input [`offer_input`] had to wait for.
pub(super) fn input_waited(outbox: &Outbox, seq: u32, outcome: Result<(), EngineError>) {
    if outcome.is_err() {
        refuse_input(outbox, ErrorCode::ServerBusy, seq);
    }
}

/// Accepted input is answered by the next snapshot; refusals by the room name the seq.
fn refuse_input(outbox: &Outbox, code: ErrorCode, seq: u32) {
    outbox.push_msg(&error(code, describe(code), Some(seq)));
}
