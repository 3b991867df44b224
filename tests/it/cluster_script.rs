//! README "Run a cluster" is `deploy/cluster/local.sh`; these tests run that very file, as
//! the README says to, with only its documented settings changed: free loopback ports, a
//! private scratch folder, this build's `ticksync` and bot. The script starts PostgreSQL,
//! Redis, three nodes and nginx (TLS, the shipped configuration), plays bots through nginx
//! and checks the results reached Postgres; the tests check what it printed (games on
//! more than one node, every match in Postgres and served back through nginx) and that
//! nothing it started outlives it, after a normal end and after Ctrl-C.
//!
//! Without redis-server, nginx, PostgreSQL, openssl or curl a test prints `SKIPPED: ...`
//! and passes, unless `TICKSYNC_REQUIRE_SERVICES=1` (as in `.ci/run`, which installs them).

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::Duration;

use anyhow::{Context, Result, bail, ensure};
use tokio::io::{AsyncBufReadExt, AsyncReadExt, BufReader};
use tokio::process::{Child, Command};

use crate::support::scratch_dir;

/// The script the README shows.
const SCRIPT: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/deploy/cluster/local.sh");

/// The longest a whole run may take (the script bounds each of its own waits at 60 s).
const RUN: Duration = Duration::from_secs(600);

/// Bots the script plays (its default): one game each, so 6 games.
const BOTS: usize = 12;

/// What the script needs that is missing, by Debian package.
fn missing() -> Vec<&'static str> {
    let runs = |program: &str, arg: &str| {
        std::process::Command::new(program)
            .arg(arg)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .is_ok_and(|status| status.success())
    };
    let postgres = std::fs::read_dir("/usr/lib/postgresql").is_ok_and(|versions| {
        versions
            .flatten()
            .any(|v| v.path().join("bin/initdb").exists())
    });
    let mut missing = Vec::new();
    if !runs("redis-server", "--version") {
        missing.push("redis-server");
    }
    if !Path::new("/usr/sbin/nginx").exists() && !runs("nginx", "-v") {
        missing.push("nginx");
    }
    if !postgres {
        missing.push("postgresql");
    }
    if !runs("openssl", "version") {
        missing.push("openssl");
    }
    if !runs("curl", "--version") {
        missing.push("curl");
    }
    missing
}

/// `true` when the services are there; `false` after a loud SKIPPED line.
fn services(test: &str) -> Result<bool> {
    let missing = missing();
    if missing.is_empty() {
        return Ok(true);
    }
    if std::env::var("TICKSYNC_REQUIRE_SERVICES").as_deref() == Ok("1") {
        bail!("TICKSYNC_REQUIRE_SERVICES=1 but {missing:?} not installed");
    }
    eprintln!(
        "SKIPPED: {test}: not installed: {} (apt-get install {})",
        missing.join(", "),
        missing.join(" ")
    );
    Ok(false)
}

/// The bot example of this build, built now if needed (`cargo test` builds the examples,
/// `cargo test --test it` does not): its path.
fn bot() -> Result<PathBuf> {
    // target/<profile>/deps/it-HASH
    let exe = std::env::current_exe()?;
    let profile_dir = exe
        .parent()
        .and_then(Path::parent)
        .context("the test binary is not in target/<profile>/deps")?;
    let target_dir = profile_dir.parent().context("no target folder")?;
    let profile = match profile_dir.file_name().and_then(|n| n.to_str()) {
        Some("debug") => "dev",
        Some(other) => other,
        None => bail!("no profile folder"),
    };
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let output = std::process::Command::new(cargo)
        .args(["build", "--quiet", "--example", "bot", "--profile", profile])
        .arg("--manifest-path")
        .arg(concat!(env!("CARGO_MANIFEST_DIR"), "/Cargo.toml"))
        .arg("--target-dir")
        .arg(target_dir)
        .output()
        .context("running cargo build --example bot")?;
    ensure!(
        output.status.success(),
        "cargo build --example bot failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    let bot = profile_dir.join("examples/bot");
    ensure!(bot.exists(), "{} was not built", bot.display());
    Ok(bot)
}

/// The loopback ports of one run: Redis, Postgres, three nodes, nginx.
struct Ports {
    redis: u16,
    postgres: u16,
    nodes: [u16; 3],
    https: u16,
}

impl Ports {
    /// Six ports the kernel just handed out (held together, so all different), released
    /// for the script to bind.
    fn free() -> Result<Ports> {
        let listeners = (0..6)
            .map(|_| std::net::TcpListener::bind("127.0.0.1:0"))
            .collect::<std::io::Result<Vec<_>>>()?;
        let ports = listeners
            .iter()
            .map(|l| l.local_addr().map(|a| a.port()))
            .collect::<std::io::Result<Vec<_>>>()?;
        Ok(Ports {
            redis: ports[0],
            postgres: ports[1],
            nodes: [ports[2], ports[3], ports[4]],
            https: ports[5],
        })
    }

    fn all(&self) -> Vec<u16> {
        let mut all = vec![self.redis, self.postgres, self.https];
        all.extend(self.nodes);
        all
    }
}

/// The script with this run's settings, in a process group of its own (so that a Ctrl-C
/// can be sent to it and everything it started, as a terminal does).
fn script(dir: &Path, ports: &Ports, bot: &Path, hold: bool) -> Command {
    let mut command = Command::new("bash");
    command
        .arg(SCRIPT)
        .env("TICKSYNC", env!("CARGO_BIN_EXE_ticksync"))
        .env("BOT", bot)
        .env("CLUSTER_DIR", dir)
        .env("REDIS_PORT", ports.redis.to_string())
        .env("PG_PORT", ports.postgres.to_string())
        .env("NODE_PORTS", ports.nodes.map(|p| p.to_string()).join(" "))
        .env("HTTPS_PORT", ports.https.to_string())
        .env("BOTS", BOTS.to_string())
        .env("HOLD", if hold { "1" } else { "0" })
        .env_remove("KEEP")
        .env_remove("WAIT")
        .env_remove("TICKSYNC_CLUSTER_SECRET")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .process_group(0);
    command
}

/// Sends `signal` to the script's process group.
fn signal_group(child: &Child, signal: libc::c_int) -> Result<()> {
    signal_pid_group(child.id(), signal)
}

/// Sends `signal` to the process group led by `pid` (the script's).
fn signal_pid_group(pid: Option<u32>, signal: libc::c_int) -> Result<()> {
    let pid = pid.context("the script has already been reaped")?;
    let group = libc::pid_t::try_from(pid)?;
    // SAFETY: kill has no memory preconditions; a negative pid names a process group.
    let sent = unsafe { libc::kill(-group, signal) };
    ensure!(
        sent == 0,
        "kill(-{group}): {}",
        std::io::Error::last_os_error()
    );
    Ok(())
}

/// Checks that nothing the script started is left: its folder is gone, no process names
/// it, and no port of the run takes connections.
async fn nothing_left(dir: &Path, ports: &Ports, output: &str) -> Result<()> {
    ensure!(
        output.contains("cluster: stopped everything it started"),
        "no cleanup line:\n{output}"
    );
    ensure!(!dir.exists(), "{} was left behind", dir.display());
    // No process names the folder: postgres (-D), nginx (-p), the bots (--ca-file).
    let folder = dir.display().to_string();
    for entry in std::fs::read_dir("/proc")?.flatten() {
        let Ok(cmdline) = std::fs::read(entry.path().join("cmdline")) else {
            continue;
        };
        let cmdline = String::from_utf8_lossy(&cmdline).replace('\0', " ");
        ensure!(
            !cmdline.contains(&folder),
            "process {:?} outlived the script: {cmdline}\n{output}",
            entry.file_name()
        );
    }
    for port in ports.all() {
        ensure!(
            tokio::net::TcpStream::connect(("127.0.0.1", port))
                .await
                .is_err(),
            "port {port} still takes connections after the script ended:\n{output}"
        );
    }
    Ok(())
}

/// The number in `line`'s first field that parses, e.g. 3 in "node a: 3 games finished".
fn number_after(line: &str, prefix: &str) -> Option<u64> {
    line.strip_prefix(prefix)?
        .split_whitespace()
        .find_map(|word| word.parse().ok())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_readme_cluster_runs_as_written() -> Result<()> {
    if !services("the_readme_cluster_runs_as_written")? {
        return Ok(());
    }
    let bot = bot()?;
    let ports = Ports::free()?;
    let dir = scratch_dir("cluster-script").join("cluster");
    let child = script(&dir, &ports, &bot, false).spawn()?;
    let pid = child.id();
    let output = match tokio::time::timeout(RUN, child.wait_with_output()).await {
        Ok(output) => output?,
        Err(_) => {
            // SIGTERM: the script stops what it started on its way out.
            signal_pid_group(pid, libc::SIGTERM).ok();
            bail!("the script (pid {pid:?}) did not finish within {RUN:?}");
        }
    };
    let stdout = String::from_utf8_lossy(&output.stdout);
    let all = format!(
        "{stdout}\n--- stderr\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    ensure!(output.status.success(), "the script failed:\n{all}");
    ensure!(stdout.contains("cluster: OK"), "{all}");

    // Games ran on more than one node, and every one of them finished.
    let per_node: Vec<u64> = stdout
        .lines()
        .filter(|l| l.ends_with("games finished"))
        .filter_map(|l| number_after(l, "cluster: node "))
        .collect();
    ensure!(per_node.len() == 3, "three node lines: {all}");
    ensure!(
        per_node.iter().sum::<u64>() == (BOTS / 2) as u64,
        "{BOTS} bots play {} games: {per_node:?}\n{all}",
        BOTS / 2
    );
    ensure!(
        per_node.iter().filter(|&&n| n > 0).count() >= 2,
        "every game on one node: {per_node:?}\n{all}"
    );
    // Every game in Postgres, and read back through nginx.
    let line = |prefix: &str| {
        stdout
            .lines()
            .find(|l| l.starts_with(prefix))
            .map(str::to_string)
            .with_context(|| format!("no line {prefix:?}:\n{all}"))
    };
    let recorded = line("cluster: PostgreSQL: ")?;
    ensure!(
        number_after(&recorded, "cluster: PostgreSQL:") == Some((BOTS / 2) as u64),
        "{recorded}"
    );
    let listed = line(&format!(
        "cluster: GET https://127.0.0.1:{}/matches:",
        ports.https
    ))?;
    ensure!(
        listed.ends_with(&format!(": {} matches", BOTS / 2)),
        "{listed}"
    );
    let leaderboard = line(&format!(
        "cluster: GET https://127.0.0.1:{}/leaderboard:",
        ports.https
    ))?;
    ensure!(
        leaderboard.contains(r#""rows":[{"#) && leaderboard.contains(r#""player":"guest:"#),
        "{leaderboard}"
    );
    nothing_left(&dir, &ports, &all).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ctrl_c_stops_everything_the_script_started() -> Result<()> {
    if !services("ctrl_c_stops_everything_the_script_started")? {
        return Ok(());
    }
    let bot = bot()?;
    let ports = Ports::free()?;
    let dir = scratch_dir("cluster-script-interrupted").join("cluster");
    let mut child = script(&dir, &ports, &bot, true).spawn()?;
    let mut stdout = BufReader::new(child.stdout.take().context("stdout")?).lines();
    let mut stderr = child.stderr.take().context("stderr")?;
    let errors = tokio::spawn(async move {
        let mut text = String::new();
        let _ = stderr.read_to_string(&mut text).await;
        text
    });
    // Held up (HOLD=1) once it has checked everything: then Ctrl-C.
    let mut seen = String::new();
    let up = async {
        while let Some(line) = stdout.next_line().await? {
            seen.push_str(&line);
            seen.push('\n');
            if line.starts_with("cluster: the cluster is up") {
                return Ok(true);
            }
        }
        anyhow::Ok(false)
    };
    let up = tokio::time::timeout(RUN, up).await;
    if !matches!(up, Ok(Ok(true))) {
        signal_group(&child, libc::SIGTERM).ok();
        let _ = tokio::time::timeout(RUN, child.wait()).await;
        bail!(
            "the cluster never came up ({up:?}):\n{seen}\n--- stderr\n{}",
            errors.await?
        );
    }
    signal_group(&child, libc::SIGINT)?;
    let status = tokio::time::timeout(RUN, child.wait())
        .await
        .context("the script did not stop after Ctrl-C")??;
    while let Some(line) = stdout.next_line().await? {
        seen.push_str(&line);
        seen.push('\n');
    }
    let all = format!("{seen}\n--- stderr\n{}", errors.await?);
    ensure!(
        status.success(),
        "Ctrl-C of a held cluster is its normal end ({status}):\n{all}"
    );
    nothing_left(&dir, &ports, &all).await
}

/// A port that something already listens on (here: the test) makes the script stop before
/// it starts anything, naming the port, instead of running against what answers there.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_port_in_use_stops_the_script_before_it_starts_anything() -> Result<()> {
    if !services("a_port_in_use_stops_the_script_before_it_starts_anything")? {
        return Ok(());
    }
    let bot = bot()?;
    let mut ports = Ports::free()?;
    let taken = std::net::TcpListener::bind("127.0.0.1:0")?;
    ports.nodes[1] = taken.local_addr()?.port();
    let dir = scratch_dir("cluster-script-port").join("cluster");
    let child = script(&dir, &ports, &bot, false).spawn()?;
    let output = tokio::time::timeout(RUN, child.wait_with_output()).await??;
    let stderr = String::from_utf8_lossy(&output.stderr);
    ensure!(!output.status.success(), "the script ran: {stderr}");
    let expected = format!("port {} on 127.0.0.1 is in use", ports.nodes[1]);
    ensure!(stderr.contains(&expected), "{stderr}");
    ensure!(!dir.exists(), "{} was made", dir.display());
    drop(taken);
    Ok(())
}
