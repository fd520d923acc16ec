//! Output formats on the sample logs, snapshotted; and the same hostile
//! record through every format.

use std::process::Command;

use crate::common::{stdout, Gh, Scenario};

/// Runs the binary from the crate root so that paths in the output are the
/// relative `sample-logs/...` on every machine.
fn run_in_repo(args: &[&str]) -> String {
    let o = Command::new(env!("CARGO_BIN_EXE_rolecall"))
        .args(args)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .env_remove("NO_COLOR")
        .output()
        .unwrap();
    stdout(&o).replace(env!("CARGO_PKG_VERSION"), "[version]")
}

#[test]
fn scan_table_snapshot() {
    insta::assert_snapshot!(run_in_repo(&[
        "scan",
        "sample-logs",
        "--policy",
        "sample-logs/rolecall.toml",
        "--format",
        "table"
    ]));
}

#[test]
fn scan_json_snapshot() {
    insta::assert_snapshot!(run_in_repo(&[
        "scan",
        "sample-logs",
        "--policy",
        "sample-logs/rolecall.toml",
        "--format",
        "json"
    ]));
}

#[test]
fn scan_without_a_policy_snapshot() {
    insta::assert_snapshot!(run_in_repo(&["scan", "sample-logs", "--format", "table"]));
}

#[test]
fn sessions_table_snapshot() {
    insta::assert_snapshot!(run_in_repo(&[
        "sessions",
        "sample-logs",
        "--format",
        "table"
    ]));
}

#[test]
fn rules_snapshot() {
    insta::assert_snapshot!(run_in_repo(&["rules"]));
}

const HOSTILE_SUBJECT: &str = "repo:acme/\u{1b}[2J\u{1b}]0;owned\u{7}<script>alert(1)</script>|`x`|=HYPERLINK(\"http://evil\")\u{202e}gnp.exe\u{e0041}\u{e0042}\u{200d}\u{2066}@octocat#1:ref:refs/heads/main";

/// Characters that must never reach a terminal or a viewer as they are:
/// escapes, BEL, CSI, bidi override and isolate, a zero-width joiner, and
/// tag characters.
pub const INVISIBLE: [char; 8] = [
    '\u{1b}',
    '\u{7}',
    '\u{9b}',
    '\u{202e}',
    '\u{2066}',
    '\u{200d}',
    '\u{e0041}',
    '\u{e0042}',
];

/// A run whose subject and user agent carry escapes, HTML, a CSV formula,
/// bidi controls, invisible and tag characters, a mention and a JWT.
pub fn hostile_scenario() -> Scenario {
    let mut s = Scenario::new();
    s.github(&Gh {
        subject: Some(HOSTILE_SUBJECT),
        claims: false,
        role: crate::common::role("api-prod"),
        git_ref: "refs/heads/main",
        ..Gh::default()
    });
    // A call from elsewhere, with a 10 KB user agent full of escapes.
    s.call(
        "ASIAAAAAAAAAAAAAAAA1",
        3700,
        "198.51.100.9",
        "iam",
        "CreateUser",
    );
    let ua = format!(
        "\u{1b}[31m{}\u{9b}0m eyJhbGciOiJub25lIn0.eyJzdWIiOiJ4In0.c2lnbmF0dXJl",
        "A".repeat(10_000)
    );
    s.records.last_mut().unwrap()["userAgent"] = serde_json::json!(ua);
    s
}

fn hostile() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    hostile_scenario().write(dir.path());
    dir
}

#[test]
fn hostile_strings_never_reach_the_terminal_raw() {
    let dir = hostile();
    let p = dir.path().to_str().unwrap();
    let table = crate::common::rolecall(&["scan", p, "--format", "table"]);
    let text = stdout(&table);
    assert!(text.contains("credential-ip-drift"), "{text}");
    for bad in INVISIBLE {
        assert!(!text.contains(bad), "{bad:?} reached the terminal: {text}");
    }
    assert!(
        text.contains("\\u{1b}[2J"),
        "escapes are shown, not obeyed: {text}"
    );
    assert!(
        text.lines().all(|l| l.chars().count() < 1200),
        "long values are cut"
    );
    let sessions = stdout(&crate::common::rolecall(&[
        "sessions", p, "--format", "table",
    ]));
    for bad in INVISIBLE {
        assert!(!sessions.contains(bad), "{bad:?} in sessions");
    }
}

#[test]
fn hostile_strings_stay_valid_and_inert_in_json_and_csv() {
    let dir = hostile();
    let p = dir.path().to_str().unwrap();
    let json = stdout(&crate::common::rolecall(&["scan", p, "--format", "json"]));
    assert!(
        json.is_ascii() || !json.contains('\u{202e}'),
        "bidi overrides are escaped"
    );
    for bad in INVISIBLE {
        assert!(!json.contains(bad), "{bad:?} in JSON");
    }
    assert!(
        json.contains("\\udb40\\udc41"),
        "a tag character as a surrogate pair"
    );
    let doc: serde_json::Value = serde_json::from_str(&json).unwrap();
    let subject = doc["findings"][0]["subject"].as_str().unwrap();
    assert_eq!(subject, HOSTILE_SUBJECT, "escaping is lossless");
    let q = crate::common::rolecall(&[
        "query",
        p,
        "--format",
        "csv",
        "--sql",
        "SELECT subject, user_agent FROM sessions",
    ]);
    let csv = stdout(&q);
    let row = csv.lines().nth(1).unwrap();
    assert!(
        row.starts_with("\"repo:acme/"),
        "quoted, and not a formula: {row}"
    );
    let ua = stdout(&crate::common::rolecall(&[
        "query",
        p,
        "--format",
        "csv",
        "--sql",
        "SELECT '=cmd|' || user_agent AS x FROM sessions",
    ]));
    assert!(
        ua.lines().nth(1).unwrap().starts_with("'=cmd|"),
        "formula neutralized: {ua}"
    );
    // No JWT signature in any output.
    let events = stdout(&crate::common::rolecall(&[
        "query",
        p,
        "--format",
        "json",
        "--sql",
        "SELECT user_agent FROM events",
    ]));
    assert!(
        !events.contains("c2lnbmF0dXJl"),
        "{}",
        &events[..200.min(events.len())]
    );
    assert!(events.contains("eyJzdWIiOiJ4In0.<redacted>"));
}
