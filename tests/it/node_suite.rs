//! The Node suite (`tests/node/*.test.mjs`) against the real server: the TypeScript SDK
//! under Node (PROTOCOL.md's vectors, games over real connections) and the browser pages
//! in Chromium driven by Playwright (`/play`, `/arena`).
//!
//! This test starts the server on 127.0.0.1:0 and runs `node --test` on each test file
//! in `tests/node`, one after another, with the server's URL in `TICKSYNC_URL`. It needs
//! `node`, `tests/node/node_modules` (`npm ci` there) and `/usr/bin/chromium`; without
//! them it prints `SKIPPED: ...` and passes, unless `TICKSYNC_REQUIRE_SERVICES=1` (as in
//! `.ci/run`), when it fails.
//!
//! The files named `cluster_*.test.mjs` run against a cluster instead: a private
//! `redis-server` and two real nodes in-process, their URLs in `TICKSYNC_CLUSTER_URLS`
//! (comma-separated), and a third node, a `ticksync serve` process that a test may kill
//! (`TICKSYNC_CLUSTER_MORTAL`: its URL and process id); skipped loudly without
//! `redis-server`.

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::Duration;

use anyhow::{Context, Result, bail};
use tokio::process::Command;

use crate::cluster::{start_node, wait_for_loads};
use crate::cluster_resume::spawn_node;
use crate::support::scratch_dir;
use crate::support::{RedisServer, test_config};
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

    let files = test_files(|name| !name.starts_with(CLUSTER_PREFIX))?;
    let result = run_files(
        &files,
        &[
            ("TICKSYNC_URL", url.as_str()),
            ("TICKSYNC_ADMIN_TOKEN", ADMIN_TOKEN),
        ],
    )
    .await;
    server.shutdown().await;
    result
}

/// The test files that run against a cluster instead of one server.
const CLUSTER_PREFIX: &str = "cluster_";

/// The SDK and the `/play` page against a cluster: a private Redis, two nodes whose URLs
/// the `cluster_*.test.mjs` files get in `TICKSYNC_CLUSTER_URLS`, and a node process they
/// may SIGKILL (`TICKSYNC_CLUSTER_MORTAL`: `URL PID`).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn node_sdk_and_browser_against_a_cluster() -> Result<()> {
    if let Some(why) = missing_tools().await {
        if std::env::var("TICKSYNC_REQUIRE_SERVICES").as_deref() == Ok("1") {
            bail!("the Node cluster suite cannot run: {why}");
        }
        eprintln!("SKIPPED: node_sdk_and_browser_against_a_cluster: {why}");
        return Ok(());
    }
    let Some(redis) = RedisServer::start("node_sdk_and_browser_against_a_cluster")? else {
        return Ok(());
    };
    let a = start_node(&redis, "node-a").await?;
    let b = start_node(&redis, "node-b").await?;
    // Killed by the test that needs it, or on drop.
    let (mortal, mortal_addr) = spawn_node(&redis, "node-c", 20)?;
    // Every node live (and seen by the others) before any client asks for a match.
    wait_for_loads(&a, 3, 0).await?;
    wait_for_loads(&b, 3, 0).await?;
    let urls = [&a, &b]
        .map(|node| format!("http://{}", node.local_addr()))
        .join(",");
    let mortal_env = format!("http://{mortal_addr} {}", mortal.0.id());

    let files = test_files(|name| name.starts_with(CLUSTER_PREFIX))?;
    let result = run_files(
        &files,
        &[
            ("TICKSYNC_CLUSTER_URLS", urls.as_str()),
            ("TICKSYNC_CLUSTER_MORTAL", mortal_env.as_str()),
        ],
    )
    .await;
    drop(mortal);
    b.shutdown().await;
    a.shutdown().await;
    result
}

/// The `tests/node/*.test.mjs` files whose names pass `keep`, sorted.
fn test_files(keep: impl Fn(&str) -> bool) -> Result<Vec<String>> {
    let mut files: Vec<String> = std::fs::read_dir(node_dir())?
        .filter_map(|entry| entry.ok()?.file_name().into_string().ok())
        .filter(|name| name.ends_with(".test.mjs") && keep(name))
        .collect();
    files.sort();
    assert!(!files.is_empty(), "no such tests/node/*.test.mjs");
    Ok(files)
}

/// Runs each file in its own `node --test`, one after another, with `env`; fails naming
/// the files that failed, after printing every file's report.
async fn run_files(files: &[String], env: &[(&str, &str)]) -> Result<()> {
    // Test files run one at a time, each in its own `node --test`: they share the
    // server(s), and quick match would pair players from different files. (One process per
    // file also works on Node 18, which lacks `--test-concurrency`.)
    let deadline = tokio::time::Instant::now() + SUITE_LIMIT;
    let mut failed = Vec::new();
    for file in files {
        let mut command = Command::new("node");
        command
            .args(["--test", "--test-reporter=spec", file])
            .current_dir(node_dir())
            .env("TICKSYNC_CHROMIUM", CHROMIUM)
            .stdin(Stdio::null())
            .kill_on_drop(true);
        for (key, value) in env {
            command.env(key, value);
        }
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
    if !failed.is_empty() {
        bail!("node --test failed in {failed:?}; the output is above");
    }
    Ok(())
}
