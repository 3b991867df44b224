//! What a new user meets first: `ticksync serve` refusing settings that cannot work (run
//! as the real binary), its start-up log, `HEAD` requests and `/play/`.

use std::process::Stdio;

use anyhow::{Context, Result, ensure};
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::Command;

use crate::support::*;

/// `ticksync serve` with `args` and `env`, and no other `TICKSYNC_` variable.
fn serve(args: &[&str], env: &[(&str, &str)]) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_ticksync"));
    // In a scratch directory: the default database file is created where the server runs.
    command
        .arg("serve")
        .args(args)
        .current_dir(scratch_dir("first-hour"))
        .kill_on_drop(true);
    for (name, _) in std::env::vars() {
        if name.starts_with("TICKSYNC_") || name == "NO_COLOR" {
            command.env_remove(name);
        }
    }
    command.envs(env.iter().copied());
    command
}

/// Runs `serve` expecting it to refuse to start; returns what it printed on stderr.
async fn refused(args: &[&str], env: &[(&str, &str)]) -> Result<String> {
    let output = tokio::time::timeout(WAIT, serve(args, env).output())
        .await
        .with_context(|| format!("{args:?} did not exit: it started instead of refusing"))??;
    ensure!(!output.status.success(), "{args:?} exited successfully");
    let stderr = String::from_utf8(output.stderr)?;
    ensure!(!stderr.contains('\x1b'), "colour codes in {stderr:?}");
    Ok(stderr)
}

#[tokio::test]
async fn serve_refuses_settings_that_cannot_work_and_says_why() -> Result<()> {
    let local = ["--addr", "127.0.0.1:0"];
    let cases: [(&[&str], &str); 7] = [
        (
            &["--ping-interval", "0"],
            "--ping-interval must be more than 0 seconds",
        ),
        (
            &["--idle-timeout", "0"],
            "--idle-timeout must be more than 0 seconds",
        ),
        (
            &["--outbox-events", "0"],
            "--outbox-events must be at least 1",
        ),
        (
            &["--ping-interval", "10", "--idle-timeout", "15"],
            "must be at least twice --ping-interval",
        ),
        (
            &["--hello-timeout", "0"],
            "--hello-timeout must be more than 0",
        ),
        (
            &["--admin-token", "short"],
            "--admin-token must be at least 16",
        ),
        (
            &["--bot-strategy", "clever"],
            "unknown strategy `clever`: use random or perfect",
        ),
    ];
    for (args, expected) in cases {
        let all: Vec<&str> = local.iter().chain(args).copied().collect();
        let stderr = refused(&all, &[]).await?;
        ensure!(stderr.contains(expected), "{args:?}: {stderr}");
    }
    Ok(())
}

#[tokio::test]
async fn a_bad_address_names_the_expected_form_and_where_it_came_from() -> Result<()> {
    let stderr = refused(&["--addr", "7878"], &[]).await?;
    ensure!(stderr.contains("`7878` (from --addr)"), "{stderr}");
    ensure!(stderr.contains("expected HOST:PORT"), "{stderr}");
    let stderr = refused(&[], &[("TICKSYNC_ADDR", "localhost:http")]).await?;
    ensure!(
        stderr.contains("`localhost:http` (from the environment variable TICKSYNC_ADDR)"),
        "{stderr}"
    );
    ensure!(stderr.contains("expected HOST:PORT"), "{stderr}");
    Ok(())
}

#[tokio::test]
async fn the_start_up_log_gives_the_play_url_and_settings_without_colour() -> Result<()> {
    let mut child = serve(
        &[
            "--addr",
            "127.0.0.1:0",
            "--tick-hz",
            "20",
            "--bot-strategy",
            "perfect",
        ],
        &[
            ("TICKSYNC_ADMIN_TOKEN", "0123456789abcdef-secret"),
            ("TICKSYNC_BOT_FILL_AFTER", "0.5"),
        ],
    )
    .stdout(Stdio::piped())
    .stderr(Stdio::piped())
    .spawn()?;
    let stdout = child.stdout.take().context("stdout")?;
    let mut lines = BufReader::new(stdout).lines();
    let line = tokio::time::timeout(WAIT, async {
        while let Some(line) = lines.next_line().await? {
            if line.contains("listening") {
                return anyhow::Ok(line);
            }
        }
        anyhow::bail!("the server exited without logging its address")
    })
    .await
    .context("no start-up line")??;
    child.kill().await?;
    ensure!(!line.contains('\x1b'), "colour codes in {line:?}");
    ensure!(line.contains(" INFO "), "{line}");
    let url = line
        .split_whitespace()
        .find(|word| word.starts_with("http://127.0.0.1:") && word.ends_with("/play"))
        .with_context(|| format!("no play URL in {line}"))?;
    ensure!(
        !url.ends_with(":0/play"),
        "the URL has the bound port: {url}"
    );
    for setting in [
        "tick_hz=20",
        "ping_interval=10s",
        "idle_timeout=30s",
        "monitor=http://",
        "bot_fill=after 500ms (perfect)",
    ] {
        ensure!(line.contains(setting), "{setting} missing in {line}");
    }
    ensure!(
        !line.contains("secret"),
        "the admin token was logged: {line}"
    );
    Ok(())
}

#[tokio::test]
async fn head_is_answered_like_get_without_a_body() -> Result<()> {
    let server = start(test_config()).await;
    let addr = server.local_addr();
    for path in ["/play", "/healthz", "/assets/msgpack.min.js", "/"] {
        let get = http_get(addr, path).await?;
        let head = http_request(addr, "HEAD", path).await?;
        ensure!(head.status == 200 && get.status == 200, "{path}");
        ensure!(head.body.is_empty(), "{path}: HEAD sent a body");
        ensure!(head.content_type == get.content_type, "{path}");
        if path != "/healthz" {
            // /healthz's body (and so its length) changes between two requests.
            ensure!(
                head.header("content-length") == Some(get.body.len().to_string().as_str()),
                "{path}: {:?} vs {}",
                head.header("content-length"),
                get.body.len()
            );
        }
    }
    ensure!(http_request(addr, "HEAD", "/nothing").await?.status == 404);
    server.shutdown().await;
    Ok(())
}

#[tokio::test]
async fn play_with_a_trailing_slash_redirects_to_play() -> Result<()> {
    let server = start(test_config()).await;
    let response = http_get(server.local_addr(), "/play/").await?;
    ensure!(response.status == 308, "{}", response.status);
    ensure!(
        response.header("location") == Some("/play"),
        "{:?}",
        response.headers
    );
    server.shutdown().await;
    Ok(())
}
