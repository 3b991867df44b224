//! The browser clients, compiled into the binary: `GET /play` serves `assets/play.html`, a
//! tic-tac-toe page (the reference turn-based client), `GET /arena` serves
//! `assets/arena.html`, the real-time arena (the reference real-time client), and
//! `GET /assets/sdk/ticksync.js` the TypeScript SDK's bundle both pages import (built from
//! `clients/ts`, committed, so no build step is needed). `GET /assets/msgpack.min.js` is
//! the vendored MessagePack library on its own, for pages without the SDK.
//!
//! The files are embedded with `include_bytes!`, so `ticksync serve` needs nothing on disk
//! at run time and a binary always serves the page it was built with. The table is
//! static: paths are matched exactly, and anything else is the caller's 404.

use bytes::Bytes;
use http_body_util::Full;
use hyper::Response;
use hyper::header::{self, HeaderValue};

/// One embedded file and how it is served.
#[derive(Debug)]
pub(super) struct Asset {
    /// The URL path it is served at, exactly.
    pub path: &'static str,
    /// Its `Content-Type`.
    pub content_type: &'static str,
    /// Its `Cache-Control`.
    pub cache_control: &'static str,
    /// The file's bytes.
    pub body: &'static [u8],
}

/// `Cache-Control` of the page: browsers revalidate it on every load, so a new server
/// build's page (and the protocol it speaks) is picked up at once.
const REVALIDATE: &str = "no-cache";
/// `Cache-Control` of the vendored library: it changes only when it is upgraded, so an
/// hour of caching is safe, and short enough that an upgrade reaches browsers the same day.
const ONE_HOUR: &str = "public, max-age=3600";

/// Every embedded file. The pages import the SDK by the relative URL
/// `./assets/sdk/ticksync.js`, which resolves to its row from `/play` and `/arena`.
pub(super) const ASSETS: &[Asset] = &[
    Asset {
        path: "/play",
        content_type: "text/html; charset=utf-8",
        cache_control: REVALIDATE,
        body: include_bytes!("../../assets/play.html"),
    },
    Asset {
        path: "/arena",
        content_type: "text/html; charset=utf-8",
        cache_control: REVALIDATE,
        body: include_bytes!("../../assets/arena.html"),
    },
    Asset {
        path: "/assets/sdk/ticksync.js",
        content_type: "text/javascript; charset=utf-8",
        // Built from this repository: it speaks this build's protocol, like the pages.
        cache_control: REVALIDATE,
        body: include_bytes!("../../assets/sdk/ticksync.js"),
    },
    Asset {
        path: "/assets/msgpack.min.js",
        // RFC 9239: `text/javascript` is the registered type (`application/javascript`
        // is its obsolete alias); browsers take either for scripts.
        content_type: "text/javascript; charset=utf-8",
        cache_control: ONE_HOUR,
        body: include_bytes!("../../assets/vendor/msgpack.min.js"),
    },
];

/// The room monitor, served at `/monitor` only when `--admin-token` is set (so it is not
/// in [`ASSETS`], which is served to everyone). It holds no data: it asks for the token
/// and polls the `/admin/` endpoints with it.
pub(super) const MONITOR: Asset = Asset {
    path: "/monitor",
    content_type: "text/html; charset=utf-8",
    cache_control: REVALIDATE,
    body: include_bytes!("../../assets/monitor.html"),
};

/// The embedded file served at `path`, if any.
pub(super) fn find(path: &str) -> Option<&'static Asset> {
    ASSETS.iter().find(|asset| asset.path == path)
}

impl Asset {
    /// A 200 response with the file's body and headers.
    pub(super) fn response(&self) -> Response<Full<Bytes>> {
        let mut response = Response::new(Full::new(Bytes::from_static(self.body)));
        let headers = response.headers_mut();
        headers.insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static(self.content_type),
        );
        headers.insert(
            header::CACHE_CONTROL,
            HeaderValue::from_static(self.cache_control),
        );
        headers.insert(
            header::X_CONTENT_TYPE_OPTIONS,
            HeaderValue::from_static("nosniff"),
        );
        response
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::codec::MSGPACK_SUBPROTOCOL;

    #[test]
    fn paths_are_exact() {
        assert_eq!(find("/play").map(|a| a.path), Some("/play"));
        for missing in [
            "/play/",
            "/play.html",
            "/assets/",
            "/assets/x",
            "/assets/play.html",
        ] {
            assert!(find(missing).is_none(), "{missing}");
        }
    }

    #[test]
    fn the_pages_import_the_sdk_which_offers_the_msgpack_subprotocol() {
        for path in ["/play", "/arena"] {
            let page = std::str::from_utf8(find(path).expect("page").body).expect("utf-8");
            // Their one script import, by a URL relative to the page.
            assert!(page.contains("from \"./assets/sdk/ticksync.js\""), "{path}");
        }
        let sdk =
            std::str::from_utf8(find("/assets/sdk/ticksync.js").expect("sdk").body).expect("utf-8");
        assert!(sdk.contains(&format!("\"{MSGPACK_SUBPROTOCOL}\"")));
        assert!(find("/assets/msgpack.min.js").is_some());
    }
}
