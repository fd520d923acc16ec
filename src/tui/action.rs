//! Everything that can happen to the dashboard: keys and mouse (mapped by
//! [`crate::tui::keys`]), terminal resizes, and the engine's progress and
//! results arriving from the loading thread.

use super::app::Loading;
use super::data::Data;

/// The views one key away.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Tab {
    Findings,
    Sessions,
    Roles,
    Timeline,
    Summary,
    Keys,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExportFormat {
    Json,
    Csv,
}

pub enum Action {
    Up,
    Down,
    PageUp,
    PageDown,
    Home,
    End,
    Left,
    Right,
    ScrollUp,
    ScrollDown,
    Click { column: u16, row: u16 },
    Enter,
    Back,
    Quit,
    Show(Tab),
    NextTab,
    Raw,
    StartSearch,
    StartFilter,
    StartExport,
    ExportAs(ExportFormat),
    Input(char),
    InputBackspace,
    InputSubmit,
    InputCancel,
    NextMatch,
    PrevMatch,
    CycleSort,
    ReverseSort,
    ToggleHelp,
    ZoomIn,
    ZoomOut,
    ToggleGroup,
    Resize(u16, u16),
    Tick,
    Progress(Loading),
    Loaded(Box<Data>),
    LoadFailed(String),
    RawLoaded { title: String, text: String },
}
