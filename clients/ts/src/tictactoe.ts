/**
 * Tic-tac-toe's payloads (PROTOCOL.md "Tic-tac-toe"): the move a player sends in
 * `Input.data` and the view that arrives in `Snapshot.state`, in the MessagePack codec.
 */

import { pack, struct, u64, uint, unpack, WireError } from "./wire.js";

/** The game's name on the server. */
export const TICTACTOE = "tictactoe";

/** `TicTacToeMove`: the cell to mark, 0 to 8, row by row from the top left. */
export interface TicTacToeMove {
  cell: number;
}

/** `TicTacToeView`: the board as every viewer sees it. */
export interface TicTacToeView {
  /** Cells row by row: 0 empty, 1 X (seat 0), 2 O (seat 1). */
  board: number[];
  /** The seat to move, or `null` once the game is over. */
  to_move: number | null;
  /** The tick at which the player to move forfeits (0 once over). */
  turn_deadline: bigint;
  /** The winner once decided; `null` while running or for a draw. */
  winner: number | null;
  over: boolean;
}

/** `TicTacToeOptions`: the room options of `CreateRoom`'s `settings.options`. */
export interface TicTacToeOptions {
  /** Seconds per turn, 1 to 86400; `null` (or left out) for the default, 30. */
  turn_seconds?: number | null;
}

/** Encodes tic-tac-toe's room options for `RoomSettings.options`. */
export function encodeOptions(options: TicTacToeOptions): Uint8Array {
  return pack({ turn_seconds: options.turn_seconds ?? null });
}

/** Encodes a move for `Input.data`. */
export function encodeMove(move: TicTacToeMove): Uint8Array {
  return pack({ cell: move.cell });
}

/** Decodes a move (as the server would). */
export function decodeMove(bytes: Uint8Array): TicTacToeMove {
  return { cell: uint(struct(unpack(bytes), "TicTacToeMove"), "cell", "TicTacToeMove", 8) };
}

/** Decodes `Snapshot.state`. */
export function decodeView(bytes: Uint8Array): TicTacToeView {
  const what = "TicTacToeView";
  const m = struct(unpack(bytes), what);
  const board = m.board;
  if (!Array.isArray(board) || board.length !== 9) {
    throw new WireError(`${what}.board: expected an array of nine integers`);
  }
  const cells = board.map((cell, i) => uint({ cell }, "cell", `${what}.board[${i}]`, 8));
  const seat = (name: string) => (m[name] == null ? null : uint(m, name, what, 8));
  const over = m.over;
  if (typeof over !== "boolean") throw new WireError(`${what}.over: expected a bool`);
  return {
    board: cells,
    to_move: seat("to_move"),
    turn_deadline: u64(m, "turn_deadline", what),
    winner: seat("winner"),
    over,
  };
}

/** The three cells of the winning line for `winner`, if the board has one. */
export function winningLine(view: TicTacToeView): number[] | null {
  if (view.winner == null) return null;
  const mark = view.winner + 1;
  const lines = [
    [0, 1, 2], [3, 4, 5], [6, 7, 8], [0, 3, 6], [1, 4, 7], [2, 5, 8], [0, 4, 8], [2, 4, 6],
  ];
  return lines.find((line) => line.every((cell) => view.board[cell] === mark)) ?? null;
}
