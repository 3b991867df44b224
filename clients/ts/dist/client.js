/**
 * `TicksyncClient`: one player's connection to a ticksync server, kept alive across drops.
 *
 * It opens the WebSocket (MessagePack), sends `Hello` (resuming with the token from the
 * application's `TokenStore`), reconnects with backoff and jitter after a drop, and turns
 * server messages into typed events. Room events are de-duplicated by `seq`; game states
 * go through a `StateMirror` (full snapshots and deltas), which also decides what to
 * acknowledge: in every `Input`, and with `Ack` while idle.
 *
 * Follows PROTOCOL.md "Flows". Every `u64` is a `bigint`.
 */
import { backoffDelay } from "./backoff.js";
import { TickClock } from "./clock.js";
import { Emitter } from "./emitter.js";
import { arenaGame } from "./arena.js";
import { StateMirror } from "./mirror.js";
import { CloseCode, describeClose, describeError, ErrorCode, errorName, MSGPACK_SUBPROTOCOL, PROTOCOL_VERSION, } from "./protocol.js";
import { memoryTokenStore } from "./store.js";
import { decodeView as decodeTicTacToeView } from "./tictactoe.js";
import { decodeServerMsg, encodeClientMsg, pack } from "./wire.js";
const OPEN = 1;
/** The built-in games' adapters, by server game name. */
export const GAMES = {
    tictactoe: { decodeState: decodeTicTacToeView },
    arena: arenaGame,
};
/** A request made while the connection is not open. */
export class NotConnectedError extends Error {
    constructor() {
        super("not connected to the server");
        this.name = "NotConnectedError";
    }
}
export class TicksyncClient extends Emitter {
    constructor(options) {
        super();
        this.ws = null;
        this.attempts = 0;
        this.retryTimer = null;
        this.ackTimer = null;
        this.lastAckAt = -Infinity;
        this.ackedTick = 0n;
        this.nonce = 0n;
        /**
         * After a `Welcome { resumed: true }`, until a room message arrives or the client asks for
         * a room: a `RoomJoined` then is the resumed session's room. (It comes from the room's
         * tick, so other answers can arrive between.)
         */
        this.resuming = false;
        this.pings = new Map();
        /** Where the connection stands. */
        this.connection = "stopped";
        /** This session's id, from the latest `Welcome`. */
        this.sessionId = null;
        /** The server's tick rate. */
        this.tickHz = 30;
        /** The room the client is in, or `null`. */
        this.room = null;
        /** Whether the client is in the quick-match queue. */
        this.queued = false;
        /** The highest room event `seq` seen in the current room (sent in `Hello`). */
        this.lastEventSeq = 0n;
        /** The last `Input.seq` sent, or processed by the server (whichever is higher). */
        this.inputSeq = 0;
        this.currentMirror = new StateMirror({ decodeState: (bytes) => bytes });
        /** Bytes and messages received, since the client was made. */
        this.received = { bytes: 0, messages: 0 };
        this.url = toWebSocketUrl(options.url);
        this.store = options.store ?? memoryTokenStore();
        const WS = options.WebSocket ?? globalThis.WebSocket;
        if (!WS)
            throw new Error("no WebSocket: pass options.WebSocket (e.g. the ws package)");
        this.WS = WS;
        this.games = { ...GAMES, ...options.games };
        this.autoAck = options.autoAck ?? true;
        this.ackIntervalMs = options.ackIntervalMs ?? 100;
        this.reconnectOptions = options.reconnect ?? {};
        this.clock = new TickClock(this.tickHz);
    }
    /** The states of the current room (its adapter follows the room's game). */
    get mirror() {
        return this.currentMirror;
    }
    // -------------------------------------------------------------------------------------
    // Connection
    // -------------------------------------------------------------------------------------
    /** Opens the connection (and keeps it open); resolves on the first `Welcome`. */
    connect(timeoutMs = 10000) {
        const welcome = this.next("welcome", () => true, timeoutMs);
        if (this.connection === "stopped")
            this.open();
        return welcome;
    }
    /** Closes with 1000, which ends the session at once (a player in a game forfeits). */
    close() {
        this.stop("You closed the connection.", CloseCode.NORMAL);
        this.store.clear();
    }
    /**
     * Closes the socket without ending the session (code 3000), as a network failure
     * would; the client then reconnects and resumes by its policy.
     */
    drop() {
        this.ws?.close(3000, "drop");
    }
    /** Whether messages can be sent now (`Welcome` received on this connection). */
    get isOpen() {
        return this.connection === "open" && this.ws?.readyState === OPEN;
    }
    open() {
        this.clearTimers();
        const ws = new this.WS(this.url, [MSGPACK_SUBPROTOCOL]);
        ws.binaryType = "arraybuffer";
        this.ws = ws;
        this.setStatus({ state: this.attempts ? "reconnecting" : "connecting", attempt: this.attempts });
        ws.onopen = () => {
            if (ws !== this.ws)
                return;
            this.ackedTick = 0n; // acknowledgements count per connection
            this.clock.reset();
            this.sendRaw({
                type: "Hello",
                version: PROTOCOL_VERSION,
                resume_token: this.store.load(),
                last_event_seq: this.lastEventSeq,
            });
        };
        ws.onmessage = ({ data }) => {
            if (ws === this.ws)
                this.receive(data);
        };
        ws.onerror = () => {
            // Always followed by onclose, which decides what to do.
        };
        ws.onclose = ({ code }) => {
            if (ws === this.ws)
                this.closed(code);
        };
    }
    closed(code) {
        this.ws = null;
        this.clearTimers();
        this.queued = false; // a dropped connection leaves the quick-match queue
        this.pings.clear();
        const reason = describeClose(code);
        if (this.connection === "stopped")
            return;
        if (code === CloseCode.SESSION_TAKEN_OVER || code === CloseCode.UNSUPPORTED_VERSION) {
            this.stop(reason, code);
            return;
        }
        if (code === CloseCode.INVALID_RESUME_TOKEN) {
            this.endSession(reason);
            this.attempts = 0;
            this.open(); // a new session, right away
            return;
        }
        const policy = this.reconnectOptions;
        if (policy === false || this.attempts >= (policy.maxAttempts ?? Infinity)) {
            this.stop(reason, code);
            return;
        }
        const delay = backoffDelay(this.attempts, policy);
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
    stop(reason, code) {
        const ws = this.ws;
        this.ws = null;
        this.clearTimers();
        this.queued = false;
        this.setStatus({ state: "stopped", reason, closeCode: code });
        if (ws && ws.readyState <= OPEN)
            ws.close(CloseCode.NORMAL);
    }
    /** The server no longer knows this session: forget it and everything tied to it. */
    endSession(reason) {
        const lostRoom = this.room;
        this.store.clear();
        this.leaveRoomState();
        this.emit("sessionEnded", { reason, lostRoom });
    }
    clearTimers() {
        if (this.retryTimer)
            clearTimeout(this.retryTimer);
        if (this.ackTimer)
            clearTimeout(this.ackTimer);
        this.retryTimer = null;
        this.ackTimer = null;
    }
    setStatus(status) {
        this.connection = status.state;
        this.emit("status", status);
    }
    // -------------------------------------------------------------------------------------
    // Receiving
    // -------------------------------------------------------------------------------------
    receive(data) {
        const bytes = toBytes(data);
        if (!bytes)
            return; // not a binary frame: the server sends none
        this.received.bytes += bytes.byteLength;
        this.received.messages += 1;
        let msg;
        try {
            msg = decodeServerMsg(bytes);
        }
        catch (error) {
            this.emit("error", {
                code: 0,
                name: "Undecodable",
                words: "A message from the server could not be read.",
                message: error.message,
                input_seq: null,
            });
            return;
        }
        if (msg == null)
            return; // a variant from a newer server: skipped
        this.emit("message", msg);
        this.handle(msg);
    }
    handle(msg) {
        switch (msg.type) {
            case "Welcome": {
                this.attempts = 0;
                this.sessionId = msg.session_id;
                this.tickHz = msg.tick_hz;
                this.clock.tickHz = msg.tick_hz;
                this.queued = false;
                this.store.save(msg.resume_token); // rotates on every resume
                if (!msg.resumed)
                    this.leaveRoomState();
                this.resuming = msg.resumed;
                this.setStatus({ state: "open" });
                this.emit("welcome", {
                    session_id: msg.session_id,
                    resumed: msg.resumed,
                    tick_hz: msg.tick_hz,
                });
                return;
            }
            case "Pong": {
                const sent = this.pings.get(msg.nonce);
                this.pings.delete(msg.nonce);
                if (sent !== undefined)
                    this.emit("pong", { nonce: msg.nonce, rttMs: now() - sent });
                return;
            }
            case "Queued":
                this.queued = true;
                this.emit("queued", { game: msg.game, position: msg.position, queue_size: msg.queue_size });
                return;
            case "MatchCancelled":
                this.queued = false;
                this.emit("matchCancelled", { game: msg.game });
                return;
            case "MatchFound":
            case "RoomJoined": {
                const { type, ...joined } = msg;
                this.queued = false;
                // The room the client was in, or (for a client made after a reload) the room the
                // resumed session is in.
                const same = this.room != null && this.room.room_id === joined.room_id;
                const resumed = same || (this.resuming && type === "RoomJoined");
                this.resuming = false;
                if (!same) {
                    // A new room: its event seqs start at 1 and input seqs over.
                    this.lastEventSeq = 0n;
                    this.inputSeq = 0;
                }
                // States from before this join are never a base again (PROTOCOL.md).
                this.mirror.clear();
                const matched = type === "MatchFound" || (same && (this.room?.matched ?? false));
                this.room = { ...joined, matched };
                this.emit("roomJoined", { room: this.room, resumed });
                return;
            }
            case "RoomLeft": {
                this.resuming = false;
                const room = this.room;
                this.leaveRoomState();
                this.emit("roomLeft", { room_id: msg.room_id, room });
                return;
            }
            case "Snapshot":
            case "Delta":
                this.onState(msg);
                return;
            case "Event":
                if (msg.seq <= this.lastEventSeq)
                    return; // already seen (a replay)
                this.lastEventSeq = msg.seq;
                this.emit("event", { seq: msg.seq, tick: msg.tick, event: msg.event });
                return;
            case "Error":
                if (msg.code === ErrorCode.InvalidResumeToken) {
                    // The server closes with 4005 next; the close starts the new session.
                    return;
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
        }
    }
    onState(msg) {
        const game = this.room ? this.games[this.room.game] : undefined;
        const mirror = this.mirrorFor(game);
        let state;
        try {
            state =
                msg.type === "Snapshot"
                    ? mirror.applySnapshot(msg.tick, msg.state)
                    : mirror.applyDelta(msg.tick, msg.base_tick, msg.delta);
        }
        catch (error) {
            this.emit("error", {
                code: 0,
                name: "Undecodable",
                words: "A game state from the server could not be read.",
                message: error.message,
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
        if (this.autoAck && game?.applyDelta)
            this.scheduleAck();
    }
    mirrorFor(game) {
        const adapter = game ?? { decodeState: (bytes) => bytes };
        if (this.currentMirror.game.decodeState !== adapter.decodeState) {
            this.currentMirror = new StateMirror(adapter);
        }
        return this.currentMirror;
    }
    scheduleAck() {
        if (this.ackTimer)
            return;
        const wait = Math.max(0, this.lastAckAt + this.ackIntervalMs - now());
        this.ackTimer = setTimeout(() => {
            this.ackTimer = null;
            this.ack();
        }, wait);
    }
    leaveRoomState() {
        this.room = null;
        this.lastEventSeq = 0n;
        this.inputSeq = 0;
        this.mirror.clear();
    }
    // -------------------------------------------------------------------------------------
    // Requests
    // -------------------------------------------------------------------------------------
    sendRaw(msg) {
        if (this.ws?.readyState !== OPEN)
            throw new NotConnectedError();
        this.ws.send(encodeClientMsg(msg));
    }
    /** Sends a message; throws `NotConnectedError` before `Welcome` or while reconnecting. */
    send(msg) {
        if (!this.isOpen)
            throw new NotConnectedError();
        if (msg.type === "FindMatch" || msg.type === "CreateRoom" || msg.type === "JoinRoom") {
            this.resuming = false; // the next room is the one asked for
        }
        this.sendRaw(msg);
    }
    /** Joins the quick-match queue for `game`. */
    findMatch(game) {
        this.send({ type: "FindMatch", game });
    }
    /** Leaves the quick-match queue. */
    cancelMatch() {
        this.send({ type: "CancelMatch" });
    }
    /** Creates a private room; the client takes seat 0 and gets its code in `roomJoined`. */
    createRoom(game, settings = {}) {
        this.send({
            type: "CreateRoom",
            game,
            settings: {
                turn_seconds: settings.turn_seconds ?? null,
                allow_spectators: settings.allow_spectators ?? false,
                relay: settings.relay ?? false,
            },
        });
    }
    /** Joins a room by code, as a player or (`spectate`) a spectator. */
    joinRoom(code, spectate = false) {
        this.send({ type: "JoinRoom", code: code.trim().toUpperCase(), spectate });
    }
    /** Leaves the room (a player in a running game forfeits). */
    leaveRoom() {
        this.send({ type: "LeaveRoom" });
    }
    /** Says something to everyone in the room (1 to 200 characters). */
    chat(text) {
        this.send({ type: "Chat", text });
    }
    /** The room directory (up to 100 open rooms). */
    listRooms(timeoutMs = 10000) {
        const list = this.next("roomList", () => true, timeoutMs);
        this.send({ type: "ListRooms" });
        return list;
    }
    /** Measures one round trip with `Ping`; resolves with milliseconds. */
    ping(timeoutMs = 10000) {
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
    sendInput(data) {
        if (!this.isOpen)
            throw new NotConnectedError();
        const seq = this.inputSeq + 1;
        const ackTick = this.mirror.tick ?? 0n;
        this.send({ type: "Input", seq, ack_tick: ackTick, data });
        this.inputSeq = seq;
        this.noteAck(ackTick);
        return seq;
    }
    /** Sends any value as a game input, MessagePack-encoded. */
    sendGameInput(value) {
        return this.sendInput(pack(value));
    }
    /** Acknowledges the newest state held, if it is newer than the last acknowledged. */
    ack() {
        const tick = this.mirror.tick;
        if (tick == null || tick <= this.ackedTick || !this.isOpen)
            return;
        this.send({ type: "Ack", tick });
        this.noteAck(tick);
    }
    noteAck(tick) {
        if (tick > this.ackedTick)
            this.ackedTick = tick;
        this.lastAckAt = now();
    }
}
function now() {
    return typeof performance !== "undefined" ? performance.now() : Date.now();
}
/** A received frame's bytes: ArrayBuffer (browsers, `ws` with arraybuffer), views, Buffers. */
function toBytes(data) {
    if (data instanceof ArrayBuffer)
        return new Uint8Array(data);
    if (ArrayBuffer.isView(data))
        return new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
    return null;
}
/** `http://h:p/x` → `ws://h:p/x`; a `ws(s)://` URL is kept. */
export function toWebSocketUrl(url) {
    const parsed = new URL(url);
    if (parsed.protocol === "http:")
        parsed.protocol = "ws:";
    else if (parsed.protocol === "https:")
        parsed.protocol = "wss:";
    return parsed.toString();
}
