//! `rolecall scan`: the CI gate. Prints the findings and exits 1 when one
//! reaches `--fail-on`, 2 when the run could not complete.

use std::path::PathBuf;

use anyhow::{bail, Context as _, Result};
use clap::{Args, ValueEnum};

use super::{color_for, finish_write, open_output, print_input_errors, Exit, InputArgs};
use crate::model::{Report, Severity};
use crate::output::{write_findings, Context, FindingsFormat};

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

    /// Write the --format output to FILE instead of stdout; or, as
    /// FORMAT=PATH (e.g. sarif=rolecall.sarif, junit=rolecall.xml), write
    /// that format to PATH as well. Repeat for several.
    #[arg(long, short = 'o', value_name = "FILE|FORMAT=PATH")]
    pub output: Vec<String>,

    /// Write a suppression for every current finding to FILE (each with a
    /// placeholder reason to fill in and an until date 90 days out), to
    /// adopt the gate on an estate that already has findings.
    #[arg(long, value_name = "FILE")]
    pub write_baseline: Option<PathBuf>,

    /// Exit 1 when a finding is at least this severe.
    #[arg(long, value_enum, default_value = "high", value_name = "SEVERITY")]
    pub fail_on: FailOn,

    /// Run only these detections (comma-separated ids, see `rolecall rules`).
    #[arg(long, value_delimiter = ',', value_name = "ID,...")]
    pub rules: Vec<String>,

    /// Read the tables from a dataset `rolecall export --parquet` wrote
    /// (any set of its partitions, with its `_rolecall.json`) instead of
    /// SOURCES, and run the detections, suppressions and outputs here.
    #[arg(long, value_name = "DIR")]
    pub from_parquet: Option<PathBuf>,

    /// With --from-parquet: take the SQL detections' result rows from DIR
    /// (`ID.jsonl` per query, one JSON object per line, as Spark, Trino or
    /// Athena computed them over the same dataset) instead of running them
    /// here. Mapping rows to findings, the Rust detections, suppressions
    /// and outputs still run here.
    #[arg(long, value_name = "DIR", requires = "from_parquet")]
    pub query_results: Option<PathBuf>,
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

/// Where the findings go: a plain path for the `--format` output (at most
/// one; stdout without it), and FORMAT=PATH pairs.
pub type Outputs = (Option<PathBuf>, Vec<(FindingsFormat, PathBuf)>);

/// Parses the `--output` values.
pub fn parse_outputs(values: &[String]) -> Result<Outputs> {
    let mut plain = None;
    let mut extra = Vec::new();
    for v in values {
        let named = v.split_once('=').and_then(|(name, path)| {
            FindingsFormat::from_str(name, true)
                .ok()
                .map(|f| (f, PathBuf::from(path)))
        });
        match named {
            Some((_, path)) if path.as_os_str().is_empty() => {
                bail!("--output {v}: no path after `=`")
            }
            Some(pair) => extra.push(pair),
            None if plain.is_none() => plain = Some(PathBuf::from(v)),
            None => {
                bail!(
                "--output {v}: only one plain --output FILE (for --format); name the others FORMAT=PATH ({})",
                FindingsFormat::value_variants().iter().map(|f| f.name()).collect::<Vec<_>>().join(", ")
            )
            }
        }
    }
    Ok((plain, extra))
}

fn write_to(path: &PathBuf, format: FindingsFormat, cx: &Context<'_>) -> Result<()> {
    let file =
        std::fs::File::create(path).with_context(|| format!("cannot write {}", path.display()))?;
    let mut out = std::io::BufWriter::new(file);
    let written = write_findings(&mut out, format, cx, color_for(false));
    finish_write(written, &mut out).with_context(|| format!("cannot write {}", path.display()))
}

pub fn run(args: &ScanArgs) -> Result<Exit> {
    let (plain, extra) = parse_outputs(&args.output)?;
    let (cfg, outcome) = match &args.from_parquet {
        Some(dir) => {
            let dataset = crate::lake::read::read_dataset(dir)?;
            let shown = dir.display().to_string();
            let cfg = args
                .input
                .dataset_config(&args.rules, &dataset.manifest, &shown)?;
            let outcome = crate::pipeline::run_from_parquet(
                &cfg,
                dataset,
                &shown,
                args.query_results.as_deref(),
            )?;
            (cfg, outcome)
        }
        None => {
            let cfg = args.input.config(&args.rules)?;
            let outcome = crate::pipeline::run(&cfg)?;
            (cfg, outcome)
        }
    };
    // The process ends once the findings are written: freeing a large
    // run's tables and strings one by one would only cost time (1.3% of
    // the CPU at 1M records, on the main thread, after everything else).
    let outcome = std::mem::ManuallyDrop::new(outcome);
    let report = &outcome.report;
    print_input_errors(&report.summary);
    let cx = Context::new(
        report,
        crate::detect::catalogue(&cfg.user_queries),
        cfg.policy_path(),
    );
    for (format, path) in &extra {
        write_to(path, *format, &cx)?;
    }
    let (mut out, tty) = open_output(plain.as_ref())?;
    let format = args.format.unwrap_or(if tty {
        FindingsFormat::Table
    } else {
        FindingsFormat::Json
    });
    let written = write_findings(&mut out, format, &cx, color_for(tty));
    finish_write(written, &mut out)?;
    if format == FindingsFormat::Github || extra.iter().any(|(f, _)| *f == FindingsFormat::Github) {
        crate::output::github::write_step_summary(&cx)
            .context("cannot append to $GITHUB_STEP_SUMMARY")?;
    }
    if let Some(path) = &args.write_baseline {
        if path.exists() {
            bail!("--write-baseline {}: the file exists; move it away first (it may hold reasons someone wrote)", path.display());
        }
        let text = crate::policy::suppress::baseline(
            &report.findings,
            chrono::Utc::now().date_naive(),
            90,
        );
        std::fs::write(path, &text).with_context(|| format!("cannot write {}", path.display()))?;
        eprintln!(
            "rolecall: wrote {} suppressions to {}: fill in each reason, then pass --suppressions {}",
            text.matches("[[suppress]]").count(),
            path.display(),
            path.display()
        );
    }
    let exit = exit_for(report, args.fail_on, cfg.strict);
    if exit == Exit::Error {
        eprintln!(
            "rolecall: error: {} input errors and --strict is set",
            report.summary.input_error_count
        );
    }
    Ok(exit)
}
