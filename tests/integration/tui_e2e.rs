//! The real binary in a real terminal: tmux runs `rolecall tui` on the
//! sample logs, the test types keys and reads the screen back. Without tmux
//! the test says so and passes, except in CI (`CI` or ROLECALL_REQUIRE_TMUX
//! set, as `.ci/run` does after installing it).

use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

/// A private tmux server, killed when the test ends however it ends.
struct Tmux {
    socket: String,
}

impl Tmux {
    fn start(dir: &Path, width: u16, height: u16, command: &str) -> Option<Tmux> {
        if Command::new("tmux").arg("-V").output().is_err() {
            crate::common::skip_or_fail(
                "ROLECALL_REQUIRE_TMUX",
                "tmux is not installed: the dashboard is not driven in a terminal",
            );
            return None;
        }
        // The pane stays after the program exits, so the restored screen
        // can be read.
        let conf = dir.join("tmux.conf");
        std::fs::write(&conf, "set -g remain-on-exit on\nset -g status off\n").unwrap();
        // One server per test: tests run side by side.
        static NEXT: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
        let n = NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let tmux = Tmux {
            socket: format!("rolecall-test-{}-{n}", std::process::id()),
        };
        let ok = Command::new("tmux")
            .args(["-L", &tmux.socket, "-f"])
            .arg(&conf)
            .args([
                "new-session",
                "-d",
                "-s",
                "t",
                "-x",
                &width.to_string(),
                "-y",
                &height.to_string(),
            ])
            .arg(command)
            .env_remove("NO_COLOR")
            .env("TERM", "xterm-256color")
            .status()
            .unwrap()
            .success();
        assert!(ok, "tmux starts");
        Some(tmux)
    }

    fn tmux(&self, args: &[&str]) -> String {
        let o = Command::new("tmux")
            .args(["-L", &self.socket])
            .args(args)
            .output()
            .unwrap();
        String::from_utf8_lossy(&o.stdout).into_owned()
    }

    fn screen(&self) -> String {
        self.tmux(&["capture-pane", "-p", "-t", "t"])
    }

    fn keys(&self, keys: &[&str]) {
        let mut args = vec!["send-keys", "-t", "t"];
        args.extend_from_slice(keys);
        self.tmux(&args);
    }

    /// Waits until the screen shows every one of `wanted`.
    fn wait_for(&self, wanted: &[&str], what: &str) -> String {
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            let s = self.screen();
            if wanted.iter().all(|w| s.contains(w)) {
                return s;
            }
            assert!(
                Instant::now() < deadline,
                "{what}: the screen never showed {wanted:?}:\n{s}"
            );
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    /// Waits for the program to exit; returns its exit status, which the
    /// pane's shell writes to a file (tmux's own `pane_dead_status` is not
    /// reliable when its server is a child of a busy test process).
    fn wait_exit(&self, status_file: &Path) -> i32 {
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            if let Ok(s) = std::fs::read_to_string(status_file) {
                if let Ok(code) = s.trim().parse() {
                    return code;
                }
            }
            assert!(
                Instant::now() < deadline,
                "the dashboard did not exit:\n{}",
                self.screen()
            );
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    /// The dashboard's process id: the child of the pane's shell.
    fn program_pid(&self) -> String {
        let shell = self.tmux(&["display-message", "-p", "-t", "t", "#{pane_pid}"]);
        let shell = shell.trim();
        std::fs::read_to_string(format!("/proc/{shell}/task/{shell}/children"))
            .unwrap()
            .split_whitespace()
            .next()
            .expect("the shell runs the dashboard")
            .to_string()
    }
}

impl Drop for Tmux {
    fn drop(&mut self) {
        let _ = Command::new("tmux")
            .args(["-L", &self.socket, "kill-server"])
            .output();
    }
}

/// The dashboard on the sample logs; its exit status goes to `status`.
fn dashboard_command(status: &Path) -> String {
    format!(
        "cd '{}' && '{}' tui sample-logs --policy sample-logs/rolecall.toml --jwks sample-logs/keys/gitlab-jwks.json; echo $? > '{}'",
        env!("CARGO_MANIFEST_DIR"),
        env!("CARGO_BIN_EXE_rolecall"),
        status.display()
    )
}

#[test]
fn open_search_drill_back_and_quit_in_a_real_terminal() {
    let dir = tempfile::tempdir().unwrap();
    let status = dir.path().join("status");
    let Some(t) = Tmux::start(dir.path(), 120, 36, &dashboard_command(&status)) else {
        return;
    };

    t.wait_for(
        &["critical 5", "27 of 27 rows", "tier-mismatch"],
        "the dashboard opens",
    );

    t.keys(&["/"]);
    t.keys(&["-l", "credential-ip-drift"]);
    t.keys(&["Enter"]);
    t.wait_for(&["match 1 of 2"], "search");

    t.keys(&["Enter"]);
    t.wait_for(
        &["Findings › Session", "Token claims", "Exchange"],
        "Enter drills into the session",
    );
    t.keys(&["G"]);
    let calls = t.wait_for(
        &["Calls with these credentials"],
        "End scrolls to the calls",
    );
    assert!(
        calls.contains("! 2025-05-14 13:24:00"),
        "the flagged call is marked:\n{calls}"
    );

    t.keys(&["Escape"]);
    t.wait_for(&["Findings   27 of 27 rows"], "Esc goes back");

    t.keys(&["2"]);
    t.wait_for(&["Sessions   69 of 69 rows"], "2 shows the sessions");

    t.keys(&["q"]);
    assert_eq!(t.wait_exit(&status), 0, "q exits cleanly");
    let after = t.screen();
    assert!(
        !after.contains("69 of 69 rows"),
        "the terminal is restored (the alternate screen is gone):\n{after}"
    );
}

#[test]
fn sigterm_restores_the_terminal_and_exits_143() {
    let dir = tempfile::tempdir().unwrap();
    let status = dir.path().join("status");
    let Some(t) = Tmux::start(dir.path(), 100, 30, &dashboard_command(&status)) else {
        return;
    };
    t.wait_for(&["27 of 27 rows"], "the dashboard opens");
    let pid = t.program_pid();
    let ok = Command::new("kill")
        .args(["-TERM", &pid])
        .status()
        .unwrap()
        .success();
    assert!(ok);
    assert_eq!(
        t.wait_exit(&status),
        143,
        "SIGTERM ends the dashboard with 128 + 15"
    );
    let after = t.screen();
    assert!(
        !after.contains("27 of 27 rows"),
        "the terminal is restored:\n{after}"
    );
}

/// Whether a process is still there (and not a zombie nobody reaped).
fn alive(pid: &str) -> bool {
    match std::fs::read_to_string(format!("/proc/{pid}/stat")) {
        Ok(stat) => !stat
            .rsplit(')')
            .next()
            .is_some_and(|rest| rest.trim_start().starts_with('Z')),
        Err(_) => false,
    }
}

/// How long a process takes to go, up to `limit`.
fn gone_within(pid: &str, limit: Duration) -> Option<Duration> {
    let start = Instant::now();
    while start.elapsed() < limit {
        if !alive(pid) {
            return Some(start.elapsed());
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    None
}

// See: issue 17, "the dashboard ends when its terminal does". Killing the
// tmux session under a running dashboard left it spinning at 88% CPU.
#[test]
fn the_dashboard_ends_when_its_terminal_is_killed() {
    let dir = tempfile::tempdir().unwrap();
    let status = dir.path().join("status");
    let Some(t) = Tmux::start(dir.path(), 100, 30, &dashboard_command(&status)) else {
        return;
    };
    t.wait_for(&["27 of 27 rows"], "the dashboard opens");
    let pid = t.program_pid();
    assert!(alive(&pid));
    t.tmux(&["kill-session", "-t", "t"]);
    let took = gone_within(&pid, Duration::from_secs(5));
    assert!(
        took.is_some(),
        "the dashboard is still running 5 s after its terminal went away"
    );
    eprintln!("the dashboard ended {:?} after its terminal", took.unwrap());
}

// The same when the terminal goes without a hang-up signal reaching the
// dashboard (SIGHUP ignored, as under nohup): the lost terminal is seen
// on its own, and the exit status says so.
#[test]
fn the_dashboard_ends_on_a_lost_terminal_even_without_sighup() {
    let dir = tempfile::tempdir().unwrap();
    let status = dir.path().join("status");
    // The shell ignores SIGHUP, and so does the dashboard it starts until
    // it installs its own handler; the shell survives the hang-up to
    // write the status.
    let command = format!(
        "trap '' HUP; cd '{}' && '{}' tui sample-logs --policy sample-logs/rolecall.toml; echo $? > '{}'",
        env!("CARGO_MANIFEST_DIR"),
        env!("CARGO_BIN_EXE_rolecall"),
        status.display()
    );
    let Some(t) = Tmux::start(dir.path(), 100, 30, &command) else {
        return;
    };
    t.wait_for(&["27 of 27 rows"], "the dashboard opens");
    let pid = t.program_pid();
    t.tmux(&["kill-session", "-t", "t"]);
    assert!(
        gone_within(&pid, Duration::from_secs(5)).is_some(),
        "the dashboard outlived its terminal"
    );
    let deadline = Instant::now() + Duration::from_secs(5);
    let code = loop {
        if let Some(code) = std::fs::read_to_string(&status)
            .ok()
            .and_then(|s| s.trim().parse::<i32>().ok())
        {
            break code;
        }
        assert!(Instant::now() < deadline, "no exit status was written");
        std::thread::sleep(Duration::from_millis(50));
    };
    assert!(
        code == 129 || code == 2,
        "a hang-up (129) or a lost terminal (2), not {code}"
    );
}
