//! The browser client shipped in the binary: `GET /play` and the script it loads are
//! served from the embedded files, and nothing else under those paths is.

use anyhow::{Context, Result};
use ticksync::codec::Codec;

use crate::support::{http_get, http_request, start, test_config};

/// The files the server embeds; what it serves must be these bytes.
const PLAY_HTML: &str = include_str!("../../assets/play.html");
const MSGPACK_JS: &str = include_str!("../../assets/vendor/msgpack.min.js");

#[tokio::test]
async fn the_play_page_and_the_script_it_loads_are_served() -> Result<()> {
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
    assert!(
        page.body
            .contains(&format!("\"{}\"", Codec::MsgPack.subprotocol())),
        "the page offers the MessagePack subprotocol"
    );

    // Follow the page's one external script, a URL relative to /play.
    let src = page
        .body
        .split("<script src=\"")
        .nth(1)
        .and_then(|rest| rest.split('"').next())
        .context("the page loads a script")?;
    assert_eq!(src, "assets/msgpack.min.js");
    let script = http_get(addr, &format!("/{src}")).await?;
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
    for path in ["/assets/x", "/assets/", "/assets/play.html", "/play.html"] {
        assert_eq!(http_get(addr, path).await?.status, 404, "GET {path}");
    }
    for method in ["POST", "PUT", "DELETE"] {
        for path in ["/play", "/assets/msgpack.min.js"] {
            let response = http_request(addr, method, path).await?;
            assert_eq!(response.status, 404, "{method} {path}");
        }
    }
    server.shutdown().await;
    Ok(())
}
