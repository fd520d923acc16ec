//! JSON and NDJSON output.
//!
//! `--format json` prints exactly one document:
//! `{"version":1,"summary":{...},"findings":[...]}`; `ndjson` prints one
//! finding per line. Strings are valid UTF-8 JSON; beyond what JSON
//! requires, bidirectional overrides, C1 controls and invisible characters
//! are written as `\uXXXX` so that the JSON is also safe to `cat` to a
//! terminal, and JWT signatures are removed.

use std::io::{self, Write};

use serde::Serialize;

use crate::model::{Finding, Report, Summary, Suppressed};
pub use crate::text::json::{write_line, write_pretty};

/// The schema version of `--format json`.
pub const JSON_VERSION: u32 = 1;

#[derive(Serialize)]
struct Document<'a> {
    version: u32,
    summary: &'a Summary,
    findings: &'a [Finding],
    /// Findings suppressions accepted, each with the reason and the date.
    suppressed: &'a [Suppressed],
}

/// The one JSON document of `--format json`.
pub fn write_report<W: Write>(w: &mut W, report: &Report) -> io::Result<()> {
    write_pretty(
        w,
        &Document {
            version: JSON_VERSION,
            summary: &report.summary,
            findings: &report.findings,
            suppressed: &report.suppressed,
        },
    )
}

/// One finding per line; with partial input each carries
/// `"partial_input": true`.
pub fn write_ndjson<W: Write>(w: &mut W, report: &Report) -> io::Result<()> {
    for f in &report.findings {
        if report.summary.partial {
            let mut v = serde_json::to_value(f).map_err(io::Error::from)?;
            v["partial_input"] = serde_json::Value::Bool(true);
            write_line(w, &v)?;
        } else {
            write_line(w, f)?;
        }
    }
    Ok(())
}
