//! Membership read from the room's output: grace and its deadline, resume, spectators,
//! seats freed and taken, and the order in which the lobby and the members hear of it.

use super::*;

#[test]
fn an_absent_player_is_heard_of_by_the_game_and_given_up_at_the_grace_deadline() {
    let mut rig = Rig::new(GameEntry::of::<Tally>(), 0);
    rig.out.take();
    rig.disconnected(2, 5);
    // A repeated notice: the first deadline stands.
    rig.disconnected(2, 7);
    for now in 6..5 + GRACE {
        rig.tick(now);
    }
    assert!(rig.left().is_empty(), "held until the deadline");
    rig.tick(5 + GRACE);
    assert_eq!(rig.left(), [2], "the room gives the place up, and says so");
    let msgs = rig.said(1);
    assert_eq!(
        just_notes(Codec::Bincode, &msgs),
        [Note::Away { seat: 1 }, Note::Left { seat: 1 }]
    );
    assert!(msgs.iter().any(|m| matches!(
        m,
        ServerMsg::Event {
            event: RoomEvent::PlayerDisconnected {
                seat: 1,
                deadline_tick: 15,
                ..
            },
            ..
        }
    )));
    assert!(msgs.iter().any(|m| matches!(
        m,
        ServerMsg::Event {
            event: RoomEvent::PlayerLeft { seat: 1 },
            tick: 15,
            ..
        }
    )));
    assert!(rig.heard(2).is_empty(), "nothing for the absent player");
}

#[test]
fn the_lobby_hears_a_place_is_given_up_before_anyone_hears_player_left() {
    let mut rig = Rig::new(GameEntry::of::<Tally>(), 0);
    rig.out.take();
    rig.disconnected(2, 5);
    rig.out.take();
    rig.tick(5 + GRACE);
    let outs = rig.out.take();
    let left = outs
        .iter()
        .position(
            |o| matches!(o, Out::Notice(Notice::MemberLeft { session, .. }) if session.get() == 2),
        )
        .expect("the lobby is told");
    let player_left = outs
        .iter()
        .position(|o| {
            msgs(std::slice::from_ref(o)).iter().any(|m| {
                matches!(
                    m,
                    ServerMsg::Event {
                        event: RoomEvent::PlayerLeft { seat: 1 },
                        ..
                    }
                )
            })
        })
        .expect("PlayerLeft");
    assert!(left < player_left, "{outs:?}");

    // Leaving: the session is out of the room before its `RoomLeft`.
    let mut rig = Rig::new(GameEntry::of::<Tally>(), 0);
    rig.out.take();
    rig.leave(1, 3);
    let outs = rig.out.take();
    let left = outs.iter().position(
        |o| matches!(o, Out::Notice(Notice::MemberLeft { session, .. }) if session.get() == 1),
    );
    let room_left = outs.iter().position(|o| {
        matches!(o, Out::Msg { to, msg } if to.session() == sid(1)
            && matches!(**msg, ServerMsg::RoomLeft { room_id: ROOM }))
    });
    assert!(left.is_some() && left < room_left, "{outs:?}");

    // Closing: the lobby learns who was still in the room before anyone hears `RoomLeft`.
    let mut rig = Rig::new(GameEntry::of::<Tally>(), 0);
    rig.out.take();
    let mut out = RoomOutput::default();
    rig.room.close(&mut out);
    let outs = out.take();
    match &outs[..] {
        [
            Out::Notice(Notice::RoomClosed {
                room: ROOM,
                members,
            }),
            Out::Msg { to: to_a, msg: a },
            Out::Msg { to: to_b, msg: b },
        ] => {
            assert_eq!(members, &[sid(1), sid(2)]);
            assert_eq!((to_a.session(), to_b.session()), (sid(1), sid(2)));
            for msg in [a, b] {
                assert!(matches!(**msg, ServerMsg::RoomLeft { room_id: ROOM }));
            }
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn a_player_back_within_the_grace_gets_what_it_missed_and_the_game_hears_of_it() {
    // A delta game, so that the old connection's acknowledgement could have been a base.
    let mut rig = Rig::new(GameEntry::with_deltas::<Tally>(), 0);
    rig.tick(2);
    let before = rig.said(2);
    let last_seq = *seqs(&before).last().unwrap();
    rig.acknowledge(2, 2);
    rig.disconnected(2, 3);
    rig.input(1, 1, 5, 4);
    rig.rebind(member(2, Codec::MsgPack), last_seq, 6);
    let missed = rig.said(2);
    assert!(matches!(missed[0], ServerMsg::RoomJoined(_)));
    let replayed = seqs(&missed);
    assert_eq!(
        replayed[0],
        last_seq + 1,
        "from the first missed event, no gap"
    );
    assert_eq!(
        just_notes(Codec::MsgPack, &missed),
        [
            Note::Away { seat: 1 },
            Note::Added { seat: 0, value: 5 },
            Note::Back { seat: 1 }
        ]
    );
    // Its next state is a full one, whatever its old connection acknowledged; the other
    // player, who acknowledged the same tick, gets a delta against it.
    rig.acknowledge(1, 2);
    rig.heard(1);
    rig.input(1, 2, 1, 7);
    let back = states(&rig.heard(2));
    assert_eq!(back.len(), 1);
    assert_eq!(back[0].base_tick, None);
    assert_eq!(states(&rig.heard(1))[0].base_tick, Some(2));
    // Nor is a tick sent before the resume a base later: only ticks from the first state
    // the new connection got.
    rig.acknowledge(2, 2);
    rig.input(1, 3, 1, 8);
    assert_eq!(states(&rig.heard(2))[0].base_tick, None);
    rig.acknowledge(2, 7);
    rig.input(1, 4, 1, 9);
    assert_eq!(states(&rig.heard(2))[0].base_tick, Some(7));
    rig.tick(20);
    assert!(rig.left().is_empty(), "no deadline after the return");
}

#[test]
fn a_resume_after_the_place_was_given_up_is_told_room_left() {
    let mut rig = Rig::new(GameEntry::of::<Tally>(), 0);
    rig.disconnected(2, 3);
    rig.tick(3 + GRACE);
    assert_eq!(rig.left(), [2]);
    rig.out.take();
    rig.rebind(member(2, Codec::MsgPack), 0, 4 + GRACE);
    assert!(matches!(
        rig.said(2)[..],
        [ServerMsg::RoomLeft { room_id: ROOM }]
    ));
    assert_eq!(rig.left(), [2], "the lobby clears the membership");
}

#[test]
fn spectators_watch_but_cannot_play() {
    let mut rig = Rig::new(GameEntry::of::<Tally>(), 0);
    let joined = rig.join(member(3, Codec::Bincode), true, 2).unwrap();
    assert_eq!(joined.seat, None);
    let history = rig.said(3);
    assert_eq!(
        seqs(&history)[0],
        1,
        "a spectator gets the room's log from its start"
    );
    assert!(
        !notes(Codec::Bincode, &history).is_empty(),
        "the game's events included"
    );
    rig.queue_input(3, 1, Codec::Bincode.encode(&1u8).unwrap());
    rig.tick(3);
    let heard = rig.heard(3);
    assert!(msgs(&heard).iter().any(|m| matches!(
        m,
        ServerMsg::Error {
            code: ErrorCode::NotAPlayer,
            input_seq: Some(1),
            ..
        }
    )));
    // It watches: the state, as a spectator sees it.
    let state = states(&heard);
    assert_eq!(state.len(), 1);
    let view: (u32, u32) = Codec::Bincode.decode(&state[0].body).unwrap();
    assert_eq!(view, (0, 0), "its input changed nothing");
    // A spectator's connection dropping holds no seat and changes no player count.
    rig.out.take();
    rig.disconnected(3, 4);
    assert!(
        rig.said(1).is_empty(),
        "no PlayerDisconnected for a spectator"
    );
    assert_eq!(rig.room.summary().players, 2);
}

#[test]
fn a_freed_seat_is_taken_in_progress_only_by_games_that_allow_it() {
    let mut rig = Rig::new(GameEntry::of::<Tally>(), 0);
    rig.leave(2, 3);
    let newcomer = member(4, Codec::Bincode);
    let joined = rig.join(newcomer, false, 4);
    assert_eq!(joined.unwrap().seat, Some(1), "the seat the room freed");
    let notes = just_notes(Codec::Bincode, &rig.said(1));
    assert_eq!(
        notes[notes.len() - 2..],
        [Note::Left { seat: 1 }, Note::Joined { seat: 1 }]
    );

    let mut relay = Rig::new(GameEntry::relay(&GameEntry::of::<Tally>()), 0);
    relay.leave(2, 3);
    let refused = relay.join(member(4, Codec::Bincode), false, 4);
    assert_eq!(refused.unwrap_err(), ErrorCode::GameAlreadyStarted);
}

#[test]
fn a_game_without_an_end_of_its_own_is_reported_once_when_every_player_has_left() {
    let mut rig = Rig::new(GameEntry::of::<Tally>(), 0);
    rig.disconnected(1, 5);
    rig.disconnected(2, 5);
    for now in 6..5 + GRACE {
        assert!(!rig.tick(now), "seats held for the grace");
    }
    assert!(rig.finished().is_empty());
    assert!(rig.left().is_empty());
    assert!(rig.tick(5 + GRACE), "nobody seated: the room closes");
    assert_eq!(rig.left(), [1, 2], "both places given up at the deadline");
    let finished = rig.finished();
    assert_eq!(finished.len(), 1, "reported once");
    assert_eq!(
        finished[0].outcome,
        Outcome {
            winner: None,
            reason: crate::protocol::EndReason::Abandoned
        }
    );
    assert_eq!(finished[0].players.len(), 2, "the roster keeps who played");
    // Closing: nobody is left to tell.
    let room = rig.room;
    let mut out = RoomOutput::default();
    room.close(&mut out);
    match &out.take()[..] {
        [
            Out::Notice(Notice::RoomClosed {
                room: ROOM,
                members,
            }),
        ] => assert!(members.is_empty()),
        other => panic!("{other:?}"),
    }
}

#[test]
fn a_notice_about_a_connection_the_member_already_left_for_another_is_stale() {
    let mut rig = Rig::new(GameEntry::of::<Tally>(), 0);
    let first = rig.room.member_link(sid(2)).expect("connected").outbox;
    // The player resumes on a new connection, and the room hears of that first; the old
    // connection's notice arrives after it.
    rig.disconnected(2, 3);
    rig.rebind(member(2, Codec::MsgPack), 0, 4);
    let now_on = rig.room.member_link(sid(2)).expect("back").outbox;
    rig.out.take();
    let stale = Outbox::new(Codec::MsgPack, 4);
    rig.disconnected_from(2, &stale, 5);
    rig.disconnected_from(2, &first, 5);
    let link = rig.room.member_link(sid(2)).expect("still connected");
    assert!(Arc::ptr_eq(&link.outbox, &now_on));
    assert!(
        !rig.out.take().iter().any(|o| matches!(
            o,
            Out::Event { frame, .. } if Codec::MsgPack.decode::<ServerMsg>(frame).is_ok_and(|m| matches!(
                m,
                ServerMsg::Event { event: RoomEvent::PlayerDisconnected { .. }, .. }
            ))
        )),
        "nobody is told it is away"
    );
    // Its own connection dropping still counts.
    rig.disconnected_from(2, &now_on, 6);
    assert!(rig.room.member_link(sid(2)).is_none(), "away");
}

#[test]
fn a_notice_about_another_connection_counts_when_the_members_own_was_closed() {
    let mut rig = Rig::new(GameEntry::of::<Tally>(), 0);
    // Two takeovers whose `Rebind`s land out of order: the room is left on the first new
    // connection, which the second takeover closed. The second one then drops.
    let first = Outbox::new(Codec::MsgPack, 64);
    rig.rebind(
        Member {
            session: sid(2),
            outbox: first.clone(),
        },
        0,
        3,
    );
    first.close(4000, "taken over");
    let second = Outbox::new(Codec::MsgPack, 64);
    rig.disconnected_from(2, &second, 4);
    assert!(
        rig.room.member_link(sid(2)).is_none(),
        "away, its grace running"
    );
}
