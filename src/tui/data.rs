//! What the dashboard shows, computed once from the engine's [`Report`] and
//! tables: rows for the findings, sessions and roles tables, exchange points
//! for the timeline, and session details on demand. Every string that came
//! from a log is made terminal-safe here, so no view can forget to.

use std::cmp::Ordering;
use std::collections::{BTreeMap, BTreeSet, HashMap};

use polars::prelude::DataFrame;

use super::table::TableKind;
use crate::model::records::MatchKind;
use crate::model::time::{format_time, Micros};
use crate::model::{Finding, Report, Severity};
use crate::text::terminal;

/// A terminal-safe copy of a log-derived string.
pub fn safe(s: &str) -> String {
    terminal(s).into_owned()
}

fn opt(s: Option<&str>) -> String {
    s.map(safe).unwrap_or_default()
}

/// `2025-05-14 10:05:54` (UTC), or empty.
pub fn short_time(t: Option<Micros>) -> String {
    match t {
        Some(t) => format_time(t)
            .replace('T', " ")
            .trim_end_matches('Z')
            .to_string(),
        None => String::new(),
    }
}

/// One finding, ready to show.
#[derive(Debug, Clone)]
pub struct FindingRow {
    pub severity: Severity,
    pub time: Option<Micros>,
    pub rule: String,
    pub role: String,
    pub repository: String,
    pub git_ref: String,
    pub environment: String,
    pub source_ip: String,
    pub account: String,
    pub message: String,
    /// The session it rests on, as an index into `Data::sessions`.
    pub session: Option<usize>,
    /// Everything searchable, lower-cased.
    pub haystack: String,
}

/// One session, ready to show.
#[derive(Debug, Clone)]
pub struct SessionRow {
    pub key: String,
    pub time: Option<Micros>,
    pub cloud: String,
    pub account: String,
    pub issuer: String,
    pub subject: String,
    pub role: String,
    pub tier: String,
    pub repository: String,
    pub git_ref: String,
    pub environment: String,
    pub matched: MatchKind,
    pub run_id: String,
    pub calls: usize,
    pub distinct_ips: usize,
    pub first_use: Option<Micros>,
    pub last_use: Option<Micros>,
    pub findings: usize,
    pub worst: Option<Severity>,
    pub haystack: String,
}

/// One role: what its trust boundary looks like in practice.
#[derive(Debug, Clone, Default)]
pub struct RoleRow {
    pub role: String,
    pub account: String,
    pub tier: String,
    pub exchanges: usize,
    pub failures: usize,
    pub sessions: usize,
    pub findings: usize,
    pub repositories: Vec<String>,
    pub refs: Vec<String>,
    pub environments: Vec<String>,
    pub workflows: Vec<String>,
    pub haystack: String,
}

/// One exchange, for the timeline.
#[derive(Debug, Clone)]
pub struct ExchangePoint {
    pub time: Micros,
    pub tier: String,
    pub role: String,
    pub failed: bool,
}

/// The dashboard's data.
pub struct Data {
    pub report: Report,
    pub findings: Vec<FindingRow>,
    pub sessions: Vec<SessionRow>,
    pub roles: Vec<RoleRow>,
    pub exchanges: Vec<ExchangePoint>,
    /// Session index of each finding's session, by finding index.
    pub findings_by_session: HashMap<usize, Vec<usize>>,
    /// One row per long-term key, index for index with `report.keys.rows`.
    pub keys: Vec<KeyViewRow>,
    /// Sort ranks of the findings, sessions, roles and keys tables (in
    /// [`TableKind`] order); see [`super::table::ranks`].
    pub ranks: [Vec<Vec<u32>>; 4],
}

/// One long-term key, ready to show.
#[derive(Debug, Clone)]
pub struct KeyViewRow {
    pub verdict: crate::model::keys::Verdict,
    pub user: String,
    pub key: String,
    pub account: String,
    pub active: String,
    pub last_used: Option<Micros>,
    pub calls: u64,
    pub addresses: usize,
    pub links: String,
    pub idle_days: Option<i64>,
    pub age_days: Option<i64>,
    /// The most severe finding about this key.
    pub worst: Option<Severity>,
    /// Same-runner federated sessions, as indices into `Data::sessions`.
    pub shared_sessions: Vec<usize>,
    pub haystack: String,
}

fn key_rows(report: &Report, key_index: &HashMap<&str, usize>) -> Vec<KeyViewRow> {
    use crate::model::keys::LinkKind;
    let mut worst: HashMap<&str, Severity> = HashMap::new();
    for f in &report.findings {
        if let Some(id) = f.evidence.get("access_key_id").and_then(|v| v.as_str()) {
            let w = worst.entry(id).or_insert(f.severity);
            *w = (*w).max(f.severity);
        }
    }
    report
        .keys
        .rows
        .iter()
        .map(|k| {
            let id = k.key_id.as_deref().unwrap_or(&k.key);
            let mut kinds: Vec<&str> = k.links.iter().map(|l| l.kind.as_str()).collect();
            kinds.dedup();
            let row = KeyViewRow {
                verdict: k.verdict,
                user: opt(k.user.as_deref()),
                key: safe(&k.key),
                account: opt(k.account.as_deref()),
                active: match k.active {
                    Some(true) => "active".into(),
                    Some(false) => "inactive".into(),
                    None => String::new(),
                },
                last_used: k.last_used(),
                calls: k.calls,
                addresses: k.addresses.len(),
                links: kinds.join(", "),
                idle_days: k.idle_days,
                age_days: k.age_days,
                worst: worst.get(id).copied(),
                shared_sessions: k
                    .links
                    .iter()
                    .filter(|l| l.kind == LinkKind::SameRunner)
                    .filter_map(|l| l.session_key.as_deref())
                    .filter_map(|s| key_index.get(s).copied())
                    .collect(),
                haystack: String::new(),
            };
            KeyViewRow {
                haystack: [
                    row.user.as_str(),
                    row.key.as_str(),
                    row.account.as_str(),
                    k.verdict.as_str(),
                    row.links.as_str(),
                    &k.addresses
                        .iter()
                        .map(|(a, _)| safe(a))
                        .collect::<Vec<_>>()
                        .join(" "),
                    &k.federating_repositories
                        .iter()
                        .map(|r| safe(r))
                        .collect::<Vec<_>>()
                        .join(" "),
                ]
                .join(" ")
                .to_lowercase(),
                ..row
            }
        })
        .collect()
}

fn column_str(df: Option<&DataFrame>, name: &str) -> Vec<Option<String>> {
    let Some(df) = df else { return Vec::new() };
    match df.column(name).and_then(|c| c.str().cloned()) {
        Ok(c) => c.iter().map(|v| v.map(str::to_string)).collect(),
        Err(_) => Vec::new(),
    }
}

/// A role as the tables show it: the name first, because narrow columns
/// cut from the right (`deploy-prod (111111111111)`); roles that are not
/// AWS ARNs (service accounts, Entra apps, Vault roles) as they are.
pub fn short_role(arn: &str) -> String {
    match (arn.split(':').nth(4), arn.split_once(":role/")) {
        (Some(account), Some((_, name))) if !account.is_empty() => format!("{name} ({account})"),
        _ => arn.to_string(),
    }
}

impl Data {
    /// Builds the rows. `sessions_table` is the engine's `sessions` frame
    /// (for the policy columns: tiers); without it tiers show as unknown.
    pub fn build(report: Report, sessions_table: Option<&DataFrame>) -> Data {
        let role_tier = column_str(sessions_table, "role_tier");
        let key_index: HashMap<&str, usize> = report
            .sessions
            .iter()
            .enumerate()
            .map(|(i, s)| (s.key.as_str(), i))
            .collect();
        let mut findings_by_session: HashMap<usize, Vec<usize>> = HashMap::new();
        let findings: Vec<FindingRow> = report
            .findings
            .iter()
            .enumerate()
            .map(|(fi, f)| {
                let session = f
                    .session_key
                    .as_deref()
                    .and_then(|k| key_index.get(k).copied());
                if let Some(si) = session {
                    findings_by_session.entry(si).or_default().push(fi);
                }
                finding_row(f, session)
            })
            .collect();
        let sessions: Vec<SessionRow> = report
            .sessions
            .iter()
            .enumerate()
            .map(|(si, s)| {
                let a = &report.assumptions[s.assumption];
                let own = findings_by_session.get(&si);
                let worst =
                    own.and_then(|v| v.iter().map(|&fi| report.findings[fi].severity).max());
                let role = s
                    .role_arn
                    .as_deref()
                    .map(|r| safe(&short_role(r)))
                    .unwrap_or_default();
                let tier = role_tier.get(si).cloned().flatten().unwrap_or_default();
                let row = SessionRow {
                    key: safe(&s.key),
                    time: a.time,
                    cloud: safe(&a.cloud),
                    account: opt(a.account.as_deref()),
                    issuer: opt(a.issuer.as_deref()),
                    subject: opt(a.subject.as_deref()),
                    role,
                    tier,
                    repository: opt(s.repository.value.as_deref()),
                    git_ref: opt(s.git_ref.value.as_deref()),
                    environment: opt(s.environment.value.as_deref()),
                    matched: s.matched.kind,
                    run_id: opt(s.run_id.as_deref()),
                    calls: s.calls,
                    distinct_ips: s.distinct_ips,
                    first_use: s.first_use,
                    last_use: s.last_use,
                    findings: own.map_or(0, Vec::len),
                    worst,
                    haystack: String::new(),
                };
                SessionRow {
                    haystack: [
                        &row.key,
                        &row.account,
                        &row.issuer,
                        &row.subject,
                        &row.role,
                        &opt(s.role_arn.as_deref()),
                        &row.repository,
                        &row.git_ref,
                        &row.environment,
                        &row.run_id,
                        &row.cloud,
                    ]
                    .iter()
                    .map(|s| s.to_lowercase())
                    .collect::<Vec<_>>()
                    .join(" "),
                    ..row
                }
            })
            .collect();

        // Roles: every exchange, failed ones too.
        let session_of: HashMap<usize, usize> = report
            .sessions
            .iter()
            .enumerate()
            .map(|(i, s)| (s.assumption, i))
            .collect();
        let mut roles: BTreeMap<String, RoleRow> = BTreeMap::new();
        let mut sets: HashMap<String, [BTreeSet<String>; 4]> = HashMap::new();
        let mut exchanges = Vec::new();
        for (ai, a) in report.assumptions.iter().enumerate() {
            let si = session_of.get(&ai).copied();
            let role_raw = si
                .and_then(|si| report.sessions[si].role_arn.clone())
                .or_else(|| a.role_arn.clone())
                .unwrap_or_else(|| "(unknown role)".into());
            let role = safe(&short_role(&role_raw));
            let entry = roles.entry(role.clone()).or_insert_with(|| RoleRow {
                role: role.clone(),
                account: opt(a.account.as_deref()),
                ..Default::default()
            });
            entry.exchanges += 1;
            if !a.succeeded() {
                entry.failures += 1;
            }
            let tier = si.map(|si| sessions[si].tier.clone()).unwrap_or_default();
            if entry.tier.is_empty() {
                entry.tier = tier.clone();
            }
            if let Some(si) = si {
                entry.sessions += 1;
                entry.findings += sessions[si].findings;
                let s = &report.sessions[si];
                let set = sets.entry(role.clone()).or_default();
                for (i, v) in [
                    &s.repository.value,
                    &s.git_ref.value,
                    &s.environment.value,
                    &s.workflow_ref.value,
                ]
                .iter()
                .enumerate()
                {
                    if let Some(v) = v {
                        set[i].insert(safe(v));
                    }
                }
            }
            if let Some(t) = a.time {
                exchanges.push(ExchangePoint {
                    time: t,
                    tier: if tier.is_empty() {
                        "unknown".into()
                    } else {
                        tier
                    },
                    role: role.clone(),
                    failed: !a.succeeded(),
                });
            }
        }
        for f in &report.findings {
            if f.session_key.is_none() {
                if let Some(r) = f
                    .role
                    .as_deref()
                    .and_then(|r| roles.get_mut(&safe(&short_role(r))))
                {
                    r.findings += 1;
                }
            }
        }
        let roles: Vec<RoleRow> = roles
            .into_values()
            .map(|mut r| {
                if let Some([repos, refs, envs, workflows]) = sets.remove(&r.role) {
                    r.repositories = repos.into_iter().collect();
                    r.refs = refs.into_iter().collect();
                    r.environments = envs.into_iter().collect();
                    r.workflows = workflows.into_iter().collect();
                }
                r.haystack = format!(
                    "{} {} {} {} {} {}",
                    r.role,
                    r.account,
                    r.tier,
                    r.repositories.join(" "),
                    r.refs.join(" "),
                    r.environments.join(" ")
                )
                .to_lowercase();
                r
            })
            .collect();
        exchanges.sort_by_key(|e| e.time);
        let keys = key_rows(&report, &key_index);
        drop(key_index);
        let mut data = Data {
            report,
            findings,
            sessions,
            roles,
            exchanges,
            findings_by_session,
            keys,
            ranks: Default::default(),
        };
        let ranks =
            TableKind::ALL.map(|k| super::table::ranks(super::table::source(&data, k).as_ref()));
        data.ranks = ranks;
        data
    }

    /// The sort ranks of one table.
    pub fn ranks_of(&self, kind: TableKind) -> &[Vec<u32>] {
        &self.ranks[kind as usize]
    }

    /// Findings of one session, most severe first.
    pub fn session_findings(&self, si: usize) -> Vec<&Finding> {
        self.findings_by_session
            .get(&si)
            .map(|v| v.iter().map(|&fi| &self.report.findings[fi]).collect())
            .unwrap_or_default()
    }
}

fn finding_row(f: &Finding, session: Option<usize>) -> FindingRow {
    let role = f.role.as_deref().map(short_role).unwrap_or_default();
    let repository = opt(f.repository.as_deref().or(f.subject.as_deref()));
    let row = FindingRow {
        severity: f.severity,
        time: f.time,
        rule: safe(&f.rule),
        role: safe(&role),
        repository,
        git_ref: opt(f.git_ref.as_deref()),
        environment: opt(f.environment.as_deref()),
        source_ip: opt(f.source_ip.as_deref()),
        account: opt(f.account.as_deref()),
        message: safe(&f.message),
        session,
        haystack: String::new(),
    };
    FindingRow {
        haystack: [
            row.rule.as_str(),
            row.role.as_str(),
            row.repository.as_str(),
            row.git_ref.as_str(),
            row.environment.as_str(),
            row.source_ip.as_str(),
            row.account.as_str(),
            row.message.as_str(),
            f.severity.as_str(),
        ]
        .join(" ")
        .to_lowercase(),
        ..row
    }
}

/// Orders optional times with unknown last.
pub fn cmp_time(a: Option<Micros>, b: Option<Micros>) -> Ordering {
    a.unwrap_or(i64::MAX).cmp(&b.unwrap_or(i64::MAX))
}
