//! The WebSocket opening handshake (RFC 6455 section 4.2) over hyper, and codec choice.
//!
//! The client offers subprotocols in `Sec-WebSocket-Protocol`; the first one this server
//! speaks, in the client's order, picks the connection's [`Codec`]. A handshake offering
//! none is refused with HTTP 400 and a body that says what to offer.

use hyper::header::{self, HeaderMap, HeaderValue};
use hyper::{Method, Request, StatusCode};
use tokio_tungstenite::tungstenite::handshake::derive_accept_key;

use crate::codec::{BINCODE_SUBPROTOCOL, Codec, MSGPACK_SUBPROTOCOL, MSGPACK_V1_SUBPROTOCOL};

/// An accepted handshake: the codec and the `Sec-WebSocket-Accept` value to answer with.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Accepted {
    /// The negotiated codec.
    pub codec: Codec,
    /// The `Sec-WebSocket-Accept` header value.
    pub accept_key: String,
}

/// A refused handshake: the HTTP status and the reason given in the body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refused {
    /// HTTP status to answer with.
    pub status: StatusCode,
    /// Plain-text reason.
    pub reason: String,
}

fn refuse(status: StatusCode, reason: impl Into<String>) -> Refused {
    Refused {
        status,
        reason: reason.into(),
    }
}

/// Whether a request asks to upgrade to WebSocket at all.
pub fn is_upgrade_request<B>(req: &Request<B>) -> bool {
    header_has_token(req.headers(), header::UPGRADE, "websocket")
}

fn header_has_token(headers: &HeaderMap, name: header::HeaderName, token: &str) -> bool {
    headers
        .get_all(name)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .any(|t| t.trim().eq_ignore_ascii_case(token))
}

/// Checks a WebSocket upgrade request and chooses its codec.
///
/// # Errors
/// [`Refused`] with 405 for a non-GET, 426 for a missing or unsupported version, 400 for a
/// malformed request or no supported subprotocol.
pub fn check<B>(req: &Request<B>) -> Result<Accepted, Refused> {
    if req.method() != Method::GET {
        return Err(refuse(
            StatusCode::METHOD_NOT_ALLOWED,
            "a WebSocket handshake must be a GET",
        ));
    }
    let headers = req.headers();
    if !header_has_token(headers, header::CONNECTION, "upgrade") {
        return Err(refuse(
            StatusCode::BAD_REQUEST,
            "missing `Connection: Upgrade`",
        ));
    }
    if headers.get(header::SEC_WEBSOCKET_VERSION) != Some(&HeaderValue::from_static("13")) {
        return Err(refuse(
            StatusCode::UPGRADE_REQUIRED,
            "only WebSocket version 13 is supported",
        ));
    }
    let key = headers
        .get(header::SEC_WEBSOCKET_KEY)
        .ok_or_else(|| refuse(StatusCode::BAD_REQUEST, "missing Sec-WebSocket-Key"))?;
    let codec = headers
        .get_all(header::SEC_WEBSOCKET_PROTOCOL)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .find_map(Codec::from_subprotocol)
        .ok_or_else(|| {
            refuse(
                StatusCode::BAD_REQUEST,
                format!(
                    "no supported subprotocol: offer {MSGPACK_SUBPROTOCOL}, \
                     {MSGPACK_V1_SUBPROTOCOL} or {BINCODE_SUBPROTOCOL} in \
                     Sec-WebSocket-Protocol"
                ),
            )
        })?;
    Ok(Accepted {
        codec,
        accept_key: derive_accept_key(key.as_bytes()),
    })
}

/// The player's token offered at the handshake, for browsers (which cannot put it in a
/// header of a WebSocket request): `Authorization: Bearer <token>`, else the `token` query
/// parameter (`/?token=<token>`; a JWT needs no escaping). It is checked when `Hello`
/// arrives, and only if `Hello` carries none of its own.
pub fn offered_token<B>(req: &Request<B>) -> Option<String> {
    let bearer = req
        .headers()
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| {
            let (scheme, token) = v.trim().split_once(' ')?;
            scheme.eq_ignore_ascii_case("bearer").then(|| token.trim())
        });
    let query = || {
        req.uri()
            .query()?
            .split('&')
            .find_map(|pair| pair.strip_prefix("token="))
    };
    bearer
        .or_else(query)
        .filter(|t| !t.is_empty())
        .map(str::to_string)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn request(protocols: Option<&str>) -> Request<()> {
        let mut builder = Request::get("/")
            .header("Connection", "keep-alive, Upgrade")
            .header("Upgrade", "websocket")
            .header("Sec-WebSocket-Version", "13")
            .header("Sec-WebSocket-Key", "dGhlIHNhbXBsZSBub25jZQ==");
        if let Some(p) = protocols {
            builder = builder.header("Sec-WebSocket-Protocol", p);
        }
        builder.body(()).unwrap()
    }

    #[test]
    fn picks_the_first_supported_subprotocol_in_client_order() {
        let accepted = check(&request(Some(
            "chat, ticksync.msgpack.v1, ticksync.bincode.v1",
        )))
        .unwrap();
        assert_eq!(accepted.codec, Codec::MsgPackV1);
        let accepted = check(&request(Some("ticksync.msgpack.v2, ticksync.msgpack.v1"))).unwrap();
        assert_eq!(accepted.codec, Codec::MsgPack);
        // RFC 6455's own example key and answer.
        assert_eq!(accepted.accept_key, "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=");
    }

    #[test]
    fn finds_the_offered_token() {
        let with = |uri: &str, auth: Option<&str>| {
            let mut builder = Request::get(uri);
            if let Some(auth) = auth {
                builder = builder.header("Authorization", auth);
            }
            offered_token(&builder.body(()).unwrap())
        };
        assert_eq!(with("/", Some("Bearer a.b.c")), Some("a.b.c".into()));
        assert_eq!(with("/", Some("bearer  a.b.c ")), Some("a.b.c".into()));
        assert_eq!(with("/?x=1&token=q.r.s", None), Some("q.r.s".into()));
        assert_eq!(
            with("/?token=q.r.s", Some("Bearer a.b.c")),
            Some("a.b.c".into())
        );
        assert_eq!(
            with("/?token=q.r.s", Some("Basic Zm9v")),
            Some("q.r.s".into())
        );
        assert_eq!(with("/?token=", None), None);
        assert_eq!(with("/?mytoken=x", None), None);
        assert_eq!(with("/", None), None);
    }

    #[test]
    fn refuses_without_a_supported_subprotocol() {
        for offered in [None, Some("ticksync.json.v1")] {
            let refused = check(&request(offered)).unwrap_err();
            assert_eq!(refused.status, StatusCode::BAD_REQUEST);
            assert!(refused.reason.contains("ticksync.bincode.v1"));
        }
    }
}
