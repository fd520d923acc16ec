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

pub mod azure;
pub mod claims;
pub mod cloudtrail;
pub mod discover;
pub mod gaps;
pub mod gcp;
pub mod jobs;
pub mod json;
pub mod jwt;
pub mod read;
pub mod remote;
pub mod scanner;
pub mod stream;
pub mod trust;
pub mod value;
pub mod vault;

use std::path::Path;
use std::sync::Arc;

use rayon::prelude::*;
use serde::de::{DeserializeSeed, IgnoredAny};
use serde_json::value::RawValue;
use serde_json::{Map, Value};

use self::cloudtrail::{is_cloudtrail, read_record, Outcome, Position};
use self::discover::{discover, InputFile};
use self::json::{as_str, ArrayKind, ArraySeed, ArraySink, DocumentSeed, Key, Obj, Raw};
use self::jwt::{looks_like_jwt, Jwks};
use crate::error::{InputError, Location};
use crate::model::events::{EventStore, HeldCalls};
use crate::model::records::{Assumption, FederatedCredential, JobRecord, TokenClaims};
use crate::model::time::Micros;
use crate::model::SkippedFile;

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
    pub trust: crate::trust::TrustInputs,
    /// Events read but not kept (`elide_unrelated_events`).
    pub events_elided: u64,
    /// With `elide_unrelated_events`: AWS calls kept only for their
    /// temporary key, one store per part read, until
    /// [`settle_held`](Batch::settle_held) keeps those whose key an
    /// exchange issued.
    pub held: Vec<HeldCalls>,
    /// The first and last event time read, kept or not.
    pub event_span: Option<(Micros, Micros)>,
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
    }
}

/// Everything read from the sources.
pub struct Ingested {
    pub files: Vec<String>,
    pub batch: Batch,
}

/// What one file is being read as, for the rows it produces.
struct FileCtx<'o> {
    file: u32,
    display: &'o str,
    /// Named on the command line rather than found in a directory.
    explicit: bool,
    opts: &'o IngestOptions,
}

/// Extensions of files that are documentation or configuration, skipped
/// (with a note) when a directory walk meets them and they hold no log.
const NON_LOG_EXTENSIONS: &[&str] = &[
    "md", "markdown", "toml", "rs", "py", "sh", "yml", "yaml", "txt", "html", "css", "csv", "cfg",
    "ini", "lock",
];

/// Chunk size for parsing one line-delimited file in parallel.
const LINE_CHUNK_BYTES: usize = 4 << 20;

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
        read_remote(&remotes, opts, &mut files, &mut batch)?;
    }
    batch.settle_held();
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
fn read_blobs(
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

/// The original record behind an event: re-read from its file by position,
/// pretty-printed, with secrets removed. For the dashboard's raw view. A
/// large file is streamed to the record, never held whole.
pub fn raw_record(
    path: &str,
    record: u32,
    line: u32,
    max_file_bytes: u64,
) -> Result<String, String> {
    if remote::parse_source(path).is_some() || path.starts_with("<stdin>") {
        return Err(format!(
            "{path}: the raw record is not kept for remote sources and stdin"
        ));
    }
    let max = if max_file_bytes == 0 {
        read::DEFAULT_MAX_FILE_BYTES
    } else {
        max_file_bytes
    };
    let (opened, errors) = read::open(Path::new(path), path, false, max);
    let opened = opened.ok_or_else(|| {
        errors
            .first()
            .map(ToString::to_string)
            .unwrap_or_else(|| format!("{path}: unreadable"))
    })?;
    let mut value = match opened {
        read::Opened::Whole(loaded) => {
            raw_in_text(&String::from_utf8_lossy(&loaded.bytes), record, line, path)?
        }
        read::Opened::Stream(s) => raw_in_stream(s, record, line, path, max)?,
    };
    crate::model::secrets::redact_value(&mut value);
    serde_json::to_string_pretty(&value).map_err(|e| e.to_string())
}

/// Record `record` (of the document on `line`, when `line` > 0) in a text.
fn raw_in_text(text: &str, record: u32, line: u32, path: &str) -> Result<Value, String> {
    let doc: Value = if line > 0 {
        let mut start = 0usize;
        for _ in 1..line {
            match memchr::memchr(b'\n', &text.as_bytes()[start..]) {
                Some(i) => start += i + 1,
                None => return Err(format!("{path}: has no line {line}")),
            }
        }
        let rest = &text[start..];
        let mut stream = serde_json::Deserializer::from_str(rest).into_iter::<Value>();
        match stream.next() {
            Some(Ok(v)) => v,
            Some(Err(e)) => return Err(format!("{path}: line {line}: {e}")),
            None => return Err(format!("{path}: line {line} is empty")),
        }
    } else {
        serde_json::from_str(text.trim_start_matches('\u{feff}'))
            .map_err(|e| format!("{path}: {e}"))?
    };
    pick_record(&doc, record as usize).ok_or_else(|| format!("{path}: no record {record}"))
}

/// Element `i` of a document's record array (the document itself when it
/// has none), a LookupEvents entry's event unwrapped.
fn pick_record(v: &Value, i: usize) -> Option<Value> {
    for key in ["Records", "records", "value"] {
        if let Some(items) = v.get(key).and_then(Value::as_array) {
            return items.get(i).cloned();
        }
    }
    if let Some(items) = v.get("Events").and_then(Value::as_array) {
        return unwrap_lookup(items.get(i)?);
    }
    if let Some(rows) = v.get("QueryResultRows").and_then(Value::as_array) {
        return rows.get(i).cloned();
    }
    match v {
        Value::Array(items) => items.get(i).cloned(),
        other => Some(other.clone()),
    }
}

fn unwrap_lookup(e: &Value) -> Option<Value> {
    match e.get("CloudTrailEvent").and_then(Value::as_str) {
        Some(inner) => serde_json::from_str(inner).ok(),
        None => Some(e.clone()),
    }
}

/// [`raw_in_text`] over a large input, read piece by piece up to the
/// record.
fn raw_in_stream(
    streamed: read::Streamed,
    record: u32,
    line: u32,
    path: &str,
    max: u64,
) -> Result<Value, String> {
    use stream::Piece;
    let read::Streamed {
        head, mut reader, ..
    } = streamed;
    let mut framer = stream::Framer::new(head, &mut *reader, max, STREAMED_KEYS);
    let (record, line) = (record as u64, line as u64);
    while let Some(piece) = framer.next_piece() {
        match piece {
            Piece::Lines { text, lead_lines } | Piece::Documents { text, lead_lines }
                if line > lead_lines =>
            {
                let lines = memchr::memchr_iter(b'\n', &text).count() as u64;
                if line <= lead_lines + lines + 1 {
                    let t = String::from_utf8_lossy(&text);
                    return raw_in_text(&t, record as u32, (line - lead_lines) as u32, path);
                }
            }
            Piece::Elements {
                doc,
                key,
                first_index,
                ..
            } if line == 0 && record >= first_index => {
                let v: Value = serde_json::from_slice(&doc).map_err(|e| format!("{path}: {e}"))?;
                let items = match &key {
                    None => v.as_array(),
                    Some(k) => v.get(k).and_then(Value::as_array),
                };
                if let Some(e) = items.and_then(|items| items.get((record - first_index) as usize))
                {
                    return match key.as_deref() {
                        Some("Events") => unwrap_lookup(e),
                        _ => Some(e.clone()),
                    }
                    .ok_or_else(|| format!("{path}: no record {record}"));
                }
            }
            Piece::Document {
                doc, line: first, ..
            } if line == 0 || first == Some(line) => {
                let v: Value = serde_json::from_slice(&doc).map_err(|e| format!("{path}: {e}"))?;
                if let Some(found) = pick_record(&v, record as usize) {
                    return Ok(found);
                }
            }
            _ => {}
        }
    }
    Err(format!("{path}: no record {record}"))
}

/// Remote sources, one after another.
fn read_remote(
    remotes: &[remote::Remote],
    opts: &IngestOptions,
    files: &mut Vec<String>,
    batch: &mut Batch,
) -> Result<(), remote::RemoteError> {
    let rt = remote::runtime()?;
    let conf = rt.block_on(remote::sdk_config(&opts.remote));
    let now = chrono::Utc::now().timestamp_micros();
    for r in remotes {
        match r {
            remote::Remote::S3 { bucket, prefix } => {
                let mut s3conf = aws_sdk_s3::config::Builder::from(&conf);
                if opts.remote.endpoint_url.is_some() {
                    // Local S3 servers and most private endpoints want paths.
                    s3conf = s3conf.force_path_style(true);
                }
                let client = aws_sdk_s3::Client::from_conf(s3conf.build());
                let (objects, failed) = rt.block_on(remote::s3::list(
                    &client,
                    bucket,
                    prefix,
                    (opts.since, opts.until),
                    now,
                ));
                batch.unread.extend(failed);
                let total = objects.len();
                let progress = remote::Progress::new(opts.remote.progress, r.display());
                let mut chunks = objects.chunks(remote::s3::CHUNK).map(|c| c.to_vec());
                let mut next = chunks
                    .next()
                    .map(|c| rt.spawn(remote::s3::fetch(client.clone(), bucket.clone(), c)));
                let (mut done, mut bytes) = (0, 0u64);
                while let Some(handle) = next.take() {
                    let results = match rt.block_on(handle) {
                        Ok(results) => results,
                        Err(e) => vec![Err(remote::RemoteError::new(
                            r.display(),
                            format!("a download task failed: {e}"),
                        ))],
                    };
                    // The next chunk downloads while this one is parsed.
                    next = chunks
                        .next()
                        .map(|c| rt.spawn(remote::s3::fetch(client.clone(), bucket.clone(), c)));
                    let mut blobs = Vec::with_capacity(results.len());
                    for result in results {
                        match result {
                            Ok(b) => blobs.push(b),
                            Err(e) => batch.unread.push(e),
                        }
                    }
                    done += blobs.len();
                    bytes += blobs.iter().map(|b| b.bytes.len() as u64).sum::<u64>();
                    read_blobs(blobs, opts, files, batch);
                    progress.update(done, total, bytes);
                }
                progress.finish();
            }
            remote::Remote::LookupEvents { regions } => {
                let window = remote::window_or_default(
                    opts.since,
                    opts.until,
                    now,
                    remote::lookup::RETENTION_DAYS,
                );
                match rt.block_on(remote::lookup::fetch(&conf, regions, window, now)) {
                    Ok(fetched) => {
                        batch.notes.extend(fetched.notes);
                        batch.unread.extend(fetched.failed);
                        read_blobs(fetched.blobs, opts, files, batch);
                    }
                    Err(e) => batch.unread.push(e),
                }
            }
            remote::Remote::Lake { store } => {
                let window = remote::window_or_default(opts.since, opts.until, now, 7);
                if opts.since.is_none() {
                    batch.notes.push(
                        "cloudtrail-lake:// without --since reads the last 7 days (Lake bills by data scanned)".into(),
                    );
                }
                match rt.block_on(remote::lake::fetch(&conf, store, window)) {
                    Ok(fetched) => read_blobs(fetched.blobs, opts, files, batch),
                    Err(e) => batch.unread.push(e),
                }
            }
        }
    }
    Ok(())
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
    parse_opened(&input.display, input.explicit, opened, errors, file, opts)
}

/// Reads bytes fetched from elsewhere (an S3 object, an API page) exactly as
/// a file named on the command line would be read.
pub fn read_bytes(display: &str, bytes: Vec<u8>, file: u32, opts: &IngestOptions) -> Batch {
    let (opened, errors) = read::open_bytes(bytes, display, max_file_bytes(opts));
    parse_opened(display, true, opened, errors, file, opts)
}

fn parse_opened(
    display: &str,
    explicit: bool,
    opened: Option<read::Opened>,
    errors: Vec<InputError>,
    file: u32,
    opts: &IngestOptions,
) -> Batch {
    match opened {
        Some(read::Opened::Stream(s)) => parse_streamed(display, explicit, s, errors, file, opts),
        Some(read::Opened::Whole(loaded)) => {
            parse_loaded(display, explicit, Some(loaded), errors, file, opts)
        }
        None => parse_loaded(display, explicit, None, errors, file, opts),
    }
}

/// The keys of a top-level object whose arrays hold one record each, and
/// are streamed when a file is too large to read whole.
const STREAMED_KEYS: &[&str] = &["Records", "Events", "QueryResultRows", "records", "value"];

/// Reads a large input piece by piece (see [`stream`]): a group of pieces
/// at a time, parsed in parallel and merged in order, so memory holds a
/// few pieces, never the file.
fn parse_streamed(
    display: &str,
    explicit: bool,
    streamed: read::Streamed,
    errors: Vec<InputError>,
    file: u32,
    opts: &IngestOptions,
) -> Batch {
    let ctx = FileCtx {
        file,
        display,
        explicit,
        opts,
    };
    parse_streamed_with(&ctx, streamed, errors, stream::Limits::default())
}

fn parse_streamed_with(
    ctx: &FileCtx<'_>,
    streamed: read::Streamed,
    errors: Vec<InputError>,
    limits: stream::Limits,
) -> Batch {
    let (display, explicit, opts) = (ctx.display, ctx.explicit, ctx.opts);
    let mut batch = Batch::default();
    batch.errors.extend(errors);
    batch.files_read = 1;
    let read::Streamed {
        head,
        mut reader,
        gzip,
    } = streamed;
    let max = max_file_bytes(opts);
    let mut framer =
        stream::Framer::new(head, &mut *reader, max, STREAMED_KEYS).with_limits(limits);
    let group = rayon::current_num_threads().max(1);
    let mut pending: Vec<stream::Piece> = Vec::with_capacity(group);
    let mut sniffed = Sniffed::Read;
    let mut utf8_error: Option<InputError> = None;
    let mut flush = |pending: &mut Vec<stream::Piece>, batch: &mut Batch| {
        let parts: Vec<(Batch, Option<InputError>)> =
            pending.par_drain(..).map(|p| parse_piece(p, ctx)).collect();
        for (b, bad_text) in parts {
            if utf8_error.is_none() {
                utf8_error = bad_text;
            }
            batch.append(b);
        }
    };
    loop {
        // A stopped run (Ctrl-C, --max-memory) reads nothing more.
        if crate::limits::stopped() {
            return Batch::default();
        }
        match framer.next_piece() {
            None => break,
            Some(stream::Piece::Empty) => {
                batch.skipped_files.push(SkippedFile {
                    path: display.to_string(),
                    reason: "empty file".into(),
                });
                sniffed = Sniffed::Empty;
            }
            Some(stream::Piece::NotJson(preview)) => {
                sniffed = Sniffed::NotALog(format!("starts with \"{preview}\""));
            }
            Some(stream::Piece::Error { line, reason }) => {
                // After the records before it.
                flush(&mut pending, &mut batch);
                batch
                    .errors
                    .push(InputError::at(display, Location::Line(line.max(1)), reason));
            }
            Some(piece) => {
                pending.push(piece);
                if pending.len() >= group {
                    flush(&mut pending, &mut batch);
                }
            }
        }
    }
    flush(&mut pending, &mut batch);
    batch.bytes = framer.bytes();
    match framer.stopped() {
        Some(stream::Stopped::Cap) => {
            // Refused, as a file over the cap read whole would be: what
            // was read of it is dropped.
            let mut refused = Batch::default();
            refused.errors.push(if gzip {
                read::bomb(display, max)
            } else {
                InputError::file(
                    display,
                    format!("larger than the {max}-byte limit (--max-file-bytes); not read"),
                )
            });
            return refused;
        }
        Some(stream::Stopped::Read { after, error }) => batch.errors.push(if gzip {
            read::damaged(display, after, &error)
        } else {
            InputError::file(display, format!("cannot read after {after} bytes: {error}"))
        }),
        None => {}
    }
    if let (Sniffed::Read, Some(e)) = (&sniffed, utf8_error) {
        batch.errors.insert(0, e);
    }
    finish_file(display, explicit, gzip, sniffed, &mut batch);
    batch
}

fn parse_loaded(
    display: &str,
    explicit: bool,
    loaded: Option<read::Loaded>,
    errors: Vec<InputError>,
    file: u32,
    opts: &IngestOptions,
) -> Batch {
    let mut batch = Batch::default();
    batch.errors.extend(errors);
    let Some(loaded) = loaded else { return batch };
    batch.files_read = 1;
    batch.bytes = loaded.bytes.len() as u64;
    // Invalid UTF-8 is replaced and reported, but only once the file turns
    // out to be a log: a binary file is "not a log", not "bad text".
    let mut utf8_error = None;
    // simdutf8 checks valid text several times faster than the standard
    // library; only invalid text is checked again there, for the error's
    // position.
    let checked = match simdutf8::basic::from_utf8(&loaded.bytes) {
        Ok(t) => Ok(t),
        Err(_) => std::str::from_utf8(&loaded.bytes),
    };
    let text = match checked {
        Ok(t) => std::borrow::Cow::Borrowed(t),
        Err(e) => {
            let at = e.valid_up_to();
            let line = 1 + memchr::memchr_iter(b'\n', &loaded.bytes[..at]).count() as u64;
            utf8_error = Some(InputError::at(
                display,
                Location::Line(line),
                "invalid UTF-8; bad bytes were replaced with U+FFFD and the file was read",
            ));
            String::from_utf8_lossy(&loaded.bytes)
        }
    };
    let ctx = FileCtx {
        file,
        display,
        explicit,
        opts,
    };
    let sniffed = parse_text(&text, &ctx, &mut batch);
    if let (Sniffed::Read, Some(e)) = (&sniffed, utf8_error) {
        batch.errors.insert(0, e);
    }
    finish_file(display, explicit, loaded.gzip, sniffed, &mut batch);
    batch
}

/// What every read file ends with: a file found to be no log is skipped
/// (met in a walk, with a name that says so) or an error, and held calls
/// are packed to wait for the whole input.
fn finish_file(display: &str, explicit: bool, gzip: bool, sniffed: Sniffed, batch: &mut Batch) {
    if batch.skipped_files.iter().any(|s| s.path == display) {
        // Read, but found to be something other than a log (empty, a key set).
        batch.files_read = 0;
        batch.bytes = 0;
    }
    if let Sniffed::NotALog(what) = sniffed {
        let ext = Path::new(display)
            .extension()
            .and_then(|e| e.to_str())
            .unwrap_or("")
            .to_ascii_lowercase();
        if !explicit && !gzip && NON_LOG_EXTENSIONS.contains(&ext.as_str()) {
            batch.files_read = 0;
            batch.bytes = 0;
            batch.skipped_files.push(SkippedFile {
                path: display.to_string(),
                reason: format!("not a log ({what})"),
            });
        } else {
            batch.errors.push(InputError::file(
                display,
                format!("not a recognized log, claim set, JWT or workflow_job payload ({what})"),
            ));
        }
    }
    // Held calls wait for the whole input; most are dropped then, so they
    // wait in as little room as they fit in.
    for held in &mut batch.held {
        held.shrink_to_fit();
    }
}

/// Reads one piece of a streamed input as the whole file would be read
/// (see [`stream::Piece`]). Also returns the error for invalid UTF-8 in
/// it, which the caller reports once per file.
fn parse_piece(piece: stream::Piece, ctx: &FileCtx<'_>) -> (Batch, Option<InputError>) {
    use stream::Piece;
    let mut batch = Batch::default();
    let (bytes, lead_lines) = match &piece {
        Piece::Lines { text, lead_lines }
        | Piece::Documents { text, lead_lines }
        | Piece::Elements {
            doc: text,
            lead_lines,
            ..
        }
        | Piece::Document {
            doc: text,
            lead_lines,
            ..
        } => (text.as_slice(), *lead_lines),
        Piece::Empty | Piece::NotJson(_) | Piece::Error { .. } => return (batch, None),
    };
    let (text, bad_text) = match simdutf8::basic::from_utf8(bytes) {
        Ok(t) => (std::borrow::Cow::Borrowed(t), None),
        Err(_) => {
            let at = std::str::from_utf8(bytes)
                .err()
                .map_or(0, |e| e.valid_up_to());
            let line = lead_lines + 1 + memchr::memchr_iter(b'\n', &bytes[..at]).count() as u64;
            (
                String::from_utf8_lossy(bytes),
                Some(InputError::at(
                    ctx.display,
                    Location::Line(line),
                    "invalid UTF-8; bad bytes were replaced with U+FFFD and the file was read",
                )),
            )
        }
    };
    match &piece {
        Piece::Lines { .. } => parse_lines(&text, lead_lines, ctx, &mut batch),
        Piece::Documents { .. } => parse_documents(&text, lead_lines, ctx, &mut batch),
        Piece::Elements {
            key, first_index, ..
        } => match key {
            None => {
                let mut p = Parser::new(ctx, &mut batch);
                p.record_base = *first_index;
                let mut scratch = Obj::default();
                let mut de = serde_json::Deserializer::from_str(&text);
                let seed = ArraySeed {
                    array: ArrayKind::Bare,
                    rows: false,
                    sink: &mut p,
                    scratch: &mut scratch,
                };
                if let Err(e) = seed.deserialize(&mut de).and_then(|()| de.end()) {
                    p.syntax_error(&e, lead_lines);
                }
            }
            Some(_) => {
                let mut single = Batch::default();
                let mut sp = Parser::new(ctx, &mut single);
                sp.record_base = *first_index;
                if sp.scanned_document(&text, Location::File) {
                    batch.append(single);
                } else {
                    let mut p = Parser::new(ctx, &mut batch);
                    p.record_base = *first_index;
                    let mut de = serde_json::Deserializer::from_str(&text);
                    if let Err(e) = p.document(&mut de, Location::File).and_then(|()| de.end()) {
                        p.syntax_error(&e, lead_lines);
                    }
                }
            }
        },
        Piece::Document { line: None, .. } => {
            let mut single = Batch::default();
            if Parser::new(ctx, &mut single).scanned_document(&text, Location::File) {
                batch.append(single);
            } else {
                parse_stream(&text, lead_lines, ctx, &mut batch);
            }
        }
        Piece::Document {
            line: Some(line),
            as_line: true,
            ..
        } => Parser::new(ctx, &mut batch).line(&text, *line),
        Piece::Document {
            line: Some(line), ..
        } => {
            let mut p = Parser::new(ctx, &mut batch);
            p.line = *line;
            let mut de = serde_json::Deserializer::from_str(&text);
            if let Err(e) = p.document(&mut de, Location::Line(*line)) {
                p.error(Location::Line(*line), format!("invalid JSON: {e}"));
            }
        }
        Piece::Empty | Piece::NotJson(_) | Piece::Error { .. } => {}
    }
    (batch, bad_text)
}

enum Sniffed {
    Read,
    Empty,
    NotALog(String),
}

/// Reads a whole text buffer, choosing the shape by its first bytes.
fn parse_text(text: &str, ctx: &FileCtx<'_>, batch: &mut Batch) -> Sniffed {
    let body = text.trim_start_matches(|c: char| c.is_whitespace() || c == '\u{feff}');
    let Some(&first) = body.as_bytes().first() else {
        batch.skipped_files.push(SkippedFile {
            path: ctx.display.to_string(),
            reason: "empty file".into(),
        });
        return Sniffed::Empty;
    };
    let lead_lines =
        memchr::memchr_iter(b'\n', &text.as_bytes()[..text.len() - body.len()]).count() as u64;
    match first {
        b'[' => {
            let mut p = Parser::new(ctx, batch);
            let mut scratch = Obj::default();
            let mut de = serde_json::Deserializer::from_str(body);
            let seed = ArraySeed {
                array: ArrayKind::Bare,
                rows: false,
                sink: &mut p,
                scratch: &mut scratch,
            };
            let result = seed.deserialize(&mut de).and_then(|()| de.end());
            if let Err(e) = result {
                p.syntax_error(&e, lead_lines);
            }
            Sniffed::Read
        }
        b'{' => {
            // Nearly every file is one document (CloudTrail as S3 delivers
            // it): the scanner reads it in one pass when it can, before
            // anything looks for line breaks (a search through the whole
            // file when there are none). A document it reads has nothing
            // after it, so it is never line-delimited.
            let mut single = Batch::default();
            if Parser::new(ctx, &mut single).scanned_document(body, Location::File) {
                batch.append(single);
            } else if is_line_delimited(body) {
                parse_lines(body, lead_lines, ctx, batch);
            } else {
                parse_stream(body, lead_lines, ctx, batch);
            }
            Sniffed::Read
        }
        _ if looks_like_jwt(body.lines().next().unwrap_or("")) => {
            parse_lines(body, lead_lines, ctx, batch);
            Sniffed::Read
        }
        _ => {
            let preview: String = body
                .chars()
                .take(24)
                .flat_map(char::escape_default)
                .collect();
            Sniffed::NotALog(format!("starts with \"{preview}\""))
        }
    }
}

/// NDJSON when the first line is a whole JSON value and more follows.
fn is_line_delimited(body: &str) -> bool {
    let Some(nl) = memchr::memchr(b'\n', body.as_bytes()) else {
        return false;
    };
    let first = body[..nl].trim_end();
    if !first.ends_with('}') || body[nl..].trim().is_empty() {
        return false;
    }
    serde_json::from_str::<IgnoredAny>(first).is_ok()
}

/// Line-delimited input: every line on its own, chunks of lines in
/// parallel.
fn parse_lines(body: &str, lead_lines: u64, ctx: &FileCtx<'_>, batch: &mut Batch) {
    let bytes = body.as_bytes();
    let mut chunks: Vec<&str> = Vec::new();
    let mut start = 0;
    while start < bytes.len() {
        let mut end = (start + LINE_CHUNK_BYTES).min(bytes.len());
        if end < bytes.len() {
            end = memchr::memchr(b'\n', &bytes[end..]).map_or(bytes.len(), |i| end + i + 1);
        }
        chunks.push(&body[start..end]);
        start = end;
    }
    let mut first_lines = Vec::with_capacity(chunks.len());
    let mut line = lead_lines + 1;
    for c in &chunks {
        first_lines.push(line);
        line += memchr::memchr_iter(b'\n', c.as_bytes()).count() as u64;
    }
    let parse_chunk = |(chunk, first_line): (&str, u64)| {
        let mut b = Batch::default();
        {
            let mut p = Parser::new(ctx, &mut b);
            for (i, l) in chunk.split('\n').enumerate() {
                p.line(l, first_line + i as u64);
            }
        }
        b
    };
    if chunks.len() == 1 {
        let b = parse_chunk((chunks[0], first_lines[0]));
        batch.append(b);
        return;
    }
    let parts: Vec<Batch> = chunks
        .into_par_iter()
        .zip(first_lines)
        .map(parse_chunk)
        .collect();
    for b in parts {
        batch.append(b);
    }
}

/// One document, or several concatenated (pretty-printed objects one after
/// another, as Vault's file audit device writes them).
fn parse_stream(body: &str, lead_lines: u64, ctx: &FileCtx<'_>, batch: &mut Batch) {
    // Nearly every file is one document: read it in a single pass (the
    // scanner has already declined it; serde_json words the errors).
    let mut single = Batch::default();
    let trailing = {
        let mut p = Parser::new(ctx, &mut single);
        let mut de = serde_json::Deserializer::from_str(body);
        match p.document(&mut de, Location::File) {
            Err(e) => {
                p.syntax_error(&e, lead_lines);
                false
            }
            Ok(()) => de.end().is_err(),
        }
    };
    if !trailing {
        batch.append(single);
        return;
    }
    parse_documents(body, lead_lines, ctx, batch);
}

/// Several documents: walked with their offsets so each record can be
/// located, and resynchronized after a broken one at the next line that
/// opens an object.
fn parse_documents(body: &str, lead_lines: u64, ctx: &FileCtx<'_>, batch: &mut Batch) {
    let mut offset = 0usize;
    while offset < body.len() {
        let rest = &body[offset..];
        let mut stream = serde_json::Deserializer::from_str(rest).into_iter::<&RawValue>();
        let mut failed = None;
        for item in stream.by_ref() {
            match item {
                Ok(raw) => {
                    let start = raw.get().as_ptr() as usize - body.as_ptr() as usize;
                    let line = lead_lines
                        + 1
                        + memchr::memchr_iter(b'\n', &body.as_bytes()[..start]).count() as u64;
                    let mut p = Parser::new(ctx, batch);
                    p.line = line;
                    let mut de = serde_json::Deserializer::from_str(raw.get());
                    if let Err(e) = p.document(&mut de, Location::Line(line)) {
                        p.error(Location::Line(line), format!("invalid JSON: {e}"));
                    }
                }
                Err(e) => {
                    failed = Some(e);
                    break;
                }
            }
        }
        match failed {
            None => offset = body.len(),
            Some(e) => {
                let err_line = e.line().max(1);
                let base = lead_lines
                    + memchr::memchr_iter(b'\n', &body.as_bytes()[..offset]).count() as u64;
                Parser::new(ctx, batch).error(
                    Location::Line(base + err_line as u64),
                    format!("invalid JSON: {e}"),
                );
                // Skip to the first line after the error that starts with '{'.
                let mut pos = 0;
                for _ in 0..err_line {
                    match memchr::memchr(b'\n', &rest.as_bytes()[pos..]) {
                        Some(i) => pos += i + 1,
                        None => {
                            pos = rest.len();
                            break;
                        }
                    }
                }
                let mut next = None;
                let mut p = pos;
                while p < rest.len() {
                    if rest.as_bytes()[p] == b'{' {
                        next = Some(p);
                        break;
                    }
                    p = memchr::memchr(b'\n', &rest.as_bytes()[p..])
                        .map_or(rest.len(), |i| p + i + 1);
                }
                offset += next.unwrap_or(rest.len()).max(1);
            }
        }
    }
}

/// Reads one record of a source that is parsed as a whole JSON value.
type RecordReader = fn(
    &Map<String, Value>,
    Position,
    (Option<Micros>, Option<Micros>),
    &mut dyn FnMut(&crate::model::EventRow<'_>) -> usize,
) -> Result<Outcome, json::FieldError>;

/// Turns records into rows for one file.
struct Parser<'c, 'o> {
    ctx: &'c FileCtx<'o>,
    out: &'c mut Batch,
    /// Line of the document being read (line-delimited files), else 0.
    line: u64,
    /// Index of the first element of the record array being read, when
    /// it is a piece of a longer one (see [`stream`]).
    record_base: u64,
}

impl<'c, 'o> Parser<'c, 'o> {
    fn new(ctx: &'c FileCtx<'o>, out: &'c mut Batch) -> Self {
        Parser {
            ctx,
            out,
            line: 0,
            record_base: 0,
        }
    }

    fn error(&mut self, location: Location, reason: impl Into<String>) {
        self.out
            .errors
            .push(InputError::at(self.ctx.display, location, reason));
    }

    fn syntax_error(&mut self, e: &serde_json::Error, lead_lines: u64) {
        let line = lead_lines + e.line() as u64;
        let reason = if e.is_eof() {
            format!("the JSON ends early (truncated file?): {e}")
        } else {
            format!("invalid JSON: {e}")
        };
        self.error(Location::Line(line.max(1)), reason);
    }

    /// Where an element of a streamed array sits.
    fn element_location(&self, index: u64) -> Location {
        if self.line > 0 {
            Location::LineRecord {
                line: self.line,
                record: index,
            }
        } else {
            Location::Record(index)
        }
    }

    fn position(&self, record: u64) -> Position {
        Position {
            file: self.ctx.file,
            record: record.min(u32::MAX as u64) as u32,
            line: self.line.min(u32::MAX as u64) as u32,
        }
    }

    /// One line of a line-delimited file.
    fn line(&mut self, raw_line: &str, number: u64) {
        let t = raw_line.trim();
        if t.is_empty() {
            return;
        }
        self.line = number;
        if t.starts_with('{') {
            // The scanner reads a plain line in one pass (a job delivery's
            // payload was otherwise walked twice); anything it leaves, a
            // line with a record array or invalid JSON, serde_json reads
            // and words the errors for.
            let mut obj = Obj::default();
            if scanner::line_document(t, &mut obj).is_ok() {
                self.object(&obj, Location::Line(number), 0);
                return;
            }
            let mut de = serde_json::Deserializer::from_str(t);
            let result = self
                .document(&mut de, Location::Line(number))
                .and_then(|()| de.end());
            if let Err(e) = result {
                let reason = if e.is_eof() {
                    format!("the JSON ends early (truncated line?): {e}")
                } else {
                    format!("invalid JSON: {e}")
                };
                self.error(Location::Line(number), reason);
            }
        } else if looks_like_jwt(t) {
            self.jwt(t, Location::Line(number));
        } else {
            let preview: String = t.chars().take(24).flat_map(char::escape_default).collect();
            self.error(
                Location::Line(number),
                format!("neither JSON nor a JWT: \"{preview}\""),
            );
        }
    }

    /// Reads one whole top-level document with the scanner. False when
    /// the scanner gave up; what was read then is incomplete and must be
    /// discarded.
    fn scanned_document(&mut self, text: &str, at: Location) -> bool {
        let mut obj = Obj::default();
        let mut scratch = Obj::default();
        if scanner::document(text, &mut obj, &mut scratch, self).is_err() {
            return false;
        }
        self.object(&obj, at, 0);
        true
    }

    /// Reads one top-level JSON document and whatever it holds.
    fn document<'de>(
        &mut self,
        de: &mut serde_json::Deserializer<serde_json::de::StrRead<'de>>,
        at: Location,
    ) -> serde_json::Result<()> {
        let mut obj = Obj::default();
        let mut scratch = Obj::default();
        let outcome = DocumentSeed {
            obj: &mut obj,
            scratch: &mut scratch,
            sink: self,
        }
        .deserialize(de)?;
        match outcome {
            Ok(()) => self.object(&obj, at, 0),
            Err(kind) => self.error(at, format!("expected a JSON object, found {kind}")),
        }
        Ok(())
    }

    /// Classifies one object and reads it. `record` is its index when it
    /// came from an array.
    fn object(&mut self, obj: &Obj<'_>, at: Location, record: u64) {
        // Arrays that were streamed have already been read.
        if obj.has(Key::Records) || obj.has(Key::Events) || obj.has(Key::QueryResultRows) {
            if obj.has(Key::DigestStartTime) {
                self.out.records_skipped += 1;
            }
            return;
        }
        if obj.has(Key::DigestStartTime) {
            self.out.skipped_files.push(SkippedFile {
                path: self.ctx.display.to_string(),
                reason: "CloudTrail digest file".into(),
            });
            return;
        }
        if is_cloudtrail(obj) {
            self.cloudtrail(obj, at, record);
            return;
        }
        if obj.has(Key::ProtoPayload)
            || (obj.has(Key::Type) && obj.has(Key::Request))
            || obj.has(Key::Category)
            || obj.has(Key::TimeGenerated)
            || obj.has(Key::OperationNameValue)
            || (obj.has(Key::Issuer) && obj.has(Key::Subject) && obj.has(Key::Audiences))
        {
            let Some(map) = self.whole_map(obj, &at) else {
                return;
            };
            if gcp::is_entry(&map) {
                return self.other(&map, at, record, gcp::read_entry);
            }
            if vault::is_entry(&map) {
                return self.other(&map, at, record, vault::read_entry);
            }
            if azure::is_signin(&map) {
                return self.other(&map, at, record, azure::read_signin);
            }
            if azure::is_activity(&map) {
                return self.other(&map, at, record, azure::read_activity);
            }
            if azure::is_credential(&map) {
                self.out.records += 1;
                match azure::read_credential(&map, self.ctx.file) {
                    Ok(c) => self.out.federated_credentials.push(c),
                    Err(e) => self.error(at, format!("federated credential: {e}")),
                }
                return;
            }
        }
        for key in [Key::LowerRecords, Key::Value] {
            if let Some(raw) = obj.get(key).filter(|r| r.get().starts_with('[')) {
                // Azure's `{"records":[...]}` and Graph's `{"value":[...]}`:
                // every element is a document of its own.
                let mut scratch = Obj::default();
                let mut de = serde_json::Deserializer::from_str(raw.get());
                let result = ArraySeed {
                    array: ArrayKind::Bare,
                    rows: false,
                    sink: self,
                    scratch: &mut scratch,
                }
                .deserialize(&mut de);
                if let Err(e) = result {
                    self.error(
                        at,
                        format!("`{}` is not readable: {e}", json::key_name(key)),
                    );
                }
                return;
            }
        }
        for key in [Key::CloudTrailEvent, Key::EventJson] {
            if let Some(raw) = obj.get(key) {
                self.embedded_event(raw, key, at, record);
                return;
            }
        }
        if obj.get(Key::WorkflowJob).is_some() {
            self.out.records += 1;
            let read = match jobs::job_from_members(&obj.pairs, obj.plain) {
                Some(read) => Ok(read),
                None => pairs_to_map(obj).map(|map| jobs::job_from_payload(&map)),
            };
            match read {
                Ok(Ok(mut job)) => {
                    job.file = self.ctx.file;
                    job.record = record as u32;
                    job.line = self.line as u32;
                    self.out.jobs.push(job);
                }
                Ok(Err(e)) => self.error(at, format!("workflow_job payload: {e}")),
                Err(e) => self.error(at, e),
            }
            return;
        }
        if obj.has(Key::Iss) && obj.has(Key::Sub) {
            self.out.records += 1;
            match claims::Pairs::new(&obj.pairs) {
                Ok(Some(pairs)) => self.claims(&pairs, None, at, record),
                // A repeated key: the map decides which value wins.
                Ok(None) => match pairs_to_map(obj) {
                    Ok(map) => self.claims(&map, None, at, record),
                    Err(e) => self.error(at, e),
                },
                Err(e) => self.error(at, e),
            }
            return;
        }
        if let Some(shape) = trust::sniff(obj) {
            self.trust_input(shape, obj, at, record);
            return;
        }
        if obj.has(Key::Keys) {
            // A key set kept beside the tokens it verifies is not a log; one
            // named as a source is a mistake worth saying.
            if self.ctx.explicit {
                self.error(
                    at,
                    "a JSON Web Key Set: give it with --jwks, not as a source",
                );
            } else {
                self.out.skipped_files.push(SkippedFile {
                    path: self.ctx.display.to_string(),
                    reason: "a JSON Web Key Set (use it with --jwks)".into(),
                });
            }
            return;
        }
        if obj.has(Key::EventName) {
            self.out.records += 1;
            self.error(
                at,
                "has `eventName` but none of the other CloudTrail envelope fields",
            );
            return;
        }
        self.error(
            at,
            format!(
                "not a recognized record: not CloudTrail, GCP, Entra, Vault, a claim set, a workflow_job payload or a trust policy (keys: {})",
                obj.key_preview()
            ),
        );
    }

    fn cloudtrail(&mut self, obj: &Obj<'_>, at: Location, record: u64) {
        self.out.records += 1;
        if let Some(k) = obj.duplicate {
            self.error(
                at.clone(),
                format!(
                    "duplicate key `{}`; the last value was used",
                    json::key_name(k)
                ),
            );
        }
        let pos = self.position(record);
        let window = (self.ctx.opts.since, self.ctx.opts.until);
        let elide = self.ctx.opts.elide_unrelated_events;
        let out = &mut self.out;
        let mut push = |row: &crate::model::EventRow<'_>| out.push_event(row, elide);
        match read_record(obj, pos, window, &mut push) {
            Ok(Outcome::Event(Some(a))) => self.out.assumptions.push(*a),
            Ok(Outcome::Event(None)) if trust::is_trust_event(obj) => {
                match trust::from_cloudtrail(obj, pos) {
                    Some(Ok(trust::TrustEvent::Role(r))) => self.out.trust.roles.push(*r),
                    Some(Ok(trust::TrustEvent::Provider(p))) => {
                        self.out.trust.oidc_changes.push(*p)
                    }
                    Some(Err(e)) => self.error(at, e),
                    None => {}
                }
            }
            Ok(Outcome::Event(None)) => {}
            Ok(Outcome::Insight) => self.out.records_skipped += 1,
            Ok(Outcome::OutsideWindow) => self.out.records_outside_window += 1,
            Err(e) => self.error(at, e.to_string()),
        }
    }

    /// The object as a whole JSON map, or, when a value is unreadable, the
    /// record counted and its error reported.
    fn whole_map(&mut self, obj: &Obj<'_>, at: &Location) -> Option<Map<String, Value>> {
        match pairs_to_map(obj) {
            Ok(map) => Some(map),
            Err(e) => {
                self.out.records += 1;
                self.error(at.clone(), e);
                None
            }
        }
    }

    /// A trust input object: role snapshots, a bare policy document, GCP
    /// pool providers.
    fn trust_input(&mut self, shape: trust::Shape, obj: &Obj<'_>, at: Location, record: u64) {
        let Some(map) = self.whole_map(obj, &at) else {
            return;
        };
        let read = trust::read(shape, &map, self.ctx.display, self.position(record));
        self.out.records += read.records;
        self.out.notes.extend(read.notes);
        for e in read.errors {
            self.error(at.clone(), e);
        }
        let mut t = read.trust;
        self.out.trust.append(&mut t);
    }

    /// A record of another source, read as a whole JSON value.
    fn other(&mut self, map: &Map<String, Value>, at: Location, record: u64, reader: RecordReader) {
        self.out.records += 1;
        let pos = self.position(record);
        let window = (self.ctx.opts.since, self.ctx.opts.until);
        let elide = self.ctx.opts.elide_unrelated_events;
        let out = &mut self.out;
        let mut push = |row: &crate::model::EventRow<'_>| out.push_event(row, elide);
        match reader(map, pos, window, &mut push) {
            Ok(Outcome::Event(Some(a))) => self.out.assumptions.push(*a),
            Ok(Outcome::Event(None)) => {}
            Ok(Outcome::Insight) => self.out.records_skipped += 1,
            Ok(Outcome::OutsideWindow) => self.out.records_outside_window += 1,
            Err(e) => self.error(at, e.to_string()),
        }
    }

    /// A CloudTrail event stored as a JSON string (LookupEvents'
    /// `CloudTrailEvent`, Lake's `eventJson`).
    fn embedded_event(&mut self, raw: Raw<'_>, key: Key, at: Location, record: u64) {
        let text = match as_str(raw, json::key_name(key)) {
            Ok(t) => t,
            Err(e) => {
                self.out.records += 1;
                self.error(at, e.to_string());
                return;
            }
        };
        let mut inner = Obj::default();
        let mut scratch = Obj::default();
        let mut nested = NoArrays;
        let mut de = serde_json::Deserializer::from_str(&text);
        let parsed = DocumentSeed {
            obj: &mut inner,
            scratch: &mut scratch,
            sink: &mut nested,
        }
        .deserialize(&mut de);
        match parsed {
            Ok(Ok(())) if is_cloudtrail(&inner) => self.cloudtrail(&inner, at, record),
            Ok(Ok(())) => {
                self.out.records += 1;
                self.error(
                    at,
                    format!("`{}` is not a CloudTrail event", json::key_name(key)),
                );
            }
            Ok(Err(kind)) => {
                self.out.records += 1;
                self.error(
                    at,
                    format!("`{}` holds {kind}, not an event", json::key_name(key)),
                );
            }
            Err(e) => {
                self.out.records += 1;
                self.error(
                    at,
                    format!("`{}` is not valid JSON: {e}", json::key_name(key)),
                );
            }
        }
    }

    /// A CloudTrail Lake result row: `[{"eventVersion":"1.08"},{...},...]`.
    fn lake_row(&mut self, index: u64, row: Raw<'_>) {
        let at = self.element_location(index);
        let cells: Vec<Map<String, Value>> = match serde_json::from_str(row.get()) {
            Ok(c) => c,
            Err(e) => {
                self.out.records += 1;
                self.error(
                    at,
                    format!("QueryResultRows row is not a list of columns: {e}"),
                );
                return;
            }
        };
        let mut merged = Map::new();
        for cell in cells {
            merged.extend(cell);
        }
        if remote::lake::is_aliased(&merged) {
            merged = remote::lake::rebuild(&merged);
        }
        if let Some(Value::String(event)) =
            merged.get("eventJson").or_else(|| merged.get("eventjson"))
        {
            let quoted = Value::String(event.clone()).to_string();
            if let Ok(raw) = Raw::parse(&quoted) {
                self.embedded_event(raw, Key::EventJson, at, index);
                return;
            }
        }
        let text = Value::Object(merged).to_string();
        let mut inner = Obj::default();
        let mut scratch = Obj::default();
        let mut nested = NoArrays;
        let mut de = serde_json::Deserializer::from_str(&text);
        match (DocumentSeed {
            obj: &mut inner,
            scratch: &mut scratch,
            sink: &mut nested,
        })
        .deserialize(&mut de)
        {
            Ok(Ok(())) if is_cloudtrail(&inner) => self.cloudtrail(&inner, at, index),
            _ => {
                self.out.records += 1;
                self.error(
                    at,
                    "QueryResultRows row does not hold a CloudTrail event (select whole events or eventJson)",
                );
            }
        }
    }

    fn jwt(&mut self, token: &str, at: Location) {
        self.out.records += 1;
        match jwt::decode(token, self.ctx.opts.jwks.as_deref()) {
            Ok(decoded) => {
                if let Some(reason) = &decoded.verify_error {
                    self.error(at.clone(), format!("JWT signature not verified: {reason}"));
                }
                self.claims(&decoded.claims, Some(decoded.verified), at, 0);
            }
            Err(reason) => self.error(at, format!("unreadable JWT: {reason}")),
        }
    }

    fn claims(
        &mut self,
        map: &impl claims::Members,
        jwt: Option<Option<bool>>,
        at: Location,
        record: u64,
    ) {
        match claims::claims_from_map(map) {
            Ok(mut c) => {
                c.from_jwt = jwt.is_some();
                c.verified = jwt.flatten();
                c.file = self.ctx.file;
                c.record = record as u32;
                c.line = self.line as u32;
                self.out.claims.push(c);
            }
            Err(e) => self.error(at, format!("claim set: {e}")),
        }
    }
}

impl<'de> ArraySink<'de> for Parser<'_, '_> {
    fn element(&mut self, array: ArrayKind, index: u64, obj: Result<&Obj<'de>, &'static str>) {
        let index = index + self.record_base;
        let at = self.element_location(index);
        let obj = match obj {
            Ok(o) => o,
            Err(kind) => {
                self.out.records += 1;
                self.error(at, format!("expected an object, found {kind}"));
                return;
            }
        };
        match array {
            ArrayKind::Records if is_cloudtrail(obj) => self.cloudtrail(obj, at, index),
            ArrayKind::Records => {
                self.out.records += 1;
                self.error(
                    at,
                    format!("not a CloudTrail event (keys: {})", obj.key_preview()),
                );
            }
            ArrayKind::Events => match obj.get(Key::CloudTrailEvent) {
                Some(raw) => self.embedded_event(raw, Key::CloudTrailEvent, at, index),
                None if is_cloudtrail(obj) => self.cloudtrail(obj, at, index),
                None => {
                    self.out.records += 1;
                    self.error(at, "LookupEvents entry without `CloudTrailEvent`");
                }
            },
            ArrayKind::Bare => {
                if obj.get(Key::Records).is_some() {
                    // A Records wrapper inside an array: read its records.
                    let raw = obj.get(Key::Records).expect("checked");
                    let mut scratch = Obj::default();
                    let mut de = serde_json::Deserializer::from_str(raw.get());
                    // The nested array's indices are its own.
                    let base = std::mem::take(&mut self.record_base);
                    let result = ArraySeed {
                        array: ArrayKind::Records,
                        rows: false,
                        sink: self,
                        scratch: &mut scratch,
                    }
                    .deserialize(&mut de);
                    self.record_base = base;
                    if let Err(e) = result {
                        self.error(at, format!("`Records` is not readable: {e}"));
                    }
                    return;
                }
                self.object(obj, at, index)
            }
        }
    }

    fn row(&mut self, index: u64, row: Raw<'de>) {
        self.lake_row(index + self.record_base, row);
    }
}

/// A sink for documents that must not contain streamed arrays.
struct NoArrays;

impl<'de> ArraySink<'de> for NoArrays {
    fn element(&mut self, _: ArrayKind, _: u64, _: Result<&Obj<'de>, &'static str>) {}
    fn row(&mut self, _: u64, _: Raw<'de>) {}
}

/// Rebuilds a whole object from its borrowed pairs (claims and jobs are
/// few; they get full JSON values).
fn pairs_to_map(obj: &Obj<'_>) -> Result<Map<String, Value>, String> {
    let mut map = Map::new();
    for (k, v) in &obj.pairs {
        let value: Value =
            serde_json::from_str(v.get()).map_err(|e| format!("`{k}` is not readable: {e}"))?;
        map.insert(k.to_string(), value);
    }
    Ok(map)
}

/// Reads `bytes` as a streamed input cut into pieces of `piece_bytes`
/// (records of at most `max_record`), as a file too large to read whole
/// would be: the oracle that holds the stream reader to the whole-file
/// reader, for the tests and the `stream` fuzz target.
#[cfg(any(test, fuzzing))]
pub fn read_streamed(bytes: &[u8], piece_bytes: usize, max_record: usize) -> Batch {
    let opts = IngestOptions::default();
    let ctx = FileCtx {
        file: 0,
        display: "f.json",
        explicit: true,
        opts: &opts,
    };
    let s = read::Streamed {
        head: Vec::new(),
        reader: Box::new(std::io::Cursor::new(bytes.to_vec())),
        gzip: false,
    };
    let limits = stream::Limits {
        piece_bytes,
        max_record,
    };
    let mut b = parse_streamed_with(&ctx, s, Vec::new(), limits);
    b.settle_held();
    b
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn event(id: &str) -> Value {
        json!({
            "eventVersion": "1.08",
            "userIdentity": {"type": "AssumedRole", "accessKeyId": "ASIAKEY", "arn": "arn:aws:sts::1:assumed-role/r/s"},
            "eventTime": "2025-05-14T10:00:00Z", "eventSource": "s3.amazonaws.com", "eventName": "GetObject",
            "awsRegion": "us-east-1", "sourceIPAddress": "20.1.2.3", "userAgent": "ua", "eventID": id,
            "readOnly": true, "recipientAccountId": "111111111111",
            "requestParameters": {"bucketName": "b"}, "responseElements": null
        })
    }

    fn events(n: usize) -> Vec<Value> {
        (0..n).map(|i| event(&format!("e{i}"))).collect()
    }

    /// What a reading produced, for comparing two readings of one input:
    /// event ids, their (record, line) positions, records, errors, and
    /// skipped-file reasons.
    type Seen = (Vec<String>, Vec<(u32, u32)>, u64, Vec<String>, Vec<String>);

    fn seen(b: &Batch) -> Seen {
        let ids = (0..b.events.len())
            .map(|i| b.events.event_id_of(i).unwrap_or("-").to_string())
            .collect();
        let positions = (0..b.events.len())
            .map(|i| (b.events.record[i], b.events.line[i]))
            .collect();
        let errors = b.errors.iter().map(ToString::to_string).collect();
        let skipped = b.skipped_files.iter().map(|s| s.reason.clone()).collect();
        (ids, positions, b.records, errors, skipped)
    }

    fn whole(text: &[u8]) -> Batch {
        let opts = IngestOptions::default();
        read_bytes("f.json", text.to_vec(), 0, &opts)
    }

    fn streamed(text: &[u8], piece_bytes: usize, max_record: usize) -> Batch {
        read_streamed(text, piece_bytes, max_record)
    }

    /// Read whole and streamed in pieces of every small size, an input
    /// gives the same records, positions, counts and errors.
    fn same_both_ways(text: &[u8]) {
        let mut w = whole(text);
        w.settle_held();
        let want = seen(&w);
        for piece in [1, 7, 64, 300, 1 << 20] {
            let got = seen(&streamed(text, piece, 1 << 20));
            assert_eq!(
                got,
                want,
                "pieces of {piece} bytes: {}",
                String::from_utf8_lossy(&text[..text.len().min(200)])
            );
        }
    }

    #[test]
    fn a_streamed_input_reads_as_the_whole_file_does() {
        let records = events(25);
        same_both_ways(json!({"Records": records}).to_string().as_bytes());
        same_both_ways(
            serde_json::to_string_pretty(&json!({"Records": records}))
                .unwrap()
                .as_bytes(),
        );
        // Other members before and after the array, a digest-like key.
        same_both_ways(
            format!(
                "{{\"a\": 1, \"Records\": {}, \"z\": [1,2]}}",
                Value::Array(records.clone())
            )
            .as_bytes(),
        );
        // A bare array, with an element that is not an object.
        let mut bare = records.clone();
        bare.insert(3, json!(42));
        same_both_ways(Value::Array(bare).to_string().as_bytes());
        // NDJSON, with blank lines and a broken line.
        let mut nd = String::new();
        for (i, r) in records.iter().enumerate() {
            nd.push_str(&r.to_string());
            nd.push('\n');
            if i == 4 {
                nd.push_str("\n{\"eventVersion\": \"1.08\", broken\n");
            }
        }
        same_both_ways(nd.as_bytes());
        // Concatenated pretty-printed objects.
        let pretty: String = records
            .iter()
            .map(|r| serde_json::to_string_pretty(r).unwrap() + "\n")
            .collect();
        same_both_ways(pretty.as_bytes());
        // LookupEvents, with the event as a string and a paging token.
        let lookup = json!({"Events": records.iter().map(|r| json!({"EventId": "x", "CloudTrailEvent": r.to_string()})).collect::<Vec<_>>(), "NextToken": "t"});
        same_both_ways(lookup.to_string().as_bytes());
        // Records inside a lower-case `records` wrapper, a BOM and
        // whitespace first.
        let mut bom = b"\xef\xbb\xbf \n\n".to_vec();
        bom.extend(json!({"records": records}).to_string().as_bytes());
        same_both_ways(&bom);
        // A record with the wrong type of field, and an element of the
        // wrong kind.
        let mut odd = records.clone();
        odd[2]["eventTime"] = json!(12);
        odd[5] = json!("not an event");
        same_both_ways(json!({"Records": odd}).to_string().as_bytes());
    }

    #[test]
    fn a_streamed_input_fails_as_the_whole_file_does() {
        let text = json!({"Records": events(10)}).to_string();
        // Truncated inside a record: the records before are read, and the
        // error says the JSON ends early.
        let cut = &text.as_bytes()[..text.len() * 2 / 3];
        let w = seen(&whole(cut));
        for piece in [1, 64, 1 << 20] {
            let s = seen(&streamed(cut, piece, 1 << 20));
            assert_eq!(s.0, w.0, "the same records before the damage");
            assert_eq!(s.3.len(), 1, "{:?}", s.3);
            assert!(s.3[0].contains("ends early"), "{:?}", s.3);
        }
        // Not a log, and nothing at all.
        same_both_ways(b"hello, world\n");
        same_both_ways(b"   \n\t\n");
        // Invalid UTF-8 inside a record.
        let mut bad = json!({"Records": events(3)}).to_string().into_bytes();
        let at = bad.windows(2).position(|w| w == b"ua").unwrap();
        bad[at] = 0xff;
        same_both_ways(&bad);
    }

    #[test]
    fn a_record_longer_than_the_limit_is_skipped_and_the_rest_is_read() {
        let mut records = events(6);
        records[2]["userAgent"] = json!("A".repeat(10_000));
        let text = json!({"Records": records}).to_string();
        let b = seen(&streamed(text.as_bytes(), 64, 4096));
        assert_eq!(b.0, ["e0", "e1", "e3", "e4", "e5"]);
        assert_eq!(
            b.1.iter().map(|p| p.0).collect::<Vec<_>>(),
            [0, 1, 3, 4, 5],
            "indices kept"
        );
        assert_eq!(b.3.len(), 1);
        assert!(
            b.3[0].contains("record 2 is longer than the 4096-byte limit"),
            "{:?}",
            b.3
        );
        // The same for a line of NDJSON.
        let nd: String = records.iter().map(|r| r.to_string() + "\n").collect();
        let b = seen(&streamed(nd.as_bytes(), 64, 4096));
        assert_eq!(b.0, ["e0", "e1", "e3", "e4", "e5"]);
        assert!(
            b.3[0].contains("line 3: longer than the 4096-byte limit"),
            "{:?}",
            b.3
        );
    }
}
