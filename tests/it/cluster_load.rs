//! A load over three nodes through a Redis restart (issue 12, "Tests and CI"): bots queued
//! on every node keep playing while Redis loses everything; running games go on, new
//! matches and seat tickets are refused with `ClusterUnavailable` until the nodes are back,
//! players whose queue entries were lost are queued again by their nodes, the bots try
//! again, every game started is finished, and no key is left without a TTL afterwards.
//!
//! Needs `redis-server` (see [`RedisServer`]).

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use anyhow::{Result, ensure};
use ticksync::client::{Bot, BotConfig, Recorder};
use ticksync::server::Server;
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

use crate::cluster::{assert_every_key_expires, start_node_config};
use crate::support::{RedisServer, WAIT, test_config};

/// Bots in the load, spread over the three nodes.
const BOTS: u64 = 12;
/// Games finished (over all nodes) before Redis restarts, and after.
const BEFORE: usize = 8;
const AFTER: usize = 16;

/// A node whose finished games are counted into `finished`.
async fn counted_node(
    redis: &RedisServer,
    id: &str,
    finished: &Arc<AtomicUsize>,
) -> Result<Server> {
    let seen = finished.clone();
    let config = ticksync::config::ServerConfig {
        on_game_finished: Some(ticksync::engine::FinishedHook::new(move |_| {
            seen.fetch_add(1, Ordering::SeqCst);
        })),
        ..test_config()
    };
    start_node_config(redis, id, config).await
}

/// Waits until `finished` reaches `games`.
async fn wait_for_games(finished: &AtomicUsize, games: usize) -> Result<()> {
    let deadline = Instant::now() + WAIT;
    while finished.load(Ordering::SeqCst) < games {
        ensure!(
            Instant::now() < deadline,
            "{} games finished, waiting for {games}",
            finished.load(Ordering::SeqCst)
        );
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_load_over_three_nodes_rides_out_a_redis_restart_and_leaves_no_key() -> Result<()> {
    let Some(mut redis) = RedisServer::start("cluster load with a redis restart")? else {
        return Ok(());
    };
    let finished = Arc::new(AtomicUsize::new(0));
    let mut nodes = Vec::new();
    for id in ["node-a", "node-b", "node-c"] {
        nodes.push(counted_node(&redis, id, &finished).await?);
    }
    // The bots play until told to stop (each then finishes the game it is in): a fixed
    // number of games per bot could leave the last one with no opponent.
    let recorder = Recorder::default();
    let stop = CancellationToken::new();
    let mut bots = Vec::new();
    for i in 0..BOTS {
        let node = &nodes[(i % 3) as usize];
        let config = BotConfig {
            seed: Some(i),
            timeout: WAIT,
            ..BotConfig::new(format!("ws://{}/", node.local_addr()))
        };
        let bot = Bot::new(config, recorder.clone(), stop.clone());
        let status = bot.status();
        bots.push((tokio::spawn(bot.run()), status));
    }
    wait_for_games(&finished, BEFORE).await?;
    redis.restart()?;
    wait_for_games(&finished, BEFORE + AFTER).await?;
    stop.cancel();
    let mut played = 0;
    for (i, (bot, status)) in bots.into_iter().enumerate() {
        // A bot still running long after the stop says where it is (a rare hang seen once
        // in `.ci/run`, not reproduced since).
        let Ok(finished) = tokio::time::timeout(WAIT * 2, bot).await else {
            anyhow::bail!(
                "bot {i} still running after the stop: {:?}",
                *status.borrow()
            );
        };
        played += finished??;
    }
    let tally = recorder.tally();
    assert_eq!(tally.errors, 0, "{:?}", tally.error_samples);
    assert_eq!(tally.illegal_outcomes, 0);
    // Every game seen from both seats: one won and the other lost, or both drew; and
    // every game a bot finished is one a node finished.
    let games = finished.load(Ordering::SeqCst);
    assert!(games >= BEFORE + AFTER);
    assert_eq!(tally.games, games as u64);
    assert_eq!(played, 2 * games as u64);
    assert_eq!(tally.wins, tally.losses);
    assert_eq!(tally.wins + tally.losses + tally.draws, played);
    // Every counter back to zero on every node, no queue entry left behind, and every key
    // expires.
    for node in &nodes {
        crate::support::wait_for_stats(node, ticksync::server::Stats::default()).await?;
    }
    let keys = redis.keys_with_ttls().await?;
    assert!(
        !keys.iter().any(|(k, _)| k.starts_with("ticksync:queue:")),
        "{keys:?}"
    );
    assert_every_key_expires(&keys);
    for node in nodes {
        node.shutdown().await;
    }
    Ok(())
}
