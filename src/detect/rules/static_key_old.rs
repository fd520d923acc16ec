//! `static-key-old`: an active long-term key past its rotation age.
//!
//! ## What it detects
//! An active key whose creation (the credential report's
//! `access_key_N_last_rotated`, or list-access-keys' `CreateDate`) is more
//! than `static_key_max_age` (default 90 days) before the reference time.
//! Low when the key is tied to CI, declared in `[[static_key]]` or unused;
//! info otherwise: rolecall is not a general IAM-user hunter.
//!
//! ## Why it matters
//! The older a key, the more places it has been copied to. For a CI key
//! the fix is not rotation but federation; for the rest, rotation.

use std::borrow::Cow;

use crate::detect::keys::{is_old, is_unused, key_finding, key_name, KEY_SOURCES};
use crate::model::fingerprint::fingerprint;
use crate::model::keys::{KeyReport, LinkKind};
use crate::model::rule::{Rule, RuleKind};
use crate::model::time::format_time;
use crate::model::{Finding, Severity};
use crate::policy::Policy;
use crate::rule_list;

pub static RULE: Rule = Rule {
    id: Cow::Borrowed("static-key-old"),
    severity: Severity::Low,
    title: Cow::Borrowed("An active long-term access key is older than the rotation age"),
    description: Cow::Borrowed("An active key created (last rotated) more than static_key_max_age (default 90 days) before the reference time. Low when the key is tied to CI, declared in [[static_key]] or unused, info otherwise. For a CI key the fix is a federated role, not a rotation."),
    references: rule_list![
        "https://docs.aws.amazon.com/IAM/latest/UserGuide/id_credentials_access-keys.html#rotating_access_keys_console",
    ],
    source: Cow::Borrowed("src/detect/rules/static_key_old.rs"),
    needs: Cow::Borrowed("the IAM credential report (access_key_N_last_rotated) or list-access-keys output (CreateDate)"),
    sources: KEY_SOURCES,
    identity: rule_list!["evidence.access_key_id"],
    kind: RuleKind::Run,
};

pub fn check(keys: &KeyReport, policy: &Policy) -> Vec<Finding> {
    let Some(reference) = &keys.reference else {
        return Vec::new();
    };
    let mut out = Vec::new();
    for r in keys.rows.iter().filter(|r| is_old(r, policy, reference.at)) {
        let ci = r.observed_ci_link().is_some();
        let declared = r.has_link(LinkKind::Declared);
        let unused = is_unused(r, policy, reference.at);
        let severity = if ci || declared || unused {
            RULE.severity
        } else {
            Severity::Info
        };
        let mut f = key_finding(r, &RULE, severity);
        f.time = Some(reference.at);
        let why = if ci {
            " It is used from CI: replace it with a federated role rather than rotating it."
        } else if declared {
            " The policy declares it a CI key: replace it with a federated role."
        } else if unused {
            " It is not used either: revoke it."
        } else {
            " Rotate it."
        };
        f.message = format!(
            "{} is active and {} days old (created {}, measured at {}, {}), past the {}-day rotation age.{why}",
            key_name(r),
            r.age_days.unwrap_or_default(),
            r.created.map(format_time).unwrap_or_default(),
            format_time(reference.at),
            reference.basis,
            policy.settings.static_key_max_age / 86_400,
        );
        f.evidence
            .insert("age_days".into(), serde_json::json!(r.age_days));
        f.evidence
            .insert("measured_basis".into(), serde_json::json!(reference.basis));
        f.fingerprint = fingerprint(&f, &RULE.identity);
        out.push(f);
    }
    out
}
