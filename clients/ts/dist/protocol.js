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
export const PROTOCOL_VERSION = 1;
/** WebSocket subprotocol of the MessagePack codec. */
export const MSGPACK_SUBPROTOCOL = "ticksync.msgpack.v1";
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
    ServerBusy: 60,
};
/** What each error code means, in words a player can read. */
const ERROR_WORDS = {
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
    60: "The server is busy; try again in a moment.",
};
/** An error code's name (`"NotYourTurn"`), or `"Error <n>"` for a code this SDK does not know. */
export function errorName(code) {
    const entry = Object.entries(ErrorCode).find(([, value]) => value === code);
    return entry ? entry[0] : `Error ${code}`;
}
/** An error code in plain words, for showing to a player. */
export function describeError(code) {
    return ERROR_WORDS[code] ?? `The server refused the request (code ${code}).`;
}
/** WebSocket close codes the server uses (PROTOCOL.md "Close codes"). */
export const CloseCode = {
    NORMAL: 1000,
    GOING_AWAY: 1001,
    UNSUPPORTED_DATA: 1003,
    /** No close frame at all (the browser's code for a dropped connection). */
    ABNORMAL: 1006,
    POLICY_VIOLATION: 1008,
    MESSAGE_TOO_BIG: 1009,
    INTERNAL_ERROR: 1011,
    UNSUPPORTED_VERSION: 4000,
    HELLO_REQUIRED: 4001,
    SESSION_TAKEN_OVER: 4002,
    TOO_SLOW: 4003,
    IDLE_TIMEOUT: 4004,
    INVALID_RESUME_TOKEN: 4005,
};
const CLOSE_WORDS = {
    1000: "The connection was closed.",
    1001: "The server is restarting or shutting down.",
    1003: "The server refused a message this client sent.",
    1006: "The connection to the server was lost.",
    1008: "The server closed the connection after unreadable messages.",
    1009: "This client sent a message that was too large.",
    1011: "The server hit an internal error.",
    4000: "The server speaks a different protocol version.",
    4001: "The connection did not start properly.",
    4002: "This session continued in another tab or window.",
    4003: "The connection was too slow to keep up.",
    4004: "The connection was silent for too long.",
    4005: "Your earlier session has ended.",
};
/** A close code in plain words; unknown codes read as a lost connection. */
export function describeClose(code) {
    return CLOSE_WORDS[code] ?? "The connection to the server was lost.";
}
