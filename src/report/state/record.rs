//! Writing a run into the state, and reading trends back. Everything here
//! runs inside the run's transaction ([`super::State::begin`]).

use rusqlite::{params, Transaction};

use super::StateError;
use crate::model::history::{
    DayTrend, History, Observations, PriorFinding, RunTrend, Status, Trends,
};
use crate::model::time::Micros;
use crate::model::{Finding, Severity};

/// One run, as the `runs` table records it.
#[derive(Debug, Clone)]
pub struct RunRecord {
    pub window_key: String,
    pub started_at: Micros,
    pub finished_at: Micros,
    pub window_start: Micros,
    pub window_end: Micros,
    pub inputs: Vec<String>,
    pub policy: Option<String>,
    pub policy_sha256: Option<String>,
    pub files: i64,
    pub records: i64,
    pub events: i64,
    pub exchanges: i64,
    pub failed_exchanges: i64,
    pub sessions: i64,
    pub findings: i64,
    pub input_errors: i64,
    pub duration_ms: i64,
    pub version: String,
}

/// A pause inside the write, for the crash test (`kill -9` mid-write):
/// `ROLECALL_FAILPOINT=state-write-pause=MILLISECONDS`.
fn failpoint_pause() {
    if let Some(ms) = std::env::var("ROLECALL_FAILPOINT").ok().and_then(|v| {
        v.strip_prefix("state-write-pause=")
            .and_then(|n| n.parse::<u64>().ok())
    }) {
        std::thread::sleep(std::time::Duration::from_millis(ms));
    }
}

/// Records the run; returns its id. Replaces a run over the same window and
/// inputs, so re-running a window never double-counts.
#[allow(clippy::too_many_arguments)]
pub fn write(
    tx: &Transaction<'_>,
    path: &str,
    history: &History,
    run: &RunRecord,
    obs: &Observations,
    findings: &[Finding],
    statuses: &[Status],
    resolved: &[&PriorFinding],
) -> Result<i64, StateError> {
    let e = |x: rusqlite::Error| super::classify(path, x, std::time::Duration::ZERO);
    if let Some(old) = history.replaced {
        tx.execute("DELETE FROM runs WHERE id = ?1", [old])
            .map_err(e)?;
    }
    tx.execute(
        "INSERT INTO runs (window_key, started_at, finished_at, window_start, window_end, inputs, policy,
             policy_sha256, files, records, events, exchanges, failed_exchanges, sessions, findings,
             input_errors, duration_ms, version)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18)",
        params![
            run.window_key,
            run.started_at,
            run.finished_at,
            run.window_start,
            run.window_end,
            serde_json::to_string(&run.inputs).unwrap_or_default(),
            run.policy,
            run.policy_sha256,
            run.files,
            run.records,
            run.events,
            run.exchanges,
            run.failed_exchanges,
            run.sessions,
            run.findings,
            run.input_errors,
            run.duration_ms,
            run.version,
        ],
    )
    .map_err(e)?;
    let id = tx.last_insert_rowid();

    let mut stmt = tx
        .prepare_cached(
            "INSERT INTO role_values (run_id, role, kind, value, first_seen, last_seen, sessions)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
        )
        .map_err(e)?;
    for v in &obs.role_values {
        stmt.execute(params![
            id,
            v.role,
            v.kind,
            v.value,
            v.first_seen,
            v.last_seen,
            v.sessions
        ])
        .map_err(e)?;
    }
    let mut stmt = tx
        .prepare_cached(
            "INSERT INTO workflow_actions (run_id, workflow, action, first_seen, last_seen, calls)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
        )
        .map_err(e)?;
    for w in &obs.workflow_actions {
        stmt.execute(params![
            id,
            w.workflow,
            w.action,
            w.first_seen,
            w.last_seen,
            w.calls
        ])
        .map_err(e)?;
    }
    let mut stmt = tx
        .prepare_cached(
            "INSERT OR IGNORE INTO static_keys (run_id, key, user, account, verdict, in_ci, last_used, calls)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
        )
        .map_err(e)?;
    for k in &obs.static_keys {
        stmt.execute(params![
            id,
            k.key,
            k.user,
            k.account,
            k.verdict,
            k.in_ci,
            k.last_used,
            k.calls
        ])
        .map_err(e)?;
    }
    // An exchange already recorded by an overlapping run stays with it.
    let mut stmt = tx
        .prepare_cached(
            "INSERT OR IGNORE INTO exchanges (event_id, run_id, time, role, tier, failed)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
        )
        .map_err(e)?;
    for x in &obs.exchanges {
        stmt.execute(params![x.event_id, id, x.time, x.role, x.tier, x.failed])
            .map_err(e)?;
    }
    failpoint_pause();
    // Findings sharing a fingerprint in one run (the same problem in two
    // sessions) are one row: the first, most severe and earliest.
    let mut stmt = tx
        .prepare_cached(
            "INSERT OR IGNORE INTO finding_runs (run_id, fingerprint, status, rule, severity, title, message, role, subject, time)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)",
        )
        .map_err(e)?;
    for (f, status) in findings.iter().zip(statuses) {
        stmt.execute(params![
            id,
            f.fingerprint,
            status.as_str(),
            f.rule,
            f.severity.as_str(),
            f.title,
            f.message,
            f.role,
            f.subject,
            f.time
        ])
        .map_err(e)?;
    }
    for p in resolved {
        stmt.execute(params![
            id,
            p.fingerprint,
            Status::Resolved.as_str(),
            p.rule,
            p.severity,
            p.title,
            p.message,
            p.role,
            p.subject,
            p.time
        ])
        .map_err(e)?;
    }
    Ok(id)
}

const DAY: Micros = 86_400_000_000;

pub fn trends(
    tx: &Transaction<'_>,
    path: &str,
    max_runs: usize,
    days: i64,
    until: Micros,
) -> Result<Trends, StateError> {
    let e = |x: rusqlite::Error| super::classify(path, x, std::time::Duration::ZERO);
    let mut stmt = tx
        .prepare(
            "SELECT id, COALESCE(window_start, started_at), COALESCE(window_end, finished_at), exchanges,
                    failed_exchanges, findings
             FROM runs ORDER BY 2 DESC, id DESC LIMIT ?1",
        )
        .map_err(e)?;
    let mut runs: Vec<RunTrend> = stmt
        .query_map([max_runs as i64], |r| {
            Ok(RunTrend {
                id: r.get(0)?,
                window_start: r.get(1)?,
                window_end: r.get(2)?,
                exchanges: r.get(3)?,
                failed_exchanges: r.get(4)?,
                findings: r.get(5)?,
                critical: 0,
                high: 0,
                medium: 0,
                low: 0,
                info: 0,
                new: 0,
                resolved: 0,
            })
        })
        .map_err(e)?
        .collect::<Result<_, _>>()
        .map_err(e)?;
    runs.reverse();
    let mut stmt = tx
        .prepare(
            "SELECT severity, status, count(*) FROM finding_runs WHERE run_id = ?1 GROUP BY severity, status",
        )
        .map_err(e)?;
    for run in &mut runs {
        let rows = stmt
            .query_map([run.id], |r| {
                Ok((
                    r.get::<_, String>(0)?,
                    r.get::<_, String>(1)?,
                    r.get::<_, i64>(2)?,
                ))
            })
            .map_err(e)?;
        for row in rows {
            let (severity, status, n) = row.map_err(e)?;
            if status == "resolved" {
                run.resolved += n;
                continue;
            }
            if status == "new" {
                run.new += n;
            }
            match severity.parse::<Severity>() {
                Ok(Severity::Critical) => run.critical += n,
                Ok(Severity::High) => run.high += n,
                Ok(Severity::Medium) => run.medium += n,
                Ok(Severity::Low) => run.low += n,
                _ => run.info += n,
            }
        }
    }
    let first_day = until.div_euclid(DAY) - days + 1;
    let mut stmt = tx
        .prepare(
            "SELECT time / 86400000000 AS day, count(*), sum(failed) FROM exchanges
             WHERE time >= ?1 AND time < ?2 GROUP BY day ORDER BY day",
        )
        .map_err(e)?;
    let counted: Vec<(i64, i64, i64)> = stmt
        .query_map(
            params![first_day * DAY, (until.div_euclid(DAY) + 1) * DAY],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
        )
        .map_err(e)?
        .collect::<Result<_, _>>()
        .map_err(e)?;
    // Every day of the span, zeros included, from the first day with data.
    let start = counted.first().map_or(first_day, |c| c.0);
    let mut days_out = Vec::new();
    for d in start..=until.div_euclid(DAY) {
        let (n, failed) = counted
            .iter()
            .find(|c| c.0 == d)
            .map_or((0, 0), |c| (c.1, c.2));
        days_out.push(DayTrend {
            day: crate::model::time::format_time(d * DAY)[..10].to_string(),
            exchanges: n,
            failed,
        });
    }
    Ok(Trends {
        runs,
        days: days_out,
    })
}
