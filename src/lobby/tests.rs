//! The lobby with its engine on a runtime of one thread and a paused clock, so that what
//! runs between a request and its continuation is chosen by the test.

use std::pin::pin;
use std::sync::Arc;
use std::time::Duration;

use futures_util::FutureExt;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

use super::{Binding, Lobby, LobbyConfig, Session};
use crate::codec::Codec;
use crate::engine::EngineConfig;
use crate::outbox::{Batch, Outbox};
use crate::protocol::{EndReason, RoomEvent, RoomId, RoomSettings, ServerMsg};
use crate::storage::Storage;

fn lobby() -> Lobby {
    let engine = EngineConfig {
        tick_hz: 30,
        shards: 1,
        inbox_capacity: 64,
        event_log_capacity: 16,
        reconnect_grace: Duration::from_secs(1),
        replay: crate::replay::ReplayConfig::default(),
        on_game_finished: None,
        first_room_id: RoomId::new(1),
    };
    Lobby::start(
        LobbyConfig::default(),
        engine,
        crate::server::builtin_games(),
        Storage::none(),
        CancellationToken::new(),
        &TaskTracker::new(),
    )
}

fn session(lobby: &Lobby, conn_id: u64) -> Arc<Session> {
    session_and_token(lobby, conn_id).0
}

fn session_and_token(lobby: &Lobby, conn_id: u64) -> (Arc<Session>, String) {
    let outbox = Outbox::new(Codec::Bincode, 64);
    lobby.open_session(Binding { conn_id, outbox })
}

/// Lets the shard run its next tick, no more: the clock is paused.
async fn next_tick() {
    tokio::time::sleep(Duration::from_millis(34)).await;
}

/// `host` makes a private room of `game`; returns its id and join code once the host has
/// heard it.
async fn private_room(lobby: &Lobby, host: &Session, game: &str) -> (RoomId, String) {
    let game = lobby.game(game).expect("built in");
    lobby
        .create_room(host, game, RoomSettings::default())
        .await
        .expect("created");
    for _ in 0..10 {
        next_tick().await;
        let joined = said(host).into_iter().find_map(|msg| match msg {
            ServerMsg::RoomJoined(joined) => Some(joined),
            _ => None,
        });
        if let Some(joined) = joined {
            return (joined.room_id, joined.code);
        }
    }
    panic!("the host never heard its room's code");
}

/// Polls `request` once: its command is then in an inbox (a shard's or the matchmaker's),
/// unanswered.
async fn poll_once(request: &mut std::pin::Pin<&mut impl std::future::Future>) {
    tokio::select! {
        biased;
        _ = request => panic!("answered at once, before anything else could run"),
        () = std::future::ready(()) => {}
    }
}

/// Fills the shard inbox of the room with join code `code` with leaves of a session no
/// room holds, each taken at once (the shard does not run meanwhile); returns the room's
/// address.
fn fill_shard_inbox(lobby: &Lobby, code: &str) -> crate::engine::RoomAddr {
    let addr = lobby.shared.directory.find_code(code).expect("listed");
    let nobody = crate::protocol::SessionId::new(999_999);
    for _ in 0..lobby.engine().config().inbox_capacity {
        let sent = lobby.engine().leave(addr, nobody).now_or_never();
        assert!(matches!(sent, Some(Ok(()))), "not taken at once: {sent:?}");
    }
    addr
}

/// Waits up to ten ticks for the lobby's last room to close; `why` says what stayed.
async fn rooms_all_close(lobby: &Lobby, why: &str) {
    for _ in 0..10 {
        next_tick().await;
        if lobby.engine().room_count() == 0 {
            return;
        }
    }
    panic!("{why}");
}

/// Queues `session` for a quick match of tic-tac-toe.
async fn find_tictactoe(lobby: &Lobby, session: &Arc<Session>) {
    let (game, options) = lobby
        .match_game("tictactoe", Codec::Bincode, &[])
        .expect("built in");
    lobby
        .find_match(session, game, options)
        .await
        .expect("queued");
}

/// The messages queued on `session`'s connection since the last look.
fn said(session: &Session) -> Vec<ServerMsg> {
    let outbox = session.lock().outbox().cloned().expect("bound");
    let mut batch = Batch::default();
    outbox.take(&mut batch);
    batch
        .events
        .iter()
        .map(|frame| Codec::Bincode.decode(frame).expect("decodes"))
        .collect()
}

#[tokio::test(flavor = "current_thread", start_paused = true)]
async fn a_room_closed_before_its_joiner_hears_the_answer_leaves_it_in_no_room() {
    let lobby = lobby();
    let (host, joiner) = (session(&lobby, 1), session(&lobby, 2));
    let (room, code) = private_room(&lobby, &host, "tictactoe").await;

    // The join reaches the shard's inbox, and the operator's close right behind it: the
    // shard answers the join and then closes the room in the same tick, before the
    // joiner's task runs again.
    let mut join = pin!(lobby.join_room(&joiner, &code, false));
    poll_once(&mut join).await;
    assert!(
        lobby
            .engine()
            .close_room(room, "closed by hand".to_string())
            .await
    );
    join.await.expect("joined, then the room closed");

    let told = said(&joiner);
    assert!(
        told.iter()
            .any(|m| matches!(m, ServerMsg::RoomLeft { room_id } if *room_id == room)),
        "{told:?}"
    );
    assert!(
        joiner.lock().room.is_none(),
        "the joiner is in no room, as it was told"
    );
    assert!(host.lock().room.is_none());
}

#[tokio::test(flavor = "current_thread", start_paused = true)]
async fn a_joiner_kicked_before_it_hears_the_answer_leaves_no_ghost_in_the_room() {
    let lobby = lobby();
    let (host, joiner) = (session(&lobby, 1), session(&lobby, 2));
    // The arena never ends by itself: its room closes when nobody is left in it.
    let (_room, code) = private_room(&lobby, &host, "arena").await;

    let mut join = pin!(lobby.join_room(&joiner, &code, false));
    poll_once(&mut join).await;
    assert!(lobby.kick(joiner.id(), "kicked by hand").await);
    join.await.expect("joined, then kicked");
    lobby.leave_room(&host).await.expect("in the room");

    // With the host gone and the joiner kicked, nobody is left: the room closes.
    rooms_all_close(&lobby, "the room still holds the kicked joiner").await;
}

/// A join records the session's membership only as its `Join` is queued, under the
/// session's lock: whatever finds the membership afterwards (a kick, a takeover, a close)
/// reaches the shard behind the `Join`, even from another thread. While the shard's inbox
/// is full the join has recorded nothing; a kick then finds no room to leave, and the join,
/// once there is room, is refused (the kicked session has no connection) instead of seating
/// a member nobody will remove.
#[tokio::test(flavor = "current_thread", start_paused = true)]
async fn a_join_waiting_for_room_in_the_shards_inbox_has_recorded_no_membership() {
    let lobby = lobby();
    let (host, joiner) = (session(&lobby, 1), session(&lobby, 2));
    let (_room, code) = private_room(&lobby, &host, "arena").await;
    fill_shard_inbox(&lobby, &code);

    let mut join = pin!(lobby.join_room(&joiner, &code, false));
    poll_once(&mut join).await;
    assert!(
        joiner.lock().room.is_none(),
        "a membership recorded before its Join was queued"
    );
    assert!(lobby.kick(joiner.id(), "kicked by hand").await);
    let refused = join.await;
    assert!(
        matches!(refused, Err(crate::protocol::ErrorCode::ServerBusy)),
        "{refused:?}"
    );
    lobby.leave_room(&host).await.expect("in the room");

    // With the host gone, nobody is left: the room closes.
    rooms_all_close(&lobby, "the room never closed").await;
}

#[tokio::test(flavor = "current_thread", start_paused = true)]
async fn a_joiner_whose_session_is_taken_over_before_it_hears_the_answer_plays_on_the_new_connection()
 {
    let lobby = lobby();
    let host = session(&lobby, 1);
    let (joiner, token) = session_and_token(&lobby, 2);
    let (room, code) = private_room(&lobby, &host, "tictactoe").await;

    let mut join = pin!(lobby.join_room(&joiner, &code, false));
    poll_once(&mut join).await;
    // Another connection resumes the session and is put back in its room.
    let outbox = Outbox::new(Codec::Bincode, 64);
    let resumed = lobby
        .resume(
            &token,
            Binding {
                conn_id: 3,
                outbox: outbox.clone(),
            },
        )
        .expect("resumed");
    lobby.rejoin_room(&resumed.session, 0).await;
    join.await.expect("joined");

    for _ in 0..10 {
        next_tick().await;
        let mut batch = Batch::default();
        outbox.take(&mut batch);
        let joined = batch.events.iter().any(|frame| {
            matches!(Codec::Bincode.decode(frame), Ok(ServerMsg::RoomJoined(j)) if j.room_id == room)
        });
        if joined {
            assert!(joiner.lock().room.is_some_and(|m| m.addr.id == room));
            return;
        }
    }
    panic!("the new connection never heard its room");
}

#[tokio::test(flavor = "current_thread", start_paused = true)]
async fn a_player_that_leaves_and_joins_again_within_a_tick_is_in_the_room() {
    let lobby = lobby();
    let (host, joiner) = (session(&lobby, 1), session(&lobby, 2));
    let (room, code) = private_room(&lobby, &host, "arena").await;
    lobby
        .join_room(&joiner, &code, false)
        .await
        .expect("joined");
    assert!(joiner.lock().room.is_some_and(|m| m.seat.is_some()));

    // Out and back in before the shard's next tick: it hears the leave, then the join.
    lobby.leave_room(&joiner).await.expect("in the room");
    lobby
        .join_room(&joiner, &code, false)
        .await
        .expect("joined again");
    next_tick().await;

    let membership = joiner.lock().room.expect("in the room, as the room says");
    assert_eq!(membership.addr.id, room);
    assert!(membership.seat.is_some() && !membership.joining);
}

#[tokio::test(flavor = "current_thread", start_paused = true)]
async fn a_player_whose_connection_closed_as_its_match_formed_forfeits_at_once() {
    let lobby = lobby();
    let (gone, waiting) = (session(&lobby, 1), session(&lobby, 2));
    find_tictactoe(&lobby, &gone).await;
    next_tick().await;
    // The second player's `Enqueue` is in the matchmaker's inbox, the first player's
    // close behind it: the matchmaker forms the pair before it hears of the close, and
    // the first player's session has ended by then.
    find_tictactoe(&lobby, &waiting).await;
    lobby.connection_closed(&gone, 1, false).await;
    assert!(lobby.shared.sessions.get(gone.id()).is_none(), "ended");

    // Well inside the reconnect grace (1 s here): no one can resume an ended session.
    let mut heard = Vec::new();
    for _ in 0..5 {
        next_tick().await;
        heard.extend(said(&waiting));
    }
    let (found, me) = heard
        .iter()
        .enumerate()
        .find_map(|(i, m)| match m {
            ServerMsg::MatchFound(joined) => Some((i, joined.seat?)),
            _ => None,
        })
        .expect("matched, to a seat");
    assert!(
        heard.iter().any(|m| matches!(
            m,
            ServerMsg::Event {
                event: RoomEvent::GameOver {
                    winner: Some(w),
                    reason: EndReason::Abandoned
                },
                ..
            } if *w == me
        )),
        "{heard:?}"
    );
    let left = heard.iter().position(|m| {
        matches!(
            m,
            ServerMsg::Event { event: RoomEvent::PlayerLeft { seat }, .. } if *seat != me
        )
    });
    assert!(left.is_some_and(|left| left > found), "{heard:?}");
    assert!(
        !heard.iter().any(|m| matches!(
            m,
            ServerMsg::Event {
                event: RoomEvent::PlayerDisconnected { .. },
                ..
            }
        )),
        "no reconnect grace for it: {heard:?}"
    );
}

#[tokio::test(flavor = "current_thread", start_paused = true)]
async fn a_closing_connection_ends_its_session_before_it_waits_on_a_busy_queue() {
    let lobby = lobby();
    let (closing, token) = session_and_token(&lobby, 1);
    let waiting = session(&lobby, 2);
    find_tictactoe(&lobby, &closing).await;
    next_tick().await;
    // The matchmaker's inbox is full, the second player's `Enqueue` last: the closing
    // connection waits there to take its session out of the queue.
    for _ in 0..4095 {
        lobby
            .shared
            .matchmaker
            .try_send(super::matchmaker::MatchCmd::Remove {
                session: crate::protocol::SessionId::new(999_999),
            })
            .expect("room in the inbox");
    }
    find_tictactoe(&lobby, &waiting).await;
    let mut closed = pin!(lobby.connection_closed(&closing, 1, false));
    poll_once(&mut closed).await;

    // The session ended before the wait: a new connection cannot resume it, so it is not
    // left thinking it is still queued while its place is being taken away.
    let resumed = lobby.resume(
        &token,
        Binding {
            conn_id: 3,
            outbox: Outbox::new(Codec::Bincode, 64),
        },
    );
    assert!(
        matches!(resumed, Err(crate::protocol::ErrorCode::InvalidResumeToken)),
        "{resumed:?}"
    );

    // The matchmaker pairs the two all the same: the other player wins at once.
    let mut heard = Vec::new();
    for _ in 0..5 {
        next_tick().await;
        heard.extend(said(&waiting));
    }
    closed.await;
    assert!(
        heard.iter().any(|m| matches!(
            m,
            ServerMsg::Event {
                event: RoomEvent::GameOver {
                    reason: EndReason::Abandoned,
                    ..
                },
                ..
            }
        )),
        "{heard:?}"
    );
}

/// A player the cluster's queue could not take back (the enqueue failed, a called-off
/// match's players dropped by a full inbox or by a host that forgot the match) hears
/// `Error ClusterUnavailable` and queues again itself (PROTOCOL.md, "Clusters"); one in a
/// room or queued again meanwhile is not told, and a session that has ended is skipped.
#[tokio::test(flavor = "current_thread", start_paused = true)]
async fn players_not_queued_again_hear_cluster_unavailable_unless_elsewhere_by_then() {
    let lobby = lobby();
    let (idle, queued, host) = (session(&lobby, 1), session(&lobby, 2), session(&lobby, 3));
    let gone = session(&lobby, 4);
    find_tictactoe(&lobby, &queued).await;
    private_room(&lobby, &host, "tictactoe").await;
    assert!(lobby.kick(gone.id(), "gone").await);
    let (_, _) = (said(&queued), said(&host));

    super::global::none_queued(
        &lobby.shared.sessions,
        &[idle.id(), queued.id(), host.id(), gone.id()],
    );
    let unavailable = |msgs: Vec<ServerMsg>| {
        msgs.iter().any(|m| {
            matches!(
                m,
                ServerMsg::Error {
                    code: crate::protocol::ErrorCode::ClusterUnavailable,
                    ..
                }
            )
        })
    };
    assert!(unavailable(said(&idle)), "the idle player was not told");
    assert!(!unavailable(said(&queued)), "a queued player was told");
    assert!(!unavailable(said(&host)), "a player in a room was told");
}

/// A quick match's players are looked at and told about in one step each
/// (`matchmaker::settle_seated`): a player not in the room when the matchmaker settles it
/// (it left), who joins the room again before its notice is queued, is not removed by that
/// notice afterwards. Here the shard's inbox is full, so the notice about the first player
/// waits, and meanwhile the second joins the room by its code.
#[tokio::test(flavor = "current_thread", start_paused = true)]
async fn a_player_seen_as_gone_who_joins_again_is_not_removed_by_the_late_notice() {
    let lobby = lobby();
    let (host, absent, back) = (session(&lobby, 1), session(&lobby, 2), session(&lobby, 3));
    // The arena never ends by itself: its room stays while anyone is in it.
    let (room, code) = private_room(&lobby, &host, "arena").await;
    let addr = fill_shard_inbox(&lobby, &code);

    let seated = [&absent, &back]
        .map(|s| (Arc::clone(s), s.lock().outbox().cloned().expect("bound")))
        .to_vec();
    let mut settle = pin!(super::matchmaker::settle_seated(
        lobby.engine(),
        &lobby.shared.sessions,
        addr,
        seated,
    ));
    poll_once(&mut settle).await;
    let mut join = pin!(lobby.join_room(&back, &code, false));
    poll_once(&mut join).await;
    // The shard empties its inbox; the join runs on first (it is queued, its answer to
    // come), then the notices are sent.
    next_tick().await;
    poll_once(&mut join).await;
    settle.await;
    join.await.expect("joined again");
    for _ in 0..3 {
        next_tick().await;
    }

    // In the room by the room's word and by the lobby's.
    let heard = said(&back);
    assert!(
        heard
            .iter()
            .any(|m| matches!(m, ServerMsg::RoomJoined(j) if j.room_id == room))
            && !heard
                .iter()
                .any(|m| matches!(m, ServerMsg::RoomLeft { .. })),
        "removed from the room it joined again: {heard:?}"
    );
    let membership = back.lock().room;
    assert!(
        membership.is_some_and(|m| m.addr.id == room && !m.joining),
        "{membership:?}"
    );
}
