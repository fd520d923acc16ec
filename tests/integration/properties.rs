//! Properties over generated inputs (proptest): parsers never panic and
//! round-trip what they can, the claims join never crosses issuers, and
//! every finding rests on events that are in the input.

use std::collections::HashSet;

use proptest::prelude::*;
use rolecall::model::refs::normalize_ref;
use rolecall::model::subject::{parse_subject, Provider};
use serde_json::json;

use crate::common::{role, Gh, Scenario};

/// Names GitHub allows for owners and repositories (and then some).
fn name() -> impl Strategy<Value = String> {
    "[a-zA-Z0-9][a-zA-Z0-9_.-]{0,20}".prop_filter("not . or ..", |s| s != "." && s != "..")
}

fn branch() -> impl Strategy<Value = String> {
    "[a-zA-Z0-9][a-zA-Z0-9_./-]{0,30}".prop_filter("no colon", |s| !s.contains(':'))
}

fn leak(s: String) -> &'static str {
    Box::leak(s.into_boxed_str())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    #[test]
    fn normalize_ref_is_idempotent(name in any::<String>(), kind in prop::option::of(prop::sample::select(vec!["branch", "tag", "other"]))) {
        if let Some(once) = normalize_ref(&name, kind) {
            prop_assert_eq!(normalize_ref(&once, kind), Some(once.clone()));
            prop_assert!(once.starts_with("refs/"));
        }
    }

    #[test]
    fn subject_parsing_never_panics(text in any::<String>()) {
        let _ = parse_subject(&text, None);
        for p in Provider::ALL {
            let _ = parse_subject(&text, Some(p));
        }
    }

    #[test]
    fn github_subjects_round_trip(owner in name(), repo in name(), b in branch(), env in name()) {
        let repository = format!("{owner}/{repo}");
        let by_ref = parse_subject(&format!("repo:{repository}:ref:refs/heads/{b}"), None);
        prop_assert_eq!(by_ref.provider, Provider::GithubActions);
        prop_assert!(by_ref.recognized);
        prop_assert_eq!(by_ref.repository.as_deref(), Some(repository.as_str()));
        prop_assert_eq!(by_ref.git_ref.value.clone(), Some(format!("refs/heads/{b}")));

        let by_env = parse_subject(&format!("repo:{repository}:environment:{env}"), None);
        prop_assert_eq!(by_env.repository.as_deref(), Some(repository.as_str()));
        prop_assert_eq!(by_env.environment.value.as_deref(), Some(env.as_str()));
        prop_assert!(!by_env.git_ref.known, "an environment subject does not carry the ref");

        let pr = parse_subject(&format!("repo:{repository}:pull_request"), None);
        prop_assert_eq!(pr.trigger.as_deref(), Some("pull_request"));
    }

    #[test]
    fn gitlab_subjects_round_trip(group in name(), project in name(), b in branch()) {
        let path = format!("{group}/{project}");
        let f = parse_subject(&format!("project_path:{path}:ref_type:branch:ref:{b}"), None);
        prop_assert_eq!(f.provider, Provider::Gitlab);
        prop_assert_eq!(f.repository.as_deref(), Some(path.as_str()));
        prop_assert_eq!(f.git_ref.value.clone(), Some(format!("refs/heads/{b}")));
    }
}

proptest! {
    // Each case runs the whole pipeline: fewer cases.
    #![proptest_config(ProptestConfig { cases: 24, ..ProptestConfig::default() })]

    #[test]
    fn the_claims_join_never_crosses_issuers(
        runs in prop::collection::vec((name(), name(), 0u8..3, any::<bool>()), 1..6),
    ) {
        // Every exchange's token is from GitHub; each run's claim set says
        // it came from GitHub, or from another issuer with the same subject,
        // jti and times (a forgery that must not vouch for the exchange).
        let issuers = ["token.actions.githubusercontent.com", "gitlab.example.com", "evil.example.org"];
        let mut s = Scenario::new();
        let mut foreign = HashSet::new();
        for (i, (owner, repo, claims_issuer, pr)) in runs.iter().enumerate() {
            let key = leak(format!("ASIA{:016}", i));
            s.github(&Gh {
                repo: leak(format!("{owner}/{repo}")),
                at: 600 * (i as i64 + 1),
                key,
                jti: leak(format!("jti-{i}")),
                run_id: leak(format!("{}", 5000 + i)),
                event: if *pr { "pull_request" } else { "push" },
                role: role(&format!("r{i}")),
                ..Gh::default()
            });
            let iss = issuers[*claims_issuer as usize];
            s.claims.last_mut().unwrap()["iss"] = json!(format!("https://{iss}"));
            if *claims_issuer != 0 {
                foreign.insert(key.to_string());
            }
        }
        let report = s.report();
        for sess in &report.sessions {
            let a = &report.assumptions[sess.assumption];
            if let Some(ci) = sess.matched.claims {
                let c = &report.claims[ci];
                prop_assert_eq!(Some(c.issuer.as_str()), a.issuer.as_deref(), "a claim set vouches only for its own issuer");
            }
            if foreign.contains(&sess.key) {
                prop_assert!(sess.matched.claims.is_none(), "{} matched a foreign issuer's claims", sess.key);
            }
        }
    }

    #[test]
    fn every_finding_rests_on_events_in_the_input(
        runs in prop::collection::vec((name(), 0u8..4, 0u8..3, any::<bool>(), any::<bool>()), 1..6),
    ) {
        let refs = ["refs/heads/main", "refs/heads/dev", "refs/tags/v1", "refs/pull/1/merge"];
        let envs = [Some("production"), Some("staging"), None];
        let mut s = Scenario::new().with_policy(
            "[[role]]\nmatch = \"*deploy-prod\"\ntier = \"production\"\nrepositories = [\"acme/*\"]\nrefs = [\"refs/heads/main\"]\n",
        );
        for (i, (repo, r, e, drift, late)) in runs.iter().enumerate() {
            let key = leak(format!("ASIA{:016}", i));
            let at = 3600 * (i as i64 + 1);
            s.github(&Gh {
                repo: leak(format!("acme/{repo}")),
                git_ref: refs[*r as usize],
                env: envs[*e as usize],
                at,
                key,
                jti: leak(format!("jti-{i}")),
                run_id: leak(format!("{}", 7000 + i)),
                ..Gh::default()
            });
            s.call(key, at + 60, "20.1.2.3", "s3", "PutObject");
            if *drift {
                s.call(key, at + 90, "198.51.100.4", "iam", "CreateAccessKey");
            }
            if *late {
                s.job(&format!("acme/{repo}"), &format!("{}", 7000 + i), at - 30, Some(at + 120));
                s.call(key, at + 3000, "20.1.2.3", "s3", "GetObject");
            }
        }
        let report = s.report();
        let ids: HashSet<&str> = (0..report.events.len()).filter_map(|i| report.events.event_id_of(i)).collect();
        for f in &report.findings {
            prop_assert!(!f.event_ids.is_empty(), "{} rests on no event", f.rule);
            for id in &f.event_ids {
                prop_assert!(ids.contains(id.as_str()), "{}: event {} is not in the input", f.rule, id);
            }
            prop_assert_eq!(f.fingerprint.len(), 32);
        }
    }
}
