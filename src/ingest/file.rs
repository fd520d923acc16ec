//! One input's bytes to documents: the shape of a file (one document, a
//! bare array, line-delimited records or JWTs, concatenated documents) is
//! told from its first bytes, and each document goes to the
//! [`dispatch`](super::dispatch), which reads its records. A large input
//! arrives as pieces from [`stream`], each read as a whole
//! file of the same shape would be. Invalid UTF-8 is replaced and reported
//! (once the file turns out to be a log); a file that is no log is skipped
//! or an error, by how it was named.

use std::path::Path;

use rayon::prelude::*;
use serde::de::{DeserializeSeed, IgnoredAny};
use serde_json::value::RawValue;

use super::json::stream;
use super::json::{ArrayKind, ArraySeed, Obj};
use super::jwt::looks_like_jwt;
use super::source::Parser;
use super::{max_file_bytes, read, Batch, IngestOptions};
use crate::error::{InputError, Location};
use crate::model::SkippedFile;

/// What one file is being read as, for the rows it produces.
pub struct FileCtx<'o> {
    pub file: u32,
    pub display: &'o str,
    /// Named on the command line rather than found in a directory.
    pub explicit: bool,
    pub opts: &'o IngestOptions,
}

/// Extensions of files that are documentation or configuration, skipped
/// (with a note) when a directory walk meets them and they hold no log.
const NON_LOG_EXTENSIONS: &[&str] = &[
    "md", "markdown", "toml", "rs", "py", "sh", "yml", "yaml", "txt", "html", "css", "csv", "cfg",
    "ini", "lock",
];

/// Chunk size for parsing one line-delimited file in parallel.
const LINE_CHUNK_BYTES: usize = 4 << 20;

pub(super) fn parse_opened(
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
pub(super) const STREAMED_KEYS: &[&str] =
    &["Records", "Events", "QueryResultRows", "records", "value"];

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
        mut head,
        mut reader,
        gzip,
    } = streamed;
    let max = max_file_bytes(opts);
    // Enough of the start to tell a credential report by its header (an
    // error here is met again, and reported, by the framer).
    use std::io::Read as _;
    while head.len() < 64 {
        let mut more = [0u8; 64];
        match reader.read(&mut more) {
            Ok(0) => break,
            Ok(n) => head.extend_from_slice(&more[..n]),
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(_) => break,
        }
    }
    // A credential report has no records to stream: it is read whole, so
    // only as far as any file is read whole (IAM's 5,000 users per
    // account make a report of about 1.3 MB).
    let lead = head.strip_prefix("\u{feff}".as_bytes()).unwrap_or(&head);
    if super::iam_keys::is_credential_report(&String::from_utf8_lossy(
        &lead[..lead.len().min(super::iam_keys::REPORT_HEADER.len())],
    )) {
        read_report_streamed(ctx, head, &mut *reader, gzip, max, &mut batch);
        return batch;
    }
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

/// Reads a large credential report whole, refusing it past `max` bytes.
fn read_report_streamed(
    ctx: &FileCtx<'_>,
    mut head: Vec<u8>,
    reader: &mut dyn std::io::Read,
    gzip: bool,
    max: u64,
    batch: &mut Batch,
) {
    use std::io::Read;
    // What is read whole is read whole only this far, whatever it is.
    let cap = max.min(super::read::WHOLE_LIMIT);
    let limit = cap.saturating_sub(head.len() as u64).saturating_add(1);
    if let Err(e) = reader.take(limit).read_to_end(&mut head) {
        let what = if gzip { "decompressing" } else { "reading" };
        batch.errors.push(InputError::file(
            ctx.display,
            format!("{what} the credential report: {e}"),
        ));
        return;
    }
    if head.len() as u64 > cap {
        let why = if cap < super::read::WHOLE_LIMIT {
            format!("larger than the {max}-byte limit (--max-file-bytes); not read")
        } else {
            format!(
                "a credential report larger than {} MiB (IAM allows 5,000 users per account, a report of about 1.3 MB); not read",
                cap >> 20
            )
        };
        batch.errors.push(InputError::file(ctx.display, why));
        return;
    }
    match std::str::from_utf8(&head) {
        Ok(text) => {
            let body = text.trim_start_matches('\u{feff}');
            super::iam_keys::read_report_csv(body, 1, ctx, batch);
        }
        Err(e) => batch.errors.push(InputError::file(
            ctx.display,
            format!(
                "the credential report is not UTF-8 text (byte {})",
                e.valid_up_to()
            ),
        )),
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
        _ if super::iam_keys::is_credential_report(body) => {
            super::iam_keys::read_report_csv(body, lead_lines + 1, ctx, batch);
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
    use crate::ingest::read_bytes;
    use serde_json::{json, Value};

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

    /// A credential report too large to read whole is still read, as the
    /// whole-file reader reads a small one (and not skipped as "not a log").
    #[test]
    fn a_streamed_credential_report_reads_as_a_whole_one() {
        let mut text = String::from("\u{feff}user,arn,user_creation_time,password_enabled,password_last_used,password_last_changed,password_next_rotation,mfa_active,access_key_1_active,access_key_1_last_rotated,access_key_1_last_used_date,access_key_1_last_used_region,access_key_1_last_used_service,access_key_2_active,access_key_2_last_rotated,access_key_2_last_used_date,access_key_2_last_used_region,access_key_2_last_used_service,cert_1_active,cert_1_last_rotated,cert_2_active,cert_2_last_rotated\r\n");
        for i in 0..50 {
            text.push_str(&format!("u{i},arn:aws:iam::111111111111:user/u{i},2020-01-01T00:00:00+00:00,false,N/A,N/A,N/A,false,true,2024-01-01T00:00:00+00:00,N/A,N/A,N/A,false,N/A,N/A,N/A,N/A,false,N/A,false,N/A\r\n"));
        }
        let w = whole(text.as_bytes());
        assert_eq!(w.keys.records.len(), 50);
        for piece in [64, 4096] {
            let s = streamed(text.as_bytes(), piece, 1 << 20);
            assert!(s.errors.is_empty(), "{:?}", s.errors);
            assert!(s.skipped_files.is_empty());
            assert_eq!(s.keys.records, w.keys.records, "pieces of {piece} bytes");
        }
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
