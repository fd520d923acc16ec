//! `rolecall report`: the scheduled batch report. Runs the engine, then,
//! with `--state`, reads what earlier runs saw, runs the memory detections,
//! records this run and renders HTML, Markdown or JSON. The report file is
//! written to a temporary name first and renamed only after the state
//! commits, so a failed run leaves neither a new report nor a changed state.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use crate::model::fingerprint::sha256_hex;
use anyhow::{Context, Result};
use clap::{Args, ValueEnum};

use super::scan::FailOn;
use super::{print_input_errors, Exit, InputArgs};
use crate::detect::rules::history as memory;
use crate::model::time::Micros;
use crate::model::{sort_findings, Report, SeverityCounts};
use crate::report::state::{record, State};
use crate::report::{self, Context as ReportContext, Document, Memory, Window};

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ReportFormat {
    /// One self-contained page (inline CSS and SVG).
    Html,
    /// Tables and lists for tickets, pull requests and chat.
    Markdown,
    /// The document, as `rolecall schema report` describes it.
    Json,
}

#[derive(Args, Debug)]
pub struct ReportArgs {
    #[command(flatten)]
    pub input: InputArgs,

    /// History file (SQLite), created on first use: enables new/recurring/
    /// resolved statuses, trends and the memory detections.
    #[arg(long, value_name = "FILE")]
    pub state: Option<PathBuf>,

    /// Report format [default: from --out's extension (.html, .md, .json),
    /// else html].
    #[arg(long, value_enum)]
    pub format: Option<ReportFormat>,

    /// Where to write the report (`-` for stdout). Written whole or not at
    /// all.
    #[arg(long, value_name = "PATH")]
    pub out: PathBuf,

    /// Seconds to wait for another run that is writing the same state.
    #[arg(long, value_name = "SECONDS", default_value_t = 60)]
    pub lock_timeout: u64,

    /// Exit 1 when a finding is at least this severe.
    #[arg(long, value_enum, default_value = "never", value_name = "SEVERITY")]
    pub fail_on: FailOn,
}

/// Prints the JSON Schema of `--format json` (`rolecall schema report`);
/// a closed pipe (`| head`) is not an error.
pub fn print_schema() -> Result<()> {
    let mut out = std::io::stdout().lock();
    super::finish_write(out.write_all(report::SCHEMA.as_bytes()), &mut out)
}

fn format_for(args: &ReportArgs) -> ReportFormat {
    if let Some(f) = args.format {
        return f;
    }
    match args
        .out
        .extension()
        .and_then(|e| e.to_str())
        .map(str::to_ascii_lowercase)
        .as_deref()
    {
        Some("md" | "markdown") => ReportFormat::Markdown,
        Some("json") => ReportFormat::Json,
        _ => ReportFormat::Html,
    }
}

fn now() -> Micros {
    chrono::Utc::now().timestamp_micros()
}

/// The window the run covered: the requested bounds, else the first and
/// last event read, else the run's own time.
fn window_of(
    report: &Report,
    since: Option<Micros>,
    until: Option<Micros>,
    started: Micros,
) -> Window {
    let (first, last) = (
        report.event_span.map(|s| s.0),
        report.event_span.map(|s| s.1),
    );
    let start = since.or(first).unwrap_or(started);
    let end = until.or(last).unwrap_or(started).max(start);
    Window {
        start,
        end,
        since,
        until,
    }
}

/// Identifies "the same window over the same inputs", so that re-running
/// it replaces the earlier run.
fn window_key(window: &Window, sources: &[String]) -> String {
    let mut inputs: Vec<String> = sources
        .iter()
        .map(|s| {
            std::fs::canonicalize(s)
                .map(|p| p.display().to_string())
                .unwrap_or_else(|_| s.clone())
        })
        .collect();
    inputs.sort();
    let text = format!("{}|{}|{}", window.start, window.end, inputs.join("\n"));
    sha256_hex(text.as_bytes())
}

/// Adds the memory findings and recounts.
fn add_findings(report: &mut Report, extra: Vec<crate::model::Finding>) {
    report.findings.extend(extra);
    sort_findings(&mut report.findings);
    let mut counts = SeverityCounts::default();
    for f in &report.findings {
        counts.add(f.severity);
    }
    report.summary.findings = counts;
    for rule in crate::detect::registry::history_rules() {
        if !report.summary.rules.iter().any(|r| *r == rule.id) {
            report.summary.rules.push(rule.id.to_string());
        }
    }
}

fn render(doc: &Document, format: ReportFormat) -> Result<Vec<u8>> {
    Ok(match format {
        ReportFormat::Html => report::html::render(doc).into_bytes(),
        ReportFormat::Markdown => report::markdown::render(doc).into_bytes(),
        ReportFormat::Json => {
            let mut buf = Vec::new();
            crate::text::json::write_pretty(&mut buf, doc)
                .context("cannot serialize the report")?;
            buf
        }
    })
}

/// A report written beside its destination, renamed into place once the
/// state has committed.
struct Pending {
    temp: PathBuf,
    dest: PathBuf,
}

impl Pending {
    fn write(dest: &Path, bytes: &[u8]) -> Result<Pending> {
        let name = dest
            .file_name()
            .map(|n| n.to_string_lossy().to_string())
            .unwrap_or_else(|| "report".into());
        let temp = dest.with_file_name(format!(".{name}.{}.tmp", std::process::id()));
        let write = || -> std::io::Result<()> {
            let mut f = std::fs::File::create(&temp)?;
            f.write_all(bytes)?;
            f.sync_all()
        };
        write().with_context(|| format!("cannot write {}", dest.display()))?;
        Ok(Pending {
            temp,
            dest: dest.to_path_buf(),
        })
    }

    fn publish(self) -> Result<()> {
        std::fs::rename(&self.temp, &self.dest)
            .with_context(|| format!("cannot write {}", self.dest.display()))?;
        std::mem::forget(self);
        Ok(())
    }
}

impl Drop for Pending {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.temp);
    }
}

pub fn run(args: &ReportArgs) -> Result<Exit> {
    let started = now();
    let clock = Instant::now();
    let cfg = args.input.config(&[])?;
    // Open (and check) the state before the engine runs: a foreign or
    // damaged file should stop the run at once.
    let mut state = match &args.state {
        Some(p) => Some(State::open(
            &p.to_string_lossy(),
            Duration::from_secs(args.lock_timeout),
        )?),
        None => None,
    };
    let policy_path = cfg.policy_path().map(str::to_string);
    let policy_sha256 = cfg.policy_file.as_ref().map(|f| f.sha256.clone());
    let outcome = crate::pipeline::run(&cfg)?;
    let mut report = outcome.report;
    print_input_errors(&report.summary);
    // Under --strict an input error means the run did not complete: neither
    // the state nor the report changes.
    if cfg.strict && report.summary.input_error_count > 0 {
        eprintln!(
            "rolecall: error: {} input errors and --strict is set; the state and the report are unchanged",
            report.summary.input_error_count
        );
        return Ok(Exit::Error);
    }
    let window = window_of(&report, cfg.ingest.since, cfg.ingest.until, started);
    let observations = memory::observe(&report, &cfg.policy);
    let format = format_for(args);
    let to_stdout = args.out.as_os_str() == "-";

    let bytes;
    let mut pending = None;
    match state.as_mut() {
        Some(state) => {
            let path = state.path().to_string();
            let key = window_key(&window, &cfg.sources);
            let recording = state.record(&key, window.start)?;
            let history = &recording.history;
            let remembered =
                memory::detect(&report, &cfg.policy, &observations, history, window.start);
            let (remembered, accepted) = crate::detect::suppress::apply(
                remembered,
                &cfg.policy.suppressions,
                chrono::Utc::now().date_naive(),
            );
            report.summary.suppressed += accepted.len();
            report.suppressed.extend(accepted);
            add_findings(&mut report, remembered);
            let statuses = crate::model::history::statuses(&report.findings, history);
            let resolved = crate::model::history::resolved(&report.findings, history);
            let run = record::RunRecord {
                window_key: key,
                started_at: started,
                finished_at: now(),
                window_start: window.start,
                window_end: window.end,
                inputs: cfg.sources.clone(),
                policy: policy_path.clone(),
                policy_sha256: policy_sha256.clone(),
                files: report.summary.inputs.files as i64,
                records: report.summary.inputs.records as i64,
                events: report.summary.events as i64,
                exchanges: report.summary.exchanges.total as i64,
                failed_exchanges: report.summary.exchanges.failed as i64,
                sessions: report.summary.sessions as i64,
                findings: report.findings.len() as i64,
                input_errors: report.summary.input_error_count as i64,
                duration_ms: clock.elapsed().as_millis() as i64,
                version: env!("CARGO_PKG_VERSION").to_string(),
            };
            let recorded =
                recording.write(&run, &observations, &report.findings, &statuses, &resolved)?;
            let doc = Document::build(&ReportContext {
                report: &report,
                policy: &cfg.policy,
                policy_path: policy_path.clone(),
                policy_sha256: policy_sha256.clone(),
                sources: &cfg.sources,
                window: window.clone(),
                generated_at: now(),
                observations: &observations,
                memory: Some(Memory {
                    path: path.clone(),
                    run_id: recorded.run_id,
                    runs: recorded.runs,
                    history,
                    statuses: &statuses,
                    resolved,
                    trends: recorded.trends,
                }),
            });
            bytes = render(&doc, format)?;
            if !to_stdout {
                pending = Some(Pending::write(&args.out, &bytes)?);
            }
            // Ctrl-C up to here rolls the whole run back.
            crate::limits::check()?;
            drop(doc);
            recording.commit()?;
        }
        None => {
            let doc = Document::build(&ReportContext {
                report: &report,
                policy: &cfg.policy,
                policy_path: policy_path.clone(),
                policy_sha256: policy_sha256.clone(),
                sources: &cfg.sources,
                window: window.clone(),
                generated_at: now(),
                observations: &observations,
                memory: None,
            });
            bytes = render(&doc, format)?;
            if !to_stdout {
                pending = Some(Pending::write(&args.out, &bytes)?);
            }
        }
    }
    match pending {
        Some(p) => p.publish()?,
        None => {
            let mut out = std::io::stdout().lock();
            super::finish_write(out.write_all(&bytes), &mut out)?;
        }
    }

    Ok(match args.fail_on.threshold() {
        Some(t) if report.findings.iter().any(|f| f.severity >= t) => Exit::Findings,
        _ => Exit::Clean,
    })
}
