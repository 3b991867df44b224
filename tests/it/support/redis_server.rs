//! A private `redis-server` per test: on a free loopback port, with no persistence
//! (`--save "" --appendonly no`), killed when dropped.
//!
//! [`RedisServer::start`] returns `None` (after a loud `SKIPPED:` line) when
//! `redis-server` is not installed, unless `TICKSYNC_REQUIRE_SERVICES=1` (as in `.ci/run`),
//! when the missing server is an error.
//!
//! `redis-server` has no "any free port" (`--port 0` turns TCP off), so the port is one the
//! kernel just gave a listener of ours, released before the server binds it; if another
//! process takes it meanwhile, the server fails to bind and we try another port.
//! Readiness is an event, not a sleep: the server's own "Ready to accept connections" line.

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use anyhow::{Context, Result, bail};

/// Where Debian's package installs the server.
const REDIS_SERVER: &str = "redis-server";

/// A running private Redis; killed (and reaped) on drop.
pub struct RedisServer {
    child: Child,
    port: u16,
}

impl RedisServer {
    /// Starts one, or `None` (with a `SKIPPED:` line naming `test`) when `redis-server`
    /// is not installed and services are not required.
    ///
    /// # Errors
    /// The server is required but missing, or does not become ready.
    pub fn start(test: &str) -> Result<Option<RedisServer>> {
        let installed = Command::new(REDIS_SERVER)
            .arg("--version")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .is_ok_and(|status| status.success());
        if !installed {
            if std::env::var("TICKSYNC_REQUIRE_SERVICES").as_deref() == Ok("1") {
                bail!("TICKSYNC_REQUIRE_SERVICES=1 but redis-server is not installed");
            }
            eprintln!("SKIPPED: {test}: redis-server not installed (apt-get install redis-server)");
            return Ok(None);
        }
        let mut last = None;
        for _ in 0..5 {
            match RedisServer::try_start() {
                Ok(server) => return Ok(Some(server)),
                Err(error) => last = Some(error),
            }
        }
        Err(last.unwrap_or_else(|| anyhow::anyhow!("redis-server did not start")))
    }

    fn try_start() -> Result<RedisServer> {
        let port = std::net::TcpListener::bind("127.0.0.1:0")?
            .local_addr()?
            .port();
        RedisServer::start_on(port)
    }

    /// Stops this server and starts an empty one on the same port (Redis restarted and
    /// its data lost), trying a few times while the old socket is released.
    ///
    /// # Errors
    /// The new server did not start.
    pub fn restart(&mut self) -> Result<()> {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let mut last = None;
        for _ in 0..5 {
            match RedisServer::start_on(self.port) {
                Ok(server) => {
                    *self = server;
                    return Ok(());
                }
                Err(error) => last = Some(error),
            }
        }
        Err(last.unwrap_or_else(|| anyhow::anyhow!("redis-server did not restart")))
    }

    fn start_on(port: u16) -> Result<RedisServer> {
        let mut child = Command::new(REDIS_SERVER)
            .args(["--port", &port.to_string()])
            .args(["--bind", "127.0.0.1"])
            .args(["--save", "", "--appendonly", "no"])
            .args(["--logfile", "", "--daemonize", "no"])
            // No working directory files: nothing is saved, but a dump on shutdown would
            // land in the current directory.
            .args(["--dir", &std::env::temp_dir().display().to_string()])
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .context("spawning redis-server")?;
        let stdout = child.stdout.take().context("redis-server's stdout")?;
        // The log lines until ready (or the end of the log: the server exited), read on a
        // thread so that the wait has a deadline.
        let (ready_tx, ready_rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            let mut ready = false;
            for line in BufReader::new(stdout).lines() {
                let Ok(line) = line else { break };
                if !ready && line.contains("Ready to accept connections") {
                    ready = true;
                    let _ = ready_tx.send(true);
                }
                // Keep reading (and discarding) so the server never blocks on its log.
            }
            let _ = ready_tx.send(false);
        });
        let mut server = RedisServer { child, port };
        match ready_rx.recv_timeout(Duration::from_secs(10)) {
            Ok(true) => Ok(server),
            Ok(false) => {
                let status = server.child.wait()?;
                bail!("redis-server on port {port} exited before it was ready ({status})")
            }
            Err(_) => bail!("redis-server on port {port} was not ready within 10 s"),
        }
    }

    /// The URL nodes join with: `redis://127.0.0.1:PORT`.
    pub fn url(&self) -> String {
        format!("redis://127.0.0.1:{}", self.port)
    }

    /// A connection for the test's own checks.
    pub async fn connection(&self) -> Result<redis::aio::MultiplexedConnection> {
        let client = redis::Client::open(self.url())?;
        Ok(client.get_multiplexed_async_connection().await?)
    }

    /// Every key, with its TTL in milliseconds (`PTTL`: -1 for none, -2 for gone).
    pub async fn keys_with_ttls(&self) -> Result<Vec<(String, i64)>> {
        let mut redis = self.connection().await?;
        let mut keys = Vec::new();
        let mut cursor: u64 = 0;
        loop {
            let (next, batch): (u64, Vec<String>) = redis::cmd("SCAN")
                .arg(cursor)
                .arg("COUNT")
                .arg(1000)
                .query_async(&mut redis)
                .await?;
            keys.extend(batch);
            if next == 0 {
                break;
            }
            cursor = next;
        }
        let mut out = Vec::with_capacity(keys.len());
        for key in keys {
            let ttl: i64 = redis::cmd("PTTL").arg(&key).query_async(&mut redis).await?;
            // -2: expired or deleted since the scan.
            if ttl != -2 {
                out.push((key, ttl));
            }
        }
        out.sort();
        Ok(out)
    }
}

impl Drop for RedisServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
