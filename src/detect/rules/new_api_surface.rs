//! `new-api-surface`: a CI workflow's sessions called an action none of
//! its sessions called in earlier runs.
//!
//! ## What it detects
//! Per workflow with history, a `service:action` it never called before.
//! Workflows no earlier run saw are not judged.
//!
//! ## Why it matters
//! Deploy jobs call the same APIs night after night; a new one is a
//! changed pipeline or someone else holding its credentials.

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
    id: Cow::Borrowed("new-api-surface"),
    severity: Severity::Medium,
    title: Cow::Borrowed("A CI workflow called an API it never called before"),
    description: Cow::Borrowed("A workflow's sessions called an action (service:action) that none of its sessions called in earlier runs. Deploy jobs call the same APIs night after night; a new one is a changed pipeline or someone else holding its credentials. Medium once the workflow's baseline is settings.baseline_days old, info before; workflows no earlier run saw are not judged."),
    references: rule_list![],
    source: Cow::Borrowed("src/detect/rules/new_api_surface.rs"),
    needs: Cow::Borrowed(super::history::NEEDS),
    sources: Coverage::each([
        (true, "the workflow from claims; calls by access key"),
        (true, "the workflow from claims; calls by federated principal"),
        (true, "the workflow from claims; calls by token id or application"),
        (true, "the workflow from claims; requests by token accessor"),
    ]),
    identity: rule_list!["evidence.workflow", "evidence.action"],
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
        let mut f = session_finding(report, &w.session_key, &RULE.id, severity, &RULE.title);
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
        f.fingerprint = fingerprint(&f, &RULE.identity);
        out.push(f);
    }
    out
}
