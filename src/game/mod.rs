//! Game rules: the [`Game`] trait and the built-in games.
//!
//! Pure rules. Nothing here sees a socket, a codec, tokio or the wall clock: the engine feeds
//! a game its inputs and the current [`Tick`], and reads views and the outcome back. The
//! same inputs at the same ticks always give the same states, so the rules are tested
//! without any I/O.

pub mod arena;
pub mod tictactoe;
pub mod tictactoe_ai;

use serde::{Serialize, de::DeserializeOwned};

use crate::protocol::{EndReason, RoomSettings, Seat, Tick};

/// Who a view is rendered for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Viewer {
    /// The player in this seat.
    Player(Seat),
    /// Someone watching without a seat.
    Spectator,
}

/// How a finished game ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Outcome {
    /// The winning seat, or `None` for a draw.
    pub winner: Option<Seat>,
    /// Why it ended.
    pub reason: EndReason,
}

/// Why a game refused an input.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Rejection {
    /// The input is valid but another seat is to move.
    #[error("not your turn")]
    NotYourTurn,
    /// The game is not running (over).
    #[error("the game is over")]
    GameOver,
    /// The input breaks the rules; the text says which.
    #[error("{0}")]
    Illegal(&'static str),
}

/// What the engine tells a game when it creates one.
#[derive(Debug, Clone)]
pub struct GameConfig {
    /// The server's tick rate, so rules can turn seconds into ticks.
    pub tick_hz: u16,
    /// The room's settings from `CreateRoom` (defaults for quick-match rooms).
    pub settings: RoomSettings,
    /// Players seated when the game starts: seats `0..players`. At least
    /// [`Game::min_players`], at most [`Game::seats`].
    pub players: u8,
}

/// A game's rules, plugged into the engine.
///
/// The engine calls, per tick and in this order: [`Game::apply`] for each input that arrived
/// since the last tick (in arrival order, after [`Game::validate`] accepted it), then
/// [`Game::tick`]. It renders [`Game::view`] only when something reported a change.
///
/// # Determinism
///
/// A game must be a pure function of what the engine gives it: the [`GameConfig`] and
/// start tick of [`Game::new`], then the sequence of calls to [`Game::apply`],
/// [`Game::tick`] and [`Game::abandon`] with their arguments. Two games built alike and
/// given the same calls must have equal views and outcomes after every call, on any
/// machine and in any process. So no wall clock, no randomness but from the config (a
/// seeded generator), no iteration over hash maps with per-process seeds, no floating
/// point whose result depends on the platform, no state shared between games.
///
/// Replays depend on it: the engine records each game's calls, and `ticksync replay`
/// re-runs them and compares hashes of the views and outcome (see [`crate::replay`]).
/// Property tests (`src/replay/tests.rs`) check it for the built-in games; a game that
/// breaks it gets replays that do not verify.
pub trait Game: Send + 'static {
    /// One player's input, as the client sends it inside `ClientMsg::Input::data`.
    type Input: DeserializeOwned + Send + 'static;
    /// What a viewer is shown, sent inside `ServerMsg::Snapshot::state`.
    type View: Serialize;

    /// `true` when every viewer sees the same view, so one encoding serves the whole room.
    const SHARED_VIEW: bool = true;

    /// `true` when the rules end every game on their own (turn-based games, with their
    /// turn timers). A shutdown drain lets such running games finish; games that never end
    /// by their rules (real-time arenas) are ended as soon as the drain starts.
    const ENDS_BY_ITSELF: bool = true;

    /// The name clients use in `FindMatch` and `CreateRoom`.
    fn name() -> &'static str
    where
        Self: Sized;

    /// A new game, before any player has acted. Called when every seat is filled.
    fn new(config: &GameConfig, start: Tick) -> Self
    where
        Self: Sized;

    /// Seats in a room. A private room starts when all are filled.
    fn seats() -> u8
    where
        Self: Sized;

    /// Fewest players a quick-match room may start with after the queue has waited its
    /// fill time (see `MatchConfig::fill_wait`). Defaults to every seat.
    fn min_players() -> u8
    where
        Self: Sized,
    {
        Self::seats()
    }

    /// Checks an input against the rules without changing anything.
    ///
    /// # Errors
    /// The [`Rejection`] the client is told, naming its input seq.
    fn validate(&self, seat: Seat, input: &Self::Input) -> Result<(), Rejection>;

    /// Applies an input that [`Game::validate`] accepted. Returns whether the state changed.
    fn apply(&mut self, now: Tick, seat: Seat, input: Self::Input) -> bool;

    /// Advances time to `now`. Returns whether the state changed.
    fn tick(&mut self, now: Tick) -> bool;

    /// The player in `seat` left for good, or stayed away past the reconnect grace period.
    /// Returns whether the state changed.
    fn abandon(&mut self, now: Tick, seat: Seat) -> bool;

    /// The state as `viewer` may see it.
    fn view(&self, viewer: Viewer) -> Self::View;

    /// How the game ended, once it has.
    fn outcome(&self) -> Option<Outcome>;
}

/// A game whose views can be sent as differences from an earlier view the client already
/// has. The engine keeps recent views and sends each client `diff(acknowledged, current)`.
///
/// The contract, checked by property tests: for any two views `a` (at tick `ta`) and `b`
/// (at tick `tb > ta`) produced by the same game,
/// `apply_delta(&a, ta, &diff(&a, ta, &b, tb), tb) == b`.
pub trait DeltaGame: Game<View: Clone + PartialEq + Send> {
    /// The difference between two views, as sent inside `ServerMsg::Delta::delta`.
    type Delta: Serialize + DeserializeOwned;

    /// What changed from `base` (the view at `base_tick`) to `current` (at `tick`).
    fn diff(base: &Self::View, base_tick: Tick, current: &Self::View, tick: Tick) -> Self::Delta;

    /// Rebuilds the view at `tick` from `base` (at `base_tick`) and a delta. Clients run
    /// this; the server only uses it in tests.
    fn apply_delta(
        base: &Self::View,
        base_tick: Tick,
        delta: &Self::Delta,
        tick: Tick,
    ) -> Self::View;
}
