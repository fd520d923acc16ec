//! The `sessions`, `activity` and `sensitive_actions` tables, with the
//! columns SQL does badly computed here: glob and CIDR matches, tier
//! resolution, effective session length, the run deadline.
//!
//! Each check column is a nullable boolean: `false` means the evidence
//! breaks the rule, `true` that it satisfies it, and `NULL` that the rule
//! does not apply or the evidence does not say. Queries select `= false`,
//! so an unknown never fires; every unknown that mattered is recorded in
//! [`Unchecked`] with its reason, so the summary says what was not judged.

use std::collections::{BTreeMap, HashMap};

use polars::prelude::DataFrame;

use crate::model::events::EventStore;
use crate::model::records::{Assumption, RunWindow, Session, TokenClaims};
use crate::model::refs::{is_pull_request_ref, is_tag_ref};
use crate::model::tables::FrameBuilder;
use crate::model::Unchecked;
use crate::policy::glob::any_match;
use crate::policy::net::any_contains;
use crate::policy::{Policy, RoleRule, Tier};

/// Triggers that mean a pull- or merge-request run.
pub const PULL_REQUEST_TRIGGERS: &[&str] = &[
    "pull_request",
    "pull_request_target",
    "pull_request_review",
    "pull_request_review_comment",
    "merge_request_event",
    "external_pull_request_event",
];

/// What the policy says about one session.
#[derive(Debug, Clone, Default)]
pub struct Derived {
    pub policy_role: Option<String>,
    pub role_tier: Option<Tier>,
    pub role_tier_inferred: bool,
    pub token_tier: Option<Tier>,
    pub issuer_listed: Option<bool>,
    pub audience_allowed: Option<bool>,
    pub repository_allowed: Option<bool>,
    pub ref_allowed: Option<bool>,
    pub ref_rule: Option<&'static str>,
    pub environment_allowed: Option<bool>,
    pub workflow_allowed: Option<bool>,
    pub is_pull_request: Option<bool>,
    pub pull_request_allowed: Option<bool>,
    pub duration_seconds: Option<i64>,
    pub duration_source: &'static str,
    pub max_duration_seconds: i64,
    pub run_start: Option<i64>,
    pub run_end: Option<i64>,
    pub run_deadline: Option<i64>,
    pub claims_for_issuer: bool,
    pub allowed_repositories: Option<String>,
    pub allowed_refs: Option<String>,
    pub allowed_environments: Option<String>,
    pub allowed_workflows: Option<String>,
    pub allowed_events: Option<String>,
    pub allowed_audiences: Option<String>,
    pub listed_issuers: Option<String>,
    pub source_cidrs: Option<String>,
}

/// Collects what could not be checked, by rule and reason.
#[derive(Default)]
pub struct UncheckedLog {
    entries: BTreeMap<(&'static str, String), (usize, Vec<String>)>,
}

impl UncheckedLog {
    pub fn add(&mut self, rule: &'static str, reason: impl Into<String>, session: &str) {
        let e = self.entries.entry((rule, reason.into())).or_default();
        e.0 += 1;
        if e.1.len() < 5 {
            e.1.push(session.to_string());
        }
    }

    pub fn into_list(self) -> Vec<Unchecked> {
        self.entries
            .into_iter()
            .map(|((rule, reason), (sessions, examples))| Unchecked {
                rule: rule.to_string(),
                reason,
                sessions,
                examples,
            })
            .collect()
    }
}

fn join_globs(list: &Option<Vec<crate::policy::glob::Glob>>) -> Option<String> {
    list.as_ref()
        .map(|l| l.iter().map(|g| g.as_str()).collect::<Vec<_>>().join(", "))
}

/// The policy's answers for names that repeat across sessions: a few
/// hundred roles and environments serve a month of sessions, so each set of
/// globs is matched once per distinct name, not once per session.
#[derive(Default)]
pub struct PolicyMemo<'a, 'p> {
    roles: HashMap<(&'a str, Option<&'a str>), RoleAnswer<'p>>,
    environments: HashMap<&'a str, Option<Tier>>,
}

/// The rule a role falls under, and its tier (and whether the tier was
/// inferred from the name).
type RoleAnswer<'p> = (Option<&'p RoleRule>, (Option<Tier>, bool));

impl<'a, 'p> PolicyMemo<'a, 'p> {
    fn role(
        &mut self,
        policy: &'p Policy,
        role: &'a str,
        role_id: Option<&'a str>,
    ) -> RoleAnswer<'p> {
        *self.roles.entry((role, role_id)).or_insert_with(|| {
            (
                policy.role_rule_for(role, role_id),
                policy.role_tier_for(role, role_id),
            )
        })
    }

    fn environment(&mut self, policy: &Policy, environment: &'a str) -> Option<Tier> {
        *self
            .environments
            .entry(environment)
            .or_insert_with(|| policy.tier_of_name(environment))
    }
}

fn token_tier<'a>(policy: &Policy, s: &'a Session, memo: &mut PolicyMemo<'a, '_>) -> Option<Tier> {
    if let Some(t) = s.deployment_tier.as_deref() {
        match t.to_ascii_lowercase().as_str() {
            "production" => return Some(Tier::Production),
            "staging" => return Some(Tier::Staging),
            "testing" | "development" => return Some(Tier::Development),
            _ => {}
        }
    }
    s.environment
        .value
        .as_deref()
        .and_then(|e| memo.environment(policy, e))
}

/// Evaluates the policy for one session.
#[allow(clippy::too_many_arguments)]
pub fn derive<'a, 'p>(
    policy: &'p Policy,
    s: &'a Session,
    a: &'a Assumption,
    runs: &[RunWindow],
    issuers_with_claims: &[String],
    log: &mut UncheckedLog,
    memo: &mut PolicyMemo<'a, 'p>,
) -> Derived {
    let mut d = Derived::default();
    let role = s.role_arn.as_deref();
    let answer = role.map(|r| memo.role(policy, r, a.role_id.as_deref()));
    let rule: Option<&RoleRule> = answer.and_then(|(rule, _)| rule);
    d.policy_role = rule.map(|r| r.pattern.as_str().to_string());
    let key = s.key.as_str();

    // Tiers.
    if let Some((_, (t, inferred))) = answer {
        d.role_tier = t;
        d.role_tier_inferred = inferred;
    }
    d.token_tier = token_tier(policy, s, memo);
    match (d.role_tier, d.token_tier) {
        (None, _) => log.add(
            "tier-mismatch",
            "the role has no tier in the policy and its name matches no [tiers] pattern",
            key,
        ),
        (Some(_), None) => {
            let reason = match (&s.environment.value, s.environment.known) {
                (Some(e), _) => format!("the token's environment `{e}` matches no [tiers] pattern"),
                (None, true) => "the token has no environment, so no tier".to_string(),
                (None, false) => {
                    "the token's environment is unknown (no claims, and the subject does not carry it)".into()
                }
            };
            log.add("tier-mismatch", reason, key);
        }
        _ => {}
    }

    // Issuer and audience.
    d.claims_for_issuer = a
        .issuer
        .as_deref()
        .is_some_and(|i| issuers_with_claims.iter().any(|x| x == i));
    if !policy.issuers.is_empty() {
        d.listed_issuers = Some(
            policy
                .issuers
                .iter()
                .map(|i| i.url.as_str())
                .collect::<Vec<_>>()
                .join(", "),
        );
        match a.issuer.as_deref() {
            Some(_) if a.issuer_inferred => log.add(
                "untrusted-issuer",
                "the issuer is not in the log and was inferred from the subject (map the GCP pool provider with [[gcp_provider]])",
                key,
            ),
            Some(iss) => {
                let listed = policy.issuer_rule(iss);
                d.issuer_listed = Some(listed.is_some());
                if let Some(rule) = listed.filter(|r| !r.audiences.is_empty()) {
                    d.allowed_audiences = Some(rule.audiences.join(", "));
                    match a.audience.as_deref() {
                        Some(aud) => d.audience_allowed = Some(rule.audiences.iter().any(|x| x == aud)),
                        None => log.add(
                            "audience-mismatch",
                            "the exchange does not show the token's audience",
                            key,
                        ),
                    }
                }
            }
            None => log.add("untrusted-issuer", "the exchange does not show the issuer", key),
        }
    }

    // Repository, ref, environment, workflow.
    if let Some(list) = rule.and_then(|r| r.repositories.as_ref()) {
        d.allowed_repositories = join_globs(&rule.expect("rule").repositories);
        match &s.repository.value {
            Some(repo) => d.repository_allowed = Some(any_match(list, repo)),
            None => log.add(
                "untrusted-repository",
                "the token's repository is unknown",
                key,
            ),
        }
    }
    let refs = rule.and_then(|r| r.refs.as_ref());
    if refs.is_some() || d.role_tier == Some(Tier::Production) {
        match (&s.git_ref.value, refs) {
            (Some(r), Some(list)) => {
                d.ref_allowed = Some(any_match(list, r));
                d.ref_rule = Some("the role's refs");
                d.allowed_refs = join_globs(&rule.expect("rule").refs);
            }
            (Some(r), None) => {
                d.ref_allowed =
                    Some(policy.settings.default_branches.iter().any(|b| b == r) || is_tag_ref(r));
                d.ref_rule = Some("production roles without refs: the default branch or a tag");
                d.allowed_refs = Some(format!(
                    "{}, refs/tags/*",
                    policy.settings.default_branches.join(", ")
                ));
            }
            (None, _) => log.add(
                "unexpected-ref",
                "the token's ref is unknown (no claims, and the subject does not carry it)",
                key,
            ),
        }
    }
    if let Some(list) = rule.and_then(|r| r.environments.as_ref()) {
        d.allowed_environments = join_globs(&rule.expect("rule").environments);
        match (&s.environment.value, s.environment.known) {
            (Some(e), _) => d.environment_allowed = Some(any_match(list, e)),
            (None, true) => d.environment_allowed = Some(false),
            (None, false) => log.add(
                "unexpected-environment",
                "the token's environment is unknown",
                key,
            ),
        }
    }
    if let Some(list) = rule.and_then(|r| r.workflows.as_ref()) {
        d.allowed_workflows = join_globs(&rule.expect("rule").workflows);
        match (&s.workflow_ref.value, s.workflow_ref.known) {
            (Some(w), _) => d.workflow_allowed = Some(any_match(list, w)),
            (None, true) => d.workflow_allowed = Some(false),
            (None, false) => log.add(
                "unexpected-workflow",
                "the token's workflow ref is unknown",
                key,
            ),
        }
    }

    // Pull-request runs.
    let trigger = s.trigger.value.as_deref();
    let pr_by_trigger = trigger.map(|t| PULL_REQUEST_TRIGGERS.contains(&t));
    let pr_by_ref = s.git_ref.value.as_deref().map(is_pull_request_ref);
    d.is_pull_request = match (pr_by_trigger, pr_by_ref) {
        (Some(true), _) | (_, Some(true)) => Some(true),
        (Some(false), _) => Some(false),
        _ => None,
    };
    let events = rule.and_then(|r| r.events.as_ref());
    let guarded = events.is_some() || d.role_tier.is_some_and(|t| t >= Tier::Staging);
    if guarded {
        d.allowed_events = join_globs(&rule.and_then(|r| r.events.clone()));
        match d.is_pull_request {
            Some(true) => {
                d.pull_request_allowed = Some(match events {
                    Some(list) => any_match(list, trigger.unwrap_or("pull_request")),
                    None => false,
                })
            }
            Some(false) => d.pull_request_allowed = Some(true),
            None => log.add(
                "pull-request-assumption",
                "the token's trigger is unknown (no claims, and the subject does not show a pull request)",
                key,
            ),
        }
    }

    // Session length: what was requested, else what STS granted.
    d.max_duration_seconds = rule
        .and_then(|r| r.max_session_duration)
        .unwrap_or(policy.settings.max_session_duration);
    (d.duration_seconds, d.duration_source) = match (a.duration_seconds, a.time, a.expiration) {
        (Some(v), _, _) => (Some(v), "requested"),
        (None, Some(t), Some(exp)) if exp > t => {
            (Some((exp - t + 500_000) / 1_000_000), "expiration")
        }
        _ => (Some(3600), "sts-default"),
    };

    // The run's window.
    if let Some(run) = s.run.and_then(|r| runs.get(r)) {
        d.run_start = run.started_at;
        d.run_end = run.ended_at;
        d.run_deadline = run
            .ended_at
            .map(|e| e + policy.settings.job_grace * 1_000_000);
    }
    if s.calls > 0 && d.run_deadline.is_none() {
        let reason = match s.run {
            Some(_) => "the token's CI run has not completed in the jobs given",
            None if s.run_id.is_some() => "no workflow_job payload matches the token's run",
            None => "the token's run is unknown (no claims with a run id)",
        };
        log.add("credential-use-after-job", reason, key);
    }

    // Address checks need the exchange's address.
    if s.calls > 0 && a.source_ip.is_none() {
        log.add(
            "credential-ip-drift",
            "the exchange does not show its source address",
            key,
        );
    }
    if let Some(cidrs) = rule.and_then(|r| r.source_cidrs.as_ref()) {
        d.source_cidrs = Some(
            cidrs
                .iter()
                .map(|c| c.to_string())
                .collect::<Vec<_>>()
                .join(", "),
        );
    }
    if s.token_key.is_none() {
        log.add(
            "token-reuse",
            "no claim set identifies the token (only its subject is known)",
            key,
        );
    }
    d
}

/// The `sessions` table: one row per successful exchange.
pub fn sessions_frame(
    sessions: &[Session],
    derived: &[Derived],
    assumptions: &[Assumption],
    claims: &[TokenClaims],
) -> DataFrame {
    let s = sessions;
    let a = |x: &Session| &assumptions[x.assumption];
    let d = derived;
    let mut b = FrameBuilder::new(s.len());
    b.str("session_key", s.iter().map(|x| Some(x.key.as_str())))
        .time("time", s.iter().map(|x| a(x).time))
        .str("cloud", s.iter().map(|x| Some(a(x).cloud.as_str())))
        .str("account", s.iter().map(|x| a(x).account.as_deref()))
        .str("region", s.iter().map(|x| a(x).region.as_deref()))
        .str("issuer", s.iter().map(|x| a(x).issuer.as_deref()))
        .bool(
            "issuer_inferred",
            s.iter().map(|x| Some(a(x).issuer_inferred)),
        )
        .str("provider", s.iter().map(|x| x.provider.map(|p| p.as_str())))
        .str("subject", s.iter().map(|x| a(x).subject.as_deref()))
        .str("audience", s.iter().map(|x| a(x).audience.as_deref()))
        .str("role_arn", s.iter().map(|x| x.role_arn.as_deref()))
        .str(
            "role_session_name",
            s.iter().map(|x| a(x).role_session_name.as_deref()),
        )
        .str(
            "access_key_id",
            s.iter().map(|x| a(x).access_key_id.as_deref()),
        )
        .str("source_ip", s.iter().map(|x| a(x).source_ip.as_deref()))
        .str("user_agent", s.iter().map(|x| a(x).user_agent.as_deref()))
        .str("event_id", s.iter().map(|x| a(x).event_id.as_deref()))
        .str("match", s.iter().map(|x| Some(x.matched.kind.as_str())))
        .i64(
            "claims_candidates",
            s.iter().map(|x| Some(x.matched.candidates as i64)),
        )
        .str("token_key", s.iter().map(|x| x.token_key.as_deref()))
        .str(
            "jti",
            s.iter()
                .map(|x| x.matched.claims.and_then(|c| claims[c].jti.as_deref())),
        )
        .str(
            "repository",
            s.iter().map(|x| x.repository.value.as_deref()),
        )
        .str("ref", s.iter().map(|x| x.git_ref.value.as_deref()))
        .str(
            "environment",
            s.iter().map(|x| x.environment.value.as_deref()),
        )
        .bool(
            "environment_known",
            s.iter().map(|x| Some(x.environment.known)),
        )
        .str(
            "workflow_ref",
            s.iter().map(|x| x.workflow_ref.value.as_deref()),
        )
        .str("trigger", s.iter().map(|x| x.trigger.value.as_deref()))
        .str("run_id", s.iter().map(|x| x.run_id.as_deref()))
        .str("run_attempt", s.iter().map(|x| x.run_attempt.as_deref()))
        .str("actor", s.iter().map(|x| x.actor.as_deref()))
        .str(
            "runner_environment",
            s.iter().map(|x| x.runner_environment.as_deref()),
        )
        .bool("ref_protected", s.iter().map(|x| x.ref_protected))
        .bool("verified", s.iter().map(|x| x.verified))
        .str(
            "deployment_tier",
            s.iter().map(|x| x.deployment_tier.as_deref()),
        )
        .time("run_start", d.iter().map(|x| x.run_start))
        .time("run_end", d.iter().map(|x| x.run_end))
        .time("run_deadline", d.iter().map(|x| x.run_deadline))
        .i64("calls", s.iter().map(|x| Some(x.calls as i64)))
        .i64("errors", s.iter().map(|x| Some(x.errors as i64)))
        .i64(
            "distinct_ips",
            s.iter().map(|x| Some(x.distinct_ips as i64)),
        )
        .string("services", s.iter().map(|x| Some(x.services.join(","))))
        .time("first_use", s.iter().map(|x| x.first_use))
        .time("last_use", s.iter().map(|x| x.last_use))
        .str("policy_role", d.iter().map(|x| x.policy_role.as_deref()))
        .str("role_tier", d.iter().map(|x| x.role_tier.map(Tier::as_str)))
        .i64(
            "role_tier_rank",
            d.iter().map(|x| x.role_tier.map(Tier::rank)),
        )
        .bool(
            "role_tier_inferred",
            d.iter().map(|x| x.role_tier.map(|_| x.role_tier_inferred)),
        )
        .str(
            "token_tier",
            d.iter().map(|x| x.token_tier.map(Tier::as_str)),
        )
        .i64(
            "token_tier_rank",
            d.iter().map(|x| x.token_tier.map(Tier::rank)),
        )
        .bool("issuer_listed", d.iter().map(|x| x.issuer_listed))
        .str(
            "listed_issuers",
            d.iter().map(|x| x.listed_issuers.as_deref()),
        )
        .bool("audience_allowed", d.iter().map(|x| x.audience_allowed))
        .str(
            "allowed_audiences",
            d.iter().map(|x| x.allowed_audiences.as_deref()),
        )
        .bool("repository_allowed", d.iter().map(|x| x.repository_allowed))
        .str(
            "allowed_repositories",
            d.iter().map(|x| x.allowed_repositories.as_deref()),
        )
        .bool("ref_allowed", d.iter().map(|x| x.ref_allowed))
        .str("ref_rule", d.iter().map(|x| x.ref_rule))
        .str("allowed_refs", d.iter().map(|x| x.allowed_refs.as_deref()))
        .bool(
            "environment_allowed",
            d.iter().map(|x| x.environment_allowed),
        )
        .str(
            "allowed_environments",
            d.iter().map(|x| x.allowed_environments.as_deref()),
        )
        .bool("workflow_allowed", d.iter().map(|x| x.workflow_allowed))
        .str(
            "allowed_workflows",
            d.iter().map(|x| x.allowed_workflows.as_deref()),
        )
        .bool("is_pull_request", d.iter().map(|x| x.is_pull_request))
        .bool(
            "pull_request_allowed",
            d.iter().map(|x| x.pull_request_allowed),
        )
        .str(
            "allowed_events",
            d.iter().map(|x| x.allowed_events.as_deref()),
        )
        .i64("duration_seconds", d.iter().map(|x| x.duration_seconds))
        .str("duration_source", d.iter().map(|x| Some(x.duration_source)))
        .i64(
            "max_duration_seconds",
            d.iter().map(|x| Some(x.max_duration_seconds)),
        )
        .str("source_cidrs", d.iter().map(|x| x.source_cidrs.as_deref()))
        .bool(
            "claims_for_issuer",
            d.iter().map(|x| Some(x.claims_for_issuer)),
        );
    b.finish()
}

/// The `activity` table: every call made with a session's key.
pub fn activity_frame(
    sessions: &[Session],
    assumptions: &[Assumption],
    policy: &Policy,
    ev: &EventStore,
) -> DataFrame {
    let total: usize = sessions.iter().map(|s| s.activity.len()).sum();
    let mut idx = Vec::with_capacity(total);
    let mut ip_allowed = Vec::with_capacity(total);
    for s in sessions {
        let a = &assumptions[s.assumption];
        let cidrs = s
            .role_arn
            .as_deref()
            .and_then(|r| policy.role_rule_for(r, a.role_id.as_deref()))
            .and_then(|r| r.source_cidrs.as_deref())
            .unwrap_or(&[]);
        for &i in &s.activity {
            idx.push(i);
            let ip = ev.str(ev.source_ip[i]);
            ip_allowed.push(match (ip, a.source_ip.as_deref()) {
                _ if ev.via_service(i) => None,
                (None, _) | (_, None) => None,
                (Some(ip), Some(exchange)) => Some(ip == exchange || any_contains(cidrs, ip)),
            });
        }
    }
    // The session's values, once per session for all its calls.
    let per_session = |value: for<'s> fn(&'s Session, &'s Assumption) -> Option<&'s str>| {
        sessions
            .iter()
            .map(move |s| (value(s, &assumptions[s.assumption]), s.activity.len()))
    };
    fn column<'a>(
        idx: &'a [usize],
        col: &'a [crate::model::Sym],
    ) -> impl ExactSizeIterator<Item = crate::model::Sym> + 'a {
        idx.iter().map(move |&i| col[i])
    }
    let mut b = FrameBuilder::new(total);
    b.repeated_str_runs("session_key", per_session(|s, _| Some(s.key.as_str())))
        .time("time", idx.iter().map(|&i| ev.time_of(i)))
        // The session's, so that activity partitions like its session.
        .repeated_str_runs("cloud", per_session(|_, a| Some(a.cloud.as_str())))
        .repeated_str_runs("account", per_session(|_, a| a.account.as_deref()))
        .interned("service", &ev.strings, column(&idx, &ev.service))
        .interned("action", &ev.strings, column(&idx, &ev.action))
        .interned("source_ip", &ev.strings, column(&idx, &ev.source_ip))
        .interned("user_agent", &ev.strings, column(&idx, &ev.user_agent))
        .interned("error_code", &ev.strings, column(&idx, &ev.error_code))
        .str("event_id", idx.iter().map(|&i| ev.event_id_of(i)))
        .bool("read_only", idx.iter().map(|&i| ev.read_only_of(i)))
        .bool("via_service", idx.iter().map(|&i| Some(ev.via_service(i))))
        .bool("ip_allowed", ip_allowed);
    b.finish()
}

/// The `sensitive_actions` table the `sensitive-action` query joins.
pub fn sensitive_actions_frame(policy: &Policy) -> DataFrame {
    let list = &policy.sensitive_actions;
    let mut b = FrameBuilder::new(list.len());
    b.str("service", list.iter().map(|x| Some(x.service.as_str())))
        .str("action", list.iter().map(|x| Some(x.action.as_str())))
        .str("category", list.iter().map(|x| Some(x.category.as_str())));
    b.finish()
}
