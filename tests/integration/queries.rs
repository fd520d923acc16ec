//! Each built-in query on tiny frames of its own, in the style of polars'
//! SQL tests: the columns it reads, one row (or group) that must fire and
//! rows that must not, and exactly the findings expected. The scenarios in
//! `detections.rs` test the same rules through the whole pipeline; these
//! pin each query's own logic, so a change to one shows here first.

use polars::prelude::*;
use polars::sql::SQLContext;
use rolecall::detect::sql::builtin_queries;

/// Runs built-in query `id` over `tables`.
fn run(id: &str, tables: Vec<(&str, DataFrame)>) -> DataFrame {
    let q = builtin_queries()
        .into_iter()
        .find(|q| q.id() == id)
        .unwrap_or_else(|| panic!("no built-in query {id}"));
    let ctx = SQLContext::new();
    for (name, df) in tables {
        ctx.register(name, df.lazy());
    }
    let mut ctx = ctx;
    ctx.execute(&q.sql)
        .and_then(|lf| lf.collect())
        .unwrap_or_else(|e| panic!("{id}: {e}"))
}

/// The values of column `col`, sorted, nulls as `-`.
fn col(df: &DataFrame, col: &str) -> Vec<String> {
    let c = df
        .column(col)
        .unwrap_or_else(|e| panic!("{col}: {e}"))
        .cast(&DataType::String)
        .unwrap();
    let mut v: Vec<String> = c
        .str()
        .unwrap()
        .iter()
        .map(|x| x.unwrap_or("-").to_string())
        .collect();
    v.sort();
    v
}

/// A sessions frame: `session_key` and `time` for three sessions, plus
/// the columns given.
fn sessions(extra: Vec<Column>) -> DataFrame {
    let mut df = df!(
        "session_key" => ["s1", "s2", "s3"],
        "time" => [1i64, 2, 3],
    )
    .unwrap();
    for c in extra {
        df.with_column(c).unwrap();
    }
    df
}

fn strs(name: &str, v: [Option<&str>; 3]) -> Column {
    Column::new(name.into(), v)
}

fn bools(name: &str, v: [Option<bool>; 3]) -> Column {
    Column::new(name.into(), v)
}

fn ints(name: &str, v: [Option<i64>; 3]) -> Column {
    Column::new(name.into(), v)
}

/// Queries that flag a session whose `flag` column is false: s1 false
/// (fires), s2 true, s3 unknown (null: not judged).
fn flag_query(id: &str, flag: &str, shown: &[&str]) {
    let mut extra = vec![bools(flag, [Some(false), Some(true), None])];
    for c in shown {
        extra.push(strs(c, [Some("a"), Some("b"), Some("c")]));
    }
    let out = run(id, vec![("sessions", sessions(extra))]);
    assert_eq!(col(&out, "session_key"), ["s1"], "{id}");
}

#[test]
fn audience_mismatch() {
    flag_query(
        "audience-mismatch",
        "audience_allowed",
        &["audience", "allowed_audiences"],
    );
}

#[test]
fn untrusted_repository() {
    flag_query(
        "untrusted-repository",
        "repository_allowed",
        &["repository", "allowed_repositories"],
    );
}

#[test]
fn unexpected_ref() {
    flag_query(
        "unexpected-ref",
        "ref_allowed",
        &["ref", "allowed_refs", "ref_rule"],
    );
}

#[test]
fn unexpected_environment() {
    flag_query(
        "unexpected-environment",
        "environment_allowed",
        &["environment", "allowed_environments"],
    );
}

#[test]
fn unexpected_workflow() {
    flag_query(
        "unexpected-workflow",
        "workflow_allowed",
        &["workflow_ref", "allowed_workflows"],
    );
}

#[test]
fn pull_request_assumption() {
    flag_query(
        "pull-request-assumption",
        "pull_request_allowed",
        &["trigger", "ref", "allowed_events", "role_tier"],
    );
}

#[test]
fn untrusted_issuer() {
    flag_query(
        "untrusted-issuer",
        "issuer_listed",
        &["issuer", "listed_issuers"],
    );
}

#[test]
fn tier_mismatch() {
    // s1: a staging token (rank 2) on a production role (3); s2 the same
    // tier; s3 an unknown tier.
    let out = run(
        "tier-mismatch",
        vec![(
            "sessions",
            sessions(vec![
                strs("token_tier", [Some("staging"), Some("production"), None]),
                strs(
                    "role_tier",
                    [Some("production"), Some("production"), Some("production")],
                ),
                bools("role_tier_inferred", [Some(false), Some(false), Some(true)]),
                strs("environment", [Some("staging"), Some("production"), None]),
                ints("token_tier_rank", [Some(2), Some(3), None]),
                ints("role_tier_rank", [Some(3), Some(3), Some(3)]),
            ]),
        )],
    );
    assert_eq!(col(&out, "session_key"), ["s1"]);
    assert_eq!(col(&out, "token_tier"), ["staging"]);
}

#[test]
fn excessive_duration() {
    // s1 longer than allowed; s2 exactly the maximum; s3 no duration.
    let out = run(
        "excessive-duration",
        vec![(
            "sessions",
            sessions(vec![
                ints("duration_seconds", [Some(7200), Some(3600), None]),
                ints("max_duration_seconds", [Some(3600), Some(3600), Some(3600)]),
                strs(
                    "duration_source",
                    [Some("requested"), Some("requested"), None],
                ),
            ]),
        )],
    );
    assert_eq!(col(&out, "session_key"), ["s1"]);
}

#[test]
fn unmatched_assumption() {
    // s1 no token matched though claims were given for its issuer; s2
    // matched exactly; s3 derived from its subject, but no claims were
    // given for the issuer at all.
    let out = run(
        "unmatched-assumption",
        vec![(
            "sessions",
            sessions(vec![
                bools("claims_for_issuer", [Some(true), Some(true), Some(false)]),
                strs("match", [Some("none"), Some("exact"), Some("derived")]),
            ]),
        )],
    );
    assert_eq!(col(&out, "session_key"), ["s1"]);
}

#[test]
fn credential_ip_drift() {
    // s1 called twice from a foreign address and once from an allowed one;
    // s2 only from allowed addresses.
    let activity = df!(
        "session_key" => ["s1", "s1", "s1", "s2"],
        "source_ip" => ["203.0.113.9", "203.0.113.9", "20.1.2.3", "20.1.2.4"],
        "time" => [10i64, 20, 5, 7],
        "action" => ["ListBuckets", "GetSecretValue", "GetObject", "GetObject"],
        "event_id" => ["e1", "e2", "e3", "e4"],
        "ip_allowed" => [false, false, true, true],
    )
    .unwrap();
    let sessions = df!(
        "session_key" => ["s1", "s2"],
        "source_ip" => ["20.1.2.3", "20.1.2.4"],
        "source_cidrs" => [None::<&str>, None],
    )
    .unwrap();
    let out = run(
        "credential-ip-drift",
        vec![("activity", activity), ("sessions", sessions)],
    );
    assert_eq!(col(&out, "session_key"), ["s1"]);
    assert_eq!(col(&out, "source_ip"), ["203.0.113.9"]);
    assert_eq!(col(&out, "calls"), ["2"]);
    assert_eq!(col(&out, "time"), ["10"]);
    assert_eq!(col(&out, "exchange_ip"), ["20.1.2.3"]);
}

#[test]
fn credential_use_after_job() {
    // s1: one call after its run's deadline, and one by an AWS service
    // acting for it (not counted); s2: before its deadline; s3: a run
    // with no known end.
    let activity = df!(
        "session_key" => ["s1", "s1", "s2", "s3"],
        "time" => [200i64, 300, 50, 900],
        "source_ip" => ["198.51.100.7", "cloudformation.amazonaws.com", "20.1.2.3", "20.1.2.3"],
        "event_id" => ["e1", "e2", "e3", "e4"],
        "via_service" => [false, true, false, false],
    )
    .unwrap();
    let sessions = df!(
        "session_key" => ["s1", "s2", "s3"],
        "run_end" => [Some(90i64), Some(90), None],
        "run_deadline" => [Some(100i64), Some(100), None],
    )
    .unwrap();
    let out = run(
        "credential-use-after-job",
        vec![("activity", activity), ("sessions", sessions)],
    );
    assert_eq!(col(&out, "session_key"), ["s1"]);
    assert_eq!(col(&out, "calls"), ["1"]);
}

#[test]
fn sensitive_action() {
    // s1 created a user twice, once denied; s2 only read an object.
    let activity = df!(
        "session_key" => ["s1", "s1", "s2"],
        "service" => ["iam.amazonaws.com", "iam.amazonaws.com", "s3.amazonaws.com"],
        "action" => ["CreateUser", "CreateUser", "GetObject"],
        "time" => [5i64, 6, 7],
        "error_code" => [None, Some("AccessDenied"), None],
        "source_ip" => ["20.1.2.3", "20.1.2.3", "20.1.2.4"],
        "event_id" => ["e1", "e2", "e3"],
    )
    .unwrap();
    let catalogue = df!(
        "service" => ["iam.amazonaws.com"],
        "action" => ["CreateUser"],
        "category" => ["identity-write"],
    )
    .unwrap();
    let out = run(
        "sensitive-action",
        vec![("activity", activity), ("sensitive_actions", catalogue)],
    );
    assert_eq!(col(&out, "session_key"), ["s1"]);
    assert_eq!(col(&out, "calls"), ["2"]);
    assert_eq!(col(&out, "failed_calls"), ["1"]);
    assert_eq!(col(&out, "category"), ["identity-write"]);
}

#[test]
fn token_reuse() {
    // t1 traded from two addresses; t2 twice from one; an exchange with no
    // token key, and one with no address, are never counted.
    let assumptions = df!(
        "token_key" => [Some("t1"), Some("t1"), Some("t2"), Some("t2"), None, Some("t1")],
        "session_key" => ["s1", "s2", "s3", "s4", "s5", "s6"],
        "time" => [1i64, 2, 3, 4, 5, 6],
        "subject" => ["repo:a/b:ref:refs/heads/main"; 6],
        "role_arn" => ["arn:aws:iam::1:role/r"; 6],
        "jti" => [Some("j1"), Some("j1"), Some("j2"), Some("j2"), None, Some("j1")],
        "token_iat" => [100i64, 100, 200, 200, 300, 100],
        "source_ip" => [Some("20.1.2.3"), Some("203.0.113.9"), Some("20.1.2.3"), Some("20.1.2.3"), Some("20.1.2.5"), None],
        "event_id" => ["e1", "e2", "e3", "e4", "e5", "e6"],
    )
    .unwrap();
    let out = run("token-reuse", vec![("assumptions", assumptions)]);
    assert_eq!(col(&out, "token_key"), ["t1"]);
    assert_eq!(
        col(&out, "exchanges"),
        ["2"],
        "the exchange with no address is left out"
    );
    assert_eq!(col(&out, "exchange_ips"), ["2"]);
    assert_eq!(col(&out, "session_key"), ["s1"]);
}

#[test]
fn every_builtin_query_has_a_tiny_frame_test_here() {
    let text = include_str!("queries.rs");
    for q in builtin_queries() {
        let name = format!("fn {}()", q.id().replace('-', "_"));
        assert!(text.contains(&name), "{} has no test here", q.id());
    }
}
