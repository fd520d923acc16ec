//! `static-key-after-migration`: a long-term key still in use after its
//! pipeline moved to federation.
//!
//! ## What it detects
//! A key of a user that `[[static_key]]` declares migrated (`migrated`
//! date passed at the reference time) or replaced (`replaced_by` names a
//! role that has federated sessions in the input), used after that date
//! or after the replacement role's first federated session.
//!
//! ## Why it matters
//! The migration is done only when nothing depends on the old key. A use
//! after the switch means a pipeline, a script or someone else still holds
//! a credential that never expires and was meant to be gone.

use std::borrow::Cow;

use crate::detect::keys::{key_finding, key_name, last_use_text, migration_start, KEY_SOURCES};
use crate::model::fingerprint::fingerprint;
use crate::model::keys::KeyReport;
use crate::model::rule::{Rule, RuleKind};
use crate::model::time::format_time;
use crate::model::{Finding, Severity};
use crate::rule_list;

pub static RULE: Rule = Rule {
    id: Cow::Borrowed("static-key-after-migration"),
    severity: Severity::High,
    title: Cow::Borrowed("A long-term access key is used after its migration"),
    description: Cow::Borrowed("The key belongs to a user the policy declares migrated ([[static_key]] migrated = DATE, once passed) or replaced by a role (replaced_by) that has federated sessions in the input, and it was used after that date or after the role's first federated session. Something still holds the key the migration was meant to retire: find it (addresses, user agents, actions in the evidence), move it to the role, then revoke the key."),
    references: rule_list![
        "https://docs.aws.amazon.com/IAM/latest/UserGuide/id_credentials_access-keys.html#rotating_access_keys_console",
    ],
    source: Cow::Borrowed("src/detect/rules/static_key_after_migration.rs"),
    needs: Cow::Borrowed("CloudTrail calls made with long-term keys (or a credential report's last use), and a [[static_key]] entry with migrated or replaced_by in the policy"),
    sources: KEY_SOURCES,
    identity: rule_list!["evidence.access_key_id"],
    kind: RuleKind::Run,
};

pub fn check(keys: &KeyReport) -> Vec<Finding> {
    let Some(reference) = &keys.reference else {
        return Vec::new();
    };
    let mut out = Vec::new();
    for r in &keys.rows {
        let Some((from, basis)) = migration_start(r, reference.at) else {
            continue;
        };
        if r.last_used().is_none_or(|t| t <= from) {
            continue;
        }
        let mut f = key_finding(r, &RULE, RULE.severity);
        // A use the trail shows is dated; one only the credential report
        // shows is a fact as of the reference time.
        f.time = r
            .last_used_in_trail
            .filter(|&t| t > from)
            .or(Some(reference.at));
        let after_calls = r.recent.iter().filter(|c| c.time > from).count();
        f.event_ids = r
            .recent
            .iter()
            .filter(|c| c.time > from)
            .filter_map(|c| c.event_id.clone())
            .take(crate::detect::keys::MAX_EVENTS_NAMED)
            .collect();
        let counted = if r.recent.is_empty() {
            "per the credential report".to_string()
        } else if r.truncated || r.recent.len() as u64 != r.calls {
            format!(
                "{after_calls} of the latest {} calls seen after it",
                r.recent.len()
            )
        } else {
            format!("{after_calls} of {} calls after it", r.calls)
        };
        let replaced = r
            .replaced_by
            .as_deref()
            .map(|role| format!(" It was to be replaced by {role}."))
            .unwrap_or_default();
        f.message = format!(
            "{} was used after {basis} ({}): last use {} ({counted}).{replaced}",
            key_name(r),
            format_time(from),
            last_use_text(r),
        );
        f.evidence.insert(
            "migration_start".into(),
            serde_json::json!(format_time(from)),
        );
        f.evidence
            .insert("migration_basis".into(), serde_json::json!(basis));
        if let Some(role) = &r.replaced_by {
            f.evidence
                .insert("replaced_by".into(), serde_json::json!(role));
        }
        f.fingerprint = fingerprint(&f, &RULE.identity);
        out.push(f);
    }
    out
}
