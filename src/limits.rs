//! Stopping a run early, cleanly: Ctrl-C (SIGINT), and `--max-memory`, a
//! guard that watches the resident set and stops the run with a clear
//! error before the operating system kills it. Both set a flag that the
//! ingest loop checks between files; the pipeline then returns
//! [`Stop`], no output is written and no state is committed. A second
//! Ctrl-C exits at once.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, OnceLock};
use std::time::Duration;

/// Why a run stopped.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum Stop {
    #[error("interrupted")]
    Interrupted,
    #[error("stopped at {rss} bytes of memory, over --max-memory {limit}: narrow the window (--since/--until), split the input, or raise the limit")]
    Memory { rss: u64, limit: u64 },
}

fn interrupted() -> &'static Arc<AtomicBool> {
    static FLAG: OnceLock<Arc<AtomicBool>> = OnceLock::new();
    FLAG.get_or_init(|| Arc::new(AtomicBool::new(false)))
}

static MEMORY_STOP: AtomicBool = AtomicBool::new(false);
static MEMORY_RSS: AtomicU64 = AtomicU64::new(0);
static MEMORY_LIMIT: AtomicU64 = AtomicU64::new(0);

/// Makes Ctrl-C (and SIGTERM) stop the run at the next check; a second one
/// exits at once with 130.
pub fn install_interrupt_handler() -> std::io::Result<()> {
    use signal_hook::consts::{SIGINT, SIGTERM};
    let flag = interrupted().clone();
    for signal in [SIGINT, SIGTERM] {
        signal_hook::flag::register_conditional_shutdown(signal, 130, flag.clone())?;
        signal_hook::flag::register(signal, flag.clone())?;
    }
    Ok(())
}

/// The resident set size of this process, in bytes (Linux).
pub fn rss_bytes() -> Option<u64> {
    let statm = std::fs::read_to_string("/proc/self/statm").ok()?;
    let pages: u64 = statm.split_whitespace().nth(1)?.parse().ok()?;
    Some(pages * 4096)
}

/// The most memory this process has held resident so far, in bytes
/// (`VmHWM`, Linux). Unlike `getrusage`'s `ru_maxrss`, it counts this
/// program only, not the process it was started from.
pub fn peak_rss_bytes() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kib: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kib * 1024)
}

/// Watches the resident set every 50 ms and stops the run above `limit`.
/// Once per process: a second call changes nothing.
pub fn start_memory_guard(limit: u64) {
    static STARTED: std::sync::Once = std::sync::Once::new();
    let mut first = false;
    STARTED.call_once(|| first = true);
    if !first {
        return;
    }
    MEMORY_LIMIT.store(limit, Ordering::Relaxed);
    std::thread::spawn(move || loop {
        if let Some(rss) = rss_bytes() {
            if rss > limit {
                MEMORY_RSS.store(rss, Ordering::Relaxed);
                MEMORY_STOP.store(true, Ordering::Relaxed);
                return;
            }
        }
        std::thread::sleep(Duration::from_millis(50));
    });
}

/// Whether the run should stop, and why.
pub fn check() -> Result<(), Stop> {
    if interrupted().load(Ordering::Relaxed) {
        return Err(Stop::Interrupted);
    }
    if MEMORY_STOP.load(Ordering::Relaxed) {
        return Err(Stop::Memory {
            rss: MEMORY_RSS.load(Ordering::Relaxed),
            limit: MEMORY_LIMIT.load(Ordering::Relaxed),
        });
    }
    Ok(())
}

/// True once the run should stop.
pub fn stopped() -> bool {
    check().is_err()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_its_own_resident_set() {
        let rss = rss_bytes().expect("/proc/self/statm");
        assert!(rss > 1 << 20, "{rss}");
        let peak = peak_rss_bytes().expect("/proc/self/status");
        assert!(peak >= rss / 2, "{peak} {rss}");
    }
}
