//! GitHub `workflow_job` webhook payloads: when each job of a run started
//! and completed, which gives each run the time window its credentials
//! belong to.

use serde_json::{Map, Value};

use super::json::{value_text as text, FieldError};
use super::value::string_list;
use crate::model::records::JobRecord;
use crate::model::time::parse_timestamp;

fn time(map: &Map<String, Value>, key: &str) -> Result<Option<i64>, FieldError> {
    match map.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => parse_timestamp(s).map(Some).ok_or_else(|| {
            FieldError::new(
                format!("workflow_job.{key}"),
                format!("is not a timestamp: {s:?}"),
            )
        }),
        Some(other) => Err(FieldError::new(
            format!("workflow_job.{key}"),
            format!("should be a timestamp string, found {other}"),
        )),
    }
}

/// Builds a job row from a whole webhook payload.
pub fn job_from_payload(payload: &Map<String, Value>) -> Result<JobRecord, FieldError> {
    let job = payload
        .get("workflow_job")
        .and_then(Value::as_object)
        .ok_or_else(|| FieldError::new("workflow_job", "should be an object"))?;
    let repository = payload
        .get("repository")
        .and_then(|r| r.get("full_name"))
        .and_then(Value::as_str)
        .map(str::to_string)
        .or_else(|| {
            // Older and trimmed payloads only have the job's html_url.
            let url = job.get("html_url")?.as_str()?;
            let path = url
                .split("://")
                .nth(1)?
                .split('/')
                .skip(1)
                .take(2)
                .collect::<Vec<_>>();
            (path.len() == 2).then(|| path.join("/"))
        })
        .ok_or_else(|| FieldError::new("repository.full_name", "is missing"))?;
    let run_id =
        text(job, "run_id").ok_or_else(|| FieldError::new("workflow_job.run_id", "is missing"))?;
    let labels = string_list(job.get("labels"));
    Ok(JobRecord {
        action: text(payload, "action"),
        repository,
        run_id,
        run_attempt: text(job, "run_attempt"),
        job_id: text(job, "id"),
        job_name: text(job, "name"),
        workflow_name: text(job, "workflow_name"),
        status: text(job, "status"),
        conclusion: text(job, "conclusion"),
        started_at: time(job, "started_at")?,
        completed_at: time(job, "completed_at")?,
        runner_name: text(job, "runner_name"),
        labels,
        ..Default::default()
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_a_completed_job() {
        let v = serde_json::json!({
            "action": "completed",
            "workflow_job": {"id": 9, "run_id": 123, "run_attempt": 1, "name": "deploy", "status": "completed",
                "conclusion": "success", "started_at": "2025-01-01T10:00:00Z", "completed_at": "2025-01-01T10:05:00Z",
                "runner_name": "GitHub Actions 2", "labels": ["ubuntu-latest"]},
            "repository": {"full_name": "acme/web"}
        });
        let j = job_from_payload(v.as_object().unwrap()).unwrap();
        assert_eq!(j.repository, "acme/web");
        assert_eq!(j.run_id, "123");
        assert_eq!(j.run_attempt.as_deref(), Some("1"));
        assert_eq!(j.completed_at.unwrap() - j.started_at.unwrap(), 300_000_000);
        assert_eq!(j.labels, vec!["ubuntu-latest"]);
    }

    #[test]
    fn repository_from_html_url_and_errors() {
        let v = serde_json::json!({"workflow_job": {"run_id": 5, "html_url": "https://github.com/o/r/actions/runs/5/job/1"}});
        assert_eq!(
            job_from_payload(v.as_object().unwrap()).unwrap().repository,
            "o/r"
        );
        let v = serde_json::json!({"workflow_job": {"run_id": 5, "started_at": 7}, "repository": {"full_name": "o/r"}});
        assert!(job_from_payload(v.as_object().unwrap())
            .unwrap_err()
            .to_string()
            .contains("started_at"));
        let v = serde_json::json!({"workflow_job": {}, "repository": {"full_name": "o/r"}});
        assert!(job_from_payload(v.as_object().unwrap()).is_err());
    }
}
