//! `expired-suppression`: a `[[suppress]]` entry past its `until` date.
//!
//! ## What it detects
//! A suppression (in the policy or `--suppressions`) whose review date has
//! passed. It no longer hides what it matches: those findings count toward
//! `--fail-on` again, and this finding says how many there are.
//!
//! ## Why it matters
//! An acceptance with a date is a promise to look again; an expired one
//! that nobody renews or removes is a finding nobody owns.

use std::borrow::Cow;

use chrono::NaiveDate;
use serde_json::json;

use crate::model::fingerprint::fingerprint;
use crate::model::rule::{Coverage, Rule, RuleKind};
use crate::model::{Finding, Severity};
use crate::policy::suppress::Suppression;
use crate::rule_list;

pub const ID: &str = "expired-suppression";

pub static RULE: Rule = Rule {
    id: Cow::Borrowed(ID),
    severity: Severity::Low,
    title: Cow::Borrowed("A suppression has expired"),
    description: Cow::Borrowed("A [[suppress]] entry is past its until date. It no longer hides the findings it matches (they count toward --fail-on again); renew it with a new date and reason, or fix what it accepted and delete it."),
    references: rule_list![],
    source: Cow::Borrowed("src/detect/rules/expired_suppression.rs"),
    needs: Cow::Borrowed("[[suppress]] entries (policy or --suppressions)"),
    sources: Coverage::all(""),
    identity: rule_list!["evidence.suppression", "evidence.selector"],
    kind: RuleKind::Run,
};

/// One finding per expired suppression, saying what it would still match.
pub fn check(suppressions: &[Suppression], findings: &[Finding], today: NaiveDate) -> Vec<Finding> {
    suppressions
        .iter()
        .filter(|s| s.expired(today))
        .map(|s| {
            let matching = findings.iter().filter(|f| s.matches(f)).count();
            let mut f = Finding::new(ID, RULE.severity, &RULE.title);
            f.message = format!(
                "The suppression at {} ({}; reason: {}) expired on {}; {} finding{} it matches {} no longer hidden.",
                s.origin,
                s.selector(),
                s.reason,
                s.until,
                matching,
                if matching == 1 { "" } else { "s" },
                if matching == 1 { "is" } else { "are" }
            );
            f.role = s.role.as_ref().map(|g| g.as_str().to_string()).filter(|r| !r.contains(['*', '?']));
            f.evidence.insert("suppression".into(), json!(s.origin));
            f.evidence.insert("selector".into(), json!(s.selector()));
            f.evidence.insert("reason".into(), json!(s.reason));
            f.evidence.insert("until".into(), json!(s.until.to_string()));
            f.evidence.insert("matching_findings".into(), json!(matching));
            f.fingerprint = fingerprint(&f, &RULE.identity);
            f
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::detect::suppress::apply;
    use crate::policy::glob::Glob;

    fn suppression(until: (i32, u32, u32)) -> Suppression {
        Suppression {
            rule: Some("unexpected-ref".into()),
            role: Some(Glob::new("*deploy*")),
            subject: None,
            fingerprint: None,
            reason: "accepted".into(),
            until: NaiveDate::from_ymd_opt(until.0, until.1, until.2).unwrap(),
            origin: "p.toml:3".into(),
        }
    }

    fn finding(rule: &str) -> Finding {
        let mut f = Finding::new(rule, Severity::High, "t");
        f.role = Some("arn:aws:iam::1:role/deploy-prod".into());
        f
    }

    #[test]
    fn expired_suppressions_stop_suppressing_and_are_reported() {
        let today = NaiveDate::from_ymd_opt(2026, 1, 1).unwrap();
        let s = [suppression((2025, 12, 31))];
        let (kept, gone) = apply(vec![finding("unexpected-ref")], &s, today);
        assert_eq!((kept.len(), gone.len()), (1, 0));
        let e = check(&s, &kept, today);
        assert_eq!(e.len(), 1);
        assert_eq!(e[0].rule, ID);
        assert_eq!(e[0].severity, Severity::Low);
        assert_eq!(e[0].evidence["matching_findings"], 1);
        assert!(
            e[0].message.contains("expired on 2025-12-31"),
            "{}",
            e[0].message
        );
        assert_eq!(e[0].fingerprint.len(), 32);
    }
}
