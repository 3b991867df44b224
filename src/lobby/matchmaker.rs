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
//! **Bot fill** (off by default). With [`MatchConfig::bot_fill_after`] set, a player who
//! has waited that long without enough compatible players is seated with the compatible
//! players there are, and server bots in the other seats, for games that offer a bot
//! (`GameEntry::bot`). The matchmaker only says how many; the room draws their seats
//! from its seed (as likely as a player to move first), makes and drives them (see
//! `engine/room/bots.rs`); such games are unranked (`lobby/results.rs`).
//!
//! **Seats are the room's.** The matchmaker decides who plays together and in what order
//! (shuffled: the order decides who moves first); the room decides the seat numbers and
//! tells the lobby each (`RoomObserver::member_seated`) before the player hears
//! `MatchFound`.
//!
//! **`Queued` shares a write.** The answer to `FindMatch` is pushed unhurried
//! ([`Outbox::push_unhurried`]): in a busy queue the match is usually found at once, and
//! its `MatchFound` is written at the room's first tick, at most one tick period later; the
//! two (and the room's first events and state) then go out in one write instead of two.
//! Otherwise `Queued` is sent by itself after two tick periods, at most 100 ms (one timer
//! for all of them; `lobby/unhurried.rs`; the cluster's global queue waits as long). Measured
//! with `strace` under the ttt load at 200 clients: 18.9 → 17.0
//! `sendto` per game (BENCHMARKS.md, issue 13).
//!
//! **Values in, values out.** The decisions live in [`Queues`], which has no task, socket
//! or clock: every call that decides takes `now`, so the rules above are unit-tested with
//! made-up instants. [`Matchmaker`] is the thin task around it that reads the clock,
//! answers commands and creates the rooms.
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
use super::sessions::{Membership, Session, SessionState, SessionTable};
use super::unhurried::Unhurried;
use crate::engine::{BotFill, Engine, GameEntry, Member, NewRoom, RoomAddr};
use crate::outbox::Outbox;
use crate::protocol::{RoomSettings, ServerMsg, SessionId};

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
    /// After waiting this long in quick match, a player whose game offers server bots
    /// (`GameEntry::bot`) gets bots in every seat no compatible player takes. `None`
    /// (the default): never. `ticksync serve --bot-fill-after SECS`.
    pub bot_fill_after: Option<Duration>,
    /// The strategy server bots play (`--bot-strategy`), as the game's bot factory reads
    /// it; tic-tac-toe knows `random` (the default) and `perfect`.
    pub bot_strategy: String,
}

impl Default for MatchConfig {
    fn default() -> Self {
        MatchConfig {
            initial_window: 100,
            widen_per_second: 50,
            max_window: 1000,
            retry_interval: Duration::from_millis(250),
            fill_wait: Duration::from_secs(3),
            bot_fill_after: None,
            bot_strategy: "random".to_string(),
        }
    }
}

/// The settings of a room a quick match makes, here or across a cluster: public to
/// spectators, ranked, not a relay, with the options its players queued with.
pub(super) fn quick_match_settings(options: Bytes) -> RoomSettings {
    RoomSettings {
        allow_spectators: true,
        relay: false,
        ranked: true,
        options,
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
        session: SessionId,
        reply: oneshot::Sender<bool>,
    },
    /// The session's connection dropped.
    Remove { session: SessionId },
}

/// One queued player: its id, rating, when it arrived, and what the driver keeps with it.
#[derive(Debug)]
pub(crate) struct Waiting<T> {
    pub(crate) id: SessionId,
    pub(crate) rating: u16,
    pub(crate) since: Instant,
    pub(crate) payload: T,
}

/// A group the queue formed: players to seat together, in queue order, and how many
/// server bots fill the remaining seats.
#[derive(Debug)]
pub(crate) struct Group<T> {
    pub(crate) game: GameEntry,
    pub(crate) options: Bytes,
    pub(crate) players: Vec<Waiting<T>>,
    pub(crate) bots: u8,
}

/// A queue: the game's name and the options its players asked for.
type QueueKey = (&'static str, Bytes);

/// The queues' decisions, with no task, socket or clock of their own (values in, values
/// out): the driver passes `now` to every call that decides, so the pairing rule is tested
/// with made-up instants. `T` is what the driver keeps with each player (its session and
/// outbox; `()` in tests).
#[derive(Debug)]
pub(crate) struct Queues<T> {
    config: MatchConfig,
    queues: HashMap<QueueKey, (GameEntry, Vec<Waiting<T>>)>,
}

impl<T> Queues<T> {
    pub(crate) fn new(config: MatchConfig) -> Queues<T> {
        Queues {
            config,
            queues: HashMap::new(),
        }
    }

    /// Queues a player for `game` with `options` (checked, in bincode); returns the length of
    /// its queue, the player included.
    pub(crate) fn push(&mut self, game: GameEntry, options: Bytes, waiting: Waiting<T>) -> u32 {
        let (_, queue) = self
            .queues
            .entry((game.name, options))
            .or_insert_with(|| (game, Vec::new()));
        queue.push(waiting);
        u32::try_from(queue.len()).unwrap_or(u32::MAX)
    }

    /// Takes player `id` out of whichever queue holds it.
    pub(crate) fn remove(&mut self, id: SessionId) -> Option<Waiting<T>> {
        let mut found = None;
        for (_, queue) in self.queues.values_mut() {
            if let Some(index) = queue.iter().position(|w| w.id == id) {
                found = Some(queue.remove(index));
                break;
            }
        }
        self.prune();
        found
    }

    /// Queues alive now (one per game and options with a player waiting).
    #[cfg(test)]
    fn queue_count(&self) -> usize {
        self.queues.len()
    }

    /// Takes out every group the queues allow at `now`, queue by queue, oldest anchor
    /// first. Empty queues go, so there are never more queues than queued players.
    pub(crate) fn take_groups(&mut self, now: Instant) -> Vec<Group<T>> {
        let keys: Vec<QueueKey> = self.queues.keys().cloned().collect();
        let mut groups = Vec::new();
        for key in keys {
            while let Some(group) = self.take_group(&key, now) {
                groups.push(group);
            }
        }
        self.prune();
        groups
    }

    fn prune(&mut self) {
        self.queues.retain(|_, (_, queue)| !queue.is_empty());
    }

    fn window(&self, waited: Duration) -> u32 {
        let widened = waited.as_secs_f64() * f64::from(self.config.widen_per_second);
        let window = f64::from(self.config.initial_window) + widened;
        window.min(f64::from(self.config.max_window)) as u32
    }

    /// Whether `entry`'s bot knows the configured strategy (asked only when a player is due
    /// a bot, so an embedder's unknown strategy leaves players waiting instead of seating
    /// them with an empty seat).
    fn has_bot(&self, entry: &GameEntry) -> bool {
        entry
            .bot
            .is_some_and(|make| make(&self.config.bot_strategy, 0).is_some())
    }

    fn take_group(&mut self, key: &QueueKey, now: Instant) -> Option<Group<T>> {
        let (indices, bots) = self.next_group(key, now)?;
        let (game, queue) = self.queues.get_mut(key)?;
        let game = *game;
        // Take the group out, highest index first so indices stay valid, then back into
        // queue order.
        let mut indices = indices;
        indices.sort_unstable_by(|a, b| b.cmp(a));
        let mut players: Vec<Waiting<T>> = indices.iter().map(|&i| queue.remove(i)).collect();
        players.reverse();
        Some(Group {
            game,
            options: key.1.clone(),
            players,
            bots,
        })
    }

    /// Queue indices of the next group to seat, oldest waiter first, and the bots it gets.
    fn next_group(&self, key: &QueueKey, now: Instant) -> Option<(Vec<usize>, u8)> {
        let (entry, queue) = self.queues.get(key)?;
        let seats = usize::from(entry.seats);
        let bot_fill = self.config.bot_fill_after.filter(|_| entry.bot.is_some());
        if queue.len() < usize::from(entry.min_players) && bot_fill.is_none() {
            return None;
        }
        let windows: Vec<u32> = queue
            .iter()
            .map(|w| self.window(now.saturating_duration_since(w.since)))
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
            candidates.sort_unstable();
            candidates.truncate(seats.saturating_sub(1));
            let waited = now.saturating_duration_since(waiting.since);
            let enough = if waited >= self.config.fill_wait {
                usize::from(entry.min_players)
            } else {
                seats
            };
            let bots = if candidates.len() + 1 >= enough {
                0
            } else if bot_fill.is_some_and(|after| waited >= after) && self.has_bot(entry) {
                // Server bots take every seat the compatible players leave.
                u8::try_from(seats - (candidates.len() + 1)).unwrap_or(u8::MAX)
            } else {
                continue;
            };
            let mut group: Vec<usize> = candidates.iter().map(|&(_, i)| i).collect();
            group.push(anchor);
            return Some((group, bots));
        }
        None
    }
}

pub(crate) struct Matchmaker {
    engine: Engine,
    directory: Arc<Directory>,
    sessions: Arc<SessionTable>,
    queues: Queues<Seatable>,
    queued: Arc<AtomicUsize>,
    rx: mpsc::Receiver<MatchCmd>,
    /// `Queued` answers waiting to share a write.
    unhurried: Unhurried,
}

/// What the driver keeps with a queued player.
#[derive(Debug)]
struct Seatable {
    session: Arc<Session>,
    outbox: Arc<Outbox>,
}

impl Matchmaker {
    pub(crate) fn new(
        config: MatchConfig,
        engine: Engine,
        directory: Arc<Directory>,
        sessions: Arc<SessionTable>,
        queued: Arc<AtomicUsize>,
        rx: mpsc::Receiver<MatchCmd>,
    ) -> Matchmaker {
        Matchmaker {
            unhurried: Unhurried::new(engine.config().tick_period()),
            engine,
            directory,
            sessions,
            queues: Queues::new(config),
            queued,
            rx,
        }
    }

    pub(crate) async fn run(mut self, shutdown: CancellationToken) {
        let mut retry = tokio::time::interval(self.queues.config.retry_interval);
        retry.set_missed_tick_behavior(MissedTickBehavior::Delay);
        // One timer for every unhurried `Queued`, moved to the oldest one's deadline.
        let hurry = tokio::time::sleep(Duration::ZERO);
        tokio::pin!(hurry);
        loop {
            if let Some(deadline) = self.unhurried.next()
                && hurry.deadline() != deadline
            {
                hurry.as_mut().reset(deadline);
            }
            tokio::select! {
                _ = shutdown.cancelled() => break,
                () = &mut hurry, if self.unhurried.next().is_some() => {
                    self.unhurried.hurry(Instant::now());
                }
                _ = retry.tick() => self.try_match().await,
                cmd = self.rx.recv() => match cmd {
                    Some(cmd) => self.handle(cmd).await,
                    None => break,
                },
            }
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
                let size = self.queues.push(
                    game,
                    options,
                    Waiting {
                        id: session.id(),
                        rating,
                        since: Instant::now(),
                        payload: Seatable {
                            session,
                            outbox: outbox.clone(),
                        },
                    },
                );
                // Unhurried: a match found now (the usual case in a busy queue) writes its
                // `MatchFound` at the room's first tick, and the two go out in one write;
                // otherwise `hurry` sends it after `queued_wait`.
                let queued = ServerMsg::Queued {
                    game: game.name.into(),
                    position: size,
                    queue_size: size,
                };
                self.unhurried.push(&outbox, &queued, Instant::now());
                self.queued.fetch_add(1, Ordering::Relaxed);
                self.try_match().await;
            }
            MatchCmd::Cancel { session, reply } => {
                let _ = reply.send(self.remove(session));
            }
            MatchCmd::Remove { session } => {
                self.remove(session);
            }
        }
    }

    fn remove(&mut self, session: SessionId) -> bool {
        let removed = self.queues.remove(session).is_some();
        if removed {
            self.queued.fetch_sub(1, Ordering::Relaxed);
        }
        removed
    }

    /// Forms every room the queues allow now.
    async fn try_match(&mut self) {
        for group in self.queues.take_groups(Instant::now()) {
            self.queued
                .fetch_sub(group.players.len(), Ordering::Relaxed);
            let mut players: Vec<Seatable> = group.players.into_iter().map(|w| w.payload).collect();
            // Seat order decides who moves first: shuffle it.
            players.shuffle(&mut rand::rng());
            self.start_room(group.game, group.options, players, group.bots)
                .await;
        }
    }

    /// Seats a group in a new room, each player through the connection its session is bound
    /// to now (another connection may have taken the session over while it waited), or as
    /// absent if its connection has dropped (its `Remove` still on the way); then settles,
    /// once the room exists, those whose connection dropped or session ended meanwhile
    /// ([`settle_seated`]).
    async fn start_room(
        &mut self,
        game: GameEntry,
        options: Bytes,
        players: Vec<Seatable>,
        bots: u8,
    ) {
        let addr = self.engine.place_room();
        let code = self.directory.register(addr);
        let mut members = Vec::with_capacity(players.len());
        // Each player's session and the connection it was seated through, in order.
        let mut seated = Vec::with_capacity(players.len());
        // The room decides the seats (the bots' drawn from its seed, the players' in this
        // order in the rest) and tells the lobby each before the player hears it.
        for waiting in players {
            let mut state = waiting.session.lock();
            let outbox = state.outbox().cloned().unwrap_or(waiting.outbox);
            state.queued = None;
            state.room = Some(Membership {
                addr,
                player: true,
                seat: None,
                joining: false,
            });
            drop(state);
            members.push(Member {
                session: waiting.session.id(),
                outbox: outbox.clone(),
            });
            seated.push((waiting.session, outbox));
        }
        let room = NewRoom {
            game,
            settings: quick_match_settings(options),
            code,
            public: true,
            players: members,
            bots: BotFill {
                count: bots,
                strategy: self.queues.config.bot_strategy.clone(),
            },
            start_now: true,
            reserved: Default::default(),
        };
        if self.engine.create_room(addr, room).await.is_err() {
            self.directory.remove(addr.id);
            return;
        }
        settle_seated(&self.engine, &self.sessions, addr, seated).await;
    }
}

/// After a quick match's `Create` is sent: tells the room about each player seated in it
/// whose connection dropped or whose session ended since the lobby recorded its membership.
/// The lobby may have sent the room nothing about them (a connection that closed while
/// its session was only queued ended the session and told no room); whatever it sent once
/// the membership was recorded waits at the shard for the `Create`
/// (`engine/shard/early.rs`). Repeated notices are harmless.
///
/// - A session that has ended (it had no seat yet when its connection closed, or it was
///   kicked) or whose membership no longer names the room leaves it, as if it had sent
///   `LeaveRoom` (a player forfeits): nothing can resume an ended session, so a reconnect
///   grace would only keep the others waiting.
/// - A session with no connection now is absent: the reconnect grace applies to it like to
///   anyone else (a new connection may be resuming it right now).
pub(crate) async fn settle_seated(
    engine: &Engine,
    sessions: &SessionTable,
    addr: RoomAddr,
    seated: Vec<(Arc<Session>, Arc<Outbox>)>,
) {
    for (session, outbox) in seated {
        let id = session.id();
        // Most players are owed nothing, and take no place in the shard's inbox (a full one
        // would hold the matchmaker up for each): a departure after this look sends its own
        // command, behind the `Create`.
        if owed(sessions.get(id).is_none(), &session.lock(), addr).is_none() {
            continue;
        }
        // The look again and the notice in one step, under the session's lock, with a place
        // reserved first: a player who leaves and joins the room again after the look
        // reaches the shard behind the notice, so a notice that it is gone never removes it
        // from the room it joined again. Only fails when shutting down, when nothing more
        // is owed to anyone.
        let Ok(place) = engine.reserve(addr).await else {
            return;
        };
        // Whether it ended, read before its lock is taken: the table's lock is never taken
        // under a session's (a resume takes the table's, then the session's).
        let ended = sessions.get(id).is_none();
        let state = session.lock();
        match owed(ended, &state, addr) {
            Some(Owed::Leave) => place.leave(id),
            Some(Owed::Away) => place.disconnected(id, outbox),
            None => {}
        }
    }
}

/// What [`settle_seated`] owes the room about one of its players.
enum Owed {
    Leave,
    Away,
}

/// `state` is the player's session's, locked; `ended`, whether the session has ended.
fn owed(ended: bool, state: &SessionState, addr: RoomAddr) -> Option<Owed> {
    if ended || state.room.is_none_or(|m| m.addr != addr) {
        Some(Owed::Leave)
    } else if state.binding.is_none() {
        Some(Owed::Away)
    } else {
        None
    }
}

#[cfg(test)]
mod tests;

#[cfg(test)]
mod driver_tests;
