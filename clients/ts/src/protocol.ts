/**
 * The ticksync wire messages as TypeScript types (PROTOCOL.md "Message reference").
 *
 * Field names are PROTOCOL.md's, so the document reads as the reference for these types.
 * A message is a discriminated union on `type`, the variant's name.
 *
 * Integers: `u8`, `u16` and `u32` are `number`s. Every `u64` (ids, ticks, event seqs,
 * nonces) is a `bigint`, always: values above 2^53 - 1 do not survive as JavaScript
 * numbers (a session id is often one), so the SDK never hands out a `u64` as a number.
 */

/** The protocol version this SDK speaks (`Hello.version`). */
export const PROTOCOL_VERSION = 2;

/**
 * WebSocket subprotocol of the MessagePack codec, with the state messages as short arrays
 * (PROTOCOL.md "State messages in the two MessagePack subprotocols").
 */
export const MSGPACK_SUBPROTOCOL = "ticksync.msgpack.v2";

/**
 * The MessagePack codec as first published (state messages as one-entry maps): offered
 * after `MSGPACK_SUBPROTOCOL` so that a server older than it is still reached.
 */
export const MSGPACK_V1_SUBPROTOCOL = "ticksync.msgpack.v1";

/** What the SDK offers in `Sec-WebSocket-Protocol`, in order of preference. */
export const SUBPROTOCOLS: readonly string[] = [MSGPACK_SUBPROTOCOL, MSGPACK_V1_SUBPROTOCOL];

/** Options for a room made with `CreateRoom` (PROTOCOL.md "RoomSettings"). */
export interface RoomSettings {
  /** Whether spectators may join. */
  allow_spectators: boolean;
  /**
   * Lockstep relay mode: no rules, every tick's inputs relayed as an `InputFrame` in a
   * `GameEvent` (decode it with `decodeInputFrame`).
   */
  relay: boolean;
  /** Whether the game moves the players' ratings (never in a relay room). */
  ranked: boolean;
  /**
   * The game's own options, MessagePack-encoded (e.g. `tictactoe.encodeOptions`); empty
   * for the game's defaults. Refused with `InvalidOptions` (90) when the game rejects them.
   */
  options: Uint8Array;
}

/** One row of a `Leaderboard` (PROTOCOL.md "LeaderboardRow"). */
export interface LeaderboardRow {
  /** 1 for the best. */
  rank: number;
  /** The player's key: `user:<sub>` or `guest:<session id>`. */
  player: string;
  name: string;
  rating: number;
  /** Ranked games played. */
  games: number;
  wins: number;
}

/** Where a client now is: the body of `MatchFound` and `RoomJoined`. */
export interface RoomJoined {
  room_id: bigint;
  code: string;
  game: string;
  /** The client's seat, or `null` for a spectator. */
  seat: number | null;
  seats: number;
  /** The seats played by server bots (`--bot-fill-after`), ascending; `[]` when none (and
   * from servers that predate the field). */
  bots: number[];
}

/** A room's lifecycle state. */
export type RoomStatus = "Waiting" | "Running" | "Finished";

/** One row of the room directory (`RoomList`). */
export interface RoomSummary {
  room_id: bigint;
  game: string;
  status: RoomStatus;
  players: number;
  seats: number;
  spectators: number;
  /** `false` for rooms made with `CreateRoom`. */
  public: boolean;
  /** The join code of a public room (to spectate it); `null` for private rooms. */
  code: string | null;
}

/** Why a game ended. */
export type EndReason =
  | "Win"
  | "Draw"
  | "TurnTimeout"
  | "Abandoned"
  /** The server shut down before the game could end by its rules (`winner` is `null`). */
  | "ServerShutdown"
  /** The server's operator closed the room (`winner` is `null`). */
  | "Closed";

/** One player's input inside a relay room's `InputFrame`. */
export interface FrameInput {
  seat: number;
  seq: number;
  /** Exactly as the player sent it in `Input.data`. */
  data: Uint8Array;
}

/** A relay room's event: one tick's inputs, in arrival order (the `GameEvent`'s data). */
export interface InputFrame {
  frame: bigint;
  inputs: FrameInput[];
}

/** Something that happened in a room, delivered reliably and in order. */
export type RoomEvent =
  | { type: "PlayerJoined"; seat: number }
  | { type: "PlayerLeft"; seat: number }
  | { type: "PlayerDisconnected"; seat: number; deadline_tick: bigint; grace_ms: number }
  | { type: "PlayerReconnected"; seat: number }
  | { type: "GameStarted" }
  | { type: "GameOver"; winner: number | null; reason: EndReason }
  | { type: "Chat"; from_session: bigint; seat: number | null; text: string }
  | { type: "Occupancy"; players: number; spectators: number };

/** A message from the client to the server. */
export type ClientMsg =
  | {
      type: "Hello";
      version: number;
      resume_token: string | null;
      last_event_seq: bigint;
      /** A signed JWT naming the player, for servers that require one; `null` otherwise. */
      auth_token: string | null;
      /**
       * A cluster's seat ticket from `Redirect`, to take the reserved seat on that node;
       * left out or `null` otherwise.
       */
      ticket?: string | null;
    }
  | { type: "Ping"; nonce: bigint }
  /** `options`: the game's room options, MessagePack-encoded; left out or empty for the defaults. */
  | { type: "FindMatch"; game: string; options?: Uint8Array }
  | { type: "CancelMatch" }
  | { type: "CreateRoom"; game: string; settings: RoomSettings }
  | { type: "JoinRoom"; code: string; spectate: boolean }
  | { type: "LeaveRoom" }
  | { type: "Input"; seq: number; ack_tick: bigint; data: Uint8Array }
  | { type: "Chat"; text: string }
  | { type: "ListRooms" }
  | { type: "Ack"; tick: bigint }
  /** One page of the directory: rooms with `room_id` above `after` (0: the first page). */
  | { type: "ListRoomsAfter"; after: bigint; limit: number }
  /** A game's best players, answered with `Leaderboard` (at most 50 rows). */
  | { type: "Leaderboard"; game: string; limit: number };

/** A message from the server to the client. */
export type ServerMsg =
  | {
      type: "Welcome";
      version: number;
      session_id: bigint;
      resume_token: string;
      resumed: boolean;
      tick_hz: number;
    }
  | { type: "Pong"; nonce: bigint }
  | { type: "Queued"; game: string; position: number; queue_size: number }
  | ({ type: "MatchFound" } & RoomJoined)
  | ({ type: "RoomJoined" } & RoomJoined)
  | { type: "RoomLeft"; room_id: bigint }
  | { type: "Snapshot"; tick: bigint; input_seq: number; state: Uint8Array }
  | { type: "Event"; seq: bigint; tick: bigint; event: RoomEvent }
  | { type: "Error"; code: number; message: string; input_seq: number | null }
  | { type: "RoomList"; rooms: RoomSummary[] }
  | { type: "MatchCancelled"; game: string }
  | { type: "Delta"; tick: bigint; base_tick: bigint; input_seq: number; delta: Uint8Array }
  /** The server is shutting down: reconnect no sooner than `retry_after_ms`. */
  | { type: "ServerShutdown"; retry_after_ms: number; drain_ms: number }
  /** A ranked game's result is durable and moved this player's rating. */
  | { type: "RatingChanged"; match_id: bigint; game: string; previous: number; rating: number }
  | { type: "Leaderboard"; game: string; rows: LeaderboardRow[] }
  /**
   * An event the room's game emitted, numbered in the same sequence as `Event`; `data` is
   * the game's event, MessagePack-encoded.
   */
  | { type: "GameEvent"; seq: bigint; tick: bigint; data: Uint8Array }
  /**
   * In a cluster: the seat is on another node. Connect to `url` and send `Hello` with
   * `ticket` (PROTOCOL.md "Clusters: redirects and seat tickets"). `TicksyncClient`
   * follows it by itself: a match arrives as `roomJoined` with `room.matched`, a resume
   * carries on there (`welcome` with `resumed`), a `joinRoom` is answered from there.
   */
  | { type: "Redirect"; url: string; ticket: string };

/** The `type`s of the server messages this SDK knows. */
export type ServerMsgType = ServerMsg["type"];

/** The `ErrorCode` numbers (PROTOCOL.md "ErrorCode"). Unknown codes may still arrive. */
export const ErrorCode = {
  BadMessage: 1,
  UnsupportedVersion: 2,
  HelloRequired: 3,
  TextFrame: 4,
  TooManyErrors: 5,
  UnknownGame: 10,
  NotInRoom: 11,
  AlreadyInRoom: 12,
  AlreadyQueued: 13,
  NotQueued: 14,
  UnknownRoomCode: 20,
  RoomFull: 21,
  GameAlreadyStarted: 22,
  SpectatorsNotAllowed: 23,
  NotAPlayer: 24,
  NotYourTurn: 30,
  IllegalInput: 31,
  GameNotRunning: 32,
  InvalidResumeToken: 40,
  ChatTooLong: 50,
  RateLimited: 51,
  InvalidText: 55,
  ServerBusy: 60,
  TooManyCodeGuesses: 61,
  AuthRequired: 70,
  TokenExpired: 71,
  TokenNotYetValid: 72,
  TokenBadSignature: 73,
  TokenWrongIssuer: 74,
  TokenWrongAudience: 75,
  TokenWrongAlgorithm: 76,
  TokenUnsigned: 77,
  TokenMalformed: 78,
  ShuttingDown: 80,
  RoomClosed: 85,
  Kicked: 86,
  InvalidOptions: 90,
  NoRecords: 110,
  RecordsUnavailable: 111,
  TicketInvalid: 120,
  TicketExpired: 121,
  TicketWrongNode: 122,
  TicketUsed: 123,
  ClusterUnavailable: 124,
  ReservationExpired: 125,
  MatchCalledOff: 126,
  NodeLost: 130,
  TicketWrongPlayer: 131,
} as const;

/** What each error code means, in words a player can read. */
const ERROR_WORDS: Record<number, string> = {
  1: "The server could not read a message from this client.",
  2: "The server speaks a different protocol version than this client.",
  3: "The connection did not start with a greeting.",
  4: "This client sent text where the server expects binary messages.",
  5: "Too many unreadable messages; the server is closing the connection.",
  10: "The server does not have that game.",
  11: "You are not in a room.",
  12: "You are already in a room. Leave it first.",
  13: "You are already waiting for a match.",
  14: "You were not waiting for a match.",
  20: "No room has that code. Check the code and try again.",
  21: "That room is full.",
  22: "That game has already started.",
  23: "That room does not allow spectators.",
  24: "Spectators cannot play.",
  30: "It is not your turn.",
  31: "That move is not allowed.",
  32: "The game is not running.",
  40: "Your earlier session has ended.",
  50: "A chat message must be 1 to 200 characters.",
  51: "Too fast; slow down a little.",
  55: "A chat message cannot contain control or invisible characters.",
  60: "The server is busy; try again in a moment.",
  61: "Too many room codes that name no room; the server is closing the connection.",
  70: "This server needs you to sign in first.",
  71: "Your sign-in has expired. Sign in again.",
  72: "Your sign-in is not valid yet. Check your device's clock.",
  73: "Your sign-in could not be verified. Sign in again.",
  74: "Your sign-in is from a service this server does not accept.",
  75: "Your sign-in is meant for another server.",
  76: "Your sign-in uses a method this server does not accept.",
  77: "Your sign-in is not signed, so the server refused it.",
  78: "Your sign-in could not be read. Sign in again.",
  80: "The server is shutting down; new games cannot start now.",
  85: "The server's operator closed this room.",
  86: "The server's operator ended your session.",
  90: "The game does not accept those room options.",
  110: "This server keeps no records, so there is no leaderboard.",
  111: "The server's records cannot be read right now; try again.",
  120: "The seat ticket could not be read or verified.",
  121: "The seat ticket has expired.",
  122: "The seat ticket is meant for another server.",
  123: "The seat ticket was already used.",
  124: "The server cannot reach its cluster right now; try again.",
  125: "The seat held for you is gone; find a new match.",
  126: "A player did not arrive, so the match was called off; you are back in the queue.",
  130: "The server that held your game is gone, and the game with it. You have a new session; start another game.",
  131: "That ticket was given to another player, not to the one signed in here.",
};

/** An error code's name (`"NotYourTurn"`), or `"Error <n>"` for a code this SDK does not know. */
export function errorName(code: number): string {
  const entry = Object.entries(ErrorCode).find(([, value]) => value === code);
  return entry ? entry[0] : `Error ${code}`;
}

/** An error code in plain words, for showing to a player. */
export function describeError(code: number): string {
  return ERROR_WORDS[code] ?? `The server refused the request (code ${code}).`;
}

/** WebSocket close codes the server uses (PROTOCOL.md "Close codes"). */
export const CloseCode = {
  NORMAL: 1000,
  GOING_AWAY: 1001,
  UNSUPPORTED_DATA: 1003,
  /** No close frame at all (the browser's code for a dropped connection). */
  PROTOCOL_ERROR: 1002,
  ABNORMAL: 1006,
  INVALID_PAYLOAD: 1007,
  POLICY_VIOLATION: 1008,
  MESSAGE_TOO_BIG: 1009,
  INTERNAL_ERROR: 1011,
  /** In a cluster: where the session is could not be looked up; resume again with backoff. */
  TRY_AGAIN_LATER: 1013,
  UNSUPPORTED_VERSION: 4000,
  HELLO_REQUIRED: 4001,
  SESSION_TAKEN_OVER: 4002,
  TOO_SLOW: 4003,
  IDLE_TIMEOUT: 4004,
  INVALID_RESUME_TOKEN: 4005,
  AUTH_REQUIRED: 4010,
  TOKEN_EXPIRED: 4011,
  TOKEN_NOT_YET_VALID: 4012,
  TOKEN_BAD_SIGNATURE: 4013,
  TOKEN_WRONG_ISSUER: 4014,
  TOKEN_WRONG_AUDIENCE: 4015,
  TOKEN_WRONG_ALGORITHM: 4016,
  TOKEN_UNSIGNED: 4017,
  TOKEN_MALFORMED: 4018,
  TOO_MANY_CODE_GUESSES: 4020,
  KICKED: 4040,
  TICKET_REFUSED: 4050,
  /** In a cluster: the session is on another node (the `Redirect` just before says where). */
  RESUME_ELSEWHERE: 4052,
} as const;

/** Whether a close code is one of the sign-in (token) refusals, 4010 to 4018. */
export function isAuthClose(code: number): boolean {
  return code >= CloseCode.AUTH_REQUIRED && code <= CloseCode.TOKEN_MALFORMED;
}

const CLOSE_WORDS: Record<number, string> = {
  1000: "The connection was closed.",
  1001: "The server is restarting or shutting down.",
  1002: "This client broke the WebSocket protocol, so the server closed the connection.",
  1003: "The server refused a message this client sent.",
  1006: "The connection to the server was lost.",
  1007: "This client sent text that is not valid UTF-8.",
  1008: "The server closed the connection: too many unreadable messages, or too many messages too fast.",
  1009: "This client sent a message that was too large.",
  1011: "The server hit an internal error.",
  1013: "The server could not reach its cluster for a moment.",
  4000: "The server speaks a different protocol version.",
  4001: "The connection did not start properly.",
  4002: "This session continued in another tab or window.",
  4003: "The connection was too slow to keep up.",
  4004: "The connection was silent for too long.",
  4005: "Your earlier session has ended.",
  4010: "This server needs you to sign in first.",
  4011: "Your sign-in has expired. Sign in again.",
  4012: "Your sign-in is not valid yet. Check your device's clock.",
  4013: "Your sign-in could not be verified. Sign in again.",
  4014: "Your sign-in is from a service this server does not accept.",
  4015: "Your sign-in is meant for another server.",
  4016: "Your sign-in uses a method this server does not accept.",
  4017: "Your sign-in is not signed, so the server refused it.",
  4018: "Your sign-in could not be read. Sign in again.",
  4020: "Too many room codes that name no room; the server closed the connection.",
  4040: "The server's operator ended your session.",
  4050: "The seat ticket was refused.",
  4052: "Your session is on another server of the cluster.",
};

/** A close code in plain words; unknown codes read as a lost connection. */
export function describeClose(code: number): string {
  return CLOSE_WORDS[code] ?? "The connection to the server was lost.";
}
