//! Game rules: the [`Game`] trait, the context its hooks get ([`Ctx`]), and the built-in
//! games.
//!
//! Pure rules. Nothing here sees a socket, a codec, tokio or the wall clock: the engine feeds
//! a game its inputs, the current [`Tick`] and a seeded random number generator through
//! [`Ctx`], and reads views, emitted events and the outcome back. The same calls always
//! give the same states, so the rules are tested without any I/O.
//!
//! A game is written against [`Game`] and offered to clients by registering it in a
//! [`GameRegistry`](crate::engine::GameRegistry) the embedder builds (see
//! [`builtin_games`](crate::server::builtin_games) and `examples/custom_game.rs`).

pub mod arena;
pub mod battleship;
pub mod relay;
pub mod tictactoe;
pub mod tictactoe_ai;

use std::borrow::Cow;

use rand::SeedableRng;
use serde::{Serialize, de::DeserializeOwned};

use crate::protocol::{EndReason, ErrorCode, MAX_INPUTS_PER_TICK, RoomSettings, Seat, Tick};

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

/// Why a game refused an input: the code and message the client gets in `Error`
/// (with the input's `seq`).
///
/// The code is one of the protocol's [`ErrorCode`]s, so clients can rely on it; the
/// constructors name the usual ones ([`ErrorCode::NotYourTurn`] 30,
/// [`ErrorCode::IllegalInput`] 31, [`ErrorCode::GameNotRunning`] 32). The message is the
/// game's own.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct Rejection {
    /// The stable code the client sees.
    pub code: ErrorCode,
    /// Human-readable detail.
    pub message: Cow<'static, str>,
}

impl Rejection {
    /// A refusal with any code and message.
    pub fn new(code: ErrorCode, message: impl Into<Cow<'static, str>>) -> Rejection {
        Rejection {
            code,
            message: message.into(),
        }
    }

    /// The input is valid but another seat is to move ([`ErrorCode::NotYourTurn`]).
    pub fn not_your_turn() -> Rejection {
        Rejection::new(ErrorCode::NotYourTurn, "not your turn")
    }

    /// The game is over ([`ErrorCode::GameNotRunning`]).
    pub fn game_over() -> Rejection {
        Rejection::new(ErrorCode::GameNotRunning, "the game is over")
    }

    /// The input breaks the rules; `message` says which ([`ErrorCode::IllegalInput`]).
    pub fn illegal(message: impl Into<Cow<'static, str>>) -> Rejection {
        Rejection::new(ErrorCode::IllegalInput, message)
    }
}

/// What the engine tells a game when it creates one.
#[derive(Debug, Clone)]
pub struct GameConfig {
    /// The server's tick rate, so rules can turn seconds into ticks.
    pub tick_hz: u16,
    /// The room's settings from `CreateRoom` (defaults for quick-match rooms). The game's
    /// own options, already decoded, come to [`Game::new`] as [`Game::Options`].
    pub settings: RoomSettings,
    /// Players seated when the game starts: seats `0..players`. At least
    /// [`Game::MIN_PLAYERS`], at most [`Game::SEATS`].
    pub players: u8,
    /// The seed of the game's random number generator ([`Ctx::rng`]), chosen by the engine
    /// per room and recorded in the replay.
    pub seed: u64,
}

/// The deterministic random number generator a game gets through [`Ctx::rng`]: ChaCha
/// with 8 rounds, seeded per room ([`GameConfig::seed`]). Its output is fixed by the seed
/// on every platform, so replays re-run. Use it with `rand::Rng` (`random_range`, ...).
pub type GameRng = rand_chacha::ChaCha8Rng;

/// What a game's hooks get besides their arguments: the tick, the random number
/// generator, and a way to emit the game's own reliable events.
///
/// Emitted events go, in order, to every member of the room as `ServerMsg::GameEvent`
/// (the event encoded in each connection's codec), numbered in the room's event sequence
/// and kept in its event log, so a client that resumes gets the ones it missed.
pub struct Ctx<'a, E> {
    tick: Tick,
    input_seq: u32,
    rng: &'a mut GameRng,
    events: &'a mut Vec<E>,
}

impl<E> std::fmt::Debug for Ctx<'_, E> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Ctx")
            .field("tick", &self.tick)
            .field("input_seq", &self.input_seq)
            .field("events", &self.events.len())
            .finish_non_exhaustive()
    }
}

impl<E> Ctx<'_, E> {
    /// The current tick (the start tick in [`Game::new`]).
    pub fn tick(&self) -> Tick {
        self.tick
    }

    /// In [`Game::apply`]: the `seq` the client gave the input being applied. 0 elsewhere.
    pub fn input_seq(&self) -> u32 {
        self.input_seq
    }

    /// The game's random number generator, seeded per room. Draw from it only in hooks,
    /// never from any other source of randomness (see [`Game`]'s determinism contract).
    pub fn rng(&mut self) -> &mut GameRng {
        self.rng
    }

    /// Sends `event` to the whole room, reliably and in order (see [`Ctx`]).
    pub fn emit(&mut self, event: E) {
        self.events.push(event);
    }
}

/// Owns what a [`Ctx`] borrows: the random number generator and the events emitted and not
/// yet taken. The engine keeps one per game; tests and tools use it to drive a game by hand.
#[derive(Debug, Clone)]
pub struct CtxState<E> {
    rng: GameRng,
    events: Vec<E>,
}

impl<E> CtxState<E> {
    /// A state whose generator is seeded with `seed` ([`GameConfig::seed`]).
    pub fn new(seed: u64) -> CtxState<E> {
        CtxState {
            rng: GameRng::seed_from_u64(seed),
            events: Vec::new(),
        }
    }

    /// A context at `tick`, outside any input.
    pub fn at(&mut self, tick: Tick) -> Ctx<'_, E> {
        self.for_input(tick, 0)
    }

    /// A context at `tick` for applying the input numbered `input_seq`.
    pub fn for_input(&mut self, tick: Tick, input_seq: u32) -> Ctx<'_, E> {
        Ctx {
            tick,
            input_seq,
            rng: &mut self.rng,
            events: &mut self.events,
        }
    }

    /// The events emitted since the last call, oldest first.
    pub fn take_events(&mut self) -> Vec<E> {
        std::mem::take(&mut self.events)
    }

    /// Whether any event waits to be taken.
    pub fn has_events(&self) -> bool {
        !self.events.is_empty()
    }
}

/// A game's rules, plugged into the engine.
///
/// A room creates its game with [`Game::new`] when play starts. Then, per tick and in this
/// order, the engine calls [`Game::apply`] for each input that arrived since the last tick
/// (in arrival order, after [`Game::validate`] accepted it), then [`Game::tick`]. Between
/// ticks it calls the membership hooks as players come and go: [`Game::on_disconnect`]
/// and [`Game::on_reconnect`] while a seat is held for an absent player,
/// [`Game::on_leave`] when it is given up, and [`Game::on_join`] when a player takes a
/// free seat in a running game (only when [`Game::JOIN_IN_PROGRESS`]). It renders
/// [`Game::view`] only when a call reported a change.
///
/// Every hook gets a [`Ctx`]: the tick, the room's seeded random number generator, and
/// [`Ctx::emit`] for the game's own events ([`Game::Event`]).
///
/// # Determinism
///
/// A game must be a pure function of what the engine gives it: the [`GameConfig`] (its
/// seed included), the options and start tick of [`Game::new`], then the sequence of
/// calls to its hooks with their arguments. Two games built alike and given the same calls
/// must have equal views, outcomes and emitted events after every call, on any machine and
/// in any process. So no wall clock, no randomness but [`Ctx::rng`], no iteration over
/// hash maps with per-process seeds, no floating point whose result depends on the
/// platform, no state shared between games.
///
/// Replays depend on it: the engine records each game's calls and seed, and
/// `ticksync replay` re-runs them and compares hashes of the views and outcome (see
/// [`crate::replay`]). Property tests (`src/replay/tests.rs`) check it for the built-in
/// games; a game that breaks it gets replays that do not verify.
pub trait Game: Send + Sized + 'static {
    /// The name clients use in `FindMatch` and `CreateRoom`.
    const NAME: &'static str;

    /// Seats in a room. A private room starts when all are filled.
    const SEATS: u8;

    /// Fewest players a quick-match room may start with after the queue has waited its
    /// fill time (see `MatchConfig::fill_wait`). Defaults to every seat.
    const MIN_PLAYERS: u8 = Self::SEATS;

    /// `true` when every viewer sees the same view, so one encoding serves the whole room.
    const SHARED_VIEW: bool = true;

    /// `true` when the rules end every game on their own (turn-based games, with their
    /// turn timers). A shutdown drain lets such running games finish; games that never end
    /// by their rules (real-time arenas) are ended as soon as the drain starts.
    const ENDS_BY_ITSELF: bool = true;

    /// `true` when a player may take a free seat (one given up by a player who left) while
    /// the game runs; the game hears of it in [`Game::on_join`]. Otherwise such a
    /// `JoinRoom` is refused with `GameAlreadyStarted`.
    const JOIN_IN_PROGRESS: bool = false;

    /// Most inputs of one player the room passes to the game in one tick; later ones in
    /// the same tick are refused with `RateLimited`.
    const MAX_INPUTS_PER_TICK: usize = MAX_INPUTS_PER_TICK;

    /// `false` for games whose whole output is their events (lockstep relay): the room
    /// then sends no `Snapshot` or `Delta`, ever.
    const SENDS_VIEWS: bool = true;

    /// `true` when [`Game::Input`] is read from `Input.data`'s raw bytes, as a byte
    /// string (e.g. [`bytes::Bytes`]), instead of being decoded with the connection's
    /// codec.
    const RAW_INPUT: bool = false;

    /// `true` for games that emit an event every tick: their room keeps a whole reconnect
    /// grace period of events (and a second more), so a player who resumes within the
    /// grace misses none.
    const EVENT_EVERY_TICK: bool = false;

    /// `false` for games whose rooms keep no replay.
    const RECORDED: bool = true;

    /// Game-specific room options, decoded from `RoomSettings.options` (encoded by the
    /// creating client in its connection's codec; empty bytes give `Default`), or from
    /// `FindMatch.options` for quick-match rooms (players are matched only with players
    /// who asked for the same options). Checked by [`Game::validate_options`] when the
    /// room is created or the player queued. `Serialize` because the server keeps them
    /// re-encoded in one form (bincode; empty for the defaults): in replays, in records,
    /// and to compare quick-match players' options.
    type Options: Serialize + DeserializeOwned + Default + Send + 'static;
    /// One player's input, as the client sends it inside `ClientMsg::Input::data`.
    type Input: DeserializeOwned + Send + 'static;
    /// What a viewer is shown, sent inside `ServerMsg::Snapshot::state`.
    type View: Serialize;
    /// The game's own reliable events, sent inside `ServerMsg::GameEvent::data` (see
    /// [`Ctx::emit`]). `()` for games that emit none.
    type Event: Serialize + Send + 'static;

    /// Checks a room's options when the room is created.
    ///
    /// # Errors
    /// A message the client gets with `Error InvalidOptions` (90).
    fn validate_options(_options: &Self::Options) -> Result<(), String> {
        Ok(())
    }

    /// A new game, before any player has acted. Called when play starts; `ctx.tick()` is
    /// the start tick.
    fn new(config: &GameConfig, options: Self::Options, ctx: &mut Ctx<'_, Self::Event>) -> Self;

    /// Checks an input against the rules without changing anything.
    ///
    /// # Errors
    /// The [`Rejection`] the client is told, naming its input seq.
    fn validate(&self, seat: Seat, input: &Self::Input) -> Result<(), Rejection>;

    /// Applies an input that [`Game::validate`] accepted. Returns whether the state changed.
    ///
    /// `false` is a promise: the game's state is exactly as before the call, and it drew
    /// nothing from [`Ctx::rng`] and emitted nothing. The engine then renders no new view
    /// and leaves the input out of the replay (a held key resent 20 times a second costs
    /// the log nothing), so a game that breaks the promise gets replays that do not verify.
    /// (Relay, which is not recorded and has no views, is the one game that answers
    /// `false` while it keeps the input.)
    fn apply(&mut self, ctx: &mut Ctx<'_, Self::Event>, seat: Seat, input: Self::Input) -> bool;

    /// Advances time to `ctx.tick()`. Returns whether the state changed.
    fn tick(&mut self, ctx: &mut Ctx<'_, Self::Event>) -> bool;

    /// The player in `seat` left for good, or stayed away past the reconnect grace period.
    /// Returns whether the state changed.
    fn on_leave(&mut self, ctx: &mut Ctx<'_, Self::Event>, seat: Seat) -> bool;

    /// The connection of the player in `seat` dropped; the seat is held for the reconnect
    /// grace period. A game may pause here. Returns whether the state changed; by default
    /// nothing changes (the game runs on).
    fn on_disconnect(&mut self, _ctx: &mut Ctx<'_, Self::Event>, _seat: Seat) -> bool {
        false
    }

    /// The player in `seat` is back within the grace period. Returns whether the state
    /// changed; by default nothing changes.
    fn on_reconnect(&mut self, _ctx: &mut Ctx<'_, Self::Event>, _seat: Seat) -> bool {
        false
    }

    /// A player took the free `seat` while the game runs (only called when
    /// [`Game::JOIN_IN_PROGRESS`]). Returns whether the state changed; by default nothing
    /// changes.
    fn on_join(&mut self, _ctx: &mut Ctx<'_, Self::Event>, _seat: Seat) -> bool {
        false
    }

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

/// A server-side player of game `G`: it sees what a client in its seat sees and answers
/// with an input, which the room then treats like any client's (validated, applied at the
/// tick, recorded in the replay). Deterministic given its seed (see [`BotGame::bot`]).
pub trait GameBot<G: Game>: Send {
    /// The input to send, seeing `view` (the view of `seat`); `None` to wait (not its
    /// turn, or nothing to do). Called after every tick whose view changed.
    fn choose(&mut self, view: &G::View, seat: Seat) -> Option<G::Input>;
}

/// A game that offers server bots, which quick match seats when a player has waited
/// `--bot-fill-after` seconds. Register it with
/// [`GameEntry::with_bot`](crate::engine::GameEntry::with_bot). Its views must decode and
/// its inputs encode, because a bot reads and writes the bytes a client would (in bincode;
/// so not for games with [`Game::RAW_INPUT`], which `with_bot` refuses at compile time).
pub trait BotGame: Game<Input: Serialize, View: DeserializeOwned> {
    /// A bot playing `strategy` (the server's `--bot-strategy`), its own random number
    /// generator seeded with `seed` (derived from the room's seed and the seat); `None` for
    /// a strategy the game does not know.
    fn bot(strategy: &str, seed: u64) -> Option<Box<dyn GameBot<Self>>>;
}

/// A context at `tick` for a game's unit tests: a fresh generator seeded with 0, and
/// emitted events dropped.
#[cfg(test)]
pub(crate) fn test_ctx<E>(tick: Tick) -> Ctx<'static, E> {
    let state: &'static mut CtxState<E> = Box::leak(Box::new(CtxState::new(0)));
    state.at(tick)
}
