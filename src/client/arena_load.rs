//! The `arena` load of WORKLOADS.md: N arena bots moving for S seconds.
//!
//! [`ArenaLoad::start`] spawns the bots at once, but at most
//! [`ArenaLoadConfig::joins_in_flight`] of them are joining at the same time. A *join* is
//! connect, `Hello`, `FindMatch` and `MatchFound`: a bot's join is done when it is seated
//! in a room (or failed). When every bot's join is done, the measured window opens
//! [`ArenaLoadConfig::settle`] (2 s) later; it closes at `duration` after the start, when
//! every bot is told to stop and closes with 1000.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use tokio::sync::{Semaphore, watch};

use super::ClientTls;
use super::arena_bot::{ArenaBot, ArenaBotConfig};
use super::arena_stats::{ArenaRecorder, ArenaTally, LiveWindow};
use super::pool::BotPool;
use crate::codec::Codec;

/// What to run.
#[derive(Debug, Clone)]
pub struct ArenaLoadConfig {
    /// Server URL.
    pub url: String,
    /// Codec every bot speaks.
    pub codec: Codec,
    /// Bots (N).
    pub clients: usize,
    /// How long the load runs (S), from its start.
    pub duration: Duration,
    /// From the last join to the start of the measured window.
    pub settle: Duration,
    /// Most bots joining at once.
    pub joins_in_flight: usize,
    /// The longest wait for any one server message.
    pub timeout: Duration,
    /// Whether bots apply and check every state ([`ArenaBotConfig::checks`]).
    pub checks: bool,
    /// What every bot trusts over `wss://` besides the webpki roots; `None` for those only.
    pub tls: Option<ClientTls>,
}

impl ArenaLoadConfig {
    /// The standard `arena` load: `clients` bots for `duration`, the window from 2 s after
    /// the last join, 50 joins in flight, bincode.
    pub fn arena(url: impl Into<String>, clients: usize, duration: Duration) -> ArenaLoadConfig {
        ArenaLoadConfig {
            url: url.into(),
            codec: Codec::Bincode,
            clients,
            duration,
            settle: Duration::from_secs(2),
            joins_in_flight: 50,
            timeout: Duration::from_secs(30),
            checks: true,
            tls: None,
        }
    }
}

/// Counts joins and opens the window after the last one.
#[derive(Debug)]
struct Joins {
    remaining: AtomicUsize,
    joined: AtomicUsize,
    playing: AtomicUsize,
    settle: Duration,
    window: Arc<LiveWindow>,
    /// The instant the last join finished, once every join has.
    last: watch::Sender<Option<Instant>>,
}

impl Joins {
    fn done(&self, ok: bool) {
        if ok {
            self.joined.fetch_add(1, Ordering::Relaxed);
        }
        if self.remaining.fetch_sub(1, Ordering::AcqRel) == 1 {
            let now = Instant::now();
            self.window.open_at(now + self.settle);
            self.last.send_replace(Some(now));
        }
    }
}

/// A running arena load.
#[derive(Debug)]
pub struct ArenaLoad {
    started: Instant,
    recorder: ArenaRecorder,
    joins: Arc<Joins>,
    last_join: watch::Receiver<Option<Instant>>,
    bots: BotPool,
}

impl ArenaLoad {
    /// Starts the bots. Must be called inside a tokio runtime.
    pub fn start(config: ArenaLoadConfig) -> ArenaLoad {
        let started = Instant::now();
        let window = Arc::new(LiveWindow::until(started + config.duration));
        let recorder = ArenaRecorder::new(window.clone());
        let mut bots = BotPool::until(started + config.duration);
        let (last, last_join) = watch::channel(None);
        let joins = Arc::new(Joins {
            remaining: AtomicUsize::new(config.clients),
            joined: AtomicUsize::new(0),
            playing: AtomicUsize::new(0),
            settle: config.settle,
            window,
            last,
        });
        if config.clients == 0 {
            joins.remaining.store(1, Ordering::Relaxed);
            joins.done(false);
        }
        let permits = Arc::new(Semaphore::new(config.joins_in_flight.max(1)));
        for _ in 0..config.clients {
            let bot_config = ArenaBotConfig {
                codec: config.codec,
                timeout: config.timeout,
                checks: config.checks,
                tls: config.tls.clone(),
                ..ArenaBotConfig::new(config.url.clone())
            };
            let mut bot = ArenaBot::new(bot_config, recorder.clone());
            let (permits, joins, stop) = (permits.clone(), joins.clone(), bots.stop_signal());
            bots.spawn(async move {
                let joined = {
                    // The semaphore is never closed, so acquiring only waits.
                    let Ok(_permit) = permits.acquire().await else {
                        joins.done(false);
                        return;
                    };
                    bot.join().await.is_ok()
                };
                joins.done(joined);
                if !joined {
                    return;
                }
                joins.playing.fetch_add(1, Ordering::Relaxed);
                // Errors are recorded by the bot.
                let _ = bot.play(stop).await;
                joins.playing.fetch_sub(1, Ordering::Relaxed);
            });
        }
        ArenaLoad {
            started,
            recorder,
            joins,
            last_join,
            bots,
        }
    }

    /// When the load began.
    pub fn started(&self) -> Instant {
        self.started
    }

    /// The live counters and the measurement window.
    pub fn recorder(&self) -> &ArenaRecorder {
        &self.recorder
    }

    /// Bots seated in a room so far.
    pub fn joined(&self) -> usize {
        self.joins.joined.load(Ordering::Relaxed)
    }

    /// Bots playing now (seated and not yet stopped).
    pub fn playing(&self) -> usize {
        self.joins.playing.load(Ordering::Relaxed)
    }

    /// A receiver that holds the instant the last join finished, once every join has
    /// (successful or not).
    pub fn last_join(&self) -> watch::Receiver<Option<Instant>> {
        self.last_join.clone()
    }

    /// Bots still running.
    pub fn running(&self) -> usize {
        self.bots.running()
    }

    /// Tells every bot to stop now instead of at the end of the duration.
    pub fn stop(&self) {
        self.bots.stop();
    }

    /// Waits until the next bot finishes; `false` once none are left.
    pub async fn join_next(&mut self) -> bool {
        let recorder = &self.recorder;
        self.bots.join_next(|error| recorder.error(error)).await
    }

    /// Waits for every bot to finish and returns the totals.
    pub async fn finish(mut self) -> ArenaTally {
        while self.join_next().await {}
        self.bots.stop();
        self.recorder.tally()
    }
}
