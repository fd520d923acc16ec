//! The engine in one call: ingest → correlate → detect → [`Report`]; and
//! the same detections over a dataset `rolecall export` wrote. The
//! summary of either is built in `summary`. Imports the stages below it
//! (`ingest`, `correlate`, `detect`, `trust`, `lake`) and the leaves.
//!
//! `scan`, `sessions`, `query` (and later the dashboard and the reports) all
//! run this and differ only in what they show.

mod summary;

use crate::correlate::correlate;
use crate::detect::{self, sql::QueryDef, Input, Tables};
use crate::error::QueryError;
use crate::ingest::remote::RemoteError;
use crate::ingest::{ingest, IngestOptions};
use crate::model::{sort_findings, Report, Unread};
use crate::policy::Policy;

/// Stage timings on stderr when `ROLECALL_TIMINGS` is set (for profiling;
/// the benchmark measures the whole process): wall time, and where the
/// system says (Linux), the CPU time of all threads, whose ratio to the
/// wall time tells how many cores a stage kept busy.
struct Timings(Option<std::cell::Cell<(std::time::Instant, Option<f64>)>>);

/// The process's CPU time so far (user and system, all threads), in
/// seconds, from `/proc/self/stat`; `None` where there is no such file.
fn process_cpu_seconds() -> Option<f64> {
    let stat = std::fs::read_to_string("/proc/self/stat").ok()?;
    // The command name (field 2) may hold spaces; fields count from the
    // parenthesis that closes it. utime and stime are fields 14 and 15.
    let rest = &stat[stat.rfind(')')? + 1..];
    let mut fields = rest.split_whitespace().skip(11);
    let utime: f64 = fields.next()?.parse().ok()?;
    let stime: f64 = fields.next()?.parse().ok()?;
    // The kernel reports in USER_HZ, 100 on every Linux architecture.
    Some((utime + stime) / 100.0)
}

impl Timings {
    fn from_env() -> Self {
        Timings(
            std::env::var_os("ROLECALL_TIMINGS")
                .map(|_| std::cell::Cell::new((std::time::Instant::now(), process_cpu_seconds()))),
        )
    }

    fn note(&self, text: &str) {
        if self.0.is_some() {
            eprintln!("rolecall: {text}");
        }
    }

    fn mark(&self, stage: &str) {
        if let Some(start) = &self.0 {
            let (then, cpu_then) = start.get();
            let now = std::time::Instant::now();
            let cpu_now = process_cpu_seconds();
            let wall = (now - then).as_secs_f64();
            match (cpu_then, cpu_now) {
                (Some(a), Some(b)) => {
                    eprintln!("rolecall: {stage}: {wall:.3} s ({:.2} s CPU)", b - a)
                }
                _ => eprintln!("rolecall: {stage}: {wall:.3} s"),
            }
            start.set((now, cpu_now));
        }
    }
}

/// Input errors kept in the summary; the count is always exact.
pub const MAX_LISTED_ERRORS: usize = 1000;

/// Everything a run needs, resolved once from the command line and the
/// policy file; nothing here has been started.
#[derive(Default)]
pub struct Config {
    pub sources: Vec<String>,
    pub policy: Policy,
    /// The policy file the policy came from (`None`: the built-in
    /// defaults).
    pub policy_file: Option<crate::policy::PolicySource>,
    pub ingest: IngestOptions,
    /// Only these rule ids; `None` runs all.
    pub rules: Option<Vec<String>>,
    /// The built-in SQL detections.
    pub queries: Vec<QueryDef>,
    /// The user's (`--queries DIR`).
    pub user_queries: Vec<QueryDef>,
    /// Finish even when a remote source could not be read entirely (the
    /// outputs then say so); otherwise that is an error.
    pub allow_partial: bool,
    /// Input errors make the run fail (exit 2).
    pub strict: bool,
    /// Stop the run past this resident size (`--max-memory`); the run
    /// starts the guard.
    pub max_memory: Option<u64>,
}

impl Config {
    /// Every SQL detection: the built-ins, then the user's.
    pub fn all_queries(&self) -> impl Iterator<Item = &QueryDef> {
        self.queries.iter().chain(&self.user_queries)
    }

    /// The policy file's path, when one was given.
    pub fn policy_path(&self) -> Option<&str> {
        self.policy_file.as_ref().map(|f| f.path.as_str())
    }

    /// Starts what a run watches itself with: the `--max-memory` guard.
    fn arm(&self) {
        if let Some(limit) = self.max_memory {
            crate::limits::start_memory_guard(limit);
        }
    }

    pub fn rule_enabled(&self, id: &str) -> bool {
        self.rules
            .as_ref()
            .is_none_or(|r| r.iter().any(|x| x == id))
    }
}

/// Why a run could not complete.
#[derive(Debug, thiserror::Error)]
pub enum PipelineError {
    #[error(transparent)]
    Query(#[from] QueryError),
    #[error(transparent)]
    Remote(#[from] RemoteError),
    #[error(transparent)]
    Stopped(#[from] crate::limits::Stop),
    #[error(transparent)]
    Lake(#[from] crate::lake::read::LakeError),
    #[error("{} could not be read, so the results would be incomplete (--allow-partial reports them anyway, marked partial):\n  {}", if .0.len() == 1 { "a source".to_string() } else { format!("{} sources or parts", .0.len()) }, .0.iter().map(|u| format!("{}: {}", u.source, u.reason)).collect::<Vec<_>>().join("\n  "))]
    Partial(Vec<Unread>),
}

/// A finished run: the report and the tables behind it.
pub struct Outcome {
    pub report: Report,
    pub tables: Tables,
    /// Trust policies and providers read (for `rolecall trust`).
    pub trust: crate::trust::TrustInputs,
}

/// Suppressions, by today's date (they are acceptances with a review date,
/// not facts about the logs), then the findings in report order.
fn accept(
    findings: Vec<crate::model::Finding>,
    cfg: &Config,
) -> (Vec<crate::model::Finding>, Vec<crate::model::Suppressed>) {
    let today = chrono::Utc::now().date_naive();
    let (mut kept, suppressed) = detect::suppress::apply(findings, &cfg.policy.suppressions, today);
    let expired = detect::rules::expired_suppression::check(&cfg.policy.suppressions, &kept, today);
    kept.extend(expired);
    sort_findings(&mut kept);
    (kept, suppressed)
}

/// Runs the detections over a dataset `rolecall export` wrote, in place of
/// ingest and the joins: the SQL detections over its tables, the Rust ones
/// over its exchanges, then suppressions, the summary and the gate as
/// usual. `cfg.policy` must be the policy the dataset was exported with
/// (its derived columns were computed then); the caller checks that.
///
/// With `results`, the SQL detections' rows are taken from there (one
/// `ID.jsonl` per query, computed by another engine) instead of run here.
pub fn run_from_parquet(
    cfg: &Config,
    dataset: crate::lake::read::Dataset,
    dir: &str,
    results: Option<&std::path::Path>,
) -> Result<Outcome, PipelineError> {
    use crate::lake::read::frame_assumptions;
    let crate::lake::read::Dataset {
        manifest,
        tables: frames,
        files,
    } = dataset;
    let mut tables = Tables { frames };
    cfg.arm();
    let active: Vec<&QueryDef> = cfg
        .all_queries()
        .filter(|q| cfg.rule_enabled(q.id()))
        .collect();
    let mut findings = match results {
        None => detect::run_sql(&tables, &active)?,
        Some(results) => {
            let rows = active
                .iter()
                .map(|q| Ok((*q, crate::lake::read::read_results(results, q.id())?)))
                .collect::<Result<Vec<_>, PipelineError>>()?;
            detect::findings_from_rows(&tables, rows)?
        }
    };
    let empty = polars::prelude::DataFrame::empty();
    let assumptions = frame_assumptions(tables.get("assumptions").unwrap_or(&empty));
    findings.extend(detect::run_rust(
        &assumptions,
        &cfg.policy.settings,
        &|id| cfg.rule_enabled(id),
    ));
    let keys = manifest.static_keys.clone();
    findings.extend(detect::run_keys(&keys, &cfg.policy, &|id| {
        cfg.rule_enabled(id)
    }));
    tables.add_keys(&keys);
    let (findings, suppressed) = accept(findings, cfg);
    crate::limits::check()?;
    let sessions = crate::lake::read::frame_sessions(tables.get("sessions").unwrap_or(&empty));

    let summary = summary::of_dataset(summary::Dataset {
        cfg,
        manifest: &manifest,
        tables: &tables,
        assumptions: &assumptions,
        sessions: &sessions,
        findings: &findings,
        suppressed: suppressed.len(),
        files,
        dir,
        results,
    });
    tables.add_findings(&findings);
    let report = crate::model::Report {
        files: Vec::new(),
        events: Default::default(),
        assumptions,
        matches: Vec::new(),
        claims: Vec::new(),
        jobs: Vec::new(),
        runs: Vec::new(),
        sessions,
        findings,
        suppressed,
        summary,
        event_span: None,
        keys,
    };
    Ok(Outcome {
        report,
        tables,
        trust: Default::default(),
    })
}

/// Keeps only the events the joins found a use for (the exchanges, the
/// sessions' calls, and other clouds' events) when that frees at least a
/// quarter of the store. Ingest already left out the
/// calls whose temporary key no exchange issued (see
/// [`Batch::settle_held`](crate::ingest::Batch::settle_held)); what goes
/// here is what ingest keeps for itself and no session used (key-issuing
/// calls of other roles, web-identity calls whose exchange is not in the
/// input), with the strings only they used, before the tables are built.
fn compact(batch: &mut crate::ingest::Batch, sessions: &mut [crate::model::Session]) {
    let ev = &batch.events;
    let mut keep: Vec<bool> = (0..ev.len())
        .map(|i| ev.strings.get(ev.cloud[i]) != "aws")
        .collect();
    for a in &batch.assumptions {
        if let Some(k) = keep.get_mut(a.event_index) {
            *k = true;
        }
    }
    for s in sessions.iter() {
        for &i in &s.activity {
            keep[i] = true;
        }
    }
    let dropped = keep.iter().filter(|k| !**k).count();
    // Rebuilding the store (one thread, every kept string interned again)
    // pays only when it frees much: now that ingest leaves out other
    // roles' calls, what is left here is usually under a tenth of the rows
    // (1M benchmark: 16,000 of 195,000), where the rebuild cost 11 ms and a
    // second copy of the store, to free 4 MiB.
    if dropped * 4 < ev.len() {
        return;
    }
    let (kept, map) = ev.retain(&keep);
    batch.events = kept;
    batch.events_elided += dropped as u64;
    for a in &mut batch.assumptions {
        a.event_index = map.get(a.event_index).copied().unwrap_or(usize::MAX);
    }
    for s in sessions.iter_mut() {
        for i in &mut s.activity {
            *i = map[*i];
        }
    }
}

/// Runs the engine. Fails only when a detection cannot run; unreadable
/// input is reported in the summary, never fatal here.
pub fn run(cfg: &Config) -> Result<Outcome, PipelineError> {
    cfg.arm();
    let timings = Timings::from_env();
    let ingested = ingest(&cfg.sources, &cfg.ingest)?;
    timings.mark("ingest");
    let stage = |name: &str| {
        if let Some(p) = &cfg.ingest.progress {
            p.set_stage(name);
        }
    };
    stage("joining sessions");
    timings.note(&format!(
        "event store: {} events ({} not kept), {} distinct strings, {} MiB",
        ingested.batch.events.len(),
        ingested.batch.events_elided,
        ingested.batch.events.strings.len(),
        ingested.batch.events.heap_bytes() >> 20
    ));
    crate::limits::check()?;
    let files = ingested.files;
    let mut batch = ingested.batch;
    let unread: Vec<Unread> = batch
        .unread
        .drain(..)
        .map(|e| Unread {
            source: e.source_name,
            reason: e.reason,
        })
        .collect();
    if !unread.is_empty() && !cfg.allow_partial {
        return Err(PipelineError::Partial(unread));
    }
    crate::correlate::identity::resolve(
        &mut batch.assumptions,
        &batch.federated_credentials,
        &|provider| cfg.policy.gcp_issuer(provider).map(str::to_string),
    );
    let mut correlated = correlate(
        &batch.events,
        &batch.assumptions,
        &batch.claims,
        &batch.jobs,
        cfg.policy.settings.clock_skew * 1_000_000,
    );
    timings.mark("correlate");
    if cfg.ingest.elide_unrelated_events {
        compact(&mut batch, &mut correlated.sessions);
    }
    timings.mark("compact");
    stage("running detections");
    let input = Input {
        files: &files,
        events: &batch.events,
        assumptions: &batch.assumptions,
        matches: &correlated.matches,
        claims: &batch.claims,
        jobs: &batch.jobs,
        runs: &correlated.runs,
        sessions: &correlated.sessions,
    };
    let mut eval = detect::evaluate(&input, &cfg.policy);
    timings.mark("evaluate");
    let mut findings = detect::run(&mut eval, &input, &cfg.policy, cfg.all_queries(), &|id| {
        cfg.rule_enabled(id)
    })?;
    findings.extend(detect::trust::run(
        &batch.trust,
        &batch.federated_credentials,
        &files,
        &cfg.policy,
        &|id| cfg.rule_enabled(id),
    ));
    timings.mark("detect");
    let keys = detect::keys::build(&detect::keys::KeyContext {
        inputs: &batch.keys,
        sessions: &correlated.sessions,
        assumptions: &batch.assumptions,
        policy: &cfg.policy,
        event_span: batch.event_span,
        now: chrono::Utc::now().timestamp_micros(),
    });
    findings.extend(detect::run_keys(&keys, &cfg.policy, &|id| {
        cfg.rule_enabled(id)
    }));
    timings.mark("static keys");
    let (findings, suppressed) = accept(findings, cfg);
    timings.mark("suppressions");
    crate::limits::check()?;
    eval.tables.add_findings(&findings);

    let summary = summary::of_run(summary::Run {
        cfg,
        batch: &mut batch,
        correlated: &correlated,
        keys: &keys,
        unchecked: eval.unchecked,
        findings: &findings,
        suppressed: suppressed.len(),
        unread,
        files: &files,
    });

    let report = crate::model::Report {
        files,
        events: batch.events,
        assumptions: batch.assumptions,
        matches: correlated.matches,
        claims: batch.claims,
        jobs: batch.jobs,
        runs: correlated.runs,
        sessions: correlated.sessions,
        findings,
        suppressed,
        summary,
        event_span: batch.event_span,
        keys,
    };
    Ok(Outcome {
        report,
        tables: eval.tables,
        trust: batch.trust,
    })
}
