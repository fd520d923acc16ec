//! CI providers and what an OIDC subject says about the job behind it.
//!
//! When no claim set matches an exchange, the subject (CloudTrail's
//! `subjectFromWebIdentityToken`) is the only evidence left. Each provider
//! packs different facts into it, and some facts are known to be *absent*
//! rather than unknown: a default GitHub subject of the `ref:` form means the
//! job used no environment (GitHub would have used the `environment:` form),
//! while the `environment:` form says nothing about the ref. [`Fact`] keeps
//! that distinction so that rules never judge what the evidence does not show.

use serde::Serialize;

/// The CI system (or other workload) that minted a token.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Provider {
    GithubActions,
    Gitlab,
    Circleci,
    Buildkite,
    HcpTerraform,
    Kubernetes,
    Generic,
}

impl Provider {
    pub const ALL: [Provider; 7] = [
        Provider::GithubActions,
        Provider::Gitlab,
        Provider::Circleci,
        Provider::Buildkite,
        Provider::HcpTerraform,
        Provider::Kubernetes,
        Provider::Generic,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Provider::GithubActions => "github-actions",
            Provider::Gitlab => "gitlab",
            Provider::Circleci => "circleci",
            Provider::Buildkite => "buildkite",
            Provider::HcpTerraform => "hcp-terraform",
            Provider::Kubernetes => "kubernetes",
            Provider::Generic => "generic",
        }
    }
}

/// Normalizes an issuer URL for comparison: no trailing slash, lower-case
/// scheme and host (paths stay case-sensitive).
pub fn normalize_issuer(issuer: &str) -> String {
    let trimmed = issuer.trim().trim_end_matches('/');
    match trimmed.find("://") {
        Some(i) => {
            let rest = &trimmed[i + 3..];
            let host_end = rest.find('/').unwrap_or(rest.len());
            format!(
                "{}://{}{}",
                trimmed[..i].to_ascii_lowercase(),
                rest[..host_end].to_ascii_lowercase(),
                &rest[host_end..]
            )
        }
        None => format!("https://{}", trimmed.to_ascii_lowercase()),
    }
}

/// The issuer behind an AWS OIDC provider ARN:
/// `arn:aws:iam::A:oidc-provider/HOST/PATH` gives `https://HOST/PATH`.
pub fn issuer_from_provider_arn(arn: &str) -> Option<String> {
    let (_, rest) = arn.split_once(":oidc-provider/")?;
    if rest.is_empty() {
        return None;
    }
    Some(normalize_issuer(&format!("https://{rest}")))
}

/// Which provider an issuer belongs to, when the issuer alone says so.
pub fn provider_from_issuer(issuer: &str) -> Option<Provider> {
    let host = issuer
        .split_once("://")
        .map_or(issuer, |(_, r)| r)
        .split('/')
        .next()
        .unwrap_or("")
        .to_ascii_lowercase();
    let path = issuer.split_once("://").map_or("", |(_, r)| r);
    if host == "token.actions.githubusercontent.com" || path.contains("/_services/token") {
        Some(Provider::GithubActions)
    } else if host == "gitlab.com" {
        Some(Provider::Gitlab)
    } else if host == "oidc.circleci.com" {
        Some(Provider::Circleci)
    } else if host == "agent.buildkite.com" {
        Some(Provider::Buildkite)
    } else if host == "app.terraform.io" {
        Some(Provider::HcpTerraform)
    } else if host.starts_with("oidc.eks.") || host == "kubernetes.default.svc" {
        Some(Provider::Kubernetes)
    } else {
        None
    }
}

/// A fact about a job: a value, known to be absent, or unknown.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Fact {
    pub value: Option<String>,
    pub known: bool,
}

impl Fact {
    pub fn of(value: impl Into<String>) -> Fact {
        Fact {
            value: Some(value.into()),
            known: true,
        }
    }

    pub fn absent() -> Fact {
        Fact {
            value: None,
            known: true,
        }
    }

    pub fn unknown() -> Fact {
        Fact::default()
    }

    /// A present value is known; a missing one is absent or unknown as told.
    pub fn from_option(value: Option<String>, absent_is_known: bool) -> Fact {
        match value {
            Some(v) => Fact::of(v),
            None if absent_is_known => Fact::absent(),
            None => Fact::unknown(),
        }
    }
}

/// What a subject says about the job that requested the token.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SubjectFacts {
    pub provider: Provider,
    /// The subject matched one of the provider's known formats.
    pub recognized: bool,
    pub repository: Option<String>,
    pub git_ref: Fact,
    pub environment: Fact,
    pub workflow_ref: Option<String>,
    /// `pull_request` when the subject names a pull-request run.
    pub trigger: Option<String>,
}

impl SubjectFacts {
    fn unrecognized(provider: Provider) -> SubjectFacts {
        SubjectFacts {
            provider,
            recognized: false,
            repository: None,
            git_ref: Fact::unknown(),
            environment: Fact::unknown(),
            workflow_ref: None,
            trigger: None,
        }
    }
}

/// Guesses the provider from the subject's shape.
pub fn provider_from_subject(subject: &str) -> Option<Provider> {
    if subject.starts_with("repo:") {
        Some(Provider::GithubActions)
    } else if subject.starts_with("project_path:") {
        Some(Provider::Gitlab)
    } else if subject.starts_with("org/") && subject.contains("/project/") {
        Some(Provider::Circleci)
    } else if subject.starts_with("organization:") && subject.contains(":pipeline:") {
        Some(Provider::Buildkite)
    } else if subject.starts_with("organization:") && subject.contains(":workspace:") {
        Some(Provider::HcpTerraform)
    } else if subject.starts_with("system:serviceaccount:") {
        Some(Provider::Kubernetes)
    } else {
        None
    }
}

/// Decodes `%XX` escapes (GitHub escapes `:` in subject values as `%3A`).
/// Invalid escapes are kept as written.
pub fn percent_decode(s: &str) -> String {
    if !s.contains('%') {
        return s.to_string();
    }
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'%' && i + 2 < b.len() {
            let hex = |c: u8| (c as char).to_digit(16);
            if let (Some(h), Some(l)) = (hex(b[i + 1]), hex(b[i + 2])) {
                out.push((h * 16 + l) as u8);
                i += 3;
                continue;
            }
        }
        out.push(b[i]);
        i += 1;
    }
    String::from_utf8(out).unwrap_or_else(|_| s.to_string())
}

/// Strips the immutable-id suffixes of `owner@123/repo@456`.
fn strip_immutable_ids(repo: &str) -> String {
    repo.split('/')
        .map(|part| match part.rsplit_once('@') {
            Some((name, id)) if !id.is_empty() && id.bytes().all(|c| c.is_ascii_digit()) => name,
            _ => part,
        })
        .collect::<Vec<_>>()
        .join("/")
}

/// GitHub claim keys that a customized subject template may contain.
pub const GITHUB_SUBJECT_KEYS: &[&str] = &[
    "repo",
    "context",
    "environment",
    "ref",
    "job_workflow_ref",
    "workflow",
    "workflow_ref",
    "repository",
    "repository_id",
    "repository_owner",
    "repository_owner_id",
    "repository_visibility",
    "actor",
    "actor_id",
    "event_name",
    "ref_type",
    "ref_protected",
    "head_ref",
    "base_ref",
    "runner_environment",
    "enterprise",
    "enterprise_id",
    "job_workflow_sha",
    "workflow_sha",
    "run_attempt",
    "sha",
];

fn parse_github(subject: &str) -> SubjectFacts {
    let mut facts = SubjectFacts::unrecognized(Provider::GithubActions);
    let tokens: Vec<&str> = subject.split(':').collect();
    let mut environment = None;
    let mut git_ref = None;
    let mut ref_type = None;
    let mut context_seen = false;
    let mut pull_request = false;
    let mut i = 0;
    while i < tokens.len() {
        let key = tokens[i];
        if key == "pull_request" {
            pull_request = true;
            context_seen = true;
            i += 1;
            continue;
        }
        if !GITHUB_SUBJECT_KEYS.contains(&key) || i + 1 >= tokens.len() {
            // An unknown key: a template we cannot read past. Keep what we
            // have; everything else stays unknown.
            break;
        }
        let value = percent_decode(tokens[i + 1]);
        match key {
            "repo" | "repository" => facts.repository = Some(strip_immutable_ids(&value)),
            "environment" => {
                environment = Some(value);
                context_seen = true;
            }
            "ref" => {
                git_ref = Some(value);
                context_seen = true;
            }
            "ref_type" => ref_type = Some(value),
            "job_workflow_ref" | "workflow_ref" => facts.workflow_ref = Some(value),
            "event_name" => facts.trigger = Some(value),
            _ => {}
        }
        i += 2;
    }
    facts.recognized = facts.repository.is_some();
    if pull_request {
        facts.trigger = Some("pull_request".into());
    }
    facts.git_ref = match git_ref {
        Some(r) => Fact::from_option(super::refs::normalize_ref(&r, ref_type.as_deref()), false),
        None => Fact::unknown(),
    };
    // The context part of a GitHub subject is exactly one of environment,
    // ref or pull_request: when it is present and names no environment, the
    // job had none.
    facts.environment = match environment {
        Some(e) => Fact::of(e),
        None if context_seen => Fact::absent(),
        None => Fact::unknown(),
    };
    facts
}

/// Splits `k1:v1:k2:v2...` for the providers whose subjects are ordered key
/// value pairs with known keys. Values may contain `:` only in the last key.
fn key_values<'a>(subject: &'a str, keys: &[&str]) -> Option<Vec<(&'a str, String)>> {
    let tokens: Vec<&str> = subject.split(':').collect();
    let mut out = Vec::new();
    let mut i = 0;
    while i < tokens.len() {
        let key = tokens[i];
        if !keys.contains(&key) || i + 1 >= tokens.len() {
            return None;
        }
        // Collect the value up to the next known key.
        let mut j = i + 1;
        let mut value = vec![tokens[j]];
        j += 1;
        while j < tokens.len() && !keys.contains(&tokens[j]) {
            value.push(tokens[j]);
            j += 1;
        }
        out.push((key, value.join(":")));
        i = j;
    }
    Some(out)
}

fn parse_gitlab(subject: &str) -> SubjectFacts {
    let mut facts = SubjectFacts::unrecognized(Provider::Gitlab);
    let Some(pairs) = key_values(
        subject,
        &[
            "project_path",
            "ref_type",
            "ref",
            "environment",
            "pipeline_source",
        ],
    ) else {
        return facts;
    };
    let mut ref_name = None;
    let mut ref_type = None;
    for (k, v) in pairs {
        match k {
            "project_path" => facts.repository = Some(v),
            "ref_type" => ref_type = Some(v),
            "ref" => ref_name = Some(v),
            "environment" => facts.environment = Fact::of(v),
            "pipeline_source" => facts.trigger = Some(v),
            _ => {}
        }
    }
    facts.recognized = facts.repository.is_some();
    if let Some(r) = ref_name {
        facts.git_ref =
            Fact::from_option(super::refs::normalize_ref(&r, ref_type.as_deref()), false);
    }
    facts
}

fn parse_circleci(subject: &str) -> SubjectFacts {
    let mut facts = SubjectFacts::unrecognized(Provider::Circleci);
    let parts: Vec<&str> = subject.split('/').collect();
    if parts.len() < 4 || parts[0] != "org" || parts[2] != "project" {
        return facts;
    }
    facts.recognized = true;
    if let Some(i) = parts.iter().position(|p| *p == "vcs-origin") {
        let end = parts
            .iter()
            .position(|p| *p == "vcs-ref")
            .unwrap_or(parts.len());
        if end > i + 1 {
            let origin = parts[i + 1..end].join("/");
            facts.repository = Some(strip_vcs_host(&origin));
        }
        if end < parts.len() {
            let r = parts[end + 1..].join("/");
            facts.git_ref = Fact::from_option(super::refs::normalize_ref(&r, None), false);
        }
    }
    facts
}

/// `github.com/org/repo` gives `org/repo`, so policies can share patterns
/// across providers.
pub fn strip_vcs_host(origin: &str) -> String {
    match origin.split_once('/') {
        Some((host, rest)) if host.contains('.') => rest.to_string(),
        _ => origin.to_string(),
    }
}

fn parse_buildkite(subject: &str) -> SubjectFacts {
    let mut facts = SubjectFacts::unrecognized(Provider::Buildkite);
    let Some(pairs) = key_values(
        subject,
        &["organization", "pipeline", "ref", "commit", "step"],
    ) else {
        return facts;
    };
    let (mut org, mut pipeline) = (None, None);
    for (k, v) in pairs {
        match k {
            "organization" => org = Some(v),
            "pipeline" => pipeline = Some(v),
            "ref" => facts.git_ref = Fact::from_option(super::refs::normalize_ref(&v, None), false),
            _ => {}
        }
    }
    if let (Some(o), Some(p)) = (org, pipeline) {
        facts.repository = Some(format!("{o}/{p}"));
        facts.recognized = true;
    }
    facts
}

fn parse_terraform(subject: &str) -> SubjectFacts {
    let mut facts = SubjectFacts::unrecognized(Provider::HcpTerraform);
    let Some(pairs) = key_values(
        subject,
        &["organization", "project", "workspace", "run_phase"],
    ) else {
        return facts;
    };
    let (mut org, mut project, mut workspace) = (None, None, None);
    for (k, v) in pairs {
        match k {
            "organization" => org = Some(v),
            "project" => project = Some(v),
            "workspace" => workspace = Some(v),
            _ => {}
        }
    }
    if let (Some(o), Some(w)) = (org, workspace) {
        facts.repository = Some(match project {
            Some(p) => format!("{o}/{p}/{w}"),
            None => format!("{o}/{w}"),
        });
        facts.recognized = true;
    }
    facts
}

fn parse_kubernetes(subject: &str) -> SubjectFacts {
    let mut facts = SubjectFacts::unrecognized(Provider::Kubernetes);
    if let Some(rest) = subject.strip_prefix("system:serviceaccount:") {
        if let Some((ns, sa)) = rest.split_once(':') {
            if !ns.is_empty() && !sa.is_empty() {
                facts.repository = Some(format!("{ns}/{sa}"));
                facts.recognized = true;
            }
        }
    }
    facts
}

/// Reads what `subject` says, using `hint` (from the issuer or the claims)
/// when the provider is known, else the subject's own shape.
pub fn parse_subject(subject: &str, hint: Option<Provider>) -> SubjectFacts {
    let provider = match hint {
        Some(Provider::Generic) | None => provider_from_subject(subject),
        other => other,
    };
    match provider {
        Some(Provider::GithubActions) => parse_github(subject),
        Some(Provider::Gitlab) => parse_gitlab(subject),
        Some(Provider::Circleci) => parse_circleci(subject),
        Some(Provider::Buildkite) => parse_buildkite(subject),
        Some(Provider::HcpTerraform) => parse_terraform(subject),
        Some(Provider::Kubernetes) => parse_kubernetes(subject),
        Some(Provider::Generic) | None => SubjectFacts::unrecognized(Provider::Generic),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn gh(s: &str) -> SubjectFacts {
        parse_subject(s, Some(Provider::GithubActions))
    }

    #[test]
    fn github_ref_form_knows_there_is_no_environment() {
        let f = gh("repo:acme/web:ref:refs/heads/main");
        assert!(f.recognized);
        assert_eq!(f.repository.as_deref(), Some("acme/web"));
        assert_eq!(f.git_ref, Fact::of("refs/heads/main"));
        assert_eq!(f.environment, Fact::absent());
        assert_eq!(f.trigger, None);
    }

    #[test]
    fn github_environment_form_does_not_know_the_ref() {
        let f = gh("repo:octo-org/octo-repo:environment:prod");
        assert_eq!(f.environment, Fact::of("prod"));
        assert_eq!(f.git_ref, Fact::unknown());
    }

    #[test]
    fn github_pull_request_form() {
        let f = gh("repo:acme/web:pull_request");
        assert!(f.recognized);
        assert_eq!(f.trigger.as_deref(), Some("pull_request"));
        assert_eq!(f.environment, Fact::absent());
        assert_eq!(f.git_ref, Fact::unknown());
    }

    #[test]
    fn github_custom_template_with_workflow_ref() {
        let f = gh("repo:acme/web:environment:production:job_workflow_ref:acme/ci/.github/workflows/deploy.yml@refs/heads/main");
        assert_eq!(f.environment, Fact::of("production"));
        assert_eq!(
            f.workflow_ref.as_deref(),
            Some("acme/ci/.github/workflows/deploy.yml@refs/heads/main")
        );
        // A template without the context part says nothing about environment.
        let f = gh(
            "repo:acme/web:job_workflow_ref:acme/ci/.github/workflows/deploy.yml@refs/heads/main",
        );
        assert_eq!(f.environment, Fact::unknown());
        assert!(f.recognized);
    }

    #[test]
    fn github_escaped_colons_and_immutable_ids() {
        let f = gh("repo:acme@1234/web@5678:environment:prod%3Aeu");
        assert_eq!(f.repository.as_deref(), Some("acme/web"));
        assert_eq!(f.environment, Fact::of("prod:eu"));
        let f = gh("repo:acme/web:ref:refs/heads/feat%3Ax");
        assert_eq!(f.git_ref, Fact::of("refs/heads/feat:x"));
    }

    #[test]
    fn github_unknown_key_stops_but_keeps_repo() {
        let f = gh("repo:acme/web:custom_thing:x:ref:refs/heads/main");
        assert_eq!(f.repository.as_deref(), Some("acme/web"));
        assert_eq!(f.git_ref, Fact::unknown());
        assert_eq!(f.environment, Fact::unknown());
    }

    #[test]
    fn gitlab_subject() {
        let f = parse_subject(
            "project_path:my-group/my-project:ref_type:branch:ref:feature-branch-1",
            None,
        );
        assert_eq!(f.provider, Provider::Gitlab);
        assert_eq!(f.repository.as_deref(), Some("my-group/my-project"));
        assert_eq!(f.git_ref, Fact::of("refs/heads/feature-branch-1"));
        assert_eq!(f.environment, Fact::unknown());
        let f = parse_subject("project_path:g/p:ref_type:tag:ref:v1.0", None);
        assert_eq!(f.git_ref, Fact::of("refs/tags/v1.0"));
    }

    #[test]
    fn circleci_subjects() {
        let f = parse_subject("org/0d3e/project/7a1b/user/9c2d", None);
        assert!(f.recognized);
        assert_eq!(f.repository, None);
        let f = parse_subject(
            "org/0d3e/project/7a1b/user/9c2d/vcs-origin/github.com/acme/web/vcs-ref/refs/heads/main",
            None,
        );
        assert_eq!(f.repository.as_deref(), Some("acme/web"));
        assert_eq!(f.git_ref, Fact::of("refs/heads/main"));
    }

    #[test]
    fn buildkite_subject() {
        let f = parse_subject(
            "organization:acme-inc:pipeline:super-duper-app:ref:refs/heads/main:commit:9f31:step:build",
            None,
        );
        assert_eq!(f.provider, Provider::Buildkite);
        assert_eq!(f.repository.as_deref(), Some("acme-inc/super-duper-app"));
        assert_eq!(f.git_ref, Fact::of("refs/heads/main"));
    }

    #[test]
    fn terraform_subject_with_spaces() {
        let f = parse_subject(
            "organization:my-org:project:Default Project:workspace:my-workspace:run_phase:apply",
            None,
        );
        assert_eq!(f.provider, Provider::HcpTerraform);
        assert_eq!(
            f.repository.as_deref(),
            Some("my-org/Default Project/my-workspace")
        );
    }

    #[test]
    fn kubernetes_and_unknown() {
        let f = parse_subject("system:serviceaccount:prod:checkout", None);
        assert_eq!(f.provider, Provider::Kubernetes);
        assert_eq!(f.repository.as_deref(), Some("prod/checkout"));
        let f = parse_subject("0191f956-042f-7ec4-aa62-8e5eeae396d0", None);
        assert!(!f.recognized);
        assert_eq!(f.provider, Provider::Generic);
    }

    #[test]
    fn issuers() {
        assert_eq!(
            issuer_from_provider_arn(
                "arn:aws:iam::1:oidc-provider/token.actions.githubusercontent.com"
            )
            .as_deref(),
            Some("https://token.actions.githubusercontent.com")
        );
        assert_eq!(
            issuer_from_provider_arn("arn:aws:iam::1:oidc-provider/oidc.circleci.com/org/abc")
                .as_deref(),
            Some("https://oidc.circleci.com/org/abc")
        );
        assert_eq!(
            normalize_issuer("HTTPS://GitLab.com/"),
            "https://gitlab.com"
        );
        assert_eq!(
            provider_from_issuer("https://ghe.example.com/_services/token"),
            Some(Provider::GithubActions)
        );
    }

    #[test]
    fn subject_parsing_never_panics_on_odd_input() {
        for s in [
            "",
            ":",
            "repo:",
            "repo::",
            "repo:a:ref",
            "%",
            "%4",
            "org/",
            "organization:",
            "system:serviceaccount:",
        ] {
            let _ = parse_subject(s, None);
            let _ = parse_subject(s, Some(Provider::GithubActions));
            let _ = parse_subject(s, Some(Provider::Gitlab));
            let _ = parse_subject(s, Some(Provider::Buildkite));
        }
        assert_eq!(percent_decode("a%3"), "a%3");
        assert_eq!(percent_decode("%zz"), "%zz");
    }
}
