//! GitLab Code Quality JSON (`artifacts:reports:codequality`): an array of
//! issues with `description`, `check_name`, `fingerprint`, `severity` and
//! `location`. The location is the workflow or CI file the token names when
//! known, else the policy file, else `rolecall`: GitLab shows the path, it
//! need not exist.

use std::io::{self, Write};

use serde::Serialize;

use super::json::write_pretty;
use super::Context;
use crate::model::Severity;

#[derive(Serialize)]
struct Lines {
    begin: u32,
}

#[derive(Serialize)]
struct Location {
    path: String,
    lines: Lines,
}

#[derive(Serialize)]
struct Issue {
    #[serde(rename = "type")]
    kind: &'static str,
    description: String,
    check_name: String,
    fingerprint: String,
    severity: &'static str,
    categories: [&'static str; 1],
    location: Location,
}

/// GitLab's scale: info, minor, major, critical, blocker.
pub fn severity(s: Severity) -> &'static str {
    match s {
        Severity::Critical => "blocker",
        Severity::High => "critical",
        Severity::Medium => "major",
        Severity::Low => "minor",
        Severity::Info => "info",
    }
}

pub fn write<W: Write>(w: &mut W, cx: &Context<'_>) -> io::Result<()> {
    let mut issues: Vec<Issue> = cx
        .report
        .findings
        .iter()
        .map(|f| Issue {
            kind: "issue",
            description: format!("{}: {}", f.rule, f.message),
            check_name: f.rule.clone(),
            fingerprint: f.fingerprint.clone(),
            severity: severity(f.severity),
            categories: ["Security"],
            location: Location {
                path: cx
                    .workflow_file(f)
                    .or_else(|| cx.policy_path.map(str::to_string))
                    .unwrap_or_else(|| "rolecall".into()),
                lines: Lines { begin: 1 },
            },
        })
        .collect();
    // Partial input is an issue in its own right: the report is incomplete.
    for u in &cx.report.summary.unread {
        let description = format!(
            "rolecall could not read {}: {} (the findings are partial)",
            u.source, u.reason
        );
        issues.push(Issue {
            kind: "issue",
            fingerprint: crate::model::fingerprint::text_fingerprint(&format!(
                "partial-input\0{}",
                u.source
            )),
            description,
            check_name: "rolecall-partial-input".into(),
            severity: "major",
            categories: ["Security"],
            location: Location {
                path: cx
                    .policy_path
                    .map(str::to_string)
                    .unwrap_or_else(|| "rolecall".into()),
                lines: Lines { begin: 1 },
            },
        });
    }
    write_pretty(w, &issues)
}
