//! Checks that a finished tic-tac-toe game ended the way its final board allows.
//!
//! Pure: a board and the server's `GameOver` in, a verdict out. A load that counts
//! "games that ended without a legal outcome" runs every game through [`check_outcome`].

use crate::game::tictactoe_ai::{has_line, mark_of};
use crate::protocol::{EndReason, Seat};

use super::GameResult;

/// A legal ending, independent of who is asking.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    /// `winner` completed a line.
    Win {
        /// The seat with the line.
        winner: Seat,
    },
    /// A full board without a line.
    Draw,
    /// `winner` won because the other player timed out or abandoned the game.
    Forfeit {
        /// The seat awarded the game.
        winner: Seat,
    },
}

impl Verdict {
    /// The verdict as `seat` experiences it.
    pub fn result_for(self, seat: Seat) -> GameResult {
        match self {
            Verdict::Win { winner } if winner == seat => GameResult::Won,
            Verdict::Win { .. } => GameResult::Lost,
            Verdict::Draw => GameResult::Drew,
            Verdict::Forfeit { .. } => GameResult::Forfeit,
        }
    }
}

/// Whether `winner` and `reason` (from `RoomEvent::GameOver`) are what `board` (the final
/// snapshot's) allows: a `Win` needs a completed line of the winner's mark and none of the
/// loser's; a `Draw` a full board with no line; a forfeit a winner and no line on the
/// board (a line would have ended the game as a `Win`). Every board must also have been
/// reachable by alternating moves, X first.
///
/// # Errors
/// A description of what does not match.
pub fn check_outcome(
    board: &[u8; 9],
    winner: Option<Seat>,
    reason: EndReason,
) -> Result<Verdict, String> {
    if let Some(bad) = board.iter().find(|&&c| c > 2) {
        return Err(format!("board {board:?} holds a mark {bad}"));
    }
    let xs = board.iter().filter(|&&c| c == 1).count();
    let os = board.iter().filter(|&&c| c == 2).count();
    if !(xs == os || xs == os + 1) {
        return Err(format!("board {board:?} has {xs} X and {os} O"));
    }
    let x_line = has_line(board, 1);
    let o_line = has_line(board, 2);
    let full = xs + os == 9;
    match (reason, winner) {
        (EndReason::Win, Some(seat @ (0 | 1))) => {
            let (mine, theirs) = if seat == 0 {
                (x_line, o_line)
            } else {
                (o_line, x_line)
            };
            // The winner moved last: X has one more mark after an X win, equal after O's.
            let last_mover_ok = if seat == 0 { xs == os + 1 } else { xs == os };
            if mine && !theirs && last_mover_ok {
                Ok(Verdict::Win { winner: seat })
            } else {
                Err(format!(
                    "Win for seat {seat} on board {board:?} (line for {}: {mine}, for the other: {theirs})",
                    mark_of(seat)
                ))
            }
        }
        (EndReason::Draw, None) if full && !x_line && !o_line => Ok(Verdict::Draw),
        (EndReason::TurnTimeout | EndReason::Abandoned, Some(seat @ (0 | 1)))
            if !x_line && !o_line =>
        {
            Ok(Verdict::Forfeit { winner: seat })
        }
        (reason, winner) => Err(format!(
            "{reason:?} with winner {winner:?} on board {board:?}"
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wins_need_the_winners_line() {
        let x_row = [1, 1, 1, 2, 2, 0, 0, 0, 0];
        assert_eq!(
            check_outcome(&x_row, Some(0), EndReason::Win),
            Ok(Verdict::Win { winner: 0 })
        );
        assert!(check_outcome(&x_row, Some(1), EndReason::Win).is_err());
        assert!(check_outcome(&x_row, None, EndReason::Draw).is_err());
        assert!(check_outcome(&[1, 2, 0, 0, 0, 0, 0, 0, 0], Some(0), EndReason::Win).is_err());
    }

    #[test]
    fn draws_need_a_full_board_without_lines() {
        let draw = [1, 2, 1, 1, 2, 2, 2, 1, 1];
        assert_eq!(
            check_outcome(&draw, None, EndReason::Draw),
            Ok(Verdict::Draw)
        );
        assert!(check_outcome(&[1, 2, 1, 0, 0, 0, 0, 0, 0], None, EndReason::Draw).is_err());
    }

    #[test]
    fn forfeits_are_legal_on_open_boards_and_count_apart() {
        let open = [1, 2, 0, 0, 0, 0, 0, 0, 0];
        let verdict = check_outcome(&open, Some(1), EndReason::TurnTimeout).unwrap();
        assert_eq!(verdict, Verdict::Forfeit { winner: 1 });
        assert_eq!(verdict.result_for(1), GameResult::Forfeit);
        assert!(check_outcome(&open, None, EndReason::Abandoned).is_err());
        assert!(
            check_outcome(&[1, 1, 1, 2, 2, 0, 0, 0, 0], Some(1), EndReason::Abandoned).is_err()
        );
    }

    #[test]
    fn unreachable_boards_are_refused() {
        assert!(check_outcome(&[2, 2, 2, 0, 0, 0, 0, 1, 1], Some(1), EndReason::Win).is_err());
        assert!(
            check_outcome(&[3, 0, 0, 0, 0, 0, 0, 0, 0], Some(0), EndReason::Abandoned).is_err()
        );
    }
}
