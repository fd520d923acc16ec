//! The command line: clap definitions, one subcommand per file, and the
//! resolution of flags into a validated [`Config`] (policy loaded, times
//! parsed, rule ids checked, user queries read). Exit codes: 0 clean, 1
//! findings at or above `--fail-on`, 2 the run could not complete (bad
//! arguments or policy, unreadable input under `--strict`). An error
//! outranks findings. The top of the stack: it may import anything.

pub mod export;
pub mod keys;
pub mod policy;
pub mod query;
pub mod report;
pub mod rules;
pub mod scan;
pub mod sessions;
pub mod trust;
pub mod tui;

use std::io::{self, IsTerminal, Write};
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

use anyhow::{bail, Context, Result};
use clap::{Args, Parser, Subcommand};

use crate::detect::sql::{self, QueryDef};
use crate::ingest::jwt::Jwks;
use crate::ingest::{read::DEFAULT_MAX_FILE_BYTES, IngestOptions};
use crate::model::time::{parse_date, parse_timestamp, Micros};
use crate::model::Summary;
use crate::pipeline::Config;
use crate::policy::{parse_duration, Policy};
use crate::text::terminal;

const EXAMPLES: &str = "\
Examples:
  rolecall scan AWSLogs/ claims/ --policy rolecall.toml
  rolecall scan trail.json.gz tokens.jwt --fail-on critical --format json --output findings.json
  aws cloudtrail lookup-events --lookup-attributes AttributeKey=EventName,AttributeValue=AssumeRoleWithWebIdentity | rolecall scan -
  rolecall sessions AWSLogs/ --format csv > sessions.csv
  rolecall keys AWSLogs/ credential-report.csv github-meta.json --policy rolecall.toml
  rolecall query AWSLogs/ --sql \"SELECT role_arn, count(*) AS n FROM sessions GROUP BY role_arn\"
  rolecall report AWSLogs/ --since 24h --state rolecall.db --out report.html
  rolecall export AWSLogs/ claims/ --policy rolecall.toml --parquet lake/
  rolecall scan --from-parquet lake/ --format sarif --output findings.sarif
  rolecall rules
  rolecall trust iam-details.json AWSLogs/ --suggest tightened/
  rolecall policy init AWSLogs/ claims/ > rolecall.toml";

/// Audits federated CI/CD role sessions: joins cloud role exchanges to the
/// CI token claims behind them, follows the issued credentials, and flags
/// what breaks the trust boundary.
#[derive(Parser, Debug)]
#[command(name = "rolecall", version, after_help = EXAMPLES, max_term_width = 100)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,

    /// Worker threads for reading and parsing (default: one per core).
    #[arg(long, global = true, value_name = "N")]
    pub threads: Option<usize>,
}

#[derive(Subcommand, Debug)]
pub enum Command {
    /// Scan logs and claims; exit 1 when a finding reaches --fail-on.
    Scan(scan::ScanArgs),
    /// List the joined sessions, one row each, clean ones too.
    Sessions(sessions::SessionsArgs),
    /// List the long-term access keys (IAM users' AKIA keys): which CI
    /// still uses, which can be revoked.
    Keys(keys::KeysArgs),
    /// Run ad-hoc SQL over the tables (events, assumptions, claims, jobs,
    /// runs, sessions, activity, findings, sensitive_actions, keys).
    Query(query::QueryArgs),
    /// Write the tables as a Hive-partitioned Parquet dataset (for Spark,
    /// Trino/Athena, DuckDB); `scan --from-parquet` reads it back.
    Export(export::ExportArgs),
    /// List the detections with their severity and description.
    Rules(rules::RulesArgs),
    /// Explore findings, sessions, roles and timelines in the terminal.
    Tui(tui::TuiArgs),
    /// Write an HTML, Markdown or JSON report; with --state, remember runs
    /// and say what is new, recurring and resolved.
    Report(report::ReportArgs),
    /// Print the JSON Schema of a JSON document rolecall writes.
    Schema(SchemaArgs),
    /// Show what each federated role's trust policy admits against what
    /// actually used it; --suggest DIR writes tightened policies.
    Trust(trust::TrustArgs),
    /// Policy tools: `policy init` learns a starting rolecall.toml from
    /// history.
    Policy(policy::PolicyArgs),
}

/// The documents `rolecall schema` describes.
#[derive(clap::ValueEnum, Debug, Clone, Copy)]
pub enum SchemaDocument {
    /// `rolecall report --format json`.
    Report,
}

#[derive(Args, Debug)]
pub struct SchemaArgs {
    #[arg(value_enum)]
    pub document: SchemaDocument,
}

/// Where the logs come from and how to read them.
#[derive(Args, Debug)]
pub struct InputArgs {
    /// Files, directories (read recursively) or `-` for stdin. Every file is
    /// recognized by its content; `.gz` is decompressed transparently.
    #[arg(value_name = "SOURCES")]
    pub sources: Vec<String>,

    /// Policy file (TOML); without one, the built-in defaults apply.
    #[arg(long, value_name = "FILE")]
    pub policy: Option<String>,

    /// Accepted findings: a TOML file of [[suppress]] entries (each with a
    /// reason and an until date), in addition to the policy's.
    #[arg(long, value_name = "FILE")]
    pub suppressions: Option<String>,

    /// Verify raw JWTs against this JSON Web Key Set; tokens that fail are
    /// reported and never vouch for an exchange.
    #[arg(long, value_name = "FILE")]
    pub jwks: Option<String>,

    /// Only events at or after TIME: RFC 3339, a date (2025-04-01), or an
    /// age such as 24h or 7d.
    #[arg(long, value_name = "TIME")]
    pub since: Option<String>,

    /// Only events before TIME (same forms as --since).
    #[arg(long, value_name = "TIME")]
    pub until: Option<String>,

    /// Add the `.sql` detections in DIR (same header format as queries/).
    #[arg(long, value_name = "DIR")]
    pub queries: Option<String>,

    /// Treat any input error (unreadable file or record) as fatal: exit 2.
    #[arg(long)]
    pub strict: bool,

    /// When part of a remote source cannot be read (access denied on a
    /// prefix, a region that keeps failing), finish anyway and mark every
    /// output partial, instead of exiting 2.
    #[arg(long)]
    pub allow_partial: bool,

    /// Stop with a clear error (exit 2) when the process's memory passes
    /// this size (bytes, or with K, M, G suffixes: 4G), instead of being
    /// killed by the system.
    #[arg(long, value_name = "SIZE", value_parser = parse_size)]
    pub max_memory: Option<u64>,

    /// Refuse files that decompress to more than this many bytes.
    #[arg(long, value_name = "BYTES", default_value_t = DEFAULT_MAX_FILE_BYTES)]
    pub max_file_bytes: u64,

    /// AWS endpoint for s3://, cloudtrail:// and cloudtrail-lake:// sources
    /// (a private endpoint, or a local test server). AWS_ENDPOINT_URL works
    /// too.
    #[arg(long, value_name = "URL")]
    pub endpoint_url: Option<String>,

    /// AWS region for remote sources (default: the standard AWS chain).
    #[arg(long, value_name = "REGION")]
    pub region: Option<String>,
}

/// Parses a size: bytes, or a number with K, M, G or T (powers of 1024,
/// optionally followed by `B` or `iB`).
pub fn parse_size(s: &str) -> std::result::Result<u64, String> {
    let t = s.trim();
    let digits = t
        .find(|c: char| !c.is_ascii_digit() && c != '.')
        .unwrap_or(t.len());
    let (number, unit) = t.split_at(digits);
    let n: f64 = number
        .parse()
        .map_err(|_| format!("`{s}` is not a size (4G, 512M, 1000000)"))?;
    let unit = unit
        .trim()
        .trim_end_matches("iB")
        .trim_end_matches('B')
        .to_ascii_uppercase();
    let shift = match unit.as_str() {
        "" => 0,
        "K" => 10,
        "M" => 20,
        "G" => 30,
        "T" => 40,
        _ => return Err(format!("`{s}`: unknown unit (use K, M, G or T)")),
    };
    let bytes = n * (1u64 << shift) as f64;
    if !(1.0..=1.8e19).contains(&bytes) {
        return Err(format!("`{s}` is out of range"));
    }
    Ok(bytes as u64)
}

/// Parses `--since`/`--until`: RFC 3339, a date, `now`, or an age (`24h`).
pub fn parse_time_arg(s: &str, now: Micros) -> Result<Micros> {
    let t = s.trim();
    if t.eq_ignore_ascii_case("now") {
        return Ok(now);
    }
    if let Some(v) = parse_timestamp(t).or_else(|| parse_date(t)) {
        return Ok(v);
    }
    if let Ok(secs) = parse_duration(t) {
        if t.bytes().any(|b| b.is_ascii_alphabetic()) {
            return Ok(now - secs * 1_000_000);
        }
    }
    bail!("`{s}` is not a time: use RFC 3339 (2025-04-01T00:00:00Z), a date (2025-04-01) or an age (24h, 7d)")
}

impl InputArgs {
    /// Resolves the flags into a run configuration.
    pub fn config(&self, rules: &[String]) -> Result<Config> {
        if self.sources.is_empty() {
            bail!("no SOURCES given: files, directories, `-` for stdin, s3://, cloudtrail:// or cloudtrail-lake://");
        }
        let file = self.policy_file()?;
        let policy = match &file {
            Some(f) => Policy::parse(&f.path, &f.text)?,
            None => Policy::default(),
        };
        self.resolve(rules, policy, file)
    }

    /// The policy file, read (once), when one is given.
    fn policy_file(&self) -> Result<Option<crate::policy::PolicySource>> {
        Ok(self
            .policy
            .as_deref()
            .map(crate::policy::PolicySource::read)
            .transpose()?)
    }

    /// Resolves the flags for a run over an exported dataset: the policy
    /// is the export's (the derived columns were computed with it; a
    /// different --policy is refused), suppressions, queries and rules are
    /// the ones given now.
    pub fn dataset_config(
        &self,
        rules: &[String],
        manifest: &crate::lake::Manifest,
        dir: &str,
    ) -> Result<Config> {
        if !self.sources.is_empty() {
            bail!("--from-parquet reads {dir} instead of SOURCES: give one or the other");
        }
        for (flag, given) in [
            ("--since", self.since.is_some()),
            ("--until", self.until.is_some()),
            ("--jwks", self.jwks.is_some()),
        ] {
            if given {
                bail!("{flag} applies when reading logs: give it to `rolecall export`, or choose the day= partitions to read");
            }
        }
        if let Some(given) = self.policy_file()? {
            if manifest.policy_sha256.as_deref() != Some(given.sha256.as_str()) {
                bail!(
                    "{dir} was exported with {}; its policy-derived columns (tiers, allowed lists, address checks) were computed then. Re-export with --policy {}, or leave --policy out to use the export's",
                    if manifest.policy.is_some() { "another policy" } else { "the built-in defaults" },
                    self.policy.as_deref().unwrap_or_default()
                );
            }
        }
        // The dataset's own policy, as the manifest holds it.
        let file = manifest
            .policy
            .as_ref()
            .map(|text| crate::policy::PolicySource {
                path: format!("{dir}/{}", crate::lake::MANIFEST),
                sha256: crate::model::fingerprint::sha256_hex(text.as_bytes()),
                text: text.clone(),
            });
        let policy = match &file {
            Some(f) => Policy::parse(&f.path, &f.text)?,
            None => Policy::default(),
        };
        self.resolve(rules, policy, file)
    }

    fn resolve(
        &self,
        rules: &[String],
        mut policy: Policy,
        policy_file: Option<crate::policy::PolicySource>,
    ) -> Result<Config> {
        if let Some(path) = &self.suppressions {
            policy
                .suppressions
                .extend(crate::policy::suppress::load(path)?);
        }
        let jwks = match &self.jwks {
            Some(p) => Some(Arc::new(Jwks::load(p)?)),
            None => None,
        };
        let now = chrono::Utc::now().timestamp_micros();
        let since = self
            .since
            .as_deref()
            .map(|s| parse_time_arg(s, now))
            .transpose()
            .context("--since")?;
        let until = self
            .until
            .as_deref()
            .map(|s| parse_time_arg(s, now))
            .transpose()
            .context("--until")?;
        if let (Some(a), Some(b)) = (since, until) {
            if a >= b {
                bail!("--since must be before --until");
            }
        }
        let queries = sql::builtin_queries();
        let user_queries: Vec<QueryDef> = match &self.queries {
            Some(dir) => sql::load_dir(dir)?,
            None => Vec::new(),
        };
        for q in &user_queries {
            if crate::detect::registry::rule(q.id()).is_some() {
                bail!(
                    "{}: id `{}` is already used by a built-in detection",
                    q.path(),
                    q.id()
                );
            }
        }
        let rules = if rules.is_empty() {
            None
        } else {
            let known: Vec<String> = crate::detect::catalogue(&user_queries)
                .into_iter()
                .map(|r| r.id.into_owned())
                .collect();
            for r in rules {
                if !known.contains(r) {
                    bail!("--rules: unknown rule `{r}` (see `rolecall rules`)");
                }
                if crate::detect::registry::needs_history(r) {
                    bail!("--rules: `{r}` compares with earlier runs; it runs in `rolecall report --state FILE`");
                }
            }
            Some(rules.to_vec())
        };
        Ok(Config {
            sources: self.sources.clone(),
            policy,
            ingest: IngestOptions {
                since,
                until,
                max_file_bytes: self.max_file_bytes,
                jwks,
                remote: crate::ingest::remote::RemoteOptions {
                    endpoint_url: self.endpoint_url.clone(),
                    region: self.region.clone(),
                    progress: io::stderr().is_terminal(),
                },
                progress: None,
                // Only SQL over `events` needs the events no session made.
                elide_unrelated_events: !queries
                    .iter()
                    .chain(&user_queries)
                    .any(|q| crate::detect::mentions(&q.sql, "events")),
            },
            rules,
            queries,
            user_queries,
            allow_partial: self.allow_partial,
            policy_file,
            strict: self.strict,
            max_memory: self.max_memory,
        })
    }
}

/// A run that finished: exit 2 when input errors occurred under
/// `--strict` (saying so), else clean.
pub fn strict_exit(strict: bool, summary: &Summary) -> Exit {
    if strict && summary.input_error_count > 0 {
        eprintln!(
            "rolecall: error: {} input errors and --strict is set",
            summary.input_error_count
        );
        return Exit::Error;
    }
    Exit::Clean
}

/// Input errors shown on stderr before the rest is cut short.
const STDERR_ERRORS: usize = 20;

/// Prints input errors to stderr (the first few; all are counted).
pub fn print_input_errors(summary: &Summary) {
    let mut err = io::stderr().lock();
    for e in summary.input_errors.iter().take(STDERR_ERRORS) {
        let _ = writeln!(err, "rolecall: input error: {}", terminal(&e.to_string()));
    }
    if summary.input_error_count > STDERR_ERRORS {
        let _ = writeln!(
            err,
            "rolecall: ... and {} more input errors (the JSON summary lists up to {})",
            summary.input_error_count - STDERR_ERRORS,
            crate::pipeline::MAX_LISTED_ERRORS
        );
    }
}

/// Where output goes: a file, or stdout.
pub fn open_output(path: Option<&PathBuf>) -> Result<(Box<dyn Write>, bool)> {
    match path {
        Some(p) => {
            let f = std::fs::File::create(p)
                .with_context(|| format!("cannot write {}", p.display()))?;
            Ok((Box::new(io::BufWriter::new(f)), false))
        }
        None => {
            let tty = io::stdout().is_terminal();
            Ok((Box::new(io::BufWriter::new(io::stdout().lock())), tty))
        }
    }
}

/// Colour only on a terminal, and never with `NO_COLOR` set.
pub fn color_for(tty: bool) -> crate::output::table::Color {
    if tty && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty()) {
        crate::output::table::Color::Always
    } else {
        crate::output::table::Color::Never
    }
}

/// Finishes writing, treating a closed pipe (`| head`) as success.
pub fn finish_write(result: io::Result<()>, out: &mut dyn Write) -> Result<()> {
    let result = result.and_then(|()| out.flush());
    match result {
        Err(e) if e.kind() == io::ErrorKind::BrokenPipe => Ok(()),
        other => other.context("cannot write output"),
    }
}

/// Writes one line to stderr. Unlike `eprintln!`, a closed stderr (the
/// dashboard's terminal hung up) is not a panic: the exit code still says
/// what happened.
pub fn say(line: std::fmt::Arguments<'_>) {
    let _ = writeln!(io::stderr().lock(), "{line}");
}

/// The process exit status.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Exit {
    Clean = 0,
    Findings = 1,
    Error = 2,
    /// Stopped by Ctrl-C.
    Interrupted = 130,
    /// The dashboard's terminal hung up (SIGHUP).
    HangUp = 129,
    /// The dashboard was sent SIGTERM.
    Terminated = 143,
}

/// Runs the command line and maps the outcome to an exit code.
pub fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(c) => c,
        Err(e) => {
            let _ = e.print();
            return ExitCode::from(if e.use_stderr() { Exit::Error as u8 } else { 0 });
        }
    };
    if let Some(n) = cli.threads {
        if let Err(e) = rayon::ThreadPoolBuilder::new()
            .num_threads(n.max(1))
            .build_global()
        {
            eprintln!("rolecall: error: --threads: {e}");
            return ExitCode::from(Exit::Error as u8);
        }
    }
    // The dashboard reads its own keys (Ctrl-C included) and signals.
    if !matches!(cli.command, Command::Tui(_)) {
        if let Err(e) = crate::limits::install_interrupt_handler() {
            eprintln!("rolecall: warning: cannot handle Ctrl-C: {e}");
        }
    }
    let result = match &cli.command {
        Command::Scan(a) => scan::run(a),
        Command::Sessions(a) => sessions::run(a),
        Command::Keys(a) => keys::run(a),
        Command::Query(a) => query::run(a),
        Command::Export(a) => export::run(a),
        Command::Rules(a) => rules::run(a),
        Command::Tui(a) => tui::run(a),
        Command::Report(a) => report::run(a),
        Command::Schema(a) => match a.document {
            SchemaDocument::Report => report::print_schema().map(|()| Exit::Clean),
        },
        Command::Trust(a) => trust::run(a),
        Command::Policy(a) => policy::run(a),
    };
    if std::env::var_os("ROLECALL_TIMINGS").is_some() {
        if let Some(peak) = crate::limits::peak_rss_bytes() {
            say(format_args!("rolecall: peak resident memory: {peak} bytes"));
        }
    }
    match result {
        Ok(exit) => ExitCode::from(exit as u8),
        Err(e) => {
            let stop = e
                .downcast_ref::<crate::limits::Stop>()
                .copied()
                .or_else(
                    || match e.downcast_ref::<crate::pipeline::PipelineError>() {
                        Some(crate::pipeline::PipelineError::Stopped(s)) => Some(*s),
                        _ => None,
                    },
                );
            if stop == Some(crate::limits::Stop::Interrupted) {
                say(format_args!("rolecall: interrupted; nothing was written"));
                return ExitCode::from(Exit::Interrupted as u8);
            }
            say(format_args!(
                "rolecall: error: {}",
                terminal(&format!("{e:#}"))
            ));
            ExitCode::from(Exit::Error as u8)
        }
    }
}
