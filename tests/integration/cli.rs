//! The binary as a pipeline uses it: output documents, exit codes, flags.

use std::io::Write;
use std::process::{Command, Stdio};

use serde_json::Value;

use crate::common::{repo_path, rolecall, stderr, stdout, Gh, Scenario};

fn sample_scan(extra: &[&str]) -> std::process::Output {
    let logs = repo_path("sample-logs");
    let policy = repo_path("sample-logs/rolecall.toml");
    let mut args = vec!["scan", logs.as_str(), "--policy", policy.as_str()];
    args.extend_from_slice(extra);
    rolecall(&args)
}

fn json(o: &std::process::Output) -> Value {
    serde_json::from_str(&stdout(o))
        .unwrap_or_else(|e| panic!("stdout is one JSON document ({e}): {}", stdout(o)))
}

#[test]
fn memory_rules_are_refused_by_scan_with_a_pointer_to_report() {
    let o = sample_scan(&["--rules", "first-seen-subject"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(
        stderr(&o).contains("rolecall report --state"),
        "{}",
        stderr(&o)
    );
}

#[test]
fn scanning_the_sample_logs_finds_every_detection_and_fails() {
    let o = sample_scan(&["--format", "json"]);
    assert_eq!(o.status.code(), Some(1), "stderr: {}", stderr(&o));
    let doc = json(&o);
    assert_eq!(doc["version"], 1);
    let findings = doc["findings"].as_array().unwrap();
    let mut rules: Vec<&str> = findings
        .iter()
        .map(|f| f["rule"].as_str().unwrap())
        .collect();
    rules.sort();
    rules.dedup();
    // Every rule but those that need a state's history or suppressions, and
    // the trust rules, which judge trust policies rather than logs (they
    // fire on tests/data/trust: see trust::every_trust_rule_fires_on_the_fixtures).
    let catalogue: Vec<_> = rolecall::detect::catalogue(&[])
        .into_iter()
        .filter(|r| r.kind == rolecall::model::rule::RuleKind::Run && r.id != "expired-suppression")
        .collect();
    assert_eq!(
        rules.len(),
        catalogue.len(),
        "every rule fires on the sample: {rules:?}"
    );
    // Each finding's fingerprint rests on fields it actually has.
    let queries = rolecall::detect::sql::builtin_queries();
    for f in findings {
        let fp = f["fingerprint"].as_str().unwrap();
        assert_eq!(fp.len(), 32, "{f}");
        if let Some(q) = queries.iter().find(|q| q.id() == f["rule"]) {
            // (A field may be absent, which is part of the identity; an
            // evidence key the query does not produce is a typo.)
            for k in q
                .rule
                .identity
                .iter()
                .filter_map(|f| f.strip_prefix("evidence."))
            {
                assert!(
                    f["evidence"].get(k).is_some(),
                    "{}: identity names evidence.{k}, which the query does not produce: {f}",
                    q.id()
                );
            }
        }
    }
    assert_eq!(doc["summary"]["input_error_count"], 0);
    assert_eq!(doc["summary"]["findings"]["total"], findings.len());
    // Sorted by severity, then time.
    let rank = |s: &str| {
        ["critical", "high", "medium", "low", "info"]
            .iter()
            .position(|x| *x == s)
            .unwrap()
    };
    let keys: Vec<(usize, String)> = findings
        .iter()
        .map(|f| {
            (
                rank(f["severity"].as_str().unwrap()),
                f["time"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    let mut sorted = keys.clone();
    sorted.sort();
    assert_eq!(keys, sorted);
    // Every finding carries the contract's fields.
    for f in findings {
        for field in [
            "rule",
            "severity",
            "title",
            "message",
            "time",
            "cloud",
            "account",
            "role",
            "issuer",
            "subject",
            "repository",
            "ref",
            "environment",
            "trigger",
            "run_id",
            "session_key",
            "source_ip",
            "event_ids",
            "evidence",
        ] {
            assert!(f.get(field).is_some(), "{field} missing in {f}");
        }
        // What only the credential report shows rests on no event.
        let from_iam = f["evidence"]["calls"] == 0;
        assert!(
            from_iam || !f["event_ids"].as_array().unwrap().is_empty(),
            "{f}"
        );
        assert!(f["message"].as_str().unwrap().ends_with('.'), "{f}");
    }
}

#[test]
fn fail_on_sets_the_threshold() {
    assert_eq!(
        sample_scan(&["--format", "json", "--fail-on", "critical"])
            .status
            .code(),
        Some(1)
    );
    assert_eq!(
        sample_scan(&["--format", "json", "--fail-on", "never"])
            .status
            .code(),
        Some(0)
    );
    // Only a low finding: fails at low, passes at medium.
    let only_low = ["--format", "json", "--rules", "unmatched-assumption"];
    assert_eq!(
        sample_scan(&[&only_low[..], &["--fail-on", "low"]].concat())
            .status
            .code(),
        Some(1)
    );
    assert_eq!(
        sample_scan(&[&only_low[..], &["--fail-on", "medium"]].concat())
            .status
            .code(),
        Some(0)
    );
}

#[test]
fn rules_filter_runs_only_those_detections() {
    let o = sample_scan(&["--format", "json", "--rules", "token-reuse,tier-mismatch"]);
    let doc = json(&o);
    let rules: Vec<&str> = doc["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["rule"].as_str().unwrap())
        .collect();
    assert_eq!(
        rules,
        vec!["tier-mismatch", "tier-mismatch", "token-reuse"],
        "AWS and GCP tier mismatches"
    );
    assert_eq!(
        doc["summary"]["rules"],
        serde_json::json!(["tier-mismatch", "token-reuse"])
    );
    let o = sample_scan(&["--rules", "no-such-rule"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(
        stderr(&o).contains("unknown rule `no-such-rule`"),
        "{}",
        stderr(&o)
    );
}

#[test]
fn ndjson_is_one_finding_per_line() {
    let o = sample_scan(&["--format", "ndjson"]);
    let lines: Vec<Value> = stdout(&o)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let doc = json(&sample_scan(&["--format", "json"]));
    assert_eq!(lines.len(), doc["findings"].as_array().unwrap().len());
    assert_eq!(lines[0], doc["findings"][0]);
}

#[test]
fn output_flag_writes_a_file_and_json_is_the_default_off_a_terminal() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("findings.json");
    let o = sample_scan(&["--output", out.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(1));
    assert!(stdout(&o).is_empty());
    let doc: Value = serde_json::from_str(&std::fs::read_to_string(&out).unwrap()).unwrap();
    assert_eq!(doc["version"], 1);
}

#[test]
fn a_clean_scan_exits_zero() {
    let dir = tempfile::tempdir().unwrap();
    let mut s = Scenario::new();
    s.github(&Gh::default());
    s.write(dir.path());
    let o = rolecall(&["scan", dir.path().to_str().unwrap(), "--format", "table"]);
    assert_eq!(o.status.code(), Some(0), "{}{}", stdout(&o), stderr(&o));
    assert!(stdout(&o).contains("rolecall: no findings"));
}

#[test]
fn input_errors_are_reported_and_strict_makes_them_fatal() {
    let dir = tempfile::tempdir().unwrap();
    let mut s = Scenario::new();
    s.github(&Gh::default());
    s.write(dir.path());
    std::fs::write(
        dir.path().join("broken.json"),
        "{\"Records\": [{\"eventName\": \"X\", \"eventTime\": 5}",
    )
    .unwrap();
    let path = dir.path().to_str().unwrap();
    let o = rolecall(&["scan", path, "--format", "json"]);
    assert_eq!(
        o.status.code(),
        Some(0),
        "input errors alone do not fail a lenient run"
    );
    let err = stderr(&o);
    assert!(
        err.contains("broken.json: record 0: `eventTime` should be a string, found a number"),
        "{err}"
    );
    assert!(
        err.contains("broken.json: line 1: the JSON ends early"),
        "{err}"
    );
    let doc = json(&o);
    assert_eq!(doc["summary"]["input_error_count"], 2);
    assert_eq!(doc["summary"]["input_errors"][0]["location"]["record"], 0);
    assert_eq!(
        doc["summary"]["sessions"], 1,
        "the good file was read in full"
    );

    let o = rolecall(&["scan", path, "--format", "json", "--strict"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("--strict"));
    json(&o);
}

#[test]
fn errors_outrank_findings() {
    let dir = tempfile::tempdir().unwrap();
    let mut s = Scenario::new();
    s.github(&Gh {
        role: crate::common::role("api-prod"),
        git_ref: "refs/heads/feature",
        ..Gh::default()
    });
    s.write(dir.path());
    std::fs::write(dir.path().join("junk.json"), "not json at all").unwrap();
    let o = rolecall(&[
        "scan",
        dir.path().to_str().unwrap(),
        "--format",
        "json",
        "--strict",
    ]);
    assert_eq!(o.status.code(), Some(2));
    assert_eq!(json(&o)["summary"]["findings"]["high"], 1);
}

#[test]
fn a_malformed_policy_is_exit_two_with_its_line() {
    let dir = tempfile::tempdir().unwrap();
    let policy = dir.path().join("p.toml");
    std::fs::write(&policy, "[settings]\nmax_session_duration = \"an hour\"\n").unwrap();
    let logs = repo_path("sample-logs");
    let o = rolecall(&["scan", &logs, "--policy", policy.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(2));
    let err = stderr(&o);
    assert!(
        err.contains("p.toml: line 2, column 24: `an hour` is not a duration"),
        "{err}"
    );
    let o = rolecall(&["scan", &logs, "--policy", "/no/such/policy.toml"]);
    assert_eq!(o.status.code(), Some(2));
}

#[test]
fn bad_arguments_are_exit_two() {
    assert_eq!(rolecall(&["scan"]).status.code(), Some(2));
    assert_eq!(
        rolecall(&["scan", ".", "--fail-on", "urgent"])
            .status
            .code(),
        Some(2)
    );
    assert_eq!(
        rolecall(&["scan", ".", "--since", "last tuesday"])
            .status
            .code(),
        Some(2)
    );
    assert_eq!(rolecall(&["frobnicate"]).status.code(), Some(2));
    let o = rolecall(&[
        "scan",
        ".",
        "--since",
        "2025-05-02",
        "--until",
        "2025-05-01",
    ]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("--since must be before --until"));
}

#[test]
fn since_and_until_window_the_events() {
    let o = sample_scan(&[
        "--format",
        "json",
        "--since",
        "2025-05-14T13:00:00Z",
        "--until",
        "2025-05-14T15:00:00Z",
    ]);
    let doc = json(&o);
    let times: Vec<&str> = doc["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["time"].as_str().unwrap())
        .collect();
    assert!(!times.is_empty());
    assert!(
        times
            .iter()
            .all(|t| *t >= "2025-05-14T13:00:00Z" && *t < "2025-05-14T15:00:00Z"),
        "{times:?}"
    );
    assert!(
        doc["summary"]["inputs"]["records_outside_window"]
            .as_u64()
            .unwrap()
            > 1000
    );
    assert_eq!(doc["summary"]["since"], "2025-05-14T13:00:00Z");
}

#[test]
fn stdin_is_a_source() {
    let dir = tempfile::tempdir().unwrap();
    let mut s = Scenario::new();
    s.github(&Gh {
        git_ref: "refs/heads/feature",
        env: None,
        role: crate::common::role("api-prod"),
        ..Gh::default()
    });
    s.write(dir.path());
    let trail = std::fs::read(dir.path().join("trail.json")).unwrap();
    let mut child = Command::new(env!("CARGO_BIN_EXE_rolecall"))
        .args(["scan", "-", "--format", "json"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child.stdin.take().unwrap().write_all(&trail).unwrap();
    let o = child.wait_with_output().unwrap();
    assert_eq!(o.status.code(), Some(1));
    let doc = json(&o);
    assert_eq!(doc["findings"][0]["rule"], "unexpected-ref");
}

#[test]
fn user_queries_add_detections() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("no-claims.sql"),
        "-- id: exchange-without-claims\n-- title: Exchange judged on its subject\n-- severity: info\n\
         -- description: Sessions whose claims were not found.\n-- message: {session_key} on {role_arn} matched {match}.\n\
         -- references: https://example.com\nSELECT session_key, time, match FROM sessions WHERE match <> 'exact'\n",
    )
    .unwrap();
    let q = dir.path().to_str().unwrap();
    let o = sample_scan(&[
        "--format",
        "json",
        "--queries",
        q,
        "--rules",
        "exchange-without-claims",
    ]);
    let doc = json(&o);
    let f = doc["findings"].as_array().unwrap();
    assert_eq!(f.len(), 6, "three AWS exchanges and the three Vault logins");
    assert_eq!(f[0]["severity"], "info");
    assert!(
        f[0]["message"]
            .as_str()
            .unwrap()
            .contains(" matched derived."),
        "{}",
        f[0]["message"]
    );
    assert_eq!(
        o.status.code(),
        Some(0),
        "info does not fail at the default high"
    );

    let o = rolecall(&["rules", "--queries", q, "--format", "json"]);
    let rules: Value = serde_json::from_str(&stdout(&o)).unwrap();
    assert!(rules
        .as_array()
        .unwrap()
        .iter()
        .any(|r| r["id"] == "exchange-without-claims"));

    std::fs::write(
        dir.path().join("bad.sql"),
        "-- id: bad\n-- title: t\n-- severity: low\n-- description: d\nSELECT nope FROM nowhere\n",
    )
    .unwrap();
    let o = sample_scan(&["--format", "json", "--queries", q]);
    assert_eq!(
        o.status.code(),
        Some(2),
        "a detection that cannot run is an error, never a silent skip"
    );
    assert!(stderr(&o).contains("detection bad"), "{}", stderr(&o));
    std::fs::write(
        dir.path().join("bad.sql"),
        "-- id: tier-mismatch\n-- title: t\n-- severity: low\n-- description: d\nSELECT 1\n",
    )
    .unwrap();
    let o = sample_scan(&["--queries", q]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("already used by a built-in detection"));
}

#[test]
fn rules_lists_the_catalogue() {
    let o = rolecall(&["rules", "--format", "json"]);
    assert_eq!(o.status.code(), Some(0));
    let rules: Value = serde_json::from_str(&stdout(&o)).unwrap();
    let ids: Vec<&str> = rules
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["id"].as_str().unwrap())
        .collect();
    for id in [
        "tier-mismatch",
        "untrusted-repository",
        "unexpected-ref",
        "unexpected-environment",
        "unexpected-workflow",
        "pull-request-assumption",
        "untrusted-issuer",
        "audience-mismatch",
        "excessive-duration",
        "credential-ip-drift",
        "credential-use-after-job",
        "token-reuse",
        "assume-failure-burst",
        "sensitive-action",
        "unmatched-assumption",
    ] {
        assert!(ids.contains(&id), "{id}");
    }
    let text = stdout(&rolecall(&["rules"]));
    assert!(
        text.contains("credential-ip-drift        critical"),
        "{text}"
    );
}

#[test]
fn sessions_lists_every_session_with_its_finding_count() {
    let logs = repo_path("sample-logs");
    let o = rolecall(&["sessions", &logs, "--format", "json"]);
    assert_eq!(o.status.code(), Some(0));
    let rows: Value = serde_json::from_str(&stdout(&o)).unwrap();
    let rows = rows.as_array().unwrap();
    assert_eq!(rows.len(), 69);
    assert!(rows.iter().any(|r| r["findings"].as_i64().unwrap() > 0));
    assert!(rows
        .iter()
        .any(|r| r["findings"] == 0 && r["match"] == "exact"));
    let csv = stdout(&rolecall(&["sessions", &logs, "--format", "csv"]));
    assert_eq!(csv.lines().count(), 70);
    assert!(csv.starts_with("session_key,time,"));
}

#[test]
fn query_runs_sql_over_the_tables() {
    let logs = repo_path("sample-logs");
    let o = rolecall(&[
        "query",
        &logs,
        "--format",
        "json",
        "--sql",
        "SELECT action, COUNT(*) AS n FROM events WHERE service = 'sts.amazonaws.com' GROUP BY action ORDER BY action",
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let rows: Value = serde_json::from_str(&stdout(&o)).unwrap();
    assert_eq!(rows[1]["action"], "AssumeRoleWithWebIdentity");
    assert_eq!(rows[1]["n"], 66);
    let o = rolecall(&[
        "query",
        &logs,
        "--format",
        "json",
        "--sql",
        "SELECT rule, COUNT(*) AS n FROM findings GROUP BY rule ORDER BY rule",
    ]);
    let rows: Value = serde_json::from_str(&stdout(&o)).unwrap();
    assert_eq!(
        rows.as_array().unwrap().len(),
        13,
        "without a policy, the five policy-list rules and static-key-after-migration stay quiet"
    );
    let o = rolecall(&["query", &logs, "--sql", "SELECT * FROM nope"]);
    assert_eq!(o.status.code(), Some(2));
}

#[test]
fn jwks_verifies_the_sample_gitlab_tokens() {
    let logs = repo_path("sample-logs");
    let keys = repo_path("sample-logs/keys/gitlab-jwks.json");
    let o = rolecall(&["query", &logs, "--jwks", &keys, "--format", "json", "--sql",
        "SELECT provider, verified, from_jwt, COUNT(*) AS n FROM claims GROUP BY provider, verified, from_jwt ORDER BY provider"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let rows: Value = serde_json::from_str(&stdout(&o)).unwrap();
    let gitlab = rows
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["provider"] == "gitlab")
        .unwrap();
    assert_eq!(gitlab["verified"], true);
    assert_eq!(gitlab["n"], 6);
    // The key set as a source is a mistake worth saying.
    let o = rolecall(&["scan", &keys, "--format", "json"]);
    assert!(stderr(&o).contains("give it with --jwks"), "{}", stderr(&o));
}

#[test]
fn table_output_is_readable_and_escaped() {
    let o = sample_scan(&["--format", "table"]);
    let text = stdout(&o);
    assert!(text.starts_with("SEVERITY  TIME"), "{text}");
    assert!(
        text.contains("rolecall: 27 findings: 5 critical, 13 high, 4 medium, 4 low, 1 info"),
        "{text}"
    );
    assert!(!text.contains('\x1b'), "no colour when not on a terminal");
}

#[test]
fn events_no_session_made_are_counted_but_only_kept_for_sql_over_events() {
    let logs = repo_path("sample-logs");
    let count = |sql: &str| -> i64 {
        let o = rolecall(&["query", &logs, "--format", "json", "--sql", sql]);
        assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
        let rows: Value = serde_json::from_str(&stdout(&o)).unwrap();
        rows[0]["n"].as_i64().unwrap()
    };
    // SQL over `events` sees every event, service and IAM-user ones included.
    let all = count("SELECT COUNT(*) AS n FROM events");
    let unrelated = count(
        "SELECT COUNT(*) AS n FROM events WHERE cloud = 'aws' AND issued_access_key_id IS NULL \
         AND federated_provider IS NULL AND action <> 'AssumeRoleWithWebIdentity' \
         AND (access_key_id IS NULL OR access_key_id LIKE 'AKIA%')",
    );
    assert!(
        unrelated > 0,
        "the sample trail has service and IAM-user events"
    );
    // A scan does not keep them, yet counts them and finds the same.
    let o = rolecall(&["scan", &logs, "--format", "json", "--fail-on", "never"]);
    let report: Value = serde_json::from_str(&stdout(&o)).unwrap();
    assert_eq!(report["summary"]["events"].as_i64(), Some(all));
    let o = rolecall(&[
        "query",
        &logs,
        "--format",
        "json",
        "--sql",
        "SELECT COUNT(*) AS n FROM findings",
    ]);
    let rows: Value = serde_json::from_str(&stdout(&o)).unwrap();
    assert_eq!(
        rows[0]["n"].as_u64(),
        Some(report["findings"].as_array().unwrap().len() as u64)
    );
}

#[test]
fn a_scan_follows_calls_that_carry_only_their_key_and_drops_other_roles_calls() {
    // Calls without `webIdFederationData` (as some exports and older
    // trails have them) are kept only for their key: the scan must still
    // give them to the session whose exchange issued that key, even when
    // they are read before it, and leave other roles' calls out.
    let dir = tempfile::tempdir().unwrap();
    let mut s = Scenario::new();
    s.github(&Gh::default())
        .call(
            "ASIAAAAAAAAAAAAAAAA1",
            3700,
            "20.1.2.3",
            "iam",
            "CreateUser",
        )
        .call(
            "ASIAOTHERROLEKEY0001",
            3710,
            "20.1.2.3",
            "iam",
            "CreateUser",
        )
        .call("ASIAAAAAAAAAAAAAAAA1", 3720, "20.1.2.3", "s3", "GetObject");
    for r in &mut s.records[1..] {
        let ctx = r["userIdentity"]["sessionContext"].as_object_mut().unwrap();
        ctx.remove("webIdFederationData");
    }
    s.records.rotate_left(1);
    s.write(dir.path());
    let o = rolecall(&["scan", dir.path().to_str().unwrap(), "--format", "json"]);
    assert_eq!(o.status.code(), Some(1), "{}{}", stdout(&o), stderr(&o));
    let doc = json(&o);
    let sensitive: Vec<&serde_json::Value> = doc["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["rule"] == "sensitive-action")
        .collect();
    assert_eq!(sensitive.len(), 1, "{sensitive:?}");
    assert_eq!(sensitive[0]["evidence"]["action"], "CreateUser");
    assert_eq!(doc["summary"]["sessions"], 1);
    assert_eq!(
        doc["summary"]["events"], 4,
        "every event is counted, kept or not"
    );
}

// See: issue 17. `rolecall schema report | head -1` panicked on the closed
// pipe (a bare `print!`).
#[test]
fn every_subcommand_survives_a_closed_pipe() {
    let out = tempfile::tempdir().unwrap();
    let export_dir = out.path().join("lake");
    let suggest_dir = out.path().join("suggest");
    let sample = ["sample-logs", "--policy", "sample-logs/rolecall.toml"];
    let with_sample = |cmd: &[&str]| -> Vec<String> {
        let mut v: Vec<String> = cmd.iter().map(|s| s.to_string()).collect();
        v.splice(1..1, sample.iter().map(|s| s.to_string()));
        v
    };
    let runs: Vec<Vec<String>> = vec![
        with_sample(&["scan", "--fail-on", "never", "--format", "json"]),
        with_sample(&["scan", "--fail-on", "never", "--format", "table"]),
        with_sample(&["sessions", "--format", "csv"]),
        with_sample(&["query", "--sql", "SELECT * FROM events"]),
        with_sample(&["report", "--out", "-", "--format", "markdown"]),
        with_sample(&[
            "trust",
            "--format",
            "json",
            "--suggest",
            &suggest_dir.to_string_lossy(),
        ]),
        ["policy", "init", "sample-logs"].map(String::from).to_vec(),
        with_sample(&["export", "--parquet", &export_dir.to_string_lossy()]),
        vec!["rules".into()],
        vec!["rules".into(), "--format".into(), "json".into()],
        vec!["schema".into(), "report".into()],
        vec!["--help".into()],
        vec!["--version".into()],
    ];
    for args in runs {
        let mut child = Command::new(env!("CARGO_BIN_EXE_rolecall"))
            .args(&args)
            .current_dir(env!("CARGO_MANIFEST_DIR"))
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        // The reader goes away before anything is written.
        drop(child.stdout.take());
        let o = child.wait_with_output().unwrap();
        let err = String::from_utf8_lossy(&o.stderr);
        assert!(!err.contains("panicked"), "{args:?} panicked: {err}");
        assert_eq!(o.status.code(), Some(0), "{args:?}: {err}");
    }
}
