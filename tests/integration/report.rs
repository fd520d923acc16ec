//! `rolecall report`: the documents on the sample logs across two runs,
//! the memory detections over synthetic history, and the state file under
//! crashes, concurrency, migrations and damage.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use clap::Parser;
use rolecall::cli::{Cli, Command as Sub, Exit};
use rolecall::report::state::State;
use serde_json::Value;

use crate::common::{role, stderr, Gh, Scenario, T0};

const DAY: i64 = 86_400;

/// Runs `rolecall report ARGS` in-process (cwd: the crate root).
fn report(args: &[&str]) -> Exit {
    let mut argv = vec!["rolecall", "report"];
    argv.extend_from_slice(args);
    let cli = Cli::try_parse_from(argv).expect("arguments parse");
    let Sub::Report(a) = cli.command else {
        unreachable!()
    };
    rolecall::cli::report::run(&a).unwrap_or_else(|e| panic!("report failed: {e:#}"))
}

fn report_err(args: &[&str]) -> String {
    let mut argv = vec!["rolecall", "report"];
    argv.extend_from_slice(args);
    let cli = Cli::try_parse_from(argv).expect("arguments parse");
    let Sub::Report(a) = cli.command else {
        unreachable!()
    };
    match rolecall::cli::report::run(&a) {
        Ok(exit) => panic!("expected an error, got {exit:?}"),
        Err(e) => format!("{e:#}"),
    }
}

fn json_of(path: &Path) -> Value {
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

fn s(p: &Path) -> &str {
    p.to_str().unwrap()
}

/// Replaces what differs run to run (the clock, temporary paths) so the
/// documents can be snapshotted.
fn stable(text: &str, dir: &Path) -> String {
    let mut out = text.replace(s(dir), "[dir]").replace(
        &format!("rolecall {}", env!("CARGO_PKG_VERSION")),
        "rolecall [version]",
    );
    while let Some(i) = out.find("generated 20") {
        let end = out[i..].find(" ·").map_or(out.len(), |e| i + e);
        out.replace_range(i..end, "generated [time]");
        if !out[end..].contains("generated 20") {
            break;
        }
    }
    out
}

fn stable_json(mut doc: Value, dir: &Path) -> Value {
    doc["generated_at"] = "[time]".into();
    doc["rolecall_version"] = "[version]".into();
    let text = serde_json::to_string(&doc)
        .unwrap()
        .replace(s(dir), "[dir]");
    serde_json::from_str(&text).unwrap()
}

const SAMPLE: [&str; 5] = [
    "sample-logs",
    "--policy",
    "sample-logs/rolecall.toml",
    "--jwks",
    "sample-logs/keys/gitlab-jwks.json",
];

fn sample_args<'a>(extra: &[&'a str]) -> Vec<&'a str> {
    let mut v: Vec<&str> = SAMPLE.to_vec();
    v.extend_from_slice(extra);
    v
}

// --- the sample logs across two runs ------------------------------------

/// Run 1 covers the morning to 15:00, run 2 from 13:00 to midnight: what
/// fired between 13:00 and 15:00 recurs, what fired before 13:00 resolves,
/// what fired after 15:00 is new.
fn two_sample_runs(dir: &Path, format: &str) -> (PathBuf, PathBuf) {
    let state = dir.join("state.db");
    let (a, b) = (
        dir.join(format!("run1.{format}")),
        dir.join(format!("run2.{format}")),
    );
    for (out, window) in [
        (&a, ["--until", "2025-05-14T15:00:00Z"]),
        (&b, ["--since", "2025-05-14T13:00:00Z"]),
    ] {
        let exit = report(&sample_args(&[
            window[0],
            window[1],
            "--state",
            s(&state),
            "--out",
            s(out),
        ]));
        assert_eq!(
            exit,
            Exit::Clean,
            "reports do not fail on findings unless --fail-on says so"
        );
    }
    (a, b)
}

#[test]
fn second_run_says_what_is_new_recurring_and_resolved() {
    let dir = tempfile::tempdir().unwrap();
    let (a, b) = two_sample_runs(dir.path(), "json");
    let (one, two) = (json_of(&a), json_of(&b));
    let statuses = |d: &Value| -> Vec<(String, String)> {
        d["findings"]
            .as_array()
            .unwrap()
            .iter()
            .map(|f| {
                (
                    f["rule"].as_str().unwrap().to_string(),
                    f["status"].as_str().unwrap().to_string(),
                )
            })
            .collect()
    };
    assert!(
        statuses(&one).iter().all(|(_, st)| st == "new"),
        "the first run has nothing to compare with"
    );
    assert_eq!(one["state"]["previous_run"], Value::Null);
    let two_statuses = statuses(&two);
    let rec: Vec<&str> = two_statuses
        .iter()
        .filter(|(_, st)| st == "recurring")
        .map(|(r, _)| r.as_str())
        .collect();
    let new: Vec<&str> = two_statuses
        .iter()
        .filter(|(_, st)| st == "new")
        .map(|(r, _)| r.as_str())
        .collect();
    assert!(
        rec.contains(&"credential-ip-drift"),
        "13:23 and 14:05 are in both windows: {rec:?}"
    );
    assert!(rec.contains(&"assume-failure-burst"), "{rec:?}");
    assert!(
        new.contains(&"token-reuse"),
        "18:31 is only in the second: {new:?}"
    );
    let resolved: Vec<&str> = two["resolved"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["rule"].as_str().unwrap())
        .collect();
    assert!(
        resolved.contains(&"unexpected-ref"),
        "11:40 is only in the first: {resolved:?}"
    );
    assert!(
        !resolved.contains(&"credential-ip-drift"),
        "recurring is not resolved"
    );
    assert_eq!(two["summary"]["resolved"], resolved.len());
    assert_eq!(two["summary"]["new"], new.len());
    assert_eq!(two["state"]["previous_run"]["id"], one["state"]["run_id"]);
    assert_eq!(two["state"]["runs"], 2);
    // The overlap (13:00 to 15:00) is counted once in the daily trend.
    let day = &two["trends"]["days"]
        .as_array()
        .unwrap()
        .last()
        .unwrap()
        .clone();
    assert_eq!(day["day"], "2025-05-14");
    assert_eq!(day["exchanges"], 76, "every exchange once: {day}");
}

#[test]
fn markdown_snapshots_across_two_runs() {
    let dir = tempfile::tempdir().unwrap();
    let (a, b) = two_sample_runs(dir.path(), "md");
    let one = stable(&std::fs::read_to_string(a).unwrap(), dir.path());
    let two = stable(&std::fs::read_to_string(b).unwrap(), dir.path());
    assert!(
        !two.contains('<') || two.contains("&lt;"),
        "no HTML in Markdown"
    );
    insta::assert_snapshot!("report_markdown_run1", one);
    insta::assert_snapshot!("report_markdown_run2", two);
}

#[test]
fn json_snapshots_across_two_runs_and_the_schema_holds() {
    let dir = tempfile::tempdir().unwrap();
    let (a, b) = two_sample_runs(dir.path(), "json");
    let schema: Value = serde_json::from_str(rolecall::report::SCHEMA).unwrap();
    let validator = jsonschema::validator_for(&schema).expect("the schema is a valid JSON Schema");
    for p in [&a, &b] {
        let doc = json_of(p);
        let errors: Vec<String> = validator
            .iter_errors(&doc)
            .map(|e| format!("{} at {}", e, e.instance_path()))
            .collect();
        assert!(
            errors.is_empty(),
            "{} does not match the schema: {errors:#?}",
            p.display()
        );
    }
    insta::assert_json_snapshot!("report_json_run2", stable_json(json_of(&b), dir.path()));
}

#[test]
fn a_report_without_state_has_no_statuses_and_matches_the_schema() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("r.json");
    assert_eq!(report(&sample_args(&["--out", s(&out)])), Exit::Clean);
    let doc = json_of(&out);
    assert_eq!(doc["state"], Value::Null);
    assert_eq!(doc["trends"], Value::Null);
    assert_eq!(doc["summary"]["new"], Value::Null);
    assert!(doc["findings"]
        .as_array()
        .unwrap()
        .iter()
        .all(|f| f["status"].is_null()));
    assert_eq!(doc["summary"]["findings"]["total"], 27);
    let schema: Value = serde_json::from_str(rolecall::report::SCHEMA).unwrap();
    assert!(jsonschema::is_valid(&schema, &doc));
}

#[test]
fn fail_on_and_strict_set_the_exit_code() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("r.md");
    assert_eq!(
        report(&sample_args(&["--out", s(&out), "--fail-on", "high"])),
        Exit::Findings
    );
    // An unreadable record under --strict: exit 2, no report, no state.
    let logs = dir.path().join("logs");
    std::fs::create_dir(&logs).unwrap();
    let mut sc = Scenario::new();
    sc.github(&Gh::default());
    sc.write(&logs);
    std::fs::write(logs.join("bad.ndjson"), "{\"eventVersion\": \n").unwrap();
    let state = dir.path().join("st.db");
    let out2 = dir.path().join("strict.md");
    let exit = report(&[
        s(&logs),
        "--strict",
        "--state",
        s(&state),
        "--out",
        s(&out2),
    ]);
    assert_eq!(exit, Exit::Error);
    assert!(!out2.exists(), "no report is written");
    let st = State::open(s(&state), Duration::from_secs(1)).unwrap();
    let runs: i64 = st
        .connection()
        .query_row("SELECT count(*) FROM runs", [], |r| r.get(0))
        .unwrap();
    assert_eq!(runs, 0, "the state does not record an incomplete run");
}

#[test]
fn rerunning_the_same_window_replaces_the_run() {
    let dir = tempfile::tempdir().unwrap();
    let state = dir.path().join("state.db");
    let out = dir.path().join("r.json");
    for _ in 0..3 {
        report(&sample_args(&[
            "--until",
            "2025-05-14T15:00:00Z",
            "--state",
            s(&state),
            "--out",
            s(&out),
        ]));
    }
    let doc = json_of(&out);
    assert_eq!(doc["state"]["runs"], 1);
    assert_eq!(doc["state"]["replaced_earlier_run"], true);
    assert!(
        doc["findings"]
            .as_array()
            .unwrap()
            .iter()
            .all(|f| f["status"] == "new"),
        "a run is not its own history"
    );
    let st = State::open(s(&state), Duration::from_secs(1)).unwrap();
    let count = |sql: &str| -> i64 { st.connection().query_row(sql, [], |r| r.get(0)).unwrap() };
    assert_eq!(count("SELECT count(*) FROM runs"), 1);
    assert_eq!(
        count("SELECT count(*) FROM exchanges"),
        doc["summary"]["exchanges"].as_i64().unwrap()
    );
    assert_eq!(
        count("SELECT count(DISTINCT fingerprint) FROM finding_runs"),
        count("SELECT count(*) FROM finding_runs")
    );
}

#[test]
fn the_output_format_follows_the_extension() {
    let dir = tempfile::tempdir().unwrap();
    for (name, starts) in [
        ("r.html", "<!DOCTYPE html>"),
        ("r.md", "# rolecall report"),
        ("r.json", "{"),
    ] {
        let out = dir.path().join(name);
        report(&sample_args(&["--out", s(&out)]));
        let text = std::fs::read_to_string(&out).unwrap();
        assert!(text.starts_with(starts), "{name}: {}", &text[..40]);
    }
    let out = dir.path().join("report.txt");
    report(&sample_args(&["--out", s(&out), "--format", "markdown"]));
    assert!(std::fs::read_to_string(&out)
        .unwrap()
        .starts_with("# rolecall report"));
}

// --- HTML --------------------------------------------------------------

/// Parses the page as XML (it is written well-formed) and returns every
/// element name and attribute, failing on any syntax error.
fn parse_html(text: &str) -> Vec<(String, Vec<(String, String)>)> {
    use quick_xml::events::Event;
    let mut reader = quick_xml::Reader::from_str(text);
    reader.config_mut().check_end_names = true;
    let mut elements = Vec::new();
    loop {
        match reader.read_event() {
            Ok(Event::Start(e)) | Ok(Event::Empty(e)) => {
                let name = String::from_utf8_lossy(e.name().as_ref()).to_string();
                let attrs = e
                    .attributes()
                    .map(|a| {
                        let a = a.expect("well-formed attribute");
                        (
                            String::from_utf8_lossy(a.key.as_ref()).to_string(),
                            a.normalized_value(quick_xml::XmlVersion::Implicit1_0)
                                .expect("valid entities")
                                .to_string(),
                        )
                    })
                    .collect();
                elements.push((name, attrs));
            }
            Ok(Event::Eof) => break,
            Ok(Event::GeneralRef(r)) => {
                let name = r.decode().unwrap().to_string();
                assert!(
                    ["amp", "lt", "gt", "quot", "apos"].contains(&name.as_str())
                        || name.starts_with('#'),
                    "unknown entity &{name};"
                );
            }
            Ok(_) => {}
            Err(e) => panic!("not well-formed at {}: {e}", reader.buffer_position()),
        }
    }
    elements
}

fn assert_self_contained(elements: &[(String, Vec<(String, String)>)], text: &str) {
    for (name, attrs) in elements {
        assert!(
            !["script", "link", "iframe", "object", "embed", "img"].contains(&name.as_str()),
            "<{name}> in the report"
        );
        for (k, v) in attrs {
            assert!(!k.starts_with("on"), "event handler {k}= on <{name}>");
            if k == "xmlns" || k.starts_with("xmlns:") {
                continue;
            }
            let v = v.trim().to_ascii_lowercase();
            assert!(
                !(v.contains("http:")
                    || v.contains("https:")
                    || v.starts_with("//")
                    || v.contains("javascript:")),
                "external reference {k}={v:?} on <{name}>"
            );
        }
    }
    assert!(!text.contains("url("), "no CSS fetches");
    assert!(!text.contains("@import"), "no CSS imports");
}

#[test]
fn html_is_well_formed_and_self_contained() {
    let dir = tempfile::tempdir().unwrap();
    let (_, b) = two_sample_runs(dir.path(), "html");
    let text = std::fs::read_to_string(&b).unwrap();
    let elements = parse_html(&text);
    assert_self_contained(&elements, &text);
    let svgs = elements.iter().filter(|(n, _)| n == "svg").count();
    assert!(svgs >= 3, "charts are inline SVG: {svgs}");
    let details = elements.iter().filter(|(n, _)| n == "details").count();
    let heading = text.split("<h2>Findings (").nth(1).unwrap();
    let findings: usize = heading[..heading.find(')').unwrap()].parse().unwrap();
    assert!(findings > 10);
    assert_eq!(
        details, findings,
        "one expandable evidence block per finding"
    );
    assert!(text.contains("Resolved since the previous run"));
    assert!(text.contains("Trends across runs"));
}

#[test]
fn hostile_strings_are_escaped_in_every_report_format() {
    let dir = tempfile::tempdir().unwrap();
    let logs = dir.path().join("logs");
    std::fs::create_dir(&logs).unwrap();
    crate::output::hostile_scenario().write(&logs);
    for ext in ["html", "md", "json"] {
        let out = dir.path().join(format!("r.{ext}"));
        report(&[s(&logs), "--out", s(&out)]);
        let text = std::fs::read_to_string(&out).unwrap();
        for bad in crate::output::INVISIBLE {
            assert!(!text.contains(bad), "{ext}: {bad:?} in the report");
        }
        assert!(
            !text.contains("c2lnbmF0dXJl"),
            "{ext}: a JWT signature in the report"
        );
        match ext {
            "html" => {
                assert!(!text.contains("<script>"), "html: a live script tag");
                assert!(
                    text.contains("&lt;script&gt;"),
                    "html: the tag is shown as text"
                );
                assert_self_contained(&parse_html(&text), &text);
            }
            "md" => {
                assert!(!text.contains("<script>"), "md: raw HTML");
                assert!(!text.contains("@octocat"), "md: a mention");
                for line in text
                    .lines()
                    .filter(|l| l.starts_with('|') && l.contains("acme/"))
                {
                    let cells = line.matches(" | ").count();
                    let header = text
                        .lines()
                        .find(|l| l.starts_with("| severity | status"))
                        .unwrap();
                    assert_eq!(
                        cells,
                        header.matches(" | ").count(),
                        "a subject's pipes break no table: {line}"
                    );
                }
            }
            _ => {
                let doc: Value = serde_json::from_str(&text).unwrap();
                let subject = doc["findings"][0]["subject"].as_str().unwrap();
                assert!(
                    subject.contains("<script>alert(1)</script>"),
                    "JSON keeps the value, escaped only as JSON"
                );
            }
        }
    }
}

/// Renders the page in headless Chromium to a PNG and reads the console.
#[test]
fn html_renders_in_chromium_without_console_errors() {
    let chromium = ["chromium", "chromium-browser"]
        .into_iter()
        .find(|c| Command::new(c).arg("--version").output().is_ok());
    let Some(chromium) = chromium else {
        crate::common::skip_or_fail(
            "ROLECALL_REQUIRE_CHROMIUM",
            "chromium is not installed: the HTML report is not rendered",
        );
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let (_, b) = two_sample_runs(dir.path(), "html");
    let png = dir.path().join("report.png");
    let profile = dir.path().join("profile");
    let o = Command::new(chromium)
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--enable-logging=stderr",
            "--v=0",
            "--window-size=1280,2400",
        ])
        .arg(format!("--user-data-dir={}", profile.display()))
        .arg(format!("--screenshot={}", png.display()))
        .arg(format!("file://{}", b.display()))
        .stdin(Stdio::null())
        .output()
        .unwrap();
    let log = String::from_utf8_lossy(&o.stderr);
    assert!(png.exists(), "chromium rendered a screenshot: {log}");
    let bytes = std::fs::read(&png).unwrap();
    assert_eq!(&bytes[..8], b"\x89PNG\r\n\x1a\n");
    assert!(
        bytes.len() > 20_000,
        "the page is not blank ({} bytes)",
        bytes.len()
    );
    let console: Vec<&str> = log
        .lines()
        .filter(|l| l.contains(":CONSOLE") || l.contains("Uncaught"))
        .collect();
    assert!(console.is_empty(), "console messages: {console:#?}");
}

// --- memory detections over synthetic history ---------------------------

/// One day's logs for a run: `day` whole days after T0, written to their
/// own directory; the report covers exactly that day.
struct History {
    dir: tempfile::TempDir,
    state: PathBuf,
    policy: PathBuf,
}

impl History {
    fn new(policy: &str) -> History {
        let dir = tempfile::tempdir().unwrap();
        let state = dir.path().join("state.db");
        let policy_path = dir.path().join("policy.toml");
        std::fs::write(&policy_path, policy).unwrap();
        History {
            dir,
            state,
            policy: policy_path,
        }
    }

    /// Reports `day` with the runs in `sc` (times relative to T0).
    fn run(&self, day: i64, sc: &Scenario) -> Value {
        let logs = self.dir.path().join(format!("day{day}"));
        std::fs::create_dir_all(&logs).unwrap();
        sc.write(&logs);
        let out = self.dir.path().join(format!("day{day}.json"));
        let since = rolecall::model::time::format_time((T0 + day * DAY) * 1_000_000);
        let until = rolecall::model::time::format_time((T0 + (day + 1) * DAY) * 1_000_000);
        report(&[
            s(&logs),
            "--policy",
            s(&self.policy),
            "--since",
            &since,
            "--until",
            &until,
            "--state",
            s(&self.state),
            "--out",
            s(&out),
        ]);
        json_of(&out)
    }

    /// A day on which nothing happens but the run is recorded.
    fn quiet(&self, day: i64) -> Value {
        let mut sc = Scenario::new();
        sc.github(&Gh {
            role: role("unrelated"),
            at: day * DAY + 600,
            key: "ASIAQUIETQUIETQUIET1",
            ..Gh::default()
        });
        self.run(day, &sc)
    }
}

fn of_rule<'a>(doc: &'a Value, rule: &str) -> Vec<&'a Value> {
    doc["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["rule"] == rule)
        .collect()
}

fn deploy(day: i64, git_ref: &'static str, key: &'static str) -> Scenario {
    let mut sc = Scenario::new();
    sc.github(&Gh {
        at: day * DAY + 3600,
        git_ref,
        key,
        ..Gh::default()
    });
    sc
}

#[test]
fn first_seen_subject_is_medium_after_the_learning_period_and_quiet_for_known_values() {
    let h = History::new("[settings]\nbaseline_days = 14\n");
    let first = h.run(0, &deploy(0, "refs/heads/main", "ASIAAAAAAAAAAAAAAAA1"));
    assert!(
        of_rule(&first, "first-seen-subject").is_empty(),
        "the first run has nothing to compare with"
    );

    // Day 5: a new ref, but the baseline is five days old: info.
    let early = h.run(
        5,
        &deploy(5, "refs/heads/feature-x", "ASIAAAAAAAAAAAAAAAA2"),
    );
    let f = of_rule(&early, "first-seen-subject");
    assert_eq!(f.len(), 1, "{:#?}", early["findings"]);
    assert_eq!(f[0]["severity"], "info");
    assert_eq!(f[0]["evidence"]["kind"], "ref");
    assert!(f[0]["message"].as_str().unwrap().contains("still learning"));

    // Day 20: known values say nothing; a new one is medium.
    let known = h.run(20, &deploy(20, "refs/heads/main", "ASIAAAAAAAAAAAAAAAA3"));
    assert!(
        of_rule(&known, "first-seen-subject").is_empty(),
        "{:#?}",
        known["findings"]
    );
    let mut sc = deploy(21, "refs/heads/release", "ASIAAAAAAAAAAAAAAAA4");
    sc.github(&Gh {
        at: 21 * DAY + 7200,
        repo: "acme/other",
        key: "ASIAAAAAAAAAAAAAAAA5",
        jti: "jti-2",
        run_id: "1002",
        ..Gh::default()
    });
    let late = h.run(21, &sc);
    let f = of_rule(&late, "first-seen-subject");
    let mut seen: Vec<(String, String)> = f
        .iter()
        .map(|x| {
            (
                x["evidence"]["kind"].as_str().unwrap().to_string(),
                x["evidence"]["value"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    seen.sort();
    assert!(
        seen.contains(&("ref".into(), "refs/heads/release".into())),
        "{seen:?}"
    );
    assert!(
        seen.contains(&("repository".into(), "acme/other".into())),
        "{seen:?}"
    );
    assert!(!seen.iter().any(|(_, v)| v == "refs/heads/main"));
    assert!(f.iter().all(|x| x["severity"] == "medium"));
    // The role section marks them new.
    let section = late["roles"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["role"] == role("deploy-prod"))
        .unwrap();
    assert!(section["new_values"]
        .as_array()
        .unwrap()
        .iter()
        .any(|v| v["value"] == "acme/other"));
}

#[test]
fn new_api_surface_flags_a_workflow_calling_something_new() {
    let h = History::new("[settings]\nbaseline_days = 14\n");
    let mut day0 = deploy(0, "refs/heads/main", "ASIAAAAAAAAAAAAAAAA1");
    day0.call("ASIAAAAAAAAAAAAAAAA1", 3700, "20.1.2.3", "s3", "PutObject");
    h.run(0, &day0);
    let mut day20 = deploy(20, "refs/heads/main", "ASIAAAAAAAAAAAAAAAA2");
    day20.call(
        "ASIAAAAAAAAAAAAAAAA2",
        20 * DAY + 3700,
        "20.1.2.3",
        "s3",
        "PutObject",
    );
    day20.call(
        "ASIAAAAAAAAAAAAAAAA2",
        20 * DAY + 3710,
        "20.1.2.3",
        "iam",
        "CreateUser",
    );
    let doc = h.run(20, &day20);
    let f = of_rule(&doc, "new-api-surface");
    assert_eq!(f.len(), 1, "only the new action: {:#?}", doc["findings"]);
    assert_eq!(f[0]["severity"], "medium");
    assert_eq!(f[0]["evidence"]["action"], "iam.amazonaws.com:CreateUser");
    assert_eq!(
        f[0]["evidence"]["workflow"],
        "acme/web/.github/workflows/deploy.yml"
    );
    // The next night it is known (and recurring would not apply: it is gone).
    let mut day21 = deploy(21, "refs/heads/main", "ASIAAAAAAAAAAAAAAAA3");
    day21.call(
        "ASIAAAAAAAAAAAAAAAA3",
        21 * DAY + 3710,
        "20.1.2.3",
        "iam",
        "CreateUser",
    );
    assert!(of_rule(&h.run(21, &day21), "new-api-surface").is_empty());
}

#[test]
fn dormant_role_used_needs_the_silence_to_have_been_watched() {
    let policy = "[settings]\ndormant_days = 30\n";
    // Watched: a run every day of the silence.
    let h = History::new(policy);
    h.run(0, &deploy(0, "refs/heads/main", "ASIAAAAAAAAAAAAAAAA1"));
    for day in 1..40 {
        h.quiet(day);
    }
    let doc = h.run(40, &deploy(40, "refs/heads/main", "ASIAAAAAAAAAAAAAAAA2"));
    let f = of_rule(&doc, "dormant-role-used");
    assert_eq!(f.len(), 1, "{:#?}", doc["findings"]);
    assert_eq!(f[0]["severity"], "medium");
    assert_eq!(f[0]["evidence"]["days_dormant"], 40);
    assert_eq!(f[0]["evidence"]["history_covers_gap"], true);

    // Unwatched: no runs in between, so the role may have been used unseen.
    let h = History::new(policy);
    h.run(0, &deploy(0, "refs/heads/main", "ASIAAAAAAAAAAAAAAAA1"));
    let doc = h.run(40, &deploy(40, "refs/heads/main", "ASIAAAAAAAAAAAAAAAA2"));
    let f = of_rule(&doc, "dormant-role-used");
    assert_eq!(f.len(), 1);
    assert_eq!(f[0]["severity"], "info");
    assert!(f[0]["message"].as_str().unwrap().contains("holes"));

    // Not dormant long enough.
    let h = History::new(policy);
    h.run(0, &deploy(0, "refs/heads/main", "ASIAAAAAAAAAAAAAAAA1"));
    let doc = h.run(20, &deploy(20, "refs/heads/main", "ASIAAAAAAAAAAAAAAAA2"));
    assert!(of_rule(&doc, "dormant-role-used").is_empty());
}

#[test]
fn backfilling_an_earlier_day_does_not_make_later_values_look_known() {
    let h = History::new("[settings]\nbaseline_days = 1\n");
    h.run(10, &deploy(10, "refs/heads/main", "ASIAAAAAAAAAAAAAAAA1"));
    // Day 0 is reported after day 10: it has no earlier history of its own.
    let back = h.run(0, &deploy(0, "refs/heads/main", "ASIAAAAAAAAAAAAAAAA2"));
    assert!(of_rule(&back, "first-seen-subject").is_empty());
    assert_eq!(
        back["state"]["previous_run"],
        Value::Null,
        "day 10 is later, not previous"
    );
}

// --- the state file -----------------------------------------------------

fn scenario_dir(dir: &Path) -> PathBuf {
    let logs = dir.join("logs");
    std::fs::create_dir_all(&logs).unwrap();
    let mut sc = Scenario::new();
    sc.github(&Gh::default());
    sc.call(
        "ASIAAAAAAAAAAAAAAAA1",
        3700,
        "198.51.100.9",
        "s3",
        "ListBuckets",
    );
    sc.write(&logs);
    logs
}

fn runs_in(state: &Path) -> i64 {
    let st = State::open(s(state), Duration::from_secs(5)).unwrap();
    st.connection()
        .query_row("SELECT count(*) FROM runs", [], |r| r.get(0))
        .unwrap()
}

fn binary_report(args: &[&str]) -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_rolecall"));
    c.arg("report")
        .args(args)
        .stdout(Stdio::null())
        .stderr(Stdio::piped());
    c
}

#[test]
fn a_run_killed_in_the_middle_of_its_write_leaves_the_state_as_it_was() {
    let dir = tempfile::tempdir().unwrap();
    let logs = scenario_dir(dir.path());
    let state = dir.path().join("state.db");
    let out = dir.path().join("r.md");
    assert_eq!(
        report(&[
            s(&logs),
            "--until",
            "2025-05-15T00:00:00Z",
            "--state",
            s(&state),
            "--out",
            s(&out)
        ]),
        Exit::Clean
    );
    let before = std::fs::read(&state).unwrap();
    assert_eq!(runs_in(&state), 1);

    // A second window, paused inside its transaction, then SIGKILLed.
    let out2 = dir.path().join("r2.md");
    let mut child = binary_report(&[
        s(&logs),
        "--since",
        "2025-05-13T00:00:00Z",
        "--state",
        s(&state),
        "--out",
        s(&out2),
    ])
    .env("ROLECALL_FAILPOINT", "state-write-pause=30000")
    .spawn()
    .unwrap();
    let journal = dir.path().join("state.db-journal");
    let deadline = Instant::now() + Duration::from_secs(60);
    while !journal.exists() {
        assert!(Instant::now() < deadline, "the run never started writing");
        assert!(
            child.try_wait().unwrap().is_none(),
            "the run ended before the kill"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    // Let it write the run and the exchanges before the pause.
    std::thread::sleep(Duration::from_millis(300));
    child.kill().unwrap(); // SIGKILL
    child.wait().unwrap();
    assert!(journal.exists(), "the kill left a hot journal behind");
    assert!(!out2.exists(), "no report for a run that did not commit");

    // The next open rolls the journal back: the same runs, the same rows.
    assert_eq!(runs_in(&state), 1);
    let st = State::open(s(&state), Duration::from_secs(5)).unwrap();
    let check: String = st
        .connection()
        .query_row("PRAGMA integrity_check", [], |r| r.get(0))
        .unwrap();
    assert_eq!(check, "ok");
    drop(st);
    assert_eq!(
        std::fs::read(&state).unwrap().len(),
        before.len(),
        "rolled back to its size before the run"
    );
    // And the interrupted window runs cleanly afterwards.
    assert_eq!(
        report(&[
            s(&logs),
            "--since",
            "2025-05-13T00:00:00Z",
            "--state",
            s(&state),
            "--out",
            s(&out2)
        ]),
        Exit::Clean
    );
    assert_eq!(runs_in(&state), 2);
}

#[test]
fn two_runs_at_once_wait_for_each_other_or_fail_clearly() {
    let dir = tempfile::tempdir().unwrap();
    let logs = scenario_dir(dir.path());
    let state = dir.path().join("state.db");
    // Both run for real, one pausing inside its transaction for a second:
    // the other waits, and both windows are recorded.
    let spawn = |window: [&str; 2], name: &str, pause: &str| {
        binary_report(&[
            s(&logs),
            window[0],
            window[1],
            "--state",
            s(&state),
            "--out",
            s(&dir.path().join(name)),
        ])
        .env("ROLECALL_FAILPOINT", format!("state-write-pause={pause}"))
        .spawn()
        .unwrap()
    };
    let a = spawn(["--until", "2025-05-15T00:00:00Z"], "a.md", "1000");
    let b = spawn(["--since", "2025-05-13T00:00:00Z"], "b.md", "0");
    for (name, c) in [("a", a), ("b", b)] {
        let o = c.wait_with_output().unwrap();
        assert_eq!(o.status.code(), Some(0), "{name}: {}", stderr(&o));
    }
    assert_eq!(runs_in(&state), 2);

    // A writer that holds the lock past --lock-timeout: a clear error.
    let st = State::open(s(&state), Duration::from_secs(5)).unwrap();
    st.connection().execute_batch("BEGIN IMMEDIATE").unwrap();
    let o = binary_report(&[
        s(&logs),
        "--state",
        s(&state),
        "--lock-timeout",
        "1",
        "--out",
        s(&dir.path().join("c.md")),
    ])
    .output()
    .unwrap();
    assert_eq!(o.status.code(), Some(2));
    let err = stderr(&o);
    assert!(
        err.contains("another rolecall run is writing this state file"),
        "{err}"
    );
    assert!(!dir.path().join("c.md").exists());
    st.connection().execute_batch("ROLLBACK").unwrap();
}

#[test]
fn an_older_schema_is_migrated_and_keeps_its_history() {
    let dir = tempfile::tempdir().unwrap();
    let state = dir.path().join("state.db");
    {
        let st = State::open_at(s(&state), Duration::from_secs(1), 1).unwrap();
        assert_eq!(st.version().unwrap(), 1);
        st.connection()
            .execute(
                "INSERT INTO runs (window_key, started_at, finished_at, window_start, window_end, inputs, files, records, events,
                    exchanges, failed_exchanges, sessions, findings, input_errors, duration_ms, version)
                 VALUES ('old', 0, 0, ?1, ?2, '[]', 1, 1, 1, 1, 0, 1, 1, 0, 5, '0.0.1')",
                [(T0 - 10 * DAY) * 1_000_000, (T0 - 9 * DAY) * 1_000_000],
            )
            .unwrap();
        st.connection()
            .execute(
                "INSERT INTO finding_runs (run_id, fingerprint, status, rule, severity, title, message) VALUES (1, 'f', 'new', 'r', 'high', 't', 'm')",
                [],
            )
            .unwrap();
        let has_v2: i64 = st
            .connection()
            .query_row(
                "SELECT count(*) FROM sqlite_master WHERE name = 'workflow_actions'",
                [],
                |r| r.get(0),
            )
            .unwrap();
        assert_eq!(has_v2, 0, "a version 1 file");
    }
    let logs = scenario_dir(dir.path());
    let out = dir.path().join("r.json");
    report(&[s(&logs), "--state", s(&state), "--out", s(&out)]);
    let doc = json_of(&out);
    assert_eq!(
        doc["state"]["runs"], 2,
        "the old run survives the migration"
    );
    assert_eq!(doc["state"]["previous_run"]["id"], 1);
    assert_eq!(
        doc["resolved"][0]["fingerprint"], "f",
        "its finding resolves"
    );
    let st = State::open(s(&state), Duration::from_secs(1)).unwrap();
    assert_eq!(
        st.version().unwrap(),
        rolecall::report::state::schema::LATEST
    );
}

#[test]
fn damaged_foreign_and_newer_files_are_refused_not_reset() {
    let dir = tempfile::tempdir().unwrap();
    let logs = scenario_dir(dir.path());
    let out = dir.path().join("r.md");
    let try_state = |state: &Path| report_err(&[s(&logs), "--state", s(state), "--out", s(&out)]);

    let text = dir.path().join("notes.txt");
    std::fs::write(&text, "these are my notes, not a database\n".repeat(100)).unwrap();
    let e = try_state(&text);
    assert!(
        e.contains("not a rolecall state file (not an SQLite database)"),
        "{e}"
    );
    assert!(
        std::fs::read_to_string(&text)
            .unwrap()
            .starts_with("these are my notes"),
        "untouched"
    );

    let foreign = dir.path().join("other.db");
    {
        let c = rusqlite::Connection::open(&foreign).unwrap();
        c.execute_batch("CREATE TABLE accounts (id INTEGER); INSERT INTO accounts VALUES (1);")
            .unwrap();
    }
    let e = try_state(&foreign);
    assert!(
        e.contains("not a rolecall state file") && e.contains("tables of its own"),
        "{e}"
    );

    let newer = dir.path().join("newer.db");
    {
        let st = State::open(s(&newer), Duration::from_secs(1)).unwrap();
        st.connection()
            .pragma_update(None, "user_version", 99)
            .unwrap();
    }
    let e = try_state(&newer);
    assert!(
        e.contains("written by a newer rolecall (schema version 99"),
        "{e}"
    );

    // A real state file with a page overwritten.
    let damaged = dir.path().join("damaged.db");
    report(&[s(&logs), "--state", s(&damaged), "--out", s(&out)]);
    let mut bytes = std::fs::read(&damaged).unwrap();
    assert!(bytes.len() >= 4096 * 3, "{} bytes", bytes.len());
    for b in &mut bytes[4096 + 8..4096 * 2] {
        *b = 0xA5;
    }
    std::fs::write(&damaged, &bytes).unwrap();
    let e = try_state(&damaged);
    assert!(e.contains("the state file is damaged"), "{e}");
    assert!(
        std::fs::read(&damaged).unwrap() == bytes,
        "the damaged file is left for inspection"
    );
}

#[test]
fn the_schema_command_prints_the_report_schema() {
    let o = crate::common::rolecall(&["schema", "report"]);
    assert_eq!(o.status.code(), Some(0));
    let schema: Value = serde_json::from_str(&crate::common::stdout(&o)).unwrap();
    assert_eq!(schema["title"], "rolecall report");
}
