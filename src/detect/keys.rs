//! Static keys judged: the trail's summary of each long-term key joined to
//! what IAM says of it (credential report, key lists), to the federated
//! sessions of the same input, to the CI address ranges and to the
//! policy's `[ci]` and `[[static_key]]`; one [`KeyRow`] per key, with the
//! links that tie it to CI (strongest first) and a verdict. The
//! `static-key-*` rules read these rows; so do `rolecall keys`, the
//! dashboard's Keys view and the report. Also the `keys` table for
//! `rolecall query`.
//!
//! Ages are measured at one reference time: the credential report's
//! generation time when one says it, else the end of the trail, else now
//! (see [`reference_time`]), so that the same evidence is judged the same
//! way whenever the run happens.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use polars::prelude::DataFrame;
use rayon::prelude::*;

use crate::model::keys::{
    KeyInputs, KeyLink, KeyRecord, KeyRecordSource, KeyReport, KeyRow, KeyUse, LinkKind,
    ReferenceTime, Verdict,
};
use crate::model::records::{Assumption, Session};
use crate::model::tables::FrameBuilder;
use crate::model::time::{format_time, Micros};
use crate::policy::glob::Glob;
use crate::policy::net::Cidr;
use crate::policy::Policy;

const DAY: Micros = 86_400 * 1_000_000;

/// Which sources the static-key rules judge: only CloudTrail has
/// long-term AWS keys.
pub const KEY_SOURCES: [crate::model::rule::Coverage; 4] = crate::model::rule::Coverage::each([
    (true, "IAM user and root keys (AKIA)"),
    (false, "GCP logs carry no long-term AWS keys"),
    (false, "Entra logs carry no long-term AWS keys"),
    (false, "Vault logs carry no long-term AWS keys"),
]);

/// Calls a finding names by event id.
pub const MAX_EVENTS_NAMED: usize = 20;

/// Same-runner sessions named per key; the count is exact.
const MAX_SESSIONS_NAMED: usize = 10;

/// Where ages are measured: the latest credential report's generation
/// time, else the end of the trail, else `now`.
pub fn reference_time(
    records: &[KeyRecord],
    event_span: Option<(Micros, Micros)>,
    now: Micros,
) -> ReferenceTime {
    if let Some(t) = records.iter().filter_map(|r| r.generated).max() {
        return ReferenceTime {
            at: t,
            basis: "credential report".into(),
        };
    }
    if let Some((_, end)) = event_span {
        return ReferenceTime {
            at: end,
            basis: "end of trail".into(),
        };
    }
    ReferenceTime {
        at: now,
        basis: "now".into(),
    }
}

/// What the static-key judgement reads.
pub struct KeyContext<'a> {
    pub inputs: &'a KeyInputs,
    pub sessions: &'a [Session],
    pub assumptions: &'a [Assumption],
    pub policy: &'a Policy,
    pub event_span: Option<(Micros, Micros)>,
    pub now: Micros,
}

/// Facts of one IAM key, gathered from every record that names it.
#[derive(Default, Clone)]
struct IamFacts {
    user: Option<String>,
    user_arn: Option<String>,
    active: Option<bool>,
    created: Option<Micros>,
    last_used: Option<Micros>,
    never_used: bool,
    last_used_service: Option<String>,
    last_used_region: Option<String>,
    sources: BTreeSet<KeyRecordSource>,
    report_match: Option<String>,
    /// From the credential report: when it was generated.
    generated: Option<Micros>,
}

impl IamFacts {
    fn absorb(&mut self, r: &KeyRecord) {
        if let Some(s) = r.source {
            self.sources.insert(s);
        }
        self.user = self.user.take().or_else(|| r.user.clone());
        self.user_arn = self.user_arn.take().or_else(|| r.user_arn.clone());
        // list-access-keys' status is current; the report's is as of its
        // generation: the key list wins where both say.
        if r.active.is_some()
            && (self.active.is_none() || r.source == Some(KeyRecordSource::ListAccessKeys))
        {
            self.active = r.active;
        }
        if r.created.is_some()
            && (self.created.is_none() || r.source == Some(KeyRecordSource::ListAccessKeys))
        {
            self.created = r.created;
        }
        if let Some(t) = r.last_used {
            if self.last_used.is_none_or(|u| t > u) {
                self.last_used = Some(t);
                self.last_used_service = r.last_used_service.clone();
                self.last_used_region = r.last_used_region.clone();
            }
            self.never_used = false;
        } else if r.never_used && self.last_used.is_none() {
            self.never_used = true;
        }
        if r.generated.is_some() {
            self.generated = self.generated.max(r.generated);
        }
    }
}

/// The account of an IAM ARN.
fn account(arn: Option<&str>) -> Option<String> {
    arn.and_then(crate::model::account_of_arn)
}

/// The user name an IAM record or a trail key names.
fn user_key(account: Option<&str>, user: &str) -> (String, String) {
    (account.unwrap_or("").to_string(), user.to_string())
}

/// Joins IAM's records into per-key facts: by key id where a record has
/// one; the credential report's rows (user and slot, no id) by the
/// key list's creation date, else by being the user's only key in both.
fn iam_facts(inputs: &KeyInputs) -> (BTreeMap<String, IamFacts>, Vec<(String, IamFacts)>) {
    if inputs.records.is_empty() {
        return (BTreeMap::new(), Vec::new());
    }
    let mut by_id: BTreeMap<String, IamFacts> = BTreeMap::new();
    // Latest report row per (user arn or user, slot).
    let mut report_rows: BTreeMap<(String, String, u8), &KeyRecord> = BTreeMap::new();
    let mut users_last_used: Vec<&KeyRecord> = Vec::new();
    for r in &inputs.records {
        match (r.source, &r.key_id) {
            (Some(KeyRecordSource::CredentialReport), _) => {
                let id = (
                    account(r.user_arn.as_deref()).unwrap_or_default(),
                    r.user.clone().unwrap_or_default(),
                    r.slot.unwrap_or(0),
                );
                let newer = report_rows
                    .get(&id)
                    .is_none_or(|old| r.generated >= old.generated);
                if newer {
                    report_rows.insert(id, r);
                }
            }
            (_, Some(id)) => by_id.entry(id.clone()).or_default().absorb(r),
            (_, None) => users_last_used.push(r),
        }
    }
    // Key ids known per user: from the key lists, then the trail.
    let mut ids_of_user: HashMap<(String, String), BTreeSet<String>> = HashMap::new();
    for (id, f) in &by_id {
        if let Some(u) = &f.user {
            ids_of_user
                .entry(user_key(None, u))
                .or_default()
                .insert(id.clone());
        }
    }
    let mut trail_ids_of_user: HashMap<(String, String), BTreeSet<String>> = HashMap::new();
    for (id, k) in &inputs.usage.keys {
        if let Some(u) = &k.user_name {
            trail_ids_of_user
                .entry(user_key(k.account.as_deref(), u))
                .or_default()
                .insert(id.clone());
        }
    }
    let slots_of_user = |acct: &str, user: &str| {
        report_rows
            .keys()
            .filter(|(a, u, _)| a == acct && u == user)
            .count()
    };
    let mut unmatched = Vec::new();
    for ((acct, user, slot), r) in &report_rows {
        // The key list's creation date is the report's last_rotated for a
        // key never rotated since (IAM rotates by creating a new key).
        let by_date = ids_of_user.get(&user_key(None, user)).and_then(|ids| {
            let fits: Vec<&String> = ids
                .iter()
                .filter(|id| {
                    let created = by_id.get(*id).and_then(|f| f.created);
                    matches!((created, r.created), (Some(a), Some(b)) if (a - b).abs() <= 2_000_000)
                })
                .collect();
            (fits.len() == 1).then(|| fits[0].clone())
        });
        // The trail's one key of the user is this row's key when the row is
        // the user's only key, or its only active one and every inactive
        // key's last use came before the trail's first (a key made inactive
        // cannot have made the calls after).
        let only_key = || {
            let trail = trail_ids_of_user.get(&user_key(Some(acct), user))?;
            let listed = ids_of_user.get(&user_key(None, user));
            if trail.len() != 1 || listed.is_some_and(|l| l.len() > 1) {
                return None;
            }
            let id = trail.iter().next()?;
            let fits = slots_of_user(acct, user) == 1 || {
                let first = inputs.usage.keys.get(id).and_then(|k| k.first);
                let others: Vec<&&KeyRecord> = report_rows
                    .iter()
                    .filter(|((a, u, s), _)| a == acct && u == user && s != slot)
                    .map(|(_, r)| r)
                    .collect();
                r.active == Some(true)
                    && others.iter().all(|o| {
                        o.active == Some(false)
                            && (o.never_used
                                || matches!((o.last_used, first), (Some(l), Some(f)) if l < f))
                    })
            };
            fits.then(|| id.clone())
        };
        let (id, how) = match by_date {
            Some(id) => (
                Some(id),
                "list-access-keys CreateDate equals the report's last_rotated",
            ),
            None => match only_key() {
                Some(id) => (
                    Some(id),
                    "the user's only (active) key in the report, and its only key in the trail",
                ),
                None => (None, ""),
            },
        };
        match id {
            Some(id) => {
                let f = by_id.entry(id).or_default();
                f.absorb(r);
                f.report_match = Some(how.to_string());
            }
            None => {
                let mut f = IamFacts::default();
                f.absorb(r);
                unmatched.push((format!("{user} (key {slot})"), f));
            }
        }
    }
    for r in users_last_used {
        let Some(user) = &r.user else { continue };
        let ids = ids_of_user.get(&user_key(None, user));
        match ids.filter(|ids| ids.len() == 1) {
            Some(ids) => {
                if let Some(id) = ids.iter().next() {
                    by_id.entry(id.clone()).or_default().absorb(r);
                }
            }
            None => {
                let mut f = IamFacts::default();
                f.absorb(r);
                unmatched.push((format!("{user} (last use)"), f));
            }
        }
    }
    (by_id, unmatched)
}

/// A federated CI session's runner and lifetime.
struct Runner<'a> {
    session: &'a Session,
    from: Micros,
    to: Micros,
}

/// Sessions by the address their exchange came from.
fn runners<'a>(ctx: &'a KeyContext<'_>) -> HashMap<&'a str, Vec<Runner<'a>>> {
    let grace = ctx.policy.settings.job_grace * 1_000_000;
    let default_life = ctx.policy.settings.max_session_duration * 1_000_000;
    let mut out: HashMap<&str, Vec<Runner<'_>>> = HashMap::new();
    for s in ctx.sessions {
        let a = &ctx.assumptions[s.assumption];
        let (Some(ip), Some(t)) = (a.source_ip.as_deref(), a.time) else {
            continue;
        };
        if a.error_code.is_some() || !ip.contains(['.', ':']) {
            continue;
        }
        let end = a
            .expiration
            .or(s.last_use)
            .unwrap_or(t + default_life)
            .max(s.last_use.unwrap_or(t));
        out.entry(ip).or_default().push(Runner {
            session: s,
            from: t - grace,
            to: end + grace,
        });
    }
    out
}

/// The CI ranges given as input and in the policy, named.
fn ci_ranges(ctx: &KeyContext<'_>) -> Vec<(String, Cidr)> {
    let mut out = Vec::new();
    for (name, cidrs) in &ctx.inputs.ci_ranges.sets {
        for c in cidrs {
            if let Ok(cidr) = Cidr::parse(c) {
                out.push((name.clone(), cidr));
            }
        }
    }
    for c in &ctx.policy.ci.cidrs {
        out.push(("the policy's [ci] cidrs".to_string(), *c));
    }
    out
}

/// The first role a `[[static_key]]` names that federated in the input.
fn first_session_of_role(ctx: &KeyContext<'_>, role: &str) -> Option<Micros> {
    ctx.sessions
        .iter()
        .filter(|s| s.role_arn.as_deref() == Some(role))
        .filter_map(|s| ctx.assumptions[s.assumption].time)
        .min()
}

/// Every key joined and judged, sorted with the keys that block a
/// migration first.
pub fn build(ctx: &KeyContext<'_>) -> KeyReport {
    let inputs = ctx.inputs;
    let reference = reference_time(&inputs.records, ctx.event_span, ctx.now);
    let (mut iam, unmatched) = iam_facts(inputs);
    let runners = runners(ctx);
    let ranges = ci_ranges(ctx);
    // Each distinct user agent is matched against the CI patterns once: a
    // trail has thousands of keys but few agents.
    let mut ci_agents: HashMap<&str, Option<&Glob>> = HashMap::new();
    for k in inputs.usage.keys.values() {
        for agent in &k.agents.names {
            ci_agents
                .entry(agent.as_str())
                .or_insert_with(|| ctx.policy.ci.user_agents.iter().find(|g| g.is_match(agent)));
        }
    }
    let joins = Joins {
        reference: &reference,
        runners: &runners,
        ranges: &ranges,
        ci_agents: &ci_agents,
    };
    let used: Vec<(&String, &KeyUse, Option<IamFacts>)> = inputs
        .usage
        .keys
        .iter()
        .map(|(id, usage)| (id, usage, iam.remove(id)))
        .collect();
    let mut rows: Vec<KeyRow> = used
        .into_par_iter()
        .map(|(id, usage, facts)| row(ctx, &joins, id, Some(usage), facts))
        .collect();
    for (id, facts) in iam {
        rows.push(row(ctx, &joins, &id, None, Some(facts)));
    }
    for (label, facts) in unmatched {
        let mut r = row(ctx, &joins, &label, None, Some(facts));
        r.key_id = None;
        rows.push(r);
    }
    rows.sort_by(|a, b| {
        a.verdict
            .cmp(&b.verdict)
            .then_with(|| b.last_used().cmp(&a.last_used()))
            .then_with(|| a.key.cmp(&b.key))
    });
    KeyReport {
        rows,
        reference: Some(reference).filter(|_| !inputs.is_empty()),
        iam_records: !inputs.records.is_empty(),
        calls_of_keys_dropped: inputs.usage.calls_of_keys_dropped,
    }
}

/// What every key's row is joined against, computed once.
struct Joins<'a> {
    reference: &'a ReferenceTime,
    runners: &'a HashMap<&'a str, Vec<Runner<'a>>>,
    ranges: &'a [(String, Cidr)],
    /// User agent → the CI pattern it matches.
    ci_agents: &'a HashMap<&'a str, Option<&'a Glob>>,
}

fn row(
    ctx: &KeyContext<'_>,
    joins: &Joins<'_>,
    id: &str,
    usage: Option<&KeyUse>,
    facts: Option<IamFacts>,
) -> KeyRow {
    let (reference, runners, ranges) = (joins.reference, joins.runners, joins.ranges);
    let facts = facts.unwrap_or_default();
    let user = usage
        .and_then(|u| u.user_name.clone())
        .or_else(|| facts.user.clone());
    let user_arn = usage
        .and_then(|u| u.user_arn.clone())
        .or_else(|| facts.user_arn.clone());
    let declared = user.as_deref().and_then(|u| ctx.policy.static_key_rule(u));
    let mut links = Vec::new();
    let mut federating = BTreeSet::new();
    if let Some(u) = usage {
        // 1. Same runner.
        let mut shared: Vec<&Session> = Vec::new();
        for address in &u.addresses.names {
            for r in runners.get(address.as_str()).into_iter().flatten() {
                if u.used_from_within(address, r.from, r.to) {
                    shared.push(r.session);
                }
            }
        }
        shared.sort_by(|a, b| a.key.cmp(&b.key));
        shared.dedup_by(|a, b| a.key == b.key);
        for s in &shared {
            if let Some(repo) = &s.repository.value {
                federating.insert(repo.clone());
            }
        }
        for s in shared.iter().take(MAX_SESSIONS_NAMED) {
            let a = &ctx.assumptions[s.assumption];
            let ip = a.source_ip.clone().unwrap_or_default();
            let job = describe_job(s);
            links.push(KeyLink {
                kind: LinkKind::SameRunner,
                detail: format!(
                    "used from {ip} while the federated session {} of {job} was alive there",
                    s.key
                ),
                session_key: Some(s.key.clone()),
                repository: s.repository.value.clone(),
                workflow: s.workflow_ref.value.clone(),
                run_id: s.run_id.clone(),
                role: s.role_arn.clone(),
            });
        }
        if shared.len() > MAX_SESSIONS_NAMED {
            links.push(KeyLink {
                kind: LinkKind::SameRunner,
                detail: format!(
                    "and {} more federated sessions on the same runners",
                    shared.len() - MAX_SESSIONS_NAMED
                ),
                session_key: None,
                repository: None,
                workflow: None,
                run_id: None,
                role: None,
            });
        }
        // 2. CI address.
        for (address, calls) in u.addresses.by_count() {
            let Ok(ip) = address.parse::<std::net::IpAddr>() else {
                continue;
            };
            if let Some((name, cidr)) = ranges.iter().find(|(_, c)| c.contains(ip)) {
                links.push(plain_link(
                    LinkKind::CiAddress,
                    format!("{calls} calls from {address}, inside {cidr} ({name})"),
                ));
            }
        }
        // 3. CI user agent.
        for (agent, calls) in u.agents.by_count() {
            if let Some(g) = joins.ci_agents.get(agent).copied().flatten() {
                links.push(plain_link(
                    LinkKind::CiUserAgent,
                    format!(
                        "{calls} calls with the user agent {}, which matches the CI pattern {}",
                        crate::text::terminal::truncate(agent, 120),
                        g.as_str()
                    ),
                ));
            }
        }
    }
    // 4. Declared.
    if let Some(rule) = declared {
        let mut what = format!("the policy's [[static_key]] user = {}", rule.user.as_str());
        if let Some(repo) = &rule.repository {
            what.push_str(&format!(" names it as {repo}'s"));
        }
        links.push(plain_link(LinkKind::Declared, what));
        if let Some(repo) = &rule.repository {
            let federates = ctx
                .sessions
                .iter()
                .any(|s| s.repository.value.as_deref() == Some(repo.as_str()));
            if federates {
                federating.insert(repo.clone());
            }
        }
    }
    let replacement_first_session = declared
        .and_then(|r| r.replaced_by.as_deref())
        .and_then(|role| first_session_of_role(ctx, role));
    let last_used_in_trail = usage.and_then(|u| u.last);
    let mut r = KeyRow {
        key: id.to_string(),
        key_id: Some(id.to_string()),
        user,
        account: usage
            .and_then(|u| u.account.clone())
            .or_else(|| account(user_arn.as_deref())),
        user_arn,
        principal_type: usage.map(|u| u.principal_type.clone()),
        active: facts.active,
        created: facts.created,
        last_rotated: facts.created,
        first_used_in_trail: usage.and_then(|u| u.first),
        last_used_in_trail,
        last_used_per_iam: facts.last_used,
        last_used_service: facts.last_used_service.clone(),
        last_used_region: facts.last_used_region.clone(),
        never_used: facts.never_used && usage.is_none_or(|u| u.calls == 0),
        calls: usage.map_or(0, |u| u.calls),
        errors: usage.map_or(0, |u| u.errors),
        addresses: usage.map_or_else(Vec::new, |u| owned(u.addresses.by_count())),
        user_agents: usage.map_or_else(Vec::new, |u| owned(u.agents.by_count())),
        actions: usage.map_or_else(Vec::new, |u| owned(u.actions.by_count())),
        truncated: usage.is_some_and(KeyUse::truncated),
        links,
        federating_repositories: federating.into_iter().collect(),
        declared_repository: declared.and_then(|r| r.repository.clone()),
        replaced_by: declared.and_then(|r| r.replaced_by.clone()),
        migrated: declared.and_then(|r| r.migrated),
        replacement_first_session,
        idle_days: None,
        age_days: None,
        verdict: Verdict::Other,
        record_sources: facts.sources.iter().copied().collect(),
        report_match: facts.report_match.clone(),
        recent: usage.map_or_else(Vec::new, KeyUse::recent_rows),
    };
    r.idle_days = r.last_used().map(|t| (reference.at - t).div_euclid(DAY));
    r.age_days = r.created.map(|t| (reference.at - t).div_euclid(DAY));
    r.verdict = verdict(&r, ctx.policy, reference.at, !facts.sources.is_empty());
    r
}

fn owned(v: Vec<(&str, u64)>) -> Vec<(String, u64)> {
    v.into_iter().map(|(s, n)| (s.to_string(), n)).collect()
}

fn plain_link(kind: LinkKind, detail: String) -> KeyLink {
    KeyLink {
        kind,
        detail,
        session_key: None,
        repository: None,
        workflow: None,
        run_id: None,
        role: None,
    }
}

/// `acme/web's run 123 (deploy.yml), role deploy-prod`.
pub fn describe_job(s: &Session) -> String {
    let repo = s
        .repository
        .value
        .as_deref()
        .unwrap_or("an unknown repository");
    let mut out = repo.to_string();
    if let Some(run) = &s.run_id {
        out.push_str(&format!("'s run {run}"));
    }
    if let Some(w) = &s.workflow_ref.value {
        let path = w.split('@').next().unwrap_or(w);
        let file = path.rsplit('/').next().unwrap_or(path);
        out.push_str(&format!(" ({file})"));
    }
    if let Some(role) = &s.role_arn {
        out.push_str(&format!(", role {}", crate::model::role_name(role)));
    }
    out
}

/// When the key's use counts as after its migration, and from when: the
/// declared `migrated` date (once passed), else the replacement role's
/// first federated session.
pub fn migration_start(r: &KeyRow, reference: Micros) -> Option<(Micros, &'static str)> {
    if let Some(m) = r.migrated.filter(|&m| m <= reference) {
        return Some((m, "the declared migration date"));
    }
    r.replacement_first_session
        .map(|t| (t, "the replacement role's first federated session"))
}

/// Whether an active key's IAM record shows no use for the setting's days.
pub fn is_unused(r: &KeyRow, policy: &Policy, reference: Micros) -> bool {
    if r.active != Some(true) || r.record_sources.is_empty() {
        return false;
    }
    let limit = policy.settings.static_key_unused_days * DAY;
    match r.last_used() {
        // A key made yesterday and not used yet is being provisioned.
        None => r.never_used && r.created.is_none_or(|c| reference - c >= limit),
        Some(t) => reference - t >= limit,
    }
}

/// Whether an active key is older than `static_key_max_age`.
pub fn is_old(r: &KeyRow, policy: &Policy, reference: Micros) -> bool {
    r.active == Some(true)
        && r.created
            .is_some_and(|c| reference - c > policy.settings.static_key_max_age * 1_000_000)
}

fn verdict(r: &KeyRow, policy: &Policy, reference: Micros, iam: bool) -> Verdict {
    if let Some((from, _)) = migration_start(r, reference) {
        if r.last_used().is_some_and(|t| t > from) {
            return Verdict::AfterMigration;
        }
    }
    if r.observed_ci_link().is_some() {
        return Verdict::InCi;
    }
    if iam && is_unused(r, policy, reference) {
        return Verdict::Unused;
    }
    if is_old(r, policy, reference) {
        return Verdict::Old;
    }
    if r.active == Some(false) {
        return Verdict::Inactive;
    }
    if r.has_link(LinkKind::Declared) {
        return Verdict::Declared;
    }
    Verdict::Other
}

/// The `keys` table for `rolecall query`: one row per key.
pub fn keys_frame(report: &KeyReport) -> DataFrame {
    let r = &report.rows;
    let join = |v: &[(String, u64)], max: usize| {
        Some(
            v.iter()
                .take(max)
                .map(|(s, n)| format!("{s} ({n})"))
                .collect::<Vec<_>>()
                .join(", "),
        )
    };
    let mut b = FrameBuilder::new(r.len());
    b.str("key", r.iter().map(|x| Some(x.key.as_str())))
        .str("access_key_id", r.iter().map(|x| x.key_id.as_deref()))
        .str("user_name", r.iter().map(|x| x.user.as_deref()))
        .str("user_arn", r.iter().map(|x| x.user_arn.as_deref()))
        .str(
            "principal_type",
            r.iter().map(|x| x.principal_type.as_deref()),
        )
        .str("account", r.iter().map(|x| x.account.as_deref()))
        .bool("active", r.iter().map(|x| x.active))
        .time("created", r.iter().map(|x| x.created))
        .time("last_rotated", r.iter().map(|x| x.last_rotated))
        .time(
            "first_used_in_trail",
            r.iter().map(|x| x.first_used_in_trail),
        )
        .time("last_used_in_trail", r.iter().map(|x| x.last_used_in_trail))
        .time("last_used_per_iam", r.iter().map(|x| x.last_used_per_iam))
        .str(
            "last_used_service",
            r.iter().map(|x| x.last_used_service.as_deref()),
        )
        .i64("calls", r.iter().map(|x| Some(x.calls as i64)))
        .i64("errors", r.iter().map(|x| Some(x.errors as i64)))
        .i64(
            "address_count",
            r.iter().map(|x| Some(x.addresses.len() as i64)),
        )
        .string("addresses", r.iter().map(|x| join(&x.addresses, 20)))
        .string("user_agents", r.iter().map(|x| join(&x.user_agents, 10)))
        .string("top_actions", r.iter().map(|x| join(&x.actions, 10)))
        .string(
            "ci_links",
            r.iter().map(|x| {
                let mut kinds: Vec<&str> = x.links.iter().map(|l| l.kind.as_str()).collect();
                kinds.dedup();
                Some(kinds.join(","))
            }),
        )
        .string(
            "federating_repositories",
            r.iter().map(|x| Some(x.federating_repositories.join(","))),
        )
        .i64("idle_days", r.iter().map(|x| x.idle_days))
        .i64("age_days", r.iter().map(|x| x.age_days))
        .str("verdict", r.iter().map(|x| Some(x.verdict.as_str())));
    b.finish()
}

/// Formats a key's last use for a sentence.
pub fn last_use_text(r: &KeyRow) -> String {
    match r.last_used() {
        Some(t) => format_time(t),
        None if r.never_used => "never".into(),
        None => "unknown".into(),
    }
}

/// A finding about one key, with the fields every static-key rule sets.
pub fn key_finding(
    r: &KeyRow,
    rule: &crate::model::rule::Rule,
    severity: crate::model::Severity,
) -> crate::model::Finding {
    use serde_json::json;
    let mut f = crate::model::Finding::new(&rule.id, severity, &rule.title);
    f.time = r.last_used().or(r.created);
    f.cloud = Some("aws".into());
    f.account = r.account.clone();
    f.source_ip = r.addresses.first().map(|(a, _)| a.clone());
    if let Some(link) = r
        .links
        .iter()
        .find(|l| l.kind == LinkKind::SameRunner && l.session_key.is_some())
    {
        f.session_key = link.session_key.clone();
        f.repository = link.repository.clone();
        f.run_id = link.run_id.clone();
        f.role = link.role.clone();
    } else {
        f.repository = r.declared_repository.clone();
        f.role = r.replaced_by.clone();
    }
    // The calls it rests on, newest first (the trail's, when it has them).
    f.event_ids = r
        .recent
        .iter()
        .filter_map(|c| c.event_id.clone())
        .take(MAX_EVENTS_NAMED)
        .collect();
    let e = &mut f.evidence;
    e.insert(
        "access_key_id".into(),
        json!(r.key_id.clone().unwrap_or_else(|| r.key.clone())),
    );
    e.insert("user".into(), json!(r.user));
    if let Some(arn) = &r.user_arn {
        e.insert("user_arn".into(), json!(arn));
    }
    e.insert("calls".into(), json!(r.calls));
    e.insert("last_used".into(), json!(last_use_text(r)));
    if !r.addresses.is_empty() {
        e.insert(
            "addresses".into(),
            json!(r
                .addresses
                .iter()
                .take(10)
                .map(|(a, n)| format!("{a} ({n})"))
                .collect::<Vec<_>>()),
        );
    }
    if !r.actions.is_empty() {
        e.insert(
            "actions".into(),
            json!(r
                .actions
                .iter()
                .take(10)
                .map(|(a, n)| format!("{a} ({n})"))
                .collect::<Vec<_>>()),
        );
    }
    if !r.user_agents.is_empty() {
        e.insert(
            "user_agents".into(),
            json!(r
                .user_agents
                .iter()
                .take(5)
                .map(|(a, _)| a.clone())
                .collect::<Vec<_>>()),
        );
    }
    if !r.links.is_empty() {
        e.insert(
            "ci_links".into(),
            json!(r
                .links
                .iter()
                .map(|l| format!("{}: {}", l.kind.as_str(), l.detail))
                .collect::<Vec<_>>()),
        );
    }
    if !r.record_sources.is_empty() {
        e.insert(
            "iam_sources".into(),
            json!(r
                .record_sources
                .iter()
                .map(|s| s.as_str())
                .collect::<Vec<_>>()),
        );
    }
    f
}

/// A key's name for a sentence: `AKIA... (user ci-deployer)`.
pub fn key_name(r: &KeyRow) -> String {
    match (&r.key_id, &r.user) {
        (Some(id), Some(u)) => format!("{id} (user {u})"),
        (Some(id), None) => id.clone(),
        (None, _) => r.key.clone(),
    }
}
