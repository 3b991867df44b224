/**
 * Bytes and messages in the MessagePack codec, `ticksync.msgpack.v2` and
 * `ticksync.msgpack.v1` (PROTOCOL.md "MessagePack"; they differ only in the state
 * messages, which the decoder reads in either form). Pure functions: no sockets, no state.
 *
 * Encoding writes the canonical forms the vectors show: structs as maps in declaration
 * order, unit variants as strings, other variants as one-entry maps, integers in their
 * smallest format. A `u64` below 2^32 is written as a number (smallest format) and one at
 * or above 2^32 as a uint64 (`cf`); never as a float, which the server refuses.
 *
 * Decoding checks every field's presence and type and turns every `u64` into a `bigint`
 * whatever format it arrived in. A variant this SDK does not know decodes to `null` (a
 * newer server may append variants: skip the message); anything malformed throws
 * `WireError`.
 */

import { decode, encode } from "@msgpack/msgpack";

import type {
  ClientMsg,
  EndReason,
  FrameInput,
  InputFrame,
  LeaderboardRow,
  RoomEvent,
  RoomJoined,
  RoomStatus,
  RoomSummary,
  ServerMsg,
} from "./protocol.js";

/** A message, or a payload inside one, that does not have the shape PROTOCOL.md gives. */
export class WireError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "WireError";
  }
}

/** `useBigInt64`: a uint64/int64 decodes as a `bigint`, never a rounded number. */
const OPTIONS = { useBigInt64: true } as const;

const TWO_POW_32 = 2n ** 32n;
const U64_MAX = 2n ** 64n - 1n;

/** Encodes any value with the protocol's MessagePack options. */
export function pack(value: unknown): Uint8Array {
  return encode(value, OPTIONS);
}

/** Decodes one MessagePack value (the whole input, nothing left over). */
export function unpack(bytes: Uint8Array): unknown {
  try {
    return decode(bytes, OPTIONS);
  } catch (error) {
    throw new WireError(`not MessagePack: ${(error as Error).message}`);
  }
}

/** The value to give the encoder for a `u64`: a number below 2^32, else a bigint. */
export function u64Out(value: bigint | number): number | bigint {
  const big = BigInt(value);
  if (big < 0n || big > U64_MAX) throw new WireError(`u64 out of range: ${big}`);
  return big < TWO_POW_32 ? Number(big) : big;
}

/** A `u16` to encode: an integer from 0 to 65535, else `WireError`. */
function u16Out(value: number): number {
  if (!Number.isInteger(value) || value < 0 || value > 0xffff) {
    throw new WireError(`u16 out of range: ${value}`);
  }
  return value;
}

// ---------------------------------------------------------------------------------------
// Reading helpers: each checks one field and names it in its error.
// ---------------------------------------------------------------------------------------

type Fields = Record<string, unknown>;

function isMap(value: unknown): value is Fields {
  return (
    typeof value === "object" &&
    value !== null &&
    !Array.isArray(value) &&
    !(value instanceof Uint8Array)
  );
}

/** A struct map. */
export function struct(value: unknown, what: string): Fields {
  if (!isMap(value)) throw new WireError(`${what}: expected a map`);
  return value;
}

/**
 * A struct whose fields arrive positionally, as an array in field order (the state
 * messages `Snapshot` and `Delta`), as a map of those fields. A map is accepted too, as
 * servers before the positional form sent it.
 */
function positional(value: unknown, names: readonly string[], what: string): Fields {
  if (!Array.isArray(value)) return struct(value, what);
  if (value.length !== names.length) {
    throw new WireError(`${what}: expected ${names.length} fields, got ${value.length}`);
  }
  return Object.fromEntries(names.map((name, i) => [name, value[i]]));
}

function field(map: Fields, name: string, what: string): unknown {
  if (!(name in map)) throw new WireError(`${what}: missing field ${name}`);
  return map[name];
}

function int(value: unknown, what: string, max: number): number {
  const n = typeof value === "bigint" ? Number(value) : value;
  if (typeof n !== "number" || !Number.isInteger(n) || n < 0 || n > max) {
    throw new WireError(`${what}: expected an integer from 0 to ${max}`);
  }
  return n;
}

/** Reads an unsigned integer field of at most 32 bits. */
export function uint(map: Fields, name: string, what: string, bits: 8 | 16 | 32): number {
  return int(field(map, name, what), `${what}.${name}`, 2 ** bits - 1);
}

/** Reads a `u64` field as a `bigint`, whatever integer format it arrived in. */
export function u64(map: Fields, name: string, what: string): bigint {
  return u64Value(field(map, name, what), `${what}.${name}`);
}

function u64Value(value: unknown, what: string): bigint {
  if (typeof value === "bigint") {
    if (value < 0n || value > U64_MAX) throw new WireError(`${what}: out of range`);
    return value;
  }
  if (typeof value === "number" && Number.isSafeInteger(value) && value >= 0) {
    return BigInt(value);
  }
  throw new WireError(`${what}: expected an unsigned integer`);
}

/** Reads an `i8` field. */
export function i8(map: Fields, name: string, what: string): number {
  const value = field(map, name, what);
  if (typeof value !== "number" || !Number.isInteger(value) || value < -128 || value > 127) {
    throw new WireError(`${what}.${name}: expected an i8`);
  }
  return value;
}

function str(map: Fields, name: string, what: string): string {
  const value = field(map, name, what);
  if (typeof value !== "string") throw new WireError(`${what}.${name}: expected a string`);
  return value;
}

function bool(map: Fields, name: string, what: string): boolean {
  const value = field(map, name, what);
  if (typeof value !== "boolean") throw new WireError(`${what}.${name}: expected a bool`);
  return value;
}

function bin(map: Fields, name: string, what: string): Uint8Array {
  const value = field(map, name, what);
  if (!(value instanceof Uint8Array)) throw new WireError(`${what}.${name}: expected bin`);
  return value;
}

/** An `Option` field: nil (or, leniently, an absent key) is `null`. */
function optional<T>(map: Fields, name: string, read: (map: Fields) => T): T | null {
  return map[name] === null || map[name] === undefined ? null : read(map);
}

function list(map: Fields, name: string, what: string): unknown[] {
  const value = field(map, name, what);
  if (!Array.isArray(value)) throw new WireError(`${what}.${name}: expected an array`);
  return value;
}

/** Splits an enum value into its variant name and body (`null` for a unit variant). */
export function variant(value: unknown, what: string): [string, unknown] {
  if (typeof value === "string") return [value, null];
  if (isMap(value)) {
    const keys = Object.keys(value);
    if (keys.length === 1) return [keys[0], value[keys[0]]];
  }
  throw new WireError(`${what}: expected a variant name or a one-entry map`);
}

function oneOf<T extends string>(value: unknown, names: readonly T[], what: string): T {
  const [name] = variant(value, what);
  if (!(names as readonly string[]).includes(name)) {
    throw new WireError(`${what}: unknown variant ${name}`);
  }
  return name as T;
}

// ---------------------------------------------------------------------------------------
// Client messages
// ---------------------------------------------------------------------------------------

/** The MessagePack value of a client message, in the canonical form. */
export function clientValue(msg: ClientMsg): unknown {
  switch (msg.type) {
    case "Hello":
      return {
        Hello: {
          version: msg.version,
          resume_token: msg.resume_token,
          last_event_seq: u64Out(msg.last_event_seq),
          auth_token: msg.auth_token ?? null,
          ticket: msg.ticket ?? null,
        },
      };
    case "Ping":
      return { Ping: { nonce: u64Out(msg.nonce) } };
    case "FindMatch":
      return { FindMatch: { game: msg.game, options: msg.options ?? new Uint8Array() } };
    case "CancelMatch":
    case "LeaveRoom":
    case "ListRooms":
      return msg.type;
    case "CreateRoom":
      return {
        CreateRoom: {
          game: msg.game,
          settings: {
            allow_spectators: msg.settings.allow_spectators,
            relay: msg.settings.relay,
            ranked: msg.settings.ranked,
            options: msg.settings.options,
          },
        },
      };
    case "JoinRoom":
      return { JoinRoom: { code: msg.code, spectate: msg.spectate } };
    case "Input":
      return { Input: { seq: msg.seq, ack_tick: u64Out(msg.ack_tick), data: msg.data } };
    case "Chat":
      return { Chat: { text: msg.text } };
    case "Ack":
      return { Ack: { tick: u64Out(msg.tick) } };
    case "ListRoomsAfter":
      return { ListRoomsAfter: { after: u64Out(msg.after), limit: u16Out(msg.limit) } };
    case "Leaderboard":
      return { Leaderboard: { game: msg.game, limit: u16Out(msg.limit) } };
  }
}

/** Encodes a client message. */
export function encodeClientMsg(msg: ClientMsg): Uint8Array {
  return pack(clientValue(msg));
}

// ---------------------------------------------------------------------------------------
// Server messages
// ---------------------------------------------------------------------------------------

function roomJoined(body: unknown, what: string): RoomJoined {
  const m = struct(body, what);
  return {
    room_id: u64(m, "room_id", what),
    code: str(m, "code", what),
    game: str(m, "game", what),
    seat: optional(m, "seat", (m) => uint(m, "seat", what, 8)),
    seats: uint(m, "seats", what, 8),
    // Appended: older servers leave it out.
    bots:
      m.bots === undefined
        ? []
        : list(m, "bots", what).map((seat) => int(seat, `${what}.bots`, 255)),
  };
}

const ROOM_STATUSES = ["Waiting", "Running", "Finished"] as const;
const END_REASONS = [
  "Win",
  "Draw",
  "TurnTimeout",
  "Abandoned",
  "ServerShutdown",
  "Closed",
] as const;

function roomSummary(value: unknown): RoomSummary {
  const what = "RoomSummary";
  const m = struct(value, what);
  return {
    room_id: u64(m, "room_id", what),
    game: str(m, "game", what),
    status: oneOf(field(m, "status", what), ROOM_STATUSES, `${what}.status`) as RoomStatus,
    players: uint(m, "players", what, 8),
    seats: uint(m, "seats", what, 8),
    spectators: uint(m, "spectators", what, 32),
    public: bool(m, "public", what),
    code: optional(m, "code", (m) => str(m, "code", what)),
  };
}

function leaderboardRow(value: unknown): LeaderboardRow {
  const what = "LeaderboardRow";
  const m = struct(value, what);
  return {
    rank: uint(m, "rank", what, 32),
    player: str(m, "player", what),
    name: str(m, "name", what),
    rating: uint(m, "rating", what, 16),
    games: uint(m, "games", what, 32),
    wins: uint(m, "wins", what, 32),
  };
}

function frameInput(value: unknown): FrameInput {
  const what = "FrameInput";
  const m = struct(value, what);
  return {
    seat: uint(m, "seat", what, 8),
    seq: uint(m, "seq", what, 32),
    data: bin(m, "data", what),
  };
}

/** Decodes a `RoomEvent` value; `null` for a variant this SDK does not know. */
export function roomEvent(value: unknown): RoomEvent | null {
  const [name, body] = variant(value, "RoomEvent");
  const what = `RoomEvent.${name}`;
  const m = () => struct(body, what);
  switch (name) {
    case "PlayerJoined":
    case "PlayerLeft":
    case "PlayerReconnected":
      return { type: name, seat: uint(m(), "seat", what, 8) };
    case "PlayerDisconnected": {
      const b = m();
      return {
        type: name,
        seat: uint(b, "seat", what, 8),
        deadline_tick: u64(b, "deadline_tick", what),
        grace_ms: uint(b, "grace_ms", what, 32),
      };
    }
    case "GameStarted":
      return { type: name };
    case "GameOver": {
      const b = m();
      return {
        type: name,
        winner: optional(b, "winner", (b) => uint(b, "winner", what, 8)),
        reason: oneOf(field(b, "reason", what), END_REASONS, `${what}.reason`) as EndReason,
      };
    }
    case "Chat": {
      const b = m();
      return {
        type: name,
        from_session: u64(b, "from_session", what),
        seat: optional(b, "seat", (b) => uint(b, "seat", what, 8)),
        text: str(b, "text", what),
      };
    }
    case "Occupancy": {
      const b = m();
      return {
        type: name,
        players: uint(b, "players", what, 8),
        spectators: uint(b, "spectators", what, 32),
      };
    }
    default:
      return null;
  }
}

/** Decodes a relay room's `GameEvent.data`: one tick's `InputFrame`. */
export function decodeInputFrame(bytes: Uint8Array): InputFrame {
  const what = "InputFrame";
  const m = struct(unpack(bytes), what);
  return {
    frame: u64(m, "frame", what),
    inputs: list(m, "inputs", what).map(frameInput),
  };
}

/** `Snapshot`'s fields, from its positional array (or the named map of old servers). */
function snapshot(body: unknown): ServerMsg {
  const what = "Snapshot";
  const b = positional(body, ["tick", "input_seq", "state"], what);
  return {
    type: what,
    tick: u64(b, "tick", what),
    input_seq: uint(b, "input_seq", what, 32),
    state: bin(b, "state", what),
  };
}

/** `Delta`'s fields, from its positional array (or the named map of old servers). */
function delta(body: unknown): ServerMsg {
  const what = "Delta";
  const b = positional(body, ["tick", "base_tick", "input_seq", "delta"], what);
  return {
    type: what,
    tick: u64(b, "tick", what),
    base_tick: u64(b, "base_tick", what),
    input_seq: uint(b, "input_seq", what, 32),
    delta: bin(b, "delta", what),
  };
}

/**
 * A state message in `ticksync.msgpack.v2`'s short form, an array led by its variant
 * index: `[6, tick, input_seq, state]` or `[11, tick, base_tick, input_seq, delta]`.
 * `null` for another index (a variant this SDK does not know).
 */
function shortState(value: unknown[]): ServerMsg | null {
  const [first, ...fields] = value;
  const index = typeof first === "bigint" ? Number(first) : first;
  if (typeof index !== "number" || !Number.isInteger(index) || index < 0) {
    throw new WireError("ServerMsg: an array not led by a variant index");
  }
  switch (index) {
    case 6:
      return snapshot(fields);
    case 11:
      return delta(fields);
    default:
      return null;
  }
}

/**
 * Decodes a server message, in either MessagePack subprotocol; `null` for a variant this
 * SDK does not know.
 */
export function decodeServerMsg(bytes: Uint8Array): ServerMsg | null {
  const value = unpack(bytes);
  if (Array.isArray(value)) return shortState(value);
  const [name, body] = variant(value, "ServerMsg");
  const what = name;
  const m = () => struct(body, what);
  switch (name) {
    case "Welcome": {
      const b = m();
      return {
        type: name,
        version: uint(b, "version", what, 16),
        session_id: u64(b, "session_id", what),
        resume_token: str(b, "resume_token", what),
        resumed: bool(b, "resumed", what),
        tick_hz: uint(b, "tick_hz", what, 16),
      };
    }
    case "Pong":
      return { type: name, nonce: u64(m(), "nonce", what) };
    case "Queued": {
      const b = m();
      return {
        type: name,
        game: str(b, "game", what),
        position: uint(b, "position", what, 32),
        queue_size: uint(b, "queue_size", what, 32),
      };
    }
    case "MatchFound":
    case "RoomJoined":
      return { type: name, ...roomJoined(body, what) };
    case "RoomLeft":
      return { type: name, room_id: u64(m(), "room_id", what) };
    case "Snapshot":
      return snapshot(body);
    case "Event": {
      const b = m();
      const event = roomEvent(field(b, "event", what));
      if (event == null) return null; // an event variant from a newer server: skip it
      return { type: name, seq: u64(b, "seq", what), tick: u64(b, "tick", what), event };
    }
    case "Error": {
      const b = m();
      return {
        type: name,
        code: uint(b, "code", what, 16),
        message: str(b, "message", what),
        input_seq: optional(b, "input_seq", (b) => uint(b, "input_seq", what, 32)),
      };
    }
    case "RoomList":
      return { type: name, rooms: list(m(), "rooms", what).map(roomSummary) };
    case "MatchCancelled":
      return { type: name, game: str(m(), "game", what) };
    case "Delta":
      return delta(body);
    case "ServerShutdown": {
      const b = m();
      return {
        type: name,
        retry_after_ms: uint(b, "retry_after_ms", what, 32),
        drain_ms: uint(b, "drain_ms", what, 32),
      };
    }
    case "RatingChanged": {
      const b = m();
      return {
        type: name,
        match_id: u64(b, "match_id", what),
        game: str(b, "game", what),
        previous: uint(b, "previous", what, 16),
        rating: uint(b, "rating", what, 16),
      };
    }
    case "Leaderboard": {
      const b = m();
      return {
        type: name,
        game: str(b, "game", what),
        rows: list(b, "rows", what).map(leaderboardRow),
      };
    }
    case "GameEvent": {
      const b = m();
      return {
        type: name,
        seq: u64(b, "seq", what),
        tick: u64(b, "tick", what),
        data: bin(b, "data", what),
      };
    }
    case "Redirect": {
      const b = m();
      return { type: name, url: str(b, "url", what), ticket: str(b, "ticket", what) };
    }
    default:
      return null;
  }
}
