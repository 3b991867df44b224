//! Tic-tac-toe: the built-in turn-based game.
//!
//! Seat 0 plays X and moves first; seat 1 plays O. Cells are numbered 0..9 row by row.
//! Each turn has a time limit ([`TicTacToeOptions::turn_seconds`], default
//! [`DEFAULT_TURN_SECONDS`], counted in ticks); a player who runs out of time forfeits. The
//! timer keeps running while a player is disconnected.

use serde::{Deserialize, Serialize};

use super::{Ctx, Game, GameConfig, Outcome, Rejection, Viewer};
use crate::protocol::{EndReason, Seat, Tick};

/// Seconds per turn when the room's options name none.
pub const DEFAULT_TURN_SECONDS: u32 = 30;

/// Longest turn time a room may ask for: one day.
pub const MAX_TURN_SECONDS: u32 = 86_400;

/// Tic-tac-toe's room options (`RoomSettings.options`).
///
/// One field, `turn_seconds: Option<u32>`, encoded in the creating client's codec (a
/// MessagePack client may leave it out).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct TicTacToeOptions {
    /// Seconds a player has for each turn, 1 to [`MAX_TURN_SECONDS`]; `None` for
    /// [`DEFAULT_TURN_SECONDS`].
    pub turn_seconds: Option<u32>,
}

/// The eight lines that win, as cell indices.
pub const LINES: [[usize; 3]; 8] = [
    [0, 1, 2],
    [3, 4, 5],
    [6, 7, 8],
    [0, 3, 6],
    [1, 4, 7],
    [2, 5, 8],
    [0, 4, 8],
    [2, 4, 6],
];

/// A move: the cell to mark, 0..=8.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct TicTacToeMove {
    /// Cell index, row by row from the top left.
    pub cell: u8,
}

/// What every viewer sees.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TicTacToeView {
    /// Cells row by row: 0 empty, 1 X (seat 0), 2 O (seat 1).
    pub board: [u8; 9],
    /// The seat to move, or `None` once the game is over.
    pub to_move: Option<Seat>,
    /// The tick at which the player to move forfeits (0 once over).
    pub turn_deadline: Tick,
    /// The winner, once decided; `None` while running or for a draw.
    pub winner: Option<Seat>,
    /// Whether the game is over.
    pub over: bool,
}

/// A game of tic-tac-toe.
#[derive(Debug, Clone)]
pub struct TicTacToe {
    board: [u8; 9],
    to_move: Seat,
    turn_ticks: Tick,
    turn_deadline: Tick,
    outcome: Option<Outcome>,
}

impl TicTacToe {
    /// The board: 0 empty, 1 X (seat 0), 2 O (seat 1).
    pub fn board(&self) -> [u8; 9] {
        self.board
    }

    fn finish(&mut self, winner: Option<Seat>, reason: EndReason) {
        self.outcome = Some(Outcome { winner, reason });
    }

    fn line_complete(&self, mark: u8) -> bool {
        LINES
            .iter()
            .any(|line| line.iter().all(|&c| self.board[c] == mark))
    }
}

/// The mark a seat places: 1 for seat 0, 2 for seat 1.
fn mark_of(seat: Seat) -> u8 {
    seat + 1
}

impl Game for TicTacToe {
    const NAME: &'static str = "tictactoe";
    const SEATS: u8 = 2;

    type Options = TicTacToeOptions;
    type Input = TicTacToeMove;
    type View = TicTacToeView;
    type Event = ();

    fn validate_options(options: &TicTacToeOptions) -> Result<(), String> {
        match options.turn_seconds {
            Some(seconds) if !(1..=MAX_TURN_SECONDS).contains(&seconds) => Err(format!(
                "turn_seconds must be 1 to {MAX_TURN_SECONDS}, not {seconds}"
            )),
            _ => Ok(()),
        }
    }

    fn new(config: &GameConfig, options: TicTacToeOptions, ctx: &mut Ctx<'_, ()>) -> Self {
        let seconds = options
            .turn_seconds
            .unwrap_or(DEFAULT_TURN_SECONDS)
            .clamp(1, MAX_TURN_SECONDS);
        let turn_ticks = u64::from(seconds) * u64::from(config.tick_hz.max(1));
        TicTacToe {
            board: [0; 9],
            to_move: 0,
            turn_ticks,
            turn_deadline: ctx.tick() + turn_ticks,
            outcome: None,
        }
    }

    fn validate(&self, seat: Seat, input: &TicTacToeMove) -> Result<(), Rejection> {
        if self.outcome.is_some() {
            return Err(Rejection::game_over());
        }
        if seat != self.to_move {
            return Err(Rejection::not_your_turn());
        }
        match self.board.get(usize::from(input.cell)) {
            None => Err(Rejection::illegal("cell out of range: cells are 0 to 8")),
            Some(0) => Ok(()),
            Some(_) => Err(Rejection::illegal("cell already occupied")),
        }
    }

    fn apply(&mut self, ctx: &mut Ctx<'_, ()>, seat: Seat, input: TicTacToeMove) -> bool {
        let now = ctx.tick();
        if self.validate(seat, &input).is_err() {
            return false;
        }
        let mark = mark_of(seat);
        self.board[usize::from(input.cell)] = mark;
        if self.line_complete(mark) {
            self.finish(Some(seat), EndReason::Win);
        } else if self.board.iter().all(|&c| c != 0) {
            self.finish(None, EndReason::Draw);
        } else {
            self.to_move = 1 - seat;
            self.turn_deadline = now + self.turn_ticks;
        }
        true
    }

    fn tick(&mut self, ctx: &mut Ctx<'_, ()>) -> bool {
        let now = ctx.tick();
        if self.outcome.is_none() && now >= self.turn_deadline {
            let winner = 1 - self.to_move;
            self.finish(Some(winner), EndReason::TurnTimeout);
            return true;
        }
        false
    }

    fn on_leave(&mut self, _ctx: &mut Ctx<'_, ()>, seat: Seat) -> bool {
        if self.outcome.is_some() || seat > 1 {
            return false;
        }
        self.finish(Some(1 - seat), EndReason::Abandoned);
        true
    }

    fn view(&self, _viewer: Viewer) -> TicTacToeView {
        let over = self.outcome.is_some();
        TicTacToeView {
            board: self.board,
            to_move: (!over).then_some(self.to_move),
            turn_deadline: if over { 0 } else { self.turn_deadline },
            winner: self.outcome.and_then(|o| o.winner),
            over,
        }
    }

    fn outcome(&self) -> Option<Outcome> {
        self.outcome
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::game::test_ctx as at;
    use crate::protocol::ErrorCode;
    use crate::protocol::RoomSettings;

    fn new_game() -> TicTacToe {
        let config = GameConfig {
            tick_hz: 10,
            settings: RoomSettings::default(),
            players: 2,
            seed: 0,
        };
        TicTacToe::new(&config, TicTacToeOptions::default(), &mut at(0))
    }

    fn play(game: &mut TicTacToe, moves: &[(Seat, u8)]) {
        for (i, &(seat, cell)) in moves.iter().enumerate() {
            let input = TicTacToeMove { cell };
            assert_eq!(game.validate(seat, &input), Ok(()), "move {i}");
            assert!(game.apply(&mut at(i as Tick), seat, input));
        }
    }

    #[test]
    fn x_wins_a_row() {
        let mut g = new_game();
        play(&mut g, &[(0, 0), (1, 3), (0, 1), (1, 4), (0, 2)]);
        assert_eq!(
            g.outcome(),
            Some(Outcome {
                winner: Some(0),
                reason: EndReason::Win
            })
        );
        let view = g.view(Viewer::Spectator);
        assert!(view.over);
        assert_eq!(view.to_move, None);
        assert_eq!(view.board, [1, 1, 1, 2, 2, 0, 0, 0, 0]);
    }

    #[test]
    fn o_wins_a_diagonal() {
        let mut g = new_game();
        play(&mut g, &[(0, 1), (1, 2), (0, 3), (1, 4), (0, 5), (1, 6)]);
        assert_eq!(g.outcome().and_then(|o| o.winner), Some(1));
    }

    #[test]
    fn full_board_without_line_is_a_draw() {
        let mut g = new_game();
        // X O X / X O O / O X X
        play(
            &mut g,
            &[
                (0, 0),
                (1, 1),
                (0, 2),
                (1, 4),
                (0, 3),
                (1, 5),
                (0, 7),
                (1, 6),
                (0, 8),
            ],
        );
        assert_eq!(
            g.outcome(),
            Some(Outcome {
                winner: None,
                reason: EndReason::Draw
            })
        );
    }

    #[test]
    fn illegal_moves_are_rejected_and_change_nothing() {
        let mut g = new_game();
        assert_eq!(
            g.validate(1, &TicTacToeMove { cell: 0 }),
            Err(Rejection::not_your_turn())
        );
        assert_eq!(
            g.validate(0, &TicTacToeMove { cell: 9 })
                .map_err(|r| r.code),
            Err(ErrorCode::IllegalInput)
        );
        play(&mut g, &[(0, 4)]);
        assert_eq!(
            g.validate(1, &TicTacToeMove { cell: 4 })
                .map_err(|r| r.code),
            Err(ErrorCode::IllegalInput)
        );
        let before = g.view(Viewer::Player(1));
        assert!(!g.apply(&mut at(2), 1, TicTacToeMove { cell: 4 }));
        assert_eq!(g.view(Viewer::Player(1)), before);
    }

    #[test]
    fn moves_after_the_end_are_refused() {
        let mut g = new_game();
        play(&mut g, &[(0, 0), (1, 3), (0, 1), (1, 4), (0, 2)]);
        assert_eq!(
            g.validate(1, &TicTacToeMove { cell: 8 }),
            Err(Rejection::game_over())
        );
    }

    #[test]
    fn turn_timeout_forfeits_to_the_other_seat() {
        let mut g = new_game(); // 30 s at 10 Hz: 300 ticks
        assert!(!g.tick(&mut at(299)));
        assert!(g.tick(&mut at(300)));
        assert_eq!(
            g.outcome(),
            Some(Outcome {
                winner: Some(1),
                reason: EndReason::TurnTimeout
            })
        );
    }

    #[test]
    fn each_move_restarts_the_turn_timer() {
        let mut g = new_game();
        play(&mut g, &[(0, 0)]); // applied at tick 0: O's deadline is 300
        g.apply(&mut at(250), 1, TicTacToeMove { cell: 4 }); // X's deadline is 550
        assert!(!g.tick(&mut at(549)));
        assert!(g.tick(&mut at(550)));
        assert_eq!(g.outcome().and_then(|o| o.winner), Some(1));
    }

    #[test]
    fn turn_seconds_are_an_option_checked_when_the_room_is_made() {
        let ok = |turn_seconds| TicTacToe::validate_options(&TicTacToeOptions { turn_seconds });
        assert_eq!(ok(None), Ok(()));
        assert_eq!(ok(Some(1)), Ok(()));
        assert_eq!(ok(Some(MAX_TURN_SECONDS)), Ok(()));
        assert!(ok(Some(0)).unwrap_err().contains("turn_seconds"));
        assert!(ok(Some(MAX_TURN_SECONDS + 1)).is_err());
        let config = GameConfig {
            tick_hz: 10,
            settings: RoomSettings::default(),
            players: 2,
            seed: 0,
        };
        let options = TicTacToeOptions {
            turn_seconds: Some(2),
        };
        let mut g = TicTacToe::new(&config, options, &mut at(100));
        assert!(!g.tick(&mut at(119)));
        assert!(g.tick(&mut at(120)), "2 s at 10 Hz after the start");
    }

    #[test]
    fn abandoning_forfeits() {
        let mut g = new_game();
        assert!(g.on_leave(&mut at(5), 0));
        assert_eq!(
            g.outcome(),
            Some(Outcome {
                winner: Some(1),
                reason: EndReason::Abandoned
            })
        );
        assert!(
            !g.on_leave(&mut at(6), 1),
            "a finished game does not change"
        );
    }
}
