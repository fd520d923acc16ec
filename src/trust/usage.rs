//! Observed versus allowed: for each federated role, what its trust policy
//! admits, which subjects actually exchanged tokens for it, whether the
//! policy in force would still admit each of them, and the breadth no
//! exchange used.
//!
//! "Observed" is what the audit log shows: every `AssumeRoleWithWebIdentity`
//! for the role, succeeded or failed, grouped by subject. Each exchange is
//! evaluated against the role's current policy with the joined claim set
//! when there is one (every claim known), else with what the subject
//! proves; a condition the evidence cannot decide makes the verdict
//! `unknown`, never a guess.

use serde::Serialize;
use serde_json::{Map, Value};

use super::analyze::{self, Breadth};
use super::condition::like;
use super::context::Context;
use super::evaluate::{evaluate, Outcome, Verdict};
use super::{RoleHistory, RoleTrust};
use crate::model::policy_doc::{BaseOp, PolicyDocument};
use crate::model::records::{Assumption, ClaimsMatch, TokenClaims};
use crate::model::subject::{provider_from_subject, Provider};
use crate::model::time::{ser_opt_micros, Micros};

/// What one statement admits from one provider, readably.
#[derive(Debug, Clone, Serialize)]
pub struct Admits {
    pub statement: String,
    /// The `Federated` principal as written.
    pub principal: String,
    pub issuer: String,
    /// `StringLike repo:acme/web:*`, one per value.
    pub subjects: Vec<String>,
    pub audiences: Vec<String>,
    /// Every other condition, as `OPERATOR KEY VALUES`.
    pub other_conditions: Vec<String>,
    /// What probing found it admits beyond what it names.
    pub breadth: Vec<String>,
}

/// One observed subject and what the policy says of it now.
#[derive(Debug, Clone, Serialize)]
pub struct Observed {
    pub subject: String,
    pub issuer: Option<String>,
    pub audience: Option<String>,
    pub provider_arn: Option<String>,
    pub exchanges: usize,
    pub succeeded: usize,
    pub failed: usize,
    #[serde(serialize_with = "ser_opt_micros")]
    pub first: Option<Micros>,
    #[serde(serialize_with = "ser_opt_micros")]
    pub last: Option<Micros>,
    /// `claims` when every exchange had a joined claim set, else `subject`.
    pub evidence: &'static str,
    /// The current policy's verdict (the least favourable over the
    /// subject's exchanges).
    pub verdict: Verdict,
}

/// A federated role, allowed against observed.
#[derive(Debug, Clone, Serialize)]
pub struct RoleUsage {
    pub role: String,
    pub account: Option<String>,
    /// A bare document named after its file.
    pub bare: bool,
    /// Where the policy in force was read.
    pub source: String,
    pub admits: Vec<Admits>,
    pub observed: Vec<Observed>,
    /// Breadth and patterns no successful exchange used.
    pub unused: Vec<String>,
}

fn describe_breadth(b: &Breadth) -> Vec<String> {
    let mut out = Vec::new();
    if b.admits_nothing_constructible {
        out.push("no token rolecall can build is admitted".into());
    }
    if b.any_owner {
        out.push("repositories of any owner".into());
    }
    for o in &b.every_repository_of {
        out.push(format!("every repository of {o}"));
    }
    for r in &b.any_branch_of {
        out.push(format!("any branch of {r}"));
    }
    for r in &b.any_environment_of {
        out.push(format!("any environment of {r}"));
    }
    for r in &b.pull_requests_from {
        out.push(if r == "*" {
            "pull requests of any repository".to_string()
        } else {
            format!("pull requests of {r}")
        });
    }
    if b.any_audience {
        out.push("any audience".into());
    }
    out
}

/// The exchanges of a role: by ARN, or for a bare document by name.
fn exchanges_of<'a>(
    history: &RoleHistory<'_>,
    assumptions: &'a [Assumption],
) -> Vec<(usize, &'a Assumption)> {
    let bare = history.current().bare;
    let name = &history.identity.1;
    assumptions
        .iter()
        .enumerate()
        .filter(|(_, a)| match a.role_arn.as_deref() {
            Some(arn) if bare => arn.rsplit('/').next() == Some(name.as_str()),
            Some(arn) => arn == history.role,
            None => false,
        })
        .collect()
}

/// The issuer of an exchange: recorded, else implied by the subject.
fn issuer_of(a: &Assumption) -> Option<String> {
    a.issuer.clone().or_else(
        || match a.subject.as_deref().and_then(provider_from_subject) {
            Some(Provider::GithubActions) => {
                Some("https://token.actions.githubusercontent.com".into())
            }
            Some(Provider::Gitlab) => Some("https://gitlab.com".into()),
            _ => None,
        },
    )
}

/// The evaluation context of one exchange.
pub fn exchange_context(a: &Assumption, claims: Option<&TokenClaims>) -> Option<Context> {
    let issuer = issuer_of(a)?;
    let sub = a.subject.as_deref()?;
    let arn = a.provider_arn.as_deref().filter(|p| p.starts_with("arn:"));
    let ctx = match claims
        .and_then(|c| serde_json::from_str::<Map<String, Value>>(&c.claims_json).ok())
    {
        Some(map) => Context::for_claims(&issuer, arn, &map),
        None => Context::for_subject(&issuer, arn, sub, a.audience.as_deref()),
    };
    Some(ctx.with_account(a.account.as_deref()))
}

fn rank(o: Outcome) -> u8 {
    match o {
        Outcome::Allowed => 0,
        Outcome::Unknown => 1,
        Outcome::Denied => 2,
    }
}

/// Allowed against observed for one role.
pub fn role_usage(
    history: &RoleHistory<'_>,
    assumptions: &[Assumption],
    matches: &[ClaimsMatch],
    claims: &[TokenClaims],
    file: &dyn Fn(u32) -> String,
) -> RoleUsage {
    let current: &RoleTrust = history.current();
    let doc: &PolicyDocument = &current.document;
    let mut admits = Vec::new();
    let mut breadths = Vec::new();
    for w in analyze::web_statements(doc) {
        for t in &w.trusted {
            let b = analyze::breadth(doc, w.statement, t, current.account.as_deref());
            let conds = analyze::claim_conditions(w.statement, &t.issuer);
            let mut subjects = Vec::new();
            let mut audiences = Vec::new();
            let mut other = Vec::new();
            for c in &w.statement.conditions {
                let claim = conds
                    .iter()
                    .find(|(_, x)| std::ptr::eq(*x, c))
                    .map(|(k, _)| k.as_str());
                match claim {
                    Some("sub") if analyze::is_positive(c) => {
                        subjects.extend(c.values.iter().map(|v| format!("{} {v}", c.operator.raw)))
                    }
                    Some("aud") if analyze::is_positive(c) => {
                        audiences.extend(c.values.iter().cloned())
                    }
                    _ => other.push(format!(
                        "{} {} {}",
                        c.operator.raw,
                        c.key,
                        c.values.join(", ")
                    )),
                }
            }
            admits.push(Admits {
                statement: w.statement.label(),
                principal: t.principal.clone(),
                issuer: t.issuer.clone(),
                subjects,
                audiences,
                other_conditions: other,
                breadth: describe_breadth(&b),
            });
            breadths.push((w.statement, t.clone(), b));
        }
    }
    // Observed subjects, in order of first use.
    let mut observed: Vec<Observed> = Vec::new();
    for (i, a) in exchanges_of(history, assumptions) {
        let Some(sub) = a.subject.clone() else {
            continue;
        };
        let joined = matches
            .get(i)
            .and_then(|m| m.claims)
            .and_then(|c| claims.get(c));
        let verdict = match exchange_context(a, joined) {
            Some(ctx) => evaluate(doc, &ctx),
            None => Verdict {
                outcome: Outcome::Unknown,
                statement: None,
                reason: "the exchange names no issuer".into(),
            },
        };
        let issuer = issuer_of(a);
        let o = match observed
            .iter_mut()
            .find(|o| o.subject == sub && o.audience == a.audience && o.issuer == issuer)
        {
            Some(o) => o,
            None => {
                observed.push(Observed {
                    subject: sub.clone(),
                    issuer: issuer.clone(),
                    audience: a.audience.clone(),
                    provider_arn: a.provider_arn.clone(),
                    exchanges: 0,
                    succeeded: 0,
                    failed: 0,
                    first: a.time,
                    last: a.time,
                    evidence: "claims",
                    verdict: verdict.clone(),
                });
                observed.last_mut().expect("just pushed")
            }
        };
        o.exchanges += 1;
        if a.succeeded() {
            o.succeeded += 1;
        } else {
            o.failed += 1;
        }
        if joined.is_none() {
            o.evidence = "subject";
        }
        o.first = o.first.min(a.time).or(a.time);
        o.last = o.last.max(a.time);
        if o.provider_arn.is_none() {
            o.provider_arn = a.provider_arn.clone();
        }
        if rank(verdict.outcome) > rank(o.verdict.outcome) {
            o.verdict = verdict;
        }
    }
    // What no successful exchange used.
    let used: Vec<&Observed> = observed.iter().filter(|o| o.succeeded > 0).collect();
    let mut unused = Vec::new();
    for (st, t, b) in &breadths {
        for (claim, c) in analyze::claim_conditions(st, &t.issuer) {
            if claim != "sub" || !analyze::is_positive(c) {
                continue;
            }
            for v in &c.values {
                let hit = used.iter().any(|o| match c.operator.base {
                    BaseOp::StringLike | BaseOp::ArnLike => like(v, &o.subject),
                    BaseOp::StringEqualsIgnoreCase => v.eq_ignore_ascii_case(&o.subject),
                    _ => v == &o.subject,
                });
                if !hit {
                    unused.push(format!(
                        "{}: sub {} {v} (no exchange used it)",
                        st.label(),
                        c.operator.raw
                    ));
                }
            }
        }
        let repos: Vec<String> = used
            .iter()
            .filter_map(|o| crate::model::subject::parse_subject(&o.subject, t.provider).repository)
            .collect();
        let pr_used = used.iter().any(|o| o.subject.ends_with(":pull_request"));
        for item in describe_breadth(b) {
            if item.starts_with("pull requests") && pr_used {
                continue;
            }
            let note =
                if item.starts_with("every repository of") || item == "repositories of any owner" {
                    let mut r = repos.clone();
                    r.sort();
                    r.dedup();
                    if r.is_empty() {
                        String::new()
                    } else {
                        format!(" (used: {})", r.join(", "))
                    }
                } else {
                    String::new()
                };
            unused.push(format!("{}: {item}{note}", st.label()));
        }
    }
    RoleUsage {
        role: history.role.clone(),
        account: current.account.clone(),
        bare: current.bare,
        source: format!("{} record {}", file(current.file), current.record),
        admits,
        observed,
        unused,
    }
}
