//! CI run windows from `workflow_job` deliveries, and the claims ↔ jobs
//! join.
//!
//! Each job is delivered several times (queued, in_progress, completed); the
//! latest state counts. A run starts at its first job's `started_at` and
//! ends at its last job's `completed_at`, and has no end while any of its
//! jobs has not completed: a run still going is not "over".

use std::collections::HashMap;

use rayon::prelude::*;

use super::federation::PARALLEL_FROM;

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

/// A job delivery's place: lower-cased repository, run id, attempt, job.
type JobKey = (String, String, String, String);

/// Collapses job deliveries into run windows, ordered by repository, run id
/// and attempt.
pub fn build_runs(jobs: &[JobRecord]) -> Vec<RunWindow> {
    // Deliveries sorted by job, then by input order: each job's deliveries
    // are then side by side, and each run's jobs too. A month of runs is
    // hundreds of thousands of deliveries; a sort can use the pool, where a
    // tree map made the same comparisons one insertion at a time.
    let key = |(i, j): (usize, &JobRecord)| -> (JobKey, usize) {
        let (repo, run, attempt) = run_key(&j.repository, &j.run_id, j.run_attempt.as_deref());
        let job = j.job_id.clone().unwrap_or_else(|| format!("#{i}"));
        ((repo, run, attempt, job), i)
    };
    let mut order: Vec<(JobKey, usize)> = if jobs.len() < PARALLEL_FROM {
        jobs.iter().enumerate().map(key).collect()
    } else {
        jobs.par_iter().enumerate().map(key).collect()
    };
    if order.len() < PARALLEL_FROM {
        order.sort_unstable();
    } else {
        order.par_sort_unstable();
    }
    // Latest state of each job: a later delivery of the same rank wins.
    let mut latest: Vec<(&JobKey, &JobRecord)> = Vec::new();
    for (k, i) in &order {
        let j = &jobs[*i];
        match latest.last_mut() {
            Some((prev, cur)) if *prev == k => {
                if state_rank(j) >= state_rank(cur) {
                    *cur = j;
                }
            }
            _ => latest.push((k, j)),
        }
    }
    let mut runs: Vec<RunWindow> = Vec::new();
    let mut run_of_last: Option<(&str, &str, &str)> = None;
    let mut all_done = true;
    for ((repo, run, attempt, _), j) in latest {
        let same_run = run_of_last == Some((repo.as_str(), run.as_str(), attempt.as_str()));
        if !same_run {
            if !all_done {
                if let Some(w) = runs.last_mut() {
                    w.ended_at = None;
                }
            }
            all_done = true;
            run_of_last = Some((repo, run, attempt));
            runs.push(RunWindow {
                repository: j.repository.clone(),
                run_id: j.run_id.clone(),
                run_attempt: j.run_attempt.clone().or(Some("1".into())),
                ..Default::default()
            });
        }
        let Some(w) = runs.last_mut() else {
            continue; // not reached: a run was pushed above
        };
        w.jobs += 1;
        if let Some(s) = j.started_at {
            w.started_at = Some(w.started_at.map_or(s, |cur| cur.min(s)));
        }
        match j.completed_at {
            Some(c) => w.ended_at = Some(w.ended_at.map_or(c, |cur| cur.max(c))),
            None => all_done = false,
        }
        if let Some(r) = &j.runner_name {
            if !w.runners.contains(r) {
                w.runners.push(r.clone());
            }
        }
    }
    if !all_done {
        if let Some(w) = runs.last_mut() {
            w.ended_at = None;
        }
    }
    runs
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

    /// The windows as a tree map keyed by job builds them, delivery by
    /// delivery: what the sorted build must reproduce.
    fn windows_by_tree_map(jobs: &[JobRecord]) -> Vec<RunWindow> {
        use std::collections::BTreeMap;
        let mut latest: BTreeMap<JobKey, &JobRecord> = BTreeMap::new();
        for (i, j) in jobs.iter().enumerate() {
            let (repo, run, attempt) = run_key(&j.repository, &j.run_id, j.run_attempt.as_deref());
            let job = j.job_id.clone().unwrap_or_else(|| format!("#{i}"));
            let cur = latest.entry((repo, run, attempt, job)).or_insert(j);
            if state_rank(j) >= state_rank(cur) {
                *cur = j;
            }
        }
        let mut runs: BTreeMap<(String, String, String), (RunWindow, bool)> = BTreeMap::new();
        for ((repo, run, attempt, _), j) in latest {
            let (w, done) = runs.entry((repo, run, attempt)).or_insert_with(|| {
                let w = RunWindow {
                    repository: j.repository.clone(),
                    run_id: j.run_id.clone(),
                    run_attempt: j.run_attempt.clone().or(Some("1".into())),
                    ..Default::default()
                };
                (w, true)
            });
            w.jobs += 1;
            if let Some(s) = j.started_at {
                w.started_at = Some(w.started_at.map_or(s, |cur| cur.min(s)));
            }
            match j.completed_at {
                Some(c) => w.ended_at = Some(w.ended_at.map_or(c, |cur| cur.max(c))),
                None => *done = false,
            }
            if let Some(r) = &j.runner_name {
                if !w.runners.contains(r) {
                    w.runners.push(r.clone());
                }
            }
        }
        runs.into_values()
            .map(|(mut w, done)| {
                if !done {
                    w.ended_at = None;
                }
                w
            })
            .collect()
    }

    #[test]
    fn sorted_build_matches_a_tree_map_on_the_pool_and_off_it() {
        // Deliveries in a scrambled order: several runs, attempts and
        // repositories (differing in case), repeated and unfinished
        // deliveries, jobs without ids, runners shared between jobs.
        for count in [40, 3000] {
            let jobs: Vec<JobRecord> = (0..count)
                .map(|i: usize| {
                    let n = i.wrapping_mul(7919) % 997;
                    let mut j = job(
                        &(n % 5).to_string(),
                        &(1 + n % 2).to_string(),
                        (n % 3 != 0).then_some(n as i64),
                        (n % 4 != 0).then_some(n as i64 + 50),
                    );
                    j.repository = ["Acme/Web", "acme/web", "acme/api"][n % 3].into();
                    j.run_id = (100 + n % 40).to_string();
                    if n % 11 == 0 {
                        j.job_id = None;
                    }
                    if n % 13 == 0 {
                        j.run_attempt = None;
                    }
                    j.runner_name = Some(format!("runner-{}", i % 6));
                    j
                })
                .collect();
            let expected = windows_by_tree_map(&jobs);
            assert!(expected.len() > 1);
            assert_eq!(
                format!("{:?}", build_runs(&jobs)),
                format!("{expected:?}"),
                "{count} deliveries"
            );
        }
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
