/**
 * A small typed event emitter: `on` returns its own unsubscribe function, and `next`
 * waits for one event as a promise (with a timeout), which is what scripts and tests want.
 */
/** A listener for events whose payloads are described by `Events`. */
export type Listener<T> = (payload: T) => void;
/** No event within `timeoutMs`. */
export declare class TimeoutError extends Error {
    constructor(message: string);
}
export declare class Emitter<Events extends object> {
    private listeners;
    /** Calls `listener` on every `type` event until the returned function is called. */
    on<K extends keyof Events>(type: K, listener: Listener<Events[K]>): () => void;
    /** Removes a listener added with `on`. */
    off<K extends keyof Events>(type: K, listener: Listener<Events[K]>): void;
    /**
     * The next `type` event for which `filter` holds. Rejects with `TimeoutError` after
     * `timeoutMs` (default 10 s).
     */
    next<K extends keyof Events>(type: K, filter?: (payload: Events[K]) => boolean, timeoutMs?: number): Promise<Events[K]>;
    /** Calls every listener of `type`; a throwing listener does not stop the others. */
    protected emit<K extends keyof Events>(type: K, payload: Events[K]): void;
}
