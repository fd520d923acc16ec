//! The engine in one call: ingest → correlate → detect → [`Report`].
//!
//! `scan`, `sessions`, `query` (and later the dashboard and the reports) all
//! run this and differ only in what they show.

use crate::correlate::correlate;
use crate::detect::{self, sql::QueryDef, Input, Tables};
use crate::error::QueryError;
use crate::ingest::remote::RemoteError;
use crate::ingest::{ingest, IngestOptions};
use crate::model::{
    sort_findings, MatchKind, Report, SeverityCounts, SkippedFile, Summary, Unread,
};
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

/// Everything a run needs, resolved.
pub struct Config {
    pub sources: Vec<String>,
    pub policy: Policy,
    pub ingest: IngestOptions,
    /// Only these rule ids; `None` runs all.
    pub rules: Option<Vec<String>>,
    /// The SQL detections: built-ins plus the user's.
    pub queries: Vec<QueryDef>,
    /// Finish even when a remote source could not be read entirely (the
    /// outputs then say so); otherwise that is an error.
    pub allow_partial: bool,
}

impl Config {
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

/// The claims join's outcomes and the findings by severity, in the summary.
fn count_outcomes(
    summary: &mut Summary,
    sessions: &[crate::model::Session],
    findings: &[crate::model::Finding],
) {
    summary.claims_matched = Default::default();
    for s in sessions {
        match s.matched.kind {
            MatchKind::Exact => summary.claims_matched.exact += 1,
            MatchKind::Ambiguous => summary.claims_matched.ambiguous += 1,
            MatchKind::Derived => summary.claims_matched.derived += 1,
            MatchKind::None => summary.claims_matched.none += 1,
        }
    }
    let mut counts = SeverityCounts::default();
    for f in findings {
        counts.add(f.severity);
    }
    summary.findings = counts;
}

/// The rules a run judged with (those that need history run elsewhere).
fn rules_run(cfg: &Config) -> Vec<String> {
    let mut rules: Vec<String> = detect::catalogue(&[])
        .into_iter()
        .map(|r| r.id.into_owned())
        .chain(cfg.queries.iter().map(|q| q.id().to_string()))
        .filter(|id| cfg.rule_enabled(id) && !detect::registry::needs_history(id))
        .filter(|id| {
            id != detect::rules::expired_suppression::ID || !cfg.policy.suppressions.is_empty()
        })
        .collect();
    rules.sort();
    rules.dedup();
    rules
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
    let active: Vec<&QueryDef> = cfg
        .queries
        .iter()
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
    let (findings, suppressed) = accept(findings, cfg);
    crate::limits::check()?;
    let sessions = crate::lake::read::frame_sessions(tables.get("sessions").unwrap_or(&empty));

    // The export's summary, recounted from what this partition set holds.
    let mut summary = manifest.summary.clone();
    summary.rolecall_version = env!("CARGO_PKG_VERSION").to_string();
    let rows = |t: &str| tables.get(t).map_or(0, |d| d.height());
    summary.events = rows("events");
    summary.exchanges.total = assumptions.len();
    summary.exchanges.succeeded = assumptions.iter().filter(|a| a.succeeded()).count();
    summary.exchanges.failed = summary.exchanges.total - summary.exchanges.succeeded;
    summary.sessions = sessions.len();
    summary.claims = rows("claims");
    summary.jobs = rows("jobs");
    count_outcomes(&mut summary, &sessions, &findings);
    // Trust policies are not part of a dataset: `rolecall scan` or
    // `rolecall trust` reads them with the logs.
    summary.rules = rules_run(cfg);
    summary.rules.retain(|id| !detect::trust::is_trust_rule(id));
    summary.unchecked.retain(|u| cfg.rule_enabled(&u.rule));
    summary.suppressed = suppressed.len();
    summary.notes.push(format!(
        "read from {files} Parquet files of the dataset at {dir} (exported {} by rolecall {} from {})",
        manifest.created,
        manifest.rolecall_version,
        manifest.sources.join(", ")
    ));
    if let Some(results) = results {
        summary.notes.push(format!(
            "the SQL detections' rows were computed elsewhere and read from {}",
            results.display()
        ));
    }
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
    let mut findings = detect::run(&mut eval, &input, &cfg.policy, &cfg.queries, &|id| {
        cfg.rule_enabled(id)
    })?;
    findings.extend(detect::trust::run(
        &batch.trust,
        &batch.federated_credentials,
        &files,
        &cfg.policy,
        &|id| cfg.rule_enabled(id),
    ));
    let (findings, suppressed) = accept(findings, cfg);
    timings.mark("detect");
    crate::limits::check()?;
    eval.tables.add_findings(&findings);

    let mut summary = Summary {
        rolecall_version: env!("CARGO_PKG_VERSION").to_string(),
        since: cfg.ingest.since,
        until: cfg.ingest.until,
        ..Default::default()
    };
    summary.inputs.files = batch.files_read;
    summary.inputs.files_skipped = batch.skipped_files.len();
    summary.inputs.bytes = batch.bytes;
    summary.inputs.records = batch.records;
    summary.inputs.records_outside_window = batch.records_outside_window;
    summary.inputs.records_skipped = batch.records_skipped;
    summary.events = batch.events.len() + batch.events_elided as usize;
    summary.exchanges.total = batch.assumptions.len();
    summary.exchanges.succeeded = batch.assumptions.iter().filter(|a| a.succeeded()).count();
    summary.exchanges.failed = summary.exchanges.total - summary.exchanges.succeeded;
    summary.sessions = correlated.sessions.len();
    summary.claims = batch.claims.len();
    summary.jobs = batch.jobs.len();
    count_outcomes(&mut summary, &correlated.sessions, &findings);
    summary.rules = rules_run(cfg);
    summary.rules.retain(|id| {
        !detect::trust::is_trust_rule(id)
            || detect::trust::had_input(id, &batch.trust, &batch.federated_credentials)
    });
    summary.unchecked = eval
        .unchecked
        .into_iter()
        .filter(|u| cfg.rule_enabled(&u.rule))
        .collect();
    if correlated.orphan_federated_calls > 0 {
        let n = correlated.orphan_federated_calls;
        summary.notes.push(format!(
            "{n} {} made by federated sessions whose exchange is not in the input (before --since, or in a trail not given); not checked",
            if n == 1 { "call was" } else { "calls were" }
        ));
    }
    if correlated.duplicate_issued_keys > 0 {
        summary.notes.push(format!(
            "{} access keys were issued by more than one exchange (impossible in a genuine trail); their calls were attributed to the first",
            correlated.duplicate_issued_keys
        ));
    }
    summary.notes.extend(batch.notes.iter().cloned());
    summary.trail_gaps = crate::ingest::gaps::find(files.iter().map(String::as_str));
    summary
        .notes
        .extend(summary.trail_gaps.iter().map(|g| g.describe()));
    let unverified = batch
        .claims
        .iter()
        .filter(|c| c.verified == Some(false))
        .count();
    if unverified > 0 {
        summary.notes.push(format!(
            "{unverified} tokens failed signature verification and were not used to vouch for any exchange"
        ));
    }
    if batch.claims.is_empty() && !correlated.sessions.is_empty() {
        summary.notes.push(
            "no CI token claims were given: every session was judged on its subject alone (give claim sets or JWTs for exact matches)"
                .into(),
        );
    }
    summary.input_error_count = batch.errors.len();
    summary.input_errors = batch
        .errors
        .iter()
        .take(MAX_LISTED_ERRORS)
        .cloned()
        .collect();
    let mut skipped: Vec<SkippedFile> = batch.skipped_files;
    skipped.sort_by(|a, b| a.path.cmp(&b.path));
    summary.skipped_files = skipped;
    summary.suppressed = suppressed.len();
    summary.unread = unread;
    summary.partial = !summary.unread.is_empty();

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
    };
    Ok(Outcome {
        report,
        tables: eval.tables,
        trust: batch.trust,
    })
}
