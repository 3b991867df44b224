//! The games a server offers, by name, behind one object-safe interface.
//!
//! [`crate::game::Game`] is generic over its input and view types; a shard holds rooms of
//! many games at once, so each game is wrapped in [`Erased`], which decodes inputs and
//! encodes views with the connection's codec. This is the only place game types meet the
//! codec.

use std::collections::{HashMap, VecDeque};
use std::sync::Arc;

use bytes::{Bytes, BytesMut};

use crate::codec::{Codec, CodecError};
use crate::game::arena::Arena;
use crate::game::{DeltaGame, Game, GameConfig, Outcome, Rejection, Viewer, tictactoe::TicTacToe};
use crate::protocol::{Seat, Tick};

/// Why an input was not applied.
#[derive(Debug, thiserror::Error)]
pub enum InputError {
    /// `Input.data` did not decode as the game's input type.
    #[error("malformed game input: {0}")]
    Malformed(#[from] CodecError),
    /// The game's rules refused it.
    #[error(transparent)]
    Rejected(#[from] Rejection),
}

/// A running game of any type, as a shard drives it.
pub trait DynGame: Send {
    /// Decodes, validates and applies one input. `Ok(changed)` when accepted.
    ///
    /// # Errors
    /// [`InputError`] when the bytes are malformed or the rules refuse the input.
    fn apply_input(
        &mut self,
        now: Tick,
        seat: Seat,
        codec: Codec,
        data: &[u8],
    ) -> Result<bool, InputError>;
    /// See [`Game::tick`].
    fn tick(&mut self, now: Tick) -> bool;
    /// See [`Game::abandon`].
    fn abandon(&mut self, now: Tick, seat: Seat) -> bool;
    /// See [`Game::SHARED_VIEW`].
    fn shared_view(&self) -> bool;
    /// See [`Game::ENDS_BY_ITSELF`].
    fn ends_by_itself(&self) -> bool {
        true
    }
    /// Appends the encoded view for `viewer` to `buf`.
    ///
    /// # Errors
    /// [`CodecError::Encode`] if the view type cannot be encoded.
    fn encode_view(
        &self,
        viewer: Viewer,
        codec: Codec,
        buf: &mut BytesMut,
    ) -> Result<(), CodecError>;
    /// See [`Game::outcome`].
    fn outcome(&self) -> Option<Outcome>;
    /// The view for `viewer` as JSON, for the operator's room inspector (`/admin/`). Byte
    /// strings become arrays of numbers. `None` for games that do not provide it.
    fn view_json(&self, _viewer: Viewer) -> Option<serde_json::Value> {
        None
    }
    /// Remembers the current view as the state at `now`, as a base for later deltas.
    /// Games without delta support ignore it.
    fn record_view(&mut self, _now: Tick) {}
    /// Whether a delta against the view at `base_tick` can be encoded.
    fn has_base(&self, _base_tick: Tick) -> bool {
        false
    }
    /// Forgets the recorded views older than `tick`: no member can be sent a delta against
    /// them any more (the room passes the oldest tick a member may still take as a base).
    /// Games without delta support ignore it.
    fn forget_before(&mut self, _tick: Tick) {}
    /// Appends the encoded delta from the recorded view at `base_tick` to the current view
    /// (at `now`) to `buf`. Returns `Ok(false)` when no such base is recorded or the game
    /// has no delta support.
    ///
    /// # Errors
    /// [`CodecError::Encode`] if the delta type cannot be encoded.
    fn encode_delta(
        &self,
        _base_tick: Tick,
        _now: Tick,
        _codec: Codec,
        _buf: &mut BytesMut,
    ) -> Result<bool, CodecError> {
        Ok(false)
    }
    /// The game's replay log, compressed, once it has ended with `outcome` (reported at
    /// `now`); `None` for games not recorded (see [`crate::replay::Recording`]). Only the
    /// first call returns it.
    fn take_replay(&mut self, _now: Tick, _outcome: Outcome) -> Option<Bytes> {
        None
    }
}

/// Adapts a concrete [`Game`] to [`DynGame`].
pub struct Erased<G>(pub G);

impl<G: Game> DynGame for Erased<G> {
    fn apply_input(
        &mut self,
        now: Tick,
        seat: Seat,
        codec: Codec,
        data: &[u8],
    ) -> Result<bool, InputError> {
        let input: G::Input = codec.decode(data)?;
        self.0.validate(seat, &input)?;
        Ok(self.0.apply(now, seat, input))
    }

    fn tick(&mut self, now: Tick) -> bool {
        self.0.tick(now)
    }

    fn abandon(&mut self, now: Tick, seat: Seat) -> bool {
        self.0.abandon(now, seat)
    }

    fn shared_view(&self) -> bool {
        G::SHARED_VIEW
    }

    fn ends_by_itself(&self) -> bool {
        G::ENDS_BY_ITSELF
    }

    fn encode_view(
        &self,
        viewer: Viewer,
        codec: Codec,
        buf: &mut BytesMut,
    ) -> Result<(), CodecError> {
        codec.encode_into(&self.0.view(viewer), buf)
    }

    fn outcome(&self) -> Option<Outcome> {
        self.0.outcome()
    }

    fn view_json(&self, viewer: Viewer) -> Option<serde_json::Value> {
        // A view that JSON cannot hold (a map with non-string keys) shows as its error.
        Some(
            serde_json::to_value(self.0.view(viewer))
                .unwrap_or_else(|error| serde_json::Value::String(format!("{error}"))),
        )
    }
}

/// A [`DeltaGame`] with the recent views that deltas are taken against.
///
/// At most `capacity` views are kept, and none older than the room's oldest possible base
/// ([`DynGame::forget_before`]): with members acknowledging within a tick or two, a room
/// holds two or three views, not `capacity` (an arena room of 8 held 64, about 6 KiB). The
/// queue grows as needed and is given back when it is mostly empty.
pub struct WithDeltas<G: DeltaGame> {
    inner: Erased<G>,
    history: VecDeque<(Tick, G::View)>,
    capacity: usize,
}

impl<G: DeltaGame> WithDeltas<G> {
    /// Wraps `game`, keeping its last `capacity` recorded views.
    pub fn new(game: G, capacity: usize) -> WithDeltas<G> {
        WithDeltas {
            inner: Erased(game),
            history: VecDeque::new(),
            capacity: capacity.max(1),
        }
    }

    fn base(&self, tick: Tick) -> Option<&G::View> {
        // Ticks are recorded in increasing order.
        let index = self.history.binary_search_by_key(&tick, |(t, _)| *t).ok()?;
        self.history.get(index).map(|(_, view)| view)
    }
}

impl<G: DeltaGame> DynGame for WithDeltas<G> {
    fn apply_input(
        &mut self,
        now: Tick,
        seat: Seat,
        codec: Codec,
        data: &[u8],
    ) -> Result<bool, InputError> {
        self.inner.apply_input(now, seat, codec, data)
    }

    fn tick(&mut self, now: Tick) -> bool {
        self.inner.tick(now)
    }

    fn abandon(&mut self, now: Tick, seat: Seat) -> bool {
        self.inner.abandon(now, seat)
    }

    fn shared_view(&self) -> bool {
        self.inner.shared_view()
    }

    fn ends_by_itself(&self) -> bool {
        self.inner.ends_by_itself()
    }

    fn encode_view(
        &self,
        viewer: Viewer,
        codec: Codec,
        buf: &mut BytesMut,
    ) -> Result<(), CodecError> {
        self.inner.encode_view(viewer, codec, buf)
    }

    fn outcome(&self) -> Option<Outcome> {
        self.inner.outcome()
    }

    fn view_json(&self, viewer: Viewer) -> Option<serde_json::Value> {
        self.inner.view_json(viewer)
    }

    fn record_view(&mut self, now: Tick) {
        if self.history.back().is_some_and(|(t, _)| *t >= now) {
            return;
        }
        let view = self.inner.0.view(Viewer::Spectator);
        if self.history.len() >= self.capacity {
            self.history.pop_front();
        }
        self.history.push_back((now, view));
    }

    fn has_base(&self, base_tick: Tick) -> bool {
        self.base(base_tick).is_some()
    }

    fn forget_before(&mut self, tick: Tick) {
        while self.history.front().is_some_and(|(t, _)| *t < tick) {
            self.history.pop_front();
        }
        // A queue that grew for a slow member is given back once it is mostly unused.
        if self.history.capacity() > SMALL_HISTORY
            && self.history.len() * 4 < self.history.capacity()
        {
            self.history
                .shrink_to(SMALL_HISTORY.max(self.history.len() * 2));
        }
    }

    fn encode_delta(
        &self,
        base_tick: Tick,
        now: Tick,
        codec: Codec,
        buf: &mut BytesMut,
    ) -> Result<bool, CodecError> {
        let Some(base) = self.base(base_tick) else {
            return Ok(false);
        };
        let current = self.inner.0.view(Viewer::Spectator);
        let delta = G::diff(base, base_tick, &current, now);
        codec.encode_into(&delta, buf)?;
        Ok(true)
    }
}

/// Views a delta game keeps for deltas: at least this many, and at least one second's worth.
const MIN_DELTA_HISTORY: usize = 64;
/// A history queue at most this large is never shrunk.
const SMALL_HISTORY: usize = 8;

/// How to make one game: its name, seat count and constructor.
#[derive(Clone, Copy)]
pub struct GameEntry {
    /// The name clients ask for.
    pub name: &'static str,
    /// Seats per room.
    pub seats: u8,
    /// Fewest players a quick-match room may start with after the fill wait.
    pub min_players: u8,
    /// Builds a game when a room's seats are filled.
    pub create: fn(&GameConfig, Tick) -> Box<dyn DynGame>,
}

impl std::fmt::Debug for GameEntry {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("GameEntry")
            .field("name", &self.name)
            .field("seats", &self.seats)
            .finish()
    }
}

impl GameEntry {
    /// The entry for game type `G`.
    pub fn of<G: Game>() -> GameEntry {
        GameEntry {
            name: G::name(),
            seats: G::seats(),
            min_players: G::min_players().clamp(1, G::seats()),
            create: |config, start| Box::new(Erased(G::new(config, start))),
        }
    }

    /// The entry for a game whose views are sent as deltas against acknowledged states.
    pub fn with_deltas<G: DeltaGame>() -> GameEntry {
        GameEntry {
            create: |config, start| {
                let history = MIN_DELTA_HISTORY.max(usize::from(config.tick_hz));
                Box::new(WithDeltas::new(G::new(config, start), history))
            },
            ..GameEntry::of::<G>()
        }
    }
}

/// The set of games a server offers. Cheap to clone.
#[derive(Debug, Clone)]
pub struct GameRegistry {
    games: Arc<HashMap<&'static str, GameEntry>>,
}

impl GameRegistry {
    /// A registry of the given games.
    pub fn new(entries: impl IntoIterator<Item = GameEntry>) -> GameRegistry {
        GameRegistry {
            games: Arc::new(entries.into_iter().map(|e| (e.name, e)).collect()),
        }
    }

    /// The built-in games.
    pub fn builtin() -> GameRegistry {
        GameRegistry::new([
            GameEntry::of::<TicTacToe>(),
            GameEntry::with_deltas::<Arena>(),
        ])
    }

    /// The entry for `name`, if offered.
    pub fn get(&self, name: &str) -> Option<GameEntry> {
        self.games.get(name).copied()
    }

    /// The names of every game offered.
    pub fn names(&self) -> impl Iterator<Item = &'static str> + '_ {
        self.games.keys().copied()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::protocol::RoomSettings;

    fn arena() -> WithDeltas<Arena> {
        let config = GameConfig {
            tick_hz: 30,
            settings: RoomSettings::default(),
            players: 2,
        };
        WithDeltas::new(Arena::new(&config, 0), 64)
    }

    #[test]
    fn history_keeps_at_most_its_capacity() {
        let mut game = arena();
        for now in 1..=100 {
            game.record_view(now);
        }
        assert!(!game.has_base(36));
        assert!((37..=100).all(|t| game.has_base(t)));
    }

    #[test]
    fn forgotten_views_are_no_base_and_their_memory_is_given_back() {
        let mut game = arena();
        for now in 1..=64 {
            game.record_view(now);
        }
        let grown = game.history.capacity();
        assert!(grown >= 64);
        game.forget_before(62);
        assert!((1..62).all(|t| !game.has_base(t)));
        assert!((62..=64).all(|t| game.has_base(t)));
        let mut buf = BytesMut::new();
        assert!(!game.encode_delta(61, 64, Codec::Bincode, &mut buf).unwrap());
        assert!(game.encode_delta(62, 64, Codec::Bincode, &mut buf).unwrap());
        assert!(
            game.history.capacity() <= SMALL_HISTORY,
            "{}",
            game.history.capacity()
        );

        // In steady state (members a tick or two behind) the queue stays small.
        for now in 65..=1000 {
            game.record_view(now);
            game.forget_before(now - 2);
        }
        assert_eq!(game.history.len(), 3);
        assert!(game.history.capacity() <= SMALL_HISTORY);
    }
}
