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
    assert_eq!(prod.document.statements[0].sid.as_deref(), Some("GitHubDeploy"));
    assert_eq!(prod.record, 0);
    // deploy-dev's document is a plain object in the fixture.
    let dev = b.trust.roles.iter().find(|r| r.name == "deploy-dev").unwrap();
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
    let names: Vec<(&str, bool)> = b.trust.roles.iter().map(|r| (r.role.as_str(), r.bare)).collect();
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
    assert!(b.federated_credentials[0].claims_matching_expression.is_some());
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
        has("bare.json", "trust policy document: `Statement` is a string"),
        "{errors:?}"
    );
    assert_eq!(errors.len(), 5, "{errors:?}");
    // The good role of the bad file, and the good file, came through.
    let roles: Vec<&str> = b.trust.roles.iter().map(|r| r.role.as_str()).collect();
    assert_eq!(roles, vec!["arn:aws:iam::1:role/fine", "terraform-plan"]);
}
