//! `trust-wildcard-subject`: a subject condition that admits more
//! workloads than it names.
//!
//! ## What it detects
//! Found by probing the statement (see `crate::trust::analyze`):
//! - it admits repositories of *any* owner although it has a condition on
//!   the workload (`repo:*`, `*`, a `job_workflow_ref` alone: a reusable
//!   workflow can be called from any repository allowed to use it);
//! - it admits *every* repository of an owner (`repo:acme/*`,
//!   `repo:acme/app-*`, `repository_owner` alone);
//! - for a deploy role (production or staging tier), it admits any branch
//!   or any environment of a repository (`repo:acme/web:*`,
//!   `repo:acme/web:ref:refs/heads/*`, `repository` alone).
//!
//! ## Why it matters
//! Anyone who can create a repository in the organization, or push a
//! branch, gets the role. For roles of unknown tier the branch breadth is
//! reported at `info` with the tier named unknown (say the tier in the
//! policy to have it judged); development roles are not judged on it.
//!
//! ## Example
//! `{"StringLike": {"token.actions.githubusercontent.com:sub": "repo:acme/*"}}`

use std::borrow::Cow;

use crate::model::rule::{Rule, RuleKind};
use crate::rule_list;
use serde_json::json;

use super::{trust_coverage, RoleView, StatementView, ROLE_NEEDS};
use crate::model::{Finding, Severity};

pub static RULE: Rule = Rule {
    id: Cow::Borrowed("trust-wildcard-subject"),
    severity: Severity::High,
    title: Cow::Borrowed("Trust policy admits more workloads than it names"),
    description: Cow::Borrowed("A subject condition that admits any owner's repositories, every repository of an owner (repo:org/*, repository_owner alone), or, for a production or staging role, any branch or environment of a repository (repo:org/repo:*). Found by evaluating the policy on tokens it does not name. Roles of unknown tier get an info finding for branch breadth."),
    references: rule_list!["https://docs.github.com/en/actions/security-for-github-actions/security-hardening-your-deployments/about-security-hardening-with-openid-connect#example-subject-claims",
        "https://docs.aws.amazon.com/IAM/latest/UserGuide/id_roles_create_for-idp_oidc.html",],
    source: Cow::Borrowed("src/detect/rules/trust/wildcard_subject.rs"),
    needs: Cow::Borrowed(ROLE_NEEDS),
    sources: trust_coverage([true, false, false, false]),
    identity: rule_list!["role", "issuer", "evidence.statement", "evidence.breadth"],
    kind: RuleKind::Trust,
};

pub fn check(view: &RoleView<'_>, statements: &[StatementView<'_>]) -> Vec<Finding> {
    let mut out = Vec::new();
    for s in statements {
        let b = &s.breadth;
        let mut parts = Vec::new();
        let mut kinds = Vec::new();
        let mut severity = None;
        if b.any_owner && !b.pinned_by.is_empty() {
            let why = if b
                .pinned_by
                .iter()
                .all(|c| c == "job_workflow_ref" || c == "workflow_ref")
            {
                format!(
                    "its `{}` condition pins the workflow file, not the repository that runs it",
                    b.pinned_by.join("`, `")
                )
            } else {
                format!(
                    "its condition on `{}` does not narrow the owner",
                    b.pinned_by.join("`, `")
                )
            };
            parts.push(format!("admits repositories of any owner ({why})"));
            kinds.push("any-owner");
            severity = Some(Severity::High);
        }
        if !b.every_repository_of.is_empty() {
            parts.push(format!(
                "admits every repository of {}",
                b.every_repository_of
                    .iter()
                    .map(|o| format!("`{o}`"))
                    .collect::<Vec<_>>()
                    .join(", ")
            ));
            kinds.push("every-repository");
            severity = Some(Severity::High);
        }
        let mut runs = Vec::new();
        for r in &b.any_branch_of {
            runs.push(format!("any branch of `{r}`"));
        }
        for r in &b.any_environment_of {
            runs.push(format!("any environment of `{r}`"));
        }
        let mut tier_note = None;
        if !runs.is_empty() {
            if let Some(sev) = view.deploy_severity(Severity::High) {
                parts.push(format!(
                    "admits {} ({})",
                    runs.join(" and "),
                    view.tier_text()
                ));
                kinds.push("any-run");
                if sev == Severity::Info {
                    tier_note = Some("the role's tier is unknown: give it a tier in the policy ([[role]] tier) to have branch breadth judged");
                }
                severity = Some(severity.map_or(sev, |s: Severity| s.max(sev)));
            }
        }
        let Some(severity) = severity else { continue };
        let mut f = view.statement_finding(&RULE, s);
        f.severity = severity;
        f.evidence.insert("breadth".into(), json!(kinds));
        f.evidence.insert("admits".into(), json!(b));
        if let Some(n) = tier_note {
            f.evidence.insert("tier".into(), json!(n));
        }
        f.message = format!(
            "{} of {} {}.",
            s.statement.label(),
            view.role,
            parts.join("; ")
        );
        out.push(f);
    }
    out
}
