//! `trust-no-subject-condition`: a federated statement that does not pin
//! the workload at all.
//!
//! ## What it detects
//! A web-identity `Allow` statement that admits a token from a repository
//! and owner it never names (rolecall builds such a token and evaluates
//! the policy on it), and has no positive condition on the subject or on
//! any claim that names the workload (`sub`, `repository`,
//! `repository_id`, `repository_owner`, `job_workflow_ref`, GitLab's
//! `project_path`, `namespace_path`...). Conditions on `aud`, `ref`,
//! `environment`, `actor` or `event_name` alone do not pin anything: every
//! repository has a `main` branch and can create a `production`
//! environment.
//!
//! ## Why it matters
//! For a shared issuer (`token.actions.githubusercontent.com`, `gitlab.com`,
//! `app.terraform.io`, `agent.buildkite.com`) anyone with an account can
//! mint a token that the role accepts. For a per-organization issuer
//! (CircleCI's `oidc.circleci.com/org/ID`, GitHub Enterprise Server) it is
//! every project of that organization; the finding says which.
//!
//! ## Example
//! `{"StringEquals": {"token.actions.githubusercontent.com:aud": "sts.amazonaws.com"}}`
//! and nothing else.
//!
//! A statement that pins only `repository` (or uses `repo:org/repo:*`) is
//! *not* this rule: the workload is pinned to one repository, and what it
//! still admits (any branch, pull requests) is `trust-wildcard-subject` and
//! `trust-pull-request-subject`. A statement that constrains
//! `repository_owner` only is `trust-wildcard-subject` (every repository of
//! that owner).

use std::borrow::Cow;

use super::{is_shared_issuer, trust_coverage, RoleView, StatementView, ROLE_NEEDS};
use crate::model::rule::{Rule, RuleKind};
use crate::model::{Finding, Severity};
use crate::rule_list;
use crate::trust::analyze::ANY_PROVIDER;

pub static RULE: Rule = Rule {
    id: Cow::Borrowed("trust-no-subject-condition"),
    severity: Severity::Critical,
    title: Cow::Borrowed("Trust policy does not pin the workload"),
    description: Cow::Borrowed("A federated statement with no condition on the subject or on any claim naming the workload (repository, repository id or owner, job_workflow_ref, GitLab project path...): every workload of the issuer can assume the role. Conditions on aud, ref, environment or actor alone pin nothing. Pinning only the repository is trust-wildcard-subject, not this rule."),
    references: rule_list!["https://docs.github.com/en/actions/security-for-github-actions/security-hardening-your-deployments/configuring-openid-connect-in-amazon-web-services",
        "https://securitylabs.datadoghq.com/articles/exploring-github-to-aws-keyless-authentication-flaws/",],
    source: Cow::Borrowed("src/detect/rules/trust/no_subject_condition.rs"),
    needs: Cow::Borrowed(ROLE_NEEDS),
    sources: trust_coverage([true, false, false, false]),
    identity: rule_list!["role", "issuer", "evidence.statement"],
    kind: RuleKind::Trust,
};

pub fn check(view: &RoleView<'_>, statements: &[StatementView<'_>]) -> Vec<Finding> {
    let mut out = Vec::new();
    for s in statements {
        let b = &s.breadth;
        if !b.any_owner || !b.pinned_by.is_empty() {
            continue;
        }
        let mut f = view.statement_finding(&RULE, s);
        let who = if s.trusted.issuer == ANY_PROVIDER {
            "a token from any identity provider of the account".to_string()
        } else if is_shared_issuer(&s.trusted.issuer) {
            format!(
                "a token of any workload of {}, in any organization",
                s.issuer_label()
            )
        } else {
            f.severity = Severity::High;
            f.evidence.insert(
                "scope".into(),
                serde_json::json!(
                    "the issuer is per organization: only its own workloads can mint tokens"
                ),
            );
            format!(
                "a token of any workload of {} (its organization only)",
                s.issuer_label()
            )
        };
        f.message = format!(
            "{} of {} has no condition on the subject or on any claim naming the workload: it accepts {who}.",
            s.statement.label(),
            view.role
        );
        out.push(f);
    }
    out
}
