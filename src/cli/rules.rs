//! `rolecall rules`: the detection catalogue.

use std::io::Write;

use anyhow::Result;
use clap::{Args, ValueEnum};

use super::{finish_write, open_output, Exit};
use crate::detect::{catalogue, sql};
use crate::text::cell;
use crate::text::json::write_pretty;

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum RulesFormat {
    Table,
    Json,
}

#[derive(Args, Debug)]
pub struct RulesArgs {
    /// Output format.
    #[arg(long, value_enum, default_value = "table")]
    pub format: RulesFormat,

    /// Include the `.sql` detections in DIR.
    #[arg(long, value_name = "DIR")]
    pub queries: Option<String>,
}

pub fn run(args: &RulesArgs) -> Result<Exit> {
    let user = match &args.queries {
        Some(dir) => sql::load_dir(dir)?,
        None => Vec::new(),
    };
    let rules = catalogue(&user);
    let (mut out, _) = open_output(None)?;
    let written = match args.format {
        RulesFormat::Json => write_pretty(&mut out, &rules),
        RulesFormat::Table => (|| {
            for r in &rules {
                writeln!(
                    out,
                    "{:<26} {:<9} {}",
                    cell(&r.id, 40),
                    r.severity,
                    cell(&r.title, 100)
                )?;
                writeln!(out, "    {}", cell(&r.description, 2000))?;
                writeln!(
                    out,
                    "    needs: {}   source: {}",
                    r.needs,
                    cell(&r.source, 200)
                )?;
                let per: Vec<String> = r
                    .sources
                    .iter()
                    .map(|c| match (c.applies, c.note.is_empty()) {
                        (true, true) => format!("{} yes", c.source),
                        (true, false) => format!("{} yes ({})", c.source, c.note),
                        (false, _) => format!("{} no ({})", c.source, c.note),
                    })
                    .collect();
                writeln!(out, "    sources: {}", per.join("; "))?;
            }
            Ok(())
        })(),
    };
    finish_write(written, &mut out)?;
    Ok(Exit::Clean)
}
