//! CI token claims: decoded claim sets (JSON objects) and raw JWTs, from
//! GitHub Actions, GitLab CI, CircleCI, Buildkite, HCP Terraform, Kubernetes
//! service accounts and any other OIDC issuer.
//!
//! Each provider names the same facts differently; this module maps them onto
//! one [`TokenClaims`] row: repository, full git ref, environment, workflow
//! ref, trigger, run id and attempt, actor, runner environment. A claim the
//! provider does not send stays `None`.

use std::borrow::Cow;

use serde_json::{Map, Value};

use super::json::{as_str, has_backslash, value_text, FieldError, Key, Raw};
use super::source::{pairs_to_map, Parser, Read, Source};
use crate::error::Location;
use crate::model::records::TokenClaims;
use crate::model::refs::normalize_ref;
use crate::model::subject::{
    normalize_issuer, parse_subject, provider_from_issuer, provider_from_subject, strip_vcs_host,
    Provider,
};
use crate::model::time::{from_epoch_seconds, Micros};

/// A claim set's top-level members, whichever way they were read: a
/// parsed map (a decoded JWT) or the borrowed pairs of a claim set read
/// from a file ([`Pairs`]). Lookups see the last value of a repeated key.
/// Decoded CI token claim sets (raw JWTs come through the line reader).
pub const SOURCE: Source = Source {
    name: "CI token claims",
    sniff: |obj| obj.has(Key::Iss) && obj.has(Key::Sub),
    read: |p, rec| {
        let (obj, at, index) = (rec.obj, rec.at.clone(), rec.index);
        p.out.records += 1;
        match Pairs::new(&obj.pairs) {
            Ok(Some(pairs)) => push(p, &pairs, None, at, index),
            // A repeated key: the map decides which value wins.
            Ok(None) => match pairs_to_map(obj) {
                Ok(map) => push(p, &map, None, at, index),
                Err(e) => p.error(at, e),
            },
            Err(e) => p.error(at, e),
        }
        Read::Taken
    },
};

/// One claim set into the batch; `jwt` is `Some(verified)` for a raw JWT.
pub fn push(
    p: &mut Parser<'_, '_>,
    map: &impl Members,
    jwt: Option<Option<bool>>,
    at: Location,
    record: u64,
) {
    match claims_from_map(map) {
        Ok(mut c) => {
            c.from_jwt = jwt.is_some();
            c.verified = jwt.flatten();
            c.file = p.ctx.file;
            c.record = record as u32;
            c.line = p.line as u32;
            p.out.claims.push(c);
        }
        Err(e) => p.error(at, format!("claim set: {e}")),
    }
}

pub trait Members {
    fn get(&self, key: &str) -> Option<Cow<'_, Value>>;
    fn has(&self, key: &str) -> bool;
    fn any_key(&self, wanted: fn(&str) -> bool) -> bool;
    /// The whole set as compact JSON, as serde_json writes the map.
    fn json(&self) -> String;

    /// A member as text ([`value_text`]'s rules).
    fn text(&self, key: &str) -> Option<String> {
        match self.get(key)?.as_ref() {
            Value::String(s) if s.is_empty() => None,
            Value::String(s) => Some(s.clone()),
            Value::Number(n) => Some(n.to_string()),
            Value::Bool(b) => Some(b.to_string()),
            _ => None,
        }
    }
}

impl Members for Map<String, Value> {
    fn get(&self, key: &str) -> Option<Cow<'_, Value>> {
        Map::get(self, key).map(Cow::Borrowed)
    }

    fn has(&self, key: &str) -> bool {
        self.contains_key(key)
    }

    fn any_key(&self, wanted: fn(&str) -> bool) -> bool {
        self.keys().any(|k| wanted(k))
    }

    fn json(&self) -> String {
        // Written from the map as it is (a `Value` would deep-copy it first).
        serde_json::to_string(self).unwrap_or_default()
    }

    fn text(&self, key: &str) -> Option<String> {
        value_text(self, key)
    }
}

/// A claim set's members borrowed from the record path, looked up without
/// building a map: most claim sets arrive as line-delimited files, and
/// building a `Map` of `Value`s for each (keys hashed with SipHash, every
/// string copied) cost more than reading the line.
pub struct Pairs<'a> {
    /// Keys by length, then bytes, each once: a lookup's comparisons are
    /// mostly decided by the length, without comparing bytes.
    sorted: Vec<(&'a str, Raw<'a>)>,
    json: String,
}

/// Writes a key as serde_json writes a string: quoted, and escaped only
/// when it holds a quote, a backslash or a control character.
fn write_key(json: &mut Vec<u8>, key: &str) {
    if key.bytes().all(|b| b >= 0x20 && b != b'"' && b != b'\\') {
        json.push(b'"');
        json.extend_from_slice(key.as_bytes());
        json.push(b'"');
    } else {
        let _ = serde_json::to_writer(&mut *json, key);
    }
}

impl<'a> Pairs<'a> {
    /// `None` when a key repeats (the caller builds a map, which settles
    /// which value and position win); an error names a value serde_json
    /// cannot hold (a number beyond `f64`, a lone surrogate), as building
    /// the map would.
    pub fn new(pairs: &'a [(Cow<'a, str>, Raw<'a>)]) -> Result<Option<Pairs<'a>>, String> {
        let mut sorted: Vec<(&'a str, Raw<'a>)> =
            pairs.iter().map(|(k, v)| (k.as_ref(), *v)).collect();
        sorted.sort_unstable_by(|a, b| key_order(a.0, b.0));
        if sorted.windows(2).any(|w| w[0].0 == w[1].0) {
            return Ok(None);
        }
        // The compact JSON serde_json would write for the map: keys escaped
        // by serde_json; plain strings, small integers and literals are
        // already written the way it writes them, anything else is parsed
        // and written again.
        let mut json =
            Vec::with_capacity(pairs.iter().map(|(k, v)| k.len() + v.get().len() + 4).sum());
        json.push(b'{');
        for (i, (k, v)) in pairs.iter().enumerate() {
            if i > 0 {
                json.push(b',');
            }
            write_key(&mut json, k);
            json.push(b':');
            let text = v.get();
            let plain = match text.as_bytes().first() {
                Some(b'"') => !has_backslash(text.as_bytes()),
                // A non-negative integer (`iat`, `exp`): JSON has no leading
                // zeros, so its digits are how serde_json writes the u64.
                Some(b'0'..=b'9') => text.len() <= 18 && text.bytes().all(|b| b.is_ascii_digit()),
                _ => matches!(text, "true" | "false" | "null"),
            };
            if plain {
                json.extend_from_slice(text.as_bytes());
            } else {
                let value: Value = serde_json::from_str(text)
                    .map_err(|e| format!("`{k}` is not readable: {e}"))?;
                let _ = serde_json::to_writer(&mut json, &value);
            }
        }
        json.push(b'}');
        let json = String::from_utf8(json).map_err(|e| format!("claim set: {e}"))?;
        Ok(Some(Pairs { sorted, json }))
    }

    fn raw(&self, key: &str) -> Option<Raw<'a>> {
        self.sorted
            .binary_search_by(|(k, _)| key_order(k, key))
            .ok()
            .map(|i| self.sorted[i].1)
    }
}

/// The order of [`Pairs`]' keys: by length, then by bytes.
fn key_order(a: &str, b: &str) -> std::cmp::Ordering {
    a.len().cmp(&b.len()).then_with(|| a.cmp(b))
}

impl Members for Pairs<'_> {
    fn get(&self, key: &str) -> Option<Cow<'_, Value>> {
        let text = self.raw(key)?.get();
        let b = text.as_bytes();
        // The usual shapes (`iss`, `sub`, `aud`, the times) without a
        // parser: a string without escapes, and a small non-negative
        // integer, which serde_json also holds as a `u64`.
        match b.first()? {
            b'"' if !has_backslash(b) => {
                return Some(Cow::Owned(Value::String(
                    text[1..text.len() - 1].to_string(),
                )))
            }
            b'0'..=b'9' if b.len() <= 18 && b.iter().all(u8::is_ascii_digit) => {
                if let Ok(n) = text.parse::<u64>() {
                    return Some(Cow::Owned(Value::Number(n.into())));
                }
            }
            _ => {}
        }
        // Every value was parsed once already (in `new`, or by the scanner);
        // it cannot fail here.
        serde_json::from_str(text).ok().map(Cow::Owned)
    }

    fn has(&self, key: &str) -> bool {
        self.raw(key).is_some()
    }

    fn any_key(&self, wanted: fn(&str) -> bool) -> bool {
        self.sorted.iter().any(|(k, _)| wanted(k))
    }

    fn json(&self) -> String {
        self.json.clone()
    }

    fn text(&self, key: &str) -> Option<String> {
        let raw = self.raw(key)?;
        match raw.get().as_bytes().first()? {
            b'"' => as_str(raw, key)
                .ok()
                .filter(|s| !s.is_empty())
                .map(Cow::into_owned),
            b'{' | b'[' | b'n' => None,
            _ => {
                // Numbers are written as serde_json writes them (`1e3` is
                // `1000.0`), booleans as `true`/`false`.
                match serde_json::from_str::<Value>(raw.get()).ok()? {
                    Value::Number(n) => Some(n.to_string()),
                    Value::Bool(b) => Some(b.to_string()),
                    _ => None,
                }
            }
        }
    }
}

fn flag(map: &impl Members, key: &str) -> Option<bool> {
    match map.get(key)?.as_ref() {
        Value::Bool(b) => Some(*b),
        Value::String(s) if s.eq_ignore_ascii_case("true") => Some(true),
        Value::String(s) if s.eq_ignore_ascii_case("false") => Some(false),
        _ => None,
    }
}

fn seconds(map: &impl Members, key: &str) -> Result<Option<Micros>, FieldError> {
    let Some(v) = map.get(key) else {
        return Ok(None);
    };
    let secs = match v.as_ref() {
        Value::Null => return Ok(None),
        Value::Number(n) => n.as_f64(),
        Value::String(s) => s.trim().parse::<f64>().ok(),
        _ => None,
    };
    match secs.and_then(from_epoch_seconds) {
        Some(t) => Ok(Some(t)),
        None => Err(FieldError::new(
            key,
            format!("should be seconds since the epoch, found {v}"),
        )),
    }
}

/// Which provider minted a claim set: by issuer, then by claim names, then
/// by the subject's shape.
fn detect_provider(issuer: &str, subject: &str, map: &impl Members) -> Provider {
    if let Some(p) = provider_from_issuer(issuer) {
        return p;
    }
    if map.has("job_workflow_ref") || map.has("runner_environment") && map.has("workflow") {
        return Provider::GithubActions;
    }
    if map.has("project_path") && (map.has("pipeline_id") || map.has("ci_config_ref_uri")) {
        return Provider::Gitlab;
    }
    if map.any_key(|k| k.starts_with("oidc.circleci.com/")) {
        return Provider::Circleci;
    }
    if map.has("organization_slug") && map.has("pipeline_slug") {
        return Provider::Buildkite;
    }
    if map.has("terraform_organization_name") {
        return Provider::HcpTerraform;
    }
    if map.has("kubernetes.io") {
        return Provider::Kubernetes;
    }
    provider_from_subject(subject).unwrap_or(Provider::Generic)
}

/// Builds a claims row from a decoded claim set.
pub fn claims_from_map(map: &impl Members) -> Result<TokenClaims, FieldError> {
    let issuer = match map.get("iss").as_deref() {
        Some(Value::String(s)) if !s.trim().is_empty() => normalize_issuer(s),
        Some(v) => {
            return Err(FieldError::new(
                "iss",
                format!("should be a non-empty string, found {v}"),
            ))
        }
        None => return Err(FieldError::new("iss", "is missing")),
    };
    let subject = match map.get("sub").as_deref() {
        Some(Value::String(s)) => s.clone(),
        Some(v) => {
            return Err(FieldError::new(
                "sub",
                format!("should be a string, found {v}"),
            ))
        }
        None => return Err(FieldError::new("sub", "is missing")),
    };
    let audiences = match map.get("aud").as_deref() {
        None | Some(Value::Null) => Vec::new(),
        Some(Value::String(s)) => vec![s.clone()],
        Some(Value::Array(items)) => items
            .iter()
            .map(|v| match v {
                Value::String(s) => Ok(s.clone()),
                other => Err(FieldError::new(
                    "aud",
                    format!("should hold strings, found {other}"),
                )),
            })
            .collect::<Result<_, _>>()?,
        Some(v) => {
            return Err(FieldError::new(
                "aud",
                format!("should be a string or an array, found {v}"),
            ))
        }
    };
    let provider = detect_provider(&issuer, &subject, map);
    let mut c = TokenClaims {
        issuer,
        audiences,
        jti: map.text("jti"),
        iat: seconds(map, "iat")?,
        exp: seconds(map, "exp")?,
        nbf: seconds(map, "nbf")?,
        provider: Some(provider),
        claims_json: map.json(),
        ..Default::default()
    };
    let from_subject = parse_subject(&subject, Some(provider));
    match provider {
        Provider::GithubActions => {
            c.repository = map.text("repository");
            c.ref_type = map.text("ref_type");
            c.git_ref = map
                .text("ref")
                .and_then(|r| normalize_ref(&r, c.ref_type.as_deref()));
            c.environment = map.text("environment");
            c.workflow_ref = map
                .text("job_workflow_ref")
                .or_else(|| map.text("workflow_ref"));
            c.trigger = map.text("event_name");
            c.run_id = map.text("run_id");
            c.run_attempt = map.text("run_attempt");
            c.actor = map.text("actor");
            c.runner_environment = map.text("runner_environment");
            c.ref_protected = flag(map, "ref_protected");
        }
        Provider::Gitlab => {
            c.repository = map.text("project_path");
            c.ref_type = map.text("ref_type");
            c.git_ref = map
                .text("ref_path")
                .or_else(|| map.text("ref"))
                .and_then(|r| normalize_ref(&r, c.ref_type.as_deref()));
            c.environment = map.text("environment");
            c.deployment_tier = map.text("deployment_tier");
            c.workflow_ref = map.text("ci_config_ref_uri");
            c.trigger = map.text("pipeline_source");
            c.run_id = map.text("pipeline_id");
            c.actor = map.text("user_login");
            c.runner_environment = map.text("runner_environment");
            c.ref_protected = flag(map, "ref_protected");
        }
        Provider::Circleci => {
            c.repository = map
                .text("oidc.circleci.com/vcs-origin")
                .map(|o| strip_vcs_host(&o));
            c.git_ref = map
                .text("oidc.circleci.com/vcs-ref")
                .and_then(|r| normalize_ref(&r, None));
            c.run_id = map
                .text("oidc.circleci.com/workflow-id")
                .or_else(|| map.text("oidc.circleci.com/pipeline-id"));
        }
        Provider::Buildkite => {
            c.repository = match (map.text("organization_slug"), map.text("pipeline_slug")) {
                (Some(o), Some(p)) => Some(format!("{o}/{p}")),
                _ => None,
            };
            // The subject names the ref the job ran on; the claims carry the
            // branch (and a tag when the build has one).
            c.git_ref = from_subject.git_ref.value.clone().or_else(|| {
                map.text("build_branch")
                    .and_then(|b| normalize_ref(&b, Some("branch")))
            });
            c.trigger = map.text("build_source");
            c.run_id = map.text("build_number");
            c.runner_environment = map.text("runner_environment");
        }
        Provider::HcpTerraform => {
            c.repository = match (
                map.text("terraform_organization_name"),
                map.text("terraform_project_name"),
                map.text("terraform_workspace_name"),
            ) {
                (Some(o), Some(p), Some(w)) => Some(format!("{o}/{p}/{w}")),
                (Some(o), None, Some(w)) => Some(format!("{o}/{w}")),
                _ => from_subject.repository.clone(),
            };
            c.run_id = map.text("terraform_run_id");
        }
        Provider::Kubernetes | Provider::Generic => {
            c.repository = from_subject.repository.clone();
            c.git_ref = from_subject.git_ref.value.clone();
            c.environment = from_subject.environment.value.clone();
        }
    }
    // Fill gaps from the subject (a claim set trimmed by its publisher still
    // carries a subject).
    if c.repository.is_none() {
        c.repository = from_subject.repository.clone();
    }
    if c.git_ref.is_none() {
        c.git_ref = from_subject.git_ref.value.clone();
    }
    if c.workflow_ref.is_none() {
        c.workflow_ref = from_subject.workflow_ref.clone();
    }
    c.subject = subject;
    Ok(c)
}

/// Parses a claim set from its JSON text.
pub fn claims_from_json(text: &str) -> Result<TokenClaims, FieldError> {
    match serde_json::from_str::<Value>(text) {
        Ok(Value::Object(map)) => claims_from_map(&map),
        Ok(other) => Err(FieldError::new(
            "claims",
            format!("should be an object, found {other}"),
        )),
        Err(e) => Err(FieldError::new("claims", format!("is not valid JSON: {e}"))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ingest::json::scanner::members_of;
    use serde_json::json;

    fn claims(v: Value) -> TokenClaims {
        claims_from_map(v.as_object().unwrap()).unwrap()
    }

    #[test]
    fn github_claims() {
        let c = claims(json!({
            "iss": "https://token.actions.githubusercontent.com", "sub": "repo:acme/web:environment:production",
            "aud": "sts.amazonaws.com", "jti": "j1", "iat": 1700000000, "exp": 1700000300,
            "repository": "acme/web", "ref": "refs/heads/main", "ref_type": "branch", "environment": "production",
            "job_workflow_ref": "acme/web/.github/workflows/deploy.yml@refs/heads/main", "event_name": "push",
            "run_id": "123", "run_attempt": "1", "actor": "octocat", "runner_environment": "github-hosted",
            "ref_protected": "true"
        }));
        assert_eq!(c.provider, Some(Provider::GithubActions));
        assert_eq!(c.repository.as_deref(), Some("acme/web"));
        assert_eq!(c.git_ref.as_deref(), Some("refs/heads/main"));
        assert_eq!(c.environment.as_deref(), Some("production"));
        assert_eq!(c.trigger.as_deref(), Some("push"));
        assert_eq!(c.run_id.as_deref(), Some("123"));
        assert_eq!(c.ref_protected, Some(true));
        assert_eq!(c.iat, Some(1_700_000_000_000_000));
        assert_eq!(c.audiences, vec!["sts.amazonaws.com"]);
    }

    #[test]
    fn gitlab_claims_normalize_the_ref() {
        let c = claims(json!({
            "iss": "https://gitlab.example.com", "sub": "project_path:g/p:ref_type:branch:ref:feature-1",
            "aud": "https://vault.example.com", "project_path": "g/p", "pipeline_id": "574",
            "ref": "feature-1", "ref_type": "branch", "pipeline_source": "merge_request_event",
            "environment": "review", "deployment_tier": "development", "ref_protected": "false",
            "ci_config_ref_uri": "gitlab.example.com/g/p//.gitlab-ci.yml@refs/heads/main", "user_login": "dev"
        }));
        assert_eq!(c.provider, Some(Provider::Gitlab));
        assert_eq!(c.git_ref.as_deref(), Some("refs/heads/feature-1"));
        assert_eq!(c.trigger.as_deref(), Some("merge_request_event"));
        assert_eq!(c.run_id.as_deref(), Some("574"));
        assert_eq!(c.deployment_tier.as_deref(), Some("development"));
        assert_eq!(c.ref_protected, Some(false));
    }

    #[test]
    fn circleci_buildkite_terraform_kubernetes() {
        let c = claims(json!({
            "iss": "https://oidc.circleci.com/org/0d3e", "sub": "org/0d3e/project/7a1b/user/9c2d",
            "aud": "0d3e", "oidc.circleci.com/vcs-origin": "github.com/acme/api",
            "oidc.circleci.com/vcs-ref": "refs/heads/main", "iat": 1, "exp": 2
        }));
        assert_eq!(c.provider, Some(Provider::Circleci));
        assert_eq!(c.repository.as_deref(), Some("acme/api"));

        let c = claims(json!({
            "iss": "https://agent.buildkite.com", "aud": "sts.amazonaws.com",
            "sub": "organization:acme:pipeline:app:ref:refs/heads/main:commit:abc:step:deploy",
            "organization_slug": "acme", "pipeline_slug": "app", "build_number": 7, "build_branch": "main",
            "build_source": "webhook"
        }));
        assert_eq!(c.repository.as_deref(), Some("acme/app"));
        assert_eq!(c.run_id.as_deref(), Some("7"));
        assert_eq!(c.git_ref.as_deref(), Some("refs/heads/main"));

        let c = claims(json!({
            "iss": "https://app.terraform.io", "aud": "aws.workload.identity",
            "sub": "organization:o:project:Default Project:workspace:w:run_phase:apply",
            "terraform_organization_name": "o", "terraform_project_name": "Default Project",
            "terraform_workspace_name": "w", "terraform_run_id": "run-1"
        }));
        assert_eq!(c.provider, Some(Provider::HcpTerraform));
        assert_eq!(c.repository.as_deref(), Some("o/Default Project/w"));

        let c = claims(json!({
            "iss": "https://oidc.eks.us-east-2.amazonaws.com/id/05", "sub": "system:serviceaccount:devops:follower",
            "aud": ["sts.amazonaws.com"], "iat": 1617026803, "exp": 1617113203
        }));
        assert_eq!(c.provider, Some(Provider::Kubernetes));
        assert_eq!(c.audiences, vec!["sts.amazonaws.com"]);
    }

    /// Reads `text` both ways and says what differs, if anything.
    fn borrowed_and_mapped_differ(text: &str) -> Option<String> {
        let pairs = members_of(text);
        let map: Map<String, Value> = serde_json::from_str(text).ok()?;
        let mapped = format!("{:?}", claims_from_map(&map));
        let borrowed = match Pairs::new(&pairs) {
            Ok(Some(p)) => format!("{:?}", claims_from_map(&p)),
            Ok(None) => return None,
            Err(e) => return Some(format!("borrowed refused what the map read: {e}")),
        };
        (mapped != borrowed).then(|| format!("map:      {mapped}\nborrowed: {borrowed}"))
    }

    #[test]
    fn borrowed_members_read_like_the_map() {
        let cases = [
            r#"{"iss":"https://token.actions.githubusercontent.com","sub":"repo:a/b:ref:refs/heads/main","aud":"sts.amazonaws.com","jti":"j","iat":1700000000,"exp":1.7000003e9,"nbf":"1699999990","run_id":9876543210,"run_attempt":1,"ref_protected":true,"ref":"refs/heads/main","actor":"","environment":null,"workflow":"w","runner_environment":"self-hosted"}"#,
            r#"{"iss":"https://gitlab.example.com/","sub":"project_path:g/p:ref_type:branch:ref:f\u00e9","aud":["a","b"],"project_path":"g/p","pipeline_id":1e3,"ref":"f\u00e9\n","ref_type":"branch","ref_protected":"TRUE","user_login":"d\"q","x\u0041":{"nested":[1,2.50,-0]}}"#,
            r#"{"iss":"https://oidc.circleci.com/org/o","sub":"org/o/project/p/user/u","oidc.circleci.com/vcs-origin":"github.com/a/b","oidc.circleci.com/vcs-ref":"refs/heads/x","iat":1,"exp":2}"#,
            r#"{"iss":"https://agent.buildkite.com","sub":"organization:o:pipeline:p:ref:refs/heads/m:commit:c:step:s","organization_slug":"o","pipeline_slug":"p","build_number":7,"build_branch":"m","build_source":false}"#,
            r#"{"iss":"i","sub":"s","aud":[1]}"#,
            r#"{"iss":"i","sub":"s","iat":"soon"}"#,
            r#"{"iss":"","sub":"s"}"#,
            r#"{"iss":"i","sub":7}"#,
            r#"{"iss":"i","sub":"s","\u00e9t\u00e9":"\ud83d\ude00","emoji":"\u2028 \/ \b"}"#,
            // Integers at and past what is copied as written.
            r#"{"iss":"i","sub":"s","a":0,"b":999999999999999999,"c":1000000000000000000,"d":18446744073709551616}"#,
        ];
        for text in cases {
            assert_eq!(borrowed_and_mapped_differ(text), None, "{text}");
        }
    }

    #[test]
    fn borrowed_members_leave_repeats_and_unreadable_values_to_the_map() {
        let p = members_of(r#"{"iss":"i","sub":"a","sub":"b"}"#);
        assert!(matches!(Pairs::new(&p), Ok(None)));
        let p = members_of(r#"{"iss":"i","sub":"s","exp":1e999}"#);
        let err = Pairs::new(&p)
            .err()
            .expect("1e999 does not fit a map value");
        assert!(err.starts_with("`exp` is not readable: "), "{err}");
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(2000))]
        #[test]
        fn borrowed_members_agree_with_the_map(
            members in proptest::collection::vec(
                (
                    proptest::sample::select(vec![
                        "iss", "sub", "aud", "jti", "iat", "exp", "nbf", "ref", "ref_type",
                        "repository", "run_id", "ref_protected", "job_workflow_ref", "workflow",
                        "runner_environment", "project_path", "pipeline_id", "environment",
                        "oidc.circleci.com/vcs-ref", "organization_slug", "pipeline_slug",
                        "terraform_organization_name", "terraform_workspace_name", "x\\u00e9",
                        "q\\\"k", "t\\tk",
                    ]),
                    proptest::sample::select(vec![
                        r#""https://token.actions.githubusercontent.com""#,
                        r#""repo:a/b:environment:prod""#, r#""""#, r#""a\"b\u00e9\n""#,
                        r#""refs/heads/main""#, r#""branch""#, r#""true""#, "true", "false",
                        "null", "0", "-0", "1.50", "1e3", "1700000000", "1.7e9",
                        "999999999999999999", "18446744073709551616", r#"["x",1]"#, r#"["sts.amazonaws.com"]"#,
                        r#"{"k":[1,{"z":null}]}"#, r#""\ud83d\ude00""#,
                    ]),
                ),
                0..12,
            )
        ) {
            let body: Vec<String> = members.iter().map(|(k, v)| format!("\"{k}\":{v}")).collect();
            let text = format!("{{{}}}", body.join(","));
            proptest::prop_assert_eq!(borrowed_and_mapped_differ(&text), None, "{}", text);
        }
    }

    #[test]
    fn generic_issuer_and_errors() {
        let c = claims(json!({"iss": "https://idp.example.com/", "sub": "svc", "aud": "x"}));
        assert_eq!(c.provider, Some(Provider::Generic));
        assert_eq!(c.issuer, "https://idp.example.com");
        let err = claims_from_map(json!({"sub": "x"}).as_object().unwrap()).unwrap_err();
        assert_eq!(err.to_string(), "`iss` is missing");
        let err = claims_from_map(
            json!({"iss": "i", "sub": "x", "iat": "soon"})
                .as_object()
                .unwrap(),
        )
        .unwrap_err();
        assert!(
            err.to_string().starts_with("`iat` should be seconds"),
            "{err}"
        );
        let err = claims_from_map(
            json!({"iss": "i", "sub": "x", "aud": [1]})
                .as_object()
                .unwrap(),
        )
        .unwrap_err();
        assert!(err.to_string().contains("aud"));
    }
}
