//! The quick-match queue: rating-aware pairing, window widening, cancelling, leaving.

use std::time::Duration;

use anyhow::{Result, bail};
use ticksync::codec::Codec;
use ticksync::config::ServerConfig;
use ticksync::game::tictactoe::TicTacToeOptions;
use ticksync::lobby::MatchConfig;
use ticksync::protocol::{ClientMsg, ErrorCode, RoomEvent, RoomJoined, RoomSettings, ServerMsg};
use ticksync::server::{Server, Stats};

use crate::support::{Client, TICTACTOE, start, test_config, wait_for_stats, wait_until};

/// Connects a client with a rating and puts it in the tic-tac-toe queue; checks `Queued`.
async fn queue_rated(server: &Server, codec: Codec, rating: u16, position: u32) -> Result<Client> {
    let mut client = Client::connect(server.local_addr(), codec).await?;
    assert!(server.lobby().set_rating(client.session_id, rating));
    client.find_match().await?;
    expect_queued(&mut client, position).await?;
    Ok(client)
}

/// The next message must be `Queued` at `position` of a queue that long.
async fn expect_queued(client: &mut Client, position: u32) -> Result<()> {
    match client.recv().await? {
        ServerMsg::Queued {
            game,
            position: got,
            queue_size,
        } if game == TICTACTOE && got == position && queue_size == position => Ok(()),
        other => bail!("expected Queued at {position}, got {other:?}"),
    }
}

/// Both clients were placed in the same room, in different seats.
fn same_room(a: &RoomJoined, b: &RoomJoined) {
    assert_eq!(a.room_id, b.room_id);
    assert_eq!(a.code, b.code);
    assert_eq!(a.game, TICTACTOE);
    assert_eq!((a.seats, b.seats), (2, 2));
    let mut seats = [a.seat, b.seat];
    seats.sort();
    assert_eq!(seats, [Some(0), Some(1)]);
}

#[tokio::test]
async fn players_are_paired_with_the_closest_rating_in_their_window() -> Result<()> {
    // Windows never widen: only players within 100 of each other can meet.
    let server = start(ServerConfig {
        matching: MatchConfig {
            initial_window: 100,
            widen_per_second: 0,
            max_window: 100,
            ..MatchConfig::default()
        },
        ..test_config()
    })
    .await;
    let mut a = queue_rated(&server, Codec::Bincode, 1000, 1).await?;
    let mut b = queue_rated(&server, Codec::MsgPack, 1400, 2).await?;
    let mut c = queue_rated(&server, Codec::MsgPack, 1010, 3).await?;
    let joined_c = c.match_found().await?;
    let joined_a = a.match_found().await?;
    same_room(&joined_a, &joined_c);
    assert_eq!(server.stats().queued, 1);
    // B was not matched: the next thing it hears is the answer to its ping.
    b.send(&ClientMsg::Ping { nonce: 5 }).await?;
    assert_eq!(b.recv().await?, ServerMsg::Pong { nonce: 5 });
    // A player within B's window arrives.
    let mut d = queue_rated(&server, Codec::Bincode, 1390, 2).await?;
    let joined_d = d.match_found().await?;
    let joined_b = b.match_found().await?;
    same_room(&joined_b, &joined_d);
    assert_ne!(joined_b.room_id, joined_a.room_id);
    assert_eq!(server.stats().queued, 0);
    for client in [a, b, c, d] {
        client.close().await?;
    }
    wait_for_stats(&server, Stats::default()).await?;
    server.shutdown().await;
    Ok(())
}

#[tokio::test]
async fn cancel_match_leaves_the_queue() -> Result<()> {
    let server = start(test_config()).await;
    let addr = server.local_addr();
    let mut a = Client::connect(addr, Codec::Bincode).await?;
    a.refused(&ClientMsg::CancelMatch, ErrorCode::NotQueued)
        .await?;
    a.find_match().await?;
    expect_queued(&mut a, 1).await?;
    a.send(&ClientMsg::CancelMatch).await?;
    assert_eq!(
        a.recv().await?,
        ServerMsg::MatchCancelled {
            game: TICTACTOE.into()
        }
    );
    assert_eq!(server.stats().queued, 0);
    a.refused(&ClientMsg::CancelMatch, ErrorCode::NotQueued)
        .await?;
    // B arrives with the same rating and finds the queue empty.
    let mut b = Client::connect(addr, Codec::MsgPack).await?;
    b.find_match().await?;
    expect_queued(&mut b, 1).await?;
    assert_eq!(server.stats().queued, 1);
    a.send(&ClientMsg::Ping { nonce: 1 }).await?;
    assert_eq!(a.recv().await?, ServerMsg::Pong { nonce: 1 });
    // A queues again: now they meet.
    a.find_match().await?;
    expect_queued(&mut a, 2).await?;
    same_room(&a.match_found().await?, &b.match_found().await?);
    server.shutdown().await;
    Ok(())
}

#[tokio::test]
async fn a_queued_player_who_disconnects_leaves_the_queue() -> Result<()> {
    let server = start(ServerConfig {
        reconnect_grace: Duration::from_millis(300),
        ..test_config()
    })
    .await;
    let addr = server.local_addr();
    let mut dropped = Client::connect(addr, Codec::MsgPack).await?;
    dropped.find_match().await?;
    expect_queued(&mut dropped, 1).await?;
    dropped.drop_connection();
    wait_until(&server, |s| s.queued == 0 && s.connections == 0).await?;
    let mut leaving = Client::connect(addr, Codec::Bincode).await?;
    leaving.find_match().await?;
    expect_queued(&mut leaving, 1).await?;
    leaving.close().await?;
    wait_until(&server, |s| s.queued == 0).await?;
    // The next player finds nobody waiting.
    let mut next = Client::connect(addr, Codec::Bincode).await?;
    next.find_match().await?;
    expect_queued(&mut next, 1).await?;
    next.close().await?;
    wait_for_stats(&server, Stats::default()).await?;
    server.shutdown().await;
    Ok(())
}

#[tokio::test]
async fn find_match_is_refused_for_unknown_games_and_busy_players() -> Result<()> {
    let server = start(test_config()).await;
    let addr = server.local_addr();
    let mut a = Client::connect(addr, Codec::MsgPack).await?;
    let unknown = ClientMsg::FindMatch {
        game: "chess".into(),
        options: bytes::Bytes::new(),
    };
    a.refused(&unknown, ErrorCode::UnknownGame).await?;
    assert_eq!(server.stats().queued, 0);
    a.find_match().await?;
    expect_queued(&mut a, 1).await?;
    let find = ClientMsg::FindMatch {
        game: TICTACTOE.into(),
        options: bytes::Bytes::new(),
    };
    a.refused(&find, ErrorCode::AlreadyQueued).await?;
    let create = ClientMsg::CreateRoom {
        game: TICTACTOE.into(),
        settings: RoomSettings::default(),
    };
    a.refused(&create, ErrorCode::AlreadyQueued).await?;
    assert_eq!(server.stats().queued, 1);
    let mut b = Client::connect(addr, Codec::Bincode).await?;
    b.find_match().await?;
    b.match_found().await?;
    a.match_found().await?;
    a.refused(&find, ErrorCode::AlreadyInRoom).await?;
    a.refused(&ClientMsg::CancelMatch, ErrorCode::NotQueued)
        .await?;
    server.shutdown().await;
    Ok(())
}

/// `FindMatch.options`: checked like `CreateRoom`'s, one queue per game and options
/// (compared after decoding, whatever codec sent them), and the room gets them.
#[tokio::test]
async fn players_are_matched_only_with_the_same_options_and_their_room_gets_them() -> Result<()> {
    let server = start(test_config()).await;
    let addr = server.local_addr();
    let find = |codec: Codec, turn_seconds: Option<u32>| -> Result<ClientMsg> {
        Ok(ClientMsg::FindMatch {
            game: TICTACTOE.into(),
            options: codec.encode(&TicTacToeOptions { turn_seconds })?,
        })
    };
    let mut a = Client::connect(addr, Codec::Bincode).await?;
    a.send(&find(Codec::Bincode, Some(5))?).await?;
    expect_queued(&mut a, 1).await?;
    // Other options: another queue, so b waits alone there.
    let mut b = Client::connect(addr, Codec::MsgPack).await?;
    b.send(&find(Codec::MsgPack, None)?).await?;
    expect_queued(&mut b, 1).await?;
    let mut bad = Client::connect(addr, Codec::MsgPack).await?;
    bad.refused(&find(Codec::MsgPack, Some(0))?, ErrorCode::InvalidOptions)
        .await?;
    // The same options from the other codec: a's queue.
    let mut c = Client::connect(addr, Codec::MsgPack).await?;
    c.send(&find(Codec::MsgPack, Some(5))?).await?;
    let room = c.match_found().await?;
    if a.match_found().await?.room_id != room.room_id {
        bail!("a and c are in different rooms");
    }
    a.seen_or_next_event(|e| matches!(e, RoomEvent::GameStarted).then_some(()))
        .await?;
    let start_tick = a
        .events
        .iter()
        .find_map(|(_, tick, e)| matches!(e, RoomEvent::GameStarted).then_some(*tick))
        .unwrap_or_default();
    let (_, _, view) = a.snapshot_where(|_| true).await?;
    let tick_hz = u64::from(test_config().tick_hz);
    if view.turn_deadline != start_tick + 5 * tick_hz {
        bail!("a 5 s turn from tick {start_tick}: {view:?}");
    }
    wait_until(&server, |s| s.queued == 1).await?;
    drop(b);
    server.shutdown().await;
    Ok(())
}
