//! Detect: the policy applied to sessions, the detections run, findings
//! made.
//!
//! [`evaluate`] computes what SQL does badly (policy globs, CIDRs, tiers) as
//! columns and registers the tables; [`run`] executes the SQL detections
//! (`queries/*.sql` and the user's `--queries`) and the Rust ones, and maps
//! every result row to a [`Finding`]. [`registry`] lists them all, SQL and
//! Rust, for `rolecall rules`; [`rules`] holds the Rust ones, one file
//! each. Imports `model`, `policy`, `trust`, `error` and `text`; knows
//! nothing of files or output.

pub mod keys;
pub mod registry;
pub mod rules;
pub mod sql;
pub mod suppress;
pub mod tables;

pub use registry::catalogue;
pub use rules::trust;

use crate::model::fingerprint::fingerprint;
use std::collections::{BTreeMap, HashMap};

use polars::prelude::*;
use polars::sql::SQLContext;
use rayon::iter::{IntoParallelRefIterator, ParallelIterator};
use serde_json::{Map, Value};

use self::rules::failure_burst;
use self::sql::{QueryDef, SessionFields};
use self::tables::{Derived, UncheckedLog};
use crate::error::QueryError;
use crate::model::cells::cell_value;
use crate::model::events::EventStore;
use crate::model::records::{Assumption, ClaimsMatch, JobRecord, RunWindow, Session, TokenClaims};
use crate::model::tables::{self as base, FrameBuilder};
use crate::model::{Finding, Unchecked};
use crate::policy::Policy;

/// What the engine reads.
pub struct Input<'a> {
    pub files: &'a [String],
    pub events: &'a EventStore,
    pub assumptions: &'a [Assumption],
    pub matches: &'a [ClaimsMatch],
    pub claims: &'a [TokenClaims],
    pub jobs: &'a [JobRecord],
    pub runs: &'a [RunWindow],
    pub sessions: &'a [Session],
}

impl<'a> Input<'a> {
    /// What a finished run read, to build more tables from.
    pub fn of(r: &'a crate::model::Report) -> Self {
        Input {
            files: &r.files,
            events: &r.events,
            assumptions: &r.assumptions,
            matches: &r.matches,
            claims: &r.claims,
            jobs: &r.jobs,
            runs: &r.runs,
            sessions: &r.sessions,
        }
    }
}

/// The registered tables, by name.
#[derive(Default)]
pub struct Tables {
    pub frames: BTreeMap<String, DataFrame>,
}

impl Tables {
    pub fn get(&self, name: &str) -> Option<&DataFrame> {
        self.frames.get(name)
    }

    /// Registers every table in a SQL context.
    pub fn context(&self) -> SQLContext {
        let ctx = SQLContext::new();
        for (name, df) in &self.frames {
            ctx.register(name, df.clone().lazy());
        }
        ctx
    }

    /// Adds `events` (built on demand: it is the one large table).
    pub fn add_events(&mut self, input: &Input<'_>) {
        self.frames
            .entry("events".into())
            .or_insert_with(|| base::events_frame(input.events, input.files));
    }

    /// Adds `findings`, for `rolecall query`.
    pub fn add_findings(&mut self, findings: &[Finding]) {
        let f = findings;
        let mut b = FrameBuilder::new(f.len());
        b.str("rule", f.iter().map(|x| Some(x.rule.as_str())))
            .str(
                "fingerprint",
                f.iter().map(|x| Some(x.fingerprint.as_str())),
            )
            .str("severity", f.iter().map(|x| Some(x.severity.as_str())))
            .str("title", f.iter().map(|x| Some(x.title.as_str())))
            .str("message", f.iter().map(|x| Some(x.message.as_str())))
            .time("time", f.iter().map(|x| x.time))
            .str("cloud", f.iter().map(|x| x.cloud.as_deref()))
            .str("account", f.iter().map(|x| x.account.as_deref()))
            .str("role", f.iter().map(|x| x.role.as_deref()))
            .str("issuer", f.iter().map(|x| x.issuer.as_deref()))
            .str("subject", f.iter().map(|x| x.subject.as_deref()))
            .str("repository", f.iter().map(|x| x.repository.as_deref()))
            .str("ref", f.iter().map(|x| x.git_ref.as_deref()))
            .str("environment", f.iter().map(|x| x.environment.as_deref()))
            .str("trigger", f.iter().map(|x| x.trigger.as_deref()))
            .str("run_id", f.iter().map(|x| x.run_id.as_deref()))
            .str("session_key", f.iter().map(|x| x.session_key.as_deref()))
            .str("source_ip", f.iter().map(|x| x.source_ip.as_deref()))
            .string("event_ids", f.iter().map(|x| Some(x.event_ids.join(","))))
            .string(
                "evidence",
                f.iter()
                    .map(|x| Some(Value::Object(x.evidence.clone()).to_string())),
            );
        self.frames.insert("findings".into(), b.finish());
    }
}

/// The policy applied to every session, and the tables built from it.
pub struct Evaluation {
    pub derived: Vec<Derived>,
    pub unchecked: Vec<Unchecked>,
    pub tables: Tables,
}

/// Applies the policy and builds every table but `events` and `findings`.
pub fn evaluate(input: &Input<'_>, policy: &Policy) -> Evaluation {
    let mut issuers_with_claims: Vec<String> =
        input.claims.iter().map(|c| c.issuer.clone()).collect();
    issuers_with_claims.sort();
    issuers_with_claims.dedup();
    // The per-session facts and the sessions table, the activity table, and
    // each of the small tables are independent: built side by side, the
    // small ones as separate tasks so that whichever core is free takes
    // them (1M benchmark: 25, 29 and 23 ms for the three groups).
    let ((derived, log, sessions), (activity, rest)) = rayon::join(
        || {
            let mut log = UncheckedLog::default();
            let mut memo = tables::PolicyMemo::default();
            let derived: Vec<Derived> = input
                .sessions
                .iter()
                .map(|s| {
                    tables::derive(
                        policy,
                        s,
                        &input.assumptions[s.assumption],
                        input.runs,
                        &issuers_with_claims,
                        &mut log,
                        &mut memo,
                    )
                })
                .collect();
            let sessions =
                tables::sessions_frame(input.sessions, &derived, input.assumptions, input.claims);
            (derived, log, sessions)
        },
        || {
            rayon::join(
                || tables::activity_frame(input.sessions, input.assumptions, policy, input.events),
                || {
                    let small: [(&str, &(dyn Fn() -> DataFrame + Sync)); 5] = [
                        ("sensitive_actions", &|| {
                            tables::sensitive_actions_frame(policy)
                        }),
                        ("assumptions", &|| {
                            base::assumptions_frame(
                                input.assumptions,
                                input.matches,
                                input.claims,
                                input.sessions,
                                input.files,
                            )
                        }),
                        ("claims", &|| base::claims_frame(input.claims, input.files)),
                        ("jobs", &|| base::jobs_frame(input.jobs, input.files)),
                        ("runs", &|| base::runs_frame(input.runs)),
                    ];
                    small
                        .par_iter()
                        .map(|(name, build)| (*name, build()))
                        .collect::<Vec<_>>()
                },
            )
        },
    );
    let mut t = Tables::default();
    t.frames.insert("sessions".into(), sessions);
    t.frames.insert("activity".into(), activity);
    for (name, frame) in rest {
        t.frames.insert(name.into(), frame);
    }
    Evaluation {
        derived,
        unchecked: log.into_list(),
        tables: t,
    }
}

/// True when the SQL mentions a table name as a word.
pub fn mentions(sql: &str, table: &str) -> bool {
    let lower = sql.to_ascii_lowercase();
    let b = lower.as_bytes();
    let mut from = 0;
    while let Some(i) = lower[from..].find(table) {
        let start = from + i;
        let end = start + table.len();
        let word = |c: u8| c.is_ascii_alphanumeric() || c == b'_';
        if (start == 0 || !word(b[start - 1])) && (end == b.len() || !word(b[end])) {
            return true;
        }
        from = end;
    }
    false
}

/// Session rows as JSON objects, built only for sessions a finding names.
struct SessionCache<'a> {
    df: &'a DataFrame,
    index: HashMap<String, usize>,
    rows: SessionFields,
}

impl<'a> SessionCache<'a> {
    fn new(df: &'a DataFrame) -> Self {
        let index = df
            .column("session_key")
            .ok()
            .and_then(|c| c.str().ok())
            .map(|c| {
                c.iter()
                    .enumerate()
                    .filter_map(|(i, k)| k.map(|k| (k.to_string(), i)))
                    .collect()
            })
            .unwrap_or_default();
        SessionCache {
            df,
            index,
            rows: HashMap::new(),
        }
    }

    fn load(&mut self, keys: impl Iterator<Item = String>) {
        for key in keys {
            if self.rows.contains_key(&key) {
                continue;
            }
            let Some(&i) = self.index.get(&key) else {
                continue;
            };
            let mut row = Map::new();
            for col in self.df.columns() {
                if let Ok(v) = col.get(i) {
                    row.insert(col.name().to_string(), cell_value(&v));
                }
            }
            // Aliases templates and findings use.
            if let Some(v) = row.get("role_arn").cloned() {
                row.insert("role".into(), v);
            }
            self.rows.insert(key, row);
        }
    }
}

/// Runs the enabled detections and returns their findings (unsorted).
pub fn run<'q>(
    eval: &mut Evaluation,
    input: &Input<'_>,
    policy: &Policy,
    queries: impl IntoIterator<Item = &'q QueryDef>,
    enabled: &dyn Fn(&str) -> bool,
) -> Result<Vec<Finding>, QueryError> {
    let active: Vec<&QueryDef> = queries.into_iter().filter(|q| enabled(q.id())).collect();
    if active.iter().any(|q| mentions(&q.sql, "events")) {
        eval.tables.add_events(input);
    }
    let mut findings = run_sql(&eval.tables, &active)?;
    findings.extend(run_rust(input.assumptions, &policy.settings, enabled));
    Ok(findings)
}

/// Runs SQL detections over registered tables (the engine's, or a
/// dataset's read back from Parquet).
pub fn run_sql(tables: &Tables, active: &[&QueryDef]) -> Result<Vec<Finding>, QueryError> {
    let mut ctx = tables.context();
    let empty = DataFrame::empty();
    let sessions_df = tables.get("sessions").unwrap_or(&empty);
    let mut cache = SessionCache::new(sessions_df);
    let mut findings = Vec::new();
    for q in active {
        let df = ctx
            .execute(&q.sql)
            .and_then(|lf| lf.collect())
            .map_err(|e| QueryError::Run {
                id: q.id().to_string(),
                path: q.path().to_string(),
                reason: e.to_string(),
            })?;
        if let Ok(keys) = df
            .column("session_key")
            .and_then(|c| c.cast(&DataType::String))
        {
            let keys: Vec<String> = keys
                .str()
                .map(|c| c.iter().flatten().map(str::to_string).collect())
                .unwrap_or_default();
            cache.load(keys.into_iter());
        }
        let mut found = sql::findings_from_frame(q, &df, &cache.rows)?;
        for f in &mut found {
            f.fingerprint = fingerprint(f, &q.rule.identity);
        }
        findings.extend(found);
    }
    Ok(findings)
}

/// Findings from result rows queries produced elsewhere (Spark, Trino,
/// Athena over an exported dataset), with `tables` for the session fields
/// the rows leave out: the same mapping as [`run_sql`]'s, one session
/// lookup for all the queries.
pub fn findings_from_rows(
    tables: &Tables,
    results: Vec<(&QueryDef, Vec<Map<String, Value>>)>,
) -> Result<Vec<Finding>, QueryError> {
    let empty = DataFrame::empty();
    let mut cache = SessionCache::new(tables.get("sessions").unwrap_or(&empty));
    cache.load(results.iter().flat_map(|(_, rows)| {
        rows.iter().filter_map(|r| match r.get("session_key") {
            Some(Value::String(k)) => Some(k.clone()),
            _ => None,
        })
    }));
    let mut findings = Vec::new();
    for (q, rows) in results {
        for mut cells in rows {
            for v in cells.values_mut() {
                same_time_text(v);
            }
            let mut f =
                sql::finding_from_row(q, cells, &cache.rows).map_err(|reason| QueryError::Run {
                    id: q.id().to_string(),
                    path: q.path().to_string(),
                    reason,
                })?;
            f.fingerprint = fingerprint(&f, &q.rule.identity);
            findings.push(f);
        }
    }
    Ok(findings)
}

/// Writes a timestamp another engine wrote (`2025-05-14 13:24:00.000`,
/// `...T13:24:00.000000Z`) as rolecall writes times, so that messages,
/// evidence and fingerprints come out as a local run's.
fn same_time_text(v: &mut Value) {
    match v {
        Value::String(s) if looks_like_timestamp(s) => {
            if let Some(t) = crate::model::time::parse_timestamp(s) {
                *s = crate::model::time::format_time(t);
            }
        }
        Value::Array(items) => items.iter_mut().for_each(same_time_text),
        _ => {}
    }
}

/// `YYYY-MM-DD` then `T` or a space and a time: nothing else is rewritten.
fn looks_like_timestamp(s: &str) -> bool {
    let b = s.as_bytes();
    (19..=40).contains(&b.len())
        && b[..4].iter().all(u8::is_ascii_digit)
        && b[4] == b'-'
        && b[7] == b'-'
        && matches!(b[10], b'T' | b' ')
        && b[13] == b':'
}

/// Runs the detections written in Rust.
pub fn run_rust(
    assumptions: &[Assumption],
    settings: &crate::policy::Settings,
    enabled: &dyn Fn(&str) -> bool,
) -> Vec<Finding> {
    let mut findings = Vec::new();
    if enabled(failure_burst::ID) {
        let mut found = failure_burst::detect(assumptions, settings);
        for f in &mut found {
            f.fingerprint = fingerprint(f, &failure_burst::RULE.identity);
        }
        findings.extend(found);
    }
    findings
}

/// The static-key rules over a run's [`KeyReport`](crate::model::keys::KeyReport).
pub fn run_keys(
    keys: &crate::model::keys::KeyReport,
    policy: &Policy,
    enabled: &dyn Fn(&str) -> bool,
) -> Vec<Finding> {
    use rules::{static_key_after_migration, static_key_in_ci, static_key_old, static_key_unused};
    let mut findings = Vec::new();
    if enabled(&static_key_in_ci::RULE.id) {
        findings.extend(static_key_in_ci::check(keys));
    }
    if enabled(&static_key_after_migration::RULE.id) {
        findings.extend(static_key_after_migration::check(keys));
    }
    if enabled(&static_key_unused::RULE.id) {
        findings.extend(static_key_unused::check(keys, policy));
    }
    if enabled(&static_key_old::RULE.id) {
        findings.extend(static_key_old::check(keys, policy));
    }
    findings
}

/// Adds `keys`, one row per long-term key, for `rolecall query` and the
/// export (built on demand: the detections read the rows, not the frame).
impl Tables {
    pub fn add_keys(&mut self, keys: &crate::model::keys::KeyReport) {
        self.frames.insert("keys".into(), keys::keys_frame(keys));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn other_engines_timestamps_read_as_rolecall_writes_them() {
        for text in [
            "2025-05-14 13:24:00.000",
            "2025-05-14T13:24:00.000000Z",
            "2025-05-14T13:24:00+00:00",
        ] {
            let mut v = Value::from(text);
            same_time_text(&mut v);
            assert_eq!(v, Value::from("2025-05-14T13:24:00Z"), "{text}");
        }
        let mut v = serde_json::json!(["2025-05-14 13:24:00.5", "GetObject", "2025-05-14"]);
        same_time_text(&mut v);
        assert_eq!(
            v,
            serde_json::json!(["2025-05-14T13:24:00.500000Z", "GetObject", "2025-05-14"])
        );
    }

    #[test]
    fn mentions_finds_whole_words() {
        assert!(mentions("SELECT * FROM events e", "events"));
        assert!(mentions("select * from EVENTS", "events"));
        assert!(!mentions("SELECT * FROM sensitive_events_x", "events"));
        assert!(!mentions("SELECT event_ids FROM activity", "events"));
    }
}
