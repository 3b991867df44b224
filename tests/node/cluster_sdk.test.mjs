// The SDK against a real cluster (two nodes and a private Redis, started by
// tests/it/node_suite.rs, their URLs in TICKSYNC_CLUSTER_URLS): a quick match between
// players on different nodes played to the end; a player whose socket is cut reconnecting
// through the other node and resuming with nothing missed; joining a room on another node
// by code, to play and to watch; a match called off because a redirected player could not
// reach its node, then played when it could; the node holding a game killed (SIGKILL),
// and its player told NodeLost through another node.
import { test } from "node:test";
import assert from "node:assert/strict";
import WebSocket from "ws";

import {
  decodeServerMsg, encodeClientMsg, memoryTokenStore, MSGPACK_SUBPROTOCOL, PROTOCOL_VERSION,
  tictactoe, toWebSocketUrl, unpack,
} from "../../assets/sdk/ticksync.js";
import { clientOf, clusterUrls, noCluster, until, WAIT } from "./support.mjs";

const skip = noCluster;
/** The node a test may kill: `[url, pid]` (TICKSYNC_CLUSTER_MORTAL), or null. */
const mortal = process.env.TICKSYNC_CLUSTER_MORTAL?.split(" ") ?? null;
/** A loopback port nothing listens on: a connection there is refused at once. */
const UNREACHABLE = "ws://127.0.0.1:1/";
/** Reconnect quickly: these tests wait on reconnects. */
const FAST = { initialMs: 100, maxMs: 400 };

/**
 * This client's network: a `ws` WebSocket whose connections the test can cut (as a lost
 * network would: no close frame) and whose way to some addresses it can block (a
 * connection there is refused), with every `Hello` it sent noted.
 */
function network() {
  const open = new Set();
  const blocked = new Set();
  const hellos = [];
  let refused = 0;
  class Socket extends WebSocket {
    constructor(url, protocols) {
      const cut = blocked.has(url);
      super(cut ? UNREACHABLE : url, protocols);
      if (cut) refused += 1;
      this.target = url;
      open.add(this);
      this.on("close", () => open.delete(this));
    }
    send(bytes) {
      const msg = unpack(bytes);
      if (msg.Hello) hellos.push({ url: this.target, ticket: msg.Hello.ticket != null });
      super.send(bytes);
    }
  }
  return {
    WebSocket: Socket,
    hellos,
    refused: () => refused,
    block: (url) => blocked.add(toWebSocketUrl(url)),
    unblock: (url) => blocked.delete(toWebSocketUrl(url)),
    /** Cuts every open connection, with no close frame (the client sees 1006). */
    cut() {
      for (const socket of open) socket.terminate();
    },
  };
}

/** Makes `client` play first-free-cell tic-tac-toe from now on, the current state included. */
function autoplay(client) {
  const play = (state) => {
    if (!state || state.over || state.to_move !== client.room?.seat || !client.isOpen) return;
    client.sendInput(tictactoe.encodeMove({ cell: state.board.indexOf(0) }));
  };
  trackBoard(client);
  client.on("state", ({ state }) => play(state));
  play(client.mirror.state);
}

/** The board of the latest state each client saw (its mirror is cleared when the room closes). */
const boards = new Map();
const boardOf = (client) => boards.get(client);
const trackBoard = (client) => client.on("state", ({ state }) => boards.set(client, state.board));

/** Every room event a client sees, in order. */
function recordEvents(client) {
  const events = [];
  client.on("event", (e) => events.push(e));
  return events;
}

/** `promise`, or a rejection naming `what` after `ms`. */
function within(promise, ms, what) {
  let timer;
  const timeout = new Promise((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out waiting for ${what}`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

const gameOver = (client) => client.next("event", (e) => e.event.type === "GameOver", WAIT);

/** Connects fresh clients (one per URL, with `options`), runs `body`, closes them. */
async function withClientsOn(urls, body, options = () => ({})) {
  const clients = urls.map((url, i) => clientOf(url, options(i)));
  try {
    await Promise.all(clients.map((c) => c.connect(WAIT)));
    return await body(...clients);
  } finally {
    for (const c of clients) c.close();
  }
}

/** Both clients ask for a tic-tac-toe match; resolves with their `roomJoined`s. */
async function quickMatch(a, b) {
  const joined = [a, b].map((c) => c.next("roomJoined", () => true, WAIT));
  a.findMatch("tictactoe");
  b.findMatch("tictactoe");
  return Promise.all(joined);
}

test("two SDK clients on different nodes quick-match and finish a game", { skip }, async () => {
  const [urlA, urlB] = clusterUrls;
  await withClientsOn([urlA, urlB], async (a, b) => {
    const events = [a, b].map(recordEvents);
    autoplay(a);
    autoplay(b);
    const overs = [a, b].map(gameOver);
    const [joinedA, joinedB] = await quickMatch(a, b);
    // One of them followed a Redirect to the other's node: both are there now.
    assert.equal(joinedA.room.room_id, joinedB.room.room_id);
    assert.deepEqual([joinedA.room.seat, joinedB.room.seat].sort(), [0, 1]);
    assert.ok(joinedA.room.matched && joinedB.room.matched);
    assert.equal(a.url, b.url, "both on the hosting node");
    const moved = [a, b].filter((c) => c.url !== c.entryUrl);
    assert.equal(moved.length, 1, "exactly one player was redirected");

    const [overA, overB] = await Promise.all(overs);
    // First free cell: X (seat 0) takes 0, 2, 4 and wins on the diagonal 2-4-6.
    assert.deepEqual(overA.event, { type: "GameOver", winner: 0, reason: "Win" });
    assert.deepEqual(overB.event, overA.event);
    assert.deepEqual(boardOf(a), boardOf(b));
    assert.deepEqual(
      events[0].map((e) => e.seq),
      events[1].map((e) => e.seq),
      "both saw the same log",
    );
  });
});

test("a player whose socket is cut reconnects through the other node and resumes there with nothing missed", { skip }, async () => {
  const [urlA, urlB] = clusterUrls;
  const nets = [network(), network()];
  await withClientsOn(
    [urlA, urlB],
    async (a, b) => {
      const events = new Map([a, b].map((c) => [c, recordEvents(c)]));
      await quickMatch(a, b);
      await until(() => a.mirror.state && b.mirror.state, "both players' first state");
      // The redirected player (P) lives on the other node (H) than its entry (E).
      const [p, q] = a.url !== a.entryUrl ? [a, b] : [b, a];
      const net = p === a ? nets[0] : nets[1];
      const home = p.url;
      const entry = p.entryUrl;
      assert.notEqual(home, entry);
      const seat = p.room.seat;
      const seenBefore = p.lastEventSeq;

      // P's network fails: the socket is cut and neither node can be reached for now.
      net.block(home);
      net.block(entry);
      const away = q.next("event", (e) => e.event.type === "PlayerDisconnected" && e.event.seat === seat, WAIT);
      net.cut();
      await until(() => net.refused() >= 2, "P tried its node and the entry");
      await away;

      // Meanwhile the game goes on: Q moves if it is its turn, and says something.
      if (q.mirror.state.to_move === q.room.seat) {
        q.sendInput(tictactoe.encodeMove({ cell: q.mirror.state.board.indexOf(0) }));
      }
      const said = q.next("event", (e) => e.event.type === "Chat", WAIT);
      q.chat("while you were away");
      await said;

      // The entry comes back first: it redirects P's resume home, which is reachable by
      // the time P follows the redirect.
      let redirects = 0;
      p.on("message", (msg) => {
        if (msg.type !== "Redirect") return;
        redirects += 1;
        net.unblock(home);
      });
      const resumed = p.next("welcome", () => true, WAIT);
      const back = p.next("roomJoined", () => true, WAIT);
      const hellosBefore = net.hellos.length;
      net.unblock(entry);
      const welcome = await resumed;
      assert.equal(welcome.resumed, true, "the same session, resumed");
      const joined = await back;
      assert.equal(joined.resumed, true);
      assert.equal(joined.room.seat, seat);
      assert.equal(redirects, 1);
      assert.equal(p.url, home);
      const hellos = net.hellos.slice(hellosBefore);
      assert.deepEqual(hellos, [
        { url: entry, ticket: false },
        { url: home, ticket: true },
      ], "through the entry, then home with the resume ticket");

      // Nothing missed: the events from while P was away came once each, in order.
      const overs = [p, q].map(gameOver);
      autoplay(p);
      autoplay(q);
      await Promise.all(overs);
      const seqs = events.get(p).map((e) => Number(e.seq));
      assert.deepEqual(seqs, seqs.map((_, i) => i + 1), "every seq once, none skipped");
      assert.deepEqual(
        events.get(p).map((e) => e.event),
        events.get(q).map((e) => e.event),
        "the same log as the player who stayed",
      );
      const missed = events.get(p).filter((e) => e.seq > seenBefore).map((e) => e.event.type);
      assert.ok(missed.includes("Chat"), `the chat from while away arrived: ${missed}`);
      assert.ok(missed.includes("PlayerReconnected"));
      assert.deepEqual(boardOf(p), boardOf(q));
    },
    (i) => ({ WebSocket: nets[i].WebSocket, reconnect: FAST }),
  );
});

test("join by code across nodes: a player and a spectator on the other node are sent to the room's node", { skip }, async () => {
  const [urlA, urlB] = clusterUrls;
  await withClientsOn([urlA, urlB, urlB], async (host, guest, watcher) => {
    const hostJoined = host.next("roomJoined", () => true, WAIT);
    host.createRoom("tictactoe", { allow_spectators: true });
    const { room } = await hostJoined;

    const guestJoined = guest.next("roomJoined", () => true, WAIT);
    guest.joinRoom(room.code);
    const asGuest = await guestJoined;
    assert.equal(asGuest.room.room_id, room.room_id);
    assert.equal(asGuest.room.seat, 1);
    assert.equal(asGuest.room.matched, false);
    assert.equal(guest.url, host.url, "moved to the room's node");
    assert.equal(guest.entryUrl, toWebSocketUrl(urlB));

    const watcherJoined = watcher.next("roomJoined", () => true, WAIT);
    watcher.joinRoom(room.code, true);
    const asWatcher = await watcherJoined;
    assert.equal(asWatcher.room.room_id, room.room_id);
    assert.equal(asWatcher.room.seat, null);
    assert.equal(watcher.url, host.url);

    const overs = [host, guest, watcher].map(gameOver);
    trackBoard(watcher);
    autoplay(host);
    autoplay(guest);
    const results = await Promise.all(overs);
    for (const { event } of results) {
      assert.deepEqual(event, { type: "GameOver", winner: 0, reason: "Win" });
    }
    assert.deepEqual(boardOf(watcher), boardOf(host));
  });
});

test("a redirected player who cannot reach the match's node: it queues again from its own node when the ticket expires, the match is called off, the other stays queued, and they play once the network heals", { skip }, async () => {
  const [urlA, urlB] = clusterUrls;
  const nets = [network(), network()];
  // Each client can reach its own node only, for now.
  nets[0].block(urlB);
  nets[1].block(urlA);
  await withClientsOn(
    [urlA, urlB],
    async (a, b) => {
      // One is placed in the room at once; the other is redirected and cannot get there.
      const first = new Promise((resolve) => {
        for (const c of [a, b]) c.on("roomJoined", () => resolve(c));
      });
      a.findMatch("tictactoe");
      b.findMatch("tictactoe");
      const placed = await within(first, WAIT, "a player in the room");
      const calledOff = placed.next("matchCalledOff", () => true, WAIT);
      const placedRoom = placed.room;
      const stuck = placed === a ? b : a;
      const stuckNet = stuck === a ? nets[0] : nets[1];
      // Once its ticket has expired (10 s) it gives it up: a new session through the
      // node it came from, queued again by itself.
      // Where it is is read as `Queued` arrives: a match found at once sends its
      // `MatchFound` or `Redirect` in the same write, handled before this test's next line.
      let stuckWhenQueued;
      const stuckQueued = stuck.next("queued", () => {
        if (stuckNet.refused() < 1) return false;
        stuckWhenQueued = { url: stuck.url, connection: stuck.connection };
        return true;
      }, 2 * WAIT);
      await until(() => stuckNet.refused() >= 1, "the redirected player tried the node");

      // The seat is held 12 s; then the placed player hears the match called off and is
      // queued again, still connected.
      const roomLeft = placed.next("roomLeft", () => true, WAIT);
      let placedWhenQueued;
      const queued = placed.next("queued", () => {
        placedWhenQueued = { room: placed.room, connection: placed.connection };
        return true;
      }, WAIT);
      const told = await calledOff;
      assert.equal(told.room.room_id, placedRoom.room_id);
      assert.equal(placedRoom.matched, true);
      assert.match(told.words, /called off/);
      await roomLeft;
      assert.equal(placed.queued, true);
      await queued;
      assert.equal(placedWhenQueued.connection, "open");
      assert.equal(placedWhenQueued.room, null);

      await stuckQueued;
      assert.equal(stuckWhenQueued.url, stuck.entryUrl, "back on the node it came in through");
      assert.equal(stuckWhenQueued.connection, "open");

      // The network heals: the two are matched (on either node) and play to the end.
      const overs = [a, b].map(gameOver);
      autoplay(a);
      autoplay(b);
      nets[0].unblock(urlB);
      nets[1].unblock(urlA);
      const [overA, overB] = await Promise.all(overs);
      assert.deepEqual(overA.event, { type: "GameOver", winner: 0, reason: "Win" });
      assert.deepEqual(overB.event, overA.event);
    },
    (i) => ({ WebSocket: nets[i].WebSocket, reconnect: FAST }),
  );
});

/**
 * Where `url`'s node says the session of `token` is: `"redirect"` (on another live node),
 * `"refused"` (unknown there), or the message type it answered. A `Hello` that is
 * redirected changes nothing: the ticket is not used, the token not rotated.
 */
async function lookUp(url, token) {
  const ws = new WebSocket(toWebSocketUrl(url), [MSGPACK_SUBPROTOCOL]);
  ws.binaryType = "arraybuffer";
  try {
    const answer = new Promise((resolve, reject) => {
      ws.onmessage = ({ data }) => resolve(decodeServerMsg(new Uint8Array(data)));
      ws.onerror = () => reject(new Error(`cannot reach ${url}`));
    });
    await new Promise((resolve, reject) => {
      ws.onopen = resolve;
      ws.onerror = () => reject(new Error(`cannot reach ${url}`));
    });
    ws.send(encodeClientMsg({
      type: "Hello", version: PROTOCOL_VERSION, resume_token: token, last_event_seq: 0n,
      auth_token: null, ticket: null,
    }));
    const msg = await within(answer, WAIT, `an answer from ${url}`);
    if (msg.type === "Redirect") return "redirect";
    if (msg.type === "Error" && msg.code === 40) return "refused";
    return msg.type;
  } finally {
    ws.terminate();
  }
}

test("the node holding a game is killed: its player, reconnecting through another node, hears NodeLost and can queue again", { skip: skip || (!mortal && "TICKSYNC_CLUSTER_MORTAL is not set") }, async () => {
  const [urlA, urlB] = clusterUrls;
  const [urlC, pid] = mortal;
  const store = memoryTokenStore();
  await withClientsOn(
    [urlC, urlA],
    async (host, guest) => {
      // The guest comes in through a and joins a room on c by code: its session lives on c.
      const hostJoined = host.next("roomJoined", () => true, WAIT);
      host.createRoom("tictactoe");
      const { room } = await hostJoined;
      const guestJoined = guest.next("roomJoined", () => true, WAIT);
      guest.joinRoom(room.code);
      assert.equal((await guestJoined).room.seat, 1);
      assert.equal(guest.url, toWebSocketUrl(urlC));
      await until(() => guest.mirror.state, "the guest's first state");
      // The other nodes know where the session is (within 0.2 s of its seat).
      await until(async () => (await lookUp(urlB, store.load())) === "redirect", "the session's home in the cluster");

      // c dies with no goodbye. The guest cannot reach it, asks a, and (once c's heartbeat
      // is 3 s old) hears that its node is gone: a new session, which carries on.
      const ended = guest.next("sessionEnded", () => true, WAIT);
      const tokenOnC = store.load();
      process.kill(Number(pid), "SIGKILL");
      const { nodeLost, lostRoom, reason } = await ended;
      assert.equal(nodeLost, true);
      assert.equal(lostRoom.code, room.code);
      assert.match(reason, /gone/);
      assert.equal(guest.room, null);
      assert.equal(guest.connection, "open");
      assert.equal(guest.url, toWebSocketUrl(urlA));
      assert.notEqual(store.load(), tokenOnC, "the new session's token");

      const queued = guest.next("queued", () => true, WAIT);
      guest.findMatch("tictactoe");
      await queued;
      guest.cancelMatch();
    },
    (i) => (i === 1 ? { store, reconnect: FAST } : { reconnect: false }),
  );
});
