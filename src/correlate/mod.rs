//! Correlate: exchanges joined to the tokens behind them, the runs those
//! tokens belong to, and every later call made with the issued credentials.
//!
//! Calls are tied to a session by the issued access key id
//! (`responseElements.credentials.accessKeyId` = `userIdentity.accessKeyId`)
//! and by nothing else: role ARNs and session names repeat across runs.
//! Keys issued by other STS calls (`AssumeRole`, `AssumeRoleWithSAML`, ...)
//! are different keys and stay apart. Imports `model` only; knows no
//! policy.

pub mod federation;
pub mod identity;
pub mod runs;

use rayon::prelude::*;

use crate::model::events::EventStore;
use crate::model::records::{Assumption, ClaimsMatch, MatchKind, RunWindow, Session, TokenClaims};
use crate::model::subject::{parse_subject, provider_from_issuer, Fact, Provider};
use crate::model::time::Micros;

/// How long a session linked by principal and time stays open: a GCP
/// federated token (and a service account token generated from it, by
/// default) and an Entra access token both last an hour.
const LINK_LIFETIME: Micros = 3600 * 1_000_000;

/// Sessions and the joins behind them.
pub struct Correlated {
    pub matches: Vec<ClaimsMatch>,
    pub runs: Vec<RunWindow>,
    pub sessions: Vec<Session>,
    /// Calls made by web-identity sessions whose exchange is not in the
    /// input (outside the window, or in a trail that was not given).
    pub orphan_federated_calls: usize,
    /// Access keys issued by more than one exchange (never by real STS); their
    /// calls are attributed to the first.
    pub duplicate_issued_keys: usize,
}

/// Providers that always send `environment` when a job has one, so its
/// absence from their claims means the job had none.
fn environment_absence_is_known(p: Provider) -> bool {
    matches!(
        p,
        Provider::GithubActions
            | Provider::Gitlab
            | Provider::Buildkite
            | Provider::Circleci
            | Provider::HcpTerraform
    )
}

fn facts_from_claims(s: &mut Session, c: &TokenClaims) {
    let provider = c.provider.unwrap_or(Provider::Generic);
    s.provider = Some(provider);
    s.repository = Fact::from_option(c.repository.clone(), false);
    s.git_ref = Fact::from_option(c.git_ref.clone(), false);
    s.environment = Fact::from_option(
        c.environment.clone(),
        environment_absence_is_known(provider),
    );
    s.workflow_ref = Fact::from_option(
        c.workflow_ref.clone(),
        matches!(provider, Provider::GithubActions | Provider::Gitlab),
    );
    s.trigger = Fact::from_option(c.trigger.clone(), false);
    s.deployment_tier = c.deployment_tier.clone();
    s.run_id = c.run_id.clone();
    s.run_attempt = c.run_attempt.clone();
    s.actor = c.actor.clone();
    s.runner_environment = c.runner_environment.clone();
    s.ref_protected = c.ref_protected;
    s.verified = c.verified;
    s.token_key = Some(c.token_key().to_string());
}

/// Facts the exchange itself recorded (Vault's claim mappings).
fn facts_from_hints(s: &mut Session, a: &Assumption) -> bool {
    if a.hints.is_empty() {
        return false;
    }
    let hint = |k: &str| {
        a.hints
            .iter()
            .find(|(key, _)| key == k)
            .map(|(_, v)| v.clone())
    };
    if let Some(r) = hint("repository") {
        s.repository = Fact::of(r);
    }
    if let Some(r) = hint("ref") {
        s.git_ref = Fact::from_option(
            crate::model::refs::normalize_ref(&r, hint("ref_type").as_deref()),
            false,
        );
    }
    if let Some(e) = hint("environment") {
        s.environment = Fact::of(e);
    }
    if let Some(w) = hint("workflow_ref") {
        s.workflow_ref = Fact::of(w);
    }
    if let Some(t) = hint("trigger") {
        s.trigger = Fact::of(t);
    }
    s.run_id = hint("run_id");
    true
}

fn facts_from_subject(s: &mut Session, a: &Assumption) {
    let hinted = facts_from_hints(s, a);
    let Some(subject) = a.subject.as_deref() else {
        return;
    };
    let hint = a.issuer.as_deref().and_then(provider_from_issuer);
    let f = parse_subject(subject, hint);
    s.provider = Some(f.provider);
    if !f.recognized || hinted {
        return;
    }
    s.repository = Fact::from_option(f.repository, false);
    s.git_ref = f.git_ref;
    s.environment = f.environment;
    s.workflow_ref = Fact::from_option(f.workflow_ref, false);
    s.trigger = Fact::from_option(f.trigger, false);
}

/// The session key: the issued access key id, else the exchange's event id,
/// else its position.
fn session_key(a: &Assumption) -> String {
    a.access_key_id
        .clone()
        .or_else(|| a.event_id.clone())
        .unwrap_or_else(|| format!("file{}:{}:{}", a.file, a.line, a.record))
}

/// Joins everything. `skew` widens token windows for clock differences.
pub fn correlate(
    events: &EventStore,
    assumptions: &[Assumption],
    claims: &[TokenClaims],
    jobs: &[crate::model::JobRecord],
    skew: Micros,
) -> Correlated {
    // Both are partly sequential (an index, a walk in order); side by side
    // they keep both cores busy (1M benchmark: 11-20 ms and 8 ms alone).
    let (matches, (runs, run_index)) = rayon::join(
        || federation::match_claims(assumptions, claims, skew),
        || {
            let runs = runs::build_runs(jobs);
            let index = runs::index_runs(&runs);
            (runs, index)
        },
    );

    // Each exchange becomes its session on its own; hundreds of thousands
    // of them are spread over the pool (in order).
    let session_of = |(i, a): (usize, &Assumption)| -> Option<Session> {
        if !a.succeeded() {
            return None;
        }
        let m = &matches[i];
        let mut s = Session {
            key: session_key(a),
            assumption: i,
            role_arn: a.role_arn.clone(),
            matched: m.clone(),
            ..Default::default()
        };
        match (m.kind, m.claims) {
            (MatchKind::Exact | MatchKind::Ambiguous, Some(ci)) => {
                let c = &claims[ci];
                facts_from_claims(&mut s, c);
                s.run = runs::run_for(c, &runs, &run_index);
            }
            _ => facts_from_subject(&mut s, a),
        }
        Some(s)
    };
    let mut sessions: Vec<Session> = if assumptions.len() < federation::PARALLEL_FROM {
        assumptions
            .iter()
            .enumerate()
            .filter_map(session_of)
            .collect()
    } else {
        assumptions
            .par_iter()
            .enumerate()
            .filter_map(session_of)
            .collect()
    };
    // Several exchanges without a key or event id would share a key; keep
    // keys unique so findings point at one session.
    // (Counted by borrowed key, renamed after: cloning every key into the
    // map cost more than the rest of the pass.)
    let mut renames = Vec::new();
    {
        let mut seen: hashbrown::HashMap<&str, usize, foldhash::fast::FixedState> =
            hashbrown::HashMap::with_capacity_and_hasher(sessions.len(), Default::default());
        for (i, s) in sessions.iter().enumerate() {
            let n = seen.entry(s.key.as_str()).or_insert(0);
            *n += 1;
            if *n > 1 {
                renames.push((i, format!("{}#{}", s.key, n)));
            }
        }
    }
    for (i, key) in renames {
        sessions[i].key = key;
    }

    // Key → session, through the interned access key column.
    let mut by_key: Vec<u32> = vec![u32::MAX; events.strings.len() + 1];
    let mut duplicate_issued_keys = 0;
    for (si, s) in sessions.iter().enumerate() {
        let Some(key) = assumptions[s.assumption].access_key_id.as_deref() else {
            continue;
        };
        if let Some(sym) = events.strings.find(key) {
            let slot = &mut by_key[sym.0 as usize];
            if *slot == u32::MAX {
                *slot = si as u32;
            } else {
                duplicate_issued_keys += 1;
            }
        }
    }
    // GCP (and Entra records without a uti): no token id; calls name the
    // federated principal (or application), and belong to a session of it
    // whose token was still valid. Parallel jobs of one principal overlap,
    // so a call goes to the live session that exchanged from the same
    // address; a call from an address none of them used is foreign to all,
    // and goes to the latest.
    let mut by_principal: std::collections::HashMap<u32, Vec<(Micros, usize)>> =
        std::collections::HashMap::new();
    for (si, s) in sessions.iter().enumerate() {
        let a = &assumptions[s.assumption];
        if let (Some(p), Some(t)) = (a.link_principal.as_deref(), a.time) {
            if let Some(sym) = events.strings.find(p) {
                by_principal.entry(sym.0).or_default().push((t, si));
            }
        }
    }
    for list in by_principal.values_mut() {
        list.sort();
    }
    let exchange_ip: Vec<Option<crate::model::Sym>> = sessions
        .iter()
        .map(|s| {
            assumptions[s.assumption]
                .source_ip
                .as_deref()
                .and_then(|ip| events.strings.find(ip))
        })
        .collect();
    let mut orphan_federated_calls = 0;
    for (ei, key) in events.access_key.iter().enumerate() {
        if key.is_none() {
            continue;
        }
        match by_key[key.0 as usize] {
            u32::MAX => {
                let linked = by_principal.get(&key.0).and_then(|list| {
                    let t = events.time_of(ei)?;
                    let live: Vec<usize> = list
                        .iter()
                        .filter(|&&(start, _)| {
                            start <= t + skew && t <= start + LINK_LIFETIME + skew
                        })
                        .map(|&(_, si)| si)
                        .collect();
                    let same_address = live
                        .iter()
                        .rev()
                        .find(|&&si| exchange_ip[si] == Some(events.source_ip[ei]));
                    same_address.or(live.last()).copied()
                });
                match linked {
                    Some(si) => sessions[si].activity.push(ei),
                    None if events.federated_provider[ei].is_some() => orphan_federated_calls += 1,
                    None => {}
                }
            }
            si => sessions[si as usize].activity.push(ei),
        }
    }
    let finish = |s: &mut Session| {
        summarize_activity(s, events);
        if assumptions[s.assumption].cloud == "gcp" {
            // The service account the principal impersonated is the role.
            let impersonated = s.activity.iter().find_map(|&i| {
                let action = events.str(events.action[i])?;
                let sa = events.str(events.resource[i])?;
                (action.ends_with("GenerateAccessToken")
                    && events.error_code[i].is_none()
                    && sa.contains('@'))
                .then(|| sa.to_string())
            });
            if impersonated.is_some() {
                s.role_arn = impersonated;
            }
        }
    };
    // Each session's calls are sorted and summed on their own.
    if sessions.len() < federation::PARALLEL_FROM {
        sessions.iter_mut().for_each(finish);
    } else {
        sessions.par_iter_mut().for_each(finish);
    }
    Correlated {
        matches,
        runs,
        sessions,
        orphan_federated_calls,
        duplicate_issued_keys,
    }
}

/// Orders a session's calls and computes its activity figures.
fn summarize_activity(s: &mut Session, events: &EventStore) {
    s.activity.sort_by_key(|&i| events.time_order(i));
    s.calls = s.activity.len();
    let mut ips = Vec::new();
    let mut services = Vec::new();
    for &i in &s.activity {
        if events.error_code[i].is_some() {
            s.errors += 1;
        }
        if let Some(t) = events.time_of(i) {
            s.first_use = Some(s.first_use.map_or(t, |f: Micros| f.min(t)));
            s.last_use = Some(s.last_use.map_or(t, |l: Micros| l.max(t)));
        }
        if !events.via_service(i)
            && events.source_ip[i].is_some()
            && !ips.contains(&events.source_ip[i])
        {
            ips.push(events.source_ip[i]);
        }
        if let Some(svc) = events.str(events.service[i]) {
            let short = svc.strip_suffix(".amazonaws.com").unwrap_or(svc);
            if !services.iter().any(|x: &String| x == short) {
                services.push(short.to_string());
            }
        }
    }
    services.sort();
    s.services = services;
    s.distinct_ips = ips.len();
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::events::EventRow;

    fn exchange(key: &str, event_index: usize) -> Assumption {
        Assumption {
            event_index,
            time: Some(0),
            issuer: Some("https://token.actions.githubusercontent.com".into()),
            subject: Some("repo:acme/web:ref:refs/heads/main".into()),
            access_key_id: Some(key.into()),
            event_id: Some(format!("ex-{key}")),
            ..Default::default()
        }
    }

    #[test]
    fn sessions_sharing_a_key_are_numbered_in_input_order() {
        let ev = EventStore::default();
        let a = vec![
            exchange("ASIASAME", 0),
            exchange("ASIAOTHER", 0),
            exchange("ASIASAME", 0),
            exchange("ASIASAME", 0),
        ];
        let c = correlate(&ev, &a, &[], &[], 0);
        let keys: Vec<&str> = c.sessions.iter().map(|s| s.key.as_str()).collect();
        assert_eq!(keys, ["ASIASAME", "ASIAOTHER", "ASIASAME#2", "ASIASAME#3"]);
    }

    #[test]
    fn calls_follow_the_issued_key_only() {
        let mut ev = EventStore::default();
        for (t, key, ip, fed) in [
            (0, None, "1.1.1.1", None),
            (5, Some("ASIAONE"), "1.1.1.1", Some("arn:p")),
            (6, Some("ASIAONE"), "9.9.9.9", Some("arn:p")),
            (7, Some("ASIATWO"), "2.2.2.2", Some("arn:p")),
            (8, Some("ASIAOTHER"), "3.3.3.3", Some("arn:p")),
            (9, Some("AKIAUSER"), "4.4.4.4", None),
        ] {
            ev.push(&EventRow {
                time: Some(t),
                cloud: "aws",
                access_key: key,
                source_ip: Some(ip),
                federated_provider: fed,
                service: Some("s3.amazonaws.com"),
                ..Default::default()
            });
        }
        let a = vec![exchange("ASIAONE", 0), exchange("ASIATWO", 0)];
        let c = correlate(&ev, &a, &[], &[], 0);
        assert_eq!(c.sessions.len(), 2);
        assert_eq!(c.sessions[0].activity, vec![1, 2]);
        assert_eq!(c.sessions[0].distinct_ips, 2);
        assert_eq!(c.sessions[0].services, vec!["s3"]);
        assert_eq!(c.sessions[1].activity, vec![3]);
        assert_eq!(c.orphan_federated_calls, 1);
        assert_eq!(c.sessions[0].matched.kind, MatchKind::Derived);
        assert_eq!(c.sessions[0].git_ref, Fact::of("refs/heads/main"));
        assert_eq!(c.sessions[0].environment, Fact::absent());
    }

    #[test]
    fn failed_exchanges_are_not_sessions() {
        let mut failed = exchange("ASIAONE", 0);
        failed.error_code = Some("AccessDenied".into());
        failed.access_key_id = None;
        let c = correlate(&EventStore::default(), &[failed], &[], &[], 0);
        assert!(c.sessions.is_empty());
        assert_eq!(c.matches.len(), 1);
    }
}
