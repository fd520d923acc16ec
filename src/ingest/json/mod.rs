//! Borrowed JSON access for the record path.
//!
//! Records are read in one pass: an object's top-level keys are mapped to
//! known slots ([`Key`]) as they stream by, values stay as borrowed [`Raw`]
//! slices of valid JSON, and nothing is allocated for fields no rule reads.
//! Typed access ([`as_str`], [`opt_i64`], ...) happens afterwards and fails
//! per field with a reason, so a wrong type costs one record, not a file.
//! Values that exports (Athena, CloudTrail Lake) write as JSON inside a
//! string are unwrapped by [`object_text`].
//!
//! The layer knows no source. [`Key`] is the table of keys the dispatch
//! looks at and the readers want, one slot each; a reader that wants a
//! nested object read while the record is scanned (CloudTrail's
//! `userIdentity`) hands the [`scanner`] a [`scanner::NestedReader`] for
//! it, whose slots come back in [`Obj::nested`]. [`scanner`] checks and
//! walks JSON text in one pass; [`stream`] cuts an input too large to read
//! whole into pieces of the same shape.

pub mod scanner;
pub mod stream;

use std::borrow::Cow;
use std::fmt;

use serde::de::{self, DeserializeSeed, IgnoredAny, MapAccess, SeqAccess, Visitor};
use serde::Deserializer;
use serde_json::value::RawValue;

/// The text of one JSON value, borrowed from the input and known to be
/// valid JSON: it came out of serde_json or out of the validating
/// [`scanner`]. Typed access ([`as_str`], [`opt_i64`], ...)
/// relies on that.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Raw<'de>(&'de str);

impl<'de> Raw<'de> {
    /// The JSON text.
    pub fn get(self) -> &'de str {
        self.0
    }

    /// Wraps text that serde_json has already parsed as one JSON value.
    pub fn from_parsed(raw: &'de RawValue) -> Raw<'de> {
        Raw(raw.get())
    }

    /// Wraps text the validating scanner has walked as one JSON value.
    pub(super) fn scanned(text: &'de str) -> Raw<'de> {
        Raw(text)
    }

    /// Parses `text` as one JSON value and wraps it; for tests and for
    /// text built at run time.
    pub fn parse(text: &'de str) -> Result<Raw<'de>, serde_json::Error> {
        serde_json::from_str::<&RawValue>(text).map(Raw::from_parsed)
    }

    pub fn is_null(self) -> bool {
        self.0 == "null"
    }
}

/// Top-level keys the ingest path looks at. Anything else is skipped.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u8)]
pub enum Key {
    EventVersion,
    UserIdentity,
    EventTime,
    EventSource,
    EventName,
    AwsRegion,
    SourceIp,
    UserAgent,
    ErrorCode,
    ErrorMessage,
    RequestParameters,
    ResponseElements,
    EventId,
    ReadOnly,
    RecipientAccountId,
    EventType,
    EventCategory,
    InsightDetails,
    Records,
    Events,
    QueryResultRows,
    CloudTrailEvent,
    EventJson,
    Iss,
    Sub,
    WorkflowJob,
    DigestStartTime,
    /// GCP LogEntry.
    ProtoPayload,
    /// Azure diagnostic export wrapper (`{"records":[...]}`).
    LowerRecords,
    /// Graph list wrapper (`{"value":[...]}`).
    Value,
    Category,
    TimeGenerated,
    OperationNameValue,
    /// Vault audit entry kind.
    Type,
    Request,
    Issuer,
    Subject,
    Audiences,
    Keys,
}

pub const KEY_COUNT: usize = Key::Keys as usize + 1;

/// Maps a JSON key to a slot. CloudTrail spells keys in camelCase; Athena
/// and some exports lower-case them, LookupEvents capitalizes its own.
pub fn key_of(k: &str) -> Option<Key> {
    let key = match k {
        "eventVersion" => Key::EventVersion,
        "userIdentity" => Key::UserIdentity,
        "eventTime" => Key::EventTime,
        "eventSource" => Key::EventSource,
        "eventName" => Key::EventName,
        "awsRegion" => Key::AwsRegion,
        "sourceIPAddress" => Key::SourceIp,
        "userAgent" => Key::UserAgent,
        "errorCode" => Key::ErrorCode,
        "errorMessage" => Key::ErrorMessage,
        "requestParameters" => Key::RequestParameters,
        "responseElements" => Key::ResponseElements,
        "eventID" => Key::EventId,
        "readOnly" => Key::ReadOnly,
        "recipientAccountId" => Key::RecipientAccountId,
        "eventType" => Key::EventType,
        "eventCategory" => Key::EventCategory,
        "insightDetails" => Key::InsightDetails,
        "Records" => Key::Records,
        "Events" => Key::Events,
        "QueryResultRows" => Key::QueryResultRows,
        "CloudTrailEvent" => Key::CloudTrailEvent,
        "eventJson" => Key::EventJson,
        "iss" => Key::Iss,
        "sub" => Key::Sub,
        "workflow_job" => Key::WorkflowJob,
        "digestStartTime" => Key::DigestStartTime,
        "protoPayload" => Key::ProtoPayload,
        "records" => Key::LowerRecords,
        "value" => Key::Value,
        "category" => Key::Category,
        "TimeGenerated" => Key::TimeGenerated,
        "OperationNameValue" => Key::OperationNameValue,
        "type" => Key::Type,
        "request" => Key::Request,
        "issuer" => Key::Issuer,
        "subject" => Key::Subject,
        "audiences" => Key::Audiences,
        "keys" => Key::Keys,
        _ => return key_of_folded(k),
    };
    Some(key)
}

#[cold]
fn key_of_folded(k: &str) -> Option<Key> {
    // Lower-case spellings of the camelCase keys.
    {
        Some(match k {
            "eventversion" => Key::EventVersion,
            "useridentity" => Key::UserIdentity,
            "eventtime" => Key::EventTime,
            "eventsource" => Key::EventSource,
            "eventname" => Key::EventName,
            "awsregion" => Key::AwsRegion,
            "sourceipaddress" => Key::SourceIp,
            "useragent" => Key::UserAgent,
            "errorcode" => Key::ErrorCode,
            "errormessage" => Key::ErrorMessage,
            "requestparameters" => Key::RequestParameters,
            "responseelements" => Key::ResponseElements,
            "eventid" => Key::EventId,
            "readonly" => Key::ReadOnly,
            "recipientaccountid" => Key::RecipientAccountId,
            "eventtype" => Key::EventType,
            "eventcategory" => Key::EventCategory,
            "insightdetails" => Key::InsightDetails,
            "eventjson" => Key::EventJson,
            _ => return None,
        })
    }
}

/// The name CloudTrail gives a slot, for error messages.
pub fn key_name(k: Key) -> &'static str {
    match k {
        Key::EventVersion => "eventVersion",
        Key::UserIdentity => "userIdentity",
        Key::EventTime => "eventTime",
        Key::EventSource => "eventSource",
        Key::EventName => "eventName",
        Key::AwsRegion => "awsRegion",
        Key::SourceIp => "sourceIPAddress",
        Key::UserAgent => "userAgent",
        Key::ErrorCode => "errorCode",
        Key::ErrorMessage => "errorMessage",
        Key::RequestParameters => "requestParameters",
        Key::ResponseElements => "responseElements",
        Key::EventId => "eventID",
        Key::ReadOnly => "readOnly",
        Key::RecipientAccountId => "recipientAccountId",
        Key::EventType => "eventType",
        Key::EventCategory => "eventCategory",
        Key::InsightDetails => "insightDetails",
        Key::Records => "Records",
        Key::Events => "Events",
        Key::QueryResultRows => "QueryResultRows",
        Key::CloudTrailEvent => "CloudTrailEvent",
        Key::EventJson => "eventJson",
        Key::Iss => "iss",
        Key::Sub => "sub",
        Key::WorkflowJob => "workflow_job",
        Key::DigestStartTime => "digestStartTime",
        Key::ProtoPayload => "protoPayload",
        Key::LowerRecords => "records",
        Key::Value => "value",
        Key::Category => "category",
        Key::TimeGenerated => "TimeGenerated",
        Key::OperationNameValue => "OperationNameValue",
        Key::Type => "type",
        Key::Request => "request",
        Key::Issuer => "issuer",
        Key::Subject => "subject",
        Key::Audiences => "audiences",
        Key::Keys => "keys",
    }
}

/// One JSON object's top level, borrowed from the input.
pub struct Obj<'de> {
    /// Every key in input order, known or not.
    pub pairs: Vec<(Cow<'de, str>, Raw<'de>)>,
    slots: [Option<Raw<'de>>; KEY_COUNT],
    /// A known key that appeared twice (the last value wins, as in
    /// JavaScript and jq).
    pub duplicate: Option<Key>,
    /// The fields of the nested object a [`scanner::NestedReader`] read
    /// while the record was scanned, when one did.
    pub nested: Option<Nested<'de>>,
    /// The scanner read the whole object and met no escape and no number
    /// that may not fit an `f64`: every member's text reads the same as
    /// text, through the scanner or as a serde_json value.
    pub plain: bool,
}

impl Default for Obj<'_> {
    fn default() -> Self {
        Obj {
            pairs: Vec::new(),
            slots: [None; KEY_COUNT],
            duplicate: None,
            nested: None,
            plain: false,
        }
    }
}

impl<'de> Obj<'de> {
    pub fn clear(&mut self) {
        self.pairs.clear();
        self.slots = [None; KEY_COUNT];
        self.duplicate = None;
        self.nested = None;
        self.plain = false;
    }

    /// The value of a known key; JSON `null` counts as absent.
    pub fn get(&self, k: Key) -> Option<Raw<'de>> {
        self.slots[k as usize].filter(|v| !v.is_null())
    }

    pub fn has(&self, k: Key) -> bool {
        self.slots[k as usize].is_some()
    }

    /// Whether any key (known or not) is spelled `name`.
    pub fn has_named(&self, name: &str) -> bool {
        self.pairs.iter().any(|(k, _)| k == name)
    }

    pub(super) fn put(&mut self, key: Cow<'de, str>, value: Raw<'de>) {
        let known = key_of(&key);
        self.put_keyed(key, known, value);
    }

    /// [`put`](Self::put) for a caller that has already looked the key up.
    pub(super) fn put_keyed(&mut self, key: Cow<'de, str>, known: Option<Key>, value: Raw<'de>) {
        if let Some(k) = known {
            let slot = &mut self.slots[k as usize];
            if slot.is_some() && self.duplicate.is_none() {
                self.duplicate = Some(k);
            }
            *slot = Some(value);
        }
        self.pairs.push((key, value));
    }

    /// Remembers that a streamed array was there (its elements have been
    /// handed to the sink already).
    pub(super) fn mark_streamed(&mut self, k: Key) {
        self.slots[k as usize] = Some(Raw("[]"));
    }

    /// The first few keys, to say what an unrecognized object looked like.
    pub fn key_preview(&self) -> String {
        let mut keys: Vec<&str> = self.pairs.iter().take(6).map(|(k, _)| k.as_ref()).collect();
        if self.pairs.len() > 6 {
            keys.push("...");
        }
        keys.join(", ")
    }
}

/// How many slots a [`Nested`] holds.
pub const NESTED_SLOTS: usize = 16;

/// Fields of one nested object (and the objects inside it), read while its
/// record was scanned: which slot holds what is the reader's to say.
#[derive(Debug, Clone, Copy, Default)]
pub struct Nested<'de>(pub [Option<Raw<'de>>; NESTED_SLOTS]);

/// Deserializes a map key, borrowing it when it has no escapes.
pub(super) struct KeySeed;

impl<'de> DeserializeSeed<'de> for KeySeed {
    type Value = Cow<'de, str>;

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Cow<'de, str>;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a string key")
            }
            fn visit_borrowed_str<E: de::Error>(self, v: &'de str) -> Result<Self::Value, E> {
                Ok(Cow::Borrowed(v))
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
                Ok(Cow::Owned(v.to_string()))
            }
            fn visit_string<E: de::Error>(self, v: String) -> Result<Self::Value, E> {
                Ok(Cow::Owned(v))
            }
        }
        d.deserialize_str(V)
    }
}

/// Which array an element came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ArrayKind {
    /// `{"Records":[...]}`, as CloudTrail delivers to S3.
    Records,
    /// `{"Events":[{"CloudTrailEvent":"..."}]}`, from LookupEvents.
    Events,
    /// A bare top-level array of documents.
    Bare,
}

/// Receives the elements of a streamed array (`Records`, `Events`,
/// `QueryResultRows`, or a bare top-level array) one at a time.
pub trait ArraySink<'de> {
    /// Called for each element with its 0-based index. `obj` holds the
    /// element's keys when it is an object; the error says what it was
    /// instead.
    fn element(&mut self, array: ArrayKind, index: u64, obj: Result<&Obj<'de>, &'static str>);
    /// Called for each element of a `QueryResultRows` row list.
    fn row(&mut self, index: u64, row: Raw<'de>);
}

/// Reads one element of a streamed array into the sink's scratch object.
struct ElementSeed<'a, 'de> {
    obj: &'a mut Obj<'de>,
}

impl<'de> DeserializeSeed<'de> for ElementSeed<'_, 'de> {
    type Value = Result<(), &'static str>;

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
        d.deserialize_any(ElementVisitor { obj: self.obj })
    }
}

struct ElementVisitor<'a, 'de> {
    obj: &'a mut Obj<'de>,
}

impl<'de> Visitor<'de> for ElementVisitor<'_, 'de> {
    type Value = Result<(), &'static str>;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a JSON object")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        self.obj.clear();
        while let Some(key) = map.next_key_seed(KeySeed)? {
            let value: &'de RawValue = map.next_value()?;
            self.obj.put(key, Raw::from_parsed(value));
        }
        Ok(Ok(()))
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
        while seq.next_element::<IgnoredAny>()?.is_some() {}
        Ok(Err("an array"))
    }
    fn visit_bool<E: de::Error>(self, _: bool) -> Result<Self::Value, E> {
        Ok(Err("a boolean"))
    }
    fn visit_i64<E: de::Error>(self, _: i64) -> Result<Self::Value, E> {
        Ok(Err("a number"))
    }
    fn visit_u64<E: de::Error>(self, _: u64) -> Result<Self::Value, E> {
        Ok(Err("a number"))
    }
    fn visit_f64<E: de::Error>(self, _: f64) -> Result<Self::Value, E> {
        Ok(Err("a number"))
    }
    fn visit_str<E: de::Error>(self, _: &str) -> Result<Self::Value, E> {
        Ok(Err("a string"))
    }
    fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
        Ok(Err("null"))
    }
}

/// Streams a top-level array into the sink, element by element.
pub struct ArraySeed<'a, 'de, S: ArraySink<'de>> {
    pub array: ArrayKind,
    /// Elements are `QueryResultRows` rows, handed over raw.
    pub rows: bool,
    pub sink: &'a mut S,
    pub scratch: &'a mut Obj<'de>,
}

impl<'de, S: ArraySink<'de>> DeserializeSeed<'de> for ArraySeed<'_, 'de, S> {
    type Value = ();

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_seq(self)
    }
}

impl<'de, S: ArraySink<'de>> Visitor<'de> for ArraySeed<'_, 'de, S> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        match self.array {
            ArrayKind::Records if self.rows => f.write_str("`QueryResultRows` to be an array"),
            ArrayKind::Records => f.write_str("`Records` to be an array"),
            ArrayKind::Events => f.write_str("`Events` to be an array"),
            ArrayKind::Bare => f.write_str("an array"),
        }
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        let mut index = 0u64;
        if self.rows {
            while let Some(row) = seq.next_element::<&'de RawValue>()? {
                self.sink.row(index, Raw::from_parsed(row));
                index += 1;
            }
            return Ok(());
        }
        loop {
            let seed = ElementSeed {
                obj: &mut *self.scratch,
            };
            match seq.next_element_seed(seed)? {
                None => return Ok(()),
                Some(Ok(())) => self.sink.element(self.array, index, Ok(&*self.scratch)),
                Some(Err(kind)) => self.sink.element(self.array, index, Err(kind)),
            }
            index += 1;
        }
    }
}

/// Reads one top-level JSON object into `obj`, streaming any `Records`,
/// `Events` or `QueryResultRows` array straight into `sink` instead of
/// keeping it. Returns what the value was when it is not an object.
pub struct DocumentSeed<'a, 'de, S: ArraySink<'de>> {
    pub obj: &'a mut Obj<'de>,
    pub scratch: &'a mut Obj<'de>,
    pub sink: &'a mut S,
}

impl<'de, S: ArraySink<'de>> DeserializeSeed<'de> for DocumentSeed<'_, 'de, S> {
    type Value = Result<(), &'static str>;

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de, S: ArraySink<'de>> Visitor<'de> for DocumentSeed<'_, 'de, S> {
    type Value = Result<(), &'static str>;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a JSON object")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        self.obj.clear();
        while let Some(key) = map.next_key_seed(KeySeed)? {
            match key_of(&key) {
                Some(k @ (Key::Records | Key::Events | Key::QueryResultRows)) => {
                    map.next_value_seed(ArraySeed {
                        array: if k == Key::Events {
                            ArrayKind::Events
                        } else {
                            ArrayKind::Records
                        },
                        rows: k == Key::QueryResultRows,
                        sink: &mut *self.sink,
                        scratch: &mut *self.scratch,
                    })?;
                    // Remember that the array was there (its elements are
                    // already handled).
                    self.obj.mark_streamed(k);
                }
                _ => {
                    let value: &'de RawValue = map.next_value()?;
                    self.obj.put(key, Raw::from_parsed(value));
                }
            }
        }
        Ok(Ok(()))
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
        while seq.next_element::<IgnoredAny>()?.is_some() {}
        Ok(Err("an array"))
    }
    fn visit_bool<E: de::Error>(self, _: bool) -> Result<Self::Value, E> {
        Ok(Err("a boolean"))
    }
    fn visit_i64<E: de::Error>(self, _: i64) -> Result<Self::Value, E> {
        Ok(Err("a number"))
    }
    fn visit_u64<E: de::Error>(self, _: u64) -> Result<Self::Value, E> {
        Ok(Err("a number"))
    }
    fn visit_f64<E: de::Error>(self, _: f64) -> Result<Self::Value, E> {
        Ok(Err("a number"))
    }
    fn visit_str<E: de::Error>(self, _: &str) -> Result<Self::Value, E> {
        Ok(Err("a string"))
    }
    fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
        Ok(Err("null"))
    }
}

/// What kind of JSON value a raw slice holds, for error messages.
pub fn kind_of(raw: Raw<'_>) -> &'static str {
    match raw.get().as_bytes().first() {
        Some(b'"') => "a string",
        Some(b'{') => "an object",
        Some(b'[') => "an array",
        Some(b't' | b'f') => "a boolean",
        Some(b'n') => "null",
        _ => "a number",
    }
}

/// A field with the wrong type or an unusable value. Boxed: every field
/// read returns a `Result` with it, and a record reads a few dozen, so the
/// error path's size is copied on the path that succeeds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldError(Box<FieldErrorParts>);

#[derive(Debug, Clone, PartialEq, Eq)]
struct FieldErrorParts {
    field: String,
    reason: String,
}

impl fmt::Display for FieldError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "`{}` {}", self.0.field, self.0.reason)
    }
}

impl FieldError {
    pub fn new(field: impl Into<String>, reason: impl Into<String>) -> FieldError {
        FieldError(Box::new(FieldErrorParts {
            field: field.into(),
            reason: reason.into(),
        }))
    }

    pub fn wrong_type(field: &str, expected: &str, raw: Raw<'_>) -> FieldError {
        FieldError::new(
            field,
            format!("should be {expected}, found {}", kind_of(raw)),
        )
    }

    /// Prefixes the field path with its parent (`userIdentity.arn`).
    pub fn within(mut self, parent: &str) -> FieldError {
        self.0.field = format!("{parent}.{}", self.0.field);
        self
    }
}

/// Whether `b` holds a backslash. Record fields are mostly short (ids,
/// regions, actions, addresses): eight bytes a step, inline, beats a call
/// into `memchr` there (measured: the call was 3% of a scan).
#[inline]
pub(super) fn has_backslash(b: &[u8]) -> bool {
    const ONES: u64 = u64::from_ne_bytes([0x01; 8]);
    const HIGHS: u64 = u64::from_ne_bytes([0x80; 8]);
    const BACKSLASHES: u64 = u64::from_ne_bytes([b'\\'; 8]);
    let mut chunks = b.chunks_exact(8);
    for chunk in &mut chunks {
        let mut word = [0u8; 8];
        word.copy_from_slice(chunk);
        let x = u64::from_ne_bytes(word) ^ BACKSLASHES;
        // A zero byte in `x` (a backslash in the chunk) sets its high bit
        // here; no other byte can.
        if x.wrapping_sub(ONES) & !x & HIGHS != 0 {
            return true;
        }
    }
    chunks.remainder().contains(&b'\\')
}

/// A string value, borrowed when it has no escapes.
pub fn as_str<'de>(raw: Raw<'de>, field: &str) -> Result<Cow<'de, str>, FieldError> {
    let s = raw.get();
    let b = s.as_bytes();
    if b.first() != Some(&b'"') {
        return Err(FieldError::wrong_type(field, "a string", raw));
    }
    let inner = &s[1..s.len() - 1];
    if !has_backslash(inner.as_bytes()) {
        return Ok(Cow::Borrowed(inner));
    }
    serde_json::from_str::<String>(s)
        .map(Cow::Owned)
        .map_err(|e| FieldError::new(field, format!("is not a valid string: {e}")))
}

/// An optional string: absent and `null` give `None`.
pub fn opt_str<'de>(
    raw: Option<Raw<'de>>,
    field: &str,
) -> Result<Option<Cow<'de, str>>, FieldError> {
    match raw {
        None => Ok(None),
        Some(r) if r.is_null() => Ok(None),
        Some(r) => as_str(r, field).map(Some),
    }
}

/// An optional string that treats `""` as absent (CloudTrail writes empty
/// access key ids and session tokens).
pub fn opt_nonempty<'de>(
    raw: Option<Raw<'de>>,
    field: &str,
) -> Result<Option<Cow<'de, str>>, FieldError> {
    Ok(opt_str(raw, field)?.filter(|s| !s.is_empty()))
}

/// A boolean, also accepted as the strings `"true"`/`"false"` (Athena).
pub fn opt_bool(raw: Option<Raw<'_>>, field: &str) -> Result<Option<bool>, FieldError> {
    let Some(raw) = raw else { return Ok(None) };
    match raw.get() {
        "true" | "\"true\"" | "\"TRUE\"" | "\"True\"" => Ok(Some(true)),
        "false" | "\"false\"" | "\"FALSE\"" | "\"False\"" => Ok(Some(false)),
        "null" => Ok(None),
        _ => Err(FieldError::wrong_type(field, "a boolean", raw)),
    }
}

/// An integer, also accepted as a numeric string. Fractions and values
/// beyond i64 are errors, not truncations.
pub fn opt_i64(raw: Option<Raw<'_>>, field: &str) -> Result<Option<i64>, FieldError> {
    let Some(raw) = raw else { return Ok(None) };
    let text = raw.get();
    if text == "null" {
        return Ok(None);
    }
    let digits = text.trim_matches('"');
    digits.parse::<i64>().map(Some).map_err(|_| {
        if text.starts_with('"') || text.as_bytes()[0].is_ascii_digit() || text.starts_with('-') {
            FieldError::new(
                field,
                format!("is not a whole number in range: {}", clip(text, 40)),
            )
        } else {
            FieldError::wrong_type(field, "a number", raw)
        }
    })
}

/// A number of seconds (JWT times), integer or fraction, or a numeric
/// string.
pub fn opt_f64(raw: Option<Raw<'_>>, field: &str) -> Result<Option<f64>, FieldError> {
    let Some(raw) = raw else { return Ok(None) };
    let text = raw.get();
    if text == "null" {
        return Ok(None);
    }
    text.trim_matches('"')
        .parse::<f64>()
        .ok()
        .filter(|v| v.is_finite())
        .map(Some)
        .ok_or_else(|| FieldError::wrong_type(field, "a number", raw))
}

/// The JSON text of an object-valued field. Exports that store nested
/// objects as JSON strings (Athena, CloudTrail Lake) are unwrapped.
pub fn object_text<'de>(raw: Raw<'de>, field: &str) -> Result<Cow<'de, str>, FieldError> {
    let text = raw.get();
    match text.as_bytes().first() {
        Some(b'{') => Ok(Cow::Borrowed(text)),
        Some(b'"') => {
            let inner = as_str(raw, field)?;
            if inner.trim_start().starts_with('{') {
                Ok(Cow::Owned(inner.into_owned()))
            } else {
                Err(FieldError::new(
                    field,
                    "should be an object, found a string",
                ))
            }
        }
        _ => Err(FieldError::wrong_type(field, "an object", raw)),
    }
}

/// A JSON value as text: strings as they are, numbers and booleans written
/// out (run ids and build numbers are numbers for some providers). Empty
/// strings, nulls, arrays and objects are absent.
pub fn value_text(map: &serde_json::Map<String, serde_json::Value>, key: &str) -> Option<String> {
    use serde_json::Value;
    match map.get(key)? {
        Value::String(s) if s.is_empty() => None,
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        _ => None,
    }
}

/// Shortens a value for an error message, on a character boundary.
pub fn clip(s: &str, max: usize) -> String {
    if s.len() <= max {
        return s.to_string();
    }
    let mut end = max;
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}...", &s[..end])
}

#[cfg(test)]
mod tests {
    proptest::proptest! {
        #[test]
        fn has_backslash_agrees_with_a_byte_search(
            bytes in proptest::collection::vec(
                proptest::sample::select(vec![b'\\', b'a', 0u8, 0x5d, 0x5b, 0xdc, 0x80, 0xff]),
                0..40,
            )
        ) {
            proptest::prop_assert_eq!(super::has_backslash(&bytes), bytes.contains(&b'\\'));
        }
    }

    use super::*;

    fn raw(s: &str) -> Raw<'_> {
        Raw::parse(s).unwrap()
    }

    #[test]
    fn strings_borrow_without_escapes() {
        let r = raw(r#""plain""#);
        assert!(matches!(as_str(r, "f").unwrap(), Cow::Borrowed("plain")));
        let r = raw(r#""a\"b""#);
        assert_eq!(as_str(r, "f").unwrap(), "a\"b");
        let r = raw("12");
        assert_eq!(
            as_str(r, "eventTime").unwrap_err().to_string(),
            "`eventTime` should be a string, found a number"
        );
    }

    #[test]
    fn numbers_and_booleans() {
        assert_eq!(opt_i64(Some(raw("3600")), "d").unwrap(), Some(3600));
        assert_eq!(opt_i64(Some(raw("\"900\"")), "d").unwrap(), Some(900));
        assert!(opt_i64(Some(raw("99999999999999999999")), "d").is_err());
        assert!(opt_i64(Some(raw("1.5")), "d").is_err());
        assert!(opt_i64(Some(raw("{}")), "d").is_err());
        assert_eq!(opt_bool(Some(raw("\"false\"")), "b").unwrap(), Some(false));
        assert!(opt_bool(Some(raw("1")), "b").is_err());
        assert_eq!(opt_f64(Some(raw("1.5e3")), "t").unwrap(), Some(1500.0));
    }

    #[test]
    fn object_text_unwraps_json_strings() {
        let r = raw(r#""{\"a\":1}""#);
        assert_eq!(object_text(r, "x").unwrap(), r#"{"a":1}"#);
        assert!(object_text(raw("[1]"), "x").is_err());
        assert!(object_text(raw(r#""nope""#), "x").is_err());
    }

    struct Collect(Vec<(ArrayKind, u64, Result<String, &'static str>)>);
    impl<'de> ArraySink<'de> for Collect {
        fn element(&mut self, array: ArrayKind, index: u64, obj: Result<&Obj<'de>, &'static str>) {
            self.0.push((array, index, obj.map(|o| o.key_preview())));
        }
        fn row(&mut self, _: u64, _: Raw<'de>) {}
    }

    #[test]
    fn document_streams_records_and_keeps_other_keys() {
        let text = r#"{"Records":[{"eventName":"A","eventName":"B"},7,{"x":1}],"other":true}"#;
        let mut obj = Obj::default();
        let mut scratch = Obj::default();
        let mut sink = Collect(Vec::new());
        let mut de = serde_json::Deserializer::from_str(text);
        let r = DocumentSeed {
            obj: &mut obj,
            scratch: &mut scratch,
            sink: &mut sink,
        }
        .deserialize(&mut de)
        .unwrap();
        assert!(r.is_ok());
        assert!(obj.has(Key::Records));
        assert_eq!(obj.pairs.len(), 1);
        assert_eq!(sink.0.len(), 3);
        assert_eq!(sink.0[1].2, Err("a number"));
        assert_eq!(sink.0[2].2.as_deref(), Ok("x"));
    }

    #[test]
    fn duplicate_known_key_is_flagged_last_wins() {
        let text = r#"{"sourceIPAddress":"1.1.1.1","sourceIPAddress":"2.2.2.2"}"#;
        let mut obj = Obj::default();
        let mut scratch = Obj::default();
        let mut sink = Collect(Vec::new());
        let mut de = serde_json::Deserializer::from_str(text);
        DocumentSeed {
            obj: &mut obj,
            scratch: &mut scratch,
            sink: &mut sink,
        }
        .deserialize(&mut de)
        .unwrap()
        .unwrap();
        assert_eq!(obj.duplicate, Some(Key::SourceIp));
        assert_eq!(obj.get(Key::SourceIp).unwrap().get(), "\"2.2.2.2\"");
    }

    #[test]
    fn lowercase_export_keys_map() {
        assert_eq!(key_of("eventname"), Some(Key::EventName));
        assert_eq!(key_of("sourceipaddress"), Some(Key::SourceIp));
        assert_eq!(key_of("EventName"), None);
    }
}
