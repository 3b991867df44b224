// TicksyncClient's connection logic against a scripted fake WebSocket (no server, no
// timing): the sign-in token in Hello, ServerShutdown's retry delay, a kick that must not
// reconnect, sign-in refusals, and seatless sessions (spectating, queued), which the server
// ends with their connection: the client starts a new session and asks for the same room
// or queue again, without repeating events. A cluster's flows: Redirects for a match, a
// resume (the token kept, the node that cannot be reached bypassed through the entry) and a
// join by code, NodeLost, MatchCalledOff and a redirected seat that is gone.
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
    // Version 2 of the MessagePack subprotocol first, version 1 for a server older than it.
    assert.deepEqual(first.protocols, ["ticksync.msgpack.v2", "ticksync.msgpack.v1"]);
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

test("a resume redirect: the same Hello (token, last_event_seq) goes to the session's node with the ticket; the token is kept, then rotated", async () => {
  const server = fakeServer();
  const store = memoryTokenStore();
  const client = newClient(server, { store });
  const events = [];
  client.on("event", (e) => events.push(e.seq));
  try {
    client.connect(WAIT).catch(() => {});
    const first = await server.socket(0);
    first.deliver(welcome(false, "token-1"));
    first.deliver(roomJoined(0));
    for (const seq of [1, 2, 3]) first.deliver(event(seq, { PlayerJoined: { seat: seq % 2 } }));
    first.serverClose(1006);

    // A node that does not hold the session (a load balancer sent us there).
    const elsewhere = await server.socket(1);
    assert.equal(elsewhere.sent[0].Hello.resume_token, "token-1");
    elsewhere.deliver({ Redirect: { url: "http://node-b.example/", ticket: "resume:p.t" } });
    elsewhere.serverClose(4052);
    const home = await server.socket(2);
    assert.equal(home.url, "ws://node-b.example/");
    assert.deepEqual(home.sent[0], {
      Hello: {
        version: 2, resume_token: "token-1", last_event_seq: 3, auth_token: null, ticket: "resume:p.t",
      },
    });
    assert.equal(store.load(), "token-1", "the token is kept while following the redirect");
    const back = client.next("roomJoined", () => true, WAIT);
    home.deliver(welcome(true, "token-2"));
    home.deliver(roomJoined(0));
    for (const seq of [3, 4]) home.deliver(event(seq, { PlayerReconnected: { seat: 0 } }));
    const { resumed, room } = await back;
    assert.equal(resumed, true, "the same room, resumed");
    assert.equal(room.seat, 0);
    assert.equal(store.load(), "token-2", "rotated by the resume there");
    assert.equal(client.url, "ws://node-b.example/");
    assert.equal(client.entryUrl, "ws://fake/");
    assert.deepEqual(events, [1n, 2n, 3n, 4n], "nothing missed, nothing twice");

    // The next drop resumes on that node directly, without the spent ticket.
    home.serverClose(1006);
    const again = await server.socket(3);
    assert.equal(again.url, "ws://node-b.example/");
    assert.equal(again.sent[0].Hello.resume_token, "token-2");
    assert.equal(again.sent[0].Hello.ticket, null);
  } finally {
    client.close();
  }
});

test("a resume redirected twice is not followed twice; a node that cannot be reached is bypassed through the entry", async () => {
  const server = fakeServer();
  const client = newClient(server);
  try {
    client.connect(WAIT).catch(() => {});
    const first = await server.socket(0);
    first.deliver(welcome(false, "token-1"));
    first.deliver(roomJoined(1));
    first.serverClose(1006);
    const elsewhere = await server.socket(1);
    elsewhere.deliver({ Redirect: { url: "ws://node-b.example/", ticket: "resume:1" } });
    const home = await server.socket(2);
    home.deliver({ Redirect: { url: "ws://node-c.example/", ticket: "resume:2" } });
    assert.equal(home.readyState, 1, "not followed: the server's close decides");
    home.serverClose(4052);
    // The redirect was part of this reconnect (its attempts keep counting): the next
    // attempt, the second, asks the entry again, without a ticket and with the token...
    const entry = await server.socket(3);
    assert.equal(entry.url, "ws://fake/");
    assert.equal(entry.sent[0].Hello.ticket, null);
    assert.equal(entry.sent[0].Hello.resume_token, "token-1");
    // ...and when that one fails too, the session's node directly.
    entry.serverClose(1006);
    const retry = await server.socket(4);
    assert.equal(retry.url, "ws://node-b.example/");
    assert.equal(retry.sent[0].Hello.resume_token, "token-1");
  } finally {
    client.close();
  }
});

test("a resume redirected to a node that cannot be reached: the attempts keep counting, and maxAttempts ends it", async () => {
  const server = fakeServer();
  const client = newClient(server, { reconnect: { initialMs: 1, maxMs: 1, maxAttempts: 4 } });
  try {
    client.connect(WAIT).catch(() => {});
    const first = await server.socket(0);
    first.deliver(welcome(false, "token-1"));
    first.deliver(roomJoined(1));
    const stopped = client.next("status", (s) => s.state === "stopped", WAIT);
    first.serverClose(1006);
    // The entry redirects every resume to node b, which never answers.
    let n = 1;
    let done = false;
    stopped.then(() => { done = true; });
    while (!done && n < 40) {
      const socket = await Promise.race([server.socket(n), stopped.then(() => null)]);
      if (socket == null) break;
      if (socket.url === "ws://fake/") {
        socket.deliver({ Redirect: { url: "ws://node-b.example/", ticket: `resume:${n}` } });
      } else {
        socket.serverClose(1006);
      }
      n += 1;
    }
    await stopped;
    assert.ok(n <= 10, `${n} connections for 4 attempts`);
  } finally {
    client.close();
  }
});

test("a seat ticket whose node cannot be reached: after the ticket's 10 s, a new session through the entry queues again", async () => {
  const server = fakeServer();
  const client = newClient(server);
  const realNow = performance.now.bind(performance);
  let skew = 0;
  performance.now = () => realNow() + skew;
  try {
    client.connect(WAIT).catch(() => {});
    const home = await server.socket(0);
    home.deliver(welcome(false, "token-home"));
    const options = tictactoe.encodeOptions({ turn_seconds: 5 });
    client.findMatch("tictactoe", options);
    home.deliver({ Queued: { game: "tictactoe", position: 1, queue_size: 1 } });
    home.deliver({ Redirect: { url: "ws://node-b.example/", ticket: "p.t" } });
    // Node b does not answer: the ticket is tried again while it lasts...
    const there = await server.socket(1);
    assert.equal(there.sent[0].Hello.ticket, "p.t");
    there.serverClose(1006);
    const again = await server.socket(2);
    assert.equal(again.url, "ws://node-b.example/");
    assert.equal(again.sent[0].Hello.ticket, "p.t");
    // ...and once it has expired, given up: a new session through the entry, queued again.
    skew = 10_001;
    again.serverClose(1006);
    const entry = await server.socket(3);
    assert.equal(entry.url, "ws://fake/");
    assert.deepEqual(entry.sent[0].Hello, {
      version: 2, resume_token: null, last_event_seq: 0, auth_token: null, ticket: null,
    });
    entry.deliver(welcome(false, "token-new", 11));
    assert.deepEqual(entry.sent[1], { FindMatch: { game: "tictactoe", options } });
  } finally {
    performance.now = realNow;
    client.close();
  }
});

test("a queued player whose reconnects fail before Welcome still queues again when one succeeds", async () => {
  const server = fakeServer();
  const client = newClient(server);
  try {
    client.connect(WAIT).catch(() => {});
    const first = await server.socket(0);
    first.deliver(welcome(false, "token-1"));
    client.findMatch("tictactoe");
    first.deliver({ Queued: { game: "tictactoe", position: 1, queue_size: 1 } });
    first.serverClose(1006);
    // Two attempts that never get a Welcome...
    (await server.socket(1)).serverClose(1006);
    (await server.socket(2)).serverClose(1006);
    // ...then one whose token is refused (the queued session ended with its connection).
    const fourth = await server.socket(3);
    fourth.deliver(error(40, "unknown resume token"));
    fourth.serverClose(4005);
    const fifth = await server.socket(4);
    fifth.deliver(welcome(false, "token-2"));
    assert.deepEqual(fifth.sent[1], { FindMatch: { game: "tictactoe", options: new Uint8Array() } });
  } finally {
    client.close();
  }
});

test("NodeLost: the session's node is gone; sessionEnded names the lost room, and the new session can queue", async () => {
  const server = fakeServer();
  const store = memoryTokenStore();
  const client = newClient(server, { store });
  const errors = [];
  client.on("error", (e) => errors.push(e));
  try {
    client.connect(WAIT).catch(() => {});
    const first = await server.socket(0);
    first.deliver(welcome(false, "token-1"));
    first.deliver({ Redirect: { url: "ws://node-b.example/", ticket: "seat" } });
    const there = await server.socket(1);
    there.deliver(welcome(true, "token-b"));
    there.deliver(roomJoined(0));
    // Node b dies: its address refuses connections...
    there.serverClose(1006);
    const dead = await server.socket(2);
    assert.equal(dead.url, "ws://node-b.example/");
    dead.serverClose(1006);
    // ...so the client asks the entry, which answers a new session and NodeLost.
    const entry = await server.socket(3);
    assert.equal(entry.url, "ws://fake/");
    assert.equal(entry.sent[0].Hello.resume_token, "token-b");
    const ended = client.next("sessionEnded", () => true, WAIT);
    entry.deliver(welcome(false, "token-new", 11));
    entry.deliver(error(130, "node b left the cluster"));
    const { nodeLost, lostRoom, reason } = await ended;
    assert.equal(nodeLost, true);
    assert.equal(lostRoom.code, "K7QX2MAB");
    assert.match(reason, /server that held your game is gone/);
    assert.equal(client.room, null);
    assert.equal(client.url, "ws://fake/");
    assert.equal(store.load(), "token-new", "the new session's token is kept");
    assert.deepEqual(errors, [], "told once, as sessionEnded");
    assert.equal(client.connection, "open");
    client.findMatch("tictactoe");
    assert.deepEqual(entry.sent[1], { FindMatch: { game: "tictactoe", options: new Uint8Array() } });
  } finally {
    client.close();
  }
});

test("join by code on another node: a new session there joins the room (to watch); a later drop watches it again there", async () => {
  const server = fakeServer();
  const client = newClient(server);
  const ended = [];
  client.on("sessionEnded", (e) => ended.push(e));
  try {
    client.connect(WAIT).catch(() => {});
    const first = await server.socket(0);
    first.deliver(welcome(false, "token-1"));
    client.joinRoom("k7qx2mab", true);
    assert.deepEqual(first.sent[1], { JoinRoom: { code: "K7QX2MAB", spectate: true } });
    first.deliver({ Redirect: { url: "ws://node-b.example/", ticket: "join" } });
    assert.equal(first.readyState, 3);
    const there = await server.socket(1);
    assert.deepEqual(there.sent[0], {
      Hello: { version: 2, resume_token: null, last_event_seq: 0, auth_token: null, ticket: "join" },
    });
    const joined = client.next("roomJoined", () => true, WAIT);
    there.deliver(welcome(false, "token-b"));
    there.deliver(roomJoined(null));
    there.deliver(event(1, { PlayerJoined: { seat: 0 } }));
    const { room, resumed } = await joined;
    assert.equal(room.seat, null);
    assert.equal(room.matched, false);
    assert.equal(resumed, false);
    assert.equal(there.sent.length, 1, "the ticket did the join: no JoinRoom sent");

    // A spectator's session ends with its connection: watch again on that node.
    there.serverClose(1006);
    const again = await server.socket(2);
    assert.equal(again.url, "ws://node-b.example/");
    again.deliver(error(40, "unknown resume token"));
    again.serverClose(4005);
    const fresh = await server.socket(3);
    fresh.deliver(welcome(false, "token-b2"));
    assert.deepEqual(fresh.sent[1], { JoinRoom: { code: "K7QX2MAB", spectate: true } });
    assert.deepEqual(ended, []);
  } finally {
    client.close();
  }
});

test("join by code on another node, to play: the answer there (RoomFull) is the app's error", async () => {
  const server = fakeServer();
  const client = newClient(server);
  try {
    client.connect(WAIT).catch(() => {});
    const first = await server.socket(0);
    first.deliver(welcome(false, "token-1"));
    client.joinRoom("K7QX2MAB");
    first.deliver({ Redirect: { url: "ws://node-b.example/", ticket: "join" } });
    const there = await server.socket(1);
    const refused = client.next("error", () => true, WAIT);
    there.deliver(welcome(false, "token-b"));
    there.deliver(error(21, "room full"));
    assert.equal((await refused).name, "RoomFull");
    assert.equal(client.room, null);
    assert.equal(client.url, "ws://node-b.example/");
  } finally {
    client.close();
  }
});

test("MatchCalledOff: the app hears it, leaves the room and stays queued", async () => {
  const server = fakeServer();
  const client = newClient(server);
  const seen = [];
  for (const type of ["matchCalledOff", "roomLeft", "queued", "error"]) {
    client.on(type, (e) => seen.push([type, e, client.queued]));
  }
  try {
    client.connect(WAIT).catch(() => {});
    const ws = await server.socket(0);
    ws.deliver(welcome(false, "token-1"));
    client.findMatch("tictactoe");
    ws.deliver({ Queued: { game: "tictactoe", position: 1, queue_size: 1 } });
    ws.deliver({ MatchFound: { room_id: 9, code: "ABCDEFGH", game: "tictactoe", seat: 0, seats: 2 } });
    seen.length = 0;
    ws.deliver(error(126, "a player did not take their seat"));
    ws.deliver({ RoomLeft: { room_id: 9 } });
    assert.equal(client.queued, true, "queued again by the server");
    ws.deliver({ Queued: { game: "tictactoe", position: 1, queue_size: 1 } });
    assert.deepEqual(seen.map(([type]) => type), ["matchCalledOff", "roomLeft", "queued"]);
    const [, calledOff, queuedThen] = seen[0];
    assert.equal(calledOff.room.code, "ABCDEFGH");
    assert.equal(calledOff.message, "a player did not take their seat");
    assert.match(calledOff.words, /called off/);
    assert.equal(queuedThen, false, "still in the room when told");
    assert.equal(seen[1][2], true, "queued from roomLeft on");
    assert.equal(client.room, null);
    // The next match comes as usual.
    const joined = client.next("roomJoined", () => true, WAIT);
    ws.deliver({ MatchFound: { room_id: 10, code: "BCDEFGHJ", game: "tictactoe", seat: 1, seats: 2 } });
    assert.equal((await joined).room.matched, true);
    assert.equal(client.queued, false);
  } finally {
    client.close();
  }
});

test("MatchCalledOff, and the cluster cannot queue again: not queued, ClusterUnavailable in words", async () => {
  const server = fakeServer();
  const client = newClient(server);
  try {
    client.connect(WAIT).catch(() => {});
    const ws = await server.socket(0);
    ws.deliver(welcome(false, "token-1"));
    ws.deliver({ MatchFound: { room_id: 9, code: "ABCDEFGH", game: "tictactoe", seat: 0, seats: 2 } });
    ws.deliver(error(126, "called off"));
    ws.deliver({ RoomLeft: { room_id: 9 } });
    const refused = client.next("error", () => true, WAIT);
    ws.deliver(error(124, "redis down"));
    assert.equal((await refused).name, "ClusterUnavailable");
    assert.equal(client.queued, false);
  } finally {
    client.close();
  }
});

test("a redirected match whose seat is gone (ReservationExpired) or whose ticket is refused: queued again with the same options", async () => {
  const options = tictactoe.encodeOptions({ turn_seconds: 5 });
  // ReservationExpired: Welcome { resumed: false } there, then the error.
  {
    const server = fakeServer();
    const client = newClient(server);
    const errors = [];
    client.on("error", (e) => errors.push(e));
    try {
      client.connect(WAIT).catch(() => {});
      const ws = await server.socket(0);
      ws.deliver(welcome(false, "token-1"));
      client.findMatch("tictactoe", options);
      ws.deliver({ Queued: { game: "tictactoe", position: 1, queue_size: 1 } });
      ws.deliver({ Redirect: { url: "ws://node-b.example/", ticket: "seat" } });
      const there = await server.socket(1);
      const calledOff = client.next("matchCalledOff", () => true, WAIT);
      there.deliver(welcome(false, "token-b"));
      assert.deepEqual(there.sent[1], { FindMatch: { game: "tictactoe", options } });
      assert.equal(client.queued, true);
      there.deliver(error(125, "reservation expired"));
      assert.equal((await calledOff).room, null);
      assert.deepEqual(errors, [], "told as matchCalledOff");
    } finally {
      client.close();
    }
  }
  // A refused ticket (close 4050): the error, then a new session there that queues again.
  {
    const server = fakeServer();
    const client = newClient(server);
    try {
      client.connect(WAIT).catch(() => {});
      const ws = await server.socket(0);
      ws.deliver(welcome(false, "token-1"));
      client.findMatch("tictactoe", options);
      ws.deliver({ Queued: { game: "tictactoe", position: 1, queue_size: 1 } });
      ws.deliver({ Redirect: { url: "ws://node-b.example/", ticket: "seat" } });
      const there = await server.socket(1);
      const refused = client.next("error", () => true, WAIT);
      there.deliver(error(121, "expired"));
      assert.equal((await refused).name, "TicketExpired");
      there.serverClose(4050);
      const fresh = await server.socket(2);
      assert.equal(fresh.url, "ws://node-b.example/");
      assert.equal(fresh.sent[0].Hello.ticket, null);
      assert.equal(fresh.sent[0].Hello.resume_token, null);
      fresh.deliver(welcome(false, "token-b"));
      assert.deepEqual(fresh.sent[1], { FindMatch: { game: "tictactoe", options } });
      assert.equal(client.queued, true);
    } finally {
      client.close();
    }
  }
});

test("a Redirect to an address that is not a URL is refused in words; the connection stays", async () => {
  const server = fakeServer();
  const client = newClient(server);
  try {
    client.connect(WAIT).catch(() => {});
    const ws = await server.socket(0);
    ws.deliver(welcome(false, "token-1"));
    const refused = client.next("error", () => true, WAIT);
    ws.deliver({ Redirect: { url: "not a url", ticket: "p.t" } });
    assert.equal((await refused).name, "Undecodable");
    assert.equal(ws.readyState, 1);
    assert.equal(server.sockets.length, 1);
    assert.equal(client.url, "ws://fake/");
  } finally {
    client.close();
  }
});
