//! The investigator's dashboard. `app` holds the state and its pure
//! `update(Action)`; `view` draws it; `keys` maps terminal events to
//! actions; `data`, `table`, `detail` and `timeline` shape the engine's
//! report for display. This module owns the terminal: it is set up once,
//! and restored on quit, on error, on panic (ratatui's hook), on SIGTERM
//! and SIGHUP, and when the terminal goes away. The dashboard reads the
//! engine's results only; it never parses logs (the raw view asks the
//! runner for a record). Imports `model` and `text`.
//!
//! The dashboard ends with its terminal. When the terminal closes (ssh
//! drops, the tmux pane is killed), crossterm's event reader meets end of
//! file or EIO and retries without end, inside `event::poll`, so the loop
//! never runs again to see a signal. A watchdog thread therefore ends the
//! process itself: on SIGHUP (exit 129), SIGTERM (143), or a hang-up or
//! error on the terminal (2), it restores what can be restored and exits
//! within a second.

// Unsafe code here: the terminal is polled for a hang-up with poll(2). Each block says why it is sound.
#![allow(unsafe_code)]

pub mod action;
pub mod app;
pub mod data;
pub mod detail;
pub mod keys;
pub mod table;
pub mod timeline;
pub mod view;

use std::io::{self, IsTerminal, Write};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::Receiver;
use std::sync::Arc;
use std::time::Duration;

use ratatui::crossterm::event::{self, DisableMouseCapture, EnableMouseCapture};
use ratatui::crossterm::execute;

use self::action::Action;
use self::app::{App, Effect};
use self::data::Data;

/// How the dashboard ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ending {
    Quit,
    /// Ctrl-C.
    Interrupted,
    /// SIGHUP: the terminal was closed.
    HangUp,
    /// SIGTERM.
    Terminated,
}

/// Exit statuses when the watchdog ends the process: 128 plus the signal,
/// and 2 when the terminal itself failed.
pub const EXIT_HANGUP: i32 = 129;
pub const EXIT_TERMINATED: i32 = 143;
pub const EXIT_TERMINAL_LOST: i32 = 2;

/// Signals and the terminal's health, watched from a thread of its own.
struct Watchdog {
    hangup: Arc<AtomicBool>,
    terminated: Arc<AtomicBool>,
    /// Set when the loop returns: the watchdog then stops.
    done: Arc<AtomicBool>,
}

impl Watchdog {
    fn start() -> io::Result<Watchdog> {
        let w = Watchdog {
            hangup: Arc::new(AtomicBool::new(false)),
            terminated: Arc::new(AtomicBool::new(false)),
            done: Arc::new(AtomicBool::new(false)),
        };
        signal_hook::flag::register(signal_hook::consts::SIGHUP, w.hangup.clone())?;
        signal_hook::flag::register(signal_hook::consts::SIGTERM, w.terminated.clone())?;
        let (hangup, terminated, done) = (w.hangup.clone(), w.terminated.clone(), w.done.clone());
        std::thread::spawn(move || loop {
            std::thread::sleep(Duration::from_millis(100));
            if done.load(Ordering::Relaxed) {
                return;
            }
            let code = if hangup.load(Ordering::Relaxed) {
                EXIT_HANGUP
            } else if terminated.load(Ordering::Relaxed) {
                EXIT_TERMINATED
            } else if terminal_lost() {
                EXIT_TERMINAL_LOST
            } else {
                continue;
            };
            // Give the loop a moment to end on its own (it restores the
            // terminal and returns); when it is stuck, restore from here,
            // on a thread of its own in case the terminal blocks writes,
            // and exit regardless.
            std::thread::sleep(Duration::from_millis(200));
            if done.load(Ordering::Relaxed) {
                return;
            }
            let restored = Arc::new(AtomicBool::new(false));
            let flag = restored.clone();
            std::thread::spawn(move || {
                restore_terminal();
                flag.store(true, Ordering::Relaxed);
            });
            for _ in 0..20 {
                if restored.load(Ordering::Relaxed) {
                    break;
                }
                std::thread::sleep(Duration::from_millis(10));
            }
            std::process::exit(code);
        });
        Ok(w)
    }

    /// The ending a signal asks for, if one came.
    fn signalled(&self) -> Option<Ending> {
        if self.hangup.load(Ordering::Relaxed) {
            Some(Ending::HangUp)
        } else if self.terminated.load(Ordering::Relaxed) {
            Some(Ending::Terminated)
        } else {
            None
        }
    }
}

impl Drop for Watchdog {
    fn drop(&mut self) {
        self.done.store(true, Ordering::Relaxed);
    }
}

/// Whether the terminal has gone: a hang-up or error on standard output
/// (which the dashboard draws to) or on standard input when it is the
/// terminal. Polled for no events, so no input is consumed.
fn terminal_lost() -> bool {
    use std::os::fd::AsRawFd;
    let mut fds = vec![libc::pollfd {
        fd: io::stdout().as_raw_fd(),
        events: 0,
        revents: 0,
    }];
    if io::stdin().is_terminal() {
        fds.push(libc::pollfd {
            fd: io::stdin().as_raw_fd(),
            events: 0,
            revents: 0,
        });
    }
    // SAFETY: `fds` is a valid array of `fds.len()` pollfd structs that
    // lives across the call; a zero timeout returns at once.
    let n = unsafe { libc::poll(fds.as_mut_ptr(), fds.len() as libc::nfds_t, 0) };
    n > 0
        && fds
            .iter()
            .any(|f| f.revents & (libc::POLLHUP | libc::POLLERR | libc::POLLNVAL) != 0)
}

/// Leaves raw mode and the alternate screen, each whatever became of the
/// other, and says nothing: on a terminal that is gone, every step fails,
/// and ratatui's own `restore` would then print to that terminal, and
/// panic.
fn restore_terminal() {
    let _ = execute!(io::stdout(), DisableMouseCapture);
    let _ = ratatui::crossterm::terminal::disable_raw_mode();
    let _ = execute!(
        io::stdout(),
        ratatui::crossterm::terminal::LeaveAlternateScreen
    );
}

/// Restores the terminal however the loop ends.
struct Restore;

impl Drop for Restore {
    fn drop(&mut self) {
        restore_terminal();
    }
}

/// Whether colour may be used (`NO_COLOR` turns it off).
pub fn colour_allowed() -> bool {
    std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty())
}

/// Runs the dashboard until the user quits. `actions` brings the engine's
/// progress and results; `raw` reads an event's original record.
pub fn run(
    actions: Receiver<Action>,
    raw: &dyn Fn(&Data, detail::RawAt) -> Result<String, String>,
) -> io::Result<Ending> {
    let watchdog = Watchdog::start()?;
    let mut terminal = ratatui::try_init()?;
    let _restore = Restore;
    execute!(io::stdout(), EnableMouseCapture)?;
    let size = terminal.size()?;
    let mut app = App::new(size.width, size.height, colour_allowed());
    loop {
        terminal.draw(|f| view::draw(f, &app))?;
        if let Some(ending) = watchdog.signalled() {
            return Ok(ending);
        }
        while let Ok(a) = actions.try_recv() {
            app.update(a);
        }
        if !event::poll(Duration::from_millis(100))? {
            continue;
        }
        let ev = event::read()?;
        let ctrl_c = matches!(&ev, event::Event::Key(k) if k.code == event::KeyCode::Char('c') && k.modifiers.contains(event::KeyModifiers::CONTROL));
        let Some(action) = keys::action_for(&ev, &app.mode) else {
            continue;
        };
        match app.update(action) {
            None => {}
            Some(Effect::Quit) => {
                return Ok(if ctrl_c {
                    Ending::Interrupted
                } else {
                    Ending::Quit
                })
            }
            Some(Effect::LoadRaw { at, title }) => {
                let result = match &app.data {
                    Some(data) => raw(data, at),
                    None => Err("still loading".into()),
                };
                match result {
                    Ok(text) => {
                        app.update(Action::RawLoaded { title, text });
                    }
                    Err(e) => app.status = Some(data::safe(&format!("raw event: {e}"))),
                }
            }
            Some(Effect::Export {
                stem,
                extension,
                contents,
            }) => {
                app.status = Some(match write_export(&stem, extension, &contents) {
                    Ok(path) => format!("exported to {path}"),
                    Err(e) => format!("export failed: {e}"),
                });
            }
        }
    }
}

/// Writes an export to a new file in the current directory.
fn write_export(stem: &str, extension: &str, contents: &str) -> io::Result<String> {
    // The stem is a view's title, which can come from the input.
    let stem = crate::text::file_name::component(stem);
    let stamp = chrono::Utc::now().format("%Y%m%dT%H%M%S");
    for n in 0..100 {
        let name = if n == 0 {
            format!("{stem}-{stamp}.{extension}")
        } else {
            format!("{stem}-{stamp}-{n}.{extension}")
        };
        match std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(&name)
        {
            Ok(mut f) => {
                f.write_all(contents.as_bytes())?;
                return Ok(name);
            }
            Err(e) if e.kind() == io::ErrorKind::AlreadyExists => continue,
            Err(e) => return Err(e),
        }
    }
    Err(io::Error::other("too many exports this second"))
}
