//! Reading a process's CPU time and memory from /proc (Linux only).

use std::time::Duration;

use anyhow::{Context, bail};

/// One reading of a process.
#[derive(Debug, Clone, Copy)]
pub struct ProcSample {
    /// utime + stime.
    pub cpu: Duration,
    /// Peak resident set size (VmHWM), KiB.
    pub hwm_kb: u64,
    /// Resident set size now (VmRSS), KiB.
    pub rss_kb: u64,
}

/// The kernel's clock tick rate, in which /proc/PID/stat counts CPU time.
pub fn clock_ticks_per_second() -> u64 {
    // SAFETY: sysconf only reads a configuration value; it has no preconditions.
    let ticks = unsafe { libc::sysconf(libc::_SC_CLK_TCK) };
    u64::try_from(ticks).ok().filter(|&t| t > 0).unwrap_or(100)
}

/// Reads `/proc/<pid>/stat` and `/proc/<pid>/status` (`pid` may be "self").
pub fn sample(pid: &str) -> anyhow::Result<ProcSample> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat"))
        .with_context(|| format!("reading /proc/{pid}/stat"))?;
    let status = std::fs::read_to_string(format!("/proc/{pid}/status"))
        .with_context(|| format!("reading /proc/{pid}/status"))?;
    Ok(ProcSample {
        cpu: cpu_time(&stat)?,
        hwm_kb: status_kb(&status, "VmHWM")?,
        rss_kb: status_kb(&status, "VmRSS")?,
    })
}

/// utime + stime from a stat line. The command name (field 2) is in parentheses and may
/// hold spaces, so fields are counted from the last `)`: utime and stime are fields 14 and
/// 15, the 12th and 13th after it.
fn cpu_time(stat: &str) -> anyhow::Result<Duration> {
    let after = stat
        .rfind(')')
        .map(|i| &stat[i + 1..])
        .context("no `)` in the stat line")?;
    let fields: Vec<&str> = after.split_whitespace().collect();
    let (Some(utime), Some(stime)) = (fields.get(11), fields.get(12)) else {
        bail!("short stat line");
    };
    let ticks = utime.parse::<u64>()? + stime.parse::<u64>()?;
    let hz = clock_ticks_per_second();
    Ok(Duration::from_secs(ticks / hz) + Duration::from_secs_f64((ticks % hz) as f64 / hz as f64))
}

/// CPU time the whole machine spent busy (every core; user, nice, system, irq, softirq and
/// steal from the `cpu` line of `/proc/stat`), so that what other processes used during a
/// window can be told apart from the server's and the driver's.
pub fn machine_busy() -> anyhow::Result<Duration> {
    let stat = std::fs::read_to_string("/proc/stat").context("reading /proc/stat")?;
    let line = stat
        .lines()
        .find(|line| line.starts_with("cpu "))
        .context("no `cpu` line in /proc/stat")?;
    let fields: Vec<u64> = line
        .split_whitespace()
        .skip(1)
        .map(str::parse)
        .collect::<Result<_, _>>()?;
    // user nice system idle iowait irq softirq steal ...
    let busy: u64 = [0, 1, 2, 5, 6, 7]
        .iter()
        .filter_map(|&i| fields.get(i))
        .sum();
    let hz = clock_ticks_per_second();
    Ok(Duration::from_secs(busy / hz) + Duration::from_secs_f64((busy % hz) as f64 / hz as f64))
}

fn status_kb(status: &str, key: &str) -> anyhow::Result<u64> {
    let line = status
        .lines()
        .find(|line| line.starts_with(&format!("{key}:")))
        .with_context(|| format!("no {key} in the status"))?;
    let value = line
        .split_whitespace()
        .nth(1)
        .with_context(|| format!("no value on `{line}`"))?;
    Ok(value.parse()?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stat_fields_are_counted_from_the_last_parenthesis() {
        let line = "42 (a) b) S 1 2 3 4 5 6 7 8 9 10 150 50 0 0";
        let hz = clock_ticks_per_second() as f64;
        assert!((cpu_time(line).unwrap().as_secs_f64() - 200.0 / hz).abs() < 1e-9);
    }
}
