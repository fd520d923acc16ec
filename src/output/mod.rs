//! Output: the report and tables written for people and machines, one
//! emitter per format. Every format escapes log-derived text for where it
//! goes, with `text`'s escapers. Imports `model` and `text`; never runs the
//! engine.

pub mod codequality;
pub mod csv;
pub mod github;
pub mod json;
pub mod junit;
pub mod markdown;
pub mod ocsf;
pub mod sarif;
pub mod table;

use std::collections::HashMap;
use std::io::{self, Write};

use clap::ValueEnum;
use polars::prelude::DataFrame;
use serde_json::{Map, Value};

use crate::model::cells::cell_value;
use crate::model::rule::Rule;
use crate::model::{Finding, Report};

/// Formats for findings (`scan`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum FindingsFormat {
    /// Aligned text with a summary (for terminals and CI logs).
    Table,
    /// One JSON document: version, summary, findings, suppressed.
    Json,
    /// One finding per line.
    Ndjson,
    /// GitHub Actions workflow commands (annotations), and a Markdown
    /// summary in $GITHUB_STEP_SUMMARY when it is set.
    Github,
    /// JUnit XML: a testsuite per rule, a failing testcase per finding.
    Junit,
    /// GitLab Code Quality JSON.
    GitlabCodequality,
    /// SARIF 2.1.0.
    Sarif,
    /// OCSF 1.1.0 Detection Finding records, one per line.
    Ocsf,
    /// One row per finding, formula cells neutralized.
    Csv,
    /// A Markdown table for pull requests and tickets.
    Markdown,
}

impl FindingsFormat {
    /// The name `--format` and `--output FORMAT=PATH` use.
    pub fn name(self) -> String {
        self.to_possible_value()
            .map(|v| v.get_name().to_string())
            .unwrap_or_default()
    }
}

/// What the findings formats read: the report, the rule catalogue, and
/// where the policy came from.
pub struct Context<'a> {
    pub report: &'a Report,
    pub rules: Vec<Rule>,
    pub policy_path: Option<&'a str>,
    sessions: HashMap<&'a str, usize>,
}

impl<'a> Context<'a> {
    pub fn new(report: &'a Report, rules: Vec<Rule>, policy_path: Option<&'a str>) -> Context<'a> {
        Context {
            report,
            rules,
            policy_path,
            sessions: report
                .sessions
                .iter()
                .enumerate()
                .map(|(i, s)| (s.key.as_str(), i))
                .collect(),
        }
    }

    /// The workflow or CI file of the token behind `f`, repository-relative:
    /// `.github/workflows/deploy.yml` from a `job_workflow_ref`,
    /// `.gitlab-ci.yml` from a `ci_config_ref_uri`.
    pub fn workflow_file(&self, f: &Finding) -> Option<String> {
        let s = &self.report.sessions[*self.sessions.get(f.session_key.as_deref()?)?];
        let w = s.workflow_ref.value.as_deref()?;
        let path = w.split_once('@').map_or(w, |(p, _)| p);
        if let Some(i) = path.find("/.github/") {
            return Some(path[i + 1..].to_string());
        }
        path.split_once("//")
            .map(|(_, file)| file.to_string())
            .filter(|f| !f.is_empty())
    }
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

impl TableFormat {
    /// `choice`, else a table on a terminal and JSON otherwise.
    pub fn or_default(choice: Option<TableFormat>, tty: bool) -> TableFormat {
        choice.unwrap_or(if tty {
            TableFormat::Table
        } else {
            TableFormat::Json
        })
    }
}

/// Writes the findings in `format`.
pub fn write_findings<W: Write>(
    w: &mut W,
    format: FindingsFormat,
    cx: &Context<'_>,
    color: table::Color,
) -> io::Result<()> {
    match format {
        FindingsFormat::Table => table::write_findings(w, cx.report, color),
        FindingsFormat::Json => json::write_report(w, cx.report),
        FindingsFormat::Ndjson => json::write_ndjson(w, cx.report),
        FindingsFormat::Github => github::write(w, cx),
        FindingsFormat::Junit => junit::write(w, cx),
        FindingsFormat::GitlabCodequality => codequality::write(w, cx),
        FindingsFormat::Sarif => sarif::write(w, cx),
        FindingsFormat::Ocsf => ocsf::write(w, cx),
        FindingsFormat::Csv => csv::write(w, cx),
        FindingsFormat::Markdown => markdown::write(w, cx),
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
                .map(|n| crate::text::csv_field(n))
                .collect();
            writeln!(w, "{}", names.join(","))?;
            for row in frame_rows(df) {
                let cells: Vec<String> = row
                    .values()
                    .map(|v| match v {
                        Value::Null => String::new(),
                        other => crate::text::csv_field(&crate::model::cells::display(other)),
                    })
                    .collect();
                writeln!(w, "{}", cells.join(","))?;
            }
            Ok(())
        }
    }
}
