//! What a read error from tungstenite says about the client, and the close code it earns.
//!
//! tungstenite reports a client's WebSocket protocol violations as read errors and leaves
//! the connection open for us to close. RFC 6455 gives each kind its code: a framing or
//! protocol violation 1002, a text message that is not UTF-8 1007, a frame or message over
//! the size cap 1009. A reset or an ordinary end needs no close frame.

use tokio_tungstenite::tungstenite::Error;
use tokio_tungstenite::tungstenite::error::ProtocolError;

use crate::limits::LimitReason;
use crate::protocol::close_code;

/// How to close a connection after a read error.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Violation {
    /// The close code.
    pub code: u16,
    /// The close frame's reason.
    pub reason: &'static str,
    /// The counter it is counted under.
    pub counted: LimitReason,
}

/// The close a read error calls for; `None` when the client is simply gone (a reset, a
/// closed socket), so there is nobody to tell.
pub fn classify(error: &Error) -> Option<Violation> {
    let violation = |code, reason, counted| {
        Some(Violation {
            code,
            reason,
            counted,
        })
    };
    match error {
        Error::Capacity(_) => violation(
            close_code::MESSAGE_TOO_BIG,
            "message too big",
            LimitReason::TooBig,
        ),
        Error::Utf8(_) => violation(
            close_code::INVALID_PAYLOAD,
            "text message is not valid UTF-8",
            LimitReason::InvalidUtf8,
        ),
        Error::Protocol(ProtocolError::ResetWithoutClosingHandshake) => None,
        Error::Protocol(protocol) => violation(
            close_code::PROTOCOL_ERROR,
            protocol_reason(protocol),
            LimitReason::ProtocolViolation,
        ),
        Error::AttackAttempt => violation(
            close_code::PROTOCOL_ERROR,
            "protocol violation",
            LimitReason::ProtocolViolation,
        ),
        _ => None,
    }
}

/// A short close reason for each violation (a close frame's reason has at most 123 bytes).
fn protocol_reason(error: &ProtocolError) -> &'static str {
    match error {
        ProtocolError::NonZeroReservedBits => "reserved bits set",
        ProtocolError::UnmaskedFrameFromClient => "unmasked client frame",
        ProtocolError::FragmentedControlFrame => "fragmented control frame",
        ProtocolError::ControlFrameTooBig => "control frame over 125 bytes",
        ProtocolError::UnknownControlFrameType(_) | ProtocolError::UnknownDataFrameType(_) => {
            "unknown opcode"
        }
        ProtocolError::InvalidOpcode(_) => "unknown opcode",
        ProtocolError::UnexpectedContinueFrame => "continuation frame without a start",
        ProtocolError::ExpectedFragment(_) => "new message inside a fragmented one",
        ProtocolError::InvalidCloseSequence => "invalid close frame",
        _ => "protocol violation",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio_tungstenite::tungstenite::error::CapacityError;
    use tokio_tungstenite::tungstenite::protocol::frame::coding::Data;

    #[test]
    fn violations_map_to_their_rfc_codes() {
        let code = |e: Error| classify(&e).map(|v| v.code);
        for protocol in [
            ProtocolError::NonZeroReservedBits,
            ProtocolError::UnmaskedFrameFromClient,
            ProtocolError::UnknownDataFrameType(3),
            ProtocolError::UnknownControlFrameType(11),
            ProtocolError::UnexpectedContinueFrame,
            ProtocolError::ExpectedFragment(Data::Binary),
            ProtocolError::FragmentedControlFrame,
            ProtocolError::ControlFrameTooBig,
        ] {
            assert_eq!(code(Error::Protocol(protocol)), Some(1002));
        }
        assert_eq!(
            code(Error::Capacity(CapacityError::MessageTooLong {
                size: 20_000,
                max_size: 16_384
            })),
            Some(1009)
        );
        assert_eq!(code(Error::Utf8("invalid utf-8".into())), Some(1007));
        assert_eq!(
            code(Error::Protocol(ProtocolError::ResetWithoutClosingHandshake)),
            None
        );
        assert_eq!(code(Error::ConnectionClosed), None);
        assert_eq!(code(Error::AlreadyClosed), None);
    }
}
