//! The task around [`Queues`] on paused tokio time: the real lobby and engine, no socket,
//! a bare outbox for the player, and virtual time that moves only when everything waits.

use std::sync::Arc;
use std::time::Duration;

use tokio::time::Instant;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

use crate::codec::Codec;
use crate::config::ServerConfig;
use crate::lobby::{Binding, Lobby};
use crate::outbox::{Batch, Outbox};
use crate::protocol::{RoomJoined, ServerMsg};
use crate::server::builtin_games;
use crate::storage::Storage;

/// A lobby (and engine) of `config`.
fn lobby(config: &ServerConfig) -> (Lobby, CancellationToken, TaskTracker) {
    let shutdown = CancellationToken::new();
    let tracker = TaskTracker::new();
    let lobby = Lobby::start(
        config.lobby(),
        config.engine(0),
        builtin_games(),
        Storage::none(),
        shutdown.clone(),
        &tracker,
    );
    (lobby, shutdown, tracker)
}

/// Queues a new session with `rating` for tic-tac-toe through `outbox`.
async fn queue(lobby: &Lobby, outbox: &Arc<Outbox>, rating: u16) {
    let (session, _token) = lobby.open_session(Binding {
        conn_id: 1,
        outbox: outbox.clone(),
    });
    assert!(lobby.set_rating(session.id(), rating));
    let (entry, options) = lobby.match_game("tictactoe", Codec::Bincode, &[]).unwrap();
    lobby.find_match(&session, entry, options).await.unwrap();
}

/// A lobby of `config`, and one session queued for tic-tac-toe through `outbox`.
/// Returns what stops them, and when the player was queued.
async fn queued_alone(
    config: ServerConfig,
    outbox: &Arc<Outbox>,
) -> (CancellationToken, TaskTracker, Instant) {
    let (lobby, shutdown, tracker) = lobby(&config);
    let queued_at = Instant::now();
    queue(&lobby, outbox, 1500).await;
    (shutdown, tracker, queued_at)
}

/// Polls `outbox` on virtual time until `MatchFound`; returns it and every message.
async fn wait_for_match(outbox: &Outbox, since: Instant) -> (RoomJoined, Vec<ServerMsg>) {
    let mut msgs = Vec::new();
    loop {
        // Virtual time: this sleep moves the paused clock, it does not wait.
        tokio::time::sleep(Duration::from_millis(10)).await;
        msgs.extend(said(outbox));
        if let Some(joined) = match_found(&msgs) {
            return (joined, msgs);
        }
        assert!(since.elapsed() < Duration::from_secs(60), "{msgs:?}");
    }
}

/// Every message in `outbox` so far, decoded.
fn said(outbox: &Outbox) -> Vec<ServerMsg> {
    let mut batch = Batch::default();
    outbox.take(&mut batch);
    decoded(outbox, &batch)
}

/// The messages of a batch taken from `outbox`, decoded.
fn decoded(outbox: &Outbox, batch: &Batch) -> Vec<ServerMsg> {
    batch
        .events
        .iter()
        .map(|frame| outbox.codec().decode(frame).unwrap())
        .collect()
}

fn match_found(msgs: &[ServerMsg]) -> Option<RoomJoined> {
    msgs.iter().find_map(|m| match m {
        ServerMsg::MatchFound(joined) => Some(joined.clone()),
        _ => None,
    })
}

fn config(bot_fill_after: Option<Duration>) -> ServerConfig {
    let mut config = ServerConfig {
        tick_hz: 20,
        shards: 1,
        ..ServerConfig::default()
    };
    config.matching.retry_interval = Duration::from_millis(50);
    config.matching.bot_fill_after = bot_fill_after;
    config
}

async fn stop(shutdown: CancellationToken, tracker: TaskTracker) {
    shutdown.cancel();
    tracker.close();
    tracker.wait().await;
}

#[tokio::test(start_paused = true)]
async fn a_lone_player_gets_a_bot_once_the_fill_time_has_passed() {
    let outbox = Outbox::new(Codec::Bincode, 64);
    let after = Duration::from_secs(2);
    let (shutdown, tracker, queued_at) = queued_alone(config(Some(after)), &outbox).await;
    let (joined, msgs) = wait_for_match(&outbox, queued_at).await;
    let waited = queued_at.elapsed();
    // Seated at the first retry after the fill time (retries every 50 ms).
    assert!(waited >= after, "after {waited:?}");
    assert!(
        waited <= after + Duration::from_millis(60),
        "after {waited:?}"
    );
    assert!(matches!(msgs[0], ServerMsg::Queued { .. }), "{msgs:?}");
    let seat = joined.seat.unwrap();
    assert_eq!(joined.bots, vec![1 - seat]);
    stop(shutdown, tracker).await;
}

#[tokio::test(start_paused = true)]
async fn without_bot_fill_a_lone_player_waits_on() {
    let outbox = Outbox::new(Codec::MsgPack, 64);
    let (shutdown, tracker, _) = queued_alone(config(None), &outbox).await;
    tokio::time::sleep(Duration::from_secs(120)).await;
    let msgs = said(&outbox);
    assert!(
        matches!(msgs.as_slice(), [ServerMsg::Queued { .. }]),
        "{msgs:?}"
    );
    stop(shutdown, tracker).await;
}

#[tokio::test(start_paused = true)]
async fn the_rating_window_widens_while_players_wait() {
    let mut config = config(None);
    config.matching.initial_window = 100;
    config.matching.widen_per_second = 1000;
    config.matching.max_window = 1000;
    let (lobby, shutdown, tracker) = lobby(&config);
    let a = Outbox::new(Codec::MsgPack, 64);
    let b = Outbox::new(Codec::Bincode, 64);
    let queued_at = Instant::now();
    queue(&lobby, &a, 1000).await;
    queue(&lobby, &b, 1400).await;
    let (joined_a, _) = wait_for_match(&a, queued_at).await;
    let waited = queued_at.elapsed();
    // A 400 gap fits a window of 100 + 1000/s after 0.3 s of waiting: the first retry
    // (every 50 ms) at or after it.
    assert!(waited >= Duration::from_millis(300), "after {waited:?}");
    assert!(waited <= Duration::from_millis(360), "after {waited:?}");
    let joined_b = match_found(&said(&b)).expect("both matched at once");
    assert_eq!(joined_a.room_id, joined_b.room_id);
    assert!(joined_a.bots.is_empty());
    stop(shutdown, tracker).await;
}

/// One write of a connection's writer: when it took its batch, the events in it, decoded,
/// and whether a state came with them.
type Write = (Instant, Vec<ServerMsg>, bool);

/// A writer for `outbox` on virtual time that writes nothing but notes each batch it takes:
/// it takes whatever is pending when it wakes, as the connection's writer does.
fn record_writes(outbox: Arc<Outbox>) -> Arc<std::sync::Mutex<Vec<Write>>> {
    let writes = Arc::new(std::sync::Mutex::new(Vec::new()));
    let noted = writes.clone();
    tokio::spawn(async move {
        loop {
            let mut batch = Batch::default();
            outbox.next_batch(&mut batch).await;
            let msgs = decoded(&outbox, &batch);
            noted
                .lock()
                .unwrap()
                .push((Instant::now(), msgs, batch.state.is_some()));
        }
    });
    writes
}

#[tokio::test(start_paused = true)]
async fn queued_shares_the_write_of_a_match_found_at_once() {
    // 20 Hz: the room ticks every 50 ms, and `Queued` may wait 100 ms.
    let (lobby, shutdown, tracker) = lobby(&config(None));
    let (a, b) = (
        Outbox::new(Codec::Bincode, 64),
        Outbox::new(Codec::MsgPack, 64),
    );
    let writes = [record_writes(a.clone()), record_writes(b.clone())];
    // Let both writers start waiting, as a connection's idle writer is.
    tokio::time::sleep(Duration::from_millis(1)).await;
    let queued_at = Instant::now();
    queue(&lobby, &a, 1500).await;
    queue(&lobby, &b, 1500).await;
    tokio::time::sleep(Duration::from_secs(1)).await;
    for writes in writes {
        let writes = std::mem::take(&mut *writes.lock().unwrap());
        let (at, msgs, state) = &writes[0];
        assert!(
            at.duration_since(queued_at) <= Duration::from_millis(50),
            "written at the room's first tick, not after the wait: {writes:?}"
        );
        assert!(matches!(msgs[0], ServerMsg::Queued { .. }), "{msgs:?}");
        assert!(
            matches!(msgs.get(1), Some(ServerMsg::MatchFound(_))),
            "{writes:?}"
        );
        assert!(*state, "the first state in the same write");
    }
    stop(shutdown, tracker).await;
}

#[tokio::test(start_paused = true)]
async fn queued_goes_out_alone_after_its_wait_when_nobody_matches() {
    let outbox = Outbox::new(Codec::Bincode, 64);
    let writes = record_writes(outbox.clone());
    tokio::time::sleep(Duration::from_millis(1)).await;
    let (shutdown, tracker, queued_at) = queued_alone(config(None), &outbox).await;
    tokio::time::sleep(Duration::from_secs(1)).await;
    let writes = std::mem::take(&mut *writes.lock().unwrap());
    assert_eq!(writes.len(), 1, "{writes:?}");
    let (at, msgs, state) = &writes[0];
    let waited = at.duration_since(queued_at);
    // Two 50 ms tick periods, capped at 100 ms.
    assert!(
        waited >= Duration::from_millis(100) && waited <= Duration::from_millis(110),
        "{waited:?}"
    );
    assert!(
        matches!(msgs.as_slice(), [ServerMsg::Queued { .. }]) && !state,
        "{msgs:?}"
    );
    stop(shutdown, tracker).await;
}
