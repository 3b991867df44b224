//! `GET /metrics`: the Prometheus text format, parsed with a Prometheus text parser, with
//! the values a real game leaves behind.

use std::net::SocketAddr;

use anyhow::{Context, Result, bail};
use prometheus_parse::{Sample, Scrape, Value};
use ticksync::codec::Codec;
use ticksync::protocol::{ClientMsg, EndReason, ErrorCode, ServerMsg, close_code};
use tokio::time::Instant;

use crate::support::*;

/// Fetches and parses `/metrics`.
async fn scrape(addr: SocketAddr) -> Result<Scrape> {
    let response = http_get(addr, "/metrics").await?;
    anyhow::ensure!(response.status == 200, "status {}", response.status);
    anyhow::ensure!(
        response.content_type.as_deref() == Some("text/plain; version=0.0.4; charset=utf-8"),
        "content type {:?}",
        response.content_type
    );
    let lines = response.body.lines().map(|l| Ok(l.to_string()));
    Ok(Scrape::parse(lines)?)
}

/// The value of the sample `name` whose labels include every pair of `labels`.
fn value(scrape: &Scrape, name: &str, labels: &[(&str, &str)]) -> Option<f64> {
    scrape
        .samples
        .iter()
        .filter(|s| s.metric == name)
        .find(|s| labels.iter().all(|(k, v)| s.labels.get(k) == Some(*v)))
        .and_then(|s: &Sample| match &s.value {
            Value::Counter(v) | Value::Gauge(v) | Value::Untyped(v) => Some(*v),
            _ => None,
        })
}

/// Scrapes until the sample reaches `expected` (counters written by connection tasks land
/// a moment after the client sees the event), then returns the scrape.
async fn scrape_until(
    addr: SocketAddr,
    name: &str,
    labels: &[(&str, &str)],
    expected: f64,
) -> Result<Scrape> {
    let deadline = Instant::now() + WAIT;
    loop {
        let scrape = scrape(addr).await?;
        let got = value(&scrape, name, labels);
        if got == Some(expected) {
            return Ok(scrape);
        }
        if Instant::now() > deadline {
            bail!("{name}{labels:?} is {got:?}, not {expected}");
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
}

#[tokio::test]
async fn metrics_after_a_game_parse_and_hold_real_values() -> Result<()> {
    let server = start(test_config()).await;
    let addr = server.local_addr();
    let (mut x, mut o) = matched_pair(addr, (Codec::Bincode, Codec::MsgPack)).await?;
    x.seen_or_next_event(|e| matches!(e, ticksync::protocol::RoomEvent::GameStarted).then_some(()))
        .await?;
    // Out of turn: one NotYourTurn rejection.
    o.send_move(4).await?;
    let (code, _) = o.error().await?;
    assert_eq!(code, ErrorCode::NotYourTurn);
    // X drops mid-game (its seat is held) and resumes: one resume, not a takeover.
    let resumable = x.drop_connection();
    wait_until(&server, |s| s.connections == 1).await?;
    let mut x = Client::resume(addr, &resumable).await?;
    x.ping(7).await?;
    play(&mut x, &mut o, &[0, 3, 1, 4, 2]).await?;
    assert_eq!(x.game_over().await?, (Some(0), EndReason::Win));
    assert_eq!(o.game_over().await?, (Some(0), EndReason::Win));
    // One player leaves with 1000.
    o.close().await?;
    wait_until(&server, |s| s.connections == 1).await?;
    x.recv_until(|m| matches!(m, ServerMsg::RoomLeft { .. }).then_some(()))
        .await?;
    // One wrong room code: counted by the limits' counters.
    let join = ClientMsg::JoinRoom {
        code: "ZZZZZZZZ".into(),
        spectate: false,
    };
    x.refused(&join, ErrorCode::UnknownRoomCode).await?;

    let scrape = scrape_until(addr, "ticksync_connections", &[], 1.0).await?;
    let get = |name: &str, labels: &[(&str, &str)]| {
        value(&scrape, name, labels).with_context(|| format!("no {name}{labels:?}"))
    };
    assert_eq!(
        get(
            "ticksync_games_finished_total",
            &[("game", TICTACTOE), ("reason", "Win")]
        )?,
        1.0
    );
    assert_eq!(get("ticksync_connections_opened_total", &[])?, 3.0);
    assert_eq!(get("ticksync_connections", &[])?, 1.0);
    assert_eq!(get("ticksync_sessions", &[])?, 1.0);
    assert_eq!(
        get("ticksync_messages_in_total", &[("kind", "Hello")])?,
        3.0
    );
    assert_eq!(
        get("ticksync_messages_in_total", &[("kind", "FindMatch")])?,
        2.0
    );
    assert_eq!(
        get("ticksync_messages_in_total", &[("kind", "Input")])?,
        6.0
    );
    assert!(get("ticksync_bytes_in_total", &[("kind", "Input")])? > 6.0);
    assert_eq!(
        get("ticksync_messages_out_total", &[("kind", "Welcome")])?,
        3.0
    );
    assert_eq!(
        get("ticksync_messages_out_total", &[("kind", "MatchFound")])?,
        2.0
    );
    assert!(get("ticksync_messages_out_total", &[("kind", "Snapshot")])? >= 10.0);
    assert!(get("ticksync_bytes_out_total", &[("kind", "Snapshot")])? > 10.0);
    assert_eq!(get("ticksync_rejections_total", &[("code", "30")])?, 1.0);
    assert_eq!(get("ticksync_resumes_total", &[])?, 1.0);
    // The edge's counters are in the same scrape: limits, and auth (guest mode: none).
    assert_eq!(
        get(
            "ticksync_room_code_attempts_total",
            &[("result", "unknown")]
        )?,
        1.0
    );
    assert_eq!(get("ticksync_auth_logins_total", &[])?, 0.0);
    assert!(get("ticksync_seatless_sessions_ended_total", &[])? >= 0.0);
    assert_eq!(get("ticksync_resumes_refused_total", &[])?, 0.0);
    assert_eq!(get("ticksync_queued_players", &[("game", TICTACTOE)])?, 0.0);
    assert_eq!(
        get(
            "ticksync_rooms",
            &[("game", TICTACTOE), ("state", "running")]
        )?,
        0.0
    );
    for shard in ["0", "1"] {
        assert!(get("ticksync_ticks_total", &[("shard", shard)])? > 0.0);
        assert!(get("ticksync_late_ticks_total", &[("shard", shard)])? >= 0.0);
        assert!(get("ticksync_states_superseded_total", &[("shard", shard)])? >= 0.0);
        let histogram = scrape
            .samples
            .iter()
            .find(|s| {
                s.metric == "ticksync_tick_duration_seconds" && s.labels.get("shard") == Some(shard)
            })
            .context("no tick duration histogram")?;
        let Value::Histogram(buckets) = &histogram.value else {
            bail!("not a histogram: {histogram:?}");
        };
        let total = buckets.last().context("no buckets")?;
        assert!(
            total.less_than.is_infinite() && total.count > 0.0,
            "{buckets:?}"
        );
        let count = get("ticksync_tick_duration_seconds_count", &[("shard", shard)])?;
        assert_eq!(count, total.count);
    }
    // o's farewell and x's dropped socket: both answered with 1000; no takeover.
    let normal = close_code::NORMAL.to_string();
    assert_eq!(
        get("ticksync_connections_closed_total", &[("code", &normal)])?,
        2.0
    );
    assert_eq!(get("ticksync_session_takeovers_total", &[])?, 0.0);
    server.shutdown().await;
    Ok(())
}

#[tokio::test]
async fn rooms_and_queues_are_gauged_by_game_and_state() -> Result<()> {
    let server = start(test_config()).await;
    let addr = server.local_addr();
    let mut waiting = Client::connect(addr, Codec::MsgPack).await?;
    waiting.find_match().await?;
    let mut creator = Client::connect(addr, Codec::Bincode).await?;
    creator
        .send(&ClientMsg::CreateRoom {
            game: "arena".into(),
            settings: Default::default(),
        })
        .await?;
    creator.room_joined().await?;
    scrape_until(addr, "ticksync_queued_players", &[("game", TICTACTOE)], 1.0).await?;
    let scrape = scrape_until(
        addr,
        "ticksync_rooms",
        &[("game", "arena"), ("state", "waiting")],
        1.0,
    )
    .await?;
    assert_eq!(
        value(&scrape, "ticksync_queued_players", &[("game", "arena")]),
        Some(0.0)
    );
    assert_eq!(
        value(
            &scrape,
            "ticksync_rooms",
            &[("game", TICTACTOE), ("state", "waiting")]
        ),
        Some(0.0)
    );
    // The JSON view for load drivers is still served, at its own path.
    let json = http_get(addr, "/metrics.json").await?;
    assert_eq!(json.status, 200);
    assert!(serde_json::from_str::<serde_json::Value>(&json.body)?["shards"].is_array());
    server.shutdown().await;
    Ok(())
}
