//! The games a server offers, by name, behind one object-safe interface.
//!
//! [`crate::game::Game`] is generic over its options, input, view and event types; a shard
//! holds rooms of many games at once, so each game is wrapped in [`Erased`], which decodes
//! options and inputs and encodes views and events with the connection's codec, and owns
//! the game's random number generator and emitted events ([`CtxState`]). This is the only
//! place game types meet the codec. The engine names no game: the embedder builds the
//! [`GameRegistry`] (`ticksync serve` uses [`crate::server::builtin_games`]).

use std::collections::VecDeque;
use std::sync::Arc;

use bytes::{Bytes, BytesMut};
use serde::Deserialize;

use crate::codec::{Codec, CodecError};
use crate::game::relay::Relay;
use crate::game::{
    BotGame, CtxState, DeltaGame, Game, GameBot, GameConfig, Outcome, Rejection, Viewer,
};
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

/// One event a game emitted ([`crate::game::Ctx::emit`]), encoded once in each codec (the
/// `data` of `ServerMsg::GameEvent`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EncodedEvent {
    by_codec: [Bytes; 2],
}

impl EncodedEvent {
    /// The event encoded in `codec`.
    pub fn data(&self, codec: Codec) -> &Bytes {
        &self.by_codec[codec.index()]
    }
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
        seq: u32,
        codec: Codec,
        data: &[u8],
    ) -> Result<bool, InputError>;
    /// See [`Game::tick`].
    fn tick(&mut self, now: Tick) -> bool;
    /// See [`Game::on_leave`].
    fn abandon(&mut self, now: Tick, seat: Seat) -> bool;
    /// See [`Game::on_disconnect`].
    fn disconnect(&mut self, now: Tick, seat: Seat) -> bool;
    /// See [`Game::on_reconnect`].
    fn reconnect(&mut self, now: Tick, seat: Seat) -> bool;
    /// See [`Game::on_join`].
    fn join(&mut self, now: Tick, seat: Seat) -> bool;
    /// Moves the events emitted since the last call, oldest first, to `out`, each encoded
    /// in both codecs.
    fn take_events(&mut self, out: &mut Vec<EncodedEvent>);
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

/// Adapts a concrete [`Game`] to [`DynGame`]: the game, its random number generator and
/// the events it emitted and the room has not yet taken.
pub struct Erased<G: Game> {
    game: G,
    ctx: CtxState<G::Event>,
}

impl<G: Game> Erased<G> {
    /// Creates the game from `config` (its options decoded from
    /// `config.settings.options`, see [`decode_options`]) at tick `start`, seeding its
    /// generator with `config.seed`.
    pub fn new(config: &GameConfig, start: Tick) -> Erased<G> {
        let options =
            decode_options::<G>(Codec::Bincode, &config.settings.options).unwrap_or_else(|error| {
                // Options are checked when the room is made; only a damaged replay header
                // gets here.
                tracing::error!(game = G::NAME, %error, "bad game options; using the defaults");
                G::Options::default()
            });
        let mut ctx = CtxState::new(config.seed);
        let game = G::new(config, options, &mut ctx.at(start));
        Erased { game, ctx }
    }

    /// The game.
    pub fn game(&self) -> &G {
        &self.game
    }
}

/// Decodes a game's options from `bytes` in `codec`; empty bytes are the defaults.
///
/// # Errors
/// The decoding error.
pub fn decode_options<G: Game>(codec: Codec, bytes: &[u8]) -> Result<G::Options, CodecError> {
    if bytes.is_empty() {
        return Ok(G::Options::default());
    }
    codec.decode(bytes)
}

/// Decodes `bytes` (from a client on `codec`) as `G`'s options and validates them; returns
/// them in the form the server keeps: bincode, or empty for the defaults (however they were
/// sent), so equal options always have equal bytes (quick match compares them).
fn check_options<G: Game>(codec: Codec, bytes: &[u8]) -> Result<Bytes, String> {
    if bytes.is_empty() {
        // The defaults, as most players send them: validated, and kept as nothing.
        G::validate_options(&G::Options::default())?;
        return Ok(Bytes::new());
    }
    let options = decode_options::<G>(codec, bytes).map_err(|error| error.to_string())?;
    G::validate_options(&options)?;
    let encode = |options: &G::Options| {
        Codec::Bincode
            .encode(options)
            .map_err(|error| error.to_string())
    };
    let canonical = encode(&options)?;
    if canonical == encode(&G::Options::default())? {
        return Ok(Bytes::new());
    }
    Ok(canonical)
}

impl<G: Game> DynGame for Erased<G> {
    fn apply_input(
        &mut self,
        now: Tick,
        seat: Seat,
        seq: u32,
        codec: Codec,
        data: &[u8],
    ) -> Result<bool, InputError> {
        let input: G::Input = if G::RAW_INPUT {
            let raw = serde::de::value::BytesDeserializer::<serde::de::value::Error>::new(data);
            G::Input::deserialize(raw).map_err(|e| CodecError::Malformed(e.to_string()))?
        } else {
            codec.decode(data)?
        };
        self.game.validate(seat, &input)?;
        Ok(self
            .game
            .apply(&mut self.ctx.for_input(now, seq), seat, input))
    }

    fn tick(&mut self, now: Tick) -> bool {
        self.game.tick(&mut self.ctx.at(now))
    }

    fn abandon(&mut self, now: Tick, seat: Seat) -> bool {
        self.game.on_leave(&mut self.ctx.at(now), seat)
    }

    fn disconnect(&mut self, now: Tick, seat: Seat) -> bool {
        self.game.on_disconnect(&mut self.ctx.at(now), seat)
    }

    fn reconnect(&mut self, now: Tick, seat: Seat) -> bool {
        self.game.on_reconnect(&mut self.ctx.at(now), seat)
    }

    fn join(&mut self, now: Tick, seat: Seat) -> bool {
        self.game.on_join(&mut self.ctx.at(now), seat)
    }

    fn take_events(&mut self, out: &mut Vec<EncodedEvent>) {
        if !self.ctx.has_events() {
            return;
        }
        for event in self.ctx.take_events() {
            let encode = |codec: Codec| {
                codec.encode(&event).unwrap_or_else(|error| {
                    tracing::error!(game = G::NAME, %error, "a game event does not encode");
                    Bytes::new()
                })
            };
            out.push(EncodedEvent {
                by_codec: [encode(Codec::Bincode), encode(Codec::MsgPack)],
            });
        }
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
        codec.encode_into(&self.game.view(viewer), buf)
    }

    fn outcome(&self) -> Option<Outcome> {
        self.game.outcome()
    }

    fn view_json(&self, viewer: Viewer) -> Option<serde_json::Value> {
        // A view that JSON cannot hold (a map with non-string keys) shows as its error.
        Some(
            serde_json::to_value(self.game.view(viewer))
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
    pub fn new(game: Erased<G>, capacity: usize) -> WithDeltas<G> {
        WithDeltas {
            inner: game,
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
        seq: u32,
        codec: Codec,
        data: &[u8],
    ) -> Result<bool, InputError> {
        self.inner.apply_input(now, seat, seq, codec, data)
    }

    fn tick(&mut self, now: Tick) -> bool {
        self.inner.tick(now)
    }

    fn abandon(&mut self, now: Tick, seat: Seat) -> bool {
        self.inner.abandon(now, seat)
    }

    fn disconnect(&mut self, now: Tick, seat: Seat) -> bool {
        self.inner.disconnect(now, seat)
    }

    fn reconnect(&mut self, now: Tick, seat: Seat) -> bool {
        self.inner.reconnect(now, seat)
    }

    fn join(&mut self, now: Tick, seat: Seat) -> bool {
        self.inner.join(now, seat)
    }

    fn take_events(&mut self, out: &mut Vec<EncodedEvent>) {
        self.inner.take_events(out);
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
        let view = self.inner.game.view(Viewer::Spectator);
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
        let current = self.inner.game.view(Viewer::Spectator);
        let delta = G::diff(base, base_tick, &current, now);
        codec.encode_into(&delta, buf)?;
        Ok(true)
    }
}

/// Views a delta game keeps for deltas: at least this many, and at least one second's worth.
const MIN_DELTA_HISTORY: usize = 64;
/// A history queue at most this large is never shrunk.
const SMALL_HISTORY: usize = 8;

/// How to make one game: its name, seat count, what its rooms do, and its constructor.
#[derive(Clone, Copy)]
pub struct GameEntry {
    /// The name clients ask for.
    pub name: &'static str,
    /// Seats per room.
    pub seats: u8,
    /// Fewest players a quick-match room may start with after the fill wait.
    pub min_players: u8,
    /// See [`Game::JOIN_IN_PROGRESS`].
    pub join_in_progress: bool,
    /// See [`Game::MAX_INPUTS_PER_TICK`].
    pub max_inputs_per_tick: usize,
    /// See [`Game::SENDS_VIEWS`].
    pub sends_views: bool,
    /// See [`Game::EVENT_EVERY_TICK`].
    pub event_every_tick: bool,
    /// See [`Game::RECORDED`].
    pub recorded: bool,
    /// A relay room ([`GameEntry::relay`]): `name` and `seats` are the named game's.
    pub relay: bool,
    /// Checks options a client sent (in its codec) when it creates a room; returns them
    /// as the server keeps them (bincode, or empty for the defaults), or the message for
    /// `Error InvalidOptions`.
    pub check_options: fn(Codec, &[u8]) -> Result<Bytes, String>,
    /// Builds a game when a room's play starts.
    pub create: fn(&GameConfig, Tick) -> Box<dyn DynGame>,
    /// Makes a server bot for the game ([`GameEntry::with_bot`]), or `None` when the game
    /// offers none. Quick match fills rooms with bots only for games that have one.
    pub bot: Option<BotFactory>,
}

/// Makes a server bot: from the strategy's name (`--bot-strategy`) and a seed for the
/// bot's own random number generator; `None` for a strategy the game does not know.
pub type BotFactory = fn(strategy: &str, seed: u64) -> Option<Box<dyn DynBot>>;

/// A server bot of any game, as a room drives it: it reads the bytes its seat's client
/// would get and answers with the bytes a client would send, both in bincode, so its
/// inputs take the same path as a client's (decoded, validated, applied at the tick,
/// recorded in the replay).
pub trait DynBot: Send {
    /// The input to send, seeing the view of `seat` encoded in bincode; `None` to wait.
    fn choose(&mut self, view: &[u8], seat: Seat) -> Option<Bytes>;
}

/// Adapts a [`GameBot`] to [`DynBot`].
struct ErasedBot<G: BotGame>(Box<dyn GameBot<G>>);

impl<G: BotGame> DynBot for ErasedBot<G> {
    fn choose(&mut self, view: &[u8], seat: Seat) -> Option<Bytes> {
        // The view was encoded by this server a moment ago: a failure is a bug in the
        // game's serde types, logged, and the bot waits.
        let view: G::View = match Codec::Bincode.decode(view) {
            Ok(view) => view,
            Err(error) => {
                tracing::error!(game = G::NAME, %error, "a bot cannot read its view");
                return None;
            }
        };
        let input = self.0.choose(&view, seat)?;
        match Codec::Bincode.encode(&input) {
            Ok(bytes) => Some(bytes),
            Err(error) => {
                tracing::error!(game = G::NAME, %error, "a bot's input does not encode");
                None
            }
        }
    }
}

fn make_bot<G: BotGame>(strategy: &str, seed: u64) -> Option<Box<dyn DynBot>> {
    let bot = G::bot(strategy, seed)?;
    Some(Box::new(ErasedBot::<G>(bot)))
}

impl std::fmt::Debug for GameEntry {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("GameEntry")
            .field("name", &self.name)
            .field("seats", &self.seats)
            .field("relay", &self.relay)
            .finish_non_exhaustive()
    }
}

impl GameEntry {
    /// The entry for game type `G`.
    pub fn of<G: Game>() -> GameEntry {
        GameEntry {
            name: G::NAME,
            seats: G::SEATS,
            min_players: G::MIN_PLAYERS.clamp(1, G::SEATS.max(1)),
            join_in_progress: G::JOIN_IN_PROGRESS,
            max_inputs_per_tick: G::MAX_INPUTS_PER_TICK,
            sends_views: G::SENDS_VIEWS,
            event_every_tick: G::EVENT_EVERY_TICK,
            recorded: G::RECORDED,
            relay: false,
            check_options: check_options::<G>,
            create: |config, start| Box::new(Erased::<G>::new(config, start)),
            bot: None,
        }
    }

    /// This entry with `G`'s server bots ([`BotGame`]), so quick match may fill its rooms
    /// with them (`MatchConfig::bot_fill_after`).
    pub fn with_bot<G: BotGame>(self) -> GameEntry {
        // A bot's input goes to the game encoded in bincode, which a raw-input game does not
        // read: such a game cannot have a bot (checked when the registry is built).
        const {
            assert!(
                !G::RAW_INPUT,
                "a game with RAW_INPUT cannot have a server bot"
            )
        };
        GameEntry {
            bot: Some(make_bot::<G>),
            ..self
        }
    }

    /// The entry for a game whose views are sent as deltas against acknowledged states.
    pub fn with_deltas<G: DeltaGame>() -> GameEntry {
        GameEntry {
            create: |config, start| {
                let history = MIN_DELTA_HISTORY.max(usize::from(config.tick_hz));
                Box::new(WithDeltas::new(Erased::<G>::new(config, start), history))
            },
            ..GameEntry::of::<G>()
        }
    }

    /// A lockstep relay room ([`Relay`]) with the name and seats of `game`: what
    /// `CreateRoom` with `RoomSettings.relay` makes.
    pub fn relay(game: &GameEntry) -> GameEntry {
        GameEntry {
            name: game.name,
            seats: game.seats.min(Relay::SEATS),
            min_players: game.min_players.min(game.seats.min(Relay::SEATS)),
            relay: true,
            ..GameEntry::of::<Relay>()
        }
    }
}

/// The set of games a server offers. Cheap to clone. Built by the embedder (see
/// [`crate::server::builtin_games`]) and handed to
/// [`Server::start_with_games`](crate::server::Server::start_with_games).
#[derive(Debug, Clone)]
pub struct GameRegistry {
    /// Names are the embedder's; a client's name only looks one up (foldhash).
    games: Arc<foldhash::HashMap<&'static str, GameEntry>>,
}

impl GameRegistry {
    /// A registry of the given games. A later entry with the same name replaces an
    /// earlier one.
    pub fn new(entries: impl IntoIterator<Item = GameEntry>) -> GameRegistry {
        GameRegistry {
            games: Arc::new(entries.into_iter().map(|e| (e.name, e)).collect()),
        }
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
mod tests;
