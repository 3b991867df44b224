//! The arena: the built-in real-time game, exactly as the `arena` workload defines it.
//!
//! Up to [`SEATS`] players in a [`SIZE`] x [`SIZE`] box. Each input sets a player's
//! direction `{dx, dy}` with both in {-1, 0, 1}; every tick each player moves [`SPEED`] units
//! along its direction (not normalised) and is clamped to the box. An input with a component
//! outside {-1, 0, 1} is refused. The game never ends; a player who leaves (or stays away
//! past the reconnect grace) disappears, and an absent player keeps its last direction.
//!
//! Views are sent as deltas ([`DeltaGame`]): both sides predict each player forward from the
//! acknowledged state along its known direction, so a player who kept its direction costs
//! nothing, and only players who turned, joined or left are sent.

use serde::{Deserialize, Serialize};

use super::{Ctx, DeltaGame, Game, GameConfig, Outcome, Rejection, Viewer};
use crate::protocol::{Seat, Tick};

/// Players per room.
pub const SEATS: u8 = 8;
/// Side of the square box, in units.
pub const SIZE: u16 = 1000;
/// Units moved per tick along each axis of the direction.
pub const SPEED: u16 = 5;

/// A direction: each component in {-1, 0, 1}.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct ArenaInput {
    /// Horizontal component.
    pub dx: i8,
    /// Vertical component.
    pub dy: i8,
}

/// One player as viewers see it. The direction is packed in one byte:
/// `dir = (dx + 1) * 3 + (dy + 1)`, so 4 means standing still.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct ArenaPlayer {
    /// The player's seat.
    pub seat: Seat,
    /// Horizontal position, 0 to [`SIZE`].
    pub x: u16,
    /// Vertical position, 0 to [`SIZE`].
    pub y: u16,
    /// The packed direction.
    pub dir: u8,
}

/// The packed direction byte of `(dx, dy)`.
pub fn pack_dir(dx: i8, dy: i8) -> u8 {
    // Components are validated to {-1, 0, 1}, so this is 0..=8.
    ((dx + 1) * 3 + (dy + 1)) as u8
}

/// The `(dx, dy)` of a packed direction byte (`(0, 0)` for anything out of range).
pub fn unpack_dir(dir: u8) -> (i8, i8) {
    if dir > 8 {
        return (0, 0);
    }
    let dir = dir as i8;
    (dir / 3 - 1, dir % 3 - 1)
}

impl ArenaPlayer {
    /// This player after `ticks` more ticks along its direction, clamped to the box. Moving
    /// along a fixed direction is monotonic per axis, so clamping once equals clamping at
    /// every tick.
    pub fn advanced(self, ticks: Tick) -> ArenaPlayer {
        let (dx, dy) = unpack_dir(self.dir);
        let step = i64::from(SPEED).saturating_mul(i64::try_from(ticks).unwrap_or(i64::MAX));
        let axis = |pos: u16, d: i8| -> u16 {
            let moved = i64::from(pos).saturating_add(step.saturating_mul(i64::from(d)));
            moved.clamp(0, i64::from(SIZE)) as u16
        };
        ArenaPlayer {
            x: axis(self.x, dx),
            y: axis(self.y, dy),
            ..self
        }
    }
}

/// What every viewer sees: the players, by seat.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct ArenaView {
    /// Players in seat order.
    pub players: Vec<ArenaPlayer>,
}

/// A view as a difference from an acknowledged one.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct ArenaDelta {
    /// Players who are new, or not where prediction from the base puts them.
    pub changed: Vec<ArenaPlayer>,
    /// Seats of players who left since the base.
    pub removed: Vec<Seat>,
}

/// An arena game.
#[derive(Debug, Clone)]
pub struct Arena {
    players: Vec<ArenaPlayer>,
    last_tick: Tick,
}

/// Where seat `seat` starts: spread over two rows of four.
fn start_position(seat: Seat) -> (u16, u16) {
    let column = u16::from(seat % 4);
    let row = u16::from(seat / 4 % 2);
    (125 + column * 250, 250 + row * 500)
}

impl Arena {
    fn player_mut(&mut self, seat: Seat) -> Option<&mut ArenaPlayer> {
        self.players.iter_mut().find(|p| p.seat == seat)
    }
}

impl Game for Arena {
    const NAME: &'static str = "arena";
    const SEATS: u8 = SEATS;
    const MIN_PLAYERS: u8 = 1;
    /// Arena games never end by their rules: a shutdown drain ends them at once.
    const ENDS_BY_ITSELF: bool = false;

    type Options = ();
    type Input = ArenaInput;
    type View = ArenaView;
    type Event = ();

    fn new(config: &GameConfig, _options: (), ctx: &mut Ctx<'_, ()>) -> Self {
        let players = (0..config.players.min(SEATS))
            .map(|seat| {
                let (x, y) = start_position(seat);
                ArenaPlayer {
                    seat,
                    x,
                    y,
                    dir: pack_dir(0, 0),
                }
            })
            .collect();
        Arena {
            players,
            last_tick: ctx.tick(),
        }
    }

    fn validate(&self, seat: Seat, input: &ArenaInput) -> Result<(), Rejection> {
        if !(-1..=1).contains(&input.dx) || !(-1..=1).contains(&input.dy) {
            return Err(Rejection::illegal("dx and dy must each be -1, 0 or 1"));
        }
        if !self.players.iter().any(|p| p.seat == seat) {
            return Err(Rejection::game_over());
        }
        Ok(())
    }

    fn apply(&mut self, _ctx: &mut Ctx<'_, ()>, seat: Seat, input: ArenaInput) -> bool {
        let dir = pack_dir(input.dx, input.dy);
        match self.player_mut(seat) {
            Some(player) if player.dir != dir => {
                player.dir = dir;
                true
            }
            _ => false,
        }
    }

    /// Moves everyone by the ticks elapsed since the last call (one, unless the server
    /// skipped late ticks).
    fn tick(&mut self, ctx: &mut Ctx<'_, ()>) -> bool {
        let now = ctx.tick();
        let elapsed = now.saturating_sub(self.last_tick);
        self.last_tick = self.last_tick.max(now);
        let mut changed = false;
        for player in &mut self.players {
            let moved = player.advanced(elapsed);
            changed |= moved != *player;
            *player = moved;
        }
        changed
    }

    fn on_leave(&mut self, _ctx: &mut Ctx<'_, ()>, seat: Seat) -> bool {
        let before = self.players.len();
        self.players.retain(|p| p.seat != seat);
        self.players.len() != before
    }

    fn view(&self, _viewer: Viewer) -> ArenaView {
        ArenaView {
            players: self.players.clone(),
        }
    }

    fn outcome(&self) -> Option<Outcome> {
        None
    }
}

impl DeltaGame for Arena {
    type Delta = ArenaDelta;

    fn diff(base: &ArenaView, base_tick: Tick, current: &ArenaView, tick: Tick) -> ArenaDelta {
        let elapsed = tick.saturating_sub(base_tick);
        let changed = current
            .players
            .iter()
            .filter(|now| {
                base.players
                    .iter()
                    .find(|then| then.seat == now.seat)
                    .is_none_or(|then| then.advanced(elapsed) != **now)
            })
            .copied()
            .collect();
        let removed = base
            .players
            .iter()
            .filter(|then| !current.players.iter().any(|now| now.seat == then.seat))
            .map(|then| then.seat)
            .collect();
        ArenaDelta { changed, removed }
    }

    fn apply_delta(base: &ArenaView, base_tick: Tick, delta: &ArenaDelta, tick: Tick) -> ArenaView {
        let elapsed = tick.saturating_sub(base_tick);
        let mut players: Vec<ArenaPlayer> = base
            .players
            .iter()
            .filter(|p| !delta.removed.contains(&p.seat))
            .map(|p| p.advanced(elapsed))
            .collect();
        for update in &delta.changed {
            match players.iter_mut().find(|p| p.seat == update.seat) {
                Some(player) => *player = *update,
                None => players.push(*update),
            }
        }
        players.sort_by_key(|p| p.seat);
        ArenaView { players }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::game::test_ctx as at;
    use crate::protocol::RoomSettings;
    use proptest::prelude::*;

    fn arena(players: u8) -> Arena {
        let config = GameConfig {
            tick_hz: 30,
            settings: RoomSettings::default(),
            players,
            seed: 0,
        };
        Arena::new(&config, (), &mut at(0))
    }

    #[test]
    fn players_move_five_units_per_tick_and_stop_at_the_walls() {
        let mut game = arena(1);
        let start = game.view(Viewer::Spectator).players[0];
        assert_eq!((start.x, start.y), (125, 250));
        assert!(game.apply(&mut at(0), 0, ArenaInput { dx: -1, dy: 1 }));
        assert!(game.tick(&mut at(1)));
        let moved = game.view(Viewer::Spectator).players[0];
        assert_eq!((moved.x, moved.y), (120, 255));
        for t in 2..100 {
            game.tick(&mut at(t));
        }
        let clamped = game.view(Viewer::Spectator).players[0];
        assert_eq!(clamped.x, 0, "clamped at the left wall");
        assert_eq!(clamped.y, 250 + 5 * 99);
    }

    #[test]
    fn inputs_outside_the_unit_range_are_refused() {
        let game = arena(2);
        assert!(game.validate(0, &ArenaInput { dx: 2, dy: 0 }).is_err());
        assert!(game.validate(1, &ArenaInput { dx: 0, dy: -2 }).is_err());
        assert!(game.validate(1, &ArenaInput { dx: -1, dy: 1 }).is_ok());
        assert!(
            game.validate(5, &ArenaInput { dx: 0, dy: 0 }).is_err(),
            "empty seat"
        );
    }

    #[test]
    fn a_player_who_keeps_direction_costs_nothing_in_a_delta() {
        let mut game = arena(8);
        for seat in 0..8 {
            game.apply(&mut at(0), seat, ArenaInput { dx: 1, dy: 0 });
        }
        let base = game.view(Viewer::Spectator);
        for t in 1..=10 {
            game.tick(&mut at(t));
        }
        game.apply(&mut at(10), 3, ArenaInput { dx: 0, dy: 1 });
        let current = game.view(Viewer::Spectator);
        let delta = Arena::diff(&base, 0, &current, 10);
        assert_eq!(delta.changed.len(), 1);
        assert_eq!(delta.changed[0].seat, 3);
        assert_eq!(Arena::apply_delta(&base, 0, &delta, 10), current);
    }

    /// One step of a random game: inputs for some seats, maybe someone leaves, then a tick.
    #[derive(Debug, Clone)]
    struct Step {
        inputs: Vec<(Seat, i8, i8)>,
        leave: Option<Seat>,
    }

    fn step() -> impl Strategy<Value = Step> {
        (
            prop::collection::vec((0..SEATS, -1i8..=1, -1i8..=1), 0..4),
            prop::option::weighted(0.05, 0..SEATS),
        )
            .prop_map(|(inputs, leave)| Step { inputs, leave })
    }

    proptest! {
        /// For any history and any pair of ticks, applying diff(base, current) to the base
        /// rebuilds the current view exactly.
        #[test]
        fn delta_rebuilds_any_later_state(
            players in 1..=SEATS,
            steps in prop::collection::vec(step(), 1..120),
            picks in prop::collection::vec((any::<prop::sample::Index>(), any::<prop::sample::Index>()), 1..20),
        ) {
            let mut game = arena(players);
            let mut history = vec![(0u64, game.view(Viewer::Spectator))];
            for (i, step) in steps.iter().enumerate() {
                let now = i as Tick + 1;
                for &(seat, dx, dy) in &step.inputs {
                    let input = ArenaInput { dx, dy };
                    if game.validate(seat, &input).is_ok() {
                        game.apply(&mut at(now), seat, input);
                    }
                }
                if let Some(seat) = step.leave {
                    game.on_leave(&mut at(now), seat);
                }
                game.tick(&mut at(now));
                history.push((now, game.view(Viewer::Spectator)));
            }
            for (a, b) in picks {
                let (i, j) = (a.index(history.len()), b.index(history.len()));
                let (base, current) = (&history[i.min(j)], &history[i.max(j)]);
                let delta = Arena::diff(&base.1, base.0, &current.1, current.0);
                prop_assert_eq!(Arena::apply_delta(&base.1, base.0, &delta, current.0), current.1.clone());
            }
        }
    }
}
