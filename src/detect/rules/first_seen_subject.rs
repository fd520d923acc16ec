//! `first-seen-subject`: a role assumed from a repository, ref,
//! environment, workflow, trigger or issuer no earlier run saw for it.
//!
//! ## What it detects
//! Per role, a value this run's sessions came from that no earlier run
//! recorded (an overlapping run that saw the same session counts as having
//! seen it). A role no earlier run saw at all gets one info finding.
//!
//! ## Why it matters
//! Trust conditions often allow more than is used; the first use of the
//! rest is worth a look. While the role's baseline is younger than
//! `settings.baseline_days` the finding is info: the baseline is still
//! learning, and it says so.

use std::collections::HashMap;

use std::borrow::Cow;

use serde_json::json;

use super::history::{days, session_finding, DAY};
use crate::model::fingerprint::fingerprint;
use crate::model::history::{History, Observations};
use crate::model::rule::{Coverage, Rule, RuleKind};
use crate::model::time::{format_time, Micros};
use crate::model::{Finding, Report, Severity};
use crate::policy::Policy;
use crate::rule_list;

pub static RULE: Rule = Rule {
    id: Cow::Borrowed("first-seen-subject"),
    severity: Severity::Medium,
    title: Cow::Borrowed("A role assumed from something never seen for it"),
    description: Cow::Borrowed("A repository, ref, environment, workflow, trigger or issuer that no earlier run saw for this role. Trust conditions often allow more than is used; the first use of the rest is worth a look. Medium once the role's baseline is settings.baseline_days old (14 by default), info while it is still learning, and info for a role no earlier run saw at all."),
    references: rule_list![],
    source: Cow::Borrowed("src/detect/rules/first_seen_subject.rs"),
    needs: Cow::Borrowed(super::history::NEEDS),
    sources: Coverage::each([
        (true, "needs claims or a subject that carries the values"),
        (true, "needs claims or a subject that carries the values"),
        (true, "needs claims or a subject that carries the values"),
        (true, "needs claims; the role is the Vault role"),
    ]),
    identity: rule_list!["role", "evidence.kind", "evidence.value"],
    kind: RuleKind::History,
};

/// Findings of this rule for a run starting at `window_start`.
#[allow(unused_variables)]
pub fn check(
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
                    &RULE.id,
                    Severity::Info,
                    &RULE.title,
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
                f.fingerprint = fingerprint(&f, &RULE.identity);
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
                let mut f =
                    session_finding(report, &v.session_key, &RULE.id, severity, &RULE.title);
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
                f.fingerprint = fingerprint(&f, &RULE.identity);
                out.push(f);
            }
        }
    }
    out
}
