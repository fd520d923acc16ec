//! The original record behind an event, for the dashboard's raw view:
//! re-read from its file by position (record index, line), pretty-printed,
//! with secrets removed. A large file is streamed up to the record, never
//! held whole. Nothing else in rolecall reads a record twice.

use std::path::Path;

use serde_json::Value;

use super::file::STREAMED_KEYS;
use super::json::stream;
use super::{read, remote};

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
