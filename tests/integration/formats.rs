//! The CI formats (GitHub, JUnit, GitLab Code Quality, SARIF, OCSF, CSV,
//! Markdown) on the sample logs, validated and parsed back; suppressions
//! with expiry and baselines; and the exit-code matrix.

use std::path::Path;
use std::process::{Command, Output};

use serde_json::Value;

use crate::common::{stderr, stdout, Gh, Scenario};

/// The binary from the crate root (relative paths in output), without the
/// GitHub step summary unless a test sets it.
fn rolecall_in_repo(args: &[&str], env: &[(&str, &str)]) -> Output {
    let mut c = Command::new(env!("CARGO_BIN_EXE_rolecall"));
    c.args(args)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .env_remove("NO_COLOR")
        .env_remove("GITHUB_STEP_SUMMARY");
    for (k, v) in env {
        c.env(k, v);
    }
    c.output().unwrap()
}

fn sample(format: &str) -> String {
    let o = rolecall_in_repo(
        &[
            "scan",
            "sample-logs",
            "--policy",
            "sample-logs/rolecall.toml",
            "--format",
            format,
        ],
        &[],
    );
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    stdout(&o).replace(env!("CARGO_PKG_VERSION"), "[version]")
}

fn schema(name: &str) -> jsonschema::Validator {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data")
        .join(name);
    let schema: Value = serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
    jsonschema::validator_for(&schema).unwrap_or_else(|e| panic!("{name} is a valid schema: {e}"))
}

fn errors(v: &jsonschema::Validator, doc: &Value) -> Vec<String> {
    v.iter_errors(doc)
        .map(|e| format!("{e} at {}", e.instance_path()))
        .collect()
}

// --- snapshots ----------------------------------------------------------

#[test]
fn github_snapshot() {
    insta::assert_snapshot!(sample("github"));
}

#[test]
fn junit_snapshot() {
    insta::assert_snapshot!(sample("junit"));
}

#[test]
fn gitlab_codequality_snapshot() {
    insta::assert_snapshot!(sample("gitlab-codequality"));
}

#[test]
fn sarif_snapshot() {
    insta::assert_snapshot!(sample("sarif"));
}

#[test]
fn ocsf_snapshot() {
    insta::assert_snapshot!(sample("ocsf"));
}

#[test]
fn csv_snapshot() {
    insta::assert_snapshot!(sample("csv"));
}

#[test]
fn markdown_snapshot() {
    insta::assert_snapshot!(sample("markdown"));
}

// --- validation ----------------------------------------------------------

#[test]
fn sarif_is_valid_sarif_2_1_0_with_stable_fingerprints() {
    let doc: Value = serde_json::from_str(&sample("sarif")).unwrap();
    let e = errors(&schema("sarif-2.1.0-subset.schema.json"), &doc);
    assert!(e.is_empty(), "{e:#?}");
    let run = &doc["runs"][0];
    let rules = run["tool"]["driver"]["rules"].as_array().unwrap();
    let results = run["results"].as_array().unwrap();
    assert_eq!(results.len(), 27);
    for r in results {
        let i = r["ruleIndex"].as_u64().unwrap() as usize;
        assert_eq!(rules[i]["id"], r["ruleId"], "ruleIndex points at the rule");
        assert_eq!(
            r["partialFingerprints"]["rolecallFingerprint/v1"]
                .as_str()
                .unwrap()
                .len(),
            32
        );
        let loc = &r["locations"][0];
        assert!(
            loc["logicalLocations"][0]["fullyQualifiedName"].is_string()
                || loc["physicalLocation"].is_object()
        );
    }
    let located = results
        .iter()
        .filter(|r| r["locations"][0]["physicalLocation"].is_object())
        .count();
    assert!(
        located > 10,
        "findings with a workflow point at it: {located}"
    );
    // The same input gives the same fingerprints.
    let again: Value = serde_json::from_str(&sample("sarif")).unwrap();
    let fps = |d: &Value| -> Vec<String> {
        d["runs"][0]["results"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| r["partialFingerprints"].to_string())
            .collect()
    };
    assert_eq!(fps(&doc), fps(&again));
}

#[test]
fn ocsf_records_carry_every_required_attribute() {
    let v = schema("ocsf-1.1.0-detection-finding-subset.schema.json");
    let text = sample("ocsf");
    let mut n = 0;
    for line in text.lines() {
        let rec: Value = serde_json::from_str(line).unwrap();
        let e = errors(&v, &rec);
        assert!(e.is_empty(), "{e:#?}\n{rec}");
        assert_eq!(rec["class_uid"], 2004);
        assert_eq!(rec["type_uid"], 200401);
        // What only the credential report shows rests on no event.
        let from_iam = ["static-key-unused", "static-key-old"]
            .contains(&rec["finding_info"]["analytic"]["uid"].as_str().unwrap());
        assert!(
            from_iam
                || rec["finding_info"]["related_events"]
                    .as_array()
                    .is_some_and(|a| !a.is_empty()),
            "{rec}"
        );
        assert!(rec["resources"][0]["uid"].is_string());
        n += 1;
    }
    assert_eq!(n, 27);
}

#[test]
fn junit_parses_back_with_a_suite_per_rule() {
    use quick_xml::events::Event;
    let text = sample("junit");
    let mut reader = quick_xml::Reader::from_str(&text);
    reader.config_mut().check_end_names = true;
    let (mut suites, mut cases, mut failures) = (0, 0, 0);
    let mut suite_names = Vec::new();
    loop {
        match reader.read_event().expect("well-formed XML") {
            Event::Start(e) | Event::Empty(e) => match e.name().as_ref() {
                b"testsuite" => {
                    suites += 1;
                    let name = e.try_get_attribute("name").unwrap().unwrap();
                    suite_names.push(String::from_utf8_lossy(&name.value).to_string());
                }
                b"testcase" => cases += 1,
                b"failure" => failures += 1,
                _ => {}
            },
            Event::Eof => break,
            _ => {}
        }
    }
    assert_eq!(failures, 27, "a failure per finding");
    // 15 log rules, fic-issuer-changed, which judged the sample's Entra
    // credential definitions, and the four static-key rules.
    assert_eq!(suites, 20, "a suite per rule that ran");
    assert_eq!(
        cases, 28,
        "every log rule fires on the sample; fic-issuer-changed is the one passing case"
    );
    assert!(suite_names.contains(&"token-reuse".to_string()));
}

#[test]
fn codequality_has_what_gitlab_requires() {
    let doc: Value = serde_json::from_str(&sample("gitlab-codequality")).unwrap();
    let issues = doc.as_array().unwrap();
    assert_eq!(issues.len(), 27);
    for i in issues {
        for key in ["description", "check_name", "fingerprint", "severity"] {
            assert!(i[key].is_string(), "{key}: {i}");
        }
        assert!(["info", "minor", "major", "critical", "blocker"]
            .contains(&i["severity"].as_str().unwrap()));
        assert!(i["location"]["path"].is_string() && i["location"]["lines"]["begin"].is_u64());
    }
}

// --- hostile strings -----------------------------------------------------

fn hostile_dir() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let mut s = crate::output::hostile_scenario();
    // A user agent that tries to close CDATA and inject a workflow command.
    s.records.last_mut().unwrap()["userAgent"] =
        serde_json::json!("]]><x/>\n::set-output name=pwned::1|`|=cmd()");
    s.write(dir.path());
    dir
}

fn scan_format(dir: &Path, format: &str) -> String {
    let o = crate::common::rolecall(&["scan", dir.to_str().unwrap(), "--format", format]);
    assert!(
        o.status.code() == Some(1) || o.status.code() == Some(0),
        "{}",
        stderr(&o)
    );
    stdout(&o)
}

#[test]
fn hostile_strings_are_escaped_in_every_ci_format() {
    let dir = hostile_dir();
    for format in [
        "github",
        "junit",
        "gitlab-codequality",
        "sarif",
        "ocsf",
        "csv",
        "markdown",
    ] {
        let text = scan_format(dir.path(), format);
        for bad in crate::output::INVISIBLE {
            assert!(!text.contains(bad), "{format}: {bad:?}");
        }
        assert!(!text.contains("c2lnbmF0dXJl"), "{format}: a JWT signature");
        match format {
            "github" => {
                for line in text.lines() {
                    assert!(
                        line.starts_with("::error ")
                            || line.starts_with("::warning ")
                            || line.starts_with("::notice "),
                        "{line}"
                    );
                }
                assert!(!text.contains("\n::set-output"), "no injected command");
            }
            "junit" => {
                assert!(!text.contains("<script>"));
                assert!(!text.contains("]]><x/>"), "a CDATA end is just text");
                let mut reader = quick_xml::Reader::from_str(&text);
                while reader.read_event().expect("well-formed XML") != quick_xml::events::Event::Eof
                {
                }
            }
            "csv" => {
                for line in text.lines().skip(1) {
                    for cell in line.split(',') {
                        assert!(
                            !cell.trim_start_matches('"').starts_with(['=', '+', '@']),
                            "formula: {line}"
                        );
                    }
                }
            }
            "markdown" => {
                assert!(!text.contains("<script>"));
                assert!(!text.contains("@octocat"), "nobody is mentioned");
                assert!(!text.contains("#1"), "no issue is referenced");
                assert!(!text.contains("http://evil"), "no bare link");
                let header = text
                    .lines()
                    .find(|l| l.starts_with("| severity"))
                    .unwrap()
                    .matches(" | ")
                    .count();
                for row in text.lines().filter(|l| l.starts_with("| **")) {
                    assert_eq!(
                        row.matches(" | ").count(),
                        header,
                        "cells stay cells: {row}"
                    );
                }
            }
            _ => {
                for line in text.lines().filter(|l| !l.trim().is_empty()) {
                    if format == "ocsf" {
                        let _: Value = serde_json::from_str(line).expect("valid JSON per line");
                    }
                }
                if format != "ocsf" {
                    let _: Value = serde_json::from_str(&text).expect("valid JSON");
                }
            }
        }
    }
}

// --- several outputs at once, and the step summary ------------------------

#[test]
fn several_formats_at_once_and_the_step_summary_only_when_set() {
    let dir = tempfile::tempdir().unwrap();
    let p = |n: &str| dir.path().join(n).to_str().unwrap().to_string();
    let summary = p("summary.md");
    let o = rolecall_in_repo(
        &[
            "scan",
            "sample-logs",
            "--policy",
            "sample-logs/rolecall.toml",
            "--format",
            "github",
            "--output",
            &format!("sarif={}", p("r.sarif")),
            "--output",
            &format!("junit={}", p("r.xml")),
            "--output",
            &format!("csv={}", p("r.csv")),
        ],
        &[("GITHUB_STEP_SUMMARY", &summary)],
    );
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    assert!(stdout(&o).starts_with("::error"));
    for f in ["r.sarif", "r.xml", "r.csv"] {
        assert!(std::fs::metadata(p(f)).unwrap().len() > 1000, "{f} written");
    }
    let md = std::fs::read_to_string(&summary).unwrap();
    assert!(md.starts_with("### rolecall: 27 findings"), "{md}");

    // Without the variable nothing is written anywhere else.
    let o = rolecall_in_repo(&["scan", "sample-logs", "--format", "github"], &[]);
    assert!(o.status.code().is_some());
    assert_eq!(std::fs::read_to_string(&summary).unwrap(), md, "untouched");

    // Two plain paths are ambiguous.
    let o = rolecall_in_repo(
        &[
            "scan",
            "sample-logs",
            "--output",
            &p("a"),
            "--output",
            &p("b"),
        ],
        &[],
    );
    assert_eq!(o.status.code(), Some(2));
    assert!(
        stderr(&o).contains("only one plain --output FILE"),
        "{}",
        stderr(&o)
    );
}

// --- suppressions --------------------------------------------------------

fn one_finding_dir() -> tempfile::TempDir {
    // An unexpected ref on a production role: one high finding.
    let dir = tempfile::tempdir().unwrap();
    let mut s = Scenario::new();
    s.github(&Gh {
        git_ref: "refs/heads/hotfix",
        ..Gh::default()
    });
    s.write(dir.path());
    dir
}

fn scan_json(dir: &Path, extra: &[&str]) -> (Option<i32>, Value, String) {
    let mut args = vec!["scan", dir.to_str().unwrap(), "--format", "json"];
    args.extend_from_slice(extra);
    let o = crate::common::rolecall(&args);
    let doc = serde_json::from_str(&stdout(&o)).unwrap_or(Value::Null);
    (o.status.code(), doc, stderr(&o))
}

#[test]
fn a_suppression_accepts_a_finding_until_it_expires() {
    let dir = one_finding_dir();
    let (code, doc, _) = scan_json(dir.path(), &[]);
    assert_eq!(code, Some(1));
    let f = &doc["findings"][0];
    assert_eq!(f["rule"], "unexpected-ref");
    let fp = f["fingerprint"].as_str().unwrap().to_string();

    let sup = dir.path().join("suppressions.toml");
    std::fs::write(
        &sup,
        format!("[[suppress]]\nfingerprint = \"{fp}\"\nreason = \"hotfix deploys approved in SEC-123\"\nuntil = 2099-12-31\n"),
    )
    .unwrap();
    let (code, doc, err) = scan_json(dir.path(), &["--suppressions", sup.to_str().unwrap()]);
    assert_eq!(
        code,
        Some(0),
        "a suppressed finding does not fail the gate: {err}"
    );
    assert_eq!(doc["findings"].as_array().unwrap().len(), 0);
    assert_eq!(doc["summary"]["suppressed"], 1);
    assert_eq!(
        doc["suppressed"][0]["reason"],
        "hotfix deploys approved in SEC-123"
    );
    assert_eq!(doc["suppressed"][0]["finding"]["fingerprint"], fp.as_str());
    assert!(doc["suppressed"][0]["suppression"]
        .as_str()
        .unwrap()
        .ends_with("suppressions.toml:1"));

    // Past its date: the finding is back, and the expiry is a finding.
    std::fs::write(
        &sup,
        format!("[[suppress]]\nrule = \"unexpected-ref\"\nfingerprint = \"{fp}\"\nreason = \"temporary\"\nuntil = 2001-01-31\n"),
    )
    .unwrap();
    let (code, doc, _) = scan_json(dir.path(), &["--suppressions", sup.to_str().unwrap()]);
    assert_eq!(code, Some(1));
    let rules: Vec<&str> = doc["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["rule"].as_str().unwrap())
        .collect();
    assert_eq!(rules, ["unexpected-ref", "expired-suppression"]);
    let exp = &doc["findings"][1];
    assert_eq!(exp["severity"], "low");
    assert_eq!(exp["evidence"]["matching_findings"], 1);
    assert!(doc["summary"]["rules"]
        .as_array()
        .unwrap()
        .iter()
        .any(|r| r == "expired-suppression"));

    // A suppression in the policy works the same; a bad one names its line.
    let policy = dir.path().join("policy.toml");
    std::fs::write(
        &policy,
        "[[suppress]]\nrule = \"unexpected-ref\"\nreason = \"\"\nuntil = 2099-01-01\n",
    )
    .unwrap();
    let (code, _, err) = scan_json(dir.path(), &["--policy", policy.to_str().unwrap()]);
    assert_eq!(code, Some(2));
    assert!(
        err.contains("policy.toml: line 3") && err.contains("fill in the reason"),
        "{err}"
    );
}

#[test]
fn a_baseline_adopts_the_gate_once_its_reasons_are_written() {
    let dir = tempfile::tempdir().unwrap();
    let baseline = dir.path().join("baseline.toml");
    let o = rolecall_in_repo(
        &[
            "scan",
            "sample-logs",
            "--policy",
            "sample-logs/rolecall.toml",
            "--format",
            "json",
            "--write-baseline",
            baseline.to_str().unwrap(),
        ],
        &[],
    );
    assert_eq!(o.status.code(), Some(1));
    assert!(stderr(&o).contains("fill in each reason"), "{}", stderr(&o));
    let text = std::fs::read_to_string(&baseline).unwrap();
    assert_eq!(text.matches("[[suppress]]").count(), 27);

    let with = |path: &Path| {
        rolecall_in_repo(
            &[
                "scan",
                "sample-logs",
                "--policy",
                "sample-logs/rolecall.toml",
                "--format",
                "json",
                "--suppressions",
                path.to_str().unwrap(),
            ],
            &[],
        )
    };
    let o = with(&baseline);
    assert_eq!(o.status.code(), Some(2), "placeholders are refused");
    assert!(stderr(&o).contains("fill in the reason"), "{}", stderr(&o));

    let filled = dir.path().join("filled.toml");
    std::fs::write(
        &filled,
        text.replace(
            rolecall::policy::suppress::PLACEHOLDER_REASON,
            "known; tracked in SEC-1",
        ),
    )
    .unwrap();
    let o = with(&filled);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let doc: Value = serde_json::from_str(&stdout(&o)).unwrap();
    assert_eq!(doc["summary"]["suppressed"], 27);
    assert_eq!(doc["findings"].as_array().unwrap().len(), 0);

    // It never overwrites.
    let o = rolecall_in_repo(
        &[
            "scan",
            "sample-logs",
            "--write-baseline",
            baseline.to_str().unwrap(),
        ],
        &[],
    );
    assert_eq!(o.status.code(), Some(2));
}

// --- the exit-code matrix --------------------------------------------------

#[test]
fn exit_codes_across_fail_on_findings_suppressions_input_errors_and_strict() {
    let clean = tempfile::tempdir().unwrap();
    let mut s = Scenario::new();
    s.github(&Gh::default());
    s.write(clean.path());
    let finding = one_finding_dir();
    let elsewhere = tempfile::tempdir().unwrap();
    let sup = elsewhere.path().join("s.toml");
    std::fs::write(
        &sup,
        "[[suppress]]\nrule = \"unexpected-ref\"\nreason = \"accepted\"\nuntil = 2099-01-01\n",
    )
    .unwrap();
    let broken = |dir: &Path| {
        let d = dir.join("broken");
        std::fs::create_dir_all(&d).unwrap();
        std::fs::write(d.join("bad.ndjson"), "{\"eventVersion\": 1,\n").unwrap();
    };
    let clean_broken = tempfile::tempdir().unwrap();
    let mut s = Scenario::new();
    s.github(&Gh::default());
    s.write(clean_broken.path());
    broken(clean_broken.path());
    let finding_broken = one_finding_dir();
    broken(finding_broken.path());

    // (inputs, extra flags, --fail-on, expected exit)
    let sup_flag = ["--suppressions", sup.to_str().unwrap()];
    let cases: Vec<(&Path, Vec<&str>, &str, i32)> = vec![
        (clean.path(), vec![], "high", 0),
        (clean.path(), vec![], "info", 0),
        (finding.path(), vec![], "high", 1),
        (finding.path(), vec![], "critical", 0),
        (finding.path(), vec![], "never", 0),
        (finding.path(), sup_flag.to_vec(), "high", 0),
        (finding.path(), sup_flag.to_vec(), "info", 0),
        (clean_broken.path(), vec![], "high", 0),
        (clean_broken.path(), vec!["--strict"], "high", 2),
        (finding_broken.path(), vec![], "high", 1),
        (finding_broken.path(), vec!["--strict"], "high", 2),
        (finding_broken.path(), vec!["--strict"], "never", 2),
        (finding.path(), vec!["--strict"], "high", 1),
    ];
    for (dir, extra, fail_on, want) in cases {
        let mut args = vec![
            "scan",
            dir.to_str().unwrap(),
            "--format",
            "json",
            "--fail-on",
            fail_on,
        ];
        args.extend(extra.iter().copied());
        let o = crate::common::rolecall(&args);
        assert_eq!(o.status.code(), Some(want), "{args:?}: {}", stderr(&o));
    }
}
