//! The arena load driver's own code, run in-process: arena bots of every codec sharing
//! rooms, every state applied to the client's mirror and checked against its prediction,
//! and the same with checks off (states counted by their envelope). Nothing here asserts
//! timing.

use std::time::Duration;

use anyhow::Result;
use ticksync::client::{ArenaLoad, ArenaLoadConfig};
use ticksync::codec::Codec;
use ticksync::server::{Server, Stats};

use crate::support::{WAIT, start, test_config, wait_for_stats};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_short_arena_load_has_no_errors_and_every_delta_has_its_base() -> Result<()> {
    let (server, loads) = server_and_loads(true).await;
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

/// With checks off (the capacity runs' light driver: states read by their envelope alone)
/// bots still count every state and acknowledge the newest tick, so the server goes on
/// sending deltas, not full snapshots; in every codec, sharing rooms.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_checks_bots_count_states_and_still_get_deltas() -> Result<()> {
    let (server, loads) = server_and_loads(false).await;
    for (codec, load) in Codec::ALL.into_iter().zip(loads) {
        let progress = load.recorder().clone();
        let tally = load.finish().await;
        let counts = &tally.counts;
        assert_eq!(tally.errors, 0, "{codec:?}: {:?}", tally.error_samples);
        assert_eq!(
            tally.per_client_updates.len(),
            8,
            "{codec:?}: every bot played"
        );
        assert!(
            tally.per_client_updates.iter().all(|&n| n > 0),
            "{codec:?}: a bot saw no state: {:?}",
            tally.per_client_updates
        );
        assert_eq!(counts.updates, counts.fulls + counts.deltas, "{codec:?}");
        assert!(
            counts.deltas > 0,
            "{codec:?}: acknowledgements made no deltas"
        );
        assert!(counts.inputs > 0, "{codec:?}: no input sent");
        // Ticks are skipped only when the server skips them or replaces a state the
        // client had not yet read: a few at most on a busy machine, never most of them.
        assert!(
            counts.missed_ticks * 4 <= counts.updates,
            "{codec:?}: {} ticks missed for {} states",
            counts.missed_ticks,
            counts.updates
        );
        assert!(counts.payload_bytes >= counts.full_bytes + counts.delta_bytes);
        assert!(counts.delta_bytes > 0 && counts.full_bytes > 0, "{codec:?}");
        assert_eq!(counts.prediction_checks, 0, "{codec:?}: checks were off");
        assert!(counts.latency_us.is_empty(), "{codec:?}");
        assert!(progress.updates_so_far() >= counts.updates, "{codec:?}");
    }
    wait_for_stats(&server, Stats::default()).await?;
    server.shutdown().await;
    Ok(())
}

/// A 30 Hz server and, in one queue (rooms mix the codecs), eight arena bots in each codec
/// (bincode, `ticksync.msgpack.v2`, `ticksync.msgpack.v1`) for 3 s, with or without their
/// checks.
async fn server_and_loads(checks: bool) -> (Server, Vec<ArenaLoad>) {
    let mut config = test_config();
    config.tick_hz = 30;
    // Rooms of 8 fill from the queue; a short fill wait starts any remainder quickly.
    config.matching.fill_wait = Duration::from_millis(100);
    let server = start(config).await;
    let url = format!("ws://{}/", server.local_addr());
    let loads = Codec::ALL
        .into_iter()
        .map(|codec| {
            ArenaLoad::start(ArenaLoadConfig {
                codec,
                settle: Duration::ZERO,
                timeout: WAIT,
                checks,
                ..ArenaLoadConfig::arena(url.clone(), 8, Duration::from_secs(3))
            })
        })
        .collect();
    (server, loads)
}
