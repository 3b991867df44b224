//! The Node suite (`tests/node/*.test.mjs`) against the real server: the TypeScript SDK
//! under Node (PROTOCOL.md's vectors, games over real connections) and the browser pages
//! in Chromium driven by Playwright (`/play`, `/arena`).
//!
//! This test starts the server on 127.0.0.1:0 and runs `node --test` on each test file
//! in `tests/node`, one after another, with the server's URL in `TICKSYNC_URL`. It needs
//! `node`, `tests/node/node_modules` (`npm ci` there) and `/usr/bin/chromium`; without
//! them it prints `SKIPPED: ...` and passes, unless `TICKSYNC_REQUIRE_SERVICES=1` (as in
//! `.ci/run`), when it fails.

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::Duration;

use anyhow::{Context, Result, bail};
use tokio::process::Command;

use crate::support::scratch_dir;
use crate::support::test_config;
use ticksync::server::Server;
use ticksync::storage::{Database, StorageConfig};

/// The Chromium the browser tests drive (Debian's `chromium` package).
const CHROMIUM: &str = "/usr/bin/chromium";

/// The admin token the suite's server runs with (`--admin-token`), passed to the tests of
/// the monitor and the admin endpoints.
const ADMIN_TOKEN: &str = "test-admin-token-for-the-node-suite";

/// The whole suite's time limit: it runs browser sessions one after another on a loaded
/// machine, so this is generous.
const SUITE_LIMIT: Duration = Duration::from_secs(600);

fn node_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/node")
}

/// What is missing for the suite, if anything.
async fn missing_tools() -> Option<String> {
    let node = Command::new("node")
        .arg("--version")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .await;
    if !matches!(node, Ok(status) if status.success()) {
        return Some("`node` is not on PATH (apt-get install nodejs npm)".into());
    }
    if !node_dir().join("node_modules").is_dir() {
        return Some("tests/node/node_modules is missing (run `npm ci` in tests/node)".into());
    }
    if !Path::new(CHROMIUM).exists() {
        return Some(format!("{CHROMIUM} is missing (apt-get install chromium)"));
    }
    None
}

#[tokio::test]
async fn node_sdk_and_browser_suite_passes() -> Result<()> {
    if let Some(why) = missing_tools().await {
        if std::env::var("TICKSYNC_REQUIRE_SERVICES").as_deref() == Ok("1") {
            bail!("the Node suite cannot run: {why}");
        }
        eprintln!("SKIPPED: node_sdk_and_browser_suite_passes: {why}");
        return Ok(());
    }

    let mut config = test_config();
    config.admin.token = Some(ADMIN_TOKEN.into());
    // Results are kept (a scratch SQLite file), so quick-match games send RatingChanged
    // and /play shows it.
    config.storage = StorageConfig {
        database: Database::Sqlite(scratch_dir("node-suite").join("results.db")),
        ..StorageConfig::default()
    };
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let server = Server::open(listener, config).await?;
    let url = format!("http://{}", server.local_addr());

    // Test files run one at a time, each in its own `node --test`: they share this
    // server, and quick match would pair players from different files. (One process per
    // file also works on Node 18, which lacks `--test-concurrency`.)
    let mut files: Vec<String> = std::fs::read_dir(node_dir())?
        .filter_map(|entry| entry.ok()?.file_name().into_string().ok())
        .filter(|name| name.ends_with(".test.mjs"))
        .collect();
    files.sort();
    assert!(!files.is_empty(), "no tests/node/*.test.mjs");

    let deadline = tokio::time::Instant::now() + SUITE_LIMIT;
    let mut failed = Vec::new();
    for file in &files {
        let mut command = Command::new("node");
        command
            .args(["--test", "--test-reporter=spec", file])
            .current_dir(node_dir())
            .env("TICKSYNC_URL", &url)
            .env("TICKSYNC_ADMIN_TOKEN", ADMIN_TOKEN)
            .env("TICKSYNC_CHROMIUM", CHROMIUM)
            .stdin(Stdio::null())
            .kill_on_drop(true);
        let output = tokio::time::timeout_at(deadline, command.output())
            .await
            .with_context(|| format!("the Node suite ran past {SUITE_LIMIT:?} in {file}"))?
            .with_context(|| format!("run node --test {file}"))?;
        // Shown on failure (and with --nocapture): every test's name and result.
        println!(
            "== node --test {file}\n{}",
            String::from_utf8_lossy(&output.stdout)
        );
        eprintln!("{}", String::from_utf8_lossy(&output.stderr));
        if !output.status.success() {
            failed.push(file.clone());
        }
    }
    server.shutdown().await;
    if !failed.is_empty() {
        bail!("node --test failed in {failed:?}; the output is above");
    }
    Ok(())
}
