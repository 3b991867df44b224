/**
 * A small typed event emitter: `on` returns its own unsubscribe function, and `next`
 * waits for one event as a promise (with a timeout), which is what scripts and tests want.
 */

/** A listener for events whose payloads are described by `Events`. */
export type Listener<T> = (payload: T) => void;

/** No event within `timeoutMs`. */
export class TimeoutError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "TimeoutError";
  }
}

export class Emitter<Events extends object> {
  private listeners = new Map<keyof Events, Set<Listener<never>>>();

  /** Calls `listener` on every `type` event until the returned function is called. */
  on<K extends keyof Events>(type: K, listener: Listener<Events[K]>): () => void {
    let set = this.listeners.get(type);
    if (!set) this.listeners.set(type, (set = new Set()));
    set.add(listener as Listener<never>);
    return () => this.off(type, listener);
  }

  /** Removes a listener added with `on`. */
  off<K extends keyof Events>(type: K, listener: Listener<Events[K]>): void {
    this.listeners.get(type)?.delete(listener as Listener<never>);
  }

  /**
   * The next `type` event for which `filter` holds. Rejects with `TimeoutError` after
   * `timeoutMs` (default 10 s).
   */
  next<K extends keyof Events>(
    type: K,
    filter: (payload: Events[K]) => boolean = () => true,
    timeoutMs = 10_000,
  ): Promise<Events[K]> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        off();
        reject(new TimeoutError(`no ${String(type)} event within ${timeoutMs} ms`));
      }, timeoutMs);
      const off = this.on(type, (payload) => {
        if (!filter(payload)) return;
        clearTimeout(timer);
        off();
        resolve(payload);
      });
    });
  }

  /** Calls every listener of `type`; a throwing listener does not stop the others. */
  protected emit<K extends keyof Events>(type: K, payload: Events[K]): void {
    for (const listener of [...(this.listeners.get(type) ?? [])]) {
      try {
        (listener as Listener<Events[K]>)(payload);
      } catch (error) {
        queueMicrotask(() => {
          throw error;
        });
      }
    }
  }
}
