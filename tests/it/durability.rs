//! Nothing a player was told is lost: the real `ticksync` binary, on an SQLite file, is
//! killed with SIGKILL in the middle of a load of bots; restarted on the same file, it
//! has every match whose `RatingChanged` a bot saw, and the file passes
//! `PRAGMA integrity_check`.

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use anyhow::{Context, Result, bail, ensure};
use ticksync::client::{Backoff, Bot, BotConfig, Recorder};
use ticksync::protocol::MatchId;
use tokio::task::JoinSet;
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

use crate::support::{WAIT, http_get, scratch_dir};

/// The server process; killed if the test ends early.
struct Process(Child);

impl Drop for Process {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Starts the built binary on `db` and port 0; returns it with the address it logged.
fn spawn(db: &Path) -> Result<(Process, std::net::SocketAddr)> {
    let mut child = Command::new(env!("CARGO_BIN_EXE_ticksync"))
        .args(["serve", "--addr", "127.0.0.1:0", "--tick-hz", "60"])
        .arg("--database")
        .arg(format!("sqlite://{}", db.display()))
        .env("TICKSYNC_LOG", "info")
        .env("NO_COLOR", "1")
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .context("starting the ticksync binary")?;
    let stdout = child.stdout.take().context("stdout")?;
    let process = Process(child);
    // The start-up line names the bound address: `local_addr=127.0.0.1:PORT`.
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            if let Some(rest) = line.split("local_addr=").nth(1) {
                let addr = rest.split_whitespace().next().unwrap_or("").to_string();
                let _ = tx.send(addr);
            }
        }
    });
    let addr = rx
        .recv_timeout(WAIT)
        .context("the server never logged its address")?;
    Ok((process, addr.parse()?))
}

async fn integrity(db: &Path) -> Result<String> {
    let url = format!("sqlite:{}", db.display());
    let pool = sqlx::SqlitePool::connect(&url).await?;
    let (answer,): (String,) = sqlx::query_as("PRAGMA integrity_check")
        .fetch_one(&pool)
        .await?;
    pool.close().await;
    Ok(answer)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn confirmed_results_survive_sigkill() -> Result<()> {
    let db = scratch_dir("sigkill").join("results.db");
    let (mut server, addr) = spawn(&db)?;
    let confirmed = Arc::new(Mutex::new(Vec::new()));
    let stop = CancellationToken::new();
    let mut bots = JoinSet::new();
    for seed in 0..16u64 {
        let config = BotConfig {
            seed: Some(seed),
            chaos: 0.02,
            backoff: Backoff {
                base: Duration::from_millis(5),
                max: Duration::from_millis(50),
                attempts: 3,
            },
            timeout: WAIT,
            confirmed: Some(confirmed.clone()),
            ..BotConfig::new(format!("ws://{addr}/"))
        };
        let bot = Bot::new(config, Recorder::default(), stop.clone());
        bots.spawn(bot.run());
    }
    // In the middle of the load: once a good number of results were confirmed.
    let deadline = Instant::now() + WAIT * 3;
    while confirmed.lock().unwrap().len() < 200 {
        ensure!(Instant::now() < deadline, "too few results confirmed");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    server.0.kill().context("SIGKILL")?;
    server.0.wait()?;
    // What the bots were told before the kill (the process is gone: nothing more comes).
    let seen: Vec<MatchId> = confirmed.lock().unwrap().clone();
    stop.cancel();
    while bots.join_next().await.is_some() {}
    drop(server);

    assert_eq!(integrity(&db).await?, "ok");
    let (restarted, addr) = spawn(&db)?;
    let mut ids = seen.clone();
    ids.sort_unstable();
    ids.dedup();
    for id in &ids {
        let response = http_get(addr, &format!("/matches/{id}")).await?;
        if response.status != 200 {
            bail!(
                "match {id} was confirmed but is missing: {}",
                response.status
            );
        }
    }
    eprintln!(
        "{} RatingChanged seen for {} matches; all of them stored",
        seen.len(),
        ids.len()
    );
    drop(restarted);
    // A confirmed match's stored replay verifies with `ticksync replay --match`, and an id
    // that names no match is an error.
    let database = format!("sqlite://{}", db.display());
    let replay = |id: MatchId| {
        std::process::Command::new(env!("CARGO_BIN_EXE_ticksync"))
            .args([
                "replay",
                "--match",
                &id.to_string(),
                "--database",
                &database,
            ])
            .output()
    };
    let first = *ids.first().context("no confirmed match")?;
    let verified = replay(first)?;
    ensure!(
        verified.status.success(),
        "match {first} did not verify: {}",
        String::from_utf8_lossy(&verified.stderr)
    );
    ensure!(!verified.stdout.is_empty(), "no outcome printed");
    let missing = replay(MatchId::new(u64::from(u32::MAX) * 4096))?;
    ensure!(!missing.status.success(), "an unknown match verified");
    assert_eq!(integrity(&db).await?, "ok");
    Ok(())
}
