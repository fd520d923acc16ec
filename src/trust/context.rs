//! The request context a trust policy is evaluated against: which provider
//! presents the token and which condition keys it carries.
//!
//! AWS builds the context of `AssumeRoleWithWebIdentity` from the token: the
//! provider whose URL matches `iss`, and one key per supported claim, named
//! `PROVIDER_URL_WITHOUT_SCHEME:CLAIM` (`token.actions.githubusercontent.com:sub`,
//! `oidc.circleci.com/org/ID:aud`). When rolecall holds the whole claim set,
//! a key it does not carry is *absent*, as it would be for AWS. When it holds
//! only what CloudTrail recorded (the subject and audience), the other
//! claims are *unknown*, and a condition on them is judged unknown rather
//! than guessed; the facts a subject itself proves (a `ref:` subject names
//! the ref and proves there was no environment) fill in what they can.

use std::collections::{BTreeMap, BTreeSet};

use serde_json::{Map, Value};

pub use crate::model::account_of_arn;
use crate::model::subject::{issuer_from_provider_arn, normalize_issuer, parse_subject, Provider};

/// The action a web-identity exchange asks for.
pub const ASSUME_WEB_IDENTITY: &str = "sts:AssumeRoleWithWebIdentity";

/// What the context says about one condition key.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyState<'a> {
    Present(&'a [String]),
    Absent,
    /// The evidence does not say (claims not joined).
    Unknown,
}

/// A request to assume a role with a web identity token.
#[derive(Debug, Clone, Default)]
pub struct Context {
    /// Normalized issuer (`https://token.actions.githubusercontent.com`).
    pub issuer: String,
    /// The provider ARN, when the exchange named it.
    pub provider_arn: Option<String>,
    /// The role's account, when known: a provider ARN of another account
    /// never matches.
    pub account: Option<String>,
    pub action: String,
    keys: BTreeMap<String, Vec<String>>,
    absent: BTreeSet<String>,
    /// Every claim of the token is known: a missing key is absent.
    complete: bool,
}

/// `https://HOST/PATH` → `host/PATH`: AWS's condition-key prefix for an
/// issuer (the provider URL without `https://`), lower-cased for comparison
/// since condition keys are case-insensitive.
pub fn key_prefix(issuer: &str) -> String {
    let n = normalize_issuer(issuer);
    n.split_once("://")
        .map_or(n.as_str(), |(_, r)| r)
        .to_ascii_lowercase()
}

/// Prefixes of keys that are not the token's claims: global and service
/// keys, which rolecall does not model (they stay unknown).
fn is_global_key(key: &str) -> bool {
    let prefix = key.split(':').next().unwrap_or("");
    matches!(prefix, "aws" | "sts" | "iam")
}

impl Context {
    fn new(issuer: &str, provider_arn: Option<&str>) -> Context {
        let issuer = match provider_arn.and_then(issuer_from_provider_arn) {
            Some(i) if issuer.is_empty() => i,
            _ => normalize_issuer(issuer),
        };
        Context {
            issuer,
            provider_arn: provider_arn.map(str::to_string),
            account: provider_arn.and_then(account_of_arn),
            action: ASSUME_WEB_IDENTITY.to_string(),
            ..Default::default()
        }
    }

    /// A token whose whole claim set is known (a decoded claim set or JWT).
    /// Every string, number or boolean claim becomes a key, arrays become
    /// multi-valued keys; as AWS does, `aud` holds `azp` when the token has
    /// one, and `oaud` the original audience.
    pub fn for_claims(
        issuer: &str,
        provider_arn: Option<&str>,
        claims: &Map<String, Value>,
    ) -> Context {
        let mut ctx = Context::new(issuer, provider_arn);
        ctx.complete = true;
        for (name, value) in claims {
            if name == "iss" {
                continue;
            }
            let values: Vec<String> = match value {
                Value::String(s) => vec![s.clone()],
                Value::Number(n) => vec![n.to_string()],
                Value::Bool(b) => vec![b.to_string()],
                Value::Array(items) => items
                    .iter()
                    .filter_map(|v| match v {
                        Value::String(s) => Some(s.clone()),
                        Value::Number(n) => Some(n.to_string()),
                        _ => None,
                    })
                    .collect(),
                _ => continue,
            };
            ctx.set(name, values);
        }
        if let Some(azp) = claims.get("azp").and_then(Value::as_str) {
            let aud = ctx.claim("aud").map(<[String]>::to_vec).unwrap_or_default();
            ctx.set("oaud", aud);
            ctx.set("aud", vec![azp.to_string()]);
        }
        ctx
    }

    /// An exchange known only from the audit log: its subject and audience,
    /// plus what the subject's format proves.
    pub fn for_subject(
        issuer: &str,
        provider_arn: Option<&str>,
        subject: &str,
        audience: Option<&str>,
    ) -> Context {
        let mut ctx = Context::new(issuer, provider_arn);
        ctx.set("sub", vec![subject.to_string()]);
        if let Some(a) = audience {
            ctx.set("aud", vec![a.to_string()]);
        }
        let hint = crate::model::subject::provider_from_issuer(&ctx.issuer);
        let facts = parse_subject(subject, hint);
        if facts.recognized && facts.provider == Provider::GithubActions {
            if let Some(r) = &facts.repository {
                ctx.set("repository", vec![r.clone()]);
                if let Some((owner, _)) = r.split_once('/') {
                    ctx.set("repository_owner", vec![owner.to_string()]);
                }
            }
            for (name, fact) in [("ref", &facts.git_ref), ("environment", &facts.environment)] {
                match (&fact.value, fact.known) {
                    (Some(v), _) => ctx.set(name, vec![v.clone()]),
                    (None, true) => ctx.set_absent(name),
                    (None, false) => {}
                }
            }
        }
        if facts.recognized && facts.provider == Provider::Gitlab {
            if let Some(r) = &facts.repository {
                ctx.set("project_path", vec![r.clone()]);
            }
        }
        ctx
    }

    /// The account of the role being assumed (a provider of another account
    /// never matches its principal).
    pub fn with_account(mut self, account: Option<&str>) -> Context {
        if self.account.is_none() {
            self.account = account.map(str::to_string);
        }
        self
    }

    /// Sets claim `name` (under this issuer's prefix).
    pub fn set(&mut self, name: &str, values: Vec<String>) {
        let key = format!("{}:{}", key_prefix(&self.issuer), name.to_ascii_lowercase());
        self.absent.remove(&key);
        self.keys.insert(key, values);
    }

    /// Records that the token has no claim `name`.
    pub fn set_absent(&mut self, name: &str) {
        let key = format!("{}:{}", key_prefix(&self.issuer), name.to_ascii_lowercase());
        self.keys.remove(&key);
        self.absent.insert(key);
    }

    /// The values of claim `name`, if present.
    pub fn claim(&self, name: &str) -> Option<&[String]> {
        let key = format!("{}:{}", key_prefix(&self.issuer), name.to_ascii_lowercase());
        self.keys.get(&key).map(Vec::as_slice)
    }

    /// The claims this context carries, by name (for suggestions and
    /// display).
    pub fn claims(&self) -> impl Iterator<Item = (&str, &[String])> {
        let prefix = key_prefix(&self.issuer);
        self.keys.iter().filter_map(move |(k, v)| {
            k.strip_prefix(prefix.as_str())
                .and_then(|r| r.strip_prefix(':'))
                .map(|name| (name, v.as_slice()))
        })
    }

    /// Whether every claim is known.
    pub fn is_complete(&self) -> bool {
        self.complete
    }

    /// The state of a condition key, as the policy spells it.
    pub fn state(&self, key: &str) -> KeyState<'_> {
        let k = key.to_ascii_lowercase();
        if let Some(v) = self.keys.get(&k) {
            return if v.is_empty() {
                KeyState::Absent
            } else {
                KeyState::Present(v)
            };
        }
        if self.absent.contains(&k) {
            return KeyState::Absent;
        }
        if is_global_key(&k) {
            return KeyState::Unknown;
        }
        let own = key_prefix(&self.issuer);
        match k.rsplit_once(':') {
            // Another provider's keys are never in this token's context.
            Some((prefix, _)) if prefix != own => KeyState::Absent,
            _ if self.complete => KeyState::Absent,
            _ => KeyState::Unknown,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prefixes_are_provider_urls_without_scheme() {
        assert_eq!(
            key_prefix("https://token.actions.githubusercontent.com/"),
            "token.actions.githubusercontent.com"
        );
        assert_eq!(
            key_prefix("https://oidc.circleci.com/org/ABC"),
            "oidc.circleci.com/org/abc"
        );
    }

    #[test]
    fn subject_only_contexts_know_what_the_subject_proves() {
        let c = Context::for_subject(
            "https://token.actions.githubusercontent.com",
            None,
            "repo:acme/web:ref:refs/heads/main",
            Some("sts.amazonaws.com"),
        );
        let k = |c: &str| format!("token.actions.githubusercontent.com:{c}");
        assert_eq!(
            c.state(&k("REF")),
            KeyState::Present(&["refs/heads/main".to_string()])
        );
        assert_eq!(c.state(&k("environment")), KeyState::Absent);
        assert_eq!(c.state(&k("actor")), KeyState::Unknown);
        assert_eq!(c.state("gitlab.com:sub"), KeyState::Absent);
        assert_eq!(c.state("aws:SourceIp"), KeyState::Unknown);
    }

    #[test]
    fn claim_sets_are_complete_and_azp_becomes_aud() {
        let claims: Map<String, Value> = serde_json::from_str(
            r#"{"iss":"https://accounts.google.com","sub":"1","aud":"x","azp":"y","amr":["a","b"],"email_verified":true}"#,
        )
        .unwrap();
        let c = Context::for_claims("https://accounts.google.com", None, &claims);
        assert_eq!(c.claim("aud"), Some(&["y".to_string()][..]));
        assert_eq!(c.claim("oaud"), Some(&["x".to_string()][..]));
        assert_eq!(c.claim("amr").map(<[String]>::len), Some(2));
        assert_eq!(c.state("accounts.google.com:hd"), KeyState::Absent);
    }
}
