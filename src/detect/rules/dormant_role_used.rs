//! `dormant-role-used`: a role with no successful exchange for
//! `settings.dormant_days` was assumed again.
//!
//! ## What it detects
//! The first exchange of each role in this run, when the role's last
//! exchange in the recorded history is older than `dormant_days`.
//!
//! ## Why it matters
//! Forgotten roles keep their trust conditions; their return deserves a
//! look. When the recorded runs leave holes in the silence the finding is
//! info: the role may have been used unseen.

use std::collections::BTreeMap;

use std::borrow::Cow;

use serde_json::json;

use super::history::{days, session_finding, COVERAGE_SLACK, DAY};
use crate::model::fingerprint::fingerprint;
use crate::model::history::{History, Observations};
use crate::model::rule::{Coverage, Rule, RuleKind};
use crate::model::time::{format_time, Micros};
use crate::model::{Finding, Report, Severity};
use crate::policy::Policy;
use crate::rule_list;

pub static RULE: Rule = Rule {
    id: Cow::Borrowed("dormant-role-used"),
    severity: Severity::Medium,
    title: Cow::Borrowed("A dormant role was used again"),
    description: Cow::Borrowed("A role with no successful exchange for settings.dormant_days (30 by default) was assumed again. Forgotten roles keep their trust conditions; their return deserves a look. Medium when the recorded runs cover the silence; info when they leave holes in it (rolecall did not run, so the role may have been used unseen)."),
    references: rule_list![],
    source: Cow::Borrowed("src/detect/rules/dormant_role_used.rs"),
    needs: Cow::Borrowed(super::history::NEEDS),
    sources: Coverage::all("exchanges recorded by earlier runs"),
    identity: rule_list!["role", "evidence.previous_exchange"],
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
        let mut f = session_finding(report, key, &RULE.id, severity, &RULE.title);
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
        f.fingerprint = fingerprint(&f, &RULE.identity);
        out.push(f);
    }
    out
}
