//! Human-readable text: the findings table with its summary, and any table
//! (sessions, query results) as aligned columns. Every cell is
//! terminal-safe and width-capped, so a 10 KB user agent or an escape
//! sequence in a subject cannot wreck the screen.

use std::io::{self, Write};

use polars::prelude::DataFrame;
use unicode_width::UnicodeWidthStr;

use crate::model::cells::{cell_value, display};
use crate::model::time::format_time;
use crate::model::{Report, Severity};
use crate::text::{cell, terminal, truncate};

/// Whether to colour severities.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Color {
    Never,
    Always,
}

fn paint(sev: Severity, color: Color, text: &str) -> String {
    if color == Color::Never {
        return text.to_string();
    }
    let code = match sev {
        Severity::Critical => "1;31",
        Severity::High => "31",
        Severity::Medium => "33",
        Severity::Low => "36",
        Severity::Info => "2",
    };
    format!("\x1b[{code}m{text}\x1b[0m")
}

fn pad(s: &str, width: usize) -> String {
    let w = UnicodeWidthStr::width(s);
    format!("{s}{}", " ".repeat(width.saturating_sub(w)))
}

/// The short form of a role ARN: `ACCOUNT/NAME`.
pub fn short_role(arn: &str) -> String {
    match (arn.split(':').nth(4), arn.split_once(":role/")) {
        (Some(account), Some((_, name))) if !account.is_empty() => format!("{account}/{name}"),
        _ => arn.to_string(),
    }
}

fn plural(n: usize, one: &str, many: &str) -> String {
    format!("{n} {}", if n == 1 { one } else { many })
}

/// The findings, one row each with its message beneath, then the summary.
pub fn write_findings<W: Write>(w: &mut W, report: &Report, color: Color) -> io::Result<()> {
    let headers = [
        "SEVERITY",
        "TIME",
        "RULE",
        "ROLE",
        "REPOSITORY",
        "REF",
        "SOURCE IP",
    ];
    let caps = [8, 20, 40, 44, 32, 32, 39];
    let rows: Vec<[String; 7]> = report
        .findings
        .iter()
        .map(|f| {
            let who = f
                .repository
                .as_deref()
                .or(f.subject.as_deref())
                .unwrap_or("-");
            [
                f.severity.as_str().to_string(),
                f.time.map(format_time).unwrap_or_else(|| "-".into()),
                cell(&f.rule, caps[2]),
                cell(
                    &f.role
                        .as_deref()
                        .map(short_role)
                        .unwrap_or_else(|| "-".into()),
                    caps[3],
                ),
                cell(who, caps[4]),
                cell(f.git_ref.as_deref().unwrap_or("-"), caps[5]),
                cell(f.source_ip.as_deref().unwrap_or("-"), caps[6]),
            ]
        })
        .collect();
    if !rows.is_empty() {
        let mut widths: Vec<usize> = headers.iter().map(|h| h.len()).collect();
        for r in &rows {
            for (i, c) in r.iter().enumerate() {
                widths[i] = widths[i].max(UnicodeWidthStr::width(c.as_str()));
            }
        }
        let line: Vec<String> = headers
            .iter()
            .zip(&widths)
            .map(|(h, &wd)| pad(h, wd))
            .collect();
        writeln!(w, "{}", line.join("  ").trim_end())?;
        for (f, r) in report.findings.iter().zip(&rows) {
            let mut parts: Vec<String> = Vec::with_capacity(7);
            parts.push(paint(f.severity, color, &pad(&r[0], widths[0])));
            for i in 1..7 {
                parts.push(pad(&r[i], widths[i]));
            }
            writeln!(w, "{}", parts.join("  ").trim_end())?;
            writeln!(
                w,
                "{}↳ {}",
                " ".repeat(widths[0] + 2),
                truncate(&terminal(&f.message), 600)
            )?;
        }
        writeln!(w)?;
    }
    write_summary(w, report, color)
}

/// The closing summary: counts, what was not checked, notes, input errors.
pub fn write_summary<W: Write>(w: &mut W, report: &Report, color: Color) -> io::Result<()> {
    let s = &report.summary;
    let f = &s.findings;
    let by_sev: Vec<String> = Severity::ALL
        .iter()
        .filter(|&&sev| f.get(sev) > 0)
        .map(|&sev| paint(sev, color, &format!("{} {}", f.get(sev), sev)))
        .collect();
    if f.total == 0 {
        writeln!(w, "rolecall: no findings")?;
    } else {
        writeln!(
            w,
            "rolecall: {}: {}",
            plural(f.total, "finding", "findings"),
            by_sev.join(", ")
        )?;
    }
    let m = &s.claims_matched;
    writeln!(
        w,
        "read {} ({} bytes), {}, {} ({} failed), {} (claims: {} exact, {} ambiguous, {} from subject, {} unknown)",
        plural(s.inputs.files, "file", "files"),
        s.inputs.bytes,
        plural(s.events, "event", "events"),
        plural(s.exchanges.total, "role exchange", "role exchanges"),
        s.exchanges.failed,
        plural(s.sessions, "session", "sessions"),
        m.exact,
        m.ambiguous,
        m.derived,
        m.none
    )?;
    if s.since.is_some() || s.until.is_some() {
        writeln!(
            w,
            "window: {} to {} ({} records outside it)",
            s.since
                .map(format_time)
                .unwrap_or_else(|| "the beginning".into()),
            s.until.map(format_time).unwrap_or_else(|| "the end".into()),
            s.inputs.records_outside_window
        )?;
    }
    for u in &s.unchecked {
        writeln!(
            w,
            "not checked: {}{}: {}",
            u.rule,
            u.scope(),
            terminal(&u.reason)
        )?;
    }
    for note in &s.notes {
        writeln!(w, "note: {}", terminal(note))?;
    }
    if !s.skipped_files.is_empty() {
        writeln!(
            w,
            "skipped {}",
            plural(s.skipped_files.len(), "file", "files")
        )?;
    }
    if s.input_error_count > 0 {
        writeln!(
            w,
            "{} (listed on stderr and in the JSON summary)",
            plural(s.input_error_count, "input error", "input errors")
        )?;
    }
    if s.suppressed > 0 {
        writeln!(
            w,
            "suppressed: {} (see the JSON output for reasons)",
            s.suppressed
        )?;
    }
    for u in &s.unread {
        writeln!(
            w,
            "PARTIAL: not read: {}: {}",
            terminal(&u.source),
            terminal(&u.reason)
        )?;
    }
    if s.partial {
        writeln!(
            w,
            "PARTIAL: the findings above cover only what could be read"
        )?;
    }
    Ok(())
}

/// Any frame as aligned text, each cell capped at `max_cell` characters.
pub fn write_frame<W: Write>(w: &mut W, df: &DataFrame, max_cell: usize) -> io::Result<()> {
    let names: Vec<String> = df
        .get_column_names()
        .iter()
        .map(|n| cell(n, max_cell))
        .collect();
    let mut rows: Vec<Vec<String>> = Vec::with_capacity(df.height());
    for i in 0..df.height() {
        rows.push(
            df.columns()
                .iter()
                .map(|c| {
                    let v = c.get(i).map(|v| cell_value(&v)).unwrap_or_default();
                    if v.is_null() {
                        "-".to_string()
                    } else {
                        cell(&display(&v), max_cell)
                    }
                })
                .collect(),
        );
    }
    let mut widths: Vec<usize> = names
        .iter()
        .map(|n| UnicodeWidthStr::width(n.as_str()))
        .collect();
    for r in &rows {
        for (i, c) in r.iter().enumerate() {
            widths[i] = widths[i].max(UnicodeWidthStr::width(c.as_str()));
        }
    }
    let head: Vec<String> = names
        .iter()
        .zip(&widths)
        .map(|(n, &wd)| pad(&n.to_uppercase(), wd))
        .collect();
    writeln!(w, "{}", head.join("  ").trim_end())?;
    for r in rows {
        let line: Vec<String> = r.iter().zip(&widths).map(|(c, &wd)| pad(c, wd)).collect();
        writeln!(w, "{}", line.join("  ").trim_end())?;
    }
    writeln!(w, "({})", plural(df.height(), "row", "rows"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn short_roles() {
        assert_eq!(
            short_role("arn:aws:iam::111111111111:role/deploy-prod"),
            "111111111111/deploy-prod"
        );
        assert_eq!(short_role("not-an-arn"), "not-an-arn");
    }
}
