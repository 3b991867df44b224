// TicksyncClient's connection logic against a scripted fake WebSocket (no server, no
// timing): the sign-in token in Hello, ServerShutdown's retry delay, a kick that must not
// reconnect, sign-in refusals, and seatless sessions (spectating, queued), which the server
// ends with their connection: the client starts a new session and asks for the same room
// or queue again, without repeating events.
import { test } from "node:test";
import assert from "node:assert/strict";

import {
  TicksyncClient, memoryTokenStore, pack, tictactoe, unpack,
} from "../../assets/sdk/ticksync.js";

const WAIT = 5_000;

/** A fake `WebSocket` class whose instances the test drives as the server. */
function fakeServer() {
  const sockets = [];
  class FakeSocket {
    constructor(url, protocols) {
      this.url = url;
      this.protocols = protocols;
      this.protocol = protocols[0];
      this.binaryType = "blob";
      this.readyState = 0;
      this.sent = [];
      this.onopen = this.onmessage = this.onclose = this.onerror = null;
      sockets.push(this);
      queueMicrotask(() => {
        this.readyState = 1;
        this.onopen?.({});
      });
    }
    send(bytes) {
      this.sent.push(unpack(bytes));
    }
    close(code = 1000) {
      if (this.readyState > 1) return;
      this.readyState = 3;
      this.onclose?.({ code, reason: "" });
    }
    /** The server sends one message (its MessagePack value). */
    deliver(value) {
      this.onmessage?.({ data: pack(value).slice().buffer });
    }
    /** The server closes with `code`. */
    serverClose(code) {
      this.readyState = 3;
      this.onclose?.({ code, reason: "" });
    }
  }
  /** The `n`th socket (0-based), once the client has opened it and sent its Hello. */
  async function socket(n) {
    const deadline = Date.now() + WAIT;
    while (!(sockets[n]?.sent.length >= 1)) {
      if (Date.now() > deadline) throw new Error(`socket ${n} never sent Hello`);
      await new Promise((resolve) => setTimeout(resolve, 1));
    }
    return sockets[n];
  }
  return { WebSocket: FakeSocket, sockets, socket };
}

const welcome = (resumed, token, session = 5) => ({
  Welcome: { version: 2, session_id: session, resume_token: token, resumed, tick_hz: 20 },
});
const roomJoined = (seat) => ({
  RoomJoined: { room_id: 7, code: "K7QX2MAB", game: "tictactoe", seat, seats: 2 },
});
const event = (seq, body) => ({ Event: { seq, tick: 100 + seq, event: body } });
const error = (code, message) => ({ Error: { code, message, input_seq: null } });

/** A client of the fake server, reconnecting at once (1 ms). */
function newClient(server, options = {}) {
  return new TicksyncClient({
    url: "ws://fake/",
    WebSocket: server.WebSocket,
    reconnect: { initialMs: 1, maxMs: 1 },
    ...options,
  });
}

test("Hello carries the sign-in token; a function is asked again for every connection", async () => {
  const server = fakeServer();
  let logins = 0;
  const client = newClient(server, { authToken: () => `jwt-${++logins}` });
  try {
    client.connect(WAIT).catch(() => {});
    const first = await server.socket(0);
    assert.deepEqual(first.sent[0], {
      Hello: { version: 2, resume_token: null, last_event_seq: 0, auth_token: "jwt-1", ticket: null },
    });
    first.deliver(welcome(false, "token-1"));
    first.serverClose(1006);
    const second = await server.socket(1);
    assert.equal(second.sent[0].Hello.auth_token, "jwt-2");
    assert.equal(second.sent[0].Hello.resume_token, "token-1");

    // setAuthToken: the next Hello carries the new one; null sends none.
    second.deliver(welcome(true, "token-2"));
    client.setAuthToken(null);
    second.serverClose(1006);
    assert.equal((await server.socket(2)).sent[0].Hello.auth_token, null);
  } finally {
    client.close();
  }
});

test("ServerShutdown: the client reconnects no sooner than retry_after_ms", async () => {
  const server = fakeServer();
  const client = newClient(server);
  try {
    client.connect(WAIT).catch(() => {});
    const ws = await server.socket(0);
    ws.deliver(welcome(false, "token-1"));
    const notice = client.next("serverShutdown", () => true, WAIT);
    ws.deliver({ ServerShutdown: { retry_after_ms: 5000, drain_ms: 10000 } });
    assert.deepEqual(await notice, { retry_after_ms: 5000, drain_ms: 10000 });
    const reconnecting = client.next("status", (s) => s.state === "reconnecting", WAIT);
    ws.serverClose(1001);
    const status = await reconnecting;
    assert.equal(status.retryInMs, 5000, "the server's delay, not the 1 ms backoff");
    assert.equal(status.reason, "The server is restarting or shutting down.");
  } finally {
    client.close();
  }
});

test("Kicked: the operator's reason in words, then stopped for good and the token forgotten", async () => {
  const server = fakeServer();
  const store = memoryTokenStore();
  const client = newClient(server, { store });
  try {
    client.connect(WAIT).catch(() => {});
    const ws = await server.socket(0);
    ws.deliver(welcome(false, "token-1"));
    ws.deliver(roomJoined(0));
    const refused = client.next("error", () => true, WAIT);
    ws.deliver(error(86, "abusive chat"));
    const kicked = await refused;
    assert.equal(kicked.name, "Kicked");
    assert.equal(kicked.words, "The server's operator ended your session.");
    assert.equal(kicked.message, "abusive chat");
    const stopped = client.next("status", () => true, WAIT);
    ws.serverClose(4040);
    const status = await stopped;
    assert.equal(status.state, "stopped", "no reconnect after a kick");
    assert.equal(status.reason, "The server's operator ended your session.");
    assert.equal(client.connection, "stopped");
    assert.equal(store.load(), null, "the dead token is forgotten");
    assert.equal(client.room, null);
    assert.equal(server.sockets.length, 1);
  } finally {
    client.close();
  }
});

test("a refused sign-in stops the client with words instead of retrying the same token", async () => {
  for (const [code, words] of [
    [4010, "This server needs you to sign in first."],
    [4011, "Your sign-in has expired. Sign in again."],
    [4017, "Your sign-in is not signed, so the server refused it."],
  ]) {
    const server = fakeServer();
    const client = newClient(server, { authToken: "h.p.s" });
    try {
      client.connect(WAIT).catch(() => {});
      const ws = await server.socket(0);
      const stopped = client.next("status", (s) => s.state !== "connecting", WAIT);
      ws.deliver(error(code - 4010 + 70, "refused"));
      ws.serverClose(code);
      assert.deepEqual(await stopped, { state: "stopped", reason: words, closeCode: code });
    } finally {
      client.close();
    }
  }
});

test("a spectator's dropped session: a new session watches the same room again, no event twice", async () => {
  const server = fakeServer();
  const client = newClient(server);
  const events = [];
  const ended = [];
  client.on("event", (e) => events.push(e.seq));
  client.on("sessionEnded", (e) => ended.push(e));
  try {
    client.connect(WAIT).catch(() => {});
    const first = await server.socket(0);
    first.deliver(welcome(false, "token-1"));
    first.deliver(roomJoined(null));
    for (const seq of [1, 2, 3]) first.deliver(event(seq, { PlayerJoined: { seat: 0 } }));
    first.serverClose(1006);

    // The resume is refused (a seatless session ended with its connection)...
    const second = await server.socket(1);
    assert.equal(second.sent[0].Hello.resume_token, "token-1");
    second.deliver(error(40, "unknown resume token"));
    second.serverClose(4005);
    // ...so a new session asks for the same room as a spectator.
    const third = await server.socket(2);
    assert.equal(third.sent[0].Hello.resume_token, null);
    assert.equal(client.room?.code, "K7QX2MAB", "still shown as watching meanwhile");
    const back = client.next("roomJoined", () => true, WAIT);
    third.deliver(welcome(false, "token-2", 6));
    assert.deepEqual(third.sent[1], { JoinRoom: { code: "K7QX2MAB", spectate: true } });
    third.deliver(roomJoined(null));
    for (const seq of [1, 2, 3, 4]) third.deliver(event(seq, { PlayerJoined: { seat: 1 } }));
    const { room, resumed } = await back;
    assert.equal(resumed, true);
    assert.equal(room.seat, null);
    assert.deepEqual(events, [1n, 2n, 3n, 4n], "the replayed log is not repeated");
    assert.deepEqual(ended, [], "nothing was lost: no sessionEnded");

    // Dropped again, and now the room is gone: roomLeft, not an error about a code.
    const errors = [];
    client.on("error", (e) => errors.push(e));
    third.serverClose(1006);
    const fourth = await server.socket(3);
    fourth.deliver(error(40, "unknown resume token"));
    fourth.serverClose(4005);
    const fifth = await server.socket(4);
    const left = client.next("roomLeft", () => true, WAIT);
    fifth.deliver(welcome(false, "token-3", 7));
    fifth.deliver(error(20, "no such room"));
    assert.equal((await left).room.code, "K7QX2MAB");
    assert.equal(client.room, null);
    assert.deepEqual(errors, []);
  } finally {
    client.close();
  }
});

test("a re-queue the server refuses: not queued, and the refusal in words", async () => {
  const server = fakeServer();
  const client = newClient(server);
  try {
    client.connect(WAIT).catch(() => {});
    const first = await server.socket(0);
    first.deliver(welcome(false, "token-1"));
    first.deliver({ Queued: { game: "arena", position: 1, queue_size: 1 } });
    first.serverClose(1006);
    const second = await server.socket(1);
    second.deliver(error(40, "unknown resume token"));
    second.serverClose(4005);
    const third = await server.socket(2);
    third.deliver(welcome(false, "token-2"));
    assert.deepEqual(third.sent[1], { FindMatch: { game: "arena", options: new Uint8Array() } });
    const refused = client.next("error", () => true, WAIT);
    third.deliver(error(80, "shutting down"));
    assert.equal((await refused).words, "The server is shutting down; new games cannot start now.");
    assert.equal(client.queued, false);
  } finally {
    client.close();
  }
});

test("a queued player's dropped session queues again; a seated player's lost seat is reported", async () => {
  const server = fakeServer();
  const client = newClient(server);
  try {
    client.connect(WAIT).catch(() => {});
    const first = await server.socket(0);
    first.deliver(welcome(false, "token-1"));
    // Queued with room options: the new session queues with the same ones.
    const options = tictactoe.encodeOptions({ turn_seconds: 5 });
    client.findMatch("tictactoe", options);
    assert.deepEqual(first.sent[1], { FindMatch: { game: "tictactoe", options } });
    first.deliver({ Queued: { game: "tictactoe", position: 1, queue_size: 1 } });
    first.serverClose(1006);
    const second = await server.socket(1);
    second.deliver(error(40, "unknown resume token"));
    second.serverClose(4005);
    const third = await server.socket(2);
    third.deliver(welcome(false, "token-2"));
    assert.deepEqual(third.sent[1], { FindMatch: { game: "tictactoe", options } });
    assert.equal(client.queued, true, "counted as queued, so the app does not queue twice");

    // A seat outlives its connection: a refused resume then means the game is lost.
    third.deliver({ MatchFound: { room_id: 9, code: "ABCDEFGH", game: "tictactoe", seat: 1, seats: 2 } });
    third.serverClose(1006);
    const fourth = await server.socket(3);
    const ended = client.next("sessionEnded", () => true, WAIT);
    fourth.deliver(error(40, "unknown resume token"));
    fourth.serverClose(4005);
    const { lostRoom, reason } = await ended;
    assert.equal(lostRoom.code, "ABCDEFGH");
    assert.equal(reason, "Your earlier session has ended.");
    const fifth = await server.socket(4);
    fifth.deliver(welcome(false, "token-3"));
    assert.equal(fifth.sent.length, 1, "nothing asked for again: the game is gone");
  } finally {
    client.close();
  }
});

test("a cluster's Redirect: the client moves to the node with the ticket and the match is its room", async () => {
  const server = fakeServer();
  const client = newClient(server);
  try {
    client.connect(WAIT).catch(() => {});
    const home = await server.socket(0);
    home.deliver(welcome(false, "token-home"));
    client.findMatch("tictactoe");
    home.deliver({ Queued: { game: "tictactoe", position: 1, queue_size: 1 } });
    home.deliver({ Redirect: { url: "ws://node-b.example/", ticket: "p.t" } });
    // The old connection is closed with 1000 (its session had no seat) ...
    assert.equal(home.readyState, 3);
    // ... and the new one goes to the node, with the ticket and no resume token.
    const there = await server.socket(1);
    assert.equal(there.url, "ws://node-b.example/");
    assert.equal(client.url, "ws://node-b.example/");
    assert.deepEqual(there.sent[0], {
      Hello: { version: 2, resume_token: null, last_event_seq: 0, auth_token: null, ticket: "p.t" },
    });
    const joined = client.next("roomJoined", () => true, WAIT);
    there.deliver(welcome(true, "token-there", 9));
    there.deliver(roomJoined(1));
    const { room, resumed } = await joined;
    assert.equal(resumed, false, "a new match, not a resumed room");
    assert.equal(room.matched, true);
    assert.equal(room.seat, 1);
    assert.equal(client.queued, false);
    // A later drop resumes on the new node with its token, without the spent ticket.
    there.serverClose(1006);
    const again = await server.socket(2);
    assert.equal(again.url, "ws://node-b.example/");
    assert.equal(again.sent[0].Hello.resume_token, "token-there");
    assert.equal(again.sent[0].Hello.ticket, null);
  } finally {
    client.close();
  }
});

test("a refused seat ticket: the error in words, then a new session without the ticket", async () => {
  const server = fakeServer();
  const client = newClient(server);
  try {
    client.connect(WAIT).catch(() => {});
    const home = await server.socket(0);
    home.deliver(welcome(false, "token-home"));
    home.deliver({ Redirect: { url: "ws://node-b.example/", ticket: "p.t" } });
    const there = await server.socket(1);
    const refused = client.next("error", () => true, WAIT);
    there.deliver(error(121, "the seat ticket has expired"));
    assert.equal((await refused).words, "The seat ticket has expired.");
    there.serverClose(4050);
    const fresh = await server.socket(2);
    assert.equal(fresh.sent[0].Hello.ticket, null);
    assert.equal(fresh.sent[0].Hello.resume_token, null);
  } finally {
    client.close();
  }
});
