//! The lobby with its engine on a runtime of one thread and a paused clock, so that what
//! runs between a request and its continuation is chosen by the test.

use std::pin::pin;
use std::sync::Arc;
use std::time::Duration;

use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

use super::{Binding, Lobby, LobbyConfig, Session};
use crate::codec::Codec;
use crate::engine::EngineConfig;
use crate::outbox::{Batch, Outbox};
use crate::protocol::{RoomId, RoomSettings, ServerMsg};
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
    let outbox = Outbox::new(Codec::Bincode, 64);
    lobby.open_session(Binding { conn_id, outbox }).0
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
    let game = lobby.game("tictactoe").expect("built in");
    lobby
        .create_room(&host, game, RoomSettings::default())
        .await
        .expect("created");
    let mut code = None;
    for _ in 0..10 {
        // The clock is paused: this lets the shard run its next tick, no more.
        tokio::time::sleep(Duration::from_millis(34)).await;
        code = said(&host).into_iter().find_map(|msg| match msg {
            ServerMsg::RoomJoined(joined) => Some(joined.code),
            _ => None,
        });
        if code.is_some() {
            break;
        }
    }
    let code = code.expect("the host hears its room's code");
    let room = host.lock().room.expect("the host is in it").addr.id;

    // The join reaches the shard's inbox, and the operator's close right behind it: the
    // shard answers the join and then closes the room in the same tick, before the
    // joiner's task runs again.
    let mut join = pin!(lobby.join_room(&joiner, &code, false));
    tokio::select! {
        biased;
        _ = &mut join => panic!("a join is answered at the shard's tick, not at once"),
        () = std::future::ready(()) => {}
    }
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
