//! `GET /rooms`: the room directory over HTTP, paged and rate-limited.
//!
//! `GET /rooms?after=ID&limit=N` answers `{"rooms": [...], "next": ID or null}`: up to `N`
//! (default and most: 100) rooms whose id is above `ID` (default 0), oldest first, from the
//! directory's cached listing; `next` is the `after` of the next page. The plain first
//! page is encoded once per listing build. The whole server answers at most
//! [`LimitsConfig::http_rooms_per_second`] such requests per second (a burst of
//! [`LimitsConfig::http_rooms_burst`]); more get 429 with `Retry-After: 1`.

use bytes::Bytes;
use governor::RateLimiter;
use governor::clock::DefaultClock;
use http_body_util::Full;
use hyper::header::{self, HeaderValue};
use hyper::{Request, Response, StatusCode};

use super::{Context, json_bytes, text};
use crate::limits::{LimitReason, LimitsConfig, bucket};
use crate::protocol::{MAX_LISTED_ROOMS, RoomId};

/// The server-wide `GET /rooms` bucket.
pub(crate) struct HttpRoomsLimit(
    RateLimiter<
        governor::state::NotKeyed,
        governor::state::InMemoryState,
        DefaultClock,
        governor::middleware::NoOpMiddleware<<DefaultClock as governor::clock::Clock>::Instant>,
    >,
);

impl HttpRoomsLimit {
    pub(crate) fn new(config: &LimitsConfig) -> HttpRoomsLimit {
        let quota = bucket(
            config.http_rooms_per_second,
            std::time::Duration::from_secs(1),
            config.http_rooms_burst,
        );
        HttpRoomsLimit(RateLimiter::direct(quota))
    }
}

/// The page a query asks for: `(after, limit)`, or `None` for the plain first page.
/// Unknown parameters are ignored; a malformed number is an error.
fn page_query(query: Option<&str>) -> Result<Option<(RoomId, usize)>, String> {
    let Some(query) = query.filter(|q| !q.is_empty()) else {
        return Ok(None);
    };
    let (mut after, mut limit) = (RoomId::new(0), MAX_LISTED_ROOMS);
    for pair in query.split('&') {
        let (name, value) = pair.split_once('=').unwrap_or((pair, ""));
        match name {
            "after" => after = value.parse().map_err(|_| format!("bad after={value}"))?,
            "limit" => limit = value.parse().map_err(|_| format!("bad limit={value}"))?,
            _ => {}
        }
    }
    Ok(Some((after, limit.min(MAX_LISTED_ROOMS))))
}

/// Answers `GET /rooms`.
pub(crate) fn get<B>(req: &Request<B>, ctx: &Context) -> Response<Full<Bytes>> {
    if ctx.http_rooms.0.check().is_err() {
        ctx.counters().hit(LimitReason::HttpRooms);
        let mut response = text(StatusCode::TOO_MANY_REQUESTS, "too many requests\n");
        response
            .headers_mut()
            .insert(header::RETRY_AFTER, HeaderValue::from_static("1"));
        return response;
    }
    let page = match page_query(req.uri().query()) {
        Ok(page) => page,
        Err(reason) => return text(StatusCode::BAD_REQUEST, format!("{reason}\n")),
    };
    let listing = ctx.lobby.listing();
    json_bytes(match page {
        None => listing.first_page_json(),
        Some((after, limit)) => listing.page_json(after, limit),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn queries_parse_into_pages() {
        assert_eq!(page_query(None), Ok(None));
        assert_eq!(page_query(Some("")), Ok(None));
        assert_eq!(
            page_query(Some("after=7&limit=5")),
            Ok(Some((RoomId::new(7), 5)))
        );
        assert_eq!(
            page_query(Some("limit=5000")),
            Ok(Some((RoomId::new(0), 100)))
        );
        assert_eq!(page_query(Some("x=1")), Ok(Some((RoomId::new(0), 100))));
        assert!(page_query(Some("after=-1")).is_err());
        assert!(page_query(Some("limit=lots")).is_err());
    }
}
