//! The dispatch: which reader takes an object. Containers first (record
//! arrays already streamed, digest files, `records`/`value` wrappers,
//! events embedded as strings), then [`SOURCES`], a table of one
//! [`Source`] per input, tried in order: the first whose `sniff` fits and
//! whose `read` takes the object reads it. Adding a source is one file
//! with its `Source` and one row here.
//!
//! Also here: one line of a line-delimited file, one whole document (the
//! scanner first, serde_json when it gives up, so error messages stay
//! serde_json's), and the array sink that hands each streamed element
//! back to the dispatch.

use serde::de::DeserializeSeed;
use serde_json::{Map, Value};

use super::cloudtrail::is_cloudtrail;
use super::json::scanner;
use super::json::{self, as_str, ArrayKind, ArraySeed, ArraySink, DocumentSeed, Key, Obj, Raw};
use super::jwt::{self, looks_like_jwt};
use super::source::{Parser, Read, Record, Source};
use super::{azure, ci_ranges, claims, cloudtrail, gcp, iam_keys, jobs, remote, trust, vault};
use crate::error::Location;
use crate::model::SkippedFile;

/// Every input rolecall reads from an object, in the order they are tried.
/// Order matters where shapes overlap: CloudTrail before the sources read
/// from whole maps, the wrappers of other records before the CI inputs,
/// and a key set last.
pub const SOURCES: &[Source] = &[
    cloudtrail::SOURCE,
    gcp::SOURCE,
    vault::SOURCE,
    azure::SIGN_INS,
    azure::ACTIVITY,
    azure::CREDENTIALS,
    RECORD_WRAPPERS,
    EMBEDDED_EVENTS,
    jobs::SOURCE,
    claims::SOURCE,
    trust::SOURCE,
    iam_keys::REPORT_JSON,
    iam_keys::ACCESS_KEY_LIST,
    iam_keys::ACCESS_KEY_LAST_USED,
    ci_ranges::GITHUB_META,
    jwt::KEY_SETS,
];

/// Azure's `{"records":[...]}` and Graph's `{"value":[...]}`: every
/// element is a document of its own.
const RECORD_WRAPPERS: Source = Source {
    name: "record wrapper",
    sniff: |obj| {
        [Key::LowerRecords, Key::Value]
            .iter()
            .any(|&k| obj.get(k).is_some_and(|r| r.get().starts_with('[')))
    },
    read: |p, rec| {
        for key in [Key::LowerRecords, Key::Value] {
            if let Some(raw) = rec.obj.get(key).filter(|r| r.get().starts_with('[')) {
                let mut scratch = Obj::default();
                let mut de = serde_json::Deserializer::from_str(raw.get());
                let result = ArraySeed {
                    array: ArrayKind::Bare,
                    rows: false,
                    sink: &mut *p,
                    scratch: &mut scratch,
                }
                .deserialize(&mut de);
                if let Err(e) = result {
                    p.error(
                        rec.at.clone(),
                        format!("`{}` is not readable: {e}", json::key_name(key)),
                    );
                }
                break;
            }
        }
        Read::Taken
    },
};

/// A CloudTrail event stored as a JSON string (LookupEvents'
/// `CloudTrailEvent`, Lake's `eventJson`).
const EMBEDDED_EVENTS: Source = Source {
    name: "embedded CloudTrail event",
    sniff: |obj| obj.get(Key::CloudTrailEvent).is_some() || obj.get(Key::EventJson).is_some(),
    read: |p, rec| {
        for key in [Key::CloudTrailEvent, Key::EventJson] {
            if let Some(raw) = rec.obj.get(key) {
                p.embedded_event(raw, key, rec.at.clone(), rec.index);
                break;
            }
        }
        Read::Taken
    },
};

impl Parser<'_, '_> {
    /// One line of a line-delimited file.
    pub fn line(&mut self, raw_line: &str, number: u64) {
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
            if scanner::line_document(t, &mut obj, Some(&cloudtrail::IDENTITY)).is_ok() {
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
    pub fn scanned_document(&mut self, text: &str, at: Location) -> bool {
        let mut obj = Obj::default();
        let mut scratch = Obj::default();
        if scanner::document(
            text,
            &mut obj,
            &mut scratch,
            self,
            Some(&cloudtrail::IDENTITY),
        )
        .is_err()
        {
            return false;
        }
        self.object(&obj, at, 0);
        true
    }

    /// Reads one top-level JSON document and whatever it holds.
    pub fn document<'de>(
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
            Ok(Ok(())) if is_cloudtrail(&inner) => cloudtrail::read_event(self, &inner, at, record),
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
            Ok(Ok(())) if is_cloudtrail(&inner) => cloudtrail::read_event(self, &inner, at, index),
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
                claims::push(self, &decoded.claims, Some(decoded.verified), at, 0);
            }
            Err(reason) => self.error(at, format!("unreadable JWT: {reason}")),
        }
    }

    /// Classifies one object and reads it. `record` is its index when it
    /// came from an array.
    pub fn object(&mut self, obj: &Obj<'_>, at: Location, record: u64) {
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
        let mut rec = Record::new(obj, at, record);
        for source in SOURCES {
            if (source.sniff)(obj) && (source.read)(self, &mut rec) == Read::Taken {
                return;
            }
        }
        let at = rec.at;
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
            ArrayKind::Records if is_cloudtrail(obj) => {
                cloudtrail::read_event(self, obj, at, index)
            }
            ArrayKind::Records => {
                self.out.records += 1;
                self.error(
                    at,
                    format!("not a CloudTrail event (keys: {})", obj.key_preview()),
                );
            }
            ArrayKind::Events => match obj.get(Key::CloudTrailEvent) {
                Some(raw) => self.embedded_event(raw, Key::CloudTrailEvent, at, index),
                None if is_cloudtrail(obj) => cloudtrail::read_event(self, obj, at, index),
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
