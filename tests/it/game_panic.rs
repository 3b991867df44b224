//! An embedder's game whose code panics fails its own room, not the server: over real
//! sockets, two rooms of the same game on one shard; one player's input makes the game's
//! `apply` panic. That room's players get `GameOver { winner: None, reason: Closed }`,
//! `Error RoomClosed` and `RoomLeft`, and can play again; the other room goes on ticking
//! and answering; `/metrics` counts the panic.

use anyhow::{Result, ensure};
use serde::{Deserialize, Serialize};
use ticksync::codec::Codec;
use ticksync::engine::{GameEntry, GameRegistry};
use ticksync::game::{Ctx, Game, GameConfig, Outcome, Rejection, Viewer};
use ticksync::protocol::{ClientMsg, EndReason, ErrorCode, RoomSettings, Seat, ServerMsg};
use ticksync::server::Server;
use tokio::net::TcpListener;

use crate::support::{Client, http_get, test_config};

/// The input that makes [`Fragile`]'s `apply` panic.
const BUG: u8 = 13;

/// Adds each input to a total; panics on [`BUG`] (a bug in the embedder's code).
#[derive(Debug)]
struct Fragile {
    total: u32,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
struct NoEvent;

impl Game for Fragile {
    const NAME: &'static str = "fragile";
    const SEATS: u8 = 2;
    type Options = ();
    type Input = u8;
    type View = u32;
    type Event = NoEvent;

    fn validate_options(_options: &()) -> Result<(), String> {
        Ok(())
    }

    fn new(_config: &GameConfig, _options: (), _ctx: &mut Ctx<'_, NoEvent>) -> Self {
        Fragile { total: 0 }
    }

    fn validate(&self, _seat: Seat, _input: &u8) -> Result<(), Rejection> {
        Ok(())
    }

    fn apply(&mut self, _ctx: &mut Ctx<'_, NoEvent>, _seat: Seat, input: u8) -> bool {
        assert_ne!(input, BUG, "the embedder's bug");
        self.total += u32::from(input);
        true
    }

    fn tick(&mut self, _ctx: &mut Ctx<'_, NoEvent>) -> bool {
        false
    }

    fn on_leave(&mut self, _ctx: &mut Ctx<'_, NoEvent>, _seat: Seat) -> bool {
        false
    }

    fn view(&self, _viewer: Viewer) -> u32 {
        self.total
    }

    fn outcome(&self) -> Option<Outcome> {
        None
    }
}

/// Two players in a new room of `fragile`, the game started.
async fn room(addr: std::net::SocketAddr) -> Result<[Client; 2]> {
    let mut a = Client::connect(addr, Codec::Bincode).await?;
    let mut b = Client::connect(addr, Codec::MsgPack).await?;
    new_room(&mut a, &mut b).await?;
    Ok([a, b])
}

/// `a` makes a room of `fragile` and `b` joins it, which starts the game.
async fn new_room(a: &mut Client, b: &mut Client) -> Result<()> {
    a.send(&ClientMsg::CreateRoom {
        game: Fragile::NAME.into(),
        settings: RoomSettings::default(),
    })
    .await?;
    let code = a.room_joined().await?.code;
    b.send(&ClientMsg::JoinRoom {
        code,
        spectate: false,
    })
    .await?;
    b.room_joined().await?;
    Ok(())
}

/// Sends `value` from `from` and waits until `to` sees the total `want`.
async fn add(from: &mut Client, to: &mut Client, value: u8, want: u32) -> Result<()> {
    from.send_input_bytes(from.codec.encode(&value)?).await?;
    let codec = to.codec;
    to.recv_until(|msg| match msg {
        ServerMsg::Snapshot { state, .. } => {
            (codec.decode::<u32>(state).ok()? == want).then_some(())
        }
        _ => None,
    })
    .await
}

#[tokio::test]
async fn a_panicking_game_closes_its_own_room_and_every_other_room_plays_on() -> Result<()> {
    let listener = TcpListener::bind("127.0.0.1:0").await?;
    let config = ticksync::config::ServerConfig {
        // Both rooms on one shard: the panic must not take the shard down.
        shards: 1,
        ..test_config()
    };
    let games = GameRegistry::new([GameEntry::of::<Fragile>()]);
    let server = Server::start_with_games(listener, config, games)?;
    let addr = server.local_addr();
    let [mut a, mut b] = room(addr).await?;
    let [mut c, mut d] = room(addr).await?;
    add(&mut a, &mut b, 2, 2).await?;
    add(&mut c, &mut d, 5, 5).await?;

    a.send_input_bytes(a.codec.encode(&BUG)?).await?;
    for player in [&mut a, &mut b] {
        let (winner, reason) = player.game_over().await?;
        ensure!(
            winner.is_none() && reason == EndReason::Closed,
            "{reason:?}"
        );
        let (code, message) = player
            .recv_until(|msg| match msg {
                ServerMsg::Error { code, message, .. } => Some((*code, message.clone())),
                _ => None,
            })
            .await?;
        ensure!(code == ErrorCode::RoomClosed, "{code:?}");
        ensure!(message == ticksync::engine::GAME_FAILED, "{message}");
        player
            .recv_until(|msg| matches!(msg, ServerMsg::RoomLeft { .. }).then_some(()))
            .await?;
    }

    // The other room, on the same shard, goes on.
    add(&mut d, &mut c, 7, 12).await?;
    add(&mut c, &mut d, 1, 13).await?;
    // The failed room's players are in no room and can play again.
    new_room(&mut a, &mut b).await?;
    add(&mut b, &mut a, 3, 3).await?;

    let metrics = http_get(addr, "/metrics").await?;
    ensure!(
        metrics
            .body
            .contains("ticksync_room_panics_total{shard=\"0\"} 1"),
        "{}",
        metrics.body
    );
    server.shutdown().await;
    Ok(())
}
