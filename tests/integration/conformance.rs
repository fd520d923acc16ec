//! The published records in `../shared/conformance/` (see its MANIFEST.tsv):
//! every log and claim set is read without an input error, every broken one
//! gives a clear error naming its file, and nothing panics. Skipped when the
//! folder is absent.

use std::path::{Path, PathBuf};

use rolecall::ingest::{ingest, IngestOptions};

/// The conformance set beside the project. Without it the tests here say
/// so and pass, except in CI, where its absence fails them.
fn conformance() -> Option<PathBuf> {
    let p = Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/conformance");
    if p.is_dir() {
        return Some(p);
    }
    crate::common::skip_or_fail(
        "ROLECALL_REQUIRE_CONFORMANCE",
        "../shared/conformance is absent",
    );
    None
}

fn files_under(dir: &Path) -> Vec<String> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let p = entry.unwrap().path();
        if p.is_dir() {
            out.extend(files_under(&p));
        } else {
            out.push(p.to_string_lossy().to_string());
        }
    }
    out.sort();
    out
}

/// Each file on its own, so an error is pinned to the file that caused it.
fn read_each(folder: &str) -> Vec<(String, rolecall::ingest::Batch)> {
    let Some(root) = conformance() else {
        return Vec::new();
    };
    files_under(&root.join(folder))
        .into_iter()
        .map(|f| {
            let b = ingest(std::slice::from_ref(&f), &IngestOptions::default())
                .unwrap()
                .batch;
            (f, b)
        })
        .collect()
}

#[test]
fn every_aws_log_is_read_without_an_input_error() {
    let read = read_each("logs/aws");
    if conformance().is_none() {
        return;
    }
    assert_eq!(read.len(), 12);
    for (file, b) in &read {
        assert!(b.errors.is_empty(), "{file}: {:?}", b.errors);
        assert!(b.records > 0, "{file}: no records read");
    }
    let total: u64 = read.iter().map(|(_, b)| b.records).sum();
    let events: usize = read.iter().map(|(_, b)| b.events.len()).sum();
    let skipped: u64 = read.iter().map(|(_, b)| b.records_skipped).sum();
    assert_eq!(
        (total, events, skipped),
        (246, 245, 1),
        "every record is an event but the one Insight record"
    );
}

#[test]
fn every_gcp_azure_and_vault_log_is_read_without_an_input_error() {
    for folder in ["logs/gcp", "logs/azure", "logs/vault"] {
        let read = read_each(folder);
        for (file, b) in &read {
            assert!(b.errors.is_empty(), "{file}: {:?}", b.errors);
            assert!(b.records > 0, "{file}: no records read");
            assert!(!b.events.is_empty(), "{file}: no events");
        }
    }
    if conformance().is_none() {
        return;
    }
    let gcp = read_each("logs/gcp");
    let exchanges: usize = gcp.iter().map(|(_, b)| b.assumptions.len()).sum();
    assert_eq!(exchanges, 2, "the two ExchangeToken entries");
    let vault = read_each("logs/vault");
    let logins: Vec<_> = vault
        .iter()
        .flat_map(|(_, b)| b.assumptions.iter())
        .collect();
    assert_eq!(logins.len(), 1, "the HCP Terraform auth/jwt/login");
    assert_eq!(
        logins[0].role_arn.as_deref(),
        Some("auth/jwt/role/tfc-role")
    );
    assert_eq!(logins[0].duration_seconds, Some(1200));
    let azure = read_each("logs/azure");
    assert!(
        azure.iter().all(|(_, b)| b.assumptions.is_empty()),
        "secret-based sign-ins are not federated exchanges"
    );
}

#[test]
fn every_claim_set_is_read_as_a_token() {
    let read = read_each("claims");
    for (file, b) in &read {
        assert!(b.errors.is_empty(), "{file}: {:?}", b.errors);
        assert_eq!(b.claims.len(), 1, "{file}");
        let c = &b.claims[0];
        assert!(c.issuer.starts_with("https://"), "{file}");
        assert!(c.provider.is_some());
    }
}

#[test]
fn the_ocsf_raw_samples_are_cloudtrail_events() {
    let read = read_each("expected");
    for (file, b) in read.iter().filter(|(f, _)| f.ends_with(".raw.json")) {
        assert!(b.errors.is_empty(), "{file}: {:?}", b.errors);
        assert_eq!(b.events.len(), 1, "{file}");
    }
}

#[test]
fn broken_records_give_clear_errors_naming_the_file() {
    let read = read_each("broken");
    for (file, b) in &read {
        assert!(
            !b.errors.is_empty(),
            "{file} is broken as published, yet read cleanly"
        );
        for e in &b.errors {
            assert_eq!(&e.path, file);
            assert!(!e.reason.is_empty());
        }
    }
}

#[test]
fn the_web_identity_exchanges_in_the_published_records_are_understood() {
    let read = read_each("logs/aws");
    let exchanges: Vec<_> = read
        .iter()
        .flat_map(|(_, b)| b.assumptions.iter())
        .collect();
    if conformance().is_none() {
        return;
    }
    // cloud-snitch (GitHub, real), jwtex (GitHub, custom audience),
    // Terraform (spaces in the subject), EKS (corpus), EKS AccessDenied.
    assert_eq!(exchanges.len(), 5);
    let jwtex = exchanges
        .iter()
        .find(|a| a.audience.as_deref() == Some("https://github.com/octo-org"))
        .unwrap();
    assert_eq!(
        jwtex.subject.as_deref(),
        Some("repo:octo-org/octo-repo:environment:prod")
    );
    let tfc = exchanges
        .iter()
        .find(|a| a.issuer.as_deref() == Some("https://app.terraform.io"))
        .unwrap();
    assert_eq!(tfc.audience.as_deref(), Some("aws.workload.identity"));
    let denied = exchanges.iter().find(|a| !a.succeeded()).unwrap();
    assert_eq!(denied.error_code.as_deref(), Some("AccessDenied"));
    let real = exchanges
        .iter()
        .find(|a| a.access_key_id.as_deref() == Some("ASIA3ISBVQKHJOCMRQJH"))
        .unwrap();
    assert_eq!(
        rolecall::model::time::format_time(real.expiration.unwrap()),
        "2025-04-16T03:46:56Z"
    );
}

/// The two public incident trails are driven by IAM user keys: rolecall
/// lists each long-term key with its calls and user, and, with no link to
/// CI, raises nothing above info about them.
#[test]
fn the_incident_trails_list_their_long_term_keys() {
    let Some(root) = conformance() else {
        return;
    };
    for (dir, users) in [
        ("real/aws/invictus-ir", &["benjamin", "bert-jan"][..]),
        (
            "real/aws/SANS-504-S3-ransomware-lab",
            &["FalsimentisRoot", "jmerckle"][..],
        ),
    ] {
        let path = root.join(dir).to_string_lossy().to_string();
        let cfg = rolecall::pipeline::Config {
            sources: vec![path.clone()],
            queries: rolecall::detect::sql::builtin_queries(),
            ..Default::default()
        };
        let report = rolecall::pipeline::run(&cfg).unwrap().report;
        assert_eq!(report.summary.input_error_count, 0, "{dir}");
        let keys = &report.keys.rows;
        assert_eq!(keys.len(), 3, "{dir}: {keys:#?}");
        let mut seen: Vec<&str> = keys.iter().filter_map(|k| k.user.as_deref()).collect();
        seen.sort();
        seen.dedup();
        assert_eq!(seen, users, "{dir}");
        assert!(keys
            .iter()
            .all(|k| k.key.starts_with("AKIA") && k.calls > 0));
        assert!(report
            .findings
            .iter()
            .filter(|f| f.rule.starts_with("static-key"))
            .all(|f| f.severity <= rolecall::model::Severity::Info));
        assert!(report
            .summary
            .unchecked
            .iter()
            .any(|u| u.rule == "static-key-unused"));
    }
}
