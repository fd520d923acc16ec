//! The policy file: what each role may be assumed by, and the settings the
//! detections read. `PolicyFile` is the TOML schema as written; [`Policy`] is
//! the validated result (globs compiled, durations in seconds, CIDRs
//! parsed). Without a file, [`Policy::default`] applies the built-in
//! defaults. A malformed policy is an error with its line and column.
//! Imports `model`, `error` and `text`.

pub mod glob;
pub mod keys;
pub mod learn;
pub mod net;
pub mod sensitive;
pub mod suppress;

use serde::Deserialize;
use toml::Spanned;

use self::glob::Glob;
use self::net::Cidr;
use self::sensitive::SensitiveAction;
use crate::error::PolicyError;
use crate::model::subject::normalize_issuer;

/// Deployment tiers, ordered: development < staging < production.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Tier {
    Development = 1,
    Staging = 2,
    Production = 3,
}

impl Tier {
    pub fn as_str(self) -> &'static str {
        match self {
            Tier::Development => "development",
            Tier::Staging => "staging",
            Tier::Production => "production",
        }
    }

    pub fn rank(self) -> i64 {
        self as i64
    }

    pub fn parse(s: &str) -> Option<Tier> {
        match s.trim().to_ascii_lowercase().as_str() {
            "production" | "prod" => Some(Tier::Production),
            "staging" | "stage" => Some(Tier::Staging),
            "development" | "dev" => Some(Tier::Development),
            _ => None,
        }
    }
}

/// Settings the detections read.
#[derive(Debug, Clone)]
pub struct Settings {
    pub max_session_duration: i64,
    pub failure_burst_count: usize,
    pub failure_burst_window: i64,
    pub job_grace: i64,
    pub clock_skew: i64,
    /// Refs counted as the default branch for production roles without
    /// `refs`.
    pub default_branches: Vec<String>,
    /// Days of history `rolecall report` learns from before a never-seen
    /// repository, ref, environment, workflow or trigger is medium, not info.
    pub baseline_days: i64,
    /// Days without exchanges after which a role counts as dormant.
    pub dormant_days: i64,
    /// Days without use after which an active static key is unused.
    pub static_key_unused_days: i64,
    /// Seconds after creation or rotation past which a static key is old.
    pub static_key_max_age: i64,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            max_session_duration: 3600,
            failure_burst_count: 5,
            failure_burst_window: 600,
            job_grace: 300,
            clock_skew: 120,
            default_branches: vec!["refs/heads/main".into(), "refs/heads/master".into()],
            baseline_days: 14,
            dormant_days: 30,
            static_key_unused_days: 30,
            static_key_max_age: 90 * 86_400,
        }
    }
}

/// An issuer the policy trusts, and the audiences it may use.
#[derive(Debug, Clone)]
pub struct IssuerRule {
    pub url: String,
    pub audiences: Vec<String>,
}

/// What one role (or set of roles) may be assumed by. Lists left out are not
/// checked.
#[derive(Debug, Clone)]
pub struct RoleRule {
    pub pattern: Glob,
    pub tier: Option<Tier>,
    pub repositories: Option<Vec<Glob>>,
    pub refs: Option<Vec<Glob>>,
    pub environments: Option<Vec<Glob>>,
    pub events: Option<Vec<Glob>>,
    pub workflows: Option<Vec<Glob>>,
    pub source_cidrs: Option<Vec<Cidr>>,
    pub max_session_duration: Option<i64>,
}

/// A validated policy.
#[derive(Debug, Clone)]
pub struct Policy {
    /// Where it came from: a path, or "built-in defaults".
    pub origin: String,
    pub settings: Settings,
    pub production: Vec<Glob>,
    pub staging: Vec<Glob>,
    pub development: Vec<Glob>,
    pub issuers: Vec<IssuerRule>,
    pub roles: Vec<RoleRule>,
    pub sensitive_actions: Vec<SensitiveAction>,
    /// GCP pool providers (glob on `projects/N/locations/global/
    /// workloadIdentityPools/P/providers/X`) and the issuer each trusts.
    pub gcp_providers: Vec<(Glob, String)>,
    /// Accepted findings: the policy's `[[suppress]]` and `--suppressions`.
    pub suppressions: Vec<suppress::Suppression>,
    /// `[ci]`: what marks a static key's call as CI's.
    pub ci: keys::CiPolicy,
    /// `[[static_key]]`: IAM users known to be CI's.
    pub static_keys: Vec<keys::StaticKeyRule>,
}

fn globs(patterns: &[&str]) -> Vec<Glob> {
    patterns
        .iter()
        .map(|p| Glob::new_case_insensitive(p))
        .collect()
}

impl Default for Policy {
    fn default() -> Self {
        Policy {
            origin: "built-in defaults".into(),
            settings: Settings::default(),
            production: globs(&["*prod*", "*prd*", "*live*"]),
            staging: globs(&["*stag*", "*stg*", "*preprod*", "*nonprod*", "*uat*"]),
            development: globs(&["*dev*", "*test*", "*sandbox*"]),
            issuers: Vec::new(),
            roles: Vec::new(),
            sensitive_actions: sensitive::catalogue(&[], &[]),
            gcp_providers: Vec::new(),
            suppressions: Vec::new(),
            ci: keys::CiPolicy::default(),
            static_keys: Vec::new(),
        }
    }
}

// ---- The file as written ----

#[derive(Deserialize)]
#[serde(untagged)]
enum DurationValue {
    Seconds(i64),
    Text(String),
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct PolicyFile {
    settings: Option<SettingsFile>,
    tiers: Option<TiersFile>,
    #[serde(default, rename = "issuer")]
    issuers: Vec<IssuerFile>,
    #[serde(default, rename = "role")]
    roles: Vec<RoleFile>,
    sensitive_actions: Option<SensitiveFile>,
    #[serde(default, rename = "gcp_provider")]
    gcp_providers: Vec<GcpProviderFile>,
    #[serde(default, rename = "suppress")]
    suppress: Vec<Spanned<suppress::SuppressFile>>,
    ci: Option<keys::CiFile>,
    #[serde(default, rename = "static_key")]
    static_keys: Vec<keys::StaticKeyFile>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct GcpProviderFile {
    name: Spanned<String>,
    issuer: Spanned<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct SettingsFile {
    max_session_duration: Option<Spanned<DurationValue>>,
    failure_burst: Option<BurstFile>,
    job_grace: Option<Spanned<DurationValue>>,
    clock_skew: Option<Spanned<DurationValue>>,
    default_branches: Option<Vec<String>>,
    baseline_days: Option<Spanned<i64>>,
    dormant_days: Option<Spanned<i64>>,
    static_key_unused_days: Option<Spanned<i64>>,
    static_key_max_age: Option<Spanned<DurationValue>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct BurstFile {
    count: Spanned<i64>,
    window: Spanned<DurationValue>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct TiersFile {
    production: Option<Vec<String>>,
    staging: Option<Vec<String>>,
    development: Option<Vec<String>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct IssuerFile {
    url: Spanned<String>,
    audiences: Option<Vec<String>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RoleFile {
    #[serde(rename = "match")]
    pattern: Spanned<String>,
    tier: Option<Spanned<String>>,
    repositories: Option<Vec<String>>,
    refs: Option<Vec<String>>,
    environments: Option<Vec<String>>,
    events: Option<Vec<String>>,
    workflows: Option<Vec<String>>,
    source_cidrs: Option<Vec<Spanned<String>>>,
    max_session_duration: Option<Spanned<DurationValue>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct SensitiveFile {
    #[serde(default)]
    add: Vec<Spanned<String>>,
    #[serde(default)]
    remove: Vec<Spanned<String>>,
}

/// Parses `90s`, `15m`, `1h30m`, `2d` or a bare number of seconds.
pub fn parse_duration(s: &str) -> Result<i64, String> {
    let s = s.trim();
    if s.is_empty() {
        return Err("empty duration".into());
    }
    if let Ok(n) = s.parse::<i64>() {
        return if n >= 0 {
            Ok(n)
        } else {
            Err(format!("`{s}` is negative"))
        };
    }
    let mut total: i64 = 0;
    let mut num = String::new();
    for c in s.chars() {
        if c.is_ascii_digit() {
            num.push(c);
            continue;
        }
        let unit = match c {
            's' => 1,
            'm' => 60,
            'h' => 3600,
            'd' => 86_400,
            'w' => 604_800,
            _ => {
                return Err(format!(
                    "`{s}` is not a duration (use s, m, h, d or w, e.g. 15m or 1h30m)"
                ))
            }
        };
        let n: i64 = num.parse().map_err(|_| {
            format!("`{s}` is not a duration (a number must come before each unit)")
        })?;
        total = n
            .checked_mul(unit)
            .and_then(|v| total.checked_add(v))
            .ok_or_else(|| format!("`{s}` is too long"))?;
        num.clear();
    }
    if !num.is_empty() {
        return Err(format!("`{s}` ends without a unit (s, m, h, d or w)"));
    }
    Ok(total)
}

use crate::model::role_name;

/// 1-based line and column of a byte offset.
fn line_col(text: &str, offset: usize) -> (usize, usize) {
    let offset = offset.min(text.len());
    let before = &text[..offset];
    let line = before.matches('\n').count() + 1;
    let col = before.rfind('\n').map_or(offset, |nl| offset - nl - 1) + 1;
    (line, col)
}

/// A policy file as given: read once, its text kept for the exports
/// and its digest for the report's state and the dataset check.
#[derive(Debug, Clone)]
pub struct PolicySource {
    pub path: String,
    pub text: String,
    /// SHA-256 of the file's bytes, hex.
    pub sha256: String,
}

impl PolicySource {
    pub fn read(path: &str) -> Result<PolicySource, PolicyError> {
        let text = std::fs::read_to_string(path).map_err(|source| PolicyError::Read {
            path: path.to_string(),
            source,
        })?;
        Ok(PolicySource {
            path: path.to_string(),
            sha256: crate::model::fingerprint::sha256_hex(text.as_bytes()),
            text,
        })
    }
}

impl Policy {
    /// Reads and validates a policy file.
    pub fn load(path: &str) -> Result<Policy, PolicyError> {
        let file = PolicySource::read(path)?;
        Policy::parse(path, &file.text)
    }

    /// Validates policy text; `path` names it in errors.
    pub fn parse(path: &str, text: &str) -> Result<Policy, PolicyError> {
        let invalid = |span: std::ops::Range<usize>, reason: String| {
            let (line, column) = line_col(text, span.start);
            PolicyError::Invalid {
                path: path.to_string(),
                line,
                column,
                reason,
            }
        };
        let file: PolicyFile = toml::from_str(text).map_err(|e| {
            let span = e.span().unwrap_or(0..0);
            invalid(span, e.message().to_string())
        })?;
        let duration = |v: &Spanned<DurationValue>| -> Result<i64, PolicyError> {
            match v.get_ref() {
                DurationValue::Seconds(n) if *n >= 0 => Ok(*n),
                DurationValue::Seconds(n) => {
                    Err(invalid(v.span(), format!("duration {n} is negative")))
                }
                DurationValue::Text(t) => parse_duration(t).map_err(|r| invalid(v.span(), r)),
            }
        };

        let mut policy = Policy {
            origin: path.to_string(),
            ..Policy::default()
        };
        if let Some(s) = &file.settings {
            if let Some(v) = &s.max_session_duration {
                policy.settings.max_session_duration = duration(v)?;
            }
            if let Some(b) = &s.failure_burst {
                let count = *b.count.get_ref();
                if count < 1 {
                    return Err(invalid(
                        b.count.span(),
                        "failure_burst.count must be at least 1".into(),
                    ));
                }
                policy.settings.failure_burst_count = count as usize;
                policy.settings.failure_burst_window = duration(&b.window)?;
            }
            if let Some(v) = &s.job_grace {
                policy.settings.job_grace = duration(v)?;
            }
            if let Some(v) = &s.clock_skew {
                policy.settings.clock_skew = duration(v)?;
            }
            if let Some(v) = &s.static_key_max_age {
                let age = duration(v)?;
                if age < 86_400 {
                    return Err(invalid(
                        v.span(),
                        "static_key_max_age must be at least a day (e.g. 90d)".into(),
                    ));
                }
                policy.settings.static_key_max_age = age;
            }
            for (value, target, name) in [
                (
                    &s.baseline_days,
                    &mut policy.settings.baseline_days,
                    "baseline_days",
                ),
                (
                    &s.dormant_days,
                    &mut policy.settings.dormant_days,
                    "dormant_days",
                ),
                (
                    &s.static_key_unused_days,
                    &mut policy.settings.static_key_unused_days,
                    "static_key_unused_days",
                ),
            ] {
                if let Some(v) = value {
                    let days = *v.get_ref();
                    if !(1..=3650).contains(&days) {
                        return Err(invalid(
                            v.span(),
                            format!("{name} must be between 1 and 3650 days"),
                        ));
                    }
                    *target = days;
                }
            }
            if let Some(b) = &s.default_branches {
                policy.settings.default_branches = b
                    .iter()
                    .map(|r| {
                        crate::model::refs::normalize_ref(r, Some("branch")).unwrap_or_default()
                    })
                    .collect();
            }
        }
        if let Some(t) = &file.tiers {
            let compile = |v: &Option<Vec<String>>, default: &Vec<Glob>| match v {
                Some(list) => list.iter().map(|p| Glob::new_case_insensitive(p)).collect(),
                None => default.clone(),
            };
            policy.production = compile(&t.production, &policy.production);
            policy.staging = compile(&t.staging, &policy.staging);
            policy.development = compile(&t.development, &policy.development);
        }
        for i in &file.issuers {
            if i.url.get_ref().trim().is_empty() {
                return Err(invalid(i.url.span(), "issuer url is empty".into()));
            }
            policy.issuers.push(IssuerRule {
                url: normalize_issuer(i.url.get_ref()),
                audiences: i.audiences.clone().unwrap_or_default(),
            });
        }
        for r in &file.roles {
            let tier = match &r.tier {
                None => None,
                Some(t) => Some(Tier::parse(t.get_ref()).ok_or_else(|| {
                    invalid(
                        t.span(),
                        format!(
                            "unknown tier `{}` (expected production, staging or development)",
                            t.get_ref()
                        ),
                    )
                })?),
            };
            let source_cidrs = match &r.source_cidrs {
                None => None,
                Some(list) => Some(
                    list.iter()
                        .map(|c| {
                            Cidr::parse(c.get_ref()).map_err(|reason| invalid(c.span(), reason))
                        })
                        .collect::<Result<Vec<_>, _>>()?,
                ),
            };
            let ci = |v: &Option<Vec<String>>| {
                v.as_ref()
                    .map(|l| l.iter().map(|p| Glob::new_case_insensitive(p)).collect())
            };
            let cs = |v: &Option<Vec<String>>| {
                v.as_ref().map(|l| l.iter().map(|p| Glob::new(p)).collect())
            };
            policy.roles.push(RoleRule {
                pattern: Glob::new(r.pattern.get_ref()),
                tier,
                repositories: ci(&r.repositories),
                refs: cs(&r.refs),
                environments: ci(&r.environments),
                events: cs(&r.events),
                workflows: cs(&r.workflows),
                source_cidrs,
                max_session_duration: r.max_session_duration.as_ref().map(duration).transpose()?,
            });
        }
        for g in &file.gcp_providers {
            if !g.name.get_ref().contains("workloadIdentityPools/") {
                return Err(invalid(
                    g.name.span(),
                    "name should be projects/N/locations/global/workloadIdentityPools/POOL/providers/PROVIDER".into(),
                ));
            }
            if g.issuer.get_ref().trim().is_empty() {
                return Err(invalid(g.issuer.span(), "issuer is empty".into()));
            }
            policy.gcp_providers.push((
                Glob::new(g.name.get_ref()),
                normalize_issuer(g.issuer.get_ref()),
            ));
        }
        if let Some(s) = &file.sensitive_actions {
            let parse = |list: &Vec<Spanned<String>>| {
                list.iter()
                    .map(|e| sensitive::parse_entry(e.get_ref()).map_err(|r| invalid(e.span(), r)))
                    .collect::<Result<Vec<_>, _>>()
            };
            policy.sensitive_actions = sensitive::catalogue(&parse(&s.add)?, &parse(&s.remove)?);
        }
        policy.suppressions = suppress::compile(path, text, &file.suppress)?;
        if let Some(ci) = &file.ci {
            policy.ci = keys::compile_ci(ci).map_err(|(span, reason)| invalid(span, reason))?;
        }
        for k in &file.static_keys {
            policy
                .static_keys
                .push(keys::compile_static_key(k).map_err(|(span, reason)| invalid(span, reason))?);
        }
        Ok(policy)
    }

    /// The first `[[role]]` whose `match` fits the role ARN.
    pub fn role_rule(&self, role_arn: &str) -> Option<&RoleRule> {
        self.roles.iter().find(|r| r.pattern.is_match(role_arn))
    }

    /// The first `[[role]]` whose `match` fits the role or its second
    /// identifier (an Entra application id, a service account's unique id).
    pub fn role_rule_for(&self, role: &str, role_id: Option<&str>) -> Option<&RoleRule> {
        self.roles
            .iter()
            .find(|r| r.pattern.is_match(role) || role_id.is_some_and(|id| r.pattern.is_match(id)))
    }

    /// [`Policy::role_tier`] for a role with a second identifier.
    pub fn role_tier_for(&self, role: &str, role_id: Option<&str>) -> (Option<Tier>, bool) {
        if let Some(t) = self.role_rule_for(role, role_id).and_then(|r| r.tier) {
            return (Some(t), false);
        }
        self.role_tier(role)
    }

    /// The issuer a GCP workload identity pool provider trusts, as the
    /// policy's `[[gcp_provider]]` says.
    pub fn gcp_issuer(&self, provider: &str) -> Option<&str> {
        let provider = provider
            .trim_start_matches("//iam.googleapis.com/")
            .trim_start_matches("https://iam.googleapis.com/");
        self.gcp_providers
            .iter()
            .find(|(name, _)| name.is_match(provider))
            .map(|(_, issuer)| issuer.as_str())
    }

    /// The tier a name suggests under `[tiers]`: the most specific matching
    /// pattern wins (`*preprod*` beats `*prod*`); a tie between tiers is
    /// no answer.
    pub fn tier_of_name(&self, name: &str) -> Option<Tier> {
        let mut best: Option<(usize, Tier)> = None;
        let mut tied = false;
        for (tier, list) in [
            (Tier::Production, &self.production),
            (Tier::Staging, &self.staging),
            (Tier::Development, &self.development),
        ] {
            for g in list.iter().filter(|g| g.is_match(name)) {
                let len = g.literal_len();
                match best {
                    Some((b, t)) if len == b && t != tier => tied = true,
                    Some((b, _)) if len <= b => {}
                    _ => {
                        best = Some((len, tier));
                        tied = false;
                    }
                }
            }
        }
        if tied {
            None
        } else {
            best.map(|(_, t)| t)
        }
    }

    /// A role's tier: the policy's `tier`, else what its name suggests.
    /// Returns the tier and whether it was inferred.
    pub fn role_tier(&self, role_arn: &str) -> (Option<Tier>, bool) {
        if let Some(t) = self.role_rule(role_arn).and_then(|r| r.tier) {
            return (Some(t), false);
        }
        (self.tier_of_name(role_name(role_arn)), true)
    }

    /// The policy entry for an issuer, if the policy lists it.
    pub fn issuer_rule(&self, issuer: &str) -> Option<&IssuerRule> {
        let issuer = normalize_issuer(issuer);
        self.issuers.iter().find(|i| i.url == issuer)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const EXAMPLE: &str = r#"
[settings]
max_session_duration = "1h"
failure_burst = { count = 5, window = "10m" }
job_grace = "5m"

[tiers]
production = ["*prod*", "*prd*", "*live*"]
staging = ["*stag*", "*stg*", "*preprod*", "*nonprod*", "*uat*"]
development = ["*dev*", "*test*", "*sandbox*"]

[[issuer]]
url = "https://token.actions.githubusercontent.com"
audiences = ["sts.amazonaws.com"]

[[role]]
match = "arn:aws:iam::111111111111:role/deploy-prod"
tier = "production"
repositories = ["acme/payments", "acme/web"]
refs = ["refs/heads/main", "refs/tags/v*"]
environments = ["production"]
events = ["push", "workflow_dispatch", "release"]
workflows = ["acme/*/.github/workflows/deploy.yml@*"]
source_cidrs = ["20.0.0.0/8"]
max_session_duration = "15m"
"#;

    #[test]
    fn the_documented_example_parses() {
        let p = Policy::parse("rolecall.toml", EXAMPLE).unwrap();
        assert_eq!(p.settings.failure_burst_window, 600);
        assert_eq!(p.issuers[0].audiences, vec!["sts.amazonaws.com"]);
        let r = p
            .role_rule("arn:aws:iam::111111111111:role/deploy-prod")
            .unwrap();
        assert_eq!(r.tier, Some(Tier::Production));
        assert_eq!(r.max_session_duration, Some(900));
        assert!(p.role_rule("arn:aws:iam::1:role/other").is_none());
    }

    #[test]
    fn errors_carry_line_and_reason() {
        let bad = "[settings]\njob_grace = \"5x\"\n";
        let e = Policy::parse("p.toml", bad).unwrap_err().to_string();
        assert!(e.starts_with("p.toml: line 2, column 13:"), "{e}");
        assert!(e.contains("not a duration"), "{e}");

        let e = Policy::parse("p.toml", "[[role]]\nmatch = \"x\"\ntier = \"prodd\"\n")
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("line 3") && e.contains("unknown tier `prodd`"),
            "{e}"
        );

        let e = Policy::parse(
            "p.toml",
            "[[role]]\nmatch = \"x\"\nsource_cidrs = [\"1.2.3.4/40\"]\n",
        )
        .unwrap_err()
        .to_string();
        assert!(e.contains("line 3") && e.contains("prefix length"), "{e}");

        let e = Policy::parse("p.toml", "[[role]]\nmatch = \"x\"\nrepos = []\n")
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("line 3") && e.contains("unknown field `repos`"),
            "{e}"
        );

        let e = Policy::parse("p.toml", "[settings\n")
            .unwrap_err()
            .to_string();
        assert!(e.contains("line 1"), "{e}");

        let e = Policy::parse("p.toml", "[sensitive_actions]\nadd = [\"CreateUser\"]\n")
            .unwrap_err()
            .to_string();
        assert!(e.contains("service:Action"), "{e}");
    }

    #[test]
    fn tiers_prefer_the_most_specific_pattern() {
        let p = Policy::default();
        assert_eq!(p.tier_of_name("deploy-prod"), Some(Tier::Production));
        assert_eq!(p.tier_of_name("deploy-preprod"), Some(Tier::Staging));
        assert_eq!(p.tier_of_name("NonProd-Deployer"), Some(Tier::Staging));
        assert_eq!(p.tier_of_name("staging"), Some(Tier::Staging));
        assert_eq!(p.tier_of_name("dev-sandbox"), Some(Tier::Development));
        assert_eq!(p.tier_of_name("github-actions"), None);
        // "prod" and "test" are equally specific: no answer rather than a guess.
        assert_eq!(p.tier_of_name("prod-latest"), None);
        assert_eq!(
            p.role_tier("arn:aws:iam::1:role/app/deploy-prod"),
            (Some(Tier::Production), true)
        );
    }

    #[test]
    fn durations() {
        assert_eq!(parse_duration("1h30m").unwrap(), 5400);
        assert_eq!(parse_duration("900").unwrap(), 900);
        assert_eq!(parse_duration("2d").unwrap(), 172_800);
        assert!(parse_duration("15").is_ok());
        assert!(parse_duration("m").is_err());
        assert!(parse_duration("10").is_ok());
        assert!(parse_duration("5 min").is_err());
        assert!(parse_duration("99999999999999999999w").is_err());
    }

    #[test]
    fn sensitive_actions_extend_and_shrink() {
        let p = Policy::parse(
            "p.toml",
            "[sensitive_actions]\nadd = [\"secretsmanager:GetSecretValue\"]\nremove = [\"kms:DisableKey\"]\n",
        )
        .unwrap();
        assert!(p
            .sensitive_actions
            .iter()
            .any(|s| s.service == "secretsmanager.amazonaws.com"));
        assert!(!p.sensitive_actions.iter().any(|s| s.action == "DisableKey"));
        assert!(p.sensitive_actions.iter().any(|s| s.action == "CreateUser"));
    }

    #[test]
    fn roles_match_by_second_identifier_and_name() {
        let p = Policy::parse(
            "p",
            "[[role]]\nmatch = \"6131d760-*\"\ntier = \"production\"\n[[gcp_provider]]\nname = \"projects/1/locations/global/workloadIdentityPools/gh/providers/*\"\nissuer = \"https://token.actions.githubusercontent.com\"\n",
        )
        .unwrap();
        assert_eq!(
            p.role_tier_for("Terraform-Datadog-CLI", Some("6131d760-7fda")),
            (Some(Tier::Production), false)
        );
        assert_eq!(
            role_name("deploy-prod@acme.iam.gserviceaccount.com"),
            "deploy-prod"
        );
        assert_eq!(role_name("auth/jwt/role/tfc-prod"), "tfc-prod");
        assert_eq!(
            p.gcp_issuer(
                "//iam.googleapis.com/projects/1/locations/global/workloadIdentityPools/gh/providers/github"
            ),
            Some("https://token.actions.githubusercontent.com")
        );
        let e = Policy::parse("p", "[[gcp_provider]]\nname = \"github\"\nissuer = \"x\"\n")
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("line 2") && e.contains("workloadIdentityPools"),
            "{e}"
        );
    }

    #[test]
    fn issuers_normalize() {
        let p = Policy::parse(
            "p",
            "[[issuer]]\nurl = \"https://Token.Actions.GitHubUserContent.com/\"\n",
        )
        .unwrap();
        assert!(p
            .issuer_rule("https://token.actions.githubusercontent.com")
            .is_some());
    }
}
