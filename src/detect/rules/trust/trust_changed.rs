//! `trust-changed`: a federated role's trust policy changed.
//!
//! ## What it detects
//! A CloudTrail `UpdateAssumeRolePolicy` on a role whose old or new policy
//! trusts a federated principal, with the policy before (the previous
//! `CreateRole`/`UpdateAssumeRolePolicy` in the input, when there is one)
//! and after, and their line diff; or two snapshots of the same role, in
//! the order the inputs were given, whose policies differ. Key order is
//! not a change (documents are compared with their keys sorted).
//!
//! ## Why it matters
//! Widening a trust condition is how a federation backdoor is installed,
//! and a legitimate change is still worth a second pair of eyes. The diff
//! is in the evidence so a reviewer need not fetch both versions.
//!
//! ## Example
//! `"repo:acme/web:*"` became `"repo:acme/*"`.

use std::borrow::Cow;

use crate::model::rule::{Rule, RuleKind};
use crate::rule_list;
use serde_json::json;

use super::{trust_coverage, ROLE_NEEDS};
use crate::model::fingerprint::text_fingerprint;
use crate::model::{Finding, Severity};
use crate::trust::analyze::is_federated;
use crate::trust::{RoleHistory, RoleTrust, TrustOrigin};

pub static RULE: Rule = Rule {
    id: Cow::Borrowed("trust-changed"),
    severity: Severity::Medium,
    title: Cow::Borrowed("Federated role's trust policy changed"),
    description: Cow::Borrowed("UpdateAssumeRolePolicy on a federated role (CloudTrail), or two snapshots of one role whose trust policies differ. The evidence holds the policy before and after and their line diff."),
    references: rule_list!["https://attack.mitre.org/techniques/T1484/002/"],
    source: Cow::Borrowed("src/detect/rules/trust/trust_changed.rs"),
    needs: Cow::Borrowed(ROLE_NEEDS),
    sources: trust_coverage([true, false, false, false]),
    identity: rule_list!["role", "evidence.change"],
    kind: RuleKind::Trust,
};

/// A line diff (longest common subsequence): `- old`, `+ new`; unchanged
/// lines are left out.
pub fn line_diff(before: &str, after: &str) -> Vec<String> {
    let a: Vec<&str> = before.lines().collect();
    let b: Vec<&str> = after.lines().collect();
    let mut lcs = vec![vec![0usize; b.len() + 1]; a.len() + 1];
    for i in (0..a.len()).rev() {
        for j in (0..b.len()).rev() {
            lcs[i][j] = if a[i] == b[j] {
                lcs[i + 1][j + 1] + 1
            } else {
                lcs[i + 1][j].max(lcs[i][j + 1])
            };
        }
    }
    let (mut i, mut j) = (0, 0);
    let mut out = Vec::new();
    while i < a.len() || j < b.len() {
        if i < a.len() && j < b.len() && a[i] == b[j] {
            i += 1;
            j += 1;
        } else if i < a.len() && (j == b.len() || lcs[i + 1][j] >= lcs[i][j + 1]) {
            out.push(format!("- {}", a[i].trim()));
            i += 1;
        } else {
            out.push(format!("+ {}", b[j].trim()));
            j += 1;
        }
    }
    out
}

fn parse(text: &str) -> serde_json::Value {
    serde_json::from_str(text).unwrap_or_default()
}

pub fn check(history: &RoleHistory<'_>, file: &dyn Fn(u32) -> String) -> Vec<Finding> {
    let mut out = Vec::new();
    let changes: Vec<&RoleTrust> = history
        .sightings
        .iter()
        .copied()
        .filter(|r| matches!(r.origin, TrustOrigin::Change { .. }))
        .collect();
    let snapshots: Vec<&RoleTrust> = history
        .sightings
        .iter()
        .copied()
        .filter(|r| matches!(r.origin, TrustOrigin::Snapshot { .. }))
        .collect();
    let mut emit = |before: Option<&RoleTrust>, after: &RoleTrust, how: String| {
        if !is_federated(&after.document) && !before.is_some_and(|b| is_federated(&b.document)) {
            return;
        }
        let after_text = after.document.canonical();
        let before_text = before.map(|b| b.document.canonical());
        if before_text.as_deref() == Some(after_text.as_str()) {
            return;
        }
        let mut f = Finding::new(&RULE.id, RULE.severity, &RULE.title);
        f.cloud = Some("aws".into());
        f.account = after.account.clone();
        f.role = Some(history.role.clone());
        f.time = after.time;
        let change = match &after.origin {
            TrustOrigin::Change {
                event_id: Some(id), ..
            } => {
                f.event_ids.push(id.clone());
                id.clone()
            }
            _ => text_fingerprint(&format!(
                "{}\0{after_text}",
                before_text.clone().unwrap_or_default()
            )),
        };
        f.evidence.insert("change".into(), json!(change));
        f.evidence.insert("after".into(), parse(&after_text));
        f.evidence.insert(
            "after_source".into(),
            json!(format!("{} record {}", file(after.file), after.record)),
        );
        let summary = match (&before, &before_text) {
            (Some(b), Some(bt)) => {
                let diff = line_diff(bt, &after_text);
                let (plus, minus) = (
                    diff.iter().filter(|l| l.starts_with('+')).count(),
                    diff.iter().filter(|l| l.starts_with('-')).count(),
                );
                f.evidence.insert("before".into(), parse(bt));
                f.evidence.insert(
                    "before_source".into(),
                    json!(format!("{} record {}", file(b.file), b.record)),
                );
                f.evidence.insert("diff".into(), json!(diff));
                let lines = |n: usize| {
                    if n == 1 {
                        "1 line".to_string()
                    } else {
                        format!("{n} lines")
                    }
                };
                format!(
                    "{} added, {} removed (diff in the evidence)",
                    lines(plus),
                    lines(minus)
                )
            }
            _ => {
                f.evidence.insert("before".into(), serde_json::Value::Null);
                "the policy before it is not in the input".to_string()
            }
        };
        f.message = format!("The trust policy of {} was {how}: {summary}.", history.role);
        out.push(f);
    };
    for (i, c) in changes.iter().enumerate() {
        let TrustOrigin::Change {
            event_name, actor, ..
        } = &c.origin
        else {
            continue;
        };
        if event_name != "UpdateAssumeRolePolicy" {
            continue;
        }
        let who = actor
            .as_deref()
            .map(|a| format!(" by {a}"))
            .unwrap_or_default();
        emit(
            i.checked_sub(1).map(|p| changes[p]),
            c,
            format!("changed{who} (UpdateAssumeRolePolicy)"),
        );
    }
    for pair in snapshots.windows(2) {
        emit(
            Some(pair[0]),
            pair[1],
            format!(
                "different in {} than in {} (snapshots, in the order given)",
                file(pair[1].file),
                file(pair[0].file)
            ),
        );
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn diffs_show_only_changed_lines() {
        let d = line_diff("a\nb\nc\n", "a\nx\nc\nd\n");
        assert_eq!(d, vec!["- b", "+ x", "+ d"]);
        assert_eq!(line_diff("a\nb\n", "a\nc\n"), vec!["- b", "+ c"]);
        assert!(line_diff("same\n", "same\n").is_empty());
    }
}
