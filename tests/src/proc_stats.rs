//! What the kernel says about a process (Linux `/proc`): its resident
//! memory and the CPU time it has used, for the tests that hold a host to
//! bounds whatever its guests do.

use std::process::Command;
use std::sync::OnceLock;
use std::time::Duration;

/// The resident set size of process `pid` (`VmRSS`), in KiB.
pub fn rss_kib(pid: u32) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let line = status.lines().find(|l| l.starts_with("VmRSS:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

/// The CPU time (user and system) process `pid` has used so far.
pub fn cpu_time(pid: u32) -> Option<Duration> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // The command name, in parentheses, may hold spaces: count the fields
    // after it (the 3rd field, the state, comes first).
    let (_, rest) = stat.rsplit_once(')')?;
    let fields: Vec<&str> = rest.split_whitespace().collect();
    let utime: u64 = fields.get(11)?.parse().ok()?;
    let stime: u64 = fields.get(12)?.parse().ok()?;
    Some(Duration::from_secs_f64((utime + stime) as f64 / clock_ticks() as f64))
}

/// The CPU time process `pid` uses during `window`.
pub async fn cpu_used_during(pid: u32, window: Duration) -> Duration {
    let before = cpu_time(pid).expect("read the process's CPU time");
    tokio::time::sleep(window).await;
    let after = cpu_time(pid).expect("read the process's CPU time");
    after.saturating_sub(before)
}

/// Clock ticks per second (`getconf CLK_TCK`; 100 if that fails).
fn clock_ticks() -> u64 {
    static TICKS: OnceLock<u64> = OnceLock::new();
    *TICKS.get_or_init(|| {
        Command::new("getconf")
            .arg("CLK_TCK")
            .output()
            .ok()
            .and_then(|o| String::from_utf8_lossy(&o.stdout).trim().parse().ok())
            .filter(|t| *t > 0)
            .unwrap_or(100)
    })
}
