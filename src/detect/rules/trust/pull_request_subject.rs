//! `trust-pull-request-subject`: a production or staging role that a
//! pull-request run can assume.
//!
//! ## What it detects
//! The statement admits a token minted for a pull-request run (GitHub's
//! `repo:ORG/REPO:pull_request` subject with `event_name` `pull_request`,
//! GitLab's `merge_request_event` pipelines), whether it says so
//! (`repo:acme/web:pull_request`) or a pattern covers it (`repo:acme/web:*`,
//! `repository` alone), and no deny or condition excludes it.
//!
//! ## Why it matters
//! Pull-request code is unreviewed: anyone who can open a pull request
//! from a branch of the repository runs it with the role. Only roles whose
//! tier is production or staging (from the policy, else the role's name)
//! are high; a role of unknown tier gets an `info` finding that says the
//! tier is unknown, and development roles are not judged.
//!
//! ## Example
//! `"StringLike": {"token.actions.githubusercontent.com:sub": "repo:acme/web:*"}`
//! on `deploy-prod`.

use std::borrow::Cow;

use crate::model::rule::{Rule, RuleKind};
use crate::rule_list;
use serde_json::json;

use super::{trust_coverage, RoleView, StatementView};
use crate::model::{Finding, Severity};

pub static RULE: Rule = Rule {
    id: Cow::Borrowed("trust-pull-request-subject"),
    severity: Severity::High,
    title: Cow::Borrowed("Deploy role admits pull-request runs"),
    description: Cow::Borrowed("A production- or staging-tier role whose trust policy admits tokens of pull-request runs (repo:o/r:pull_request, or a pattern such as repo:o/r:* that covers it). Pull-request code is unreviewed. A role of unknown tier gets an info finding naming the tier as unknown; development roles are not judged."),
    references: rule_list!["https://docs.github.com/en/actions/security-for-github-actions/security-hardening-your-deployments/about-security-hardening-with-openid-connect#filtering-for-pull_request-events",],
    source: Cow::Borrowed("src/detect/rules/trust/pull_request_subject.rs"),
    needs: Cow::Borrowed("a role trust policy, and the role's tier (policy [[role]] tier, or its name)"),
    sources: trust_coverage([true, false, false, false]),
    identity: rule_list!["role", "issuer", "evidence.statement"],
    kind: RuleKind::Trust,
};

pub fn check(view: &RoleView<'_>, statements: &[StatementView<'_>]) -> Vec<Finding> {
    let mut out = Vec::new();
    for s in statements {
        let b = &s.breadth;
        if b.pull_requests_from.is_empty() {
            continue;
        }
        let Some(severity) = view.deploy_severity(Severity::High) else {
            continue;
        };
        let mut f = view.statement_finding(&RULE, s);
        f.severity = severity;
        f.trigger = Some("pull_request".into());
        let from: Vec<String> = b
            .pull_requests_from
            .iter()
            .map(|r| {
                if r == "*" {
                    "any repository".to_string()
                } else {
                    format!("`{r}`")
                }
            })
            .collect();
        f.evidence
            .insert("pull_requests_from".into(), json!(b.pull_requests_from));
        let what = if severity == Severity::Info {
            f.evidence.insert(
                "tier".into(),
                json!("unknown: give the role a tier in the policy ([[role]] tier) to have this judged"),
            );
            "a role of unknown tier"
        } else {
            "a deploy role"
        };
        f.message = format!(
            "{} of {} ({}) admits pull-request runs of {}: unreviewed code can assume {what}.",
            s.statement.label(),
            view.role,
            view.tier_text(),
            from.join(", ")
        );
        out.push(f);
    }
    out
}
