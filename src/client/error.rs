//! The client's error type.

use std::time::Duration;

use thiserror::Error;
use tokio_tungstenite::tungstenite;

use crate::codec::CodecError;
use crate::protocol::ErrorCode;

/// Why a client operation failed.
#[derive(Debug, Error)]
pub enum ClientError {
    /// The WebSocket handshake or a read or write failed.
    #[error("websocket: {0}")]
    WebSocket(#[from] tungstenite::Error),
    /// The server chose no subprotocol, or another one than the client offered.
    #[error("the server chose subprotocol {chosen:?}, expected {expected}")]
    Subprotocol {
        /// What the client offered.
        expected: &'static str,
        /// What the server named in its response, if anything.
        chosen: Option<String>,
    },
    /// A frame could not be decoded, or a message encoded.
    #[error("codec: {0}")]
    Codec(#[from] CodecError),
    /// Nothing arrived (or the operation did not finish) within the limit.
    #[error("timed out after {waited} waiting for {1}", waited = super::words::seconds(*.0))]
    Timeout(Duration, &'static str),
    /// The server closed the connection.
    #[error("connection closed by the server: {}{}", super::words::close(*code),
            if reason.is_empty() { String::new() } else { format!(": {reason}") })]
    Closed {
        /// The close code, if the server sent a close frame.
        code: Option<u16>,
        /// The close reason text.
        reason: String,
    },
    /// The server answered with an `Error` message where the flow needed success.
    #[error("server refused: {}: {message}", super::words::error_code(*code))]
    Refused {
        /// The server's error code.
        code: ErrorCode,
        /// The server's message.
        message: String,
    },
    /// In a cluster, the server answered `Hello` with `Redirect`: the session to resume
    /// lives on the node at `url`; [`super::Connection::resume_at`] follows it.
    #[error("the session lives on another node: {url}")]
    Redirected {
        /// That node's public URL.
        url: String,
        /// The resume ticket to show it.
        ticket: String,
    },
    /// A message arrived that the flow does not allow at this point.
    #[error("unexpected message: {0}")]
    Unexpected(String),
    /// A game ended in a way the rules do not allow.
    #[error("illegal outcome: {0}")]
    IllegalOutcome(String),
    /// The operation was called on a client without a live connection.
    #[error("not connected")]
    NotConnected,
}
