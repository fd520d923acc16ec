//! `rolecall query`: ad-hoc SQL over the engine's tables.

use std::path::PathBuf;

use anyhow::{Context, Result};
use clap::Args;

use super::{finish_write, open_output, print_input_errors, strict_exit, Exit, InputArgs};
use crate::detect::{mentions, Input};
use crate::output::{write_frame, TableFormat};

#[derive(Args, Debug)]
pub struct QueryArgs {
    #[command(flatten)]
    pub input: InputArgs,

    /// The query (polars SQL) over events, assumptions, claims, jobs, runs,
    /// sessions, activity, findings and sensitive_actions.
    #[arg(long, value_name = "SQL")]
    pub sql: String,

    /// Output format [default: table on a terminal, json otherwise].
    #[arg(long, value_enum)]
    pub format: Option<TableFormat>,

    /// Write the output to FILE instead of stdout.
    #[arg(long, short = 'o', value_name = "FILE")]
    pub output: Option<PathBuf>,
}

pub fn run(args: &QueryArgs) -> Result<Exit> {
    let mut cfg = args.input.config(&[])?;
    if mentions(&args.sql, "events") {
        cfg.ingest.elide_unrelated_events = false;
    }
    let mut outcome = crate::pipeline::run(&cfg)?;
    print_input_errors(&outcome.report.summary);
    if mentions(&args.sql, "events") {
        outcome.tables.add_events(&Input::of(&outcome.report));
    }
    if mentions(&args.sql, "keys") {
        outcome.tables.add_keys(&outcome.report.keys);
    }
    let mut ctx = outcome.tables.context();
    let df = ctx
        .execute(&args.sql)
        .and_then(|lf| lf.collect())
        .context("the query failed")?;
    let (mut out, tty) = open_output(args.output.as_ref())?;
    let format = TableFormat::or_default(args.format, tty);
    let written = write_frame(&mut out, format, &df);
    finish_write(written, &mut out)?;
    Ok(strict_exit(cfg.strict, &outcome.report.summary))
}
