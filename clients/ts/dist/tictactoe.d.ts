/**
 * Tic-tac-toe's payloads (PROTOCOL.md "Tic-tac-toe"): the move a player sends in
 * `Input.data` and the view that arrives in `Snapshot.state`, in the MessagePack codec.
 */
/** The game's name on the server. */
export declare const TICTACTOE = "tictactoe";
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
/** Encodes a move for `Input.data`. */
export declare function encodeMove(move: TicTacToeMove): Uint8Array;
/** Decodes a move (as the server would). */
export declare function decodeMove(bytes: Uint8Array): TicTacToeMove;
/** Decodes `Snapshot.state`. */
export declare function decodeView(bytes: Uint8Array): TicTacToeView;
/** The three cells of the winning line for `winner`, if the board has one. */
export declare function winningLine(view: TicTacToeView): number[] | null;
