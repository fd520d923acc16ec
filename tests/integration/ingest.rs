//! Every input shape the engine reads, and what happens to bad input.

use std::io::Write;

use flate2::write::GzEncoder;
use flate2::Compression;
use rolecall::error::Location;
use rolecall::ingest::{ingest, Batch, IngestOptions};
use serde_json::{json, Value};

fn event(name: &str, id: &str) -> Value {
    json!({
        "eventVersion": "1.08",
        "userIdentity": {"type": "AssumedRole", "accessKeyId": "ASIAKEY", "arn": "arn:aws:sts::1:assumed-role/r/s",
            "sessionContext": {"sessionIssuer": {"type": "Role", "arn": "arn:aws:iam::1:role/r"}}},
        "eventTime": "2025-05-14T10:00:00Z", "eventSource": "s3.amazonaws.com", "eventName": name,
        "awsRegion": "us-east-1", "sourceIPAddress": "20.1.2.3", "userAgent": "ua", "eventID": id,
        "readOnly": true, "recipientAccountId": "111111111111"
    })
}

fn exchange(id: &str) -> Value {
    json!({
        "eventVersion": "1.08",
        "userIdentity": {"type": "WebIdentityUser", "userName": "repo:a/b:ref:refs/heads/main",
            "identityProvider": "arn:aws:iam::1:oidc-provider/token.actions.githubusercontent.com"},
        "eventTime": "2025-05-14T10:00:00Z", "eventSource": "sts.amazonaws.com", "eventName": "AssumeRoleWithWebIdentity",
        "awsRegion": "us-east-1", "sourceIPAddress": "20.1.2.3", "eventID": id,
        "requestParameters": {"roleArn": "arn:aws:iam::1:role/deploy", "roleSessionName": "s", "durationSeconds": 900},
        "responseElements": {"credentials": {"accessKeyId": "ASIAKEY", "expiration": "May 14, 2025, 10:15:00 AM", "sessionToken": "IQoSECRET"},
            "subjectFromWebIdentityToken": "repo:a/b:ref:refs/heads/main", "audience": "sts.amazonaws.com",
            "provider": "arn:aws:iam::1:oidc-provider/token.actions.githubusercontent.com"}
    })
}

fn gz(data: &[u8]) -> Vec<u8> {
    let mut e = GzEncoder::new(Vec::new(), Compression::fast());
    e.write_all(data).unwrap();
    e.finish().unwrap()
}

struct Files(tempfile::TempDir);

impl Files {
    fn new() -> Self {
        Files(tempfile::tempdir().unwrap())
    }
    fn put(&self, name: &str, data: impl AsRef<[u8]>) -> String {
        let p = self.0.path().join(name);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(&p, data).unwrap();
        p.to_string_lossy().to_string()
    }
    fn dir(&self) -> String {
        self.0.path().to_string_lossy().to_string()
    }
}

fn read(paths: &[String]) -> Batch {
    ingest(paths, &IngestOptions::default()).unwrap().batch
}

fn ids(b: &Batch) -> Vec<String> {
    (0..b.events.len())
        .filter_map(|i| b.events.event_id_of(i).map(str::to_string))
        .collect()
}

fn errors(b: &Batch) -> Vec<String> {
    b.errors.iter().map(|e| e.to_string()).collect()
}

#[test]
fn records_files_plain_and_gzipped_in_the_s3_layout() {
    let f = Files::new();
    let doc = json!({"Records": [event("GetObject", "e1"), exchange("x1")]}).to_string();
    f.put(
        "AWSLogs/o-x/111111111111/CloudTrail/us-east-1/2025/05/14/a.json.gz",
        gz(doc.as_bytes()),
    );
    f.put(
        "AWSLogs/o-x/111111111111/CloudTrail-Digest/us-east-1/2025/05/14/d.json.gz",
        gz(b"{\"digestStartTime\":\"x\"}"),
    );
    f.put(
        "AWSLogs/o-x/111111111111/CloudTrail-Insight/us-east-1/2025/05/14/i.json.gz",
        gz(b"{}"),
    );
    let b = read(&[f.dir()]);
    assert!(b.errors.is_empty(), "{:?}", errors(&b));
    assert_eq!(ids(&b), vec!["e1", "x1"]);
    assert_eq!(b.skipped_files.len(), 2);
    let a = &b.assumptions[0];
    assert_eq!(
        a.issuer.as_deref(),
        Some("https://token.actions.githubusercontent.com")
    );
    assert_eq!(a.duration_seconds, Some(900));
    assert_eq!(a.access_key_id.as_deref(), Some("ASIAKEY"));
    assert!(a.expiration.is_some());
    // The session token never survives ingest.
    assert!(!format!("{a:?}").contains("IQoSECRET"));
}

#[test]
fn ndjson_events_and_records_wrappers_per_line() {
    let f = Files::new();
    let lines = [
        event("A", "e1").to_string(),
        json!({"Records": [event("B", "e2"), event("C", "e3")]}).to_string(),
        String::new(),
        event("D", "e4").to_string(),
    ];
    let p = f.put("events.jsonl", lines.join("\n"));
    let b = read(&[p]);
    assert!(b.errors.is_empty(), "{:?}", errors(&b));
    assert_eq!(ids(&b), vec!["e1", "e2", "e3", "e4"]);
    assert_eq!(b.events.line[3], 4);
}

#[test]
fn bare_arrays_lookup_events_and_concatenated_objects() {
    let f = Files::new();
    let a = f.put(
        "array.json",
        json!([event("A", "a1"), event("B", "a2")]).to_string(),
    );
    let lookup = json!({"Events": [
        {"EventId": "l1", "EventName": "GetObject", "CloudTrailEvent": event("GetObject", "l1").to_string()},
        {"EventId": "l2", "CloudTrailEvent": exchange("l2").to_string()}
    ], "NextToken": "abc"});
    let l = f.put(
        "lookup.json",
        serde_json::to_string_pretty(&lookup).unwrap(),
    );
    let pretty = format!(
        "{}\n{}\n",
        serde_json::to_string_pretty(&event("C", "c1")).unwrap(),
        serde_json::to_string_pretty(&event("D", "c2")).unwrap()
    );
    let c = f.put("concat.json", pretty);
    let b = read(&[a, l, c]);
    assert!(b.errors.is_empty(), "{:?}", errors(&b));
    assert_eq!(ids(&b), vec!["a1", "a2", "l1", "l2", "c1", "c2"]);
    assert_eq!(b.assumptions.len(), 1);
}

#[test]
fn athena_and_lake_exports() {
    let f = Files::new();
    // Athena: lower-case columns, nested objects as JSON strings, string booleans.
    let athena = json!({
        "eventversion": "1.08", "eventtime": "2025-05-14 10:00:00.000", "eventsource": "sts.amazonaws.com",
        "eventname": "AssumeRoleWithWebIdentity", "awsregion": "us-east-1", "sourceipaddress": "20.1.2.3",
        "useridentity": {"type": "WebIdentityUser", "username": "repo:a/b:ref:refs/heads/main",
            "identityprovider": "arn:aws:iam::1:oidc-provider/token.actions.githubusercontent.com"},
        "requestparameters": "{\"roleArn\":\"arn:aws:iam::1:role/deploy\",\"roleSessionName\":\"s\"}",
        "responseelements": "{\"credentials\":{\"accessKeyId\":\"ASIAATHENA\",\"expiration\":\"May 14, 2025, 11:00:00 AM\"},\"audience\":\"sts.amazonaws.com\"}",
        "eventid": "ath1", "readonly": "true", "recipientaccountid": "111111111111"
    });
    let p1 = f.put(
        "athena.json",
        athena.to_string() + "\n" + &event("X", "ath2").to_string() + "\n",
    );
    // CloudTrail Lake get-query-results: rows of single-column objects.
    let lake = json!({"QueryStatus": "FINISHED", "QueryResultRows": [
        [{"eventVersion": "1.08"}, {"eventTime": "2025-05-14 10:05:00.000"}, {"eventSource": "s3.amazonaws.com"},
         {"eventName": "GetObject"}, {"eventID": "lake1"}, {"sourceIPAddress": "20.1.2.3"},
         {"userIdentity": "{\"type\":\"AssumedRole\",\"accessKeyId\":\"ASIAATHENA\"}"}],
        [{"eventJson": event("PutObject", "lake2").to_string()}]
    ]});
    let p2 = f.put("lake.json", lake.to_string());
    let b = read(&[p1, p2]);
    assert!(b.errors.is_empty(), "{:?}", errors(&b));
    assert_eq!(ids(&b), vec!["ath1", "ath2", "lake1", "lake2"]);
    let a = &b.assumptions[0];
    assert_eq!(a.role_arn.as_deref(), Some("arn:aws:iam::1:role/deploy"));
    assert_eq!(a.access_key_id.as_deref(), Some("ASIAATHENA"));
    assert_eq!(b.events.read_only_of(0), Some(true));
    assert_eq!(b.events.str(b.events.access_key[2]), Some("ASIAATHENA"));
}

#[test]
fn claims_jwts_and_jobs_in_every_container() {
    let f = Files::new();
    let c1 = json!({"iss": "https://token.actions.githubusercontent.com", "sub": "repo:a/b:ref:refs/heads/main", "aud": "sts.amazonaws.com", "iat": 1, "exp": 2, "repository": "a/b"});
    let c2 = json!({"iss": "https://gitlab.com", "sub": "project_path:g/p:ref_type:branch:ref:main", "aud": "sts.amazonaws.com", "project_path": "g/p", "pipeline_id": "9"});
    use base64::Engine;
    let b64 = |v: &Value| base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(v.to_string());
    let token = format!(
        "{}.{}.c2lnbmF0dXJl",
        b64(&json!({"alg": "RS256"})),
        b64(&c1)
    );
    let job = json!({"action": "completed", "workflow_job": {"run_id": 7, "started_at": "2025-05-14T10:00:00Z", "completed_at": "2025-05-14T10:05:00Z"}, "repository": {"full_name": "a/b"}});
    let p1 = f.put("one.json", serde_json::to_string_pretty(&c1).unwrap());
    let p2 = f.put("many.json", json!([c1, c2]).to_string());
    let p3 = f.put("tokens.jwt", format!("{token}\n{token}\n"));
    let p4 = f.put("mixed.ndjson", format!("{}\n{token}\n{}\n", c2, job));
    let b = read(&[p1, p2, p3, p4]);
    assert!(b.errors.is_empty(), "{:?}", errors(&b));
    assert_eq!(b.claims.len(), 7);
    assert_eq!(b.claims.iter().filter(|c| c.from_jwt).count(), 3);
    assert_eq!(b.jobs.len(), 1);
    assert!(
        b.claims
            .iter()
            .all(|c| !c.claims_json.contains("c2lnbmF0dXJl")),
        "signatures are dropped"
    );
}

#[test]
fn failed_exchange_with_null_response_and_bare_identity() {
    let f = Files::new();
    let failed = json!({"eventVersion": "1.08", "userIdentity": {"type": "WebIdentityUser", "userName": "system:serviceaccount:ns:sa"},
        "eventName": "AssumeRoleWithWebIdentity", "errorCode": "AccessDenied", "errorMessage": "An unknown error occurred",
        "requestParameters": {"roleArn": "arn:aws:iam::1:role/r", "roleSessionName": "s"}, "responseElements": null});
    let b = read(&[f.put("f.json", failed.to_string())]);
    assert!(b.errors.is_empty(), "{:?}", errors(&b));
    let a = &b.assumptions[0];
    assert!(!a.succeeded());
    assert_eq!(a.subject.as_deref(), Some("system:serviceaccount:ns:sa"));
    assert_eq!(
        a.time, None,
        "no eventTime is an unknown time, not an error"
    );
}

// ---- bad input: each case with its outcome

#[test]
fn truncated_gzip_keeps_every_whole_record_before_the_damage() {
    let f = Files::new();
    let records: Vec<Value> = (0..3000)
        .map(|i| event("GetObject", &format!("e{i}")))
        .collect();
    let full = gz(json!({"Records": records}).to_string().as_bytes());
    let bad = f.put("cut.json.gz", &full[..full.len() * 2 / 3]);
    let good = f.put(
        "good.json",
        json!({"Records": [event("A", "g1")]}).to_string(),
    );
    let b = read(&[bad.clone(), good]);
    let errs = errors(&b);
    assert!(
        errs.iter()
            .any(|e| e.contains("cut.json.gz: gzip stream is truncated or corrupt")),
        "{errs:?}"
    );
    assert!(
        errs.iter()
            .any(|e| e.contains("cut.json.gz: line 1: the JSON ends early")),
        "{errs:?}"
    );
    let got = ids(&b);
    assert!(
        got.len() > 1000 && got.len() < 3000,
        "{} records recovered",
        got.len()
    );
    assert_eq!(got.last().unwrap(), "g1", "the other file is intact");
}

#[test]
fn one_bad_record_costs_one_record() {
    let f = Files::new();
    let mut wrong = event("B", "bad");
    wrong["eventTime"] = json!(12345);
    let mut bad_ip = event("C", "bad2");
    bad_ip["sourceIPAddress"] = json!({"nested": true});
    let mut bad_time = event("D", "bad3");
    bad_time["eventTime"] = json!("yesterday");
    let p = f.put(
        "mixed.json",
        json!({"Records": [event("A", "ok1"), wrong, bad_ip, bad_time, 42, event("E", "ok2")]})
            .to_string(),
    );
    let b = read(std::slice::from_ref(&p));
    assert_eq!(ids(&b), vec!["ok1", "ok2"]);
    let errs = errors(&b);
    assert_eq!(errs.len(), 4, "{errs:?}");
    assert!(
        errs[0].ends_with("record 1: `eventTime` should be a string, found a number"),
        "{errs:?}"
    );
    assert!(
        errs[1].ends_with("record 2: `sourceIPAddress` should be a string, found an object"),
        "{errs:?}"
    );
    assert!(
        errs[2].contains("record 3: `eventTime` is not a timestamp: \"yesterday\""),
        "{errs:?}"
    );
    assert!(
        errs[3].ends_with("record 4: expected an object, found a number"),
        "{errs:?}"
    );
    assert_eq!(b.errors[0].location, Location::Record(1));
}

#[test]
fn bad_lines_in_ndjson_name_their_line() {
    let f = Files::new();
    let text = format!(
        "{}\n{{\"eventName\": \n{}\nnot json\n\u{0}\n",
        event("A", "a"),
        event("B", "b")
    );
    let p = f.put("x.ndjson", text);
    let b = read(&[p]);
    assert_eq!(ids(&b), vec!["a", "b"]);
    let errs = errors(&b);
    assert!(
        errs.iter()
            .any(|e| e.contains("x.ndjson: line 2: the JSON ends early")),
        "{errs:?}"
    );
    assert!(
        errs.iter()
            .any(|e| e.contains("x.ndjson: line 4: neither JSON nor a JWT")),
        "{errs:?}"
    );
    assert!(
        errs.iter().any(|e| e.contains("x.ndjson: line 5:")),
        "{errs:?}"
    );
}

#[test]
fn invalid_utf8_is_reported_and_the_rest_read() {
    let f = Files::new();
    let mut bytes = format!("{}\n", event("A", "a")).into_bytes();
    let mut second = event("B", "b").to_string().into_bytes();
    let pos = second.windows(2).position(|w| w == b"ua").unwrap();
    second[pos] = 0xff;
    bytes.extend(second);
    let b = read(&[f.put("latin.json", bytes)]);
    assert_eq!(ids(&b), vec!["a", "b"]);
    assert_eq!(
        errors(&b),
        vec![format!(
            "{}: line 2: invalid UTF-8; bad bytes were replaced with U+FFFD and the file was read",
            f.0.path().join("latin.json").display()
        )]
    );
}

#[test]
fn empty_whitespace_and_non_log_files() {
    let f = Files::new();
    f.put("empty.json", "");
    f.put("blank.json", "  \n\t\n");
    f.put("notes.md", "# not a log\n");
    f.put(
        "package.json",
        "{\"name\": \"x\", \"version\": \"1.0.0\", \"dependencies\": {}}",
    );
    f.put("binary.bin", [0u8, 159, 146, 150]);
    let b = read(&[f.dir()]);
    assert_eq!(b.events.len(), 0);
    let skipped: Vec<&str> = b.skipped_files.iter().map(|s| s.reason.as_str()).collect();
    assert_eq!(skipped.iter().filter(|r| **r == "empty file").count(), 2);
    assert!(
        skipped.iter().any(|r| r.starts_with("not a log")),
        "{skipped:?}"
    );
    let errs = errors(&b);
    assert_eq!(errs.len(), 2, "{errs:?}");
    assert!(
        errs.iter()
            .any(|e| e.contains("package.json") && e.contains("keys: name, version, dependencies")),
        "{errs:?}"
    );
    assert!(
        errs.iter()
            .any(|e| e.contains("binary.bin") && e.contains("not a recognized log")),
        "{errs:?}"
    );
    // Named explicitly, a non-log is an error whatever its extension.
    let b = read(&[f.0.path().join("notes.md").to_string_lossy().to_string()]);
    assert_eq!(b.errors.len(), 1);
}

#[test]
fn hostile_structure_never_panics() {
    let f = Files::new();
    let deep = "[".repeat(10_000) + &"]".repeat(10_000);
    let deep_obj = format!(
        "{{\"Records\":[{}{}]}}",
        "{\"a\":".repeat(5000),
        "1".to_string() + &"}".repeat(5000)
    );
    let mut dup = event("A", "dup").to_string();
    dup.pop();
    dup.push_str(",\"sourceIPAddress\":\"6.6.6.6\"}");
    let big_num = event("A", "n").to_string().replace(
        "\"readOnly\":true",
        "\"readOnly\":true,\"x\":123456789012345678901234567890",
    );
    let old = event("A", "old")
        .to_string()
        .replace("2025-05-14T10:00:00Z", "1969-07-20T20:17:40Z");
    let far = event("A", "far")
        .to_string()
        .replace("2025-05-14T10:00:00Z", "9999-12-31T23:59:59Z");
    let b = read(&[
        f.put("deep.json", deep),
        f.put("deepobj.json", deep_obj),
        f.put("dup.json", dup),
        f.put("numbers.json", big_num),
        f.put("times.ndjson", format!("{old}\n{far}\n")),
    ]);
    let errs = errors(&b);
    assert!(
        errs.iter()
            .any(|e| e.contains("deep.json: record 0: expected an object, found an array")),
        "{errs:?}"
    );
    assert!(
        errs.iter()
            .any(|e| e.contains("deepobj.json: record 0: not a CloudTrail event")),
        "{errs:?}"
    );
    assert!(
        errs.iter()
            .any(|e| e
                .contains("dup.json: duplicate key `sourceIPAddress`; the last value was used")),
        "{errs:?}"
    );
    assert_eq!(ids(&b), vec!["dup", "n", "old", "far"]);
    assert_eq!(b.events.str(b.events.source_ip[0]), Some("6.6.6.6"));
    assert!(b.events.time[2] < 0 && b.events.time[3] > 253_000_000_000_000_000);
}

#[test]
fn since_and_until_drop_records_outside_the_window() {
    let f = Files::new();
    let mut early = event("A", "early");
    early["eventTime"] = json!("2025-05-13T23:59:59Z");
    let p = f.put(
        "w.json",
        json!({"Records": [early, event("B", "in")]}).to_string(),
    );
    let opts = IngestOptions {
        since: rolecall::model::time::parse_timestamp("2025-05-14T00:00:00Z"),
        until: rolecall::model::time::parse_timestamp("2025-05-15T00:00:00Z"),
        ..IngestOptions::default()
    };
    let b = ingest(&[p], &opts).unwrap().batch;
    assert_eq!(ids(&b), vec!["in"]);
    assert_eq!(b.records_outside_window, 1);
}

#[test]
fn calls_held_for_their_key_join_when_an_exchange_issued_it_wherever_it_was_read() {
    // The calls come in a file read before the exchange's: whether an
    // exchange issued their key is only known once the whole input is read.
    let f = Files::new();
    let mut other = event("GetObject", "other-role");
    other["userIdentity"]["accessKeyId"] = json!("ASIAOTHER");
    let mut long_term = event("GetObject", "iam-user");
    long_term["userIdentity"]["accessKeyId"] = json!("AKIALONGTERM");
    f.put(
        "a-calls.json",
        json!({"Records": [event("GetObject", "ours-1"), other, long_term, event("PutObject", "ours-2")]})
            .to_string(),
    );
    f.put(
        "b-exchange.json",
        json!({"Records": [exchange("x")]}).to_string(),
    );
    let opts = IngestOptions {
        elide_unrelated_events: true,
        ..IngestOptions::default()
    };
    let b = ingest(&[f.dir()], &opts).unwrap().batch;
    let mut kept = ids(&b);
    kept.sort();
    assert_eq!(kept, vec!["ours-1", "ours-2", "x"]);
    assert_eq!(
        b.events_elided, 2,
        "the other role's call and the IAM user's"
    );
    assert!(b.held.is_empty());
    assert!(
        b.events.strings.find("ASIAOTHER").is_none(),
        "a dropped call's strings stay out of the store"
    );
    // The exchange's event index still points at the exchange.
    let a = &b.assumptions[0];
    assert_eq!(b.events.event_id_of(a.event_index), Some("x"));

    // Without elision every call is kept, in the order read.
    let all = ingest(&[f.dir()], &IngestOptions::default()).unwrap().batch;
    assert_eq!(
        ids(&all),
        vec!["ours-1", "other-role", "iam-user", "ours-2", "x"]
    );
    assert_eq!(all.events_elided, 0);
}
