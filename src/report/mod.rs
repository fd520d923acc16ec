//! `rolecall report`'s document: one [`Document`] built from the engine's
//! report, this run's observations and (with `--state`) what earlier runs
//! saw, then written as HTML ([`html`]), Markdown ([`markdown`]) or JSON
//! (the document itself, described by `report.schema.json`). The document is
//! the only input of the renderers, so the three formats say the same thing.
//! The memory across runs is [`state`] (SQLite). Imports `model`, `policy`
//! and `text`.

pub mod charts;
pub mod html;
pub mod markdown;
pub mod state;

use std::collections::{BTreeMap, BTreeSet};

use serde::Serialize;

use crate::model::history::{History, Observations, PriorFinding, PriorRun, Status, Trends};
use crate::model::time::{ser_micros, ser_opt_micros, Micros};
use crate::model::{Finding, Report, Severity, SeverityCounts, Unchecked};
use crate::policy::Policy;

/// The JSON Schema of [`Document`] (draft 2020-12).
pub const SCHEMA: &str = include_str!("report.schema.json");

/// Bumped when a field changes meaning or goes away.
pub const DOCUMENT_VERSION: u32 = 1;

#[derive(Debug, Clone, Serialize)]
pub struct Window {
    /// What the run covered: `--since`/`--until`, else the first and last
    /// event read.
    #[serde(serialize_with = "ser_micros")]
    pub start: Micros,
    #[serde(serialize_with = "ser_micros")]
    pub end: Micros,
    #[serde(serialize_with = "ser_opt_micros")]
    pub since: Option<Micros>,
    #[serde(serialize_with = "ser_opt_micros")]
    pub until: Option<Micros>,
}

#[derive(Debug, Clone, Serialize)]
pub struct InputError {
    pub path: String,
    /// `line 3`, `record 12`, or empty for the whole file.
    pub location: String,
    pub reason: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct Inputs {
    pub sources: Vec<String>,
    pub files: usize,
    pub files_skipped: usize,
    pub bytes: u64,
    pub records: u64,
    pub events: usize,
    pub input_error_count: usize,
    /// The first errors (all of them up to a limit).
    pub input_errors: Vec<InputError>,
    /// True when a remote source could not be read entirely
    /// (`--allow-partial`): the findings cover only what was read.
    pub partial: bool,
    pub unread: Vec<crate::model::Unread>,
}

#[derive(Debug, Clone, Serialize)]
pub struct PolicyInfo {
    /// The policy file, or null for the built-in defaults.
    pub path: Option<String>,
    pub sha256: Option<String>,
    pub baseline_days: i64,
    pub dormant_days: i64,
}

#[derive(Debug, Clone, Serialize)]
pub struct RunRef {
    pub id: i64,
    #[serde(serialize_with = "ser_micros")]
    pub window_start: Micros,
    #[serde(serialize_with = "ser_micros")]
    pub window_end: Micros,
}

impl From<&PriorRun> for RunRef {
    fn from(r: &PriorRun) -> RunRef {
        RunRef {
            id: r.id,
            window_start: r.window_start,
            window_end: r.window_end,
        }
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct StateInfo {
    pub path: String,
    /// This run's id in the state.
    pub run_id: i64,
    /// Runs recorded, this one included.
    pub runs: usize,
    /// The latest run before this one, which statuses compare against.
    pub previous_run: Option<RunRef>,
    /// Whether this run replaced an earlier run over the same window and
    /// inputs.
    pub replaced_earlier_run: bool,
    /// When the recorded history starts.
    #[serde(serialize_with = "ser_opt_micros")]
    pub history_since: Option<Micros>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Cards {
    pub exchanges: usize,
    pub failed_exchanges: usize,
    pub sessions: usize,
    pub findings: SeverityCounts,
    /// Null without `--state`.
    pub new: Option<usize>,
    pub recurring: Option<usize>,
    pub resolved: Option<usize>,
}

#[derive(Debug, Clone, Serialize)]
pub struct ReportFinding {
    /// new or recurring; null without `--state`.
    pub status: Option<Status>,
    #[serde(flatten)]
    pub finding: Finding,
}

#[derive(Debug, Clone, Serialize)]
pub struct ResolvedFinding {
    pub fingerprint: String,
    pub rule: String,
    pub severity: String,
    pub title: String,
    pub message: String,
    pub role: Option<String>,
    pub subject: Option<String>,
    #[serde(serialize_with = "ser_opt_micros")]
    pub last_seen: Option<Micros>,
}

impl From<&PriorFinding> for ResolvedFinding {
    fn from(p: &PriorFinding) -> ResolvedFinding {
        ResolvedFinding {
            fingerprint: p.fingerprint.clone(),
            rule: p.rule.clone(),
            severity: p.severity.clone(),
            title: p.title.clone(),
            message: p.message.clone(),
            role: p.role.clone(),
            subject: p.subject.clone(),
            last_seen: p.time,
        }
    }
}

/// Exchanges in one time bucket.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct Bucket {
    #[serde(serialize_with = "ser_micros")]
    pub start: Micros,
    pub production: u64,
    pub staging: u64,
    pub development: u64,
    pub unknown: u64,
    pub failed: u64,
}

impl Bucket {
    pub fn total(&self) -> u64 {
        self.production + self.staging + self.development + self.unknown
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct Timeline {
    pub bucket_seconds: i64,
    pub buckets: Vec<Bucket>,
}

#[derive(Debug, Clone, Serialize)]
pub struct NewValue {
    pub kind: String,
    pub value: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct RoleSection {
    pub role: String,
    pub account: Option<String>,
    /// production, staging, development, or null when neither the policy
    /// nor the role's name says.
    pub tier: Option<String>,
    pub exchanges: usize,
    pub failed_exchanges: usize,
    pub sessions: usize,
    pub findings: usize,
    /// Token subjects of the role's exchanges (successful or not), up to
    /// [`SUBJECTS_LISTED`].
    pub subjects: Vec<String>,
    pub issuers: Vec<String>,
    pub repositories: Vec<String>,
    pub refs: Vec<String>,
    pub environments: Vec<String>,
    pub workflows: Vec<String>,
    pub triggers: Vec<String>,
    /// Values no earlier run saw for this role (with `--state`).
    pub new_values: Vec<NewValue>,
    pub timeline: Timeline,
}

/// One long-term key as the report lists it.
#[derive(Debug, Clone, Serialize)]
pub struct KeyEntry {
    /// The access key id, or `USER (key N)` when only the credential report
    /// names it.
    pub key: String,
    pub user: Option<String>,
    pub account: Option<String>,
    /// [`Verdict::id`](crate::model::keys::Verdict::id).
    pub verdict: String,
    #[serde(serialize_with = "ser_opt_micros")]
    pub last_used: Option<Micros>,
    pub calls: u64,
    /// The links to CI, strongest first, each `kind: evidence`.
    pub ci_links: Vec<String>,
    /// Repositories that federate from the same runners.
    pub federating_repositories: Vec<String>,
    pub idle_days: Option<i64>,
    pub age_days: Option<i64>,
    /// With `--state`: `new in CI` or `still in CI` against the previous run.
    pub trend: Option<String>,
}

/// The static-key half of the migration: which keys CI still uses, which
/// can be revoked, and (with `--state`) which stopped being used from CI.
#[derive(Debug, Clone, Serialize)]
pub struct StaticKeys {
    pub total: usize,
    /// Where ages were measured, and why there.
    #[serde(serialize_with = "ser_opt_micros")]
    pub measured_at: Option<Micros>,
    pub measured_basis: Option<String>,
    /// A credential report or key list was given ("unused" was judged).
    pub iam_records: bool,
    /// Used from CI (or after the migration): these block it.
    pub in_ci: Vec<KeyEntry>,
    /// Active and unused: revoke.
    pub to_revoke: Vec<KeyEntry>,
    /// Active and past the rotation age, not in CI.
    pub to_rotate: Vec<KeyEntry>,
    /// Seen only from ordinary places, declared, or deactivated.
    pub others: usize,
    /// With `--state`: keys the previous run saw used from CI that this run
    /// does not.
    pub stopped: Vec<KeyEntry>,
}

fn key_entry(k: &crate::model::keys::KeyRow, trend: Option<String>) -> KeyEntry {
    KeyEntry {
        key: k.key.clone(),
        user: k.user.clone(),
        account: k.account.clone(),
        verdict: k.verdict.id().to_string(),
        last_used: k.last_used(),
        calls: k.calls,
        ci_links: k
            .links
            .iter()
            .map(|l| format!("{}: {}", l.kind.as_str(), l.detail))
            .collect(),
        federating_repositories: k.federating_repositories.clone(),
        idle_days: k.idle_days,
        age_days: k.age_days,
        trend,
    }
}

fn static_keys(r: &Report, memory: Option<&Memory<'_>>) -> StaticKeys {
    use crate::model::keys::Verdict;
    let keys = &r.keys;
    let previous = memory
        .filter(|m| m.history.previous().is_some())
        .map(|m| &m.history.previous_keys);
    let was_in_ci = |key: &str| previous.map(|p| p.iter().any(|k| k.key == key && k.in_ci));
    let mut out = StaticKeys {
        total: keys.rows.len(),
        measured_at: keys.reference.as_ref().map(|r| r.at),
        measured_basis: keys.reference.as_ref().map(|r| r.basis.clone()),
        iam_records: keys.iam_records,
        in_ci: Vec::new(),
        to_revoke: Vec::new(),
        to_rotate: Vec::new(),
        others: 0,
        stopped: Vec::new(),
    };
    for k in &keys.rows {
        match k.verdict {
            v if v.in_ci() => {
                let trend = was_in_ci(&k.key)
                    .map(|was| if was { "still in CI" } else { "new in CI" }.to_string());
                out.in_ci.push(key_entry(k, trend));
            }
            Verdict::Unused => out.to_revoke.push(key_entry(k, None)),
            Verdict::Old => out.to_rotate.push(key_entry(k, None)),
            _ => out.others += 1,
        }
    }
    if let Some(previous) = previous {
        for p in previous.iter().filter(|p| p.in_ci) {
            let now = keys.rows.iter().find(|k| k.key == p.key);
            if now.is_some_and(|k| k.verdict.in_ci()) {
                continue;
            }
            out.stopped.push(KeyEntry {
                key: p.key.clone(),
                user: p.user.clone(),
                account: p.account.clone(),
                verdict: now.map_or("unseen".to_string(), |k| k.verdict.id().to_string()),
                last_used: now.and_then(|k| k.last_used()).or(p.last_used),
                calls: now.map_or(0, |k| k.calls),
                ci_links: Vec::new(),
                federating_repositories: Vec::new(),
                idle_days: now.and_then(|k| k.idle_days),
                age_days: now.and_then(|k| k.age_days),
                trend: Some("stopped".into()),
            });
        }
    }
    out
}

/// The whole report.
#[derive(Debug, Clone, Serialize)]
pub struct Document {
    pub document_version: u32,
    pub rolecall_version: String,
    #[serde(serialize_with = "ser_micros")]
    pub generated_at: Micros,
    pub window: Window,
    pub inputs: Inputs,
    pub policy: PolicyInfo,
    pub state: Option<StateInfo>,
    pub summary: Cards,
    pub findings: Vec<ReportFinding>,
    pub resolved: Vec<ResolvedFinding>,
    pub timeline: Timeline,
    pub roles: Vec<RoleSection>,
    pub static_keys: StaticKeys,
    pub trends: Option<Trends>,
    pub unchecked: Vec<Unchecked>,
    pub notes: Vec<String>,
}

/// What the run remembered, when it has a state.
pub struct Memory<'a> {
    pub path: String,
    pub run_id: i64,
    pub runs: usize,
    pub history: &'a History,
    pub statuses: &'a [Status],
    pub resolved: Vec<&'a PriorFinding>,
    pub trends: Trends,
}

/// Everything a document is built from.
pub struct Context<'a> {
    pub report: &'a Report,
    pub policy: &'a Policy,
    /// The policy file, or None for the built-in defaults.
    pub policy_path: Option<String>,
    pub policy_sha256: Option<String>,
    pub sources: &'a [String],
    pub window: Window,
    pub generated_at: Micros,
    pub observations: &'a Observations,
    pub memory: Option<Memory<'a>>,
}

/// Subjects listed per role.
pub const SUBJECTS_LISTED: usize = 50;

const HOUR: i64 = 3600;
const DAY: i64 = 86_400;

/// Hourly buckets for windows up to three days, daily beyond.
fn bucket_seconds(window: &Window) -> i64 {
    if window.end - window.start <= 3 * DAY * 1_000_000 {
        HOUR
    } else {
        DAY
    }
}

fn buckets<'a>(
    window: &Window,
    width: i64,
    points: impl Iterator<Item = (Micros, Option<&'a str>, bool)>,
) -> Vec<Bucket> {
    let w = width * 1_000_000;
    let first = window.start.div_euclid(w);
    let last = window.end.div_euclid(w).max(first);
    // Very long windows: cap the chart at a year of days.
    let last = last.min(first + 366);
    let mut out: Vec<Bucket> = (first..=last)
        .map(|b| Bucket {
            start: b * w,
            production: 0,
            staging: 0,
            development: 0,
            unknown: 0,
            failed: 0,
        })
        .collect();
    for (t, tier, failed) in points {
        let i = t.div_euclid(w) - first;
        let Some(b) = usize::try_from(i).ok().and_then(|i| out.get_mut(i)) else {
            continue;
        };
        if failed {
            b.failed += 1;
            continue;
        }
        match tier {
            Some("production") => b.production += 1,
            Some("staging") => b.staging += 1,
            Some("development") => b.development += 1,
            _ => b.unknown += 1,
        }
    }
    out
}

fn sorted(set: BTreeSet<String>) -> Vec<String> {
    set.into_iter().collect()
}

impl Document {
    pub fn build(cx: &Context<'_>) -> Document {
        let r = cx.report;
        let sm = &r.summary;
        let width = bucket_seconds(&cx.window);
        let tier_of = |role: &str, role_id: Option<&str>| {
            cx.policy.role_tier_for(role, role_id).0.map(|t| t.as_str())
        };
        let timeline = Timeline {
            bucket_seconds: width,
            buckets: buckets(
                &cx.window,
                width,
                r.assumptions.iter().filter_map(|a| {
                    let t = a.time?;
                    let tier = a
                        .role_arn
                        .as_deref()
                        .and_then(|role| tier_of(role, a.role_id.as_deref()));
                    Some((t, tier, a.error_code.is_some()))
                }),
            ),
        };

        // Roles: every role exchanged for, successful or not.
        let mut role_names: BTreeSet<&str> = BTreeSet::new();
        for a in &r.assumptions {
            role_names.extend(a.role_arn.as_deref());
        }
        for s in &r.sessions {
            role_names.extend(s.role_arn.as_deref());
        }
        let new_values: BTreeMap<&str, Vec<NewValue>> = r
            .findings
            .iter()
            // The values first-seen-subject found new, from its evidence (the
            // rule id is a public contract).
            .filter(|f| f.rule == "first-seen-subject")
            .filter_map(|f| {
                let kind = f.evidence.get("kind")?.as_str()?;
                let value = f.evidence.get("value")?.as_str()?;
                Some((
                    f.role.as_deref()?,
                    NewValue {
                        kind: kind.to_string(),
                        value: value.to_string(),
                    },
                ))
            })
            .fold(BTreeMap::new(), |mut m, (role, v)| {
                m.entry(role).or_insert_with(Vec::new).push(v);
                m
            });
        let mut roles: Vec<RoleSection> = role_names
            .into_iter()
            .map(|role| {
                let exchanges: Vec<_> = r
                    .assumptions
                    .iter()
                    .filter(|a| a.role_arn.as_deref() == Some(role))
                    .collect();
                let role_id = exchanges.iter().find_map(|a| a.role_id.as_deref());
                let mut seen: BTreeMap<&str, BTreeSet<String>> = BTreeMap::new();
                for v in cx
                    .observations
                    .role_values
                    .iter()
                    .filter(|v| v.role == role)
                {
                    seen.entry(v.kind).or_default().insert(v.value.clone());
                }
                let mut take = |k: &str| sorted(seen.remove(k).unwrap_or_default());
                RoleSection {
                    role: role.to_string(),
                    account: exchanges.iter().find_map(|a| a.account.clone()),
                    tier: tier_of(role, role_id).map(str::to_string),
                    exchanges: exchanges.len(),
                    failed_exchanges: exchanges.iter().filter(|a| a.error_code.is_some()).count(),
                    sessions: r
                        .sessions
                        .iter()
                        .filter(|s| s.role_arn.as_deref() == Some(role))
                        .count(),
                    findings: r
                        .findings
                        .iter()
                        .filter(|f| f.role.as_deref() == Some(role))
                        .count(),
                    subjects: exchanges
                        .iter()
                        .filter_map(|a| a.subject.clone())
                        .collect::<BTreeSet<_>>()
                        .into_iter()
                        .take(SUBJECTS_LISTED)
                        .collect(),
                    issuers: take("issuer"),
                    repositories: take("repository"),
                    refs: take("ref"),
                    environments: take("environment"),
                    workflows: take("workflow"),
                    triggers: take("trigger"),
                    new_values: new_values.get(role).cloned().unwrap_or_default(),
                    timeline: Timeline {
                        bucket_seconds: width,
                        buckets: buckets(
                            &cx.window,
                            width,
                            exchanges.iter().filter_map(|a| {
                                Some((a.time?, tier_of(role, role_id), a.error_code.is_some()))
                            }),
                        ),
                    },
                }
            })
            .collect();
        // The roles with findings first, then the busiest.
        roles.sort_by(|a, b| {
            b.findings
                .cmp(&a.findings)
                .then(b.exchanges.cmp(&a.exchanges))
                .then(a.role.cmp(&b.role))
        });

        let statuses = cx.memory.as_ref().map(|m| m.statuses);
        let findings: Vec<ReportFinding> = r
            .findings
            .iter()
            .enumerate()
            .map(|(i, f)| ReportFinding {
                status: statuses.and_then(|s| s.get(i).copied()),
                finding: f.clone(),
            })
            .collect();
        let count = |st: Status| statuses.map(|s| s.iter().filter(|&&x| x == st).count());
        let mut resolved: Vec<ResolvedFinding> = cx
            .memory
            .as_ref()
            .map(|m| {
                m.resolved
                    .iter()
                    .map(|p| ResolvedFinding::from(*p))
                    .collect()
            })
            .unwrap_or_default();
        // Most severe first, then by when they were last seen.
        let rank = |s: &str| s.parse::<Severity>().map_or(0, |s| s as u8);
        resolved.sort_by(|a, b| {
            rank(&b.severity)
                .cmp(&rank(&a.severity))
                .then(a.last_seen.cmp(&b.last_seen))
                .then(a.fingerprint.cmp(&b.fingerprint))
        });
        Document {
            document_version: DOCUMENT_VERSION,
            rolecall_version: env!("CARGO_PKG_VERSION").to_string(),
            generated_at: cx.generated_at,
            window: cx.window.clone(),
            inputs: Inputs {
                sources: cx.sources.to_vec(),
                files: sm.inputs.files,
                files_skipped: sm.inputs.files_skipped,
                bytes: sm.inputs.bytes,
                records: sm.inputs.records,
                events: sm.events,
                input_error_count: sm.input_error_count,
                input_errors: sm
                    .input_errors
                    .iter()
                    .map(|e| InputError {
                        path: e.path.clone(),
                        location: e.location.to_string(),
                        reason: e.reason.clone(),
                    })
                    .collect(),
                partial: sm.partial,
                unread: sm.unread.clone(),
            },
            policy: PolicyInfo {
                path: cx.policy_path.clone(),
                sha256: cx.policy_sha256.clone(),
                baseline_days: cx.policy.settings.baseline_days,
                dormant_days: cx.policy.settings.dormant_days,
            },
            state: cx.memory.as_ref().map(|m| StateInfo {
                path: m.path.clone(),
                run_id: m.run_id,
                runs: m.runs,
                previous_run: m.history.previous().map(RunRef::from),
                replaced_earlier_run: m.history.replaced.is_some(),
                history_since: m.history.start(),
            }),
            summary: Cards {
                exchanges: sm.exchanges.total,
                failed_exchanges: sm.exchanges.failed,
                sessions: sm.sessions,
                findings: sm.findings.clone(),
                new: count(Status::New),
                recurring: count(Status::Recurring),
                resolved: cx.memory.as_ref().map(|m| m.resolved.len()),
            },
            findings,
            resolved,
            timeline,
            roles,
            static_keys: static_keys(r, cx.memory.as_ref()),
            trends: cx.memory.as_ref().map(|m| m.trends.clone()),
            unchecked: sm.unchecked.clone(),
            notes: sm.notes.clone(),
        }
    }

    /// The most severe finding's severity, if any.
    pub fn worst(&self) -> Option<Severity> {
        self.findings.iter().map(|f| f.finding.severity).max()
    }
}
