/**
 * Battleship's payloads (PROTOCOL.md "Battleship"): the room options, the shot a player
 * sends in `Input.data`, the per-viewer view that arrives in `Snapshot.state` and the
 * events that arrive in `GameEvent.data`, in the MessagePack codec.
 */

import { pack, struct, u64, uint, unpack, variant, WireError } from "./wire.js";

/** The game's name on the server. */
export const BATTLESHIP = "battleship";

/** What a viewer knows of a cell (`BoardView.cells`). */
export const CELL = { UNKNOWN: 0, MISS: 1, HIT: 2, SUNK: 3, SHIP: 4 } as const;

/** `Fleet`: `Classic` (ships of 5, 4, 3, 3, 2) or `Quick` (3, 2, 2). */
export type Fleet = "Classic" | "Quick";

/** `BattleshipOptions`: the room options (`settings.options` or `FindMatch.options`). */
export interface BattleshipOptions {
  /** Cells a side, 6 to 10; `null` (or left out) for 8. */
  size?: number | null;
  /** The fleet; `null` (or left out) for `Classic`. */
  fleet?: Fleet | null;
  /** Seconds per shot, 1 to 3600; `null` (or left out) for 20. */
  turn_seconds?: number | null;
}

/** `BattleshipShot`: the cell of the enemy board to fire at, `row * size + column`. */
export interface BattleshipShot {
  cell: number;
}

/** `BoardView`: one board as the viewer sees it. */
export interface BoardView {
  /** `size * size` cells row by row, each a `CELL` code. */
  cells: number[];
  /** Ships of this board not yet sunk. */
  afloat: number;
}

/** `BattleshipView`: the game as one viewer may see it (own ships only; shots on both). */
export interface BattleshipView {
  size: number;
  /** The viewer's seat; `null` for a spectator. */
  you: number | null;
  /** The boards seat 0 and seat 1 defend. */
  boards: [BoardView, BoardView];
  /** The seat to fire, or `null` once the game is over. */
  to_move: number | null;
  /** The tick at which the server fires for the seat to move (0 once over). */
  turn_deadline: bigint;
  winner: number | null;
  over: boolean;
}

/** `BattleshipEvent`: `Miss` or `Hit` for every shot, `Sunk` after the hit that sinks. */
export type BattleshipEvent =
  | { type: "Miss"; by: number; cell: number; auto: boolean }
  | { type: "Hit"; by: number; cell: number; auto: boolean }
  | { type: "Sunk"; by: number; ship: number; cells: number[] };

const FLEETS: readonly Fleet[] = ["Classic", "Quick"];

/** Encodes the room options for `RoomSettings.options` or `FindMatch.options`. */
export function encodeOptions(options: BattleshipOptions): Uint8Array {
  return pack({
    size: options.size ?? null,
    fleet: options.fleet ?? null,
    turn_seconds: options.turn_seconds ?? null,
  });
}

/** Decodes room options (as the server would). */
export function decodeOptions(bytes: Uint8Array): BattleshipOptions {
  const what = "BattleshipOptions";
  const m = struct(unpack(bytes), what);
  const fleet = m.fleet == null ? null : variant(m.fleet, `${what}.fleet`)[0];
  if (fleet !== null && !(FLEETS as readonly string[]).includes(fleet)) {
    throw new WireError(`${what}.fleet: unknown fleet ${fleet}`);
  }
  return {
    size: m.size == null ? null : uint(m, "size", what, 8),
    fleet: fleet as Fleet | null,
    turn_seconds: m.turn_seconds == null ? null : uint(m, "turn_seconds", what, 32),
  };
}

/** Encodes a shot for `Input.data`. */
export function encodeShot(shot: BattleshipShot): Uint8Array {
  return pack({ cell: shot.cell });
}

/** Decodes a shot (as the server would). */
export function decodeShot(bytes: Uint8Array): BattleshipShot {
  return { cell: uint(struct(unpack(bytes), "BattleshipShot"), "cell", "BattleshipShot", 8) };
}

function board(value: unknown, what: string): BoardView {
  const m = struct(value, what);
  if (!Array.isArray(m.cells)) throw new WireError(`${what}.cells: expected an array`);
  const cells = m.cells.map((cell, i) => {
    const code = uint({ cell }, "cell", `${what}.cells[${i}]`, 8);
    if (code > CELL.SHIP) throw new WireError(`${what}.cells[${i}]: unknown code ${code}`);
    return code;
  });
  return { cells, afloat: uint(m, "afloat", what, 8) };
}

/** Decodes `Snapshot.state`. */
export function decodeView(bytes: Uint8Array): BattleshipView {
  const what = "BattleshipView";
  const m = struct(unpack(bytes), what);
  const size = uint(m, "size", what, 8);
  if (!Array.isArray(m.boards) || m.boards.length !== 2) {
    throw new WireError(`${what}.boards: expected an array of two boards`);
  }
  const boards = m.boards.map((b, i) => board(b, `${what}.boards[${i}]`));
  for (const [i, b] of boards.entries()) {
    if (b.cells.length !== size * size) {
      throw new WireError(`${what}.boards[${i}]: expected ${size * size} cells`);
    }
  }
  const seat = (name: string) => (m[name] == null ? null : uint(m, name, what, 8));
  const over = m.over;
  if (typeof over !== "boolean") throw new WireError(`${what}.over: expected a bool`);
  return {
    size,
    you: seat("you"),
    boards: [boards[0], boards[1]],
    to_move: seat("to_move"),
    turn_deadline: u64(m, "turn_deadline", what),
    winner: seat("winner"),
    over,
  };
}

/** Decodes `GameEvent.data`. */
export function decodeEvent(bytes: Uint8Array): BattleshipEvent {
  const what = "BattleshipEvent";
  const [name, body] = variant(unpack(bytes), what);
  const m = struct(body, `${what}.${name}`);
  const by = uint(m, "by", what, 8);
  switch (name) {
    case "Miss":
    case "Hit": {
      const auto = m.auto;
      if (typeof auto !== "boolean") throw new WireError(`${what}.auto: expected a bool`);
      return { type: name, by, cell: uint(m, "cell", what, 8), auto };
    }
    case "Sunk": {
      if (!Array.isArray(m.cells)) throw new WireError(`${what}.cells: expected an array`);
      const cells = m.cells.map((cell, i) => uint({ cell }, "cell", `${what}.cells[${i}]`, 8));
      return { type: "Sunk", by, ship: uint(m, "ship", what, 8), cells };
    }
    default:
      throw new WireError(`${what}: unknown variant ${name}`);
  }
}
