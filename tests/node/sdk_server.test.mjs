// The SDK under Node against the real server (TICKSYNC_URL, started by
// tests/it/node_suite.rs): whole games, rooms, spectators, chat, resume after a drop, a
// refused token, and the arena mirror rebuilt from deltas.
import { test } from "node:test";
import assert from "node:assert/strict";

import { ErrorCode, memoryTokenStore, tictactoe, arena } from "../../assets/sdk/ticksync.js";
import { newClient, noServer, serverUrl, until, withClients, WAIT } from "./support.mjs";

/** Plays first-free-cell tic-tac-toe for `client` on every state where it is to move. */
function autoplay(client) {
  return client.on("state", ({ state }) => {
    if (state.over || state.to_move !== client.room?.seat || !client.isOpen) return;
    client.sendInput(tictactoe.encodeMove({ cell: state.board.indexOf(0) }));
  });
}

/** Every room event a client sees, in order. */
function recordEvents(client) {
  const events = [];
  client.on("event", (e) => events.push(e));
  return events;
}

test("two SDK clients quick-match tic-tac-toe and play it to the end", { skip: noServer }, async () => {
  await withClients(2, async (a, b) => {
    autoplay(a);
    autoplay(b);
    const overs = [a, b].map((c) => c.next("event", (e) => e.event.type === "GameOver", WAIT));
    const lefts = [a, b].map((c) => c.next("roomLeft", () => true, WAIT));
    a.findMatch("tictactoe");
    b.findMatch("tictactoe");
    const [overA, overB] = await Promise.all(overs);
    assert.deepEqual(overA.event, overB.event);
    // First free cell: X (seat 0) takes 0, 2, 4 and wins on the diagonal 2-4-6.
    assert.deepEqual(overA.event, { type: "GameOver", winner: 0, reason: "Win" });
    await Promise.all(lefts);
    assert.equal(a.room, null);
    assert.equal(typeof overA.seq, "bigint");
  });
});

test("a private room: join by code, a spectator, chat, and errors in words", { skip: noServer }, async () => {
  await withClients(3, async (host, guest, watcher) => {
    const hostJoined = host.next("roomJoined");
    host.createRoom("tictactoe", { allow_spectators: true });
    const { room } = await hostJoined;
    assert.equal(room.seat, 0);
    assert.equal(room.matched, false);
    // 8 characters from PROTOCOL.md's alphabet: no 0/O, 1/I/L.
    assert.match(room.code, /^[A-HJKMNP-Z2-9]{8}$/);

    const guestState = guest.next("state");
    guest.joinRoom(room.code.toLowerCase()); // codes are case-insensitive
    const watcherState = watcher.next("state");
    await guestState;
    watcher.joinRoom(room.code, true);
    const { state } = await watcherState;
    assert.deepEqual(state.board, [0, 0, 0, 0, 0, 0, 0, 0, 0]);
    assert.equal(watcher.room.seat, null);

    // Chat reaches everyone, the sender included, with the sender's BigInt session id.
    const heard = [host, guest, watcher].map((c) => c.next("event", (e) => e.event.type === "Chat"));
    host.chat("gl hf");
    for (const { event } of await Promise.all(heard)) {
      assert.equal(event.text, "gl hf");
      assert.equal(event.seat, 0);
      assert.equal(event.from_session, host.sessionId);
    }

    // A spectator's input is refused, and the refusal comes with words.
    const refused = watcher.next("error");
    watcher.sendInput(tictactoe.encodeMove({ cell: 0 }));
    const error = await refused;
    assert.equal(error.code, ErrorCode.NotAPlayer);
    assert.equal(error.name, "NotAPlayer");
    assert.equal(error.words, "Spectators cannot play.");

    // So is a move out of turn.
    const outOfTurn = guest.next("error");
    guest.sendInput(tictactoe.encodeMove({ cell: 0 }));
    assert.equal((await outOfTurn).words, "It is not your turn.");

    // The room list shows the private room without its code.
    const rooms = await host.listRooms();
    const listed = rooms.find((r) => r.room_id === room.room_id);
    assert.ok(listed, "the room is listed");
    assert.equal(listed.public, false);
    assert.equal(listed.code, null);
    assert.ok((await host.ping()) >= 0);
  });
});

test("a spectator's drop ends its session on the server; the SDK watches the room again as a new session", { skip: noServer }, async () => {
  await withClients(3, async (host, guest, watcher) => {
    const joined = host.next("roomJoined");
    host.createRoom("tictactoe", { allow_spectators: true });
    const { room } = await joined;
    const started = host.next("state");
    guest.joinRoom(room.code);
    await started;
    const events = recordEvents(watcher);
    const ended = [];
    watcher.on("sessionEnded", (e) => ended.push(e));
    const watching = watcher.next("state");
    watcher.joinRoom(room.code, true);
    await watching;
    // A joiner gets the room's log from seq 1: both players' PlayerJoined among it.
    assert.equal(events[0].seq, 1n);
    const seats = events.filter((e) => e.event.type === "PlayerJoined").map((e) => e.event.seat);
    assert.deepEqual(seats.sort(), [0, 1]);
    const before = watcher.sessionId;

    const newSession = watcher.next("welcome", () => true, WAIT);
    const back = watcher.next("roomJoined", () => true, WAIT);
    watcher.drop();
    assert.equal((await newSession).resumed, false, "a seatless session is not held");
    const { room: again, resumed } = await back;
    assert.equal(resumed, true, "the same room as before");
    assert.equal(again.room_id, room.room_id);
    assert.equal(again.seat, null);
    assert.notEqual(watcher.sessionId, before);
    assert.deepEqual(ended, [], "nothing was lost");

    // Watching again for real: the room's chat reaches the new session, and the events
    // seen so far are each seen once, in order, without gaps.
    const heard = watcher.next("event", (e) => e.event.type === "Chat" && e.event.text === "still there?");
    host.chat("still there?");
    await heard;
    assert.deepEqual(events.map((e) => e.seq), events.map((_, i) => BigInt(i + 1)));
  });
});

test("the directory in pages: ListRoomsAfter continues after the last room_id", { skip: noServer }, async () => {
  await withClients(2, async (host, guest) => {
    const joined = host.next("roomJoined");
    host.createRoom("tictactoe");
    const { room } = await joined;
    const started = host.next("state");
    guest.joinRoom(room.code);
    await started; // ticks have passed: the directory has the room
    const first = await guest.listRoomsAfter(0n, 1);
    assert.equal(first.length, 1);
    const rest = await guest.listRoomsAfter(first[0].room_id, 100);
    for (const r of rest) assert.ok(r.room_id > first[0].room_id, `${r.room_id} after ${first[0].room_id}`);
    assert.ok([...first, ...rest].some((r) => r.room_id === room.room_id), "the room is on a page");
  });
});

const adminToken = process.env.TICKSYNC_ADMIN_TOKEN ?? null;

test("an operator's kick: the reason in words, close 4040, and the SDK stops and forgets the token", { skip: noServer || (!adminToken && "TICKSYNC_ADMIN_TOKEN is not set") }, async () => {
  const store = memoryTokenStore();
  await withClients(1, async (other) => {
    const client = newClient({ store });
    try {
      await client.connect(WAIT);
      const refused = client.next("error", (e) => e.name === "Kicked", WAIT);
      const stopped = client.next("status", (s) => s.state === "stopped", WAIT);
      const response = await fetch(new URL(`/admin/sessions/${client.sessionId}/kick`, serverUrl), {
        method: "POST",
        headers: { Authorization: `Bearer ${adminToken}`, "Content-Type": "application/json" },
        body: JSON.stringify({ reason: "abusive chat" }),
      });
      assert.equal(response.status, 200, await response.text());
      const error = await refused;
      assert.equal(error.message, "abusive chat");
      assert.equal(error.words, "The server's operator ended your session.");
      const status = await stopped;
      assert.equal(status.closeCode, 4040);
      assert.equal(status.reason, "The server's operator ended your session.");
      assert.equal(store.load(), null);
      // Others carry on.
      assert.ok((await other.ping()) >= 0);
    } finally {
      client.close();
    }
  });
});

test("a dropped connection resumes the same session and seat, without repeating events", { skip: noServer }, async () => {
  await withClients(2, async (a, b) => {
    const eventsA = recordEvents(a);
    const joined = a.next("roomJoined");
    a.createRoom("tictactoe");
    const { room } = await joined;
    const started = a.next("state");
    b.joinRoom(room.code);
    await started;
    const session = a.sessionId;

    const away = b.next("event", (e) => e.event.type === "PlayerDisconnected");
    const back = b.next("event", (e) => e.event.type === "PlayerReconnected");
    const resumed = a.next("welcome", (w) => w.resumed);
    const reconnecting = a.next("status", (s) => s.state === "reconnecting" && s.retryInMs != null);
    a.drop();
    const status = await reconnecting;
    assert.equal(status.reason, "The connection to the server was lost.", "words, not a code");
    const { event } = await away;
    assert.equal(event.seat, 0);
    assert.equal(typeof event.deadline_tick, "bigint");
    await resumed;
    await back;
    assert.equal(a.sessionId, session);
    assert.equal(a.room.room_id, room.room_id);
    assert.equal(a.room.seat, 0);

    // The game goes on: play it out.
    autoplay(a);
    autoplay(b);
    const over = a.next("event", (e) => e.event.type === "GameOver");
    if (a.mirror.state?.to_move === 0) a.sendInput(tictactoe.encodeMove({ cell: 0 }));
    await over;
    const seqs = eventsA.map((e) => e.seq);
    assert.deepEqual(seqs, [...seqs].sort((x, y) => (x < y ? -1 : 1)), "in order");
    assert.equal(new Set(seqs.map(String)).size, seqs.length, "no event twice");
  });
});

test("a new client with the stored token (a reload) resumes into the room and gets every event again", { skip: noServer }, async () => {
  const store = memoryTokenStore();
  await withClients(1, async (guest) => {
    // Never reconnects: after its drop the session waits in its grace for the second.
    const first = newClient({ store, reconnect: false });
    await first.connect(WAIT);
    const joined = first.next("roomJoined");
    first.createRoom("tictactoe");
    const { room } = await joined;
    const started = first.next("state");
    guest.joinRoom(room.code);
    await started;
    const stopped = first.next("status", (s) => s.state === "stopped");
    first.drop();
    await stopped;

    // A second client object with the same store, as a reloaded page makes.
    const second = newClient({ store });
    try {
      const events = recordEvents(second);
      const back = second.next("roomJoined", () => true, WAIT);
      const state = second.next("state", () => true, WAIT);
      await second.connect(WAIT);
      const { room: again, resumed } = await back;
      assert.equal(resumed, true);
      assert.equal(again.room_id, room.room_id);
      assert.equal(again.seat, 0);
      assert.deepEqual((await state).state.board, [0, 0, 0, 0, 0, 0, 0, 0, 0]);
      // It asked from event 0: the room's whole log, in order, each once.
      await until(() => events.some((e) => e.event.type === "GameStarted"), "the replayed GameStarted");
      assert.equal(events[0].seq, 1n);
      assert.deepEqual(events.map((e) => e.seq), events.map((_, i) => BigInt(i + 1)));
    } finally {
      second.close();
    }
  });
});

test("a token the server does not know ends the old session and starts a new one", { skip: noServer }, async () => {
  const store = memoryTokenStore();
  store.save("not-a-token-this-server-gave");
  const client = newClient({ store });
  try {
    const ended = client.next("sessionEnded", () => true, WAIT);
    const welcome = client.next("welcome", () => true, WAIT);
    client.connect().catch(() => {});
    assert.equal((await ended).reason, "Your earlier session has ended.");
    assert.equal((await welcome).resumed, false);
    assert.notEqual(store.load(), "not-a-token-this-server-gave");
  } finally {
    client.close();
  }
});

test("arena: the mirror rebuilt from deltas equals the full snapshots of a client that never acknowledges", { skip: noServer }, async () => {
  await withClients(1, async (player) => {
    const mine = new Map();
    let deltas = 0;
    player.on("state", ({ tick, state, full }) => {
      mine.set(tick, state);
      if (!full) deltas += 1;
    });
    const joined = player.next("roomJoined", () => true, WAIT);
    player.findMatch("arena"); // alone: the room starts after the fill wait
    const { room } = await joined;
    assert.equal(room.game, "arena");

    const watcher = newClient({ autoAck: false });
    try {
      await watcher.connect(WAIT);
      const theirs = new Map();
      let theirDeltas = 0;
      watcher.on("state", ({ tick, state, full }) => {
        theirs.set(tick, state);
        if (!full) theirDeltas += 1;
      });
      const first = watcher.next("state", () => true, WAIT);
      watcher.joinRoom(room.code, true);
      await first;

      // Walk a square, each leg until the player's own mirror shows it moved.
      const legs = [[1, 0], [0, 1], [-1, 0], [0, -1], [1, 1], [0, 0]];
      for (const [dx, dy] of legs) {
        const seq = player.sendInput(arena.encodeInput({ dx, dy }));
        await player.next("state", (s) => s.input_seq >= seq, WAIT);
        if (dx === 0 && dy === 0) break; // standing still: no more states to wait for
        const at = player.mirror.tick;
        await player.next("state", (s) => s.tick >= at + 6n, WAIT);
      }
      const common = [...mine.keys()].filter((tick) => theirs.has(tick));
      assert.ok(deltas >= 10, `the player got ${deltas} deltas`);
      assert.equal(theirDeltas, 0, "a client that never acknowledges gets only full snapshots");
      assert.ok(common.length >= 10, `${common.length} ticks seen by both`);
      for (const tick of common) assert.deepEqual(mine.get(tick), theirs.get(tick), `tick ${tick}`);
      const me = player.mirror.state.players.find((p) => p.seat === room.seat);
      assert.equal(me.dir, arena.STILL);
    } finally {
      watcher.close();
    }
  });
});
