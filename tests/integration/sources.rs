//! GCP, Entra and Vault sessions through the same detections: for each
//! source a tier mismatch, an unexpected ref, and credentials used from a
//! second address.

use rolecall::detect::sql::builtin_queries;
use rolecall::ingest::IngestOptions;
use rolecall::model::{Finding, Report};
use rolecall::pipeline::{self, Config};
use rolecall::policy::Policy;
use serde_json::{json, Value};

use crate::common::{of, ts, T0};

fn run(files: &[(&str, String)], policy: &str) -> Report {
    let dir = tempfile::tempdir().unwrap();
    for (name, body) in files {
        std::fs::write(dir.path().join(name), body).unwrap();
    }
    let cfg = Config {
        sources: vec![dir.path().to_string_lossy().to_string()],
        policy: Policy::parse("policy.toml", policy).unwrap(),
        ingest: IngestOptions::default(),
        rules: None,
        queries: builtin_queries(),
        allow_partial: false,
        ..Default::default()
    };
    let report = pipeline::run(&cfg).unwrap().report;
    assert_eq!(
        report.summary.input_error_count, 0,
        "{:?}",
        report.summary.input_errors
    );
    report
}

fn ndjson(items: &[Value]) -> String {
    items
        .iter()
        .map(Value::to_string)
        .collect::<Vec<_>>()
        .join("\n")
        + "\n"
}

fn rules(f: &[Finding]) -> Vec<&str> {
    let mut r: Vec<&str> = f.iter().map(|x| x.rule.as_str()).collect();
    r.sort();
    r
}

// ---- GCP

const POOL: &str = "projects/123456/locations/global/workloadIdentityPools/github";

fn gcp_exchange(id: &str, at: i64, sub: &str, ip: &str) -> Value {
    json!({
        "insertId": id, "timestamp": ts(T0 + at), "logName": "projects/acme-prod/logs/cloudaudit.googleapis.com%2Fdata_access",
        "resource": {"type": "audited_resource", "labels": {"project_id": "acme-prod", "service": "sts.googleapis.com"}},
        "protoPayload": {
            "@type": "type.googleapis.com/google.cloud.audit.AuditLog", "serviceName": "sts.googleapis.com",
            "methodName": "google.identity.sts.v1.SecurityTokenService.ExchangeToken",
            "authenticationInfo": {"principalSubject": sub},
            "requestMetadata": {"callerIp": ip, "callerSuppliedUserAgent": "google-github-actions/auth"},
            "resourceName": format!("{POOL}/providers/gh"),
            "request": {"audience": format!("//iam.googleapis.com/{POOL}/providers/gh"), "grantType": "urn:ietf:params:oauth:grant-type:token-exchange"},
            "metadata": {"mapped_principal": format!("principal://iam.googleapis.com/{POOL}/subject/{sub}")},
            "status": {}
        }
    })
}

fn gcp_call(id: &str, at: i64, sub: &str, ip: &str, method: &str, sa: Option<&str>) -> Value {
    let principal = format!("principal://iam.googleapis.com/{POOL}/subject/{sub}");
    let (auth, resource) = match sa {
        Some(email) => (
            json!({"principalSubject": principal}),
            json!({"type": "service_account", "labels": {"email_id": email, "project_id": "acme-prod"}}),
        ),
        None => (
            json!({"principalEmail": "deploy-prod@acme-prod.iam.gserviceaccount.com",
                   "serviceAccountDelegationInfo": [{"principalSubject": principal}]}),
            json!({"type": "gcs_bucket", "labels": {"project_id": "acme-prod"}}),
        ),
    };
    json!({
        "insertId": id, "timestamp": ts(T0 + at), "logName": "projects/acme-prod/logs/cloudaudit.googleapis.com%2Factivity",
        "resource": resource,
        "protoPayload": {"@type": "type.googleapis.com/google.cloud.audit.AuditLog",
            "serviceName": if sa.is_some() {
                "iamcredentials.googleapis.com"
            } else if method.starts_with("google.iam.") {
                "iam.googleapis.com"
            } else {
                "storage.googleapis.com"
            },
            "methodName": method, "authenticationInfo": auth,
            "requestMetadata": {"callerIp": ip}, "resourceName": "projects/_/buckets/acme-artifacts"}
    })
}

const GCP_POLICY: &str = r#"
[[gcp_provider]]
name = "projects/123456/locations/global/workloadIdentityPools/github/providers/*"
issuer = "https://token.actions.githubusercontent.com"
"#;

#[test]
fn gcp_sessions_are_judged_like_any_other() {
    let staging = "repo:acme/web:environment:staging";
    let feature = "repo:acme/web:ref:refs/heads/feature-x";
    let sa = Some("deploy-prod@acme-prod.iam.gserviceaccount.com");
    let entries = vec![
        gcp_exchange("x1", 100, staging, "34.1.2.3"),
        gcp_call("c1", 105, staging, "34.1.2.3", "GenerateAccessToken", sa),
        gcp_call(
            "c2",
            160,
            staging,
            "34.1.2.3",
            "storage.objects.create",
            None,
        ),
        gcp_call(
            "c3",
            220,
            staging,
            "185.220.101.34",
            "storage.objects.get",
            None,
        ),
        gcp_exchange("x2", 5000, feature, "34.9.9.9"),
        gcp_call("c4", 5005, feature, "34.9.9.9", "GenerateAccessToken", sa),
        gcp_call(
            "c5",
            5100,
            feature,
            "34.9.9.9",
            "google.iam.admin.v1.CreateServiceAccountKey",
            None,
        ),
        // Long after both tokens expired: not a session's call.
        gcp_call(
            "c6",
            20000,
            feature,
            "203.0.113.7",
            "storage.objects.get",
            None,
        ),
    ];
    let r = run(&[("gcs-sink.json", ndjson(&entries))], GCP_POLICY);
    assert_eq!(r.sessions.len(), 2);
    assert_eq!(
        r.sessions[0].role_arn.as_deref(),
        Some("deploy-prod@acme-prod.iam.gserviceaccount.com")
    );
    assert_eq!(r.sessions[0].calls, 3, "linked by principal and time");
    assert_eq!(
        r.assumptions[0].issuer.as_deref(),
        Some("https://token.actions.githubusercontent.com")
    );
    assert!(!r.assumptions[0].issuer_inferred);
    assert_eq!(
        rules(&r.findings),
        vec![
            "credential-ip-drift",
            "sensitive-action",
            "tier-mismatch",
            "unexpected-ref"
        ],
        "{:#?}",
        r.findings
    );
    let drift = &of(&r.findings, "credential-ip-drift")[0];
    assert_eq!(drift.source_ip.as_deref(), Some("185.220.101.34"));
    assert_eq!(drift.cloud.as_deref(), Some("gcp"));
    assert!(
        r.summary
            .notes
            .iter()
            .any(|n| n.starts_with("1 call was made by federated sessions")),
        "{:?}",
        r.summary.notes
    );
}

#[test]
fn gcp_issuer_inferred_from_the_subject_is_not_judged_as_untrusted() {
    let entries = vec![gcp_exchange(
        "x1",
        100,
        "repo:acme/web:ref:refs/heads/main",
        "34.1.2.3",
    )];
    let r = run(
        &[("sink.json", ndjson(&entries))],
        "[[issuer]]\nurl = \"https://gitlab.com\"\n",
    );
    assert!(r.assumptions[0].issuer_inferred);
    assert!(of(&r.findings, "untrusted-issuer").is_empty());
    assert!(r
        .summary
        .unchecked
        .iter()
        .any(|u| u.rule == "untrusted-issuer" && u.reason.contains("[[gcp_provider]]")));
}

// ---- Entra

fn signin(id: &str, at: i64, fic: &str, uti: &str, ip: &str, error: i64) -> Value {
    json!({
        "time": ts(T0 + at), "resourceId": "/tenants/tenant-1/providers/Microsoft.aadiam", "operationName": "Sign-in activity",
        "category": "ServicePrincipalSignInLogs", "tenantId": "tenant-1", "resultType": error.to_string(), "callerIpAddress": ip,
        "properties": {"id": id, "createdDateTime": ts(T0 + at), "appId": "0a1b2c3d-app", "servicePrincipalName": "deploy-prod",
            "servicePrincipalId": "sp-1", "ipAddress": ip, "status": {"errorCode": error}, "clientCredentialType": "federatedIdentityCredential",
            "federatedCredentialId": fic, "uniqueTokenIdentifier": uti, "resourceDisplayName": "Azure Resource Manager"}
    })
}

fn activity(id: &str, at: i64, uti: &str, ip: &str, operation: &str) -> Value {
    json!({
        "time": ts(T0 + at), "resourceId": "/subscriptions/sub-1/resourceGroups/rg/providers/Microsoft.Web/sites/app",
        "operationName": operation, "category": "Administrative", "resultType": "Success", "callerIpAddress": ip,
        "correlationId": id, "identity": {"claims": {"appid": "0a1b2c3d-app", "uti": uti, "tid": "tenant-1"}},
        "properties": {"eventDataId": id}
    })
}

#[test]
fn entra_sessions_are_judged_like_any_other() {
    let credentials = json!([
        {"id": "fic-1", "name": "github-staging", "issuer": "https://token.actions.githubusercontent.com",
         "subject": "repo:acme/web:environment:staging", "audiences": ["api://AzureADTokenExchange"]},
        {"id": "fic-2", "name": "github-feature", "issuer": "https://token.actions.githubusercontent.com",
         "subject": "repo:acme/web:ref:refs/heads/feature-x", "audiences": ["api://AzureADTokenExchange"]}
    ]);
    let signins = json!({"records": [
        signin("s1", 100, "fic-1", "uti-1", "20.1.1.1", 0),
        signin("s2", 5000, "fic-2", "uti-2", "20.9.9.9", 0),
    ]});
    let activity = ndjson(&[
        activity("a1", 150, "uti-1", "20.1.1.1", "MICROSOFT.WEB/SITES/WRITE"),
        activity(
            "a2",
            200,
            "uti-1",
            "185.220.101.34",
            "MICROSOFT.AUTHORIZATION/ROLEASSIGNMENTS/WRITE",
        ),
    ]);
    let r = run(
        &[
            ("fic.json", credentials.to_string()),
            ("signins.json", signins.to_string()),
            ("activity.ndjson", activity),
        ],
        "",
    );
    assert_eq!(r.sessions.len(), 2);
    assert_eq!(
        r.assumptions[0].subject.as_deref(),
        Some("repo:acme/web:environment:staging")
    );
    assert_eq!(r.sessions[0].calls, 2);
    assert_eq!(
        rules(&r.findings),
        vec![
            "credential-ip-drift",
            "sensitive-action",
            "tier-mismatch",
            "unexpected-ref"
        ],
        "{:#?}",
        r.findings
    );
    assert!(
        of(&r.findings, "sensitive-action")[0].evidence["action"]
            == "microsoft.authorization/roleassignments/write"
    );
}

#[test]
fn entra_failed_federated_sign_ins_feed_the_failure_burst() {
    let records: Vec<Value> = (0..5)
        .map(|i| {
            signin(
                &format!("f{i}"),
                100 + i * 30,
                "",
                "",
                "198.51.100.9",
                70021,
            )
        })
        .collect();
    let r = run(&[("signins.ndjson", ndjson(&records))], "");
    assert_eq!(r.summary.exchanges.failed, 5);
    assert_eq!(of(&r.findings, "assume-failure-burst").len(), 1);
}

// ---- Vault

fn vault_login(at: i64, accessor: &str, ip: &str, metadata: Value) -> Vec<Value> {
    let request = json!({"id": format!("req-{accessor}"), "operation": "update", "mount_type": "jwt", "mount_point": "auth/jwt/",
        "path": "auth/jwt/login", "remote_address": ip, "namespace": {"id": "root"}});
    vec![
        json!({"time": ts(T0 + at), "type": "request", "auth": {}, "request": request}),
        json!({"time": ts(T0 + at), "type": "response", "request": request,
            "response": {"auth": {"accessor": accessor, "client_token": "hmac-sha256:tok", "display_name": "jwt-repo:acme/web",
                "metadata": metadata, "token_ttl": 1200, "policies": ["deploy"]}}}),
    ]
}

fn vault_request(at: i64, accessor: &str, ip: &str, op: &str, path: &str) -> Value {
    json!({"time": ts(T0 + at), "type": "request",
        "auth": {"accessor": accessor, "display_name": "jwt-repo:acme/web", "metadata": {"role": "deploy-prod"}, "token_type": "service"},
        "request": {"id": format!("r{at}"), "operation": op, "path": path, "remote_address": ip, "namespace": {"id": "root"}}})
}

#[test]
fn vault_sessions_are_judged_like_any_other() {
    let mut lines = vault_login(
        100,
        "hmac-sha256:acc1",
        "20.2.2.2",
        json!({"role": "deploy-prod", "project_path": "acme/web", "ref": "main", "ref_type": "branch", "environment": "staging"}),
    );
    lines.push(vault_request(
        150,
        "hmac-sha256:acc1",
        "20.2.2.2",
        "read",
        "secret/data/deploy",
    ));
    lines.push(vault_request(
        210,
        "hmac-sha256:acc1",
        "185.220.101.34",
        "read",
        "secret/data/deploy",
    ));
    lines.extend(vault_login(5000, "hmac-sha256:acc2", "20.3.3.3",
        json!({"role": "deploy-prod", "project_path": "acme/web", "ref": "feature-x", "ref_type": "branch", "environment": "production"})));
    lines.push(vault_request(
        5050,
        "hmac-sha256:acc2",
        "20.3.3.3",
        "delete",
        "sys/audit/file",
    ));
    // Pretty-printed and concatenated, as the file audit device can be read back.
    let body = lines
        .iter()
        .map(|v| serde_json::to_string_pretty(v).unwrap())
        .collect::<Vec<_>>()
        .join("\n");
    let r = run(&[("vault_audit.log", body)], "");
    assert_eq!(r.sessions.len(), 2);
    assert_eq!(
        r.sessions[0].repository.value.as_deref(),
        Some("acme/web"),
        "from the role's claim mappings"
    );
    assert_eq!(
        rules(&r.findings),
        vec![
            "credential-ip-drift",
            "sensitive-action",
            "tier-mismatch",
            "unexpected-ref"
        ],
        "{:#?}",
        r.findings
    );
    assert_eq!(
        of(&r.findings, "sensitive-action")[0].evidence["category"],
        "audit-tampering"
    );
}

#[test]
fn rules_say_what_each_source_can_be_judged_on() {
    let o = crate::common::rolecall(&["rules", "--format", "json"]);
    let rules: Value = serde_json::from_str(&crate::common::stdout(&o)).unwrap();
    let duration = rules
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["id"] == "excessive-duration")
        .unwrap();
    let azure = duration["sources"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["source"] == "azure")
        .unwrap();
    assert_eq!(azure["applies"], false);
    assert!(azure["note"]
        .as_str()
        .unwrap()
        .contains("no token lifetime"));
}

#[test]
fn log_analytics_and_gcloud_array_shapes() {
    // AADServicePrincipalSignInLogs and AzureActivity as Log Analytics exports them.
    let signin = json!({"TimeGenerated": ts(T0 + 100), "Type": "AADServicePrincipalSignInLogs", "Id": "la-1", "AppId": "app-9",
        "ServicePrincipalName": "deploy-prod", "ServicePrincipalId": "sp-9", "IPAddress": "20.4.4.4", "ResultType": "0",
        "ClientCredentialType": "federatedIdentityCredential", "FederatedCredentialId": "fic-9", "UniqueTokenIdentifier": "uti-9",
        "TenantId": "tenant-1", "ResourceDisplayName": "Azure Resource Manager"});
    let act = json!({"TimeGenerated": ts(T0 + 160), "Type": "AzureActivity", "OperationNameValue": "MICROSOFT.WEB/SITES/WRITE",
        "CallerIpAddress": "20.4.4.4", "ActivityStatusValue": "Success", "EventDataId": "ev-9", "ResourceId": "/subscriptions/s/x",
        "Claims": "{\"appid\":\"app-9\",\"uti\":\"uti-9\"}"});
    let fic = json!({"value": [{"id": "fic-9", "name": "gh", "issuer": "https://token.actions.githubusercontent.com",
        "subject": "repo:acme/web:ref:refs/heads/main", "audiences": ["api://AzureADTokenExchange"]}]});
    let gcloud = json!([gcp_exchange(
        "g1",
        100,
        "repo:acme/web:ref:refs/heads/main",
        "34.1.2.3"
    )]);
    let r = run(
        &[
            ("la.ndjson", ndjson(&[signin, act])),
            ("graph.json", fic.to_string()),
            (
                "gcloud.json",
                serde_json::to_string_pretty(&gcloud).unwrap(),
            ),
        ],
        GCP_POLICY,
    );
    assert_eq!(r.sessions.len(), 2);
    let azure = r
        .sessions
        .iter()
        .find(|s| r.assumptions[s.assumption].cloud == "azure")
        .unwrap();
    assert_eq!(azure.calls, 1);
    assert_eq!(azure.git_ref.value.as_deref(), Some("refs/heads/main"));
    assert!(r.findings.is_empty(), "{:#?}", r.findings);
}

#[test]
fn overlapping_gcp_sessions_of_one_principal_are_not_mistaken_for_drift() {
    // Two runs of main, same subject, overlapping, from two runners.
    let sub = "repo:acme/web:ref:refs/heads/main";
    let entries = vec![
        gcp_exchange("x1", 100, sub, "34.1.1.1"),
        gcp_exchange("x2", 160, sub, "34.2.2.2"),
        gcp_call("c1", 200, sub, "34.1.1.1", "storage.objects.get", None),
        gcp_call("c2", 210, sub, "34.2.2.2", "storage.objects.get", None),
        gcp_call("c3", 220, sub, "34.1.1.1", "storage.objects.create", None),
    ];
    let r = run(&[("sink.json", ndjson(&entries))], GCP_POLICY);
    assert_eq!((r.sessions[0].calls, r.sessions[1].calls), (2, 1));
    assert!(
        of(&r.findings, "credential-ip-drift").is_empty(),
        "{:#?}",
        r.findings
    );
    // A third address is foreign to both: drift.
    let mut more = entries.clone();
    more.push(gcp_call(
        "c4",
        230,
        sub,
        "185.220.101.34",
        "storage.objects.get",
        None,
    ));
    let r = run(&[("sink.json", ndjson(&more))], GCP_POLICY);
    assert_eq!(of(&r.findings, "credential-ip-drift").len(), 1);
}

#[test]
fn entra_activity_without_a_uti_links_by_application_and_time() {
    let credentials = json!([{"id": "fic-1", "name": "gh", "issuer": "https://token.actions.githubusercontent.com",
        "subject": "repo:acme/web:ref:refs/heads/main", "audiences": ["api://AzureADTokenExchange"]}]);
    let signins = json!({"records": [signin("s1", 100, "fic-1", "uti-1", "20.1.1.1", 0)]});
    let mut late = activity(
        "a1",
        400,
        "ignored",
        "20.1.1.1",
        "MICROSOFT.WEB/SITES/WRITE",
    );
    late["identity"]["claims"]
        .as_object_mut()
        .unwrap()
        .remove("uti");
    let mut outside = activity(
        "a2",
        9000,
        "ignored",
        "20.1.1.1",
        "MICROSOFT.WEB/SITES/WRITE",
    );
    outside["identity"]["claims"]
        .as_object_mut()
        .unwrap()
        .remove("uti");
    let r = run(
        &[
            ("fic.json", credentials.to_string()),
            ("s.json", signins.to_string()),
            ("a.ndjson", ndjson(&[late, outside])),
        ],
        "",
    );
    assert_eq!(r.sessions[0].calls, 1, "within the hour, not after it");
}
