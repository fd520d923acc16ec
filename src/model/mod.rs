//! The shared vocabulary of every stage: events, exchanges, claims, jobs,
//! sessions, findings, and the [`Report`] that carries them from the engine
//! to the outputs and the dashboard. Pure data and pure helpers (time,
//! refs, subjects, role names, table cells); no I/O. Imports only the
//! leaves `error` and `text`.

pub mod cells;
pub mod events;
pub mod finding;
pub mod fingerprint;
pub mod gaps;
pub mod history;
pub mod interner;
pub mod keys;
pub mod policy_doc;
pub mod records;
pub mod refs;
pub mod rule;
pub mod secrets;
pub mod subject;
pub mod tables;
pub mod time;
pub mod trust;

pub use events::{EventRow, EventStore, NO_TIME};
pub use finding::{
    sort_findings, Finding, Severity, SeverityCounts, SkippedFile, Summary, Suppressed, Unchecked,
    Unread,
};
pub use interner::{Interner, Sym};
pub use records::{
    Assumption, ClaimsMatch, FederatedCredential, JobRecord, MatchKind, RunWindow, Session,
    TokenClaims,
};
pub use subject::{Fact, Provider};
pub use time::Micros;

/// The part of a role identifier that names it: after `:role/` in an ARN,
/// the local part of a service account email, the role in a Vault path.
pub fn role_name(role: &str) -> &str {
    if let Some((_, name)) = role.split_once(":role/") {
        return name;
    }
    if let Some((local, domain)) = role.split_once('@') {
        if domain.ends_with(".gserviceaccount.com") {
            return local;
        }
    }
    role.rsplit_once("/role/").map_or(role, |(_, r)| r)
}

/// The account in an ARN (`arn:aws:iam::111111111111:...`).
pub fn account_of_arn(arn: &str) -> Option<String> {
    let parts: Vec<&str> = arn.splitn(6, ':').collect();
    (parts.len() == 6 && parts[0] == "arn" && !parts[4].is_empty()).then(|| parts[4].to_string())
}

/// A value for a sentence: the text, or `unknown`.
pub fn format_opt(s: Option<&str>) -> &str {
    s.unwrap_or("unknown")
}

/// Everything one engine run produced.
#[derive(Debug, Default, Clone)]
pub struct Report {
    /// Input paths, indexed by the `file` fields of every row.
    pub files: Vec<String>,
    pub events: EventStore,
    pub assumptions: Vec<Assumption>,
    /// The claims join for each exchange, index for index.
    pub matches: Vec<ClaimsMatch>,
    pub claims: Vec<TokenClaims>,
    pub jobs: Vec<JobRecord>,
    pub runs: Vec<RunWindow>,
    pub sessions: Vec<Session>,
    pub findings: Vec<Finding>,
    /// Findings that suppressions accepted.
    pub suppressed: Vec<Suppressed>,
    pub summary: Summary,
    /// The first and last event time read, counting the events not kept
    /// (`IngestOptions::elide_unrelated_events`).
    pub event_span: Option<(time::Micros, time::Micros)>,
    /// The long-term keys seen and what IAM says of them.
    pub keys: keys::KeyReport,
}

impl Report {
    pub fn file_name(&self, file: u32) -> &str {
        self.files.get(file as usize).map_or("?", |s| s.as_str())
    }

    /// The session behind a finding's `session_key`.
    pub fn session(&self, key: &str) -> Option<&Session> {
        self.sessions.iter().find(|s| s.key == key)
    }
}
