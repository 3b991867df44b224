//! Spectators: watching public rooms by the code the directory lists, private rooms when
//! their creator allows it, and never playing.

use anyhow::{Context, Result};
use ticksync::codec::Codec;
use ticksync::protocol::{
    ClientMsg, EndReason, ErrorCode, RoomEvent, RoomSettings, RoomStatus, ServerMsg,
};
use ticksync::server::Stats;

use crate::support::{Client, TICTACTOE, matched_pair, play, start, test_config, wait_for_stats};

/// Waits for an `Occupancy` event with these counts.
async fn occupancy(client: &mut Client, players: u8, spectators: u32) -> Result<()> {
    client
        .event(|e| {
            (*e == RoomEvent::Occupancy {
                players,
                spectators,
            })
            .then_some(())
        })
        .await
        .with_context(|| format!("Occupancy {{ players: {players}, spectators: {spectators} }}"))
}

fn spectate(code: &str) -> ClientMsg {
    ClientMsg::JoinRoom {
        code: code.into(),
        spectate: true,
    }
}

#[tokio::test]
async fn a_spectator_watches_a_quick_match_game_but_cannot_play() -> Result<()> {
    let server = start(test_config()).await;
    let addr = server.local_addr();
    let (mut x, mut o) = matched_pair(addr, (Codec::Bincode, Codec::MsgPack)).await?;
    let room = x.room.clone().context("x has a room")?;

    // A public room lists its code; that is how a spectator finds it.
    let mut watcher = Client::connect(addr, Codec::MsgPack).await?;
    let row = watcher
        .listed_room(room.room_id, |r| r.status == RoomStatus::Running)
        .await?;
    assert!(row.public);
    assert_eq!(row.code.as_deref(), Some(room.code.as_str()));
    watcher.send(&spectate(&room.code)).await?;
    let joined = watcher.room_joined().await?;
    assert_eq!(joined.seat, None);
    assert_eq!((joined.room_id, &joined.code), (room.room_id, &room.code));
    for client in [&mut watcher, &mut x, &mut o] {
        occupancy(client, 2, 1).await?;
    }
    watcher
        .snapshot_where(|v| v.board == [0; 9] && v.to_move == Some(0))
        .await?;
    let row = watcher
        .listed_room(room.room_id, |r| r.spectators == 1)
        .await?;
    assert_eq!(row.players, 2);

    // Watching is not playing.
    let seq = watcher.send_move(4).await?;
    assert_eq!(watcher.error().await?, (ErrorCode::NotAPlayer, Some(seq)));

    // A second spectator comes and goes.
    let mut passer_by = Client::connect(addr, Codec::Bincode).await?;
    passer_by.send(&spectate(&room.code)).await?;
    assert_eq!(passer_by.room_joined().await?.seat, None);
    occupancy(&mut x, 2, 2).await?;
    passer_by.send(&ClientMsg::LeaveRoom).await?;
    let left = passer_by
        .recv_until(|m| match m {
            ServerMsg::RoomLeft { room_id } => Some(*room_id),
            _ => None,
        })
        .await?;
    assert_eq!(left, room.room_id);
    occupancy(&mut x, 2, 1).await?;

    play(&mut x, &mut o, &[0, 3, 1, 4, 2]).await?;
    let (_, _, view) = watcher.snapshot_where(|v| v.over).await?;
    assert_eq!(view.board, [1, 1, 1, 2, 2, 0, 0, 0, 0]);
    assert_eq!(view.winner, Some(0));
    assert_eq!(watcher.game_over().await?, (Some(0), EndReason::Win));
    assert_eq!(x.game_over().await?, (Some(0), EndReason::Win));
    // The spectator got every event of the room, the ones before it came replayed.
    assert_eq!(watcher.events, x.events);
    assert_eq!(watcher.events.first().map(|e| e.0), Some(1));

    for client in [x, o, watcher, passer_by] {
        client.close().await?;
    }
    wait_for_stats(&server, Stats::default()).await?;
    server.shutdown().await;
    Ok(())
}

#[tokio::test]
async fn a_private_room_admits_spectators_only_if_its_creator_allows() -> Result<()> {
    let server = start(test_config()).await;
    let addr = server.local_addr();
    let mut creator = Client::connect(addr, Codec::Bincode).await?;
    let mut watcher = Client::connect(addr, Codec::MsgPack).await?;
    for allow_spectators in [false, true] {
        creator
            .send(&ClientMsg::CreateRoom {
                game: TICTACTOE.into(),
                settings: RoomSettings {
                    allow_spectators,
                    relay: false,
                    ranked: false,
                    options: bytes::Bytes::new(),
                },
            })
            .await?;
        let code = creator.room_joined().await?.code;
        if !allow_spectators {
            watcher
                .refused(&spectate(&code), ErrorCode::SpectatorsNotAllowed)
                .await?;
            creator.send(&ClientMsg::LeaveRoom).await?;
            creator
                .recv_until(|m| matches!(m, ServerMsg::RoomLeft { .. }).then_some(()))
                .await?;
            continue;
        }
        watcher.send(&spectate(&code)).await?;
        assert_eq!(watcher.room_joined().await?.seat, None);
        occupancy(&mut creator, 1, 1).await?;
        occupancy(&mut watcher, 1, 1).await?;
        let mut opponent = Client::connect(addr, Codec::MsgPack).await?;
        opponent
            .send(&ClientMsg::JoinRoom {
                code: code.clone(),
                spectate: false,
            })
            .await?;
        assert_eq!(opponent.room_joined().await?.seat, Some(1));
        occupancy(&mut watcher, 2, 1).await?;
        watcher
            .event(|e| matches!(e, RoomEvent::GameStarted).then_some(()))
            .await?;
        opponent.close().await?;
        // The opponent left a running game: the creator wins, and the spectator sees it.
        assert_eq!(watcher.game_over().await?, (Some(0), EndReason::Abandoned));
    }
    for client in [creator, watcher] {
        client.close().await?;
    }
    wait_for_stats(&server, Stats::default()).await?;
    server.shutdown().await;
    Ok(())
}
