//! What earlier runs of `rolecall report --state` saw, as the memory
//! detections and the report read it: prior runs and findings, the values
//! and actions already observed, and trends. The state (SQLite, under
//! `report`) reads and writes these; nothing here does I/O.

use std::collections::{HashMap, HashSet};

use serde::Serialize;

use super::time::Micros;
use super::Finding;

/// A run recorded before this one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PriorRun {
    pub id: i64,
    pub window_start: Micros,
    pub window_end: Micros,
    pub finished_at: Micros,
}

/// A finding present in the previous run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PriorFinding {
    pub fingerprint: String,
    pub rule: String,
    pub severity: String,
    pub title: String,
    pub message: String,
    pub role: Option<String>,
    pub subject: Option<String>,
    pub time: Option<Micros>,
}

/// Everything the memory detections and the statuses need.
#[derive(Debug, Clone, Default)]
pub struct History {
    /// The id of a run over the same window and inputs, which this run
    /// replaces.
    pub replaced: Option<i64>,
    /// Runs whose window started before this run's, oldest first.
    pub earlier: Vec<PriorRun>,
    /// Every other run's window, for checking that history has no holes.
    pub coverage: Vec<(Micros, Micros)>,
    /// (role, kind, value) → when any other run first saw it.
    pub role_values: HashMap<(String, String, String), Micros>,
    /// role → its earliest observation in any other run.
    pub role_first_seen: HashMap<String, Micros>,
    /// (workflow, action) → first seen in another run.
    pub workflow_actions: HashMap<(String, String), Micros>,
    /// workflow → its earliest observation in another run.
    pub workflow_first_seen: HashMap<String, Micros>,
    /// role → its last exchange before this run's window.
    pub last_exchange: HashMap<String, Micros>,
    /// Fingerprints present in any earlier run.
    pub earlier_fingerprints: HashSet<String>,
    /// Findings present in the previous run (the latest earlier one).
    pub previous_findings: Vec<PriorFinding>,
    /// The long-term keys the previous run saw.
    pub previous_keys: Vec<KeyObservation>,
}

impl History {
    pub fn previous(&self) -> Option<&PriorRun> {
        self.earlier.last()
    }

    /// When history starts: the earliest window of any earlier run.
    pub fn start(&self) -> Option<Micros> {
        self.earlier.iter().map(|r| r.window_start).min()
    }

    /// Whether the other runs' windows cover `[from, to]` with no hole longer
    /// than `max_gap`.
    pub fn covers(&self, from: Micros, to: Micros, max_gap: Micros) -> bool {
        let mut windows: Vec<(Micros, Micros)> = self
            .coverage
            .iter()
            .copied()
            .filter(|w| w.1 >= from && w.0 <= to)
            .collect();
        windows.sort();
        let mut reached = from;
        for (start, end) in windows {
            if start > reached + max_gap {
                return false;
            }
            reached = reached.max(end);
        }
        reached + max_gap >= to
    }
}

/// A value a role's sessions came from in this run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RoleValue {
    pub role: String,
    /// issuer, repository, ref, environment, workflow or trigger.
    pub kind: &'static str,
    pub value: String,
    pub first_seen: Micros,
    pub last_seen: Micros,
    pub sessions: i64,
    /// The first session that showed it.
    pub session_key: String,
}

/// An API action a workflow's sessions called in this run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WorkflowAction {
    pub workflow: String,
    pub action: String,
    pub first_seen: Micros,
    pub last_seen: Micros,
    pub calls: i64,
    pub session_key: String,
}

/// One exchange, successful or not.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExchangeRow {
    pub event_id: String,
    pub time: Micros,
    pub role: String,
    pub tier: Option<String>,
    pub failed: bool,
}

/// A long-term key as a run judged it, so that the next run can say
/// which keys stopped being used from CI.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyObservation {
    pub key: String,
    pub user: Option<String>,
    pub account: Option<String>,
    /// [`Verdict::id`](super::keys::Verdict::id).
    pub verdict: String,
    pub in_ci: bool,
    pub last_used: Option<Micros>,
    pub calls: i64,
}

/// What a run observed, for the baseline.
#[derive(Debug, Clone, Default)]
pub struct Observations {
    pub role_values: Vec<RoleValue>,
    pub workflow_actions: Vec<WorkflowAction>,
    pub exchanges: Vec<ExchangeRow>,
    pub static_keys: Vec<KeyObservation>,
}

/// A finding's standing across runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    /// Not present in any earlier run.
    New,
    /// Present in an earlier run too.
    Recurring,
    /// Present in the previous run, gone from this one.
    Resolved,
}

impl Status {
    pub fn as_str(self) -> &'static str {
        match self {
            Status::New => "new",
            Status::Recurring => "recurring",
            Status::Resolved => "resolved",
        }
    }
}

/// Each finding's status against `history`.
pub fn statuses(findings: &[Finding], history: &History) -> Vec<Status> {
    findings
        .iter()
        .map(|f| {
            if history.earlier_fingerprints.contains(&f.fingerprint) {
                Status::Recurring
            } else {
                Status::New
            }
        })
        .collect()
}

/// The previous run's findings that this run did not see again.
pub fn resolved<'h>(findings: &[Finding], history: &'h History) -> Vec<&'h PriorFinding> {
    let now: HashSet<&str> = findings.iter().map(|f| f.fingerprint.as_str()).collect();
    history
        .previous_findings
        .iter()
        .filter(|p| !now.contains(p.fingerprint.as_str()))
        .collect()
}

/// One run, for the trends.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct RunTrend {
    pub id: i64,
    #[serde(serialize_with = "crate::model::time::ser_micros")]
    pub window_start: Micros,
    #[serde(serialize_with = "crate::model::time::ser_micros")]
    pub window_end: Micros,
    pub exchanges: i64,
    pub failed_exchanges: i64,
    pub findings: i64,
    pub critical: i64,
    pub high: i64,
    pub medium: i64,
    pub low: i64,
    pub info: i64,
    pub new: i64,
    pub resolved: i64,
}

/// Exchanges on one UTC day.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct DayTrend {
    pub day: String,
    pub exchanges: i64,
    pub failed: i64,
}

/// Trends across the state: the last `max_runs` runs (oldest first) and
/// exchanges per day over the `days` days ending at `until`.
#[derive(Debug, Clone, Default, Serialize, PartialEq, Eq)]
pub struct Trends {
    pub runs: Vec<RunTrend>,
    pub days: Vec<DayTrend>,
}
