//! Sessions: a player's identity, which outlives any one connection.
//!
//! A session has an id, a secret resume token (rotated on every resume), a rating, the
//! connection it is bound to now (if any), and where it is: queued for a game, in a room, or
//! neither. An authenticated session also has the [`Identity`] its token proved; the table
//! keeps at most one session per player id. Lock order: the [`SessionTable`] before any
//! [`Session`], never the reverse.
//!
//! A resume token is the session id (16 hex digits) followed by 128 bits from the
//! thread-local CSPRNG (32 hex digits). The id finds the session; the whole token is then
//! compared with the stored one in constant time (`subtle`), so response timing says
//! nothing about how much of a guess was right.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use rand::Rng;
use subtle::ConstantTimeEq;

use crate::auth::Identity;

use crate::engine::RoomAddr;
use crate::outbox::Outbox;
use crate::protocol::{RoomId, Seat, SessionId};

/// Rating every new session starts with.
pub const DEFAULT_RATING: u16 = 1500;

/// The connection a session is bound to.
#[derive(Debug, Clone)]
pub struct Binding {
    /// Server-wide connection id.
    pub conn_id: u64,
    /// That connection's outbox.
    pub outbox: Arc<Outbox>,
}

/// A session's place in a room.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Membership {
    /// The room.
    pub addr: RoomAddr,
    /// A player (a seat is held for it), not a spectator.
    pub player: bool,
    /// The seat the room gave the player (`RoomObserver::member_seated`); `None` for a
    /// spectator, and for a player until the room has seated it.
    pub seat: Option<Seat>,
    /// A `JoinRoom` for this room is on its way to the room's shard (`Lobby::join_room`):
    /// until its answer, a notice that the session left the room is about an earlier stay
    /// in it (it left and joins again), and does not clear this membership.
    pub joining: bool,
}

/// A token bucket: `burst` messages at once, refilled at `per_second`.
#[derive(Debug, Clone)]
pub(crate) struct RateLimit {
    tokens: f64,
    last: Instant,
}

impl RateLimit {
    fn new(burst: f64) -> RateLimit {
        RateLimit {
            tokens: burst,
            last: Instant::now(),
        }
    }

    /// Takes one token if there is one.
    pub(crate) fn allow(&mut self, burst: f64, per_second: f64) -> bool {
        let now = Instant::now();
        let refill = now.duration_since(self.last).as_secs_f64() * per_second;
        self.tokens = (self.tokens + refill).min(burst);
        self.last = now;
        if self.tokens >= 1.0 {
            self.tokens -= 1.0;
            true
        } else {
            false
        }
    }
}

/// Where a session was when it ended ([`SessionTable::end_if_unbound`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Ended {
    /// The room it was in.
    pub room: Option<Membership>,
    /// The game whose quick-match queue it was in.
    pub queued: Option<&'static str>,
}

/// A session's mutable state, behind its own lock.
#[derive(Debug)]
pub struct SessionState {
    pub(crate) token: String,
    pub(crate) rating: u16,
    pub(crate) binding: Option<Binding>,
    pub(crate) room: Option<Membership>,
    pub(crate) queued: Option<&'static str>,
    pub(crate) disconnected_at: Option<Instant>,
    /// A seat reserved here for a player queued on another node, who has not arrived yet
    /// (no connection was ever bound): not the player's home in the cluster until it
    /// arrives (see `lobby::homes`), since the player is still on its own node.
    pub(crate) awaiting_arrival: bool,
    pub(crate) chat: RateLimit,
    /// Stored ratings by game, read from the database at the first `FindMatch` for the
    /// game and updated after each committed ranked game (a few games at most).
    pub(crate) game_ratings: Vec<(String, u16)>,
}

impl SessionState {
    /// The stored rating in `game`, once known.
    pub(crate) fn game_rating(&self, game: &str) -> Option<u16> {
        self.game_ratings
            .iter()
            .find(|(g, _)| g == game)
            .map(|(_, rating)| *rating)
    }

    /// Remembers the stored rating in `game`.
    pub(crate) fn set_game_rating(&mut self, game: &str, rating: u16) {
        match self.game_ratings.iter_mut().find(|(g, _)| g == game) {
            Some(entry) => entry.1 = rating,
            None => self.game_ratings.push((game.to_string(), rating)),
        }
    }

    /// The bound connection's outbox, if connected.
    pub fn outbox(&self) -> Option<&Arc<Outbox>> {
        self.binding.as_ref().map(|b| &b.outbox)
    }

    /// Where the session is seated or watching. While disconnected, this may still name a
    /// room that has since dropped the session; resuming tells the client it left.
    pub fn room(&self) -> Option<Membership> {
        self.room
    }
}

/// One player's identity.
#[derive(Debug)]
pub struct Session {
    id: SessionId,
    identity: Option<Identity>,
    state: Mutex<SessionState>,
}

impl Session {
    /// The session id.
    pub fn id(&self) -> SessionId {
        self.id
    }

    /// Who the session's token proved the player is; `None` for a guest.
    pub fn identity(&self) -> Option<&Identity> {
        self.identity.as_ref()
    }

    /// The key results are stored under: `user:<player id>`, or `guest:<session id>`.
    pub fn player_key(&self) -> String {
        match &self.identity {
            Some(identity) => crate::storage::player_key_user(&identity.player_id),
            None => crate::storage::player_key_guest(self.id),
        }
    }

    /// The player a seat ticket names for this session, reserved here for a player queued
    /// on node `node` as `session`: `user:<player id>`, or `guest:<node>:<session>`.
    pub(crate) fn player_key_as_from(&self, node: &str, session: SessionId) -> String {
        match &self.identity {
            Some(identity) => crate::storage::player_key_user(&identity.player_id),
            None => format!("guest:{node}:{session}"),
        }
    }

    /// The name results show for the player (`guest <id>` for a guest).
    pub fn display_name(&self) -> String {
        match &self.identity {
            Some(identity) => identity.display_name.clone(),
            None => crate::storage::display_name_guest(self.id),
        }
    }

    /// Locks the session's state. Never hold it across an `.await`.
    pub fn lock(&self) -> MutexGuard<'_, SessionState> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// A fresh resume token for session `id`: its id as 16 hex digits, then 128 bits from the
/// thread-local CSPRNG (ChaCha, seeded from the OS) as 32 hex digits.
fn new_token(id: SessionId) -> String {
    format!("{:016x}{:032x}", id.get(), rand::rng().random::<u128>())
}

/// The session id a token names, if it has the shape of one.
fn token_id(token: &str) -> Option<SessionId> {
    if token.len() != 48 {
        return None;
    }
    u64::from_str_radix(token.get(..16)?, 16)
        .ok()
        .map(SessionId::new)
}

/// How long an authenticated player's identity is remembered after its session ended,
/// so that a game it left still records who it was (`SessionTable::player_of`).
const DEPARTED_KEEP: Duration = Duration::from_secs(600);
/// Most departed identities remembered at once.
const MAX_DEPARTED: usize = 100_000;

#[derive(Debug, Default)]
struct Tables {
    /// By the server's own ids (foldhash; a client's token only looks one up).
    by_id: foldhash::HashMap<SessionId, Arc<Session>>,
    by_player: HashMap<String, SessionId>,
    /// Authenticated sessions that ended recently: when, player key and name.
    departed: foldhash::HashMap<SessionId, (Instant, String, String)>,
}

impl Tables {
    /// The session `token` names, if the token matches it (compared in constant time).
    fn by_token(&self, token: &str) -> Option<Arc<Session>> {
        let session = self.by_id.get(&token_id(token)?)?;
        let matches: bool = session
            .lock()
            .token
            .as_bytes()
            .ct_eq(token.as_bytes())
            .into();
        matches.then(|| session.clone())
    }

    fn forget(&mut self, session: &Session) {
        self.by_id.remove(&session.id);
        if session.identity.is_some() && self.departed.len() < MAX_DEPARTED {
            let entry = (Instant::now(), session.player_key(), session.display_name());
            self.departed.insert(session.id, entry);
        }
        if let Some(identity) = &session.identity
            && self.by_player.get(&identity.player_id) == Some(&session.id)
        {
            self.by_player.remove(&identity.player_id);
        }
    }
}

/// What [`SessionTable::login`] did.
#[derive(Debug)]
pub struct Login {
    /// The player's session.
    pub session: Arc<Session>,
    /// Its new resume token.
    pub token: String,
    /// The connection it was bound to before, which must be told it was taken over.
    pub previous: Option<Binding>,
    /// Whether an existing session was taken (`Welcome.resumed`).
    pub resumed: bool,
}

/// Every live session, by id and by resume token.
#[derive(Debug, Default)]
pub struct SessionTable {
    tables: Mutex<Tables>,
    next_id: AtomicU64,
}

impl SessionTable {
    /// An empty table whose session ids count up from `id_base + 1` (see
    /// `storage::Storage::id_base`: unique across restarts).
    pub fn with_id_base(id_base: u64) -> SessionTable {
        SessionTable {
            tables: Mutex::default(),
            next_id: AtomicU64::new(id_base),
        }
    }

    fn lock(&self) -> MutexGuard<'_, Tables> {
        self.tables.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Creates a session bound to `binding` and returns it with its resume token.
    pub fn open(&self, binding: Binding, chat_burst: f64) -> (Arc<Session>, String) {
        let session = self.new_session(binding, chat_burst, None);
        let token = session.lock().token.clone();
        self.lock().by_id.insert(session.id, session.clone());
        (session, token)
    }

    /// Creates a session for `identity` (a guest when `None`) bound to `binding`: a seat
    /// reserved for a player redirected here, who arrives as that player. It is the
    /// player's session here only if the player has none yet (an existing one is kept).
    pub fn open_as(
        &self,
        binding: Binding,
        chat_burst: f64,
        identity: Option<Identity>,
    ) -> (Arc<Session>, String) {
        let player = identity.as_ref().map(|i| i.player_id.clone());
        let session = self.new_session(binding, chat_burst, identity);
        let token = session.lock().token.clone();
        let mut tables = self.lock();
        if let Some(player) = player {
            tables.by_player.entry(player).or_insert(session.id);
        }
        tables.by_id.insert(session.id, session.clone());
        (session, token)
    }

    /// The session of an authenticated player: the one it already has, taken over for
    /// `binding` with a fresh token and the token's rating, or a new one.
    pub fn login(&self, identity: Identity, binding: Binding, chat_burst: f64) -> Login {
        let mut tables = self.lock();
        let existing = tables
            .by_player
            .get(&identity.player_id)
            .and_then(|id| tables.by_id.get(id))
            .cloned();
        if let Some(session) = existing {
            let token = new_token(session.id);
            let mut state = session.lock();
            state.token.clone_from(&token);
            state.rating = identity.rating.unwrap_or(DEFAULT_RATING);
            let previous = state.binding.replace(binding);
            state.awaiting_arrival = false;
            state.disconnected_at = None;
            drop(state);
            return Login {
                session,
                token,
                previous,
                resumed: true,
            };
        }
        let player_id = identity.player_id.clone();
        let session = self.new_session(binding, chat_burst, Some(identity));
        let token = session.lock().token.clone();
        tables.by_player.insert(player_id, session.id);
        tables.by_id.insert(session.id, session.clone());
        Login {
            session,
            token,
            previous: None,
            resumed: false,
        }
    }

    /// As [`SessionTable::login`], for a login another node redirected here (see
    /// [`crate::cluster::signin`]): session `id` is taken over if it is `identity`'s player's
    /// (and becomes that player's session here); if it ended, the player's session here or
    /// a new one, as [`SessionTable::login`].
    pub fn login_at(
        &self,
        id: SessionId,
        identity: Identity,
        binding: Binding,
        chat_burst: f64,
    ) -> Login {
        {
            let mut tables = self.lock();
            let mine = tables.by_id.get(&id).is_some_and(|s| {
                s.identity
                    .as_ref()
                    .is_some_and(|i| i.player_id == identity.player_id)
            });
            if mine {
                tables.by_player.insert(identity.player_id.clone(), id);
            }
        }
        self.login(identity, binding, chat_burst)
    }

    /// Whether signed-in player `player_id` has a session here.
    pub fn has_player(&self, player_id: &str) -> bool {
        let tables = self.lock();
        tables
            .by_player
            .get(player_id)
            .is_some_and(|id| tables.by_id.contains_key(id))
    }

    fn new_session(
        &self,
        binding: Binding,
        chat_burst: f64,
        identity: Option<Identity>,
    ) -> Arc<Session> {
        let id = SessionId::new(self.next_id.fetch_add(1, Ordering::Relaxed) + 1);
        let rating = identity
            .as_ref()
            .and_then(|i| i.rating)
            .unwrap_or(DEFAULT_RATING);
        Arc::new(Session {
            id,
            identity,
            state: Mutex::new(SessionState {
                token: new_token(id),
                rating,
                binding: Some(binding),
                room: None,
                queued: None,
                disconnected_at: None,
                awaiting_arrival: false,
                chat: RateLimit::new(chat_burst),
                game_ratings: Vec::new(),
            }),
        })
    }

    /// Takes the session that `token` names, binds it to `binding` and rotates its token.
    /// Returns the session, its new token, and the connection it was bound to before.
    pub fn resume(
        &self,
        token: &str,
        binding: Binding,
    ) -> Option<(Arc<Session>, String, Option<Binding>)> {
        let tables = self.lock();
        let session = tables.by_token(token)?;
        let fresh = new_token(session.id);
        let mut state = session.lock();
        state.token = fresh.clone();
        let previous = state.binding.replace(binding);
        state.awaiting_arrival = false;
        state.disconnected_at = None;
        drop(state);
        Some((session, fresh, previous))
    }

    /// As [`SessionTable::resume`], for a resume redirected here by another node: the
    /// session `id` is taken only if its current token hashes to `token_sha` (compared in
    /// constant time; see [`crate::cluster::resume`]).
    pub fn resume_hashed(
        &self,
        id: SessionId,
        token_sha: &str,
        binding: Binding,
    ) -> Option<(Arc<Session>, String, Option<Binding>)> {
        let tables = self.lock();
        let session = tables.by_id.get(&id)?.clone();
        let mut state = session.lock();
        let current = crate::cluster::resume::token_sha(&state.token);
        let matches: bool = current.as_bytes().ct_eq(token_sha.as_bytes()).into();
        if !matches {
            return None;
        }
        let fresh = new_token(session.id);
        state.token = fresh.clone();
        let previous = state.binding.replace(binding);
        state.awaiting_arrival = false;
        state.disconnected_at = None;
        drop(state);
        Some((session, fresh, previous))
    }

    /// Looks a session up by id.
    pub fn get(&self, id: SessionId) -> Option<Arc<Session>> {
        self.lock().by_id.get(&id).cloned()
    }

    /// Every live session (a copy of the table's handles: the table is not locked while
    /// the caller looks at them).
    pub fn all(&self) -> Vec<Arc<Session>> {
        self.lock().by_id.values().cloned().collect()
    }

    /// Live sessions.
    pub fn len(&self) -> usize {
        self.lock().by_id.len()
    }

    /// Whether there are no sessions.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Removes and returns every session whose connection has been gone for `grace`, or
    /// for `in_room_grace` if it is still a member of a room (whose own deadline normally
    /// ends it first, see [`SessionTable::end_if_away`]).
    pub fn remove_expired(&self, grace: Duration, in_room_grace: Duration) -> Vec<Arc<Session>> {
        let now = Instant::now();
        let mut tables = self.lock();
        let expired: Vec<Arc<Session>> = tables
            .by_id
            .values()
            .filter(|s| {
                let state = s.lock();
                let grace = if state.room.is_some() {
                    in_room_grace
                } else {
                    grace
                };
                state.binding.is_none()
                    && state
                        .disconnected_at
                        .is_some_and(|at| now.duration_since(at) >= grace)
            })
            .cloned()
            .collect();
        for session in &expired {
            tables.forget(session);
        }
        tables
            .departed
            .retain(|_, (at, _, _)| now.duration_since(*at) < DEPARTED_KEEP);
        expired
    }

    /// Who played as session `id`: its player key, display name, and whether it is a
    /// guest. Also answers for a session that ended in the last ten minutes; any other
    /// unknown session is taken as a guest.
    pub fn player_of(&self, id: SessionId) -> (String, String, bool) {
        let tables = self.lock();
        if let Some(session) = tables.by_id.get(&id) {
            return (
                session.player_key(),
                session.display_name(),
                session.identity.is_none(),
            );
        }
        if let Some((_, key, name)) = tables.departed.get(&id) {
            return (key.clone(), name.clone(), false);
        }
        (
            crate::storage::player_key_guest(id),
            crate::storage::display_name_guest(id),
            true,
        )
    }

    /// Ends the session `id` if it is disconnected and still a member of `room`: the room
    /// has given its place up (the grace ran out), so
    /// its token must be refused from now on. One step under the table's lock, so a resume
    /// either wins before it (and finds the room gone) or is refused after it. Returns
    /// whether the session ended.
    pub fn end_if_away(&self, id: SessionId, room: RoomId) -> bool {
        let mut tables = self.lock();
        let Some(session) = tables.by_id.get(&id).cloned() else {
            return false;
        };
        let mut state = session.lock();
        if state.binding.is_some() || state.room.is_none_or(|m| m.addr.id != room || m.joining) {
            return false;
        }
        state.room = None;
        drop(state);
        tables.forget(&session);
        true
    }

    /// Sessions in a quick-match queue, by game (for metrics; walks every session).
    pub fn queued_by_game(&self) -> Vec<(&'static str, usize)> {
        let mut counts: Vec<(&'static str, usize)> = Vec::new();
        // A copy of the list first: the table's lock is not held while each session's is
        // taken (shards take the table's lock inside their ticks).
        for session in self.all() {
            let Some(game) = session.lock().queued else {
                continue;
            };
            match counts.iter_mut().find(|(g, _)| *g == game) {
                Some((_, n)) => *n += 1,
                None => counts.push((game, 1)),
            }
        }
        counts
    }

    /// Ends session `id` as its connection closed, unless a connection is bound to it
    /// again (a resume takes the session under this table's lock, so it happened either
    /// before, and wins, or after, and finds no session). Returns where it was when it
    /// ended, or `None` when it was not ended.
    pub fn end_if_unbound(&self, id: SessionId) -> Option<Ended> {
        let mut tables = self.lock();
        let session = tables.by_id.get(&id).cloned()?;
        let mut state = session.lock();
        if state.binding.is_some() {
            return None;
        }
        let ended = Ended {
            room: state.room.take(),
            queued: state.queued.take(),
        };
        drop(state);
        tables.forget(&session);
        Some(ended)
    }

    /// Removes one session now.
    pub fn remove(&self, id: SessionId) {
        let mut tables = self.lock();
        if let Some(session) = tables.by_id.get(&id).cloned() {
            tables.forget(&session);
        }
    }

    /// Removes every session (at shutdown).
    pub fn clear(&self) {
        let mut tables = self.lock();
        tables.by_id.clear();
        tables.by_player.clear();
        tables.departed.clear();
    }
}

#[cfg(test)]
mod tests;
