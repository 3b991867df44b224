use super::*;

struct Quiet;

impl RoomObserver for Quiet {
    fn room_changed(&self, _summary: &RoomSummary) {}
    fn member_left(&self, _room: RoomId, _session: SessionId) {}
    fn room_closed(&self, _room: RoomId, _members: &[SessionId]) {}
}

/// One shard ticking once a second, with an inbox of one command.
fn engine(shutdown: &CancellationToken, tracker: &TaskTracker) -> Engine {
    let config = EngineConfig {
        tick_hz: 1,
        shards: 1,
        inbox_capacity: 1,
        event_log_capacity: 16,
        reconnect_grace: Duration::from_secs(1),
        replay: crate::replay::ReplayConfig::default(),
        on_game_finished: None,
        first_room_id: RoomId::new(1),
    };
    let registry = crate::server::builtin_games();
    Engine::start(config, registry, Arc::new(Quiet), shutdown.clone(), tracker)
}

#[tokio::test(start_paused = true)]
async fn a_full_inbox_hands_back_a_wait_that_queues_the_input_once_there_is_room() {
    let (shutdown, tracker) = (CancellationToken::new(), TaskTracker::new());
    let engine = engine(&shutdown, &tracker);
    let addr = RoomAddr {
        id: RoomId::new(1),
        shard: 0,
    };
    let input = |seq| {
        let share = InboxShare::untracked();
        engine.offer_input(addr, SessionId::new(1), seq, Bytes::new(), share)
    };
    assert!(
        matches!(input(1), Offered::Done(Ok(()))),
        "the one free slot"
    );
    let Offered::Waiting(wait) = input(2) else {
        panic!("a full inbox hands back a wait");
    };
    // The shard empties its inbox at its first tick, one (paused) second in.
    let queued = tokio::time::timeout(Duration::from_secs(5), wait).await;
    assert!(matches!(queued, Ok(Ok(()))), "{queued:?}");
    shutdown.cancel();
    tracker.close();
    tracker.wait().await;
    assert!(
        matches!(input(3), Offered::Done(Err(EngineError::ShuttingDown))),
        "a stopped shard refuses at once"
    );
}
