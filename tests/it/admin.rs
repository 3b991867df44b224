//! The operator's endpoints over real HTTP: off without a token, 401 without the right one,
//! rooms listed and inspected, a running room closed under its players, a session kicked.

use std::net::SocketAddr;

use anyhow::{Context, Result, bail, ensure};
use serde_json::Value;
use ticksync::codec::Codec;
use ticksync::config::ServerConfig;
use ticksync::protocol::{
    ClientMsg, EndReason, ErrorCode, RoomEvent, ServerMsg, SessionId, close_code,
};
use ticksync::server::Stats;
use tokio::time::Instant;

use crate::support::*;

const TOKEN: &str = "test-admin-token-0123456789";
const BEARER: &str = "Bearer test-admin-token-0123456789";

fn admin_config() -> ServerConfig {
    let mut config = test_config();
    config.admin.token = Some(TOKEN.to_string());
    config
}

/// `method path` with the right token; fails unless the status is `status`.
async fn admin(
    addr: SocketAddr,
    method: &str,
    path: &str,
    body: &str,
    status: u16,
) -> Result<Value> {
    let response = http_send(addr, method, path, &[("Authorization", BEARER)], body).await?;
    ensure!(
        response.status == status,
        "{method} {path}: {} {}",
        response.status,
        response.body
    );
    ensure!(
        response.content_type.as_deref() == Some("application/json"),
        "{method} {path}: {:?}",
        response.content_type
    );
    ensure!(response.header("cache-control") == Some("no-store"));
    serde_json::from_str(&response.body).with_context(|| format!("{method} {path}"))
}

/// Asks `GET path` until `ready` holds for its JSON (the engine's answers come from the
/// shards, at their ticks, so a change the clients saw may take a tick to show).
async fn admin_until(
    addr: SocketAddr,
    path: &str,
    ready: impl Fn(&Value) -> bool,
) -> Result<Value> {
    let deadline = Instant::now() + WAIT;
    loop {
        let value = admin(addr, "GET", path, "", 200).await?;
        if ready(&value) {
            return Ok(value);
        }
        if Instant::now() > deadline {
            bail!("GET {path} stayed at {value}");
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
}

#[tokio::test]
async fn without_a_token_the_monitor_and_admin_paths_do_not_exist() -> Result<()> {
    let server = start(test_config()).await;
    let addr = server.local_addr();
    for path in [
        "/monitor",
        "/admin/overview",
        "/admin/rooms",
        "/admin/sessions",
    ] {
        let response = http_send(addr, "GET", path, &[("Authorization", BEARER)], "").await?;
        ensure!(response.status == 404, "{path}: {}", response.status);
    }
    let response = http_send(
        addr,
        "POST",
        "/admin/sessions/1/kick",
        &[("Authorization", BEARER)],
        "",
    )
    .await?;
    ensure!(response.status == 404, "kick: {}", response.status);
    server.shutdown().await;
    Ok(())
}

#[tokio::test]
async fn admin_requests_without_the_right_bearer_token_are_refused_with_401() -> Result<()> {
    let server = start(admin_config()).await;
    let addr = server.local_addr();
    let (x, o) = matched_pair(addr, (Codec::Bincode, Codec::MsgPack)).await?;
    let room = x.room.clone().context("room")?.room_id;
    let wrong = [
        vec![],
        vec![("Authorization", "Bearer wrong-token-0123456789xx")],
        vec![("Authorization", TOKEN)],
        vec![("Authorization", "Basic dGVzdDp0ZXN0")],
        vec![("Authorization", "Bearer test-admin-token-012345678")],
    ];
    for headers in &wrong {
        for (method, path) in [
            ("GET", "/admin/overview".to_string()),
            ("GET", "/admin/rooms".to_string()),
            ("GET", format!("/admin/rooms/{room}")),
            ("POST", format!("/admin/rooms/{room}/close")),
            ("GET", "/admin/sessions".to_string()),
            ("POST", format!("/admin/sessions/{}/kick", x.session_id)),
        ] {
            let response = http_send(addr, method, &path, headers, "").await?;
            ensure!(
                response.status == 401,
                "{method} {path} {headers:?}: {}",
                response.status
            );
            ensure!(
                response
                    .header("www-authenticate")
                    .is_some_and(|v| v.starts_with("Bearer")),
                "{:?}",
                response.headers
            );
        }
    }
    // Nothing happened: the room and both sessions are still there.
    let stats = server.stats();
    ensure!(stats.rooms == 1 && stats.sessions == 2, "{stats:?}");
    // The page itself holds no data and loads without the token.
    let page = http_get(addr, "/monitor").await?;
    ensure!(page.status == 200, "{}", page.status);
    ensure!(page.content_type.as_deref() == Some("text/html; charset=utf-8"));
    ensure!(page.body.contains("/admin/overview") && page.body.contains("Bearer"));
    drop((x, o));
    server.shutdown().await;
    Ok(())
}

#[tokio::test]
async fn rooms_sessions_and_queues_are_listed_and_a_room_is_inspected() -> Result<()> {
    let server = start(admin_config()).await;
    let addr = server.local_addr();
    let (mut x, mut o) = matched_pair(addr, (Codec::Bincode, Codec::MsgPack)).await?;
    let room = x.room.clone().context("room")?.room_id;
    x.send_move(4).await?;
    x.snapshot_where(|v| v.board[4] == 1).await?;
    o.snapshot_where(|v| v.board[4] == 1).await?;
    let mut waiting = Client::connect(addr, Codec::MsgPack).await?;
    waiting.find_match().await?;
    waiting
        .recv_until(|m| matches!(m, ServerMsg::Queued { .. }).then_some(()))
        .await?;

    let rooms = admin_until(addr, "/admin/rooms", |v| {
        v["rooms"][0]["ticks"].as_u64().unwrap_or(0) > 0
    })
    .await?;
    let rows = rooms["rooms"].as_array().context("rooms array")?;
    ensure!(rows.len() == 1, "{rooms}");
    let row = &rows[0];
    ensure!(row["room_id"] == room.get(), "{row}");
    ensure!(
        row["game"] == "tictactoe" && row["status"] == "Running",
        "{row}"
    );
    ensure!(row["players"] == 2 && row["seats"] == 2 && row["spectators"] == 0);
    ensure!(row["players_away"] == 0 && row["public"] == true && row["relay"] == false);
    ensure!(
        row["code"] == x.room.as_ref().context("room")?.code.as_str(),
        "{row}"
    );
    ensure!(row["age_s"].as_f64().is_some_and(|s| s >= 0.0), "{row}");
    let cost = &row["tick_us"];
    ensure!(cost["mean"].as_f64().is_some_and(|m| m > 0.0), "{row}");
    ensure!(cost["max"].as_f64() >= cost["mean"].as_f64(), "{row}");

    let detail = admin(addr, "GET", &format!("/admin/rooms/{room}"), "", 200).await?;
    ensure!(
        detail["room_id"] == room.get() && detail["game"] == "tictactoe",
        "{detail}"
    );
    ensure!(detail["tick"].as_u64().is_some_and(|t| t > 0), "{detail}");
    ensure!(detail["bots"] == serde_json::json!([]), "no bots: {detail}");
    let members = detail["members"].as_array().context("members")?;
    let sessions: Vec<(u64, u64)> = members
        .iter()
        .map(|m| {
            (
                m["session"].as_u64().unwrap_or(0),
                m["seat"].as_u64().unwrap_or(9),
            )
        })
        .collect();
    ensure!(
        sessions == [(x.session_id.get(), 0), (o.session_id.get(), 1)],
        "{sessions:?} for x {} o {}",
        x.session_id,
        o.session_id
    );
    ensure!(members.iter().all(|m| m["connected"] == true));
    ensure!(members[0]["input_seq"] == 1, "{detail}");
    // The state is the spectator's view, decoded: X in the centre, O to move.
    let board = detail["state"]["board"].as_array().context("board")?;
    ensure!(board.len() == 9 && board[4] == 1, "{detail}");
    ensure!(detail["state"]["to_move"] == 1, "{detail}");

    for missing in [
        "/admin/rooms/999999",
        "/admin/rooms/not-a-number",
        "/admin/nothing",
        // The prefix is stripped once: these are not `/admin/rooms` or `/admin/overview`.
        "/admin/adminrooms",
        "/admin/admin/overview",
    ] {
        let answer = admin(addr, "GET", missing, "", 404).await?;
        ensure!(answer["error"].is_string(), "{answer}");
    }

    let sessions = admin(addr, "GET", "/admin/sessions", "", 200).await?;
    let rows = sessions["sessions"].as_array().context("sessions")?;
    ensure!(rows.len() == 3, "{sessions}");
    let by_id = |id: SessionId| rows.iter().find(|r| r["session"] == id.get());
    let row_x = by_id(x.session_id).context("x listed")?;
    ensure!(row_x["room"] == room.get() && row_x["seat"] == 0 && row_x["connected"] == true);
    let row_w = by_id(waiting.session_id).context("waiting listed")?;
    ensure!(
        row_w["queued"] == "tictactoe" && row_w["room"].is_null(),
        "{row_w}"
    );

    let overview = admin_until(addr, "/admin/overview", |v| {
        v["shards"][0]["tick_us"]["count"].as_u64().unwrap_or(0) > 0
    })
    .await?;
    ensure!(
        overview["connections"] == 3 && overview["sessions"] == 3,
        "{overview}"
    );
    ensure!(
        overview["rooms"] == 1 && overview["queued"] == 1,
        "{overview}"
    );
    ensure!(overview["tick_hz"] == 60, "{overview}");
    let queues = overview["queues"].as_array().context("queues")?;
    ensure!(
        queues
            .iter()
            .any(|q| q["game"] == "tictactoe" && q["waiting"] == 1),
        "{overview}"
    );
    ensure!(
        queues
            .iter()
            .any(|q| q["game"] == "arena" && q["waiting"] == 0),
        "{overview}"
    );
    let shards = overview["shards"].as_array().context("shards")?;
    ensure!(shards.len() == 2, "{overview}");
    for shard in shards {
        let ticks = shard["tick_us"]["count"].as_u64().unwrap_or(0);
        let buckets = shard["tick_us_log2"].as_array().context("buckets")?;
        let counted: u64 = buckets.iter().map(|b| b[1].as_u64().unwrap_or(0)).sum();
        // Both readings come from one answer of the shard: the buckets hold every tick.
        ensure!(ticks == 0 || counted == ticks, "{shard}");
    }
    drop((x, o, waiting));
    server.shutdown().await;
    Ok(())
}

/// Receives until `Error` with `code`; returns its message.
async fn error_message(client: &mut Client, code: ErrorCode) -> Result<String> {
    client
        .recv_until(|m| match m {
            ServerMsg::Error {
                code: got, message, ..
            } if *got == code => Some(message.clone()),
            _ => None,
        })
        .await
}

#[tokio::test]
async fn closing_a_running_room_ends_the_game_for_players_and_spectators() -> Result<()> {
    let server = start(admin_config()).await;
    let addr = server.local_addr();
    let (mut x, mut o) = matched_pair(addr, (Codec::Bincode, Codec::MsgPack)).await?;
    let joined = x.room.clone().context("room")?;
    let mut watcher = Client::connect(addr, Codec::MsgPack).await?;
    watcher
        .send(&ClientMsg::JoinRoom {
            code: joined.code.clone(),
            spectate: true,
        })
        .await?;
    watcher.room_joined().await?;
    x.send_move(0).await?;
    o.snapshot_where(|v| v.board[0] == 1).await?;

    let closed = admin(
        addr,
        "POST",
        &format!("/admin/rooms/{}/close", joined.room_id),
        r#"{"reason": "server maintenance at 18:00"}"#,
        200,
    )
    .await?;
    ensure!(closed["closed"] == joined.room_id.get(), "{closed}");
    ensure!(
        closed["reason"] == "server maintenance at 18:00",
        "{closed}"
    );

    for client in [&mut x, &mut o, &mut watcher] {
        let (winner, reason) = client.game_over().await?;
        ensure!(winner.is_none() && reason == EndReason::Closed);
        let message = error_message(client, ErrorCode::RoomClosed).await?;
        ensure!(message == "server maintenance at 18:00", "{message:?}");
        let left = client
            .recv_until(|m| match m {
                ServerMsg::RoomLeft { room_id } => Some(*room_id),
                _ => None,
            })
            .await?;
        ensure!(left == joined.room_id);
    }
    wait_until(&server, |s| s.rooms == 0).await?;
    // The connections stay open and the players may play on elsewhere.
    x.find_match().await?;
    x.recv_until(|m| matches!(m, ServerMsg::Queued { .. }).then_some(()))
        .await?;
    // Gone now.
    let again = admin(
        addr,
        "POST",
        &format!("/admin/rooms/{}/close", joined.room_id),
        "",
        404,
    )
    .await?;
    ensure!(again["error"] == "no such room", "{again}");
    o.close().await?;
    watcher.close().await?;
    x.close().await?;
    wait_for_stats(&server, Stats::default()).await?;
    server.shutdown().await;
    Ok(())
}

#[tokio::test]
async fn closing_without_a_reason_gives_the_default_one() -> Result<()> {
    let server = start(admin_config()).await;
    let addr = server.local_addr();
    let (mut x, _o) = matched_pair(addr, (Codec::MsgPack, Codec::MsgPack)).await?;
    let room = x.room.clone().context("room")?.room_id;
    admin(addr, "POST", &format!("/admin/rooms/{room}/close"), "", 200).await?;
    let message = error_message(&mut x, ErrorCode::RoomClosed).await?;
    ensure!(message == "closed by the server's operator", "{message:?}");
    server.shutdown().await;
    Ok(())
}

#[tokio::test]
async fn bad_admin_requests_are_refused_and_change_nothing() -> Result<()> {
    let server = start(admin_config()).await;
    let addr = server.local_addr();
    let (x, _o) = matched_pair(addr, (Codec::MsgPack, Codec::Bincode)).await?;
    let room = x.room.clone().context("room")?.room_id;
    let close = format!("/admin/rooms/{room}/close");
    let answer = admin(addr, "POST", &close, "not json", 400).await?;
    ensure!(
        answer["error"]
            .as_str()
            .is_some_and(|e| e.contains("reason"))
    );
    let long = format!(r#"{{"reason": "{}"}}"#, "x".repeat(201));
    admin(addr, "POST", &close, &long, 400).await?;
    let huge = format!(r#"{{"reason": "{}"}}"#, "x".repeat(5000));
    admin(addr, "POST", &close, &huge, 413).await?;
    let answer = admin(addr, "GET", &close, "", 405).await?;
    ensure!(answer["error"].is_string());
    admin(addr, "POST", "/admin/rooms", "", 405).await?;
    admin(addr, "POST", "/admin/sessions/999999/kick", "", 404).await?;
    admin(addr, "POST", "/admin/sessions/x/kick", "", 404).await?;
    let stats = server.stats();
    ensure!(stats.rooms == 1 && stats.sessions == 2, "{stats:?}");
    server.shutdown().await;
    Ok(())
}

#[tokio::test]
async fn kicking_a_player_closes_its_connection_ends_its_session_and_forfeits() -> Result<()> {
    let server = start(admin_config()).await;
    let addr = server.local_addr();
    let (mut x, mut o) = matched_pair(addr, (Codec::Bincode, Codec::MsgPack)).await?;
    let token = x.token.clone();
    let kicked = admin(
        addr,
        "POST",
        &format!("/admin/sessions/{}/kick", x.session_id),
        r#"{"reason": "abusive chat"}"#,
        200,
    )
    .await?;
    ensure!(kicked["kicked"] == x.session_id.get(), "{kicked}");

    let message = error_message(&mut x, ErrorCode::Kicked).await?;
    ensure!(message == "abusive chat", "{message:?}");
    let code = x.closed().await?;
    ensure!(code == Some(close_code::KICKED), "closed with {code:?}");

    // The opponent sees the seat given up and wins by abandonment.
    o.event(|e| matches!(e, RoomEvent::PlayerLeft { seat: 0 }).then_some(()))
        .await?;
    let (winner, reason) = o.game_over().await?;
    ensure!(winner == Some(1) && reason == EndReason::Abandoned);

    // The token is void; the session is no longer listed.
    Client::resume_refused(addr, Codec::Bincode, &token).await?;
    let sessions = admin(addr, "GET", "/admin/sessions", "", 200).await?;
    let rows = sessions["sessions"].as_array().context("sessions")?;
    ensure!(
        rows.iter().all(|r| r["session"] != x.session_id.get()),
        "{sessions}"
    );
    o.close().await?;
    wait_for_stats(&server, Stats::default()).await?;
    server.shutdown().await;
    Ok(())
}

#[tokio::test]
async fn kicking_a_queued_session_takes_it_out_of_the_queue() -> Result<()> {
    let server = start(admin_config()).await;
    let addr = server.local_addr();
    let mut waiting = Client::connect(addr, Codec::MsgPack).await?;
    waiting.find_match().await?;
    waiting
        .recv_until(|m| matches!(m, ServerMsg::Queued { .. }).then_some(()))
        .await?;
    wait_until(&server, |s| s.queued == 1).await?;
    let path = format!("/admin/sessions/{}/kick", waiting.session_id);
    admin(addr, "POST", &path, "", 200).await?;
    let code = waiting.closed().await?;
    ensure!(code == Some(close_code::KICKED), "closed with {code:?}");
    wait_for_stats(&server, Stats::default()).await?;
    server.shutdown().await;
    Ok(())
}
