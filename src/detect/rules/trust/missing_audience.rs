//! `trust-missing-audience`: the statement does not check whom the token
//! was minted for.
//!
//! ## What it detects
//! A web-identity statement that admits a token with an audience it never
//! names (no `:aud` condition, `StringLike *`, `IfExists`...), or whose
//! audience condition admits none of the issuer's expected audiences:
//! the policy's `[[issuer]] audiences` when it lists them, else
//! `sts.amazonaws.com` for GitHub Actions (the audience
//! `configure-aws-credentials` requests). For other issuers the audience is
//! configurable and only its absence is judged.
//!
//! ## Why it matters
//! A token minted for another relying party (another cloud, a package
//! registry, a custom service) should not open this role. The IAM OIDC
//! provider's client-id list also gates audiences, but it is shared by
//! every role that trusts the provider.
//!
//! ## Example
//! `{"StringLike": {"token.actions.githubusercontent.com:sub": "repo:acme/web:*"}}`
//! with no `token.actions.githubusercontent.com:aud`.

use std::borrow::Cow;

use crate::model::rule::{Rule, RuleKind};
use crate::rule_list;
use serde_json::json;

use super::{trust_coverage, RoleView, StatementView, ROLE_NEEDS};
use crate::model::subject::Provider;
use crate::model::Finding;
use crate::model::Severity;
use crate::policy::Policy;
use crate::trust::analyze::{claim_conditions, ANY_PROVIDER};

pub static RULE: Rule = Rule {
    id: Cow::Borrowed("trust-missing-audience"),
    severity: Severity::High,
    title: Cow::Borrowed("Trust policy does not check the token's audience"),
    description: Cow::Borrowed("A federated statement that admits tokens minted for any audience (no aud condition, or one that admits anything), or whose audience condition admits none of the expected audiences (policy [[issuer]] audiences, else sts.amazonaws.com for GitHub Actions; other issuers' audiences are configurable and only a missing condition is judged)."),
    references: rule_list!["https://docs.aws.amazon.com/IAM/latest/UserGuide/id_roles_create_for-idp_oidc.html"],
    source: Cow::Borrowed("src/detect/rules/trust/missing_audience.rs"),
    needs: Cow::Borrowed(ROLE_NEEDS),
    sources: trust_coverage([true, false, false, false]),
    identity: rule_list!["role", "issuer", "evidence.statement"],
    kind: RuleKind::Trust,
};

pub fn check(
    view: &RoleView<'_>,
    statements: &[StatementView<'_>],
    policy: &Policy,
) -> Vec<Finding> {
    let mut out = Vec::new();
    for s in statements {
        let b = &s.breadth;
        // A statement that admits no token rolecall can build is judged on
        // its spelling only if it conditions its own provider's claims (a
        // subject template rolecall cannot build); one whose conditions are
        // all on other providers' keys admits nothing and is not judged.
        let own = !claim_conditions(s.statement, &s.trusted.issuer).is_empty();
        if s.trusted.issuer == ANY_PROVIDER || (b.admits_nothing_constructible && !own) {
            continue;
        }
        let message = if b.any_audience {
            let how = if b.audiences.is_empty() {
                "has no audience condition"
            } else {
                "has an audience condition that admits any audience"
            };
            format!(
                "{} of {} {how}: a token {} minted for another audience is accepted.",
                s.statement.label(),
                view.role,
                s.issuer_label()
            )
        } else {
            let expected: Vec<String> = match policy.issuer_rule(&s.trusted.issuer) {
                Some(r) if !r.audiences.is_empty() => r.audiences.clone(),
                _ if s.trusted.provider == Some(Provider::GithubActions) => {
                    vec!["sts.amazonaws.com".into()]
                }
                _ => continue,
            };
            let admitted = expected.iter().any(|aud| {
                b.admits_audience(
                    view.doc,
                    s.statement,
                    &s.trusted,
                    view.account.as_deref(),
                    aud,
                ) != Some(false)
            });
            if admitted {
                continue;
            }
            format!(
                "{} of {} admits only the audience {}, not the expected {} (list the audience under [[issuer]] audiences if it is intended).",
                s.statement.label(),
                view.role,
                b.audiences.iter().map(|a| format!("`{a}`")).collect::<Vec<_>>().join(", "),
                expected.iter().map(|a| format!("`{a}`")).collect::<Vec<_>>().join(", ")
            )
        };
        let mut f = view.statement_finding(&RULE, s);
        f.evidence.insert("audiences".into(), json!(b.audiences));
        f.message = message;
        out.push(f);
    }
    out
}
