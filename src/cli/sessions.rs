//! `rolecall sessions`: every joined session, one row each, clean ones too.

use std::collections::HashMap;
use std::path::PathBuf;

use anyhow::Result;
use clap::Args;
use polars::prelude::*;

use super::{finish_write, open_output, print_input_errors, strict_exit, Exit, InputArgs};
use crate::output::{write_frame, TableFormat};

/// Columns the text table shows; the other formats carry every column.
const TABLE_COLUMNS: &[&str] = &[
    "time",
    "role_arn",
    "repository",
    "ref",
    "environment",
    "match",
    "run_id",
    "source_ip",
    "calls",
    "distinct_ips",
    "findings",
];

#[derive(Args, Debug)]
pub struct SessionsArgs {
    #[command(flatten)]
    pub input: InputArgs,

    /// Output format [default: table on a terminal, json otherwise].
    #[arg(long, value_enum)]
    pub format: Option<TableFormat>,

    /// Write the output to FILE instead of stdout.
    #[arg(long, short = 'o', value_name = "FILE")]
    pub output: Option<PathBuf>,
}

pub fn run(args: &SessionsArgs) -> Result<Exit> {
    let cfg = args.input.config(&[])?;
    let outcome = crate::pipeline::run(&cfg)?;
    print_input_errors(&outcome.report.summary);
    let mut per_session: HashMap<&str, i64> = HashMap::new();
    for f in &outcome.report.findings {
        if let Some(k) = f.session_key.as_deref() {
            *per_session.entry(k).or_default() += 1;
        }
    }
    let mut df = outcome
        .tables
        .get("sessions")
        .cloned()
        .expect("the pipeline builds sessions");
    let counts: Vec<i64> = outcome
        .report
        .sessions
        .iter()
        .map(|s| per_session.get(s.key.as_str()).copied().unwrap_or(0))
        .collect();
    df.with_column(Column::new("findings".into(), counts))?;
    let (mut out, tty) = open_output(args.output.as_ref())?;
    let format = TableFormat::or_default(args.format, tty);
    if format == TableFormat::Table {
        df = df.select(TABLE_COLUMNS.iter().copied())?;
    }
    let written = write_frame(&mut out, format, &df);
    finish_write(written, &mut out)?;
    Ok(strict_exit(cfg.strict, &outcome.report.summary))
}
