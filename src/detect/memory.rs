//! The detections that need history, run by `rolecall report --state`:
//! a role's sessions coming from something never seen for it
//! (`first-seen-subject`), a workflow calling an API it never called
//! (`new-api-surface`), and a role used again after a long silence
//! (`dormant-role-used`). They are Rust rather than SQL because they compare
//! this run's observations with the state's. Like every rule they judge only
//! what the evidence shows: while the baseline is younger than
//! `settings.baseline_days`, or the runs recorded do not cover a dormancy
//! gap, they speak at `info`, and say why.

use std::collections::{BTreeMap, HashMap};

use serde_json::json;

use crate::model::fingerprint::fingerprint;
use crate::model::history::{ExchangeRow, History, Observations, RoleValue, WorkflowAction};
use crate::model::time::{format_time, Micros};
use crate::model::{Finding, Report, Severity};
use crate::policy::Policy;

pub const FIRST_SEEN: &str = "first-seen-subject";
pub const FIRST_SEEN_TITLE: &str = "A role assumed from something never seen for it";
pub const FIRST_SEEN_DESCRIPTION: &str = "A repository, ref, environment, workflow, trigger or issuer that no earlier run saw for this role. Trust conditions often allow more than is used; the first use of the rest is worth a look. Medium once the role's baseline is settings.baseline_days old (14 by default), info while it is still learning, and info for a role no earlier run saw at all.";
pub const FIRST_SEEN_IDENTITY: &[&str] = &["role", "evidence.kind", "evidence.value"];

pub const NEW_API: &str = "new-api-surface";
pub const NEW_API_TITLE: &str = "A CI workflow called an API it never called before";
pub const NEW_API_DESCRIPTION: &str = "A workflow's sessions called an action (service:action) that none of its sessions called in earlier runs. Deploy jobs call the same APIs night after night; a new one is a changed pipeline or someone else holding its credentials. Medium once the workflow's baseline is settings.baseline_days old, info before; workflows no earlier run saw are not judged.";
pub const NEW_API_IDENTITY: &[&str] = &["evidence.workflow", "evidence.action"];

pub const DORMANT: &str = "dormant-role-used";
pub const DORMANT_TITLE: &str = "A dormant role was used again";
pub const DORMANT_DESCRIPTION: &str = "A role with no successful exchange for settings.dormant_days (30 by default) was assumed again. Forgotten roles keep their trust conditions; their return deserves a look. Medium when the recorded runs cover the silence; info when they leave holes in it (rolecall did not run, so the role may have been used unseen).";
pub const DORMANT_IDENTITY: &[&str] = &["role", "evidence.previous_exchange"];

/// What the memory rules need from each source to judge.
pub const NEEDS: &str = "rolecall report --state: the claims (or subjects) behind each session; calls made with the session's credentials for new-api-surface";

const DAY: Micros = 86_400_000_000;

/// Whether rule `id` is one of these (run only by `rolecall report --state`).
pub fn needs_history(id: &str) -> bool {
    [FIRST_SEEN, NEW_API, DORMANT].contains(&id)
}
/// The longest hole between recorded runs that still counts as watched.
const COVERAGE_SLACK: Micros = 6 * 3_600_000_000;

/// The workflow a session's token names, without the `@ref` (the same
/// workflow file on another branch is the same pipeline).
fn workflow_of(report: &Report, si: usize) -> Option<String> {
    let w = report.sessions[si].workflow_ref.value.as_deref()?;
    Some(w.split_once('@').map_or(w, |(path, _)| path).to_string())
}

/// What this run saw, for the state and for the detections.
pub fn observe(report: &Report, policy: &Policy) -> Observations {
    let mut role_values: BTreeMap<(String, &'static str, String), RoleValue> = BTreeMap::new();
    let mut actions: BTreeMap<(String, String), WorkflowAction> = BTreeMap::new();
    let ev = &report.events;
    for (si, s) in report.sessions.iter().enumerate() {
        let Some(role) = s.role_arn.clone() else {
            continue;
        };
        let a = &report.assumptions[s.assumption];
        let Some(time) = a.time else { continue };
        let workflow = workflow_of(report, si);
        let facts: [(&'static str, Option<String>); 6] = [
            ("issuer", a.issuer.clone().filter(|_| !a.issuer_inferred)),
            ("repository", s.repository.value.clone()),
            ("ref", s.git_ref.value.clone()),
            ("environment", s.environment.value.clone()),
            ("workflow", workflow.clone()),
            ("trigger", s.trigger.value.clone()),
        ];
        for (kind, value) in facts {
            let Some(value) = value.filter(|v| !v.is_empty()) else {
                continue;
            };
            let entry = role_values
                .entry((role.clone(), kind, value.clone()))
                .or_insert_with(|| RoleValue {
                    role: role.clone(),
                    kind,
                    value,
                    first_seen: time,
                    last_seen: time,
                    sessions: 0,
                    session_key: s.key.clone(),
                });
            entry.sessions += 1;
            if time < entry.first_seen {
                entry.first_seen = time;
                entry.session_key = s.key.clone();
            }
            entry.last_seen = entry.last_seen.max(time);
        }
        let Some(workflow) = workflow else { continue };
        for &i in &s.activity {
            let (Some(service), Some(action), Some(t)) =
                (ev.str(ev.service[i]), ev.str(ev.action[i]), ev.time_of(i))
            else {
                continue;
            };
            let name = format!("{service}:{action}");
            let entry = actions
                .entry((workflow.clone(), name.clone()))
                .or_insert_with(|| WorkflowAction {
                    workflow: workflow.clone(),
                    action: name,
                    first_seen: t,
                    last_seen: t,
                    calls: 0,
                    session_key: s.key.clone(),
                });
            entry.calls += 1;
            if t < entry.first_seen {
                entry.first_seen = t;
                entry.session_key = s.key.clone();
            }
            entry.last_seen = entry.last_seen.max(t);
        }
    }
    let exchanges = report
        .assumptions
        .iter()
        .filter_map(|a| {
            let role = a.role_arn.clone()?;
            let time = a.time?;
            // Sources without event ids still dedupe: by time, role and address.
            let event_id = a.event_id.clone().unwrap_or_else(|| {
                format!("{time}|{role}|{}", a.source_ip.as_deref().unwrap_or(""))
            });
            let tier = policy
                .role_tier_for(&role, a.role_id.as_deref())
                .0
                .map(|t| t.as_str().to_string());
            Some(ExchangeRow {
                event_id,
                time,
                role,
                tier,
                failed: a.error_code.is_some(),
            })
        })
        .collect();
    Observations {
        role_values: role_values.into_values().collect(),
        workflow_actions: actions.into_values().collect(),
        exchanges,
    }
}

/// A finding about session `key`, filled from the session like the SQL
/// detections' findings are.
fn session_finding(
    report: &Report,
    key: &str,
    rule: &str,
    severity: Severity,
    title: &str,
) -> Finding {
    let mut f = Finding::new(rule, severity, title);
    if let Some(s) = report.sessions.iter().find(|s| s.key == key) {
        let a = &report.assumptions[s.assumption];
        f.time = a.time;
        f.cloud = Some(a.cloud.clone());
        f.account = a.account.clone();
        f.role = s.role_arn.clone();
        f.issuer = a.issuer.clone();
        f.subject = a.subject.clone();
        f.repository = s.repository.value.clone();
        f.git_ref = s.git_ref.value.clone();
        f.environment = s.environment.value.clone();
        f.trigger = s.trigger.value.clone();
        f.run_id = s.run_id.clone();
        f.session_key = Some(s.key.clone());
        f.source_ip = a.source_ip.clone();
        f.event_ids.extend(a.event_id.clone());
    }
    f
}

fn days(micros: Micros) -> i64 {
    micros.div_euclid(DAY)
}

/// Runs the memory detections for a run starting at `window_start`.
pub fn detect(
    report: &Report,
    policy: &Policy,
    obs: &Observations,
    history: &History,
    window_start: Micros,
) -> Vec<Finding> {
    let settings = &policy.settings;
    let mut out = Vec::new();
    let learning = settings.baseline_days * DAY;

    // first-seen-subject: per role, the values other runs never saw at or
    // before the time this run first saw them (an overlapping run that saw
    // the same session counts as having seen it).
    let mut known_by_role: HashMap<(&str, &str), Vec<&str>> = HashMap::new();
    for (role, kind, value) in history.role_values.keys() {
        known_by_role
            .entry((role.as_str(), kind.as_str()))
            .or_default()
            .push(value.as_str());
    }
    let mut new_roles_reported: Vec<&str> = Vec::new();
    for v in &obs.role_values {
        let seen_before = history
            .role_values
            .get(&(v.role.clone(), v.kind.to_string(), v.value.clone()))
            .is_some_and(|&first| first <= v.first_seen);
        if seen_before {
            continue;
        }
        match history
            .role_first_seen
            .get(&v.role)
            .copied()
            .filter(|&t| t <= v.first_seen)
        {
            None => {
                // A role no earlier run saw: one info finding, only once
                // there is history to compare with at all.
                if history.earlier.is_empty() || new_roles_reported.contains(&v.role.as_str()) {
                    continue;
                }
                new_roles_reported.push(&v.role);
                let mut f = session_finding(
                    report,
                    &v.session_key,
                    FIRST_SEEN,
                    Severity::Info,
                    FIRST_SEEN_TITLE,
                );
                f.role = Some(v.role.clone());
                f.message = format!(
                    "{} was assumed for the first time in the recorded history (since {}); its baseline starts now.",
                    v.role,
                    history.start().map(format_time).unwrap_or_default()
                );
                f.evidence.insert("kind".into(), json!("role"));
                f.evidence.insert("value".into(), json!(v.role));
                f.evidence.insert(
                    "history_since".into(),
                    json!(history.start().map(format_time)),
                );
                f.fingerprint = fingerprint(&f, FIRST_SEEN_IDENTITY);
                out.push(f);
            }
            Some(since) => {
                let age = v.first_seen - since;
                let severity = if age >= learning {
                    Severity::Medium
                } else {
                    Severity::Info
                };
                let mut known: Vec<&str> = known_by_role
                    .get(&(v.role.as_str(), v.kind))
                    .cloned()
                    .unwrap_or_default();
                known.sort_unstable();
                let mut f = session_finding(
                    report,
                    &v.session_key,
                    FIRST_SEEN,
                    severity,
                    FIRST_SEEN_TITLE,
                );
                f.role = Some(v.role.clone());
                f.message = format!(
                    "{} was assumed from {} {} for the first time in {} days of history{}{}.",
                    v.role,
                    v.kind,
                    v.value,
                    days(age),
                    if known.is_empty() {
                        String::new()
                    } else {
                        format!(
                            " (seen before: {}{})",
                            known.iter().take(5).copied().collect::<Vec<_>>().join(", "),
                            if known.len() > 5 { ", …" } else { "" }
                        )
                    },
                    if severity == Severity::Info {
                        format!(
                            "; the baseline is still learning ({} of {} days)",
                            days(age),
                            settings.baseline_days
                        )
                    } else {
                        String::new()
                    }
                );
                f.evidence.insert("kind".into(), json!(v.kind));
                f.evidence.insert("value".into(), json!(v.value));
                f.evidence.insert("sessions".into(), json!(v.sessions));
                f.evidence.insert(
                    "known_values".into(),
                    json!(known.iter().take(20).collect::<Vec<_>>()),
                );
                f.evidence
                    .insert("baseline_since".into(), json!(format_time(since)));
                f.evidence
                    .insert("baseline_days".into(), json!(settings.baseline_days));
                f.fingerprint = fingerprint(&f, FIRST_SEEN_IDENTITY);
                out.push(f);
            }
        }
    }

    // new-api-surface: per workflow with history, the actions it never called.
    for w in &obs.workflow_actions {
        let Some(since) = history
            .workflow_first_seen
            .get(&w.workflow)
            .copied()
            .filter(|&t| t <= w.first_seen)
        else {
            continue;
        };
        let seen_before = history
            .workflow_actions
            .get(&(w.workflow.clone(), w.action.clone()))
            .is_some_and(|&first| first <= w.first_seen);
        if seen_before {
            continue;
        }
        let age = w.first_seen - since;
        let severity = if age >= learning {
            Severity::Medium
        } else {
            Severity::Info
        };
        let mut f = session_finding(report, &w.session_key, NEW_API, severity, NEW_API_TITLE);
        f.time = Some(w.first_seen);
        f.message = format!(
            "{} called {} for the first time in {} days of history ({} calls this run){}.",
            w.workflow,
            w.action,
            days(age),
            w.calls,
            if severity == Severity::Info {
                format!(
                    "; the baseline is still learning ({} of {} days)",
                    days(age),
                    settings.baseline_days
                )
            } else {
                String::new()
            }
        );
        f.evidence.insert("workflow".into(), json!(w.workflow));
        f.evidence.insert("action".into(), json!(w.action));
        f.evidence.insert("calls".into(), json!(w.calls));
        f.evidence
            .insert("baseline_since".into(), json!(format_time(since)));
        f.fingerprint = fingerprint(&f, NEW_API_IDENTITY);
        out.push(f);
    }

    // dormant-role-used: the first exchange of each role in this run.
    let mut first_use: BTreeMap<&str, (Micros, &str)> = BTreeMap::new();
    for s in &report.sessions {
        let (Some(role), Some(t)) = (s.role_arn.as_deref(), report.assumptions[s.assumption].time)
        else {
            continue;
        };
        let e = first_use.entry(role).or_insert((t, s.key.as_str()));
        if t < e.0 {
            *e = (t, s.key.as_str());
        }
    }
    for (role, (t, key)) in first_use {
        let Some(&previous) = history.last_exchange.get(role) else {
            continue;
        };
        let gap = t - previous;
        if gap < settings.dormant_days * DAY {
            continue;
        }
        let watched = history.covers(previous, window_start, COVERAGE_SLACK);
        let severity = if watched {
            Severity::Medium
        } else {
            Severity::Info
        };
        let mut f = session_finding(report, key, DORMANT, severity, DORMANT_TITLE);
        f.message = format!(
            "{} was assumed after {} days without a successful exchange (the last was {}){}.",
            role,
            days(gap),
            format_time(previous),
            if watched {
                String::new()
            } else {
                "; the recorded runs leave holes in that time, so it may have been used unseen"
                    .to_string()
            }
        );
        f.evidence
            .insert("previous_exchange".into(), json!(format_time(previous)));
        f.evidence.insert("days_dormant".into(), json!(days(gap)));
        f.evidence
            .insert("dormant_days".into(), json!(settings.dormant_days));
        f.evidence
            .insert("history_covers_gap".into(), json!(watched));
        f.fingerprint = fingerprint(&f, DORMANT_IDENTITY);
        out.push(f);
    }
    out
}
