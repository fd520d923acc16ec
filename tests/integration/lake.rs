//! `rolecall export --parquet` and `rolecall scan --from-parquet`: the
//! dataset's layout and manifest, identical findings read back (whole, as a
//! partition subset, and with the SQL detections run by Apache Spark in
//! local mode), and the refusals.

use std::path::Path;
use std::process::Command;

use serde_json::Value;

use crate::common::{repo_path, rolecall, stderr, stdout, Gh, Scenario};

fn export(sources: &[&str], extra: &[&str], dir: &Path) {
    let mut args = vec!["export"];
    args.extend_from_slice(sources);
    args.extend_from_slice(extra);
    let d = dir.to_string_lossy().to_string();
    args.extend(["--parquet", &d]);
    let o = rolecall(&args);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert!(stderr(&o).contains("Parquet files to"), "{}", stderr(&o));
}

/// The findings of a JSON report, each as sorted-key JSON, sorted.
fn findings(o: &std::process::Output) -> Vec<String> {
    let report: Value =
        serde_json::from_str(&stdout(o)).unwrap_or_else(|e| panic!("{e}: {}", stderr(o)));
    let mut f: Vec<String> = report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| serde_json::to_string(f).unwrap())
        .collect();
    f.sort();
    f
}

fn scan_json(args: &[&str]) -> std::process::Output {
    let mut all = vec!["scan"];
    all.extend_from_slice(args);
    all.extend(["--format", "json", "--fail-on", "never"]);
    rolecall(&all)
}

#[test]
fn an_exported_dataset_scans_to_the_same_findings_and_summary() {
    let tmp = tempfile::tempdir().unwrap();
    let lake = tmp.path().join("lake");
    let logs = repo_path("sample-logs");
    let policy = repo_path("sample-logs/rolecall.toml");
    export(&[&logs], &["--policy", &policy], &lake);

    // Layout: Hive partitions, escaped values, the manifest.
    let part =
        lake.join("sessions/cloud=aws/account=111111111111/day=2025-05-14/part-00000.parquet");
    assert!(part.is_file(), "{}", part.display());
    assert!(lake
        .join("claims")
        .read_dir()
        .unwrap()
        .all(|e| { e.unwrap().file_name().to_string_lossy().starts_with("day=") }));
    assert!(lake.join("sensitive_actions/part-00000.parquet").is_file());
    let manifest: Value =
        serde_json::from_str(&std::fs::read_to_string(lake.join("_rolecall.json")).unwrap())
            .unwrap();
    assert_eq!(manifest["format"], "rolecall-parquet");
    assert_eq!(
        manifest["tables"]["events"]["partitioned_by"],
        serde_json::json!(["cloud", "account", "day"])
    );
    let columns = &manifest["tables"]["sessions"]["columns"];
    let type_of = |name: &str| {
        columns
            .as_array()
            .unwrap()
            .iter()
            .find(|c| c["name"] == name)
            .map(|c| c["type"].as_str().unwrap().to_string())
    };
    assert_eq!(type_of("time").as_deref(), Some("timestamp"));
    assert_eq!(type_of("calls").as_deref(), Some("bigint"));
    assert_eq!(type_of("ref_allowed").as_deref(), Some("boolean"));
    assert_eq!(type_of("account").as_deref(), Some("string"));
    assert!(manifest["policy"].as_str().unwrap().contains("[[role]]"));

    let direct = scan_json(&[&logs, "--policy", &policy]);
    let lake_arg = lake.to_string_lossy().to_string();
    let back = scan_json(&["--from-parquet", &lake_arg]);
    assert_eq!(back.status.code(), Some(0), "{}", stderr(&back));
    let (a, b) = (findings(&direct), findings(&back));
    assert!(a.len() > 15, "the sample logs raise most rules");
    assert_eq!(a, b);
    let sa: Value = serde_json::from_str(&stdout(&direct)).unwrap();
    let sb: Value = serde_json::from_str(&stdout(&back)).unwrap();
    for key in [
        "events",
        "exchanges",
        "sessions",
        "claims",
        "jobs",
        "claims_matched",
        "findings",
        "unchecked",
    ] {
        assert_eq!(sa["summary"][key], sb["summary"][key], "summary.{key}");
    }
    // Trust policies and credential definitions are not in the dataset:
    // the rules over them are not claimed to have run.
    let mut rules = sa["summary"]["rules"].as_array().unwrap().clone();
    assert!(rules.iter().any(|r| r == "fic-issuer-changed"));
    rules.retain(|r| r != "fic-issuer-changed");
    assert_eq!(Value::Array(rules), sb["summary"]["rules"]);
    assert!(sb["summary"]["notes"]
        .to_string()
        .contains("Parquet files of the dataset"));

    // The gate and the other formats work on it as on logs.
    let o = rolecall(&["scan", "--from-parquet", &lake_arg, "--format", "sarif"]);
    assert_eq!(o.status.code(), Some(1));
    assert!(stdout(&o).contains("\"version\": \"2.1.0\""));
}

#[test]
fn a_partition_subset_is_read_as_what_it_holds() {
    let tmp = tempfile::tempdir().unwrap();
    let lake = tmp.path().join("lake");
    let logs = repo_path("sample-logs");
    let policy = repo_path("sample-logs/rolecall.toml");
    export(&[&logs], &["--policy", &policy], &lake);
    // Keep one account's partitions (and every table without accounts).
    for table in ["events", "assumptions", "sessions", "activity"] {
        for cloud in std::fs::read_dir(lake.join(table)).unwrap() {
            let cloud = cloud.unwrap().path();
            for account in std::fs::read_dir(&cloud).unwrap() {
                let account = account.unwrap().path();
                if !account.ends_with("account=111111111111") {
                    std::fs::remove_dir_all(&account).unwrap();
                }
            }
        }
    }
    let lake_arg = lake.to_string_lossy().to_string();
    let subset: Value =
        serde_json::from_str(&stdout(&scan_json(&["--from-parquet", &lake_arg]))).unwrap();
    let whole: Value =
        serde_json::from_str(&stdout(&scan_json(&[&logs, "--policy", &policy]))).unwrap();
    let accounts: Vec<&str> = subset["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|f| f["account"].as_str())
        .collect();
    assert!(!accounts.is_empty());
    assert!(
        accounts.iter().all(|a| *a == "111111111111"),
        "{accounts:?}"
    );
    let in_whole = whole["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["account"] == "111111111111" && f["rule"] != "assume-failure-burst")
        .count();
    let in_subset = subset["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["rule"] != "assume-failure-burst")
        .count();
    assert_eq!(in_subset, in_whole);
    assert!(subset["summary"]["sessions"].as_u64() < whole["summary"]["sessions"].as_u64());
}

#[test]
fn hostile_account_ids_stay_inside_their_partition_and_read_back() {
    let mut s = Scenario::new();
    s.github(&Gh::default()).call(
        "ASIAAAAAAAAAAAAAAAA1",
        3700,
        "198.51.100.9",
        "s3",
        "GetObject",
    );
    let tmp = tempfile::tempdir().unwrap();
    let inputs = tmp.path().join("in");
    std::fs::create_dir(&inputs).unwrap();
    for r in &mut s.records {
        r["recipientAccountId"] = Value::from("../../escape/x=1");
    }
    s.write(&inputs);
    let lake = tmp.path().join("lake");
    let inputs_arg = inputs.to_string_lossy().to_string();
    export(&[&inputs_arg], &[], &lake);
    assert!(!tmp.path().join("escape").exists());
    let dir = lake.join("sessions/cloud=aws/account=..%2F..%2Fescape%2Fx%3D1");
    assert!(
        dir.is_dir(),
        "escaped partition: {:?}",
        std::fs::read_dir(lake.join("sessions/cloud=aws"))
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect::<Vec<_>>()
    );
    let lake_arg = lake.to_string_lossy().to_string();
    let a = findings(&scan_json(&[&inputs_arg]));
    let b = findings(&scan_json(&["--from-parquet", &lake_arg]));
    assert!(!a.is_empty());
    assert_eq!(a, b);
    assert!(b
        .iter()
        .any(|f| f.contains("\"account\":\"../../escape/x=1\"")));
}

#[test]
fn exports_and_reads_refuse_what_would_mislead() {
    let tmp = tempfile::tempdir().unwrap();
    let logs = repo_path("sample-logs");
    let policy = repo_path("sample-logs/rolecall.toml");
    let lake = tmp.path().join("lake");
    let lake_arg = lake.to_string_lossy().to_string();

    // Not over a directory that holds something else.
    std::fs::create_dir(&lake).unwrap();
    std::fs::write(lake.join("notes.txt"), "mine").unwrap();
    let o = rolecall(&["export", &logs, "--parquet", &lake_arg]);
    assert_eq!(o.status.code(), Some(2));
    assert!(
        stderr(&o).contains("not a rolecall export"),
        "{}",
        stderr(&o)
    );
    assert_eq!(
        std::fs::read_to_string(lake.join("notes.txt")).unwrap(),
        "mine"
    );
    std::fs::remove_dir_all(&lake).unwrap();

    // Not over an earlier export unless asked.
    export(&[&logs], &[], &lake);
    let o = rolecall(&["export", &logs, "--parquet", &lake_arg]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("--overwrite"), "{}", stderr(&o));
    export(&[&logs], &["--policy", &policy, "--overwrite"], &lake);

    // The derived columns were computed with the export's policy.
    let o = rolecall(&[
        "scan",
        "--from-parquet",
        &lake_arg,
        "--policy",
        &repo_path("Cargo.toml"),
    ]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("Re-export"), "{}", stderr(&o));
    let o = scan_json(&["--from-parquet", &lake_arg, "--policy", &policy]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));

    // Logs or a dataset, not both; no window flags on a dataset.
    let o = rolecall(&["scan", &logs, "--from-parquet", &lake_arg]);
    assert_eq!(o.status.code(), Some(2));
    let o = rolecall(&["scan", "--from-parquet", &lake_arg, "--since", "24h"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("--since"), "{}", stderr(&o));
    let o = rolecall(&["scan"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("no SOURCES"), "{}", stderr(&o));

    // Results computed elsewhere must cover every detection run.
    let results = tmp.path().join("results");
    std::fs::create_dir(&results).unwrap();
    std::fs::write(results.join("tier-mismatch.jsonl"), "").unwrap();
    let results_arg = results.to_string_lossy().to_string();
    let o = rolecall(&[
        "scan",
        "--from-parquet",
        &lake_arg,
        "--query-results",
        &results_arg,
    ]);
    assert_eq!(o.status.code(), Some(2));
    assert!(
        stderr(&o).contains(".jsonl") && stderr(&o).contains("no result rows"),
        "{}",
        stderr(&o)
    );
    let o = rolecall(&[
        "scan",
        "--from-parquet",
        &lake_arg,
        "--query-results",
        &results_arg,
        "--rules",
        "tier-mismatch",
        "--format",
        "json",
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    std::fs::write(
        results.join("tier-mismatch.jsonl"),
        "{\"session_key\": 1}\nnot json\n",
    )
    .unwrap();
    let o = rolecall(&[
        "scan",
        "--from-parquet",
        &lake_arg,
        "--query-results",
        &results_arg,
        "--rules",
        "tier-mismatch",
    ]);
    assert_eq!(o.status.code(), Some(2));
    assert!(
        stderr(&o).contains("tier-mismatch.jsonl: line 2"),
        "{}",
        stderr(&o)
    );

    // A damaged manifest or part names its file.
    let part = lake.join("sensitive_actions/part-00000.parquet");
    std::fs::write(&part, b"PAR1 not really").unwrap();
    let o = rolecall(&["scan", "--from-parquet", &lake_arg]);
    assert_eq!(o.status.code(), Some(2));
    assert!(
        stderr(&o).contains("sensitive_actions/part-00000.parquet"),
        "{}",
        stderr(&o)
    );
    std::fs::write(lake.join("_rolecall.json"), "{").unwrap();
    let o = rolecall(&["scan", "--from-parquet", &lake_arg]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("_rolecall.json"), "{}", stderr(&o));
}

// ---- Apache Spark, local mode

/// Whether Spark can run here: a Java runtime and pyspark. CI sets
/// ROLECALL_REQUIRE_SPARK=1 (after installing pyspark), so that there a
/// missing one fails instead of skipping.
fn spark_available() -> bool {
    let java = Command::new("java")
        .arg("-version")
        .output()
        .is_ok_and(|o| o.status.success());
    let pyspark = Command::new("python3")
        .args(["-c", "import pyspark"])
        .output()
        .is_ok_and(|o| o.status.success());
    if java && pyspark {
        return true;
    }
    crate::common::skip_or_fail(
        "ROLECALL_REQUIRE_SPARK",
        &format!("the Spark test needs java ({java}) and pyspark ({pyspark})"),
    );
    false
}

/// Exports `sources`, runs every queries/*.sql on Spark over the dataset,
/// and reads Spark's rows back as findings: they must be exactly the
/// findings `rolecall scan` gets from the logs.
fn spark_agrees(sources: &[&str], extra: &[&str]) -> usize {
    let tmp = tempfile::tempdir().unwrap();
    let lake = tmp.path().join("lake");
    export(sources, extra, &lake);
    let out = tmp.path().join("spark-results");
    let o = Command::new("python3")
        .arg(repo_path("tests/spark/run_queries.py"))
        .arg(&lake)
        .arg(repo_path("queries"))
        .arg(&out)
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let queries = std::fs::read_dir(repo_path("queries")).unwrap().count();
    assert_eq!(
        std::fs::read_dir(&out).unwrap().count(),
        queries,
        "one result file per query"
    );
    let mut direct_args: Vec<&str> = sources.to_vec();
    direct_args.extend_from_slice(extra);
    let direct = findings(&scan_json(&direct_args));
    let (lake_arg, out_arg) = (
        lake.to_string_lossy().to_string(),
        out.to_string_lossy().to_string(),
    );
    let via_spark = scan_json(&["--from-parquet", &lake_arg, "--query-results", &out_arg]);
    assert_eq!(via_spark.status.code(), Some(0), "{}", stderr(&via_spark));
    assert_eq!(direct, findings(&via_spark));
    direct.len()
}

#[test]
fn spark_runs_every_query_unchanged_and_finds_exactly_what_scan_finds() {
    if !spark_available() {
        return;
    }
    let logs = repo_path("sample-logs");
    let policy = repo_path("sample-logs/rolecall.toml");
    let n = spark_agrees(&[&logs], &["--policy", &policy]);
    assert!(n > 15);

    // A fixture of deviations on one role, with a hostile account id.
    let mut s = Scenario::new();
    s.github(&Gh {
        env: Some("staging"),
        role: crate::common::role("terraform-prod"),
        ..Gh::default()
    })
    .call(
        "ASIAAAAAAAAAAAAAAAA1",
        3700,
        "198.51.100.9",
        "iam",
        "CreateAccessKey",
    )
    .call(
        "ASIAAAAAAAAAAAAAAAA1",
        9000,
        "203.0.113.4",
        "cloudtrail",
        "StopLogging",
    )
    .job("acme/web", "1001", 3500, Some(4000));
    for r in &mut s.records {
        r["recipientAccountId"] = Value::from("0123456789/..");
    }
    let tmp = tempfile::tempdir().unwrap();
    s.write(tmp.path());
    let fixture = tmp.path().to_string_lossy().to_string();
    assert!(spark_agrees(&[&fixture], &[]) >= 3);
}
