//! `rolecall policy init`: a starting policy learned from history, for a
//! person to review.
//!
//! Every role that was assumed gets a `[[role]]` listing exactly the
//! repositories, refs, environments, triggers and workflows its sessions
//! showed, and every issuer an `[[issuer]]` with the audiences it used. A
//! fact some sessions did not show (no claims, a subject without it) is
//! counted in a comment rather than guessed. Tiers come from the policy
//! given, else the role's name (marked to confirm); a role whose tier is
//! unknown gets a commented-out `tier` line, with the tier its
//! environments suggest when they do. The text parses back with
//! [`super::Policy::parse`].

use std::collections::BTreeMap;

use crate::model::time::format_time;
use crate::model::{Fact, Report, Session};

use super::{Policy, Tier};

fn quote(s: &str) -> String {
    toml::Value::String(s.to_string()).to_string()
}

fn list(values: &[&str]) -> String {
    let items: Vec<String> = values.iter().map(|v| quote(v)).collect();
    format!("[{}]", items.join(", "))
}

/// One fact across a role's sessions: the distinct values, how many
/// sessions are known to have had none, and how many did not show it.
struct Seen<'a> {
    values: Vec<&'a str>,
    absent: usize,
    unknown: usize,
}

fn seen<'a>(sessions: &[&'a Session], get: impl Fn(&'a Session) -> &'a Fact) -> Seen<'a> {
    let mut values: Vec<&str> = sessions
        .iter()
        .filter_map(|s| get(s).value.as_deref())
        .collect();
    let absent = sessions
        .iter()
        .filter(|s| get(s).value.is_none() && get(s).known)
        .count();
    let unknown = sessions
        .iter()
        .filter(|s| get(s).value.is_none() && !get(s).known)
        .count();
    values.sort();
    values.dedup();
    Seen {
        values,
        absent,
        unknown,
    }
}

/// The policy text learned from a finished run.
pub fn learn(report: &Report, policy: &Policy) -> String {
    let mut out = String::new();
    let mut by_role: BTreeMap<&str, Vec<&Session>> = BTreeMap::new();
    for s in &report.sessions {
        if let Some(r) = s.role_arn.as_deref() {
            by_role.entry(r).or_default().push(s);
        }
    }
    let times: Vec<i64> = report
        .sessions
        .iter()
        .filter_map(|s| report.assumptions[s.assumption].time)
        .collect();
    let range = match (times.iter().min(), times.iter().max()) {
        (Some(a), Some(b)) => format!(" between {} and {}", format_time(*a), format_time(*b)),
        _ => String::new(),
    };
    out.push_str(&format!(
        "# rolecall.toml: a starting policy learned by `rolecall policy init` from\n# {} sessions of {} roles{range}.\n#\n",
        report.sessions.len(),
        by_role.len()
    ));
    out.push_str(
        "# It allows exactly what was seen. Review every line before relying on it:\n\
         # remove what should not have happened, widen what legitimately varies\n\
         # (refs/tags/v*, release/*), and set the tiers rolecall could not tell.\n",
    );
    // Issuers and their audiences.
    let mut issuers: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
    for s in &report.sessions {
        let a = &report.assumptions[s.assumption];
        if let (Some(i), false) = (a.issuer.as_deref(), a.issuer_inferred) {
            let auds = issuers.entry(i).or_default();
            if let Some(aud) = a.audience.as_deref() {
                auds.push(aud);
            }
        }
    }
    for (issuer, mut auds) in issuers {
        auds.sort();
        auds.dedup();
        out.push_str(&format!("\n[[issuer]]\nurl = {}\n", quote(issuer)));
        if !auds.is_empty() {
            out.push_str(&format!("audiences = {}\n", list(&auds)));
        }
    }
    for (role, sessions) in by_role {
        let first = sessions
            .iter()
            .filter_map(|s| report.assumptions[s.assumption].time)
            .min();
        let last = sessions
            .iter()
            .filter_map(|s| report.assumptions[s.assumption].time)
            .max();
        let when = match (first, last) {
            (Some(a), Some(b)) if a != b => format!(", {} to {}", format_time(a), format_time(b)),
            (Some(a), _) => format!(", {}", format_time(a)),
            _ => String::new(),
        };
        out.push_str(&format!(
            "\n# {} session{}{when}\n[[role]]\nmatch = {}\n",
            sessions.len(),
            if sessions.len() == 1 { "" } else { "s" },
            quote(role)
        ));
        let role_id = report.assumptions[sessions[0].assumption]
            .role_id
            .as_deref();
        let environments = seen(&sessions, |s| &s.environment);
        match policy.role_tier_for(role, role_id) {
            (Some(t), false) => out.push_str(&format!(
                "tier = {}  # from the policy given\n",
                quote(t.as_str())
            )),
            (Some(t), true) => out.push_str(&format!(
                "tier = {}  # from the role's name: confirm\n",
                quote(t.as_str())
            )),
            (None, _) => {
                let hinted: Vec<Tier> = environments
                    .values
                    .iter()
                    .filter_map(|e| Tier::parse(e))
                    .collect();
                match hinted.iter().max() {
                    Some(t) => out.push_str(&format!(
                        "# tier = {}  # unknown; the environments used suggest it\n",
                        quote(t.as_str())
                    )),
                    None => out.push_str(
                        "# tier = \"production\"  # unknown: set production, staging or development\n",
                    ),
                }
            }
        }
        let facts = [
            (
                "repositories",
                seen(&sessions, |s| &s.repository),
                "repository",
            ),
            ("refs", seen(&sessions, |s| &s.git_ref), "ref"),
            ("environments", environments, "environment"),
            ("events", seen(&sessions, |s| &s.trigger), "trigger"),
            (
                "workflows",
                seen(&sessions, |s| &s.workflow_ref),
                "workflow",
            ),
        ];
        let n = sessions.len();
        for (key, fact, what) in facts {
            if fact.values.is_empty() {
                if fact.absent == n {
                    out.push_str(&format!("# {key}: none of the sessions had one\n"));
                } else {
                    out.push_str(&format!("# {key}: no session showed its {what}\n"));
                }
                continue;
            }
            if fact.values.iter().any(|v| v.contains(['*', '?'])) {
                out.push_str(&format!(
                    "# {key}: a value below contains * or ?, which the policy reads as a wildcard\n"
                ));
            }
            let line = format!("{key} = {}", list(&fact.values));
            if fact.absent > 0 {
                // A list would flag the sessions that had none.
                out.push_str(&format!(
                    "# {line}  # {} of {n} sessions had no {what}: listing them would flag those\n",
                    fact.absent
                ));
            } else if fact.unknown > 0 {
                out.push_str(&format!(
                    "{line}  # {} of {n} sessions did not show their {what} (not judged)\n",
                    fact.unknown
                ));
            } else {
                out.push_str(&format!("{line}\n"));
            }
        }
    }
    out
}
