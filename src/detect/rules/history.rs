//! The detections that need history, run by `rolecall report --state`:
//! a role's sessions coming from something never seen for it
//! (`first-seen-subject`), a workflow calling an API it never called
//! (`new-api-surface`), and a role used again after a long silence
//! (`dormant-role-used`). They are Rust rather than SQL because they compare
//! this run's observations with the state's. Like every rule they judge only
//! what the evidence shows: while the baseline is younger than
//! `settings.baseline_days`, or the runs recorded do not cover a dormancy
//! gap, they speak at `info`, and say why.

use std::collections::BTreeMap;

use super::{dormant_role_used, first_seen_subject, new_api_surface};
use crate::model::history::{ExchangeRow, History, Observations, RoleValue, WorkflowAction};
use crate::model::time::Micros;
use crate::model::{Finding, Report, Severity};
use crate::policy::Policy;

/// What the memory rules need from each source to judge.
pub const NEEDS: &str = "rolecall report --state: the claims (or subjects) behind each session; calls made with the session's credentials for new-api-surface";

pub const DAY: Micros = 86_400_000_000;

/// The longest hole between recorded runs that still counts as watched.
pub const COVERAGE_SLACK: Micros = 6 * 3_600_000_000;

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
    let static_keys = report
        .keys
        .rows
        .iter()
        .map(|k| crate::model::history::KeyObservation {
            key: k.key.clone(),
            user: k.user.clone(),
            account: k.account.clone(),
            verdict: k.verdict.id().to_string(),
            in_ci: k.verdict.in_ci(),
            last_used: k.last_used(),
            calls: k.calls as i64,
        })
        .collect();
    Observations {
        role_values: role_values.into_values().collect(),
        workflow_actions: actions.into_values().collect(),
        exchanges,
        static_keys,
    }
}

/// A finding about session `key`, filled from the session like the SQL
/// detections' findings are.
pub fn session_finding(
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

pub fn days(micros: Micros) -> i64 {
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
    let mut out = first_seen_subject::check(report, policy, obs, history, window_start);
    out.extend(new_api_surface::check(
        report,
        policy,
        obs,
        history,
        window_start,
    ));
    out.extend(dormant_role_used::check(
        report,
        policy,
        obs,
        history,
        window_start,
    ));
    out
}
