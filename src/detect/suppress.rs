//! Applying suppressions to findings, and `expired-suppression`: a
//! suppression past its `until` date stops suppressing and is reported,
//! so an acceptance cannot quietly outlive its review.

use chrono::NaiveDate;
use serde_json::json;

use crate::model::fingerprint::fingerprint;
use crate::model::{Finding, Severity, Suppressed};
use crate::policy::suppress::Suppression;

pub const EXPIRED: &str = "expired-suppression";
pub const EXPIRED_TITLE: &str = "A suppression has expired";
pub const EXPIRED_SEVERITY: Severity = Severity::Low;
pub const EXPIRED_DESCRIPTION: &str = "A [[suppress]] entry is past its until date. It no longer hides the findings it matches (they count toward --fail-on again); renew it with a new date and reason, or fix what it accepted and delete it.";
pub const EXPIRED_IDENTITY: &[&str] = &["evidence.suppression", "evidence.selector"];

/// Splits `findings` into those that stay and those an unexpired
/// suppression accepts (the first that matches, in file order).
pub fn apply(
    findings: Vec<Finding>,
    suppressions: &[Suppression],
    today: NaiveDate,
) -> (Vec<Finding>, Vec<Suppressed>) {
    let active: Vec<&Suppression> = suppressions.iter().filter(|s| !s.expired(today)).collect();
    if active.is_empty() {
        return (findings, Vec::new());
    }
    let mut kept = Vec::with_capacity(findings.len());
    let mut suppressed = Vec::new();
    for f in findings {
        match active.iter().find(|s| s.matches(&f)) {
            Some(s) => suppressed.push(Suppressed {
                reason: s.reason.clone(),
                until: s.until.to_string(),
                suppression: s.origin.clone(),
                finding: f,
            }),
            None => kept.push(f),
        }
    }
    (kept, suppressed)
}

/// One finding per expired suppression, saying what it would still match.
pub fn expired(
    suppressions: &[Suppression],
    findings: &[Finding],
    today: NaiveDate,
) -> Vec<Finding> {
    suppressions
        .iter()
        .filter(|s| s.expired(today))
        .map(|s| {
            let matching = findings.iter().filter(|f| s.matches(f)).count();
            let mut f = Finding::new(EXPIRED, EXPIRED_SEVERITY, EXPIRED_TITLE);
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
            f.fingerprint = fingerprint(&f, EXPIRED_IDENTITY);
            f
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
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
    fn active_suppressions_move_matching_findings_aside() {
        let today = NaiveDate::from_ymd_opt(2026, 1, 1).unwrap();
        let (kept, gone) = apply(
            vec![finding("unexpected-ref"), finding("tier-mismatch")],
            &[suppression((2026, 6, 1))],
            today,
        );
        assert_eq!(kept.len(), 1);
        assert_eq!(kept[0].rule, "tier-mismatch");
        assert_eq!(gone.len(), 1);
        assert_eq!(gone[0].reason, "accepted");
        assert!(expired(&[suppression((2026, 6, 1))], &kept, today).is_empty());
    }

    #[test]
    fn expired_suppressions_stop_suppressing_and_are_reported() {
        let today = NaiveDate::from_ymd_opt(2026, 1, 1).unwrap();
        let s = [suppression((2025, 12, 31))];
        let (kept, gone) = apply(vec![finding("unexpected-ref")], &s, today);
        assert_eq!((kept.len(), gone.len()), (1, 0));
        let e = expired(&s, &kept, today);
        assert_eq!(e.len(), 1);
        assert_eq!(e[0].rule, EXPIRED);
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
