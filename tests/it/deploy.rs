//! The shipped systemd unit passes `systemd-analyze verify` (with its `ExecStart` pointed
//! at the binary under test, since /usr/local/bin/ticksync does not exist here).

use anyhow::{Context, Result, ensure};

const UNIT: &str = include_str!("../../deploy/ticksync.service");

#[test]
fn the_systemd_unit_verifies() -> Result<()> {
    let probe = std::process::Command::new("systemd-analyze")
        .arg("--version")
        .output();
    if probe.is_err() {
        ensure!(
            std::env::var("TICKSYNC_REQUIRE_SERVICES").as_deref() != Ok("1"),
            "systemd-analyze is required (TICKSYNC_REQUIRE_SERVICES=1) but not installed"
        );
        eprintln!("SKIPPED: systemd-analyze is not installed (apt-get install systemd)");
        return Ok(());
    }
    ensure!(UNIT.contains("ExecStart=/usr/local/bin/ticksync serve"));
    ensure!(UNIT.contains("KillSignal=SIGTERM"));
    let dir = std::env::temp_dir().join(format!("ticksync-unit-{}", std::process::id()));
    std::fs::create_dir_all(&dir)?;
    let path = dir.join("ticksync.service");
    let unit = UNIT.replace("/usr/local/bin/ticksync", env!("CARGO_BIN_EXE_ticksync"));
    std::fs::write(&path, unit)?;
    let output = std::process::Command::new("systemd-analyze")
        .arg("verify")
        .arg(&path)
        .output()
        .context("running systemd-analyze verify")?;
    let _ = std::fs::remove_dir_all(&dir);
    let said = format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    ensure!(
        output.status.success(),
        "systemd-analyze verify failed: {said}"
    );
    ensure!(
        !said.contains("ticksync.service"),
        "systemd-analyze verify warned about the unit: {said}"
    );
    Ok(())
}
