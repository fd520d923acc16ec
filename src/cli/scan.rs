//! `rolecall scan`: the CI gate. Prints the findings and exits 1 when one
//! reaches `--fail-on`, 2 when the run could not complete.

use std::path::PathBuf;

use anyhow::Result;
use clap::{Args, ValueEnum};

use super::{color_for, finish_write, open_output, print_input_errors, Exit, InputArgs};
use crate::model::{Report, Severity};
use crate::output::{write_findings, FindingsFormat};

/// The lowest severity that fails the run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum FailOn {
    Info,
    Low,
    Medium,
    High,
    Critical,
    /// Never exit 1 (errors still exit 2).
    Never,
}

impl FailOn {
    pub fn threshold(self) -> Option<Severity> {
        match self {
            FailOn::Info => Some(Severity::Info),
            FailOn::Low => Some(Severity::Low),
            FailOn::Medium => Some(Severity::Medium),
            FailOn::High => Some(Severity::High),
            FailOn::Critical => Some(Severity::Critical),
            FailOn::Never => None,
        }
    }
}

#[derive(Args, Debug)]
pub struct ScanArgs {
    #[command(flatten)]
    pub input: InputArgs,

    /// Output format [default: table on a terminal, json otherwise].
    #[arg(long, value_enum)]
    pub format: Option<FindingsFormat>,

    /// Write the output to FILE instead of stdout.
    #[arg(long, short = 'o', value_name = "FILE")]
    pub output: Option<PathBuf>,

    /// Exit 1 when a finding is at least this severe.
    #[arg(long, value_enum, default_value = "high", value_name = "SEVERITY")]
    pub fail_on: FailOn,

    /// Run only these detections (comma-separated ids, see `rolecall rules`).
    #[arg(long, value_delimiter = ',', value_name = "ID,...")]
    pub rules: Vec<String>,
}

/// The exit status a finished scan earns.
pub fn exit_for(report: &Report, fail_on: FailOn, strict: bool) -> Exit {
    if strict && report.summary.input_error_count > 0 {
        return Exit::Error;
    }
    match fail_on.threshold() {
        Some(t) if report.findings.iter().any(|f| f.severity >= t) => Exit::Findings,
        _ => Exit::Clean,
    }
}

pub fn run(args: &ScanArgs) -> Result<Exit> {
    let cfg = args.input.config(&args.rules)?;
    let outcome = crate::pipeline::run(&cfg)?;
    let report = outcome.report;
    print_input_errors(&report.summary);
    let (mut out, tty) = open_output(args.output.as_ref())?;
    let format = args.format.unwrap_or(if tty {
        FindingsFormat::Table
    } else {
        FindingsFormat::Json
    });
    let written = write_findings(&mut out, format, &report, color_for(tty));
    finish_write(written, &mut out)?;
    let exit = exit_for(&report, args.fail_on, args.input.strict);
    if exit == Exit::Error {
        eprintln!(
            "rolecall: error: {} input errors and --strict is set",
            report.summary.input_error_count
        );
    }
    Ok(exit)
}
