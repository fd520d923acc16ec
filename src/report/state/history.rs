//! What earlier runs saw, read inside the run's transaction. "Earlier" is by
//! time, not by insertion: a run whose window starts before this run's is
//! history, so backfilling an old day does not make today's values look new.
//! A run with the same window key as this one is being replaced and is left
//! out entirely.

use rusqlite::{params, Transaction};

use super::StateError;
use crate::model::history::{History, KeyObservation, PriorFinding, PriorRun};
use crate::model::time::Micros;

fn err(path: &str) -> impl Fn(rusqlite::Error) -> StateError + '_ {
    move |e| super::classify(path, e, std::time::Duration::ZERO)
}

/// Reads the history for a run over `window_key` starting at `window_start`.
pub fn load(
    tx: &Transaction<'_>,
    path: &str,
    window_key: &str,
    window_start: Micros,
) -> Result<History, StateError> {
    let e = err(path);
    let mut h = History {
        replaced: tx
            .query_row(
                "SELECT id FROM runs WHERE window_key = ?1",
                [window_key],
                |r| r.get(0),
            )
            .map(Some)
            .or_else(|x| match x {
                rusqlite::Error::QueryReturnedNoRows => Ok(None),
                other => Err(other),
            })
            .map_err(&e)?,
        ..History::default()
    };

    let mut stmt = tx
        .prepare(
            "SELECT id, COALESCE(window_start, started_at), COALESCE(window_end, finished_at), finished_at
             FROM runs WHERE window_key != ?1 ORDER BY 2, id",
        )
        .map_err(&e)?;
    let runs = stmt
        .query_map([window_key], |r| {
            Ok(PriorRun {
                id: r.get(0)?,
                window_start: r.get(1)?,
                window_end: r.get(2)?,
                finished_at: r.get(3)?,
            })
        })
        .map_err(&e)?
        .collect::<Result<Vec<_>, _>>()
        .map_err(&e)?;
    h.coverage = runs
        .iter()
        .map(|r| (r.window_start, r.window_end))
        .collect();
    h.earlier = runs
        .into_iter()
        .filter(|r| r.window_start < window_start)
        .collect();

    let mut stmt = tx
        .prepare(
            "SELECT v.role, v.kind, v.value, MIN(v.first_seen)
             FROM role_values v JOIN runs r ON r.id = v.run_id
             WHERE r.window_key != ?1
             GROUP BY v.role, v.kind, v.value",
        )
        .map_err(&e)?;
    let rows = stmt
        .query_map([window_key], |r| {
            Ok((
                r.get::<_, String>(0)?,
                r.get::<_, String>(1)?,
                r.get::<_, String>(2)?,
                r.get::<_, i64>(3)?,
            ))
        })
        .map_err(&e)?;
    for row in rows {
        let (role, kind, value, first) = row.map_err(&e)?;
        let earliest = h.role_first_seen.entry(role.clone()).or_insert(first);
        *earliest = (*earliest).min(first);
        h.role_values.insert((role, kind, value), first);
    }

    let mut stmt = tx
        .prepare(
            "SELECT w.workflow, w.action, MIN(w.first_seen)
             FROM workflow_actions w JOIN runs r ON r.id = w.run_id
             WHERE r.window_key != ?1
             GROUP BY w.workflow, w.action",
        )
        .map_err(&e)?;
    let rows = stmt
        .query_map([window_key], |r| {
            Ok((
                r.get::<_, String>(0)?,
                r.get::<_, String>(1)?,
                r.get::<_, i64>(2)?,
            ))
        })
        .map_err(&e)?;
    for row in rows {
        let (workflow, action, first) = row.map_err(&e)?;
        let earliest = h
            .workflow_first_seen
            .entry(workflow.clone())
            .or_insert(first);
        *earliest = (*earliest).min(first);
        h.workflow_actions.insert((workflow, action), first);
    }

    let mut stmt = tx
        .prepare(
            "SELECT x.role, MAX(x.time)
             FROM exchanges x JOIN runs r ON r.id = x.run_id
             WHERE r.window_key != ?1 AND x.time < ?2 AND x.failed = 0
             GROUP BY x.role",
        )
        .map_err(&e)?;
    let rows = stmt
        .query_map(params![window_key, window_start], |r| {
            Ok((r.get::<_, String>(0)?, r.get::<_, i64>(1)?))
        })
        .map_err(&e)?;
    for row in rows {
        let (role, time) = row.map_err(&e)?;
        h.last_exchange.insert(role, time);
    }

    let mut stmt = tx
        .prepare(
            "SELECT DISTINCT f.fingerprint
             FROM finding_runs f JOIN runs r ON r.id = f.run_id
             WHERE r.window_key != ?1 AND COALESCE(r.window_start, r.started_at) < ?2 AND f.status != 'resolved'",
        )
        .map_err(&e)?;
    let rows = stmt
        .query_map(params![window_key, window_start], |r| r.get::<_, String>(0))
        .map_err(&e)?;
    for row in rows {
        h.earlier_fingerprints.insert(row.map_err(&e)?);
    }

    if let Some(prev) = h.previous().map(|p| p.id) {
        let mut stmt = tx
            .prepare(
                "SELECT fingerprint, rule, severity, title, message, role, subject, time
                 FROM finding_runs WHERE run_id = ?1 AND status != 'resolved'
                 ORDER BY fingerprint",
            )
            .map_err(&e)?;
        h.previous_findings = stmt
            .query_map([prev], |r| {
                Ok(PriorFinding {
                    fingerprint: r.get(0)?,
                    rule: r.get(1)?,
                    severity: r.get(2)?,
                    title: r.get(3)?,
                    message: r.get(4)?,
                    role: r.get(5)?,
                    subject: r.get(6)?,
                    time: r.get(7)?,
                })
            })
            .map_err(&e)?
            .collect::<Result<Vec<_>, _>>()
            .map_err(&e)?;
        let mut stmt = tx
            .prepare(
                "SELECT key, user, account, verdict, in_ci, last_used, calls
                 FROM static_keys WHERE run_id = ?1 ORDER BY key",
            )
            .map_err(&e)?;
        h.previous_keys = stmt
            .query_map([prev], |r| {
                Ok(KeyObservation {
                    key: r.get(0)?,
                    user: r.get(1)?,
                    account: r.get(2)?,
                    verdict: r.get(3)?,
                    in_ci: r.get(4)?,
                    last_used: r.get(5)?,
                    calls: r.get(6)?,
                })
            })
            .map_err(&e)?
            .collect::<Result<Vec<_>, _>>()
            .map_err(&e)?;
    }
    Ok(h)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn coverage_needs_windows_without_long_holes() {
        let day = 86_400_000_000;
        let h = History {
            coverage: vec![(0, day), (day, 2 * day), (3 * day, 4 * day)],
            ..Default::default()
        };
        assert!(h.covers(0, 2 * day, day / 24));
        assert!(!h.covers(0, 4 * day, day / 24), "day 2 to 3 is a hole");
        assert!(h.covers(0, 4 * day, day), "a hole within the tolerance");
        assert!(!h.covers(-5 * day, day, day), "before the first run");
    }
}
