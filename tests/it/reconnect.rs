//! Sessions outlive connections: resuming within the grace period, forfeiting after it,
//! taking a session over from a second connection, and refusing tokens that are not live.

use std::collections::HashMap;
use std::time::Duration;

use anyhow::{Context, Result, bail};
use ticksync::codec::Codec;
use ticksync::config::ServerConfig;
use ticksync::protocol::{ClientMsg, EndReason, RoomEvent, ServerMsg, close_code};
use ticksync::server::Stats;
use tokio::time::Instant;

use crate::support::{
    Client, finish_unnoticed_takeover, matched_pair, play, play_from, start, test_config,
    wait_for_stats, wait_until,
};

/// Waits for `PlayerDisconnected` for `seat`; returns (event tick, deadline_tick, grace_ms).
async fn disconnected(client: &mut Client, seat: u8) -> Result<(u64, u64, u32)> {
    client
        .event(|e| match e {
            RoomEvent::PlayerDisconnected {
                seat: s,
                deadline_tick,
                grace_ms,
            } if *s == seat => Some((*deadline_tick, *grace_ms)),
            _ => None,
        })
        .await
        .map(|(deadline, grace_ms)| {
            let tick = client.events.last().map_or(0, |e| e.1);
            (tick, deadline, grace_ms)
        })
}

#[tokio::test]
async fn a_player_who_resumes_within_the_grace_gets_everything_it_missed() -> Result<()> {
    // The default 20 s grace, at 60 ticks a second.
    let config = test_config();
    let grace_ticks = 20 * u64::from(config.tick_hz);
    let server = start(config).await;
    let addr = server.local_addr();
    let (mut x, mut o) = matched_pair(addr, (Codec::Bincode, Codec::MsgPack)).await?;
    let room = x.room.clone().context("x has a room")?;
    play(&mut x, &mut o, &[0, 3, 1]).await?;

    // X's network fails; O is told, and plays on while X is away.
    let session_id = x.session_id;
    let dropped = x.drop_connection();
    let (tick, deadline_tick, grace_ms) = disconnected(&mut o, 0).await?;
    assert_eq!(grace_ms, 20_000);
    assert_eq!(deadline_tick, tick + grace_ticks);
    let seq = o.send_move(4).await?;
    let (_, acked, _) = o.snapshot_where(|v| v.board[4] == 2).await?;
    assert_eq!(acked, seq);
    o.send(&ClientMsg::Chat {
        text: "still there?".into(),
    })
    .await?;
    o.event(|e| matches!(e, RoomEvent::Chat { .. }).then_some(()))
        .await?;

    // X comes back on a new connection.
    let mut x = Client::resume(addr, &dropped).await?;
    assert_eq!(x.session_id, session_id);
    assert_ne!(x.token, dropped.token, "the token rotates on resume");
    match x.recv().await? {
        ServerMsg::RoomJoined(joined) => assert_eq!(joined, room),
        other => bail!("expected RoomJoined, got {other:?}"),
    }
    // Then every event after the last one it saw, without gaps, up to its own return,
    // then the full state.
    let mut replayed = Vec::new();
    let (input_seq, board, to_move) = loop {
        match x.recv().await? {
            ServerMsg::Event { seq, event, .. } => replayed.push((seq, event)),
            ServerMsg::Snapshot {
                input_seq, state, ..
            } => {
                let view: ticksync::game::tictactoe::TicTacToeView = x.codec.decode(&state)?;
                break (input_seq, view.board, view.to_move);
            }
            other => bail!("expected events then a snapshot, got {other:?}"),
        }
    };
    let seqs: Vec<u64> = replayed.iter().map(|(seq, _)| *seq).collect();
    let expected: Vec<u64> = (dropped.last_event_seq + 1..).take(seqs.len()).collect();
    assert_eq!(
        seqs, expected,
        "replayed seqs after {}",
        dropped.last_event_seq
    );
    assert_eq!(
        replayed.last().map(|(_, e)| e),
        Some(&RoomEvent::PlayerReconnected { seat: 0 })
    );
    o.event(|e| (*e == RoomEvent::PlayerReconnected { seat: 0 }).then_some(()))
        .await?;
    // O saw the same events under the same numbers.
    let seen_by_o: HashMap<u64, RoomEvent> =
        o.events.iter().map(|(s, _, e)| (*s, e.clone())).collect();
    for (seq, event) in &replayed {
        assert_eq!(seen_by_o.get(seq), Some(event), "event {seq}");
    }
    assert!(
        replayed
            .iter()
            .any(|(_, e)| matches!(e, RoomEvent::PlayerDisconnected { seat: 0, .. }))
    );
    assert!(
        replayed
            .iter()
            .any(|(_, e)| matches!(e, RoomEvent::Chat { text, .. } if text == "still there?"))
    );
    // The board is intact, O's move included, and X's inputs are acknowledged.
    assert_eq!(board, [1, 1, 0, 2, 2, 0, 0, 0, 0]);
    assert_eq!(to_move, Some(0));
    assert_eq!(input_seq, dropped.input_seq);

    // The game goes on to its end.
    play_from(&mut x, &mut o, 4, &[2]).await?;
    assert_eq!(x.game_over().await?, (Some(0), EndReason::Win));
    assert_eq!(o.game_over().await?, (Some(0), EndReason::Win));

    // The token X resumed with is spent.
    Client::resume_refused(addr, Codec::MsgPack, &dropped.token).await?;
    x.ping(1).await?;
    x.close().await?;
    o.close().await?;
    wait_for_stats(&server, Stats::default()).await?;
    server.shutdown().await;
    Ok(())
}

#[tokio::test]
async fn a_player_who_stays_away_past_the_grace_forfeits_and_loses_the_session() -> Result<()> {
    let grace = Duration::from_millis(300);
    let server = start(ServerConfig {
        reconnect_grace: grace,
        ..test_config()
    })
    .await;
    let addr = server.local_addr();
    let (mut x, mut o) = matched_pair(addr, (Codec::MsgPack, Codec::Bincode)).await?;
    play(&mut x, &mut o, &[4, 0]).await?;
    let dropped_at = Instant::now();
    let dropped = x.drop_connection();
    let (_, _, grace_ms) = disconnected(&mut o, 0).await?;
    assert_eq!(grace_ms, 300);
    o.event(|e| (*e == RoomEvent::PlayerLeft { seat: 0 }).then_some(()))
        .await?;
    // The seat is given up by whichever comes first of the room's deadline (18 ticks, which
    // never fire faster than 17 tick periods apart) and the session's expiry (300 ms).
    let waited = dropped_at.elapsed();
    assert!(
        waited >= Duration::from_millis(250),
        "gave up after {waited:?}"
    );
    let (_, _, view) = o.snapshot_where(|v| v.over).await?;
    assert_eq!(view.winner, Some(1));
    assert_eq!(o.game_over().await?, (Some(1), EndReason::Abandoned));

    // The session is gone with its seat.
    wait_until(&server, |s| s.sessions == 1 && s.rooms == 0).await?;
    Client::resume_refused(addr, dropped.codec, &dropped.token).await?;
    o.close().await?;
    wait_for_stats(&server, Stats::default()).await?;
    server.shutdown().await;
    Ok(())
}

#[tokio::test]
async fn resuming_from_a_second_connection_takes_the_session_over() -> Result<()> {
    let server = start(test_config()).await;
    let addr = server.local_addr();
    let (mut x, mut o) = matched_pair(addr, (Codec::MsgPack, Codec::Bincode)).await?;
    let room = x.room.clone().context("x has a room")?;
    play(&mut x, &mut o, &[4, 0]).await?;

    let mut x2 = Client::resume(addr, &x.resumable()).await?;
    assert_eq!(x2.session_id, x.session_id);
    assert_eq!(x2.room_joined().await?, room);
    let (_, input_seq, view) = x2.snapshot_where(|_| true).await?;
    assert_eq!(view.board, [2, 0, 0, 0, 1, 0, 0, 0, 0]);
    assert_eq!(input_seq, x.resumable().input_seq);
    assert_eq!(x.closed().await?, Some(close_code::SESSION_TAKEN_OVER));
    wait_until(&server, |s| s.connections == 2).await?;

    finish_unnoticed_takeover(&mut x2, &mut o).await?;
    x2.close().await?;
    o.close().await?;
    wait_for_stats(&server, Stats::default()).await?;
    server.shutdown().await;
    Ok(())
}

#[tokio::test]
async fn tokens_that_are_not_live_are_refused() -> Result<()> {
    let server = start(test_config()).await;
    let addr = server.local_addr();
    let mut live = Client::connect(addr, Codec::Bincode).await?;
    let mut forged = live.token.clone().into_bytes();
    forged[0] = if forged[0] == b'0' { b'1' } else { b'0' };
    let forged = String::from_utf8(forged)?;
    for token in [
        forged.as_str(),
        "00000000000000000000000000000000",
        "",
        "not even hex",
    ] {
        for codec in Codec::ALL {
            Client::resume_refused(addr, codec, token).await?;
        }
    }
    // Nobody was let in, and the real owner is untouched.
    assert_eq!(server.stats().sessions, 1);
    live.ping(3).await?;
    live.close().await?;
    wait_for_stats(&server, Stats::default()).await?;
    server.shutdown().await;
    Ok(())
}

/// Only a seat is held for a client that is gone: a spectator's, a queued player's or an
/// idle session ends with its connection (no reconnect grace), so that reconnecting in a
/// loop cannot pile sessions up.
#[tokio::test]
async fn sessions_without_a_seat_end_with_their_connection() -> Result<()> {
    let server = start(test_config()).await;
    let addr = server.local_addr();
    let mut creator = Client::connect(addr, Codec::Bincode).await?;
    creator
        .send(&ClientMsg::CreateRoom {
            game: "tictactoe".into(),
            settings: ticksync::protocol::RoomSettings {
                allow_spectators: true,
                relay: false,
                ranked: false,
                options: bytes::Bytes::new(),
            },
        })
        .await?;
    let room = creator.room_joined().await?;
    let mut watcher = Client::connect(addr, Codec::MsgPack).await?;
    watcher
        .send(&ClientMsg::JoinRoom {
            code: room.code.clone(),
            spectate: true,
        })
        .await?;
    watcher.room_joined().await?;
    let mut queued = Client::connect(addr, Codec::MsgPack).await?;
    queued
        .send(&ClientMsg::FindMatch {
            game: "arena".into(),
            options: bytes::Bytes::new(),
        })
        .await?;
    queued
        .recv_until(|m| matches!(m, ServerMsg::Queued { .. }).then_some(()))
        .await?;
    let idle = Client::connect(addr, Codec::Bincode).await?;
    assert_eq!(server.stats().sessions, 4);
    // Their networks fail: every session without a seat ends at once, the creator's stays.
    let dropped: Vec<_> = [watcher, queued, idle]
        .into_iter()
        .map(Client::drop_connection)
        .collect();
    wait_until(&server, |s| {
        s.connections == 1 && s.sessions == 1 && s.queued == 0
    })
    .await?;
    for gone in &dropped {
        Client::resume_refused(addr, gone.codec, &gone.token).await?;
    }
    let counters = server.lobby().limit_counters();
    assert_eq!(counters.seatless_sessions_ended(), 3);
    // A reconnect loop leaves nothing behind.
    for _ in 0..20 {
        Client::connect(addr, Codec::Bincode)
            .await?
            .drop_connection();
    }
    wait_until(&server, |s| s.connections == 1 && s.sessions == 1).await?;
    // The room lost its spectator: the creator is alone in it.
    creator.close().await?;
    wait_for_stats(&server, Stats::default()).await?;
    server.shutdown().await;
    Ok(())
}
