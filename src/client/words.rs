//! What the client says to people: error and close codes in words (not enum names), and
//! one sentence with a hint when the server cannot be reached. Used by [`ClientError`]'s
//! messages and by the examples.

use std::time::Duration;

use tokio_tungstenite::tungstenite;

use super::ClientError;
use crate::protocol::{ErrorCode, close_code};

/// A server `Error` code in words, with its number.
pub fn error_code(code: ErrorCode) -> String {
    let words = match code {
        ErrorCode::BadMessage => "a message could not be decoded",
        ErrorCode::UnsupportedVersion => "the server speaks another protocol version",
        ErrorCode::HelloRequired => "Hello must come first, and only once",
        ErrorCode::TextFrame => "text frames are not accepted (binary only)",
        ErrorCode::TooManyErrors => "too many bad messages",
        ErrorCode::UnknownGame => "the server has no such game",
        ErrorCode::NotInRoom => "not in a room",
        ErrorCode::AlreadyInRoom => "already in a room",
        ErrorCode::AlreadyQueued => "already waiting for a match",
        ErrorCode::NotQueued => "not waiting for a match",
        ErrorCode::UnknownRoomCode => "no room has that code",
        ErrorCode::RoomFull => "the room is full",
        ErrorCode::GameAlreadyStarted => "the game has already started",
        ErrorCode::SpectatorsNotAllowed => "the room does not admit spectators",
        ErrorCode::NotAPlayer => "spectators cannot play",
        ErrorCode::NotYourTurn => "not your turn",
        ErrorCode::IllegalInput => "that move breaks the rules",
        ErrorCode::GameNotRunning => "the game is not running",
        ErrorCode::InvalidResumeToken => "the session could not be resumed (expired token)",
        ErrorCode::ChatTooLong => "the chat message is empty or too long",
        ErrorCode::RateLimited => "too many messages; slow down",
        ErrorCode::ServerBusy => "the server is busy or shutting down",
        ErrorCode::InvalidText => "the chat text holds control or invisible characters",
        ErrorCode::TooManyCodeGuesses => "too many room codes that named no room",
        ErrorCode::AuthRequired => "this server needs a login token",
        ErrorCode::TokenExpired => "the login token has expired",
        ErrorCode::TokenNotYetValid => "the login token is not valid yet",
        ErrorCode::TokenBadSignature => "the login token's signature does not verify",
        ErrorCode::TokenWrongIssuer => "the login token comes from another issuer",
        ErrorCode::TokenWrongAudience => "the login token is for another audience",
        ErrorCode::TokenWrongAlgorithm => "the login token uses an algorithm the server refuses",
        ErrorCode::TokenUnsigned => "the login token is unsigned",
        ErrorCode::TokenMalformed => "the login token is malformed",
        ErrorCode::ShuttingDown => "the server is shutting down: no new games",
        ErrorCode::InvalidOptions => "the game refused the room's options",
        ErrorCode::RoomClosed => "the server's operator closed the room",
        ErrorCode::Kicked => "the server's operator ended the session",
        ErrorCode::NoRecords => "the server keeps no records",
        ErrorCode::RecordsUnavailable => "the server's results database did not answer in time",
        ErrorCode::TicketInvalid => "the seat ticket is malformed or its signature is wrong",
        ErrorCode::TicketExpired => "the seat ticket has expired",
        ErrorCode::TicketWrongNode => "the seat ticket is for another node",
        ErrorCode::TicketUsed => "the seat ticket was already used",
        ErrorCode::ClusterUnavailable => "the server cannot reach its cluster now",
        ErrorCode::ReservationExpired => "the reserved seat is no longer held",
        ErrorCode::NodeLost => "the node that held the session is gone; its game ended",
        ErrorCode::MatchCalledOff => "the match was called off: a player did not arrive",
        ErrorCode::TicketWrongPlayer => "the ticket was issued to another player",
    };
    format!("{words} (error {})", code as u16)
}

/// A WebSocket close code in words, with its number; `None` for a connection that ended
/// without a close frame.
pub fn close(code: Option<u16>) -> String {
    let Some(code) = code else {
        return "the connection ended without a close frame".to_string();
    };
    let words = match code {
        close_code::NORMAL => "normal closure",
        close_code::GOING_AWAY => "the server is shutting down",
        close_code::UNSUPPORTED_DATA => "text frames are not accepted",
        close_code::POLICY_VIOLATION => "too many bad messages",
        close_code::MESSAGE_TOO_BIG => "a message was too big",
        close_code::INTERNAL_ERROR => "the server hit an internal error",
        close_code::UNSUPPORTED_VERSION => "unsupported protocol version",
        close_code::HELLO_REQUIRED => "no Hello in time",
        close_code::SESSION_TAKEN_OVER => "another connection took this session over",
        close_code::TOO_SLOW => "the client read too slowly",
        close_code::IDLE_TIMEOUT => "nothing was received for too long",
        close_code::INVALID_RESUME_TOKEN => "the resume token was refused",
        close_code::KICKED => "the server's operator ended the session",
        close_code::TICKET_REFUSED => "the seat ticket was refused",
        close_code::TRY_AGAIN_LATER => "the cluster cannot be reached now: try again",
        close_code::RESUME_ELSEWHERE => "the session is on another node: follow the redirect",
        close_code::PROTOCOL_ERROR => "the client broke the WebSocket protocol",
        close_code::INVALID_PAYLOAD => "a text message was not valid UTF-8",
        close_code::TOO_MANY_CODE_GUESSES => "too many room codes that named no room",
        close_code::AUTH_REQUIRED => "this server needs a login token",
        close_code::TOKEN_EXPIRED => "the login token has expired",
        close_code::TOKEN_NOT_YET_VALID => "the login token is not valid yet",
        close_code::TOKEN_BAD_SIGNATURE => "the login token's signature does not verify",
        close_code::TOKEN_WRONG_ISSUER => "the login token comes from another issuer",
        close_code::TOKEN_WRONG_AUDIENCE => "the login token is for another audience",
        close_code::TOKEN_WRONG_ALGORITHM => "the login token's algorithm is refused",
        close_code::TOKEN_UNSIGNED => "the login token is unsigned",
        close_code::TOKEN_MALFORMED => "the login token is malformed",
        _ => "an unknown reason",
    };
    format!("{words} (close code {code})")
}

/// Seconds, for people: `30 s`, `0.5 s`.
pub fn seconds(duration: Duration) -> String {
    format!("{} s", duration.as_secs_f64())
}

impl ClientError {
    /// Whether nothing answered at the address: refused, unreachable, or no handshake.
    pub fn is_unreachable(&self) -> bool {
        use std::io::ErrorKind;
        match self {
            ClientError::WebSocket(tungstenite::Error::Io(error)) => matches!(
                error.kind(),
                ErrorKind::ConnectionRefused
                    | ErrorKind::ConnectionReset
                    | ErrorKind::HostUnreachable
                    | ErrorKind::NetworkUnreachable
                    | ErrorKind::AddrNotAvailable
                    | ErrorKind::NotFound
            ),
            ClientError::WebSocket(tungstenite::Error::Url(_)) => true,
            ClientError::Timeout(_, "the WebSocket handshake") => true,
            _ => false,
        }
    }
}

impl ClientError {
    /// Whether a `wss://` handshake failed because no trusted root vouches for the server's
    /// certificate (e.g. one a local CA signed, without `--ca-file`).
    pub fn is_untrusted_certificate(&self) -> bool {
        let ClientError::WebSocket(tungstenite::Error::Io(error)) = self else {
            return false;
        };
        matches!(
            error
                .get_ref()
                .and_then(|inner| inner.downcast_ref::<rustls::Error>()),
            Some(rustls::Error::InvalidCertificate(_))
        )
    }
}

/// One sentence for a person about `error` while talking to `url`: when the server cannot
/// be reached, says so with the URL and how to start one; when its certificate is not
/// trusted, names `--ca-file`.
pub fn explain(error: &ClientError, url: &str) -> String {
    if error.is_untrusted_certificate() {
        format!(
            "the server at {url} showed a certificate no trusted root vouches for ({error}); \
             if a CA of your own signed it, pass --ca-file with that CA's PEM file"
        )
    } else if error.is_unreachable() {
        format!(
            "cannot reach a ticksync server at {url} ({error}); is it running? Start one \
             with `cargo run --release -- serve`, or pass --url"
        )
    } else {
        format!("{error} (server {url})")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_read_as_words_with_their_numbers_and_no_enum_names() {
        assert_eq!(
            error_code(ErrorCode::NotYourTurn),
            "not your turn (error 30)"
        );
        assert_eq!(
            close(Some(4040)),
            "the server's operator ended the session (close code 4040)"
        );
        assert_eq!(close(Some(4999)), "an unknown reason (close code 4999)");
        assert!(!close(None).contains("None"));
        let refused = ClientError::Refused {
            code: ErrorCode::RoomFull,
            message: "every seat is taken".into(),
        };
        assert!(!refused.to_string().contains("RoomFull"), "{refused}");
        let closed = ClientError::Closed {
            code: Some(4004),
            reason: "idle timeout".into(),
        };
        assert!(!closed.to_string().contains("Some("), "{closed}");
    }

    #[test]
    fn an_unreachable_server_gets_the_url_and_a_hint() {
        let refused = std::io::Error::from(std::io::ErrorKind::ConnectionRefused);
        let error = ClientError::WebSocket(tungstenite::Error::Io(refused));
        assert!(error.is_unreachable());
        let text = explain(&error, "ws://127.0.0.1:1");
        assert!(
            text.contains("ws://127.0.0.1:1") && text.contains("serve"),
            "{text}"
        );
        let other = ClientError::NotConnected;
        assert!(!other.is_unreachable());
        assert!(explain(&other, "ws://x").contains("ws://x"));
    }
}
