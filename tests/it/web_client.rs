//! The browser clients shipped in the binary: `GET /play`, `GET /arena` and the SDK bundle
//! they import are served from the embedded files, and nothing else under those paths is.
//! (The pages themselves are driven in Chromium by tests/node, through `node_suite.rs`.)

use anyhow::{Context, Result};
use ticksync::codec::Codec;

use crate::support::{http_get, http_request, start, test_config};

/// The files the server embeds; what it serves must be these bytes.
const PLAY_HTML: &str = include_str!("../../assets/play.html");
const ARENA_HTML: &str = include_str!("../../assets/arena.html");
const SDK_JS: &str = include_str!("../../assets/sdk/ticksync.js");
const MSGPACK_JS: &str = include_str!("../../assets/vendor/msgpack.min.js");

#[tokio::test]
async fn the_pages_and_the_sdk_they_import_are_served() -> Result<()> {
    let server = start(test_config()).await;
    let addr = server.local_addr();

    let page = http_get(addr, "/play").await?;
    assert_eq!(page.status, 200);
    assert_eq!(
        page.content_type.as_deref(),
        Some("text/html; charset=utf-8")
    );
    assert_eq!(page.header("cache-control"), Some("no-cache"));
    assert_eq!(page.body, PLAY_HTML);
    let arena = http_get(addr, "/arena").await?;
    assert_eq!(arena.status, 200);
    assert_eq!(arena.header("cache-control"), Some("no-cache"));
    assert_eq!(arena.body, ARENA_HTML);

    // Both pages import the SDK bundle by a URL relative to the page.
    for body in [&page.body, &arena.body] {
        let src = body
            .split("} from \"./")
            .nth(1)
            .and_then(|rest| rest.split('"').next())
            .context("the page imports the SDK")?;
        assert_eq!(src, "assets/sdk/ticksync.js");
    }
    let sdk = http_get(addr, "/assets/sdk/ticksync.js").await?;
    assert_eq!(sdk.status, 200);
    let content_type = sdk.content_type.as_deref().unwrap_or_default();
    assert!(
        content_type.starts_with("text/javascript"),
        "{content_type}"
    );
    assert_eq!(sdk.header("x-content-type-options"), Some("nosniff"));
    assert_eq!(sdk.body, SDK_JS);
    assert!(
        sdk.body
            .contains(&format!("\"{}\"", Codec::MsgPack.subprotocol())),
        "the SDK offers the MessagePack subprotocol"
    );
    assert!(
        sdk.body.contains("ISC License"),
        "the bundled library's license is named"
    );

    // The vendored library on its own.
    let script = http_get(addr, "/assets/msgpack.min.js").await?;
    assert_eq!(script.status, 200);
    let content_type = script.content_type.as_deref().unwrap_or_default();
    assert!(
        content_type.starts_with("text/javascript"),
        "{content_type}"
    );
    assert!(script.header("cache-control").is_some());
    assert_eq!(script.header("x-content-type-options"), Some("nosniff"));
    assert_eq!(script.body, MSGPACK_JS);
    assert!(
        script.body.contains("ISC License"),
        "the license header is kept"
    );

    let index = http_get(addr, "/").await?;
    assert!(index.body.contains("/play"), "{}", index.body);

    server.shutdown().await;
    Ok(())
}

#[tokio::test]
async fn unknown_asset_paths_and_other_methods_are_404() -> Result<()> {
    let server = start(test_config()).await;
    let addr = server.local_addr();
    for path in [
        "/assets/x",
        "/assets/",
        "/assets/sdk/",
        "/assets/play.html",
        "/play.html",
    ] {
        assert_eq!(http_get(addr, path).await?.status, 404, "GET {path}");
    }
    for method in ["POST", "PUT", "DELETE"] {
        for path in ["/play", "/arena", "/assets/sdk/ticksync.js"] {
            let response = http_request(addr, method, path).await?;
            assert_eq!(response.status, 404, "{method} {path}");
        }
    }
    server.shutdown().await;
    Ok(())
}
