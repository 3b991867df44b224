//! A shard: one task, one timer, many rooms.
//!
//! Each tick runs these steps, in this order:
//!
//! 1. drain the inbox and apply every command in arrival order (creates, joins, leaves,
//!    resumes, chat; inputs are queued in their room), delivering each command's output
//!    (a command for a room whose `Create` has not come yet waits for it: `early.rs`);
//! 2. tick every room, one after another: step it with the tick number ([`Room::tick`]:
//!    apply its queued inputs, advance its game, enforce reconnect deadlines, choose and
//!    encode states, reading its members' acknowledged ticks from their connections
//!    through [`FromConnections`]), which appends what it produced to the shard's
//!    [`RoomOutput`]; then
//!    [`deliver`] that output (frames into outboxes, notices to the [`RoomObserver`]) before
//!    the next room (a room whose game's code panics is failed and closed instead, and the
//!    other rooms go on: `contain.rs`);
//! 3. remove rooms that are done (each closing room's output delivered the same way);
//! 4. wake the writer of every connection that got frames, once (see
//!    [`crate::outbox::with_deferred_wakes`]), so each writes its whole tick in one flush;
//! 5. record how long the tick took and how late it started.
//!
//! **Tick numbers** follow the wall clock: tick `n` is the one in the `n`th period after the
//! engine's start, on every shard, so tick numbers are comparable across shards. (A room
//! still never takes a client's acknowledgement from an earlier room as a delta base, even
//! where a shard ticks a number another shard used a moment before: see `room.rs`,
//! `acked_before`.)
//!
//! **Together or staggered.** While the server is light the shards tick at the same
//! instants; once their ticks wake many writers ([`pacing::SPREAD_ABOVE`] a period), shard
//! `i` of `S` ticks `i / S` of a period after the first, so the sends spread over the
//! period (`engine/pacing.rs` has the policy and why; BENCHMARKS.md, seventeenth session,
//! the measurements). Each shard decides after each tick and moves its next tick to its
//! new phase.
//!
//! **Late ticks.** The timer uses [`MissedTickBehavior::Skip`]: when a tick overruns its
//! budget, the slots it overlapped are skipped rather than run back to back to catch up
//! (bursting would deepen the overload). The next tick's number still follows the clock,
//! so a game sees a gap of more than one tick and advances by it (the arena moves by the
//! elapsed ticks; tic-tac-toe's turn timer counts ticks). Every overrun and skipped slot is
//! counted in [`ShardStats`] and logged.

mod admin;
mod contain;
mod drain;
mod early;

#[cfg(test)]
pub(super) use early::EARLY_WAIT;
pub(super) use early::Placed;

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use bytes::BytesMut;
use cpu_time::ThreadTime;
use foldhash::{HashMap, HashMapExt};
use hdrhistogram::Histogram;
use slotmap::{SecondaryMap, SlotMap, new_key_type};
use tokio::sync::mpsc;
use tokio::time::{Instant, MissedTickBehavior};
use tokio_util::sync::CancellationToken;

use super::admin::RoomMeter;
use super::pacing::{self, Pacing};
use super::room::deliver::{FromConnections, deliver};
use super::room::{Link, Notice, Room, RoomLimits, RoomOutput};
use super::warn_limit::{WARN_EVERY, WarnLimit};
use super::{EngineConfig, RoomObserver, ShardCmd};
use crate::histogram::Recorded;
use crate::protocol::{EndReason, ErrorCode, RoomId, Tick};
use crate::replay::{Recorder, ReplayCounters, ReplayTally};

new_key_type! {
    /// A room's key inside its shard.
    struct RoomKey;
}

/// Bytes reserved for the shard's view-encoding buffer. Encoded frames are split off it and
/// share its memory, so a frame still held somewhere (an outbox's slot) keeps its whole block
/// alive: blocks are kept small, one a few ticks of a shard's frames.
const SCRATCH_BYTES: usize = 4 * 1024;

/// A shard's tick statistics since it started.
#[derive(Debug, Clone)]
pub struct ShardStats {
    /// The shard's index.
    pub shard: usize,
    /// Ticks run.
    pub ticks: u64,
    /// Ticks whose work took longer than the tick period.
    pub overruns: u64,
    /// Tick slots skipped because an earlier tick ran late.
    pub skipped: u64,
    /// States that replaced one their connection's writer had not yet sent (the client
    /// skipped a state: it reads slowly, or the server is too busy to write every tick).
    pub superseded: u64,
    /// Rooms open now.
    pub rooms: usize,
    /// Tick work duration (wall clock), microseconds. Includes any time the shard's thread
    /// was preempted mid-tick.
    pub tick_us: Recorded,
    /// CPU time the shard's thread spent on each tick's work, microseconds: the tick's own
    /// cost, without preemption.
    pub tick_cpu_us: Recorded,
    /// How late each tick started after its scheduled instant, microseconds.
    pub lateness_us: Recorded,
    /// Games that ended, as (game, reason, count).
    pub games_finished: Vec<(&'static str, EndReason, u64)>,
    /// Replays recorded and dropped.
    pub replays: ReplayTally,
    /// Panics caught in a game's (or a server bot's) code: rooms failed, and games that
    /// panicked as they were dropped (see `shard/contain.rs`; a failed game that panics
    /// again as it is dropped is logged, not counted twice).
    pub room_panics: u64,
}

impl ShardStats {
    /// Games that ended (`GameOver`), every game and reason together.
    pub fn games_finished_total(&self) -> u64 {
        self.games_finished.iter().map(|(_, _, n)| n).sum()
    }
}

/// The histograms behind [`ShardStats`]'s, kept by the shard; a stats request copies out
/// what they recorded ([`Recorded`]), never the histograms themselves.
#[derive(Debug)]
struct TickHistograms {
    tick_us: Histogram<u64>,
    tick_cpu_us: Histogram<u64>,
    lateness_us: Histogram<u64>,
}

pub(crate) struct Shard {
    index: usize,
    rx: mpsc::Receiver<ShardCmd>,
    rooms: SlotMap<RoomKey, Room>,
    /// Rooms by id, looked up for every input: foldhash, not SipHash (ids are the
    /// server's own, not chosen by clients).
    by_id: HashMap<RoomId, RoomKey>,
    /// Each room's age and tick cost, for the operator's view.
    meters: SecondaryMap<RoomKey, RoomMeter>,
    room_count: Arc<AtomicUsize>,
    observer: Arc<dyn RoomObserver>,
    limits: RoomLimits,
    /// Counted by the recordings of this shard's games.
    replays: Arc<ReplayCounters>,
    now: Tick,
    scratch: BytesMut,
    /// What the room stepping now produced, delivered after each room's step (see
    /// `room/output.rs`); reused, so its capacity lasts from tick to tick.
    out: RoomOutput,
    closed: Vec<RoomKey>,
    /// The counters; its histograms stay empty (they are in `histograms`).
    stats: ShardStats,
    histograms: TickHistograms,
    /// A shutdown drain has begun (see `drain`).
    draining: bool,
    /// The rooms placed on this shard whose `Create` has not been applied (see `early`).
    placed: Arc<Placed>,
    /// Commands that came for a placed room before its `Create` (see `early`).
    early: HashMap<RoomId, early::Waiting>,
    /// When the shards tick, shared by all of them (`engine/pacing.rs`), and how many
    /// there are.
    pacing: Arc<Pacing>,
    shards: usize,
    /// Writers the last tick woke.
    woken: usize,
}

impl Drop for Shard {
    /// The rooms still held when the shard stops (the server is shutting down, or the
    /// engine was dropped): their games are dropped as a closing room's are, contained.
    fn drop(&mut self) {
        for (_, room) in &mut self.rooms {
            contain::drop_game(self.index, &mut self.stats.room_panics, room);
        }
    }
}

impl Shard {
    pub(crate) fn new(
        index: usize,
        config: &EngineConfig,
        rx: mpsc::Receiver<ShardCmd>,
        observer: Arc<dyn RoomObserver>,
        room_count: Arc<AtomicUsize>,
        placed: Arc<Placed>,
    ) -> Shard {
        let replays = Arc::new(ReplayCounters::default());
        Shard {
            index,
            rx,
            rooms: SlotMap::with_key(),
            by_id: HashMap::new(),
            meters: SecondaryMap::new(),
            room_count,
            observer,
            limits: RoomLimits {
                grace_ticks: config.grace_ticks(),
                tick_hz: config.tick_hz,
                event_log_capacity: config.event_log_capacity,
                recorder: Recorder::new(config.replay, replays.clone()),
                // Per shard and per run: game seeds are only reproduced from replays.
                seed: rand::random(),
            },
            replays,
            now: 0,
            scratch: BytesMut::with_capacity(SCRATCH_BYTES),
            out: RoomOutput::default(),
            closed: Vec::new(),
            stats: ShardStats {
                shard: index,
                ticks: 0,
                overruns: 0,
                skipped: 0,
                superseded: 0,
                rooms: 0,
                tick_us: Recorded::default(),
                tick_cpu_us: Recorded::default(),
                lateness_us: Recorded::default(),
                games_finished: Vec::new(),
                replays: ReplayTally::default(),
                room_panics: 0,
            },
            histograms: TickHistograms {
                tick_us: crate::histogram::ticks(),
                tick_cpu_us: crate::histogram::ticks(),
                lateness_us: crate::histogram::ticks(),
            },
            draining: false,
            placed,
            early: HashMap::new(),
            // Alone, and never staggered, until `paced`.
            pacing: Arc::new(Pacing::new(1, usize::MAX)),
            shards: 1,
            woken: 0,
        }
    }

    /// This shard is one of `shards` that tick as `pacing` says.
    pub(crate) fn paced(mut self, pacing: Arc<Pacing>, shards: usize) -> Shard {
        self.pacing = pacing;
        self.shards = shards.max(1);
        self
    }

    pub(crate) async fn run(
        mut self,
        period: Duration,
        epoch: Instant,
        shutdown: CancellationToken,
    ) {
        let mut interval = tokio::time::interval_at(epoch + period, period);
        interval.set_missed_tick_behavior(MissedTickBehavior::Skip);
        // This shard's ticks after the first shard's when staggered, and now.
        let staggered = pacing::offset(period, self.index, self.shards);
        let mut offset = Duration::ZERO;
        let period_nanos = period.as_nanos().max(1);
        let mut last_slot: Option<u64> = None;
        let (mut skip_warnings, mut overrun_warnings) =
            (WarnLimit::default(), WarnLimit::default());
        loop {
            let scheduled = tokio::select! {
                _ = shutdown.cancelled() => break,
                scheduled = interval.tick() => scheduled,
            };
            let started = Instant::now();
            let started_cpu = ThreadTime::try_now().ok();
            // The tick's period since the engine's start (whatever the shard's phase).
            let slot = scheduled.saturating_duration_since(epoch).as_nanos() / period_nanos;
            let slot = u64::try_from(slot).unwrap_or(u64::MAX);
            if let Some(previous) = last_slot {
                let skipped = slot.saturating_sub(previous.saturating_add(1));
                if skipped > 0 {
                    self.stats.skipped += skipped;
                    if let Some(held) = skip_warnings.allow(started.into_std(), WARN_EVERY) {
                        tracing::warn!(
                            shard = self.index,
                            skipped,
                            similar_warnings_held_back = held,
                            "tick slots skipped after a late tick: the game slowed down rather \
                             than burst to catch up (the shard or the machine is overloaded)"
                        );
                    }
                }
            }
            last_slot = Some(slot);
            let lateness = started.saturating_duration_since(scheduled);
            let now = slot.max(self.now + 1);
            if !self.tick(now) {
                break;
            }
            let took = started.elapsed();
            self.histograms
                .tick_us
                .saturating_record(took.as_micros().max(1) as u64);
            if let Some(cpu) = started_cpu.and_then(|t| t.try_elapsed().ok()) {
                self.histograms
                    .tick_cpu_us
                    .saturating_record(cpu.as_micros().max(1) as u64);
            }
            self.histograms
                .lateness_us
                .saturating_record(lateness.as_micros().max(1) as u64);
            // Together or staggered from the next tick on (see `engine/pacing.rs`).
            let wanted = if self.pacing.record(self.index, self.woken) {
                staggered
            } else {
                Duration::ZERO
            };
            if wanted != offset {
                offset = wanted;
                let since = Instant::now().saturating_duration_since(epoch);
                interval.reset_at(epoch + pacing::next_tick(offset, period, since, self.now));
            }
            if took > period {
                self.stats.overruns += 1;
                if let Some(held) = overrun_warnings.allow(started.into_std(), WARN_EVERY) {
                    tracing::warn!(
                        shard = self.index,
                        took_us = took.as_micros() as u64,
                        budget_us = period.as_micros() as u64,
                        rooms = self.rooms.len(),
                        similar_warnings_held_back = held,
                        "tick overran its budget: its rooms took longer than one tick period \
                         (too many rooms per shard, or the CPU is busy elsewhere); \
                         see /metrics or /monitor"
                    );
                }
            }
        }
        // What is still queued is dropped here, each waiting answer with it (the caller hears
        // `ServerBusy`). Closed first, then emptied: a command sent through a place reserved
        // before the close (`Engine::reserve_join`) still arrives, and is dropped too,
        // where one sent into a receiver simply dropped would wait in the channel for good.
        self.rx.close();
        while self.rx.recv().await.is_some() {}
        tracing::debug!(shard = self.index, "shard stopped");
    }

    /// Runs tick `now`. Returns `false` when the inbox is closed and the shard should stop.
    pub(super) fn tick(&mut self, now: Tick) -> bool {
        let (open, woken) = crate::outbox::with_deferred_wakes_counted(|| self.tick_rooms(now));
        self.woken = woken;
        open
    }

    fn tick_rooms(&mut self, now: Tick) -> bool {
        self.now = now;
        self.stats.ticks += 1;
        let open = self.drain_commands();
        for cmd in self.overdue_early() {
            self.apply(cmd);
        }
        let mut finished = Vec::new();
        // One clock read per room: each room's tick ends where the next one's starts.
        let mut clock = std::time::Instant::now();
        for (key, room) in &mut self.rooms {
            let scratch = &mut self.scratch;
            let stepped = contain::step(
                self.index,
                &mut self.stats.room_panics,
                room,
                now,
                &mut self.out,
                |room, out| room.tick(now, scratch, &FromConnections, out),
            );
            // A room that panicked was failed: it closes like a finished one.
            let done = stepped.unwrap_or(true);
            self.stats.superseded += deliver(&mut self.out, &*self.observer);
            let after = std::time::Instant::now();
            if let Some(meter) = self.meters.get_mut(key) {
                meter.record(after.saturating_duration_since(clock));
            }
            clock = after;
            if done {
                self.closed.push(key);
            }
            finished.extend(room.finished_now(now));
        }
        for (game, reason) in finished {
            self.count_finished(game, reason);
        }
        // Taken out and put back so its capacity is reused next tick.
        let mut closed = std::mem::take(&mut self.closed);
        for key in closed.drain(..) {
            if let Some(room) = self.take_room(key) {
                let mut out = std::mem::take(&mut self.out);
                self.close_room(room, &mut out);
                self.stats.superseded += deliver(&mut out, &*self.observer);
                self.out = out;
            }
        }
        self.closed = closed;
        open
    }

    /// Takes room `key` out of the shard (its maps, its meter and the shard's room count),
    /// to be closed.
    fn take_room(&mut self, key: RoomKey) -> Option<Room> {
        self.meters.remove(key);
        let room = self.rooms.remove(key)?;
        self.by_id.remove(&room.id());
        self.room_count.fetch_sub(1, Ordering::Relaxed);
        Some(room)
    }

    /// Closes a room taken out of its shard: `RoomLeft` to its members, and during a drain
    /// their connections closed after it (`drain.rs`). Its game and bots are dropped first,
    /// a panic in their `Drop` contained (`contain.rs`).
    fn close_room(&mut self, mut room: Room, out: &mut RoomOutput) {
        contain::drop_game(self.index, &mut self.stats.room_panics, &mut room);
        if self.draining {
            room.close_for_shutdown(out);
        } else {
            room.close(out);
        }
    }

    fn drain_commands(&mut self) -> bool {
        loop {
            match self.rx.try_recv() {
                Ok(cmd) => self.apply(cmd),
                Err(mpsc::error::TryRecvError::Empty) => return true,
                Err(mpsc::error::TryRecvError::Disconnected) => return false,
            }
        }
    }

    fn room(&mut self, id: RoomId) -> Option<&mut Room> {
        let key = self.by_id.get(&id)?;
        self.rooms.get_mut(*key)
    }

    /// Applies one command at the current tick and delivers what the room said.
    pub(super) fn apply(&mut self, cmd: ShardCmd) {
        // The most frequent command, and one with no output: the input waits in its room
        // for the tick.
        let cmd = match cmd {
            ShardCmd::Input {
                room,
                session,
                seq,
                data,
                share,
            } => {
                // Out of the inbox: the sending connection's share is free again.
                drop(share);
                if let Some(room) = self.room(room) {
                    room.queue_input(session, seq, data);
                }
                return;
            }
            cmd => cmd,
        };
        // A command for a room whose `Create` is still on its way waits for it (`early`).
        let Some(cmd) = self.keep_if_early(cmd) else {
            return;
        };
        // Taken out (no allocation: an empty vector's move) so the command's room and the
        // buffer can be borrowed together; put back with its capacity.
        let mut out = std::mem::take(&mut self.out);
        let target = cmd.room();
        let made = match &cmd {
            ShardCmd::Create { id, room } => {
                self.placed.remove(*id);
                Some((*id, room.players.clone()))
            }
            _ => None,
        };
        let created = made.as_ref().map(|(id, _)| *id);
        self.contain_command(target, made, &mut out, |shard, out| {
            shard.apply_to(cmd, out);
        });
        self.stats.superseded += deliver(&mut out, &*self.observer);
        self.out = out;
        // What came for the room before it, now in order (a room not there after all, one
        // whose game panicked as it was made, takes them as a room that is gone).
        if let Some(id) = created {
            for cmd in self.take_early(id) {
                self.apply(cmd);
            }
        }
    }

    fn apply_to(&mut self, cmd: ShardCmd, out: &mut RoomOutput) {
        let now = self.now;
        match cmd {
            ShardCmd::Create { id, room } => {
                let room = Room::new(id, *room, now, self.limits.clone(), out);
                let key = self.rooms.insert(room);
                self.by_id.insert(id, key);
                self.meters.insert(key, RoomMeter::new());
                self.end_if_draining(key, now, out);
            }
            ShardCmd::Join {
                room,
                member,
                spectate,
                reply,
            } => {
                let result = match self.by_id.get(&room).copied() {
                    _ if self.draining => Err(ErrorCode::ShuttingDown),
                    // The game's code runs only once the joiner is seated, so when it
                    // panics the joiner is told with the room's other members
                    // (`RoomJoined`, `Error RoomClosed`, `RoomLeft`): `Ok(None)`. (The
                    // room is there: `None` here is always a failed room.)
                    Some(key) => self
                        .contain_room(key, out, |room, out| room.join(member, spectate, now, out))
                        .map_or(Ok(None), |joined| joined.map(Some)),
                    None => Err(ErrorCode::UnknownRoomCode),
                };
                // The asker may have gone away; nothing to do then.
                let _ = reply.send(result);
            }
            // Handled by `apply` itself.
            ShardCmd::Input { .. } => {}
            ShardCmd::Leave { room, session } if self.draining => {
                self.leave_while_draining(room, session, now, out);
            }
            ShardCmd::Leave { room, session } => {
                if let Some(room) = self.room(room) {
                    room.leave(session, now, out);
                }
            }
            ShardCmd::Disconnected {
                room,
                session,
                connection,
            } => {
                if let Some(room) = self.room(room) {
                    room.disconnected(session, &connection, now, out);
                }
            }
            ShardCmd::Rebind {
                room,
                member,
                last_event_seq,
            } => match self.room(room) {
                Some(room) => room.rebind(member, last_event_seq, now, out),
                None => {
                    let session = member.session;
                    out.msg(
                        &Link::of(member),
                        crate::protocol::ServerMsg::RoomLeft { room_id: room },
                    );
                    out.notice(Notice::MemberLeft { room, session });
                }
            },
            ShardCmd::Chat {
                room,
                session,
                text,
            } => {
                if let Some(room) = self.room(room) {
                    room.chat(session, text, now, out);
                }
            }
            ShardCmd::Drain => self.begin_drain(now, out),
            ShardCmd::EndAll => self.end_all(now, out),
            ShardCmd::Stats(reply) => {
                let mut stats = self.stats.clone();
                stats.tick_us = Recorded::of(&self.histograms.tick_us);
                stats.tick_cpu_us = Recorded::of(&self.histograms.tick_cpu_us);
                stats.lateness_us = Recorded::of(&self.histograms.lateness_us);
                stats.rooms = self.rooms.len();
                stats.replays = self.replays.tally();
                let _ = reply.send(stats);
            }
            ShardCmd::Admin(cmd) => self.admin(cmd, out),
        }
    }
}
