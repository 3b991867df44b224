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
import { type BackoffOptions } from "./backoff.js";
import { TickClock } from "./clock.js";
import { Emitter } from "./emitter.js";
import { StateMirror, type GameAdapter } from "./mirror.js";
import { type ClientMsg, type RoomEvent, type RoomJoined, type RoomSettings, type RoomSummary, type ServerMsg } from "./protocol.js";
import { type TokenStore } from "./store.js";
/** The subset of the WHATWG `WebSocket` the client uses (browsers, Node 22, `ws`). */
export interface WebSocketLike {
    binaryType: string;
    readonly readyState: number;
    readonly protocol: string;
    onopen: ((event: unknown) => void) | null;
    onmessage: ((event: {
        data: unknown;
    }) => void) | null;
    onclose: ((event: {
        code: number;
        reason: string;
    }) => void) | null;
    onerror: ((event: unknown) => void) | null;
    send(data: Uint8Array): void;
    close(code?: number, reason?: string): void;
}
/** A `WebSocket` constructor. */
export type WebSocketConstructor = new (url: string, protocols: string[]) => WebSocketLike;
/** The built-in games' adapters, by server game name. */
export declare const GAMES: Record<string, GameAdapter>;
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
}
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
    welcome: {
        session_id: bigint;
        resumed: boolean;
        tick_hz: number;
    };
    /**
     * The server refused the resume token: it restarted, or the session was away longer
     * than the reconnect grace. `lostRoom` is the room the client thought it was in. A new
     * session starts at once.
     */
    sessionEnded: {
        reason: string;
        lostRoom: RoomInfo | null;
    };
    queued: {
        game: string;
        position: number;
        queue_size: number;
    };
    matchCancelled: {
        game: string;
    };
    /**
     * Entered a room; `resumed` when it is the room the client was already in, or the room
     * of the session it resumed (a new client after a page reload).
     */
    roomJoined: {
        room: RoomInfo;
        resumed: boolean;
    };
    roomLeft: {
        room_id: bigint;
        room: RoomInfo | null;
    };
    /** A room event not seen before (replayed ones included, once each). */
    event: {
        seq: bigint;
        tick: bigint;
        event: RoomEvent;
    };
    state: StateEvent;
    error: ErrorEvent;
    roomList: RoomSummary[];
    pong: {
        nonce: bigint;
        rttMs: number;
    };
}
/** A request made while the connection is not open. */
export declare class NotConnectedError extends Error {
    constructor();
}
export declare class TicksyncClient extends Emitter<ClientEvents> {
    readonly url: string;
    private readonly store;
    private readonly WS;
    private readonly games;
    private readonly autoAck;
    private readonly ackIntervalMs;
    private readonly reconnectOptions;
    private ws;
    private attempts;
    private retryTimer;
    private ackTimer;
    private lastAckAt;
    private ackedTick;
    private nonce;
    /**
     * After a `Welcome { resumed: true }`, until a room message arrives or the client asks for
     * a room: a `RoomJoined` then is the resumed session's room. (It comes from the room's
     * tick, so other answers can arrive between.)
     */
    private resuming;
    private pings;
    /** Where the connection stands. */
    connection: ConnectionState;
    /** This session's id, from the latest `Welcome`. */
    sessionId: bigint | null;
    /** The server's tick rate. */
    tickHz: number;
    /** The room the client is in, or `null`. */
    room: RoomInfo | null;
    /** Whether the client is in the quick-match queue. */
    queued: boolean;
    /** The highest room event `seq` seen in the current room (sent in `Hello`). */
    lastEventSeq: bigint;
    /** The last `Input.seq` sent, or processed by the server (whichever is higher). */
    inputSeq: number;
    private currentMirror;
    /** The server's tick, estimated from the states received. */
    readonly clock: TickClock;
    /** Bytes and messages received, since the client was made. */
    readonly received: {
        bytes: number;
        messages: number;
    };
    constructor(options: ClientOptions);
    /** The states of the current room (its adapter follows the room's game). */
    get mirror(): StateMirror;
    /** Opens the connection (and keeps it open); resolves on the first `Welcome`. */
    connect(timeoutMs?: number): Promise<ClientEvents["welcome"]>;
    /** Closes with 1000, which ends the session at once (a player in a game forfeits). */
    close(): void;
    /**
     * Closes the socket without ending the session (code 3000), as a network failure
     * would; the client then reconnects and resumes by its policy.
     */
    drop(): void;
    /** Whether messages can be sent now (`Welcome` received on this connection). */
    get isOpen(): boolean;
    private open;
    private closed;
    private stop;
    /** The server no longer knows this session: forget it and everything tied to it. */
    private endSession;
    private clearTimers;
    private setStatus;
    private receive;
    private handle;
    private onState;
    private mirrorFor;
    private scheduleAck;
    private leaveRoomState;
    private sendRaw;
    /** Sends a message; throws `NotConnectedError` before `Welcome` or while reconnecting. */
    send(msg: ClientMsg): void;
    /** Joins the quick-match queue for `game`. */
    findMatch(game: string): void;
    /** Leaves the quick-match queue. */
    cancelMatch(): void;
    /** Creates a private room; the client takes seat 0 and gets its code in `roomJoined`. */
    createRoom(game: string, settings?: Partial<RoomSettings>): void;
    /** Joins a room by code, as a player or (`spectate`) a spectator. */
    joinRoom(code: string, spectate?: boolean): void;
    /** Leaves the room (a player in a running game forfeits). */
    leaveRoom(): void;
    /** Says something to everyone in the room (1 to 200 characters). */
    chat(text: string): void;
    /** The room directory (up to 100 open rooms). */
    listRooms(timeoutMs?: number): Promise<RoomSummary[]>;
    /** Measures one round trip with `Ping`; resolves with milliseconds. */
    ping(timeoutMs?: number): Promise<number>;
    /**
     * Sends one game input (already encoded with the game's codec, e.g. `encodeMove`),
     * acknowledging the newest state held. Returns the input's `seq`.
     */
    sendInput(data: Uint8Array): number;
    /** Sends any value as a game input, MessagePack-encoded. */
    sendGameInput(value: unknown): number;
    /** Acknowledges the newest state held, if it is newer than the last acknowledged. */
    ack(): void;
    private noteAck;
}
/** `http://h:p/x` → `ws://h:p/x`; a `ws(s)://` URL is kept. */
export declare function toWebSocketUrl(url: string): string;
