//! Drawing: reads the [`App`], never changes it. Tables draw only the rows
//! in view. Without colour (`NO_COLOR`, or not a colour terminal) meaning is
//! carried by bold, underline and reverse video alone.

use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::{Color, Modifier, Style};
use ratatui::text::{Line as TextLine, Span};
use ratatui::widgets::{Block, Borders, Clear, Gauge, Paragraph, Sparkline, Wrap};
use ratatui::Frame;
use unicode_width::UnicodeWidthStr;

use super::app::{table_rows, App, Mode, Screen};
use super::data::short_time;
use super::detail::Tone;
use super::keys::HELP;
use super::table::{self, TableKind};
use super::timeline::{self, ZOOMS};
use crate::model::Severity;

/// Styles, with or without colour.
struct Theme {
    color: bool,
}

impl Theme {
    fn fg(&self, c: Color) -> Style {
        if self.color {
            Style::default().fg(c)
        } else {
            Style::default()
        }
    }

    fn severity(&self, s: Severity) -> Style {
        match s {
            Severity::Critical => self.fg(Color::Red).add_modifier(Modifier::BOLD),
            Severity::High => self.fg(Color::LightRed),
            Severity::Medium => self.fg(Color::Yellow),
            Severity::Low => self.fg(Color::Cyan),
            Severity::Info => self.fg(Color::Gray),
        }
    }

    fn tone(&self, t: Tone) -> Style {
        match t {
            Tone::Normal => Style::default(),
            Tone::Muted => self.fg(Color::DarkGray),
            Tone::Heading => Style::default().add_modifier(Modifier::BOLD),
            Tone::Severity(s) => self.severity(s),
            Tone::Foreign => self
                .fg(Color::Magenta)
                .add_modifier(Modifier::BOLD | Modifier::UNDERLINED),
            Tone::Flagged => self.fg(Color::Red).add_modifier(Modifier::BOLD),
            Tone::AfterRun => self.fg(Color::Yellow).add_modifier(Modifier::ITALIC),
        }
    }

    fn muted(&self) -> Style {
        self.tone(Tone::Muted)
    }

    fn selected(&self) -> Style {
        Style::default().add_modifier(Modifier::REVERSED)
    }
}

/// Cuts `s` to `width` columns, marking the cut.
fn fit(s: &str, width: usize) -> String {
    if UnicodeWidthStr::width(s) <= width {
        return format!("{s:<width$}", width = width);
    }
    let mut out = String::new();
    let mut used = 0;
    for c in s.chars() {
        let w = unicode_width::UnicodeWidthChar::width(c).unwrap_or(0);
        if used + w + 1 > width {
            break;
        }
        out.push(c);
        used += w;
    }
    out.push('…');
    used += 1;
    out.push_str(&" ".repeat(width.saturating_sub(used)));
    out
}

pub fn draw(frame: &mut Frame, app: &App) {
    let theme = Theme { color: app.color };
    let area = frame.area();
    let [header, crumb, body, status, footer] = Layout::vertical([
        Constraint::Length(1),
        Constraint::Length(1),
        Constraint::Min(1),
        Constraint::Length(1),
        Constraint::Length(1),
    ])
    .areas(area);
    draw_header(frame, app, &theme, header);
    frame.render_widget(Paragraph::new(crumb_line(app)).style(theme.muted()), crumb);
    match (&app.data, &app.error) {
        (_, Some(e)) => frame.render_widget(
            Paragraph::new(format!("rolecall could not read the sources:\n\n{e}"))
                .style(theme.severity(Severity::Critical))
                .wrap(Wrap { trim: false }),
            body,
        ),
        (None, None) => draw_loading(frame, app, body),
        (Some(_), None) => match app.screen() {
            Screen::Table(k) => draw_table(frame, app, &theme, *k, body),
            Screen::Timeline => draw_timeline(frame, app, &theme, body),
            Screen::Detail {
                lines,
                cursor,
                offset,
                ..
            } => {
                let rows: Vec<TextLine> = lines
                    .iter()
                    .enumerate()
                    .skip(*offset)
                    .take(body.height as usize)
                    .map(|(i, l)| {
                        let spans: Vec<Span> = l
                            .parts
                            .iter()
                            .map(|(t, tone)| Span::styled(t.clone(), theme.tone(*tone)))
                            .collect();
                        let line = TextLine::from(spans);
                        if i == *cursor {
                            line.patch_style(theme.selected())
                        } else {
                            line
                        }
                    })
                    .collect();
                frame.render_widget(Paragraph::new(rows), body);
            }
            Screen::Raw { lines, offset, .. } => {
                let rows: Vec<TextLine> = lines
                    .iter()
                    .skip(*offset)
                    .take(body.height as usize)
                    .map(|l| TextLine::from(l.as_str()))
                    .collect();
                frame.render_widget(Paragraph::new(rows), body);
            }
        },
    }
    frame.render_widget(Paragraph::new(status_line(app)), status);
    frame.render_widget(
        Paragraph::new(footer_line(app, &theme, footer.width)),
        footer,
    );
    if app.mode == Mode::Help {
        draw_help(frame, &theme, area);
    }
}

/// The root view's index among the tabs.
fn active_tab(app: &App) -> usize {
    match app.stack.first() {
        Some(Screen::Table(TableKind::Findings)) => 0,
        Some(Screen::Table(TableKind::Sessions)) => 1,
        Some(Screen::Table(TableKind::Roles)) => 2,
        Some(Screen::Timeline) => 3,
        Some(Screen::Table(TableKind::Keys)) => 5,
        _ => 4,
    }
}

const TABS: [&str; 6] = [
    "1 Findings",
    "2 Sessions",
    "3 Roles",
    "4 Timeline",
    "5 Summary",
    "6 Keys",
];

fn width_of(spans: &[Span]) -> usize {
    spans
        .iter()
        .map(|s| UnicodeWidthStr::width(s.content.as_ref()))
        .sum()
}

/// The name, the findings per severity (spelled out when there is room),
/// and what was read, right-aligned; input errors stand out.
fn draw_header(frame: &mut Frame, app: &App, theme: &Theme, area: Rect) {
    let mut left = vec![Span::styled(
        " rolecall ",
        Style::default().add_modifier(Modifier::BOLD),
    )];
    let mut right = Vec::new();
    if let Some(data) = &app.data {
        let sm = &data.report.summary;
        let c = &sm.findings;
        let long: Vec<Span> = Severity::ALL
            .iter()
            .flat_map(|&s| {
                [
                    Span::raw("  "),
                    Span::styled(format!("{} {}", s.as_str(), c.get(s)), theme.severity(s)),
                ]
            })
            .collect();
        let short: Vec<Span> = Severity::ALL
            .iter()
            .flat_map(|&s| {
                [
                    Span::raw(" "),
                    Span::styled(
                        format!("{}{}", c.get(s), &s.as_str()[..1].to_uppercase()),
                        theme.severity(s),
                    ),
                ]
            })
            .collect();
        if sm.partial {
            right.push(Span::styled(
                "PARTIAL (see 5)".to_string(),
                theme
                    .severity(Severity::Critical)
                    .add_modifier(Modifier::BOLD),
            ));
            right.push(Span::raw("  "));
        }
        if sm.input_error_count > 0 {
            right.push(Span::styled(
                format!("{} input errors (see 5)", sm.input_error_count),
                theme.severity(Severity::High).add_modifier(Modifier::BOLD),
            ));
            right.push(Span::raw("  "));
        }
        right.push(Span::styled(
            format!(
                "{} files  {} events  {} sessions ",
                sm.inputs.files, sm.events, sm.sessions
            ),
            theme.muted(),
        ));
        let room = area.width as usize;
        let base = width_of(&left);
        if base + width_of(&long) + 2 + width_of(&right) <= room {
            left.extend(long);
        } else {
            left.extend(if base + width_of(&long) <= room {
                long
            } else {
                short
            });
            // Keep the warning, drop the counts of what was read.
            right.retain(|s| !s.content.contains(" files "));
        }
    } else {
        left.push(Span::styled("  loading…", theme.muted()));
    }
    let used = width_of(&left) + width_of(&right);
    if used <= area.width as usize {
        left.push(Span::raw(" ".repeat(area.width as usize - used)));
        left.extend(right);
    }
    frame.render_widget(Paragraph::new(TextLine::from(left)), area);
}

fn crumb_line(app: &App) -> String {
    let mut s = format!(" {}", app.breadcrumb());
    if let Screen::Table(k) = app.screen() {
        let v = app.table(*k);
        if let Some(data) = &app.data {
            let src = table::source(data, *k);
            let col = src.columns().get(v.sort).map_or("", |c| c.name);
            s.push_str(&format!(
                "   {} of {} rows   sort: {} {}",
                v.order.len(),
                src.len(),
                col,
                if v.descending { "▼" } else { "▲" }
            ));
        }
        if !v.filter.is_empty() {
            s.push_str(&format!("   filter: {}", v.filter.raw));
        }
    }
    if let Screen::Timeline = app.screen() {
        s.push_str(&format!(
            "   buckets of {}   by {}",
            ZOOMS[app.timeline_zoom.min(ZOOMS.len() - 1)].1,
            match app.timeline_group {
                timeline::GroupBy::Tier => "tier",
                timeline::GroupBy::Role => "role",
            }
        ));
    }
    s
}

fn status_line(app: &App) -> String {
    match &app.mode {
        Mode::Search(s) => return format!("/{s}█"),
        Mode::Filter(s) => return format!("filter: {s}█"),
        Mode::ExportPrompt => {
            return "export this view as (j)son or (c)sv? (any other key cancels)".into()
        }
        _ => {}
    }
    if let Some(s) = &app.search {
        let pos = if s.matches.is_empty() {
            0
        } else {
            s.current + 1
        };
        return format!(
            "/{}   match {pos} of {}   (n next, N previous, Esc clears)",
            s.term,
            s.matches.len()
        );
    }
    if let Some(st) = &app.status {
        return st.clone();
    }
    // The selected finding's message, the thing to act on.
    if let (Some(data), Screen::Table(TableKind::Findings)) = (&app.data, app.screen()) {
        if let Some(r) = app.findings.selected_row() {
            return format!("↳ {}", data.findings[r].message);
        }
    }
    String::new()
}

/// The views, one key each, then what keys do here; `? help  q quit`
/// always shows, and hints drop from the end when the terminal is narrow.
fn footer_line<'a>(app: &App, theme: &Theme, width: u16) -> TextLine<'a> {
    let hints: &[&str] = match app.screen() {
        Screen::Table(_) => &["Enter open", "/ search", "f filter", "s sort", "e export"],
        Screen::Timeline => &[
            "←→ bucket",
            "Enter sessions",
            "+/- zoom",
            "t tier/role",
            "e export",
        ],
        Screen::Detail { .. } if app.screen().is_summary() => {
            &["↑↓ scroll", "/ search", "e export"]
        }
        Screen::Detail { .. } => &["r/Enter raw event", "/ search", "Esc back", "e export"],
        Screen::Raw { .. } => &["↑↓ scroll", "/ search", "Esc back", "e export"],
    };
    let active = active_tab(app);
    let mut spans: Vec<Span> = Vec::new();
    for (i, name) in TABS.iter().enumerate() {
        let style = if i == active {
            theme.selected().add_modifier(Modifier::BOLD)
        } else {
            theme.muted()
        };
        spans.push(Span::styled(format!(" {name} "), style));
    }
    let tail = " ? help  q quit ";
    let room = (width as usize).saturating_sub(width_of(&spans) + tail.len());
    let mut text = String::new();
    for h in hints {
        if text.len() + h.len() + 2 > room {
            break;
        }
        text.push_str("  ");
        text.push_str(h);
    }
    spans.push(Span::raw(text));
    let used = width_of(&spans) + tail.len();
    spans.push(Span::raw(" ".repeat((width as usize).saturating_sub(used))));
    spans.push(Span::styled(
        tail,
        Style::default().add_modifier(Modifier::BOLD),
    ));
    TextLine::from(spans)
}

fn draw_loading(frame: &mut Frame, app: &App, body: Rect) {
    let l = &app.loading;
    let ratio = if l.total == 0 {
        0.0
    } else {
        (l.done as f64 / l.total as f64).min(1.0)
    };
    let [_, gauge, _] = Layout::vertical([
        Constraint::Length(body.height / 3),
        Constraint::Length(3),
        Constraint::Min(0),
    ])
    .areas(body);
    frame.render_widget(
        Gauge::default()
            .block(
                Block::default()
                    .borders(Borders::ALL)
                    .title(format!(" {} ", l.stage)),
            )
            .ratio(ratio)
            .label(if l.total > 0 {
                format!("{} of {} files", l.done, l.total)
            } else {
                String::new()
            }),
        gauge,
    );
}

/// Column widths for `width` columns of screen: every column gets its
/// minimum, then the space left is shared in proportion to how much more
/// each column's content wants (up to its maximum); trailing columns are
/// dropped when even the minimums do not fit.
fn widths(min_max: &[(u16, u16)], wanted: &[usize], width: u16) -> Vec<usize> {
    let avail = width as usize;
    let mut n = min_max.len();
    let gaps = |n: usize| n.saturating_sub(1) * 2;
    while n > 1 && min_max[..n].iter().map(|m| m.0 as usize).sum::<usize>() + gaps(n) > avail {
        n -= 1;
    }
    let mins: Vec<usize> = min_max[..n].iter().map(|m| m.0 as usize).collect();
    let targets: Vec<usize> = (0..n)
        .map(|i| wanted[i].clamp(mins[i], min_max[i].1 as usize))
        .collect();
    let base: usize = mins.iter().sum::<usize>() + gaps(n);
    if base >= avail {
        let mut w = mins;
        if n == 1 {
            w[0] = avail;
        }
        return w;
    }
    let extra = avail - base;
    let deficits: Vec<usize> = (0..n).map(|i| targets[i] - mins[i]).collect();
    let total: usize = deficits.iter().sum();
    if total <= extra {
        return targets;
    }
    (0..n)
        .map(|i| mins[i] + deficits[i] * extra / total)
        .collect()
}

fn draw_table(frame: &mut Frame, app: &App, theme: &Theme, kind: TableKind, area: Rect) {
    let Some(data) = &app.data else { return };
    let src = table::source(data, kind);
    let v = app.table(kind);
    let height = table_rows(app.height).min(area.height.saturating_sub(1) as usize);
    let visible: Vec<usize> = v
        .order
        .iter()
        .skip(v.offset)
        .take(height)
        .copied()
        .collect();
    let cols = src.columns();
    let cells: Vec<Vec<String>> = visible
        .iter()
        .map(|&r| (0..cols.len()).map(|c| src.cell(r, c)).collect())
        .collect();
    let wanted: Vec<usize> = (0..cols.len())
        .map(|c| {
            cells
                .iter()
                .map(|row| UnicodeWidthStr::width(row[c].as_str()))
                .chain(std::iter::once(cols[c].name.len() + 2))
                .max()
                .unwrap_or(0)
        })
        .collect();
    let bounds: Vec<(u16, u16)> = cols.iter().map(|c| (c.min, c.max)).collect();
    let w = widths(&bounds, &wanted, area.width);
    let mut lines = Vec::with_capacity(visible.len() + 1);
    let header: Vec<String> = w
        .iter()
        .enumerate()
        .map(|(c, &width)| {
            let mark = if c == v.sort {
                if v.descending {
                    "▼"
                } else {
                    "▲"
                }
            } else {
                ""
            };
            fit(&format!("{}{mark}", cols[c].name), width)
        })
        .collect();
    lines.push(TextLine::from(Span::styled(
        header.join("  "),
        Style::default().add_modifier(Modifier::BOLD),
    )));
    if visible.is_empty() {
        lines.push(TextLine::from(Span::styled(
            if src.is_empty() {
                "  nothing to show"
            } else {
                "  no row matches the filter (f to change it)"
            },
            theme.muted(),
        )));
    }
    for (i, row) in cells.iter().enumerate() {
        let pos = v.offset + i;
        let r = visible[i];
        let mut spans = Vec::with_capacity(w.len() * 2);
        for (c, &width) in w.iter().enumerate() {
            if c > 0 {
                spans.push(Span::raw("  "));
            }
            let style = match (c, src.severity(r)) {
                (0, Some(s)) if kind == TableKind::Findings => theme.severity(s),
                (table::SESSION_FINDINGS_COLUMN, Some(s)) if kind == TableKind::Sessions => {
                    theme.severity(s)
                }
                _ => Style::default(),
            };
            spans.push(Span::styled(fit(&row[c], width), style));
        }
        let mut line = TextLine::from(spans);
        if pos == v.selected {
            line = line.patch_style(theme.selected());
        }
        lines.push(line);
    }
    frame.render_widget(Paragraph::new(lines), area);
}

fn draw_timeline(frame: &mut Frame, app: &App, theme: &Theme, area: Rect) {
    let Some(data) = &app.data else { return };
    let (series, buckets) =
        timeline::buckets(&data.exchanges, app.timeline_zoom, app.timeline_group);
    if buckets.is_empty() {
        frame.render_widget(
            Paragraph::new("  no exchanges with a time").style(theme.muted()),
            area,
        );
        return;
    }
    let label_w = timeline::LABEL_WIDTH;
    let bar = timeline::bar_width(area.width, buckets.len());
    let visible = timeline::visible_buckets(area.width, buckets.len());
    let offset = app.timeline_offset.min(buckets.len().saturating_sub(1));
    let shown = &buckets[offset..(offset + visible).min(buckets.len())];
    let chart_w = (shown.len() * bar) as u16;
    let bands = series.len() + 1;
    let band_h = (area.height.saturating_sub(4) / bands as u16).clamp(1, 6);
    let palette = [
        Color::Red,
        Color::Yellow,
        Color::Green,
        Color::Blue,
        Color::Magenta,
    ];
    let mut y = area.y;
    for (i, name) in series
        .iter()
        .chain(std::iter::once(&"failed exchanges".to_string()))
        .enumerate()
    {
        if y + band_h > area.y + area.height {
            break;
        }
        let values: Vec<u64> = if i < series.len() {
            shown.iter().map(|b| b.counts[i]).collect()
        } else {
            shown.iter().map(|b| b.failures).collect()
        };
        let peak = values.iter().max().copied().unwrap_or(0);
        // Wide buckets draw as bars with a one-column gap between them.
        let columns: Vec<u64> = values
            .iter()
            .flat_map(|&v| (0..bar).map(move |c| if bar >= 3 && c == bar - 1 { 0 } else { v }))
            .collect();
        let label = Rect::new(area.x, y, label_w, band_h);
        let chart = Rect::new(
            area.x + label_w,
            y,
            chart_w.min(area.width.saturating_sub(label_w)),
            band_h,
        );
        frame.render_widget(
            Paragraph::new(vec![
                TextLine::from(fit(name, label_w as usize - 1)),
                TextLine::from(format!("max {peak}")),
            ])
            .style(theme.muted()),
            label,
        );
        let color = if i < series.len() {
            palette[i % palette.len()]
        } else {
            Color::Red
        };
        frame.render_widget(
            Sparkline::default().data(&columns).style(theme.fg(color)),
            chart,
        );
        y += band_h;
    }
    // The time axis: where the shown buckets start and end.
    if let (Some(first), Some(last), true) = (shown.first(), shown.last(), y < area.y + area.height)
    {
        let (from, to) = (short_time(Some(first.start)), short_time(Some(last.end)));
        let gap = (chart_w as usize)
            .saturating_sub(from.len() + to.len())
            .max(2);
        let axis = format!(
            "{}{from}{}{to}",
            " ".repeat(label_w as usize),
            " ".repeat(gap)
        );
        frame.render_widget(
            Paragraph::new(axis).style(theme.muted()),
            Rect::new(area.x, y, area.width, 1),
        );
        y += 1;
    }
    // The cursor and the selected bucket.
    let cursor = app.timeline_cursor.saturating_sub(offset);
    if y < area.y + area.height {
        let marker = format!(
            "{}{}{}",
            " ".repeat(label_w as usize),
            " ".repeat(cursor * bar),
            "^".repeat(bar.saturating_sub(1).max(1))
        );
        frame.render_widget(Paragraph::new(marker), Rect::new(area.x, y, area.width, 1));
        y += 1;
    }
    if let (Some(b), true) = (buckets.get(app.timeline_cursor), y < area.y + area.height) {
        let counts: Vec<String> = series
            .iter()
            .zip(&b.counts)
            .map(|(s, c)| format!("{s} {c}"))
            .collect();
        let text = format!(
            " {} – {}   {}   failed {}   (Enter: these sessions)",
            short_time(Some(b.start)),
            short_time(Some(b.end)),
            counts.join(", "),
            b.failures
        );
        frame.render_widget(Paragraph::new(text), Rect::new(area.x, y, area.width, 1));
    }
}

fn draw_help(frame: &mut Frame, theme: &Theme, area: Rect) {
    const KEYS: usize = 26;
    let widest = HELP
        .iter()
        .map(|(_, what)| UnicodeWidthStr::width(*what))
        .max()
        .unwrap_or(0);
    let w = (KEYS + widest + 5).min(area.width as usize) as u16;
    let text_w = (w as usize).saturating_sub(KEYS + 4).max(10);
    let mut lines: Vec<TextLine> = Vec::new();
    for (k, what) in HELP {
        // Descriptions wrap under themselves, not under the keys.
        for (i, part) in super::detail::wrap(what, text_w).into_iter().enumerate() {
            let key = if i == 0 {
                format!(" {k:<KEYS$} ")
            } else {
                " ".repeat(KEYS + 2)
            };
            lines.push(TextLine::from(vec![
                Span::styled(key, Style::default().add_modifier(Modifier::BOLD)),
                Span::raw(part),
            ]));
        }
    }
    let h = (lines.len() as u16 + 2).min(area.height);
    let rect = Rect::new(
        area.x + (area.width - w) / 2,
        area.y + (area.height - h) / 2,
        w,
        h,
    );
    frame.render_widget(Clear, rect);
    frame.render_widget(
        Paragraph::new(lines)
            .block(
                Block::default()
                    .borders(Borders::ALL)
                    .title(" keys (any key closes) "),
            )
            .style(theme.fg(Color::White)),
        rect,
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn widths_fit_the_terminal() {
        let bounds = [(8, 8), (19, 19), (12, 24), (12, 40)];
        let w = widths(&bounds, &[8, 19, 30, 60], 200);
        assert_eq!(w, vec![8, 19, 24, 40]);
        let w = widths(&bounds, &[8, 19, 30, 60], 70);
        assert!(w.iter().sum::<usize>() + (w.len() - 1) * 2 <= 70, "{w:?}");
        assert!(w[3] > w[2], "the column that wants more gets more: {w:?}");
        let w = widths(&bounds, &[8, 19, 30, 60], 30);
        assert_eq!(w.len(), 2);
        assert_eq!(fit("abcdef", 4), "abc…");
        assert_eq!(fit("ab", 4), "ab  ");
    }
}
