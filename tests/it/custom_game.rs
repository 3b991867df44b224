//! The custom game of `examples/custom_game.rs` (Pig), registered by the embedder with
//! `Server::start_with_games` and played over real sockets: its options reach the game
//! (and bad ones are refused with `InvalidOptions`), its rolls come from the room's seeded
//! RNG, and its emitted `Rolled` events reach both players, in order, as `GameEvent`s.

use anyhow::{Result, bail, ensure};
use ticksync::codec::Codec;
use ticksync::engine::{GameEntry, GameRegistry};
use ticksync::protocol::{ClientMsg, EndReason, ErrorCode, RoomSettings, ServerMsg};
use ticksync::server::Server;
use tokio::net::TcpListener;

use crate::support::{Client, test_config};

#[path = "../../examples/custom_game.rs"]
#[allow(dead_code)]
mod pig;

use pig::{Pig, PigMove, PigOptions, PigView, Rolled};

/// A server offering only Pig.
async fn pig_server() -> Result<Server> {
    let listener = TcpListener::bind("127.0.0.1:0").await?;
    let games = GameRegistry::new([GameEntry::of::<Pig>()]);
    Ok(Server::start_with_games(listener, test_config(), games)?)
}

fn create(options: bytes::Bytes) -> ClientMsg {
    ClientMsg::CreateRoom {
        game: "pig".into(),
        settings: RoomSettings {
            options,
            ..RoomSettings::default()
        },
    }
}

/// Receives until the next state; returns it with the dice rolled (in `GameEvent`s) since
/// the last one, in order.
async fn next_view(client: &mut Client) -> Result<(PigView, Vec<Rolled>)> {
    let mut rolls = Vec::new();
    loop {
        match client.recv().await? {
            ServerMsg::GameEvent { data, .. } => rolls.push(client.codec.decode(&data)?),
            ServerMsg::Snapshot { state, .. } => return Ok((client.codec.decode(&state)?, rolls)),
            _ => {}
        }
    }
}

#[tokio::test]
async fn a_registered_custom_game_is_played_to_the_end_with_its_options_rng_and_events()
-> Result<()> {
    let server = pig_server().await?;
    let addr = server.local_addr();
    let mut x = Client::connect(addr, Codec::Bincode).await?;
    let mut o = Client::connect(addr, Codec::MsgPack).await?;
    let options = x.codec.encode(&PigOptions { target: 12 })?;
    x.send(&create(options)).await?;
    let code = x.room_joined().await?.code;
    o.send(&ClientMsg::JoinRoom {
        code,
        spectate: false,
    })
    .await?;
    ensure!(o.room_joined().await?.game == "pig");
    let mut clients = [x, o];
    let (mut view, _) = next_view(&mut clients[0]).await?;
    ensure!(
        next_view(&mut clients[1]).await?.0 == view,
        "both see the start"
    );
    ensure!(view.target == 12, "the option reached the game: {view:?}");
    let (mut rolls_sent, mut last_mover) = (0, 0);
    for _ in 0..1000 {
        let Some(seat) = view.to_move else { break };
        // Roll once, then hold: every input changes the state, so both get a state.
        let mv = if view.turn_total == 0 {
            PigMove::Roll
        } else {
            PigMove::Hold
        };
        let client = &mut clients[usize::from(seat)];
        client.send_input_bytes(client.codec.encode(&mv)?).await?;
        rolls_sent += usize::from(mv == PigMove::Roll);
        last_mover = seat;
        let (seen_x, rolls_x) = next_view(&mut clients[0]).await?;
        let (seen_o, rolls_o) = next_view(&mut clients[1]).await?;
        ensure!(seen_x == seen_o, "both players see the same state");
        ensure!(rolls_x == rolls_o, "both get the same events");
        if mv == PigMove::Roll {
            let [Rolled { seat: by, die }] = rolls_x.as_slice() else {
                bail!("one Rolled event per roll, got {rolls_x:?}");
            };
            ensure!(*by == seat && (1..=6).contains(die), "{rolls_x:?}");
            let busted = *die == 1;
            ensure!(seen_x.turn_total == if busted { 0 } else { u16::from(*die) });
            ensure!(seen_x.to_move == Some(if busted { 1 - seat } else { seat }));
        } else {
            ensure!(rolls_x.is_empty(), "a hold rolls nothing");
        }
        view = seen_x;
    }
    ensure!(view.to_move.is_none(), "the game ended: {view:?}");
    ensure!(rolls_sent > 0);
    let winner = usize::from(last_mover);
    ensure!(
        view.scores[winner] >= 12 && view.scores[1 - winner] < 12,
        "{view:?}"
    );
    for client in &mut clients {
        let (seat, reason) = client.game_over().await?;
        ensure!(seat == Some(last_mover) && reason == EndReason::Win);
    }
    server.shutdown().await;
    Ok(())
}

#[tokio::test]
async fn bad_options_are_refused_with_invalid_options_and_make_no_room() -> Result<()> {
    let server = pig_server().await?;
    let addr = server.local_addr();
    let mut x = Client::connect(addr, Codec::Bincode).await?;
    // Out of range, as the game's `validate_options` says.
    let too_low = x.codec.encode(&PigOptions { target: 1 })?;
    x.refused(&create(too_low), ErrorCode::InvalidOptions)
        .await?;
    // Not the options type at all, and trailing bytes after valid options.
    x.refused(
        &create(bytes::Bytes::from_static(&[0xff; 3])),
        ErrorCode::InvalidOptions,
    )
    .await?;
    let mut trailing = x.codec.encode(&PigOptions { target: 30 })?.to_vec();
    trailing.push(0);
    x.refused(&create(trailing.into()), ErrorCode::InvalidOptions)
        .await?;
    // The session is in no room: empty options (the defaults) make one.
    x.send(&create(bytes::Bytes::new())).await?;
    x.room_joined().await?;
    let mut o = Client::connect(addr, Codec::MsgPack).await?;
    let code = x.room.clone().map(|r| r.code).unwrap_or_default();
    o.send(&ClientMsg::JoinRoom {
        code,
        spectate: false,
    })
    .await?;
    o.room_joined().await?;
    ensure!(
        next_view(&mut o).await?.0.target == 21,
        "the default target"
    );
    server.shutdown().await;
    Ok(())
}
