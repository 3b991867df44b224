//! The room directory, private codes and spectating across a cluster (issue 12, item 3):
//! real nodes on loopback and a private `redis-server`. A room made on one node is listed
//! by every node (with its node, paged by room id across nodes), a private code made on
//! one node is joined from another through `Redirect` and a join ticket, a third node's
//! client watches the game the same way (a private room's, and a quick-match room's found
//! in another node's listing), a closed room leaves every listing and Redis, and room ids
//! stay unique across nodes even after Redis lost its data.
//!
//! Without `redis-server` installed the tests print `SKIPPED:` and pass, unless
//! `TICKSYNC_REQUIRE_SERVICES=1`.

use anyhow::{Context, Result, bail, ensure};
use ticksync::cluster::keys;
use ticksync::codec::Codec;
use ticksync::protocol::{
    ClientMsg, EndReason, ErrorCode, RoomEvent, RoomSettings, RoomStatus, RoomSummary, ServerMsg,
    close_code,
};
use ticksync::server::Server;
use tokio::time::Instant;

use crate::cluster::{assert_every_key_expires, hello_with_ticket, start_node, wait_for_keys};
use crate::support::{Client, RedisServer, TICTACTOE, WAIT, http_get, play, wait_for_stats};

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

/// `GET /rooms` on `server`, every page of `limit` rooms, following `next`.
async fn http_rooms(server: &Server, limit: usize) -> Result<Vec<serde_json::Value>> {
    let mut rooms = Vec::new();
    let mut path = format!("/rooms?limit={limit}");
    loop {
        let response = http_get(server.local_addr(), &path).await?;
        ensure!(response.status == 200, "{path}: {}", response.status);
        let page: serde_json::Value = serde_json::from_str(&response.body)?;
        let rows = page["rooms"].as_array().context("rooms")?;
        ensure!(rows.len() <= limit, "{path}: {} rooms", rows.len());
        rooms.extend(rows.iter().cloned());
        match page["next"].as_u64() {
            Some(next) => path = format!("/rooms?after={next}&limit={limit}"),
            None => return Ok(rooms),
        }
    }
}

/// Waits until `server`'s `GET /rooms` (paged by `limit`) satisfies `done`.
async fn wait_for_listing(
    server: &Server,
    limit: usize,
    what: &str,
    done: impl Fn(&[serde_json::Value]) -> bool,
) -> Result<Vec<serde_json::Value>> {
    let deadline = Instant::now() + WAIT;
    loop {
        let rooms = http_rooms(server, limit).await?;
        if done(&rooms) {
            return Ok(rooms);
        }
        ensure!(Instant::now() < deadline, "{what}: listed {rooms:?}");
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
}

/// The `Redirect` answering a `JoinRoom` for another node's room.
async fn redirected(client: &mut Client, msg: &ClientMsg) -> Result<(String, String)> {
    client.send(msg).await?;
    client
        .recv_until(|m| match m {
            ServerMsg::Redirect { url, ticket } => Some((url.clone(), ticket.clone())),
            ServerMsg::Error { code, .. } => Some((format!("error {code:?}"), String::new())),
            _ => None,
        })
        .await
}

/// Follows a redirect to `server` with `ticket`: a new session there, then `RoomJoined`.
async fn follow(server: &Server, ticket: &str) -> Result<Client> {
    let mut client = hello_with_ticket(server, ticket).await?;
    match client.recv().await? {
        ServerMsg::Welcome { resumed: false, .. } => Ok(client),
        other => bail!("expected Welcome for a new session, got {other:?}"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_node_lists_every_room_with_its_node_and_forgets_closed_ones() -> Result<()> {
    let Some(redis) = RedisServer::start("cluster directory listing")? else {
        return Ok(());
    };
    let a = start_node(&redis, "node-a").await?;
    let b = start_node(&redis, "node-b").await?;
    let c = start_node(&redis, "node-c").await?;
    // Two rooms on a, one on b.
    let mut on_a = Vec::new();
    for _ in 0..2 {
        let mut client = Client::connect(a.local_addr(), Codec::MsgPack).await?;
        client.send(&create_room(false)).await?;
        let joined = client.room_joined().await?;
        on_a.push((client, joined));
    }
    let mut on_b = Client::connect(b.local_addr(), Codec::Bincode).await?;
    on_b.send(&create_room(true)).await?;
    let joined_b = on_b.room_joined().await?;
    let mut ids: Vec<u64> = on_a.iter().map(|(_, j)| j.room_id.get()).collect();
    ids.push(joined_b.room_id.get());
    let mut sorted = ids.clone();
    sorted.sort_unstable();
    sorted.dedup();
    assert_eq!(sorted.len(), 3, "room ids repeat across nodes: {ids:?}");

    // c (no rooms of its own) lists all three, each with its node, paged one at a time
    // in room id order across the nodes.
    for server in [&a, &b, &c] {
        let rooms = wait_for_listing(server, 1, "three rooms", |rooms| rooms.len() == 3).await?;
        let listed: Vec<(u64, &str)> = rooms
            .iter()
            .map(|r| (r["room_id"].as_u64().unwrap(), r["node"].as_str().unwrap()))
            .collect();
        let mut expected = vec![(ids[0], "node-a"), (ids[1], "node-a"), (ids[2], "node-b")];
        expected.sort_unstable();
        assert_eq!(listed, expected);
        // Private rooms: no code, anywhere.
        assert!(
            rooms
                .iter()
                .all(|r| r["code"].is_null() && r["public"] == false)
        );
    }
    // The wire's directory says the same, with the node.
    let mut reader = Client::connect(c.local_addr(), Codec::Bincode).await?;
    let row: RoomSummary = reader
        .listed_room(joined_b.room_id, |r| r.status == RoomStatus::Waiting)
        .await?;
    assert_eq!(row.node.as_deref(), Some("node-b"));
    let after = reader.list_rooms().await?;
    assert_eq!(after.len(), 3);
    reader
        .send(&ClientMsg::ListRoomsAfter {
            after: after[0].room_id,
            limit: 1,
        })
        .await?;
    let page = reader
        .recv_until(|m| match m {
            ServerMsg::RoomList { rooms } => Some(rooms.clone()),
            _ => None,
        })
        .await?;
    assert_eq!(page, vec![after[1].clone()]);

    // The rooms and their codes are in Redis, each with a TTL.
    let keys = redis.keys_with_ttls().await?;
    let codes = keys
        .iter()
        .filter(|(k, _)| k.starts_with("ticksync:code:"))
        .count();
    assert_eq!(codes, 3, "{keys:?}");
    assert!(keys.iter().any(|(k, _)| *k == keys::rooms("node-a")));
    assert_every_key_expires(&keys);

    // A room closed on a (its only player left) leaves every listing and Redis.
    let (mut leaver, gone) = on_a.remove(0);
    leaver.send(&ClientMsg::LeaveRoom).await?;
    let gone_id = gone.room_id.get();
    for server in [&a, &b, &c] {
        wait_for_listing(server, 100, "the closed room gone", |rooms| {
            rooms.len() == 2 && rooms.iter().all(|r| r["room_id"] != gone_id)
        })
        .await?;
    }
    let gone_code = keys::code(&gone.code);
    wait_for_keys(&redis, "the closed room's code released", |keys| {
        !keys.iter().any(|(k, _)| *k == gone_code)
    })
    .await?;

    // A node that stops takes its rooms out of every listing at once.
    drop(on_a);
    a.shutdown().await;
    for server in [&b, &c] {
        wait_for_listing(server, 100, "a's rooms gone", |rooms| {
            rooms.len() == 1 && rooms[0]["node"] == "node-b"
        })
        .await?;
    }
    // A goodbye (close 1000) ends the seated player's session at once.
    on_b.close().await?;
    reader.close().await?;
    for node in [&b, &c] {
        wait_for_stats(node, ticksync::server::Stats::default()).await?;
    }
    b.shutdown().await;
    c.shutdown().await;
    // Nothing of the rooms is left: no rooms hash, no code.
    let keys = redis.keys_with_ttls().await?;
    assert!(
        !keys
            .iter()
            .any(|(k, _)| k.starts_with("ticksync:rooms:") || k.starts_with("ticksync:code:")),
        "{keys:?}"
    );
    assert_every_key_expires(&keys);
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_private_code_is_joined_and_watched_from_other_nodes() -> Result<()> {
    let Some(redis) = RedisServer::start("cluster private codes")? else {
        return Ok(());
    };
    let a = start_node(&redis, "node-a").await?;
    let b = start_node(&redis, "node-b").await?;
    let c = start_node(&redis, "node-c").await?;
    let mut x = Client::connect(a.local_addr(), Codec::MsgPack).await?;
    x.send(&create_room(true)).await?;
    let created = x.room_joined().await?;
    assert_eq!(created.seat, Some(0));
    // The code is claimed in Redis for node-a before the room exists.
    let code_key = keys::code(&created.code);
    let mut redis_conn = redis.connection().await?;
    let owner: Option<String> = redis::cmd("GET")
        .arg(&code_key)
        .query_async(&mut redis_conn)
        .await?;
    assert_eq!(owner.as_deref(), Some("node-a"));

    // A code that names no room anywhere is still unknown on b.
    let mut o_home = Client::connect(b.local_addr(), Codec::Bincode).await?;
    o_home
        .refused(&join("ZZZZZZZZ", false), ErrorCode::UnknownRoomCode)
        .await?;
    // The code, typed on b (in lower case): a redirect to a with a join ticket.
    let (url, ticket) = redirected(&mut o_home, &join(&created.code.to_lowercase(), false)).await?;
    assert_eq!(url, format!("ws://{}/", a.local_addr()));
    let mut o = follow(&a, &ticket).await?;
    let joined = o.room_joined().await?;
    assert_eq!((joined.room_id, joined.seat), (created.room_id, Some(1)));
    // The ticket is single use.
    let mut replay = hello_with_ticket(&a, &ticket).await?;
    match replay.recv().await? {
        ServerMsg::Error {
            code: ErrorCode::TicketUsed,
            ..
        } => {}
        other => bail!("a replayed join ticket: {other:?}"),
    }
    assert_eq!(replay.closed().await?, Some(close_code::TICKET_REFUSED));

    // A spectator from c, the same way.
    let mut s_home = Client::connect(c.local_addr(), Codec::MsgPack).await?;
    let (url, ticket) = redirected(&mut s_home, &join(&created.code, true)).await?;
    assert_eq!(url, format!("ws://{}/", a.local_addr()));
    let mut s = follow(&a, &ticket).await?;
    let watching = s.room_joined().await?;
    assert_eq!((watching.room_id, watching.seat), (created.room_id, None));

    // They play to the end: x wins on the top row, and the spectator sees it.
    x.event(|e| matches!(e, RoomEvent::GameStarted).then_some(()))
        .await?;
    play(&mut x, &mut o, &[0, 3, 1, 4, 2]).await?;
    for client in [&mut x, &mut o, &mut s] {
        assert_eq!(client.game_over().await?, (Some(0), EndReason::Win));
    }
    // A full room's code from b: redirected, then refused there as `RoomFull` would be
    // on one node (or unknown, once the finished room has closed).
    let mut late_home = Client::connect(b.local_addr(), Codec::Bincode).await?;
    let (url, ticket) = redirected(&mut late_home, &join(&created.code, false)).await?;
    if url.starts_with("ws://") {
        let mut late = follow(&a, &ticket).await?;
        let (code, _) = late.error().await?;
        ensure!(
            matches!(code, ErrorCode::RoomFull | ErrorCode::UnknownRoomCode),
            "a late join: {code:?}"
        );
        drop(late);
    } else {
        ensure!(url == "error UnknownRoomCode", "a late join: {url}");
    }

    // The finished room closes: its code goes from Redis, every node forgets it.
    drop((x, o, s));
    wait_for_keys(&redis, "the finished room's code released", |keys| {
        !keys.iter().any(|(k, _)| *k == code_key)
    })
    .await?;
    for server in [&a, &b, &c] {
        wait_for_listing(server, 100, "no rooms", <[_]>::is_empty).await?;
    }
    drop((o_home, s_home, late_home, replay));
    for node in [&a, &b, &c] {
        wait_for_stats(node, ticksync::server::Stats::default()).await?;
    }
    assert_every_key_expires(&redis.keys_with_ttls().await?);
    a.shutdown().await;
    b.shutdown().await;
    c.shutdown().await;
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn room_ids_stay_unique_when_redis_loses_its_data() -> Result<()> {
    let Some(mut redis) = RedisServer::start("cluster room id epochs")? else {
        return Ok(());
    };
    let a = start_node(&redis, "node-a").await?;
    let a_base = a.cluster().context("a is in the cluster")?.room_id_base();
    assert!(a_base > 0);
    // Redis restarts empty: the epoch counter is gone until a's publisher writes its own
    // epoch back, so a node joining then numbers its rooms above a's.
    redis.restart()?;
    wait_for_keys(&redis, "the epoch written back", |keys| {
        keys.iter().any(|(k, _)| k == keys::EPOCH)
    })
    .await?;
    let b = start_node(&redis, "node-b").await?;
    let b_base = b.cluster().context("b is in the cluster")?.room_id_base();
    assert!(
        b_base > a_base,
        "b's rooms from {b_base}, a's from {a_base}"
    );
    a.shutdown().await;
    b.shutdown().await;
    let keys = redis.keys_with_ttls().await?;
    assert!(keys.is_empty(), "left behind: {keys:?}");
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_quick_match_room_listed_on_another_node_is_watched_from_there() -> Result<()> {
    let Some(redis) = RedisServer::start("cluster public rooms")? else {
        return Ok(());
    };
    // a alone while the match forms: the room is placed there.
    let a = start_node(&redis, "node-a").await?;
    let (mut x, mut o) =
        crate::support::matched_pair(a.local_addr(), (Codec::MsgPack, Codec::Bincode)).await?;
    let b = start_node(&redis, "node-b").await?;
    // b lists the room with its node and its code (its code claimed when first published).
    let rooms = wait_for_listing(&b, 100, "the match on a", |rooms| {
        rooms.len() == 1 && rooms[0]["status"] == "Running"
    })
    .await?;
    assert_eq!(rooms[0]["node"], "node-a");
    assert_eq!(rooms[0]["public"], true);
    let code = rooms[0]["code"]
        .as_str()
        .context("a public room's code")?
        .to_string();
    wait_for_keys(&redis, "the public room's code claimed", |keys| {
        keys.iter().any(|(k, _)| *k == keys::code(&code))
    })
    .await?;
    // Watched from b: redirected to a, where the spectator sees the game to its end.
    let mut home = Client::connect(b.local_addr(), Codec::MsgPack).await?;
    let (url, ticket) = redirected(&mut home, &join(&code, true)).await?;
    assert_eq!(url, format!("ws://{}/", a.local_addr()));
    let mut s = follow(&a, &ticket).await?;
    assert_eq!(s.room_joined().await?.seat, None);
    // Seeing the room's state arrive before the moves, the spectator then sees them all.
    s.snapshot_where(|_| true).await?;
    play(&mut x, &mut o, &[0, 3, 1, 4, 2]).await?;
    assert_eq!(s.game_over().await?, (Some(0), EndReason::Win));
    drop((x, o, s, home));
    for server in [&a, &b] {
        wait_for_listing(server, 100, "no rooms", <[_]>::is_empty).await?;
        wait_for_stats(server, ticksync::server::Stats::default()).await?;
    }
    a.shutdown().await;
    b.shutdown().await;
    // What stays is short-lived and no part of the directory: the used ticket's nonce and
    // the emptied queue, each with its TTL.
    let keys = redis.keys_with_ttls().await?;
    assert!(
        keys.iter().all(|(k, _)| k.starts_with("ticksync:ticket:")
            || k.starts_with(ticksync::cluster::keys::QUEUE_PREFIX)),
        "{keys:?}"
    );
    assert_every_key_expires(&keys);
    Ok(())
}
