//! A whole trust policy against one request: would AWS let this token
//! assume the role, which statement decided, and why.
//!
//! IAM's order: an explicit `Deny` whose principal, action and conditions
//! all match wins over everything; otherwise one matching `Allow` admits;
//! otherwise the request is implicitly denied. A statement applies when its
//! `Principal` names the token's provider (the provider ARN of the role's
//! account, `"*"`, `{"AWS": "*"}`, or `{"Federated": "*"}`) or its
//! `NotPrincipal` does not, its `Action`/`NotAction` covers
//! `sts:AssumeRoleWithWebIdentity` (`sts:*`, `*`, `sts:AssumeRole*` and any
//! case do), and every condition holds (several keys are ANDed). When a
//! condition cannot be decided on the evidence the verdict is
//! [`Outcome::Unknown`], never a guess in either direction.

use super::condition::{self, Truth};
use super::context::{account_of_arn, Context};
use crate::model::policy_doc::{Effect, PolicyDocument, Principals, Statement};
use crate::model::subject::{issuer_from_provider_arn, normalize_issuer};

/// The decision.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Outcome {
    Allowed,
    Denied,
    Unknown,
}

impl Outcome {
    pub fn as_str(self) -> &'static str {
        match self {
            Outcome::Allowed => "allowed",
            Outcome::Denied => "denied",
            Outcome::Unknown => "unknown",
        }
    }
}

/// The decision, the statement behind it, and a reason a person can check.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Verdict {
    pub outcome: Outcome,
    /// The statement that allowed or explicitly denied; `None` for an
    /// implicit deny.
    pub statement: Option<usize>,
    pub reason: String,
}

/// IAM action matching: case-insensitive, `*` and `?` wildcards.
pub fn action_matches(pattern: &str, action: &str) -> bool {
    condition::like(&pattern.to_ascii_lowercase(), &action.to_ascii_lowercase())
}

/// Whether a `Federated` principal value names the context's provider.
fn federated_matches(value: &str, ctx: &Context) -> bool {
    if value == "*" {
        return true;
    }
    if let Some(arn) = &ctx.provider_arn {
        if arn == value {
            return true;
        }
    }
    let issuer = if value.starts_with("arn:") {
        match issuer_from_provider_arn(value) {
            Some(i) => i,
            None => return false,
        }
    } else {
        // `accounts.google.com`, `cognito-identity.amazonaws.com`...
        normalize_issuer(value)
    };
    if issuer != ctx.issuer {
        return false;
    }
    match (
        value
            .starts_with("arn:")
            .then(|| account_of_arn(value))
            .flatten(),
        &ctx.account,
    ) {
        (Some(a), Some(b)) => &a == b,
        _ => true,
    }
}

fn principals_match(p: &Principals, ctx: &Context) -> bool {
    p.is_everyone()
        || p.of_type("Federated")
            .iter()
            .any(|v| federated_matches(v, ctx))
}

/// Whether one statement applies to the request, and why (not).
pub fn statement_applies(st: &Statement, ctx: &Context, vars: bool) -> (Truth, String) {
    let label = st.label();
    let principal_ok = match (&st.principal, &st.not_principal) {
        (Some(p), _) => principals_match(p, ctx),
        (None, Some(np)) => !principals_match(np, ctx),
        (None, None) => false,
    };
    if !principal_ok {
        let named = st.federated();
        let what = if named.is_empty() {
            "names no federated principal".to_string()
        } else {
            format!("trusts {}, not the token's provider", named.join(", "))
        };
        return (Truth::False, format!("{label} {what}"));
    }
    let action_ok = match (&st.action, &st.not_action) {
        (Some(a), _) => a.iter().any(|p| action_matches(p, &ctx.action)),
        (None, Some(na)) => !na.iter().any(|p| action_matches(p, &ctx.action)),
        (None, None) => false,
    };
    if !action_ok {
        return (
            Truth::False,
            format!("{label} does not cover {}", ctx.action),
        );
    }
    let mut unknown = Vec::new();
    let mut held = Vec::new();
    for c in &st.conditions {
        match condition::evaluate(c, ctx, vars) {
            (Truth::False, why) => return (Truth::False, format!("{label}: {why}")),
            (Truth::Unknown, why) => unknown.push(why),
            (Truth::True, why) => held.push(why),
        }
    }
    if !unknown.is_empty() {
        return (Truth::Unknown, format!("{label}: {}", unknown.join("; ")));
    }
    if held.is_empty() {
        (Truth::True, format!("{label} (no conditions)"))
    } else {
        (Truth::True, format!("{label}: {}", held.join("; ")))
    }
}

/// Evaluates a trust policy for one request.
pub fn evaluate(doc: &PolicyDocument, ctx: &Context) -> Verdict {
    let vars = doc.variables_enabled();
    let mut allowed: Option<(usize, String)> = None;
    let mut allow_unknown: Vec<String> = Vec::new();
    let mut deny_unknown: Vec<String> = Vec::new();
    let mut refused: Vec<String> = Vec::new();
    for st in &doc.statements {
        let (truth, why) = statement_applies(st, ctx, vars);
        match (st.effect, truth) {
            (Effect::Deny, Truth::True) => {
                return Verdict {
                    outcome: Outcome::Denied,
                    statement: Some(st.index),
                    reason: format!("explicitly denied by {why}"),
                }
            }
            (Effect::Deny, Truth::Unknown) => deny_unknown.push(why),
            (Effect::Deny, Truth::False) => {}
            (Effect::Allow, Truth::True) => {
                if allowed.is_none() {
                    allowed = Some((st.index, why));
                }
            }
            (Effect::Allow, Truth::Unknown) => allow_unknown.push(why),
            (Effect::Allow, Truth::False) => refused.push(why),
        }
    }
    match allowed {
        Some((i, why)) if deny_unknown.is_empty() => Verdict {
            outcome: Outcome::Allowed,
            statement: Some(i),
            reason: format!("allowed by {why}"),
        },
        Some((i, why)) => Verdict {
            outcome: Outcome::Unknown,
            statement: Some(i),
            reason: format!(
                "allowed by {why}, unless a deny applies: {}",
                deny_unknown.join("; ")
            ),
        },
        None if !allow_unknown.is_empty() => Verdict {
            outcome: Outcome::Unknown,
            statement: None,
            reason: format!("cannot tell: {}", allow_unknown.join("; ")),
        },
        None if refused.is_empty() => Verdict {
            outcome: Outcome::Denied,
            statement: None,
            reason: "implicitly denied: no Allow statement".into(),
        },
        None => Verdict {
            outcome: Outcome::Denied,
            statement: None,
            reason: format!("implicitly denied: {}", refused.join("; ")),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::policy_doc::parse_policy_text;
    use serde_json::{json, Value};

    const GH: &str = "https://token.actions.githubusercontent.com";
    const GH_ARN: &str =
        "arn:aws:iam::111111111111:oidc-provider/token.actions.githubusercontent.com";

    /// A one-statement GitHub trust policy with the given condition block.
    fn gh_doc(condition: Value) -> String {
        json!({"Version": "2012-10-17", "Statement": [{
            "Effect": "Allow",
            "Principal": {"Federated": GH_ARN},
            "Action": "sts:AssumeRoleWithWebIdentity",
            "Condition": condition,
        }]})
        .to_string()
    }

    /// A GitHub token's claims.
    fn gh_claims(extra: Value) -> Context {
        let mut base = json!({
            "iss": GH, "aud": "sts.amazonaws.com",
            "sub": "repo:acme/web:ref:refs/heads/main",
            "repository": "acme/web", "repository_owner": "acme",
            "ref": "refs/heads/main", "event_name": "push",
            "job_workflow_ref": "acme/web/.github/workflows/deploy.yml@refs/heads/main",
        });
        for (k, v) in extra.as_object().unwrap() {
            if v.is_null() {
                base.as_object_mut().unwrap().remove(k);
            } else {
                base[k] = v.clone();
            }
        }
        Context::for_claims(GH, Some(GH_ARN), base.as_object().unwrap())
    }

    struct Case {
        name: &'static str,
        doc: String,
        ctx: Context,
        want: Outcome,
        /// A fragment the reason must contain.
        reason: &'static str,
    }

    fn case(
        name: &'static str,
        doc: String,
        ctx: Context,
        want: Outcome,
        reason: &'static str,
    ) -> Case {
        Case {
            name,
            doc,
            ctx,
            want,
            reason,
        }
    }

    fn k(claim: &str) -> String {
        format!("token.actions.githubusercontent.com:{claim}")
    }

    fn cases() -> Vec<Case> {
        use Outcome::{Allowed as A, Denied as D, Unknown as U};
        let none = || gh_claims(json!({}));
        let pr = || {
            gh_claims(
                json!({"sub": "repo:acme/web:pull_request", "ref": "refs/pull/7/merge", "event_name": "pull_request"}),
            )
        };
        let env = |e: &str| {
            gh_claims(json!({"sub": format!("repo:acme/web:environment:{e}"), "environment": e}))
        };
        let c = |v: Value| gh_doc(v);
        vec![
            // --- StringEquals
            case("equals exact", c(json!({"StringEquals": {k("sub"): "repo:acme/web:ref:refs/heads/main"}})), none(), A, "allowed by statement 0"),
            case("equals other value", c(json!({"StringEquals": {k("sub"): "repo:acme/web:ref:refs/heads/prod"}})), none(), D, "the policy wants `repo:acme/web:ref:refs/heads/prod`"),
            case("equals is case-sensitive on values", c(json!({"StringEquals": {k("sub"): "repo:ACME/web:ref:refs/heads/main"}})), none(), D, "the token has"),
            case("keys are case-insensitive", c(json!({"StringEquals": {"Token.Actions.GitHubUserContent.com:SUB": "repo:acme/web:ref:refs/heads/main"}})), none(), A, "allowed"),
            case("equals treats * literally", c(json!({"StringEquals": {k("sub"): "repo:acme/web:*"}})), none(), D, "wants `repo:acme/web:*`"),
            case("several values are ORed", c(json!({"StringEquals": {k("sub"): ["repo:acme/api:ref:refs/heads/main", "repo:acme/web:ref:refs/heads/main"]}})), none(), A, "satisfies one of"),
            case("several keys are ANDed (one fails)", c(json!({"StringEquals": {k("sub"): "repo:acme/web:ref:refs/heads/main", k("aud"): "other"}})), none(), D, ":aud"),
            case("several operators are ANDed", c(json!({"StringEquals": {k("aud"): "sts.amazonaws.com"}, "StringLike": {k("sub"): "repo:acme/*"}})), none(), A, "allowed"),
            case("equals on a missing claim is false", c(json!({"StringEquals": {k("environment"): "prod"}})), none(), D, "the key is missing"),
            // --- StringEqualsIgnoreCase
            case("ignore-case equals", c(json!({"StringEqualsIgnoreCase": {k("repository"): "ACME/Web"}})), none(), A, "allowed"),
            case("ignore-case not-equals", c(json!({"StringNotEqualsIgnoreCase": {k("repository"): "ACME/Web"}})), none(), D, "anything but"),
            // --- StringLike
            case("like star spans slashes and colons", c(json!({"StringLike": {k("sub"): "repo:acme/*"}})), none(), A, "allowed"),
            case("like question mark is one character", c(json!({"StringLike": {k("sub"): "repo:acme/we?:ref:refs/heads/main"}})), none(), A, "allowed"),
            case("like question mark is exactly one", c(json!({"StringLike": {k("sub"): "repo:acme/w?:ref:refs/heads/main"}})), none(), D, "the token has"),
            case("like without wildcard is exact", c(json!({"StringLike": {k("sub"): "repo:acme/web:ref:refs/heads/main"}})), none(), A, "allowed"),
            case("like is case-sensitive", c(json!({"StringLike": {k("sub"): "repo:Acme/*"}})), none(), D, "the token has"),
            case("like ${*} is a literal star", c(json!({"StringLike": {k("sub"): "repo:acme/${*}"}})), none(), D, "the token has"),
            case("like ${key} substitutes a claim", c(json!({"StringLike": {k("sub"): "repo:${token.actions.githubusercontent.com:repository}:*"}})), none(), A, "allowed"),
            // --- negated operators
            case("not-equals with other value holds", c(json!({"StringNotEquals": {k("event_name"): "pull_request"}})), none(), A, "allowed"),
            case("not-equals with the value fails", c(json!({"StringNotEquals": {k("event_name"): "push"}})), none(), D, "anything but `push`"),
            case("not-equals several values is NOR", c(json!({"StringNotEquals": {k("event_name"): ["pull_request", "push"]}})), none(), D, "none of"),
            case("not-equals on a missing key holds", c(json!({"StringNotEquals": {k("environment"): "prod"}})), none(), A, "allowed"),
            case("not-like excludes pull requests", c(json!({"StringNotLike": {k("sub"): "*:pull_request"}})), pr(), D, "anything but"),
            case("not-like admits others", c(json!({"StringNotLike": {k("sub"): "*:pull_request"}})), none(), A, "allowed"),
            // --- IfExists
            case("IfExists on a missing key holds", c(json!({"StringEqualsIfExists": {k("environment"): "prod"}})), none(), A, "IfExists holds"),
            case("IfExists on a present key compares", c(json!({"StringEqualsIfExists": {k("environment"): "prod"}})), env("dev"), D, "wants `prod`"),
            case("IfExists on a present matching key", c(json!({"StringLikeIfExists": {k("environment"): "pro*"}})), env("prod"), A, "allowed"),
            // --- Null
            case("Null true on a missing key holds", c(json!({"Null": {k("environment"): "true"}})), none(), A, "absent"),
            case("Null true on a present key fails", c(json!({"Null": {k("environment"): "true"}})), env("prod"), D, "present"),
            case("Null false requires the key", c(json!({"Null": {k("environment"): "false"}})), none(), D, "absent"),
            case("Null false with the key holds", c(json!({"Null": {k("environment"): "false"}})), env("prod"), A, "allowed"),
            // --- qualifiers
            case("ForAllValues on a missing key holds", c(json!({"ForAllValues:StringEquals": {k("environment"): "prod"}})), none(), A, "ForAllValues holds when the key is missing"),
            case("ForAllValues on a present key compares", c(json!({"ForAllValues:StringEquals": {k("environment"): "prod"}})), env("dev"), D, "wants `prod`"),
            case("ForAnyValue on a missing key fails", c(json!({"ForAnyValue:StringEquals": {k("environment"): "prod"}})), none(), D, "ForAnyValue fails"),
            case("ForAnyValue on a present key matches", c(json!({"ForAnyValue:StringLike": {k("environment"): ["prod", "stag*"]}})), env("staging"), A, "allowed"),
            case("ForAnyValue over a multi-valued claim", c(json!({"ForAnyValue:StringEquals": {k("amr"): "b"}})), gh_claims(json!({"amr": ["a", "b"]})), A, "allowed"),
            case("ForAllValues over a multi-valued claim", c(json!({"ForAllValues:StringEquals": {k("amr"): "b"}})), gh_claims(json!({"amr": ["a", "b"]})), D, "the token has `a`, `b`"),
            case("ForAllValues negated over a multi-valued claim", c(json!({"ForAllValues:StringNotEquals": {k("amr"): "c"}})), gh_claims(json!({"amr": ["a", "b"]})), A, "allowed"),
            case("ForAnyValue negated on a missing key fails", c(json!({"ForAnyValue:StringNotEquals": {k("environment"): "prod"}})), none(), D, "ForAnyValue fails"),
            // --- Bool and unknown operators
            case("Bool on a claim", c(json!({"Bool": {k("ref_protected"): "true"}})), gh_claims(json!({"ref_protected": "true"})), A, "allowed"),
            case("numeric operators are not evaluated", c(json!({"NumericLessThan": {k("run_attempt"): "2"}})), gh_claims(json!({"run_attempt": "1"})), U, "does not evaluate"),
            // --- principals
            case("another provider's ARN does not match", gh_doc_with_principal(json!({"Federated": "arn:aws:iam::111111111111:oidc-provider/gitlab.com"})), none(), D, "not the token's provider"),
            case("a provider list matches any member", gh_doc_with_principal(json!({"Federated": ["arn:aws:iam::111111111111:oidc-provider/gitlab.com", GH_ARN]})), none(), A, "allowed"),
            case("a provider of another account does not match", gh_doc_with_principal(json!({"Federated": "arn:aws:iam::222222222222:oidc-provider/token.actions.githubusercontent.com"})), none(), D, "not the token's provider"),
            case("Principal * matches", gh_doc_with_principal(json!("*")), none(), A, "allowed"),
            case("Federated * matches", gh_doc_with_principal(json!({"Federated": "*"})), none(), A, "allowed"),
            case("an AWS principal does not match a token", gh_doc_with_principal(json!({"AWS": "arn:aws:iam::111111111111:root"})), none(), D, "names no federated principal"),
            // --- actions
            case("sts:* covers the exchange", doc_with_action(json!("sts:*")), none(), A, "allowed"),
            case("* covers the exchange", doc_with_action(json!("*")), none(), A, "allowed"),
            case("action case does not matter", doc_with_action(json!("STS:assumerolewithwebidentity")), none(), A, "allowed"),
            case("sts:AssumeRole alone does not cover it", doc_with_action(json!(["sts:AssumeRole", "sts:TagSession"])), none(), D, "does not cover"),
            case("NotAction excluding it", doc_with_not_action(json!("sts:AssumeRoleWithWebIdentity")), none(), D, "does not cover"),
            // --- several statements and deny
            case("a second statement allows", two_statements(), env("prod"), A, "allowed by statement 1"),
            case("explicit deny wins", deny_pull_requests(), pr(), D, "explicitly denied by statement 1"),
            case("deny that does not match leaves the allow", deny_pull_requests(), none(), A, "allowed by statement 0"),
            case("implicit deny lists each statement", two_statements(), env("dev"), D, "statement 1"),
            // --- conditions on another provider's keys
            case("another provider's keys are absent", c(json!({"StringEquals": {"gitlab.com:sub": "project_path:acme/web:ref_type:branch:ref:main"}})), none(), D, "the key is missing"),
            // --- evidence without claims
            case("a subject-only context cannot judge other claims", c(json!({"StringEquals": {k("actor"): "octocat"}})), Context::for_subject(GH, Some(GH_ARN), "repo:acme/web:ref:refs/heads/main", Some("sts.amazonaws.com")), U, "does not carry this key"),
            case("a subject-only context knows there is no environment", c(json!({"StringEquals": {k("environment"): "prod"}})), Context::for_subject(GH, Some(GH_ARN), "repo:acme/web:ref:refs/heads/main", None), D, "the key is missing"),
            case("policy version 2008 keeps ${} literal", r#"{"Version":"2008-10-17","Statement":[{"Effect":"Allow","Principal":{"Federated":"*"},"Action":"sts:AssumeRoleWithWebIdentity","Condition":{"StringLike":{"token.actions.githubusercontent.com:sub":"repo:${token.actions.githubusercontent.com:repository}:*"}}}]}"#.to_string(), none(), D, "the token has"),
        ]
    }

    fn gh_doc_with_principal(p: Value) -> String {
        json!({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": p, "Action": "sts:AssumeRoleWithWebIdentity"}]}).to_string()
    }

    fn doc_with_action(a: Value) -> String {
        json!({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": {"Federated": GH_ARN}, "Action": a}]}).to_string()
    }

    fn doc_with_not_action(a: Value) -> String {
        json!({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": {"Federated": GH_ARN}, "NotAction": a}]}).to_string()
    }

    fn two_statements() -> String {
        json!({"Version": "2012-10-17", "Statement": [
            {"Effect": "Allow", "Principal": {"Federated": GH_ARN}, "Action": "sts:AssumeRoleWithWebIdentity",
             "Condition": {"StringEquals": {k("sub"): "repo:acme/web:ref:refs/heads/main"}}},
            {"Effect": "Allow", "Principal": {"Federated": GH_ARN}, "Action": "sts:AssumeRoleWithWebIdentity",
             "Condition": {"StringEquals": {k("sub"): "repo:acme/web:environment:prod"}}},
        ]})
        .to_string()
    }

    fn deny_pull_requests() -> String {
        json!({"Version": "2012-10-17", "Statement": [
            {"Effect": "Allow", "Principal": {"Federated": GH_ARN}, "Action": "sts:AssumeRoleWithWebIdentity",
             "Condition": {"StringLike": {k("sub"): "repo:acme/web:*"}}},
            {"Sid": "NoPRs", "Effect": "Deny", "Principal": "*", "Action": "sts:*",
             "Condition": {"StringEquals": {k("event_name"): "pull_request"}}},
        ]})
        .to_string()
    }

    #[test]
    fn condition_evaluation_table() {
        let cases = cases();
        assert!(cases.len() >= 40, "{} cases", cases.len());
        let mut failures = Vec::new();
        for c in &cases {
            let doc = parse_policy_text(&c.doc).unwrap_or_else(|e| panic!("{}: {e}", c.name));
            let v = evaluate(&doc, &c.ctx);
            if v.outcome != c.want || !v.reason.contains(c.reason) {
                failures.push(format!(
                    "{}: got {:?} ({}), want {:?} with `{}`",
                    c.name, v.outcome, v.reason, c.want, c.reason
                ));
            }
        }
        if std::env::var_os("SHOW_REASONS").is_some() {
            for c in &cases {
                let doc = parse_policy_text(&c.doc).unwrap();
                eprintln!("{}: {}", c.name, evaluate(&doc, &c.ctx).reason);
            }
        }
        assert!(failures.is_empty(), "{}", failures.join("\n"));
    }
}
