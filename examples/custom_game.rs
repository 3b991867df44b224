//! Your own game in one file: the dice game Pig, written against [`Game`] and served next
//! to the built-in games with `ticksync::server::Server::start_with_games`.
//!
//! Two players take turns. On your turn you `Roll` as often as you like: each die adds to
//! your turn total, but a 1 loses it and ends your turn. `Hold` banks the turn total. The
//! first to the room's `target` (an option, default 21) wins. It shows room options with
//! validation, the seeded RNG (`ctx.rng()`), and an emitted event (`ctx.emit`) that every
//! client gets, in order, as a `GameEvent` (replayed to a player who resumes).
//!
//! Run: `cargo run --example custom_game -- 127.0.0.1:7878`, then create a room of game
//! `"pig"` from any client (PROTOCOL.md); `tests/it/custom_game.rs` plays it over sockets.

use rand::Rng;
use serde::{Deserialize, Serialize};
use ticksync::game::{Ctx, Game, GameConfig, Outcome, Rejection, Viewer};
use ticksync::protocol::{EndReason, Seat};

/// Room options, in `CreateRoom`'s `settings.options` (empty: the defaults).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default)]
pub struct PigOptions {
    /// Points to win, 5 to 1000.
    pub target: u16,
}

impl Default for PigOptions {
    fn default() -> Self {
        PigOptions { target: 21 }
    }
}

/// A player's input.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum PigMove {
    /// Throw the die.
    Roll,
    /// Bank the turn total and pass the turn.
    Hold,
}

/// What everyone sees.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PigView {
    /// Banked points per seat.
    pub scores: [u16; 2],
    /// Points at risk this turn.
    pub turn_total: u16,
    /// The seat to move; `None` once over.
    pub to_move: Option<Seat>,
    /// Points to win.
    pub target: u16,
}

/// Sent to the room after every roll, so clients can animate it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Rolled {
    /// Who rolled.
    pub seat: Seat,
    /// The die, 1 to 6.
    pub die: u8,
}

/// A game of Pig.
#[derive(Debug)]
pub struct Pig {
    scores: [u16; 2],
    turn_total: u16,
    to_move: Seat,
    target: u16,
    outcome: Option<Outcome>,
}

impl Game for Pig {
    const NAME: &'static str = "pig";
    const SEATS: u8 = 2;

    type Options = PigOptions;
    type Input = PigMove;
    type View = PigView;
    type Event = Rolled;

    fn validate_options(options: &PigOptions) -> Result<(), String> {
        match options.target {
            5..=1000 => Ok(()),
            other => Err(format!("target must be 5 to 1000, not {other}")),
        }
    }

    fn new(_config: &GameConfig, options: PigOptions, _ctx: &mut Ctx<'_, Rolled>) -> Self {
        let target = options.target;
        Pig {
            scores: [0, 0],
            turn_total: 0,
            to_move: 0,
            target,
            outcome: None,
        }
    }

    fn validate(&self, seat: Seat, _input: &PigMove) -> Result<(), Rejection> {
        if self.outcome.is_some() {
            return Err(Rejection::game_over());
        }
        (seat == self.to_move)
            .then_some(())
            .ok_or_else(Rejection::not_your_turn)
    }

    fn apply(&mut self, ctx: &mut Ctx<'_, Rolled>, seat: Seat, input: PigMove) -> bool {
        let seat_index = usize::from(seat);
        match input {
            PigMove::Roll => {
                // The room's seeded generator: replays roll the same dice.
                let die: u8 = ctx.rng().random_range(1..=6);
                ctx.emit(Rolled { seat, die });
                if die == 1 {
                    self.turn_total = 0;
                    self.to_move = 1 - seat;
                } else {
                    self.turn_total = self.turn_total.saturating_add(u16::from(die));
                }
            }
            PigMove::Hold => {
                self.scores[seat_index] = self.scores[seat_index].saturating_add(self.turn_total);
                self.turn_total = 0;
                if self.scores[seat_index] >= self.target {
                    let reason = EndReason::Win;
                    self.outcome = Some(Outcome {
                        winner: Some(seat),
                        reason,
                    });
                } else {
                    self.to_move = 1 - seat;
                }
            }
        }
        true
    }

    fn tick(&mut self, _ctx: &mut Ctx<'_, Rolled>) -> bool {
        false // no clock: the game only moves on inputs
    }

    fn on_leave(&mut self, _ctx: &mut Ctx<'_, Rolled>, seat: Seat) -> bool {
        if self.outcome.is_some() || seat > 1 {
            return false;
        }
        let (winner, reason) = (Some(1 - seat), EndReason::Abandoned);
        self.outcome = Some(Outcome { winner, reason });
        true
    }

    fn view(&self, _viewer: Viewer) -> PigView {
        PigView {
            scores: self.scores,
            turn_total: self.turn_total,
            to_move: self.outcome.is_none().then_some(self.to_move),
            target: self.target,
        }
    }

    fn outcome(&self) -> Option<Outcome> {
        self.outcome
    }
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    use ticksync::engine::{GameEntry, GameRegistry};
    let addr = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "127.0.0.1:7878".into());
    // The built-in games and Pig, registered by the embedder: the engine names none.
    let builtin = ticksync::server::builtin_games();
    let entries = builtin.names().filter_map(|name| builtin.get(name));
    let games = GameRegistry::new(entries.chain([GameEntry::of::<Pig>()]));
    let listener = tokio::net::TcpListener::bind(&addr).await?;
    let config = ticksync::config::ServerConfig::default();
    let server = ticksync::server::Server::start_with_games(listener, config, games)?;
    println!(
        "serving \"pig\" (and the built-in games) on ws://{}",
        server.local_addr()
    );
    tokio::signal::ctrl_c().await?;
    server.drain(std::time::Duration::from_secs(5)).await;
    Ok(())
}
