/**
 * The arena's payloads and rules a client needs (PROTOCOL.md "Arena"): the input, the
 * view and the delta in the MessagePack codec (positional: arrays of integers, no field
 * names), applying a delta, and prediction.
 *
 * `ArenaPredictor` is the own-player prediction the /arena page draws: it replays the
 * inputs the server has not yet acknowledged (those above the newest state's
 * `input_seq`) on top of the newest acknowledged position, every frame, so a correction
 * from the server is taken in at once and nothing drifts.
 */

import { i8, pack, struct, unpack, WireError } from "./wire.js";

/** The game's name on the server. */
export const ARENA = "arena";
/** Units a player moves per tick along each axis of its direction. */
export const ARENA_SPEED = 5;
/** The box is 0 to ARENA_SIZE on each axis, inclusive. */
export const ARENA_SIZE = 1000;
/** `dir` of a player standing still. */
export const STILL = 4;

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
export function packDir(dx: number, dy: number): number {
  return (dx + 1) * 3 + (dy + 1);
}

/** Unpacks `dir` into `{ dx, dy }`. */
export function unpackDir(dir: number): ArenaInput {
  return { dx: Math.floor(dir / 3) - 1, dy: (dir % 3) - 1 };
}

/** Encodes an input for `Input.data`: the pair `[dx, dy]`. */
export function encodeInput(input: ArenaInput): Uint8Array {
  for (const c of [input.dx, input.dy]) {
    if (c !== -1 && c !== 0 && c !== 1) throw new WireError(`direction component ${c}`);
  }
  return pack([input.dx, input.dy]);
}

/** Decodes an input (as the server would): `[dx, dy]`, or the older map `{dx, dy}`. */
export function decodeInput(bytes: Uint8Array): ArenaInput {
  const what = "ArenaInput";
  const value = unpack(bytes);
  if (Array.isArray(value)) {
    if (value.length !== 2) throw new WireError(`${what}: expected [dx, dy]`);
    const [dx, dy] = value;
    return { dx: i8({ dx }, "dx", what), dy: i8({ dy }, "dy", what) };
  }
  const m = struct(value, what);
  return { dx: i8(m, "dx", what), dy: i8(m, "dy", what) };
}

/** Reads an integer from 0 to `max` at `what`. */
function int(value: unknown, what: string, max: number): number {
  if (typeof value !== "number" || !Number.isInteger(value) || value < 0 || value > max) {
    throw new WireError(`${what}: expected an integer from 0 to ${max}`);
  }
  return value;
}

/** A player from its four fields in order: seat, x, y, dir. */
function player(fields: readonly unknown[], what: string): ArenaPlayer {
  const [seat, x, y, dir] = fields;
  const p = {
    seat: int(seat, `${what}.seat`, 0xff),
    x: int(x, `${what}.x`, 0xffff),
    y: int(y, `${what}.y`, 0xffff),
    dir: int(dir, `${what}.dir`, 0xff),
  };
  if (p.dir > 8) throw new WireError(`${what}.dir: ${p.dir} is not 0 to 8`);
  return p;
}

function array(value: unknown, what: string): unknown[] {
  if (!Array.isArray(value)) throw new WireError(`${what}: expected an array`);
  return value;
}

/** Decodes `Snapshot.state`: an array of players, each `[seat, x, y, dir]`. */
export function decodeView(bytes: Uint8Array): ArenaView {
  const what = "ArenaView";
  const players = array(unpack(bytes), what).map((value, i) => {
    const fields = array(value, `${what}[${i}]`);
    if (fields.length !== 4) throw new WireError(`${what}[${i}]: expected 4 fields`);
    return player(fields, `${what}[${i}]`);
  });
  return { players };
}

/**
 * Decodes `Delta.delta`: one flat array of integers, each changed player as its four
 * fields (seat, x, y, dir) and each removed seat `s` as `-1 - s`.
 */
export function decodeDelta(bytes: Uint8Array): ArenaDelta {
  const what = "ArenaDelta";
  const items = array(unpack(bytes), what);
  const delta: ArenaDelta = { changed: [], removed: [] };
  let i = 0;
  while (i < items.length) {
    const lead = items[i];
    if (typeof lead === "number" && Number.isInteger(lead) && lead < 0 && lead >= -128) {
      delta.removed.push(-1 - lead);
      i += 1;
    } else {
      if (i + 4 > items.length) throw new WireError(`${what}[${i}]: a player needs 4 fields`);
      const p = player(items.slice(i, i + 4), `${what}[${i}]`);
      if (p.seat > 127) throw new WireError(`${what}[${i}]: seat ${p.seat} is not 0 to 127`);
      delta.changed.push(p);
      i += 4;
    }
  }
  return delta;
}

const clamp = (v: number) => Math.min(ARENA_SIZE, Math.max(0, v));

/**
 * Where `p` is `ticks` ticks later along its direction (PROTOCOL.md "Prediction").
 * Fractional ticks give fractional positions, for drawing between ticks.
 */
export function advance(p: ArenaPlayer, ticks: number): ArenaPlayer {
  const { dx, dy } = unpackDir(p.dir);
  return {
    seat: p.seat,
    x: clamp(p.x + ARENA_SPEED * ticks * dx),
    y: clamp(p.y + ARENA_SPEED * ticks * dy),
    dir: p.dir,
  };
}

/** The state `ticks` ticks after `base` (PROTOCOL.md "Applying an arena delta"). */
export function applyDelta(base: ArenaView, delta: ArenaDelta, ticks: bigint): ArenaView {
  const n = Number(ticks);
  const removed = new Set(delta.removed);
  const bySeat = new Map<number, ArenaPlayer>();
  for (const p of base.players) {
    if (!removed.has(p.seat)) bySeat.set(p.seat, advance(p, n));
  }
  for (const p of delta.changed) bySeat.set(p.seat, { ...p });
  return { players: [...bySeat.values()].sort((a, b) => a.seat - b.seat) };
}

/** The arena's `GameAdapter` for `StateMirror` and `TicksyncClient`. */
export const arenaGame = { decodeState: decodeView, decodeDelta, applyDelta };

interface Pending {
  seq: number;
  dir: number;
  /** The server tick (estimated) when the input was sent. */
  sentTick: number;
}

/**
 * Own-player prediction, reconciled against acknowledged inputs. Record each input as it
 * is sent; `predict` starts from the newest acknowledged state (whose `input_seq` says
 * which inputs it already includes) and replays the rest.
 */
export class ArenaPredictor {
  private pending: Pending[] = [];

  /** Notes an input sent with `seq` at the estimated server tick `sentTick`. */
  record(seq: number, input: ArenaInput, sentTick: number): void {
    this.pending.push({ seq, dir: packDir(input.dx, input.dy), sentTick });
  }

  /** Inputs sent and not yet included in a state. */
  get unacknowledged(): number {
    return this.pending.length;
  }

  /** The direction of the newest input sent, if any is unacknowledged. */
  get latestDir(): number | null {
    return this.pending.length ? this.pending[this.pending.length - 1].dir : null;
  }

  /**
   * Where the own player is at server tick `nowTick` (fractional), given `acked`, the
   * player in the state of tick `ackedTick` whose `input_seq` is `inputSeq`. Inputs up
   * to `inputSeq` are dropped; each later one takes effect at the tick after it was sent
   * (and not before `ackedTick + 1`), the applying tick already moving along it.
   */
  predict(acked: ArenaPlayer, ackedTick: bigint, inputSeq: number, nowTick: number): ArenaPlayer {
    this.pending = this.pending.filter((p) => p.seq > inputSeq);
    let at = Number(ackedTick);
    let p = acked;
    for (const input of this.pending) {
      const applies = Math.max(at + 1, Math.ceil(input.sentTick));
      if (applies > nowTick + 1) break;
      p = advance(p, Math.max(0, applies - 1 - at));
      at = Math.max(at, applies - 1);
      p = { ...p, dir: input.dir };
    }
    return advance(p, Math.max(0, nowTick - at));
  }

  /** Forgets every input (a new room or connection). */
  clear(): void {
    this.pending = [];
  }
}
