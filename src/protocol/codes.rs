//! The codes a client is told why: [`ErrorCode`] (in `ServerMsg::Error`) and
//! [`close_code`] (a WebSocket close frame's). Numbers are part of the protocol: PROTOCOL.md
//! lists every one, and a number is never reused for another meaning.

use serde_repr::{Deserialize_repr, Serialize_repr};

/// Stable error codes carried by `ServerMsg::Error`. Encoded as an integer in both codecs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize_repr, Deserialize_repr)]
#[repr(u16)]
pub enum ErrorCode {
    /// The frame could not be decoded as a message (or game input).
    BadMessage = 1,
    /// `Hello.version` is not one this server speaks.
    UnsupportedVersion = 2,
    /// The first message was not `Hello`, or `Hello` was sent twice.
    HelloRequired = 3,
    /// A text frame was sent; this protocol is binary only.
    TextFrame = 4,
    /// Too many bad messages; the connection is being closed.
    TooManyErrors = 5,
    /// No such game on this server.
    UnknownGame = 10,
    /// The request needs a room and the client is in none.
    NotInRoom = 11,
    /// The client is already in a room.
    AlreadyInRoom = 12,
    /// The client is already in the quick-match queue.
    AlreadyQueued = 13,
    /// `CancelMatch` while not queued.
    NotQueued = 14,
    /// No room has this join code.
    UnknownRoomCode = 20,
    /// Every seat is taken.
    RoomFull = 21,
    /// The game has already started.
    GameAlreadyStarted = 22,
    /// The room does not admit spectators.
    SpectatorsNotAllowed = 23,
    /// Spectators cannot send game input.
    NotAPlayer = 24,
    /// It is not this player's turn.
    NotYourTurn = 30,
    /// The input breaks the game's rules (occupied cell, out of range, ...).
    IllegalInput = 31,
    /// The game is not running (not started yet, or over).
    GameNotRunning = 32,
    /// The resume token is unknown, expired or already rotated.
    InvalidResumeToken = 40,
    /// The chat text is empty or longer than [`MAX_CHAT_CHARS`](super::MAX_CHAT_CHARS).
    ChatTooLong = 50,
    /// Too many messages of this kind; slow down.
    RateLimited = 51,
    /// The server cannot take this request now (queues full, shutting down).
    ServerBusy = 60,
    /// The chat text holds a control or bidirectional-override character.
    InvalidText = 55,
    /// This server requires a token (JWT) and none came with `Hello` or the handshake.
    AuthRequired = 70,
    /// The token's `exp` has passed.
    TokenExpired = 71,
    /// The token's `nbf` is still in the future.
    TokenNotYetValid = 72,
    /// The token's signature does not verify with the server's key (forged or altered).
    TokenBadSignature = 73,
    /// The token's `iss` is missing or not the configured issuer.
    TokenWrongIssuer = 74,
    /// The token's `aud` is missing or not the configured audience.
    TokenWrongAudience = 75,
    /// The token is signed with an algorithm this server does not accept.
    TokenWrongAlgorithm = 76,
    /// The token claims `alg: none` (unsigned).
    TokenUnsigned = 77,
    /// The token is not a well-formed JWT, or its claims (`sub`, `name`, `rating`) are
    /// missing or invalid.
    TokenMalformed = 78,
    /// Too many `JoinRoom` codes named no room; the connection is being closed (4020).
    TooManyCodeGuesses = 61,
    /// The server is draining for a shutdown: no new matches, rooms or sessions.
    ShuttingDown = 80,
    /// `CreateRoom`'s `settings.options` or `FindMatch`'s `options` do not decode as the
    /// game's options, or the game refused them; `message` says why.
    InvalidOptions = 90,
    /// The server's operator closed the client's room; `message` is their reason.
    /// `RoomLeft` follows.
    RoomClosed = 85,
    /// The server's operator ended this client's session; `message` is their reason. The
    /// connection is then closed with [`close_code::KICKED`] and the resume token is void.
    Kicked = 86,
    /// This server keeps no records (`--database none`): no leaderboard or history.
    NoRecords = 110,
    /// The database did not answer in time; try again later.
    RecordsUnavailable = 111,
    /// `Hello.ticket` is not a seat ticket, or its signature does not verify (forged or
    /// altered). The connection is then closed with [`close_code::TICKET_REFUSED`], as for
    /// every ticket refusal.
    TicketInvalid = 120,
    /// `Hello.ticket` has expired.
    TicketExpired = 121,
    /// `Hello.ticket` is for another node of the cluster.
    TicketWrongNode = 122,
    /// `Hello.ticket` was already used (single use, on any node).
    TicketUsed = 123,
    /// A ticket came to a server in no cluster, or one that cannot reach the cluster's
    /// Redis now; or a `FindMatch` could not reach the cluster's queue; or a resume token
    /// this node does not know could not be looked up (then close 1013). Try again later.
    ClusterUnavailable = 124,
    /// The ticket was good but its seat is no longer held (the reservation expired, or
    /// the room is gone). The session carries on; queue again with `FindMatch`.
    ReservationExpired = 125,
    /// A quick match across the cluster was called off before it started: a player it was
    /// placed with did not take their reserved seat in time (or left while it waited). No
    /// game was played and nothing is recorded. `RoomLeft` follows, then `Queued`: the
    /// client is back in the queue for the same game and options.
    MatchCalledOff = 126,
    /// `Hello.resume_token` named a session whose node has left the cluster (no
    /// heartbeat for 3 s: killed, cut off, or draining): its rooms ended with it. Sent after
    /// `Welcome { resumed: false }` for a new session, which carries on: queue again.
    NodeLost = 130,
    /// `Hello.ticket` (a seat, join or resume ticket) was issued to another player than
    /// the one whose token (`Hello.auth_token` or the handshake's) came with it, or a
    /// signed-in player's resume ticket came with no token. The ticket is not used up;
    /// the connection is closed with [`close_code::TICKET_REFUSED`].
    TicketWrongPlayer = 131,
}

/// WebSocket close codes the server uses. 1000-1011 are RFC 6455's; 4000-4999 are ours.
pub mod close_code {
    /// Normal closure (the client closed, or the server answered a close).
    pub const NORMAL: u16 = 1000;
    /// The server is shutting down.
    pub const GOING_AWAY: u16 = 1001;
    /// The client sent a text frame; this protocol is binary.
    pub const UNSUPPORTED_DATA: u16 = 1003;
    /// The client kept sending messages that could not be decoded.
    pub const POLICY_VIOLATION: u16 = 1008;
    /// A frame or message exceeded the size cap.
    pub const MESSAGE_TOO_BIG: u16 = 1009;
    /// The server hit an internal error on this connection.
    pub const INTERNAL_ERROR: u16 = 1011;
    /// Try again later (IANA-registered): a resume token this node does not know while
    /// the cluster's Redis cannot be asked where its session is (`Error
    /// ClusterUnavailable` first). Resume again with backoff; the token was not refused.
    pub const TRY_AGAIN_LATER: u16 = 1013;
    /// `Hello.version` is unsupported.
    pub const UNSUPPORTED_VERSION: u16 = 4000;
    /// No valid `Hello` arrived in time, or the first message was not `Hello`.
    pub const HELLO_REQUIRED: u16 = 4001;
    /// Another connection resumed this session.
    pub const SESSION_TAKEN_OVER: u16 = 4002;
    /// The client did not read fast enough; its event queue overflowed.
    pub const TOO_SLOW: u16 = 4003;
    /// Nothing was received for the idle timeout.
    pub const IDLE_TIMEOUT: u16 = 4004;
    /// The resume token was refused.
    pub const INVALID_RESUME_TOKEN: u16 = 4005;
    /// A token (JWT) is required and none was given.
    pub const AUTH_REQUIRED: u16 = 4010;
    /// The token has expired.
    pub const TOKEN_EXPIRED: u16 = 4011;
    /// The token is not valid yet.
    pub const TOKEN_NOT_YET_VALID: u16 = 4012;
    /// The token's signature does not verify.
    pub const TOKEN_BAD_SIGNATURE: u16 = 4013;
    /// The token names another issuer.
    pub const TOKEN_WRONG_ISSUER: u16 = 4014;
    /// The token names another audience.
    pub const TOKEN_WRONG_AUDIENCE: u16 = 4015;
    /// The token's algorithm is not accepted.
    pub const TOKEN_WRONG_ALGORITHM: u16 = 4016;
    /// The token is unsigned (`alg: none`).
    pub const TOKEN_UNSIGNED: u16 = 4017;
    /// The token or its claims are malformed.
    pub const TOKEN_MALFORMED: u16 = 4018;
    /// The client broke the WebSocket protocol (RFC 6455 framing).
    pub const PROTOCOL_ERROR: u16 = 1002;
    /// A text message was not valid UTF-8.
    pub const INVALID_PAYLOAD: u16 = 1007;
    /// Too many `JoinRoom` codes that named no room.
    pub const TOO_MANY_CODE_GUESSES: u16 = 4020;
    /// The server's operator ended this session (an `Error` `Kicked` with their reason
    /// comes first). Do not resume or reconnect automatically.
    pub const KICKED: u16 = 4040;
    /// `Hello.ticket` was refused (an `Error` with the reason, 120 to 124 or 131, comes
    /// first).
    pub const TICKET_REFUSED: u16 = 4050;
    /// `Hello.resume_token` names a session held by another node of the cluster: the
    /// `Redirect { url, ticket }` sent just before says where; resume there with the
    /// token, `last_event_seq` and that ticket.
    pub const RESUME_ELSEWHERE: u16 = 4052;
}
