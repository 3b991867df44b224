//! The lobby's side of the operator's view (`/admin/`): every session and where it is, the
//! quick-match queues, and ending a session by hand ("kick").

use std::collections::BTreeMap;
use std::time::Instant;

use serde::Serialize;

use super::Lobby;
use crate::protocol::{ErrorCode, RoomId, Seat, ServerMsg, SessionId, close_code};

/// One session, as the operator sees it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SessionInfo {
    /// Server-wide session id.
    pub session: SessionId,
    /// Whether a connection is bound to it now.
    pub connected: bool,
    /// Seconds since its connection dropped (while waiting for a resume).
    pub away_s: Option<f64>,
    /// The room it is in (or, while away, may still be in).
    pub room: Option<RoomId>,
    /// Its seat there; `None` for a spectator or when in no room.
    pub seat: Option<Seat>,
    /// The game whose quick-match queue it is in.
    pub queued: Option<&'static str>,
    /// Its matchmaking rating.
    pub rating: u16,
}

/// One game's quick-match queue.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct QueueInfo {
    /// Game name.
    pub game: &'static str,
    /// Sessions waiting.
    pub waiting: usize,
}

impl Lobby {
    /// Every live session, by id.
    pub fn admin_sessions(&self) -> Vec<SessionInfo> {
        let now = Instant::now();
        let mut sessions: Vec<SessionInfo> = self
            .shared
            .sessions
            .all()
            .iter()
            .map(|session| {
                let state = session.lock();
                SessionInfo {
                    session: session.id(),
                    connected: state.binding.is_some(),
                    away_s: state
                        .disconnected_at
                        .filter(|_| state.binding.is_none())
                        .map(|at| now.saturating_duration_since(at).as_secs_f64()),
                    room: state.room.map(|m| m.addr.id),
                    seat: state.room.and_then(|m| m.seat),
                    queued: state.queued,
                    rating: state.rating,
                }
            })
            .collect();
        sessions.sort_by_key(|s| s.session);
        sessions
    }

    /// Every offered game's quick-match queue, by game name (empty queues included).
    pub fn admin_queues(&self) -> Vec<QueueInfo> {
        let mut waiting: BTreeMap<&'static str, usize> = self
            .shared
            .engine
            .registry()
            .names()
            .map(|name| (name, 0))
            .collect();
        for session in self.shared.sessions.all() {
            if let Some(game) = session.lock().queued {
                *waiting.entry(game).or_default() += 1;
            }
        }
        waiting
            .into_iter()
            .map(|(game, waiting)| QueueInfo { game, waiting })
            .collect()
    }

    /// Ends session `id` on the operator's word: its connection (if any) gets
    /// `Error Kicked` with `reason` and is closed with [`close_code::KICKED`]; its resume
    /// token stops working; it leaves its queue, and its room as if it had sent `LeaveRoom`
    /// (a player forfeits a running game). Returns `false` for an unknown session.
    pub async fn kick(&self, id: SessionId, reason: &str) -> bool {
        let Some(session) = self.shared.sessions.get(id) else {
            return false;
        };
        self.shared.sessions.remove(id);
        let (binding, room, queued) = {
            let mut state = session.lock();
            // Unbound, the session is inert: its connection's remaining messages find no
            // outbox to answer into, and its close finds nothing left to do.
            (state.binding.take(), state.room.take(), state.queued.take())
        };
        tracing::info!(session = id.get(), %reason, "session kicked by the operator");
        if let Some(binding) = binding {
            binding.outbox.push_msg(&ServerMsg::Error {
                code: ErrorCode::Kicked,
                message: reason.to_string(),
                input_seq: None,
            });
            binding
                .outbox
                .close(close_code::KICKED, "session ended by the operator");
        }
        if queued.is_some() {
            // In a cluster its place is in the global queue (it was left there before).
            self.unqueue(id).await;
        }
        if let Some(membership) = room {
            let _ = self.shared.engine.leave(membership.addr, id).await;
        }
        true
    }
}
