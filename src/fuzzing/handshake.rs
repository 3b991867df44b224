//! Fuzz target body for the WebSocket handshake check.

use hyper::header::{self, HeaderName, HeaderValue};
use hyper::{Method, Request, StatusCode};

use crate::codec::Codec;
use crate::transport::handshake::{check, is_upgrade_request};

/// Reads `data` as a request head, one item per line: the method on the first line, then
/// `name: value` headers (lines that are not a valid header are skipped, as hyper would
/// have refused them before the check runs), and checks it as an upgrade request.
///
/// # Panics
/// When an accepted handshake is missing something the check requires, the codec is not
/// the client's first supported offer, or a refusal has an unexpected status.
pub fn upgrade_request(data: &[u8]) {
    let mut lines = data.split(|&b| b == b'\n');
    let method = lines.next().unwrap_or_default();
    let Ok(method) = Method::from_bytes(method) else {
        return;
    };
    let mut builder = Request::builder().method(method).uri("/");
    for line in lines {
        let Some(colon) = line.iter().position(|&b| b == b':') else {
            continue;
        };
        let (name, value) = (&line[..colon], line[colon + 1..].trim_ascii());
        if let (Ok(name), Ok(value)) = (
            HeaderName::from_bytes(name.trim_ascii()),
            HeaderValue::from_bytes(value),
        ) {
            builder = builder.header(name, value);
        }
    }
    let Ok(req) = builder.body(()) else {
        return;
    };
    let upgrade = is_upgrade_request(&req);
    let headers = req.headers();
    let tokens = |name: HeaderName| -> Vec<String> {
        headers
            .get_all(name)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .flat_map(|v| v.split(','))
            .map(|t| t.trim().to_owned())
            .collect()
    };
    let has = |name, token: &str| tokens(name).iter().any(|t| t.eq_ignore_ascii_case(token));
    assert_eq!(upgrade, has(header::UPGRADE, "websocket"));
    match check(&req) {
        Ok(accepted) => {
            assert_eq!(req.method(), Method::GET);
            assert!(has(header::CONNECTION, "upgrade"));
            assert_eq!(
                headers
                    .get(header::SEC_WEBSOCKET_VERSION)
                    .map(|v| v.as_bytes()),
                Some(&b"13"[..])
            );
            assert!(headers.contains_key(header::SEC_WEBSOCKET_KEY));
            let first = tokens(header::SEC_WEBSOCKET_PROTOCOL)
                .iter()
                .find_map(|t| Codec::from_subprotocol(t));
            assert_eq!(
                Some(accepted.codec),
                first,
                "the client's first supported offer"
            );
            // base64 of a SHA-1 digest.
            assert_eq!(accepted.accept_key.len(), 28, "{}", accepted.accept_key);
        }
        Err(refused) => {
            assert!(!refused.reason.is_empty());
            assert!(
                [
                    StatusCode::METHOD_NOT_ALLOWED,
                    StatusCode::BAD_REQUEST,
                    StatusCode::UPGRADE_REQUIRED,
                ]
                .contains(&refused.status),
                "{refused:?}"
            );
        }
    }
}
