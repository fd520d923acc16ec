//! The dashboard's state and `update(Action)`: no I/O, no drawing. Effects
//! that need the outside world (reading a raw event, writing an export,
//! quitting) are returned as [`Effect`]s for the runner to carry out, which
//! is what lets every behaviour be tested without a terminal.

use super::action::{Action, ExportFormat, Tab};
use super::data::Data;
use super::detail::{self, Line};
use super::table::{self, Filter, TableKind, TableView};
use super::timeline::{self, GroupBy};
use crate::model::time::format_time;
use crate::text::csv_field;
use crate::text::json::write_pretty;

/// What the body shows.
#[derive(Debug, Clone)]
pub enum Screen {
    Table(TableKind),
    Timeline,
    Detail {
        title: String,
        lines: Vec<Line>,
        cursor: usize,
        offset: usize,
    },
    Raw {
        title: String,
        lines: Vec<String>,
        offset: usize,
    },
}

/// The summary tab's title (it is a detail screen at the root).
pub const SUMMARY: &str = "Summary";

impl Screen {
    pub fn is_summary(&self) -> bool {
        matches!(self, Screen::Detail { title, .. } if title == SUMMARY)
    }

    pub fn title(&self) -> String {
        match self {
            Screen::Table(TableKind::Findings) => "Findings".into(),
            Screen::Table(TableKind::Sessions) => "Sessions".into(),
            Screen::Table(TableKind::Roles) => "Roles".into(),
            Screen::Table(TableKind::Keys) => "Keys".into(),
            Screen::Timeline => "Timeline".into(),
            Screen::Detail { title, .. } | Screen::Raw { title, .. } => title.clone(),
        }
    }
}

/// What keys do right now.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Mode {
    Normal,
    Search(String),
    Filter(String),
    Help,
    ExportPrompt,
}

/// Something for the runner to do.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Effect {
    Quit,
    /// Read event `index`'s original record and answer with
    /// [`Action::RawLoaded`].
    LoadRaw {
        at: super::detail::RawAt,
        title: String,
    },
    /// Write `contents` to a new file whose name starts with `stem`.
    Export {
        stem: String,
        extension: &'static str,
        contents: String,
    },
}

/// Loading progress, for the gauge.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Loading {
    pub stage: String,
    pub done: usize,
    pub total: usize,
}

/// An active search: its term, the matching positions, and which one the
/// cursor is on.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Search {
    pub term: String,
    pub matches: Vec<usize>,
    pub current: usize,
}

pub struct App {
    pub data: Option<Data>,
    pub loading: Loading,
    pub error: Option<String>,
    pub stack: Vec<Screen>,
    pub findings: TableView,
    pub sessions: TableView,
    pub roles: TableView,
    pub keys: TableView,
    pub timeline_zoom: usize,
    pub timeline_group: GroupBy,
    pub timeline_cursor: usize,
    pub timeline_offset: usize,
    pub mode: Mode,
    pub search: Option<Search>,
    pub status: Option<String>,
    pub width: u16,
    pub height: u16,
    pub color: bool,
}

/// Rows the body shows under a table header, for a terminal `height`:
/// two lines of header, two of footer, one column header.
pub fn table_rows(height: u16) -> usize {
    height.saturating_sub(5).max(1) as usize
}

/// Lines the body shows for detail and raw views.
pub fn body_lines(height: u16) -> usize {
    height.saturating_sub(4).max(1) as usize
}

impl App {
    pub fn new(width: u16, height: u16, color: bool) -> App {
        App {
            data: None,
            loading: Loading {
                stage: "starting".into(),
                ..Default::default()
            },
            error: None,
            stack: vec![Screen::Table(TableKind::Findings)],
            findings: TableView::default(),
            sessions: TableView::default(),
            roles: TableView::default(),
            keys: TableView::default(),
            timeline_zoom: 3,
            timeline_group: GroupBy::Tier,
            timeline_cursor: 0,
            timeline_offset: 0,
            mode: Mode::Normal,
            search: None,
            status: None,
            width,
            height,
            color,
        }
    }

    /// Opens with the data already loaded (tests, benchmarks).
    pub fn with_data(data: Data, width: u16, height: u16, color: bool) -> App {
        let mut app = App::new(width, height, color);
        app.update(Action::Loaded(Box::new(data)));
        app
    }

    pub fn screen(&self) -> &Screen {
        self.stack.last().expect("the stack always has its tab")
    }

    pub fn breadcrumb(&self) -> String {
        self.stack
            .iter()
            .map(Screen::title)
            .collect::<Vec<_>>()
            .join(" › ")
    }

    pub fn table(&self, kind: TableKind) -> &TableView {
        match kind {
            TableKind::Findings => &self.findings,
            TableKind::Sessions => &self.sessions,
            TableKind::Roles => &self.roles,
            TableKind::Keys => &self.keys,
        }
    }

    fn table_mut(&mut self, kind: TableKind) -> &mut TableView {
        match kind {
            TableKind::Findings => &mut self.findings,
            TableKind::Sessions => &mut self.sessions,
            TableKind::Roles => &mut self.roles,
            TableKind::Keys => &mut self.keys,
        }
    }

    fn current_table(&self) -> Option<TableKind> {
        match self.screen() {
            Screen::Table(k) => Some(*k),
            _ => None,
        }
    }

    fn refresh(&mut self, kind: TableKind) {
        let Some(data) = &self.data else { return };
        let src = table::source(data, kind);
        let height = table_rows(self.height);
        let view = match kind {
            TableKind::Findings => &mut self.findings,
            TableKind::Sessions => &mut self.sessions,
            TableKind::Roles => &mut self.roles,
            TableKind::Keys => &mut self.keys,
        };
        view.refresh(src.as_ref(), data.ranks_of(kind));
        view.scroll_into_view(height);
    }

    /// Applies an action. Returns what the runner must do, if anything.
    pub fn update(&mut self, action: Action) -> Option<Effect> {
        // Input modes first: keys are text there.
        match (&mut self.mode, &action) {
            (Mode::Search(s) | Mode::Filter(s), Action::Input(c)) => {
                if s.chars().count() < 200 && !c.is_control() {
                    s.push(*c);
                }
                return None;
            }
            (Mode::Search(s) | Mode::Filter(s), Action::InputBackspace) => {
                s.pop();
                return None;
            }
            (Mode::Search(_) | Mode::Filter(_), Action::InputCancel | Action::Back) => {
                self.mode = Mode::Normal;
                return None;
            }
            (Mode::Search(_), Action::InputSubmit) => {
                let Mode::Search(term) = std::mem::replace(&mut self.mode, Mode::Normal) else {
                    unreachable!()
                };
                self.start_search(term);
                return None;
            }
            (Mode::Filter(_), Action::InputSubmit) => {
                let Mode::Filter(text) = std::mem::replace(&mut self.mode, Mode::Normal) else {
                    unreachable!()
                };
                self.apply_filter(&text);
                return None;
            }
            (Mode::Help, Action::ToggleHelp | Action::Back | Action::InputCancel) => {
                self.mode = Mode::Normal;
                return None;
            }
            (Mode::Help, Action::Quit) => return Some(Effect::Quit),
            (Mode::Help, _) => return None,
            (Mode::ExportPrompt, Action::ExportAs(format)) => {
                self.mode = Mode::Normal;
                return self.export(*format);
            }
            (Mode::ExportPrompt, _) => {
                self.mode = Mode::Normal;
                self.status = Some("export cancelled".into());
                return None;
            }
            _ => {}
        }
        match action {
            Action::Quit => return Some(Effect::Quit),
            Action::Tick
            | Action::Input(_)
            | Action::InputBackspace
            | Action::InputSubmit
            | Action::InputCancel => {}
            Action::ExportAs(_) => {}
            Action::Resize(w, h) => {
                self.width = w;
                self.height = h;
                for k in TableKind::ALL {
                    let rows = table_rows(h);
                    self.table_mut(k).scroll_into_view(rows);
                }
            }
            Action::Progress(p) => self.loading = p,
            Action::LoadFailed(e) => self.error = Some(super::data::safe(&e)),
            Action::Loaded(data) => {
                self.data = Some(*data);
                self.findings.sort = 0;
                self.sessions.sort = 0;
                self.roles.sort = 2;
                for k in TableKind::ALL {
                    self.refresh(k);
                }
                if self.stack.first().is_some_and(Screen::is_summary) {
                    self.stack = vec![self.summary_screen()];
                }
            }
            Action::RawLoaded { title, text } => {
                let lines = text.lines().map(super::data::safe).collect();
                self.stack.push(Screen::Raw {
                    title,
                    lines,
                    offset: 0,
                });
            }
            Action::Show(tab) => {
                self.search = None;
                self.stack.truncate(0);
                self.stack.push(match tab {
                    Tab::Findings => Screen::Table(TableKind::Findings),
                    Tab::Sessions => Screen::Table(TableKind::Sessions),
                    Tab::Roles => Screen::Table(TableKind::Roles),
                    Tab::Timeline => Screen::Timeline,
                    Tab::Summary => self.summary_screen(),
                    Tab::Keys => Screen::Table(TableKind::Keys),
                });
            }
            Action::NextTab => {
                let next = match self.stack.first() {
                    Some(Screen::Table(TableKind::Findings)) => Tab::Sessions,
                    Some(Screen::Table(TableKind::Sessions)) => Tab::Roles,
                    Some(Screen::Table(TableKind::Roles)) => Tab::Timeline,
                    Some(Screen::Timeline) => Tab::Summary,
                    Some(s) if s.is_summary() => Tab::Keys,
                    _ => Tab::Findings,
                };
                return self.update(Action::Show(next));
            }
            Action::Back => {
                if self.stack.len() > 1 {
                    self.stack.pop();
                    self.search = None;
                } else if self.search.is_some() {
                    self.search = None;
                }
            }
            Action::ToggleHelp => self.mode = Mode::Help,
            Action::StartSearch => {
                if self.data.is_some() {
                    self.mode = Mode::Search(String::new());
                }
            }
            Action::StartFilter => {
                if let Some(k) = self.current_table() {
                    self.mode = Mode::Filter(self.table(k).filter.raw.clone());
                }
            }
            Action::StartExport => {
                if self.data.is_some() {
                    self.mode = Mode::ExportPrompt;
                }
            }
            Action::NextMatch | Action::PrevMatch => {
                self.step_match(matches!(action, Action::NextMatch))
            }
            Action::CycleSort | Action::ReverseSort => {
                if let Some(k) = self.current_table() {
                    let n = table::source(self.data.as_ref()?, k).columns().len();
                    let v = self.table_mut(k);
                    if matches!(action, Action::CycleSort) {
                        v.sort = (v.sort + 1) % n;
                        v.descending = false;
                    } else {
                        v.descending = !v.descending;
                    }
                    self.refresh(k);
                    self.search = None;
                }
            }
            Action::ZoomIn | Action::ZoomOut => {
                if matches!(self.screen(), Screen::Timeline) {
                    self.timeline_zoom = match action {
                        Action::ZoomIn => self.timeline_zoom.saturating_sub(1),
                        _ => (self.timeline_zoom + 1).min(timeline::ZOOMS.len() - 1),
                    };
                    self.timeline_cursor = 0;
                    self.timeline_offset = 0;
                }
            }
            Action::ToggleGroup => {
                self.timeline_group = match self.timeline_group {
                    GroupBy::Tier => GroupBy::Role,
                    GroupBy::Role => GroupBy::Tier,
                }
            }
            Action::Up
            | Action::Down
            | Action::PageUp
            | Action::PageDown
            | Action::Home
            | Action::End
            | Action::ScrollUp
            | Action::ScrollDown => self.navigate(&action),
            Action::Left | Action::Right => self.timeline_step(if matches!(action, Action::Left) {
                -1
            } else {
                1
            }),
            Action::Click { row, .. } => self.click(row),
            Action::Enter => return self.enter(),
            Action::Raw => return self.raw(),
        }
        None
    }

    fn navigate(&mut self, action: &Action) {
        let page = table_rows(self.height) as isize;
        let delta: isize = match action {
            Action::Up => -1,
            Action::Down => 1,
            Action::ScrollUp => -3,
            Action::ScrollDown => 3,
            Action::PageUp => -page,
            Action::PageDown => page,
            Action::Home => isize::MIN / 2,
            _ => isize::MAX / 2,
        };
        let height = self.height;
        match self.stack.last_mut() {
            Some(Screen::Table(k)) => {
                let k = *k;
                let rows = table_rows(height);
                let v = self.table_mut(k);
                v.move_by(delta);
                v.scroll_into_view(rows);
            }
            Some(Screen::Timeline) => self.timeline_step(delta.clamp(-1_000_000, 1_000_000)),
            Some(Screen::Detail {
                lines,
                cursor,
                offset,
                ..
            }) => {
                let last = lines.len().saturating_sub(1) as isize;
                *cursor = (*cursor as isize + delta).clamp(0, last.max(0)) as usize;
                let rows = body_lines(height);
                if *cursor < *offset {
                    *offset = *cursor;
                } else if *cursor >= *offset + rows {
                    *offset = *cursor + 1 - rows;
                }
            }
            Some(Screen::Raw { lines, offset, .. }) => {
                let max = lines.len().saturating_sub(body_lines(height)) as isize;
                *offset = (*offset as isize + delta).clamp(0, max.max(0)) as usize;
            }
            None => {}
        }
    }

    fn click(&mut self, row: u16) {
        // Tables start their rows under two header lines and a column header.
        if let Some(k) = self.current_table() {
            if row >= 3 {
                let rows = table_rows(self.height);
                let v = self.table_mut(k);
                let pos = v.offset + (row - 3) as usize;
                if pos < v.order.len() {
                    v.selected = pos;
                    v.scroll_into_view(rows);
                }
            }
        }
    }

    fn timeline_step(&mut self, delta: isize) {
        let Some(data) = &self.data else { return };
        if !matches!(self.screen(), Screen::Timeline) {
            return;
        }
        let (_, buckets) =
            timeline::buckets(&data.exchanges, self.timeline_zoom, self.timeline_group);
        let last = buckets.len().saturating_sub(1) as isize;
        self.timeline_cursor =
            (self.timeline_cursor as isize + delta).clamp(0, last.max(0)) as usize;
        let visible = timeline::visible_buckets(self.width, buckets.len());
        if self.timeline_cursor < self.timeline_offset {
            self.timeline_offset = self.timeline_cursor;
        } else if self.timeline_cursor >= self.timeline_offset + visible {
            self.timeline_offset = self.timeline_cursor + 1 - visible;
        }
    }

    fn summary_screen(&self) -> Screen {
        let lines = match &self.data {
            Some(data) => detail::summary(data, self.width as usize),
            None => Vec::new(),
        };
        Screen::Detail {
            title: SUMMARY.into(),
            lines,
            cursor: 0,
            offset: 0,
        }
    }

    /// Opens a detail screen at its first line.
    fn push_detail(&mut self, title: String, lines: Vec<detail::Line>) {
        self.stack.push(Screen::Detail {
            title,
            lines,
            cursor: 0,
            offset: 0,
        });
    }

    fn open_session(&mut self, si: usize) {
        let Some(data) = &self.data else { return };
        let lines = detail::session(data, si, self.width as usize);
        let title = format!("Session {}", data.sessions[si].key);
        self.push_detail(title, lines);
    }

    fn enter(&mut self) -> Option<Effect> {
        let data = self.data.as_ref()?;
        match self.screen().clone() {
            Screen::Table(TableKind::Findings) => {
                let fi = self.findings.selected_row()?;
                match data.findings[fi].session {
                    Some(si) => self.open_session(si),
                    None => {
                        let lines = detail::finding(data, fi, self.width as usize);
                        let title = format!("Finding {}", data.findings[fi].rule);
                        self.push_detail(title, lines);
                    }
                }
            }
            Screen::Table(TableKind::Sessions) => {
                let si = self.sessions.selected_row()?;
                self.open_session(si);
            }
            Screen::Table(TableKind::Roles) => {
                // A role's sessions.
                let role = data.roles.get(self.roles.selected_row()?)?.role.clone();
                self.sessions.filter = Filter {
                    role: Some(role.to_lowercase()),
                    raw: format!("role:{role}"),
                    ..Default::default()
                };
                self.refresh(TableKind::Sessions);
                self.stack.push(Screen::Table(TableKind::Sessions));
            }
            Screen::Table(TableKind::Keys) => {
                // The key's latest calls and the sessions it shares a runner with.
                let ki = self.keys.selected_row()?;
                let lines = detail::key(data, ki, self.width as usize);
                let title = format!("Key {}", data.keys[ki].key);
                self.push_detail(title, lines);
            }
            Screen::Timeline => {
                // The bucket's sessions.
                let (_, buckets) =
                    timeline::buckets(&data.exchanges, self.timeline_zoom, self.timeline_group);
                let b = buckets.get(self.timeline_cursor)?;
                let raw = format!("time:{}..{}", format_time(b.start), format_time(b.end));
                self.sessions.filter = Filter::parse(&raw).ok()?;
                self.refresh(TableKind::Sessions);
                self.stack.push(Screen::Table(TableKind::Sessions));
            }
            Screen::Detail {
                title,
                lines,
                cursor,
                ..
            } if title.starts_with("Key ") => {
                // A same-runner session line opens the session.
                let session = match lines.get(cursor).and_then(|l| l.event) {
                    Some(detail::RawAt::Event(i)) => data
                        .report
                        .sessions
                        .iter()
                        .position(|s| data.report.assumptions[s.assumption].event_index == i),
                    _ => None,
                };
                match session {
                    Some(si) => self.open_session(si),
                    None => return self.raw(),
                }
            }
            Screen::Detail { .. } => return self.raw(),
            Screen::Raw { .. } => {}
        }
        self.search = None;
        None
    }

    fn raw(&mut self) -> Option<Effect> {
        let data = self.data.as_ref()?;
        use super::detail::RawAt;
        let at = match self.screen() {
            Screen::Detail { lines, cursor, .. } => {
                lines.get(*cursor).and_then(|l| l.event).or_else(|| {
                    // From anywhere in a detail, the exchange.
                    lines.iter().find_map(|l| l.event)
                })?
            }
            Screen::Table(TableKind::Sessions) => {
                let s = &data.report.sessions[self.sessions.selected_row()?];
                RawAt::Event(data.report.assumptions[s.assumption].event_index)
            }
            Screen::Table(TableKind::Findings) => {
                let si = data.findings[self.findings.selected_row()?].session?;
                RawAt::Event(
                    data.report.assumptions[data.report.sessions[si].assumption].event_index,
                )
            }
            _ => return None,
        };
        let title = match at {
            RawAt::Event(index) => {
                let id = data.report.events.event_id_of(index).unwrap_or("event");
                format!("Raw {}", super::data::safe(id))
            }
            RawAt::Record { record, .. } => format!("Raw record {}", record + 1),
        };
        Some(Effect::LoadRaw { at, title })
    }

    fn start_search(&mut self, term: String) {
        if term.is_empty() {
            self.search = None;
            return;
        }
        let matches = match (self.screen().clone(), &self.data) {
            (Screen::Table(k), Some(data)) => {
                self.table(k).search(table::source(data, k).as_ref(), &term)
            }
            (Screen::Detail { lines, .. }, _) => {
                let t = term.to_lowercase();
                lines
                    .iter()
                    .enumerate()
                    .filter(|(_, l)| l.plain().to_lowercase().contains(&t))
                    .map(|(i, _)| i)
                    .collect()
            }
            (Screen::Raw { lines, .. }, _) => {
                let t = term.to_lowercase();
                lines
                    .iter()
                    .enumerate()
                    .filter(|(_, l)| l.to_lowercase().contains(&t))
                    .map(|(i, _)| i)
                    .collect()
            }
            _ => Vec::new(),
        };
        self.search = Some(Search {
            term,
            matches,
            current: 0,
        });
        self.goto_match();
    }

    fn step_match(&mut self, forward: bool) {
        let Some(s) = &mut self.search else { return };
        if s.matches.is_empty() {
            return;
        }
        let n = s.matches.len();
        s.current = if forward {
            (s.current + 1) % n
        } else {
            (s.current + n - 1) % n
        };
        self.goto_match();
    }

    fn goto_match(&mut self) {
        let Some(s) = &self.search else { return };
        let Some(&pos) = s.matches.get(s.current) else {
            return;
        };
        let height = self.height;
        match self.stack.last_mut() {
            Some(Screen::Table(k)) => {
                let k = *k;
                let v = self.table_mut(k);
                v.selected = pos;
                v.scroll_into_view(table_rows(height));
            }
            Some(Screen::Detail { cursor, offset, .. }) => {
                *cursor = pos;
                let rows = body_lines(height);
                if pos < *offset || pos >= *offset + rows {
                    *offset = pos.saturating_sub(rows / 2);
                }
            }
            Some(Screen::Raw { offset, .. }) => *offset = pos,
            _ => {}
        }
    }

    fn apply_filter(&mut self, text: &str) {
        let Some(k) = self.current_table() else {
            return;
        };
        match Filter::parse(text) {
            Ok(f) => {
                self.table_mut(k).filter = f;
                self.table_mut(k).selected = 0;
                self.table_mut(k).offset = 0;
                self.refresh(k);
                self.search = None;
                self.status = None;
            }
            Err(e) => self.status = Some(format!("filter: {e}")),
        }
    }

    /// The current view as rows of columns, for export.
    pub fn export_rows(&self) -> (Vec<String>, Vec<Vec<String>>) {
        let Some(data) = &self.data else {
            return (Vec::new(), Vec::new());
        };
        match self.screen() {
            Screen::Table(k) => {
                let src = table::source(data, *k);
                let mut names: Vec<String> = src
                    .columns()
                    .iter()
                    .map(|c| c.name.to_lowercase())
                    .collect();
                let extra = *k == TableKind::Findings;
                if extra {
                    names.push("message".into());
                }
                let rows = self
                    .table(*k)
                    .order
                    .iter()
                    .map(|&r| {
                        let mut row: Vec<String> =
                            (0..src.columns().len()).map(|c| src.cell(r, c)).collect();
                        if extra {
                            row.push(data.findings[r].message.clone());
                        }
                        row
                    })
                    .collect();
                (names, rows)
            }
            Screen::Timeline => {
                let (series, buckets) =
                    timeline::buckets(&data.exchanges, self.timeline_zoom, self.timeline_group);
                let mut names = vec!["start".to_string(), "end".to_string()];
                names.extend(series.iter().cloned());
                names.push("failures".into());
                let rows = buckets
                    .iter()
                    .map(|b| {
                        let mut r = vec![format_time(b.start), format_time(b.end)];
                        r.extend(b.counts.iter().map(u64::to_string));
                        r.push(b.failures.to_string());
                        r
                    })
                    .collect();
                (names, rows)
            }
            Screen::Detail { lines, .. } => (
                vec!["line".into()],
                lines.iter().map(|l| vec![l.plain()]).collect(),
            ),
            Screen::Raw { lines, .. } => (
                vec!["line".into()],
                lines.iter().map(|l| vec![l.clone()]).collect(),
            ),
        }
    }

    fn export(&mut self, format: ExportFormat) -> Option<Effect> {
        let (names, rows) = self.export_rows();
        let stem = format!(
            "rolecall-{}",
            self.screen()
                .title()
                .split_whitespace()
                .next()
                .unwrap_or("view")
                .to_lowercase()
        );
        let contents = match format {
            ExportFormat::Csv => {
                let mut out = names
                    .iter()
                    .map(|n| csv_field(n))
                    .collect::<Vec<_>>()
                    .join(",");
                out.push('\n');
                for r in &rows {
                    out.push_str(&r.iter().map(|c| csv_field(c)).collect::<Vec<_>>().join(","));
                    out.push('\n');
                }
                out
            }
            ExportFormat::Json => {
                let objects: Vec<serde_json::Map<String, serde_json::Value>> = rows
                    .iter()
                    .map(|r| {
                        names
                            .iter()
                            .cloned()
                            .zip(r.iter().map(|c| serde_json::Value::String(c.clone())))
                            .collect()
                    })
                    .collect();
                let mut buf = Vec::new();
                let _ = write_pretty(&mut buf, &objects);
                String::from_utf8(buf).unwrap_or_default()
            }
        };
        Some(Effect::Export {
            stem,
            extension: match format {
                ExportFormat::Csv => "csv",
                ExportFormat::Json => "json",
            },
            contents,
        })
    }
}
