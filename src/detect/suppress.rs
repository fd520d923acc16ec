//! Applying suppressions to findings: an unexpired `[[suppress]]` entry
//! moves what it matches aside, with its reason. One past its date
//! suppresses nothing and is a finding of its own
//! (`rules::expired_suppression`).

use chrono::NaiveDate;

use crate::model::{Finding, Suppressed};
use crate::policy::suppress::Suppression;

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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Severity;
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
        assert!(crate::detect::rules::expired_suppression::check(
            &[suppression((2026, 6, 1))],
            &kept,
            today
        )
        .is_empty());
    }
}
