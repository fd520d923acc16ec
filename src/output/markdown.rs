//! Markdown for pull-request comments, tickets and the GitHub step summary:
//! a headline, a table of findings, and what was suppressed or unreadable.
//! Cells are escaped by [`crate::text::md`] (pipes, backticks, links,
//! tags, mentions) and laid out by [`Table`], as the report's are.

use std::io::{self, Write};

use super::Context;
use crate::model::time::format_time;
use crate::text::markdown::Table;
use crate::text::md;

pub fn write<W: Write>(w: &mut W, cx: &Context<'_>) -> io::Result<()> {
    let r = cx.report;
    let s = &r.summary;
    writeln!(
        w,
        "### rolecall: {} finding{}\n",
        s.findings.total,
        if s.findings.total == 1 { "" } else { "s" }
    )?;
    writeln!(
        w,
        "{} critical · {} high · {} medium · {} low · {} info · {} suppressed · {} exchanges ({} failed) · {} sessions · {} input errors\n",
        s.findings.critical,
        s.findings.high,
        s.findings.medium,
        s.findings.low,
        s.findings.info,
        s.suppressed,
        s.exchanges.total,
        s.exchanges.failed,
        s.sessions,
        s.input_error_count
    )?;
    if s.partial {
        writeln!(
            w,
            "**Partial: some input could not be read; these findings cover only the rest.**\n"
        )?;
        for u in &s.unread {
            writeln!(w, "- not read: {}: {}", md(&u.source), md(&u.reason))?;
        }
        writeln!(w)?;
    }
    if !r.findings.is_empty() {
        let mut t = Table::left(&[
            "severity",
            "time",
            "rule",
            "role",
            "repository",
            "ref",
            "message",
        ]);
        let o = |v: &Option<String>| v.as_deref().map(md).unwrap_or_default();
        for f in &r.findings {
            t.row([
                format!("**{}**", f.severity.as_str()),
                f.time.map(format_time).unwrap_or_default(),
                md(&f.rule),
                o(&f.role),
                o(&f.repository),
                o(&f.git_ref),
                md(&f.message),
            ]);
        }
        writeln!(w, "{}", t.finish())?;
    }
    if !r.suppressed.is_empty() {
        writeln!(w, "Suppressed ({}):\n", r.suppressed.len())?;
        for x in &r.suppressed {
            writeln!(
                w,
                "- {} {} until {}: {}",
                md(&x.finding.rule),
                md(&x.finding.fingerprint),
                md(&x.until),
                md(&x.reason)
            )?;
        }
        writeln!(w)?;
    }
    if s.input_error_count > 0 {
        writeln!(w, "Input errors ({}):\n", s.input_error_count)?;
        for e in &s.input_errors {
            writeln!(w, "- {}", md(&e.to_string()))?;
        }
        writeln!(w)?;
    }
    Ok(())
}
