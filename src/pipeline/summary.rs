//! A run's summary, built in one place for both ways of running: over
//! logs ([`of_run`]) and over an exported dataset ([`of_dataset`]). What
//! both say of the judgement (the claims join's outcomes, the findings by
//! severity, the rules that ran, what they could not check, what was
//! suppressed) is [`judged`].

use super::{Config, MAX_LISTED_ERRORS};
use crate::correlate::Correlated;
use crate::detect::{self, Tables};
use crate::ingest::Batch;
use crate::model::{
    Finding, MatchKind, Session, SeverityCounts, SkippedFile, Summary, Unchecked, Unread,
};

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

/// What a run judged, whatever it read from.
struct Judged<'a> {
    sessions: &'a [Session],
    findings: &'a [Finding],
    /// What the rules could not check (all the rules', before `--rules`).
    unchecked: Vec<Unchecked>,
    suppressed: usize,
    /// Whether a trust rule had input to judge.
    trust_judged: &'a dyn Fn(&str) -> bool,
}

/// What every summary says of the judgement: the claims join's outcomes,
/// the findings by severity, the rules that ran (a trust rule only when
/// it had input), what the rules run could not check, and how many
/// findings suppressions accepted.
fn judged(summary: &mut Summary, cfg: &Config, j: Judged<'_>) {
    count_outcomes(summary, j.sessions, j.findings);
    summary.rules = rules_run(cfg);
    summary
        .rules
        .retain(|id| !detect::trust::is_trust_rule(id) || (j.trust_judged)(id));
    summary.unchecked = j
        .unchecked
        .into_iter()
        .filter(|u| cfg.rule_enabled(&u.rule))
        .collect();
    summary.suppressed = j.suppressed;
}

/// What the summary says of the static keys: how many, where ages were
/// measured, and what could not be judged.
fn key_notes(summary: &mut Summary, keys: &crate::model::keys::KeyReport) {
    if keys.rows.is_empty() {
        return;
    }
    let n = keys.rows.len();
    let mut note = format!(
        "{n} long-term access {} seen",
        if n == 1 { "key" } else { "keys" }
    );
    if let Some(r) = &keys.reference {
        note.push_str(&format!(
            "; ages measured at {} ({})",
            crate::model::time::format_time(r.at),
            r.basis
        ));
    }
    summary.notes.push(note);
    if !keys.iam_records {
        summary.unchecked.push(Unchecked {
            rule: "static-key-unused".into(),
            reason: "no credential report or list-access-keys output was given: the trail alone cannot prove a key unused".into(),
            sessions: 0,
            examples: Vec::new(),
        });
    }
    if keys.calls_of_keys_dropped > 0 {
        summary.notes.push(format!(
            "{} calls of long-term keys past the first {} keys were counted, not summarised",
            keys.calls_of_keys_dropped,
            crate::model::keys::MAX_KEYS
        ));
    }
}

/// What a run over logs gives the summary.
pub(super) struct Run<'a> {
    pub cfg: &'a Config,
    pub batch: &'a mut Batch,
    pub correlated: &'a Correlated,
    pub keys: &'a crate::model::keys::KeyReport,
    pub unchecked: Vec<Unchecked>,
    pub findings: &'a [Finding],
    pub suppressed: usize,
    pub unread: Vec<Unread>,
    pub files: &'a [String],
}

/// The summary of a run over logs.
pub(super) fn of_run(run: Run<'_>) -> Summary {
    let Run {
        cfg,
        batch,
        correlated,
        keys,
        unchecked,
        findings,
        suppressed,
        unread,
        files,
    } = run;
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
    judged(
        &mut summary,
        cfg,
        Judged {
            sessions: &correlated.sessions,
            findings,
            unchecked,
            suppressed,
            trust_judged: &|id| {
                detect::trust::had_input(id, &batch.trust, &batch.federated_credentials)
            },
        },
    );
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
    key_notes(&mut summary, keys);
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
    let mut skipped: Vec<SkippedFile> = std::mem::take(&mut batch.skipped_files);
    skipped.sort_by(|a, b| a.path.cmp(&b.path));
    summary.skipped_files = skipped;
    summary.unread = unread;
    summary.partial = !summary.unread.is_empty();

    summary
}

/// What a run over an exported dataset gives the summary.
pub(super) struct Dataset<'a> {
    pub cfg: &'a Config,
    pub manifest: &'a crate::lake::Manifest,
    pub tables: &'a Tables,
    pub assumptions: &'a [crate::model::Assumption],
    pub sessions: &'a [Session],
    pub findings: &'a [Finding],
    pub suppressed: usize,
    pub files: usize,
    pub dir: &'a str,
    pub results: Option<&'a std::path::Path>,
}

/// The export's summary, recounted from what this partition set holds.
pub(super) fn of_dataset(d: Dataset<'_>) -> Summary {
    let Dataset {
        cfg,
        manifest,
        tables,
        assumptions,
        sessions,
        findings,
        suppressed,
        files,
        dir,
        results,
    } = d;
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
    let unchecked = std::mem::take(&mut summary.unchecked);
    judged(
        &mut summary,
        cfg,
        Judged {
            sessions,
            findings,
            unchecked,
            suppressed,
            // Trust policies are not part of a dataset: `rolecall scan` or
            // `rolecall trust` reads them with the logs.
            trust_judged: &|_| false,
        },
    );
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
    summary
}
