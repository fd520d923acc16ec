//! `assume-failure-burst`: many failed exchanges for one role or one subject
//! in a short window.
//!
//! ## What it detects
//! At least `failure_burst.count` failed `AssumeRoleWithWebIdentity` calls
//! for the same role, or from the same subject, within
//! `failure_burst.window`. Overlapping windows merge into one burst, so a
//! long attack is one finding, not hundreds.
//!
//! ## Why it matters
//! Someone is probing trust conditions: trying subjects, refs or audiences
//! until a role accepts one, or replaying stolen or expired tokens.
//!
//! ## Why Rust, not SQL
//! A sliding window over ordered events needs window frames that the
//! portable SQL subset (and polars SQL) lacks.

use std::collections::BTreeMap;

use serde_json::Value;

use crate::model::records::Assumption;
use crate::model::time::format_time;
use std::borrow::Cow;

use crate::model::rule::{Coverage, Rule, RuleKind};
use crate::model::{Finding, Severity};
use crate::policy::Settings;
use crate::rule_list;

pub const ID: &str = "assume-failure-burst";

pub static RULE: Rule = Rule {
    id: Cow::Borrowed(ID),
    severity: Severity::Medium,
    title: Cow::Borrowed("Burst of failed role exchanges"),
    description: Cow::Borrowed("At least failure_burst.count failed AssumeRoleWithWebIdentity calls for one role or from one subject within failure_burst.window. Someone is probing trust conditions or replaying rejected tokens. Overlapping windows merge into one finding."),
    references: rule_list![
        "https://attack.mitre.org/techniques/T1110/",
        "https://docs.aws.amazon.com/STS/latest/APIReference/API_AssumeRoleWithWebIdentity.html",
    ],
    source: Cow::Borrowed("src/detect/rules/failure_burst.rs"),
    needs: Cow::Borrowed("the audit log only"),
    sources: Coverage::all(""),
    // A burst is identified by the role, the subject and the address it
    // came from (its time and counts vary run to run).
    identity: rule_list!["role", "subject", "source_ip"],
    kind: RuleKind::Run,
};

/// Merged runs of failures in which every failure shares a window with at
/// least `count - 1` others. Input: (time, index) sorted by time.
fn bursts(times: &[(i64, usize)], count: usize, window: i64) -> Vec<Vec<usize>> {
    let mut intervals: Vec<(usize, usize)> = Vec::new();
    let mut j = 0;
    for i in 0..times.len() {
        if j < i {
            j = i;
        }
        while j + 1 < times.len() && times[j + 1].0 - times[i].0 <= window {
            j += 1;
        }
        if j + 1 - i >= count {
            match intervals.last_mut() {
                Some(last) if i <= last.1 => last.1 = last.1.max(j),
                _ => intervals.push((i, j)),
            }
        }
    }
    intervals
        .into_iter()
        .map(|(s, e)| times[s..=e].iter().map(|&(_, idx)| idx).collect())
        .collect()
}

/// Finds the bursts among failed exchanges.
pub fn detect(assumptions: &[Assumption], settings: &Settings) -> Vec<Finding> {
    let count = settings.failure_burst_count.max(1);
    let window = settings.failure_burst_window * 1_000_000;
    let mut by_role: BTreeMap<&str, Vec<(i64, usize)>> = BTreeMap::new();
    let mut by_subject: BTreeMap<&str, Vec<(i64, usize)>> = BTreeMap::new();
    for (i, a) in assumptions.iter().enumerate() {
        let (false, Some(t)) = (a.succeeded(), a.time) else {
            continue;
        };
        if let Some(r) = a.role_arn.as_deref() {
            by_role.entry(r).or_default().push((t, i));
        }
        if let Some(s) = a.subject.as_deref() {
            by_subject.entry(s).or_default().push((t, i));
        }
    }
    let mut findings = Vec::new();
    let mut seen: Vec<Vec<usize>> = Vec::new();
    for (grouping, groups) in [("role", by_role), ("subject", by_subject)] {
        for (name, mut times) in groups {
            // Ties in time (CloudTrail has one-second resolution) break by
            // event id, not input position, so the same trail read in any
            // order or split gives the same finding.
            times.sort_by(|a, b| {
                a.0.cmp(&b.0)
                    .then_with(|| assumptions[a.1].event_id.cmp(&assumptions[b.1].event_id))
                    .then(a.1.cmp(&b.1))
            });
            for burst in bursts(&times, count, window) {
                let mut members = burst.clone();
                members.sort_unstable();
                if seen.contains(&members) {
                    continue;
                }
                seen.push(members);
                findings.push(finding(assumptions, &burst, grouping, name, settings));
            }
        }
    }
    findings
}

fn distinct<'a>(items: impl Iterator<Item = Option<&'a str>>) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for s in items.flatten() {
        if !out.iter().any(|x| x == s) {
            out.push(s.to_string());
        }
    }
    out
}

fn finding(
    assumptions: &[Assumption],
    burst: &[usize],
    grouping: &str,
    name: &str,
    settings: &Settings,
) -> Finding {
    let first = &assumptions[burst[0]];
    let last = &assumptions[*burst.last().expect("a burst is not empty")];
    let mut f = Finding::new(ID, RULE.severity, &RULE.title);
    f.time = first.time;
    f.cloud = Some(first.cloud.clone());
    let roles = distinct(burst.iter().map(|&i| assumptions[i].role_arn.as_deref()));
    let subjects = distinct(burst.iter().map(|&i| assumptions[i].subject.as_deref()));
    let ips = distinct(burst.iter().map(|&i| assumptions[i].source_ip.as_deref()));
    let codes = distinct(burst.iter().map(|&i| assumptions[i].error_code.as_deref()));
    let accounts = distinct(burst.iter().map(|&i| assumptions[i].account.as_deref()));
    let issuers = distinct(burst.iter().map(|&i| assumptions[i].issuer.as_deref()));
    f.role = (roles.len() == 1).then(|| roles[0].clone());
    f.subject = (subjects.len() == 1).then(|| subjects[0].clone());
    f.account = (accounts.len() == 1).then(|| accounts[0].clone());
    f.issuer = (issuers.len() == 1).then(|| issuers[0].clone());
    f.source_ip = (ips.len() == 1).then(|| ips[0].clone());
    f.event_ids = burst
        .iter()
        .filter_map(|&i| assumptions[i].event_id.clone())
        .collect();
    let span = last.time.unwrap_or(0) - first.time.unwrap_or(0);
    f.message = format!(
        "{} failed exchanges for {} {} between {} and {} ({} s), from {} address(es), errors: {}.",
        burst.len(),
        grouping,
        name,
        first.time.map(format_time).unwrap_or_default(),
        last.time.map(format_time).unwrap_or_default(),
        span / 1_000_000,
        ips.len(),
        codes.join(", ")
    );
    let e = &mut f.evidence;
    e.insert("grouped_by".into(), Value::from(grouping));
    e.insert("failures".into(), Value::from(burst.len()));
    e.insert("first".into(), Value::from(first.time.map(format_time)));
    e.insert("last".into(), Value::from(last.time.map(format_time)));
    e.insert(
        "threshold".into(),
        Value::from(settings.failure_burst_count),
    );
    e.insert(
        "window_seconds".into(),
        Value::from(settings.failure_burst_window),
    );
    e.insert("roles".into(), Value::from(roles));
    e.insert("subjects".into(), Value::from(subjects));
    e.insert("source_ips".into(), Value::from(ips));
    e.insert("error_codes".into(), Value::from(codes));
    f
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fail(t_secs: i64, role: &str, subject: &str) -> Assumption {
        Assumption {
            time: Some(t_secs * 1_000_000),
            role_arn: Some(role.into()),
            subject: Some(subject.into()),
            error_code: Some("AccessDenied".into()),
            event_id: Some(format!("e{t_secs}")),
            source_ip: Some("198.51.100.7".into()),
            cloud: "aws".into(),
            ..Default::default()
        }
    }

    #[test]
    fn five_failures_in_ten_minutes_fire_once() {
        let a: Vec<_> = (0..7)
            .map(|i| fail(i * 60, "arn:role/prod", "repo:a/b:ref:refs/heads/x"))
            .collect();
        let f = detect(&a, &Settings::default());
        assert_eq!(
            f.len(),
            1,
            "role and subject bursts with the same events are one finding"
        );
        assert_eq!(f[0].event_ids.len(), 7);
        assert_eq!(f[0].role.as_deref(), Some("arn:role/prod"));
        assert!(f[0]
            .message
            .starts_with("7 failed exchanges for role arn:role/prod"));
    }

    #[test]
    fn failures_in_the_same_second_give_the_same_finding_in_any_input_order() {
        let mut a: Vec<Assumption> = (0..6)
            .map(|i| {
                let mut x = fail(
                    100,
                    "arn:aws:iam::1:role/r",
                    &format!("repo:o/r{i}:ref:refs/heads/main"),
                );
                x.event_id = Some(format!("e{i}"));
                x
            })
            .collect();
        let forward = detect(&a, &Settings::default());
        a.reverse();
        let backward = detect(&a, &Settings::default());
        assert_eq!(
            forward.len(),
            1,
            "one burst by role; each subject failed once"
        );
        assert_eq!(forward[0].event_ids, backward[0].event_ids);
        assert_eq!(forward[0].evidence, backward[0].evidence);
        assert_eq!(forward[0].event_ids[0], "e0");
    }

    #[test]
    fn spread_out_failures_and_successes_do_not_fire() {
        let mut a: Vec<_> = (0..6)
            .map(|i| fail(i * 300, "arn:role/prod", "s"))
            .collect();
        assert!(
            detect(&a, &Settings::default()).is_empty(),
            "6 failures over 25 minutes: at most 3 in any 10"
        );
        a = (0..4).map(|i| fail(i, "r", "s")).collect();
        let mut ok = fail(5, "r", "s");
        ok.error_code = None;
        a.push(ok);
        assert!(
            detect(&a, &Settings::default()).is_empty(),
            "a success is not a failure"
        );
    }

    #[test]
    fn one_subject_across_roles_fires_by_subject() {
        let a: Vec<_> = (0..5)
            .map(|i| {
                fail(
                    i,
                    &format!("arn:role/r{i}"),
                    "repo:evil/x:ref:refs/heads/main",
                )
            })
            .collect();
        let f = detect(&a, &Settings::default());
        assert_eq!(f.len(), 1);
        assert_eq!(f[0].evidence["grouped_by"], "subject");
        assert_eq!(f[0].role, None);
    }

    #[test]
    fn bursts_merge_overlapping_windows() {
        let times: Vec<(i64, usize)> = (0..10).map(|i| (i * 100, i as usize)).collect();
        assert_eq!(bursts(&times, 3, 200).len(), 1);
        let times = vec![(0, 0), (1, 1), (2, 2), (1000, 3), (1001, 4), (1002, 5)];
        assert_eq!(bursts(&times, 3, 10), vec![vec![0, 1, 2], vec![3, 4, 5]]);
    }
}
