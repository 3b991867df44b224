//! The abuse limits over real sockets: a flood closed while 40 arena players play on,
//! room-code guessing, the paged and rate-limited directory, the inbox share, slow readers
//! and the bounded shutdown drain.

use std::time::Duration;

use anyhow::{Context, Result, bail, ensure};
use bytes::Bytes;
use ticksync::client::{ArenaLoad, ArenaLoadConfig, FloodConfig, flood};
use ticksync::codec::Codec;
use ticksync::config::ServerConfig;
use ticksync::limits::LimitReason;
use ticksync::protocol::{ClientMsg, ErrorCode, RoomEvent, RoomSettings, ServerMsg, close_code};
use ticksync::server::Stats;
use tokio::time::Instant;

use crate::support::{
    Client, WAIT, http_get, matched_pair, play, start, test_config, wait_for_stats, wait_until,
};

/// Item 3 of the hardening issue: a client sending 100,000 small messages per second is
/// limited, then closed with 1008, again and again as it reconnects, while 40 arena
/// players beside it keep receiving states. Prints the players' update rates (states per
/// second per player over the measured window), which BENCHMARKS.md records.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_client_flooding_100k_messages_a_second_is_closed_while_40_arena_players_play_on()
-> Result<()> {
    let mut config = test_config();
    config.tick_hz = 30;
    config.matching.fill_wait = Duration::from_millis(100);
    let server = start(config).await;
    let url = format!("ws://{}/", server.local_addr());
    let load = ArenaLoad::start(ArenaLoadConfig {
        settle: Duration::from_millis(500),
        timeout: WAIT,
        ..ArenaLoadConfig::arena(url.clone(), 40, Duration::from_secs(8))
    });
    let mut last_join = load.last_join();
    tokio::time::timeout(WAIT, last_join.wait_for(Option::is_some)).await??;
    ensure!(
        load.joined() == 40,
        "{} of 40 players joined",
        load.joined()
    );
    // Flood, reconnecting after each close, until the players' window is over.
    let end = load.started() + Duration::from_secs(8);
    let mut floods = Vec::new();
    while Instant::now() < end.into() {
        floods.push(flood(&FloodConfig::new(url.clone())).await?);
    }
    let recorder = load.recorder().clone();
    let tally = load.finish().await;
    ensure!(!floods.is_empty());
    for outcome in &floods {
        ensure!(
            outcome.close_code == Some(close_code::POLICY_VIOLATION),
            "a flood ended with {outcome:?}"
        );
        ensure!(
            outcome.reason == "message rate limit exceeded",
            "{outcome:?}"
        );
    }
    let counters = server.lobby().limit_counters();
    assert!(counters.hits(LimitReason::Flood) >= floods.len() as u64);
    assert!(counters.hits(LimitReason::Messages) > 0);
    assert_eq!(tally.errors, 0, "player errors: {:?}", tally.error_samples);
    assert_eq!(tally.per_client_updates.len(), 40, "every player played");
    assert!(
        tally.per_client_updates.iter().all(|&n| n > 0),
        "a player got no state during the flood: {:?}",
        tally.per_client_updates
    );
    let window = recorder
        .window()
        .length()
        .map_or(f64::MIN_POSITIVE, |w| w.as_secs_f64());
    let mut rates: Vec<f64> = tally
        .per_client_updates
        .iter()
        .map(|&n| n as f64 / window)
        .collect();
    rates.sort_by(f64::total_cmp);
    let sent: u64 = floods.iter().map(|f| f.sent).sum();
    eprintln!(
        "flood: {} flooders closed with 1008 after {:.0} messages each on average \
         ({} limit hits); 40 players over {window:.1} s: updates/s min {:.1}, median {:.1}, \
         max {:.1}; tick {} Hz",
        floods.len(),
        sent as f64 / floods.len() as f64,
        counters.hits(LimitReason::Messages),
        rates[0],
        rates[20],
        rates[39],
        tally.tick_hz.unwrap_or(0),
    );
    wait_for_stats(&server, Stats::default()).await?;
    server.shutdown().await;
    Ok(())
}

/// Guessing from many connections of one address: the per-address budget of lookups
/// holds however the guesses are spread, and another address is not affected.
#[tokio::test]
async fn one_address_guessing_over_many_connections_is_limited_per_address() -> Result<()> {
    let mut config = test_config();
    config.limits.ip_code_lookup_burst = 6;
    config.limits.ip_code_lookups_per_minute = 1;
    let server = start(config).await;
    let addr = server.local_addr();
    let guess = |n: usize| ClientMsg::JoinRoom {
        code: format!("{n:0>8}").replace('0', "A"),
        spectate: true,
    };
    // Three connections, two wrong guesses each: well inside each connection's own limit
    // (5 at once, 20 in all), and together exactly the address's burst of 6.
    let mut guessers = Vec::new();
    for c in 0..3 {
        let mut guesser = Client::connect(addr, Codec::MsgPack).await?;
        for g in 0..2 {
            guesser
                .refused(&guess(c * 2 + g), ErrorCode::UnknownRoomCode)
                .await?;
        }
        guessers.push(guesser);
    }
    // A fourth connection from the same address: refused before any lookup.
    let mut fourth = Client::connect(addr, Codec::Bincode).await?;
    fourth.refused(&guess(7), ErrorCode::RateLimited).await?;
    guessers[0]
        .refused(&guess(8), ErrorCode::RateLimited)
        .await?;
    assert!(
        server
            .lobby()
            .limit_counters()
            .hits(LimitReason::CodeAttemptsIp)
            >= 2
    );
    // The connections themselves carry on.
    fourth.ping(1).await?;
    server.shutdown().await;
    Ok(())
}

#[tokio::test]
async fn guessing_room_codes_is_rate_limited_then_closed_with_4020() -> Result<()> {
    let mut config = test_config();
    config.limits.code_failure_burst = 3;
    config.limits.max_code_failures = 3;
    let server = start(config).await;
    let addr = server.local_addr();
    let mut host = Client::connect(addr, Codec::Bincode).await?;
    host.send(&ClientMsg::CreateRoom {
        game: "tictactoe".into(),
        settings: RoomSettings::default(),
    })
    .await?;
    let code = host.room_joined().await?.code;
    assert_eq!(code.len(), 8);
    let mut guesser = Client::connect(addr, Codec::MsgPack).await?;
    for guess in ["AAAAAAAA", "BBBBBBBB"] {
        let join = ClientMsg::JoinRoom {
            code: guess.into(),
            spectate: true,
        };
        guesser.refused(&join, ErrorCode::UnknownRoomCode).await?;
    }
    // The third failure is answered, then the connection is closed.
    let join = ClientMsg::JoinRoom {
        code: "CCCCCCCC".into(),
        spectate: true,
    };
    guesser.refused(&join, ErrorCode::UnknownRoomCode).await?;
    assert_eq!(
        guesser.error().await?,
        (ErrorCode::TooManyCodeGuesses, None)
    );
    assert_eq!(
        guesser.closed().await?,
        Some(close_code::TOO_MANY_CODE_GUESSES)
    );
    let counters = server.lobby().limit_counters();
    assert_eq!(counters.code_failures(), 3);
    assert_eq!(counters.hits(LimitReason::CodeGuessClose), 1);
    // A connection that knows the code gets in.
    let mut friend = Client::connect(addr, Codec::Bincode).await?;
    friend
        .send(&ClientMsg::JoinRoom {
            code: code.to_lowercase(),
            spectate: false,
        })
        .await?;
    assert_eq!(friend.room_joined().await?.seat, Some(1));
    host.close().await?;
    friend.close().await?;
    wait_for_stats(&server, Stats::default()).await?;
    server.shutdown().await;
    Ok(())
}

#[tokio::test]
async fn after_a_burst_of_wrong_codes_lookups_are_refused_unanswered() -> Result<()> {
    let server = start(test_config()).await;
    let mut guesser = Client::connect(server.local_addr(), Codec::Bincode).await?;
    // The default burst is 5 failures; the 6th lookup fails and empties the bucket.
    for i in 0..6 {
        let join = ClientMsg::JoinRoom {
            code: format!("ZZZZZZZ{i}"),
            spectate: false,
        };
        guesser.refused(&join, ErrorCode::UnknownRoomCode).await?;
    }
    let join = ClientMsg::JoinRoom {
        code: "ZZZZZZZZ".into(),
        spectate: false,
    };
    guesser.refused(&join, ErrorCode::RateLimited).await?;
    let counters = server.lobby().limit_counters();
    assert_eq!(counters.code_failures(), 6);
    assert_eq!(counters.hits(LimitReason::CodeAttemptsLimited), 1);
    guesser.ping(1).await?;
    server.shutdown().await;
    Ok(())
}

/// Creates `n` private rooms, each by its own client; returns the clients.
async fn rooms(addr: std::net::SocketAddr, n: usize) -> Result<Vec<Client>> {
    let mut hosts = Vec::with_capacity(n);
    for _ in 0..n {
        let mut host = Client::connect(addr, Codec::Bincode).await?;
        host.send(&ClientMsg::CreateRoom {
            game: "tictactoe".into(),
            settings: RoomSettings::default(),
        })
        .await?;
        host.room_joined().await?;
        hosts.push(host);
    }
    Ok(hosts)
}

#[tokio::test]
async fn the_room_directory_is_paged_cached_and_rate_limited() -> Result<()> {
    let mut config = test_config();
    config.limits.list_rooms_burst = 100;
    config.limits.list_rooms_per_second = 100;
    config.limits.http_rooms_burst = 20;
    config.limits.http_rooms_per_second = 1;
    let server = start(config).await;
    let addr = server.local_addr();
    let hosts = rooms(addr, 130).await?;
    wait_until(&server, |s| s.rooms == 130).await?;
    let mut reader = Client::connect(addr, Codec::MsgPack).await?;
    // ListRooms: the first 100; then page on with ListRoomsAfter.
    let deadline = Instant::now() + WAIT;
    let first = loop {
        let rooms = reader.list_rooms().await?;
        if rooms.len() == 100 || Instant::now() > deadline {
            break rooms;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    };
    assert_eq!(first.len(), 100);
    assert!(first.windows(2).all(|w| w[0].room_id < w[1].room_id));
    let last = first[99].room_id;
    reader
        .send(&ClientMsg::ListRoomsAfter {
            after: last,
            limit: 1000,
        })
        .await?;
    let rest = reader
        .recv_until(|m| match m {
            ServerMsg::RoomList { rooms } => Some(rooms.clone()),
            _ => None,
        })
        .await?;
    assert_eq!(rest.len(), 30);
    assert!(rest.iter().all(|r| r.room_id > last));
    reader
        .send(&ClientMsg::ListRoomsAfter {
            after: first[9].room_id,
            limit: 5,
        })
        .await?;
    let page = reader
        .recv_until(|m| match m {
            ServerMsg::RoomList { rooms } => Some(rooms.clone()),
            _ => None,
        })
        .await?;
    assert_eq!(page, first[10..15].to_vec());
    // GET /rooms: the first page and a cursor; pages; then 429 past the server's budget.
    let body: serde_json::Value = serde_json::from_str(&http_get(addr, "/rooms").await?.body)?;
    assert_eq!(body["rooms"].as_array().map(Vec::len), Some(100));
    assert_eq!(body["next"], last.get());
    let page = http_get(addr, &format!("/rooms?after={last}&limit=50")).await?;
    let page: serde_json::Value = serde_json::from_str(&page.body)?;
    assert_eq!(page["rooms"].as_array().map(Vec::len), Some(30));
    assert_eq!(page["next"], serde_json::Value::Null);
    assert_eq!(http_get(addr, "/rooms?limit=many").await?.status, 400);
    let mut limited = None;
    for _ in 0..40 {
        let response = http_get(addr, "/rooms").await?;
        if response.status == 429 {
            limited = Some(response);
            break;
        }
    }
    let Some(limited) = limited else {
        bail!("40 requests in a row were all answered");
    };
    assert_eq!(limited.header("retry-after"), Some("1"));
    assert!(server.lobby().limit_counters().hits(LimitReason::HttpRooms) >= 1);
    for host in hosts {
        host.close().await?;
    }
    reader.close().await?;
    wait_for_stats(&server, Stats::default()).await?;
    server.shutdown().await;
    Ok(())
}

#[tokio::test]
async fn list_rooms_beyond_its_budget_is_refused_with_rate_limited() -> Result<()> {
    let server = start(test_config()).await;
    let mut client = Client::connect(server.local_addr(), Codec::Bincode).await?;
    for _ in 0..5 {
        client.list_rooms().await?;
    }
    client
        .refused(&ClientMsg::ListRooms, ErrorCode::RateLimited)
        .await?;
    assert_eq!(
        server.lobby().limit_counters().hits(LimitReason::ListRooms),
        1
    );
    server.shutdown().await;
    Ok(())
}

/// A burst of inputs gets at most the connection's share of the shard inbox; the rest are
/// refused with `RateLimited` naming their seq, and the game is unaffected.
#[tokio::test]
async fn an_input_burst_gets_only_its_share_of_the_shard_inbox() -> Result<()> {
    let mut config = test_config();
    // One tick per second: the whole burst reaches the inbox between two ticks.
    config.tick_hz = 1;
    config.limits.inbox_share = 8;
    let server = start(config).await;
    let (mut x, mut o) =
        matched_pair(server.local_addr(), (Codec::Bincode, Codec::MsgPack)).await?;
    // The game is running (X took 0, O took 3); X bursts 40 inputs for cell 4.
    play(&mut x, &mut o, &[0, 3]).await?;
    // In X's own codec: seats are shuffled, so X may be either client.
    let data = x
        .codec
        .encode(&ticksync::game::tictactoe::TicTacToeMove { cell: 4 })?;
    for _ in 0..40 {
        x.send_input_bytes(data.clone()).await?;
    }
    // Seq 1 was X's first move; the burst is seqs 2 to 41, and 8 of them fit: the rest
    // are refused at once. The room answers the 8 at its tick (seq 2 is played, the rest
    // refused by the rules or the per-tick limit); where that tick falls among the
    // refusals depends on timing, so X reads until it has seen both.
    let mut refused_at_once = None;
    let mut played = false;
    while refused_at_once.is_none() || !played {
        match x.recv().await? {
            ServerMsg::Error {
                code: ErrorCode::RateLimited,
                input_seq: Some(seq),
                message,
            } if message.contains("waiting") => {
                refused_at_once.get_or_insert(seq);
            }
            ServerMsg::Snapshot { state, .. } => {
                let view: ticksync::game::tictactoe::TicTacToeView = x.codec.decode(&state)?;
                played |= view.board[4] == 1;
            }
            _ => {}
        }
    }
    let seq = refused_at_once.context("a refusal")?;
    assert!((10..=41).contains(&seq), "refused seq {seq}");
    assert!(
        server
            .lobby()
            .limit_counters()
            .hits(LimitReason::InboxShare)
            > 0
    );
    // The first of the burst was played; O answers as usual.
    o.snapshot_where(|v| v.board[4] == 1)
        .await
        .context("o sees x's move")?;
    o.send_move(8).await?;
    x.snapshot_where(|v| v.board[8] == 2)
        .await
        .context("x sees o's move")?;
    server.shutdown().await;
    Ok(())
}

/// A relay room at full rate: a player that stops reading is closed with 4003 once its
/// writes stall for the slow-reader timeout, and the other player's frames go on.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_player_that_stops_reading_is_cut_and_the_relay_room_goes_on() -> Result<()> {
    let mut config = test_config();
    config.limits.slow_reader_timeout = Duration::from_millis(500);
    config.limits.send_buffer_bytes = 4096;
    let server = start(config).await;
    let addr = server.local_addr();
    let mut reader = Client::connect(addr, Codec::Bincode).await?;
    reader
        .send(&ClientMsg::CreateRoom {
            game: "tictactoe".into(),
            settings: RoomSettings {
                relay: true,
                ..RoomSettings::default()
            },
        })
        .await?;
    let code = reader.room_joined().await?.code;
    let mut stalled = Client::connect_small_buffer(addr, Codec::Bincode).await?;
    stalled
        .send(&ClientMsg::JoinRoom {
            code,
            spectate: false,
        })
        .await?;
    stalled.room_joined().await?;
    // The reader counts the frames it receives, in its own task.
    let counting = tokio::spawn(async move {
        let mut frames = 0u64;
        let deadline = Instant::now() + WAIT;
        while Instant::now() < deadline {
            if let ServerMsg::GameEvent { .. } = reader.recv().await? {
                frames += 1;
                if frames >= 400 {
                    break;
                }
            }
        }
        reader.close().await?;
        anyhow::Ok(frames)
    });
    // The stalled player sends big inputs (every frame echoes them) and never reads.
    let big = Bytes::from(vec![7u8; 500]);
    let counters = server.lobby().limit_counters().clone();
    let deadline = Instant::now() + WAIT;
    while counters.hits(LimitReason::SlowReader) == 0 {
        ensure!(
            Instant::now() < deadline,
            "the stalled player was never cut"
        );
        if stalled.send_input_bytes(big.clone()).await.is_err() {
            break;
        }
        // Pace to about two inputs per tick (the relay limit).
        tokio::time::sleep(Duration::from_millis(8)).await;
    }
    wait_until(&server, |s| s.connections == 1).await?;
    let code = stalled.raw_close_code().await?;
    ensure!(
        matches!(code, None | Some(close_code::TOO_SLOW)),
        "closed with {code:?}"
    );
    // The reader kept getting frames: 400 of them, most after the cut.
    assert_eq!(counting.await??, 400);
    server.shutdown().await;
    Ok(())
}

/// Shutdown does not wait on clients that stopped reading: a stalled write gets the close
/// timeout, however long the slow-reader timeout is.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn shutdown_is_not_held_up_by_clients_that_stopped_reading() -> Result<()> {
    let config = ServerConfig {
        write_timeout: Duration::from_secs(600),
        limits: ticksync::limits::LimitsConfig {
            slow_reader_timeout: Duration::from_secs(600),
            send_buffer_bytes: 4096,
            ..Default::default()
        },
        chat_burst: u32::MAX,
        chat_per_second: 1e9,
        ..test_config()
    };
    let server = start(config).await;
    let addr = server.local_addr();
    let mut talker = Client::connect(addr, Codec::Bincode).await?;
    talker
        .send(&ClientMsg::CreateRoom {
            game: "tictactoe".into(),
            settings: RoomSettings {
                allow_spectators: true,
                ..RoomSettings::default()
            },
        })
        .await?;
    let code = talker.room_joined().await?.code;
    let mut stalled = Client::connect_small_buffer(addr, Codec::Bincode).await?;
    stalled
        .send(&ClientMsg::JoinRoom {
            code,
            spectate: true,
        })
        .await?;
    stalled.room_joined().await?;
    // Chat until the spectator's socket is full: the talker's own echoes stop only when
    // the room's frames back up, so count until the room has sent plenty.
    let text = "y".repeat(200);
    for i in 0..300u32 {
        talker.send(&ClientMsg::Chat { text: text.clone() }).await?;
        if i % 50 == 49 {
            let mut echoed = 0;
            while echoed < 50 {
                if let ServerMsg::Event {
                    event: RoomEvent::Chat { .. },
                    ..
                } = talker.recv().await?
                {
                    echoed += 1;
                }
            }
        }
    }
    let started = Instant::now();
    tokio::time::timeout(WAIT, server.shutdown())
        .await
        .map_err(|_| anyhow::anyhow!("shutdown waited on a stalled client"))?;
    eprintln!(
        "shutdown took {:?} with a stalled client",
        started.elapsed()
    );
    drop(stalled);
    Ok(())
}

/// A client that keeps sending but never reads (so never answers the server's pings) is
/// closed with 4003 once it has answered no ping for the idle timeout plus one ping
/// interval, however long the kernel would go on buffering its stream; a client that
/// reads stays.
#[tokio::test]
async fn a_client_that_answers_no_pings_is_closed_with_4003() -> Result<()> {
    let mut config = test_config();
    config.ping_interval = Duration::from_millis(100);
    config.idle_timeout = Duration::from_millis(500);
    let server = start(config).await;
    let addr = server.local_addr();
    let mut reader = Client::connect(addr, Codec::MsgPack).await?;
    let mut deaf = Client::connect(addr, Codec::Bincode).await?;
    let deadline = tokio::time::Instant::now() + crate::support::WAIT;
    let mut nonce = 0;
    while server.lobby().limit_counters().hits(LimitReason::NoPong) == 0 {
        ensure!(
            tokio::time::Instant::now() < deadline,
            "the deaf client was never closed"
        );
        // It talks (so it is never idle) but never reads.
        if deaf.send(&ClientMsg::Ack { tick: 0 }).await.is_err() {
            break;
        }
        nonce += 1;
        reader.ping(nonce).await?;
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(deaf.raw_close_code().await?, Some(close_code::TOO_SLOW));
    // The one that reads answers the pings as it goes, and is still here.
    reader.ping(u64::MAX).await?;
    server.shutdown().await;
    Ok(())
}
