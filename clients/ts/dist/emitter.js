/**
 * A small typed event emitter: `on` returns its own unsubscribe function, and `next`
 * waits for one event as a promise (with a timeout), which is what scripts and tests want.
 */
/** No event within `timeoutMs`. */
export class TimeoutError extends Error {
    constructor(message) {
        super(message);
        this.name = "TimeoutError";
    }
}
export class Emitter {
    constructor() {
        this.listeners = new Map();
    }
    /** Calls `listener` on every `type` event until the returned function is called. */
    on(type, listener) {
        let set = this.listeners.get(type);
        if (!set)
            this.listeners.set(type, (set = new Set()));
        set.add(listener);
        return () => this.off(type, listener);
    }
    /** Removes a listener added with `on`. */
    off(type, listener) {
        this.listeners.get(type)?.delete(listener);
    }
    /**
     * The next `type` event for which `filter` holds. Rejects with `TimeoutError` after
     * `timeoutMs` (default 10 s).
     */
    next(type, filter = () => true, timeoutMs = 10000) {
        return new Promise((resolve, reject) => {
            const timer = setTimeout(() => {
                off();
                reject(new TimeoutError(`no ${String(type)} event within ${timeoutMs} ms`));
            }, timeoutMs);
            const off = this.on(type, (payload) => {
                if (!filter(payload))
                    return;
                clearTimeout(timer);
                off();
                resolve(payload);
            });
        });
    }
    /** Calls every listener of `type`; a throwing listener does not stop the others. */
    emit(type, payload) {
        for (const listener of [...(this.listeners.get(type) ?? [])]) {
            try {
                listener(payload);
            }
            catch (error) {
                queueMicrotask(() => {
                    throw error;
                });
            }
        }
    }
}
