//! GitHub `workflow_job` webhook payloads: when each job of a run started
//! and completed, which gives each run the time window its credentials
//! belong to.

use std::borrow::Cow;

use serde_json::{Map, Value};

use super::json::scanner::Scanner;
use super::json::{as_str, value_text as text, FieldError, Key, Raw};
use super::source::{pairs_to_map, Read, Source};
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

/// The repository from a job's `html_url`
/// (`https://github.com/OWNER/REPO/actions/...`).
fn repository_from_url(url: &str) -> Option<String> {
    let path = url
        .split("://")
        .nth(1)?
        .split('/')
        .skip(1)
        .take(2)
        .collect::<Vec<_>>();
    (path.len() == 2).then(|| path.join("/"))
}

/// Builds a job row from a whole webhook payload.
/// GitHub `workflow_job` webhook deliveries.
pub const SOURCE: Source = Source {
    name: "GitHub workflow_job payloads",
    sniff: |obj| obj.get(Key::WorkflowJob).is_some(),
    read: |p, rec| {
        let (obj, at) = (rec.obj, rec.at.clone());
        p.out.records += 1;
        let read = match job_from_members(&obj.pairs, obj.plain) {
            Some(read) => Ok(read),
            None => pairs_to_map(obj).map(|map| job_from_payload(&map)),
        };
        match read {
            Ok(Ok(mut job)) => {
                job.file = p.ctx.file;
                job.record = rec.index as u32;
                job.line = p.line as u32;
                p.out.jobs.push(job);
            }
            Ok(Err(e)) => p.error(at, format!("workflow_job payload: {e}")),
            Err(e) => p.error(at, e),
        }
        Read::Taken
    },
};

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
        // Older and trimmed payloads only have the job's html_url.
        .or_else(|| repository_from_url(job.get("html_url")?.as_str()?))
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

/// The fields of `workflow_job` a row reads.
const JOB_FIELDS: &[&[&str]; 12] = &[
    &["id"],
    &["run_id"],
    &["run_attempt"],
    &["name"],
    &["workflow_name"],
    &["status"],
    &["conclusion"],
    &["started_at"],
    &["completed_at"],
    &["runner_name"],
    &["labels"],
    &["html_url"],
];

/// A value as [`value_text`](super::json::value_text) renders it: strings
/// (not empty), numbers as serde_json writes them, booleans.
fn raw_text(raw: Option<Raw<'_>>) -> Option<String> {
    let raw = raw?;
    match raw.get().as_bytes().first()? {
        b'"' => as_str(raw, "")
            .ok()
            .filter(|s| !s.is_empty())
            .map(Cow::into_owned),
        b't' | b'f' => Some(raw.get().to_string()),
        b'-' | b'0'..=b'9' => match serde_json::from_str::<Value>(raw.get()) {
            Ok(Value::Number(n)) => Some(n.to_string()),
            _ => None,
        },
        _ => None,
    }
}

/// A timestamp field as `time` reads it.
fn raw_time(raw: Option<Raw<'_>>, key: &str) -> Result<Option<i64>, FieldError> {
    let Some(raw) = raw else { return Ok(None) };
    if raw.get().starts_with('"') {
        if let Ok(s) = as_str(raw, key) {
            return parse_timestamp(&s).map(Some).ok_or_else(|| {
                FieldError::new(
                    format!("workflow_job.{key}"),
                    format!("is not a timestamp: {s:?}"),
                )
            });
        }
    }
    // Rare: worded from the value as the tree holds it.
    let value: Value = serde_json::from_str(raw.get()).unwrap_or(Value::Null);
    let mut map = Map::new();
    map.insert(key.to_string(), value);
    time(&map, key)
}

/// The same row as [`job_from_payload`], read from the payload's members
/// (as the record path hands them over) without building its tree: one
/// such tree per job cost more than the rest of reading it. `None` when the
/// payload holds anything the tree would read differently or refuse (an
/// escape, a number that may not fit an `f64`, a repeated key, text the
/// scanner leaves to serde_json): the caller then builds the tree, which
/// decides and words what happens. With `plain` (see [`Obj::plain`]) the
/// members' texts are known to hold none of that and are not looked
/// through again.
///
/// [`Obj::plain`]: super::json::Obj::plain
pub fn job_from_members(
    members: &[(Cow<'_, str>, Raw<'_>)],
    plain: bool,
) -> Option<Result<JobRecord, FieldError>> {
    // Repeats are looked for pair by pair: a payload has a handful of
    // members, and a hostile one with thousands goes to the tree, which
    // takes them in linear time.
    if members.len() > 64 {
        return None;
    }
    let (mut action, mut job, mut repository) = (None, None, None);
    for (i, (key, value)) in members.iter().enumerate() {
        if matches!(key, Cow::Owned(_)) || members[..i].iter().any(|(k, _)| k == key) {
            return None;
        }
        if !plain {
            let text = value.get();
            if memchr::memchr(b'\\', text.as_bytes()).is_some() {
                return None;
            }
            let mut s = Scanner::new(text);
            s.skip().and_then(|()| s.finish()).ok()?;
            if s.large_numbers {
                return None;
            }
        }
        match key.as_ref() {
            "action" => action = Some(*value),
            "workflow_job" => job = Some(*value),
            "repository" => repository = Some(*value),
            _ => {}
        }
    }
    // The tree path words a job that is not an object.
    let job = job.filter(|j| j.get().starts_with('{'))?;
    let mut fields = [None; 12];
    let mut s = Scanner::new(job.get());
    if s.object_fields(JOB_FIELDS, &mut fields, |s, _| s.value())
        .ok()?
        .1
        .is_some()
    {
        return None;
    }
    let [id, run_id, run_attempt, name, workflow_name, status, conclusion, started_at, completed_at, runner_name, labels, html_url] =
        fields;
    let mut full_name = None;
    if let Some(r) = repository.filter(|r| r.get().starts_with('{')) {
        let mut found = [None; 1];
        let mut s = Scanner::new(r.get());
        if s.object_fields(&[&["full_name"]], &mut found, |s, _| s.value())
            .ok()?
            .1
            .is_some()
        {
            return None;
        }
        full_name = found[0];
    }
    let as_plain_str = |raw: Option<Raw<'_>>| {
        raw.filter(|r| r.get().starts_with('"'))
            .and_then(|r| as_str(r, "").ok())
            .map(Cow::into_owned)
    };
    let read = || -> Result<JobRecord, FieldError> {
        let repository = as_plain_str(full_name)
            .or_else(|| repository_from_url(&as_plain_str(html_url)?))
            .ok_or_else(|| FieldError::new("repository.full_name", "is missing"))?;
        let run_id =
            raw_text(run_id).ok_or_else(|| FieldError::new("workflow_job.run_id", "is missing"))?;
        let mut label_list = Vec::new();
        if let Some(l) = labels.filter(|l| l.get().starts_with('[')) {
            let mut s = Scanner::new(l.get());
            // The labels were scanned with the payload; this cannot give up.
            let _ = s.array(|s, _| {
                let item = s.value()?;
                if let Some(text) = as_plain_str(Some(item)) {
                    label_list.push(text);
                }
                Ok(())
            });
        }
        Ok(JobRecord {
            action: raw_text(action),
            repository,
            run_id,
            run_attempt: raw_text(run_attempt),
            job_id: raw_text(id),
            job_name: raw_text(name),
            workflow_name: raw_text(workflow_name),
            status: raw_text(status),
            conclusion: raw_text(conclusion),
            started_at: raw_time(started_at, "started_at")?,
            completed_at: raw_time(completed_at, "completed_at")?,
            runner_name: raw_text(runner_name),
            labels: label_list,
            ..Default::default()
        })
    };
    Some(read())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ingest::json::scanner::{line_document, members_of};
    use crate::ingest::json::Obj;

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

    /// Reads `text` both ways: `None` when they agree (or the members
    /// leave it to the tree), else what differs.
    /// Also reads it as a line of a file is read (members from the scanner,
    /// [`Obj::plain`] set), which must agree the same way.
    fn members_and_tree_differ(text: &str) -> Option<String> {
        let mut obj = Obj::default();
        if line_document(text, &mut obj, Some(&crate::ingest::cloudtrail::IDENTITY)).is_ok() {
            if let Some(fast) = job_from_members(&obj.pairs, obj.plain) {
                if let Some(differ) = differs_from_tree(text, fast) {
                    return Some(format!("as a line: {differ}"));
                }
            }
        }
        let pairs = members_of(text);
        differs_from_tree(text, job_from_members(&pairs, false)?)
    }

    fn differs_from_tree(text: &str, fast: Result<JobRecord, FieldError>) -> Option<String> {
        let tree = match serde_json::from_str::<Map<String, Value>>(text) {
            Ok(map) => format!("{:?}", job_from_payload(&map)),
            Err(e) => return Some(format!("members read what the tree refuses: {e}")),
        };
        let fast = format!("{fast:?}");
        (fast != tree).then(|| format!("tree:    {tree}\nmembers: {fast}"))
    }

    #[test]
    fn members_read_the_usual_payload_like_the_tree() {
        let usual = r#"{"action":"completed","workflow_job":{"id":99483256890,"run_id":9948325689,"workflow_name":"deploy","head_branch":"main","run_attempt":1,"html_url":"https://github.com/acme/s/actions/runs/9/job/9","status":"completed","conclusion":"success","started_at":"2025-05-14T00:00:33Z","completed_at":"2025-05-14T00:06:03Z","name":"deploy","steps":[],"labels":["ubuntu-latest"],"runner_id":90,"runner_name":"GitHub Actions 910"},"repository":{"id":702345678,"full_name":"acme/service-036","private":true},"sender":{"login":"dev-alice"}}"#;
        assert!(
            job_from_members(&members_of(usual), false).is_some(),
            "the usual shape takes the fast path"
        );
        let mut obj = Obj::default();
        line_document(usual, &mut obj, Some(&crate::ingest::cloudtrail::IDENTITY)).unwrap();
        assert!(obj.plain, "and as a line, without a second look");
        assert!(job_from_members(&obj.pairs, obj.plain).is_some());
        assert_eq!(members_and_tree_differ(usual), None);
        let cases = [
            // Types and renderings.
            r#"{"workflow_job":{"run_id":1.0,"run_attempt":-0,"id":18446744073709551616,"name":true,"status":"","conclusion":null,"labels":["a","",1,null,{"x":[]}],"html_url":"https://github.com/o/r/actions"}}"#,
            r#"{"workflow_job":{"run_id":"7","started_at":7},"repository":{"full_name":"o/r"}}"#,
            r#"{"workflow_job":{"run_id":"7","started_at":{"a": [1, 2]}},"repository":{"full_name":"o/r"}}"#,
            r#"{"workflow_job":{"run_id":"7","completed_at":"soon"},"repository":{"full_name":"o/r"}}"#,
            r#"{"workflow_job":{"run_id":"7"},"repository":{"full_name":7},"action":false}"#,
            r#"{"workflow_job":{"run_id":"7","html_url":"nope"},"repository":["o/r"]}"#,
            r#"{"workflow_job":{"run_id":null},"repository":{"full_name":""}}"#,
            r#"{"workflow_job":{},"repository":{"full_name":"o/r"}}"#,
            r#"{"workflow_job":"job","repository":{"full_name":"o/r"}}"#,
            r#"{"repository":{"full_name":"o/r"},"workflow_job":{"run_id":2,"labels":"x"}}"#,
        ];
        for text in cases {
            assert_eq!(members_and_tree_differ(text), None, "{text}");
        }
    }

    #[test]
    fn members_leave_escapes_large_numbers_and_repeats_to_the_tree() {
        for text in [
            r#"{"workflow_job":{"run_id":1,"name":"a\u00e9"},"repository":{"full_name":"o/r"}}"#,
            r#"{"workflow_job":{"run_id":1},"repository":{"full_name":"o/r"},"sender":{"n":1e999}}"#,
            r#"{"workflow_job":{"run_id":1,"x":2E3},"repository":{"full_name":"o/r"}}"#,
            r#"{"workflow_job":{"run_id":1,"run_id":2},"repository":{"full_name":"o/r"}}"#,
            r#"{"workflow_job":{"run_id":1},"repository":{"full_name":"a","full_name":"b"}}"#,
            r#"{"workflow_job":{"run_id":1},"workflow_job":{"run_id":2},"repository":{"full_name":"o/r"}}"#,
            r#"{"workflow_job":{"run_id":1}}"#.replace("1", &"9".repeat(301)).as_str(),
            &format!(
                r#"{{"workflow_job":{{"run_id":1}}{}}}"#,
                (0..65).map(|i| format!(r#","k{i}":0"#)).collect::<String>()
            ),
        ] {
            assert!(
                job_from_members(&members_of(text), false).is_none(),
                "{text}"
            );
            let mut obj = Obj::default();
            if line_document(text, &mut obj, Some(&crate::ingest::cloudtrail::IDENTITY)).is_ok() {
                assert!(job_from_members(&obj.pairs, obj.plain).is_none(), "{text}");
            }
        }
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(2000))]
        #[test]
        fn members_agree_with_the_tree(
            job in proptest::collection::vec(
                (
                    proptest::sample::select(vec![
                        "id", "run_id", "run_attempt", "name", "workflow_name", "status",
                        "conclusion", "started_at", "completed_at", "runner_name", "labels",
                        "html_url", "steps",
                    ]),
                    proptest::sample::select(vec![
                        r#""2025-05-14T00:00:33Z""#, r#""soon""#, r#""""#, r#""deploy""#,
                        r#""https://github.com/o/r/actions/runs/1""#, r#""aé""#,
                        "1", "-0", "1.50", "1e3", "12345678901234567890", "true", "false",
                        "null", r#"["x","",2]"#, "[]", r#"{"k":[1,{"z":null}]}"#,
                    ]),
                ),
                0..10,
            ),
            repository in proptest::sample::select(vec![
                "", r#","repository":{"full_name":"o/r"}"#, r#","repository":{"full_name":null}"#,
                r#","repository":[1]"#, r#","repository":{"id":1,"full_name":"x/y","full_name":"z"}"#,
            ]),
            action in proptest::sample::select(vec!["", r#","action":"completed""#, r#","action":3"#]),
        ) {
            let body: Vec<String> = job.iter().map(|(k, v)| format!("\"{k}\":{v}")).collect();
            let text = format!("{{\"workflow_job\":{{{}}}{repository}{action}}}", body.join(","));
            proptest::prop_assert_eq!(members_and_tree_differ(&text), None, "{}", text);
        }
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
