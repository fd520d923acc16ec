//! Trust policies end to end: every trust input shape read by content, bad
//! trust input reported with its file and record, the trust rules in
//! `rolecall scan`, and the `trust` and `policy init` commands.

use std::path::Path;

use rolecall::ingest::{ingest, Batch, IngestOptions};
use rolecall::trust::TrustOrigin;
use serde_json::json;

use crate::common::repo_path;

fn read(paths: &[&str]) -> Batch {
    let sources: Vec<String> = paths.iter().map(|p| p.to_string()).collect();
    ingest(&sources, &IngestOptions::default()).unwrap().batch
}

fn data(name: &str) -> String {
    repo_path(&format!("tests/data/trust/{name}"))
}

fn write(dir: &Path, name: &str, text: &str) -> String {
    let p = dir.join(name);
    std::fs::write(&p, text).unwrap();
    p.to_string_lossy().to_string()
}

#[test]
fn account_authorization_details_give_every_role() {
    let b = read(&[&data("account-details.json")]);
    assert!(b.errors.is_empty(), "{:?}", b.errors);
    let roles: Vec<&str> = b.trust.roles.iter().map(|r| r.role.as_str()).collect();
    assert_eq!(roles.len(), 7);
    assert!(roles.contains(&"arn:aws:iam::111111111111:role/ci/deploy-prod"));
    let prod = &b.trust.roles[0];
    assert_eq!(prod.name, "deploy-prod");
    assert_eq!(prod.account.as_deref(), Some("111111111111"));
    assert!(!prod.bare);
    // URL-encoded in the file, decoded here.
    assert_eq!(
        prod.document.statements[0].sid.as_deref(),
        Some("GitHubDeploy")
    );
    assert_eq!(prod.record, 0);
    // deploy-dev's document is a plain object in the fixture.
    let dev = b
        .trust
        .roles
        .iter()
        .find(|r| r.name == "deploy-dev")
        .unwrap();
    assert_eq!(dev.document.statements[0].conditions.len(), 2);
    assert_eq!(dev.record, 3);
    assert!(
        matches!(&dev.origin, TrustOrigin::Snapshot { shape } if shape == "get-account-authorization-details")
    );
}

#[test]
fn get_role_list_roles_and_bare_documents() {
    let dir = tempfile::tempdir().unwrap();
    let doc = json!({"Version": "2012-10-17", "Statement": [{"Effect": "Allow",
        "Principal": {"Federated": "arn:aws:iam::1:oidc-provider/token.actions.githubusercontent.com"},
        "Action": "sts:AssumeRoleWithWebIdentity"}]});
    let get_role = json!({"Role": {"Path": "/", "RoleName": "r1", "Arn": "arn:aws:iam::222222222222:role/r1",
        "AssumeRolePolicyDocument": doc.to_string()}});
    let list = json!({"Roles": [{"RoleName": "r2", "Arn": "arn:aws:iam::222222222222:role/app/r2",
        "AssumeRolePolicyDocument": doc}]});
    let b = read(&[
        &write(dir.path(), "get-role.json", &get_role.to_string()),
        &write(dir.path(), "list-roles.json", &list.to_string()),
        &data("terraform-plan.json"),
    ]);
    assert!(b.errors.is_empty(), "{:?}", b.errors);
    let names: Vec<(&str, bool)> = b
        .trust
        .roles
        .iter()
        .map(|r| (r.role.as_str(), r.bare))
        .collect();
    assert_eq!(
        names,
        vec![
            ("arn:aws:iam::222222222222:role/r1", false),
            ("arn:aws:iam::222222222222:role/app/r2", false),
            ("terraform-plan", true),
        ]
    );
    assert!(
        b.notes
            .iter()
            .any(|n| n.contains("terraform-plan.json: a bare trust policy document (no role ARN)")),
        "{:?}",
        b.notes
    );
}

#[test]
fn cloudtrail_trust_changes_are_read_beside_the_events() {
    let b = read(&[&data("trail-iam.json"), &data("trail-exchanges.json")]);
    assert!(b.errors.is_empty(), "{:?}", b.errors);
    // CreateRole and one UpdateAssumeRolePolicy; the failed update changed
    // nothing and is not a sighting.
    let changes: Vec<(&str, &str)> = b
        .trust
        .roles
        .iter()
        .map(|r| match &r.origin {
            TrustOrigin::Change { event_name, .. } => (event_name.as_str(), r.role.as_str()),
            _ => ("snapshot", r.role.as_str()),
        })
        .collect();
    assert_eq!(
        changes,
        vec![
            ("CreateRole", "arn:aws:iam::111111111111:role/build-staging"),
            (
                "UpdateAssumeRolePolicy",
                "arn:aws:iam::111111111111:role/build-staging"
            ),
        ]
    );
    let providers: Vec<&str> = b
        .trust
        .oidc_changes
        .iter()
        .map(|p| p.event_name.as_str())
        .collect();
    assert_eq!(
        providers,
        vec![
            "CreateOpenIDConnectProvider",
            "AddClientIDToOpenIDConnectProvider",
            "UpdateOpenIDConnectProviderThumbprint"
        ]
    );
    assert_eq!(
        b.trust.oidc_changes[1].client_ids,
        vec!["https://github.com/acme"]
    );
    // The IAM calls are still events, and the exchanges still exchanges.
    assert_eq!(b.events.len(), 6 + 10);
    assert_eq!(b.assumptions.len(), 10);
}

#[test]
fn gcp_pool_providers_and_azure_credentials() {
    let b = read(&[
        &data("gcp-providers.json"),
        &data("azure/fic-2025-05-01.json"),
        &data("azure/fic-2025-05-14.json"),
    ]);
    assert!(b.errors.is_empty(), "{:?}", b.errors);
    assert_eq!(b.trust.wif_providers.len(), 2);
    let p = &b.trust.wif_providers[0];
    assert_eq!(
        p.issuer.as_deref(),
        Some("https://token.actions.githubusercontent.com")
    );
    assert_eq!(p.attribute_condition, None);
    assert_eq!(
        p.attribute_mapping[0],
        ("google.subject".into(), "assertion.sub".into())
    );
    assert!(b.trust.wif_providers[1].attribute_condition.is_some());
    assert_eq!(b.federated_credentials.len(), 2);

    // The REST list shape, and a flexible Entra credential (no subject).
    let dir = tempfile::tempdir().unwrap();
    let rest = json!({"workloadIdentityPoolProviders": [{"name": "projects/1/locations/global/workloadIdentityPools/p/providers/gl",
        "oidc": {"issuerUri": "https://gitlab.com"}, "attributeCondition": "assertion.namespace_path == 'acme'"}]});
    let flexible = json!({"value": [{"id": "f1", "name": "flex", "issuer": "https://token.actions.githubusercontent.com",
        "subject": null, "audiences": ["api://AzureADTokenExchange"],
        "claimsMatchingExpression": {"value": "claims['sub'] matches 'repo:acme/web:ref:refs/heads/*'", "languageVersion": 1}}]});
    let b = read(&[
        &write(dir.path(), "rest.json", &rest.to_string()),
        &write(dir.path(), "flex.json", &flexible.to_string()),
    ]);
    assert!(b.errors.is_empty(), "{:?}", b.errors);
    assert_eq!(
        b.trust.wif_providers[0].issuer.as_deref(),
        Some("https://gitlab.com")
    );
    assert_eq!(b.federated_credentials[0].subject, "");
    assert!(b.federated_credentials[0]
        .claims_matching_expression
        .is_some());
}

#[test]
fn bad_trust_input_names_file_record_and_role_and_stops_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let good_doc = json!({"Version": "2012-10-17", "Statement": [{"Effect": "Allow",
        "Principal": {"Federated": "arn:aws:iam::1:oidc-provider/token.actions.githubusercontent.com"},
        "Action": "sts:AssumeRoleWithWebIdentity"}]});
    let details = json!({"RoleDetailList": [
        {"RoleName": "broken-json", "Arn": "arn:aws:iam::1:role/broken-json", "AssumeRolePolicyDocument": "%7B%22Statement%22%3A%5B"},
        {"RoleName": "broken-encoding", "Arn": "arn:aws:iam::1:role/broken-encoding", "AssumeRolePolicyDocument": "%7B%22Statement%ZZ"},
        {"RoleName": "fine", "Arn": "arn:aws:iam::1:role/fine", "AssumeRolePolicyDocument": good_doc},
        {"RoleName": "no-doc", "Arn": "arn:aws:iam::1:role/no-doc"},
    ]});
    let bad_event = json!({"Records": [{
        "eventVersion": "1.08", "eventTime": "2025-05-14T10:00:00Z", "eventSource": "iam.amazonaws.com",
        "eventName": "UpdateAssumeRolePolicy", "recipientAccountId": "1", "eventID": "e1",
        "userIdentity": {"type": "IAMUser", "arn": "arn:aws:iam::1:user/bob"},
        "requestParameters": {"roleName": "x", "policyDocument": "{\"Statement\": [{\"Effect\": \"Sometimes\"}]}"},
        "responseElements": null}]});
    let b = read(&[
        &write(dir.path(), "details.json", &details.to_string()),
        &write(dir.path(), "events.json", &bad_event.to_string()),
        &write(
            dir.path(),
            "bare.json",
            "{\"Version\": \"2012-10-17\", \"Statement\": \"nope\"}",
        ),
        &data("terraform-plan.json"),
    ]);
    let errors: Vec<String> = b.errors.iter().map(ToString::to_string).collect();
    let has = |file: &str, what: &str| errors.iter().any(|e| e.contains(file) && e.contains(what));
    assert!(
        has(
            "details.json",
            "RoleDetailList[0] (role `broken-json`): the policy document is not valid JSON"
        ),
        "{errors:?}"
    );
    assert!(
        has(
            "details.json",
            "RoleDetailList[1] (role `broken-encoding`): bad URL-encoding at offset 15"
        ),
        "{errors:?}"
    );
    assert!(
        has(
            "details.json",
            "RoleDetailList[3] (role `no-doc`): has no `AssumeRolePolicyDocument`"
        ),
        "{errors:?}"
    );
    assert!(
        has(
            "events.json",
            "record 0: UpdateAssumeRolePolicy for role `x`: Statement[0]: `Effect` is `Sometimes`"
        ),
        "{errors:?}"
    );
    assert!(
        has(
            "bare.json",
            "trust policy document: `Statement` is a string"
        ),
        "{errors:?}"
    );
    assert_eq!(errors.len(), 5, "{errors:?}");
    // The good role of the bad file, and the good file, came through.
    let roles: Vec<&str> = b.trust.roles.iter().map(|r| r.role.as_str()).collect();
    assert_eq!(roles, vec!["arn:aws:iam::1:role/fine", "terraform-plan"]);
}

// ---- The trust rules, positive and negative ----

use rolecall::detect::sql::builtin_queries;
use rolecall::model::{Finding, Severity};
use rolecall::pipeline::{self, Config};
use rolecall::policy::Policy;
use serde_json::Value;

const GH: &str = "token.actions.githubusercontent.com";
const GH_ARN: &str = "arn:aws:iam::111111111111:oidc-provider/token.actions.githubusercontent.com";

/// Runs the pipeline on files written to a temporary directory.
fn scan(files: &[(&str, String)], policy: Option<&str>) -> Vec<Finding> {
    let dir = tempfile::tempdir().unwrap();
    for (name, text) in files {
        let p = dir.path().join(name);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(p, text).unwrap();
    }
    let cfg = Config {
        sources: vec![dir.path().to_string_lossy().to_string()],
        policy: policy.map_or_else(Policy::default, |t| Policy::parse("p.toml", t).unwrap()),
        ingest: IngestOptions::default(),
        rules: None,
        queries: builtin_queries(),
        allow_partial: false,
        ..Default::default()
    };
    let outcome = pipeline::run(&cfg).unwrap();
    assert_eq!(
        outcome.report.summary.input_error_count, 0,
        "{:?}",
        outcome.report.summary.input_errors
    );
    outcome.report.findings
}

/// A role (get-role output) with one GitHub statement.
fn role_with(name: &str, condition: Value) -> String {
    json!({"Role": {"RoleName": name, "Arn": format!("arn:aws:iam::111111111111:role/{name}"),
        "AssumeRolePolicyDocument": {"Version": "2012-10-17", "Statement": [{"Effect": "Allow",
            "Principal": {"Federated": GH_ARN}, "Action": "sts:AssumeRoleWithWebIdentity", "Condition": condition}]}}})
    .to_string()
}

fn rules_of(findings: &[Finding], rule: &str) -> Vec<(Severity, String)> {
    findings
        .iter()
        .filter(|f| f.rule == rule)
        .map(|f| (f.severity, f.role.clone().unwrap_or_default()))
        .collect()
}

fn k(claim: &str) -> String {
    format!("{GH}:{claim}")
}

#[test]
fn no_subject_condition_fires_on_aud_only_and_not_on_a_pinned_repository() {
    let f = scan(
        &[
            (
                "a.json",
                role_with(
                    "ci",
                    json!({"StringEquals": {k("aud"): "sts.amazonaws.com"}}),
                ),
            ),
            (
                "b.json",
                role_with(
                    "env-only",
                    json!({"StringEquals": {k("aud"): "sts.amazonaws.com", k("environment"): "production"}}),
                ),
            ),
            (
                "c.json",
                role_with(
                    "repo-only",
                    json!({"StringEquals": {k("aud"): "sts.amazonaws.com", k("repository"): "acme/web"}}),
                ),
            ),
            (
                "d.json",
                role_with(
                    "exact",
                    json!({"StringEquals": {k("aud"): "sts.amazonaws.com", k("sub"): "repo:acme/web:ref:refs/heads/main"}}),
                ),
            ),
        ],
        None,
    );
    let roles: Vec<String> = rules_of(&f, "trust-no-subject-condition")
        .into_iter()
        .map(|(_, r)| r)
        .collect();
    assert_eq!(
        roles,
        vec![
            "arn:aws:iam::111111111111:role/ci",
            "arn:aws:iam::111111111111:role/env-only"
        ]
    );
    assert!(
        f.iter()
            .all(|x| x.role.as_deref() != Some("arn:aws:iam::111111111111:role/exact")),
        "{f:#?}"
    );
}

#[test]
fn per_organization_issuers_are_high_not_critical() {
    let doc = json!({"Role": {"RoleName": "circle", "Arn": "arn:aws:iam::1:role/circle", "AssumeRolePolicyDocument": {
        "Version": "2012-10-17", "Statement": [{"Effect": "Allow",
        "Principal": {"Federated": "arn:aws:iam::1:oidc-provider/oidc.circleci.com/org/ORG"},
        "Action": "sts:AssumeRoleWithWebIdentity",
        "Condition": {"StringEquals": {"oidc.circleci.com/org/ORG:aud": "ORG"}}}]}}});
    let f = scan(&[("circle.json", doc.to_string())], None);
    assert_eq!(
        rules_of(&f, "trust-no-subject-condition"),
        vec![(Severity::High, "arn:aws:iam::1:role/circle".into())]
    );
}

#[test]
fn wildcard_subject_owner_repository_and_deploy_branches() {
    let aud = || json!("sts.amazonaws.com");
    let f = scan(
        &[
            (
                "a.json",
                role_with(
                    "owner-wide",
                    json!({"StringEquals": {k("aud"): aud()}, "StringLike": {k("sub"): "repo:acme/*"}}),
                ),
            ),
            (
                "b.json",
                role_with(
                    "owner-claim",
                    json!({"StringEquals": {k("aud"): aud(), k("repository_owner"): "acme"}}),
                ),
            ),
            (
                "c.json",
                role_with(
                    "workflow-only",
                    json!({"StringEquals": {k("aud"): aud(), k("job_workflow_ref"): "acme/ci/.github/workflows/deploy.yml@refs/heads/main"}}),
                ),
            ),
            (
                "d.json",
                role_with(
                    "deploy-prod",
                    json!({"StringEquals": {k("aud"): aud()}, "StringLike": {k("sub"): "repo:acme/web:*"}}),
                ),
            ),
            (
                "e.json",
                role_with(
                    "deploy-dev",
                    json!({"StringEquals": {k("aud"): aud()}, "StringLike": {k("sub"): "repo:acme/web:*"}}),
                ),
            ),
            (
                "f.json",
                role_with(
                    "tagged",
                    json!({"StringEquals": {k("aud"): aud()}, "StringLike": {k("sub"): "repo:acme/web:ref:refs/tags/v*"}}),
                ),
            ),
            (
                "g.json",
                role_with(
                    "mystery",
                    json!({"StringEquals": {k("aud"): aud()}, "StringLike": {k("sub"): "repo:acme/web:*"}}),
                ),
            ),
        ],
        None,
    );
    let got = rules_of(&f, "trust-wildcard-subject");
    let want: Vec<(Severity, String)> = vec![
        (Severity::High, "owner-wide"),
        (Severity::High, "owner-claim"),
        (Severity::High, "workflow-only"),
        (Severity::High, "deploy-prod"),
        (Severity::Info, "mystery"),
    ]
    .into_iter()
    .map(|(s, r)| (s, format!("arn:aws:iam::111111111111:role/{r}")))
    .collect();
    let mut got_sorted = got.clone();
    got_sorted.sort_by(|a, b| a.1.cmp(&b.1));
    let mut want_sorted = want.clone();
    want_sorted.sort_by(|a, b| a.1.cmp(&b.1));
    assert_eq!(got_sorted, want_sorted);
    let wf = f
        .iter()
        .find(|x| {
            x.rule == "trust-wildcard-subject"
                && x.role.as_deref().unwrap().ends_with("/workflow-only")
        })
        .unwrap();
    assert!(
        wf.message
            .contains("pins the workflow file, not the repository"),
        "{}",
        wf.message
    );
    // The workflow-only role pins something, so it is not "no subject".
    assert!(rules_of(&f, "trust-no-subject-condition").is_empty());
}

#[test]
fn pull_request_subject_needs_a_deploy_tier_or_says_it_is_unknown() {
    let aud = || json!("sts.amazonaws.com");
    let f = scan(
        &[
            (
                "a.json",
                role_with(
                    "deploy-prod",
                    json!({"StringEquals": {k("aud"): aud(), k("sub"): "repo:acme/web:pull_request"}}),
                ),
            ),
            (
                "b.json",
                role_with(
                    "deploy-staging",
                    json!({"StringEquals": {k("aud"): aud()}, "StringLike": {k("sub"): "repo:acme/web:*"}, "StringNotEquals": {k("event_name"): "pull_request"}}),
                ),
            ),
            (
                "c.json",
                role_with(
                    "ci-checks",
                    json!({"StringEquals": {k("aud"): aud(), k("sub"): "repo:acme/web:pull_request"}}),
                ),
            ),
            // Development tier (the name matches *dev* and *test*): not judged.
            (
                "d.json",
                role_with(
                    "lint-dev",
                    json!({"StringEquals": {k("aud"): aud(), k("sub"): "repo:acme/web:pull_request"}}),
                ),
            ),
            (
                "e.json",
                role_with(
                    "release",
                    json!({"StringEquals": {k("aud"): aud(), k("sub"): "repo:acme/web:pull_request"}}),
                ),
            ),
        ],
        Some("[[role]]\nmatch = \"*:role/release\"\ntier = \"production\"\n"),
    );
    let mut got = rules_of(&f, "trust-pull-request-subject");
    got.sort_by(|a, b| a.1.cmp(&b.1));
    assert_eq!(
        got,
        vec![
            (
                Severity::Info,
                "arn:aws:iam::111111111111:role/ci-checks".into()
            ),
            (
                Severity::High,
                "arn:aws:iam::111111111111:role/deploy-prod".into()
            ),
            (
                Severity::High,
                "arn:aws:iam::111111111111:role/release".into()
            ),
        ]
    );
    let info = f
        .iter()
        .find(|x| x.rule == "trust-pull-request-subject" && x.severity == Severity::Info)
        .unwrap();
    assert!(info.message.contains("unknown tier"), "{}", info.message);
}

#[test]
fn missing_audience_absent_wildcard_or_unexpected() {
    let sub = || json!("repo:acme/web:ref:refs/heads/main");
    let f = scan(
        &[
            (
                "a.json",
                role_with("no-aud", json!({"StringEquals": {k("sub"): sub()}})),
            ),
            (
                "b.json",
                role_with(
                    "any-aud",
                    json!({"StringEquals": {k("sub"): sub()}, "StringLike": {k("aud"): "*"}}),
                ),
            ),
            (
                "c.json",
                role_with(
                    "custom-aud",
                    json!({"StringEquals": {k("sub"): sub(), k("aud"): "https://github.com/acme"}}),
                ),
            ),
            (
                "d.json",
                role_with(
                    "listed-aud",
                    json!({"StringEquals": {k("sub"): sub(), k("aud"): "https://example.com/ci"}}),
                ),
            ),
            (
                "e.json",
                role_with(
                    "good",
                    json!({"StringEquals": {k("sub"): sub(), k("aud"): "sts.amazonaws.com"}}),
                ),
            ),
        ],
        None,
    );
    let mut got: Vec<String> = rules_of(&f, "trust-missing-audience")
        .into_iter()
        .map(|(_, r)| r)
        .collect();
    got.sort();
    assert_eq!(
        got,
        ["any-aud", "custom-aud", "listed-aud", "no-aud"]
            .map(|r| format!("arn:aws:iam::111111111111:role/{r}"))
    );
    // With the audience listed for the issuer, the custom one is expected.
    let f = scan(
        &[("d.json", role_with("listed-aud", json!({"StringEquals": {k("sub"): sub(), k("aud"): "https://example.com/ci"}})))],
        Some("[[issuer]]\nurl = \"https://token.actions.githubusercontent.com\"\naudiences = [\"https://example.com/ci\"]\n"),
    );
    assert!(rules_of(&f, "trust-missing-audience").is_empty());
}

#[test]
fn forallvalues_stringlike_and_unknown_formats() {
    let aud = || json!("sts.amazonaws.com");
    let f = scan(
        &[
            (
                "a.json",
                role_with(
                    "forall",
                    json!({"StringEquals": {k("aud"): aud(), k("sub"): "repo:acme/web:environment:production"}, "ForAllValues:StringEquals": {k("environment"): "production"}}),
                ),
            ),
            (
                "b.json",
                role_with(
                    "forall-amr",
                    json!({"StringEquals": {k("aud"): aud(), k("sub"): "repo:acme/web:environment:production"}, "ForAllValues:StringEquals": {k("amr"): "x"}}),
                ),
            ),
            (
                "c.json",
                role_with(
                    "like-exact",
                    json!({"StringEquals": {k("aud"): aud()}, "StringLike": {k("sub"): "repo:acme/web:ref:refs/heads/main"}}),
                ),
            ),
            (
                "d.json",
                role_with(
                    "like-wild",
                    json!({"StringEquals": {k("aud"): aud()}, "StringLike": {k("sub"): "repo:acme/web:ref:refs/heads/release-*"}}),
                ),
            ),
            (
                "e.json",
                role_with(
                    "no-prefix",
                    json!({"StringEquals": {k("aud"): aud(), k("sub"): "acme/web:ref:refs/heads/main"}}),
                ),
            ),
            (
                "f.json",
                role_with(
                    "equals-star",
                    json!({"StringEquals": {k("aud"): aud(), k("sub"): "repo:acme/web:*"}}),
                ),
            ),
            (
                "g.json",
                role_with(
                    "custom-template",
                    json!({"StringEquals": {k("aud"): aud(), k("sub"): "repo:acme/web:environment:prod:job_workflow_ref:acme/ci/.github/workflows/d.yml@refs/heads/main"}}),
                ),
            ),
        ],
        None,
    );
    let names = |rule: &str| -> Vec<String> {
        let mut v: Vec<String> = rules_of(&f, rule)
            .into_iter()
            .map(|(_, r)| r.rsplit('/').next().unwrap().to_string())
            .collect();
        v.sort();
        v
    };
    assert_eq!(names("trust-forallvalues-single-claim"), vec!["forall"]);
    assert_eq!(
        names("trust-stringlike-without-wildcard"),
        vec!["like-exact"]
    );
    assert_eq!(
        names("trust-unknown-subject-format"),
        vec!["equals-star", "no-prefix"]
    );
    let star = f
        .iter()
        .find(|x| {
            x.rule == "trust-unknown-subject-format"
                && x.role.as_deref().unwrap().ends_with("equals-star")
        })
        .unwrap();
    assert!(
        star.message.contains("compares literally"),
        "{}",
        star.message
    );
}

#[test]
fn changes_providers_pools_and_credentials() {
    let f = scan(
        &[
            (
                "trail-iam.json",
                std::fs::read_to_string(data("trail-iam.json")).unwrap(),
            ),
            (
                "gcp.json",
                std::fs::read_to_string(data("gcp-providers.json")).unwrap(),
            ),
            (
                "azure/1.json",
                std::fs::read_to_string(data("azure/fic-2025-05-01.json")).unwrap(),
            ),
            (
                "azure/2.json",
                std::fs::read_to_string(data("azure/fic-2025-05-14.json")).unwrap(),
            ),
        ],
        None,
    );
    let changed: Vec<&Finding> = f.iter().filter(|x| x.rule == "trust-changed").collect();
    assert_eq!(changed.len(), 1);
    let c = changed[0];
    assert_eq!(
        c.role.as_deref(),
        Some("arn:aws:iam::111111111111:role/build-staging")
    );
    let diff: Vec<&str> = c.evidence["diff"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap())
        .collect();
    assert_eq!(
        diff,
        vec![
            "- \"token.actions.githubusercontent.com:sub\": \"repo:acme/web:*\"",
            "+ \"token.actions.githubusercontent.com:sub\": \"repo:acme/*\""
        ]
    );
    assert!(c.evidence["before"].is_object() && c.evidence["after"].is_object());
    assert_eq!(c.event_ids.len(), 1);
    assert_eq!(
        f.iter()
            .filter(|x| x.rule == "oidc-provider-changed")
            .count(),
        3
    );
    let wif: Vec<&Finding> = f
        .iter()
        .filter(|x| x.rule == "wif-no-attribute-condition")
        .collect();
    assert_eq!(
        wif.len(),
        1,
        "the provider with a condition is not a finding"
    );
    assert!(wif[0]
        .role
        .as_deref()
        .unwrap()
        .ends_with("/providers/github"));
    let fic: Vec<&Finding> = f
        .iter()
        .filter(|x| x.rule == "fic-issuer-changed")
        .collect();
    assert_eq!(fic.len(), 1);
    assert_eq!(
        fic[0].evidence["after"],
        "https://token.actions.githubusercontent.com/acme-enterprise"
    );

    // Two identical snapshots are no change; two different ones are.
    let snap = |sub: &str| {
        role_with(
            "deploy-prod",
            json!({"StringEquals": {k("aud"): "sts.amazonaws.com", k("sub"): sub}}),
        )
    };
    let same = scan(
        &[
            ("1.json", snap("repo:acme/web:environment:production")),
            ("2.json", snap("repo:acme/web:environment:production")),
        ],
        None,
    );
    assert!(rules_of(&same, "trust-changed").is_empty());
    let differ = scan(
        &[
            ("1.json", snap("repo:acme/web:environment:production")),
            ("2.json", snap("repo:acme/web:environment:staging")),
        ],
        None,
    );
    assert_eq!(rules_of(&differ, "trust-changed").len(), 1);
}

#[test]
fn trust_findings_have_stable_fingerprints_and_reach_the_gate() {
    let files = [(
        "a.json",
        role_with(
            "ci",
            json!({"StringEquals": {k("aud"): "sts.amazonaws.com"}}),
        ),
    )];
    let a = scan(&files, None);
    let b = scan(&files, None);
    let fp = |f: &[Finding]| -> Vec<String> { f.iter().map(|x| x.fingerprint.clone()).collect() };
    assert_eq!(fp(&a), fp(&b));
    assert!(a.iter().all(|x| x.fingerprint.len() == 32));
    // The CI gate: a critical trust finding fails `scan`.
    let dir = tempfile::tempdir().unwrap();
    let p = write(dir.path(), "role.json", &files[0].1);
    let out = crate::common::rolecall(&["scan", &p, "--format", "sarif", "--fail-on", "critical"]);
    assert_eq!(out.status.code(), Some(1));
    let sarif: Value = serde_json::from_slice(&out.stdout).unwrap();
    let results = sarif["runs"][0]["results"].as_array().unwrap();
    assert!(results
        .iter()
        .any(|r| r["ruleId"] == "trust-no-subject-condition"));
}

// ---- Panther's published GitHub trust tests ----

/// The `Tests:` of a Panther policy: name, expected result, resource.
/// Minimal reading (no YAML crate): each test starts with `- Name:`, and
/// its `Resource:` is a JSON object.
fn panther_tests(yaml: &str) -> Vec<(String, bool, Value)> {
    let tests = yaml.split_once("\nTests:").map_or("", |(_, t)| t);
    let mut out = Vec::new();
    for block in tests.split("\n  - Name: ").skip(1) {
        let name = block.lines().next().unwrap_or("").trim().to_string();
        let expected = block.contains("ExpectedResult: true");
        let resource = block.split_once("Resource:").map_or("", |(_, r)| r).trim();
        let value: Value = serde_json::from_str(resource).unwrap_or_else(|e| panic!("{name}: {e}"));
        out.push((name, expected, value));
    }
    out
}

/// Where our verdict and Panther's legitimately differ, and why (also in
/// the README).
const PANTHER_DIFFERENCES: &[(&str, &str)] = &[
    (
        "Invalid Principal as Wildcard",
        "Federated \"*\" with GitHub's aud and sub conditions admits exactly what the same statement with GitHub's provider ARN admits: any other provider's token lacks those keys, so the StringEquals/StringLike conditions fail. rolecall judges what a statement admits, not its spelling.",
    ),
    (
        "Non-GitHub OIDC Principal",
        "a statement trusting accounts.google.com with conditions on GitHub's keys admits nothing (Google tokens never carry token.actions.githubusercontent.com keys): a dead statement, not an over-broad one.",
    ),
];

#[test]
fn panther_github_trust_tests_agree_except_where_documented() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../shared/conformance/expected/panther_aws_iam_role_github_actions_trust.yml");
    let Ok(yaml) = std::fs::read_to_string(&path) else {
        crate::common::skip_or_fail(
            "ROLECALL_REQUIRE_CONFORMANCE",
            &format!("{} is not here", path.display()),
        );
        return;
    };
    let tests = panther_tests(&yaml);
    assert_eq!(tests.len(), 9, "the published policy has nine tests");
    let mut disagreements = Vec::new();
    for (i, (name, expected, resource)) in tests.iter().enumerate() {
        let f = scan(
            &[(&format!("panther-{i}.json"), resource.to_string())],
            None,
        );
        let flagged: Vec<&str> = f
            .iter()
            .filter(|x| x.severity >= Severity::High && (x.rule.starts_with("trust-")))
            .map(|x| x.rule.as_str())
            .collect();
        // Panther's true means compliant: no critical or high trust finding.
        if flagged.is_empty() != *expected {
            disagreements.push(name.clone());
        }
        eprintln!("panther {name}: expected {expected}, rolecall {flagged:?}");
    }
    let documented: Vec<String> = PANTHER_DIFFERENCES
        .iter()
        .map(|(n, _)| n.to_string())
        .collect();
    assert_eq!(disagreements, documented);
}

#[test]
fn every_trust_rule_fires_on_the_fixtures() {
    let sources: Vec<String> = vec![repo_path("tests/data/trust")];
    let cfg = Config {
        sources,
        policy: Policy::default(),
        ingest: IngestOptions::default(),
        rules: None,
        queries: builtin_queries(),
        allow_partial: false,
        ..Default::default()
    };
    let report = pipeline::run(&cfg).unwrap().report;
    let mut fired: Vec<&str> = report.findings.iter().map(|f| f.rule.as_str()).collect();
    fired.sort();
    fired.dedup();
    for r in rolecall::detect::trust::rules() {
        assert!(
            fired.contains(&r.id.as_ref()),
            "{} does not fire on tests/data/trust",
            r.id
        );
        assert!(
            report.summary.rules.iter().any(|x| *x == r.id),
            "{} is listed as run",
            r.id
        );
    }
}

// ---- `rolecall trust` and `--suggest` ----

/// Runs the binary from the repository root (so paths in the output are
/// the relative ones given).
fn run_in_repo(args: &[&str]) -> std::process::Output {
    std::process::Command::new(env!("CARGO_BIN_EXE_rolecall"))
        .args(args)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .env("NO_COLOR", "1")
        .output()
        .unwrap()
}

#[test]
fn trust_table_snapshot() {
    let o = run_in_repo(&["trust", "tests/data/trust", "--format", "table"]);
    assert_eq!(o.status.code(), Some(0), "{}", crate::common::stderr(&o));
    insta::assert_snapshot!(crate::common::stdout(&o));
}

#[test]
fn trust_json_snapshot() {
    let o = run_in_repo(&["trust", "tests/data/trust", "--format", "json"]);
    assert_eq!(o.status.code(), Some(0));
    let doc: Value = serde_json::from_slice(&o.stdout).unwrap();
    insta::assert_json_snapshot!(doc);
}

#[test]
fn suggest_writes_a_policy_and_a_terraform_role_per_used_role() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("tightened");
    let o = run_in_repo(&[
        "trust",
        "tests/data/trust",
        "--format",
        "json",
        "--suggest",
        out.to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(0));
    let stderr = crate::common::stderr(&o).replace(out.to_str().unwrap(), "[DIR]");
    let mut names: Vec<String> = std::fs::read_dir(&out)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().to_string())
        .collect();
    names.sort();
    let mut files = String::new();
    for n in [
        "111111111111-deploy-prod.json",
        "111111111111-deploy-prod.tf",
        "111111111111-deploy-dev.json",
    ] {
        files.push_str(&format!(
            "==> {n}\n{}\n",
            std::fs::read_to_string(out.join(n)).unwrap()
        ));
    }
    insta::assert_snapshot!(format!("{stderr}\n{}\n\n{files}", names.join("\n")));
    // Each JSON file is a policy document rolecall itself reads back.
    for n in names.iter().filter(|n| n.ends_with(".json")) {
        let text = std::fs::read_to_string(out.join(n)).unwrap();
        rolecall::model::policy_doc::parse_policy_text(&text)
            .unwrap_or_else(|e| panic!("{n}: {e}"));
    }
}

// See: issue 17. A role ARN's account id comes from the input; one that
// is a path made `--suggest DIR` write outside DIR.
#[test]
fn suggest_names_stay_inside_the_directory_whatever_the_role_arn_says() {
    let dir = tempfile::tempdir().unwrap();
    let logs = dir.path().join("logs");
    std::fs::create_dir(&logs).unwrap();
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/trust");
    for p in walk(&src).into_iter().filter(|p| p.is_file()) {
        let text = std::fs::read_to_string(&p).unwrap().replace(
            "arn:aws:iam::111111111111:role/deploy-prod",
            "arn:aws:iam::../../escaped:role/deploy-prod",
        );
        let to = logs.join(p.strip_prefix(&src).unwrap());
        std::fs::create_dir_all(to.parent().unwrap()).unwrap();
        std::fs::write(to, text).unwrap();
    }
    let out = dir.path().join("a").join("b").join("suggest");
    std::fs::create_dir_all(&out).unwrap();
    // A link planted in DIR under a name rolecall might choose.
    let victim = dir.path().join("victim");
    std::fs::write(&victim, "keep").unwrap();
    for name in ["111111111111-deploy-dev.json", "111111111111-deploy-dev.tf"] {
        std::os::unix::fs::symlink(&victim, out.join(name)).unwrap();
    }
    let o = run_in_repo(&[
        "trust",
        logs.to_str().unwrap(),
        "--format",
        "json",
        "--suggest",
        out.to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", crate::common::stderr(&o));
    // Nothing was written beside or above DIR.
    let escaped: Vec<_> = walk(dir.path())
        .into_iter()
        .filter(|p| !p.starts_with(&out) && !p.starts_with(&logs) && p != &victim)
        .filter(|p| p.is_file())
        .collect();
    assert!(escaped.is_empty(), "written outside DIR: {escaped:?}");
    assert_eq!(
        std::fs::read_to_string(&victim).unwrap(),
        "keep",
        "the link was not followed"
    );
    let names: Vec<String> = std::fs::read_dir(&out)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert!(names.iter().any(|n| n.contains("deploy-prod")), "{names:?}");
    for n in &names {
        assert!(
            n.bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"._-".contains(&b))
                && !n.starts_with('.'),
            "{n}"
        );
        let meta = std::fs::symlink_metadata(out.join(n)).unwrap();
        assert!(!meta.file_type().is_symlink(), "{n} is still a link");
    }
}

fn walk(dir: &Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    for e in std::fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        if p.is_dir() && !p.is_symlink() {
            out.extend(walk(&p));
        }
        out.push(p);
    }
    out
}

#[test]
fn suggestions_admit_what_was_observed_and_refuse_the_rest() {
    // The fixtures: each tightened policy admits every observed successful
    // subject and refuses the failed one and the probes.
    let sources = vec![repo_path("tests/data/trust")];
    let cfg = Config {
        sources,
        policy: Policy::default(),
        ingest: IngestOptions::default(),
        rules: None,
        queries: builtin_queries(),
        allow_partial: false,
        ..Default::default()
    };
    let outcome = pipeline::run(&cfg).unwrap();
    for (usage, doc) in rolecall::cli::trust::usages(&outcome) {
        let Some(s) = rolecall::trust::suggest::suggest(&usage, &doc) else {
            continue;
        };
        let tight = rolecall::model::policy_doc::parse_policy_value(&s.policy).unwrap();
        for o in &usage.observed {
            let issuer = o.issuer.clone().unwrap();
            let ctx = rolecall::trust::context::Context::for_subject(
                &issuer,
                o.provider_arn.as_deref(),
                &o.subject,
                o.audience.as_deref(),
            );
            let v = rolecall::trust::evaluate::evaluate(&tight, &ctx);
            let want = if o.succeeded > 0 {
                Outcome::Allowed
            } else {
                Outcome::Denied
            };
            assert_eq!(
                v.outcome, want,
                "{}: {} ({})",
                usage.role, o.subject, v.reason
            );
        }
    }
}

use rolecall::trust::evaluate::Outcome;

mod suggest_property {
    //! Property: for any set of observed GitHub subjects, the tightened
    //! policy admits a subject exactly when it was observed.

    use proptest::prelude::*;
    use rolecall::model::policy_doc::{parse_policy_text, parse_policy_value};
    use rolecall::trust::context::Context;
    use rolecall::trust::evaluate::{evaluate, Outcome};
    use rolecall::trust::suggest::{tighten, Used};

    const ISSUER: &str = "https://token.actions.githubusercontent.com";
    const ARN: &str = "arn:aws:iam::111111111111:oidc-provider/token.actions.githubusercontent.com";

    fn subject() -> impl Strategy<Value = String> {
        let repo = prop::sample::select(vec![
            "acme/web",
            "acme/api",
            "other/web",
            "acme/we*",
            "acme/w?b",
        ]);
        let ctx = prop::sample::select(vec![
            "ref:refs/heads/main",
            "ref:refs/heads/feature/x",
            "environment:production",
            "environment:Production",
            "pull_request",
            "ref:refs/tags/v1.2.3",
        ]);
        (repo, ctx).prop_map(|(r, c)| format!("repo:{r}:{c}"))
    }

    proptest! {
        #[test]
        fn tightened_policies_admit_exactly_the_observed_subjects(
            observed in prop::collection::vec(subject(), 1..6),
            probe in subject(),
        ) {
            let original = parse_policy_text(&serde_json::json!({"Version": "2012-10-17", "Statement": [
                {"Effect": "Allow", "Principal": {"Federated": ARN}, "Action": "sts:AssumeRoleWithWebIdentity",
                 "Condition": {"StringLike": {"token.actions.githubusercontent.com:sub": "repo:*"}}},
                {"Effect": "Allow", "Principal": {"Service": "ec2.amazonaws.com"}, "Action": "sts:AssumeRole"}]}).to_string()).unwrap();
            let used: Vec<Used> = observed.iter().map(|s| Used {
                principal: ARN.into(), issuer: ISSUER.into(), subject: s.clone(), audience: Some("sts.amazonaws.com".into()),
            }).collect();
            let (policy, _) = tighten(&original, &used);
            let tight = parse_policy_value(&policy).unwrap();
            // The service statement is kept as written.
            prop_assert_eq!(tight.statements.len(), 2);
            let ctx = Context::for_subject(ISSUER, Some(ARN), &probe, Some("sts.amazonaws.com"));
            let admitted = evaluate(&tight, &ctx).outcome == Outcome::Allowed;
            prop_assert_eq!(admitted, observed.contains(&probe));
            // Another audience is refused.
            let ctx = Context::for_subject(ISSUER, Some(ARN), &probe, Some("https://github.com/acme"));
            prop_assert_eq!(evaluate(&tight, &ctx).outcome, Outcome::Denied);
        }
    }
}

// ---- `rolecall policy init` ----

#[test]
fn policy_init_parses_back_and_admits_the_history_it_learned() {
    let o = run_in_repo(&["policy", "init", "tests/data/trust"]);
    assert_eq!(o.status.code(), Some(0), "{}", crate::common::stderr(&o));
    let text = crate::common::stdout(&o);
    insta::assert_snapshot!(text);
    let policy = Policy::parse("learned.toml", &text).unwrap_or_else(|e| panic!("{e}\n{text}"));
    assert!(policy
        .role_rule("arn:aws:iam::111111111111:role/ci/deploy-prod")
        .is_some());
    // Scanning the same history under the learned policy flags none of it
    // on the policy's lists.
    let cfg = Config {
        sources: vec![repo_path("tests/data/trust")],
        policy,
        ingest: IngestOptions::default(),
        rules: None,
        queries: builtin_queries(),
        allow_partial: false,
        ..Default::default()
    };
    let report = pipeline::run(&cfg).unwrap().report;
    for rule in [
        "untrusted-repository",
        "unexpected-ref",
        "unexpected-environment",
        "unexpected-workflow",
        "untrusted-issuer",
        "audience-mismatch",
    ] {
        let hits: Vec<&str> = report
            .findings
            .iter()
            .filter(|f| f.rule == rule)
            .map(|f| f.message.as_str())
            .collect();
        assert!(hits.is_empty(), "{rule}: {hits:?}");
    }
}
