//! The quick-match queue: one task that fills rooms with players of close rating.
//!
//! **Pairing rule.** Each queued player has a rating window that starts at
//! [`MatchConfig::initial_window`] and widens by [`MatchConfig::widen_per_second`] for every
//! second waited, up to [`MatchConfig::max_window`]. Two players are compatible when their
//! rating gap is within the wider of their two windows (the longer waiter's patience
//! decides). Oldest first, each waiting player is grouped with the compatible players
//! closest to its rating; a group as large as the game's seat count becomes a room. A
//! player who has waited [`MatchConfig::fill_wait`] is seated with fewer players, down to
//! the game's minimum (the arena starts alone; tic-tac-toe always needs two). The queue is
//! retried on every arrival and every [`MatchConfig::retry_interval`].
//!
//! **One queue per game and options.** Players are only grouped with players who asked
//! for the same game options (`FindMatch.options`, compared in the bincode form the lobby
//! re-encodes them to), and their room gets those options. A queue is made when its first
//! player arrives and dropped when it empties, so there are never more queues than queued
//! players, however many options clients try.

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use bytes::Bytes;
use rand::seq::SliceRandom;
use tokio::sync::{mpsc, oneshot};
use tokio::time::{Instant, MissedTickBehavior};
use tokio_util::sync::CancellationToken;

use super::directory::Directory;
use super::sessions::{Membership, Session};
use crate::engine::{Engine, GameEntry, Member, NewRoom};
use crate::outbox::Outbox;
use crate::protocol::{RoomSettings, ServerMsg};

/// Matchmaking settings.
#[derive(Debug, Clone)]
pub struct MatchConfig {
    /// Rating window of a player who just joined the queue.
    pub initial_window: u32,
    /// How much the window widens per second of waiting.
    pub widen_per_second: u32,
    /// The widest a window gets.
    pub max_window: u32,
    /// How often the queue is retried when nobody arrives.
    pub retry_interval: Duration,
    /// After waiting this long, a player is seated with fewer players than the game's
    /// seats, if the game allows that many (`Game::MIN_PLAYERS`; tic-tac-toe does not).
    pub fill_wait: Duration,
}

impl Default for MatchConfig {
    fn default() -> Self {
        MatchConfig {
            initial_window: 100,
            widen_per_second: 50,
            max_window: 1000,
            retry_interval: Duration::from_millis(250),
            fill_wait: Duration::from_secs(3),
        }
    }
}

/// Requests to the matchmaker task.
#[derive(Debug)]
pub(crate) enum MatchCmd {
    Enqueue {
        session: Arc<Session>,
        game: GameEntry,
        /// The game's options, checked and in bincode (empty: the defaults).
        options: Bytes,
        rating: u16,
        outbox: Arc<Outbox>,
    },
    /// Leave the queue; answers whether the session was queued.
    Cancel {
        session: u64,
        reply: oneshot::Sender<bool>,
    },
    /// The session's connection dropped.
    Remove { session: u64 },
}

#[derive(Debug)]
struct Waiting {
    session: Arc<Session>,
    rating: u16,
    outbox: Arc<Outbox>,
    since: Instant,
}

/// A queue: the game's name and the options its players asked for.
type QueueKey = (&'static str, Bytes);

pub(crate) struct Matchmaker {
    config: MatchConfig,
    engine: Engine,
    directory: Arc<Directory>,
    queues: HashMap<QueueKey, (GameEntry, Vec<Waiting>)>,
    queued: Arc<AtomicUsize>,
    rx: mpsc::Receiver<MatchCmd>,
}

impl Matchmaker {
    pub(crate) fn new(
        config: MatchConfig,
        engine: Engine,
        directory: Arc<Directory>,
        queued: Arc<AtomicUsize>,
        rx: mpsc::Receiver<MatchCmd>,
    ) -> Matchmaker {
        Matchmaker {
            config,
            engine,
            directory,
            queues: HashMap::new(),
            queued,
            rx,
        }
    }

    pub(crate) async fn run(mut self, shutdown: CancellationToken) {
        let mut retry = tokio::time::interval(self.config.retry_interval);
        retry.set_missed_tick_behavior(MissedTickBehavior::Delay);
        loop {
            tokio::select! {
                _ = shutdown.cancelled() => break,
                _ = retry.tick() => {
                    let queues: Vec<QueueKey> = self.queues.keys().cloned().collect();
                    for key in queues {
                        self.try_match(&key).await;
                    }
                }
                cmd = self.rx.recv() => match cmd {
                    Some(cmd) => self.handle(cmd).await,
                    None => break,
                },
            }
            // Queues are made per game and options on demand: an empty one goes, so
            // there are never more queues than queued players.
            self.queues.retain(|_, (_, queue)| !queue.is_empty());
        }
    }

    async fn handle(&mut self, cmd: MatchCmd) {
        match cmd {
            MatchCmd::Enqueue {
                session,
                game,
                options,
                rating,
                outbox,
            } => {
                let key = (game.name, options);
                let (_, queue) = self
                    .queues
                    .entry(key.clone())
                    .or_insert_with(|| (game, Vec::new()));
                queue.push(Waiting {
                    session,
                    rating,
                    outbox: outbox.clone(),
                    since: Instant::now(),
                });
                let size = u32::try_from(queue.len()).unwrap_or(u32::MAX);
                outbox.push_msg(&ServerMsg::Queued {
                    game: game.name.to_string(),
                    position: size,
                    queue_size: size,
                });
                self.queued.fetch_add(1, Ordering::Relaxed);
                self.try_match(&key).await;
            }
            MatchCmd::Cancel { session, reply } => {
                let _ = reply.send(self.remove(session));
            }
            MatchCmd::Remove { session } => {
                self.remove(session);
            }
        }
    }

    fn remove(&mut self, session: u64) -> bool {
        for (_, queue) in self.queues.values_mut() {
            if let Some(index) = queue.iter().position(|w| w.session.id() == session) {
                queue.remove(index);
                self.queued.fetch_sub(1, Ordering::Relaxed);
                return true;
            }
        }
        false
    }

    fn window(&self, waited: Duration) -> u32 {
        let widened = waited.as_secs_f64() * f64::from(self.config.widen_per_second);
        let window = f64::from(self.config.initial_window) + widened;
        window.min(f64::from(self.config.max_window)) as u32
    }

    /// Forms as many rooms as the queue `key` allows.
    async fn try_match(&mut self, key: &QueueKey) {
        loop {
            let Some(group) = self.next_group(key) else {
                return;
            };
            let Some((entry, queue)) = self.queues.get_mut(key) else {
                return;
            };
            let entry = *entry;
            // Take the group out, highest index first so indices stay valid.
            let mut indices = group;
            indices.sort_unstable_by(|a, b| b.cmp(a));
            let mut players: Vec<Waiting> = indices.iter().map(|&i| queue.remove(i)).collect();
            self.queued.fetch_sub(players.len(), Ordering::Relaxed);
            // Seat order decides who moves first: shuffle it.
            players.shuffle(&mut rand::rng());
            self.start_room(entry, key.1.clone(), players).await;
        }
    }

    /// Queue indices of the next group to seat, oldest waiter first.
    fn next_group(&self, key: &QueueKey) -> Option<Vec<usize>> {
        let (entry, queue) = self.queues.get(key)?;
        let seats = usize::from(entry.seats);
        if queue.len() < usize::from(entry.min_players) {
            return None;
        }
        let now = Instant::now();
        let windows: Vec<u32> = queue
            .iter()
            .map(|w| self.window(now.duration_since(w.since)))
            .collect();
        // The queue is in arrival order, so index order is oldest first.
        for (anchor, waiting) in queue.iter().enumerate() {
            let mut candidates: Vec<(u32, usize)> = queue
                .iter()
                .enumerate()
                .filter(|&(i, _)| i != anchor)
                .filter_map(|(i, other)| {
                    let gap = u32::from(waiting.rating.abs_diff(other.rating));
                    (gap <= windows[anchor].max(windows[i])).then_some((gap, i))
                })
                .collect();
            let waited = now.duration_since(waiting.since) >= self.config.fill_wait;
            let enough = if waited {
                usize::from(entry.min_players)
            } else {
                seats
            };
            if candidates.len() + 1 < enough {
                continue;
            }
            candidates.sort_unstable();
            candidates.truncate(seats - 1);
            let mut group: Vec<usize> = candidates.iter().map(|&(_, i)| i).collect();
            group.push(anchor);
            return Some(group);
        }
        None
    }

    /// Seats a group in a new room, each player through the connection its session is bound
    /// to now (another connection may have taken the session over while it waited). A
    /// player whose connection dropped after the group formed (its `Remove` still on the
    /// way) is seated as absent, so the room's reconnect grace applies to it like to anyone
    /// else.
    async fn start_room(&mut self, game: GameEntry, options: Bytes, players: Vec<Waiting>) {
        let addr = self.engine.place_room();
        let code = self.directory.register(addr);
        let mut members = Vec::with_capacity(players.len());
        let mut absent = Vec::new();
        for (seat, waiting) in players.iter().enumerate() {
            let mut state = waiting.session.lock();
            let outbox = match state.outbox() {
                Some(outbox) => outbox.clone(),
                None => {
                    absent.push(waiting.session.id());
                    waiting.outbox.clone()
                }
            };
            state.queued = None;
            state.room = Some(Membership {
                addr,
                seat: u8::try_from(seat).ok(),
            });
            drop(state);
            members.push(Member {
                session: waiting.session.id(),
                outbox,
            });
        }
        let room = NewRoom {
            game,
            settings: RoomSettings {
                allow_spectators: true,
                relay: false,
                ranked: true,
                options,
            },
            code,
            public: true,
            players: members,
            start_now: true,
        };
        if self.engine.create_room(addr, room).await.is_err() {
            self.directory.remove(addr.id);
            return;
        }
        // A connection that closed while the room was being created may have sent its
        // `Disconnected` ahead of the `Create` (the shard ignores it for an unknown room):
        // look again now that the room exists. A repeated notice is harmless.
        for waiting in &players {
            if waiting.session.lock().binding.is_none() && !absent.contains(&waiting.session.id()) {
                absent.push(waiting.session.id());
            }
        }
        for session in absent {
            // Only fails when shutting down, when nothing more is owed to anyone.
            let _ = self.engine.disconnected(addr, session).await;
        }
    }
}
