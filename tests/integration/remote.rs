//! Live sources against local stand-ins: an HTTP peer inside the test that
//! speaks the AWS JSON 1.1 protocol (LookupEvents, CloudTrail Lake), and a
//! moto S3 server on 127.0.0.1 (started here when `moto_server` is
//! installed; `.ci/run` installs it).

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::process::{Child, Command, Output, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde_json::{json, Value};

use crate::common::{role, stderr, stdout, Gh, Scenario, ACCOUNT};

/// One request the peer answered.
#[derive(Clone, Debug)]
struct Seen {
    at: Instant,
    target: String,
    body: Value,
}

type Handler = dyn Fn(usize, &str, &Value) -> (u16, Value) + Send + Sync;

/// A minimal HTTP/1.1 server for AWS JSON protocol calls.
struct Peer {
    url: String,
    seen: Arc<Mutex<Vec<Seen>>>,
}

fn serve_connection(mut stream: TcpStream, handler: Arc<Handler>, seen: Arc<Mutex<Vec<Seen>>>) {
    let mut reader = BufReader::new(stream.try_clone().unwrap());
    loop {
        let mut line = String::new();
        if reader.read_line(&mut line).unwrap_or(0) == 0 {
            return;
        }
        let mut target = String::new();
        let mut length = 0usize;
        loop {
            let mut h = String::new();
            if reader.read_line(&mut h).unwrap_or(0) == 0 {
                return;
            }
            let h = h.trim_end();
            if h.is_empty() {
                break;
            }
            if let Some((k, v)) = h.split_once(':') {
                match k.trim().to_ascii_lowercase().as_str() {
                    "x-amz-target" => target = v.trim().to_string(),
                    "content-length" => length = v.trim().parse().unwrap_or(0),
                    _ => {}
                }
            }
        }
        let mut body = vec![0u8; length];
        if reader.read_exact(&mut body).is_err() {
            return;
        }
        let body: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
        let n = {
            let mut s = seen.lock().unwrap();
            s.push(Seen {
                at: Instant::now(),
                target: target.clone(),
                body: body.clone(),
            });
            s.len() - 1
        };
        let (status, reply) = handler(n, &target, &body);
        let text = reply.to_string();
        let head = format!(
            "HTTP/1.1 {status} {}\r\nContent-Type: application/x-amz-json-1.1\r\nContent-Length: {}\r\nx-amzn-RequestId: req-{n}\r\n\r\n",
            if status == 200 { "OK" } else { "Bad Request" },
            text.len()
        );
        if stream
            .write_all(head.as_bytes())
            .and_then(|_| stream.write_all(text.as_bytes()))
            .is_err()
        {
            return;
        }
    }
}

impl Peer {
    fn start(
        handler: impl Fn(usize, &str, &Value) -> (u16, Value) + Send + Sync + 'static,
    ) -> Peer {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let seen: Arc<Mutex<Vec<Seen>>> = Arc::default();
        let handler: Arc<Handler> = Arc::new(handler);
        let (s, h) = (seen.clone(), handler.clone());
        std::thread::spawn(move || {
            for stream in listener.incoming().flatten() {
                let (s, h) = (s.clone(), h.clone());
                std::thread::spawn(move || serve_connection(stream, h, s));
            }
        });
        Peer { url, seen }
    }

    fn seen(&self) -> Vec<Seen> {
        self.seen.lock().unwrap().clone()
    }
}

/// The binary with test credentials and nothing from the real environment.
fn run_with_aws(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_rolecall"))
        .args(args)
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("AWS_ACCESS_KEY_ID", "AKIATESTTESTTESTTEST")
        .env("AWS_SECRET_ACCESS_KEY", "test-secret")
        .env("AWS_REGION", "us-east-1")
        .env("AWS_EC2_METADATA_DISABLED", "true")
        .env("AWS_CONFIG_FILE", "/nonexistent/rolecall-test-config")
        .env(
            "AWS_SHARED_CREDENTIALS_FILE",
            "/nonexistent/rolecall-test-credentials",
        )
        .output()
        .unwrap()
}

/// A session whose key is also used from a foreign address.
fn drift_scenario() -> Scenario {
    let mut s = Scenario::new();
    s.github(&Gh::default())
        .call("ASIAAAAAAAAAAAAAAAA1", 3700, "20.1.2.3", "s3", "GetObject")
        .call(
            "ASIAAAAAAAAAAAAAAAA1",
            3800,
            "185.220.101.34",
            "s3",
            "ListBuckets",
        );
    s.github(&Gh {
        key: "ASIABBBBBBBBBBBBBBB2",
        at: 7200,
        jti: "jti-2",
        run_id: "1002",
        claims: false,
        ..Gh::default()
    })
    .call("ASIABBBBBBBBBBBBBBB2", 7300, "20.1.2.3", "s3", "GetObject");
    s
}

fn attribute(body: &Value) -> (String, String) {
    let a = &body["LookupAttributes"][0];
    (
        a["AttributeKey"].as_str().unwrap_or("").into(),
        a["AttributeValue"].as_str().unwrap_or("").into(),
    )
}

#[test]
fn lookup_events_pages_paces_and_retries_throttling() {
    let records = drift_scenario().records;
    let exchanges: Vec<Value> = records
        .iter()
        .filter(|r| r["eventName"] == "AssumeRoleWithWebIdentity")
        .cloned()
        .collect();
    let calls = records.clone();
    let peer = Peer::start(move |n, target, body| {
        if n == 0 {
            return (
                400,
                json!({"__type": "ThrottlingException", "message": "Rate exceeded"}),
            );
        }
        assert!(
            target.ends_with("CloudTrail_20131101.LookupEvents"),
            "{target}"
        );
        let wrap = |events: Vec<&Value>| -> Vec<Value> {
            events
                .iter()
                .map(|e| json!({"EventId": e["eventID"], "CloudTrailEvent": e.to_string()}))
                .collect()
        };
        match attribute(body) {
            (k, v) if k == "EventName" && v == "AssumeRoleWithWebIdentity" => {
                match body.get("NextToken") {
                    None => (
                        200,
                        json!({"Events": wrap(vec![&exchanges[0]]), "NextToken": "page-2"}),
                    ),
                    Some(_) => (200, json!({"Events": wrap(vec![&exchanges[1]])})),
                }
            }
            (k, key) if k == "AccessKeyId" => {
                let mine: Vec<&Value> = calls
                    .iter()
                    .filter(|r| r["userIdentity"]["accessKeyId"] == key.as_str())
                    .collect();
                (200, json!({"Events": wrap(mine)}))
            }
            other => (
                400,
                json!({"__type": "InvalidLookupAttributesException", "message": format!("{other:?}")}),
            ),
        }
    });
    // No window: LookupEvents' own 90 days (the records are older, and are
    // kept: the window only bounds what is asked for).
    let o = run_with_aws(&[
        "scan",
        "cloudtrail://us-east-1",
        "--endpoint-url",
        &peer.url,
        "--format",
        "json",
    ]);
    let err = stderr(&o);
    assert_eq!(o.status.code(), Some(1), "{err}{}", stdout(&o));
    let doc: Value = serde_json::from_str(&stdout(&o)).unwrap();
    assert_eq!(doc["summary"]["exchanges"]["total"], 2);
    assert_eq!(doc["summary"]["sessions"], 2);
    let rules: Vec<&str> = doc["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["rule"].as_str().unwrap())
        .collect();
    assert_eq!(rules, vec!["credential-ip-drift"]);
    let seen = peer.seen();
    // Throttled once, then: exchanges (2 pages) and one lookup per key.
    assert_eq!(seen.len(), 1 + 2 + 2, "{seen:#?}");
    assert!(
        seen.iter()
            .all(|s| s.target == "CloudTrail_20131101.LookupEvents"),
        "{seen:#?}"
    );
    let (k, v) = attribute(&seen[3].body);
    assert_eq!(
        (k.as_str(), v.as_str()),
        ("AccessKeyId", "ASIAAAAAAAAAAAAAAAA1")
    );
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs_f64();
    let start = seen[1].body["StartTime"].as_f64().unwrap();
    assert!(
        (now - 90.0 * 86_400.0 - start).abs() < 120.0,
        "StartTime {start} is 90 days back"
    );
    // Two requests a second at most, per region.
    for w in seen[1..].windows(2) {
        assert!(
            w[1].at - w[0].at >= Duration::from_millis(450),
            "requests {:?} apart",
            w[1].at - w[0].at
        );
    }
}

#[test]
fn lookup_events_errors_are_exit_two_and_old_windows_are_said() {
    let peer = Peer::start(|_, _, _| {
        (
            400,
            json!({"__type": "AccessDeniedException", "message": "not allowed to LookupEvents"}),
        )
    });
    let o = run_with_aws(&[
        "scan",
        "cloudtrail://us-east-1",
        "--endpoint-url",
        &peer.url,
        "--format",
        "json",
    ]);
    assert_eq!(o.status.code(), Some(2));
    let err = stderr(&o);
    assert!(
        err.contains("cloudtrail://us-east-1: LookupEvents")
            && err.contains("not allowed to LookupEvents"),
        "{err}"
    );
    assert!(stdout(&o).is_empty(), "no result built on partial data");

    let peer = Peer::start(|_, _, _| (200, json!({"Events": []})));
    let o = run_with_aws(&[
        "scan",
        "cloudtrail://eu-west-1",
        "--endpoint-url",
        &peer.url,
        "--since",
        "2020-01-01",
        "--format",
        "json",
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let doc: Value = serde_json::from_str(&stdout(&o)).unwrap();
    assert!(
        doc["summary"]["notes"][0]
            .as_str()
            .unwrap()
            .starts_with("LookupEvents keeps 90 days"),
        "{}",
        doc["summary"]["notes"]
    );
}

/// One Lake result row (aliased columns, all strings) for a record.
fn lake_row(r: &Value) -> Value {
    let ui = &r["userIdentity"];
    let s = |v: &Value| v.as_str().map(str::to_string);
    let mut cols: Vec<(&str, Option<String>)> = vec![
        ("eventID", s(&r["eventID"])),
        (
            "eventTime",
            s(&r["eventTime"]).map(|t| t.replace('T', " ").replace('Z', ".000")),
        ),
        ("eventSource", s(&r["eventSource"])),
        ("eventName", s(&r["eventName"])),
        ("awsRegion", s(&r["awsRegion"])),
        ("sourceIPAddress", s(&r["sourceIPAddress"])),
        ("recipientAccountId", s(&r["recipientAccountId"])),
        ("userIdentityType", s(&ui["type"])),
        ("userIdentityUserName", s(&ui["userName"])),
        ("userIdentityIdentityProvider", s(&ui["identityProvider"])),
        ("userIdentityAccessKeyId", s(&ui["accessKeyId"])),
        ("userIdentityPrincipalId", s(&ui["principalId"])),
        ("roleArn", s(&r["requestParameters"]["roleArn"])),
        (
            "roleSessionName",
            s(&r["requestParameters"]["roleSessionName"]),
        ),
        (
            "subjectFromWebIdentityToken",
            s(&r["responseElements"]["subjectFromWebIdentityToken"]),
        ),
        ("audience", s(&r["responseElements"]["audience"])),
        ("provider", s(&r["responseElements"]["provider"])),
    ];
    if r["responseElements"]["credentials"].is_object() {
        cols.push((
            "credentials",
            Some(r["responseElements"]["credentials"].to_string()),
        ));
    }
    Value::Array(
        cols.into_iter()
            .filter_map(|(k, v)| v.map(|v| json!({ k: v })))
            .collect(),
    )
}

#[test]
fn cloudtrail_lake_queries_polls_and_pages() {
    let records = drift_scenario().records;
    let statements: Arc<Mutex<Vec<String>>> = Arc::default();
    let st = statements.clone();
    let polls = Arc::new(Mutex::new(0));
    let peer = Peer::start(move |_, target, body| {
        let op = target.rsplit('.').next().unwrap_or("");
        match op {
            "StartQuery" => {
                let mut s = st.lock().unwrap();
                s.push(body["QueryStatement"].as_str().unwrap().to_string());
                (
                    200,
                    json!({"QueryId": format!("00000000-0000-4000-8000-00000000000{}", s.len())}),
                )
            }
            "DescribeQuery" => {
                let mut p = polls.lock().unwrap();
                *p += 1;
                let status = if *p % 2 == 1 { "RUNNING" } else { "FINISHED" };
                (
                    200,
                    json!({"QueryId": body["QueryId"], "QueryStatus": status}),
                )
            }
            "GetQueryResults" => {
                let first = body["QueryId"].as_str().unwrap().ends_with('1');
                let rows: Vec<Value> = records
                    .iter()
                    .filter(|r| (r["eventName"] == "AssumeRoleWithWebIdentity") == first)
                    .map(lake_row)
                    .collect();
                // Two pages for the exchanges.
                match (first, body.get("NextToken")) {
                    (true, None) => (
                        200,
                        json!({"QueryStatus": "FINISHED", "QueryResultRows": [rows[0]], "NextToken": "next-page"}),
                    ),
                    (true, Some(_)) => (
                        200,
                        json!({"QueryStatus": "FINISHED", "QueryResultRows": [rows[1]]}),
                    ),
                    (false, _) => (
                        200,
                        json!({"QueryStatus": "FINISHED", "QueryResultRows": rows}),
                    ),
                }
            }
            other => (
                400,
                json!({"__type": "UnsupportedOperationException", "message": other}),
            ),
        }
    });
    let o = run_with_aws(&[
        "scan",
        "cloudtrail-lake://arn:aws:cloudtrail:us-east-1:111111111111:eventdatastore/eds-0001",
        "--endpoint-url",
        &peer.url,
        "--since",
        "2025-05-13",
        "--until",
        "2025-05-15",
        "--format",
        "json",
    ]);
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    let doc: Value = serde_json::from_str(&stdout(&o)).unwrap();
    assert_eq!(
        doc["summary"]["input_error_count"], 0,
        "{}",
        doc["summary"]["input_errors"]
    );
    assert_eq!(doc["summary"]["exchanges"]["total"], 2);
    assert_eq!(doc["findings"][0]["rule"], "credential-ip-drift");
    let s = statements.lock().unwrap();
    assert_eq!(s.len(), 2);
    assert!(
        s[0].contains("FROM eds-0001 WHERE eventTime >= '2025-05-13 00:00:00'")
            && s[0].ends_with("eventName = 'AssumeRoleWithWebIdentity'"),
        "{}",
        s[0]
    );
    assert!(
        s[1].ends_with("IN ('ASIAAAAAAAAAAAAAAAA1', 'ASIABBBBBBBBBBBBBBB2')"),
        "{}",
        s[1]
    );
}

#[test]
fn a_failed_lake_query_is_exit_two() {
    let peer = Peer::start(
        |_, target, _| match target.rsplit('.').next().unwrap_or("") {
            "StartQuery" => (
                200,
                json!({"QueryId": "00000000-0000-4000-8000-000000000001"}),
            ),
            _ => (
                200,
                json!({"QueryStatus": "FAILED", "ErrorMessage": "Query syntax error near FROM"}),
            ),
        },
    );
    let o = run_with_aws(&[
        "scan",
        "cloudtrail-lake://eds-0001",
        "--endpoint-url",
        &peer.url,
        "--since",
        "2025-05-13",
    ]);
    assert_eq!(o.status.code(), Some(2));
    assert!(
        stderr(&o).contains("FAILED: Query syntax error near FROM"),
        "{}",
        stderr(&o)
    );
}

// ---- S3, against moto

struct Moto {
    child: Child,
    url: String,
}

impl Drop for Moto {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn start_moto() -> Option<Moto> {
    let port = TcpListener::bind("127.0.0.1:0")
        .ok()?
        .local_addr()
        .ok()?
        .port();
    let child = Command::new("moto_server")
        .args(["-H", "127.0.0.1", "-p", &port.to_string()])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .ok()?;
    let moto = Moto {
        child,
        url: format!("http://127.0.0.1:{port}"),
    };
    let deadline = Instant::now() + Duration::from_secs(30);
    while Instant::now() < deadline {
        if TcpStream::connect(("127.0.0.1", port)).is_ok() {
            return Some(moto);
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    None
}

fn gz(data: &[u8]) -> Vec<u8> {
    use flate2::write::GzEncoder;
    let mut e = GzEncoder::new(Vec::new(), flate2::Compression::fast());
    e.write_all(data).unwrap();
    e.finish().unwrap()
}

#[test]
fn s3_trails_are_read_with_date_pruning_and_digests_skipped() {
    let Some(moto) = start_moto() else {
        crate::common::skip_or_fail(
            "ROLECALL_REQUIRE_MOTO",
            "moto_server is not installed (pip install 'moto[server]')",
        );
        return;
    };
    let records = drift_scenario().records;
    let base = format!("AWSLogs/o-acme12345/{ACCOUNT}/CloudTrail/us-east-1");
    let day =
        format!("{base}/2025/05/14/{ACCOUNT}_CloudTrail_us-east-1_20250514T0100Z_abc.json.gz");
    let old =
        format!("{base}/2025/01/02/{ACCOUNT}_CloudTrail_us-east-1_20250102T0100Z_old.json.gz");
    let digest = format!(
        "AWSLogs/o-acme12345/{ACCOUNT}/CloudTrail-Digest/us-east-1/2025/05/14/digest.json.gz"
    );
    let mut stale = Scenario::new();
    stale.github(&Gh {
        key: "ASIACCCCCCCCCCCCCCC3",
        role: role("api-prod"),
        git_ref: "refs/heads/feature",
        env: None,
        at: -11_000_000,
        jti: "j3",
        ..Gh::default()
    });
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        let conf = aws_config::defaults(aws_config::BehaviorVersion::latest())
            .endpoint_url(&moto.url)
            .region(aws_config::Region::new("us-east-1"))
            .credentials_provider(aws_sdk_s3::config::Credentials::new(
                "AKIATEST", "secret", None, None, "test",
            ))
            .load()
            .await;
        let s3 = aws_sdk_s3::Client::from_conf(
            aws_sdk_s3::config::Builder::from(&conf)
                .force_path_style(true)
                .build(),
        );
        s3.create_bucket()
            .bucket("acme-trail")
            .send()
            .await
            .unwrap();
        for (key, body) in [
            (
                day.as_str(),
                gz(json!({"Records": records}).to_string().as_bytes()),
            ),
            (
                old.as_str(),
                gz(json!({"Records": stale.records}).to_string().as_bytes()),
            ),
            (
                digest.as_str(),
                gz(b"{\"digestStartTime\": \"2025-05-14T00:00:00Z\"}"),
            ),
        ] {
            s3.put_object()
                .bucket("acme-trail")
                .key(key)
                .body(body.into())
                .send()
                .await
                .unwrap();
        }
    });
    let o = run_with_aws(&[
        "scan",
        "s3://acme-trail/AWSLogs/",
        "--endpoint-url",
        &moto.url,
        "--since",
        "2025-05-14",
        "--until",
        "2025-05-15",
        "--format",
        "json",
    ]);
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    let doc: Value = serde_json::from_str(&stdout(&o)).unwrap();
    assert_eq!(
        doc["summary"]["inputs"]["files"], 1,
        "only the window's day prefix was fetched"
    );
    assert_eq!(doc["findings"][0]["rule"], "credential-ip-drift");
    // Without a window, everything but the digest.
    let o = run_with_aws(&[
        "scan",
        "s3://acme-trail/AWSLogs/",
        "--endpoint-url",
        &moto.url,
        "--format",
        "json",
    ]);
    let doc: Value = serde_json::from_str(&stdout(&o)).unwrap();
    assert_eq!(doc["summary"]["inputs"]["files"], 2, "{}", stderr(&o));
    let rules: Vec<&str> = doc["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["rule"].as_str().unwrap())
        .collect();
    assert!(
        rules.contains(&"unexpected-ref"),
        "the January file was read: {rules:?}"
    );
    // A bucket that does not exist is an API error: exit 2.
    let o = run_with_aws(&["scan", "s3://no-such-bucket/", "--endpoint-url", &moto.url]);
    assert_eq!(o.status.code(), Some(2));
    assert!(
        stderr(&o).contains("s3://no-such-bucket/"),
        "{}",
        stderr(&o)
    );
}

#[test]
fn a_source_that_cannot_be_read_is_exit_two_unless_partial_results_are_allowed() {
    let peer = Peer::start(|_, _, _| {
        (
            400,
            json!({"__type": "AccessDeniedException", "message": "not allowed in this region"}),
        )
    });
    let dir = tempfile::tempdir().unwrap();
    drift_scenario().write(dir.path());
    let local = dir.path().to_str().unwrap();
    let base = [
        "scan",
        local,
        "cloudtrail://us-east-1",
        "--endpoint-url",
        &peer.url,
    ];

    let o = run_with_aws(&[&base[..], &["--format", "json"]].concat());
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(
        stdout(&o).is_empty(),
        "no result on partial data unless asked"
    );
    let err = stderr(&o);
    assert!(
        err.contains("--allow-partial") && err.contains("not allowed in this region"),
        "{err}"
    );

    let o = run_with_aws(&[&base[..], &["--allow-partial", "--format", "json"]].concat());
    assert_eq!(
        o.status.code(),
        Some(1),
        "the local findings still count: {}",
        stderr(&o)
    );
    let doc: Value = serde_json::from_str(&stdout(&o)).unwrap();
    assert_eq!(doc["summary"]["partial"], true);
    assert_eq!(
        doc["summary"]["unread"][0]["source"],
        "cloudtrail://us-east-1"
    );
    assert_eq!(doc["findings"][0]["rule"], "credential-ip-drift");

    // Every format says so.
    for (format, marker) in [
        ("table", "PARTIAL: not read: cloudtrail://us-east-1"),
        (
            "github",
            "::warning title=rolecall%3A partial input::not read: cloudtrail://us-east-1",
        ),
        ("junit", "<error type=\"partial-input\""),
        (
            "gitlab-codequality",
            "\"check_name\": \"rolecall-partial-input\"",
        ),
        ("sarif", "\"executionSuccessful\": false"),
        ("ocsf", "\"partial_input\":true"),
        ("csv", "# PARTIAL: not read: cloudtrail://us-east-1"),
        ("markdown", "**Partial: some input could not be read"),
        ("ndjson", "\"partial_input\":true"),
    ] {
        let o = run_with_aws(&[&base[..], &["--allow-partial", "--format", format]].concat());
        assert_eq!(o.status.code(), Some(1), "{format}: {}", stderr(&o));
        assert!(
            stdout(&o).contains(marker),
            "{format} lacks {marker:?}:\n{}",
            stdout(&o)
        );
    }
}
