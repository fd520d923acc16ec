//! The investigator's dashboard. `app` holds the state and its pure
//! `update(Action)`; `view` draws it; `keys` maps terminal events to
//! actions; `data`, `table`, `detail` and `timeline` shape the engine's
//! report for display. This module owns the terminal: it is set up once,
//! and restored on quit, on error, on panic (ratatui's hook) and on SIGTERM
//! or SIGHUP. The dashboard reads the engine's results only; it never parses
//! logs (the raw view asks the runner for a record).

pub mod action;
pub mod app;
pub mod data;
pub mod detail;
pub mod keys;
pub mod table;
pub mod timeline;
pub mod view;

use std::io::{self, Write};
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
    /// Ctrl-C, SIGTERM or SIGHUP.
    Interrupted,
}

/// Restores the terminal however the loop ends.
struct Restore;

impl Drop for Restore {
    fn drop(&mut self) {
        let _ = execute!(io::stdout(), DisableMouseCapture);
        ratatui::restore();
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
    raw: &dyn Fn(&Data, usize) -> Result<String, String>,
) -> io::Result<Ending> {
    let stop = Arc::new(AtomicBool::new(false));
    for signal in [signal_hook::consts::SIGTERM, signal_hook::consts::SIGHUP] {
        signal_hook::flag::register(signal, stop.clone())?;
    }
    let mut terminal = ratatui::try_init()?;
    let _restore = Restore;
    execute!(io::stdout(), EnableMouseCapture)?;
    let size = terminal.size()?;
    let mut app = App::new(size.width, size.height, colour_allowed());
    loop {
        terminal.draw(|f| view::draw(f, &app))?;
        if stop.load(Ordering::Relaxed) {
            return Ok(Ending::Interrupted);
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
            Some(Effect::LoadRaw { index, title }) => {
                let result = match &app.data {
                    Some(data) => raw(data, index),
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
