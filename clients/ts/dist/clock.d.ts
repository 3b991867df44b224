/**
 * Time on the server's tick scale, for prediction and interpolation.
 *
 * `TickClock` estimates the server's current tick (fractional) from the ticks of the
 * states received and the local clock: tick `n` is `n / tick_hz` seconds after the server
 * started (PROTOCOL.md "Tick numbers"), so server tick = local ticks + an offset. A state
 * can only arrive late, never early, so the offset is the largest one seen; it sinks
 * slowly so the estimate recovers if it was once too far ahead.
 *
 * `Interpolator` keeps recent (tick, state) pairs and finds the two around a render tick,
 * for drawing other players a little in the past, between two known states.
 */
export declare class TickClock {
    tickHz: number;
    private readonly now;
    private offset;
    /**
     * @param tickHz ticks per second (`Welcome.tick_hz`)
     * @param now local milliseconds (default `performance.now()`, else `Date.now()`)
     */
    constructor(tickHz: number, now?: () => number);
    /** Notes that the state of `tick` arrived now. */
    observe(tick: bigint): void;
    /** Whether a tick has been observed yet. */
    get synced(): boolean;
    /** The server's current tick, estimated; fractional. `NaN` before any observation. */
    tick(): number;
    /** Forgets the offset (a new connection). */
    reset(): void;
    private localTicks;
}
/** Two states around a render tick and how far between them it lies (0 to 1). */
export interface Bracket<State> {
    from: State;
    to: State;
    fromTick: number;
    toTick: number;
    alpha: number;
}
export declare class Interpolator<State> {
    private readonly keep;
    private samples;
    constructor(keep?: number);
    /** Adds a state; ticks must increase (older ones are ignored). */
    push(tick: bigint, state: State): void;
    /**
     * The states on either side of `renderTick`. Before the first sample both are the
     * first; after the last both are the last (no extrapolation). `null` when empty.
     */
    sample(renderTick: number): Bracket<State> | null;
    clear(): void;
}
