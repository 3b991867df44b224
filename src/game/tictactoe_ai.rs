//! Tic-tac-toe players: pure move choosers for bots, load generators and tests, and the
//! game's server bot ([`ServerBot`], what `--bot-fill-after` seats).
//!
//! Like the rules in [`super::tictactoe`], nothing here sees a socket, a codec, tokio or the
//! clock: a strategy looks at a board and returns a cell. Randomness comes from the caller's
//! [`rand::Rng`], so a seeded generator replays the same games.
//!
//! The perfect player is a negamax over every position, memoised once per process in a
//! table of 3^9 entries (the board read as a base-3 number), so a move costs a few table
//! reads after the first call.

use std::sync::OnceLock;

use rand::Rng;
use rand::seq::IndexedRandom;

use rand::SeedableRng;

use super::tictactoe::{LINES, TicTacToe, TicTacToeMove, TicTacToeView};
use super::{BotGame, GameBot, GameRng};
use crate::protocol::Seat;

/// How a bot chooses its moves.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Strategy {
    /// A uniformly random empty cell.
    Random,
    /// An optimal move (minimax), ties broken at random; never loses.
    Perfect,
}

impl std::str::FromStr for Strategy {
    type Err = String;

    fn from_str(text: &str) -> Result<Strategy, String> {
        match text {
            "random" => Ok(Strategy::Random),
            "perfect" => Ok(Strategy::Perfect),
            other => Err(format!("unknown strategy `{other}`: use random or perfect")),
        }
    }
}

impl Strategy {
    /// The cell to play on `board` for `seat`, or `None` when no cell is empty.
    pub fn choose(self, board: &[u8; 9], seat: Seat, rng: &mut impl Rng) -> Option<u8> {
        match self {
            Strategy::Random => random_move(board, rng),
            Strategy::Perfect => perfect_move(board, seat, rng),
        }
    }
}

/// The mark a seat places: 1 (X) for seat 0, 2 (O) for seat 1.
pub fn mark_of(seat: Seat) -> u8 {
    if seat == 0 { 1 } else { 2 }
}

/// Whether `mark` has three in a row on `board`.
pub fn has_line(board: &[u8; 9], mark: u8) -> bool {
    LINES
        .iter()
        .any(|line| line.iter().all(|&cell| board[cell] == mark))
}

/// The empty cells of `board`, in order.
pub fn empty_cells(board: &[u8; 9]) -> impl Iterator<Item = u8> + '_ {
    (0u8..9).filter(|&cell| board[usize::from(cell)] == 0)
}

/// A uniformly random empty cell, or `None` on a full board.
pub fn random_move(board: &[u8; 9], rng: &mut impl Rng) -> Option<u8> {
    let empty: Vec<u8> = empty_cells(board).collect();
    empty.choose(rng).copied()
}

/// An optimal move for `seat`: one that wins soonest, or failing that draws, or failing that
/// loses latest. Ties are broken at random. `None` on a full board.
pub fn perfect_move(board: &[u8; 9], seat: Seat, rng: &mut impl Rng) -> Option<u8> {
    let mark = mark_of(seat);
    let mut best: Vec<u8> = Vec::with_capacity(9);
    let mut best_score = i8::MIN;
    for cell in empty_cells(board) {
        let mut next = *board;
        next[usize::from(cell)] = mark;
        // The score of the position for the opponent, who moves next, negated.
        let score = -value(&next, other(mark));
        if score > best_score {
            best_score = score;
            best.clear();
        }
        if score == best_score {
            best.push(cell);
        }
    }
    best.choose(rng).copied()
}

fn other(mark: u8) -> u8 {
    if mark == 1 { 2 } else { 1 }
}

/// Positions read as base-3 numbers: 3^9.
const POSITIONS: usize = 19_683;

fn index(board: &[u8; 9]) -> usize {
    board
        .iter()
        .fold(0, |acc, &c| acc * 3 + usize::from(c.min(2)))
}

/// The negamax value of `board` for `to_move` (the mark about to play): positive when it
/// wins with best play, zero for a draw. A quicker result weighs more.
fn value(board: &[u8; 9], to_move: u8) -> i8 {
    static TABLE: OnceLock<Vec<i8>> = OnceLock::new();
    let table = TABLE.get_or_init(|| {
        let mut memo = vec![i8::MIN; POSITIONS * 2];
        // Every board (reachable or not) for both movers, so any lookup below succeeds.
        for position in 0..POSITIONS {
            let mut board = board_of(position);
            negamax(&mut board, 1, &mut memo);
            negamax(&mut board, 2, &mut memo);
        }
        memo
    });
    table[slot(board, to_move)]
}

/// The board whose base-3 reading is `position`.
fn board_of(mut position: usize) -> [u8; 9] {
    let mut board = [0u8; 9];
    for cell in board.iter_mut().rev() {
        *cell = (position % 3) as u8;
        position /= 3;
    }
    board
}

fn slot(board: &[u8; 9], to_move: u8) -> usize {
    index(board) * 2 + usize::from(to_move == 2)
}

fn negamax(board: &mut [u8; 9], to_move: u8, memo: &mut [i8]) -> i8 {
    let slot = slot(board, to_move);
    if memo[slot] != i8::MIN {
        return memo[slot];
    }
    let empty = empty_cells(board).count() as i8;
    let result = if has_line(board, other(to_move)) {
        // The previous move won: the player to move has lost.
        -(1 + empty)
    } else if has_line(board, to_move) {
        // Not reachable in play; scored for completeness.
        1 + empty
    } else if empty == 0 {
        0
    } else {
        let mut best = i8::MIN;
        for cell in 0..9 {
            if board[cell] != 0 {
                continue;
            }
            board[cell] = to_move;
            best = best.max(-negamax(board, other(to_move), memo));
            board[cell] = 0;
        }
        best
    };
    memo[slot] = result;
    result
}

/// Tic-tac-toe's server bot: a [`Strategy`] playing one seat from that seat's view, with
/// its own generator (ties and random moves), seeded by the room.
#[derive(Debug)]
pub struct ServerBot {
    strategy: Strategy,
    rng: GameRng,
}

impl ServerBot {
    /// A bot playing `strategy`, its generator seeded with `seed`.
    pub fn new(strategy: Strategy, seed: u64) -> ServerBot {
        ServerBot {
            strategy,
            rng: GameRng::seed_from_u64(seed),
        }
    }
}

impl GameBot<TicTacToe> for ServerBot {
    fn choose(&mut self, view: &TicTacToeView, seat: Seat) -> Option<TicTacToeMove> {
        if view.over || view.to_move != Some(seat) {
            return None;
        }
        let cell = self.strategy.choose(&view.board, seat, &mut self.rng)?;
        Some(TicTacToeMove { cell })
    }
}

/// Server bots for tic-tac-toe: `random` or `perfect` (see [`Strategy`]).
impl BotGame for TicTacToe {
    fn bot(strategy: &str, seed: u64) -> Option<Box<dyn GameBot<TicTacToe>>> {
        let strategy: Strategy = strategy.parse().ok()?;
        Some(Box::new(ServerBot::new(strategy, seed)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::game::tictactoe::TicTacToeOptions;
    use crate::game::{Game, GameConfig, Viewer, test_ctx};
    use crate::protocol::RoomSettings;
    use rand::rngs::StdRng;

    /// Two server bots play a real game to its end through the rules' `validate` and
    /// `apply`; every move they choose must be legal. Returns the moves played.
    fn bots_play(x: &str, o: &str, seed: u64) -> Vec<u8> {
        let config = GameConfig {
            tick_hz: 10,
            settings: RoomSettings::default(),
            players: 2,
            seed,
        };
        let mut game = TicTacToe::new(&config, TicTacToeOptions::default(), &mut test_ctx(0));
        let mut bots = [
            TicTacToe::bot(x, seed).expect("a known strategy"),
            TicTacToe::bot(o, seed + 1).expect("a known strategy"),
        ];
        let mut moves = Vec::new();
        for tick in 1..=9 {
            if game.outcome().is_some() {
                break;
            }
            // Like a room: both bots see the state the tick left, then their inputs apply.
            let inputs: Vec<(Seat, TicTacToeMove)> = (0..2u8)
                .filter_map(|seat| {
                    let view = game.view(Viewer::Player(seat));
                    Some((seat, bots[usize::from(seat)].choose(&view, seat)?))
                })
                .collect();
            assert_eq!(inputs.len(), 1, "exactly the seat to move moves");
            for (seat, input) in inputs {
                assert_eq!(game.validate(seat, &input), Ok(()), "seat {seat} {input:?}");
                assert!(game.apply(&mut test_ctx(tick), seat, input));
                moves.push(input.cell);
            }
        }
        assert!(game.outcome().is_some(), "the game ended: {moves:?}");
        moves
    }

    #[test]
    fn server_bots_play_legal_moves_to_the_end() {
        for seed in 0..40 {
            for (x, o) in [
                ("random", "random"),
                ("random", "perfect"),
                ("perfect", "random"),
            ] {
                bots_play(x, o, seed);
            }
        }
    }

    #[test]
    fn perfect_server_bots_draw_and_replay_alike_from_a_seed() {
        for seed in 0..10 {
            let moves = bots_play("perfect", "perfect", seed);
            assert_eq!(moves.len(), 9, "a draw fills the board");
            assert_eq!(bots_play("perfect", "perfect", seed), moves);
        }
        assert_eq!(
            bots_play("random", "random", 3),
            bots_play("random", "random", 3)
        );
    }

    #[test]
    fn a_server_bot_waits_when_not_its_turn_and_unknown_strategies_have_none() {
        let view = TicTacToeView {
            board: [0; 9],
            to_move: Some(0),
            turn_deadline: 10,
            winner: None,
            over: false,
        };
        let mut bot = TicTacToe::bot("perfect", 1).unwrap();
        assert_eq!(bot.choose(&view, 1), None);
        assert!(bot.choose(&view, 0).is_some());
        let over = TicTacToeView {
            over: true,
            to_move: None,
            ..view
        };
        assert_eq!(bot.choose(&over, 0), None);
        assert!(TicTacToe::bot("clever", 1).is_none());
    }

    /// Plays a whole game between two strategies; returns the final board.
    fn play(x: Strategy, o: Strategy, rng: &mut StdRng) -> [u8; 9] {
        let mut board = [0u8; 9];
        for turn in 0..9u8 {
            let seat = turn % 2;
            let strategy = if seat == 0 { x } else { o };
            let cell = strategy.choose(&board, seat, rng).expect("a legal move");
            assert_eq!(board[usize::from(cell)], 0, "the cell is empty");
            board[usize::from(cell)] = mark_of(seat);
            if has_line(&board, mark_of(seat)) {
                break;
            }
        }
        board
    }

    #[test]
    fn perfect_against_perfect_always_draws() {
        let mut rng = StdRng::seed_from_u64(7);
        for _ in 0..50 {
            let board = play(Strategy::Perfect, Strategy::Perfect, &mut rng);
            assert!(!has_line(&board, 1) && !has_line(&board, 2), "{board:?}");
            assert!(board.iter().all(|&c| c != 0));
        }
    }

    #[test]
    fn perfect_never_loses_to_random() {
        let mut rng = StdRng::seed_from_u64(11);
        for _ in 0..200 {
            let board = play(Strategy::Perfect, Strategy::Random, &mut rng);
            assert!(!has_line(&board, 2), "O beat perfect X: {board:?}");
            let board = play(Strategy::Random, Strategy::Perfect, &mut rng);
            assert!(!has_line(&board, 1), "X beat perfect O: {board:?}");
        }
    }

    #[test]
    fn perfect_takes_a_win_and_blocks_a_loss() {
        let mut rng = StdRng::seed_from_u64(1);
        // X X . / O O . / . . . with X to move: 2 wins at once.
        let board = [1, 1, 0, 2, 2, 0, 0, 0, 0];
        assert_eq!(perfect_move(&board, 0, &mut rng), Some(2));
        // X . . / O O . / X . . with X to move: must block at 5.
        let board = [1, 0, 0, 2, 2, 0, 1, 0, 0];
        assert_eq!(perfect_move(&board, 0, &mut rng), Some(5));
    }

    #[test]
    fn random_moves_are_legal_and_full_boards_have_none() {
        let mut rng = StdRng::seed_from_u64(3);
        let board = [1, 2, 1, 2, 0, 1, 2, 1, 2];
        assert_eq!(random_move(&board, &mut rng), Some(4));
        assert_eq!(random_move(&[1; 9], &mut rng), None);
        assert_eq!(perfect_move(&[1; 9], 0, &mut rng), None);
    }
}
