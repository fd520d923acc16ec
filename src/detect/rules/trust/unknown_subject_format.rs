//! `trust-unknown-subject-format`: a subject pattern no token of the
//! provider can have.
//!
//! ## What it detects
//! A positive condition on `sub` whose value matches none of the
//! provider's subject formats: GitHub's `repo:OWNER/REPO:` followed by
//! `ref:refs/...`, `environment:NAME` or `pull_request` (or the keys of a
//! customized template: `job_workflow_ref`, `context`, `repository_owner`...),
//! GitLab's `project_path:GROUP/PROJECT:ref_type:branch|tag:ref:NAME`,
//! CircleCI's `org/ID/project/ID/...`, Buildkite's and HCP Terraform's
//! `organization:...`. Under `StringEquals`, `*` and `?` are plain
//! characters, so `repo:acme/web:*` written with `StringEquals` is also
//! unknown. Generic issuers are not judged.
//!
//! ## Why it matters
//! The statement admits nothing through that value (a dead branch of the
//! policy, often a botched attempt at a wildcard or a template change that
//! left the policy behind), or, after a subject customization, something
//! other than what its author read. Either way the policy does not say what
//! it appears to.
//!
//! ## Example
//! `"StringEquals": {"token.actions.githubusercontent.com:sub": "acme/web:ref:refs/heads/main"}`
//! (missing `repo:`).

use std::borrow::Cow;

use crate::model::rule::{Rule, RuleKind};
use crate::rule_list;
use serde_json::json;

use super::{provider_name, trust_coverage, RoleView, StatementView, ROLE_NEEDS};
use crate::model::{Finding, Severity};
use crate::trust::analyze::{claim_conditions, is_positive, subject_format_known};
use crate::trust::condition::has_wildcard;

pub static RULE: Rule = Rule {
    id: Cow::Borrowed("trust-unknown-subject-format"),
    severity: Severity::Medium,
    title: Cow::Borrowed("Subject pattern matches no known subject format"),
    description: Cow::Borrowed("A sub condition value that no subject of the provider's formats (default or customized GitHub templates, GitLab, CircleCI, Buildkite, HCP Terraform) can match, such as a missing repo: prefix, a short ref, or a * under StringEquals (where it is literal). The statement admits nothing through it, or something other than intended."),
    references: rule_list!["https://docs.github.com/en/actions/security-for-github-actions/security-hardening-your-deployments/about-security-hardening-with-openid-connect#customizing-the-subject-claims-for-an-organization-or-repository",],
    source: Cow::Borrowed("src/detect/rules/trust/unknown_subject_format.rs"),
    needs: Cow::Borrowed(ROLE_NEEDS),
    sources: trust_coverage([true, false, false, false]),
    identity: rule_list!["role", "evidence.statement", "evidence.value"],
    kind: RuleKind::Trust,
};

pub fn check(view: &RoleView<'_>, statements: &[StatementView<'_>]) -> Vec<Finding> {
    let mut out = Vec::new();
    for s in statements {
        let Some(provider) = s.trusted.provider else {
            continue;
        };
        for (claim, c) in claim_conditions(s.statement, &s.trusted.issuer) {
            if claim != "sub" || !is_positive(c) {
                continue;
            }
            let wildcards = c.operator.base.wildcards();
            for v in &c.values {
                if subject_format_known(Some(provider), v, wildcards) != Some(false) {
                    continue;
                }
                let literal = if !wildcards && has_wildcard(v) {
                    format!(
                        " (`{}` compares literally: `*` and `?` are not wildcards there)",
                        c.operator.raw
                    )
                } else {
                    String::new()
                };
                let mut f = view.statement_finding(&RULE, s);
                f.subject = Some(v.clone());
                f.evidence.insert("key".into(), json!(c.key));
                f.evidence.insert("operator".into(), json!(c.operator.raw));
                f.evidence.insert("value".into(), json!(v));
                f.message = format!(
                    "{} of {} compares `sub` with `{v}`, which matches no {} subject format{literal}: the statement admits nothing through it.",
                    s.statement.label(),
                    view.role,
                    provider_name(provider)
                );
                out.push(f);
            }
        }
    }
    out
}
