//! Reserved seats across the cluster (issue 12, item 2): a match placed on one node waits
//! for its redirected players; one who never comes calls the match off with no result,
//! and the players who were there are queued again on their own node and play another
//! match (a test client, and a Rust bot that carries on by itself). A signed-in player
//! redirected to another node arrives there as itself. And `--cluster` refuses an SQLite
//! database.
//!
//! Real nodes on loopback with a private `redis-server` ([`RedisServer`]); without it the
//! Redis tests print `SKIPPED:` and pass, unless `TICKSYNC_REQUIRE_SERVICES=1`.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use anyhow::{Context, Result, ensure};
use ticksync::cluster::inbox::{NodeMsg, PlacedSeat, Placement};
use ticksync::cluster::queue::QueueEntry;
use ticksync::codec::Codec;
use ticksync::protocol::{ClientMsg, ErrorCode, ServerMsg, SessionId, close_code};
use ticksync::server::Server;
use tokio::time::Instant;

use crate::cluster::{
    connected_bot, hello_with_ticket, hello_with_ticket_as, start_node_tweaked, wait_for_loads,
};
use crate::support::{Client, RedisServer, WAIT, test_config};

/// Seat tickets live this long in these tests: a reservation is held for it plus
/// [`ticksync::cluster::RESERVATION_MARGIN`].
const TICKET_TTL: Duration = Duration::from_secs(2);

/// Starts node `node_id` on an ephemeral port with short-lived tickets, counting the games
/// that finish on it.
async fn start_node(
    redis: &RedisServer,
    node_id: &str,
    finished: &Arc<AtomicUsize>,
) -> Result<Server> {
    start_node_with(redis, node_id, finished, test_config()).await
}

/// As [`start_node`], from `config`.
async fn start_node_with(
    redis: &RedisServer,
    node_id: &str,
    finished: &Arc<AtomicUsize>,
    config: ticksync::config::ServerConfig,
) -> Result<Server> {
    let seen = finished.clone();
    let config = ticksync::config::ServerConfig {
        on_game_finished: Some(ticksync::engine::FinishedHook::new(move |_| {
            seen.fetch_add(1, Ordering::SeqCst);
        })),
        ..config
    };
    start_node_tweaked(redis, node_id, config, |cluster| {
        cluster.ticket_ttl = TICKET_TTL;
    })
    .await
}

/// The client seated in the match `client` was just found for: itself after `MatchFound`,
/// or a new connection to the hosting node after `Redirect` (following the ticket).
async fn seated(mut client: Client, nodes: &[&Server]) -> Result<Client> {
    let redirect = client
        .recv_until(|m| match m {
            ServerMsg::MatchFound(_) => Some(None),
            ServerMsg::Redirect { url, ticket } => Some(Some((url.clone(), ticket.clone()))),
            _ => None,
        })
        .await?;
    let Some((url, ticket)) = redirect else {
        return Ok(client);
    };
    let host = nodes
        .iter()
        .find(|n| url == format!("ws://{}/", n.local_addr()))
        .with_context(|| format!("no node at {url}"))?;
    let mut there = hello_with_ticket(host, &ticket).await?;
    match there.recv().await? {
        ServerMsg::Welcome { resumed: true, .. } => {}
        other => anyhow::bail!("expected Welcome {{ resumed: true }}, got {other:?}"),
    }
    let joined = there.room_joined().await?;
    ensure!(joined.seat.is_some(), "{joined:?}");
    Ok(there)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_reservation_not_taken_requeues_the_present_player_who_then_plays_another() -> Result<()>
{
    let Some(redis) = RedisServer::start("cluster reservation cancelled")? else {
        return Ok(());
    };
    let finished = Arc::new(AtomicUsize::new(0));
    let a = start_node(&redis, "node-a", &finished).await?;
    let b = start_node(&redis, "node-b", &finished).await?;
    let c = start_node(&redis, "node-c", &finished).await?;
    let mut one = Client::connect(a.local_addr(), Codec::Bincode).await?;
    let mut two = Client::connect(b.local_addr(), Codec::MsgPack).await?;
    let three = Client::connect(c.local_addr(), Codec::Bincode).await?;
    // Equal loads (one connection each): the tie goes to the lowest id, so a hosts.
    wait_for_loads(&a, 3, 1).await?;
    one.find_match().await?;
    two.find_match().await?;
    // two is sent to a, and never goes.
    let (url, ticket) = two
        .recv_until(|m| match m {
            ServerMsg::Redirect { url, ticket } => Some((url.clone(), ticket.clone())),
            _ => None,
        })
        .await?;
    let redirected_at = Instant::now();
    assert_eq!(url, format!("ws://{}/", a.local_addr()));
    one.match_found().await?;
    // The game does not start without two: one hears that the match is called off once
    // the reservation (ticket lifetime plus margin) has run out, then RoomLeft, then
    // Queued, with no GameStarted or GameOver before.
    let mut heard = Vec::new();
    let code = one
        .recv_until(|m| {
            heard.push(format!("{m:?}"));
            match m {
                ServerMsg::Error { code, .. } => Some(*code),
                _ => None,
            }
        })
        .await?;
    assert_eq!(code, ErrorCode::MatchCalledOff);
    let waited = redirected_at.elapsed();
    assert!(waited >= TICKET_TTL, "called off after {waited:?}");
    assert!(
        !heard
            .iter()
            .any(|m| m.contains("GameStarted") || m.contains("GameOver")),
        "{heard:?}"
    );
    assert!(matches!(one.recv().await?, ServerMsg::RoomLeft { .. }));
    assert!(matches!(one.recv().await?, ServerMsg::Queued { .. }));
    // Back in the global queue from its own node, with the rating it had.
    let entries = a.cluster().unwrap().queue_entries("tictactoe", &[]).await?;
    assert_eq!(entries.len(), 1, "{entries:?}");
    assert_eq!(
        (
            entries[0].node.as_str(),
            entries[0].session,
            entries[0].rating
        ),
        ("node-a", one.session_id, ticksync::lobby::DEFAULT_RATING)
    );
    // No game was played, and the reserved session is gone with the room.
    assert_eq!(finished.load(Ordering::SeqCst), 0);
    crate::support::wait_until(&a, |s| s.sessions == 1 && s.rooms == 0 && s.queued == 1).await?;
    // The ticket redeemed late has expired with its reservation.
    let mut late = hello_with_ticket(&a, &ticket).await?;
    assert_eq!(late.error().await?.0, ErrorCode::TicketExpired);
    assert_eq!(late.closed().await?, Some(close_code::TICKET_REFUSED));

    // A third player, on c, is matched with one; whoever is redirected follows, and the
    // game is played to its end.
    let mut three = three;
    three.find_match().await?;
    let nodes = [&a, &b, &c];
    let (one, three) = tokio::join!(seated(one, &nodes), seated(three, &nodes));
    let (mut one, mut three) = (one?, three?);
    let one_seat = one.room.as_ref().and_then(|r| r.seat);
    let (first, second) = if one_seat == Some(0) {
        (&mut one, &mut three)
    } else {
        (&mut three, &mut one)
    };
    crate::support::play(first, second, &[0, 3, 1, 4, 2]).await?;
    assert_eq!(first.game_over().await?.0, Some(0));
    assert_eq!(second.game_over().await?.0, Some(0));
    // One game finished in the whole cluster: the second match.
    let deadline = Instant::now() + WAIT;
    while finished.load(Ordering::SeqCst) == 0 {
        ensure!(Instant::now() < deadline, "the game was not reported");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert_eq!(finished.load(Ordering::SeqCst), 1);
    drop((one, two, three, late));
    for node in nodes {
        crate::support::wait_for_stats(node, ticksync::server::Stats::default()).await?;
    }
    for (key, ttl) in redis.keys_with_ttls().await? {
        assert!(ttl > 0, "{key} has no TTL");
    }
    a.shutdown().await;
    b.shutdown().await;
    c.shutdown().await;
    Ok(())
}

/// Waits until `session`'s entry is in node `server`'s tic-tac-toe queue (polling Redis).
async fn wait_for_entry(server: &Server, session: SessionId) -> Result<QueueEntry> {
    wait_for_entry_in(server, "tictactoe", session).await
}

/// Waits until `session`'s entry is in node `server`'s queue of `game` with the default
/// options (polling Redis).
async fn wait_for_entry_in(server: &Server, game: &str, session: SessionId) -> Result<QueueEntry> {
    let cluster = server.cluster().context("not clustered")?;
    let deadline = Instant::now() + WAIT;
    loop {
        let entries = cluster.queue_entries(game, &[]).await?;
        if let Some(entry) = entries.into_iter().find(|e| e.session == session) {
            return Ok(entry);
        }
        ensure!(Instant::now() < deadline, "{session:?} never queued");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// Queues `client` for tic-tac-toe on `server` and claims its entry at once, as another
/// node's matching would; the client does not hear of it.
async fn queued_and_claimed(server: &Server, client: &mut Client) -> Result<QueueEntry> {
    client.find_match().await?;
    let entry = wait_for_entry(server, client.session_id).await?;
    let cluster = server.cluster().context("not clustered")?;
    ensure!(
        cluster
            .claim("tictactoe", &[], std::slice::from_ref(&entry))
            .await?
    );
    Ok(entry)
}

/// `client` leaves the queue (`CancelMatch`, answered).
async fn cancel(client: &mut Client) -> Result<()> {
    client.send(&ClientMsg::CancelMatch).await?;
    client
        .recv_until(|m| matches!(m, ServerMsg::MatchCancelled { .. }).then_some(()))
        .await
}

/// Sends node `server` (`node-a`) the placement of a tic-tac-toe match of `players` (the
/// claimed entries, in seating order), as the claiming node would.
async fn place(server: &Server, players: &[&QueueEntry]) -> Result<()> {
    let placement = Placement {
        game: "tictactoe".into(),
        options: Vec::new(),
        seats: players
            .iter()
            .zip(0..)
            .map(|(entry, order)| PlacedSeat {
                seat: order,
                node: entry.node.clone(),
                session: entry.session,
                rating: entry.rating,
                player: None,
            })
            .collect(),
        bots: 0,
    };
    let cluster = server.cluster().context("not clustered")?;
    Ok(cluster
        .send_to("node-a", &NodeMsg::Place(placement))
        .await?)
}

/// The race a cluster's host can lose: a node claims a group, and before its placement
/// reaches the host, one of the host's own players leaves the queue. The host does not
/// seat the others in a match that cannot start (they would hear `MatchFound`, then wait
/// out the whole reservation for `MatchCalledOff`): it hosts nothing, and its players
/// still waiting are queued again at once.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_placement_naming_a_player_who_left_the_queue_is_not_hosted() -> Result<()> {
    let Some(redis) = RedisServer::start("cluster placement of a departed player")? else {
        return Ok(());
    };
    let finished = Arc::new(AtomicUsize::new(0));
    let a = start_node(&redis, "node-a", &finished).await?;
    let mut one = Client::connect(a.local_addr(), Codec::Bincode).await?;
    let mut two = Client::connect(a.local_addr(), Codec::MsgPack).await?;
    // Another node claims two, then one (each alone in the queue, so node-a matches
    // neither), as one group; two cancels in between, after its claim.
    let entry_two = queued_and_claimed(&a, &mut two).await?;
    cancel(&mut two).await?;
    let entry_one = queued_and_claimed(&a, &mut one).await?;
    // Its placement reaches node-a only now.
    place(&a, &[&entry_one, &entry_two]).await?;
    // one is back in the queue at once, with its rating, and no room was made.
    let back = wait_for_entry(&a, one.session_id).await?;
    assert_eq!(back.rating, entry_one.rating);
    crate::support::wait_until(&a, |s| s.queued == 1 && s.rooms == 0).await?;
    // two queues again and is matched with one: the first match one hears of is this
    // one, in two's room (without the fix, one heard of the placed one first).
    two.find_match().await?;
    let mut heard = Vec::new();
    let found = one
        .recv_until(|m| {
            heard.push(format!("{m:?}"));
            match m {
                ServerMsg::MatchFound(joined) => Some(joined.clone()),
                _ => None,
            }
        })
        .await?;
    assert!(
        heard
            .iter()
            .all(|m| m.starts_with("Queued") || m.starts_with("MatchFound")),
        "{heard:?}"
    );
    assert_eq!(two.match_found().await?.room_id, found.room_id);
    assert_eq!(finished.load(Ordering::SeqCst), 0);
    a.shutdown().await;
    Ok(())
}

/// The same race when the player left the queue and joined another game's before the
/// placement came: it is not pulled into the first game's match, and its place in the
/// other queue is kept.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_placement_naming_a_player_now_queued_for_another_game_is_not_hosted() -> Result<()> {
    let Some(redis) = RedisServer::start("cluster placement of a player queued elsewhere")? else {
        return Ok(());
    };
    let finished = Arc::new(AtomicUsize::new(0));
    let a = start_node(&redis, "node-a", &finished).await?;
    let mut one = Client::connect(a.local_addr(), Codec::Bincode).await?;
    let mut two = Client::connect(a.local_addr(), Codec::Bincode).await?;
    let entry_two = queued_and_claimed(&a, &mut two).await?;
    cancel(&mut two).await?;
    two.send(&ClientMsg::FindMatch {
        game: "battleship".into(),
        options: bytes::Bytes::new(),
    })
    .await?;
    let in_battleship = wait_for_entry_in(&a, "battleship", two.session_id).await?;
    let entry_one = queued_and_claimed(&a, &mut one).await?;
    place(&a, &[&entry_one, &entry_two]).await?;
    // one is queued again; two still waits for battleship, from when it queued for it.
    wait_for_entry(&a, one.session_id).await?;
    crate::support::wait_until(&a, |s| s.queued == 2 && s.rooms == 0).await?;
    let still = wait_for_entry_in(&a, "battleship", two.session_id).await?;
    assert!(
        still.waited >= in_battleship.waited,
        "{still:?} {in_battleship:?}"
    );
    // A third player's tic-tac-toe match with one is the first one one hears of.
    let mut three = Client::connect(a.local_addr(), Codec::Bincode).await?;
    three.find_match().await?;
    let found = one.match_found().await?;
    assert_eq!(three.match_found().await?.room_id, found.room_id);
    assert_eq!(finished.load(Ordering::SeqCst), 0);
    a.shutdown().await;
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_bot_whose_match_is_called_off_plays_its_next_one() -> Result<()> {
    let Some(redis) = RedisServer::start("cluster called off bot")? else {
        return Ok(());
    };
    let finished = Arc::new(AtomicUsize::new(0));
    let a = start_node(&redis, "node-a", &finished).await?;
    let b = start_node(&redis, "node-b", &finished).await?;
    let c = start_node(&redis, "node-c", &finished).await?;
    let (bot_one, one) = connected_bot(&a, 1).await?;
    let mut two = Client::connect(b.local_addr(), Codec::Bincode).await?;
    let (bot_three, three) = connected_bot(&c, 3).await?;
    wait_for_loads(&a, 3, 1).await?;
    // The bot on a queues and is matched with two (on b), who never follows the redirect.
    let playing_one = tokio::spawn(bot_one.run());
    crate::support::wait_until(&a, |s| s.queued == 1).await?;
    two.find_match().await?;
    two.recv_until(|m| matches!(m, ServerMsg::Redirect { .. }).then_some(()))
        .await?;
    // Called off: the server queued the bot again (no room left on a), and it waits there.
    crate::support::wait_until(&a, |s| s.rooms == 1).await?;
    crate::support::wait_until(&a, |s| s.rooms == 0 && s.queued == 1).await?;
    // The bot on c is matched with it; both play their one game to the end.
    let played_three = bot_three.run().await?;
    let played_one = playing_one.await??;
    assert_eq!((played_one, played_three), (1, 1));
    for tally in [one.tally(), three.tally()] {
        assert_eq!(tally.games, 1, "{tally:?}");
        assert_eq!(tally.errors, 0, "{:?}", tally.error_samples);
        assert_eq!(tally.illegal_outcomes, 0);
    }
    drop(two);
    for node in [&a, &b, &c] {
        crate::support::wait_for_stats(node, ticksync::server::Stats::default()).await?;
    }
    a.shutdown().await;
    b.shutdown().await;
    c.shutdown().await;
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_signed_in_player_redirected_to_another_node_arrives_as_itself() -> Result<()> {
    use crate::support::{AUDIENCE, ISSUER, claims, hs256};
    use base64::Engine as _;
    let Some(redis) = RedisServer::start("cluster identity in tickets")? else {
        return Ok(());
    };
    // Both nodes take the test's JWTs.
    let mut config = test_config();
    config.security.auth.hs256_secret = Some(crate::support::SECRET.to_vec());
    config.security.auth.issuer = Some(ISSUER.into());
    config.security.auth.audience = Some(AUDIENCE.into());
    // Seats of players who drop (at the end) are given up soon.
    config.reconnect_grace = Duration::from_secs(1);
    let finished = Arc::new(AtomicUsize::new(0));
    let a = start_node_with(&redis, "node-a", &finished, config.clone()).await?;
    let b = start_node_with(&redis, "node-b", &finished, config).await?;
    let (mut ada, _) =
        Client::login(a.local_addr(), Codec::Bincode, &hs256(&claims("ada")), None).await?;
    let (mut bob, _) =
        Client::login(b.local_addr(), Codec::MsgPack, &hs256(&claims("bob")), None).await?;
    // Equal loads: a hosts, bob is redirected there.
    wait_for_loads(&a, 2, 1).await?;
    ada.find_match().await?;
    bob.find_match().await?;
    let ticket = bob
        .recv_until(|m| match m {
            ServerMsg::Redirect { ticket, .. } => Some(ticket.clone()),
            _ => None,
        })
        .await?;
    // The signed ticket names bob as the signed-in player, with his name.
    let payload = ticket.split('.').next().context("a ticket's payload")?;
    let claims_in: serde_json::Value =
        serde_json::from_slice(&base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(payload)?)?;
    assert_eq!(claims_in["player"], "user:bob", "{claims_in}");
    assert_eq!(claims_in["name"], "Player bob", "{claims_in}");
    // A node that requires tokens needs bob's beside the ticket, as on his own node.
    let mut there = hello_with_ticket_as(&a, &ticket, Some(hs256(&claims("bob")))).await?;
    let session = match there.recv().await? {
        ServerMsg::Welcome {
            resumed: true,
            session_id,
            ..
        } => session_id,
        other => anyhow::bail!("expected Welcome {{ resumed: true }}, got {other:?}"),
    };
    let seat = there.room_joined().await?.seat;
    assert!(seat.is_some());
    ada.match_found().await?;
    // On a, that session is bob's own: signing in there with bob's token takes it over
    // (one session per player), back in the same seat.
    let (mut again, resumed) =
        Client::login(a.local_addr(), Codec::Bincode, &hs256(&claims("bob")), None).await?;
    assert!(resumed, "bob's token found no session of his on a");
    assert_eq!(again.session_id, session);
    assert_eq!(again.room_joined().await?.seat, seat);
    assert_eq!(there.closed().await?, Some(close_code::SESSION_TAKEN_OVER));
    drop((ada, bob, there, again));
    for node in [&a, &b] {
        crate::support::wait_for_stats(node, ticksync::server::Stats::default()).await?;
    }
    a.shutdown().await;
    b.shutdown().await;
    Ok(())
}

#[tokio::test]
async fn serve_refuses_a_cluster_with_an_sqlite_database() -> Result<()> {
    // Refused before Redis is tried: nothing listens at this URL.
    let dir = crate::support::scratch_dir("cluster-sqlite");
    let output = tokio::time::timeout(
        WAIT,
        tokio::process::Command::new(env!("CARGO_BIN_EXE_ticksync"))
            .args([
                "serve",
                "--addr",
                "127.0.0.1:0",
                "--cluster",
                "redis://127.0.0.1:1",
                "--public-url",
                "ws://127.0.0.1:1/",
                "--database",
                "sqlite://./never-created.db",
            ])
            .env("TICKSYNC_CLUSTER_SECRET", "sixteen bytes or more")
            .env_remove("TICKSYNC_DATABASE")
            .current_dir(&dir)
            .kill_on_drop(true)
            .output(),
    )
    .await
    .context("serve did not exit: it started instead of refusing")??;
    ensure!(!output.status.success(), "serve exited successfully");
    let stderr = String::from_utf8(output.stderr)?;
    assert!(
        stderr.contains("--cluster cannot use the SQLite database")
            && stderr.contains("--database postgres://")
            && stderr.contains("--database none"),
        "{stderr}"
    );
    assert!(!dir.join("never-created.db").exists());
    Ok(())
}
