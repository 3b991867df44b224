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
export declare const PROTOCOL_VERSION = 1;
/** WebSocket subprotocol of the MessagePack codec. */
export declare const MSGPACK_SUBPROTOCOL = "ticksync.msgpack.v1";
/** Options for a room made with `CreateRoom` (PROTOCOL.md "RoomSettings"). */
export interface RoomSettings {
    /** Seconds per turn (turn-based games); `null` for the server default. */
    turn_seconds: number | null;
    /** Whether spectators may join. */
    allow_spectators: boolean;
    /** Lockstep relay mode: no rules, every tick's inputs relayed as an `InputFrame`. */
    relay: boolean;
}
/** Where a client now is: the body of `MatchFound` and `RoomJoined`. */
export interface RoomJoined {
    room_id: bigint;
    code: string;
    game: string;
    /** The client's seat, or `null` for a spectator. */
    seat: number | null;
    seats: number;
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
export type EndReason = "Win" | "Draw" | "TurnTimeout" | "Abandoned";
/** One player's input inside a relay room's `InputFrame`. */
export interface FrameInput {
    seat: number;
    seq: number;
    /** Exactly as the player sent it in `Input.data`. */
    data: Uint8Array;
}
/** Something that happened in a room, delivered reliably and in order. */
export type RoomEvent = {
    type: "PlayerJoined";
    seat: number;
} | {
    type: "PlayerLeft";
    seat: number;
} | {
    type: "PlayerDisconnected";
    seat: number;
    deadline_tick: bigint;
    grace_ms: number;
} | {
    type: "PlayerReconnected";
    seat: number;
} | {
    type: "GameStarted";
} | {
    type: "GameOver";
    winner: number | null;
    reason: EndReason;
} | {
    type: "Chat";
    from_session: bigint;
    seat: number | null;
    text: string;
} | {
    type: "Occupancy";
    players: number;
    spectators: number;
} | {
    type: "InputFrame";
    frame: bigint;
    inputs: FrameInput[];
};
/** A message from the client to the server. */
export type ClientMsg = {
    type: "Hello";
    version: number;
    resume_token: string | null;
    last_event_seq: bigint;
} | {
    type: "Ping";
    nonce: bigint;
} | {
    type: "FindMatch";
    game: string;
} | {
    type: "CancelMatch";
} | {
    type: "CreateRoom";
    game: string;
    settings: RoomSettings;
} | {
    type: "JoinRoom";
    code: string;
    spectate: boolean;
} | {
    type: "LeaveRoom";
} | {
    type: "Input";
    seq: number;
    ack_tick: bigint;
    data: Uint8Array;
} | {
    type: "Chat";
    text: string;
} | {
    type: "ListRooms";
} | {
    type: "Ack";
    tick: bigint;
};
/** A message from the server to the client. */
export type ServerMsg = {
    type: "Welcome";
    version: number;
    session_id: bigint;
    resume_token: string;
    resumed: boolean;
    tick_hz: number;
} | {
    type: "Pong";
    nonce: bigint;
} | {
    type: "Queued";
    game: string;
    position: number;
    queue_size: number;
} | ({
    type: "MatchFound";
} & RoomJoined) | ({
    type: "RoomJoined";
} & RoomJoined) | {
    type: "RoomLeft";
    room_id: bigint;
} | {
    type: "Snapshot";
    tick: bigint;
    input_seq: number;
    state: Uint8Array;
} | {
    type: "Event";
    seq: bigint;
    tick: bigint;
    event: RoomEvent;
} | {
    type: "Error";
    code: number;
    message: string;
    input_seq: number | null;
} | {
    type: "RoomList";
    rooms: RoomSummary[];
} | {
    type: "MatchCancelled";
    game: string;
} | {
    type: "Delta";
    tick: bigint;
    base_tick: bigint;
    input_seq: number;
    delta: Uint8Array;
};
/** The `type`s of the server messages this SDK knows. */
export type ServerMsgType = ServerMsg["type"];
/** The `ErrorCode` numbers (PROTOCOL.md "ErrorCode"). Unknown codes may still arrive. */
export declare const ErrorCode: {
    readonly BadMessage: 1;
    readonly UnsupportedVersion: 2;
    readonly HelloRequired: 3;
    readonly TextFrame: 4;
    readonly TooManyErrors: 5;
    readonly UnknownGame: 10;
    readonly NotInRoom: 11;
    readonly AlreadyInRoom: 12;
    readonly AlreadyQueued: 13;
    readonly NotQueued: 14;
    readonly UnknownRoomCode: 20;
    readonly RoomFull: 21;
    readonly GameAlreadyStarted: 22;
    readonly SpectatorsNotAllowed: 23;
    readonly NotAPlayer: 24;
    readonly NotYourTurn: 30;
    readonly IllegalInput: 31;
    readonly GameNotRunning: 32;
    readonly InvalidResumeToken: 40;
    readonly ChatTooLong: 50;
    readonly RateLimited: 51;
    readonly ServerBusy: 60;
};
/** An error code's name (`"NotYourTurn"`), or `"Error <n>"` for a code this SDK does not know. */
export declare function errorName(code: number): string;
/** An error code in plain words, for showing to a player. */
export declare function describeError(code: number): string;
/** WebSocket close codes the server uses (PROTOCOL.md "Close codes"). */
export declare const CloseCode: {
    readonly NORMAL: 1000;
    readonly GOING_AWAY: 1001;
    readonly UNSUPPORTED_DATA: 1003;
    /** No close frame at all (the browser's code for a dropped connection). */
    readonly ABNORMAL: 1006;
    readonly POLICY_VIOLATION: 1008;
    readonly MESSAGE_TOO_BIG: 1009;
    readonly INTERNAL_ERROR: 1011;
    readonly UNSUPPORTED_VERSION: 4000;
    readonly HELLO_REQUIRED: 4001;
    readonly SESSION_TAKEN_OVER: 4002;
    readonly TOO_SLOW: 4003;
    readonly IDLE_TIMEOUT: 4004;
    readonly INVALID_RESUME_TOKEN: 4005;
};
/** A close code in plain words; unknown codes read as a lost connection. */
export declare function describeClose(code: number): string;
