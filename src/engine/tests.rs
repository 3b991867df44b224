use super::*;
use crate::codec::Codec;
use crate::protocol::{EndReason, RoomEvent, ServerMsg};

struct Quiet;

impl RoomObserver for Quiet {
    fn room_changed(&self, _summary: RoomSummary) {}
    fn member_left(&self, _room: RoomId, _session: SessionId) {}
    fn room_closed(&self, _room: RoomId, _members: &[SessionId]) {}
}

/// One shard ticking once a second, with an inbox of `inbox` commands.
fn engine_with(inbox: usize, shutdown: &CancellationToken, tracker: &TaskTracker) -> Engine {
    let config = EngineConfig {
        tick_hz: 1,
        shards: 1,
        inbox_capacity: inbox,
        event_log_capacity: 16,
        reconnect_grace: Duration::from_secs(60),
        replay: crate::replay::ReplayConfig::default(),
        on_game_finished: None,
        first_room_id: RoomId::new(1),
    };
    let registry = crate::server::builtin_games();
    Engine::start(config, registry, Arc::new(Quiet), shutdown.clone(), tracker)
}

/// One shard ticking once a second, with an inbox of one command.
fn engine(shutdown: &CancellationToken, tracker: &TaskTracker) -> Engine {
    engine_with(1, shutdown, tracker)
}

/// One shard ticking once a second, with room in its inbox.
fn roomy_engine(shutdown: &CancellationToken, tracker: &TaskTracker) -> Engine {
    engine_with(64, shutdown, tracker)
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
        engine.offer_input(addr, SessionId::new(1), seq, InputData::default(), share)
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

fn member(session: u64, outbox: &Arc<Outbox>) -> Member {
    Member {
        session: SessionId::new(session),
        outbox: outbox.clone(),
    }
}

/// A tic-tac-toe quick-match room of `players`, started at once.
fn tictactoe(engine: &Engine, players: Vec<Member>) -> NewRoom {
    NewRoom {
        game: engine.registry().get("tictactoe").expect("built in"),
        settings: RoomSettings::default(),
        code: "EARLY1".into(),
        public: true,
        players,
        bots: BotFill::default(),
        start_now: true,
        reserved: Reserved::default(),
    }
}

/// The event frames `outbox` holds now, decoded.
fn heard(outbox: &Outbox) -> Vec<ServerMsg> {
    let mut batch = crate::outbox::Batch::default();
    outbox.take(&mut batch);
    batch
        .events
        .iter()
        .map(|frame| {
            outbox
                .codec()
                .decode(frame)
                .expect("the room's frames decode")
        })
        .collect()
}

/// Whether `msgs` hold a room event that `is` picks.
fn any_event(msgs: &[ServerMsg], is: impl Fn(&RoomEvent) -> bool) -> bool {
    msgs.iter()
        .any(|m| matches!(m, ServerMsg::Event { event, .. } if is(event)))
}

/// Lets the shard run two ticks (the clock is paused: this advances it, nothing waits).
async fn two_ticks() {
    tokio::time::sleep(Duration::from_millis(2_500)).await;
}

async fn stop(shutdown: CancellationToken, tracker: TaskTracker) {
    shutdown.cancel();
    tracker.close();
    tracker.wait().await;
}

/// A takeover's `Rebind` can reach the shard before the `Create` of the room the session
/// was just seated in (sent from another task): it waits for the room, and the player is
/// in it on the new connection, not sent `RoomLeft` while the room keeps the old one.
#[tokio::test(start_paused = true)]
async fn a_rebind_that_comes_before_its_rooms_create_is_applied_after_it() {
    let (shutdown, tracker) = (CancellationToken::new(), TaskTracker::new());
    let engine = roomy_engine(&shutdown, &tracker);
    let (old, new, other) = (
        Outbox::new(Codec::Bincode, 64),
        Outbox::new(Codec::Bincode, 64),
        Outbox::new(Codec::Bincode, 64),
    );
    let addr = engine.place_room();
    engine.rebind(addr, member(1, &new), 0).await.expect("sent");
    let room = tictactoe(&engine, vec![member(1, &old), member(2, &other)]);
    engine.create_room(addr, room).await.expect("sent");
    two_ticks().await;
    let on_new = heard(&new);
    assert!(
        on_new
            .iter()
            .any(|m| matches!(m, ServerMsg::RoomJoined(j) if j.room_id == addr.id)),
        "{on_new:?}"
    );
    assert!(
        !on_new
            .iter()
            .any(|m| matches!(m, ServerMsg::RoomLeft { .. })),
        "{on_new:?}"
    );
    heard(&old);
    engine.leave(addr, SessionId::new(2)).await.expect("sent");
    two_ticks().await;
    let later = heard(&new);
    assert!(
        any_event(&later, |e| matches!(e, RoomEvent::PlayerLeft { .. })),
        "the room's events reach the new connection: {later:?}"
    );
    assert!(
        heard(&old).is_empty(),
        "nothing for the replaced connection"
    );
    stop(shutdown, tracker).await;
}

/// A `Leave` (a kick, or the player's `LeaveRoom` through another connection) that comes
/// before its room's `Create` is applied after it: the player is not left seated in a room
/// the lobby no longer counts it in.
#[tokio::test(start_paused = true)]
async fn a_leave_that_comes_before_its_rooms_create_is_applied_after_it() {
    let (shutdown, tracker) = (CancellationToken::new(), TaskTracker::new());
    let engine = roomy_engine(&shutdown, &tracker);
    let (one, two) = (
        Outbox::new(Codec::Bincode, 64),
        Outbox::new(Codec::Bincode, 64),
    );
    let addr = engine.place_room();
    engine.leave(addr, SessionId::new(1)).await.expect("sent");
    let room = tictactoe(&engine, vec![member(1, &one), member(2, &two)]);
    engine.create_room(addr, room).await.expect("sent");
    two_ticks().await;
    let on_one = heard(&one);
    assert!(
        on_one
            .iter()
            .any(|m| matches!(m, ServerMsg::RoomLeft { room_id } if *room_id == addr.id)),
        "{on_one:?}"
    );
    let on_two = heard(&two);
    assert!(
        any_event(&on_two, |e| matches!(
            e,
            RoomEvent::GameOver {
                winner: Some(_),
                reason: EndReason::Abandoned
            }
        )),
        "{on_two:?}"
    );
    stop(shutdown, tracker).await;
}

/// A command for a placed room whose `Create` never comes is applied as for a room that
/// is not there once the wait is over: a `Join` by its code is answered, not held forever.
#[tokio::test(start_paused = true)]
async fn a_command_for_a_room_whose_create_never_comes_is_answered_in_the_end() {
    let (shutdown, tracker) = (CancellationToken::new(), TaskTracker::new());
    let engine = roomy_engine(&shutdown, &tracker);
    let joiner = Outbox::new(Codec::Bincode, 64);
    let addr = engine.place_room();
    let started = tokio::time::Instant::now();
    let answer = tokio::time::timeout(
        shard::EARLY_WAIT * 3,
        engine.join(addr, member(1, &joiner), false),
    )
    .await
    .expect("answered once the wait is over");
    assert_eq!(answer, Err(ErrorCode::UnknownRoomCode));
    let waited = started.elapsed();
    assert!(waited >= shard::EARLY_WAIT, "answered after {waited:?}");
    stop(shutdown, tracker).await;
}

/// Two shards at 2 Hz with one arena room each, whose player moves from its first tick on
/// (so it gets a state at every tick), started with the shards staggered from
/// `spread_above` writers a period on. Returns the engine and the two players'
/// connections (first shard's, second shard's).
async fn two_paced_shards(
    spread_above: usize,
    shutdown: &CancellationToken,
    tracker: &TaskTracker,
) -> (Engine, Arc<Outbox>, Arc<Outbox>) {
    let config = EngineConfig {
        tick_hz: 2,
        shards: 2,
        inbox_capacity: 64,
        event_log_capacity: 16,
        reconnect_grace: Duration::from_secs(60),
        replay: crate::replay::ReplayConfig::default(),
        on_game_finished: None,
        first_room_id: RoomId::new(1),
    };
    let registry = crate::server::builtin_games();
    let engine = Engine::start_paced(
        config,
        registry,
        Arc::new(Quiet),
        shutdown.clone(),
        tracker,
        spread_above,
    );
    let (one, two) = (
        Outbox::new(Codec::Bincode, 64),
        Outbox::new(Codec::Bincode, 64),
    );
    for (session, outbox) in [(1, &one), (2, &two)] {
        let addr = engine.place_room();
        assert_eq!(addr.shard, session as usize - 1);
        let room = NewRoom {
            game: engine.registry().get("arena").expect("built in"),
            ..tictactoe(&engine, vec![member(session, outbox)])
        };
        engine.create_room(addr, room).await.expect("sent");
        let right = Codec::Bincode
            .encode(&crate::game::arena::ArenaInput { dx: 1, dy: 0 })
            .expect("encodes");
        let share = InboxShare::untracked();
        engine
            .offer_input(addr, SessionId::new(session), 1, right, share)
            .finish()
            .await
            .expect("sent");
    }
    (engine, one, two)
}

/// Whether `outbox` holds a state, taking what it holds.
fn has_state(outbox: &Outbox) -> bool {
    state_tick(outbox).is_some()
}

/// The tick of the state `outbox` holds, if any, taking what it holds.
fn state_tick(outbox: &Outbox) -> Option<crate::protocol::Tick> {
    let mut batch = crate::outbox::Batch::default();
    outbox.take(&mut batch);
    batch.state.map(|state| state.tick)
}

/// Busy shards tick staggered (`engine/pacing.rs`): with two at 2 Hz, once their first
/// ticks woke their writers, the second one's ticks come a quarter of a second after the
/// first one's.
#[tokio::test(start_paused = true)]
async fn busy_shards_tick_half_a_period_apart() {
    let (shutdown, tracker) = (CancellationToken::new(), TaskTracker::new());
    let started = tokio::time::Instant::now();
    let (_engine, one, two) = two_paced_shards(1, &shutdown, &tracker).await;
    let at = |ms| tokio::time::sleep_until(started + Duration::from_millis(ms));
    // Both made their rooms at 500 ms (tick 1), ticking together; the second then moved
    // a quarter of a second on, to 1250 ms: 750 is still in the period of its tick 1.
    at(600).await;
    assert!(!heard(&one).is_empty() && !heard(&two).is_empty());
    // What came before is taken away.
    has_state(&one);
    has_state(&two);
    at(900).await;
    assert!(
        !has_state(&one) && !has_state(&two),
        "no tick twice in a period"
    );
    at(1100).await;
    assert_eq!(
        state_tick(&one),
        Some(2),
        "the first shard ticked at 1000 ms"
    );
    assert!(!has_state(&two), "the second ticks next at 1250 ms");
    at(1300).await;
    assert_eq!(
        state_tick(&two),
        Some(2),
        "the second shard's tick 2, at 1250 ms"
    );
    assert!(!has_state(&one));
    at(1600).await;
    assert_eq!(state_tick(&one), Some(3));
    at(1800).await;
    assert_eq!(state_tick(&two), Some(3), "1750 ms");
    stop(shutdown, tracker).await;
}

/// Light shards tick together: one wake-up of the worker threads a period.
#[tokio::test(start_paused = true)]
async fn light_shards_tick_together() {
    let (shutdown, tracker) = (CancellationToken::new(), TaskTracker::new());
    let started = tokio::time::Instant::now();
    let (_engine, one, two) = two_paced_shards(1000, &shutdown, &tracker).await;
    let at = |ms| tokio::time::sleep_until(started + Duration::from_millis(ms));
    at(900).await;
    // What came before is taken away.
    has_state(&one);
    has_state(&two);
    at(1100).await;
    assert!(has_state(&one) && has_state(&two), "both ticked at 1000 ms");
    at(1300).await;
    assert!(!has_state(&one) && !has_state(&two));
    stop(shutdown, tracker).await;
}
