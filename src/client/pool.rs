//! The bot pool both load drivers share: the bot tasks, the stop signal, and the deadline
//! that raises it.

use std::future::Future;
use std::time::Instant;

use tokio::task::JoinSet;
use tokio_util::sync::CancellationToken;

/// Bot tasks, stopped together at a deadline (or on [`BotPool::stop`]).
#[derive(Debug)]
pub(crate) struct BotPool {
    bots: JoinSet<()>,
    stop: CancellationToken,
}

impl BotPool {
    /// An empty pool whose stop signal is raised at `deadline`. Must be called inside a
    /// tokio runtime.
    pub(crate) fn until(deadline: Instant) -> BotPool {
        let stop = CancellationToken::new();
        let timer = stop.clone();
        let deadline = tokio::time::Instant::from_std(deadline);
        tokio::spawn(async move {
            tokio::select! {
                _ = tokio::time::sleep_until(deadline) => timer.cancel(),
                _ = timer.cancelled() => {}
            }
        });
        BotPool {
            bots: JoinSet::new(),
            stop,
        }
    }

    /// The signal bots watch to stop.
    pub(crate) fn stop_signal(&self) -> CancellationToken {
        self.stop.clone()
    }

    /// Runs one bot.
    pub(crate) fn spawn(&mut self, bot: impl Future<Output = ()> + Send + 'static) {
        self.bots.spawn(bot);
    }

    /// Bots still running.
    pub(crate) fn running(&self) -> usize {
        self.bots.len()
    }

    /// Tells every bot to stop now.
    pub(crate) fn stop(&self) {
        self.stop.cancel();
    }

    /// Waits until the next bot finishes; `false` once none are left. A bot task that
    /// panicked is reported to `failed`.
    pub(crate) async fn join_next(&mut self, failed: impl FnOnce(String)) -> bool {
        match self.bots.join_next().await {
            Some(Err(error)) => {
                failed(format!("bot task failed: {error}"));
                true
            }
            Some(Ok(())) => true,
            None => false,
        }
    }
}
