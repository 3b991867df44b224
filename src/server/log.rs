//! What the server says in its log at `info`: one start-up line with the address to open
//! and the settings in force, then a summary every [`ServerConfig::log_summary`] (a
//! minute by default) of connections, rooms and games finished, skipped while the server
//! is idle and nothing changed.

use std::net::SocketAddr;
use std::sync::Arc;

use tokio_util::sync::CancellationToken;

use crate::config::ServerConfig;
use crate::transport::Context;

/// The URL a person opens to play: the bound address, with an unspecified IP
/// (`0.0.0.0`, `::`) replaced by loopback, which is what works from the same machine.
pub(crate) fn play_url(local_addr: SocketAddr) -> String {
    let mut addr = local_addr;
    if addr.ip().is_unspecified() {
        addr.set_ip(match addr {
            SocketAddr::V4(_) => std::net::Ipv4Addr::LOCALHOST.into(),
            SocketAddr::V6(_) => std::net::Ipv6Addr::LOCALHOST.into(),
        });
    }
    format!("http://{addr}/play")
}

/// Logs the start-up line.
pub(crate) fn started(local_addr: SocketAddr, config: &ServerConfig) {
    let play = play_url(local_addr);
    let monitor = if config.admin.enabled() {
        play.replace("/play", "/monitor")
    } else {
        "off (set --admin-token)".to_string()
    };
    let bot_fill = match config.matching.bot_fill_after {
        Some(after) => format!("after {after:?} ({})", config.matching.bot_strategy),
        None => "off".to_string(),
    };
    tracing::info!(
        %local_addr,
        tick_hz = config.effective_tick_hz(),
        shards = config.effective_shards(),
        max_connections = config.max_connections,
        ping_interval = ?config.ping_interval,
        idle_timeout = ?config.idle_timeout,
        reconnect_grace = ?config.reconnect_grace,
        outbox_events = config.outbox_events,
        record_replays = config.records_replays(),
        %bot_fill,
        %monitor,
        "ticksync listening; play at {play}"
    );
}

/// The figures one summary reports.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub(crate) struct Totals {
    pub connections: usize,
    pub sessions: usize,
    pub rooms: usize,
    pub queued: usize,
    /// Since the server started.
    pub games_finished: u64,
    /// Since the server started.
    pub overruns: u64,
}

impl Totals {
    /// Whether a summary after `previous` says anything: skip it when the server is idle
    /// and was idle last time too.
    pub(crate) fn worth_logging(&self, previous: &Totals) -> bool {
        let idle = |t: &Totals| t.connections == 0 && t.sessions == 0 && t.rooms == 0;
        !(idle(self) && self == previous)
    }
}

/// Logs a summary every `config.log_summary` until `shutdown`; never when it is zero.
pub(crate) async fn summaries(ctx: Arc<Context>, shutdown: CancellationToken) {
    let period = ctx.config.log_summary;
    if period.is_zero() {
        return;
    }
    let mut interval = tokio::time::interval_at(tokio::time::Instant::now() + period, period);
    let mut previous = Totals::default();
    loop {
        tokio::select! {
            _ = shutdown.cancelled() => return,
            _ = interval.tick() => {}
        }
        let lobby = ctx.lobby.stats();
        let shards = ctx.lobby.engine().stats().await;
        let now = Totals {
            connections: ctx.connections(),
            sessions: lobby.sessions,
            rooms: lobby.rooms,
            queued: lobby.queued,
            games_finished: shards.iter().map(|s| s.games_finished_total()).sum(),
            overruns: shards.iter().map(|s| s.overruns).sum(),
        };
        if now.worth_logging(&previous) {
            tracing::info!(
                connections = now.connections,
                sessions = now.sessions,
                rooms = now.rooms,
                queued = now.queued,
                games_finished =
                    now.games_finished - previous.games_finished.min(now.games_finished),
                late_ticks = now.overruns - previous.overruns.min(now.overruns),
                "summary of the last {:?}",
                period
            );
        }
        previous = now;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_play_url_is_one_a_browser_on_this_machine_can_open() {
        let url = |addr: &str| play_url(addr.parse().expect("address"));
        assert_eq!(url("127.0.0.1:7878"), "http://127.0.0.1:7878/play");
        assert_eq!(url("0.0.0.0:7878"), "http://127.0.0.1:7878/play");
        assert_eq!(url("[::]:80"), "http://[::1]:80/play");
        assert_eq!(url("192.168.1.5:9000"), "http://192.168.1.5:9000/play");
    }

    #[test]
    fn an_idle_server_logs_one_summary_and_then_stays_quiet() {
        let idle = Totals::default();
        let busy = Totals {
            connections: 2,
            sessions: 2,
            rooms: 1,
            ..Totals::default()
        };
        assert!(busy.worth_logging(&idle));
        assert!(busy.worth_logging(&busy));
        assert!(
            idle.worth_logging(&busy),
            "the change back to idle is reported"
        );
        assert!(!idle.worth_logging(&idle));
        let finished = Totals {
            games_finished: 3,
            ..Totals::default()
        };
        assert!(
            finished.worth_logging(&idle),
            "games finished since the last one"
        );
    }
}
