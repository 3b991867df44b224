//! Ratings: Glicko-2 (Glickman, "Example of the Glicko-2 system", 2013) through the
//! `skillratings` crate.
//!
//! A game is one rating period for each of its players: every player's new rating comes
//! from its result against each other player, all taken at their ratings before the game.
//! With two players this is plain Glicko-2; with more (the arena) the winner beat everyone
//! and everyone else drew with each other and lost to the winner. New players start at
//! 1500 (deviation 350, volatility 0.06), the scale the matchmaker's windows use.

use skillratings::Outcomes;
pub use skillratings::glicko2::Glicko2Rating;
use skillratings::glicko2::{Glicko2Config, glicko2_rating_period};

use crate::protocol::Seat;

/// One seat's result.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SeatResult {
    /// This seat won.
    Win,
    /// Another seat won.
    Loss,
    /// Nobody won.
    Draw,
}

impl SeatResult {
    /// The result of `seat` when `winner` won.
    pub fn of(seat: Seat, winner: Option<Seat>) -> SeatResult {
        match winner {
            None => SeatResult::Draw,
            Some(w) if w == seat => SeatResult::Win,
            Some(_) => SeatResult::Loss,
        }
    }

    /// As stored and shown.
    pub fn name(self) -> &'static str {
        match self {
            SeatResult::Win => "win",
            SeatResult::Loss => "loss",
            SeatResult::Draw => "draw",
        }
    }
}

/// The outcome of `a` against `b`, from `a`'s side.
fn versus(a: SeatResult, b: SeatResult) -> Outcomes {
    match (a, b) {
        (SeatResult::Win, _) => Outcomes::WIN,
        (_, SeatResult::Win) => Outcomes::LOSS,
        _ => Outcomes::DRAW,
    }
}

/// Every player's rating after a game, in the order given: `players` are each player's
/// rating before the game and result.
pub fn new_ratings(players: &[(Glicko2Rating, SeatResult)]) -> Vec<Glicko2Rating> {
    let config = Glicko2Config::new();
    let mut opponents: Vec<(Glicko2Rating, Outcomes)> =
        Vec::with_capacity(players.len().saturating_sub(1));
    players
        .iter()
        .enumerate()
        .map(|(i, (rating, result))| {
            opponents.clear();
            opponents.extend(
                players
                    .iter()
                    .enumerate()
                    .filter(|(j, _)| *j != i)
                    .map(|(_, (other, theirs))| (*other, versus(*result, *theirs))),
            );
            glicko2_rating_period(rating, &opponents, &config)
        })
        .collect()
}

/// A rating as the protocol carries it: rounded, within `u16`.
pub fn display_rating(rating: f64) -> u16 {
    rating.round().clamp(0.0, f64::from(u16::MAX)) as u16
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_winner_gains_what_the_loser_loses_between_equals() {
        let new = Glicko2Rating::new();
        let after = new_ratings(&[(new, SeatResult::Win), (new, SeatResult::Loss)]);
        assert!(after[0].rating > 1500.0 && after[1].rating < 1500.0);
        assert!((after[0].rating - 1500.0 - (1500.0 - after[1].rating)).abs() < 1e-6);
        assert!(after[0].deviation < 350.0, "a game makes the rating surer");
        // Glicko-2 from 1500/350 with one win against an equal: about +162.
        assert_eq!(display_rating(after[0].rating), 1662);
    }

    #[test]
    fn a_draw_between_equals_moves_no_rating() {
        let new = Glicko2Rating::new();
        let after = new_ratings(&[(new, SeatResult::Draw), (new, SeatResult::Draw)]);
        for rating in after {
            assert_eq!(display_rating(rating.rating), 1500);
        }
    }

    #[test]
    fn an_upset_moves_ratings_more_than_an_expected_win() {
        let strong = Glicko2Rating {
            rating: 1800.0,
            deviation: 60.0,
            volatility: 0.06,
        };
        let weak = Glicko2Rating {
            rating: 1400.0,
            deviation: 60.0,
            volatility: 0.06,
        };
        let expected = new_ratings(&[(strong, SeatResult::Win), (weak, SeatResult::Loss)]);
        let upset = new_ratings(&[(strong, SeatResult::Loss), (weak, SeatResult::Win)]);
        let gain = |after: &Glicko2Rating, before: &Glicko2Rating| after.rating - before.rating;
        assert!(gain(&upset[1], &weak) > gain(&expected[0], &strong));
    }

    #[test]
    fn in_a_free_for_all_only_the_winner_gains() {
        let new = Glicko2Rating::new();
        let players: Vec<_> = (0..8)
            .map(|seat| (new, SeatResult::of(seat, Some(3))))
            .collect();
        let after = new_ratings(&players);
        for (seat, rating) in after.iter().enumerate() {
            if seat == 3 {
                assert!(rating.rating > 1500.0);
            } else {
                assert!(rating.rating < 1500.0);
            }
        }
    }
}
