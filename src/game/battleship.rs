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
mod tests;
