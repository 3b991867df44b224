//! Battleship: the built-in game with hidden information.
//!
//! Two seats, each with a square board of water ([`BattleshipOptions::size`] cells a side,
//! default 8) and a fleet ([`Fleet`]), placed at random from the room's seeded generator
//! when the game starts, so a replay places the same ships. Seat 0 fires first; the seats
//! then take turns, one shot each, hit or miss. Cells are numbered row by row from the top
//! left: `cell = row * size + column`. A player who sinks the whole enemy fleet wins.
//!
//! What each viewer sees ([`Game::view`], `SHARED_VIEW = false`):
//!
//! - a player sees their own fleet (every ship cell, hit or not) and every shot on both
//!   boards, but of the enemy's fleet only the cells their shots hit;
//! - a spectator sees every shot on both boards and no unhit ship cell of either fleet;
//! - nothing is revealed when the game ends: the unhit ships of the loser stay hidden.
//!
//! Every shot emits events ([`BattleshipEvent`]) so clients can animate it: `Miss` or `Hit`,
//! and after the hit that sinks a ship, `Sunk` with the ship's cells.
//!
//! Turn timer ([`BattleshipOptions::turn_seconds`], default [`DEFAULT_TURN_SECONDS`]): a
//! player who runs out of time has a shot fired for them at a random untried cell (from the
//! room's generator; the events say `auto: true`). A player whose time runs out after
//! [`MAX_AUTO_SHOTS`] auto-fired shots in a row forfeits instead (`TurnTimeout`), so a game
//! whose player has gone ends. The timer keeps running while a player is disconnected (the reconnect grace
//! applies as for every game); a player who leaves, or stays away past the grace,
//! forfeits (`Abandoned`).

use rand::Rng;
use serde::{Deserialize, Serialize};

use super::{Ctx, Game, GameConfig, GameRng, Outcome, Rejection, Viewer};
use crate::protocol::{EndReason, Seat, Tick};

/// Cells a side when the room's options name none.
pub const DEFAULT_SIZE: u8 = 8;
/// Smallest board a room may ask for.
pub const MIN_SIZE: u8 = 6;
/// Largest board a room may ask for (100 cells: a cell fits in a `u8`).
pub const MAX_SIZE: u8 = 10;
/// Seconds per turn when the room's options name none.
pub const DEFAULT_TURN_SECONDS: u32 = 20;
/// Longest turn time a room may ask for: one hour.
pub const MAX_TURN_SECONDS: u32 = 3_600;
/// Auto-fired shots in a row a player may have; the next timeout forfeits.
pub const MAX_AUTO_SHOTS: u8 = 3;

/// The ships a fleet holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub enum Fleet {
    /// Five ships of lengths 5, 4, 3, 3, 2 (17 cells).
    #[default]
    Classic,
    /// Three ships of lengths 3, 2, 2 (7 cells): short games.
    Quick,
}

impl Fleet {
    /// The ships' lengths, in the order ships are numbered (`ship` in [`BattleshipEvent`]).
    pub fn lengths(self) -> &'static [u8] {
        match self {
            Fleet::Classic => &[5, 4, 3, 3, 2],
            Fleet::Quick => &[3, 2, 2],
        }
    }
}

/// Battleship's room options (`RoomSettings.options` or `FindMatch.options`).
///
/// Every field is optional (`None` for the default); a MessagePack client may leave any
/// out.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct BattleshipOptions {
    /// Cells a side, [`MIN_SIZE`] to [`MAX_SIZE`]; `None` for [`DEFAULT_SIZE`].
    pub size: Option<u8>,
    /// The fleet; `None` for [`Fleet::Classic`].
    pub fleet: Option<Fleet>,
    /// Seconds a player has for each shot, 1 to [`MAX_TURN_SECONDS`]; `None` for
    /// [`DEFAULT_TURN_SECONDS`].
    pub turn_seconds: Option<u32>,
}

/// A shot: the cell to fire at on the enemy's board.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct BattleshipShot {
    /// `row * size + column`, from 0 to `size * size - 1`.
    pub cell: u8,
}

/// What a viewer knows of a cell of one board ([`BoardView::cells`]).
pub mod cell {
    /// Not fired at, and no ship the viewer may see.
    pub const UNKNOWN: u8 = 0;
    /// Fired at: water.
    pub const MISS: u8 = 1;
    /// Fired at: part of a ship still afloat.
    pub const HIT: u8 = 2;
    /// Fired at: part of a sunk ship.
    pub const SUNK: u8 = 3;
    /// Part of the viewer's own ship, not hit (only in a player's view of their own board).
    pub const SHIP: u8 = 4;
}

/// One board as a viewer sees it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BoardView {
    /// `size * size` cells row by row, each one of the [`cell`] codes.
    pub cells: Vec<u8>,
    /// Ships of this board's fleet not yet sunk.
    pub afloat: u8,
}

/// What a viewer is shown.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BattleshipView {
    /// Cells a side.
    pub size: u8,
    /// The viewer's seat; `None` for a spectator.
    pub you: Option<Seat>,
    /// The boards of seat 0 and seat 1 (`boards[s]` is the water seat `s` defends).
    pub boards: [BoardView; 2],
    /// The seat to fire, or `None` once the game is over.
    pub to_move: Option<Seat>,
    /// The tick at which a shot is fired for the seat to move (0 once over).
    pub turn_deadline: Tick,
    /// The winner, once decided.
    pub winner: Option<Seat>,
    /// Whether the game is over.
    pub over: bool,
}

/// The events a game emits, in order, for every shot.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum BattleshipEvent {
    /// `by` fired at `cell` of the other seat's board and hit water.
    Miss {
        /// The seat that fired.
        by: Seat,
        /// The cell fired at.
        cell: u8,
        /// Whether the turn timer fired it.
        auto: bool,
    },
    /// `by` fired at `cell` of the other seat's board and hit a ship.
    Hit {
        /// The seat that fired.
        by: Seat,
        /// The cell fired at.
        cell: u8,
        /// Whether the turn timer fired it.
        auto: bool,
    },
    /// After a `Hit`: the ship is sunk. `ship` numbers it in [`Fleet::lengths`].
    Sunk {
        /// The seat that fired.
        by: Seat,
        /// The ship's number in its fleet.
        ship: u8,
        /// The ship's cells, bow to stern.
        cells: Vec<u8>,
    },
}

/// One placed ship.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Ship {
    cells: Vec<u8>,
    hits: u8,
}

impl Ship {
    fn sunk(&self) -> bool {
        usize::from(self.hits) == self.cells.len()
    }
}

/// One seat's water: its ships and the shots fired at it.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Board {
    /// Per cell: the index of the ship there, if any.
    ship_at: Vec<Option<u8>>,
    ships: Vec<Ship>,
    /// Per cell: whether it has been fired at.
    shot: Vec<bool>,
}

impl Board {
    fn afloat(&self) -> u8 {
        self.ships.iter().filter(|s| !s.sunk()).count() as u8
    }

    fn view(&self, owner_sees: bool) -> BoardView {
        let cells = (0..self.shot.len())
            .map(|i| match (self.ship_at[i], self.shot[i]) {
                (None, true) => cell::MISS,
                (None, false) => cell::UNKNOWN,
                (Some(s), true) if self.ships[usize::from(s)].sunk() => cell::SUNK,
                (Some(_), true) => cell::HIT,
                (Some(_), false) if owner_sees => cell::SHIP,
                (Some(_), false) => cell::UNKNOWN,
            })
            .collect();
        BoardView {
            cells,
            afloat: self.afloat(),
        }
    }
}

/// Places `fleet` on a `size`-sided board: each ship in turn at a placement drawn
/// uniformly from those that fit, without touching ships already placed. Draws again in
/// the rare case a ship finds no room; after many such draws (never seen) falls back to
/// ship `i` along row `i` (every fleet has at most [`MIN_SIZE`] ships no longer than it).
fn place(size: u8, fleet: Fleet, rng: &mut GameRng) -> Board {
    let lengths = fleet.lengths();
    let ships = (0..1000)
        .find_map(|_| try_place(size, lengths, rng))
        .unwrap_or_else(|| {
            let row = |(i, &len): (usize, &u8)| (0..len).map(|c| i as u8 * size + c).collect();
            lengths.iter().enumerate().map(row).collect()
        });
    let n = usize::from(size) * usize::from(size);
    let mut ship_at = vec![None; n];
    for (index, cells) in ships.iter().enumerate() {
        for &c in cells {
            ship_at[usize::from(c)] = Some(index as u8);
        }
    }
    let ships = ships
        .into_iter()
        .map(|cells| Ship { cells, hits: 0 })
        .collect();
    Board {
        ship_at,
        ships,
        shot: vec![false; n],
    }
}

/// One random draw of a fleet's cells, or `None` when a ship found no room.
fn try_place(size: u8, lengths: &[u8], rng: &mut GameRng) -> Option<Vec<Vec<u8>>> {
    let mut taken = vec![false; usize::from(size) * usize::from(size)];
    let mut ships = Vec::new();
    for &len in lengths {
        let mut fits: Vec<Vec<u8>> = Vec::new();
        for row in 0..size {
            for col in 0..size {
                for (dr, dc) in [(0u8, 1u8), (1, 0)] {
                    let cells: Option<Vec<u8>> = (0..len)
                        .map(|k| {
                            let (r, c) = (row + dr * k, col + dc * k);
                            (r < size && c < size).then_some(r * size + c)
                        })
                        .collect();
                    if let Some(cells) = cells
                        && cells.iter().all(|&c| !taken[usize::from(c)])
                    {
                        fits.push(cells);
                    }
                }
            }
        }
        if fits.is_empty() {
            return None;
        }
        let cells = fits.swap_remove(rng.random_range(0..fits.len()));
        for &c in &cells {
            taken[usize::from(c)] = true;
        }
        ships.push(cells);
    }
    Some(ships)
}

/// A game of Battleship.
#[derive(Debug, Clone)]
pub struct Battleship {
    size: u8,
    boards: [Board; 2],
    to_move: Seat,
    turn_ticks: Tick,
    turn_deadline: Tick,
    auto_shots: [u8; 2],
    outcome: Option<Outcome>,
}

impl Battleship {
    /// Cells a side.
    pub fn size(&self) -> u8 {
        self.size
    }

    /// The cells of `seat`'s ships, hit or not: the whole truth, for tests.
    #[cfg(test)]
    fn ship_cells(&self, seat: Seat) -> Vec<u8> {
        let board = &self.boards[usize::from(seat.min(1))];
        board
            .ships
            .iter()
            .flat_map(|s| s.cells.iter().copied())
            .collect()
    }

    fn finish(&mut self, winner: Option<Seat>, reason: EndReason) {
        self.outcome = Some(Outcome { winner, reason });
    }

    /// Fires `by`'s shot at `cell` of the other board; emits its events, passes the turn or
    /// ends the game.
    fn fire(&mut self, ctx: &mut Ctx<'_, BattleshipEvent>, by: Seat, cell: u8, auto: bool) {
        let target = &mut self.boards[usize::from(1 - by)];
        let i = usize::from(cell);
        target.shot[i] = true;
        match target.ship_at[i] {
            None => ctx.emit(BattleshipEvent::Miss { by, cell, auto }),
            Some(s) => {
                ctx.emit(BattleshipEvent::Hit { by, cell, auto });
                let ship = &mut target.ships[usize::from(s)];
                ship.hits += 1;
                if ship.sunk() {
                    let cells = ship.cells.clone();
                    ctx.emit(BattleshipEvent::Sunk { by, ship: s, cells });
                }
            }
        }
        if target.afloat() == 0 {
            self.finish(Some(by), EndReason::Win);
        } else {
            self.to_move = 1 - by;
            self.turn_deadline = ctx.tick() + self.turn_ticks;
        }
    }
}

impl Game for Battleship {
    const NAME: &'static str = "battleship";
    const SEATS: u8 = 2;
    const SHARED_VIEW: bool = false;

    type Options = BattleshipOptions;
    type Input = BattleshipShot;
    type View = BattleshipView;
    type Event = BattleshipEvent;

    fn validate_options(options: &BattleshipOptions) -> Result<(), String> {
        if let Some(size) = options.size
            && !(MIN_SIZE..=MAX_SIZE).contains(&size)
        {
            return Err(format!("size must be {MIN_SIZE} to {MAX_SIZE}, not {size}"));
        }
        match options.turn_seconds {
            Some(seconds) if !(1..=MAX_TURN_SECONDS).contains(&seconds) => Err(format!(
                "turn_seconds must be 1 to {MAX_TURN_SECONDS}, not {seconds}"
            )),
            _ => Ok(()),
        }
    }

    fn new(
        config: &GameConfig,
        options: BattleshipOptions,
        ctx: &mut Ctx<'_, BattleshipEvent>,
    ) -> Self {
        let size = options
            .size
            .unwrap_or(DEFAULT_SIZE)
            .clamp(MIN_SIZE, MAX_SIZE);
        let fleet = options.fleet.unwrap_or_default();
        let seconds = options
            .turn_seconds
            .unwrap_or(DEFAULT_TURN_SECONDS)
            .clamp(1, MAX_TURN_SECONDS);
        let turn_ticks = u64::from(seconds) * u64::from(config.tick_hz.max(1));
        let boards = [place(size, fleet, ctx.rng()), place(size, fleet, ctx.rng())];
        Battleship {
            size,
            boards,
            to_move: 0,
            turn_ticks,
            turn_deadline: ctx.tick() + turn_ticks,
            auto_shots: [0, 0],
            outcome: None,
        }
    }

    fn validate(&self, seat: Seat, input: &BattleshipShot) -> Result<(), Rejection> {
        if self.outcome.is_some() {
            return Err(Rejection::game_over());
        }
        if seat != self.to_move {
            return Err(Rejection::not_your_turn());
        }
        let target = &self.boards[usize::from(1 - seat)];
        match target.shot.get(usize::from(input.cell)) {
            None => Err(Rejection::illegal(
                "cell out of range: cells are 0 to size² - 1",
            )),
            Some(false) => Ok(()),
            Some(true) => Err(Rejection::illegal("cell already fired at")),
        }
    }

    fn apply(
        &mut self,
        ctx: &mut Ctx<'_, BattleshipEvent>,
        seat: Seat,
        input: BattleshipShot,
    ) -> bool {
        if self.validate(seat, &input).is_err() {
            return false;
        }
        self.auto_shots[usize::from(seat)] = 0;
        self.fire(ctx, seat, input.cell, false);
        true
    }

    fn tick(&mut self, ctx: &mut Ctx<'_, BattleshipEvent>) -> bool {
        if self.outcome.is_some() || ctx.tick() < self.turn_deadline {
            return false;
        }
        let seat = self.to_move;
        let missed = &mut self.auto_shots[usize::from(seat)];
        *missed += 1;
        if *missed > MAX_AUTO_SHOTS {
            self.finish(Some(1 - seat), EndReason::TurnTimeout);
            return true;
        }
        let untried: Vec<u8> = self.boards[usize::from(1 - seat)]
            .shot
            .iter()
            .enumerate()
            .filter(|(_, shot)| !**shot)
            .map(|(i, _)| i as u8)
            .collect();
        // A fleet afloat means an untried cell: every ship cell fired at sinks it.
        let cell = untried[ctx.rng().random_range(0..untried.len())];
        self.fire(ctx, seat, cell, true);
        true
    }

    fn on_leave(&mut self, _ctx: &mut Ctx<'_, BattleshipEvent>, seat: Seat) -> bool {
        if self.outcome.is_some() || seat > 1 {
            return false;
        }
        self.finish(Some(1 - seat), EndReason::Abandoned);
        true
    }

    fn view(&self, viewer: Viewer) -> BattleshipView {
        let you = match viewer {
            Viewer::Player(seat) if seat < 2 => Some(seat),
            _ => None,
        };
        let over = self.outcome.is_some();
        BattleshipView {
            size: self.size,
            you,
            boards: [
                self.boards[0].view(you == Some(0)),
                self.boards[1].view(you == Some(1)),
            ],
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

/// A bot's shot for `seat` in `view`: hunt and target. Next to a hit cell of a ship still
/// afloat when there is one (along the line of two hits first), otherwise a random
/// untried cell of the checkerboard (every ship is at least two long), otherwise any
/// untried cell. `None` when the board has no untried cell or the view is not `seat`'s.
pub fn hunt_target(view: &BattleshipView, seat: Seat, rng: &mut impl Rng) -> Option<u8> {
    let size = usize::from(view.size);
    let cells = &view.boards.get(usize::from(1 - seat.min(1)))?.cells;
    if size == 0 || cells.len() != size * size {
        return None;
    }
    let open = |r: isize, c: isize| -> Option<usize> {
        let inside = (0..size as isize).contains(&r) && (0..size as isize).contains(&c);
        let i = usize::try_from(r).ok()? * size + usize::try_from(c).ok()?;
        (inside && cells[i] == cell::UNKNOWN).then_some(i)
    };
    let hits: Vec<(isize, isize)> = (0..cells.len())
        .filter(|&i| cells[i] == cell::HIT)
        .map(|i| ((i / size) as isize, (i % size) as isize))
        .collect();
    let mut lined = Vec::new();
    let mut beside = Vec::new();
    for &(r, c) in &hits {
        for (dr, dc) in [(0, 1), (1, 0), (0, -1), (-1, 0)] {
            let Some(next) = open(r + dr, c + dc) else {
                continue;
            };
            if hits.contains(&(r - dr, c - dc)) {
                lined.push(next);
            } else {
                beside.push(next);
            }
        }
    }
    fn pick(from: &[usize], rng: &mut impl Rng) -> Option<u8> {
        (!from.is_empty()).then(|| from[rng.random_range(0..from.len())] as u8)
    }
    let untried: Vec<usize> = (0..cells.len())
        .filter(|&i| cells[i] == cell::UNKNOWN)
        .collect();
    let checker: Vec<usize> = untried
        .iter()
        .copied()
        .filter(|&i| (i / size + i % size) % 2 == 0)
        .collect();
    pick(&lined, rng)
        .or_else(|| pick(&beside, rng))
        .or_else(|| pick(&checker, rng))
        .or_else(|| pick(&untried, rng))
}

/// The server bot (`--bot-fill-after`): `perfect` (the strongest it has, not perfect play)
/// hunts and targets with [`hunt_target`]; `random` fires at a random untried cell. Its
/// generator is its own, seeded by the room.
struct ServerBot {
    hunt: bool,
    rng: GameRng,
}

impl super::GameBot<Battleship> for ServerBot {
    fn choose(&mut self, view: &BattleshipView, seat: Seat) -> Option<BattleshipShot> {
        if view.over || view.to_move != Some(seat) {
            return None;
        }
        let cell = if self.hunt {
            hunt_target(view, seat, &mut self.rng)?
        } else {
            let cells = &view.boards.get(usize::from(1 - seat.min(1)))?.cells;
            let untried: Vec<usize> = (0..cells.len())
                .filter(|&i| cells[i] == cell::UNKNOWN)
                .collect();
            let pick = *untried.get(self.rng.random_range(0..untried.len().max(1)))?;
            u8::try_from(pick).ok()?
        };
        Some(BattleshipShot { cell })
    }
}

impl super::BotGame for Battleship {
    fn bot(strategy: &str, seed: u64) -> Option<Box<dyn super::GameBot<Battleship>>> {
        use rand::SeedableRng;
        let hunt = match strategy {
            "perfect" => true,
            "random" => false,
            _ => return None,
        };
        Some(Box::new(ServerBot {
            hunt,
            rng: GameRng::seed_from_u64(seed),
        }))
    }
}

#[cfg(test)]
mod tests {
    use rand::SeedableRng;

    use super::*;
    use crate::game::{CtxState, GameRng};
    use crate::protocol::{ErrorCode, RoomSettings};

    fn config(seed: u64) -> GameConfig {
        GameConfig {
            tick_hz: 10,
            settings: RoomSettings::default(),
            players: 2,
            seed,
        }
    }

    fn new_game(options: BattleshipOptions, state: &mut CtxState<BattleshipEvent>) -> Battleship {
        Battleship::new(&config(0), options, &mut state.at(0))
    }

    /// The first cell of `board` without a ship, and the first with one.
    fn water_and_ship(game: &Battleship, board: Seat) -> (u8, u8) {
        let ships = game.ship_cells(board);
        let water = (0..game.size() * game.size())
            .find(|c| !ships.contains(c))
            .unwrap();
        (water, ships[0])
    }

    #[test]
    fn placement_is_drawn_from_the_seed_and_is_a_legal_fleet() {
        for seed in 0..50 {
            for size in [MIN_SIZE, DEFAULT_SIZE, MAX_SIZE] {
                let options = BattleshipOptions {
                    size: Some(size),
                    ..Default::default()
                };
                let mut a = CtxState::new(seed);
                let mut b = CtxState::new(seed);
                let g = new_game(options, &mut a);
                let h = new_game(options, &mut b);
                for seat in 0..2 {
                    assert_eq!(g.ship_cells(seat), h.ship_cells(seat), "seed {seed}");
                    let board = &g.boards[usize::from(seat)];
                    let mut cells = g.ship_cells(seat);
                    assert_eq!(cells.len(), 17);
                    cells.sort_unstable();
                    cells.dedup();
                    assert_eq!(cells.len(), 17, "ships overlap");
                    for ship in &board.ships {
                        // Straight and unbroken: consecutive cells step by 1 in a row or
                        // by `size` in a column.
                        let step = ship.cells[1] - ship.cells[0];
                        assert!(step == 1 || step == size, "{ship:?}");
                        for w in ship.cells.windows(2) {
                            assert_eq!(w[1] - w[0], step);
                            if step == 1 {
                                assert_eq!(w[0] / size, w[1] / size, "wraps a row");
                            }
                        }
                        assert!(ship.cells.iter().all(|&c| c < size * size));
                    }
                }
            }
        }
        let mut other = CtxState::new(1);
        let mut zero = CtxState::new(0);
        assert_ne!(
            new_game(BattleshipOptions::default(), &mut zero).ship_cells(0),
            new_game(BattleshipOptions::default(), &mut other).ship_cells(0),
            "another seed, another fleet"
        );
    }

    #[test]
    fn shots_alternate_and_emit_miss_hit_and_sunk() {
        let mut state = CtxState::new(3);
        let mut g = new_game(BattleshipOptions::default(), &mut state);
        let (water, _) = water_and_ship(&g, 1);
        let shot = BattleshipShot { cell: water };
        assert_eq!(g.validate(1, &shot), Err(Rejection::not_your_turn()));
        assert!(g.apply(&mut state.at(5), 0, shot));
        assert_eq!(
            state.take_events(),
            [BattleshipEvent::Miss {
                by: 0,
                cell: water,
                auto: false
            }]
        );
        assert_eq!(g.view(Viewer::Spectator).to_move, Some(1));
        assert_eq!(g.view(Viewer::Spectator).turn_deadline, 5 + 200);
        // Seat 1 misses somewhere; seat 0 then sinks seat 1's ship 4 (two long).
        let (water0, _) = water_and_ship(&g, 0);
        let ship = g.boards[1].ships[4].cells.clone();
        assert!(g.apply(&mut state.at(6), 1, BattleshipShot { cell: water0 }));
        assert!(g.apply(&mut state.at(7), 0, BattleshipShot { cell: ship[0] }));
        assert!(g.apply(&mut state.at(8), 1, BattleshipShot { cell: water0 + 1 }));
        assert_eq!(
            g.view(Viewer::Player(0)).boards[1].cells[usize::from(ship[0])],
            cell::HIT
        );
        state.take_events();
        assert!(g.apply(&mut state.at(9), 0, BattleshipShot { cell: ship[1] }));
        assert_eq!(
            state.take_events(),
            [
                BattleshipEvent::Hit {
                    by: 0,
                    cell: ship[1],
                    auto: false
                },
                BattleshipEvent::Sunk {
                    by: 0,
                    ship: 4,
                    cells: ship.clone()
                },
            ]
        );
        let view = g.view(Viewer::Spectator);
        assert_eq!(view.boards[1].afloat, 4);
        assert!(
            ship.iter()
                .all(|&c| view.boards[1].cells[usize::from(c)] == cell::SUNK)
        );
    }

    #[test]
    fn refused_shots_change_nothing() {
        let mut state = CtxState::new(0);
        let mut g = new_game(BattleshipOptions::default(), &mut state);
        let code = |r: Result<(), Rejection>| r.map_err(|r| r.code);
        assert_eq!(
            code(g.validate(0, &BattleshipShot { cell: 64 })),
            Err(ErrorCode::IllegalInput)
        );
        assert!(g.apply(&mut state.at(1), 0, BattleshipShot { cell: 10 }));
        assert!(g.apply(&mut state.at(2), 1, BattleshipShot { cell: 10 }));
        assert_eq!(
            code(g.validate(0, &BattleshipShot { cell: 10 })),
            Err(ErrorCode::IllegalInput),
            "already fired at"
        );
        let before = (g.view(Viewer::Player(0)), g.view(Viewer::Player(1)));
        state.take_events();
        assert!(!g.apply(&mut state.at(3), 0, BattleshipShot { cell: 10 }));
        assert!(!g.apply(&mut state.at(3), 1, BattleshipShot { cell: 11 }));
        assert!(!state.has_events());
        assert_eq!(
            (g.view(Viewer::Player(0)), g.view(Viewer::Player(1))),
            before
        );
    }

    #[test]
    fn sinking_the_whole_fleet_wins() {
        let mut state = CtxState::new(9);
        let options = BattleshipOptions {
            fleet: Some(Fleet::Quick),
            ..Default::default()
        };
        let mut g = new_game(options, &mut state);
        let targets = g.ship_cells(1);
        let ships0 = g.ship_cells(0);
        let mut misses = (0..64u8).filter(|c| !ships0.contains(c));
        for (i, &cell) in targets.iter().enumerate() {
            let t = 2 * i as Tick;
            assert!(g.apply(&mut state.at(t), 0, BattleshipShot { cell }));
            if g.outcome().is_none() {
                let miss = misses.next().unwrap();
                assert!(g.apply(&mut state.at(t + 1), 1, BattleshipShot { cell: miss }));
            }
        }
        assert_eq!(
            g.outcome(),
            Some(Outcome {
                winner: Some(0),
                reason: EndReason::Win
            })
        );
        let view = g.view(Viewer::Player(1));
        assert!(view.over && view.to_move.is_none() && view.winner == Some(0));
        assert_eq!(view.boards[1].afloat, 0);
        assert_eq!(
            g.validate(1, &BattleshipShot { cell: 0 }),
            Err(Rejection::game_over())
        );
    }

    #[test]
    fn views_hide_the_unhit_ships_of_others() {
        let mut state = CtxState::new(4);
        let mut g = new_game(BattleshipOptions::default(), &mut state);
        let (_, ship1) = water_and_ship(&g, 1);
        assert!(g.apply(&mut state.at(1), 0, BattleshipShot { cell: ship1 }));
        for viewer in [Viewer::Player(0), Viewer::Player(1), Viewer::Spectator] {
            let view = g.view(viewer);
            for board in 0..2u8 {
                let own = viewer == Viewer::Player(board);
                let cells = &view.boards[usize::from(board)].cells;
                assert_eq!(cells.len(), 64);
                for &c in &g.ship_cells(board) {
                    let seen = cells[usize::from(c)];
                    let shot = g.boards[usize::from(board)].shot[usize::from(c)];
                    let expected = match (shot, own) {
                        (true, _) => cell::HIT,
                        (false, true) => cell::SHIP,
                        (false, false) => cell::UNKNOWN,
                    };
                    assert_eq!(seen, expected, "{viewer:?} board {board} cell {c}");
                }
                let ships = cells.iter().filter(|&&c| c == cell::SHIP).count();
                assert_eq!(ships, if own { 17 - usize::from(board == 1) } else { 0 });
            }
        }
        assert_eq!(g.view(Viewer::Player(1)).you, Some(1));
        assert_eq!(g.view(Viewer::Spectator).you, None);
    }

    #[test]
    fn the_turn_timer_fires_at_random_then_forfeits() {
        let mut state = CtxState::new(5);
        let options = BattleshipOptions {
            turn_seconds: Some(2),
            ..Default::default()
        };
        let mut g = new_game(options, &mut state);
        // 2 s at 10 Hz: 20 ticks per turn. Seat 0 never fires; seat 1 misses each time.
        let mut now = 0;
        let water0: Vec<u8> = (0..64).filter(|c| !g.ship_cells(0).contains(c)).collect();
        for &miss in water0.iter().take(usize::from(MAX_AUTO_SHOTS)) {
            assert!(!g.tick(&mut state.at(now + 19)));
            now += 20;
            assert!(g.tick(&mut state.at(now)));
            let events = state.take_events();
            assert!(
                matches!(
                    events[0],
                    BattleshipEvent::Miss {
                        by: 0,
                        auto: true,
                        ..
                    } | BattleshipEvent::Hit {
                        by: 0,
                        auto: true,
                        ..
                    }
                ),
                "{events:?}"
            );
            assert_eq!(g.view(Viewer::Spectator).to_move, Some(1));
            assert!(g.apply(&mut state.at(now), 1, BattleshipShot { cell: miss }));
            state.take_events();
        }
        assert_eq!(g.outcome(), None);
        assert!(g.tick(&mut state.at(now + 20)));
        assert_eq!(
            g.outcome(),
            Some(Outcome {
                winner: Some(1),
                reason: EndReason::TurnTimeout
            })
        );
        assert!(!g.tick(&mut state.at(now + 40)), "over");
    }

    #[test]
    fn a_real_shot_resets_the_auto_fire_count() {
        let mut state = CtxState::new(6);
        let options = BattleshipOptions {
            turn_seconds: Some(1),
            ..Default::default()
        };
        let mut g = new_game(options, &mut state);
        let water0: Vec<u8> = (0..64).filter(|c| !g.ship_cells(0).contains(c)).collect();
        let mut water0 = water0.into_iter();
        // 1 s at 10 Hz. Seat 0 lets MAX_AUTO_SHOTS turns run out, fires once by hand, lets
        // MAX_AUTO_SHOTS more run out; seat 1 misses every time.
        let mut now = 0;
        for by_hand in [false, false, false, true, false, false, false] {
            now += 10;
            if by_hand {
                let view = g.view(Viewer::Player(0));
                let cell = view.boards[1]
                    .cells
                    .iter()
                    .position(|&c| c == cell::UNKNOWN);
                let shot = BattleshipShot {
                    cell: cell.unwrap() as u8,
                };
                assert!(g.apply(&mut state.at(now), 0, shot));
            } else {
                assert!(g.tick(&mut state.at(now)));
            }
            assert_eq!(g.outcome(), None);
            let shot = BattleshipShot {
                cell: water0.next().unwrap(),
            };
            assert!(g.apply(&mut state.at(now), 1, shot));
        }
        assert!(g.tick(&mut state.at(now + 10)));
        assert_eq!(g.outcome().map(|o| o.reason), Some(EndReason::TurnTimeout));
    }

    #[test]
    fn options_are_checked() {
        let check = Battleship::validate_options;
        assert_eq!(check(&BattleshipOptions::default()), Ok(()));
        for size in [MIN_SIZE, MAX_SIZE] {
            let options = BattleshipOptions {
                size: Some(size),
                ..Default::default()
            };
            assert_eq!(check(&options), Ok(()));
        }
        for size in [0, MIN_SIZE - 1, MAX_SIZE + 1, 255] {
            let options = BattleshipOptions {
                size: Some(size),
                ..Default::default()
            };
            assert!(check(&options).unwrap_err().contains("size"));
        }
        for seconds in [0, MAX_TURN_SECONDS + 1] {
            let options = BattleshipOptions {
                turn_seconds: Some(seconds),
                ..Default::default()
            };
            assert!(check(&options).unwrap_err().contains("turn_seconds"));
        }
        let mut state = CtxState::new(0);
        let options = BattleshipOptions {
            size: Some(10),
            fleet: Some(Fleet::Quick),
            turn_seconds: Some(3),
        };
        let g = new_game(options, &mut state);
        let view = g.view(Viewer::Player(0));
        assert_eq!(view.size, 10);
        assert_eq!(view.boards[0].cells.len(), 100);
        assert_eq!(view.boards[0].afloat, 3);
        assert_eq!(view.turn_deadline, 30);
    }

    #[test]
    fn leaving_forfeits() {
        let mut state = CtxState::new(0);
        let mut g = new_game(BattleshipOptions::default(), &mut state);
        assert!(g.on_leave(&mut state.at(3), 1));
        assert_eq!(
            g.outcome(),
            Some(Outcome {
                winner: Some(0),
                reason: EndReason::Abandoned
            })
        );
        assert!(!g.on_leave(&mut state.at(4), 0));
    }

    /// One thing that may happen to a game, for the property test.
    #[derive(Debug, Clone)]
    enum Step {
        Shot(Seat, u8),
        Tick(Tick),
        Leave(Seat),
    }

    fn step() -> impl proptest::strategy::Strategy<Value = Step> {
        use proptest::prelude::*;
        prop_oneof![
            8 => (0..3u8, any::<u8>()).prop_map(|(seat, cell)| Step::Shot(seat, cell)),
            4 => (1..40u64).prop_map(Step::Tick),
            1 => (0..3u8).prop_map(Step::Leave),
        ]
    }

    proptest::proptest! {
        /// Whatever the inputs (any seat, any cell byte), timeouts and leaves: no panic, a
        /// refused input changes nothing, and after every step each view shows its
        /// owner's fleet, no viewer another's unhit ship, and exactly the shots fired.
        #[test]
        fn views_keep_the_secrets_whatever_happens(
            seed in proptest::prelude::any::<u64>(),
            size in MIN_SIZE..=MAX_SIZE,
            steps in proptest::collection::vec(step(), 0..300),
        ) {
            let mut state = CtxState::new(seed);
            let options = BattleshipOptions {
                size: Some(size),
                fleet: None,
                turn_seconds: Some(1),
            };
            let mut g = Battleship::new(&config(seed), options, &mut state.at(0));
            let mut now = 0;
            for step in steps {
                match step {
                    Step::Shot(seat, cell) => {
                        let shot = BattleshipShot { cell };
                        let valid = g.validate(seat, &shot).is_ok();
                        let before = g.view(Viewer::Spectator);
                        proptest::prop_assert_eq!(g.apply(&mut state.at(now), seat, shot), valid);
                        if !valid {
                            proptest::prop_assert_eq!(g.view(Viewer::Spectator), before);
                        }
                    }
                    Step::Tick(gap) => {
                        now += gap;
                        g.tick(&mut state.at(now));
                    }
                    Step::Leave(seat) => {
                        g.on_leave(&mut state.at(now), seat);
                    }
                }
                for viewer in [Viewer::Player(0), Viewer::Player(1), Viewer::Spectator] {
                    let view = g.view(viewer);
                    for board in 0..2u8 {
                        let truth = &g.boards[usize::from(board)];
                        let seen = &view.boards[usize::from(board)];
                        proptest::prop_assert_eq!(seen.cells.len(), truth.shot.len());
                        proptest::prop_assert_eq!(seen.afloat, truth.afloat());
                        for (i, &c) in seen.cells.iter().enumerate() {
                            let ship = truth.ship_at[i].map(|s| &truth.ships[usize::from(s)]);
                            let expected = match (truth.shot[i], ship) {
                                (true, None) => cell::MISS,
                                (true, Some(ship)) if ship.sunk() => cell::SUNK,
                                (true, Some(_)) => cell::HIT,
                                (false, Some(_)) if viewer == Viewer::Player(board) => cell::SHIP,
                                (false, _) => cell::UNKNOWN,
                            };
                            proptest::prop_assert_eq!(c, expected, "{:?} board {} cell {}", viewer, board, i);
                        }
                    }
                }
            }
        }
    }

    #[test]
    fn hunt_target_bots_finish_every_game_with_legal_shots() {
        let mut rng = GameRng::seed_from_u64(7);
        for seed in 0..20 {
            let mut state = CtxState::new(seed);
            let mut g = new_game(BattleshipOptions::default(), &mut state);
            let mut shots = 0;
            while g.outcome().is_none() {
                let seat = g.view(Viewer::Spectator).to_move.unwrap();
                let view = g.view(Viewer::Player(seat));
                let cell = hunt_target(&view, seat, &mut rng).expect("an untried cell");
                assert_eq!(g.validate(seat, &BattleshipShot { cell }), Ok(()));
                assert!(g.apply(&mut state.at(shots), seat, BattleshipShot { cell }));
                shots += 1;
                assert!(shots <= 128);
            }
            assert_eq!(g.outcome().unwrap().reason, EndReason::Win);
            // Hunting and targeting beats random fire, which needs nearly every cell of
            // both boards.
            assert!(shots < 120, "seed {seed}: {shots} shots");
        }
    }

    #[test]
    fn server_bots_of_both_strategies_play_legal_shots_to_the_end() {
        use crate::game::BotGame;
        for (x, o) in [
            ("perfect", "random"),
            ("random", "random"),
            ("perfect", "perfect"),
        ] {
            for seed in 0..10 {
                let mut state = CtxState::new(seed);
                let mut g = new_game(BattleshipOptions::default(), &mut state);
                let mut bots = [
                    Battleship::bot(x, seed).unwrap(),
                    Battleship::bot(o, seed + 1).unwrap(),
                ];
                let mut shots = 0;
                while g.outcome().is_none() {
                    for seat in 0..2u8 {
                        let view = g.view(Viewer::Player(seat));
                        let chosen = bots[usize::from(seat)].choose(&view, seat);
                        if view.to_move != Some(seat) {
                            assert_eq!(chosen, None, "a bot waits for its turn");
                            continue;
                        }
                        let shot = chosen.expect("a shot on its turn");
                        assert_eq!(g.validate(seat, &shot), Ok(()));
                        assert!(g.apply(&mut state.at(shots), seat, shot));
                        shots += 1;
                        break;
                    }
                    assert!(shots <= 128, "{x} vs {o}, seed {seed}");
                }
                assert_eq!(g.outcome().unwrap().reason, EndReason::Win);
            }
        }
        assert!(Battleship::bot("clever", 0).is_none());
    }
}
