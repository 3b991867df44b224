//! Fuzz target bodies for `ClientMsg` decoding, one per codec.

use crate::codec::{Codec, CodecError, MAX_DECODE_BYTES};
use crate::protocol::ClientMsg;

/// [`client_msg`] with [`Codec::Bincode`].
pub fn client_msg_bincode(data: &[u8]) {
    client_msg(Codec::Bincode, data);
}

/// [`client_msg`] with [`Codec::MsgPack`].
pub fn client_msg_msgpack(data: &[u8]) {
    client_msg(Codec::MsgPack, data);
}

/// Decodes `data` as a [`ClientMsg`] as a connection's reader does (`envelope::read_input`,
/// then `decode_client_msg_by_serde`: together `decode_client_msg`), with the codec's
/// limits. When it decodes, checks that the message survives a round trip through both
/// codecs, that no strict prefix of `data` decodes, and that one extra byte is refused as
/// trailing.
///
/// # Panics
/// When one of those properties breaks.
pub fn client_msg(codec: Codec, data: &[u8]) {
    // The reader's decoder: the strict one, plus the bincode `Hello` of older clients.
    let lenient = codec.decode_client_msg(data);
    let msg = match codec.decode::<ClientMsg>(data) {
        Ok(msg) => msg,
        Err(err) => {
            // Error texts end up in logs; building them must not panic either.
            let _ = err.to_string();
            if data.len() > MAX_DECODE_BYTES {
                assert!(matches!(err, CodecError::TooLarge(n) if n == data.len()));
            }
            return;
        }
    };
    assert_eq!(
        lenient.as_ref().ok(),
        Some(&msg),
        "the reader's decoder disagrees with the strict one"
    );
    for other in Codec::ALL {
        let bytes = other
            .encode(&msg)
            .unwrap_or_else(|e| panic!("{other:?} cannot encode decoded {msg:?}: {e}"));
        // A MessagePack client may send structs as arrays, which re-encode larger as maps.
        if bytes.len() <= MAX_DECODE_BYTES {
            let back: ClientMsg = other
                .decode(&bytes)
                .unwrap_or_else(|e| panic!("{other:?} re-encoding of {msg:?} fails: {e}"));
            assert_eq!(back, msg, "{other:?} round trip");
        }
    }
    // A decoder is deterministic, so a strict prefix of a message can never be a message.
    for cut in [data.len() / 2, data.len().saturating_sub(1)] {
        if cut < data.len() {
            assert!(
                codec.decode::<ClientMsg>(&data[..cut]).is_err(),
                "a {cut}-byte prefix of a {}-byte message decoded",
                data.len()
            );
        }
    }
    if data.len() < MAX_DECODE_BYTES {
        let mut longer = data.to_vec();
        longer.push(0);
        assert!(
            matches!(
                codec.decode::<ClientMsg>(&longer),
                Err(CodecError::TrailingBytes(1))
            ),
            "one extra byte after {msg:?} was not refused as trailing"
        );
    }
}
