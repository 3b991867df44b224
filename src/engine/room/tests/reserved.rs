//! Reserved seats (`room/reserved.rs`): a quick match placed by the cluster waits for its
//! redirected players, starts when the last one arrives, and is called off (no result,
//! the present players told and reported for queueing again) when one does not.

use std::time::Duration;

use super::*;
use crate::engine::Reserved;
use crate::protocol::RoomStatus;

/// A quick-match room of Tally created at tick 1: session 1 connected, session 2's seat
/// reserved for one second (10 ticks at 10 Hz: the deadline is tick 11).
fn placed() -> Rig {
    let new = NewRoom {
        game: GameEntry::of::<Tally>(),
        settings: RoomSettings::default(),
        code: "ROOM".into(),
        public: true,
        players: vec![member(1, Codec::Bincode), member(2, Codec::Bincode)],
        bots: Default::default(),
        start_now: true,
        reserved: Reserved {
            sessions: vec![sid(2)],
            wait: Duration::from_secs(1),
        },
    };
    Rig::with(new, limits(0, 64))
}

fn started(msgs: &[ServerMsg]) -> bool {
    msgs.iter().any(|m| {
        matches!(
            m,
            ServerMsg::Event {
                event: RoomEvent::GameStarted,
                ..
            }
        )
    })
}

#[test]
fn a_placed_match_waits_for_every_reserved_seat() {
    let mut rig = placed();
    assert!(matches!(rig.said(1)[0], ServerMsg::MatchFound(_)));
    assert_eq!(rig.room.summary().status, RoomStatus::Waiting);
    // The present player cannot play yet, and the room holds on up to its deadline.
    rig.queue_input(1, 1, Codec::Bincode.encode(&3u8).unwrap());
    for now in 2..11 {
        assert!(!rig.tick(now), "closed at tick {now}");
    }
    let msgs = rig.said(1);
    assert!(!started(&msgs), "{msgs:?}");
    assert!(msgs.iter().any(|m| matches!(
        m,
        ServerMsg::Error {
            code: ErrorCode::GameNotRunning,
            input_seq: Some(1),
            ..
        }
    )));
    assert_eq!(rig.room.summary().status, RoomStatus::Waiting);
    assert!(rig.finished().is_empty());
    // Nothing went to the reserved player's placeholder after its seat was held.
    rig.heard(2);
    rig.tick(10);
    assert!(rig.heard(2).is_empty());
}

#[test]
fn the_game_starts_when_the_last_reserved_player_arrives() {
    let mut rig = placed();
    rig.tick(2);
    rig.said(1);
    rig.heard(2);
    // The redirected player's ticket was redeemed: its connection rebinds at tick 5.
    rig.rebind(member(2, Codec::MsgPack), 0, 5);
    let arrived = rig.said(2);
    assert!(
        matches!(&arrived[0], ServerMsg::RoomJoined(j) if j.seat == Some(1)),
        "{arrived:?}"
    );
    assert!(started(&arrived), "{arrived:?}");
    assert!(started(&rig.said(1)));
    assert_eq!(rig.room.summary().status, RoomStatus::Running);
    // An arrival is no reconnect: nobody hears PlayerReconnected.
    assert!(!arrived.iter().any(|m| matches!(
        m,
        ServerMsg::Event {
            event: RoomEvent::PlayerReconnected { .. },
            ..
        }
    )));
    // Past the deadline nothing is called off, and the game takes inputs.
    rig.input(2, 1, 4, 12);
    assert!(!rig.tick(30));
    assert!(rig.left().is_empty());
    assert!(just_notes(Codec::Bincode, &rig.said(1)).contains(&Note::Added { seat: 1, value: 4 }));
}

#[test]
fn a_reservation_not_taken_calls_the_match_off_and_reports_the_present_players() {
    let mut rig = placed();
    for now in 2..11 {
        rig.tick(now);
    }
    rig.said(1);
    rig.heard(2);
    rig.take_notices();
    rig.notices.clear();
    assert!(rig.tick(11), "the room closes at the deadline");
    let outs = rig.out.take();
    // In seat order: the present player hears why, the lobby takes it out of the room, it
    // hears RoomLeft; the reserved session is dropped; then the lobby hears who to queue
    // again.
    let order: Vec<String> = outs
        .iter()
        .map(|o| match o {
            Out::Msg { to, msg } => match &**msg {
                ServerMsg::Error { code, .. } => format!("{} error {code:?}", to.session()),
                ServerMsg::RoomLeft { .. } => format!("{} room left", to.session()),
                other => format!("{} {other:?}", to.session()),
            },
            Out::Notice(Notice::MemberLeft { session, .. }) => format!("left {session}"),
            Out::Notice(Notice::MatchCalledOff { present, .. }) => {
                format!("cancelled {present:?}")
            }
            other => format!("{other:?}"),
        })
        .collect();
    assert_eq!(
        order,
        [
            "1 error MatchCalledOff",
            "left 1",
            "1 room left",
            "left 2",
            "cancelled [SessionId(1)]"
        ]
    );
    // No game was played: nothing reported, so nothing recorded and no rating moves.
    assert!(rig.finished().is_empty());
    // The shard then closes the room with nobody left in it.
    let mut out = RoomOutput::default();
    let Rig { room, .. } = rig;
    room.close(&mut out);
    assert!(matches!(
        out.take().as_slice(),
        [Out::Notice(Notice::RoomClosed { members, .. })] if members.is_empty()
    ));
}

#[test]
fn a_player_leaving_while_the_match_waits_calls_it_off_at_the_next_tick() {
    let mut rig = placed();
    rig.tick(2);
    rig.leave(1, 3);
    assert!(rig.tick(4));
    rig.take_notices();
    assert!(rig.notices.iter().any(|n| matches!(
        n,
        Notice::MatchCalledOff { present, .. } if present.is_empty()
    )));
    assert!(rig.finished().is_empty());
}
