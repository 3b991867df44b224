//! The arena load driver's own code, run in-process: arena bots of both codecs sharing
//! rooms, every state applied to the client's mirror and checked against its prediction.
//! Nothing here asserts timing.

use std::time::Duration;

use anyhow::Result;
use ticksync::client::{ArenaLoad, ArenaLoadConfig};
use ticksync::codec::Codec;
use ticksync::server::Stats;

use crate::support::{WAIT, start, test_config, wait_for_stats};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_short_arena_load_has_no_errors_and_every_delta_has_its_base() -> Result<()> {
    let mut config = test_config();
    config.tick_hz = 30;
    // Rooms of 8 fill from the queue; a short fill wait starts any remainder quickly.
    config.matching.fill_wait = Duration::from_millis(100);
    let server = start(config).await;
    let url = format!("ws://{}/", server.local_addr());
    // Eight bincode and eight MessagePack bots, in one queue: rooms mix the codecs.
    let loads: Vec<ArenaLoad> = Codec::ALL
        .into_iter()
        .map(|codec| {
            ArenaLoad::start(ArenaLoadConfig {
                codec,
                settle: Duration::ZERO,
                timeout: WAIT,
                ..ArenaLoadConfig::arena(url.clone(), 8, Duration::from_secs(3))
            })
        })
        .collect();
    let (mut updates, mut deltas) = (0, 0);
    for load in loads {
        let progress = load.recorder().clone();
        let tally = load.finish().await;
        assert_eq!(tally.errors, 0, "errors: {:?}", tally.error_samples);
        assert_eq!(tally.missing_bases, 0, "a delta without its base");
        assert_eq!(tally.per_client_updates.len(), 8, "every bot played");
        assert!(progress.updates_so_far() > 0, "no state received");
        assert_eq!(
            tally.counts.updates,
            tally.counts.fulls + tally.counts.deltas
        );
        updates += progress.updates_so_far();
        deltas += tally.counts.deltas;
    }
    assert!(updates > 0);
    assert!(
        deltas > 0,
        "no deltas: the missing-base check was never exercised"
    );
    wait_for_stats(&server, Stats::default()).await?;
    server.shutdown().await;
    Ok(())
}

/// With checks off (the capacity runs' light driver) bots still count every state and
/// acknowledge the newest tick, so the server goes on sending deltas, not full snapshots.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_checks_bots_count_states_and_still_get_deltas() -> Result<()> {
    let mut config = test_config();
    config.tick_hz = 30;
    config.matching.fill_wait = Duration::from_millis(100);
    let server = start(config).await;
    let url = format!("ws://{}/", server.local_addr());
    let load = ArenaLoad::start(ArenaLoadConfig {
        settle: Duration::ZERO,
        timeout: WAIT,
        checks: false,
        ..ArenaLoadConfig::arena(url, 8, Duration::from_secs(3))
    });
    let tally = load.finish().await;
    assert_eq!(tally.errors, 0, "errors: {:?}", tally.error_samples);
    assert_eq!(tally.per_client_updates.len(), 8, "every bot played");
    assert_eq!(tally.counts.prediction_checks, 0, "checks were off");
    assert!(tally.counts.deltas > 0, "acknowledgements made no deltas");
    wait_for_stats(&server, Stats::default()).await?;
    server.shutdown().await;
    Ok(())
}
