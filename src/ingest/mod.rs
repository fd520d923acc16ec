//! Ingest: from SOURCES to typed rows, in parallel.
//!
//! Every path is sniffed by content, never by flag: CloudTrail as S3
//! delivers it (`{"Records":[...]}`, gzipped), NDJSON (one event, or one
//! `Records` wrapper, per line), bare JSON arrays, concatenated pretty-printed
//! objects, `aws cloudtrail lookup-events` output, CloudTrail Lake and Athena
//! exports, decoded CI claim sets, raw JWTs one per line, and GitHub
//! `workflow_job` payloads; mixed freely, in any file.
//!
//! Files are read in parallel on the rayon pool, and a large line-delimited
//! file is split into chunks that are parsed in parallel too. Each worker
//! fills its own [`Batch`] (its own string interner, no shared state); the
//! batches are merged in input order afterwards, so results never depend on
//! scheduling. Bad input becomes an [`InputError`] naming the file and the
//! line or record; the rest of the file and every other file are still read.
//!
//! The parts: [`read`] opens an input (whole, or as a stream), [`file`](mod@file)
//! tells its shape and frames it into documents, [`dispatch`] hands each
//! object to the reader of its source ([`source`] is what readers share;
//! one file per source: [`cloudtrail`], [`gcp`], [`azure`], [`vault`],
//! [`claims`], [`jobs`], [`trust`], IAM's key records in [`iam_keys`], CI
//! address ranges in [`ci_ranges`], key sets in [`jwt`]), [`json`] is the
//! borrowed JSON layer, which knows no source, [`remote`] reads live AWS
//! sources (the AWS SDK lives there only), [`raw`] re-reads one record for
//! the dashboard. Imports `model`, `error`, `text` and `limits`; nothing
//! downstream.

pub mod azure;
pub mod ci_ranges;
pub mod claims;
pub mod cloudtrail;
pub mod discover;
pub mod dispatch;
pub mod file;
pub mod gaps;
pub mod gcp;
pub mod iam_keys;
pub mod jobs;
pub mod json;
pub mod jwt;
#[cfg(any(test, fuzzing))]
pub mod oracle;
pub mod raw;
pub mod read;
pub mod remote;
pub mod source;
pub mod trust;
pub mod value;
pub mod vault;

use std::sync::Arc;

use rayon::prelude::*;

use self::discover::{discover, InputFile};
use self::jwt::Jwks;
use crate::error::InputError;
use crate::model::events::{EventStore, HeldCalls};
use crate::model::records::{Assumption, FederatedCredential, JobRecord, TokenClaims};
use crate::model::time::Micros;
use crate::model::SkippedFile;

#[cfg(any(test, fuzzing))]
pub use self::file::read_streamed;
pub use self::raw::raw_record;

/// How to read.
#[derive(Clone, Default)]
pub struct IngestOptions {
    /// Keep only events at or after this time.
    pub since: Option<Micros>,
    /// Keep only events before this time.
    pub until: Option<Micros>,
    /// Cap on one file's decompressed size.
    pub max_file_bytes: u64,
    /// Verify raw JWTs against this key set.
    pub jwks: Option<Arc<Jwks>>,
    /// How to reach AWS for `s3://`, `cloudtrail://` and `cloudtrail-lake://`.
    pub remote: remote::RemoteOptions,
    /// Counters a dashboard can watch while the run goes on.
    pub progress: Option<Arc<Progress>>,
    /// Count, but do not keep, AWS events that cannot be a federated
    /// session's call (see [`may_be_session_call`]). The detections never
    /// read them; only SQL over the `events` table does.
    pub elide_unrelated_events: bool,
}

/// Whether an event may belong to a role session the joins follow: an
/// exchange, a call that issues keys, a call with a temporary key or from a
/// web-identity session, or any event of another cloud. What fails: AWS
/// service events (no key) and long-term IAM user keys (`AKIA`), typically
/// the larger part of a trail.
pub fn may_be_session_call(row: &crate::model::EventRow<'_>) -> bool {
    kept_for_itself(row) || has_temporary_key(row)
}

/// A key that is not a long-term IAM user's (`AKIA`): a role session's.
fn has_temporary_key(row: &crate::model::EventRow<'_>) -> bool {
    row.access_key.is_some_and(|k| !k.starts_with("AKIA"))
}

/// Whether an event is kept whatever the rest of the input holds: another
/// cloud's event, an exchange, a call that issues keys or one from a
/// web-identity session. An AWS call kept only for its temporary key waits
/// (see [`Batch::settle_held`]) until the input's exchanges are known.
fn kept_for_itself(row: &crate::model::EventRow<'_>) -> bool {
    row.cloud != "aws"
        || row.issued_key.is_some()
        || row.federated_provider.is_some()
        || row.action == Some(cloudtrail::WEB_IDENTITY_EXCHANGE)
}

/// How far a run has got: files read of files found, and the stage.
#[derive(Debug, Default)]
pub struct Progress {
    pub files_total: std::sync::atomic::AtomicUsize,
    pub files_done: std::sync::atomic::AtomicUsize,
    pub stage: std::sync::Mutex<String>,
}

impl Progress {
    pub fn set_stage(&self, stage: &str) {
        if let Ok(mut s) = self.stage.lock() {
            *s = stage.to_string();
        }
    }

    pub fn stage(&self) -> String {
        self.stage.lock().map(|s| s.clone()).unwrap_or_default()
    }
}

/// Rows read from some inputs. Indices inside (assumption `event_index`) are
/// local to the batch until it is merged.
#[derive(Default)]
pub struct Batch {
    pub events: EventStore,
    pub assumptions: Vec<Assumption>,
    pub claims: Vec<TokenClaims>,
    pub jobs: Vec<JobRecord>,
    pub federated_credentials: Vec<FederatedCredential>,
    pub errors: Vec<InputError>,
    pub skipped_files: Vec<SkippedFile>,
    pub files_read: usize,
    pub bytes: u64,
    pub records: u64,
    pub records_outside_window: u64,
    pub records_skipped: u64,
    /// What the reading itself wants the user to know.
    pub notes: Vec<String>,
    /// Remote sources (or parts of them) that could not be read.
    pub unread: Vec<remote::RemoteError>,
    /// Trust policies, OIDC provider changes and pool providers.
    pub trust: crate::model::trust::TrustInputs,
    /// Events read but not kept (`elide_unrelated_events`).
    pub events_elided: u64,
    /// With `elide_unrelated_events`: AWS calls kept only for their
    /// temporary key, one store per part read, until
    /// [`settle_held`](Batch::settle_held) keeps those whose key an
    /// exchange issued.
    pub held: Vec<HeldCalls>,
    /// The first and last event time read, kept or not.
    pub event_span: Option<(Micros, Micros)>,
    /// Long-term keys: the trail's use of each (summarized here, whether
    /// or not the event is kept), IAM's records, CI address ranges.
    pub keys: crate::model::keys::KeyInputs,
}

/// Widens `span` to include `t`.
pub fn widen(span: &mut Option<(Micros, Micros)>, t: Micros) {
    *span = Some(span.map_or((t, t), |(a, b)| (a.min(t), b.max(t))));
}

impl Batch {
    /// Adds an event (or, with `elide`, only counts one no session could
    /// have made) and returns its index (`usize::MAX` when not kept).
    fn push_event(&mut self, row: &crate::model::EventRow<'_>, elide: bool) -> usize {
        if let Some(t) = row.time {
            widen(&mut self.event_span, t);
        }
        self.keys.usage.observe(row);
        if elide && !kept_for_itself(row) {
            if has_temporary_key(row) {
                // Most such calls are other roles' (no exchange in the
                // input issued their key): held apart, their strings never
                // reach the merged store's string table.
                if self.held.is_empty() {
                    self.held.push(HeldCalls::default());
                }
                if let Some(held) = self.held.last_mut() {
                    held.push(row);
                }
            } else {
                self.events_elided += 1;
            }
            return usize::MAX;
        }
        self.events.push(row)
    }

    /// Moves the held calls whose key an exchange in the input issued into
    /// the store, after every other event (a session's calls are ordered
    /// by time and position, not by index), and counts the rest as not
    /// kept. Parts are sorted out on the pool; only the calls kept have
    /// their strings interned.
    pub fn settle_held(&mut self) {
        if self.held.is_empty() {
            return;
        }
        let issued: hashbrown::HashSet<&str, foldhash::fast::FixedState> = self
            .assumptions
            .iter()
            .filter_map(|a| a.access_key_id.as_deref())
            .collect();
        let held = std::mem::take(&mut self.held);
        let kept: Vec<Vec<usize>> = held
            .par_iter()
            .map(|part| {
                (0..part.len())
                    .filter(|&i| part.access_key(i).is_some_and(|k| issued.contains(k)))
                    .collect()
            })
            .collect();
        for (part, kept) in held.iter().zip(kept) {
            self.events_elided += (part.len() - kept.len()) as u64;
            for i in kept {
                self.events.push(&part.row(i));
            }
        }
    }

    /// Appends `other` after `self`, fixing up event indices.
    pub fn append(&mut self, mut other: Batch) {
        let offset = self.events.len();
        for a in &mut other.assumptions {
            a.event_index += offset;
        }
        self.events.append(other.events);
        self.assumptions.append(&mut other.assumptions);
        self.claims.append(&mut other.claims);
        self.jobs.append(&mut other.jobs);
        self.federated_credentials
            .append(&mut other.federated_credentials);
        self.errors.append(&mut other.errors);
        self.skipped_files.append(&mut other.skipped_files);
        self.files_read += other.files_read;
        self.bytes += other.bytes;
        self.records += other.records;
        self.records_outside_window += other.records_outside_window;
        self.records_skipped += other.records_skipped;
        self.notes.append(&mut other.notes);
        self.unread.append(&mut other.unread);
        self.events_elided += other.events_elided;
        self.held.append(&mut other.held);
        if let Some((a, b)) = other.event_span {
            widen(&mut self.event_span, a);
            widen(&mut self.event_span, b);
        }
        self.trust.append(&mut other.trust);
        self.keys.append(other.keys);
    }
}

/// Everything read from the sources.
pub struct Ingested {
    pub files: Vec<String>,
    pub batch: Batch,
}

/// Reads all sources. Unreadable files and records are in `batch.errors`;
/// only an API failure of a remote source fails the whole read.
pub fn ingest(sources: &[String], opts: &IngestOptions) -> Result<Ingested, remote::RemoteError> {
    let mut local = Vec::new();
    let mut remotes = Vec::new();
    for s in sources {
        match remote::parse_source(s) {
            None => local.push(s.clone()),
            Some(Ok(r)) => remotes.push(r),
            Some(Err(reason)) => return Err(remote::RemoteError::new(s, reason)),
        }
    }
    let found = discover(&local);
    let mut files: Vec<String> = found.files.iter().map(|f| f.display.clone()).collect();
    let mut batch = Batch {
        errors: found.errors,
        skipped_files: found.skipped,
        ..Default::default()
    };
    read_local(found.files, opts, &mut batch);
    if !remotes.is_empty() {
        remote::read_all(&remotes, opts, &mut files, &mut batch)?;
    }
    batch.settle_held();
    batch.keys.usage.finish();
    Ok(Ingested { files, batch })
}

/// Local files, in parallel, merged in input order.
fn read_local(inputs: Vec<InputFile>, opts: &IngestOptions, batch: &mut Batch) {
    if let Some(p) = &opts.progress {
        p.files_total
            .fetch_add(inputs.len(), std::sync::atomic::Ordering::Relaxed);
    }
    // Workers take files in order (par_bridge hands them out one at a time)
    // and send each file's batch to this thread, which merges them in input
    // order as they arrive. Nothing waits at a barrier, and only the batches
    // that finished ahead of their turn are held beside the merged store.
    let (tx, rx) =
        std::sync::mpsc::sync_channel::<(usize, Batch)>(rayon::current_num_threads() * 2);
    std::thread::scope(|scope| {
        scope.spawn(move || {
            inputs
                .iter()
                .enumerate()
                .par_bridge()
                .for_each_with(tx, |tx, (i, f)| {
                    // The receiver only goes away if this thread panicked.
                    let _ = tx.send((i, read_file(f, i as u32, opts)));
                });
        });
        let mut pending: std::collections::BTreeMap<usize, Batch> =
            std::collections::BTreeMap::new();
        let mut next = 0;
        for (i, b) in rx {
            pending.insert(i, b);
            while let Some(b) = pending.remove(&next) {
                batch.append(b);
                next += 1;
                if let Some(p) = &opts.progress {
                    p.files_done
                        .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                }
            }
        }
    });
}

/// Parses fetched blobs in parallel and merges them in order.
pub(crate) fn read_blobs(
    blobs: Vec<remote::Blob>,
    opts: &IngestOptions,
    files: &mut Vec<String>,
    batch: &mut Batch,
) {
    let base = files.len();
    files.extend(blobs.iter().map(|b| b.display.clone()));
    let parsed: Vec<Batch> = blobs
        .into_par_iter()
        .enumerate()
        .map(|(i, b)| read_bytes(&b.display, b.bytes, (base + i) as u32, opts))
        .collect();
    for b in parsed {
        batch.append(b);
    }
}

fn max_file_bytes(opts: &IngestOptions) -> u64 {
    if opts.max_file_bytes == 0 {
        read::DEFAULT_MAX_FILE_BYTES
    } else {
        opts.max_file_bytes
    }
}

/// Reads one file into a batch.
pub fn read_file(input: &InputFile, file: u32, opts: &IngestOptions) -> Batch {
    // A stopped run (Ctrl-C, --max-memory) reads nothing more.
    if crate::limits::stopped() {
        return Batch::default();
    }
    let (opened, errors) = read::open(
        &input.path,
        &input.display,
        input.stdin,
        max_file_bytes(opts),
    );
    file::parse_opened(&input.display, input.explicit, opened, errors, file, opts)
}

/// Reads bytes fetched from elsewhere (an S3 object, an API page) exactly as
/// a file named on the command line would be read.
pub fn read_bytes(display: &str, bytes: Vec<u8>, file: u32, opts: &IngestOptions) -> Batch {
    let (opened, errors) = read::open_bytes(bytes, display, max_file_bytes(opts));
    file::parse_opened(display, true, opened, errors, file, opts)
}
