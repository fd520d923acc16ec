//! `static-key-in-ci`: a long-term IAM user key was used from CI.
//!
//! ## What it detects
//! A key (`AKIA...`, of an IAM user or the root user) with at least one
//! link to CI seen in the trail: used from the address of a federated CI
//! session while that session lived (the key is used *inside that job*),
//! from an address in the given CI ranges (GitHub's meta API, `[ci]
//! cidrs`), or with a user agent only CI produces (`[ci] user_agents`).
//! A `[[static_key]]` declaration alone is not use, and raises nothing here.
//!
//! ## Why it matters
//! The migration to workload identity is not finished while a pipeline
//! still holds a key that never expires. When the same job also federates,
//! the key is left over: the pipeline already has the short-lived path.

use std::borrow::Cow;

use crate::detect::keys::{key_finding, key_name, last_use_text, KEY_SOURCES};
use crate::model::fingerprint::fingerprint;
use crate::model::keys::{KeyReport, LinkKind};
use crate::model::rule::{Rule, RuleKind};
use crate::model::{Finding, Severity};
use crate::rule_list;

pub static RULE: Rule = Rule {
    id: Cow::Borrowed("static-key-in-ci"),
    severity: Severity::High,
    title: Cow::Borrowed("A long-term access key is used from CI"),
    description: Cow::Borrowed("A long-term IAM user (or root) access key was used from CI: from the runner of a federated CI session while that session lived (the finding names the job), from an address in the CI ranges given (GitHub's meta API, [ci] cidrs), or with a user agent only CI produces ([ci] user_agents). When the same repository also federates, the pipeline has both: the key is left over and can go. The AWS CLI, SDKs and Terraform alone are not CI evidence."),
    references: rule_list![
        "https://docs.aws.amazon.com/IAM/latest/UserGuide/best-practices.html#bp-workloads-use-roles",
        "https://docs.github.com/en/actions/security-for-github-actions/security-hardening-your-deployments/configuring-openid-connect-in-amazon-web-services",
    ],
    source: Cow::Borrowed("src/detect/rules/static_key_in_ci.rs"),
    needs: Cow::Borrowed("CloudTrail calls made with long-term keys; for the strongest link, federated CI sessions in the same input; CI address ranges (GitHub meta API output, [ci] cidrs) for the address link"),
    sources: KEY_SOURCES,
    identity: rule_list!["evidence.access_key_id"],
    kind: RuleKind::Run,
};

pub fn check(keys: &KeyReport) -> Vec<Finding> {
    let mut out = Vec::new();
    for r in &keys.rows {
        let Some(strongest) = r.observed_ci_link() else {
            continue;
        };
        let mut f = key_finding(r, &RULE, RULE.severity);
        f.time = r.last_used_in_trail;
        let how = match strongest.kind {
            LinkKind::SameRunner => {
                let job = r
                    .links
                    .iter()
                    .find(|l| l.kind == LinkKind::SameRunner && l.session_key.is_some())
                    .and_then(|l| l.session_key.as_deref())
                    .and_then(|k| keys_session(r, k));
                format!(
                    "inside a CI job: {}",
                    job.unwrap_or_else(|| strongest.detail.clone())
                )
            }
            _ => format!("from CI: {}", strongest.detail),
        };
        let both = if r.federating_repositories.is_empty() {
            String::new()
        } else {
            format!(
                " {} also federates in this input: the pipeline has both, so the key is left over.",
                r.federating_repositories.join(", ")
            )
        };
        f.message = format!(
            "{} was used {how} ({} calls, last {}).{both}",
            key_name(r),
            r.calls,
            last_use_text(r),
        );
        f.evidence.insert(
            "strongest_link".into(),
            serde_json::json!(strongest.kind.as_str()),
        );
        if !r.federating_repositories.is_empty() {
            f.evidence.insert(
                "also_federates".into(),
                serde_json::json!(r.federating_repositories),
            );
        }
        f.fingerprint = fingerprint(&f, &RULE.identity);
        out.push(f);
    }
    out
}

/// The same-runner link's sentence for session `key`.
fn keys_session(r: &crate::model::keys::KeyRow, key: &str) -> Option<String> {
    r.links
        .iter()
        .find(|l| l.session_key.as_deref() == Some(key))
        .map(|l| l.detail.clone())
}
