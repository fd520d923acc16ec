//! `trust-forallvalues-single-claim`: `ForAllValues:` on a claim that is a
//! single value.
//!
//! ## What it detects
//! A condition in a web-identity `Allow` statement whose operator starts
//! with `ForAllValues:` on a claim tokens carry as one value (`sub`,
//! `environment`, `ref`, `repository`...; every claim but list claims such
//! as `amr`).
//!
//! ## Why it matters
//! `ForAllValues:` is true when the key is missing. `ForAllValues:StringEquals`
//! on `environment` reads as "only the production environment" and admits
//! every job that names no environment at all, which is most of them; a
//! misspelled claim name is missing for every token. AWS's own guidance:
//! do not use set operators on single-valued keys.
//!
//! ## Example
//! `{"ForAllValues:StringEquals": {"token.actions.githubusercontent.com:environment": "production"}}`

use std::borrow::Cow;

use crate::model::rule::{Rule, RuleKind};
use crate::rule_list;
use serde_json::json;

use super::{trust_coverage, RoleView, StatementView, ROLE_NEEDS};
use crate::model::{Finding, Severity};
use crate::trust::analyze::{claim_conditions, forallvalues_on_single};

pub static RULE: Rule = Rule {
    id: Cow::Borrowed("trust-forallvalues-single-claim"),
    severity: Severity::High,
    title: Cow::Borrowed("ForAllValues on a single-valued claim"),
    description: Cow::Borrowed("A ForAllValues: condition on a claim tokens carry as a single value (sub, environment, ref, repository...). ForAllValues is true when the claim is missing, so the condition admits every token without the claim (and every token if the claim name is misspelled)."),
    references: rule_list!["https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_condition-single-vs-multi-valued-context-keys.html",],
    source: Cow::Borrowed("src/detect/rules/trust/forallvalues_single_claim.rs"),
    needs: Cow::Borrowed(ROLE_NEEDS),
    sources: trust_coverage([true, false, false, false]),
    identity: rule_list!["role", "evidence.statement", "evidence.key"],
    kind: RuleKind::Trust,
};

pub fn check(view: &RoleView<'_>, statements: &[StatementView<'_>]) -> Vec<Finding> {
    let mut out = Vec::new();
    for s in statements {
        for (claim, c) in claim_conditions(s.statement, &s.trusted.issuer) {
            if !forallvalues_on_single(&claim, c) {
                continue;
            }
            let mut f = view.statement_finding(&RULE, s);
            f.evidence.insert("key".into(), json!(c.key));
            f.evidence.insert("operator".into(), json!(c.operator.raw));
            f.evidence.insert("values".into(), json!(c.values));
            f.message = format!(
                "{} of {} uses `{}` on `{}`, a single-valued claim: the condition also holds for every token that has no `{claim}` claim.",
                s.statement.label(),
                view.role,
                c.operator.raw,
                c.key
            );
            out.push(f);
        }
    }
    out
}
