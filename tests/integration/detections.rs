//! Every detection, positive and negative, through the real pipeline:
//! records and claims are written as files, read, joined, evaluated against
//! a policy and run through `queries/*.sql` on polars SQL.

use crate::common::{of, role, Gh, Scenario, ACCOUNT};

const DEPLOY_POLICY: &str = r#"
[[issuer]]
url = "https://token.actions.githubusercontent.com"
audiences = ["sts.amazonaws.com"]

[[role]]
match = "arn:aws:iam::111111111111:role/deploy-prod"
tier = "production"
repositories = ["acme/web", "acme/payments"]
refs = ["refs/heads/main", "refs/tags/v*"]
environments = ["production"]
events = ["push", "release"]
workflows = ["acme/*/.github/workflows/deploy.yml@*"]
source_cidrs = ["20.0.0.0/8"]
max_session_duration = "1h"
"#;

fn one(gh: Gh) -> Scenario {
    let mut s = Scenario::new();
    s.github(&gh);
    s
}

fn with_policy(gh: Gh) -> Scenario {
    one(gh).with_policy(DEPLOY_POLICY)
}

#[test]
fn a_legitimate_deploy_raises_nothing() {
    let mut s = Scenario::new().with_policy(DEPLOY_POLICY);
    s.github(&Gh::default())
        .call("ASIAAAAAAAAAAAAAAAA1", 3700, "20.1.2.3", "s3", "PutObject")
        .call(
            "ASIAAAAAAAAAAAAAAAA1",
            3750,
            "20.1.2.3",
            "ecs",
            "UpdateService",
        )
        .job("acme/web", "1001", 3500, Some(4000));
    let report = s.report();
    assert!(report.findings.is_empty(), "{:#?}", report.findings);
    assert_eq!(report.sessions.len(), 1);
    assert_eq!(report.sessions[0].calls, 2);
}

// ---- tier-mismatch

#[test]
fn tier_mismatch_fires_for_a_staging_token_on_a_production_role() {
    let f = one(Gh {
        env: Some("staging"),
        role: role("terraform-prod"),
        ..Gh::default()
    })
    .findings();
    let hits = of(&f, "tier-mismatch");
    assert_eq!(hits.len(), 1);
    assert_eq!(hits[0].severity, rolecall::model::Severity::Critical);
    assert_eq!(hits[0].evidence["token_tier"], "staging");
    assert_eq!(hits[0].evidence["role_tier"], "production");
    assert!(
        hits[0]
            .message
            .contains("A staging workload (acme/web, environment staging)"),
        "{}",
        hits[0].message
    );
}

#[test]
fn tier_mismatch_is_quiet_for_matching_or_unknown_tiers() {
    let f = one(Gh {
        env: Some("production"),
        role: role("terraform-prod"),
        ..Gh::default()
    })
    .findings();
    assert!(of(&f, "tier-mismatch").is_empty());
    // A role whose tier is unknown is not judged, and the summary says so.
    let r = one(Gh {
        env: Some("staging"),
        role: role("github-deployer"),
        ..Gh::default()
    })
    .report();
    assert!(of(&r.findings, "tier-mismatch").is_empty());
    assert!(r
        .summary
        .unchecked
        .iter()
        .any(|u| u.rule == "tier-mismatch" && u.reason.contains("role has no tier")));
    // A dev token into a dev role.
    let f = one(Gh {
        env: Some("dev"),
        role: role("sandbox-dev"),
        ..Gh::default()
    })
    .findings();
    assert!(of(&f, "tier-mismatch").is_empty());
}

#[test]
fn tier_mismatch_reads_nonprod_as_staging_never_production() {
    // "nonprod" is staging, not production.
    let f = one(Gh {
        env: Some("nonprod"),
        role: role("app-prod"),
        ..Gh::default()
    })
    .findings();
    assert_eq!(of(&f, "tier-mismatch").len(), 1);
    let f = one(Gh {
        env: Some("production"),
        role: role("app-nonprod"),
        ..Gh::default()
    })
    .findings();
    assert!(of(&f, "tier-mismatch").is_empty());
}

// ---- untrusted-repository

#[test]
fn untrusted_repository_fires_outside_the_list() {
    let f = with_policy(Gh {
        repo: "acme/sandbox",
        ..Gh::default()
    })
    .findings();
    let hits = of(&f, "untrusted-repository");
    assert_eq!(hits.len(), 1);
    assert_eq!(hits[0].repository.as_deref(), Some("acme/sandbox"));
    assert_eq!(
        hits[0].evidence["allowed_repositories"],
        "acme/web, acme/payments"
    );
}

#[test]
fn untrusted_repository_matches_names_case_insensitively_and_needs_a_list() {
    let f = with_policy(Gh {
        repo: "ACME/Web",
        ..Gh::default()
    })
    .findings();
    assert!(of(&f, "untrusted-repository").is_empty());
    let f = one(Gh {
        repo: "anyone/else",
        role: role("deploy-prod"),
        ..Gh::default()
    })
    .findings();
    assert!(
        of(&f, "untrusted-repository").is_empty(),
        "no policy list, no judgement"
    );
}

// ---- unexpected-ref

#[test]
fn unexpected_ref_fires_for_a_branch_outside_refs() {
    let f = with_policy(Gh {
        git_ref: "refs/heads/feature/x",
        ..Gh::default()
    })
    .findings();
    let hits = of(&f, "unexpected-ref");
    assert_eq!(hits.len(), 1);
    assert_eq!(hits[0].git_ref.as_deref(), Some("refs/heads/feature/x"));
    let f = with_policy(Gh {
        git_ref: "refs/tags/v2.0.1",
        event: "release",
        ..Gh::default()
    })
    .findings();
    assert!(
        of(&f, "unexpected-ref").is_empty(),
        "tags match refs/tags/v*"
    );
}

#[test]
fn production_roles_without_refs_accept_the_default_branch_and_tags_only() {
    let f = one(Gh {
        git_ref: "refs/heads/dev-branch",
        role: role("api-prod"),
        ..Gh::default()
    })
    .findings();
    assert_eq!(of(&f, "unexpected-ref").len(), 1);
    let f = one(Gh {
        git_ref: "refs/heads/master",
        role: role("api-prod"),
        ..Gh::default()
    })
    .findings();
    assert!(of(&f, "unexpected-ref").is_empty());
    let f = one(Gh {
        git_ref: "refs/tags/v1",
        role: role("api-prod"),
        ..Gh::default()
    })
    .findings();
    assert!(of(&f, "unexpected-ref").is_empty());
    let f = one(Gh {
        git_ref: "refs/heads/feature",
        role: role("api-staging"),
        ..Gh::default()
    })
    .findings();
    assert!(
        of(&f, "unexpected-ref").is_empty(),
        "only production roles have the default rule"
    );
}

#[test]
fn unexpected_ref_is_not_judged_when_the_ref_is_unknown() {
    // No claims, and an environment subject does not carry the ref.
    let r = with_policy(Gh {
        git_ref: "refs/heads/feature/x",
        claims: false,
        ..Gh::default()
    })
    .report();
    assert!(of(&r.findings, "unexpected-ref").is_empty());
    assert!(r
        .summary
        .unchecked
        .iter()
        .any(|u| u.rule == "unexpected-ref" && u.reason.contains("ref is unknown")));
    // The ref form of the subject carries it.
    let f = with_policy(Gh {
        git_ref: "refs/heads/feature/x",
        env: None,
        claims: false,
        ..Gh::default()
    })
    .findings();
    assert_eq!(of(&f, "unexpected-ref").len(), 1);
}

// ---- unexpected-environment

#[test]
fn unexpected_environment_fires_for_another_or_no_environment() {
    let f = with_policy(Gh {
        env: Some("qa"),
        ..Gh::default()
    })
    .findings();
    assert_eq!(of(&f, "unexpected-environment").len(), 1);
    let f = with_policy(Gh {
        env: None,
        ..Gh::default()
    })
    .findings();
    let hits = of(&f, "unexpected-environment");
    assert_eq!(
        hits.len(),
        1,
        "a job without an environment skipped its protections"
    );
    assert!(
        hits[0].message.contains("with environment none"),
        "{}",
        hits[0].message
    );
}

#[test]
fn unexpected_environment_quiet_when_allowed_or_unknown() {
    let f = with_policy(Gh::default()).findings();
    assert!(of(&f, "unexpected-environment").is_empty());
    // A custom subject template without the context part says nothing.
    let f = with_policy(Gh {
        claims: false,
        subject: Some(
            "repo:acme/web:job_workflow_ref:acme/web/.github/workflows/deploy.yml@refs/heads/main",
        ),
        ..Gh::default()
    })
    .findings();
    assert!(of(&f, "unexpected-environment").is_empty());
}

// ---- unexpected-workflow

#[test]
fn unexpected_workflow_fires_for_another_workflow_file() {
    let f = with_policy(Gh {
        workflow: Some("acme/web/.github/workflows/debug.yml@refs/heads/main"),
        ..Gh::default()
    })
    .findings();
    let hits = of(&f, "unexpected-workflow");
    assert_eq!(hits.len(), 1);
    assert_eq!(
        hits[0].evidence["workflow_ref"],
        "acme/web/.github/workflows/debug.yml@refs/heads/main"
    );
    let f = with_policy(Gh {
        workflow: Some("acme/shared/.github/workflows/deploy.yml@refs/tags/v3"),
        ..Gh::default()
    })
    .findings();
    assert!(of(&f, "unexpected-workflow").is_empty());
}

// ---- pull-request-assumption

#[test]
fn pull_request_runs_may_not_reach_protected_roles() {
    let f = one(Gh {
        event: "pull_request",
        git_ref: "refs/pull/7/merge",
        env: None,
        role: role("deployer-staging"),
        ..Gh::default()
    })
    .findings();
    assert_eq!(of(&f, "pull-request-assumption").len(), 1);
    // From the subject alone.
    let f = one(Gh {
        event: "pull_request",
        env: None,
        claims: false,
        role: role("deployer-staging"),
        ..Gh::default()
    })
    .findings();
    assert_eq!(of(&f, "pull-request-assumption").len(), 1);
    // pull_request_target on a role whose events do not list it.
    let f = with_policy(Gh {
        event: "pull_request_target",
        ..Gh::default()
    })
    .findings();
    assert_eq!(of(&f, "pull-request-assumption").len(), 1);
}

#[test]
fn pull_request_runs_on_unprotected_or_allowing_roles_are_fine() {
    let f = one(Gh {
        event: "pull_request",
        env: None,
        role: role("preview-dev"),
        ..Gh::default()
    })
    .findings();
    assert!(
        of(&f, "pull-request-assumption").is_empty(),
        "development roles are not guarded"
    );
    let f = one(Gh {
        event: "pull_request",
        env: None,
        role: role("preview-staging"),
        ..Gh::default()
    })
    .with_policy("[[role]]\nmatch = \"*preview-staging\"\nevents = [\"pull_request\", \"push\"]\n")
    .findings();
    assert!(of(&f, "pull-request-assumption").is_empty());
    let f = one(Gh {
        role: role("deployer-staging"),
        ..Gh::default()
    })
    .findings();
    assert!(
        of(&f, "pull-request-assumption").is_empty(),
        "a push is not a pull request"
    );
}

// ---- untrusted-issuer and audience-mismatch

#[test]
fn untrusted_issuer_fires_only_when_the_policy_lists_issuers() {
    let gl = Gh {
        issuer: "gitlab.example.com",
        subject: Some("project_path:g/p:ref_type:branch:ref:main"),
        claims: false,
        ..Gh::default()
    };
    let f = one(gl.clone()).with_policy(DEPLOY_POLICY).findings();
    let hits = of(&f, "untrusted-issuer");
    assert_eq!(hits.len(), 1);
    assert_eq!(
        hits[0].issuer.as_deref(),
        Some("https://gitlab.example.com")
    );
    assert!(of(&one(gl).findings(), "untrusted-issuer").is_empty());
    assert!(of(&with_policy(Gh::default()).findings(), "untrusted-issuer").is_empty());
}

#[test]
fn audience_mismatch_fires_for_an_unlisted_audience() {
    let f = with_policy(Gh {
        aud: "https://github.com/acme",
        ..Gh::default()
    })
    .findings();
    let hits = of(&f, "audience-mismatch");
    assert_eq!(hits.len(), 1);
    assert_eq!(hits[0].evidence["audience"], "https://github.com/acme");
    assert!(of(&with_policy(Gh::default()).findings(), "audience-mismatch").is_empty());
}

// ---- excessive-duration

#[test]
fn excessive_duration_compares_the_session_length() {
    let f = one(Gh {
        duration: Some(7200),
        ..Gh::default()
    })
    .findings();
    let hits = of(&f, "excessive-duration");
    assert_eq!(hits.len(), 1);
    assert_eq!(hits[0].evidence["duration_seconds"], 7200);
    assert_eq!(hits[0].evidence["max_duration_seconds"], 3600);
    assert!(of(
        &one(Gh {
            duration: Some(3600),
            ..Gh::default()
        })
        .findings(),
        "excessive-duration"
    )
    .is_empty());
    // No requested duration: the expiration STS granted (1 hour) counts.
    let f = one(Gh::default())
        .with_policy("[[role]]\nmatch = \"*deploy-prod\"\nmax_session_duration = \"15m\"\n")
        .findings();
    let hits = of(&f, "excessive-duration");
    assert_eq!(hits.len(), 1);
    assert_eq!(hits[0].evidence["duration_source"], "expiration");
}

// ---- credential-ip-drift

fn drift(ip: &str, invoked_by: Option<&str>) -> Vec<rolecall::model::Finding> {
    let mut s = Scenario::new().with_policy(DEPLOY_POLICY);
    s.github(&Gh {
        ip: "198.18.0.1",
        ..Gh::default()
    })
    .call(
        "ASIAAAAAAAAAAAAAAAA1",
        3610,
        "198.18.0.1",
        "s3",
        "GetObject",
    )
    .call_full(
        "ASIAAAAAAAAAAAAAAAA1",
        3620,
        ip,
        "s3",
        "ListBuckets",
        None,
        invoked_by,
    )
    .call_full(
        "ASIAAAAAAAAAAAAAAAA1",
        3630,
        ip,
        "secretsmanager",
        "ListSecrets",
        None,
        invoked_by,
    );
    s.findings()
}

#[test]
fn credential_ip_drift_fires_for_a_foreign_address() {
    let f = drift("185.220.101.34", None);
    let hits = of(&f, "credential-ip-drift");
    assert_eq!(hits.len(), 1);
    let h = hits[0];
    assert_eq!(h.source_ip.as_deref(), Some("185.220.101.34"));
    assert_eq!(h.evidence["calls"], 2);
    assert_eq!(h.evidence["exchange_ip"], "198.18.0.1");
    assert_eq!(
        h.event_ids.len(),
        3,
        "the exchange and the two foreign calls"
    );
    assert_eq!(
        h.event_ids[0], "00000000-0000-4000-8000-000000000001",
        "the exchange comes first"
    );
}

#[test]
fn credential_ip_drift_ignores_services_allowed_cidrs_and_other_keys() {
    assert!(
        of(&drift("198.18.0.1", None), "credential-ip-drift").is_empty(),
        "same address"
    );
    assert!(of(
        &drift("cloudformation.amazonaws.com", None),
        "credential-ip-drift"
    )
    .is_empty());
    assert!(of(&drift("AWS Internal", None), "credential-ip-drift").is_empty());
    assert!(
        of(
            &drift("52.94.1.1", Some("ecs.amazonaws.com")),
            "credential-ip-drift"
        )
        .is_empty(),
        "invokedBy"
    );
    assert!(
        of(&drift("20.9.9.9", None), "credential-ip-drift").is_empty(),
        "inside source_cidrs"
    );
    // A key from another STS call, used elsewhere, is not the session's.
    let mut s = Scenario::new();
    s.github(&Gh::default()).call(
        "ASIAOTHERKEY00000000",
        3700,
        "185.220.101.34",
        "s3",
        "GetObject",
    );
    assert!(of(&s.findings(), "credential-ip-drift").is_empty());
}

// ---- credential-use-after-job

fn late(call_at: i64, job_end: Option<i64>, via: Option<&str>) -> rolecall::model::Report {
    let mut s = Scenario::new();
    s.github(&Gh::default())
        .job("acme/web", "1001", 3500, job_end)
        .call_full(
            "ASIAAAAAAAAAAAAAAAA1",
            call_at,
            "20.1.2.3",
            "s3",
            "GetObject",
            None,
            via,
        );
    s.report()
}

#[test]
fn credential_use_after_job_fires_past_the_grace() {
    let r = late(4000 + 301 + 60, Some(4000), None);
    let hits = of(&r.findings, "credential-use-after-job");
    assert_eq!(hits.len(), 1);
    assert_eq!(
        hits[0].evidence["run_end"],
        crate::common::ts(crate::common::T0 + 4000)
    );
    assert_eq!(hits[0].run_id.as_deref(), Some("1001"));
}

#[test]
fn credential_use_after_job_quiet_within_grace_unfinished_or_unknown() {
    assert!(of(
        &late(4000 + 200, Some(4000), None).findings,
        "credential-use-after-job"
    )
    .is_empty());
    assert!(
        of(&late(9000, None, None).findings, "credential-use-after-job").is_empty(),
        "run not over"
    );
    assert!(of(
        &late(9000, Some(4000), Some("cloudformation.amazonaws.com")).findings,
        "credential-use-after-job"
    )
    .is_empty());
    // No jobs at all: said, not judged.
    let mut s = Scenario::new();
    s.github(&Gh::default())
        .call("ASIAAAAAAAAAAAAAAAA1", 9000, "20.1.2.3", "s3", "GetObject");
    let r = s.report();
    assert!(of(&r.findings, "credential-use-after-job").is_empty());
    assert!(r
        .summary
        .unchecked
        .iter()
        .any(|u| u.rule == "credential-use-after-job"));
}

// ---- token-reuse

#[test]
fn token_reuse_fires_for_one_jti_from_two_addresses() {
    let mut s = Scenario::new();
    s.github(&Gh::default());
    s.github(&Gh {
        ip: "203.0.113.66",
        at: 3700,
        key: "ASIABBBBBBBBBBBBBBB2",
        claims: false,
        ..Gh::default()
    });
    let f = s.findings();
    let hits = of(&f, "token-reuse");
    assert_eq!(hits.len(), 1);
    assert_eq!(hits[0].evidence["exchanges"], 2);
    assert_eq!(
        hits[0].evidence["source_ips"],
        serde_json::json!(["20.1.2.3", "203.0.113.66"])
    );
    assert_eq!(hits[0].event_ids.len(), 2);
}

#[test]
fn token_reuse_quiet_for_one_address_or_distinct_tokens() {
    let mut s = Scenario::new();
    s.github(&Gh::default());
    s.github(&Gh {
        at: 3650,
        key: "ASIABBBBBBBBBBBBBBB2",
        claims: false,
        ..Gh::default()
    });
    assert!(of(&s.findings(), "token-reuse").is_empty());
    let mut s = Scenario::new();
    s.github(&Gh::default());
    s.github(&Gh {
        ip: "203.0.113.66",
        at: 3700,
        key: "ASIABBBBBBBBBBBBBBB2",
        jti: "jti-2",
        run_id: "1002",
        ..Gh::default()
    });
    assert!(of(&s.findings(), "token-reuse").is_empty());
}

// ---- assume-failure-burst

#[test]
fn failure_burst_fires_at_the_threshold() {
    let mut s = Scenario::new();
    for i in 0..5 {
        s.failed_exchange(
            &role("deploy-prod"),
            "repo:evil/fork:pull_request",
            100 + i * 60,
            "198.51.100.23",
        );
    }
    let f = s.findings();
    let hits = of(&f, "assume-failure-burst");
    assert_eq!(hits.len(), 1);
    assert_eq!(hits[0].event_ids.len(), 5);
    assert_eq!(hits[0].account.as_deref(), Some(ACCOUNT));

    let mut s = Scenario::new();
    for i in 0..4 {
        s.failed_exchange(
            &role("deploy-prod"),
            "repo:evil/fork:pull_request",
            100 + i * 60,
            "198.51.100.23",
        );
    }
    assert!(of(&s.findings(), "assume-failure-burst").is_empty());
}

// ---- sensitive-action

#[test]
fn sensitive_actions_fire_including_denied_attempts() {
    let mut s = Scenario::new();
    s.github(&Gh::default())
        .call(
            "ASIAAAAAAAAAAAAAAAA1",
            3700,
            "20.1.2.3",
            "iam",
            "CreateUser",
        )
        .call_full(
            "ASIAAAAAAAAAAAAAAAA1",
            3710,
            "20.1.2.3",
            "cloudtrail",
            "StopLogging",
            Some("AccessDenied"),
            None,
        )
        .call("ASIAAAAAAAAAAAAAAAA1", 3720, "20.1.2.3", "s3", "GetObject");
    let f = s.findings();
    let hits = of(&f, "sensitive-action");
    assert_eq!(hits.len(), 2);
    let stop = hits
        .iter()
        .find(|h| h.evidence["action"] == "StopLogging")
        .unwrap();
    assert_eq!(stop.evidence["failed_calls"], 1);
    assert_eq!(stop.evidence["category"], "audit-tampering");
}

#[test]
fn the_sensitive_list_is_policy_data() {
    let mut s = Scenario::new().with_policy(
        "[sensitive_actions]\nadd = [\"s3:PutBucketPolicy\"]\nremove = [\"iam:CreateUser\"]\n",
    );
    s.github(&Gh::default())
        .call(
            "ASIAAAAAAAAAAAAAAAA1",
            3700,
            "20.1.2.3",
            "iam",
            "CreateUser",
        )
        .call(
            "ASIAAAAAAAAAAAAAAAA1",
            3710,
            "20.1.2.3",
            "s3",
            "PutBucketPolicy",
        );
    let f = s.findings();
    let hits = of(&f, "sensitive-action");
    assert_eq!(hits.len(), 1);
    assert_eq!(hits[0].evidence["action"], "PutBucketPolicy");
}

// ---- unmatched-assumption

#[test]
fn unmatched_assumption_needs_claims_for_the_issuer() {
    let mut s = Scenario::new();
    s.github(&Gh::default());
    s.github(&Gh {
        key: "ASIABBBBBBBBBBBBBBB2",
        jti: "jti-2",
        at: 7200,
        claims: false,
        run_id: "1002",
        ..Gh::default()
    });
    let f = s.findings();
    let hits = of(&f, "unmatched-assumption");
    assert_eq!(hits.len(), 1);
    assert_eq!(hits[0].session_key.as_deref(), Some("ASIABBBBBBBBBBBBBBB2"));
    let f = one(Gh {
        claims: false,
        ..Gh::default()
    })
    .findings();
    assert!(
        of(&f, "unmatched-assumption").is_empty(),
        "no claims given for the issuer: nothing to miss"
    );
}
