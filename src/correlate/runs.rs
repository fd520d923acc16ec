//! CI run windows from `workflow_job` deliveries, and the claims ↔ jobs
//! join.
//!
//! Each job is delivered several times (queued, in_progress, completed); the
//! latest state counts. A run starts at its first job's `started_at` and
//! ends at its last job's `completed_at`, and has no end while any of its
//! jobs has not completed: a run still going is not "over".

use std::collections::{BTreeMap, HashMap};

use crate::model::records::{JobRecord, RunWindow, TokenClaims};

fn state_rank(j: &JobRecord) -> u8 {
    if j.completed_at.is_some() || j.status.as_deref() == Some("completed") {
        3
    } else if j.started_at.is_some() {
        2
    } else {
        1
    }
}

fn run_key(repository: &str, run_id: &str, attempt: Option<&str>) -> (String, String, String) {
    (
        repository.to_ascii_lowercase(),
        run_id.to_string(),
        attempt.unwrap_or("1").to_string(),
    )
}

/// Collapses job deliveries into run windows, ordered by repository, run id
/// and attempt.
pub fn build_runs(jobs: &[JobRecord]) -> Vec<RunWindow> {
    // Latest state of each job.
    let mut latest: BTreeMap<(String, String, String, String), &JobRecord> = BTreeMap::new();
    for (i, j) in jobs.iter().enumerate() {
        let (repo, run, attempt) = run_key(&j.repository, &j.run_id, j.run_attempt.as_deref());
        let job = j.job_id.clone().unwrap_or_else(|| format!("#{i}"));
        latest
            .entry((repo, run, attempt, job))
            .and_modify(|cur| {
                if state_rank(j) >= state_rank(cur) {
                    *cur = j;
                }
            })
            .or_insert(j);
    }
    let mut runs: BTreeMap<(String, String, String), RunWindow> = BTreeMap::new();
    let mut all_done: HashMap<(String, String, String), bool> = HashMap::new();
    for ((repo, run, attempt, _), j) in latest {
        let key = (repo, run, attempt);
        let w = runs.entry(key.clone()).or_insert_with(|| RunWindow {
            repository: j.repository.clone(),
            run_id: j.run_id.clone(),
            run_attempt: j.run_attempt.clone().or(Some("1".into())),
            ..Default::default()
        });
        w.jobs += 1;
        if let Some(s) = j.started_at {
            w.started_at = Some(w.started_at.map_or(s, |cur| cur.min(s)));
        }
        match j.completed_at {
            Some(c) => w.ended_at = Some(w.ended_at.map_or(c, |cur| cur.max(c))),
            None => {
                all_done.insert(key.clone(), false);
            }
        }
        if let Some(r) = &j.runner_name {
            if !w.runners.contains(r) {
                w.runners.push(r.clone());
            }
        }
    }
    runs.into_iter()
        .map(|(key, mut w)| {
            if all_done.get(&key) == Some(&false) {
                w.ended_at = None;
            }
            w
        })
        .collect()
}

/// Runs by lower-cased repository and run id.
pub type RunIndex = HashMap<(String, String), Vec<usize>>;

pub fn index_runs(runs: &[RunWindow]) -> RunIndex {
    let mut index: RunIndex = HashMap::new();
    for (i, r) in runs.iter().enumerate() {
        index
            .entry((r.repository.to_ascii_lowercase(), r.run_id.clone()))
            .or_default()
            .push(i);
    }
    index
}

/// The run a token was minted for: same repository, run id and attempt.
/// Without an attempt in the claims, the only attempt, or none when there
/// are several.
pub fn run_for(claims: &TokenClaims, runs: &[RunWindow], index: &RunIndex) -> Option<usize> {
    let repo = claims.repository.as_deref()?.to_ascii_lowercase();
    let run_id = claims.run_id.as_deref()?;
    let same_run = index.get(&(repo, run_id.to_string()))?;
    match claims.run_attempt.as_deref() {
        Some(attempt) => same_run
            .iter()
            .copied()
            .find(|&i| runs[i].run_attempt.as_deref() == Some(attempt)),
        None if same_run.len() == 1 => Some(same_run[0]),
        None => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn job(id: &str, attempt: &str, start: Option<i64>, end: Option<i64>) -> JobRecord {
        JobRecord {
            repository: "Acme/Web".into(),
            run_id: "123".into(),
            run_attempt: Some(attempt.into()),
            job_id: Some(id.into()),
            started_at: start,
            completed_at: end,
            status: Some(
                if end.is_some() {
                    "completed"
                } else {
                    "in_progress"
                }
                .into(),
            ),
            ..Default::default()
        }
    }

    #[test]
    fn run_ends_with_its_last_job() {
        let jobs = vec![
            job("1", "1", Some(10), None),
            job("1", "1", Some(10), Some(20)),
            job("2", "1", Some(12), Some(30)),
        ];
        let runs = build_runs(&jobs);
        assert_eq!(runs.len(), 1);
        assert_eq!(
            (runs[0].started_at, runs[0].ended_at, runs[0].jobs),
            (Some(10), Some(30), 2)
        );
    }

    #[test]
    fn a_run_with_an_unfinished_job_has_no_end() {
        let runs = build_runs(&[
            job("1", "1", Some(10), Some(20)),
            job("2", "1", Some(12), None),
        ]);
        assert_eq!(runs[0].ended_at, None);
    }

    #[test]
    fn claims_find_their_run_by_repo_run_and_attempt() {
        let runs = build_runs(&[
            job("1", "1", Some(1), Some(2)),
            job("9", "2", Some(5), Some(6)),
        ]);
        let index = index_runs(&runs);
        let mut c = TokenClaims {
            repository: Some("acme/web".into()),
            run_id: Some("123".into()),
            run_attempt: Some("2".into()),
            ..Default::default()
        };
        assert_eq!(
            run_for(&c, &runs, &index).map(|i| runs[i].ended_at),
            Some(Some(6))
        );
        c.run_attempt = None;
        assert_eq!(
            run_for(&c, &runs, &index),
            None,
            "two attempts and no attempt claim"
        );
        c.run_id = Some("124".into());
        assert_eq!(run_for(&c, &runs, &index), None);
    }
}
