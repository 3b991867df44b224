//! The wire messages: what clients and the server say to each other.
//!
//! Data only: no I/O, no encoding choice. [`crate::codec`] turns these types into bytes
//! (bincode or MessagePack, negotiated per connection) and back. PROTOCOL.md documents every
//! message, its field order and both encodings, with test vectors that the integration tests (tests/it/protocol_vectors.rs) check
//! byte for byte.
//!
//! The ids the messages carry are the newtypes of [`ids`] ([`SessionId`], [`RoomId`],
//! [`MatchId`]): distinct in Rust, a plain `u64` on the wire.
//!
//! Compatibility rule: new message kinds are only ever appended as new enum variants, so
//! existing kinds keep their bincode index and an older peer fails only on the new kinds.
//! bincode cannot skip unknown fields, so adding, removing or reordering a field of an
//! existing message needs a new [`PROTOCOL_VERSION`] (MessagePack peers skip unknown
//! fields).

use bytes::Bytes;
use serde::{Deserialize, Serialize};

pub mod codes;
pub mod ids;

pub use codes::{ErrorCode, close_code};
pub use ids::{MatchId, RoomId, SessionId};

/// The protocol version this server speaks. A client's `Hello` must carry it.
pub const PROTOCOL_VERSION: u16 = 2;

/// A player's seat in a room, numbered from 0.
pub type Seat = u8;

/// A server tick number: tick `n` is scheduled `n` tick periods after the server started,
/// on every shard, so tick numbers are comparable across rooms. The first tick is 1.
pub type Tick = u64;

/// A message from a client to the server.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum ClientMsg {
    /// First message on every connection: start a new session or resume one.
    Hello {
        /// Must equal [`PROTOCOL_VERSION`].
        version: u16,
        /// A resume token from an earlier `Welcome`, to take the session back.
        resume_token: Option<String>,
        /// The highest room event `seq` this client has seen (0 for none).
        last_event_seq: u64,
        /// A signed JWT naming the player, for servers that require one (see
        /// [`crate::auth`]); a guest-mode server ignores it. Appended to version 1: a
        /// bincode `Hello` that ends before it reads as `None`
        /// ([`crate::codec::Codec::decode_client_msg`]).
        #[serde(default)]
        auth_token: Option<String>,
        /// A seat ticket from `Redirect`: the node checks it and seats the player in the
        /// reserved seat (see PROTOCOL.md, "Clusters: redirects and seat tickets").
        /// Appended after `auth_token`: a bincode `Hello` that ends before it reads as
        /// `None` ([`crate::codec::Codec::decode_client_msg`]).
        #[serde(default)]
        ticket: Option<String>,
    },
    /// Application-level round-trip probe; answered with `Pong` carrying the same nonce.
    Ping {
        /// Any value; echoed back.
        nonce: u64,
    },
    /// Join the quick-match queue for a game.
    FindMatch {
        /// Game name, e.g. `"tictactoe"`.
        game: String,
        /// The game's room options, as in [`RoomSettings::options`]; empty for the
        /// defaults. Players are matched only with players who asked for the same options.
        /// Appended: a bincode `FindMatch` that ends before it reads as empty
        /// ([`crate::codec::Codec::decode_client_msg`]).
        #[serde(default)]
        options: Bytes,
    },
    /// Leave the quick-match queue.
    CancelMatch,
    /// Create a private room; the creator takes seat 0 and receives the join code.
    CreateRoom {
        /// Game name.
        game: String,
        /// Room options.
        settings: RoomSettings,
    },
    /// Join a room by its join code, as a player or as a spectator.
    JoinRoom {
        /// The room's join code (case-insensitive).
        code: String,
        /// `true` to watch without a seat.
        spectate: bool,
    },
    /// Leave the current room. A player who leaves a running game forfeits it.
    LeaveRoom,
    /// A game input for the current room, applied at the next tick.
    Input {
        /// Client-chosen sequence number, increasing; echoed in snapshots and errors.
        seq: u32,
        /// The newest snapshot tick this client has applied (0 for none).
        ack_tick: Tick,
        /// The game's input, encoded with this connection's codec.
        data: Bytes,
    },
    /// A short text message to everyone in the current room.
    Chat {
        /// At most [`MAX_CHAT_CHARS`] characters.
        text: String,
    },
    /// Ask for the room directory.
    ListRooms,
    /// Acknowledges the newest state this client has applied, when it has no `Input` to
    /// carry the acknowledgement. The server sends deltas against acknowledged states.
    Ack {
        /// The newest `Snapshot`/`Delta` tick applied.
        tick: Tick,
    },
    /// Ask for one page of the room directory: the rooms whose id is above `after`,
    /// oldest first, answered with `RoomList`. Page on with the last id received.
    ListRoomsAfter {
        /// Only rooms with a higher id (0 for the first page).
        after: RoomId,
        /// Most rooms wanted; at most [`MAX_LISTED_ROOMS`] are sent.
        limit: u16,
    },
    /// Ask for a game's leaderboard, answered with `Leaderboard` (or `Error`
    /// [`ErrorCode::NoRecords`] / [`ErrorCode::RecordsUnavailable`]).
    Leaderboard {
        /// Game name.
        game: String,
        /// Most rows wanted; at most [`MAX_LEADERBOARD_ROWS`] are sent.
        limit: u16,
    },
}

/// Most rows one `Leaderboard` message carries (a row is at most about 280 bytes, so the
/// message stays below 16 KiB).
pub const MAX_LEADERBOARD_ROWS: usize = 50;

/// Most rooms one `RoomList` carries, so the message stays far below the 16 KiB cap.
pub const MAX_LISTED_ROOMS: usize = 100;

/// Largest `Input.data` a relay room relays, in bytes.
pub const MAX_RELAY_INPUT_BYTES: usize = 512;

/// Most inputs one player may have relayed in one tick of a relay room.
pub const MAX_RELAY_INPUTS_PER_TICK: usize = 2;

/// Most inputs of one player a (non-relay) room applies in one tick; later ones in the same
/// tick are refused with [`ErrorCode::RateLimited`]. A real-time client sends at most one
/// per tick.
pub const MAX_INPUTS_PER_TICK: usize = 4;

/// Longest accepted chat message, in Unicode scalar values (Rust `char`s; a JavaScript
/// string's code points, not its UTF-16 length).
pub const MAX_CHAT_CHARS: usize = 200;

/// Options for a room created with `CreateRoom`. MessagePack clients may leave out any
/// field to get its default (bincode has no way to leave fields out).
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct RoomSettings {
    /// Whether spectators may join.
    pub allow_spectators: bool,
    /// Lockstep relay mode: the server runs no rules and instead relays, every tick, the
    /// bundle of all players' inputs for that tick as a reliable `GameEvent` (an
    /// `InputFrame`, see [`crate::game::relay`]).
    pub relay: bool,
    /// Whether the game moves the players' ratings. Quick-match rooms are always ranked;
    /// a private room only when this is set (never a relay room).
    pub ranked: bool,
    /// The game's own options ([`crate::game::Game::Options`]), encoded with this
    /// connection's codec; empty for the game's defaults. Refused with
    /// [`ErrorCode::InvalidOptions`] when they do not decode or the game rejects them.
    /// (Quick-match rooms get their players' `FindMatch.options`.) The
    /// server keeps them re-encoded in bincode, empty when they equal the defaults
    /// (replays, records, the operator's view).
    pub options: Bytes,
}

/// The positional fields of the state messages, [`ServerMsg::Snapshot`] and
/// [`ServerMsg::Delta`]: written as a tuple (a MessagePack array; in bincode the same bytes
/// as the struct), read from an array or, leniently, from the named map older servers sent.
mod state_fields {
    use bytes::Bytes;
    use serde::{Deserialize, Deserializer, Serialize, Serializer};

    use super::Tick;

    pub(super) fn snapshot<S: Serializer>(
        tick: &Tick,
        input_seq: &u32,
        state: &Bytes,
        serializer: S,
    ) -> Result<S::Ok, S::Error> {
        (tick, input_seq, state).serialize(serializer)
    }

    pub(super) fn delta<S: Serializer>(
        tick: &Tick,
        base_tick: &Tick,
        input_seq: &u32,
        delta: &Bytes,
        serializer: S,
    ) -> Result<S::Ok, S::Error> {
        (tick, base_tick, input_seq, delta).serialize(serializer)
    }

    #[derive(Deserialize)]
    #[serde(rename = "Snapshot")]
    struct SnapshotFields {
        tick: Tick,
        input_seq: u32,
        state: Bytes,
    }

    #[derive(Deserialize)]
    #[serde(rename = "Delta")]
    struct DeltaFields {
        tick: Tick,
        base_tick: Tick,
        input_seq: u32,
        delta: Bytes,
    }

    pub(super) fn snapshot_back<'de, D: Deserializer<'de>>(
        deserializer: D,
    ) -> Result<(Tick, u32, Bytes), D::Error> {
        let f = SnapshotFields::deserialize(deserializer)?;
        Ok((f.tick, f.input_seq, f.state))
    }

    pub(super) fn delta_back<'de, D: Deserializer<'de>>(
        deserializer: D,
    ) -> Result<(Tick, Tick, u32, Bytes), D::Error> {
        let f = DeltaFields::deserialize(deserializer)?;
        Ok((f.tick, f.base_tick, f.input_seq, f.delta))
    }
}

/// A message from the server to a client.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum ServerMsg {
    /// Answer to `Hello`.
    Welcome {
        /// The server's [`PROTOCOL_VERSION`].
        version: u16,
        /// This session's id; stable across reconnects.
        session_id: SessionId,
        /// Secret to resume this session; rotates on every resume.
        resume_token: String,
        /// Whether an existing session was resumed.
        resumed: bool,
        /// The server's tick rate in Hz.
        tick_hz: u16,
    },
    /// Answer to `Ping`.
    Pong {
        /// The nonce from the `Ping`.
        nonce: u64,
    },
    /// The client is in the quick-match queue.
    Queued {
        /// Game name.
        game: GameName,
        /// 1-based position in that game's queue.
        position: u32,
        /// Players now waiting for that game.
        queue_size: u32,
    },
    /// The quick-match queue placed the client in a room.
    MatchFound(RoomJoined),
    /// The client entered a room by `CreateRoom`, `JoinRoom` or a resume.
    RoomJoined(RoomJoined),
    /// The client is no longer in a room (after `LeaveRoom`, or the room closed).
    RoomLeft {
        /// The room that was left.
        room_id: RoomId,
    },
    /// The room's state at a tick, as the game encodes it for this viewer.
    ///
    /// Its fields are positional (a MessagePack array `[tick, input_seq, state]`, not a
    /// map): states are most of what a client receives. bincode is unaffected.
    #[serde(
        serialize_with = "state_fields::snapshot",
        deserialize_with = "state_fields::snapshot_back"
    )]
    Snapshot {
        /// The tick this state belongs to.
        tick: Tick,
        /// The last input `seq` of this client the server has processed (0 for none).
        input_seq: u32,
        /// The game's view, encoded with this connection's codec.
        state: Bytes,
    },
    /// A reliable room event, numbered so a resuming client can ask for what it missed.
    Event {
        /// Per-room sequence number, starting at 1, without gaps.
        seq: u64,
        /// The tick at which it happened.
        tick: Tick,
        /// What happened.
        event: RoomEvent,
    },
    /// A request or input was refused.
    Error {
        /// Stable machine-readable reason.
        code: ErrorCode,
        /// Human-readable detail.
        message: String,
        /// The input `seq` this answers, when it answers an `Input`.
        input_seq: Option<u32>,
    },
    /// Answer to `ListRooms`.
    RoomList {
        /// Open rooms, oldest first, at most [`MAX_LISTED_ROOMS`] of them (page on with
        /// `ListRoomsAfter`).
        rooms: Vec<RoomSummary>,
    },
    /// Answer to `CancelMatch`.
    MatchCancelled {
        /// Game whose queue was left.
        game: GameName,
    },
    /// The room's state at `tick`, as a difference from the state at `base_tick`, which
    /// this client acknowledged. Sent instead of `Snapshot` by games that support deltas.
    ///
    /// Positional like `Snapshot`: `[tick, base_tick, input_seq, delta]` in MessagePack.
    #[serde(
        serialize_with = "state_fields::delta",
        deserialize_with = "state_fields::delta_back"
    )]
    Delta {
        /// The tick this state belongs to.
        tick: Tick,
        /// The acknowledged tick the delta applies to.
        base_tick: Tick,
        /// The last input `seq` of this client the server has processed (0 for none).
        input_seq: u32,
        /// The game's delta, encoded with this connection's codec.
        delta: Bytes,
    },
    /// The server is shutting down (SIGTERM or SIGINT). Sent once to every connection,
    /// before anything else about the shutdown; the connection is then closed with 1001,
    /// at once or, for members of a running turn-based game, when the game ends or the
    /// drain runs out.
    ServerShutdown {
        /// Wait at least this long before reconnecting (a supervisor is restarting the
        /// server, or a load balancer is moving to another instance).
        retry_after_ms: u32,
        /// Running turn-based games may go on for at most this long; then they end with
        /// `EndReason::ServerShutdown`.
        drain_ms: u32,
    },
    /// A ranked game's result is durable and moved this player's rating. Sent after the
    /// database committed it, to the session that played (if connected).
    RatingChanged {
        /// The match (`GET /matches/{id}`); the room's id.
        match_id: MatchId,
        /// Game name.
        game: String,
        /// The player's rating in that game before it.
        previous: u16,
        /// The player's rating now.
        rating: u16,
    },
    /// Answer to `Leaderboard`: the best players of a game, best first.
    Leaderboard {
        /// Game name.
        game: String,
        /// At most [`MAX_LEADERBOARD_ROWS`] rows.
        rows: Vec<LeaderboardRow>,
    },
    /// An event the room's game emitted ([`crate::game::Ctx::emit`]). Reliable and
    /// numbered in the same sequence as `Event`, so a resuming client gets the ones it
    /// missed.
    GameEvent {
        /// Per-room sequence number, shared with `Event`.
        seq: u64,
        /// The tick at which it was emitted.
        tick: Tick,
        /// The game's event, encoded with this connection's codec.
        data: Bytes,
    },
    /// In a cluster: the client's quick match was placed on another node. Connect to
    /// `url` and send `Hello` with `ticket` (within the ticket's 10 s); the seat is held
    /// like an absent player's, for the room's reconnect grace (after it, `Error`
    /// [`ErrorCode::ReservationExpired`]). Also the answer to a `Hello` whose resume token
    /// names a session on another node: resume there with the same `Hello` plus `ticket`
    /// (a resume ticket); the connection is then closed with
    /// [`close_code::RESUME_ELSEWHERE`].
    Redirect {
        /// The node's public URL (`ws://` or `wss://`).
        url: String,
        /// A signed, single-use seat (or resume) ticket for `Hello.ticket`.
        ticket: String,
    },
}

/// One row of a `Leaderboard`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LeaderboardRow {
    /// 1 for the best.
    pub rank: u32,
    /// The player's key: `user:` and the token's subject, or `guest:` and a session id.
    pub player: String,
    /// The player's display name.
    pub name: String,
    /// The player's rating, rounded.
    pub rating: u16,
    /// Ranked games played.
    pub games: u32,
    /// Ranked games won.
    pub wins: u32,
}

/// A game's name in a message: borrowed from the game's registration when the server
/// writes it (no allocation per message), owned when a client reads it. The same bytes on
/// the wire as a `String`.
pub type GameName = std::borrow::Cow<'static, str>;

/// Where a client now is: sent in `MatchFound` and `RoomJoined`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RoomJoined {
    /// Server-wide room id.
    pub room_id: RoomId,
    /// The room's join code.
    pub code: String,
    /// Game name.
    pub game: GameName,
    /// The client's seat, or `None` for a spectator.
    pub seat: Option<Seat>,
    /// Number of seats in the room.
    pub seats: u8,
    /// The seats played by server bots (quick match's bot fill), in order; empty when
    /// every seat is a client's. Appended to version 1.
    #[serde(default)]
    pub bots: Vec<Seat>,
}

/// Something that happened in a room, delivered reliably and in order.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum RoomEvent {
    /// A player took a seat.
    PlayerJoined {
        /// The seat taken.
        seat: Seat,
    },
    /// A player left their seat for good.
    PlayerLeft {
        /// The seat left.
        seat: Seat,
    },
    /// A player's connection dropped; the seat is held until `deadline_tick`.
    PlayerDisconnected {
        /// The absent player's seat.
        seat: Seat,
        /// The tick at which the game rules decide if the player has not come back.
        deadline_tick: Tick,
        /// The same deadline as milliseconds from now.
        grace_ms: u32,
    },
    /// An absent player is back.
    PlayerReconnected {
        /// The returning player's seat.
        seat: Seat,
    },
    /// Every seat is filled; play begins.
    GameStarted,
    /// The game ended.
    GameOver {
        /// The winning seat, or `None` for a draw.
        winner: Option<Seat>,
        /// Why it ended.
        reason: EndReason,
    },
    /// A chat line.
    Chat {
        /// Sender's session id.
        from_session: SessionId,
        /// Sender's seat, `None` for a spectator.
        seat: Option<Seat>,
        /// The text.
        text: String,
    },
    /// The room's occupancy changed.
    Occupancy {
        /// Seated players (connected or within their grace period).
        players: u8,
        /// Spectators.
        spectators: u32,
    },
}

/// Why a game ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum EndReason {
    /// Won by the rules (e.g. three in a row).
    Win,
    /// Nobody can win.
    Draw,
    /// A player ran out of time for a turn.
    TurnTimeout,
    /// A player left, or did not come back within the reconnect grace period.
    Abandoned,
    /// The server shut down before the game could end by its rules.
    ServerShutdown,
    /// The server's operator closed the room (`POST /admin/rooms/{id}/close`); no winner.
    /// The reason they gave follows as `Error` [`ErrorCode::RoomClosed`].
    Closed,
}

/// A row of the room directory.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RoomSummary {
    /// Server-wide room id.
    pub room_id: RoomId,
    /// Game name.
    pub game: GameName,
    /// Lifecycle state.
    pub status: RoomStatus,
    /// Seated players.
    pub players: u8,
    /// Number of seats.
    pub seats: u8,
    /// Spectators.
    pub spectators: u32,
    /// `false` for rooms made with `CreateRoom` (joinable only by code).
    pub public: bool,
    /// The join code of a public room (to spectate it); `None` for private rooms.
    pub code: Option<String>,
    /// In a cluster, the id of the node the room is on (`GET /rooms` and `ListRooms` on
    /// any node list every node's rooms); `None` on a server in no cluster. Appended to
    /// version 2: MessagePack clients that predate it skip the key.
    #[serde(default)]
    pub node: Option<String>,
}

/// A room's lifecycle state.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum RoomStatus {
    /// Waiting for seats to fill.
    Waiting,
    /// Playing.
    Running,
    /// The game is over; the room closes soon.
    Finished,
}
