//! CSV: one row per finding, RFC 4180 quoting, and cells a spreadsheet
//! would run as a formula (`=`, `+`, `-`, `@`, tab, CR) neutralized.

use std::io::{self, Write};

use super::Context;
use crate::model::time::format_time;
use crate::text::{csv_field, terminal};

pub const COLUMNS: &[&str] = &[
    "severity",
    "time",
    "rule",
    "title",
    "role",
    "account",
    "repository",
    "ref",
    "environment",
    "subject",
    "source_ip",
    "session_key",
    "run_id",
    "fingerprint",
    "message",
];

pub fn write<W: Write>(w: &mut W, cx: &Context<'_>) -> io::Result<()> {
    // Partial input gets a comment line before the header, which readers
    // that skip `#` lines ignore and everyone else sees.
    for u in &cx.report.summary.unread {
        writeln!(
            w,
            "# PARTIAL: not read: {}: {}",
            terminal(&u.source),
            terminal(&u.reason)
        )?;
    }
    writeln!(w, "{}", COLUMNS.join(","))?;
    for f in &cx.report.findings {
        let o = |v: &Option<String>| v.clone().unwrap_or_default();
        let cells = [
            f.severity.as_str().to_string(),
            f.time.map(format_time).unwrap_or_default(),
            f.rule.clone(),
            f.title.clone(),
            o(&f.role),
            o(&f.account),
            o(&f.repository),
            o(&f.git_ref),
            o(&f.environment),
            o(&f.subject),
            o(&f.source_ip),
            o(&f.session_key),
            o(&f.run_id),
            f.fingerprint.clone(),
            f.message.clone(),
        ];
        let row: Vec<String> = cells.iter().map(|c| csv_field(c)).collect();
        writeln!(w, "{}", row.join(","))?;
    }
    Ok(())
}
