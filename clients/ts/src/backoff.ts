/**
 * Reconnect delays: exponential backoff with jitter. The ceiling doubles per attempt up to
 * `maxMs`, and each delay is drawn uniformly from the upper half below the ceiling, so
 * many clients dropped at once (a server restart) do not all come back in step.
 */

export interface BackoffOptions {
  /** Ceiling of the first retry's delay (default 500 ms). */
  initialMs?: number;
  /** Largest ceiling (default 5 s; the server holds a seat for 20 s by default). */
  maxMs?: number;
  /** Give up after this many attempts in a row (default: never). */
  maxAttempts?: number;
}

/** The delay before retry number `attempt` (0-based); `random` in [0, 1). */
export function backoffDelay(
  attempt: number,
  options: BackoffOptions = {},
  random: () => number = Math.random,
): number {
  const initial = options.initialMs ?? 500;
  const max = options.maxMs ?? 5000;
  const ceiling = Math.min(initial * 2 ** Math.min(attempt, 30), max);
  return ceiling / 2 + (random() * ceiling) / 2;
}
