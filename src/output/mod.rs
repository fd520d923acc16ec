//! Output: the report and tables written for people and machines. Every
//! format escapes log-derived text for where it goes (terminal, JSON, CSV).
//! Imports model (and detect's cell conversion); never runs the engine.

pub mod json;
pub mod sanitize;
pub mod table;

use std::io::{self, Write};

use clap::ValueEnum;
use polars::prelude::DataFrame;
use serde_json::{Map, Value};

use crate::detect::sql::cell_value;
use crate::model::Report;

/// Formats for findings (`scan`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum FindingsFormat {
    /// Aligned text with a summary (for terminals and CI logs).
    Table,
    /// One JSON document: version, summary, findings.
    Json,
    /// One finding per line.
    Ndjson,
}

/// Formats for tables (`sessions`, `query`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum TableFormat {
    Table,
    /// A JSON array of row objects.
    Json,
    /// One row object per line.
    Ndjson,
    /// RFC 4180 CSV with formula-looking cells neutralized.
    Csv,
}

/// Writes the findings in `format`.
pub fn write_findings<W: Write>(
    w: &mut W,
    format: FindingsFormat,
    report: &Report,
    color: table::Color,
) -> io::Result<()> {
    match format {
        FindingsFormat::Table => table::write_findings(w, report, color),
        FindingsFormat::Json => json::write_report(w, report),
        FindingsFormat::Ndjson => json::write_ndjson(w, report),
    }
}

/// A frame's rows as JSON objects.
pub fn frame_rows(df: &DataFrame) -> Vec<Map<String, Value>> {
    (0..df.height())
        .map(|i| {
            df.columns()
                .iter()
                .map(|c| {
                    (
                        c.name().to_string(),
                        c.get(i).map(|v| cell_value(&v)).unwrap_or(Value::Null),
                    )
                })
                .collect()
        })
        .collect()
}

/// Writes a frame in `format`.
pub fn write_frame<W: Write>(w: &mut W, format: TableFormat, df: &DataFrame) -> io::Result<()> {
    match format {
        TableFormat::Table => table::write_frame(w, df, 48),
        TableFormat::Json => json::write_pretty(w, &frame_rows(df)),
        TableFormat::Ndjson => {
            for row in frame_rows(df) {
                json::write_line(w, &row)?;
            }
            Ok(())
        }
        TableFormat::Csv => {
            let names: Vec<String> = df
                .get_column_names()
                .iter()
                .map(|n| sanitize::csv_field(n))
                .collect();
            writeln!(w, "{}", names.join(","))?;
            for row in frame_rows(df) {
                let cells: Vec<String> = row
                    .values()
                    .map(|v| match v {
                        Value::Null => String::new(),
                        other => sanitize::csv_field(&crate::detect::sql::display(other)),
                    })
                    .collect();
                writeln!(w, "{}", cells.join(","))?;
            }
            Ok(())
        }
    }
}
