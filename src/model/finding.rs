//! Findings, severities and the run summary: what every output format and
//! the exit code are computed from.

use std::fmt;
use std::str::FromStr;

use serde::{Serialize, Serializer};
use serde_json::{Map, Value};

use super::time::{format_time, Micros};
use crate::error::InputError;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Info,
    Low,
    Medium,
    High,
    Critical,
}

impl Severity {
    pub const ALL: [Severity; 5] = [
        Severity::Critical,
        Severity::High,
        Severity::Medium,
        Severity::Low,
        Severity::Info,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Info => "info",
            Severity::Low => "low",
            Severity::Medium => "medium",
            Severity::High => "high",
            Severity::Critical => "critical",
        }
    }
}

impl fmt::Display for Severity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.pad(self.as_str())
    }
}

impl FromStr for Severity {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.trim().to_ascii_lowercase().as_str() {
            "info" => Ok(Severity::Info),
            "low" => Ok(Severity::Low),
            "medium" => Ok(Severity::Medium),
            "high" => Ok(Severity::High),
            "critical" => Ok(Severity::Critical),
            other => Err(format!(
                "unknown severity '{other}' (expected info, low, medium, high or critical)"
            )),
        }
    }
}

fn ser_time<S: Serializer>(t: &Option<Micros>, s: S) -> Result<S::Ok, S::Error> {
    match t {
        Some(t) => s.serialize_str(&format_time(*t)),
        None => s.serialize_none(),
    }
}

/// One anomaly, explained. Field names are part of the JSON contract.
#[derive(Debug, Clone, Serialize)]
pub struct Finding {
    pub rule: String,
    /// Stable across runs: the rule and its identifying fields, hashed
    /// (see [`crate::model::fingerprint`]).
    pub fingerprint: String,
    pub severity: Severity,
    pub title: String,
    /// One plain sentence an investigator can act on.
    pub message: String,
    #[serde(
        serialize_with = "ser_time",
        deserialize_with = "crate::model::time::de_opt_micros"
    )]
    pub time: Option<Micros>,
    pub cloud: Option<String>,
    pub account: Option<String>,
    pub role: Option<String>,
    pub issuer: Option<String>,
    pub subject: Option<String>,
    pub repository: Option<String>,
    #[serde(rename = "ref")]
    pub git_ref: Option<String>,
    pub environment: Option<String>,
    pub trigger: Option<String>,
    pub run_id: Option<String>,
    pub session_key: Option<String>,
    pub source_ip: Option<String>,
    /// Every audit event id the finding rests on, the exchange first.
    pub event_ids: Vec<String>,
    pub evidence: Map<String, Value>,
}

/// An evidence value as the text a reader sees: strings as they are,
/// lists joined with `, `, other values as JSON; `None` for `null`. The
/// dashboard, the HTML and the Markdown report all show evidence so.
pub fn evidence_text(v: &serde_json::Value) -> Option<String> {
    Some(match v {
        serde_json::Value::String(s) => s.clone(),
        serde_json::Value::Array(items) => items
            .iter()
            .map(|i| {
                i.as_str()
                    .map(str::to_string)
                    .unwrap_or_else(|| i.to_string())
            })
            .collect::<Vec<_>>()
            .join(", "),
        serde_json::Value::Null => return None,
        other => other.to_string(),
    })
}

impl Finding {
    /// The evidence as (key, text) pairs, in order, `null`s left out.
    pub fn evidence_items(&self) -> impl Iterator<Item = (&str, String)> {
        self.evidence
            .iter()
            .filter_map(|(k, v)| evidence_text(v).map(|t| (k.as_str(), t)))
    }

    pub fn new(rule: &str, severity: Severity, title: &str) -> Finding {
        Finding {
            rule: rule.to_string(),
            fingerprint: String::new(),
            severity,
            title: title.to_string(),
            message: String::new(),
            time: None,
            cloud: None,
            account: None,
            role: None,
            issuer: None,
            subject: None,
            repository: None,
            git_ref: None,
            environment: None,
            trigger: None,
            run_id: None,
            session_key: None,
            source_ip: None,
            event_ids: Vec::new(),
            evidence: Map::new(),
        }
    }
}

/// Orders findings for output: severity (highest first), then time, then
/// rule, then the remaining identity so the order is total and stable.
pub fn sort_findings(findings: &mut [Finding]) {
    findings.sort_by(|a, b| {
        b.severity
            .cmp(&a.severity)
            .then_with(|| a.time.unwrap_or(i64::MAX).cmp(&b.time.unwrap_or(i64::MAX)))
            .then_with(|| a.rule.cmp(&b.rule))
            .then_with(|| a.session_key.cmp(&b.session_key))
            .then_with(|| a.role.cmp(&b.role))
            .then_with(|| a.subject.cmp(&b.subject))
            .then_with(|| a.event_ids.cmp(&b.event_ids))
    });
}

/// A finding a suppression accepted: it does not fail the gate, and is
/// counted and listed rather than forgotten.
#[derive(Debug, Clone, Serialize)]
pub struct Suppressed {
    pub reason: String,
    /// The suppression's last day, `YYYY-MM-DD`.
    pub until: String,
    /// Where the suppression is written, `FILE:LINE`.
    pub suppression: String,
    pub finding: Finding,
}

/// A rule that could not judge some sessions, and why.
#[derive(Debug, Clone, Serialize, serde::Deserialize, PartialEq, Eq)]
pub struct Unchecked {
    pub rule: String,
    pub reason: String,
    /// Sessions the rule could not judge; 0 for a rule that judges no
    /// sessions (the static-key rules), where the reason says it all.
    pub sessions: usize,
    /// Up to five session keys, for a first look.
    pub examples: Vec<String>,
}

impl Unchecked {
    /// ` for N sessions`, or nothing when the rule judges no sessions.
    pub fn scope(&self) -> String {
        match self.sessions {
            0 => String::new(),
            1 => " for 1 session".into(),
            n => format!(" for {n} sessions"),
        }
    }
}

/// A file that was deliberately not read (digest, insight, not a log).
#[derive(Debug, Clone, Serialize, serde::Deserialize, PartialEq, Eq)]
pub struct SkippedFile {
    pub path: String,
    pub reason: String,
}

#[derive(Debug, Clone, Default, Serialize, serde::Deserialize)]
pub struct InputCounts {
    pub files: usize,
    pub files_skipped: usize,
    pub bytes: u64,
    pub records: u64,
    /// Records outside `--since`/`--until`.
    pub records_outside_window: u64,
    /// Insight and other non-API records in log files.
    pub records_skipped: u64,
}

#[derive(Debug, Clone, Default, Serialize, serde::Deserialize)]
pub struct ExchangeCounts {
    pub total: usize,
    pub succeeded: usize,
    pub failed: usize,
}

#[derive(Debug, Clone, Default, Serialize, serde::Deserialize)]
pub struct MatchCounts {
    pub exact: usize,
    pub ambiguous: usize,
    pub derived: usize,
    pub none: usize,
}

#[derive(Debug, Clone, Default, Serialize, serde::Deserialize)]
pub struct SeverityCounts {
    pub critical: usize,
    pub high: usize,
    pub medium: usize,
    pub low: usize,
    pub info: usize,
    pub total: usize,
}

impl SeverityCounts {
    pub fn add(&mut self, s: Severity) {
        match s {
            Severity::Critical => self.critical += 1,
            Severity::High => self.high += 1,
            Severity::Medium => self.medium += 1,
            Severity::Low => self.low += 1,
            Severity::Info => self.info += 1,
        }
        self.total += 1;
    }

    pub fn get(&self, s: Severity) -> usize {
        match s {
            Severity::Critical => self.critical,
            Severity::High => self.high,
            Severity::Medium => self.medium,
            Severity::Low => self.low,
            Severity::Info => self.info,
        }
    }
}

/// Everything a reader needs to trust (or distrust) the findings.
#[derive(Debug, Clone, Default, Serialize, serde::Deserialize)]
pub struct Summary {
    pub rolecall_version: String,
    #[serde(
        serialize_with = "ser_time",
        deserialize_with = "crate::model::time::de_opt_micros"
    )]
    pub since: Option<Micros>,
    #[serde(
        serialize_with = "ser_time",
        deserialize_with = "crate::model::time::de_opt_micros"
    )]
    pub until: Option<Micros>,
    pub inputs: InputCounts,
    pub events: usize,
    pub exchanges: ExchangeCounts,
    pub sessions: usize,
    pub claims: usize,
    pub jobs: usize,
    pub claims_matched: MatchCounts,
    pub findings: SeverityCounts,
    pub rules: Vec<String>,
    pub unchecked: Vec<Unchecked>,
    pub notes: Vec<String>,
    pub input_error_count: usize,
    pub input_errors: Vec<InputError>,
    pub skipped_files: Vec<SkippedFile>,
    /// Findings accepted by an unexpired suppression (not in `findings`).
    pub suppressed: usize,
    /// True when some input could not be read (`--allow-partial` let the run
    /// finish anyway): the findings may be incomplete.
    pub partial: bool,
    /// What could not be read, and why.
    pub unread: Vec<Unread>,
    /// Hours with no trail file between busy hours (a stopped trail?).
    pub trail_gaps: Vec<super::gaps::TrailGap>,
}

/// A source, or part of one, that could not be read.
#[derive(Debug, Clone, Serialize, serde::Deserialize, PartialEq, Eq)]
pub struct Unread {
    pub source: String,
    pub reason: String,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn severity_orders_and_parses() {
        assert!(Severity::Critical > Severity::High);
        assert!(Severity::Info < Severity::Low);
        assert_eq!("HIGH".parse::<Severity>().unwrap(), Severity::High);
        assert!("urgent".parse::<Severity>().is_err());
    }

    #[test]
    fn findings_sort_by_severity_time_rule() {
        let mut a = Finding::new("b-rule", Severity::High, "t");
        a.time = Some(10);
        let mut b = Finding::new("a-rule", Severity::High, "t");
        b.time = Some(10);
        let mut c = Finding::new("z", Severity::Critical, "t");
        c.time = Some(99);
        let mut d = Finding::new("a-rule", Severity::High, "t");
        d.time = Some(5);
        let mut v = vec![a, b, c, d];
        sort_findings(&mut v);
        let order: Vec<_> = v
            .iter()
            .map(|f| (f.rule.as_str(), f.time.unwrap()))
            .collect();
        assert_eq!(
            order,
            vec![("z", 99), ("a-rule", 5), ("a-rule", 10), ("b-rule", 10)]
        );
    }
}
