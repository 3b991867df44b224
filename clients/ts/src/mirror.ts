/**
 * The acknowledged-state mirror (PROTOCOL.md "Acknowledgements and deltas", "What a
 * client keeps"): the states received, keyed by tick, in a bounded ring.
 *
 * - A `Snapshot` stores its state under its tick.
 * - A `Delta` takes the state stored under `base_tick`, applies the delta (the game's
 *   `applyDelta`, told how many ticks lie between) and stores the result under `tick`.
 * - The state with the newest tick is the current one, and the one to acknowledge.
 *
 * The server only takes deltas against ticks this client acknowledged, which are in the
 * ring as long as it keeps at least 64 states (or `tick_hz`, at most 128): 128 is kept.
 * Ticks are never assumed consecutive. Clear the ring on entering or leaving a room.
 */

/** How a game's states and deltas are decoded and combined. */
export interface GameAdapter<State = unknown, Delta = unknown> {
  /** Decodes `Snapshot.state`. */
  decodeState(bytes: Uint8Array): State;
  /** Decodes `Delta.delta` (games with deltas only). */
  decodeDelta?(bytes: Uint8Array): Delta;
  /** The state `ticks` ticks after `base`, given the delta (games with deltas only). */
  applyDelta?(base: State, delta: Delta, ticks: bigint): State;
}

/** A `Delta` whose base the mirror does not hold, or a delta for a game without deltas. */
export class MirrorError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "MirrorError";
  }
}

/** States kept: every base the server can use is among the last 128 (PROTOCOL.md). */
export const MIRROR_CAPACITY = 128;

export class StateMirror<State = unknown, Delta = unknown> {
  /** Insertion order is tick order: the server's ticks only increase. */
  private states = new Map<bigint, State>();
  private newest: bigint | null = null;

  constructor(
    readonly game: GameAdapter<State, Delta>,
    readonly capacity = MIRROR_CAPACITY,
  ) {}

  /** Stores a full state; returns it. */
  applySnapshot(tick: bigint, bytes: Uint8Array): State {
    return this.store(tick, this.game.decodeState(bytes));
  }

  /** Rebuilds the state at `tick` from the one at `baseTick`; returns it. */
  applyDelta(tick: bigint, baseTick: bigint, bytes: Uint8Array): State {
    const { decodeDelta, applyDelta } = this.game;
    if (!decodeDelta || !applyDelta) throw new MirrorError("this game has no deltas");
    const base = this.states.get(baseTick);
    if (base === undefined) throw new MirrorError(`no state for base tick ${baseTick}`);
    if (tick < baseTick) throw new MirrorError(`delta goes back from ${baseTick} to ${tick}`);
    return this.store(tick, applyDelta(base, decodeDelta(bytes), tick - baseTick));
  }

  /** The newest tick held (what to acknowledge), or `null`. */
  get tick(): bigint | null {
    return this.newest;
  }

  /** The newest state, or `undefined`. */
  get state(): State | undefined {
    return this.newest == null ? undefined : this.states.get(this.newest);
  }

  /** The state stored under `tick`, if still held. */
  at(tick: bigint): State | undefined {
    return this.states.get(tick);
  }

  /** Every (tick, state) held, oldest first. */
  entries(): [bigint, State][] {
    return [...this.states.entries()];
  }

  /** Forgets every state (a new room, or none). */
  clear(): void {
    this.states.clear();
    this.newest = null;
  }

  private store(tick: bigint, state: State): State {
    if (this.newest != null && tick < this.newest) {
      // States only move forward; an older one (never sent by the server) is not kept.
      return state;
    }
    this.states.delete(tick);
    this.states.set(tick, state);
    this.newest = tick;
    while (this.states.size > this.capacity) {
      const oldest = this.states.keys().next().value as bigint;
      this.states.delete(oldest);
    }
    return state;
  }
}
