//! Sessions across nodes (issue 12 items 4 and 5): a resume token shown to the wrong node
//! is redirected to the session's node and resumes there with nothing missed; a token whose
//! node was killed (a real process, SIGKILL) gets a new session and `NodeLost`, and the
//! surviving node carries on. Homes (`ticksync:session:*`) leave nothing behind.
//!
//! Each test starts its own Redis ([`RedisServer`]); without `redis-server` installed they
//! print `SKIPPED:` and pass, unless `TICKSYNC_REQUIRE_SERVICES=1`.

use std::io::{BufRead, BufReader};
use std::os::unix::ffi::OsStrExt;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use anyhow::{Context, Result, bail, ensure};
use ticksync::client::{ClientError, Connection, Resume};
use ticksync::cluster::keys;
use ticksync::cluster::resume::{HOME_MARGIN, token_sha};
use ticksync::codec::Codec;
use ticksync::protocol::{
    ClientMsg, EndReason, ErrorCode, PROTOCOL_VERSION, RoomEvent, ServerMsg, close_code,
};
use ticksync::server::Server;
use tokio::time::Instant;

use crate::cluster::{assert_every_key_expires, start_node_config as start_node, wait_for_keys};
use crate::support::{Client, RedisServer, WAIT, matched_pair, play_from, test_config};

/// Whether the home of resume token `token` is among `keys`.
/// O (seat 1), back after missing X's move in cell 4 (X holds 0 and 4), has the board as it
/// is now and every event after `last_event_seq` replayed; X hears O reconnected.
pub(crate) async fn caught_up(o: &mut Client, last_event_seq: u64, x: &mut Client) -> Result<()> {
    o.snapshot_where(|v| v.board[0] == 1 && v.board[4] == 1)
        .await
        .context("O's snapshot after coming back")?;
    ensure!(
        o.events.iter().any(|(seq, _, _)| *seq > last_event_seq),
        "no event after seq {last_event_seq} was replayed: {:?}",
        o.events
    );
    x.event(|e| matches!(e, RoomEvent::PlayerReconnected { seat: 1 }).then_some(()))
        .await
        .context("PlayerReconnected")?;
    Ok(())
}

fn has_home(keys: &[(String, i64)], token: &str) -> bool {
    let home = keys::session(&token_sha(token));
    keys.iter().any(|(k, _)| *k == home)
}

/// Sends `Hello` with a resume token (and `last_event_seq`, and a ticket when given).
async fn hello_resume(client: &mut Client, token: &str, ticket: Option<String>) -> Result<()> {
    let last_event_seq = client.last_event_seq;
    client
        .send(&ClientMsg::Hello {
            version: PROTOCOL_VERSION,
            resume_token: Some(token.to_string()),
            last_event_seq,
            auth_token: None,
            ticket,
        })
        .await
}

/// Waits for `Welcome`; returns `resumed`, keeping the new token.
async fn welcome(client: &mut Client) -> Result<bool> {
    match client.recv().await? {
        ServerMsg::Welcome {
            session_id,
            resume_token,
            resumed,
            ..
        } => {
            client.session_id = session_id;
            client.token = resume_token;
            Ok(resumed)
        }
        other => bail!("expected Welcome, got {other:?}"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_resume_through_another_node_is_redirected_home_and_misses_nothing() -> Result<()> {
    let Some(redis) = RedisServer::start("cluster resume redirect")? else {
        return Ok(());
    };
    // b alone first, so the match is placed on b; a joins afterwards.
    let b = start_node(&redis, "node-b", test_config()).await?;
    let (mut x, mut o) = matched_pair(b.local_addr(), (Codec::Bincode, Codec::MsgPack))
        .await
        .context("matched on b")?;
    let a = start_node(&redis, "node-a", test_config()).await?;
    let b_url = format!("ws://{}/", b.local_addr());
    // Both seated players have a home within a sync period.
    let keys = wait_for_keys(&redis, "the players' homes", |keys| {
        has_home(keys, &x.token) && has_home(keys, &o.token)
    })
    .await?;
    assert_every_key_expires(&keys);
    play_from(&mut x, &mut o, 0, &[4, 1])
        .await
        .context("the first moves")?;

    // O's network fails; a load balancer sends it to a.
    let gone = o.drop_connection();
    x.event(|e| matches!(e, RoomEvent::PlayerDisconnected { seat: 1, .. }).then_some(()))
        .await
        .context("PlayerDisconnected")?;
    // X moves meanwhile: O must get it on resuming.
    let seq = x.send_move(0).await?;
    let (_, acked, _) = x
        .snapshot_where(|v| v.board[0] != 0)
        .await
        .context("X's move")?;
    ensure!(acked == seq, "acked {acked}");
    let mut via_a = Client::connect_raw(a.local_addr(), gone.codec).await?;
    via_a.last_event_seq = gone.last_event_seq;
    hello_resume(&mut via_a, &gone.token, None).await?;
    let (url, ticket) = match via_a.recv().await? {
        ServerMsg::Redirect { url, ticket } => (url, ticket),
        other => bail!("expected Redirect, got {other:?}"),
    };
    assert_eq!(url, b_url);
    assert_eq!(via_a.closed().await?, Some(close_code::RESUME_ELSEWHERE));
    // Home, with the token and the ticket: resumed, with the events it missed replayed.
    let mut back = Client::connect_raw(b.local_addr(), gone.codec).await?;
    back.last_event_seq = gone.last_event_seq;
    back.input_seq = gone.input_seq;
    hello_resume(&mut back, &gone.token, Some(ticket.clone())).await?;
    ensure!(welcome(&mut back).await?, "Welcome.resumed was false");
    let mut o = back;
    caught_up(&mut o, gone.last_event_seq, &mut x).await?;
    // The ticket was used: shown again (even with the token), it is refused.
    let mut again = Client::connect_raw(b.local_addr(), gone.codec).await?;
    hello_resume(&mut again, &o.token, Some(ticket)).await?;
    assert_eq!(again.error().await?.0, ErrorCode::TicketUsed);
    assert_eq!(again.closed().await?, Some(close_code::TICKET_REFUSED));
    // The rotated token's home is replaced by the new one's; the old token is refused.
    wait_for_keys(&redis, "the rotated home", |keys| {
        has_home(keys, &o.token) && !has_home(keys, &gone.token)
    })
    .await?;
    Client::resume_refused(a.local_addr(), gone.codec, &gone.token).await?;

    // The client library follows the redirect by itself: X resumes through a.
    let x_gone = x.drop_connection();
    let (conn, welcomed, home) = Connection::resume_at(
        &format!("ws://{}/", a.local_addr()),
        Resume {
            token: x_gone.token.clone(),
            last_event_seq: x_gone.last_event_seq,
        },
        x_gone.codec,
        WAIT,
        None,
    )
    .await?;
    assert!(welcomed.resumed);
    assert_eq!(home, b_url);
    conn.abort();
    let mut x = Client::connect_raw(b.local_addr(), x_gone.codec).await?;
    x.last_event_seq = x_gone.last_event_seq;
    x.input_seq = x_gone.input_seq;
    x.hello(Some(welcomed.resume_token)).await?;
    // O to move (move 3, at 2); X wins on the 0-4-8 diagonal.
    play_from(&mut x, &mut o, 3, &[2, 8]).await?;
    assert_eq!(x.game_over().await?, (Some(0), EndReason::Win));
    assert_eq!(o.game_over().await?, (Some(0), EndReason::Win));

    // Nobody seated: no home is left, and every key expires.
    x.close().await?;
    o.close().await?;
    for node in [&a, &b] {
        crate::support::wait_for_stats(node, ticksync::server::Stats::default()).await?;
    }
    let keys = wait_for_keys(&redis, "homes gone", |keys| {
        !keys.iter().any(|(k, _)| k.starts_with("ticksync:session:"))
    })
    .await?;
    assert_every_key_expires(&keys);
    a.shutdown().await;
    b.shutdown().await;
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_clean_stop_deletes_its_homes() -> Result<()> {
    let Some(redis) = RedisServer::start("cluster homes at shutdown")? else {
        return Ok(());
    };
    let b = start_node(&redis, "node-b", test_config()).await?;
    let (x, o) = matched_pair(b.local_addr(), (Codec::Bincode, Codec::Bincode)).await?;
    wait_for_keys(&redis, "the players' homes", |keys| {
        has_home(keys, &x.token) && has_home(keys, &o.token)
    })
    .await?;
    b.shutdown().await;
    let keys = redis.keys_with_ttls().await?;
    assert!(
        !keys.iter().any(|(k, _)| k.starts_with("ticksync:session:")),
        "{keys:?}"
    );
    assert_every_key_expires(&keys);
    Ok(())
}

/// Two clients of `node` quick-matched there, ordered so `.0` holds seat 0; what else
/// they heard meanwhile is in the error when they are not.
async fn matched_here(node: &Server) -> Result<(Client, Client)> {
    let mut one = Client::connect(node.local_addr(), Codec::Bincode).await?;
    let mut two = Client::connect(node.local_addr(), Codec::Bincode).await?;
    one.find_match().await?;
    two.find_match().await?;
    let mut joined = Vec::new();
    for client in [&mut one, &mut two] {
        let mut heard = Vec::new();
        let found = client
            .recv_until(|m| {
                heard.push(format!("{m:?}"));
                match m {
                    ServerMsg::MatchFound(j) => Some(j.clone()),
                    _ => None,
                }
            })
            .await;
        match found {
            Ok(j) => joined.push(j),
            Err(error) => bail!("{error}; heard {heard:?}"),
        }
    }
    ensure!(joined[0].room_id == joined[1].room_id, "matched apart");
    crate::support::seated(one, joined[0].seat, two, joined[1].seat)
}

/// A `ticksync serve` process in the cluster; killed if the test ends early.
pub(crate) struct Node(pub(crate) Child);

impl Drop for Node {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Starts the built binary as node `node_id` of `redis`'s cluster on a free loopback port
/// (its public URL needs the port before it starts: one the kernel just gave us; if it is
/// taken meanwhile the node does not log its address and we try another).
pub(crate) fn spawn_node(
    redis: &RedisServer,
    node_id: &str,
    grace_s: u64,
) -> Result<(Node, std::net::SocketAddr)> {
    spawn_node_env(redis, node_id, grace_s, &[])
}

/// As [`spawn_node`], with more environment variables (auth settings, say).
pub(crate) fn spawn_node_env(
    redis: &RedisServer,
    node_id: &str,
    grace_s: u64,
    env: &[(&str, &str)],
) -> Result<(Node, std::net::SocketAddr)> {
    let mut last = None;
    for _ in 0..5 {
        let port = std::net::TcpListener::bind("127.0.0.1:0")?
            .local_addr()?
            .port();
        let addr = format!("127.0.0.1:{port}");
        let mut child = Command::new(env!("CARGO_BIN_EXE_ticksync"))
            .args([
                "serve",
                "--addr",
                &addr,
                "--tick-hz",
                "60",
                "--database",
                "none",
            ])
            .args(["--cluster", &redis.url(), "--node-id", node_id])
            .args(["--public-url", &format!("ws://{addr}/")])
            .args(["--reconnect-grace", &grace_s.to_string()])
            .env(
                "TICKSYNC_CLUSTER_SECRET",
                std::ffi::OsStr::from_bytes(crate::cluster::SECRET),
            )
            .envs(env.iter().copied())
            .env("TICKSYNC_LOG", "info")
            .env("NO_COLOR", "1")
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .context("starting the ticksync binary")?;
        let stdout = child.stdout.take().context("stdout")?;
        let node = Node(child);
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                if let Some(rest) = line.split("local_addr=").nth(1) {
                    let addr = rest.split_whitespace().next().unwrap_or("").to_string();
                    let _ = tx.send(addr);
                }
            }
        });
        match rx.recv_timeout(WAIT) {
            Ok(logged) => return Ok((node, logged.parse()?)),
            Err(error) => last = Some(error),
        }
    }
    bail!("node {node_id} never logged its address: {last:?}")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_killed_nodes_players_hear_node_lost_and_play_on_elsewhere() -> Result<()> {
    let Some(redis) = RedisServer::start("cluster node loss")? else {
        return Ok(());
    };
    let grace = Duration::from_secs(20);
    let (mut b, b_addr) = spawn_node(&redis, "node-b", grace.as_secs())?;
    wait_for_keys(&redis, "node-b registered", |keys| {
        keys.iter().any(|(k, _)| k == "ticksync:node:node-b")
    })
    .await?;
    // A game on b (the only node yet).
    let (mut x, mut o) = matched_pair(b_addr, (Codec::Bincode, Codec::MsgPack)).await?;
    play_from(&mut x, &mut o, 0, &[4, 1])
        .await
        .context("the first moves")?;
    // a joins; a game on a (the least loaded: b has two connections, a none).
    let a = start_node(&redis, "node-a", test_config()).await?;
    // Wait until b's heartbeat shows its game (two connections, one room): a, with at
    // most two connections and no room, is then the least loaded and hosts the match.
    let deadline = Instant::now() + WAIT;
    loop {
        let nodes = a
            .cluster()
            .context("a is in the cluster")?
            .live_nodes()
            .await?;
        if nodes
            .iter()
            .any(|n| n.id == "node-b" && n.load.connections == 2 && n.load.rooms == 1)
        {
            break;
        }
        ensure!(Instant::now() < deadline, "loads stayed {nodes:?}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let (mut p, mut q) = matched_here(&a).await.context("matched on a")?;
    play_from(&mut p, &mut q, 0, &[0])
        .await
        .context("a's first move")?;
    let keys = wait_for_keys(&redis, "b's players' homes", |keys| {
        has_home(keys, &x.token) && has_home(keys, &o.token)
    })
    .await?;
    // A home outlives its node by at most the grace plus the margin.
    let most = i64::try_from((grace + HOME_MARGIN).as_millis())?;
    for (key, ttl) in &keys {
        if key.starts_with("ticksync:session:") {
            assert!(*ttl <= most, "{key}: {ttl} ms");
        }
    }

    // SIGKILL mid-game: no goodbye, no cleanup.
    b.0.kill().context("SIGKILL")?;
    b.0.wait()?;
    let (x_gone, o_gone) = (x.drop_connection(), o.drop_connection());
    // Dead to the cluster once its heartbeat key expires.
    wait_for_keys(&redis, "node-b's key expires", |keys| {
        !keys.iter().any(|(k, _)| k == "ticksync:node:node-b")
    })
    .await?;

    // Both reconnect through a with their tokens: a new session each, then NodeLost.
    let mut news = Vec::new();
    for gone in [&x_gone, &o_gone] {
        let mut client = Client::connect_raw(a.local_addr(), gone.codec).await?;
        hello_resume(&mut client, &gone.token, None).await?;
        ensure!(!welcome(&mut client).await?, "a lost session came back");
        assert_eq!(client.error().await?.0, ErrorCode::NodeLost);
        news.push(client);
    }
    // Their homes went with the answer; the tokens are now simply unknown.
    let keys = redis.keys_with_ttls().await?;
    assert!(!has_home(&keys, &x_gone.token) && !has_home(&keys, &o_gone.token));
    Client::resume_refused(a.local_addr(), x_gone.codec, &x_gone.token).await?;

    // a's own game was not disturbed: P wins it.
    play_from(&mut p, &mut q, 1, &[3, 1, 6, 2]).await?;
    assert_eq!(p.game_over().await?, (Some(0), EndReason::Win));
    assert_eq!(q.game_over().await?, (Some(0), EndReason::Win));

    // The two lost players queue again and play a whole game on a.
    let (one, two) = (news.remove(0), news.remove(0));
    let (mut one, mut two) = {
        let (mut one, mut two) = (one, two);
        one.find_match().await?;
        two.find_match().await?;
        let j1 = one.match_found().await?;
        let j2 = two.match_found().await?;
        ensure!(j1.room_id == j2.room_id, "matched apart");
        crate::support::seated(one, j1.seat, two, j2.seat)?
    };
    play_from(&mut one, &mut two, 0, &[0, 3, 1, 4, 2]).await?;
    assert_eq!(one.game_over().await?, (Some(0), EndReason::Win));
    assert_eq!(two.game_over().await?, (Some(0), EndReason::Win));

    for client in [p, q, one, two] {
        client.close().await?;
    }
    crate::support::wait_for_stats(&a, ticksync::server::Stats::default()).await?;
    // The sessions ended: their homes go within a sync period; b left nothing either.
    let keys = wait_for_keys(&redis, "homes gone", |keys| {
        !keys
            .iter()
            .any(|(k, _)| k.starts_with("ticksync:session:") || k == "ticksync:node:node-b")
    })
    .await?;
    assert_every_key_expires(&keys);
    a.shutdown().await;
    drop(b);
    Ok(())
}

/// A redirected resume whose ticket the client library cannot use is an error it reports,
/// not a hang: `ClientError::Redirected` reaches a caller of plain `hello`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn plain_hello_reports_the_redirect() -> Result<()> {
    let Some(redis) = RedisServer::start("cluster resume redirect in the client")? else {
        return Ok(());
    };
    let b = start_node(&redis, "node-b", test_config()).await?;
    let (x, _o) = matched_pair(b.local_addr(), (Codec::Bincode, Codec::Bincode)).await?;
    let a = start_node(&redis, "node-a", test_config()).await?;
    wait_for_keys(&redis, "x's home", |keys| has_home(keys, &x.token)).await?;
    let mut conn =
        Connection::connect(&format!("ws://{}/", a.local_addr()), Codec::Bincode, WAIT).await?;
    let resume = Resume {
        token: x.token.clone(),
        last_event_seq: 0,
    };
    match conn.hello(Some(resume)).await {
        Err(ClientError::Redirected { url, .. }) => {
            assert_eq!(url, format!("ws://{}/", b.local_addr()));
        }
        other => bail!("expected Redirected, got {other:?}"),
    }
    a.shutdown().await;
    b.shutdown().await;
    Ok(())
}

/// Redis away: a resume token this node does not know is neither refused nor guessed at:
/// `ClusterUnavailable`, close 1013 (try again). A local resume still works.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_redis_a_foreign_resume_is_told_to_try_again() -> Result<()> {
    let Some(redis) = RedisServer::start("cluster resume without redis")? else {
        return Ok(());
    };
    let a = start_node(&redis, "node-a", test_config()).await?;
    let (x, _o) = matched_pair(a.local_addr(), (Codec::Bincode, Codec::Bincode)).await?;
    drop(redis);
    let mut client = Client::connect_raw(a.local_addr(), Codec::MsgPack).await?;
    hello_resume(&mut client, &"ab".repeat(24), None).await?;
    assert_eq!(client.error().await?.0, ErrorCode::ClusterUnavailable);
    assert_eq!(client.closed().await?, Some(close_code::TRY_AGAIN_LATER));
    // Not token-shaped: refused at once, no Redis needed.
    Client::resume_refused(a.local_addr(), Codec::Bincode, "not a token").await?;
    // The node's own sessions resume as ever.
    let gone = x.drop_connection();
    Client::resume(a.local_addr(), &gone).await?;
    a.shutdown().await;
    Ok(())
}
