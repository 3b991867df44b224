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

export class TickClock {
  private offset: number | null = null;

  /**
   * @param tickHz ticks per second (`Welcome.tick_hz`)
   * @param now local milliseconds (default `performance.now()`, else `Date.now()`)
   */
  constructor(
    public tickHz: number,
    private readonly now: () => number = defaultNow,
  ) {}

  /** Notes that the state of `tick` arrived now. */
  observe(tick: bigint): void {
    const sample = Number(tick) - this.localTicks();
    if (this.offset == null || sample > this.offset) {
      this.offset = sample;
    } else {
      // Sink by 1% of a tick per sample towards later arrivals: tolerates drift.
      this.offset = Math.max(sample, this.offset - 0.01);
    }
  }

  /** Whether a tick has been observed yet. */
  get synced(): boolean {
    return this.offset != null;
  }

  /** The server's current tick, estimated; fractional. `NaN` before any observation. */
  tick(): number {
    return this.offset == null ? Number.NaN : this.localTicks() + this.offset;
  }

  /** Forgets the offset (a new connection). */
  reset(): void {
    this.offset = null;
  }

  private localTicks(): number {
    return (this.now() * this.tickHz) / 1000;
  }
}

function defaultNow(): number {
  return typeof performance !== "undefined" ? performance.now() : Date.now();
}

/** Two states around a render tick and how far between them it lies (0 to 1). */
export interface Bracket<State> {
  from: State;
  to: State;
  fromTick: number;
  toTick: number;
  alpha: number;
}

export class Interpolator<State> {
  private samples: { tick: number; state: State }[] = [];

  constructor(private readonly keep = 32) {}

  /** Adds a state; ticks must increase (older ones are ignored). */
  push(tick: bigint, state: State): void {
    const t = Number(tick);
    const last = this.samples[this.samples.length - 1];
    if (last && t <= last.tick) return;
    this.samples.push({ tick: t, state });
    if (this.samples.length > this.keep) this.samples.shift();
  }

  /**
   * The states on either side of `renderTick`. Before the first sample both are the
   * first; after the last both are the last (no extrapolation). `null` when empty.
   */
  sample(renderTick: number): Bracket<State> | null {
    const s = this.samples;
    if (s.length === 0) return null;
    if (renderTick <= s[0].tick) return bracket(s[0], s[0], 0);
    for (let i = 1; i < s.length; i++) {
      if (s[i].tick >= renderTick) {
        const alpha = (renderTick - s[i - 1].tick) / (s[i].tick - s[i - 1].tick);
        return bracket(s[i - 1], s[i], alpha);
      }
    }
    const last = s[s.length - 1];
    return bracket(last, last, 0);
  }

  clear(): void {
    this.samples = [];
  }
}

function bracket<State>(
  a: { tick: number; state: State },
  b: { tick: number; state: State },
  alpha: number,
): Bracket<State> {
  return { from: a.state, to: b.state, fromTick: a.tick, toTick: b.tick, alpha };
}
