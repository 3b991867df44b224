//! Private rooms: created with `CreateRoom`, joined by code, hidden codes in the directory.
//!
//! A third player meets `RoomFull` while every seat is taken (the game has then started
//! too), and `GameAlreadyStarted` when a seat is free but the game is under way or over.

use anyhow::Result;
use ticksync::codec::Codec;
use ticksync::lobby::{CODE_ALPHABET, CODE_LENGTH};
use ticksync::protocol::{
    ClientMsg, EndReason, ErrorCode, RoomEvent, RoomSettings, RoomStatus, ServerMsg,
};
use ticksync::server::Stats;

use crate::support::{
    Client, TICTACTOE, http_get, play, start, test_config, wait_for_stats, wait_until,
};

fn create_room(allow_spectators: bool) -> ClientMsg {
    ClientMsg::CreateRoom {
        game: TICTACTOE.into(),
        settings: RoomSettings {
            allow_spectators,
            relay: false,
            ranked: false,
            options: bytes::Bytes::new(),
        },
    }
}

fn join(code: &str, spectate: bool) -> ClientMsg {
    ClientMsg::JoinRoom {
        code: code.into(),
        spectate,
    }
}

#[tokio::test]
async fn a_private_room_is_joined_by_its_code_and_plays_a_game() -> Result<()> {
    let server = start(test_config()).await;
    let addr = server.local_addr();
    let mut x = Client::connect(addr, Codec::MsgPack).await?;
    let mut o = Client::connect(addr, Codec::Bincode).await?;
    let mut third = Client::connect(addr, Codec::MsgPack).await?;

    x.send(&create_room(false)).await?;
    let created = x.room_joined().await?;
    assert_eq!(created.seat, Some(0));
    assert_eq!((&*created.game, created.seats), (TICTACTOE, 2));
    let code = created.code.clone();
    assert_eq!(code.len(), CODE_LENGTH);
    assert!(
        code.bytes().all(|b| CODE_ALPHABET.contains(&b)),
        "code {code:?} strays from the alphabet"
    );

    // Listed, but without its code.
    let row = third
        .listed_room(created.room_id, |r| r.status == RoomStatus::Waiting)
        .await?;
    assert!(!row.public);
    assert_eq!(row.code, None);
    assert_eq!((row.players, row.seats, row.spectators), (1, 2, 0));
    let rooms: serde_json::Value = serde_json::from_str(&http_get(addr, "/rooms").await?.body)?;
    assert_eq!(
        rooms["rooms"],
        serde_json::json!([{
            "room_id": created.room_id, "game": TICTACTOE, "status": "Waiting", "players": 1,
            "seats": 2, "spectators": 0, "public": false, "code": null, "node": null,
        }])
    );

    // Codes that name no room.
    third
        .refused(&join("000000", false), ErrorCode::UnknownRoomCode)
        .await?;
    let mut other = code.clone().into_bytes();
    other[0] = if other[0] == b'A' { b'B' } else { b'A' };
    third
        .refused(
            &join(std::str::from_utf8(&other)?, false),
            ErrorCode::UnknownRoomCode,
        )
        .await?;
    // The creator is already in a room.
    x.refused(&join(&code, false), ErrorCode::AlreadyInRoom)
        .await?;
    x.refused(&create_room(false), ErrorCode::AlreadyInRoom)
        .await?;

    // Codes are case-insensitive.
    o.send(&join(&format!(" {} ", code.to_lowercase()), false))
        .await?;
    let joined = o.room_joined().await?;
    assert_eq!(joined.seat, Some(1));
    assert_eq!((joined.room_id, &joined.code), (created.room_id, &code));
    x.event(|e| matches!(e, RoomEvent::GameStarted).then_some(()))
        .await?;
    o.event(|e| matches!(e, RoomEvent::GameStarted).then_some(()))
        .await?;

    // Seats are full and the game is on: the seats are the reason.
    third
        .refused(&join(&code, false), ErrorCode::RoomFull)
        .await?;
    let row = third
        .listed_room(created.room_id, |r| r.status == RoomStatus::Running)
        .await?;
    assert_eq!((row.players, row.public, row.code), (2, false, None));

    // O takes the 2-4-6 diagonal.
    play(&mut x, &mut o, &[0, 4, 1, 2, 8, 6]).await?;
    assert_eq!(x.game_over().await?, (Some(1), EndReason::Win));
    assert_eq!(o.game_over().await?, (Some(1), EndReason::Win));
    // The finished room closes and its code is forgotten.
    for client in [&mut x, &mut o] {
        let left = client
            .recv_until(|m| match m {
                ServerMsg::RoomLeft { room_id } => Some(*room_id),
                _ => None,
            })
            .await?;
        assert_eq!(left, created.room_id);
    }
    wait_until(&server, |s| s.rooms == 0).await?;
    third
        .refused(&join(&code, false), ErrorCode::UnknownRoomCode)
        .await?;
    assert_eq!(third.list_rooms().await?, vec![]);

    for client in [x, o, third] {
        client.close().await?;
    }
    wait_for_stats(&server, Stats::default()).await?;
    server.shutdown().await;
    Ok(())
}

#[tokio::test]
async fn create_room_is_refused_for_an_unknown_game() -> Result<()> {
    let server = start(test_config()).await;
    let mut client = Client::connect(server.local_addr(), Codec::Bincode).await?;
    let create = ClientMsg::CreateRoom {
        game: "chess".into(),
        settings: RoomSettings::default(),
    };
    client.refused(&create, ErrorCode::UnknownGame).await?;
    client
        .refused(&ClientMsg::LeaveRoom, ErrorCode::NotInRoom)
        .await?;
    assert_eq!(server.stats().rooms, 0);
    server.shutdown().await;
    Ok(())
}
