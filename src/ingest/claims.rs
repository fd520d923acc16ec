//! CI token claims: decoded claim sets (JSON objects) and raw JWTs, from
//! GitHub Actions, GitLab CI, CircleCI, Buildkite, HCP Terraform, Kubernetes
//! service accounts and any other OIDC issuer.
//!
//! Each provider names the same facts differently; this module maps them onto
//! one [`TokenClaims`] row: repository, full git ref, environment, workflow
//! ref, trigger, run id and attempt, actor, runner environment. A claim the
//! provider does not send stays `None`.

use serde_json::{Map, Value};

use super::json::{value_text as text, FieldError};
use crate::model::records::TokenClaims;
use crate::model::refs::normalize_ref;
use crate::model::subject::{
    normalize_issuer, parse_subject, provider_from_issuer, provider_from_subject, strip_vcs_host,
    Provider,
};
use crate::model::time::{from_epoch_seconds, Micros};

fn flag(map: &Map<String, Value>, key: &str) -> Option<bool> {
    match map.get(key)? {
        Value::Bool(b) => Some(*b),
        Value::String(s) if s.eq_ignore_ascii_case("true") => Some(true),
        Value::String(s) if s.eq_ignore_ascii_case("false") => Some(false),
        _ => None,
    }
}

fn seconds(map: &Map<String, Value>, key: &str) -> Result<Option<Micros>, FieldError> {
    let Some(v) = map.get(key) else {
        return Ok(None);
    };
    let secs = match v {
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
fn detect_provider(issuer: &str, subject: &str, map: &Map<String, Value>) -> Provider {
    if let Some(p) = provider_from_issuer(issuer) {
        return p;
    }
    if map.contains_key("job_workflow_ref")
        || map.contains_key("runner_environment") && map.contains_key("workflow")
    {
        return Provider::GithubActions;
    }
    if map.contains_key("project_path")
        && (map.contains_key("pipeline_id") || map.contains_key("ci_config_ref_uri"))
    {
        return Provider::Gitlab;
    }
    if map.keys().any(|k| k.starts_with("oidc.circleci.com/")) {
        return Provider::Circleci;
    }
    if map.contains_key("organization_slug") && map.contains_key("pipeline_slug") {
        return Provider::Buildkite;
    }
    if map.contains_key("terraform_organization_name") {
        return Provider::HcpTerraform;
    }
    if map.contains_key("kubernetes.io") {
        return Provider::Kubernetes;
    }
    provider_from_subject(subject).unwrap_or(Provider::Generic)
}

/// Builds a claims row from a decoded claim set.
pub fn claims_from_map(map: &Map<String, Value>) -> Result<TokenClaims, FieldError> {
    let issuer = match map.get("iss") {
        Some(Value::String(s)) if !s.trim().is_empty() => normalize_issuer(s),
        Some(v) => {
            return Err(FieldError::new(
                "iss",
                format!("should be a non-empty string, found {v}"),
            ))
        }
        None => return Err(FieldError::new("iss", "is missing")),
    };
    let subject = match map.get("sub") {
        Some(Value::String(s)) => s.clone(),
        Some(v) => {
            return Err(FieldError::new(
                "sub",
                format!("should be a string, found {v}"),
            ))
        }
        None => return Err(FieldError::new("sub", "is missing")),
    };
    let audiences = match map.get("aud") {
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
        jti: text(map, "jti"),
        iat: seconds(map, "iat")?,
        exp: seconds(map, "exp")?,
        nbf: seconds(map, "nbf")?,
        provider: Some(provider),
        // Written from the map as it is (a `Value` would deep-copy it first).
        claims_json: serde_json::to_string(map).unwrap_or_default(),
        ..Default::default()
    };
    let from_subject = parse_subject(&subject, Some(provider));
    match provider {
        Provider::GithubActions => {
            c.repository = text(map, "repository");
            c.ref_type = text(map, "ref_type");
            c.git_ref = text(map, "ref").and_then(|r| normalize_ref(&r, c.ref_type.as_deref()));
            c.environment = text(map, "environment");
            c.workflow_ref = text(map, "job_workflow_ref").or_else(|| text(map, "workflow_ref"));
            c.trigger = text(map, "event_name");
            c.run_id = text(map, "run_id");
            c.run_attempt = text(map, "run_attempt");
            c.actor = text(map, "actor");
            c.runner_environment = text(map, "runner_environment");
            c.ref_protected = flag(map, "ref_protected");
        }
        Provider::Gitlab => {
            c.repository = text(map, "project_path");
            c.ref_type = text(map, "ref_type");
            c.git_ref = text(map, "ref_path")
                .or_else(|| text(map, "ref"))
                .and_then(|r| normalize_ref(&r, c.ref_type.as_deref()));
            c.environment = text(map, "environment");
            c.deployment_tier = text(map, "deployment_tier");
            c.workflow_ref = text(map, "ci_config_ref_uri");
            c.trigger = text(map, "pipeline_source");
            c.run_id = text(map, "pipeline_id");
            c.actor = text(map, "user_login");
            c.runner_environment = text(map, "runner_environment");
            c.ref_protected = flag(map, "ref_protected");
        }
        Provider::Circleci => {
            c.repository = text(map, "oidc.circleci.com/vcs-origin").map(|o| strip_vcs_host(&o));
            c.git_ref =
                text(map, "oidc.circleci.com/vcs-ref").and_then(|r| normalize_ref(&r, None));
            c.run_id = text(map, "oidc.circleci.com/workflow-id")
                .or_else(|| text(map, "oidc.circleci.com/pipeline-id"));
        }
        Provider::Buildkite => {
            c.repository = match (text(map, "organization_slug"), text(map, "pipeline_slug")) {
                (Some(o), Some(p)) => Some(format!("{o}/{p}")),
                _ => None,
            };
            // The subject names the ref the job ran on; the claims carry the
            // branch (and a tag when the build has one).
            c.git_ref = from_subject.git_ref.value.clone().or_else(|| {
                text(map, "build_branch").and_then(|b| normalize_ref(&b, Some("branch")))
            });
            c.trigger = text(map, "build_source");
            c.run_id = text(map, "build_number");
            c.runner_environment = text(map, "runner_environment");
        }
        Provider::HcpTerraform => {
            c.repository = match (
                text(map, "terraform_organization_name"),
                text(map, "terraform_project_name"),
                text(map, "terraform_workspace_name"),
            ) {
                (Some(o), Some(p), Some(w)) => Some(format!("{o}/{p}/{w}")),
                (Some(o), None, Some(w)) => Some(format!("{o}/{w}")),
                _ => from_subject.repository.clone(),
            };
            c.run_id = text(map, "terraform_run_id");
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
