//! The policy's static-key part: `[ci]` (the addresses and user agents
//! that only CI produces) and `[[static_key]]` (the IAM users known to be
//! CI's, and their migration to federation).
//!
//! The default user agents are those CI tools set on their own AWS calls,
//! never a general tool: the AWS CLI, the SDKs and Terraform are run by
//! hand too, so they alone prove nothing.

use serde::Deserialize;
use toml::Spanned;

use super::glob::Glob;
use super::net::Cidr;

/// User agents only CI produces, as case-insensitive globs.
///
/// - `*-for-github-actions*`: every `aws-actions/*` action sets its own
///   (`configure-aws-credentials-for-github-actions`,
///   `amazon-ecr-login-for-github-actions`,
///   `amazon-ecs-deploy-task-definition-for-github-actions`...).
/// - `*exec-env/AWS_CodeBuild*`, `*exec-env/CodeBuild*`: the SDKs append
///   `exec-env/$AWS_EXECUTION_ENV`, which CodeBuild sets.
/// - `*gitlab-runner*`, `*buildkite-agent*`, `*circleci*`,
///   `*jenkins*`, `*spacelift*`, `*atlantis*`, `*harness-delegate*`: the
///   runners and agents that name themselves in the SDK's user agent
///   (their AWS plugins, orbs and cache uploads).
pub const DEFAULT_CI_USER_AGENTS: &[&str] = &[
    "*-for-github-actions*",
    "*exec-env/AWS_CodeBuild*",
    "*exec-env/CodeBuild*",
    "*gitlab-runner*",
    "*buildkite-agent*",
    "*circleci*",
    "*jenkins*",
    "*spacelift*",
    "*atlantis*",
    "*harness-delegate*",
];

/// `[ci]`: what marks a call as made from CI.
#[derive(Debug, Clone)]
pub struct CiPolicy {
    /// Self-hosted runners and other CI systems' addresses.
    pub cidrs: Vec<Cidr>,
    /// The defaults, then the policy's own.
    pub user_agents: Vec<Glob>,
}

impl Default for CiPolicy {
    fn default() -> Self {
        CiPolicy {
            cidrs: Vec::new(),
            user_agents: DEFAULT_CI_USER_AGENTS
                .iter()
                .map(|p| Glob::new_case_insensitive(p))
                .collect(),
        }
    }
}

/// `[[static_key]]`: an IAM user whose keys CI uses (or used).
#[derive(Debug, Clone)]
pub struct StaticKeyRule {
    /// Glob on the user name.
    pub user: Glob,
    pub repository: Option<String>,
    /// The role that replaces the key.
    pub replaced_by: Option<String>,
    /// When the pipeline moved to federation.
    pub migrated: Option<crate::model::time::Micros>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct CiFile {
    #[serde(default)]
    cidrs: Vec<Spanned<String>>,
    #[serde(default)]
    user_agents: Vec<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct StaticKeyFile {
    user: Spanned<String>,
    repository: Option<String>,
    replaced_by: Option<Spanned<String>>,
    migrated: Option<Spanned<String>>,
}

/// A span and why the value in it is refused.
pub(super) type Refusal = (std::ops::Range<usize>, String);

pub(super) fn compile_ci(file: &CiFile) -> Result<CiPolicy, Refusal> {
    let mut ci = CiPolicy::default();
    for c in &file.cidrs {
        ci.cidrs
            .push(Cidr::parse(c.get_ref()).map_err(|reason| (c.span(), reason))?);
    }
    ci.user_agents.extend(
        file.user_agents
            .iter()
            .map(|p| Glob::new_case_insensitive(p)),
    );
    Ok(ci)
}

pub(super) fn compile_static_key(file: &StaticKeyFile) -> Result<StaticKeyRule, Refusal> {
    if file.user.get_ref().trim().is_empty() {
        return Err((file.user.span(), "user is empty".into()));
    }
    if let Some(r) = &file.replaced_by {
        if !r.get_ref().contains(":role/") {
            return Err((
                r.span(),
                "replaced_by should be a role ARN (arn:aws:iam::ACCOUNT:role/NAME)".into(),
            ));
        }
    }
    let migrated = match &file.migrated {
        None => None,
        Some(m) => Some(
            crate::model::time::parse_date(m.get_ref())
                .or_else(|| crate::model::time::parse_timestamp(m.get_ref()))
                .ok_or_else(|| {
                    (
                        m.span(),
                        format!(
                            "migrated `{}` is not a date (YYYY-MM-DD or an RFC 3339 time)",
                            m.get_ref()
                        ),
                    )
                })?,
        ),
    };
    Ok(StaticKeyRule {
        user: Glob::new(file.user.get_ref()),
        repository: file.repository.clone(),
        replaced_by: file.replaced_by.as_ref().map(|r| r.get_ref().clone()),
        migrated,
    })
}

impl super::Policy {
    /// The `[[static_key]]` that names `user`, the most specific first.
    pub fn static_key_rule(&self, user: &str) -> Option<&StaticKeyRule> {
        self.static_keys
            .iter()
            .filter(|r| r.user.is_match(user))
            .max_by_key(|r| r.user.literal_len())
    }
}
