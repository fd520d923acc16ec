//! `rolecall keys`: the long-term access keys the input shows, one row
//! each, the ones that block a migration first (used after it, used from
//! CI), then the ones to revoke (unused), to rotate (old), and the rest.
//! The table and CSV are the `keys` table of `rolecall query`; JSON is the
//! whole key report (each key's CI links with their evidence, its latest
//! calls, and where ages were measured).

use std::io::Write;
use std::path::PathBuf;

use anyhow::Result;
use clap::Args;

use super::{finish_write, open_output, print_input_errors, strict_exit, Exit, InputArgs};
use crate::output::{write_frame, TableFormat};

/// Columns the text table shows; CSV and NDJSON carry every column.
const TABLE_COLUMNS: &[&str] = &[
    "verdict",
    "user_name",
    "key",
    "account",
    "active",
    "last_used_in_trail",
    "last_used_per_iam",
    "calls",
    "address_count",
    "ci_links",
    "idle_days",
    "age_days",
];

#[derive(Args, Debug)]
pub struct KeysArgs {
    #[command(flatten)]
    pub input: InputArgs,

    /// Output format [default: table on a terminal, json otherwise].
    #[arg(long, value_enum)]
    pub format: Option<TableFormat>,

    /// Write the output to FILE instead of stdout.
    #[arg(long, short = 'o', value_name = "FILE")]
    pub output: Option<PathBuf>,
}

pub fn run(args: &KeysArgs) -> Result<Exit> {
    let cfg = args.input.config(&[])?;
    let outcome = crate::pipeline::run(&cfg)?;
    print_input_errors(&outcome.report.summary);
    let keys = &outcome.report.keys;
    let (mut out, tty) = open_output(args.output.as_ref())?;
    let format = TableFormat::or_default(args.format, tty);
    let written = match format {
        TableFormat::Json => crate::output::json::write_pretty(&mut out, keys),
        TableFormat::Table => {
            let df = crate::detect::keys::keys_frame(keys).select(TABLE_COLUMNS.iter().copied())?;
            write_frame(&mut out, format, &df).and_then(|()| {
                if let Some(r) = &keys.reference {
                    writeln!(
                        out,
                        "ages measured at {} ({}){}",
                        crate::model::time::format_time(r.at),
                        r.basis,
                        if keys.iam_records {
                            ""
                        } else {
                            "; no credential report or key list given: unused keys not judged"
                        }
                    )?;
                }
                Ok(())
            })
        }
        _ => write_frame(&mut out, format, &crate::detect::keys::keys_frame(keys)),
    };
    finish_write(written, &mut out)?;
    Ok(strict_exit(cfg.strict, &outcome.report.summary))
}
