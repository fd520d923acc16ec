//! What a trust statement admits, found by asking it: rolecall builds
//! tokens the statement's author did not have in mind (a repository of
//! another owner, another repository of the same owner, an arbitrary
//! branch, a pull request, an unexpected audience) and evaluates the policy
//! on each, exactly as for a real token.
//!
//! Probing judges what a statement *does*, not how it is spelled: a
//! `StringLike` of `repo:acme/*` and a `StringEquals` on `repository_owner`
//! both admit every repository of `acme`; a `job_workflow_ref` condition
//! alone admits any repository able to call that workflow; a condition on
//! another provider's keys admits nothing. Each probe is a complete claim
//! set: every claim the probe is not about takes a value the policy itself
//! asks for (the first value of a condition on it), so unrelated conditions
//! never hide breadth. Explicit denies apply to probes as to tokens.
//!
//! Limits, stated rather than guessed: probes use the provider's default
//! subject format (plus the statement's own subjects with their wildcards
//! filled in and their repository swapped), so a customized GitHub subject
//! template may hide a breadth that a default-format probe cannot reach.

use serde_json::{Map, Value};

use super::condition::{has_wildcard, Truth};
use super::context::{key_prefix, Context, ASSUME_WEB_IDENTITY};
use super::evaluate::{action_matches, statement_applies};
use crate::model::policy_doc::{BaseOp, Condition, Effect, PolicyDocument, Qualifier, Statement};
use crate::model::subject::{
    issuer_from_provider_arn, normalize_issuer, provider_from_issuer, Provider,
};

/// The pseudo issuer of a statement trusting `Federated: "*"` with no
/// provider-specific condition keys: no real token carries its keys.
pub const ANY_PROVIDER: &str = "https://any-provider.rolecall.invalid";

pub const PROBE_OWNER: &str = "rolecall-probe-owner";
pub const PROBE_REPO: &str = "rolecall-probe-repo";
pub const PROBE_BRANCH: &str = "refs/heads/rolecall-probe-branch";
pub const PROBE_ENV: &str = "rolecall-probe-environment";
pub const PROBE_AUDIENCE: &str = "rolecall-probe-audience";

/// Claims that identify the workload (the repository or project running
/// the job), per provider. A condition on one of them "pins" the workload;
/// a statement that admits foreign workloads without any such condition is
/// `trust-no-subject-condition`, with one it is `trust-wildcard-subject`.
pub fn identity_claims(provider: Option<Provider>) -> &'static [&'static str] {
    match provider {
        Some(Provider::GithubActions) => &[
            "sub",
            "repository",
            "repository_id",
            "repository_owner",
            "repository_owner_id",
            "job_workflow_ref",
            "workflow_ref",
            "enterprise",
            "enterprise_id",
        ],
        Some(Provider::Gitlab) => &[
            "sub",
            "project_path",
            "project_id",
            "namespace_path",
            "namespace_id",
            "ci_config_ref_uri",
        ],
        Some(Provider::Circleci) => &["sub", "oidc.circleci.com/project-id"],
        _ => &["sub"],
    }
}

/// Claims that are lists in real tokens (every other claim is a single
/// value, and `ForAllValues:` on it is the trap).
pub const MULTI_VALUED_CLAIMS: &[&str] = &["amr", "groups"];

/// A provider a statement trusts, as far as its keys and principal say.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Trusted {
    /// The `Federated` value as written (`*` for a wildcard principal).
    pub principal: String,
    /// Normalized issuer, or [`ANY_PROVIDER`].
    pub issuer: String,
    pub provider: Option<Provider>,
}

/// An `Allow` statement that lets some web identity assume the role.
pub struct WebStatement<'a> {
    pub statement: &'a Statement,
    pub trusted: Vec<Trusted>,
}

/// Whether the statement covers `sts:AssumeRoleWithWebIdentity`.
fn covers_web_identity(st: &Statement) -> bool {
    match (&st.action, &st.not_action) {
        (Some(a), _) => a.iter().any(|p| action_matches(p, ASSUME_WEB_IDENTITY)),
        (None, Some(na)) => !na.iter().any(|p| action_matches(p, ASSUME_WEB_IDENTITY)),
        _ => false,
    }
}

/// The issuers named by a statement's condition-key prefixes.
fn issuers_from_keys(st: &Statement) -> Vec<String> {
    let mut out: Vec<String> = st
        .conditions
        .iter()
        .filter_map(|c| c.split_key())
        .map(|(prefix, _)| prefix.to_ascii_lowercase())
        .filter(|p| !matches!(p.as_str(), "aws" | "sts" | "iam"))
        .map(|p| normalize_issuer(&format!("https://{p}")))
        .collect();
    out.sort();
    out.dedup();
    out
}

/// The web-identity `Allow` statements of a document and whom they trust.
pub fn web_statements(doc: &PolicyDocument) -> Vec<WebStatement<'_>> {
    let mut out = Vec::new();
    for st in &doc.statements {
        if st.effect != Effect::Allow || !covers_web_identity(st) {
            continue;
        }
        let Some(p) = &st.principal else { continue };
        let mut values: Vec<String> = p
            .of_type("Federated")
            .iter()
            .map(|s| s.to_string())
            .collect();
        if p.is_everyone() {
            values.push("*".into());
        }
        let mut trusted = Vec::new();
        for v in values {
            if v == "*" {
                let issuers = issuers_from_keys(st);
                if issuers.is_empty() {
                    trusted.push(Trusted {
                        principal: v.clone(),
                        issuer: ANY_PROVIDER.into(),
                        provider: None,
                    });
                }
                for issuer in issuers {
                    trusted.push(Trusted {
                        principal: v.clone(),
                        provider: provider_from_issuer(&issuer),
                        issuer,
                    });
                }
                continue;
            }
            let issuer = if v.starts_with("arn:") {
                match issuer_from_provider_arn(&v) {
                    Some(i) => i,
                    // A SAML provider or another principal type: not OIDC.
                    None => continue,
                }
            } else {
                normalize_issuer(&v)
            };
            trusted.push(Trusted {
                principal: v.clone(),
                provider: provider_from_issuer(&issuer),
                issuer,
            });
        }
        if !trusted.is_empty() {
            out.push(WebStatement {
                statement: st,
                trusted,
            });
        }
    }
    out
}

/// Whether a federated role: some statement trusts a federated principal.
pub fn is_federated(doc: &PolicyDocument) -> bool {
    doc.statements.iter().any(|s| !s.federated().is_empty())
}

/// Conditions of `st` on claim keys of `issuer` (keys compared
/// case-insensitively), with the claim name lower-cased.
pub fn claim_conditions<'a>(st: &'a Statement, issuer: &str) -> Vec<(String, &'a Condition)> {
    let prefix = key_prefix(issuer);
    st.conditions
        .iter()
        .filter_map(|c| {
            let (p, claim) = c.split_key()?;
            (p.to_ascii_lowercase() == prefix).then(|| (claim.to_ascii_lowercase(), c))
        })
        .collect()
}

/// Whether a condition constrains its claim to chosen values (rather than
/// excluding some, or testing presence).
pub fn is_positive(c: &Condition) -> bool {
    c.operator.base.is_string() && !c.operator.base.negated()
}

/// A condition value with its wildcards filled in: `*` → `fill`, `?` → `x`.
fn instantiate(value: &str, fill: &str) -> String {
    let v = value
        .replace("${*}", "*")
        .replace("${?}", "?")
        .replace("${$}", "$");
    if !has_wildcard(value) {
        return v;
    }
    let mut out = String::new();
    for ch in value
        .replace("${*}", "\u{1}")
        .replace("${?}", "\u{2}")
        .chars()
    {
        match ch {
            '*' => out.push_str(fill),
            '?' => out.push('x'),
            '\u{1}' => out.push('*'),
            '\u{2}' => out.push('?'),
            c => out.push(c),
        }
    }
    out
}

/// What a probe is about.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Run {
    Ref(String),
    Env(String),
    PullRequest,
}

/// The repositories a statement names: `owner/repo` literals, and owners
/// named without a repository.
fn named_workloads(conds: &[(String, &Condition)]) -> (Vec<String>, Vec<String>) {
    let mut repos = Vec::new();
    let mut owners = Vec::new();
    for (claim, c) in conds.iter().filter(|(_, c)| is_positive(c)) {
        for v in &c.values {
            let literal_prefix: &str = v.split(['*', '?']).next().unwrap_or("");
            let repo_part = match claim.as_str() {
                "sub" => literal_prefix
                    .strip_prefix("repo:")
                    .or_else(|| literal_prefix.strip_prefix("project_path:"))
                    .map(|r| r.split(':').next().unwrap_or("")),
                "repository" | "project_path" => Some(literal_prefix),
                "repository_owner" | "namespace_path" => {
                    if !literal_prefix.is_empty() && literal_prefix == v {
                        owners.push(v.clone());
                    }
                    None
                }
                _ => None,
            };
            let Some(r) = repo_part else { continue };
            match r.split_once('/') {
                Some((o, name)) if !o.is_empty() => {
                    owners.push(o.to_string());
                    // Only a repository name written out in full.
                    let whole = v
                        .strip_prefix("repo:")
                        .or_else(|| v.strip_prefix("project_path:"))
                        .unwrap_or(v);
                    let whole = whole.split(':').next().unwrap_or("");
                    if !name.is_empty() && !has_wildcard(whole) && claim != "repository_owner" {
                        repos.push(format!("{o}/{name}"));
                    }
                }
                _ => {}
            }
        }
    }
    repos.sort();
    repos.dedup();
    owners.sort();
    owners.dedup();
    (repos, owners)
}

/// Builds probe tokens for one statement and issuer.
struct Prober<'a> {
    doc: &'a PolicyDocument,
    st: &'a Statement,
    trusted: &'a Trusted,
    /// A value the policy asks for, per claim (for claims a probe is not
    /// about).
    friendly: Map<String, Value>,
    account: Option<String>,
}

impl Prober<'_> {
    fn admits(&self, claims: &Map<String, Value>) -> bool {
        let arn = self
            .trusted
            .principal
            .starts_with("arn:")
            .then_some(self.trusted.principal.as_str());
        let ctx = Context::for_claims(&self.trusted.issuer, arn, claims)
            .with_account(self.account.as_deref());
        let vars = self.doc.variables_enabled();
        if statement_applies(self.st, &ctx, vars).0 != Truth::True {
            return false;
        }
        !self
            .doc
            .statements
            .iter()
            .any(|d| d.effect == Effect::Deny && statement_applies(d, &ctx, vars).0 == Truth::True)
    }

    fn friendly(&self, claim: &str) -> Option<String> {
        self.friendly
            .get(claim)
            .and_then(Value::as_str)
            .map(str::to_string)
    }

    /// A default-format token of `owner/repo` for `run`; `same_repo` keeps
    /// the statement's repository and owner ids, `same_owner` the owner's.
    fn token(
        &self,
        owner: &str,
        repo: &str,
        run: &Run,
        same_repo: bool,
        same_owner: bool,
    ) -> Map<String, Value> {
        let mut c = self.friendly.clone();
        let full = format!("{owner}/{repo}");
        let (git_ref, event, env) = match run {
            Run::Ref(r) => (r.clone(), "push", None),
            Run::Env(e) => (
                self.friendly("ref")
                    .unwrap_or_else(|| "refs/heads/main".into()),
                "push",
                Some(e.clone()),
            ),
            Run::PullRequest => ("refs/pull/1/merge".to_string(), "pull_request", None),
        };
        let set = |c: &mut Map<String, Value>, k: &str, v: &str| {
            c.insert(k.to_string(), Value::String(v.to_string()));
        };
        match self.trusted.provider {
            Some(Provider::Gitlab) => {
                let branch = git_ref
                    .strip_prefix("refs/heads/")
                    .unwrap_or(&git_ref)
                    .to_string();
                set(
                    &mut c,
                    "sub",
                    &format!("project_path:{full}:ref_type:branch:ref:{branch}"),
                );
                set(&mut c, "project_path", &full);
                set(&mut c, "namespace_path", owner);
                set(&mut c, "ref", &branch);
                set(&mut c, "ref_type", "branch");
                let source = if *run == Run::PullRequest {
                    "merge_request_event"
                } else {
                    "push"
                };
                set(&mut c, "pipeline_source", source);
                if !same_repo {
                    set(&mut c, "project_id", "0");
                    c.remove("ci_config_ref_uri");
                }
                if !same_owner {
                    set(&mut c, "namespace_id", "0");
                }
                match &env {
                    Some(e) => set(&mut c, "environment", e),
                    None => {
                        c.remove("environment");
                    }
                }
            }
            Some(Provider::GithubActions) | None => {
                let context = match run {
                    Run::Ref(r) => format!("ref:{r}"),
                    Run::Env(e) => format!("environment:{e}"),
                    Run::PullRequest => "pull_request".into(),
                };
                set(&mut c, "sub", &format!("repo:{full}:{context}"));
                set(&mut c, "repository", &full);
                set(&mut c, "repository_owner", owner);
                set(&mut c, "ref", &git_ref);
                set(&mut c, "ref_type", "branch");
                set(&mut c, "event_name", event);
                if !same_repo {
                    set(&mut c, "repository_id", "0");
                }
                if !same_owner {
                    set(&mut c, "repository_owner_id", "0");
                    c.remove("enterprise");
                    c.remove("enterprise_id");
                }
                // A job_workflow_ref the policy asks for can be called from
                // another repository (a reusable workflow): keep it. Without
                // one, the workflow is the probe repository's own.
                if !c.contains_key("job_workflow_ref") {
                    set(
                        &mut c,
                        "job_workflow_ref",
                        &format!("{full}/.github/workflows/ci.yml@{git_ref}"),
                    );
                }
                match &env {
                    Some(e) => set(&mut c, "environment", e),
                    None => {
                        c.remove("environment");
                    }
                }
            }
            Some(_) => {
                set(&mut c, "sub", &format!("{full}:{}", context_text(run)));
            }
        }
        if !c.contains_key("aud") {
            set(&mut c, "aud", "sts.amazonaws.com");
        }
        c
    }
}

fn context_text(run: &Run) -> String {
    match run {
        Run::Ref(r) => format!("ref:{r}"),
        Run::Env(e) => format!("environment:{e}"),
        Run::PullRequest => "pull_request".into(),
    }
}

/// What one statement admits for one trusted provider.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct Breadth {
    /// Identity claims the statement constrains (`sub`, `repository`...).
    pub pinned_by: Vec<String>,
    /// No token rolecall can build is admitted (conditions on keys the
    /// provider never sets, or a subject format rolecall cannot build).
    pub admits_nothing_constructible: bool,
    /// A repository of an owner the statement never names is admitted.
    pub any_owner: bool,
    /// Owners whose every repository is admitted.
    pub every_repository_of: Vec<String>,
    /// Named repositories any of whose branches is admitted.
    pub any_branch_of: Vec<String>,
    /// Named repositories any of whose environments is admitted.
    pub any_environment_of: Vec<String>,
    /// Where pull-request runs are admitted: `owner/repo`, `owner/*`, `*`.
    pub pull_requests_from: Vec<String>,
    /// A token with an audience the statement never names is admitted.
    pub any_audience: bool,
    /// Audiences the statement names (positive conditions on `aud`).
    pub audiences: Vec<String>,
    /// Whether a token with each expected audience is admitted (filled by
    /// [`Breadth::admits_audience`] callers).
    #[serde(skip)]
    base_token: Option<Map<String, Value>>,
}

/// Probes one statement for one trusted provider.
pub fn breadth(
    doc: &PolicyDocument,
    st: &Statement,
    trusted: &Trusted,
    account: Option<&str>,
) -> Breadth {
    let conds = claim_conditions(st, &trusted.issuer);
    let mut friendly = Map::new();
    for (claim, c) in conds.iter().filter(|(_, c)| is_positive(c)) {
        if let Some(v) = c.values.first() {
            friendly
                .entry(claim.clone())
                .or_insert_with(|| Value::String(instantiate(v, "")));
        }
    }
    let mut out = Breadth {
        pinned_by: {
            let ids = identity_claims(trusted.provider);
            let mut p: Vec<String> = conds
                .iter()
                .filter(|(claim, c)| is_positive(c) && ids.contains(&claim.as_str()))
                .map(|(claim, _)| claim.clone())
                .collect();
            p.sort();
            p.dedup();
            p
        },
        audiences: {
            let mut a: Vec<String> = conds
                .iter()
                .filter(|(claim, c)| claim == "aud" && is_positive(c))
                .flat_map(|(_, c)| c.values.iter().cloned())
                .collect();
            a.sort();
            a.dedup();
            a
        },
        ..Default::default()
    };
    let prober = Prober {
        doc,
        st,
        trusted,
        friendly,
        account: account.map(str::to_string),
    };
    let (repos, owners) = named_workloads(&conds);
    // The runs to try for a repository: the statement's own contexts, the
    // default branch, an environment.
    let mut runs = vec![
        Run::Ref(
            prober
                .friendly("ref")
                .unwrap_or_else(|| "refs/heads/main".into()),
        ),
        Run::Env(
            prober
                .friendly("environment")
                .unwrap_or_else(|| "production".into()),
        ),
    ];
    for (claim, c) in conds.iter().filter(|(k, c)| k == "sub" && is_positive(c)) {
        let _ = claim;
        for v in &c.values {
            let v = instantiate(v, "");
            if let Some(i) = v.find(":ref:") {
                runs.push(Run::Ref(
                    v[i + 5..].split(':').next().unwrap_or("").to_string(),
                ));
            }
            if let Some(i) = v.find(":environment:") {
                runs.push(Run::Env(
                    v[i + 13..].split(':').next().unwrap_or("").to_string(),
                ));
            }
        }
    }
    runs.push(Run::PullRequest);
    runs.dedup();
    let mut base: Option<Map<String, Value>> = None;
    let try_runs = |owner: &str,
                    repo: &str,
                    same_repo: bool,
                    same_owner: bool,
                    base: &mut Option<Map<String, Value>>|
     -> bool {
        for run in &runs {
            let t = prober.token(owner, repo, run, same_repo, same_owner);
            if prober.admits(&t) {
                if base.is_none() {
                    *base = Some(t);
                }
                return true;
            }
        }
        false
    };
    // The statement's own repositories first (they give the base token),
    // then the statement's own subjects with wildcards filled in.
    for r in &repos {
        let (o, n) = r.split_once('/').unwrap_or((r, ""));
        try_runs(o, n, true, true, &mut base);
    }
    if base.is_none() {
        for (_, c) in conds.iter().filter(|(k, c)| k == "sub" && is_positive(c)) {
            for v in &c.values {
                let mut t = prober.friendly.clone();
                t.insert("sub".into(), Value::String(instantiate(v, "x")));
                t.entry("aud")
                    .or_insert_with(|| Value::String("sts.amazonaws.com".into()));
                if prober.admits(&t) {
                    base = Some(t);
                    break;
                }
            }
        }
    }
    // Runs (branches, environments, pull requests) mean something in
    // GitHub's and GitLab's tokens; environments are in GitHub's subject
    // only (a GitLab subject pins the branch whatever the environment).
    let git = matches!(
        trusted.provider,
        Some(Provider::GithubActions) | Some(Provider::Gitlab)
    );
    let github = trusted.provider == Some(Provider::GithubActions);
    out.any_owner = try_runs(PROBE_OWNER, PROBE_REPO, false, false, &mut base);
    if out.any_owner && git {
        out.pull_requests_from.push("*".into());
    }
    for o in &owners {
        if try_runs(o, PROBE_REPO, false, true, &mut base) {
            out.every_repository_of.push(o.clone());
            let pr = prober.token(o, PROBE_REPO, &Run::PullRequest, false, true);
            if git && !out.any_owner && prober.admits(&pr) {
                out.pull_requests_from.push(format!("{o}/*"));
            }
        }
    }
    for r in repos.iter().filter(|_| git) {
        let (o, n) = r.split_once('/').unwrap_or((r, ""));
        if prober.admits(&prober.token(o, n, &Run::Ref(PROBE_BRANCH.into()), true, true)) {
            out.any_branch_of.push(r.clone());
        }
        if github && prober.admits(&prober.token(o, n, &Run::Env(PROBE_ENV.into()), true, true)) {
            out.any_environment_of.push(r.clone());
        }
        let covered = out.any_owner || out.every_repository_of.iter().any(|x| x == o);
        if !covered && prober.admits(&prober.token(o, n, &Run::PullRequest, true, true)) {
            out.pull_requests_from.push(r.clone());
        }
    }
    out.admits_nothing_constructible = base.is_none();
    if let Some(b) = &base {
        let mut t = b.clone();
        t.insert("aud".into(), Value::String(PROBE_AUDIENCE.into()));
        out.any_audience = prober.admits(&t);
    } else {
        // Nothing to probe with: judge the spelling.
        out.any_audience = !conds.iter().any(|(k, c)| k == "aud" && is_positive(c));
    }
    out.base_token = base;
    out
}

impl Breadth {
    /// Whether a token like the admitted one, with audience `aud`, would
    /// be admitted. `None` when no token could be built.
    pub fn admits_audience(
        &self,
        doc: &PolicyDocument,
        st: &Statement,
        trusted: &Trusted,
        account: Option<&str>,
        aud: &str,
    ) -> Option<bool> {
        let mut t = self.base_token.clone()?;
        t.insert("aud".into(), Value::String(aud.to_string()));
        let prober = Prober {
            doc,
            st,
            trusted,
            friendly: Map::new(),
            account: account.map(str::to_string),
        };
        Some(prober.admits(&t))
    }
}

/// Whether a `sub` pattern can match a subject of the provider's known
/// formats. `wildcards` says whether `*` and `?` are wildcards
/// (`StringLike`) or literal characters (`StringEquals`). `None` when the
/// provider's formats are not known (a generic issuer).
pub fn subject_format_known(
    provider: Option<Provider>,
    pattern: &str,
    wildcards: bool,
) -> Option<bool> {
    let wild = |t: &str| wildcards && (t.contains('*'));
    let tokens: Vec<&str> = pattern.split(':').collect();
    match provider? {
        Provider::GithubActions => {
            let mut i = 0;
            while i < tokens.len() {
                let t = tokens[i];
                if wild(t) {
                    return Some(true);
                }
                if t == "pull_request" {
                    i += 1;
                    continue;
                }
                if !crate::model::subject::GITHUB_SUBJECT_KEYS.contains(&t) || i + 1 >= tokens.len()
                {
                    return Some(false);
                }
                let v = tokens[i + 1];
                if wild(v) {
                    return Some(true);
                }
                if (t == "ref" && !v.starts_with("refs/"))
                    || ((t == "repo" || t == "repository") && !v.contains('/'))
                {
                    return Some(false);
                }
                if wildcards && v.contains('?') {
                    // `?` stands for one character: still this key's value.
                }
                i += 2;
            }
            Some(i > 0)
        }
        Provider::Gitlab => {
            const KEYS: &[&str] = &[
                "project_path",
                "ref_type",
                "ref",
                "environment",
                "pipeline_source",
            ];
            if tokens.first().is_some_and(|t| wild(t)) {
                return Some(true);
            }
            if tokens.first() != Some(&"project_path") {
                return Some(false);
            }
            let mut i = 0;
            while i < tokens.len() {
                let t = tokens[i];
                if wild(t) {
                    return Some(true);
                }
                if !KEYS.contains(&t) || i + 1 >= tokens.len() {
                    return Some(false);
                }
                let v = tokens[i + 1];
                if wild(v) {
                    return Some(true);
                }
                if t == "ref_type" && v != "branch" && v != "tag" {
                    return Some(false);
                }
                i += 2;
            }
            Some(true)
        }
        Provider::Circleci => {
            Some(wild(pattern.split('/').next().unwrap_or("")) || pattern.starts_with("org/"))
        }
        Provider::Buildkite | Provider::HcpTerraform => {
            Some(wild(tokens[0]) || (tokens[0] == "organization" && tokens.len() > 2))
        }
        Provider::Kubernetes => {
            Some(wild(tokens[0]) || pattern.starts_with("system:serviceaccount:"))
        }
        Provider::Generic => None,
    }
}

/// Whether a qualifier is `ForAllValues:` on a claim tokens carry as one
/// value.
pub fn forallvalues_on_single(claim: &str, c: &Condition) -> bool {
    c.operator.qualifier == Some(Qualifier::ForAllValues) && !MULTI_VALUED_CLAIMS.contains(&claim)
}

/// `StringLike` (or `StringNotLike`) values with no wildcard.
pub fn like_without_wildcard(c: &Condition) -> Vec<&str> {
    if !matches!(c.operator.base, BaseOp::StringLike | BaseOp::StringNotLike) {
        return Vec::new();
    }
    c.values
        .iter()
        .filter(|v| !has_wildcard(v))
        .map(String::as_str)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::policy_doc::parse_policy_text;
    use serde_json::json;

    const ARN: &str = "arn:aws:iam::111111111111:oidc-provider/token.actions.githubusercontent.com";

    fn probe(condition: Value) -> Breadth {
        let doc = parse_policy_text(
            &json!({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": {"Federated": ARN},
                "Action": "sts:AssumeRoleWithWebIdentity", "Condition": condition}]})
            .to_string(),
        )
        .unwrap();
        let web = web_statements(&doc);
        let w = &web[0];
        breadth(&doc, w.statement, &w.trusted[0], Some("111111111111"))
    }

    const K: &str = "token.actions.githubusercontent.com";

    #[test]
    fn no_subject_admits_anyone() {
        let b = probe(json!({"StringEquals": {format!("{K}:aud"): "sts.amazonaws.com"}}));
        assert!(b.any_owner);
        assert!(b.pinned_by.is_empty());
        assert!(!b.any_audience);
        assert_eq!(b.audiences, vec!["sts.amazonaws.com"]);
    }

    #[test]
    fn owner_wildcards_and_owner_claims_admit_every_repository() {
        let b = probe(json!({"StringLike": {format!("{K}:sub"): "repo:acme/*"}}));
        assert!(!b.any_owner);
        assert_eq!(b.every_repository_of, vec!["acme"]);
        assert_eq!(b.pull_requests_from, vec!["acme/*"]);
        assert!(b.any_audience);
        let b = probe(json!({"StringEquals": {format!("{K}:repository_owner"): "acme"}}));
        assert_eq!(b.every_repository_of, vec!["acme"]);
        assert_eq!(b.pinned_by, vec!["repository_owner"]);
    }

    #[test]
    fn repository_only_admits_every_run_of_it() {
        let b = probe(json!({"StringEquals": {format!("{K}:repository"): "acme/web"}}));
        assert!(!b.any_owner && b.every_repository_of.is_empty());
        assert_eq!(b.any_branch_of, vec!["acme/web"]);
        assert_eq!(b.pull_requests_from, vec!["acme/web"]);
        let b = probe(json!({"StringLike": {format!("{K}:sub"): "repo:acme/web:*"}}));
        assert_eq!(b.any_branch_of, vec!["acme/web"]);
        assert_eq!(b.any_environment_of, vec!["acme/web"]);
    }

    #[test]
    fn exact_subjects_admit_nothing_more() {
        let b = probe(
            json!({"StringEquals": {format!("{K}:sub"): "repo:acme/web:environment:prod", format!("{K}:aud"): "sts.amazonaws.com"}}),
        );
        assert_eq!(
            b,
            Breadth {
                pinned_by: vec!["sub".into()],
                audiences: vec!["sts.amazonaws.com".into()],
                base_token: b.base_token.clone(),
                ..Default::default()
            }
        );
        assert!(!b.admits_nothing_constructible);
    }

    #[test]
    fn a_reusable_workflow_does_not_pin_its_caller() {
        let b = probe(
            json!({"StringEquals": {format!("{K}:job_workflow_ref"): "acme/ci/.github/workflows/deploy.yml@refs/heads/main"}}),
        );
        assert!(b.any_owner);
        assert_eq!(b.pinned_by, vec!["job_workflow_ref"]);
    }

    #[test]
    fn pull_requests_excluded_by_a_condition() {
        let b = probe(
            json!({"StringLike": {format!("{K}:sub"): "repo:acme/web:*"}, "StringNotEquals": {format!("{K}:event_name"): "pull_request"}}),
        );
        assert!(b.pull_requests_from.is_empty());
        assert_eq!(b.any_branch_of, vec!["acme/web"]);
    }

    #[test]
    fn another_providers_keys_admit_nothing() {
        let doc = parse_policy_text(
            &json!({"Statement": [{"Effect": "Allow",
            "Principal": {"Federated": "arn:aws:iam::1:oidc-provider/accounts.google.com"},
            "Action": "sts:AssumeRoleWithWebIdentity",
            "Condition": {"StringEquals": {format!("{K}:aud"): "sts.amazonaws.com"}}}]})
            .to_string(),
        )
        .unwrap();
        let web = web_statements(&doc);
        let b = breadth(&doc, web[0].statement, &web[0].trusted[0], None);
        assert!(b.admits_nothing_constructible);
        assert!(!b.any_owner);
    }

    #[test]
    fn subject_formats() {
        let gh = Some(Provider::GithubActions);
        assert_eq!(
            subject_format_known(gh, "repo:acme/web:ref:refs/heads/main", false),
            Some(true)
        );
        assert_eq!(
            subject_format_known(gh, "repo:acme/web:pull_request", false),
            Some(true)
        );
        assert_eq!(subject_format_known(gh, "repo:acme/*", true), Some(true));
        assert_eq!(
            subject_format_known(gh, "repo:acme/web:*", false),
            Some(false)
        );
        assert_eq!(
            subject_format_known(gh, "acme/web:ref:refs/heads/main", false),
            Some(false)
        );
        assert_eq!(
            subject_format_known(gh, "repo:acme/web:ref:main", false),
            Some(false)
        );
        assert_eq!(
            subject_format_known(gh, "repo:acme/web:environment:prod:job_workflow_ref:acme/ci/.github/workflows/d.yml@refs/heads/main", false),
            Some(true)
        );
        let gl = Some(Provider::Gitlab);
        assert_eq!(
            subject_format_known(
                gl,
                "project_path:acme/infra:ref_type:branch:ref:main",
                false
            ),
            Some(true)
        );
        assert_eq!(
            subject_format_known(
                gl,
                "project_path:acme/infra:ref_type:branches:ref:main",
                false
            ),
            Some(false)
        );
        assert_eq!(subject_format_known(None, "anything", false), None);
    }
}
