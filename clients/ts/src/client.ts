/**
 * `TicksyncClient`: one player's connection to a ticksync server, kept alive across drops.
 *
 * It opens the WebSocket (MessagePack), sends `Hello` (resuming with the token from the
 * application's `TokenStore`), reconnects with backoff and jitter after a drop, and turns
 * server messages into typed events. Room events are de-duplicated by `seq`; game states
 * go through a `StateMirror` (full snapshots and deltas), which also decides what to
 * acknowledge: in every `Input`, and with `Ack` while idle.
 *
 * In a cluster it follows every `Redirect` by itself (PROTOCOL.md "Clusters: redirects and
 * seat tickets"): to a match's node, to the node of a room joined by code, and, when
 * resuming, to the session's node, keeping its token; a node that cannot be reached is
 * bypassed through the entry URL, which answers where the session is or `NodeLost`.
 *
 * Follows PROTOCOL.md "Flows". Every `u64` is a `bigint`.
 */

import { backoffDelay, type BackoffOptions } from "./backoff.js";
import { TickClock } from "./clock.js";
import { Emitter } from "./emitter.js";
import { arenaGame } from "./arena.js";
import { StateMirror, type GameAdapter } from "./mirror.js";
import {
  CloseCode,
  describeClose,
  describeError,
  ErrorCode,
  errorName,
  isAuthClose,
  SUBPROTOCOLS,
  PROTOCOL_VERSION,
  type ClientMsg,
  type RoomEvent,
  type RoomJoined,
  type RoomSettings,
  type RoomSummary,
  type ServerMsg,
} from "./protocol.js";
import { memoryTokenStore, type TokenStore } from "./store.js";
import { decodeView as decodeTicTacToeView } from "./tictactoe.js";
import { decodeServerMsg, encodeClientMsg, pack } from "./wire.js";

/** The subset of the WHATWG `WebSocket` the client uses (browsers, Node 22, `ws`). */
export interface WebSocketLike {
  binaryType: string;
  readonly readyState: number;
  readonly protocol: string;
  onopen: ((event: unknown) => void) | null;
  onmessage: ((event: { data: unknown }) => void) | null;
  onclose: ((event: { code: number; reason: string }) => void) | null;
  onerror: ((event: unknown) => void) | null;
  send(data: Uint8Array): void;
  close(code?: number, reason?: string): void;
}

/** A `WebSocket` constructor. */
export type WebSocketConstructor = new (url: string, protocols: string[]) => WebSocketLike;

const OPEN = 1;

/** The built-in games' adapters, by server game name. */
export const GAMES: Record<string, GameAdapter> = {
  tictactoe: { decodeState: decodeTicTacToeView },
  arena: arenaGame as GameAdapter,
};

export interface ClientOptions {
  /** The server: `ws://host:port/`, `wss://...`, or an `http(s)://` URL of it. */
  url: string;
  /** Where the resume token is kept (default: in memory). */
  store?: TokenStore;
  /** The WebSocket implementation (default: `globalThis.WebSocket`). */
  WebSocket?: WebSocketConstructor;
  /** Reconnect policy after a drop, or `false` never to reconnect. */
  reconnect?: BackoffOptions | false;
  /** Game adapters by name, added to (and overriding) `GAMES`. */
  games?: Record<string, GameAdapter>;
  /** Acknowledge states with `Ack` while no input carries the acknowledgement (default true). */
  autoAck?: boolean;
  /** Least time between two `Ack`s, in ms (default 100, as PROTOCOL.md suggests). */
  ackIntervalMs?: number;
  /**
   * The player's sign-in token (a JWT), for servers that require one: sent in every
   * `Hello` (PROTOCOL.md "Authentication"). A function is called before each connection,
   * so it can hand out a fresh token. Change it later with `setAuthToken`.
   */
  authToken?: AuthTokenSource;
}

/** A sign-in token, or a function giving the current one; `null` for none. */
export type AuthTokenSource = string | null | (() => string | null);

/** Where a seatless session was when its connection dropped: what to ask for again. */
type Rejoin =
  | { kind: "none" } // nothing known to ask for (a fresh client, or a session with a seat)
  | { kind: "idle" }
  | { kind: "watch"; room: RoomInfo }
  | { kind: "queue"; game: string; options: Uint8Array };

/**
 * A cluster's ticket for the next `Hello` (PROTOCOL.md "Clusters: redirects and seat
 * tickets"), good on the node at `url` only:
 * - `match`: quick match placed the match there (the seat is held for 12 s);
 * - `join`: `JoinRoom` named a room there (to play or to watch);
 * - `resume`: the session lives there (a `Redirect` before `Welcome`); sent with the same
 *   resume token and `last_event_seq`, good for one try.
 */
interface Ticket {
  kind: "match" | "join" | "resume";
  value: string;
  url: string;
  /** When the ticket stops being good (`now()` milliseconds): a ticket lasts 10 s. */
  expiresAt: number;
}

/** How long a ticket from `Redirect` is good for (PROTOCOL.md "Clusters"). */
const TICKET_LIFETIME_MS = 10_000;

/** The refusals a `FindMatch` can get (PROTOCOL.md "Refusals", "Clusters"). */
const FIND_MATCH_REFUSALS: ReadonlySet<number> = new Set([
  ErrorCode.ClusterUnavailable,
  ErrorCode.UnknownGame,
  ErrorCode.InvalidOptions,
  ErrorCode.AlreadyInRoom,
  ErrorCode.AlreadyQueued,
  ErrorCode.ServerBusy,
  ErrorCode.ShuttingDown,
]);

/** The refusals a `JoinRoom` can get (PROTOCOL.md "Refusals"). */
const JOIN_REFUSALS: ReadonlySet<number> = new Set([
  ErrorCode.RateLimited,
  ErrorCode.TooManyCodeGuesses,
  ErrorCode.UnknownRoomCode,
  ErrorCode.AlreadyInRoom,
  ErrorCode.AlreadyQueued,
  ErrorCode.SpectatorsNotAllowed,
  ErrorCode.ShuttingDown,
  ErrorCode.ServerBusy,
  ErrorCode.ClusterUnavailable,
]);

/** Where the connection stands. */
export type ConnectionState = "connecting" | "open" | "reconnecting" | "stopped";

/** A change of connection state, with the reason in words. */
export interface StatusEvent {
  state: ConnectionState;
  /** Why, in plain words (from the close code), for `reconnecting` and `stopped`. */
  reason?: string;
  /** The close code behind `reason`, for logs (not for players). */
  closeCode?: number;
  /** When `reconnecting`: the delay before the next attempt, in ms. */
  retryInMs?: number;
  /** When `reconnecting`: attempts since the last `Welcome`, counting this one. */
  attempt?: number;
}

/** The room the client is in, as the server last said. */
export interface RoomInfo extends RoomJoined {
  /** `true` if quick match placed the client here (`MatchFound`). */
  matched: boolean;
}

/** A state the mirror now holds. */
export interface StateEvent {
  tick: bigint;
  /** The last input `seq` of this client the server had processed. */
  input_seq: number;
  /** The decoded state (the game adapter's type; raw bytes for an unknown game). */
  state: unknown;
  /** `true` for a `Snapshot`, `false` for a `Delta`. */
  full: boolean;
}

/** A refused request or input. */
export interface ErrorEvent {
  code: number;
  /** The code's name, e.g. `NotYourTurn`. */
  name: string;
  /** What it means, in words for a player. */
  words: string;
  /** The server's own text (not stable). */
  message: string;
  input_seq: number | null;
}

/** Every event a `TicksyncClient` emits, with its payload. */
export interface ClientEvents {
  /** Every server message, decoded, before the specific events below. */
  message: ServerMsg;
  status: StatusEvent;
  /**
   * `redirect`: the kind of cluster `Redirect` this connection followed, or `null`:
   * `"match"` (a quick match's reserved seat: `resumed` is `true`, but the session is new
   * to the player), `"join"` (a room joined by code), `"resume"` (the session's node).
   */
  welcome: {
    session_id: bigint;
    resumed: boolean;
    tick_hz: number;
    redirect: "match" | "join" | "resume" | null;
  };
  /**
   * The server refused the resume token: it restarted, or the session was away longer
   * than the reconnect grace. `lostRoom` is the room the client thought it was in. A new
   * session starts at once.
   *
   * Not emitted after the drop of a session without a seat (idle, queued or watching):
   * the server ends those with their connection (PROTOCOL.md "Leaving, dropping,
   * resuming"), so the client starts a new session and asks again for what it had: the
   * same room as a spectator (`roomJoined` with `resumed: true`; `roomLeft` if the room
   * is gone), or the same queue.
   *
   * In a cluster, `nodeLost` is `true` when the session's node left the cluster (killed,
   * cut off or draining; `Error NodeLost` after `Welcome { resumed: false }`): its game is
   * gone. The new session is already open; queue again.
   */
  sessionEnded: { reason: string; lostRoom: RoomInfo | null; nodeLost: boolean };
  /**
   * A quick match across a cluster was called off before it started (a player did not
   * take their seat in time, or left while the room waited): no game was played and
   * nothing recorded. The server queued this client again for the same game and options:
   * `roomLeft` follows (when it was in the room), then `queued`; `client.queued` is
   * `true` from `roomLeft` on. Also emitted (with `room` null) when the seat a `Redirect`
   * sent this client to was no longer held (`ReservationExpired`): the client queues
   * again by itself, as it does after a refused seat ticket (an `error` says why).
   */
  matchCalledOff: { room: RoomInfo | null; words: string; message: string };
  /**
   * The server is shutting down (`ServerShutdown`). The client reconnects after the
   * connection closes, no sooner than `retry_after_ms`.
   */
  serverShutdown: { retry_after_ms: number; drain_ms: number };
  queued: { game: string; position: number; queue_size: number };
  matchCancelled: { game: string };
  /**
   * Entered a room; `resumed` when it is the room the client was already in, or the room
   * of the session it resumed (a new client after a page reload).
   */
  roomJoined: { room: RoomInfo; resumed: boolean };
  roomLeft: { room_id: bigint; room: RoomInfo | null };
  /** A room event not seen before (replayed ones included, once each). */
  event: { seq: bigint; tick: bigint; event: RoomEvent };
  /**
   * An event the room's game emitted, not seen before (replayed ones included, once
   * each); `data` is MessagePack-encoded (a relay room's: `decodeInputFrame`).
   */
  gameEvent: { seq: bigint; tick: bigint; data: Uint8Array };
  state: StateEvent;
  error: ErrorEvent;
  roomList: RoomSummary[];
  pong: { nonce: bigint; rttMs: number };
}

/** A request made while the connection is not open. */
export class NotConnectedError extends Error {
  constructor() {
    super("not connected to the server");
    this.name = "NotConnectedError";
  }
}

export class TicksyncClient extends Emitter<ClientEvents> {
  /**
   * The address the application gave (`options.url`): one server, a cluster's node, or a
   * load balancer in front of a cluster.
   */
  readonly entryUrl: string;
  /**
   * The server this client connects to: `entryUrl`, or the node of a cluster a `Redirect`
   * moved the session to (the node that last welcomed it). When it cannot be reached, every
   * other reconnect attempt goes through `entryUrl`, which redirects the resume to the
   * session's node or, if that node is gone, answers `NodeLost`.
   */
  url: string;
  private readonly store: TokenStore;
  private readonly WS: WebSocketConstructor;
  private readonly games: Record<string, GameAdapter>;
  private readonly autoAck: boolean;
  private readonly ackIntervalMs: number;
  private readonly reconnectOptions: BackoffOptions | false;
  private authToken: AuthTokenSource;

  private ws: WebSocketLike | null = null;
  private attempts = 0;
  private retryTimer: ReturnType<typeof setTimeout> | null = null;
  private ackTimer: ReturnType<typeof setTimeout> | null = null;
  private lastAckAt = -Infinity;
  private ackedTick = 0n;
  private nonce = 0n;
  /**
   * After a `Welcome { resumed: true }`, until a room message arrives or the client asks for
   * a room: a `RoomJoined` then is the resumed session's room. (It comes from the room's
   * tick, so other answers can arrive between.)
   */
  private resuming = false;
  private pings = new Map<bigint, number>();
  /** What a seatless session had when its connection dropped, to ask for it again. */
  private rejoin: Rejoin = { kind: "none" };
  /** While the rejoin's `JoinRoom` is unanswered: the room being watched again. */
  private rewatching: RoomInfo | null = null;
  /** While the rejoin's `FindMatch` is unanswered. */
  private requeueing = false;
  /** `retry_after_ms` of a `ServerShutdown` on this connection, or `null`. */
  private shutdownRetryMs: number | null = null;
  /** Whether the server's operator ended this session (`Error Kicked`). */
  private kicked = false;
  /** A cluster's ticket for the next `Hello` to its node (after a `Redirect`). */
  private ticket: Ticket | null = null;
  /** The ticket the current connection's `Hello` carried. */
  private sentTicket: Ticket | null = null;
  /** The URL the current connection was opened to. */
  private wsUrl: string;
  /** Whether the current connection has had its `Welcome`. */
  private connWelcomed = false;
  /** Closing the old connection to follow a `Redirect`. */
  private redirecting = false;
  /** Welcomed with a match ticket: the next `RoomJoined` is the match's reserved seat. */
  private redirected = false;
  /** After `Error MatchCalledOff`, until its `RoomLeft`. */
  private calledOff = false;
  /**
   * The room a resume held, when a `Welcome { resumed: false }` answered it: `Error
   * NodeLost` may follow, reporting it lost.
   */
  private unresumedRoom: RoomInfo | null = null;
  /** The room being watched again when a `Redirect` sent its `JoinRoom` to another node. */
  private redirectRewatch: RoomInfo | null = null;
  /** A match ticket's seat was gone: the re-queue is under way, `ReservationExpired` is expected. */
  private requeuedAfterTicket = false;

  /** Where the connection stands. */
  connection: ConnectionState = "stopped";
  /** This session's id, from the latest `Welcome`. */
  sessionId: bigint | null = null;
  /** The server's tick rate. */
  tickHz = 30;
  /** The room the client is in, or `null`. */
  room: RoomInfo | null = null;
  /** Whether the client is in the quick-match queue. */
  queued = false;
  /** The game of the latest `Queued`. */
  private queuedFor: string | null = null;
  /** The options of the last `findMatch`, to queue with again after a drop. */
  private queuedOptions: Uint8Array = new Uint8Array();
  /** The highest room event `seq` seen in the current room (sent in `Hello`). */
  lastEventSeq = 0n;
  /** The last `Input.seq` sent, or processed by the server (whichever is higher). */
  inputSeq = 0;
  private currentMirror: StateMirror = new StateMirror({ decodeState: (bytes) => bytes });
  /** The server's tick, estimated from the states received. */
  readonly clock: TickClock;
  /** Bytes and messages received, since the client was made. */
  readonly received = { bytes: 0, messages: 0 };

  constructor(options: ClientOptions) {
    super();
    this.url = toWebSocketUrl(options.url);
    this.entryUrl = this.url;
    this.wsUrl = this.url;
    this.store = options.store ?? memoryTokenStore();
    const WS = options.WebSocket ?? (globalThis as { WebSocket?: WebSocketConstructor }).WebSocket;
    if (!WS) throw new Error("no WebSocket: pass options.WebSocket (e.g. the ws package)");
    this.WS = WS;
    this.games = { ...GAMES, ...options.games };
    this.autoAck = options.autoAck ?? true;
    this.ackIntervalMs = options.ackIntervalMs ?? 100;
    this.reconnectOptions = options.reconnect ?? {};
    this.authToken = options.authToken ?? null;
    this.clock = new TickClock(this.tickHz);
  }

  /** The states of the current room (its adapter follows the room's game). */
  get mirror(): StateMirror {
    return this.currentMirror;
  }

  // -------------------------------------------------------------------------------------
  // Connection
  // -------------------------------------------------------------------------------------

  /** Opens the connection (and keeps it open); resolves on the first `Welcome`. */
  connect(timeoutMs = 10_000): Promise<ClientEvents["welcome"]> {
    const welcome = this.next("welcome", () => true, timeoutMs);
    if (this.connection === "stopped") this.open();
    return welcome;
  }

  /** Closes with 1000, which ends the session at once (a player in a game forfeits). */
  close(): void {
    this.stop("You closed the connection.", CloseCode.NORMAL);
    this.store.clear();
    this.ticket = null;
    this.url = this.entryUrl; // the session is over: the next one starts at the entry
  }

  /**
   * Closes the socket without ending the session (code 3000), as a network failure
   * would; the client then reconnects and resumes by its policy.
   */
  drop(): void {
    this.ws?.close(3000, "drop");
  }

  /**
   * Sets the sign-in token (or a function giving it) for the next `Hello`s; the current
   * connection keeps its identity. Pass `null` for none.
   */
  setAuthToken(token: AuthTokenSource): void {
    this.authToken = token;
  }

  /** Whether messages can be sent now (`Welcome` received on this connection). */
  get isOpen(): boolean {
    return this.connection === "open" && this.ws?.readyState === OPEN;
  }

  /**
   * Where the next connection goes: a ticket's node; else the session's node (`url`) on
   * the first attempts and every other one after, the entry on the others (a node that
   * cannot be reached may be gone: the entry knows where the session is now).
   */
  private target(): { url: string; ticket: Ticket | null } {
    if (this.ticket) return { url: this.ticket.url, ticket: this.ticket };
    const viaEntry = this.attempts >= 2 && this.attempts % 2 === 0;
    return { url: viaEntry ? this.entryUrl : this.url, ticket: null };
  }

  private open(): void {
    this.clearTimers();
    const { url, ticket } = this.target();
    const ws = new this.WS(url, [...SUBPROTOCOLS]);
    ws.binaryType = "arraybuffer";
    this.ws = ws;
    this.wsUrl = url;
    this.sentTicket = ticket;
    this.connWelcomed = false;
    this.setStatus({ state: this.attempts ? "reconnecting" : "connecting", attempt: this.attempts });
    ws.onopen = () => {
      if (ws !== this.ws) return;
      this.ackedTick = 0n; // acknowledgements count per connection
      this.clock.reset();
      const auth = typeof this.authToken === "function" ? this.authToken() : this.authToken;
      this.sendRaw({
        type: "Hello",
        version: PROTOCOL_VERSION,
        resume_token: this.store.load(),
        last_event_seq: this.lastEventSeq,
        auth_token: auth ?? null,
        ticket: ticket?.value ?? null,
      });
    };
    ws.onmessage = ({ data }) => {
      if (ws === this.ws) this.receive(data);
    };
    ws.onerror = () => {
      // Always followed by onclose, which decides what to do.
    };
    ws.onclose = ({ code }) => {
      if (ws === this.ws) this.closed(code);
    };
  }

  private closed(code: number): void {
    this.ws = null;
    this.clearTimers();
    const wasQueued = this.queued;
    this.queued = false; // a dropped connection leaves the quick-match queue
    this.requeueing = false;
    this.pings.clear();
    const shutdownRetryMs = this.shutdownRetryMs;
    this.shutdownRetryMs = null;
    const reason = describeClose(code);
    if (this.connection === "stopped") return;
    if (this.redirecting) {
      // Following a cluster's Redirect: straight to the new node with the ticket. A
      // redirect after `Welcome` (a match or join placed there) starts afresh; one before
      // it (a resume or sign-in sent to the session's node) is part of this reconnect, so
      // its attempts keep counting: a node that cannot be reached cannot keep the client
      // bouncing between it and the entry without backoff or end.
      this.redirecting = false;
      if (this.connWelcomed) this.attempts = 0;
      this.open();
      return;
    }
    const sent = this.connWelcomed ? null : this.sentTicket;
    if (sent?.kind === "resume") {
      // A resume ticket is good for one try: the next attempt asks where the session is
      // again (or resumes on its node directly), with the same token.
      this.ticket = null;
    }
    if (code === CloseCode.TICKET_REFUSED && sent && sent.kind !== "resume") {
      // The seat or join ticket is spent or refused (its Error came first): a new session
      // on that node, queued again when the ticket was a match's.
      this.ticket = null;
      this.url = sent.url;
      this.store.clear();
      if (sent.kind === "match" && this.queuedFor) {
        this.rejoin = { kind: "queue", game: this.queuedFor, options: this.queuedOptions };
      }
      this.attempts = 0;
      this.open();
      return;
    }
    if (sent && sent.kind !== "resume" && this.ticket === sent && now() >= sent.expiresAt) {
      // The seat or join ticket's node could not be reached while the ticket lasted:
      // give it up and start again through the entry (a new session), queued again when
      // it was a match's (PROTOCOL.md: retries must not all go to that node).
      this.ticket = null;
      this.url = this.entryUrl;
      this.store.clear();
      if (sent.kind === "match" && this.queuedFor) {
        this.rejoin = { kind: "queue", game: this.queuedFor, options: this.queuedOptions };
      }
    }
    if (this.kicked || code === CloseCode.KICKED) {
      // The operator ended the session and its token: never reconnect on our own.
      this.kicked = false;
      this.store.clear();
      this.leaveRoomState();
      this.stop(describeClose(CloseCode.KICKED), code);
      return;
    }
    if (
      code === CloseCode.SESSION_TAKEN_OVER ||
      code === CloseCode.UNSUPPORTED_VERSION ||
      code === CloseCode.TOO_MANY_CODE_GUESSES ||
      isAuthClose(code) // the same token would be refused again: sign in anew, then connect()
    ) {
      this.stop(reason, code);
      return;
    }
    if (code === CloseCode.INVALID_RESUME_TOKEN) {
      if (this.rejoin.kind === "none") this.endSession(reason);
      else this.store.clear(); // a seatless session: nothing was lost that we cannot ask for again
      this.attempts = 0;
      this.open(); // a new session, right away
      return;
    }
    if (this.connWelcomed && this.room?.seat == null) {
      // Only a seat outlives its connection: this session is over on the server (its
      // token will be refused). Remember what it had, to ask for it again.
      this.rejoin = this.room
        ? { kind: "watch", room: this.room }
        : wasQueued && this.queuedFor
          ? { kind: "queue", game: this.queuedFor, options: this.queuedOptions }
          : { kind: "idle" };
    }
    const policy = this.reconnectOptions;
    if (policy === false || this.attempts >= (policy.maxAttempts ?? Infinity)) {
      this.stop(reason, code);
      return;
    }
    // After ServerShutdown, no sooner than the server asked.
    const delay = Math.max(backoffDelay(this.attempts, policy), shutdownRetryMs ?? 0);
    this.attempts += 1;
    this.setStatus({
      state: "reconnecting",
      reason,
      closeCode: code,
      retryInMs: delay,
      attempt: this.attempts,
    });
    this.retryTimer = setTimeout(() => this.open(), delay);
  }

  private stop(reason: string, code: number): void {
    const ws = this.ws;
    this.ws = null;
    this.clearTimers();
    this.queued = false;
    this.requeueing = false;
    this.rejoin = { kind: "none" };
    this.rewatching = null;
    this.shutdownRetryMs = null;
    this.kicked = false;
    this.setStatus({ state: "stopped", reason, closeCode: code });
    if (ws && ws.readyState <= OPEN) ws.close(CloseCode.NORMAL);
  }

  /** The server no longer knows this session: forget it and everything tied to it. */
  private endSession(reason: string): void {
    const lostRoom = this.room;
    this.store.clear();
    this.leaveRoomState();
    this.emit("sessionEnded", { reason, lostRoom, nodeLost: false });
  }

  private clearTimers(): void {
    if (this.retryTimer) clearTimeout(this.retryTimer);
    if (this.ackTimer) clearTimeout(this.ackTimer);
    this.retryTimer = null;
    this.ackTimer = null;
  }

  private setStatus(status: StatusEvent): void {
    this.connection = status.state;
    this.emit("status", status);
  }

  // -------------------------------------------------------------------------------------
  // Receiving
  // -------------------------------------------------------------------------------------

  private receive(data: unknown): void {
    const bytes = toBytes(data);
    if (!bytes) return; // not a binary frame: the server sends none
    this.received.bytes += bytes.byteLength;
    this.received.messages += 1;
    let msg: ServerMsg | null;
    try {
      msg = decodeServerMsg(bytes);
    } catch (error) {
      this.emit("error", {
        code: 0,
        name: "Undecodable",
        words: "A message from the server could not be read.",
        message: (error as Error).message,
        input_seq: null,
      });
      return;
    }
    if (msg == null) return; // a variant from a newer server: skipped
    this.emit("message", msg);
    this.handle(msg);
  }

  private handle(msg: ServerMsg): void {
    switch (msg.type) {
      case "Welcome": {
        this.store.save(msg.resume_token); // rotates on every resume: first thing
        const sent = this.sentTicket;
        this.redirected = sent?.kind === "match" && msg.resumed;
        this.ticket = null;
        this.connWelcomed = true;
        this.url = this.wsUrl; // the node that holds the session now
        this.attempts = 0;
        this.unresumedRoom = !msg.resumed && this.rejoin.kind === "none" ? this.room : null;
        this.requeuedAfterTicket = false;
        if (sent?.kind === "match" && !msg.resumed && this.queuedFor) {
          // The seat is no longer held (`ReservationExpired` follows): queue again.
          this.rejoin = { kind: "queue", game: this.queuedFor, options: this.queuedOptions };
          this.requeuedAfterTicket = true;
        }
        this.sessionId = msg.session_id;
        this.tickHz = msg.tick_hz;
        this.clock.tickHz = msg.tick_hz;
        this.queued = false;
        this.requeueing = false;
        const rejoin = msg.resumed ? { kind: "none" as const } : this.rejoin;
        this.rejoin = { kind: "none" };
        this.rewatching = null;
        const joining = sent?.kind === "join" ? this.redirectRewatch : null;
        this.redirectRewatch = null;
        if (rejoin.kind === "watch") {
          // Keep the room (and its event seqs: the join replays the log from seq 1, and
          // what was seen is skipped) while asking for it again as a spectator.
          this.rewatching = rejoin.room;
        } else if (joining) {
          this.rewatching = joining; // the join ticket asks for it on this node
        } else if (!msg.resumed) {
          this.leaveRoomState();
        }
        this.resuming = msg.resumed;
        this.setStatus({ state: "open" });
        if (rejoin.kind === "watch") {
          this.sendRaw({ type: "JoinRoom", code: rejoin.room.code, spectate: true });
        } else if (rejoin.kind === "queue") {
          // Counted as queued already, so the application does not queue a second time.
          this.sendRaw({ type: "FindMatch", game: rejoin.game, options: rejoin.options });
          this.queued = true;
          this.requeueing = true;
        }
        this.emit("welcome", {
          session_id: msg.session_id,
          resumed: msg.resumed,
          tick_hz: msg.tick_hz,
          redirect: sent?.kind ?? null,
        });
        return;
      }
      case "ServerShutdown":
        this.shutdownRetryMs = msg.retry_after_ms;
        this.emit("serverShutdown", {
          retry_after_ms: msg.retry_after_ms,
          drain_ms: msg.drain_ms,
        });
        return;
      case "Pong": {
        const sent = this.pings.get(msg.nonce);
        this.pings.delete(msg.nonce);
        if (sent !== undefined) this.emit("pong", { nonce: msg.nonce, rttMs: now() - sent });
        return;
      }
      case "Queued":
        this.calledOff = false;
        this.queued = true;
        this.requeueing = false;
        this.queuedFor = msg.game;
        this.emit("queued", { game: msg.game, position: msg.position, queue_size: msg.queue_size });
        return;
      case "MatchCancelled":
        this.queued = false;
        this.emit("matchCancelled", { game: msg.game });
        return;
      case "MatchFound":
      case "RoomJoined": {
        const { type, ...joined } = msg;
        this.calledOff = false;
        this.queued = false;
        this.requeueing = false;
        // The room the client was in, or (for a client made after a reload) the room the
        // resumed session is in.
        const redirected = this.redirected && type === "RoomJoined";
        this.redirected = false;
        const same = !redirected && this.room != null && this.room.room_id === joined.room_id;
        const resumed = !redirected && (same || (this.resuming && type === "RoomJoined"));
        this.resuming = false;
        this.rewatching = null;
        if (!same) {
          // A new room: its event seqs start at 1 and input seqs over.
          this.lastEventSeq = 0n;
          this.inputSeq = 0;
        }
        // States from before this join are never a base again (PROTOCOL.md).
        this.mirror.clear();
        const matched =
          redirected || type === "MatchFound" || (same && (this.room?.matched ?? false));
        this.room = { ...joined, matched };
        this.emit("roomJoined", { room: this.room, resumed });
        return;
      }
      case "RoomLeft": {
        this.resuming = false;
        this.rewatching = null;
        const room = this.room;
        this.leaveRoomState();
        if (this.calledOff) {
          // The server queued this client again (`Queued` follows, or `ClusterUnavailable`).
          this.calledOff = false;
          this.queued = true;
          this.requeueing = true;
          if (room) this.queuedFor = room.game;
        }
        this.emit("roomLeft", { room_id: msg.room_id, room });
        return;
      }
      case "Snapshot":
      case "Delta":
        this.onState(msg);
        return;
      case "Event":
        if (msg.seq <= this.lastEventSeq) return; // already seen (a replay)
        this.lastEventSeq = msg.seq;
        this.emit("event", { seq: msg.seq, tick: msg.tick, event: msg.event });
        return;
      case "GameEvent":
        if (msg.seq <= this.lastEventSeq) return; // already seen (a replay)
        this.lastEventSeq = msg.seq;
        this.emit("gameEvent", { seq: msg.seq, tick: msg.tick, data: msg.data });
        return;
      case "Error":
        if (msg.code === ErrorCode.InvalidResumeToken) {
          // The server closes with 4005 next; the close starts the new session.
          return;
        }
        if (msg.code === ErrorCode.MatchCalledOff && msg.input_seq == null) {
          this.calledOff = true;
          this.emit("matchCalledOff", {
            room: this.room,
            words: describeError(msg.code),
            message: msg.message,
          });
          return;
        }
        if (
          msg.input_seq == null &&
          this.requeuedAfterTicket &&
          msg.code === ErrorCode.ReservationExpired
        ) {
          // The seat a Redirect sent us to is gone; the client is queueing again already.
          this.requeuedAfterTicket = false;
          this.emit("matchCalledOff", {
            room: null,
            words: describeError(ErrorCode.MatchCalledOff),
            message: msg.message,
          });
          return;
        }
        if (msg.code === ErrorCode.NodeLost && msg.input_seq == null) {
          // After `Welcome { resumed: false }`: the session's node left the cluster, and its
          // rooms with it. This is a new session (its token is saved); queue again.
          const lostRoom = this.unresumedRoom;
          this.unresumedRoom = null;
          this.emit("sessionEnded", { reason: describeError(msg.code), lostRoom, nodeLost: true });
          return;
        }
        if (this.rewatching && msg.input_seq == null && JOIN_REFUSALS.has(msg.code)) {
          // The room watched before the drop cannot be watched again (it ended, ...).
          const room = this.room;
          this.rewatching = null;
          this.leaveRoomState();
          if (room) this.emit("roomLeft", { room_id: room.room_id, room });
          return;
        }
        if (msg.code === ErrorCode.Kicked) this.kicked = true; // close 4040 follows
        if (this.requeueing && msg.input_seq == null && FIND_MATCH_REFUSALS.has(msg.code)) {
          this.requeueing = false; // the queue was not joined again
          this.queued = false;
        }

        this.emit("error", {
          code: msg.code,
          name: errorName(msg.code),
          words: describeError(msg.code),
          message: msg.message,
          input_seq: msg.input_seq,
        });
        return;
      case "RoomList":
        this.emit("roomList", msg.rooms);
        return;
      case "Redirect": {
        // A cluster sends this client to another node (PROTOCOL.md "Clusters"): close this
        // connection and open one to `url` with the ticket.
        let url: string;
        try {
          url = toWebSocketUrl(msg.url);
        } catch (error) {
          this.emit("error", {
            code: 0,
            name: "Undecodable",
            words: "The server sent this client to an address it could not read.",
            message: (error as Error).message,
            input_seq: null,
          });
          return;
        }
        if (!this.connWelcomed) {
          // Before `Welcome`: the resume token's session lives there. Send the same Hello
          // (token, last_event_seq) with the resume ticket; the token rotates there as on
          // any resume. Followed once per connection: a second redirect is not followed,
          // and the close (4052) that follows it reconnects with backoff.
          if (this.sentTicket?.kind === "resume") return;
          this.ticket = {
            kind: "resume",
            value: msg.ticket,
            url,
            expiresAt: now() + TICKET_LIFETIME_MS,
          };
        } else {
          // After `Welcome`: a match placed there (seat ticket, `Welcome { resumed: true }`
          // and the reserved seat), or `JoinRoom` named a room there (join ticket, a new
          // session, then the join's answer). The session here holds no seat and ends with
          // this connection (closed with 1000): its token is dead.
          this.ticket = {
            kind: this.queued ? "match" : "join",
            value: msg.ticket,
            url,
            expiresAt: now() + TICKET_LIFETIME_MS,
          };
          this.store.clear();
          this.queued = false;
          this.requeueing = false;
          // Watching again after a drop, and the room is there: keep it while joining.
          this.redirectRewatch = this.rewatching;
        }
        this.url = url;
        this.redirecting = true;
        this.ws?.close(CloseCode.NORMAL, "redirect");
        return;
      }
    }
  }

  private onState(msg: Extract<ServerMsg, { type: "Snapshot" | "Delta" }>): void {
    const game = this.room ? this.games[this.room.game] : undefined;
    const mirror = this.mirrorFor(game);
    let state: unknown;
    try {
      state =
        msg.type === "Snapshot"
          ? mirror.applySnapshot(msg.tick, msg.state)
          : mirror.applyDelta(msg.tick, msg.base_tick, msg.delta);
    } catch (error) {
      this.emit("error", {
        code: 0,
        name: "Undecodable",
        words: "A game state from the server could not be read.",
        message: (error as Error).message,
        input_seq: msg.input_seq,
      });
      return;
    }
    this.clock.observe(msg.tick);
    // After a resume the server remembers our last seq: continue above it, or the next
    // inputs would be ignored as duplicates.
    this.inputSeq = Math.max(this.inputSeq, msg.input_seq);
    this.emit("state", {
      tick: msg.tick,
      input_seq: msg.input_seq,
      state,
      full: msg.type === "Snapshot",
    });
    if (this.autoAck && game?.applyDelta) this.scheduleAck();
  }

  private mirrorFor(game: GameAdapter | undefined): StateMirror {
    const adapter = game ?? { decodeState: (bytes: Uint8Array) => bytes };
    if (this.currentMirror.game.decodeState !== adapter.decodeState) {
      this.currentMirror = new StateMirror(adapter);
    }
    return this.currentMirror;
  }

  private scheduleAck(): void {
    if (this.ackTimer) return;
    const wait = Math.max(0, this.lastAckAt + this.ackIntervalMs - now());
    this.ackTimer = setTimeout(() => {
      this.ackTimer = null;
      this.ack();
    }, wait);
  }

  private leaveRoomState(): void {
    this.room = null;
    this.lastEventSeq = 0n;
    this.inputSeq = 0;
    this.mirror.clear();
  }

  // -------------------------------------------------------------------------------------
  // Requests
  // -------------------------------------------------------------------------------------

  private sendRaw(msg: ClientMsg): void {
    if (this.ws?.readyState !== OPEN) throw new NotConnectedError();
    this.ws.send(encodeClientMsg(msg));
  }

  /** Sends a message; throws `NotConnectedError` before `Welcome` or while reconnecting. */
  send(msg: ClientMsg): void {
    if (!this.isOpen) throw new NotConnectedError();
    if (msg.type === "FindMatch" || msg.type === "CreateRoom" || msg.type === "JoinRoom") {
      this.resuming = false; // the next room is the one asked for
    }
    this.sendRaw(msg);
  }

  /**
   * Joins the quick-match queue for `game`, with the game's room options (MessagePack, e.g.
   * `tictactoe.encodeOptions`; empty for the defaults): players are matched only with
   * players who asked for the same options.
   */
  findMatch(game: string, options: Uint8Array = new Uint8Array()): void {
    this.queuedOptions = options;
    this.send({ type: "FindMatch", game, options });
  }

  /** Leaves the quick-match queue. */
  cancelMatch(): void {
    this.send({ type: "CancelMatch" });
  }

  /** Creates a private room; the client takes seat 0 and gets its code in `roomJoined`. */
  createRoom(game: string, settings: Partial<RoomSettings> = {}): void {
    this.send({
      type: "CreateRoom",
      game,
      settings: {
        allow_spectators: settings.allow_spectators ?? false,
        relay: settings.relay ?? false,
        ranked: settings.ranked ?? false,
        options: settings.options ?? new Uint8Array(),
      },
    });
  }

  /** Joins a room by code, as a player or (`spectate`) a spectator. */
  joinRoom(code: string, spectate = false): void {
    this.send({ type: "JoinRoom", code: code.trim().toUpperCase(), spectate });
  }

  /** Leaves the room (a player in a running game forfeits). */
  leaveRoom(): void {
    this.send({ type: "LeaveRoom" });
  }

  /** Says something to everyone in the room (1 to 200 characters). */
  chat(text: string): void {
    this.send({ type: "Chat", text });
  }

  /** The room directory's first page (up to 100 open rooms, oldest first). */
  listRooms(timeoutMs = 10_000): Promise<RoomSummary[]> {
    const list = this.next("roomList", () => true, timeoutMs);
    this.send({ type: "ListRooms" });
    return list;
  }

  /**
   * One page of the room directory: up to `limit` (at most 100) rooms whose `room_id` is
   * above `after` (0 for the first page; else the last `room_id` of the previous page).
   * A page shorter than `limit` is the last.
   */
  listRoomsAfter(after: bigint, limit = 100, timeoutMs = 10_000): Promise<RoomSummary[]> {
    const list = this.next("roomList", () => true, timeoutMs);
    this.send({ type: "ListRoomsAfter", after, limit });
    return list;
  }

  /** Measures one round trip with `Ping`; resolves with milliseconds. */
  ping(timeoutMs = 10_000): Promise<number> {
    this.nonce += 1n;
    const nonce = this.nonce;
    const pong = this.next("pong", (p) => p.nonce === nonce, timeoutMs);
    this.pings.set(nonce, now());
    this.send({ type: "Ping", nonce });
    return pong.then((p) => p.rttMs);
  }

  /**
   * Sends one game input (already encoded with the game's codec, e.g. `encodeMove`),
   * acknowledging the newest state held. Returns the input's `seq`.
   */
  sendInput(data: Uint8Array): number {
    if (!this.isOpen) throw new NotConnectedError();
    const seq = this.inputSeq + 1;
    const ackTick = this.mirror.tick ?? 0n;
    this.send({ type: "Input", seq, ack_tick: ackTick, data });
    this.inputSeq = seq;
    this.noteAck(ackTick);
    return seq;
  }

  /** Sends any value as a game input, MessagePack-encoded. */
  sendGameInput(value: unknown): number {
    return this.sendInput(pack(value));
  }

  /** Acknowledges the newest state held, if it is newer than the last acknowledged. */
  ack(): void {
    const tick = this.mirror.tick;
    if (tick == null || tick <= this.ackedTick || !this.isOpen) return;
    this.send({ type: "Ack", tick });
    this.noteAck(tick);
  }

  private noteAck(tick: bigint): void {
    if (tick > this.ackedTick) this.ackedTick = tick;
    this.lastAckAt = now();
  }
}

function now(): number {
  return typeof performance !== "undefined" ? performance.now() : Date.now();
}

/** A received frame's bytes: ArrayBuffer (browsers, `ws` with arraybuffer), views, Buffers. */
function toBytes(data: unknown): Uint8Array | null {
  if (data instanceof ArrayBuffer) return new Uint8Array(data);
  if (ArrayBuffer.isView(data)) return new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
  return null;
}

/** `http://h:p/x` → `ws://h:p/x`; a `ws(s)://` URL is kept. */
export function toWebSocketUrl(url: string): string {
  const parsed = new URL(url);
  if (parsed.protocol === "http:") parsed.protocol = "ws:";
  else if (parsed.protocol === "https:") parsed.protocol = "wss:";
  return parsed.toString();
}
