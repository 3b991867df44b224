//! A game that panics in a command's hook (here `on_leave`), driven on a shard by hand:
//! its room is failed and removed, its other player told, the shard's other room left as
//! it was, and the panic counted.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use tokio::sync::mpsc;

use super::super::{Shard, ShardCmd};
use crate::codec::Codec;
use crate::engine::room::GAME_FAILED;
use crate::engine::{EngineConfig, GameEntry, Member, NewRoom, RoomObserver};
use crate::game::{Ctx, Game, GameConfig, Outcome, Rejection, Viewer};
use crate::outbox::{Batch, Outbox};
use crate::protocol::{
    EndReason, ErrorCode, RoomEvent, RoomId, RoomSettings, RoomSummary, Seat, ServerMsg, SessionId,
};

/// Panics when a player leaves (a bug in the embedder's `on_leave`).
#[derive(Debug)]
struct Touchy;

impl Game for Touchy {
    const NAME: &'static str = "touchy";
    const SEATS: u8 = 2;
    type Options = ();
    type Input = u8;
    type View = u8;
    type Event = ();

    fn validate_options(_options: &()) -> Result<(), String> {
        Ok(())
    }
    fn new(_config: &GameConfig, _options: (), _ctx: &mut Ctx<'_, ()>) -> Self {
        Touchy
    }
    fn validate(&self, _seat: Seat, _input: &u8) -> Result<(), Rejection> {
        Ok(())
    }
    fn apply(&mut self, _ctx: &mut Ctx<'_, ()>, _seat: Seat, _input: u8) -> bool {
        false
    }
    fn tick(&mut self, _ctx: &mut Ctx<'_, ()>) -> bool {
        false
    }
    fn on_leave(&mut self, _ctx: &mut Ctx<'_, ()>, seat: Seat) -> bool {
        panic!("seat {seat} left and the game did not expect it");
    }
    fn view(&self, _viewer: Viewer) -> u8 {
        0
    }
    fn outcome(&self) -> Option<Outcome> {
        None
    }
}

struct Quiet;

impl RoomObserver for Quiet {
    fn room_changed(&self, _summary: &RoomSummary) {}
    fn member_left(&self, _room: RoomId, _session: SessionId) {}
    fn room_closed(&self, _room: RoomId, _members: &[SessionId]) {}
}

fn member(session: u64) -> Member {
    Member {
        session: SessionId::new(session),
        outbox: Outbox::new(Codec::Bincode, 64),
    }
}

/// Every message (not state) queued on `outbox` since the last look.
fn said(outbox: &Outbox) -> Vec<ServerMsg> {
    let mut batch = Batch::default();
    outbox.take(&mut batch);
    batch
        .events
        .iter()
        .map(|frame| Codec::Bincode.decode::<ServerMsg>(frame).expect("decodes"))
        .collect()
}

#[test]
fn a_panic_in_a_commands_hook_fails_only_that_room() {
    let config = EngineConfig {
        tick_hz: 30,
        shards: 1,
        inbox_capacity: 8,
        event_log_capacity: 16,
        reconnect_grace: Duration::from_secs(1),
        replay: crate::replay::ReplayConfig::default(),
        on_game_finished: None,
        first_room_id: RoomId::new(1),
    };
    let (_tx, rx) = mpsc::channel(1);
    let count = Arc::new(AtomicUsize::new(0));
    let mut shard = Shard::new(0, &config, rx, Arc::new(Quiet), count.clone());
    let players = [member(1), member(2), member(3), member(4)];
    for (id, pair) in [(1, &players[..2]), (2, &players[2..])] {
        count.fetch_add(1, Ordering::Relaxed);
        shard.apply(ShardCmd::Create {
            id: RoomId::new(id),
            room: Box::new(NewRoom {
                game: GameEntry::of::<Touchy>(),
                settings: RoomSettings::default(),
                code: format!("R{id}"),
                public: false,
                players: pair.to_vec(),
                bots: Default::default(),
                start_now: true,
                reserved: Default::default(),
            }),
        });
    }
    shard.tick(1);
    for player in &players {
        said(&player.outbox);
    }

    shard.apply(ShardCmd::Leave {
        room: RoomId::new(1),
        session: SessionId::new(1),
    });

    let told = said(&players[1].outbox);
    let over = told.iter().position(|m| {
        matches!(
            m,
            ServerMsg::Event {
                event: RoomEvent::GameOver {
                    winner: None,
                    reason: EndReason::Closed
                },
                ..
            }
        )
    });
    let closed = told.iter().position(|m| {
        matches!(m, ServerMsg::Error { code: ErrorCode::RoomClosed, message, .. }
            if message == GAME_FAILED)
    });
    let left = told
        .iter()
        .position(|m| matches!(m, ServerMsg::RoomLeft { room_id } if *room_id == RoomId::new(1)));
    assert!(
        matches!((over, closed, left), (Some(o), Some(c), Some(l)) if o < c && c < l),
        "GameOver, then Error RoomClosed, then RoomLeft: {told:?}"
    );
    assert!(
        shard.room(RoomId::new(1)).is_none(),
        "the failed room is gone"
    );
    assert_eq!(count.load(Ordering::Relaxed), 1);
    assert_eq!(shard.stats.room_panics, 1);

    // The other room is as it was: still there, nothing said to its players.
    assert!(shard.room(RoomId::new(2)).is_some());
    assert!(said(&players[2].outbox).is_empty());
    shard.tick(2);
    assert_eq!(shard.stats.room_panics, 1, "nothing else panicked");
}
