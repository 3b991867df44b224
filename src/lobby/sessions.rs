//! Sessions: a player's identity, which outlives any one connection.
//!
//! A session has an id, a secret resume token (rotated on every resume), a rating, the
//! connection it is bound to now (if any), and where it is: queued for a game, in a room, or
//! neither. Lock order: the [`SessionTable`] before any [`Session`], never the reverse.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use rand::Rng;

use crate::engine::RoomAddr;
use crate::outbox::Outbox;
use crate::protocol::{Seat, SessionId};

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
    /// The seat, or `None` for a spectator.
    pub seat: Option<Seat>,
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

/// A session's mutable state, behind its own lock.
#[derive(Debug)]
pub struct SessionState {
    pub(crate) token: String,
    pub(crate) rating: u16,
    pub(crate) binding: Option<Binding>,
    pub(crate) room: Option<Membership>,
    pub(crate) queued: Option<&'static str>,
    pub(crate) disconnected_at: Option<Instant>,
    pub(crate) chat: RateLimit,
}

impl SessionState {
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
    state: Mutex<SessionState>,
}

impl Session {
    /// The session id.
    pub fn id(&self) -> SessionId {
        self.id
    }

    /// Locks the session's state. Never hold it across an `.await`.
    pub fn lock(&self) -> MutexGuard<'_, SessionState> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// A fresh 128-bit resume token from the thread-local CSPRNG, as 32 hex digits.
fn new_token() -> String {
    format!("{:032x}", rand::rng().random::<u128>())
}

#[derive(Debug, Default)]
struct Tables {
    by_id: HashMap<SessionId, Arc<Session>>,
    by_token: HashMap<String, SessionId>,
}

/// Every live session, by id and by resume token.
#[derive(Debug, Default)]
pub struct SessionTable {
    tables: Mutex<Tables>,
    next_id: AtomicU64,
}

impl SessionTable {
    fn lock(&self) -> MutexGuard<'_, Tables> {
        self.tables.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Creates a session bound to `binding` and returns it with its resume token.
    pub fn open(&self, binding: Binding, chat_burst: f64) -> (Arc<Session>, String) {
        let id = self.next_id.fetch_add(1, Ordering::Relaxed) + 1;
        let token = new_token();
        let session = Arc::new(Session {
            id,
            state: Mutex::new(SessionState {
                token: token.clone(),
                rating: DEFAULT_RATING,
                binding: Some(binding),
                room: None,
                queued: None,
                disconnected_at: None,
                chat: RateLimit::new(chat_burst),
            }),
        });
        let mut tables = self.lock();
        tables.by_token.insert(token.clone(), id);
        tables.by_id.insert(id, session.clone());
        (session, token)
    }

    /// Takes the session that `token` names, binds it to `binding` and rotates its token.
    /// Returns the session, its new token, and the connection it was bound to before.
    pub fn resume(
        &self,
        token: &str,
        binding: Binding,
    ) -> Option<(Arc<Session>, String, Option<Binding>)> {
        let mut tables = self.lock();
        let id = tables.by_token.remove(token)?;
        let session = tables.by_id.get(&id)?.clone();
        let fresh = new_token();
        tables.by_token.insert(fresh.clone(), id);
        let mut state = session.lock();
        state.token = fresh.clone();
        let previous = state.binding.replace(binding);
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

    /// Removes and returns every session whose connection has been gone for `grace`.
    pub fn remove_expired(&self, grace: Duration) -> Vec<Arc<Session>> {
        let now = Instant::now();
        let mut tables = self.lock();
        let expired: Vec<Arc<Session>> = tables
            .by_id
            .values()
            .filter(|s| {
                let state = s.lock();
                state.binding.is_none()
                    && state
                        .disconnected_at
                        .is_some_and(|at| now.duration_since(at) >= grace)
            })
            .cloned()
            .collect();
        for session in &expired {
            tables.by_id.remove(&session.id);
            let token = session.lock().token.clone();
            tables.by_token.remove(&token);
        }
        expired
    }

    /// Removes one session now.
    pub fn remove(&self, id: SessionId) {
        let mut tables = self.lock();
        if let Some(session) = tables.by_id.remove(&id) {
            let token = session.lock().token.clone();
            tables.by_token.remove(&token);
        }
    }

    /// Removes every session (at shutdown).
    pub fn clear(&self) {
        let mut tables = self.lock();
        tables.by_id.clear();
        tables.by_token.clear();
    }
}
