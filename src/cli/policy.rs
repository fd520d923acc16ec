//! `rolecall policy init`: write a starting policy learned from history
//! to stdout (`> rolecall.toml`), for a person to review.

use std::io::Write;

use anyhow::Result;
use clap::{Args, Subcommand};

use super::{finish_write, print_input_errors, Exit, InputArgs};

#[derive(Args, Debug)]
pub struct PolicyArgs {
    #[command(subcommand)]
    pub command: PolicyCommand,
}

#[derive(Subcommand, Debug)]
pub enum PolicyCommand {
    /// Learn a starting policy from the sources (tiers, repositories, refs,
    /// environments, triggers and workflows per role; issuers and their
    /// audiences), commented, on stdout.
    Init(InputArgs),
}

pub fn run(args: &PolicyArgs) -> Result<Exit> {
    match &args.command {
        PolicyCommand::Init(input) => {
            let cfg = input.config(&[])?;
            let outcome = crate::pipeline::run(&cfg)?;
            print_input_errors(&outcome.report.summary);
            let text = crate::policy::learn::learn(&outcome.report, &cfg.policy);
            let mut out = std::io::BufWriter::new(std::io::stdout().lock());
            let written = out.write_all(text.as_bytes());
            finish_write(written, &mut out)?;
            Ok(Exit::Clean)
        }
    }
}
