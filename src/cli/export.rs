//! `rolecall export`: the engine's tables as a Hive-partitioned Parquet
//! dataset, for the engines that scale out; `scan --from-parquet` reads it
//! back.

use std::path::PathBuf;

use anyhow::Result;
use clap::Args;

use super::{print_input_errors, strict_exit, Exit, InputArgs};
use crate::detect::Input;
use crate::lake::write::{write_dataset, About};

#[derive(Args, Debug)]
pub struct ExportArgs {
    #[command(flatten)]
    pub input: InputArgs,

    /// Write the dataset to DIR: one directory per table (events,
    /// assumptions, sessions, activity partitioned cloud=/account=/day=;
    /// claims, jobs, runs by day=; sensitive_actions whole) and the
    /// manifest `_rolecall.json`. DIR must be empty or absent.
    #[arg(long, value_name = "DIR", required = true)]
    pub parquet: PathBuf,

    /// Replace an earlier export in DIR.
    #[arg(long)]
    pub overwrite: bool,
}

pub fn run(args: &ExportArgs) -> Result<Exit> {
    let mut cfg = args.input.config(&[])?;
    // The dataset is for any SQL, not only rolecall's: every event.
    cfg.ingest.elide_unrelated_events = false;
    let mut outcome = crate::pipeline::run(&cfg)?;
    print_input_errors(&outcome.report.summary);
    outcome.tables.add_events(&Input::of(&outcome.report));
    outcome.tables.add_keys(&outcome.report.keys);
    let about = About {
        sources: &cfg.sources,
        policy_text: cfg.policy_file.as_ref().map(|f| f.text.as_str()),
        summary: &outcome.report.summary,
        keys: &outcome.report.keys,
    };
    let written = write_dataset(
        &args.parquet,
        &outcome.tables.frames,
        &about,
        args.overwrite,
    )?;
    eprintln!(
        "rolecall: wrote {} tables, {} rows in {} Parquet files to {}",
        written.tables,
        written.rows,
        written.files,
        args.parquet.display()
    );
    Ok(strict_exit(cfg.strict, &outcome.report.summary))
}
