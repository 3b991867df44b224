/**
 * The arena's payloads and rules a client needs (PROTOCOL.md "Arena"): the input, the
 * view and the delta in the MessagePack codec, applying a delta, and prediction.
 *
 * `ArenaPredictor` is the own-player prediction the /arena page draws: it replays the
 * inputs the server has not yet acknowledged (those above the newest state's
 * `input_seq`) on top of the newest acknowledged position, every frame, so a correction
 * from the server is taken in at once and nothing drifts.
 */
/** The game's name on the server. */
export declare const ARENA = "arena";
/** Units a player moves per tick along each axis of its direction. */
export declare const ARENA_SPEED = 5;
/** The box is 0 to ARENA_SIZE on each axis, inclusive. */
export declare const ARENA_SIZE = 1000;
/** `dir` of a player standing still. */
export declare const STILL = 4;
/** `ArenaInput`: the direction to move in, each component -1, 0 or 1. */
export interface ArenaInput {
    dx: number;
    dy: number;
}
/** `ArenaPlayer`: one player; `dir` packs the direction as `(dx + 1) * 3 + (dy + 1)`. */
export interface ArenaPlayer {
    seat: number;
    x: number;
    y: number;
    dir: number;
}
/** `ArenaView`: every player, sorted by seat. */
export interface ArenaView {
    players: ArenaPlayer[];
}
/** `ArenaDelta`: players new or not where prediction puts them, and seats gone. */
export interface ArenaDelta {
    changed: ArenaPlayer[];
    removed: number[];
}
/** Packs a direction into `dir`. */
export declare function packDir(dx: number, dy: number): number;
/** Unpacks `dir` into `{ dx, dy }`. */
export declare function unpackDir(dir: number): ArenaInput;
/** Encodes an input for `Input.data`. */
export declare function encodeInput(input: ArenaInput): Uint8Array;
/** Decodes an input (as the server would). */
export declare function decodeInput(bytes: Uint8Array): ArenaInput;
/** Decodes `Snapshot.state`. */
export declare function decodeView(bytes: Uint8Array): ArenaView;
/** Decodes `Delta.delta`. */
export declare function decodeDelta(bytes: Uint8Array): ArenaDelta;
/**
 * Where `p` is `ticks` ticks later along its direction (PROTOCOL.md "Prediction").
 * Fractional ticks give fractional positions, for drawing between ticks.
 */
export declare function advance(p: ArenaPlayer, ticks: number): ArenaPlayer;
/** The state `ticks` ticks after `base` (PROTOCOL.md "Applying an arena delta"). */
export declare function applyDelta(base: ArenaView, delta: ArenaDelta, ticks: bigint): ArenaView;
/** The arena's `GameAdapter` for `StateMirror` and `TicksyncClient`. */
export declare const arenaGame: {
    decodeState: typeof decodeView;
    decodeDelta: typeof decodeDelta;
    applyDelta: typeof applyDelta;
};
/**
 * Own-player prediction, reconciled against acknowledged inputs. Record each input as it
 * is sent; `predict` starts from the newest acknowledged state (whose `input_seq` says
 * which inputs it already includes) and replays the rest.
 */
export declare class ArenaPredictor {
    private pending;
    /** Notes an input sent with `seq` at the estimated server tick `sentTick`. */
    record(seq: number, input: ArenaInput, sentTick: number): void;
    /** Inputs sent and not yet included in a state. */
    get unacknowledged(): number;
    /** The direction of the newest input sent, if any is unacknowledged. */
    get latestDir(): number | null;
    /**
     * Where the own player is at server tick `nowTick` (fractional), given `acked`, the
     * player in the state of tick `ackedTick` whose `input_seq` is `inputSeq`. Inputs up
     * to `inputSeq` are dropped; each later one takes effect at the tick after it was sent
     * (and not before `ackedTick + 1`), the applying tick already moving along it.
     */
    predict(acked: ArenaPlayer, ackedTick: bigint, inputSeq: number, nowTick: number): ArenaPlayer;
    /** Forgets every input (a new room or connection). */
    clear(): void;
}
