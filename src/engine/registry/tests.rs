use super::*;
use crate::game::tictactoe::{TicTacToe, TicTacToeOptions};

#[test]
fn options_are_kept_in_one_form_whatever_the_codec_and_the_defaults_as_empty() {
    let check = GameEntry::of::<TicTacToe>().check_options;
    let five = TicTacToeOptions {
        turn_seconds: Some(5),
    };
    let kept: Vec<Bytes> = Codec::ALL
        .iter()
        .map(|codec| check(*codec, &codec.encode(&five).unwrap()).unwrap())
        .collect();
    assert_eq!(kept[0], kept[1], "the same options from either codec");
    assert_eq!(kept[0], Codec::Bincode.encode(&five).unwrap());
    // The defaults, sent empty, explicitly, or as an empty MessagePack map, are empty.
    let default = TicTacToeOptions::default();
    assert_eq!(check(Codec::Bincode, &[]).unwrap(), Bytes::new());
    assert_eq!(
        check(Codec::Bincode, &Codec::Bincode.encode(&default).unwrap()).unwrap(),
        Bytes::new()
    );
    assert_eq!(check(Codec::MsgPack, &[0x80]).unwrap(), Bytes::new());
    // Refused: out of range, not the type, trailing bytes.
    let zero = TicTacToeOptions {
        turn_seconds: Some(0),
    };
    assert!(check(Codec::MsgPack, &Codec::MsgPack.encode(&zero).unwrap()).is_err());
    assert!(check(Codec::Bincode, &[7, 7, 7]).is_err());
    assert!(check(Codec::Bincode, &[0, 0]).is_err());
}

fn arena() -> WithDeltas<crate::game::arena::Arena> {
    let config = GameConfig {
        tick_hz: 30,
        settings: crate::protocol::RoomSettings::default(),
        players: 2,
        seed: 0,
    };
    WithDeltas::new(Erased::new(&config, 0), 64)
}

#[test]
fn history_keeps_at_most_its_capacity() {
    let mut game = arena();
    for now in 1..=100 {
        game.record_view(now);
    }
    assert!(!game.has_base(36));
    assert!((37..=100).all(|t| game.has_base(t)));
}

#[test]
fn forgotten_views_are_no_base_and_their_memory_is_given_back() {
    let mut game = arena();
    for now in 1..=64 {
        game.record_view(now);
    }
    let grown = game.history.capacity();
    assert!(grown >= 64);
    game.forget_before(62);
    assert!((1..62).all(|t| !game.has_base(t)));
    assert!((62..=64).all(|t| game.has_base(t)));
    let mut buf = BytesMut::new();
    assert!(!game.encode_delta(61, 64, Codec::Bincode, &mut buf).unwrap());
    assert!(game.encode_delta(62, 64, Codec::Bincode, &mut buf).unwrap());
    assert!(
        game.history.capacity() <= SMALL_HISTORY,
        "{}",
        game.history.capacity()
    );

    // In steady state (members a tick or two behind) the queue stays small.
    for now in 65..=1000 {
        game.record_view(now);
        game.forget_before(now - 2);
    }
    assert_eq!(game.history.len(), 3);
    assert!(game.history.capacity() <= SMALL_HISTORY);
}
