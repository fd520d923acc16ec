//! `trust-stringlike-without-wildcard`: `StringLike` where `StringEquals`
//! is meant.
//!
//! ## What it detects
//! A `StringLike` or `StringNotLike` value, on a claim of a web-identity
//! statement, that contains no `*` or `?`.
//!
//! ## Why it matters
//! It matches exactly, so nothing is wrong today; but `StringLike` is where
//! a later edit adds a wildcard without anyone noticing the operator
//! allowed it, and readers cannot tell whether a pattern was intended.
//! Low severity: a hygiene finding.
//!
//! ## Example
//! `{"StringLike": {"gitlab.com:sub": "project_path:acme/infra:ref_type:branch:ref:main"}}`

use std::borrow::Cow;

use crate::model::rule::{Rule, RuleKind};
use crate::rule_list;
use serde_json::json;

use super::{trust_coverage, RoleView, StatementView, ROLE_NEEDS};
use crate::model::{Finding, Severity};
use crate::trust::analyze::{claim_conditions, like_without_wildcard};

pub static RULE: Rule = Rule {
    id: Cow::Borrowed("trust-stringlike-without-wildcard"),
    severity: Severity::Low,
    title: Cow::Borrowed("StringLike without a wildcard"),
    description: Cow::Borrowed("A StringLike (or StringNotLike) value with no * or ? on a token claim: it compares exactly, as StringEquals would, but leaves room for a wildcard to slip in unnoticed."),
    references: rule_list!["https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_condition_operators.html#Conditions_String"],
    source: Cow::Borrowed("src/detect/rules/trust/stringlike_without_wildcard.rs"),
    needs: Cow::Borrowed(ROLE_NEEDS),
    sources: trust_coverage([true, false, false, false]),
    identity: rule_list!["role", "evidence.statement", "evidence.key", "evidence.values"],
    kind: RuleKind::Trust,
};

pub fn check(view: &RoleView<'_>, statements: &[StatementView<'_>]) -> Vec<Finding> {
    let mut out = Vec::new();
    for s in statements {
        for (_, c) in claim_conditions(s.statement, &s.trusted.issuer) {
            let values = like_without_wildcard(c);
            if values.is_empty() {
                continue;
            }
            let mut f = view.statement_finding(&RULE, s);
            f.evidence.insert("key".into(), json!(c.key));
            f.evidence.insert("operator".into(), json!(c.operator.raw));
            f.evidence.insert("values".into(), json!(values));
            let exact = if c.operator.base.negated() {
                "StringNotEquals"
            } else {
                "StringEquals"
            };
            f.message = format!(
                "{} of {} uses `{}` on `{}` with no wildcard in {}: `{exact}` says what is meant.",
                s.statement.label(),
                view.role,
                c.operator.raw,
                c.key,
                values
                    .iter()
                    .map(|v| format!("`{v}`"))
                    .collect::<Vec<_>>()
                    .join(", ")
            );
            out.push(f);
        }
    }
    out
}
