//! PROTOCOL.md's "Conformance" section, point by point: what a client may rely on, checked
//! over real sockets. Each test names the promise it checks.

use std::time::Duration;

use anyhow::{Context, Result, bail, ensure};
use bytes::Bytes;
use ticksync::codec::Codec;
use ticksync::config::ServerConfig;
use ticksync::game::relay::InputFrame;
use ticksync::game::tictactoe::TicTacToeOptions;
use ticksync::lobby::MatchConfig;
use ticksync::protocol::{
    ClientMsg, EndReason, ErrorCode, RoomEvent, RoomSettings, ServerMsg, close_code,
};
use tokio_tungstenite::tungstenite::Message;

use crate::support::{Client, TICTACTOE, matched_pair, start, test_config};

/// Checks that `client`'s events so far are numbered 1, 2, 3, ... without a gap.
fn events_from_one(client: &Client) -> Result<()> {
    for (i, (seq, _, event)) in client.events.iter().enumerate() {
        let expected = i as u64 + 1;
        ensure!(
            *seq == expected,
            "event {event:?} has seq {seq}, expected {expected}"
        );
    }
    Ok(())
}

/// The seats named by the `PlayerJoined` events `client` has received, in order.
fn joined_seats(client: &Client) -> Vec<u8> {
    client
        .events
        .iter()
        .filter_map(|(_, _, e)| match e {
            RoomEvent::PlayerJoined { seat } => Some(*seat),
            _ => None,
        })
        .collect()
}

async fn game_started(client: &mut Client) -> Result<()> {
    client
        .seen_or_next_event(|e| matches!(e, RoomEvent::GameStarted).then_some(()))
        .await
}

fn private(relay: bool, spectators: bool) -> RoomSettings {
    RoomSettings {
        allow_spectators: spectators,
        relay,
        ranked: false,
        options: bytes::Bytes::new(),
    }
}

/// Creates a private room with `creator` and seats `joiner` in it by code; returns the code.
async fn private_pair(
    creator: &mut Client,
    joiner: &mut Client,
    game: &str,
    settings: RoomSettings,
) -> Result<String> {
    creator
        .send(&ClientMsg::CreateRoom {
            game: game.into(),
            settings,
        })
        .await?;
    let code = creator.room_joined().await?.code;
    joiner
        .send(&ClientMsg::JoinRoom {
            code: code.clone(),
            spectate: false,
        })
        .await?;
    joiner.room_joined().await?;
    Ok(code)
}

/// Every player of a quick match, whatever its seat, gets the room's events from seq 1: a
/// `PlayerJoined` for every seat, `Occupancy`, `GameStarted`.
#[tokio::test]
async fn every_matched_player_gets_every_event_from_seq_1() -> Result<()> {
    let server = start(test_config()).await;
    let (mut x, mut o) =
        matched_pair(server.local_addr(), (Codec::Bincode, Codec::MsgPack)).await?;
    for client in [&mut x, &mut o] {
        game_started(client).await?;
        events_from_one(client)?;
        ensure!(joined_seats(client) == [0, 1], "{:?}", client.events);
    }

    // Three arena players started short-handed after the fill wait: the same for seat 2.
    let server = start(ServerConfig {
        tick_hz: 30,
        matching: MatchConfig {
            fill_wait: Duration::from_millis(200),
            ..MatchConfig::default()
        },
        ..test_config()
    })
    .await;
    let mut players = Vec::new();
    for codec in [Codec::Bincode, Codec::MsgPack, Codec::MsgPackV1] {
        let mut client = Client::connect(server.local_addr(), codec).await?;
        client
            .send(&ClientMsg::FindMatch {
                game: "arena".into(),
                options: bytes::Bytes::new(),
            })
            .await?;
        players.push(client);
    }
    for client in &mut players {
        client.match_found().await?;
        game_started(client).await?;
        events_from_one(client)?;
        let mut seats = joined_seats(client);
        seats.sort_unstable();
        ensure!(seats == [0, 1, 2], "{:?}", client.events);
    }
    server.shutdown().await;
    Ok(())
}

/// A player who joins a private room by code gets the room's events from seq 1 (the
/// creator's `PlayerJoined` and `Occupancy` included), then its own.
#[tokio::test]
async fn a_player_joining_by_code_gets_the_room_s_events_from_seq_1() -> Result<()> {
    let server = start(test_config()).await;
    let addr = server.local_addr();
    let mut creator = Client::connect(addr, Codec::Bincode).await?;
    let mut joiner = Client::connect(addr, Codec::MsgPack).await?;
    creator
        .send(&ClientMsg::CreateRoom {
            game: TICTACTOE.into(),
            settings: private(false, false),
        })
        .await?;
    let code = creator.room_joined().await?.code;
    creator
        .send(&ClientMsg::Chat {
            text: "anyone?".into(),
        })
        .await?;
    creator
        .event(|e| matches!(e, RoomEvent::Chat { .. }).then_some(()))
        .await?;
    joiner
        .send(&ClientMsg::JoinRoom {
            code,
            spectate: false,
        })
        .await?;
    joiner.room_joined().await?;
    game_started(&mut joiner).await?;
    events_from_one(&joiner)?;
    ensure!(joined_seats(&joiner) == [0, 1], "{:?}", joiner.events);
    ensure!(
        joiner
            .events
            .iter()
            .any(|(_, _, e)| matches!(e, RoomEvent::Chat { text, .. } if text == "anyone?")),
        "the chat before the join is there: {:?}",
        joiner.events
    );
    game_started(&mut creator).await?;
    events_from_one(&creator)?;
    server.shutdown().await;
    Ok(())
}

/// Receives events until one with a seq above `until_seq`; checks that they continue from
/// `after_seq` without a gap; returns the `InputFrame` frames among them.
async fn gap_free_events(client: &mut Client, after_seq: u64, until_seq: u64) -> Result<Vec<u64>> {
    let mut expected = after_seq + 1;
    let mut frames = Vec::new();
    while expected <= until_seq {
        match client.recv().await? {
            ServerMsg::Event { seq, .. } => {
                ensure!(seq == expected, "event seq {seq}, expected {expected}");
                expected += 1;
            }
            ServerMsg::GameEvent { seq, tick, data } => {
                ensure!(seq == expected, "event seq {seq}, expected {expected}");
                expected += 1;
                let InputFrame { frame, .. } = client.codec.decode(&data)?;
                ensure!(frame == tick, "an InputFrame's frame is its tick");
                ensure!(
                    frames.last().is_none_or(|&last| frame > last),
                    "frames increase"
                );
                frames.push(frame);
            }
            ServerMsg::Snapshot { .. } | ServerMsg::Delta { .. } => {
                bail!("relay rooms send no states")
            }
            _ => {}
        }
    }
    Ok(frames)
}

/// Waits until `client` has seen events up to at least `seq`.
async fn seen_seq(client: &mut Client, seq: u64) -> Result<()> {
    while client.last_event_seq < seq {
        client.recv().await?;
    }
    Ok(())
}

/// A spectator joining a relay room whose log is longer than a client's event queue gets
/// the whole log, then the live frames, and is not cut off as slow.
#[tokio::test]
async fn a_spectator_joining_a_long_relay_room_gets_every_frame() -> Result<()> {
    // A small queue stands in for a long-running room: 300 frames of log against a
    // 64-frame queue is the default 1024-frame queue after 35 s at 30 Hz, scaled down.
    let server = start(ServerConfig {
        outbox_events: 64,
        ..test_config()
    })
    .await;
    let addr = server.local_addr();
    let mut a = Client::connect(addr, Codec::Bincode).await?;
    let mut b = Client::connect(addr, Codec::MsgPack).await?;
    let code = private_pair(&mut a, &mut b, TICTACTOE, private(true, true)).await?;
    seen_seq(&mut a, 300).await?;
    seen_seq(&mut b, 300).await?;

    let mut watcher = Client::connect(addr, Codec::MsgPack).await?;
    watcher
        .send(&ClientMsg::JoinRoom {
            code,
            spectate: true,
        })
        .await?;
    watcher.room_joined().await?;
    let live = a.last_event_seq + 60;
    let frames = gap_free_events(&mut watcher, 0, live).await?;
    ensure!(frames.len() > 300, "{} frames", frames.len());
    watcher.ping(1).await?;
    server.shutdown().await;
    Ok(())
}

/// At 128 Hz a relay player away for longer than its queue holds frames gets every frame
/// it missed on resume, without being closed as too slow.
#[tokio::test]
async fn a_relay_player_resuming_at_128_hz_gets_every_missed_frame() -> Result<()> {
    // 128 frames of queue; the player misses about 400 (3 s at 128 Hz) of its 20 s grace.
    let server = start(ServerConfig {
        tick_hz: 128,
        outbox_events: 128,
        ..test_config()
    })
    .await;
    let addr = server.local_addr();
    let mut a = Client::connect(addr, Codec::MsgPack).await?;
    let mut b = Client::connect(addr, Codec::Bincode).await?;
    private_pair(&mut a, &mut b, TICTACTOE, private(true, false)).await?;
    seen_seq(&mut b, 20).await?;
    let b_seq = b.last_event_seq;
    let resumable = b.drop_connection();
    seen_seq(&mut a, b_seq + 400).await?;

    let mut b = Client::resume(addr, &resumable).await?;
    b.room_joined().await?;
    let until = a.last_event_seq + 128;
    let frames = gap_free_events(&mut b, b_seq, until).await?;
    ensure!(frames.len() >= 400, "{} frames", frames.len());
    b.ping(1).await?;
    server.shutdown().await;
    Ok(())
}

/// Once the others have been told a seat is gone (`PlayerLeft`), its token is refused,
/// every time: the room ends the session before it tells anyone.
#[tokio::test]
async fn a_token_is_refused_once_the_others_got_player_left() -> Result<()> {
    let server = start(ServerConfig {
        reconnect_grace: Duration::from_millis(300),
        ..test_config()
    })
    .await;
    let addr = server.local_addr();
    for round in 0..5 {
        let (x, mut o) = matched_pair(addr, (Codec::Bincode, Codec::MsgPack)).await?;
        let dropped = x.drop_connection();
        o.event(|e| matches!(e, RoomEvent::PlayerLeft { seat: 0 }).then_some(()))
            .await
            .with_context(|| format!("round {round}"))?;
        Client::resume_refused(addr, dropped.codec, &dropped.token)
            .await
            .with_context(|| format!("round {round}"))?;
    }
    server.shutdown().await;
    Ok(())
}

/// Before `Hello`, a frame that does not decode is answered like any other message that
/// is not `Hello`: `Error HelloRequired` and close 4001.
#[tokio::test]
async fn an_undecodable_first_frame_gets_hello_required_and_4001() -> Result<()> {
    let server = start(test_config()).await;
    for codec in Codec::ALL {
        let mut client = Client::connect_raw(server.local_addr(), codec).await?;
        client
            .send_raw(Message::Binary(Bytes::from_static(&[0xc1, 0xff, 0x00])))
            .await?;
        assert_eq!(client.error().await?, (ErrorCode::HelloRequired, None));
        assert_eq!(client.closed().await?, Some(close_code::HELLO_REQUIRED));
    }
    server.shutdown().await;
    Ok(())
}

/// The default budget: 16 undecodable frames are answered with `BadMessage`, the 17th
/// with `TooManyErrors` and close 1008. Undecodable `Input.data` and refused requests do
/// not count.
#[tokio::test]
async fn the_bad_message_budget_counts_undecodable_frames_only() -> Result<()> {
    let server = start(test_config()).await;
    let (mut x, mut o) =
        matched_pair(server.local_addr(), (Codec::MsgPack, Codec::Bincode)).await?;
    for _ in 0..20 {
        let seq = x.send_input_bytes(Bytes::new()).await?;
        assert_eq!(x.error().await?, (ErrorCode::BadMessage, Some(seq)));
        x.refused(&ClientMsg::CancelMatch, ErrorCode::NotQueued)
            .await?;
    }
    for _ in 0..16 {
        x.send_raw(Message::Binary(Bytes::from_static(&[0xc1])))
            .await?;
        assert_eq!(x.error().await?, (ErrorCode::BadMessage, None));
    }
    x.send_raw(Message::Binary(Bytes::from_static(&[0xc1])))
        .await?;
    assert_eq!(x.error().await?, (ErrorCode::TooManyErrors, None));
    assert_eq!(x.closed().await?, Some(close_code::POLICY_VIOLATION));
    o.ping(1).await?;
    server.shutdown().await;
    Ok(())
}

/// A refused input is processed: its seq is used up (sending it again is a duplicate,
/// ignored) and it counts in `Snapshot.input_seq`.
#[tokio::test]
async fn a_refused_input_uses_up_its_seq() -> Result<()> {
    let server = start(test_config()).await;
    let (mut x, mut o) =
        matched_pair(server.local_addr(), (Codec::Bincode, Codec::MsgPack)).await?;
    game_started(&mut x).await?;
    // Seq 1 from O (not its turn) is refused.
    let seq = o.send_move(4).await?;
    assert_eq!(o.error().await?, (ErrorCode::NotYourTurn, Some(seq)));
    // X moves; O resends seq 1 (now legal, cell 4) and then seq 2 (cell 5): the resent seq
    // 1 is ignored as a duplicate, so only cell 5 is played, and input_seq says 2.
    x.send_move(0).await?;
    o.snapshot_where(|v| v.board[0] == 1).await?;
    let data = o
        .codec
        .encode(&ticksync::game::tictactoe::TicTacToeMove { cell: 4 })?;
    o.send(&ClientMsg::Input {
        seq,
        ack_tick: 0,
        data,
    })
    .await?;
    let seq2 = o.send_move(5).await?;
    assert_eq!(seq2, 2);
    let (_, input_seq, view) = o.snapshot_where(|v| v.board[5] == 2).await?;
    assert_eq!(input_seq, 2);
    assert_eq!(view.board[4], 0, "the duplicate seq 1 was not applied");
    server.shutdown().await;
    Ok(())
}

/// `GameAlreadyStarted`: a seat is free, but the game under way. (`RoomFull`, every seat
/// taken, is checked in `private_rooms`.)
#[tokio::test]
async fn a_free_seat_in_a_running_room_gets_game_already_started() -> Result<()> {
    let server = start(test_config()).await;
    let addr = server.local_addr();
    let mut a = Client::connect(addr, Codec::Bincode).await?;
    let mut b = Client::connect(addr, Codec::MsgPack).await?;
    let code = private_pair(&mut a, &mut b, TICTACTOE, private(true, false)).await?;
    game_started(&mut b).await?;
    b.send(&ClientMsg::LeaveRoom).await?;
    b.recv_until(|m| matches!(m, ServerMsg::RoomLeft { .. }).then_some(()))
        .await?;
    a.event(|e| matches!(e, RoomEvent::PlayerLeft { seat: 1 }).then_some(()))
        .await?;
    let join = ClientMsg::JoinRoom {
        code,
        spectate: false,
    };
    b.refused(&join, ErrorCode::GameAlreadyStarted).await?;
    server.shutdown().await;
    Ok(())
}

/// The refusals of every request, per PROTOCOL.md's table.
#[tokio::test]
async fn every_request_is_refused_as_the_table_says() -> Result<()> {
    use ErrorCode::*;
    let server = start(test_config()).await;
    let addr = server.local_addr();
    let find = |game: &str| ClientMsg::FindMatch {
        game: game.into(),
        options: bytes::Bytes::new(),
    };
    let create = |game: &str| ClientMsg::CreateRoom {
        game: game.into(),
        settings: private(false, false),
    };
    let join = |code: &str| ClientMsg::JoinRoom {
        code: code.into(),
        spectate: false,
    };
    let input = ClientMsg::Input {
        seq: 1,
        ack_tick: 0,
        data: Bytes::from_static(&[0]),
    };
    let chat = ClientMsg::Chat { text: "hi".into() };

    // In no room, not queued.
    let mut c = Client::connect(addr, Codec::MsgPack).await?;
    c.refused(&find("chess"), UnknownGame).await?;
    c.refused(&create("chess"), UnknownGame).await?;
    c.refused(&join("ZZZZZZZZ"), UnknownRoomCode).await?;
    c.refused(&ClientMsg::CancelMatch, NotQueued).await?;
    c.refused(&ClientMsg::LeaveRoom, NotInRoom).await?;
    c.refused(&input, NotInRoom).await?;
    c.refused(&chat, NotInRoom).await?;

    // Queued.
    c.find_match().await?;
    c.recv_until(|m| matches!(m, ServerMsg::Queued { .. }).then_some(()))
        .await?;
    c.refused(&find(TICTACTOE), AlreadyQueued).await?;
    c.refused(&create(TICTACTOE), AlreadyQueued).await?;
    c.refused(&join("ZZZZZZZZ"), UnknownRoomCode).await?;
    c.send(&ClientMsg::CancelMatch).await?;
    c.recv_until(|m| matches!(m, ServerMsg::MatchCancelled { .. }).then_some(()))
        .await?;

    // In a room.
    c.send(&create(TICTACTOE)).await?;
    let code = c.room_joined().await?.code;
    c.refused(&find(TICTACTOE), AlreadyInRoom).await?;
    c.refused(&create(TICTACTOE), AlreadyInRoom).await?;
    c.refused(&join(&code), AlreadyInRoom).await?;
    c.refused(&input, GameNotRunning).await?;
    // Queued and then joining by code.
    let mut q = Client::connect(addr, Codec::Bincode).await?;
    q.find_match().await?;
    q.recv_until(|m| matches!(m, ServerMsg::Queued { .. }).then_some(()))
        .await?;
    q.refused(&join(&code), AlreadyQueued).await?;
    server.shutdown().await;
    Ok(())
}

/// A game room applies at most `MAX_INPUTS_PER_TICK` (4) inputs of a player per tick; the
/// rest of that tick's are refused with `RateLimited`.
#[tokio::test]
async fn inputs_beyond_four_per_tick_are_rate_limited() -> Result<()> {
    // One tick a second: ten inputs sent at once all reach the same tick.
    let server = start(ServerConfig {
        tick_hz: 1,
        ..test_config()
    })
    .await;
    let addr = server.local_addr();
    let mut a = Client::connect(addr, Codec::Bincode).await?;
    let mut b = Client::connect(addr, Codec::MsgPack).await?;
    private_pair(&mut a, &mut b, TICTACTOE, private(false, false)).await?;
    game_started(&mut a).await?;
    let mut seqs = Vec::new();
    for cell in 0..10 {
        seqs.push(
            a.send_input_bytes(
                a.codec
                    .encode(&ticksync::game::tictactoe::TicTacToeMove { cell })?,
            )
            .await?,
        );
    }
    // The first is played (X's move); the next three are refused by the rules, the
    // other six by the per-tick limit.
    let mut refused = Vec::new();
    while refused.len() < 9 {
        if let ServerMsg::Error {
            code,
            input_seq: Some(seq),
            ..
        } = a.recv().await?
        {
            refused.push((seq, code));
        }
    }
    let limited: Vec<u32> = refused
        .iter()
        .filter(|(_, c)| *c == ErrorCode::RateLimited)
        .map(|(s, _)| *s)
        .collect();
    ensure!(!limited.is_empty(), "{refused:?}");
    ensure!(limited.iter().all(|&s| s > 4), "{refused:?}");
    server.shutdown().await;
    Ok(())
}

/// A player back after the game ended while it was away gets, in order: `RoomJoined`, the
/// events it missed (its own `PlayerDisconnected`, `GameOver`), its own
/// `PlayerReconnected`, the final `Snapshot`, then `RoomLeft`.
#[tokio::test]
async fn resuming_after_the_game_ended_while_away() -> Result<()> {
    let server = start(test_config()).await;
    let addr = server.local_addr();
    let mut x = Client::connect(addr, Codec::Bincode).await?;
    let mut o = Client::connect(addr, Codec::MsgPack).await?;
    private_pair(
        &mut x,
        &mut o,
        TICTACTOE,
        RoomSettings {
            allow_spectators: false,
            relay: false,
            ranked: false,
            options: Codec::Bincode
                .encode(&TicTacToeOptions {
                    turn_seconds: Some(1),
                })
                .expect("options encode"),
        },
    )
    .await?;
    game_started(&mut x).await?;
    let dropped = x.drop_connection();
    // X (to move) times out while away.
    assert_eq!(o.game_over().await?, (Some(1), EndReason::TurnTimeout));

    let mut x = Client::resume(addr, &dropped).await?;
    let mut kinds = Vec::new();
    loop {
        let msg = x.recv().await?;
        let kind = match &msg {
            ServerMsg::RoomJoined(_) => "RoomJoined".to_string(),
            ServerMsg::Event { event, .. } => format!("{event:?}"),
            ServerMsg::Snapshot { .. } => "Snapshot".to_string(),
            ServerMsg::RoomLeft { .. } => "RoomLeft".to_string(),
            other => format!("{other:?}"),
        };
        kinds.push(kind);
        if matches!(msg, ServerMsg::RoomLeft { .. }) {
            break;
        }
    }
    let summary: Vec<&str> = kinds
        .iter()
        .map(|k| k.split([' ', '{']).next().unwrap_or(k))
        .collect();
    ensure!(
        summary
            == [
                "RoomJoined",
                "PlayerDisconnected",
                "GameOver",
                "PlayerReconnected",
                "Snapshot",
                "RoomLeft"
            ],
        "{kinds:?}"
    );
    let seqs: Vec<u64> = x.events.iter().map(|e| e.0).collect();
    let first = dropped.last_event_seq + 1;
    ensure!(
        seqs == (first..first + 3).collect::<Vec<_>>(),
        "gap-free from the last seen: {seqs:?}"
    );
    server.shutdown().await;
    Ok(())
}
