use super::*;
use crate::codec::Codec;

fn binding(conn_id: u64) -> Binding {
    Binding {
        conn_id,
        outbox: Outbox::new(Codec::Bincode, 8),
    }
}

fn identity(player: &str) -> Identity {
    Identity {
        player_id: player.into(),
        display_name: player.into(),
        rating: Some(1700),
    }
}

#[test]
fn tokens_name_their_session_and_rotate() {
    let table = SessionTable::default();
    let (session, token) = table.open(binding(1), 5.0);
    assert_eq!(token.len(), 48);
    assert_eq!(token_id(&token), Some(session.id()));
    // A wrong secret for the right id, a truncated token and junk all fail.
    let mut wrong = token.clone();
    let last = wrong.pop().unwrap();
    wrong.push(if last == '0' { '1' } else { '0' });
    for bad in [wrong.as_str(), &token[..47], "", "zz", &"0".repeat(48)] {
        assert!(table.resume(bad, binding(2)).is_none(), "{bad:?}");
    }
    let (same, fresh, previous) = table.resume(&token, binding(3)).unwrap();
    assert_eq!(same.id(), session.id());
    assert_eq!(previous.unwrap().conn_id, 1);
    assert_ne!(fresh, token);
    assert!(table.resume(&token, binding(4)).is_none(), "rotated");
}

#[test]
fn a_redirected_resume_needs_the_current_tokens_hash() {
    use crate::cluster::resume::token_sha;
    let table = SessionTable::default();
    let (session, token) = table.open(binding(1), 5.0);
    // Another session's id, a wrong hash, a hash of a rotated token: refused.
    assert!(
        table
            .resume_hashed(SessionId::new(99), &token_sha(&token), binding(2))
            .is_none()
    );
    assert!(
        table
            .resume_hashed(session.id(), &token_sha("not the token"), binding(2))
            .is_none()
    );
    let (same, fresh, previous) = table
        .resume_hashed(session.id(), &token_sha(&token), binding(3))
        .unwrap();
    assert_eq!(same.id(), session.id());
    assert_eq!(previous.unwrap().conn_id, 1);
    assert_ne!(fresh, token);
    assert!(
        table
            .resume_hashed(session.id(), &token_sha(&token), binding(4))
            .is_none(),
        "the old token's hash is void once the token rotated"
    );
    assert!(table.resume(&token, binding(5)).is_none());
    assert!(table.resume(&fresh, binding(6)).is_some());
}

#[test]
fn one_session_per_player() {
    let table = SessionTable::default();
    let first = table.login(identity("ada"), binding(1), 5.0);
    assert!(!first.resumed && first.previous.is_none());
    assert_eq!(first.session.lock().rating, 1700);
    let second = table.login(
        Identity {
            rating: None,
            ..identity("ada")
        },
        binding(2),
        5.0,
    );
    assert!(second.resumed);
    assert_eq!(second.session.id(), first.session.id());
    assert_eq!(second.previous.unwrap().conn_id, 1);
    assert_eq!(second.session.lock().rating, DEFAULT_RATING);
    let other = table.login(identity("bob"), binding(3), 5.0);
    assert_ne!(other.session.id(), first.session.id());
    assert_eq!(table.len(), 2);
    table.remove(first.session.id());
    let again = table.login(identity("ada"), binding(4), 5.0);
    assert!(
        !again.resumed,
        "a removed session is not found by its player"
    );
}

#[test]
fn a_redirected_login_takes_the_named_session_only_if_it_is_the_players() {
    let table = SessionTable::default();
    // Ada's lobby session, then a seat reserved for her (another session of hers).
    let lobby = table.login(identity("ada"), binding(1), 5.0);
    let (seat, _) = table.open_as(binding(2), 5.0, Some(identity("ada")));
    assert_ne!(seat.id(), lobby.session.id());
    let (bob, _) = table.open_as(binding(3), 5.0, Some(identity("bob")));
    // Named by another node's ticket: the seated one is taken, and is hers from now.
    let taken = table.login_at(seat.id(), identity("ada"), binding(4), 5.0);
    assert!(taken.resumed);
    assert_eq!(taken.session.id(), seat.id());
    assert_eq!(taken.previous.unwrap().conn_id, 2);
    assert!(table.has_player("ada"));
    let again = table.login(identity("ada"), binding(5), 5.0);
    assert_eq!(again.session.id(), seat.id());
    // Bob's session is not hers: her own session instead.
    let not_bobs = table.login_at(bob.id(), identity("ada"), binding(6), 5.0);
    assert_eq!(not_bobs.session.id(), seat.id());
    // A session that ended: a login as usual (a new one when she has none).
    table.remove(seat.id());
    table.remove(lobby.session.id());
    assert!(!table.has_player("ada"));
    let fresh = table.login_at(seat.id(), identity("ada"), binding(7), 5.0);
    assert!(!fresh.resumed);
    assert_ne!(fresh.session.id(), seat.id());
}

#[test]
fn a_closed_connections_session_ends_only_while_no_other_connection_took_it() {
    let table = SessionTable::default();
    let (session, token) = table.open(binding(1), 5.0);
    session.lock().queued = Some("tictactoe");
    // The connection closes and lets the session go; another resumes it before the
    // session is ended: it stays, bound to the new connection, with its queue place.
    session.lock().binding = None;
    let (resumed, _, _) = table.resume(&token, binding(2)).expect("resumed");
    assert!(table.end_if_unbound(session.id()).is_none());
    assert!(table.get(session.id()).is_some());
    assert_eq!(resumed.lock().binding.as_ref().map(|b| b.conn_id), Some(2));
    assert_eq!(resumed.lock().queued, Some("tictactoe"));

    // Let go again with nobody taking it: it ends, and its token with it, and says where
    // it was.
    resumed.lock().binding = None;
    resumed.lock().queued = Some("tictactoe");
    let ended = table.end_if_unbound(session.id()).expect("ended");
    assert_eq!((ended.room, ended.queued), (None, Some("tictactoe")));
    assert!(resumed.lock().queued.is_none());
    assert!(table.get(session.id()).is_none());
    assert!(
        table.end_if_unbound(session.id()).is_none(),
        "already ended"
    );
}
