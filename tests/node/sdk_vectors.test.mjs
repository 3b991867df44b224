// The SDK's MessagePack codec against PROTOCOL.md's test vectors, parsed from the
// document itself: client messages and payloads must encode to exactly the vector's
// bytes, and server messages and payloads must decode to exactly the values PROTOCOL.md
// names (every u64 a BigInt, 2^53 and above included). No server needed.
import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";

import {
  encodeClientMsg, decodeServerMsg, decodeInputFrame, WireError, tictactoe, arena, battleship,
  pack,
} from "../../assets/sdk/ticksync.js";
import { repoRoot } from "./support.mjs";

/** Every ```vector block of PROTOCOL.md, as { name, codec, bytes }. */
function parseVectors() {
  const doc = readFileSync(join(repoRoot, "PROTOCOL.md"), "utf8");
  const blocks = [...doc.matchAll(/```vector\n([\s\S]*?)```/g)].map((m) => m[1]);
  return blocks.map((block) => {
    const name = block.match(/^name: (\S+)$/m)[1];
    const codec = block.match(/^codec: (\S+)$/m)[1];
    const hex = block.slice(block.indexOf("hex:") + 4).split(/\s+/).filter(Boolean);
    return { name, codec, bytes: new Uint8Array(hex.map((h) => parseInt(h, 16))) };
  });
}

const all = parseVectors();
const vectors = all.filter((v) => v.codec === "msgpack");
/** The state messages as `ticksync.msgpack.v1` writes them (the only vectors that differ). */
const v1Vectors = all.filter((v) => v.codec === "msgpack-v1");
const bytesOf = (name) => vectors.find((v) => v.name === name).bytes;
const b = (...values) => new Uint8Array(values);

const TOKEN = "q7Xk2mP9vL4sT8wZ";
const SESSION = 0x0123456789abcdefn;
const tttView = {
  board: [1, 0, 0, 0, 2, 0, 0, 0, 1], to_move: 1, turn_deadline: 2100n, winner: null, over: false,
};
const arenaView = {
  players: [
    { seat: 0, x: 125, y: 250, dir: 4 },
    { seat: 2, x: 630, y: 735, dir: 7 },
    { seat: 5, x: 1000, y: 0, dir: 6 },
  ],
};
const arenaDelta = { changed: [{ seat: 2, x: 620, y: 745, dir: 2 }], removed: [5] };

/** PROTOCOL.md's Battleship story on a 6 x 6 board: `you` is the viewer. */
function bsView(you) {
  const board0 = new Array(36).fill(0);
  board0[2] = 2;
  board0[35] = 1;
  if (you === 0) for (const i of [1, 3, 14, 20, 33, 34]) board0[i] = 4;
  const board1 = new Array(36).fill(0);
  board1[0] = 1;
  board1[21] = 3;
  board1[22] = 3;
  return {
    size: 6, you, boards: [{ cells: board0, afloat: 3 }, { cells: board1, afloat: 2 }],
    to_move: 1, turn_deadline: 2400n, winner: null, over: false,
  };
}

/** Client messages: the SDK must encode these values to the vector's bytes. */
const CLIENT = {
  hello_new: {
    type: "Hello", version: 2, resume_token: null, last_event_seq: 0n, auth_token: null, ticket: null,
  },
  hello_auth: {
    type: "Hello", version: 2, resume_token: null, last_event_seq: 0n, auth_token: "h.p.s",
    ticket: null,
  },
  hello_ticket: {
    type: "Hello", version: 2, resume_token: null, last_event_seq: 0n, auth_token: null, ticket: "p.t",
  },
  hello_resume: {
    type: "Hello", version: 2, resume_token: TOKEN, last_event_seq: 42n, auth_token: null,
    ticket: null,
  },
  ping: { type: "Ping", nonce: 1718000000123n },
  find_match: { type: "FindMatch", game: "tictactoe", options: b() },
  cancel_match: { type: "CancelMatch" },
  create_room: {
    type: "CreateRoom", game: "tictactoe",
    settings: {
      allow_spectators: true, relay: false, ranked: true,
      options: tictactoe.encodeOptions({ turn_seconds: 20 }),
    },
  },
  create_room_defaults: {
    type: "CreateRoom", game: "tictactoe",
    settings: { allow_spectators: false, relay: false, ranked: false, options: b() },
  },
  create_room_relay: {
    type: "CreateRoom", game: "tictactoe",
    settings: { allow_spectators: false, relay: true, ranked: false, options: b() },
  },
  join_room: { type: "JoinRoom", code: "K7QX2M", spectate: false },
  leave_room: { type: "LeaveRoom" },
  input_move: { type: "Input", seq: 3, ack_tick: 1024n, data: tictactoe.encodeMove({ cell: 4 }) },
  input_arena: {
    type: "Input", seq: 17, ack_tick: 1199n, data: arena.encodeInput({ dx: -1, dy: 1 }),
  },
  chat: { type: "Chat", text: "gl hf ✓" },
  list_rooms: { type: "ListRooms" },
  ack: { type: "Ack", tick: 1200n },
  list_rooms_after: { type: "ListRoomsAfter", after: 7n, limit: 50 },
  leaderboard: { type: "Leaderboard", game: "tictactoe", limit: 10 },
};
const NONCES = {
  ping_nonce_127: 127n, ping_nonce_128: 128n, ping_nonce_250: 250n, ping_nonce_251: 251n,
  ping_nonce_65535: 65535n, ping_nonce_65536: 65536n,
  ping_nonce_4294967295: 4294967295n, ping_nonce_4294967296: 4294967296n,
  ping_nonce_max: 2n ** 64n - 1n,
};
for (const [name, nonce] of Object.entries(NONCES)) CLIENT[name] = { type: "Ping", nonce };

const roomJoined = (seat, bots = []) => ({
  room_id: 7n, code: "K7QX2M", game: "tictactoe", seat, seats: 2, bots,
});

/** Server messages: the SDK must decode the vector's bytes to these values. */
const SERVER = {
  welcome: {
    type: "Welcome", version: 2, session_id: SESSION, resume_token: TOKEN, resumed: false,
    tick_hz: 20,
  },
  pong: { type: "Pong", nonce: 1718000000123n },
  queued: { type: "Queued", game: "tictactoe", position: 1, queue_size: 1 },
  match_found: { type: "MatchFound", ...roomJoined(1) },
  match_found_with_bot: { type: "MatchFound", ...roomJoined(1, [0]) },
  room_joined_spectator: { type: "RoomJoined", ...roomJoined(null) },
  room_left: { type: "RoomLeft", room_id: 7n },
  snapshot: { type: "Snapshot", tick: 1500n, input_seq: 2, state: bytesOf("ttt_view") },
  event_game_started: { type: "Event", seq: 3n, tick: 1200n, event: { type: "GameStarted" } },
  event_player_disconnected: {
    type: "Event", seq: 5n, tick: 1600n,
    event: { type: "PlayerDisconnected", seat: 1, deadline_tick: 2200n, grace_ms: 30000 },
  },
  event_chat: {
    type: "Event", seq: 6n, tick: 1650n,
    event: { type: "Chat", from_session: SESSION, seat: null, text: "nice" },
  },
  event_game_over: {
    type: "Event", seq: 9n, tick: 1742n,
    event: { type: "GameOver", winner: 0, reason: "Win" },
  },
  event_game_over_closed: {
    type: "Event", seq: 10n, tick: 1800n,
    event: { type: "GameOver", winner: null, reason: "Closed" },
  },
  event_game_over_shutdown: {
    type: "Event", seq: 6n, tick: 2000n,
    event: { type: "GameOver", winner: null, reason: "ServerShutdown" },
  },
  game_event_input_frame: {
    type: "GameEvent", seq: 12n, tick: 1300n,
    data: pack({
      frame: 1300,
      inputs: [{ seat: 1, seq: 38, data: b(1, 2) }, { seat: 0, seq: 41, data: b(7) }],
    }),
  },
  error_input: { type: "Error", code: 30, message: "not your turn", input_seq: 3 },
  error_text_frame: { type: "Error", code: 4, message: "binary frames only", input_seq: null },
  error_token_expired: {
    type: "Error", code: 71, message: "the token has expired", input_seq: null,
  },
  error_kicked: { type: "Error", code: 86, message: "abusive chat", input_seq: null },
  redirect: { type: "Redirect", url: "ws://b.example/", ticket: "p.t" },
  error_ticket_used: {
    type: "Error", code: 123, message: "the seat ticket was already used", input_seq: null,
  },
  error_node_lost: {
    type: "Error", code: 130, message: "node b left the cluster", input_seq: null,
  },
  error_match_called_off: {
    type: "Error", code: 126, message: "a player did not take their seat", input_seq: null,
  },
  error_shutting_down: { type: "Error", code: 80, message: "shutting down", input_seq: null },
  room_list: {
    type: "RoomList",
    rooms: [{
      room_id: 7n, game: "tictactoe", status: "Running", players: 2, seats: 2, spectators: 1,
      public: true, code: "K7QX2M",
    }],
  },
  match_cancelled: { type: "MatchCancelled", game: "tictactoe" },
  delta: {
    type: "Delta", tick: 1201n, base_tick: 1199n, input_seq: 17, delta: bytesOf("arena_delta"),
  },
  server_shutdown: { type: "ServerShutdown", retry_after_ms: 5000, drain_ms: 10000 },
  rating_changed: {
    type: "RatingChanged", match_id: 4294967301n, game: "tictactoe", previous: 1500, rating: 1662,
  },
  leaderboard_rows: {
    type: "Leaderboard", game: "tictactoe",
    rows: [{ rank: 1, player: "user:alice", name: "Alice", rating: 1662, games: 3, wins: 2 }],
  },
  error_no_records: { type: "Error", code: 110, message: "no records", input_seq: null },
  error_invalid_options: {
    type: "Error", code: 90,
    message: "invalid options: turn_seconds must be 1 to 86400, not 0", input_seq: null,
  },
};

/** Game payloads: [decode, expected value, encode (client-sent payloads only)]. */
const PAYLOADS = {
  ttt_move: [tictactoe.decodeMove, { cell: 4 }, tictactoe.encodeMove],
  ttt_view: [tictactoe.decodeView, tttView],
  ttt_view_over: [tictactoe.decodeView, {
    board: [1, 1, 1, 2, 2, 0, 0, 0, 0], to_move: null, turn_deadline: 0n, winner: 0, over: true,
  }],
  arena_input: [arena.decodeInput, { dx: -1, dy: 1 }, arena.encodeInput],
  arena_view: [arena.decodeView, arenaView],
  arena_delta: [arena.decodeDelta, arenaDelta],
  bs_options: [
    battleship.decodeOptions, { size: 6, fleet: "Quick", turn_seconds: 30 },
    battleship.encodeOptions,
  ],
  bs_shot: [battleship.decodeShot, { cell: 22 }, battleship.encodeShot],
  bs_view: [battleship.decodeView, bsView(0)],
  bs_view_spectator: [battleship.decodeView, bsView(null)],
  bs_event_miss: [battleship.decodeEvent, { type: "Miss", by: 1, cell: 35, auto: false }],
  bs_event_sunk: [battleship.decodeEvent, { type: "Sunk", by: 0, ship: 1, cells: [21, 22] }],
};

test("PROTOCOL.md has MessagePack vectors, and the SDK covers every one", () => {
  assert.ok(vectors.length >= 40, `only ${vectors.length} msgpack vectors parsed`);
  const known = new Set([...Object.keys(CLIENT), ...Object.keys(SERVER), ...Object.keys(PAYLOADS)]);
  const uncovered = vectors.map((v) => v.name).filter((name) => !known.has(name));
  assert.deepEqual(uncovered, [], "vectors without an SDK expectation: add them here");
  for (const name of known) assert.ok(vectors.some((v) => v.name === name), `${name} is in PROTOCOL.md`);
});

test("client messages encode to the vectors' bytes", () => {
  for (const [name, msg] of Object.entries(CLIENT)) {
    assert.deepEqual(encodeClientMsg(msg), bytesOf(name), name);
  }
});

test("u64 fields take numbers too, and refuse what does not fit", () => {
  // A number is fine while it is exact; the bytes are the same as for the BigInt.
  assert.deepEqual(encodeClientMsg({ type: "Ping", nonce: 65536 }), bytesOf("ping_nonce_65536"));
  assert.deepEqual(encodeClientMsg({ type: "Ping", nonce: 4294967296 }), bytesOf("ping_nonce_4294967296"));
  assert.throws(() => encodeClientMsg({ type: "Ping", nonce: 2n ** 64n }), WireError);
  assert.throws(() => encodeClientMsg({ type: "Ping", nonce: -1n }), WireError);
});

test("Hello without auth_token or ticket is hello_new; ListRoomsAfter's limit is a u16", () => {
  const { auth_token, ticket, ...older } = CLIENT.hello_new;
  assert.equal(auth_token, null);
  assert.equal(ticket, null);
  assert.deepEqual(encodeClientMsg(older), bytesOf("hello_new"), "an app's Hello without the field");
  assert.throws(() => encodeClientMsg({ type: "ListRoomsAfter", after: 0n, limit: 65536 }), WireError);
  assert.throws(() => encodeClientMsg({ type: "ListRoomsAfter", after: 0n, limit: -1 }), WireError);
});

test("server messages decode to PROTOCOL.md's values, every u64 a BigInt", () => {
  for (const [name, expected] of Object.entries(SERVER)) {
    assert.deepEqual(decodeServerMsg(bytesOf(name)), expected, name);
  }
  const welcome = decodeServerMsg(bytesOf("welcome"));
  assert.equal(typeof welcome.session_id, "bigint");
  assert.equal(welcome.session_id.toString(16), "123456789abcdef", "no precision lost above 2^53");
  // A u64 that arrives as a small fixint is a BigInt too.
  assert.equal(typeof decodeServerMsg(bytesOf("room_left")).room_id, "bigint");
});

test("state messages decode alike from either MessagePack subprotocol", () => {
  assert.deepEqual(v1Vectors.map((v) => v.name).sort(), ["delta", "snapshot"]);
  for (const { name, bytes } of v1Vectors) {
    assert.equal(bytesOf(name)[0] & 0xf0, 0x90, `${name}: version 2 writes an array`);
    assert.equal(bytes[0], 0x81, `${name}: version 1 writes a one-entry map`);
    assert.deepEqual(decodeServerMsg(bytes), SERVER[name], name);
  }
  // An array led by an index this SDK does not know is a newer variant: skipped.
  assert.equal(decodeServerMsg(b(0x93, 0x11, 0x01, 0x02)), null);
  // The index in a longer integer format (a uint64) is the same index.
  assert.deepEqual(
    decodeServerMsg(b(0x94, 0xcf, 0, 0, 0, 0, 0, 0, 0, 6, 0x01, 0x02, 0xc4, 0x01, 0xaa)),
    { type: "Snapshot", tick: 1n, input_seq: 2, state: b(0xaa) },
  );
  // An array led by anything but an index (a string, a float, a negative number, nothing),
  // or a state with a field missing, is malformed.
  for (const bad of [
    b(0x92, 0xa1, 0x78, 0x01),
    b(0x94, 0xcb, 0x40, 0x1a, 0, 0, 0, 0, 0, 0, 0x01, 0x02, 0xc4, 0x00),
    b(0x94, 0xff, 0x01, 0x02, 0xc4, 0x00),
    b(0x90),
    b(0x94, 0x0b, 0x01, 0x02, 0x03),
  ]) {
    assert.throws(() => decodeServerMsg(bad), WireError, Buffer.from(bad).toString("hex"));
  }
});

test("game payloads decode to PROTOCOL.md's values and encode to its bytes", () => {
  for (const [name, [decode, expected, encode]] of Object.entries(PAYLOADS)) {
    assert.deepEqual(decode(bytesOf(name)), expected, name);
    if (encode) assert.deepEqual(encode(expected), bytesOf(name), `${name} encodes`);
  }
  // Nested payloads: the snapshot's state is the ttt_view vector, the delta's the arena_delta.
  assert.deepEqual(tictactoe.decodeView(decodeServerMsg(bytesOf("snapshot")).state), tttView);
  assert.deepEqual(arena.decodeDelta(decodeServerMsg(bytesOf("delta")).delta), arenaDelta);
  // A relay room's game event carries one InputFrame.
  assert.deepEqual(decodeInputFrame(decodeServerMsg(bytesOf("game_event_input_frame")).data), {
    frame: 1300n,
    inputs: [{ seat: 1, seq: 38, data: b(1, 2) }, { seat: 0, seq: 41, data: b(7) }],
  });
});

test("the worked example: arena_delta applied to arena_view over 2 ticks", () => {
  const msg = decodeServerMsg(bytesOf("delta"));
  const next = arena.applyDelta(arenaView, arena.decodeDelta(msg.delta), msg.tick - msg.base_tick);
  assert.deepEqual(next, {
    players: [{ seat: 0, x: 125, y: 250, dir: 4 }, { seat: 2, x: 620, y: 745, dir: 2 }],
  });
});

test("unknown variants are skipped; malformed messages are refused, not guessed", () => {
  assert.equal(decodeServerMsg(pack({ FutureThing: { x: 1 } })), null);
  assert.equal(decodeServerMsg(pack({ Event: { seq: 1, tick: 1, event: "FutureEvent" } })), null);
  const malformed = [
    pack({ Welcome: { version: 1 } }),                                       // missing fields
    pack({ RoomLeft: { room_id: 1.5 } }),                                    // a float
    pack({ RoomLeft: { room_id: -1 } }),                                     // negative
    pack({ Queued: { game: "t", position: 2 ** 32, queue_size: 1 } }),       // u32 overflow
    pack({ Snapshot: { tick: 1, input_seq: 0, state: "not bin" } }),
    pack({ Snapshot: [1, 0, "not bin"] }),
    pack({ Delta: [3, 1, 0] }),                                              // a field short
    pack({ Event: { seq: 1, tick: 1, event: { GameOver: { winner: null, reason: "Nope" } } } }),
    pack({ A: 1, B: 2 }),                                                    // two keys
    b(0xc1),                                                                 // never used
  ];
  for (const bytes of malformed) assert.throws(() => decodeServerMsg(bytes), WireError);
  assert.throws(() => arena.decodeView(pack([[0, 1, 1, 9]])), WireError);            // dir 9
  assert.throws(() => arena.decodeView(pack([[0, 1, 1]])), WireError);               // short player
  assert.throws(() => arena.decodeView(pack({ players: [] })), WireError);           // a map
  assert.throws(() => arena.decodeDelta(pack([2, 620, 745])), WireError);            // cut short
  assert.throws(() => arena.decodeDelta(pack([2, 620, -1, 2])), WireError);          // negative y
  assert.throws(() => arena.decodeDelta(pack([-129])), WireError);                   // not an i8
  assert.throws(() => arena.encodeInput({ dx: 2, dy: 0 }), WireError);
  // An input is [dx, dy]; the named map older clients sent still reads.
  assert.deepEqual(arena.decodeInput(pack({ dx: -1, dy: 1 })), { dx: -1, dy: 1 });
  assert.throws(() => arena.decodeInput(pack([1])), WireError);
});
