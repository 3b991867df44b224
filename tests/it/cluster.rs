//! The cluster (issue 12, first slice): real nodes on loopback joining a private
//! `redis-server`: registration with a TTL heartbeat, leaving, a silent node dropped,
//! seat tickets checked in `Hello` (forged, replayed, for another node, expired-seat), and
//! no key without a TTL afterwards.
//!
//! Each test starts its own Redis ([`RedisServer`]); without `redis-server` installed they
//! print `SKIPPED:` and pass, unless `TICKSYNC_REQUIRE_SERVICES=1`.

use anyhow::{Context, Result, ensure};
use ticksync::cluster::{Cluster, ClusterConfig, ClusterError, NODE_TTL, keys};
use ticksync::codec::Codec;
use ticksync::protocol::{
    ClientMsg, ErrorCode, PROTOCOL_VERSION, RoomId, ServerMsg, SessionId, close_code,
};
use ticksync::server::Server;
use tokio::net::TcpListener;
use tokio::time::Instant;

use crate::support::{Client, RedisServer, WAIT, test_config};

pub(crate) const SECRET: &[u8] = b"the cluster secret of the tests";

/// A node's cluster settings: this Redis, its id, a public URL on its own address.
fn cluster_config(redis: &RedisServer, node_id: &str, secret: &[u8]) -> ClusterConfig {
    let mut config =
        ClusterConfig::new(&redis.url(), "ws://127.0.0.1:1/", secret).expect("cluster config");
    config.node_id = node_id.to_string();
    config
}

/// Starts a node of the cluster on an ephemeral port (its public URL is its real address).
pub(crate) async fn start_node(redis: &RedisServer, node_id: &str) -> Result<Server> {
    start_node_with(redis, node_id, None).await
}

/// As [`start_node`], with a hook called for every game that finishes on the node.
async fn start_node_with(
    redis: &RedisServer,
    node_id: &str,
    on_game_finished: Option<ticksync::engine::FinishedHook>,
) -> Result<Server> {
    let config = ticksync::config::ServerConfig {
        on_game_finished,
        ..test_config()
    };
    start_node_config(redis, node_id, config).await
}

/// As [`start_node`], with `config` (its cluster settings are this test's).
pub(crate) async fn start_node_config(
    redis: &RedisServer,
    node_id: &str,
    config: ticksync::config::ServerConfig,
) -> Result<Server> {
    start_node_tweaked(redis, node_id, config, |_| {}).await
}

/// As [`start_node_config`], with `tweak` applied to the node's cluster settings.
pub(crate) async fn start_node_tweaked(
    redis: &RedisServer,
    node_id: &str,
    mut config: ticksync::config::ServerConfig,
    tweak: impl FnOnce(&mut ClusterConfig),
) -> Result<Server> {
    let listener = TcpListener::bind("127.0.0.1:0").await?;
    let mut cluster = cluster_config(redis, node_id, SECRET);
    cluster.public_url = format!("ws://{}/", listener.local_addr()?);
    tweak(&mut cluster);
    config.cluster = Some(cluster);
    Server::open(listener, config)
        .await
        .with_context(|| format!("node {node_id} starts"))
}

/// Polls Redis until `done` holds for the key list (with TTLs), within the wait limit.
pub(crate) async fn wait_for_keys(
    redis: &RedisServer,
    what: &str,
    done: impl Fn(&[(String, i64)]) -> bool,
) -> Result<Vec<(String, i64)>> {
    let deadline = Instant::now() + WAIT;
    loop {
        let keys = redis.keys_with_ttls().await?;
        if done(&keys) {
            return Ok(keys);
        }
        ensure!(Instant::now() < deadline, "{what}: keys stayed {keys:?}");
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
}

/// Waits until every node's heartbeat shows `connections` connections.
pub(crate) async fn wait_for_loads(node: &Server, nodes: usize, connections: usize) -> Result<()> {
    let deadline = Instant::now() + WAIT;
    loop {
        let live = node.cluster().context("in a cluster")?.live_nodes().await?;
        if live.len() == nodes && live.iter().all(|n| n.load.connections == connections) {
            return Ok(());
        }
        ensure!(Instant::now() < deadline, "loads stayed {live:?}");
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
}

/// Every key has a TTL (no key is left behind by a node, however it ends).
pub(crate) fn assert_every_key_expires(keys: &[(String, i64)]) {
    for (key, ttl) in keys {
        assert!(key.starts_with(keys::PREFIX), "a foreign key {key}");
        assert!(*ttl > 0, "{key} has no TTL ({ttl})");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn nodes_register_see_each_other_and_leave() -> Result<()> {
    let Some(redis) = RedisServer::start("cluster registration")? else {
        return Ok(());
    };
    let a = start_node(&redis, "node-a").await?;
    let b = start_node(&redis, "node-b").await?;
    let c = start_node(&redis, "node-c").await?;
    let nodes = a
        .cluster()
        .context("a is in the cluster")?
        .live_nodes()
        .await?;
    let mut ids: Vec<&str> = nodes.iter().map(|n| n.id.as_str()).collect();
    ids.sort_unstable();
    assert_eq!(ids, ["node-a", "node-b", "node-c"]);
    let b_info = nodes.iter().find(|n| n.id == "node-b").unwrap();
    assert_eq!(b_info.url, format!("ws://{}/", b.local_addr()));
    // Every key the nodes wrote has a TTL of at most the node TTL.
    let keys = redis.keys_with_ttls().await?;
    let names: Vec<&str> = keys.iter().map(|(k, _)| k.as_str()).collect();
    assert_eq!(
        names,
        [
            "ticksync:epoch",
            "ticksync:node:node-a",
            "ticksync:node:node-b",
            "ticksync:node:node-c",
            "ticksync:nodes"
        ]
    );
    assert_every_key_expires(&keys);
    assert!(
        keys.iter()
            .all(|(_, ttl)| *ttl <= NODE_TTL.as_millis() as i64)
    );
    // A node's load arrives with its heartbeats: one connection on b shows within a few.
    let _client = Client::connect(b.local_addr(), Codec::Bincode).await?;
    let deadline = Instant::now() + WAIT;
    loop {
        let nodes = a.cluster().unwrap().live_nodes().await?;
        let b_now = nodes.iter().find(|n| n.id == "node-b").unwrap();
        if b_now.load.connections == 1 {
            // Least loaded first: b, with its connection, comes last.
            assert_eq!(nodes.last().unwrap().id, "node-b");
            break;
        }
        ensure!(
            Instant::now() < deadline,
            "b's load stayed {:?}",
            b_now.load
        );
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    // A clean stop removes the node's key and index entry at once.
    b.shutdown().await;
    let keys = redis.keys_with_ttls().await?;
    assert!(
        !keys.iter().any(|(k, _)| k == "ticksync:node:node-b"),
        "{keys:?}"
    );
    let ids: Vec<String> = a
        .cluster()
        .unwrap()
        .live_nodes()
        .await?
        .into_iter()
        .map(|n| n.id)
        .collect();
    assert_eq!(ids.len(), 2, "{ids:?}");
    assert!(!ids.contains(&"node-b".to_string()));
    a.shutdown().await;
    c.shutdown().await;
    // The last node gone, nothing is left.
    let keys = redis.keys_with_ttls().await?;
    assert!(keys.is_empty(), "left behind: {keys:?}");
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_silent_node_is_dropped_within_the_node_ttl() -> Result<()> {
    let Some(redis) = RedisServer::start("cluster silent node")? else {
        return Ok(());
    };
    let live = start_node(&redis, "live").await?;
    // A node that registered once and then went silent (no heartbeat task: as if killed).
    let silent = Cluster::join(cluster_config(&redis, "silent", SECRET)).await?;
    let ids = |nodes: Vec<ticksync::cluster::NodeInfo>| -> Vec<String> {
        nodes.into_iter().map(|n| n.id).collect()
    };
    assert_eq!(ids(live.cluster().unwrap().live_nodes().await?).len(), 2);
    // Its id is taken while it is live.
    match Cluster::join(cluster_config(&redis, "silent", SECRET)).await {
        Err(ClusterError::NodeIdTaken(id)) => assert_eq!(id, "silent"),
        other => panic!("expected NodeIdTaken, got {other:?}"),
    }
    let started = Instant::now();
    wait_for_keys(&redis, "the silent node's key expires", |keys| {
        !keys.iter().any(|(k, _)| k == "ticksync:node:silent")
    })
    .await?;
    let took = started.elapsed();
    assert!(
        took <= NODE_TTL + std::time::Duration::from_secs(1),
        "{took:?}"
    );
    // Gone from the live list too (the index is cleaned by the live node's heartbeat).
    assert_eq!(ids(live.cluster().unwrap().live_nodes().await?), ["live"]);
    let mut redis_conn = redis.connection().await?;
    let deadline = Instant::now() + WAIT;
    loop {
        let members: Vec<String> = redis::cmd("ZRANGE")
            .arg(keys::NODES)
            .arg(0)
            .arg(-1)
            .query_async(&mut redis_conn)
            .await?;
        if members == ["live"] {
            break;
        }
        ensure!(Instant::now() < deadline, "index stayed {members:?}");
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    drop(silent);
    assert_every_key_expires(&redis.keys_with_ttls().await?);
    live.shutdown().await;
    Ok(())
}

/// Connects to `server` and sends a `Hello` with `ticket`.
pub(crate) async fn hello_with_ticket(server: &Server, ticket: &str) -> Result<Client> {
    hello_with_ticket_as(server, ticket, None).await
}

/// As [`hello_with_ticket`], with a signed-in player's token beside the ticket.
pub(crate) async fn hello_with_ticket_as(
    server: &Server,
    ticket: &str,
    auth_token: Option<String>,
) -> Result<Client> {
    let mut client = Client::connect_raw(server.local_addr(), Codec::MsgPack).await?;
    client
        .send(&ClientMsg::Hello {
            version: PROTOCOL_VERSION,
            resume_token: None,
            last_event_seq: 0,
            auth_token,
            ticket: Some(ticket.to_string()),
        })
        .await?;
    Ok(client)
}

/// A ticket refused in `Hello`: an `Error` with `code` first, then close 4050.
async fn refused_ticket(server: &Server, ticket: &str, code: ErrorCode) -> Result<()> {
    let mut client = hello_with_ticket(server, ticket).await?;
    match client.recv().await? {
        ServerMsg::Error { code: got, .. } => {
            ensure!(got == code, "expected {code:?}, got {got:?}")
        }
        other => anyhow::bail!("expected Error {code:?}, got {other:?}"),
    }
    assert_eq!(client.closed().await?, Some(close_code::TICKET_REFUSED));
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn seat_tickets_are_checked_in_hello() -> Result<()> {
    let Some(redis) = RedisServer::start("cluster seat tickets")? else {
        return Ok(());
    };
    let a = start_node(&redis, "node-a").await?;
    let b = start_node(&redis, "node-b").await?;
    let issuer = a.cluster().unwrap();
    let ticket = issuer.issue_ticket("node-b", RoomId::new(7), 1, "guest:node-a:1");

    // A good ticket: Welcome, then (no reservations in this slice) ReservationExpired, and
    // the session carries on.
    let mut client = hello_with_ticket(&b, &ticket).await?;
    assert!(matches!(client.recv().await?, ServerMsg::Welcome { .. }));
    assert_eq!(client.error().await?.0, ErrorCode::ReservationExpired);
    client.ping(9).await?;

    // Replayed, on the same node or another: used.
    refused_ticket(&b, &ticket, ErrorCode::TicketUsed).await?;
    // For node-b, shown to node-a (before node-a would claim it).
    let fresh = issuer.issue_ticket("node-b", RoomId::new(7), 0, "guest:node-a:2");
    refused_ticket(&a, &fresh, ErrorCode::TicketWrongNode).await?;
    // Forged: signed with another secret, or altered.
    let mut forger_config = cluster_config(&redis, "forger", b"not the cluster secret at all");
    forger_config.public_url = "ws://127.0.0.1:1/".into();
    let forger = Cluster::join(forger_config).await?;
    let forged = forger.issue_ticket("node-b", RoomId::new(7), 0, "guest:evil:1");
    refused_ticket(&b, &forged, ErrorCode::TicketInvalid).await?;
    let mut altered = fresh.clone().into_bytes();
    let last = altered.len() - 1;
    altered[last] = if altered[last] == b'A' { b'B' } else { b'A' };
    refused_ticket(&b, &String::from_utf8(altered)?, ErrorCode::TicketInvalid).await?;
    refused_ticket(&b, "not a ticket", ErrorCode::TicketInvalid).await?;
    refused_ticket(&b, &"x".repeat(5000), ErrorCode::TicketInvalid).await?;
    // The fresh ticket was never used by the refusals above: it still works once.
    let mut client = hello_with_ticket(&b, &fresh).await?;
    assert!(matches!(client.recv().await?, ServerMsg::Welcome { .. }));
    assert_eq!(client.error().await?.0, ErrorCode::ReservationExpired);

    // A server in no cluster refuses every ticket.
    let single = crate::support::start(test_config()).await;
    let other = issuer.issue_ticket("node-b", RoomId::new(7), 0, "guest:node-a:3");
    refused_ticket(&single, &other, ErrorCode::ClusterUnavailable).await?;
    single.shutdown().await;

    // Used tickets' keys expire; nothing is kept without a TTL.
    let keys = redis.keys_with_ttls().await?;
    assert_eq!(
        keys.iter()
            .filter(|(k, _)| k.starts_with("ticksync:ticket:"))
            .count(),
        2,
        "{keys:?}"
    );
    assert_every_key_expires(&keys);
    drop(forger);
    a.shutdown().await;
    b.shutdown().await;
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_node_that_cannot_reach_redis_does_not_start() -> Result<()> {
    // A port nothing listens on: bound, then released.
    let port = std::net::TcpListener::bind("127.0.0.1:0")?
        .local_addr()?
        .port();
    let listener = TcpListener::bind("127.0.0.1:0").await?;
    let cluster = ClusterConfig::new(
        &format!("redis://127.0.0.1:{port}"),
        "ws://127.0.0.1:1/",
        SECRET,
    )
    .map_err(anyhow::Error::msg)?;
    let config = ticksync::config::ServerConfig {
        cluster: Some(cluster),
        ..test_config()
    };
    let started = Instant::now();
    let refused = Server::open(listener, config).await;
    assert!(
        matches!(refused, Err(ticksync::server::ServerError::Cluster(_))),
        "{refused:?}"
    );
    assert!(started.elapsed() < WAIT);
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_global_queue_gives_each_player_to_one_group() -> Result<()> {
    use ticksync::cluster::queue::queue_key;
    use ticksync::engine::GameEntry;
    use ticksync::game::tictactoe::TicTacToe;
    let Some(redis) = RedisServer::start("cluster global queue")? else {
        return Ok(());
    };
    let a = start_node(&redis, "node-a").await?;
    let b = start_node(&redis, "node-b").await?;
    let (qa, qb) = (a.cluster().unwrap(), b.cluster().unwrap());
    let ttt = GameEntry::of::<TicTacToe>();
    let config = ticksync::lobby::MatchConfig::default();
    qa.enqueue("tictactoe", &[], SessionId::new(1), 1500)
        .await?;
    qb.enqueue("tictactoe", &[], SessionId::new(2), 1520)
        .await?;
    // Other options are another queue.
    qb.enqueue("tictactoe", &[7], SessionId::new(3), 1500)
        .await?;
    let seen = qb.queue_entries("tictactoe", &[]).await?;
    let mut who: Vec<(String, u64)> = seen
        .iter()
        .map(|e| (e.node.clone(), e.session.get()))
        .collect();
    who.sort();
    assert_eq!(who, [("node-a".into(), 1), ("node-b".into(), 2)]);
    // Both nodes decide on the same queue at once: the pair is won exactly once.
    let (won_a, won_b) = tokio::join!(
        qa.take_groups(&config, ttt, &[]),
        qb.take_groups(&config, ttt, &[])
    );
    let groups: Vec<_> = won_a?.into_iter().chain(won_b?).collect();
    assert_eq!(groups.len(), 1, "{groups:?}");
    assert_eq!(groups[0].players.len(), 2);
    assert!(qa.queue_entries("tictactoe", &[]).await?.is_empty());
    // A claim of players already taken takes nothing.
    assert!(!qa.claim("tictactoe", &[], &groups[0].players).await?);
    // Leaving the queue.
    assert!(qb.dequeue("tictactoe", &[7], SessionId::new(3)).await?);
    assert!(!qb.dequeue("tictactoe", &[7], SessionId::new(3)).await?);

    // A dead node's players leave the queue: a node that registered once and went silent.
    let ghost = Cluster::join(cluster_config(&redis, "ghost", SECRET)).await?;
    ghost
        .enqueue("tictactoe", &[], SessionId::new(9), 1500)
        .await?;
    qa.enqueue("tictactoe", &[], SessionId::new(1), 1500)
        .await?;
    assert_eq!(qa.queue_entries("tictactoe", &[]).await?.len(), 2);
    let deadline = Instant::now() + WAIT;
    loop {
        let entries = qa.queue_entries("tictactoe", &[]).await?;
        if entries.len() == 1 {
            assert_eq!(entries[0].node, "node-a");
            break;
        }
        ensure!(
            Instant::now() < deadline,
            "the ghost's entry stayed: {entries:?}"
        );
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    drop(ghost);
    let keys = redis.keys_with_ttls().await?;
    assert!(keys.iter().any(|(k, _)| *k == queue_key("tictactoe", &[])));
    assert_every_key_expires(&keys);
    a.shutdown().await;
    b.shutdown().await;
    Ok(())
}

/// A bot on `server` that plays one quick-match game, connected (its session open).
pub(crate) async fn connected_bot(
    server: &Server,
    seed: u64,
) -> Result<(ticksync::client::Bot, ticksync::client::Recorder)> {
    use ticksync::client::{Bot, BotConfig, Recorder};
    let recorder = Recorder::default();
    let config = BotConfig {
        games: Some(1),
        seed: Some(seed),
        timeout: WAIT,
        ..BotConfig::new(format!("ws://{}/", server.local_addr()))
    };
    let mut bot = Bot::new(
        config,
        recorder.clone(),
        tokio_util::sync::CancellationToken::new(),
    );
    bot.connect().await?;
    Ok((bot, recorder))
}

/// Counts the games that finish on a node.
fn finished_counter() -> (
    std::sync::Arc<std::sync::atomic::AtomicUsize>,
    ticksync::engine::FinishedHook,
) {
    let count = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let seen = count.clone();
    let hook = ticksync::engine::FinishedHook::new(move |_| {
        seen.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
    });
    (count, hook)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_bots_on_different_nodes_are_matched_and_play_on_a_third() -> Result<()> {
    use std::sync::atomic::Ordering;
    let Some(redis) = RedisServer::start("cluster quick match")? else {
        return Ok(());
    };
    let (on_a, hook_a) = finished_counter();
    let (on_b, hook_b) = finished_counter();
    let (on_c, hook_c) = finished_counter();
    let a = start_node_with(&redis, "node-a", Some(hook_a)).await?;
    let b = start_node_with(&redis, "node-b", Some(hook_b)).await?;
    let c = start_node_with(&redis, "node-c", Some(hook_c)).await?;
    let (bot_one, one) = connected_bot(&a, 1).await?;
    let (bot_two, two) = connected_bot(&b, 2).await?;
    // a and b busier than c by more than the placement's slack (8 connections): ten
    // connections each, the bot and nine idle clients.
    let slack = ticksync::cluster::placement::slack(0);
    let mut idle = Vec::new();
    for node in [&a, &b] {
        for _ in 0..slack + 1 {
            idle.push(Client::connect(node.local_addr(), Codec::MsgPack).await?);
        }
    }
    let busy = slack + 2;
    // Wait until the heartbeats show it: a node holding a player would host the match if
    // it were within the slack of the least loaded; c is then the host, and both bots must
    // be redirected there.
    let deadline = Instant::now() + WAIT;
    loop {
        let nodes = a.cluster().unwrap().live_nodes().await?;
        let order: Vec<(&str, usize)> = nodes
            .iter()
            .map(|n| (n.id.as_str(), n.load.connections))
            .collect();
        if order == [("node-c", 0), ("node-a", busy), ("node-b", busy)] {
            break;
        }
        ensure!(Instant::now() < deadline, "loads stayed {order:?}");
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    let (played_one, played_two) = tokio::join!(bot_one.run(), bot_two.run());
    assert_eq!((played_one?, played_two?), (1, 1));
    let (one, two) = (one.tally(), two.tally());
    for tally in [&one, &two] {
        assert_eq!(tally.games, 1, "{tally:?}");
        assert_eq!(tally.errors, 0, "{:?}", tally.error_samples);
        assert_eq!(tally.illegal_outcomes, 0);
    }
    // One game, on c, seen from both seats: one won and the other lost, or both drew.
    assert_eq!(
        (
            on_a.load(Ordering::SeqCst),
            on_b.load(Ordering::SeqCst),
            on_c.load(Ordering::SeqCst)
        ),
        (0, 0, 1)
    );
    assert_eq!(one.wins, two.losses);
    assert_eq!(one.draws, two.draws);
    drop(idle);
    // Every counter returns to zero on every node, and no queue entry is left behind.
    for node in [&a, &b, &c] {
        crate::support::wait_for_stats(node, ticksync::server::Stats::default()).await?;
    }
    let keys = redis.keys_with_ttls().await?;
    assert!(
        !keys.iter().any(|(k, _)| k.starts_with("ticksync:queue:")),
        "{keys:?}"
    );
    assert_every_key_expires(&keys);
    a.shutdown().await;
    b.shutdown().await;
    c.shutdown().await;
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn battleship_bots_on_two_nodes_follow_the_redirect_and_play() -> Result<()> {
    use ticksync::client::{BattleshipBotConfig, play_battleship};
    use ticksync::game::battleship::{BattleshipOptions, Fleet};
    let Some(redis) = RedisServer::start("cluster battleship")? else {
        return Ok(());
    };
    let a = start_node(&redis, "node-a").await?;
    let b = start_node(&redis, "node-b").await?;
    let options = BattleshipOptions {
        size: Some(6),
        fleet: Some(Fleet::Quick),
        ..BattleshipOptions::default()
    };
    let one = BattleshipBotConfig {
        seed: Some(1),
        options,
        timeout: WAIT,
        ..BattleshipBotConfig::new(format!("ws://{}/", a.local_addr()))
    };
    let two = BattleshipBotConfig {
        codec: Codec::MsgPack,
        seed: Some(2),
        options,
        timeout: WAIT,
        ..BattleshipBotConfig::new(format!("ws://{}/", b.local_addr()))
    };
    let (x, y) = tokio::join!(play_battleship(&one), play_battleship(&two));
    let (x, y) = (x?, y?);
    assert_eq!((x.len(), y.len()), (1, 1));
    // The same game from both seats, whichever node hosted it.
    assert_eq!(x[0].room_id, y[0].room_id);
    assert_ne!(x[0].seat, y[0].seat);
    for node in [&a, &b] {
        crate::support::wait_for_stats(node, ticksync::server::Stats::default()).await?;
    }
    a.shutdown().await;
    b.shutdown().await;
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_redis_find_match_is_refused_and_running_games_go_on() -> Result<()> {
    let Some(redis) = RedisServer::start("cluster redis down")? else {
        return Ok(());
    };
    let a = start_node(&redis, "node-a").await?;
    let mut x = Client::connect(a.local_addr(), Codec::Bincode).await?;
    let mut o = Client::connect(a.local_addr(), Codec::MsgPack).await?;
    x.find_match().await?;
    o.find_match().await?;
    let (jx, _) = (x.match_found().await?, o.match_found().await?);
    // Redis goes away mid-game.
    drop(redis);
    // A new FindMatch is refused with a clear error...
    let mut late = Client::connect(a.local_addr(), Codec::Bincode).await?;
    late.find_match().await?;
    assert_eq!(late.error().await?.0, ErrorCode::ClusterUnavailable);
    // ...and the session is not left queued: it may ask again.
    crate::support::wait_until(&a, |s| s.queued == 0).await?;
    // The running game goes on to its end.
    let (first, second) = if jx.seat == Some(0) {
        (&mut x, &mut o)
    } else {
        (&mut o, &mut x)
    };
    crate::support::play(first, second, &[0, 3, 1, 4, 2]).await?;
    let (winner, _) = first.game_over().await?;
    assert_eq!(winner, Some(0));
    a.shutdown().await;
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn nodes_recover_when_redis_comes_back_empty() -> Result<()> {
    let Some(mut redis) = RedisServer::start("cluster redis restart")? else {
        return Ok(());
    };
    let a = start_node(&redis, "node-a").await?;
    let b = start_node(&redis, "node-b").await?;
    redis.restart()?;
    // The heartbeats register both nodes again in the new, empty Redis.
    wait_for_keys(&redis, "nodes registered again", |keys| {
        keys.iter().any(|(k, _)| k == "ticksync:node:node-a")
            && keys.iter().any(|(k, _)| k == "ticksync:node:node-b")
    })
    .await?;
    // Quick match across the two nodes works again (the inboxes reconnect too).
    let mut x = Client::connect(a.local_addr(), Codec::Bincode).await?;
    let mut o = Client::connect(b.local_addr(), Codec::Bincode).await?;
    x.find_match().await?;
    o.find_match().await?;
    // Whichever node hosts, one of the two is redirected there and takes its seat.
    let a_url = format!("ws://{}/", a.local_addr());
    let mut redirected = 0;
    for client in [&mut x, &mut o] {
        let found = client
            .recv_until(|m| match m {
                ServerMsg::MatchFound(_) => Some(None),
                ServerMsg::Redirect { url, ticket } => Some(Some((url.clone(), ticket.clone()))),
                _ => None,
            })
            .await?;
        if let Some((url, ticket)) = found {
            let host = if url == a_url { &a } else { &b };
            let mut there = hello_with_ticket(host, &ticket).await?;
            assert!(matches!(
                there.recv().await?,
                ServerMsg::Welcome { resumed: true, .. }
            ));
            let joined = there.room_joined().await?;
            assert!(joined.seat.is_some());
            redirected += 1;
        }
    }
    // The host's own player was seated directly; only the other one moved.
    assert_eq!(redirected, 1);
    a.shutdown().await;
    b.shutdown().await;
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_retired_node_stays_out_while_it_drains() -> Result<()> {
    let Some(redis) = RedisServer::start("cluster retire")? else {
        return Ok(());
    };
    let a = start_node(&redis, "node-a").await?;
    let b = start_node(&redis, "node-b").await?;
    a.cluster().unwrap().retire().await?;
    // For three heartbeat periods (its heartbeat task still runs), b never sees a again.
    let until = Instant::now() + ticksync::cluster::HEARTBEAT * 3;
    while Instant::now() < until {
        let ids: Vec<String> = b
            .cluster()
            .unwrap()
            .live_nodes()
            .await?
            .into_iter()
            .map(|n| n.id)
            .collect();
        assert_eq!(ids, ["node-b"]);
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    }
    a.shutdown().await;
    b.shutdown().await;
    assert!(redis.keys_with_ttls().await?.is_empty());
    Ok(())
}
