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
//!
//! **Encodings.** Views and deltas are most of what an arena client receives, so in the
//! binary codecs they carry no field names (PROTOCOL.md, "Arena"): a view is a sequence of
//! players, each the 4-tuple `(seat, x, y, dir)`; a delta is one flat sequence of integers,
//! each changed player as its four fields and each removed seat as `-1 - seat`; an input is
//! the pair `(dx, dy)`. In bincode the view's and the input's bytes are those of the plain
//! structs (the replay's state hashes depend on the view's); in MessagePack all three are
//! arrays of integers. Human-readable formats (the operator's JSON) get the named fields.

use serde::de::{self, SeqAccess, Visitor};
use serde::ser::{self, SerializeSeq, SerializeTuple};
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use super::{Ctx, DeltaGame, Game, GameConfig, Outcome, Rejection, Viewer};
use crate::protocol::{Seat, Tick};

/// Players per room.
pub const SEATS: u8 = 8;
/// Side of the square box, in units.
pub const SIZE: u16 = 1000;
/// Units moved per tick along each axis of the direction.
pub const SPEED: u16 = 5;

/// The 8 non-zero directions an [`ArenaInput`] can hold (what bots and workloads turn
/// between).
pub const DIRECTIONS: [(i8, i8); 8] = [
    (-1, -1),
    (-1, 0),
    (-1, 1),
    (0, -1),
    (0, 1),
    (1, -1),
    (1, 0),
    (1, 1),
];

/// A direction: each component in {-1, 0, 1}.
///
/// Written as the pair `(dx, dy)` (MessagePack `[dx, dy]`; in bincode the struct's bytes);
/// read from that or from the named map `{"dx", "dy"}` clients sent before.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
pub struct ArenaInput {
    /// Horizontal component.
    pub dx: i8,
    /// Vertical component.
    pub dy: i8,
}

impl Serialize for ArenaInput {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        if serializer.is_human_readable() {
            return NamedInput {
                dx: self.dx,
                dy: self.dy,
            }
            .serialize(serializer);
        }
        (self.dx, self.dy).serialize(serializer)
    }
}

/// The named form of [`ArenaInput`], for human-readable formats.
#[derive(Serialize)]
#[serde(rename = "ArenaInput")]
struct NamedInput {
    dx: i8,
    dy: i8,
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
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ArenaView {
    /// Players in seat order.
    pub players: Vec<ArenaPlayer>,
}

/// A view as a difference from an acknowledged one.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ArenaDelta {
    /// Players who are new, or not where prediction from the base puts them.
    pub changed: Vec<ArenaPlayer>,
    /// Seats of players who left since the base.
    pub removed: Vec<Seat>,
}

/// One player as the 4-tuple `(seat, x, y, dir)`: a MessagePack array of four integers; in
/// bincode the same bytes as the [`ArenaPlayer`] struct.
struct Positional(ArenaPlayer);

impl Serialize for Positional {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let p = &self.0;
        let mut tuple = serializer.serialize_tuple(4)?;
        tuple.serialize_element(&p.seat)?;
        tuple.serialize_element(&p.x)?;
        tuple.serialize_element(&p.y)?;
        tuple.serialize_element(&p.dir)?;
        tuple.end()
    }
}

impl<'de> Deserialize<'de> for Positional {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct Fields;
        impl<'de> Visitor<'de> for Fields {
            type Value = Positional;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("an arena player [seat, x, y, dir]")
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Positional, A::Error> {
                let seat = seq.next_element()?;
                player_after_seat(seat, &mut seq).map(Positional)
            }
        }
        deserializer.deserialize_tuple(4, Fields)
    }
}

/// Reads the `x`, `y` and `dir` that follow a player's `seat` (itself read by the caller)
/// in a sequence. A sequence that ends early is an error.
fn player_after_seat<'de, A: SeqAccess<'de>>(
    seat: Option<Seat>,
    seq: &mut A,
) -> Result<ArenaPlayer, A::Error> {
    let short = || de::Error::custom("an arena player needs seat, x, y and dir");
    Ok(ArenaPlayer {
        seat: seat.ok_or_else(short)?,
        x: seq.next_element()?.ok_or_else(short)?,
        y: seq.next_element()?.ok_or_else(short)?,
        dir: seq.next_element()?.ok_or_else(short)?,
    })
}

/// The named form of [`ArenaView`], for human-readable formats.
#[derive(Serialize, Deserialize)]
#[serde(rename = "ArenaView")]
struct NamedView<P> {
    players: P,
}

/// The named form of [`ArenaDelta`], for human-readable formats.
#[derive(Serialize, Deserialize)]
#[serde(rename = "ArenaDelta")]
struct NamedDelta<P, R> {
    changed: P,
    removed: R,
}

impl Serialize for ArenaView {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        if serializer.is_human_readable() {
            return NamedView {
                players: &self.players,
            }
            .serialize(serializer);
        }
        let mut seq = serializer.serialize_seq(Some(self.players.len()))?;
        for player in &self.players {
            seq.serialize_element(&Positional(*player))?;
        }
        seq.end()
    }
}

impl<'de> Deserialize<'de> for ArenaView {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        if deserializer.is_human_readable() {
            let named = NamedView::<Vec<ArenaPlayer>>::deserialize(deserializer)?;
            return Ok(ArenaView {
                players: named.players,
            });
        }
        struct Players;
        impl<'de> Visitor<'de> for Players {
            type Value = ArenaView;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("a sequence of arena players")
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<ArenaView, A::Error> {
                // No capacity from the claimed length: the elements read are the bound.
                let mut players = Vec::new();
                while let Some(Positional(player)) = seq.next_element()? {
                    players.push(player);
                }
                Ok(ArenaView { players })
            }
        }
        deserializer.deserialize_seq(Players)
    }
}

/// A seat as it leads a group in a delta's flat sequence: itself for a changed player,
/// `-1 - seat` for a removed one. Seats above 127 cannot be written (the arena has 8).
fn delta_lead<E: ser::Error>(seat: Seat, removed: bool) -> Result<i8, E> {
    let seat = i8::try_from(seat)
        .map_err(|_| E::custom(format!("seat {seat} does not fit an arena delta")))?;
    Ok(if removed { -1 - seat } else { seat })
}

impl Serialize for ArenaDelta {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        if serializer.is_human_readable() {
            return NamedDelta {
                changed: &self.changed,
                removed: &self.removed,
            }
            .serialize(serializer);
        }
        let len = self.changed.len() * 4 + self.removed.len();
        let mut seq = serializer.serialize_seq(Some(len))?;
        for p in &self.changed {
            seq.serialize_element(&delta_lead::<S::Error>(p.seat, false)?)?;
            seq.serialize_element(&p.x)?;
            seq.serialize_element(&p.y)?;
            seq.serialize_element(&p.dir)?;
        }
        for &seat in &self.removed {
            seq.serialize_element(&delta_lead::<S::Error>(seat, true)?)?;
        }
        seq.end()
    }
}

impl<'de> Deserialize<'de> for ArenaDelta {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        if deserializer.is_human_readable() {
            let named = NamedDelta::<Vec<ArenaPlayer>, Vec<Seat>>::deserialize(deserializer)?;
            return Ok(ArenaDelta {
                changed: named.changed,
                removed: named.removed,
            });
        }
        struct Flat;
        impl<'de> Visitor<'de> for Flat {
            type Value = ArenaDelta;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("an arena delta: a flat sequence of integers")
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<ArenaDelta, A::Error> {
                let mut delta = ArenaDelta::default();
                while let Some(lead) = seq.next_element::<i8>()? {
                    match Seat::try_from(lead) {
                        Ok(seat) => delta.changed.push(player_after_seat(Some(seat), &mut seq)?),
                        // -1 - lead is 0 to 127 for a lead of -128 to -1.
                        Err(_) => delta.removed.push((-1 - lead) as Seat),
                    }
                }
                Ok(delta)
            }
        }
        deserializer.deserialize_seq(Flat)
    }
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

    #[test]
    fn human_readable_formats_get_the_named_fields() {
        let player = ArenaPlayer {
            seat: 2,
            x: 620,
            y: 745,
            dir: 2,
        };
        let view = ArenaView {
            players: vec![player],
        };
        let json = serde_json::to_value(&view).unwrap();
        assert_eq!(
            json,
            serde_json::json!({"players": [{"seat": 2, "x": 620, "y": 745, "dir": 2}]})
        );
        assert_eq!(serde_json::from_value::<ArenaView>(json).unwrap(), view);
        let delta = ArenaDelta {
            changed: vec![player],
            removed: vec![5],
        };
        let json = serde_json::to_value(&delta).unwrap();
        assert_eq!(json["removed"], serde_json::json!([5]));
        assert_eq!(serde_json::from_value::<ArenaDelta>(json).unwrap(), delta);
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
