//! Battleship over real sockets: two library bots ([`play_battleship`]) play whole games
//! through quick match, and no snapshot a client receives, player or spectator, shows a
//! ship cell it may not see.

use std::collections::BTreeSet;

use anyhow::{Result, ensure};
use ticksync::client::{BattleshipBotConfig, BattleshipReport, play_battleship};
use ticksync::codec::Codec;
use ticksync::game::battleship::{
    BattleshipEvent, BattleshipOptions, BattleshipShot, BattleshipView, Fleet, cell, hunt_target,
};
use ticksync::protocol::{ClientMsg, EndReason, ErrorCode, RoomSettings, ServerMsg};

use crate::support::{Client, start, test_config};

/// The cells of `seat`'s fleet, as `seat`'s own view shows them (every ship cell, hit or
/// not).
fn own_fleet(view: &BattleshipView, seat: u8) -> BTreeSet<usize> {
    let cells = &view.boards[usize::from(seat)].cells;
    (0..cells.len())
        .filter(|&i| matches!(cells[i], cell::SHIP | cell::HIT | cell::SUNK))
        .collect()
}

/// Checks one view against the true fleets: `viewer`'s own board (if a player) shows its
/// whole fleet; no other board shows an unhit ship cell, and every hit shown is a ship.
fn check_view(
    view: &BattleshipView,
    viewer: Option<u8>,
    fleets: &[BTreeSet<usize>; 2],
) -> Result<()> {
    ensure!(
        view.you == viewer,
        "view for {viewer:?} says {:?}",
        view.you
    );
    for board in 0..2u8 {
        let cells = &view.boards[usize::from(board)].cells;
        let fleet = &fleets[usize::from(board)];
        for (i, &c) in cells.iter().enumerate() {
            if viewer == Some(board) {
                ensure!(
                    fleet.contains(&i) == matches!(c, cell::SHIP | cell::HIT | cell::SUNK),
                    "own board {board} cell {i}: {c}"
                );
            } else {
                ensure!(
                    c != cell::SHIP,
                    "{viewer:?} sees an unhit ship cell {i} of board {board}"
                );
                ensure!(
                    !matches!(c, cell::HIT | cell::SUNK) || fleet.contains(&i),
                    "{viewer:?}: a hit on water at board {board} cell {i}"
                );
            }
        }
    }
    Ok(())
}

fn bot(url: &str, codec: Codec, seed: u64) -> BattleshipBotConfig {
    BattleshipBotConfig {
        codec,
        games: 2,
        seed: Some(seed),
        keep_views: true,
        ..BattleshipBotConfig::new(url)
    }
}

#[tokio::test]
async fn two_bots_play_whole_games_over_quick_match_and_see_only_what_they_may() -> Result<()> {
    let server = start(test_config()).await;
    let url = format!("ws://{}/", server.local_addr());
    let one = tokio::spawn(async move {
        let config = bot(&url, Codec::Bincode, 1);
        let other = BattleshipBotConfig {
            codec: Codec::MsgPack,
            seed: Some(2),
            ..config.clone()
        };
        let (a, b) = tokio::join!(play_battleship(&config), play_battleship(&other));
        Ok::<_, ticksync::client::ClientError>((a?, b?))
    });
    let (a, b) = one.await??;
    ensure!(a.len() == 2 && b.len() == 2, "two games each");
    for (x, y) in a.iter().zip(&b) {
        check_game(x, y)?;
    }
    server.shutdown().await;
    Ok(())
}

/// Two reports of the same game, one per seat.
fn check_game(x: &BattleshipReport, y: &BattleshipReport) -> Result<()> {
    ensure!(x.room_id == y.room_id, "the same room");
    let mut by_seat = [x, y];
    by_seat.sort_by_key(|r| r.seat);
    ensure!(
        by_seat[0].seat == 0 && by_seat[1].seat == 1,
        "seats 0 and 1"
    );
    ensure!(x.winner == y.winner && x.reason == EndReason::Win && y.reason == EndReason::Win);
    ensure!(x.events == y.events, "both get the same events, in order");
    let winner = x.winner.expect("a winner");
    // The default fleet: five ships, every one sunk by the winner, bow to stern.
    let sunk: Vec<_> = x
        .events
        .iter()
        .filter_map(|e| match e {
            BattleshipEvent::Sunk { by, ship, cells } if *by == winner => Some((*ship, cells)),
            _ => None,
        })
        .collect();
    ensure!(sunk.len() == 5, "{sunk:?}");
    // Every shot a bot sent is one Miss or Hit event of its seat, not fired by the timer.
    for r in by_seat {
        let fired = x
            .events
            .iter()
            .filter(|e| {
                matches!(e, BattleshipEvent::Miss { by, auto: false, .. }
                    | BattleshipEvent::Hit { by, auto: false, .. } if *by == r.seat)
            })
            .count();
        ensure!(
            fired == r.shots as usize,
            "seat {}: {fired} shots, {}",
            r.seat,
            r.shots
        );
    }
    // Each bot's own first view gives its fleet; every view either got hides the other's.
    let fleets = [
        own_fleet(&by_seat[0].views[0], 0),
        own_fleet(&by_seat[1].views[0], 1),
    ];
    ensure!(fleets[0].len() == 17 && fleets[1].len() == 17);
    for (ship, cells) in sunk {
        let loser = &fleets[usize::from(1 - winner)];
        ensure!(
            cells.iter().all(|&c| loser.contains(&usize::from(c))),
            "ship {ship} sunk off the fleet"
        );
    }
    for r in by_seat {
        ensure!(
            r.views.len() > 10,
            "seat {}: {} views",
            r.seat,
            r.views.len()
        );
        for view in &r.views {
            check_view(view, Some(r.seat), &fleets)?;
        }
    }
    Ok(())
}

/// Receives until the next snapshot; returns its view and the game events since the last.
async fn next_view(client: &mut Client) -> Result<(BattleshipView, Vec<BattleshipEvent>)> {
    let mut events = Vec::new();
    loop {
        match client.recv().await? {
            ServerMsg::GameEvent { data, .. } => events.push(client.codec.decode(&data)?),
            ServerMsg::Snapshot { state, .. } => {
                return Ok((client.codec.decode(&state)?, events));
            }
            _ => {}
        }
    }
}

#[tokio::test]
async fn spectators_and_players_never_see_an_unhit_enemy_ship() -> Result<()> {
    let server = start(test_config()).await;
    let addr = server.local_addr();
    let mut p0 = Client::connect(addr, Codec::Bincode).await?;
    let mut p1 = Client::connect(addr, Codec::MsgPack).await?;
    let mut watcher = Client::connect(addr, Codec::MsgPack).await?;
    let options = BattleshipOptions {
        size: Some(6),
        fleet: Some(Fleet::Quick),
        turn_seconds: Some(600),
    };
    let create = |options| ClientMsg::CreateRoom {
        game: "battleship".into(),
        settings: RoomSettings {
            options,
            allow_spectators: true,
            ..RoomSettings::default()
        },
    };
    // Out-of-range options are refused before any room exists.
    let bad = BattleshipOptions {
        size: Some(11),
        ..options
    };
    p0.refused(&create(p0.codec.encode(&bad)?), ErrorCode::InvalidOptions)
        .await?;
    p0.send(&create(p0.codec.encode(&options)?)).await?;
    let code = p0.room_joined().await?.code;
    watcher
        .send(&ClientMsg::JoinRoom {
            code: code.clone(),
            spectate: true,
        })
        .await?;
    ensure!(watcher.room_joined().await?.seat.is_none());
    p1.send(&ClientMsg::JoinRoom {
        code,
        spectate: false,
    })
    .await?;
    ensure!(p1.room_joined().await?.seat == Some(1));

    let mut clients = [p0, p1, watcher];
    let viewers = [Some(0), Some(1), None];
    let mut views = Vec::new();
    for client in &mut clients {
        views.push(next_view(client).await?.0);
    }
    ensure!(
        views[2].size == 6 && views[2].boards[0].afloat == 3,
        "the options reached the game"
    );
    let fleets = [own_fleet(&views[0], 0), own_fleet(&views[1], 1)];
    ensure!(fleets[0].len() == 7 && fleets[1].len() == 7, "{fleets:?}");
    let mut rng = <rand::rngs::StdRng as rand::SeedableRng>::seed_from_u64(3);
    let mut shots = 0;
    while let Some(seat) = views[2].to_move {
        let mover = usize::from(seat);
        let cell = hunt_target(&views[mover], seat, &mut rng).expect("an untried cell");
        let data = clients[mover].codec.encode(&BattleshipShot { cell })?;
        clients[mover].send_input_bytes(data).await?;
        shots += 1;
        let mut events = Vec::new();
        for (i, client) in clients.iter_mut().enumerate() {
            let (view, got) = next_view(client).await?;
            check_view(&view, viewers[i], &fleets)?;
            // What the shot hit, in every view.
            let seen = view.boards[1 - mover].cells[usize::from(cell)];
            let hit = fleets[1 - mover].contains(&usize::from(cell));
            ensure!(if hit {
                seen >= cell::HIT
            } else {
                seen == cell::MISS
            });
            views[i] = view;
            events.push(got);
        }
        ensure!(
            events[0] == events[1] && events[1] == events[2],
            "{events:?}"
        );
        let first = events[0].first().cloned();
        let expected_hit = fleets[1 - mover].contains(&usize::from(cell));
        ensure!(
            first
                == Some(if expected_hit {
                    BattleshipEvent::Hit {
                        by: seat,
                        cell,
                        auto: false,
                    }
                } else {
                    BattleshipEvent::Miss {
                        by: seat,
                        cell,
                        auto: false,
                    }
                }),
            "{events:?}"
        );
        ensure!(shots <= 72, "the game ends within both boards");
    }
    let winner = views[2].winner;
    ensure!(winner.is_some() && views[2].over);
    for client in &mut clients {
        ensure!(client.game_over().await? == (winner, EndReason::Win));
    }
    server.shutdown().await;
    Ok(())
}

/// Alone in Battleship's queue with `--bot-fill-after`: the server's bot takes the other
/// seat and the game is played to its end over real sockets (the bot's shots go through
/// the room's input path like a client's, and its events reach the human).
#[tokio::test]
async fn a_lone_player_plays_battleship_against_a_server_bot() -> Result<()> {
    let mut config = test_config();
    config.matching.bot_fill_after = Some(std::time::Duration::from_millis(200));
    config.matching.retry_interval = std::time::Duration::from_millis(20);
    config.matching.bot_strategy = "perfect".into();
    let server = start(config).await;
    let url = format!("ws://{}/", server.local_addr());
    let human = BattleshipBotConfig {
        games: 1,
        ..bot(&url, Codec::MsgPack, 3)
    };
    let reports = tokio::spawn(async move { play_battleship(&human).await }).await??;
    ensure!(reports.len() == 1, "one game");
    let game = &reports[0];
    ensure!(game.reason == EndReason::Win, "{:?}", game.reason);
    let bot_seat = 1 - game.seat;
    let bot_shots = game
        .events
        .iter()
        .filter(|e| match e {
            BattleshipEvent::Miss { by, auto, .. } | BattleshipEvent::Hit { by, auto, .. } => {
                *by == bot_seat && !*auto
            }
            _ => false,
        })
        .count();
    ensure!(
        bot_shots > 0,
        "the server bot fired (not the turn timer): {:?}",
        game.events
    );
    server.shutdown().await;
    Ok(())
}
