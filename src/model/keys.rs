//! Long-term access keys: what the trail shows of each (a compact summary
//! per key, never its events), what IAM says of each (credential report,
//! `list-access-keys`, `get-access-key-last-used`), the CI address ranges
//! given as input, and the joined row every surface shows ([`KeyRow`]).
//!
//! The summary is built while the trail is read, one per worker, and
//! merged: counts are exact; the lists inside (addresses, user agents,
//! actions, the minutes of use per address, the latest calls) are capped
//! so that a key used a million times costs what one used a thousand
//! times costs, and what the caps left out is counted. Pure data; the
//! judgement is in `detect::keys`.

use serde::{Deserialize, Serialize};

use super::events::EventRow;
use super::time::Micros;

/// Distinct keys summarized per run; calls of keys past it are counted
/// only (a trail with more long-term keys than this is generated, or an
/// attack on rolecall's memory).
pub const MAX_KEYS: usize = 100_000;
/// Distinct source addresses kept per key.
pub const MAX_ADDRESSES: usize = 256;
/// Distinct user agents kept per key.
pub const MAX_AGENTS: usize = 32;
/// Distinct `service:action` pairs kept per key.
pub const MAX_ACTIONS: usize = 256;
/// (address, minute) pairs kept per key, over all its addresses (two
/// weeks of a key used every minute from one address).
pub const MAX_MINUTES: usize = 20_160;
/// Latest calls kept per key, for the dashboard.
pub const MAX_CALLS: usize = 100;

/// A map with a fixed hasher: the same input gives the same order of
/// work, and foldhash is several times faster than SipHash on short keys.
type Map<K, V> = std::collections::HashMap<K, V, foldhash::fast::FixedState>;

/// Pushes with room for one only at first: most keys are used once or
/// from one place, and the default first growth (room for four) would
/// be most of their memory.
fn push_small<T>(v: &mut Vec<T>, x: T) {
    if v.capacity() == 0 {
        v.reserve_exact(1);
    }
    v.push(x);
}

/// No index: the cap left the value out.
pub const NONE: u16 = u16::MAX;

/// Distinct values with their counts, in first-seen order, capped.
#[derive(Debug, Clone, Default)]
pub struct Counted {
    pub names: Vec<String>,
    pub counts: Vec<u64>,
    /// Built only past [`LINEAR`] values: most keys have one address and
    /// one user agent, and a map each (with a second copy of every name)
    /// would be most of their memory.
    index: Option<Map<String, u16>>,
    /// Occurrences of values past the cap.
    pub dropped: u64,
}

/// Up to this many values are found by a linear scan.
const LINEAR: usize = 16;

impl Counted {
    fn find(&self, name: &str) -> Option<u16> {
        match &self.index {
            Some(index) => index.get(name).copied(),
            None => self.names.iter().position(|n| n == name).map(|i| i as u16),
        }
    }

    /// Counts `n` of `name` and returns its index ([`NONE`] past `cap`).
    fn add(&mut self, name: &str, n: u64, cap: usize) -> u16 {
        if let Some(i) = self.find(name) {
            self.counts[i as usize] += n;
            return i;
        }
        if self.names.len() >= cap.min(NONE as usize) {
            self.dropped += n;
            return NONE;
        }
        let i = self.names.len() as u16;
        push_small(&mut self.names, name.to_string());
        push_small(&mut self.counts, n);
        match &mut self.index {
            Some(index) => {
                index.insert(name.to_string(), i);
            }
            None if self.names.len() > LINEAR => {
                self.index = Some(
                    self.names
                        .iter()
                        .enumerate()
                        .map(|(i, n)| (n.clone(), i as u16))
                        .collect(),
                );
            }
            None => {}
        }
        i
    }

    pub fn get(&self, name: &str) -> Option<usize> {
        self.find(name).map(|i| i as usize)
    }

    pub fn name(&self, i: u16) -> Option<&str> {
        self.names.get(i as usize).map(String::as_str)
    }

    pub fn len(&self) -> usize {
        self.names.len()
    }

    pub fn is_empty(&self) -> bool {
        self.names.is_empty()
    }

    /// `(value, count)`, most first, ties by value.
    pub fn by_count(&self) -> Vec<(&str, u64)> {
        let mut v: Vec<(&str, u64)> = self
            .names
            .iter()
            .map(String::as_str)
            .zip(self.counts.iter().copied())
            .collect();
        v.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(b.0)));
        v
    }

    /// Adds `other`'s counts; returns where each of its indices went.
    fn merge(&mut self, other: &Counted, cap: usize) -> Vec<u16> {
        self.dropped += other.dropped;
        other
            .names
            .iter()
            .zip(&other.counts)
            .map(|(name, &n)| self.add(name, n, cap))
            .collect()
    }
}

/// One call made with a long-term key, by position and the indices of
/// its values in its key's [`KeyUse`] lists (a few bytes, no strings).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct KeyCall {
    pub time: Micros,
    pub file: u32,
    pub record: u32,
    pub line: u32,
    pub action: u16,
    pub address: u16,
    pub agent: u16,
    pub failed: bool,
    /// The event id when it is a UUID, as CloudTrail's are (0: none), so a
    /// finding can name the calls it rests on without a string per call.
    pub event_id: u128,
}

/// A UUID event id as 128 bits, when it is one in the canonical form
/// (lower-case, hyphenated: CloudTrail's), else 0. No allocation: it runs
/// for every call of a long-term key.
pub fn uuid_bits(id: &str) -> u128 {
    let b = id.as_bytes();
    if b.len() != 36 {
        return 0;
    }
    let mut v: u128 = 0;
    for (i, &c) in b.iter().enumerate() {
        let nibble = match (i, c) {
            (8 | 13 | 18 | 23, b'-') => continue,
            (8 | 13 | 18 | 23, _) => return 0,
            (_, b'0'..=b'9') => c - b'0',
            (_, b'a'..=b'f') => c - b'a' + 10,
            _ => return 0,
        };
        v = v << 4 | nibble as u128;
    }
    v
}

/// The UUID text of [`uuid_bits`], lower-case and hyphenated.
pub fn uuid_text(v: u128) -> String {
    let h = format!("{v:032x}");
    format!(
        "{}-{}-{}-{}-{}",
        &h[..8],
        &h[8..12],
        &h[12..16],
        &h[16..20],
        &h[20..]
    )
}

/// What the trail shows of one long-term key.
#[derive(Debug, Clone, Default)]
pub struct KeyUse {
    /// `IAMUser` or `Root`.
    pub principal_type: String,
    pub user_arn: Option<String>,
    pub user_name: Option<String>,
    pub account: Option<String>,
    pub calls: u64,
    pub errors: u64,
    pub first: Option<Micros>,
    pub last: Option<Micros>,
    pub addresses: Counted,
    /// Per address (index for index): the minutes since the epoch in
    /// which the key was used from it; unsorted until [`KeyUse::finish`].
    pub minutes: Vec<Vec<i32>>,
    /// (address, minute) pairs kept, over all addresses.
    pub minutes_kept: usize,
    /// Minutes past [`MAX_MINUTES`], not kept.
    pub minutes_dropped: u64,
    pub agents: Counted,
    /// `service:action`.
    pub actions: Counted,
    /// The latest calls, newest first after [`KeyUse::finish`].
    pub recent: Vec<KeyCall>,
}

/// The minute of a time, as stored.
pub fn minute_of(t: Micros) -> i32 {
    t.div_euclid(60_000_000)
        .clamp(i32::MIN as i64, i32::MAX as i64) as i32
}

/// `s3` of `s3.amazonaws.com`.
pub fn service_prefix(event_source: &str) -> &str {
    event_source
        .strip_suffix(".amazonaws.com")
        .unwrap_or(event_source)
}

impl KeyUse {
    fn record(&mut self, row: &EventRow<'_>, scratch: &mut String) {
        self.calls += 1;
        let failed = row.error_code.is_some();
        self.errors += failed as u64;
        if self.user_arn.is_none() {
            self.user_arn = row.principal_arn.map(str::to_string);
        }
        if self.account.is_none() {
            self.account = row.account.map(str::to_string);
        }
        let address = self
            .addresses
            .add(row.source_ip.unwrap_or(""), 1, MAX_ADDRESSES);
        let agent = self.agents.add(row.user_agent.unwrap_or(""), 1, MAX_AGENTS);
        scratch.clear();
        scratch.push_str(service_prefix(row.service.unwrap_or("")));
        scratch.push(':');
        scratch.push_str(row.action.unwrap_or(""));
        let action = self.actions.add(scratch, 1, MAX_ACTIONS);
        let Some(t) = row.time else { return };
        self.first = Some(self.first.map_or(t, |f| f.min(t)));
        self.last = Some(self.last.map_or(t, |l| l.max(t)));
        if address != NONE {
            if self.minutes.len() <= address as usize {
                if self.minutes.capacity() == 0 {
                    self.minutes.reserve_exact(1);
                }
                self.minutes.resize_with(address as usize + 1, Vec::new);
            }
            let minutes = &mut self.minutes[address as usize];
            let m = minute_of(t);
            if minutes.last() != Some(&m) {
                if self.minutes_kept < MAX_MINUTES {
                    push_small(minutes, m);
                    self.minutes_kept += 1;
                } else {
                    self.minutes_dropped += 1;
                }
            }
        }
        if self.recent.len() >= MAX_CALLS * 2 {
            self.trim_recent();
        }
        push_small(
            &mut self.recent,
            KeyCall {
                time: t,
                file: row.file,
                record: row.record,
                line: row.line,
                action,
                address,
                agent,
                failed,
                event_id: row.event_id.map_or(0, uuid_bits),
            },
        );
    }

    /// The heap this summary holds, in bytes (capacities, so what the
    /// allocator gave): what the memory bound per key is checked against.
    pub fn heap_bytes(&self) -> usize {
        let s = |x: &String| x.capacity();
        let o = |x: &Option<String>| x.as_ref().map_or(0, String::capacity);
        let counted = |c: &Counted| {
            c.names.capacity() * std::mem::size_of::<String>()
                + c.names.iter().map(s).sum::<usize>()
                + c.counts.capacity() * 8
                + c.index.as_ref().map_or(0, |m| {
                    m.capacity() * (std::mem::size_of::<(String, u16)>() + 1)
                        + m.keys().map(s).sum::<usize>()
                })
        };
        s(&self.principal_type)
            + o(&self.user_arn)
            + o(&self.user_name)
            + o(&self.account)
            + counted(&self.addresses)
            + counted(&self.agents)
            + counted(&self.actions)
            + self.minutes.capacity() * std::mem::size_of::<Vec<i32>>()
            + self.minutes.iter().map(|m| m.capacity() * 4).sum::<usize>()
            + self.recent.capacity() * std::mem::size_of::<KeyCall>()
    }

    /// Keeps the [`MAX_CALLS`] newest calls, newest first.
    fn trim_recent(&mut self) {
        self.recent.sort_by(|a, b| {
            b.time
                .cmp(&a.time)
                .then_with(|| (a.file, a.record, a.line).cmp(&(b.file, b.record, b.line)))
        });
        self.recent.truncate(MAX_CALLS);
    }

    fn merge(&mut self, other: KeyUse) {
        self.calls += other.calls;
        self.errors += other.errors;
        if self.user_arn.is_none() {
            self.user_arn = other.user_arn;
        }
        if self.account.is_none() {
            self.account = other.account;
        }
        self.first = match (self.first, other.first) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        };
        self.last = match (self.last, other.last) {
            (Some(a), Some(b)) => Some(a.max(b)),
            (a, b) => a.or(b),
        };
        let addresses = self.addresses.merge(&other.addresses, MAX_ADDRESSES);
        let agents = self.agents.merge(&other.agents, MAX_AGENTS);
        let actions = self.actions.merge(&other.actions, MAX_ACTIONS);
        self.minutes_dropped += other.minutes_dropped;
        for (theirs, minutes) in other.minutes.into_iter().enumerate() {
            let mine = addresses[theirs];
            if mine == NONE {
                continue;
            }
            if self.minutes.len() <= mine as usize {
                self.minutes.resize_with(mine as usize + 1, Vec::new);
            }
            let kept = &mut self.minutes[mine as usize];
            let take = minutes
                .len()
                .min(MAX_MINUTES.saturating_sub(self.minutes_kept));
            self.minutes_dropped += (minutes.len() - take) as u64;
            self.minutes_kept += take;
            kept.extend_from_slice(&minutes[..take]);
        }
        let remap = |map: &[u16], i: u16| map.get(i as usize).copied().unwrap_or(NONE);
        self.recent
            .extend(other.recent.into_iter().map(|c| KeyCall {
                action: remap(&actions, c.action),
                address: remap(&addresses, c.address),
                agent: remap(&agents, c.agent),
                ..c
            }));
        if self.recent.len() > MAX_CALLS * 2 {
            self.trim_recent();
        }
    }

    /// Sorts what reading left unsorted: minutes ascending and deduplicated,
    /// the latest calls newest first.
    pub fn finish(&mut self) {
        for m in &mut self.minutes {
            m.sort_unstable();
            m.dedup();
            m.shrink_to_fit();
        }
        self.trim_recent();
        self.recent.shrink_to_fit();
    }

    /// Whether the key was used from `address` in some minute of
    /// `[from, to]`.
    pub fn used_from_within(&self, address: &str, from: Micros, to: Micros) -> bool {
        let Some(minutes) = self
            .addresses
            .get(address)
            .and_then(|i| self.minutes.get(i))
        else {
            return false;
        };
        let (lo, hi) = (minute_of(from), minute_of(to));
        let start = minutes.partition_point(|&m| m < lo);
        minutes.get(start).is_some_and(|&m| m <= hi)
    }

    /// Whether a cap left something out.
    pub fn truncated(&self) -> bool {
        self.addresses.dropped + self.agents.dropped + self.actions.dropped + self.minutes_dropped
            > 0
    }
}

/// Every long-term key a part of the trail used.
#[derive(Debug, Clone, Default)]
pub struct KeyUsage {
    pub keys: Map<String, KeyUse>,
    /// Calls by keys past [`MAX_KEYS`].
    pub calls_of_keys_dropped: u64,
    scratch: String,
}

/// Whether an event was made with a long-term key: an IAM user's or the
/// root user's `AKIA` key.
pub fn is_long_term_call(row: &EventRow<'_>) -> bool {
    row.cloud == "aws"
        && row.access_key.is_some_and(|k| k.starts_with("AKIA"))
        && matches!(row.principal_type, Some("IAMUser" | "Root"))
}

impl KeyUsage {
    /// Adds one call when it was made with a long-term key.
    pub fn observe(&mut self, row: &EventRow<'_>) {
        if !is_long_term_call(row) {
            return;
        }
        let Some(key) = row.access_key else { return };
        if !self.keys.contains_key(key) {
            if self.keys.len() >= MAX_KEYS {
                self.calls_of_keys_dropped += 1;
                return;
            }
            self.keys.insert(
                key.to_string(),
                KeyUse {
                    principal_type: row.principal_type.unwrap_or("").to_string(),
                    ..KeyUse::default()
                },
            );
        }
        if let Some(entry) = self.keys.get_mut(key) {
            entry.record(row, &mut self.scratch);
        }
    }

    pub fn append(&mut self, other: KeyUsage) {
        self.calls_of_keys_dropped += other.calls_of_keys_dropped;
        if self.keys.is_empty() {
            self.keys = other.keys;
            return;
        }
        for (key, theirs) in other.keys {
            let full = self.keys.len() >= MAX_KEYS;
            match self.keys.get_mut(&key) {
                Some(mine) => mine.merge(theirs),
                None if !full => {
                    self.keys.insert(key, theirs);
                }
                None => self.calls_of_keys_dropped += theirs.calls,
            }
        }
    }

    /// Sorts every key's lists (see [`KeyUse::finish`]) and names users.
    pub fn finish(&mut self) {
        for k in self.keys.values_mut() {
            k.finish();
            if k.user_name.is_none() {
                k.user_name = k.user_arn.as_deref().map(user_of_arn);
            }
        }
    }
}

/// The user an IAM user ARN names (`arn:aws:iam::1:user/path/ci` →
/// `ci`); the root user's ARN gives `<root_account>`, as the credential
/// report writes it.
pub fn user_of_arn(arn: &str) -> String {
    if arn.ends_with(":root") {
        return ROOT_USER.to_string();
    }
    match arn.split_once(":user/") {
        Some((_, path)) => path.rsplit('/').next().unwrap_or(path).to_string(),
        None => arn.to_string(),
    }
}

/// How the credential report names the root user.
pub const ROOT_USER: &str = "<root_account>";

/// Which IAM output a key record came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum KeyRecordSource {
    CredentialReport,
    ListAccessKeys,
    AccessKeyLastUsed,
}

impl KeyRecordSource {
    pub fn as_str(self) -> &'static str {
        match self {
            KeyRecordSource::CredentialReport => "credential report",
            KeyRecordSource::ListAccessKeys => "list-access-keys",
            KeyRecordSource::AccessKeyLastUsed => "get-access-key-last-used",
        }
    }
}

/// What one IAM output says of one access key.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct KeyRecord {
    pub source: Option<KeyRecordSource>,
    pub user: Option<String>,
    pub user_arn: Option<String>,
    /// Given by `list-access-keys` and `get-access-key-last-used`; the
    /// credential report names only the user and the slot.
    pub key_id: Option<String>,
    /// `1` or `2`: the credential report's `access_key_N`.
    pub slot: Option<u8>,
    pub active: Option<bool>,
    /// When the key was created or last rotated.
    pub created: Option<Micros>,
    pub last_used: Option<Micros>,
    /// The source said the key was never used (`N/A` beside an active key).
    pub never_used: bool,
    /// The source cannot say (`no_information`: before IAM tracked it).
    pub last_used_unknown: bool,
    pub last_used_region: Option<String>,
    pub last_used_service: Option<String>,
    /// When the IAM output was generated, when it says.
    pub generated: Option<Micros>,
    pub file: u32,
    /// The CSV line, or the record index.
    pub record: u32,
}

/// Address ranges of CI runners given as input.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CiRanges {
    /// What they are (`GitHub Actions runners`), and the CIDRs.
    pub sets: Vec<(String, Vec<String>)>,
}

/// Everything read about long-term keys.
#[derive(Debug, Clone, Default)]
pub struct KeyInputs {
    pub usage: KeyUsage,
    pub records: Vec<KeyRecord>,
    pub ci_ranges: CiRanges,
}

impl KeyInputs {
    pub fn append(&mut self, other: KeyInputs) {
        self.usage.append(other.usage);
        self.records.extend(other.records);
        self.ci_ranges.sets.extend(other.ci_ranges.sets);
    }

    pub fn is_empty(&self) -> bool {
        self.usage.keys.is_empty() && self.records.is_empty()
    }
}

/// How a key is tied to CI, strongest first.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum LinkKind {
    /// Used from a federated CI session's address while that session lived.
    SameRunner,
    /// Used from an address in the given CI ranges or `[ci] cidrs`.
    CiAddress,
    /// Used with a user agent only CI produces (`[ci] user_agents`).
    CiUserAgent,
    /// The policy's `[[static_key]]` says so.
    Declared,
}

impl LinkKind {
    pub fn as_str(self) -> &'static str {
        match self {
            LinkKind::SameRunner => "same-runner",
            LinkKind::CiAddress => "ci-address",
            LinkKind::CiUserAgent => "ci-user-agent",
            LinkKind::Declared => "declared",
        }
    }
}

/// One piece of evidence tying a key to CI.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct KeyLink {
    pub kind: LinkKind,
    /// One sentence: what was seen.
    pub detail: String,
    /// For a same-runner link: the session it shares a runner with.
    pub session_key: Option<String>,
    pub repository: Option<String>,
    pub workflow: Option<String>,
    pub run_id: Option<String>,
    pub role: Option<String>,
}

/// What a key's row concludes, most urgent first.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Verdict {
    /// Used after its user's migration to federation.
    AfterMigration,
    /// Used from CI: the pipeline still depends on it.
    InCi,
    /// Active and unused: revoke it.
    Unused,
    /// Active and older than the rotation limit.
    Old,
    /// Declared a CI key by the policy, and not seen used from CI.
    Declared,
    /// Deactivated in IAM.
    Inactive,
    /// Seen only from ordinary places.
    Other,
}

impl Verdict {
    /// The verdict's stable id, as JSON and the state file write it.
    pub fn id(self) -> &'static str {
        match self {
            Verdict::AfterMigration => "after-migration",
            Verdict::InCi => "in-ci",
            Verdict::Unused => "unused",
            Verdict::Old => "old",
            Verdict::Declared => "declared",
            Verdict::Inactive => "inactive",
            Verdict::Other => "other",
        }
    }

    /// The key is still used from CI: the migration is not finished.
    pub fn in_ci(self) -> bool {
        matches!(self, Verdict::AfterMigration | Verdict::InCi)
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Verdict::AfterMigration => "used after migration",
            Verdict::InCi => "used from CI",
            Verdict::Unused => "unused: revoke",
            Verdict::Old => "old: rotate or revoke",
            Verdict::Declared => "declared for CI, not seen in CI",
            Verdict::Inactive => "deactivated",
            Verdict::Other => "not CI",
        }
    }
}

/// One long-term key as every surface shows it: trail and IAM joined.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct KeyRow {
    /// The access key id, or `USER (key N)` when only the credential
    /// report names it.
    pub key: String,
    pub key_id: Option<String>,
    pub user: Option<String>,
    pub user_arn: Option<String>,
    pub principal_type: Option<String>,
    pub account: Option<String>,
    pub active: Option<bool>,
    #[serde(
        serialize_with = "super::time::ser_opt_micros",
        deserialize_with = "super::time::de_opt_micros",
        default
    )]
    pub created: Option<Micros>,
    #[serde(
        serialize_with = "super::time::ser_opt_micros",
        deserialize_with = "super::time::de_opt_micros",
        default
    )]
    pub last_rotated: Option<Micros>,
    #[serde(
        serialize_with = "super::time::ser_opt_micros",
        deserialize_with = "super::time::de_opt_micros",
        default
    )]
    pub first_used_in_trail: Option<Micros>,
    #[serde(
        serialize_with = "super::time::ser_opt_micros",
        deserialize_with = "super::time::de_opt_micros",
        default
    )]
    pub last_used_in_trail: Option<Micros>,
    #[serde(
        serialize_with = "super::time::ser_opt_micros",
        deserialize_with = "super::time::de_opt_micros",
        default
    )]
    pub last_used_per_iam: Option<Micros>,
    pub last_used_service: Option<String>,
    pub last_used_region: Option<String>,
    /// IAM says the key was never used.
    pub never_used: bool,
    pub calls: u64,
    pub errors: u64,
    /// `(address, calls)`, most first.
    pub addresses: Vec<(String, u64)>,
    pub user_agents: Vec<(String, u64)>,
    pub actions: Vec<(String, u64)>,
    /// What the caps left out: distinct addresses, agents, actions.
    pub truncated: bool,
    pub links: Vec<KeyLink>,
    /// The repositories of federated sessions that share a runner with
    /// this key: the pipeline has both.
    pub federating_repositories: Vec<String>,
    /// The `[[static_key]]` that names this key's user.
    pub declared_repository: Option<String>,
    pub replaced_by: Option<String>,
    #[serde(
        serialize_with = "super::time::ser_opt_micros",
        deserialize_with = "super::time::de_opt_micros",
        default
    )]
    pub migrated: Option<Micros>,
    /// When the replacement role first federated in the input.
    #[serde(
        serialize_with = "super::time::ser_opt_micros",
        deserialize_with = "super::time::de_opt_micros",
        default
    )]
    pub replacement_first_session: Option<Micros>,
    /// Days since last use (trail or IAM, the later), at the reference time.
    pub idle_days: Option<i64>,
    /// Days since creation or rotation, at the reference time.
    pub age_days: Option<i64>,
    pub verdict: Verdict,
    /// Where the key's IAM facts came from.
    pub record_sources: Vec<KeyRecordSource>,
    /// How the credential report's row was tied to this key id, when it was.
    pub report_match: Option<String>,
    /// The latest calls, newest first.
    pub recent: Vec<KeyCallRow>,
}

/// One of a key's latest calls, spelled out.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct KeyCallRow {
    #[serde(
        serialize_with = "super::time::ser_micros",
        deserialize_with = "super::time::de_micros"
    )]
    pub time: Micros,
    pub action: String,
    pub source_ip: String,
    pub user_agent: String,
    pub failed: bool,
    pub event_id: Option<String>,
    #[serde(skip)]
    pub file: u32,
    #[serde(skip)]
    pub record: u32,
    #[serde(skip)]
    pub line: u32,
}

impl KeyUse {
    /// The latest calls with their values spelled out (what a cap left out
    /// reads `(other)`).
    pub fn recent_rows(&self) -> Vec<KeyCallRow> {
        let name = |c: &Counted, i: u16| c.name(i).unwrap_or("(other)").to_string();
        self.recent
            .iter()
            .map(|c| KeyCallRow {
                time: c.time,
                action: name(&self.actions, c.action),
                source_ip: name(&self.addresses, c.address),
                user_agent: name(&self.agents, c.agent),
                failed: c.failed,
                event_id: (c.event_id != 0).then(|| uuid_text(c.event_id)),
                file: c.file,
                record: c.record,
                line: c.line,
            })
            .collect()
    }
}

impl KeyRow {
    /// Whether a link of this kind ties the key to CI.
    pub fn has_link(&self, kind: LinkKind) -> bool {
        self.links.iter().any(|l| l.kind == kind)
    }

    /// The strongest link from the key's own use (not the declaration).
    pub fn observed_ci_link(&self) -> Option<&KeyLink> {
        self.links.iter().find(|l| l.kind != LinkKind::Declared)
    }

    /// The later of the trail's and IAM's last use.
    pub fn last_used(&self) -> Option<Micros> {
        match (self.last_used_in_trail, self.last_used_per_iam) {
            (Some(a), Some(b)) => Some(a.max(b)),
            (a, b) => a.or(b),
        }
    }
}

/// At what time ages are measured, and why that time.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReferenceTime {
    #[serde(
        serialize_with = "super::time::ser_micros",
        deserialize_with = "super::time::de_micros"
    )]
    pub at: Micros,
    /// `credential report`, `end of trail` or `now`.
    pub basis: String,
}

/// The static-key half of a run.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct KeyReport {
    pub rows: Vec<KeyRow>,
    pub reference: Option<ReferenceTime>,
    /// A credential report or key list was given: "unused" was judged.
    pub iam_records: bool,
    /// Long-term keys past [`MAX_KEYS`]: their calls only counted.
    pub calls_of_keys_dropped: u64,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn event_ids_round_trip_as_bits_and_others_are_none() {
        let id = "f2598cd2-9368-4b18-9d9d-70eb4a1e629e";
        assert_eq!(uuid_text(uuid_bits(id)), id);
        assert_eq!(uuid_bits("F2598CD2-9368-4B18-9D9D-70EB4A1E629E"), 0);
        assert_eq!(uuid_bits("f2598cd2x9368-4b18-9d9d-70eb4a1e629e"), 0);
        assert_eq!(uuid_bits("event-1"), 0);
    }

    #[test]
    fn counted_values_keep_their_indices_past_the_linear_scan() {
        let mut c = Counted::default();
        for i in 0..40 {
            assert_eq!(
                c.add(&format!("v{i}"), 1, 30),
                if i < 30 { i as u16 } else { NONE }
            );
        }
        assert_eq!(c.add("v3", 2, 30), 3);
        assert_eq!(c.add("v29", 1, 30), 29);
        assert_eq!(c.get("v17"), Some(17));
        assert_eq!(c.get("v35"), None);
        assert_eq!((c.len(), c.dropped, c.counts[3]), (30, 10, 3));
    }

    fn row<'a>(key: &'a str, ip: &'a str, t: Micros, action: &'a str) -> EventRow<'a> {
        EventRow {
            time: Some(t),
            cloud: "aws",
            access_key: Some(key),
            principal_type: Some("IAMUser"),
            principal_arn: Some("arn:aws:iam::111111111111:user/ci/deployer"),
            account: Some("111111111111"),
            source_ip: Some(ip),
            user_agent: Some("aws-cli/2"),
            service: Some("s3.amazonaws.com"),
            action: Some(action),
            ..EventRow::default()
        }
    }

    #[test]
    fn a_summary_counts_exactly_and_keeps_what_the_joins_need() {
        let mut u = KeyUsage::default();
        let m = 60_000_000;
        u.observe(&row("AKIAONE", "192.0.2.1", 10 * m, "GetObject"));
        u.observe(&row("AKIAONE", "192.0.2.1", 10 * m + 5, "GetObject"));
        u.observe(&row("AKIAONE", "192.0.2.2", 12 * m, "PutObject"));
        u.observe(&row("ASIATEMP", "192.0.2.2", 12 * m, "PutObject"));
        let mut other = KeyUsage::default();
        other.observe(&row("AKIAONE", "192.0.2.1", 3 * m, "GetObject"));
        u.append(other);
        u.finish();
        assert_eq!(u.keys.len(), 1, "temporary keys are not summarized");
        let k = &u.keys["AKIAONE"];
        assert_eq!(k.calls, 4);
        assert_eq!(k.first, Some(3 * m));
        assert_eq!(k.last, Some(12 * m));
        assert_eq!(k.user_name.as_deref(), Some("deployer"));
        assert_eq!(k.actions.by_count()[0], ("s3:GetObject", 3));
        let first = k.addresses.get("192.0.2.1").unwrap();
        assert_eq!(k.minutes[first], vec![3, 10]);
        assert!(k.used_from_within("192.0.2.1", 9 * m, 11 * m));
        assert!(!k.used_from_within("192.0.2.1", 4 * m, 9 * m));
        assert!(!k.used_from_within("192.0.2.9", 0, 100 * m));
        let recent = k.recent_rows();
        assert_eq!(recent.len(), 4);
        assert_eq!(recent[0].action, "s3:PutObject");
        assert_eq!(recent[0].source_ip, "192.0.2.2");
        assert_eq!(recent[3].time, 3 * m, "merged calls keep their own values");
        assert_eq!(recent[3].source_ip, "192.0.2.1");
    }

    #[test]
    fn caps_bound_a_key_used_from_everywhere_and_count_the_rest() {
        let mut u = KeyUsage::default();
        for i in 0..(MAX_ADDRESSES + 10) {
            let ip = format!("10.0.{}.{}", i / 256, i % 256);
            u.observe(&row("AKIAONE", &ip, i as i64 * 60_000_000, "GetObject"));
        }
        let k = &u.keys["AKIAONE"];
        assert_eq!(k.addresses.len(), MAX_ADDRESSES);
        assert_eq!(k.addresses.dropped, 10);
        assert!(k.truncated());
        assert_eq!(k.calls, (MAX_ADDRESSES + 10) as u64);
        assert!(k.recent.len() <= MAX_CALLS * 2);
    }

    /// The README's bound: a key seen once costs well under a KiB, a key
    /// used from everywhere all the time at most 256 KiB while reading and
    /// 192 KiB once read, and there are at most MAX_KEYS keys; what the
    /// caps leave out is counted.
    #[test]
    fn memory_per_key_is_bounded_however_much_it_is_used() {
        let mut u = KeyUsage::default();
        for i in 0..1000 {
            u.observe(&row(&format!("AKIA{i:016}"), "192.0.2.1", 0, "GetObject"));
        }
        let per_key: usize = u.keys.values().map(KeyUse::heap_bytes).sum::<usize>() / 1000
            + std::mem::size_of::<KeyUse>()
            + 24;
        assert!(per_key <= 1024, "a key seen once costs {per_key} bytes");

        let mut u = KeyUsage::default();
        let agents: Vec<String> = (0..40)
            .map(|i| format!("agent-{i}/{}", "x".repeat(200)))
            .collect();
        let actions: Vec<String> = (0..300).map(|i| format!("Action{i}")).collect();
        for i in 0..200_000i64 {
            let ip = format!("10.{}.{}.{}", i % 7, (i / 7) % 50, i % 300);
            let mut r = row("AKIAONE", &ip, i * 60_000_000, &actions[i as usize % 300]);
            r.user_agent = Some(&agents[i as usize % 40]);
            u.observe(&r);
        }
        let reading = u.keys["AKIAONE"].heap_bytes();
        assert!(
            reading <= 256 << 10,
            "while reading, a key used from everywhere costs {reading} bytes"
        );
        u.finish();
        let k = &u.keys["AKIAONE"];
        assert_eq!(k.calls, 200_000);
        assert!(k.truncated() && k.minutes_dropped > 0);
        assert!(
            k.heap_bytes() <= 192 << 10,
            "a key used from everywhere costs {} bytes",
            k.heap_bytes()
        );

        let mut u = KeyUsage::default();
        for i in 0..(MAX_KEYS + 5) {
            u.observe(&row(&format!("AKIA{i:016}"), "192.0.2.1", 0, "GetObject"));
        }
        assert_eq!(u.keys.len(), MAX_KEYS);
        assert_eq!(u.calls_of_keys_dropped, 5);
    }

    #[test]
    fn root_and_paths_name_users_as_the_credential_report_does() {
        assert_eq!(user_of_arn("arn:aws:iam::1:root"), ROOT_USER);
        assert_eq!(user_of_arn("arn:aws:iam::1:user/a/b/ci"), "ci");
        assert_eq!(user_of_arn("arn:aws:iam::1:user/ci"), "ci");
    }
}
