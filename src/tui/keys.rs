//! Terminal events to actions. The key map is the help overlay's source too,
//! so what `?` shows is what the keys do.

use ratatui::crossterm::event::{
    Event, KeyCode, KeyEvent, KeyEventKind, KeyModifiers, MouseButton, MouseEventKind,
};

use super::action::{Action, ExportFormat, Tab};
use super::app::Mode;

/// The key map, for the help overlay and the README.
pub const HELP: &[(&str, &str)] = &[
    (
        "1 2 3 4 5 6  Tab",
        "findings, sessions, roles, timeline, summary, keys",
    ),
    ("↑ ↓  j k", "move"),
    ("PgUp PgDn  Ctrl-b Ctrl-f", "page"),
    ("Home End  g G", "first, last"),
    (
        "Enter",
        "open: a session, a role's or a bucket's sessions, a key, the raw event",
    ),
    ("Esc  Backspace", "back"),
    ("/", "search; Enter jumps to the first match"),
    ("n  N", "next, previous match"),
    (
        "f",
        "filter: sev:high+ rule:… role:… account:… has:findings time:A..B words",
    ),
    ("s  S", "sort by the next column, reverse"),
    ("r", "raw event of the selected line"),
    ("← →  h l", "timeline: move between buckets"),
    ("+  -", "timeline: zoom in, out"),
    ("t", "timeline: by tier or by role"),
    ("e", "export this view as JSON or CSV"),
    ("?", "this help"),
    ("q  Ctrl-c", "quit"),
];

/// The action an event means in `mode`, if any.
pub fn action_for(event: &Event, mode: &Mode) -> Option<Action> {
    match event {
        Event::Key(key) if key.kind != KeyEventKind::Release => key_action(key, mode),
        Event::Mouse(m) => match m.kind {
            MouseEventKind::ScrollUp => Some(Action::ScrollUp),
            MouseEventKind::ScrollDown => Some(Action::ScrollDown),
            MouseEventKind::Down(MouseButton::Left) => Some(Action::Click {
                column: m.column,
                row: m.row,
            }),
            _ => None,
        },
        Event::Resize(w, h) => Some(Action::Resize(*w, *h)),
        _ => None,
    }
}

fn key_action(key: &KeyEvent, mode: &Mode) -> Option<Action> {
    let ctrl = key.modifiers.contains(KeyModifiers::CONTROL);
    if ctrl && key.code == KeyCode::Char('c') {
        return Some(Action::Quit);
    }
    match mode {
        Mode::Search(_) | Mode::Filter(_) => {
            return Some(match key.code {
                KeyCode::Enter => Action::InputSubmit,
                KeyCode::Esc => Action::InputCancel,
                KeyCode::Backspace => Action::InputBackspace,
                KeyCode::Char(c) if !ctrl => Action::Input(c),
                _ => return None,
            })
        }
        Mode::ExportPrompt => {
            return Some(match key.code {
                KeyCode::Char('j') => Action::ExportAs(ExportFormat::Json),
                KeyCode::Char('c') => Action::ExportAs(ExportFormat::Csv),
                _ => Action::InputCancel,
            })
        }
        Mode::Help => {
            return Some(match key.code {
                KeyCode::Char('q') => Action::Quit,
                _ => Action::ToggleHelp,
            })
        }
        Mode::Normal => {}
    }
    Some(match key.code {
        KeyCode::Char('q') => Action::Quit,
        KeyCode::Up | KeyCode::Char('k') => Action::Up,
        KeyCode::Down | KeyCode::Char('j') => Action::Down,
        KeyCode::Char('b') if ctrl => Action::PageUp,
        KeyCode::Char('f') if ctrl => Action::PageDown,
        KeyCode::PageUp => Action::PageUp,
        KeyCode::PageDown => Action::PageDown,
        KeyCode::Home | KeyCode::Char('g') => Action::Home,
        KeyCode::End | KeyCode::Char('G') => Action::End,
        KeyCode::Left | KeyCode::Char('h') => Action::Left,
        KeyCode::Right | KeyCode::Char('l') => Action::Right,
        KeyCode::Enter => Action::Enter,
        KeyCode::Esc | KeyCode::Backspace => Action::Back,
        KeyCode::Char('1') => Action::Show(Tab::Findings),
        KeyCode::Char('2') => Action::Show(Tab::Sessions),
        KeyCode::Char('3') => Action::Show(Tab::Roles),
        KeyCode::Char('4') => Action::Show(Tab::Timeline),
        KeyCode::Char('5') => Action::Show(Tab::Summary),
        KeyCode::Char('6') => Action::Show(Tab::Keys),
        KeyCode::Tab => Action::NextTab,
        KeyCode::Char('/') => Action::StartSearch,
        KeyCode::Char('n') => Action::NextMatch,
        KeyCode::Char('N') => Action::PrevMatch,
        KeyCode::Char('f') => Action::StartFilter,
        KeyCode::Char('s') => Action::CycleSort,
        KeyCode::Char('S') => Action::ReverseSort,
        KeyCode::Char('r') => Action::Raw,
        KeyCode::Char('e') => Action::StartExport,
        KeyCode::Char('?') => Action::ToggleHelp,
        KeyCode::Char('+') | KeyCode::Char('=') => Action::ZoomIn,
        KeyCode::Char('-') => Action::ZoomOut,
        KeyCode::Char('t') => Action::ToggleGroup,
        _ => return None,
    })
}
