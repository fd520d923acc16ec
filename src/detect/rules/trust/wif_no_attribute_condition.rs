//! `wif-no-attribute-condition`: a GCP workload identity pool provider for
//! a CI issuer with no attribute condition.
//!
//! ## What it detects
//! An enabled OIDC pool provider whose issuer is a CI service (GitHub
//! Actions, GitLab, CircleCI, Buildkite, HCP Terraform) and whose
//! `attributeCondition` is empty.
//!
//! ## Why it matters
//! Without a condition every token of the issuer is exchanged for a
//! federated identity of the pool; whatever the pool's principals are
//! granted (`principalSet://.../attribute.repository/...` bindings narrow
//! it, but one broad binding or a later mistake opens it to everyone).
//! Google requires a condition for these issuers on new providers for the
//! same reason. Critical for shared issuers (anyone can mint a token);
//! high for per-organization issuers (CircleCI's org issuer, GitHub
//! Enterprise Server).
//!
//! ## Example
//! `gcloud iam workload-identity-pools providers create-oidc github
//! --issuer-uri=https://token.actions.githubusercontent.com
//! --attribute-mapping=google.subject=assertion.sub` (no
//! `--attribute-condition`).

use std::borrow::Cow;

use crate::model::rule::{Rule, RuleKind};
use crate::rule_list;
use serde_json::json;

use super::{is_shared_issuer, provider_name, trust_coverage};
use crate::model::subject::{provider_from_issuer, Provider};
use crate::model::{Finding, Severity};
use crate::trust::WifProvider;

pub static RULE: Rule = Rule {
    id: Cow::Borrowed("wif-no-attribute-condition"),
    severity: Severity::Critical,
    title: Cow::Borrowed("Workload identity pool provider without attribute condition"),
    description: Cow::Borrowed("A GCP workload identity pool provider that trusts a CI issuer (GitHub Actions, GitLab, CircleCI, Buildkite, HCP Terraform) with no attributeCondition: every token of the issuer becomes a pool identity. Critical for shared issuers, high for per-organization ones."),
    references: rule_list!["https://cloud.google.com/iam/docs/workload-identity-federation-with-deployment-pipelines#conditions",],
    source: Cow::Borrowed("src/detect/rules/trust/wif_no_attribute_condition.rs"),
    needs: Cow::Borrowed("GCP pool provider definitions (gcloud iam workload-identity-pools providers list --format=json)"),
    sources: trust_coverage([false, true, false, false]),
    identity: rule_list!["role"],
    kind: RuleKind::Trust,
};

pub fn check(providers: &[WifProvider], file: &dyn Fn(u32) -> String) -> Vec<Finding> {
    let mut out = Vec::new();
    for p in providers {
        let Some(issuer) = &p.issuer else { continue };
        let kind = match provider_from_issuer(issuer) {
            Some(Provider::Kubernetes) | Some(Provider::Generic) | None => continue,
            Some(k) => k,
        };
        if p.disabled || p.attribute_condition.is_some() {
            continue;
        }
        let mut f = Finding::new(&RULE.id, RULE.severity, &RULE.title);
        f.cloud = Some("gcp".into());
        f.account = p.name.split('/').nth(1).map(str::to_string);
        f.role = Some(p.name.clone());
        f.issuer = Some(issuer.clone());
        let who = if is_shared_issuer(issuer) {
            format!("any {} workload, in any organization", provider_name(kind))
        } else {
            f.severity = Severity::High;
            format!(
                "any {} workload of the issuer's organization",
                provider_name(kind)
            )
        };
        f.message = format!(
            "Pool provider {} trusts {issuer} with no attribute condition: {who} can exchange its token for this pool's identities.",
            p.name
        );
        f.evidence
            .insert("attribute_mapping".into(), json!(p.attribute_mapping));
        f.evidence
            .insert("allowed_audiences".into(), json!(p.allowed_audiences));
        f.evidence.insert(
            "source".into(),
            json!(format!("{} record {}", file(p.file), p.record)),
        );
        out.push(f);
    }
    out
}
