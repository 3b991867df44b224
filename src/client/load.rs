//! The `ttt` load of WORKLOADS.md: N random bots playing quick-match tic-tac-toe as fast as
//! the server answers, for S seconds.
//!
//! [`Load::start`] spawns the bots at once, but at most [`LoadConfig::joins_in_flight`] of
//! them connect and say `Hello` at the same time. At `duration` after the start every bot is
//! told to stop: a queued bot cancels, a playing bot finishes its game, then each closes
//! with 1000. Samples count inside the window from `warmup` to `duration` after the start.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use tokio::sync::Semaphore;

use super::pool::BotPool;
use super::{Bot, BotConfig, ClientTls, Recorder, Tally, Window};
use crate::codec::Codec;
use crate::game::tictactoe_ai::Strategy;

/// What to run.
#[derive(Debug, Clone)]
pub struct LoadConfig {
    /// Server URL; several, separated by commas (a cluster's nodes), share the bots out
    /// in turn.
    pub url: String,
    /// Codec every bot speaks.
    pub codec: Codec,
    /// Bots (N). Should be even, so that everyone can be paired.
    pub clients: usize,
    /// How long the bots keep queueing (S), from the start.
    pub duration: Duration,
    /// The start of the measured window, from the start.
    pub warmup: Duration,
    /// Most bots connecting at once.
    pub joins_in_flight: usize,
    /// The longest wait for any one server message.
    pub timeout: Duration,
    /// What every bot trusts over `wss://` besides the webpki roots; `None` for those only.
    pub tls: Option<ClientTls>,
}

impl LoadConfig {
    /// The standard `ttt` load: `clients` bots for `duration`, 3 s warm-up, 50 joins in
    /// flight, bincode.
    pub fn ttt(url: impl Into<String>, clients: usize, duration: Duration) -> LoadConfig {
        LoadConfig {
            url: url.into(),
            codec: Codec::Bincode,
            clients,
            duration,
            warmup: Duration::from_secs(3),
            joins_in_flight: 50,
            timeout: Duration::from_secs(30),
            tls: None,
        }
    }
}

/// A running load.
#[derive(Debug)]
pub struct Load {
    started: Instant,
    recorder: Recorder,
    connected: Arc<AtomicUsize>,
    bots: BotPool,
}

impl Load {
    /// Starts the bots. Must be called inside a tokio runtime.
    pub fn start(config: LoadConfig) -> Load {
        let started = Instant::now();
        let window = Window {
            start: started + config.warmup.min(config.duration),
            end: Some(started + config.duration),
        };
        let recorder = Recorder::new(window);
        let mut bots = BotPool::until(started + config.duration);
        let connected = Arc::new(AtomicUsize::new(0));
        let joins = Arc::new(Semaphore::new(config.joins_in_flight.max(1)));
        let urls: Vec<&str> = config
            .url
            .split(',')
            .map(str::trim)
            .filter(|u| !u.is_empty())
            .collect();
        for i in 0..config.clients {
            let url = urls.get(i % urls.len().max(1)).copied().unwrap_or_default();
            let bot_config = BotConfig {
                codec: config.codec,
                strategy: Strategy::Random,
                timeout: config.timeout,
                tls: config.tls.clone(),
                ..BotConfig::new(url)
            };
            let mut bot = Bot::new(bot_config, recorder.clone(), bots.stop_signal());
            let joins = joins.clone();
            let connected = connected.clone();
            bots.spawn(async move {
                {
                    // The semaphore is never closed, so acquiring only waits.
                    let Ok(_permit) = joins.acquire().await else {
                        return;
                    };
                    if bot.connect().await.is_err() {
                        return;
                    }
                }
                connected.fetch_add(1, Ordering::Relaxed);
                // Errors are recorded by the bot.
                let _ = bot.run().await;
            });
        }
        Load {
            started,
            recorder,
            connected,
            bots,
        }
    }

    /// When the load began.
    pub fn started(&self) -> Instant {
        self.started
    }

    /// The live counters.
    pub fn recorder(&self) -> &Recorder {
        &self.recorder
    }

    /// Bots that have completed their `Hello`.
    pub fn connected(&self) -> usize {
        self.connected.load(Ordering::Relaxed)
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
    pub async fn finish(mut self) -> Tally {
        while self.join_next().await {}
        self.bots.stop();
        self.recorder.tally()
    }
}
