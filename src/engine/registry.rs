//! The games a server offers, by name, behind one object-safe interface.
//!
//! [`crate::game::Game`] is generic over its input and view types; a shard holds rooms of
//! many games at once, so each game is wrapped in [`Erased`], which decodes inputs and
//! encodes views with the connection's codec. This is the only place game types meet the
//! codec.

use std::collections::HashMap;
use std::sync::Arc;

use bytes::BytesMut;

use crate::codec::{Codec, CodecError};
use crate::game::{Game, GameConfig, Outcome, Rejection, Viewer, tictactoe::TicTacToe};
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
}

/// How to make one game: its name, seat count and constructor.
#[derive(Clone, Copy)]
pub struct GameEntry {
    /// The name clients ask for.
    pub name: &'static str,
    /// Seats per room.
    pub seats: u8,
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
            create: |config, start| Box::new(Erased(G::new(config, start))),
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
        GameRegistry::new([GameEntry::of::<TicTacToe>()])
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
