//! `static-key-unused`: an active long-term key nobody uses: revoke it.
//!
//! ## What it detects
//! A key the credential report or `list-access-keys` shows **active**,
//! whose last use (the later of IAM's and the trail's) is at least
//! `static_key_unused_days` (default 30) before the reference time, or
//! that was never used and is at least that old.
//!
//! ## Why it matters
//! An active key that nothing needs is pure risk: it can only be used by
//! someone who should not have it. Never raised from the trail alone: a
//! trail cannot prove a key unused, only that it was not seen.

use std::borrow::Cow;

use crate::detect::keys::{is_unused, key_finding, key_name, KEY_SOURCES};
use crate::model::fingerprint::fingerprint;
use crate::model::keys::KeyReport;
use crate::model::rule::{Rule, RuleKind};
use crate::model::time::format_time;
use crate::model::{Finding, Severity};
use crate::policy::Policy;
use crate::rule_list;

pub static RULE: Rule = Rule {
    id: Cow::Borrowed("static-key-unused"),
    severity: Severity::Low,
    title: Cow::Borrowed("An active long-term access key is not used"),
    description: Cow::Borrowed("The credential report (or list-access-keys) shows an active key whose last use is at least static_key_unused_days (default 30) before the reference time, or that was never used and is at least that old. Nothing needs it: deactivate it, wait a cycle, then delete it. Not raised without a credential report or key list: the trail alone cannot prove a key unused."),
    references: rule_list![
        "https://docs.aws.amazon.com/IAM/latest/UserGuide/id_credentials_getting-report.html",
    ],
    source: Cow::Borrowed("src/detect/rules/static_key_unused.rs"),
    needs: Cow::Borrowed("the IAM credential report (CSV or get-credential-report JSON) or list-access-keys output; the trail's calls refine the last use"),
    sources: KEY_SOURCES,
    identity: rule_list!["evidence.access_key_id"],
    kind: RuleKind::Run,
};

pub fn check(keys: &KeyReport, policy: &Policy) -> Vec<Finding> {
    let Some(reference) = &keys.reference else {
        return Vec::new();
    };
    let mut out = Vec::new();
    for r in keys
        .rows
        .iter()
        .filter(|r| is_unused(r, policy, reference.at))
    {
        let mut f = key_finding(r, &RULE, RULE.severity);
        f.time = Some(reference.at);
        let idle = match (r.last_used(), r.idle_days) {
            (Some(t), Some(days)) => format!("not used for {days} days (last {})", format_time(t)),
            _ => match r.age_days {
                Some(age) => format!("never used in its {age} days"),
                None => "never used".into(),
            },
        };
        f.message = format!(
            "{} is active and {idle}, measured at {} ({}): revoke it.",
            key_name(r),
            format_time(reference.at),
            reference.basis,
        );
        f.evidence.insert(
            "measured_at".into(),
            serde_json::json!(format_time(reference.at)),
        );
        f.evidence
            .insert("measured_basis".into(), serde_json::json!(reference.basis));
        f.fingerprint = fingerprint(&f, &RULE.identity);
        out.push(f);
    }
    out
}
