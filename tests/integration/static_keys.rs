//! Static keys: the long-term IAM user keys a trail shows, tied to CI by
//! each link kind (same runner, CI address, CI user agent, declared), and
//! the four rules over them, each with the case that must raise and the one
//! that must not; the credential report in its CSV (BOM, CRLF, `N/A`,
//! `no_information`) and JSON forms, list-access-keys and
//! get-access-key-last-used; trails shaped like the two public incident
//! datasets; `rolecall keys`; the report's trend across runs.

use serde_json::{json, Value};

use crate::common::*;
use rolecall::model::keys::{LinkKind, Verdict};
use rolecall::model::Severity;

const CLI: &str =
    "aws-cli/2.22.4 md/awscrt#0.22.0 ua/2.0 os/linux#6.5 md/arch#x86_64 lang/python#3.12.6";
const TERRAFORM: &str = "APN/1.0 HashiCorp/1.0 Terraform/1.9.8 (+https://www.terraform.io) terraform-provider-aws/5.80.0 aws-sdk-go-v2/1.32.5 os/linux lang/go#1.23.3";
const KEY: &str = "AKIAEXAMPLEDEPLOYER1";

const REPORT_HEADER: &str = "user,arn,user_creation_time,password_enabled,password_last_used,password_last_changed,password_next_rotation,mfa_active,access_key_1_active,access_key_1_last_rotated,access_key_1_last_used_date,access_key_1_last_used_region,access_key_1_last_used_service,access_key_2_active,access_key_2_last_rotated,access_key_2_last_used_date,access_key_2_last_used_region,access_key_2_last_used_service,cert_1_active,cert_1_last_rotated,cert_2_active,cert_2_last_rotated";

/// A credential report row for `user` whose first key is `key1`
/// (`active,last_rotated,last_used_date,region,service`) and second is none.
fn report_row(user: &str, key1: &str) -> String {
    format!(
        "{user},arn:aws:iam::{ACCOUNT}:user/{user},2020-01-01T00:00:00+00:00,false,N/A,N/A,N/A,false,{key1},false,N/A,N/A,N/A,N/A,false,N/A,false,N/A"
    )
}

/// The CSV as `base64 -d` writes it, here with a BOM and CRLF line ends
/// (as Windows tools re-save it).
fn report_csv(rows: &[String]) -> String {
    let mut s = String::from("\u{feff}");
    s.push_str(REPORT_HEADER);
    for r in rows {
        s.push_str("\r\n");
        s.push_str(r);
    }
    s.push_str("\r\n");
    s
}

/// A production deploy at T0+3600 from 20.1.2.3 (session key ASIA…A1).
fn deploy() -> Scenario {
    let mut s = Scenario::new();
    s.github(&Gh::default());
    s.call("ASIAAAAAAAAAAAAAAAA1", 3700, "20.1.2.3", "s3", "PutObject");
    s
}

#[test]
fn a_key_used_inside_a_federated_job_is_in_ci_and_names_the_job() {
    let mut s = deploy();
    s.user_call("ci-deployer", KEY, 3720, "20.1.2.3", CLI, "s3", "PutObject");
    s.user_call(
        "ci-deployer",
        KEY,
        3730,
        "20.1.2.3",
        CLI,
        "cloudfront",
        "CreateInvalidation",
    );
    let report = s.report();
    let found = of(&report.findings, "static-key-in-ci");
    assert_eq!(found.len(), 1, "{:#?}", report.findings);
    let f = found[0];
    assert_eq!(f.severity, Severity::High);
    assert_eq!(f.evidence["strongest_link"], "same-runner");
    assert_eq!(f.evidence["access_key_id"], KEY);
    assert_eq!(f.repository.as_deref(), Some("acme/web"));
    assert_eq!(f.run_id.as_deref(), Some("1001"));
    assert!(f.message.contains("inside a CI job"), "{}", f.message);
    assert!(f.message.contains("run 1001"), "{}", f.message);
    assert!(f.message.contains("also federates"), "{}", f.message);
    assert_eq!(f.evidence["also_federates"], json!(["acme/web"]));
    let row = &report.keys.rows[0];
    assert_eq!(row.verdict, Verdict::InCi);
    assert_eq!(row.calls, 2);
    assert_eq!(row.actions[0].0, "cloudfront:CreateInvalidation");
}

#[test]
fn the_same_address_after_the_session_ended_is_not_the_same_runner() {
    let mut s = deploy();
    // The session expires at +1h; three hours later the address is someone
    // else's (GitHub reuses runner addresses).
    s.user_call(
        "ci-deployer",
        KEY,
        3600 * 5,
        "20.1.2.3",
        CLI,
        "s3",
        "PutObject",
    );
    let report = s.report();
    assert!(of(&report.findings, "static-key-in-ci").is_empty());
    assert!(report
        .findings
        .iter()
        .all(|f| !f.rule.starts_with("static-key")));
    assert_eq!(report.keys.rows[0].verdict, Verdict::Other);
    assert!(report.keys.rows[0].links.is_empty());
}

const META: &str = r#"{"verifiable_password_authentication":false,"hooks":["192.30.252.0/22"],"actions":["4.148.0.0/16","20.33.0.0/16","2603:1030:800::/48"],"actions_macos":["13.105.49.0/31"]}"#;

#[test]
fn a_key_used_from_github_runner_ranges_is_in_ci() {
    let mut s = Scenario::new();
    s.file("github-meta.json", META);
    s.user_call(
        "deployer",
        KEY,
        100,
        "20.33.14.9",
        TERRAFORM,
        "s3",
        "PutObject",
    );
    let report = s.report();
    let f = of(&report.findings, "static-key-in-ci");
    assert_eq!(f.len(), 1);
    assert_eq!(f[0].evidence["strongest_link"], "ci-address");
    assert!(
        f[0].message
            .contains("20.33.0.0/16 (GitHub Actions runners)"),
        "{}",
        f[0].message
    );
    assert!(!f[0].message.contains("also federates"));
}

#[test]
fn addresses_outside_the_ranges_and_hooks_ranges_are_not_ci() {
    let mut s = Scenario::new();
    s.file("github-meta.json", META);
    // 192.30.252.x is GitHub's webhooks, not a runner.
    s.user_call(
        "deployer",
        KEY,
        100,
        "192.30.252.10",
        TERRAFORM,
        "s3",
        "PutObject",
    );
    s.user_call(
        "deployer",
        KEY,
        200,
        "198.51.100.14",
        TERRAFORM,
        "s3",
        "PutObject",
    );
    let report = s.report();
    assert!(of(&report.findings, "static-key-in-ci").is_empty());
}

#[test]
fn policy_ci_cidrs_mark_self_hosted_runners() {
    let mut s = Scenario::new().with_policy("[ci]\ncidrs = [\"10.40.0.0/16\"]\n");
    s.user_call("deployer", KEY, 100, "10.40.3.3", CLI, "s3", "PutObject");
    let f = of(&s.report().findings, "static-key-in-ci").len();
    assert_eq!(f, 1);
}

#[test]
fn a_user_agent_only_ci_produces_is_ci_and_the_cli_or_terraform_is_not() {
    let mut s = Scenario::new();
    s.user_call(
        "deployer",
        KEY,
        100,
        "198.51.100.14",
        "aws-sdk-js/3.600.0 ua/2.0 os/linux lang/js md/nodejs#20 configure-aws-credentials-for-github-actions",
        "sts",
        "GetCallerIdentity",
    );
    s.user_call(
        "admin",
        "AKIAEXAMPLEADMIN0001",
        100,
        "198.51.100.14",
        TERRAFORM,
        "s3",
        "ListBuckets",
    );
    s.user_call(
        "admin",
        "AKIAEXAMPLEADMIN0001",
        110,
        "198.51.100.14",
        CLI,
        "s3",
        "ListBuckets",
    );
    let report = s.report();
    let f = of(&report.findings, "static-key-in-ci");
    assert_eq!(f.len(), 1, "{:#?}", report.findings);
    assert_eq!(f[0].evidence["strongest_link"], "ci-user-agent");
    assert_eq!(f[0].evidence["user"], "deployer");
    let admin = report
        .keys
        .rows
        .iter()
        .find(|r| r.user.as_deref() == Some("admin"))
        .unwrap();
    assert_eq!(admin.verdict, Verdict::Other);
}

#[test]
fn policy_user_agents_extend_the_defaults() {
    let mut s = Scenario::new().with_policy("[ci]\nuser_agents = [\"*acme-deploy-bot/*\"]\n");
    s.user_call(
        "deployer",
        KEY,
        100,
        "198.51.100.14",
        "acme-deploy-bot/4.2 aws-sdk-go",
        "s3",
        "PutObject",
    );
    assert_eq!(of(&s.report().findings, "static-key-in-ci").len(), 1);
}

#[test]
fn a_declaration_alone_is_a_link_but_not_use_from_ci() {
    let mut s =
        Scenario::new().with_policy("[[static_key]]\nuser = \"ci-*\"\nrepository = \"acme/web\"\n");
    s.user_call(
        "ci-deployer",
        KEY,
        100,
        "198.51.100.14",
        CLI,
        "s3",
        "PutObject",
    );
    let report = s.report();
    assert!(report
        .findings
        .iter()
        .all(|f| !f.rule.starts_with("static-key")));
    let row = &report.keys.rows[0];
    assert_eq!(row.verdict, Verdict::Declared);
    assert!(row.has_link(LinkKind::Declared));
    assert_eq!(row.declared_repository.as_deref(), Some("acme/web"));
}

#[test]
fn use_after_the_declared_migration_date_is_flagged_and_use_before_is_not() {
    let policy = "[[static_key]]\nuser = \"ci-deployer\"\nmigrated = \"2025-05-01\"\n";
    let mut before = Scenario::new()
        .with_policy("[[static_key]]\nuser = \"ci-deployer\"\nmigrated = \"2025-06-01\"\n");
    before.user_call(
        "ci-deployer",
        KEY,
        100,
        "198.51.100.14",
        CLI,
        "s3",
        "PutObject",
    );
    let r = before.report();
    assert!(
        of(&r.findings, "static-key-after-migration").is_empty(),
        "{:#?}",
        r.findings
    );

    let mut after = Scenario::new().with_policy(policy);
    after.user_call(
        "ci-deployer",
        KEY,
        100,
        "198.51.100.14",
        CLI,
        "s3",
        "PutObject",
    );
    let r = after.report();
    let f = of(&r.findings, "static-key-after-migration");
    assert_eq!(f.len(), 1);
    assert_eq!(f[0].severity, Severity::High);
    assert_eq!(
        f[0].evidence["migration_basis"],
        "the declared migration date"
    );
    assert!(
        f[0].message.contains("1 of 1 calls after it"),
        "{}",
        f[0].message
    );
    assert_eq!(r.keys.rows[0].verdict, Verdict::AfterMigration);
}

#[test]
fn use_after_the_replacement_roles_first_session_is_flagged_and_before_is_not() {
    let policy = format!(
        "[[static_key]]\nuser = \"ci-deployer\"\nreplaced_by = \"{}\"\n",
        role("deploy-prod")
    );
    // The deploy role first federates at +3600.
    let mut before = deploy().with_policy(&policy);
    before.user_call(
        "ci-deployer",
        KEY,
        1800,
        "198.51.100.14",
        CLI,
        "s3",
        "PutObject",
    );
    let r = before.report();
    assert!(of(&r.findings, "static-key-after-migration").is_empty());

    let mut after = deploy().with_policy(&policy);
    after.user_call(
        "ci-deployer",
        KEY,
        1800,
        "198.51.100.14",
        CLI,
        "s3",
        "PutObject",
    );
    after.user_call(
        "ci-deployer",
        KEY,
        7200,
        "198.51.100.14",
        CLI,
        "s3",
        "PutObject",
    );
    let r = after.report();
    let f = of(&r.findings, "static-key-after-migration");
    assert_eq!(f.len(), 1);
    assert_eq!(
        f[0].evidence["migration_basis"],
        "the replacement role's first federated session"
    );
    assert!(
        f[0].message.contains("1 of 2 calls after it"),
        "{}",
        f[0].message
    );
    assert_eq!(f[0].time, Some((T0 + 7200) * 1_000_000));
}

#[test]
fn the_credential_report_csv_with_bom_crlf_na_and_no_information_reads_cleanly() {
    let mut s = Scenario::new();
    s.user_call(
        "reporter",
        "AKIAEXAMPLEREPORTER1",
        3600,
        "198.51.100.14",
        CLI,
        "s3",
        "GetObject",
    );
    s.file(
        "credential-report.csv",
        &report_csv(&[
            // Root: no keys, and the values only the root row has.
            format!("<root_account>,arn:aws:iam::{ACCOUNT}:root,2019-03-01T09:00:00+00:00,not_supported,no_information,not_supported,not_supported,true,false,N/A,N/A,N/A,N/A,false,N/A,N/A,N/A,N/A,false,N/A,false,N/A"),
            report_row("reporter", "true,2025-04-20T00:00:00+00:00,2025-05-14T01:00:00+00:00,us-east-1,s3"),
            // Active, last used 99 days before the trail's end.
            report_row("old-bot", "true,2024-08-12T07:45:00+00:00,2025-02-03T04:00:00+00:00,us-east-1,s3"),
            // Active and never used, made long ago: revoke.
            report_row("never", "true,2024-01-10T00:00:00+00:00,N/A,N/A,N/A"),
            // Active and never used, made yesterday: being provisioned.
            report_row("fresh", "true,2025-05-13T09:00:00+00:00,N/A,N/A,N/A"),
            // Inactive and unused: nothing to do.
            report_row("retired", "false,2023-01-10T00:00:00+00:00,2023-02-01T00:00:00+00:00,us-east-1,s3"),
        ]),
    );
    let report = s.report();
    assert_eq!(report.summary.input_error_count, 0);
    let mut unused: Vec<&str> = of(&report.findings, "static-key-unused")
        .iter()
        .map(|f| f.evidence["user"].as_str().unwrap())
        .collect();
    unused.sort();
    assert_eq!(unused, ["never", "old-bot"], "{:#?}", report.findings);
    let f = of(&report.findings, "static-key-unused");
    assert!(f.iter().all(|f| f.severity == Severity::Low));
    let bot = f.iter().find(|f| f.evidence["user"] == "old-bot").unwrap();
    assert!(
        bot.message.contains("not used for 99 days"),
        "{}",
        bot.message
    );
    assert!(bot.message.contains("end of trail"), "{}", bot.message);
    // The reporter's key is tied to the trail's key id.
    let reporter = report
        .keys
        .rows
        .iter()
        .find(|r| r.user.as_deref() == Some("reporter"))
        .unwrap();
    assert_eq!(reporter.key_id.as_deref(), Some("AKIAEXAMPLEREPORTER1"));
    assert_eq!(reporter.active, Some(true));
    assert!(reporter.report_match.is_some());
    assert!(report.keys.iam_records);
    assert!(!report
        .summary
        .unchecked
        .iter()
        .any(|u| u.rule == "static-key-unused"));
}

#[test]
fn without_a_credential_report_unused_is_not_judged_and_the_summary_says_so() {
    let mut s = Scenario::new();
    s.user_call("someone", KEY, 100, "198.51.100.14", CLI, "s3", "GetObject");
    let report = s.report();
    assert!(of(&report.findings, "static-key-unused").is_empty());
    let u = report
        .summary
        .unchecked
        .iter()
        .find(|u| u.rule == "static-key-unused")
        .expect("the summary says unused was not judged");
    assert!(u.reason.contains("no credential report"), "{}", u.reason);
    assert!(report
        .summary
        .notes
        .iter()
        .any(|n| n.contains("1 long-term access key seen")));
    let dir = tempfile::tempdir().unwrap();
    s.write(dir.path());
    let table = stdout(&rolecall(&[
        "scan",
        &dir.path().to_string_lossy(),
        "--format",
        "table",
    ]));
    assert!(
        table.contains("not checked: static-key-unused: no credential report"),
        "{table}"
    );
}

#[test]
fn old_keys_are_low_when_tied_to_ci_and_info_otherwise() {
    let mut s = deploy();
    s.user_call("ci-deployer", KEY, 3720, "20.1.2.3", CLI, "s3", "PutObject");
    s.user_call(
        "alice",
        "AKIAEXAMPLEALICE0001",
        3720,
        "198.51.100.14",
        CLI,
        "s3",
        "ListBuckets",
    );
    s.file(
        "credential-report.csv",
        &report_csv(&[
            report_row(
                "ci-deployer",
                "true,2024-06-01T08:00:00+00:00,2025-05-14T01:00:00+00:00,us-east-1,s3",
            ),
            report_row(
                "alice",
                "true,2024-06-01T08:00:00+00:00,2025-05-14T01:00:00+00:00,us-east-1,s3",
            ),
            report_row(
                "bob",
                "true,2025-04-01T08:00:00+00:00,2025-05-14T00:30:00+00:00,us-east-1,s3",
            ),
        ]),
    );
    let report = s.report();
    let old = of(&report.findings, "static-key-old");
    let by_user = |u: &str| {
        old.iter()
            .find(|f| f.evidence["user"] == u)
            .map(|f| f.severity)
    };
    assert_eq!(by_user("ci-deployer"), Some(Severity::Low));
    assert_eq!(by_user("alice"), Some(Severity::Info));
    assert_eq!(by_user("bob"), None, "43 days is within the rotation age");
    let ci = old
        .iter()
        .find(|f| f.evidence["user"] == "ci-deployer")
        .unwrap();
    assert!(ci.message.contains("federated role"), "{}", ci.message);
}

#[test]
fn the_report_json_sets_the_reference_time_and_key_lists_join_by_id() {
    let csv = report_csv(&[report_row(
        "ci-deployer",
        "true,2025-01-02T03:04:05+00:00,2025-05-10T00:00:00+00:00,us-east-1,s3",
    )]);
    let content = {
        use base64::Engine;
        base64::engine::general_purpose::STANDARD.encode(csv.as_bytes())
    };
    let mut s = Scenario::new();
    s.user_call(
        "ci-deployer",
        KEY,
        100,
        "198.51.100.14",
        CLI,
        "s3",
        "PutObject",
    );
    s.user_call(
        "ci-deployer",
        "AKIAEXAMPLEDEPLOYER2",
        200,
        "198.51.100.14",
        CLI,
        "s3",
        "PutObject",
    );
    s.file(
        "get-credential-report.json",
        &json!({"Content": content, "ReportFormat": "text/csv", "GeneratedTime": "2025-06-30T00:00:00+00:00"}).to_string(),
    );
    s.file(
        "list-access-keys.json",
        &json!({"AccessKeyMetadata": [
            {"UserName": "ci-deployer", "AccessKeyId": KEY, "Status": "Active", "CreateDate": "2025-01-02T03:04:05+00:00"},
            {"UserName": "ci-deployer", "AccessKeyId": "AKIAEXAMPLEDEPLOYER2", "Status": "Inactive", "CreateDate": "2023-01-02T03:04:05+00:00"}
        ]})
        .to_string(),
    );
    let report = s.report();
    let reference = report.keys.reference.as_ref().unwrap();
    assert_eq!(reference.basis, "credential report");
    assert_eq!(
        reference.at,
        rolecall::model::time::parse_timestamp("2025-06-30T00:00:00Z").unwrap()
    );
    let row = report.keys.rows.iter().find(|r| r.key == KEY).unwrap();
    assert_eq!(row.active, Some(true));
    assert_eq!(row.age_days, Some(178));
    assert!(row.report_match.as_deref().unwrap().contains("CreateDate"));
    let other = report
        .keys
        .rows
        .iter()
        .find(|r| r.key == "AKIAEXAMPLEDEPLOYER2")
        .unwrap();
    assert_eq!(other.active, Some(false));
    assert_eq!(other.verdict, Verdict::Inactive);
    // 51 days idle at the report's time, with a 30-day limit.
    assert_eq!(of(&report.findings, "static-key-unused").len(), 1);
}

#[test]
fn get_access_key_last_used_fills_the_last_use() {
    let mut s = Scenario::new();
    s.file(
        "list-access-keys.json",
        &json!({"AccessKeyMetadata": [{"UserName": "svc", "AccessKeyId": KEY, "Status": "Active", "CreateDate": "2025-03-01T00:00:00Z"}]}).to_string(),
    );
    s.file(
        "last-used.json",
        &json!({"UserName": "svc", "AccessKeyLastUsed": {"LastUsedDate": "2025-05-13T10:00:00Z", "ServiceName": "s3", "Region": "us-east-1"}}).to_string(),
    );
    s.user_call(
        "other",
        "AKIAEXAMPLEOTHER0001",
        3600,
        "198.51.100.14",
        CLI,
        "s3",
        "GetObject",
    );
    let report = s.report();
    let row = report.keys.rows.iter().find(|r| r.key == KEY).unwrap();
    assert!(row.last_used_per_iam.is_some());
    assert_eq!(row.last_used_service.as_deref(), Some("s3"));
    assert!(of(&report.findings, "static-key-unused").is_empty());
}

#[test]
fn bad_credential_report_values_name_the_line_and_column() {
    let mut s = Scenario::new();
    s.user_call("x", KEY, 100, "198.51.100.14", CLI, "s3", "GetObject");
    let dir = tempfile::tempdir().unwrap();
    s.file(
        "credential-report.csv",
        &format!(
            "{REPORT_HEADER}\n{}\n",
            report_row("x", "maybe,2025-01-01T00:00:00+00:00,N/A,N/A,N/A")
        ),
    );
    s.write(dir.path());
    let o = rolecall(&["keys", &dir.path().to_string_lossy(), "--format", "json"]);
    let err = stderr(&o);
    assert!(err.contains("credential-report.csv"), "{err}");
    assert!(err.contains("line 2"), "{err}");
    assert!(err.contains("access_key_1_active"), "{err}");
    let o = rolecall(&[
        "keys",
        &dir.path().to_string_lossy(),
        "--format",
        "json",
        "--strict",
    ]);
    assert_eq!(o.status.code(), Some(2));
}

/// A trail shaped like invictus-ir's (Stratus Red Team): one IAM user's key
/// from one address with Terraform's and the CLI's user agents,
/// uncompressed, with assumed-role calls beside it. Ordinary use: listed,
/// nothing above info.
#[test]
fn an_attack_simulation_trail_lists_its_keys_and_raises_nothing_above_info() {
    let mut s = Scenario::new();
    for i in 0..40 {
        let agent = if i % 3 == 0 { CLI } else { TERRAFORM };
        s.user_call(
            "bert-jan",
            "AKIATFQR7NSEXAMPLE01",
            60 * i,
            "84.85.86.87",
            agent,
            "ec2",
            "DescribeInstances",
        );
    }
    s.call(
        "ASIAAAAAAAAAAAAAAAA9",
        100,
        "84.85.86.87",
        "s3",
        "ListBuckets",
    );
    let report = s.report();
    assert_eq!(report.keys.rows.len(), 1);
    assert_eq!(report.keys.rows[0].calls, 40);
    assert_eq!(report.keys.rows[0].user_agents.len(), 2);
    assert!(report
        .findings
        .iter()
        .filter(|f| f.rule.starts_with("static-key"))
        .all(|f| f.severity <= Severity::Info));
}

/// A tree shaped like the SANS lab's: gzip files per region, the root
/// user's key and an IAM user's, and the same event delivered in two
/// regions' files.
#[test]
fn a_gzip_region_tree_with_root_keys_and_duplicate_deliveries_lists_each_key_once() {
    use std::io::Write;
    let dir = tempfile::tempdir().unwrap();
    let root_call = json!({
        "eventVersion": "1.08",
        "userIdentity": {"type": "Root", "principalId": ACCOUNT, "arn": format!("arn:aws:iam::{ACCOUNT}:root"), "accountId": ACCOUNT, "accessKeyId": "AKIAROOTEXAMPLE00001"},
        "eventTime": ts(T0 + 60), "eventSource": "s3.amazonaws.com", "eventName": "PutObject", "awsRegion": "us-east-1",
        "sourceIPAddress": "203.0.113.9", "userAgent": CLI, "requestParameters": null, "responseElements": null,
        "eventID": "11111111-2222-4333-8444-555555555555", "readOnly": false, "eventType": "AwsApiCall", "recipientAccountId": ACCOUNT
    });
    for region in ["us-east-1", "eu-west-1"] {
        let p = dir.path().join(region).join("2021/07/29");
        std::fs::create_dir_all(&p).unwrap();
        let f = std::fs::File::create(p.join(format!(
            "{ACCOUNT}_CloudTrail_{region}_20210729T1200Z_abc.json.gz"
        )))
        .unwrap();
        let mut gz = flate2::write::GzEncoder::new(f, flate2::Compression::default());
        gz.write_all(json!({"Records": [root_call]}).to_string().as_bytes())
            .unwrap();
        gz.finish().unwrap();
    }
    let o = rolecall(&["keys", &dir.path().to_string_lossy(), "--format", "json"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let doc: Value = serde_json::from_str(&stdout(&o)).unwrap();
    let rows = doc["rows"].as_array().unwrap();
    assert_eq!(rows.len(), 1);
    assert_eq!(rows[0]["key"], "AKIAROOTEXAMPLE00001");
    assert_eq!(rows[0]["user"], "<root_account>");
    assert_eq!(rows[0]["principal_type"], "Root");
}

#[test]
fn keys_lists_the_sample_with_the_blocking_keys_first_in_every_format() {
    let logs = repo_path("sample-logs");
    let policy = repo_path("sample-logs/rolecall.toml");
    let o = rolecall(&["keys", &logs, "--policy", &policy, "--format", "json"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let doc: Value = serde_json::from_str(&stdout(&o)).unwrap();
    let rows = doc["rows"].as_array().unwrap();
    assert_eq!(rows[0]["user"], "ci-deployer");
    assert_eq!(rows[0]["verdict"], "after-migration");
    assert_eq!(rows[0]["links"][0]["kind"], "same-runner");
    assert_eq!(doc["reference"]["basis"], "end of trail");
    let o = rolecall(&["keys", &logs, "--policy", &policy, "--format", "csv"]);
    let csv = stdout(&o);
    assert!(csv.starts_with("key,access_key_id,user_name,"), "{csv}");
    assert_eq!(csv.lines().count(), rows.len() + 1);
    let o = rolecall(&["keys", &logs, "--policy", &policy, "--format", "table"]);
    let table = stdout(&o);
    assert!(
        table
            .lines()
            .nth(1)
            .unwrap()
            .starts_with("used after migration"),
        "{table}"
    );
    assert!(table.contains("ages measured at 2025-05-14T23:58:41Z (end of trail)"));
}

#[test]
fn attacker_text_in_key_rows_is_escaped_in_table_and_csv() {
    let mut s = Scenario::new();
    s.user_call(
        "@SUM(1+1)*cmd",
        KEY,
        100,
        "198.51.100.14",
        "evil\u{1b}[2J\u{1b}]8;;http://x\u{7}agent",
        "s3",
        "GetObject",
    );
    let dir = tempfile::tempdir().unwrap();
    s.write(dir.path());
    let path = dir.path().to_string_lossy().to_string();
    let table = stdout(&rolecall(&["keys", &path, "--format", "table"]));
    assert!(!table.contains('\u{1b}'), "{table:?}");
    let csv = stdout(&rolecall(&["keys", &path, "--format", "csv"]));
    assert!(csv.contains(",'@SUM(1+1)*cmd,"), "{csv}");
    assert!(!csv.contains('\u{1b}'), "{csv:?}");
    let json = stdout(&rolecall(&["keys", &path, "--format", "json"]));
    assert!(!json.contains('\u{1b}'), "{json:?}");
}

#[test]
fn the_report_says_which_keys_stopped_being_used_from_ci() {
    let state = tempfile::tempdir().unwrap();
    let db = state.path().join("state.db").to_string_lossy().to_string();
    let run = |s: &Scenario| -> Value {
        let dir = tempfile::tempdir().unwrap();
        s.write(dir.path());
        let out = dir.path().join("report.json");
        let o = rolecall(&[
            "report",
            &dir.path().to_string_lossy(),
            "--state",
            &db,
            "--format",
            "json",
            "--out",
            &out.to_string_lossy(),
        ]);
        assert!(o.status.code().unwrap_or(9) <= 1, "{}", stderr(&o));
        serde_json::from_str(&std::fs::read_to_string(out).unwrap()).unwrap()
    };
    let mut week1 = deploy();
    week1.user_call("ci-deployer", KEY, 3720, "20.1.2.3", CLI, "s3", "PutObject");
    let doc = run(&week1);
    let keys = &doc["static_keys"];
    assert_eq!(keys["in_ci"][0]["key"], KEY);
    assert_eq!(
        keys["in_ci"][0]["trend"],
        Value::Null,
        "no earlier run to compare"
    );
    // A week later the pipeline only federates.
    let mut week2 = Scenario::new();
    let mut g = Gh::default();
    g.at += 7 * 86_400;
    week2.github(&g);
    week2.call(
        "ASIAAAAAAAAAAAAAAAA1",
        g.at + 100,
        "20.1.2.3",
        "s3",
        "PutObject",
    );
    let doc = run(&week2);
    let keys = &doc["static_keys"];
    assert_eq!(keys["in_ci"], json!([]));
    assert_eq!(keys["stopped"][0]["key"], KEY);
    assert_eq!(keys["stopped"][0]["trend"], "stopped");
    assert_eq!(keys["stopped"][0]["verdict"], "unseen");
}
