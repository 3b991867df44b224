use super::*;

fn header() -> ReplayHeader {
    ReplayHeader {
        game: "tictactoe".into(),
        tick_hz: 30,
        settings: RoomSettings::default(),
        players: 2,
        start: 100,
        hash_every: 30,
        seed: 0,
    }
}

fn read_all(bytes: &[u8]) -> Result<Vec<Record<'_>>, ReplayError> {
    let (_, mut reader) = LogReader::new(bytes)?;
    let mut records = Vec::new();
    while let Some(record) = reader.next_record()? {
        records.push(record);
    }
    Ok(records)
}

#[test]
fn consecutive_ticks_are_one_run_and_gaps_are_explicit() {
    let mut log = LogWriter::new(&header(), 1 << 20, 64);
    for now in 101..=110 {
        log.tick(now);
    }
    log.input(111, 1, Codec::MsgPack, 300, &[0x81, 0xa4]);
    log.tick(111);
    log.tick(115); // three skipped slots
    log.abandon(115, 0);
    log.disconnect(115, 1);
    log.reconnect(116, 1);
    log.join(114, 0);
    log.check(115, 0xdead_beef);
    let outcome = Outcome {
        winner: Some(1),
        reason: EndReason::Abandoned,
    };
    let bytes = log.finish(115, outcome, 7).unwrap();
    let records = read_all(&bytes).unwrap();
    assert_eq!(
        records,
        [
            Record::Ticks(10),
            Record::Input {
                now: 111,
                seat: 1,
                codec: Codec::MsgPack,
                seq: 300,
                data: &[0x81, 0xa4],
            },
            Record::Ticks(1),
            Record::TickAt(115),
            Record::Abandon { now: 115, seat: 0 },
            Record::Disconnect { now: 115, seat: 1 },
            Record::Reconnect { now: 116, seat: 1 },
            Record::Join { now: 114, seat: 0 },
            Record::Check {
                tick: 115,
                hash: 0xdead_beef
            },
            Record::End {
                tick: 115,
                outcome,
                hash: 7
            },
        ]
    );
    assert_eq!(encode_records(&header(), &records), bytes);
}

#[test]
fn a_log_over_its_limit_is_dropped_and_finishes_empty() {
    let mut log = LogWriter::new(&header(), 64, 64);
    for i in 0..20 {
        log.input(101, 0, Codec::Bincode, 0, &[i]);
    }
    assert!(log.overflowed());
    let outcome = Outcome {
        winner: None,
        reason: EndReason::Draw,
    };
    assert_eq!(log.finish(101, outcome, 0), None);
}

#[test]
fn every_truncation_of_a_log_is_an_error_not_a_panic() {
    let mut log = LogWriter::new(&header(), 1 << 20, 64);
    log.tick(101);
    log.input(102, 0, Codec::Bincode, 0, &[4]);
    log.check(102, u64::MAX);
    let outcome = Outcome {
        winner: Some(0),
        reason: EndReason::Win,
    };
    let bytes = log.finish(102, outcome, 1).unwrap();
    for len in 0..bytes.len() {
        // A cut may fall between records (a valid prefix) or inside one (an error);
        // either way nothing panics and nothing reads past the end.
        let _ = read_all(&bytes[..len]);
    }
    assert!(matches!(
        read_all(&bytes[..3]),
        Err(ReplayError::NotAReplay)
    ));
    let mut wrong = bytes.clone();
    wrong[4] = 9;
    assert!(matches!(read_all(&wrong), Err(ReplayError::Version(9))));
}

#[test]
fn overlong_numbers_and_unknown_tags_are_refused() {
    let mut bytes = LogWriter::new(&header(), 1 << 20, 64).buf;
    let records_at = bytes.len();
    bytes.push(TAG_TICKS);
    bytes.extend_from_slice(&[0xff; 11]);
    assert!(matches!(
        read_all(&bytes),
        Err(ReplayError::BadRecord { offset, .. }) if offset == records_at + 1
    ));
    bytes.truncate(records_at);
    bytes.push(0x7f);
    assert!(matches!(
        read_all(&bytes),
        Err(ReplayError::BadRecord { offset, .. }) if offset == records_at
    ));
}
