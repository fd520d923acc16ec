//! The record path's JSON scanner: checks the grammar and finds where each
//! value ends in one pass, without building values.
//!
//! A CloudTrail file from S3 is one `{"Records":[...]}` document of a few
//! thousand records, and most of each record (TLS details, the parameters
//! of ordinary calls, session attributes) is never read. Through serde_json
//! that skipping went through the visitor machinery value by value, and the
//! identity block was scanned again for each nested level read from it
//! (`userIdentity`, then `sessionContext`, then `sessionIssuer`): about a
//! third of a scan's CPU time. This scanner walks the same text once,
//! looks for the end of a string 16 bytes at a time, and hands out
//! [`Raw`] slices that the typed accessors in [`json`](super) read.
//! Records of one file list their keys in the same order, so a record's
//! keys (and its identity's) are first compared with those of the record
//! before, at the same place ([`Layout`]), before any search.
//!
//! It accepts a subset of what serde_json accepts: it stops ([`GiveUp`]) at
//! anything invalid and also at what it does not handle (an escaped key,
//! nesting deeper than [`MAX_DEPTH`]). A caller that gets [`GiveUp`] reads
//! the same text with serde_json, which then decides and words the error,
//! so error messages and edge cases stay serde_json's. A proptest and a
//! fuzz target hold the two to the same answers on what the scanner
//! accepts.

// Unsafe code here: the string search reads 16 bytes at a time with SSE2. Each block says why it is sound.
#![allow(unsafe_code)]

use std::borrow::Cow;

use super::{key_of, ArrayKind, ArraySink, FieldError, Key, KeySeed, Nested, Obj, Raw};

/// The scanner stopped: the text is invalid or beyond what it handles.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct GiveUp;

pub type Scan<T = ()> = Result<T, GiveUp>;

/// Nesting the scanner follows before leaving the text to serde_json
/// (whose own limit is 128).
pub const MAX_DEPTH: u32 = 100;

/// A position in a JSON text.
pub struct Scanner<'a> {
    text: &'a str,
    pos: usize,
    depth: u32,
    /// A number with an exponent, or hundreds of digits, was passed: one
    /// that may not fit an `f64` (serde_json refuses those in a `Value`).
    pub large_numbers: bool,
    /// A string with an escape was passed.
    pub escapes: bool,
}

impl<'a> Scanner<'a> {
    pub fn new(text: &'a str) -> Self {
        Scanner {
            text,
            pos: 0,
            depth: 0,
            large_numbers: false,
            escapes: false,
        }
    }

    fn bytes(&self) -> &'a [u8] {
        self.text.as_bytes()
    }

    fn peek(&self) -> Option<u8> {
        self.bytes().get(self.pos).copied()
    }

    fn skip_ws(&mut self) {
        let b = self.bytes();
        while let Some(b' ' | b'\n' | b'\r' | b'\t') = b.get(self.pos) {
            self.pos += 1;
        }
    }

    fn eat(&mut self, byte: u8) -> Scan {
        self.skip_ws();
        if self.peek() == Some(byte) {
            self.pos += 1;
            Ok(())
        } else {
            Err(GiveUp)
        }
    }

    /// Only whitespace is left.
    pub fn finish(&mut self) -> Scan {
        self.skip_ws();
        if self.pos == self.text.len() {
            Ok(())
        } else {
            Err(GiveUp)
        }
    }

    /// The first byte of the next value, after whitespace.
    fn next_byte(&mut self) -> Option<u8> {
        self.skip_ws();
        self.peek()
    }

    /// Skips one value and returns its text.
    pub fn value(&mut self) -> Scan<Raw<'a>> {
        self.skip_ws();
        let start = self.pos;
        self.skip_value()?;
        Ok(Raw::scanned(&self.text[start..self.pos]))
    }

    fn skip_value(&mut self) -> Scan {
        match self.peek() {
            Some(b'"') => self.string().map(|_| ()),
            Some(b'{') => self.object(|s, _| s.skip()),
            Some(b'[') => self.array(|s, _| s.skip()),
            Some(b't') => self.literal(b"true"),
            Some(b'f') => self.literal(b"false"),
            Some(b'n') => self.literal(b"null"),
            Some(b'-' | b'0'..=b'9') => self.number(),
            _ => Err(GiveUp),
        }
    }

    /// Skips one value.
    pub fn skip(&mut self) -> Scan {
        self.skip_ws();
        self.skip_value()
    }

    fn literal(&mut self, word: &[u8]) -> Scan {
        if self.bytes()[self.pos..].starts_with(word) {
            self.pos += word.len();
            Ok(())
        } else {
            Err(GiveUp)
        }
    }

    /// `-?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?`, as JSON has it.
    fn number(&mut self) -> Scan {
        let b = self.bytes();
        let mut i = self.pos;
        let digits = |i: &mut usize| {
            let from = *i;
            while b.get(*i).is_some_and(u8::is_ascii_digit) {
                *i += 1;
            }
            *i > from
        };
        if b.get(i) == Some(&b'-') {
            i += 1;
        }
        match b.get(i) {
            Some(b'0') => i += 1,
            Some(b'1'..=b'9') => {
                digits(&mut i);
            }
            _ => return Err(GiveUp),
        }
        if b.get(i) == Some(&b'.') {
            i += 1;
            if !digits(&mut i) {
                return Err(GiveUp);
            }
        }
        if let Some(b'e' | b'E') = b.get(i) {
            self.large_numbers = true;
            i += 1;
            if let Some(b'+' | b'-') = b.get(i) {
                i += 1;
            }
            if !digits(&mut i) {
                return Err(GiveUp);
            }
        }
        // Without an exponent, 300 digits stay below f64's largest value.
        self.large_numbers |= i - self.pos > 300;
        self.pos = i;
        Ok(())
    }

    /// A string at the current position: returns its contents and whether
    /// they hold an escape.
    fn string(&mut self) -> Scan<(&'a str, bool)> {
        let b = self.bytes();
        let start = self.pos + 1;
        let mut i = start;
        let mut escaped = false;
        loop {
            i = find_string_special(b, i);
            match b.get(i) {
                Some(b'"') => {
                    self.pos = i + 1;
                    return Ok((&self.text[start..i], escaped));
                }
                Some(b'\\') => {
                    escaped = true;
                    self.escapes = true;
                    match b.get(i + 1) {
                        Some(b'"' | b'\\' | b'/' | b'b' | b'f' | b'n' | b'r' | b't') => i += 2,
                        Some(b'u') => {
                            let hex = b.get(i + 2..i + 6).ok_or(GiveUp)?;
                            if !hex.iter().all(u8::is_ascii_hexdigit) {
                                return Err(GiveUp);
                            }
                            i += 6;
                        }
                        _ => return Err(GiveUp),
                    }
                }
                // A control character, or the end of the text.
                _ => return Err(GiveUp),
            }
        }
    }

    /// Walks an object at the current position. `field` is called with each
    /// key, positioned before its value, and must consume exactly that value.
    pub fn object(&mut self, mut field: impl FnMut(&mut Self, &'a str) -> Scan) -> Scan {
        self.object_laid_out(None, |_| (), |s, key, ()| field(s, key))
    }

    /// [`object`](Self::object), each key also given `tag_of` it; with a
    /// `layout`, each key is first compared with the key the object before
    /// (of the same kind) had at its place, and the layout then holds this
    /// object's keys.
    #[inline]
    pub fn object_laid_out<T: Copy>(
        &mut self,
        mut layout: Option<&mut Layout<'a, T>>,
        tag_of: impl Fn(&str) -> T,
        mut field: impl FnMut(&mut Self, &'a str, T) -> Scan,
    ) -> Scan {
        if let Some(l) = layout.as_deref_mut() {
            l.now.clear();
        }
        self.eat(b'{')?;
        self.enter()?;
        if self.next_byte() == Some(b'}') {
            self.pos += 1;
            self.depth -= 1;
            return Ok(());
        }
        let mut place = 0;
        loop {
            if self.next_byte() != Some(b'"') {
                return Err(GiveUp);
            }
            let before = layout.as_deref().and_then(|l| l.before.get(place).copied());
            let (key, tag) = match before {
                Some((key, tag)) if same_key(self.bytes(), self.pos + 1, key.as_bytes()) => {
                    let start = self.pos + 1;
                    self.pos = start + key.len() + 1;
                    (&self.text[start..start + key.len()], tag)
                }
                _ => {
                    let (key, escaped) = self.string()?;
                    if escaped {
                        // serde_json unescapes keys; leave those objects to it.
                        return Err(GiveUp);
                    }
                    (key, tag_of(key))
                }
            };
            if let Some(l) = layout.as_deref_mut() {
                l.now.push((key, tag));
            }
            place += 1;
            self.eat(b':')?;
            field(self, key, tag)?;
            match self.next_byte() {
                Some(b',') => self.pos += 1,
                Some(b'}') => {
                    self.pos += 1;
                    self.depth -= 1;
                    if let Some(l) = layout {
                        std::mem::swap(&mut l.before, &mut l.now);
                    }
                    return Ok(());
                }
                _ => return Err(GiveUp),
            }
        }
    }

    /// Walks an array at the current position. `element` is called with
    /// each index and must consume exactly one value.
    pub fn array(&mut self, mut element: impl FnMut(&mut Self, u64) -> Scan) -> Scan {
        self.eat(b'[')?;
        self.enter()?;
        if self.next_byte() == Some(b']') {
            self.pos += 1;
            self.depth -= 1;
            return Ok(());
        }
        let mut index = 0;
        loop {
            element(self, index)?;
            index += 1;
            match self.next_byte() {
                Some(b',') => self.pos += 1,
                Some(b']') => {
                    self.pos += 1;
                    self.depth -= 1;
                    return Ok(());
                }
                _ => return Err(GiveUp),
            }
        }
    }

    /// Whether the next value is an object.
    pub fn at_object(&mut self) -> bool {
        self.next_byte() == Some(b'{')
    }

    /// Walks the object at the current position for the keys in `names`
    /// (`names[i]` lists the spellings of slot `i`): `read` is called with a
    /// wanted key's slot and must consume its value and return it; other
    /// values are skipped. Fills `out` with the wanted values (`null` as
    /// absent, the last one when a key repeats; `out` is written in place,
    /// as the identity's slots are a few hundred bytes) and returns the
    /// object's text and the first slot whose key came twice.
    pub fn object_fields<const N: usize>(
        &mut self,
        names: &[&[&str]; N],
        out: &mut [Option<Raw<'a>>; N],
        read: impl FnMut(&mut Self, usize) -> Scan<Raw<'a>>,
    ) -> Scan<(Raw<'a>, Option<usize>)> {
        self.object_fields_by(None, |key| slot_in(names, key), out, read)
    }

    /// [`object_fields`](Self::object_fields) with the slot of each key
    /// given by `slot_of`, for a caller with a faster way to find it, and
    /// an optional [`Layout`] for objects read one after another.
    pub fn object_fields_by<const N: usize>(
        &mut self,
        layout: Option<&mut Layout<'a, Option<usize>>>,
        slot_of: impl Fn(&str) -> Option<usize>,
        out: &mut [Option<Raw<'a>>; N],
        mut read: impl FnMut(&mut Self, usize) -> Scan<Raw<'a>>,
    ) -> Scan<(Raw<'a>, Option<usize>)> {
        *out = [None; N];
        let mut seen = [false; N];
        let mut duplicate = None;
        self.skip_ws();
        let start = self.pos;
        self.object_laid_out(layout, slot_of, |s, _, slot| {
            match slot.filter(|&i| i < N) {
                Some(i) => {
                    let value = read(s, i)?;
                    if seen[i] && duplicate.is_none() {
                        duplicate = Some(i);
                    }
                    seen[i] = true;
                    out[i] = (!value.is_null()).then_some(value);
                }
                None => s.skip()?,
            }
            Ok(())
        })?;
        Ok((Raw::scanned(&self.text[start..self.pos]), duplicate))
    }

    fn enter(&mut self) -> Scan {
        self.depth += 1;
        if self.depth > MAX_DEPTH {
            Err(GiveUp)
        } else {
            Ok(())
        }
    }
}

/// The index of the first `"`, `\` or control character at or after `i`
/// (the bytes that end a plain run inside a JSON string), or `b.len()`.
#[inline]
fn find_string_special(b: &[u8], mut i: usize) -> usize {
    #[cfg(target_arch = "x86_64")]
    {
        use std::arch::x86_64::{
            __m128i, _mm_cmpeq_epi8, _mm_loadu_si128, _mm_max_epu8, _mm_movemask_epi8,
            _mm_or_si128, _mm_set1_epi8,
        };
        // SSE2 is part of x86_64, so no runtime check is needed.
        while i + 16 <= b.len() {
            // SAFETY: `i + 16 <= b.len()`, so the 16 bytes read are inside
            // `b`; `_mm_loadu_si128` has no alignment requirement.
            let mask = unsafe {
                let v = _mm_loadu_si128(b.as_ptr().add(i) as *const __m128i);
                let quote = _mm_cmpeq_epi8(v, _mm_set1_epi8(b'"' as i8));
                let backslash = _mm_cmpeq_epi8(v, _mm_set1_epi8(b'\\' as i8));
                // v <= 0x1f (unsigned) exactly when max(v, 0x1f) == 0x1f.
                let low = _mm_set1_epi8(0x1f);
                let control = _mm_cmpeq_epi8(_mm_max_epu8(v, low), low);
                _mm_movemask_epi8(_mm_or_si128(_mm_or_si128(quote, backslash), control))
            };
            if mask != 0 {
                return i + mask.trailing_zeros() as usize;
            }
            i += 16;
        }
    }
    while let Some(&c) = b.get(i) {
        if c == b'"' || c == b'\\' || c < 0x20 {
            return i;
        }
        i += 1;
    }
    i
}

/// Reads one top-level document as [`DocumentSeed`](super::DocumentSeed)(super::json::DocumentSeed)
/// does: the object's keys into `obj`, and the elements of a `Records`,
/// `Events` or `QueryResultRows` array straight into `sink`. Gives up on
/// anything else (a document that is not an object, an array key whose value
/// is not an array, text after the document); the caller then discards
/// what the sink received and reads the text with serde_json.
pub fn document<'de, S: ArraySink<'de>>(
    text: &'de str,
    obj: &mut Obj<'de>,
    scratch: &mut Obj<'de>,
    sink: &mut S,
    nested: Option<&NestedReader>,
) -> Scan {
    let mut s = Scanner::new(text);
    let mut layout = RecordLayout::default();
    obj.clear();
    s.object(|s, key| match key_of(key) {
        Some(k @ (Key::Records | Key::Events | Key::QueryResultRows)) => {
            if s.next_byte() != Some(b'[') {
                return Err(GiveUp);
            }
            if k == Key::QueryResultRows {
                s.array(|s, index| {
                    let row = s.value()?;
                    sink.row(index, row);
                    Ok(())
                })?;
            } else {
                let array = if k == Key::Events {
                    ArrayKind::Events
                } else {
                    ArrayKind::Records
                };
                s.array(|s, index| {
                    if s.next_byte() == Some(b'{') {
                        record_object(s, scratch, false, Some(&mut layout), nested)?;
                        sink.element(array, index, Ok(&*scratch));
                    } else {
                        // serde_json parses a number or string element (it
                        // refuses 1e999 and lone surrogates there), so those
                        // are left to it.
                        if matches!(s.next_byte(), Some(b'"' | b'-' | b'0'..=b'9')) {
                            return Err(GiveUp);
                        }
                        let value = s.value()?;
                        sink.element(array, index, Err(super::kind_of(value)));
                    }
                    Ok(())
                })?;
            }
            obj.mark_streamed(k);
            Ok(())
        }
        known => {
            let value = s.value()?;
            obj.put_keyed(Cow::Borrowed(key), known, value);
            Ok(())
        }
    })?;
    s.finish()
}

/// The keys of the object before of the same kind, in order, with what
/// the reader made of each. Records of one file nearly always list the
/// same keys in the same order (and so do their identities), so each key
/// is first compared with the key at its place in the object before; when
/// they are equal the key is known without searching for its end or
/// matching it against the keys the reader wants (a fifth of the scanner's
/// work on a record went to its keys).
pub struct Layout<'de, T> {
    before: Vec<(&'de str, T)>,
    now: Vec<(&'de str, T)>,
}

impl<T> Default for Layout<'_, T> {
    fn default() -> Self {
        Layout {
            before: Vec::new(),
            now: Vec::new(),
        }
    }
}

/// The layouts of a document's records: their own keys and those of the
/// nested object a [`NestedReader`] reads.
#[derive(Default)]
pub struct RecordLayout<'de> {
    keys: Layout<'de, Option<Key>>,
    pub nested: NestedLayout<'de>,
}

/// The layouts of a nested object and of up to two levels inside it
/// (CloudTrail: `userIdentity`, its `sessionContext`, its
/// `sessionIssuer`), by slot.
#[derive(Default)]
pub struct NestedLayout<'de> {
    pub levels: [Layout<'de, Option<usize>>; 3],
}

/// A reader's request to have one key's object read while the record is
/// scanned (its text then walked once, not once per level it is read at):
/// `read` fills a [`Nested`] of slots, or leaves `None` when something in
/// it is for the reader's text path to judge, and returns the object's
/// whole text.
pub struct NestedReader {
    pub key: Key,
    #[allow(clippy::type_complexity)]
    pub read: for<'de> fn(
        &mut Scanner<'de>,
        &mut Option<Nested<'de>>,
        Option<&mut NestedLayout<'de>>,
    ) -> Scan<Raw<'de>>,
}

/// The slot whose spellings (`names[i]`, as in [`fields`]) include `key`.
pub fn slot_in(names: &[&[&str]], key: &str) -> Option<usize> {
    names.iter().position(|n| n.contains(&key))
}

/// Little-endian word at `at`; the caller checks that eight bytes are there.
#[inline]
fn word(b: &[u8], at: usize) -> u64 {
    let mut w = [0u8; 8];
    w.copy_from_slice(&b[at..at + 8]);
    u64::from_le_bytes(w)
}

/// Whether the text at `at` is `key` and its closing quote. `key` was read
/// as a key before, so it holds no quote, backslash or control character:
/// equal bytes followed by a quote are that key, exactly as the string
/// path would read it.
#[inline]
fn same_key(b: &[u8], at: usize, key: &[u8]) -> bool {
    let end = at + key.len();
    if end >= b.len() || b[end] != b'"' {
        return false;
    }
    let n = key.len();
    if n < 8 {
        return b[at..end].iter().zip(key).all(|(x, y)| x == y);
    }
    let mut i = 0;
    while i + 8 < n {
        if word(b, at + i) != word(key, i) {
            return false;
        }
        i += 8;
    }
    word(b, end - 8) == word(key, n - 8)
}

/// Reads one record object at the current position into `obj`, the
/// object under `nested`'s key read in passing rather than scanned again,
/// its keys first compared with `layout`'s when there is one. With
/// `no_arrays`, a `Records`, `Events` or `QueryResultRows` key gives up,
/// for a caller that streams no arrays (see [`line_document`]).
fn record_object<'de>(
    s: &mut Scanner<'de>,
    obj: &mut Obj<'de>,
    no_arrays: bool,
    layout: Option<&mut RecordLayout<'de>>,
    nested: Option<&NestedReader>,
) -> Scan {
    obj.clear();
    let (keys, mut nested_layout) = match layout {
        Some(l) => (Some(&mut l.keys), Some(&mut l.nested)),
        None => (None, None),
    };
    let nested_key = nested.map(|n| n.key);
    s.object_laid_out(keys, key_of, |s, key, known| {
        let value = match known {
            Some(k) if Some(k) == nested_key => {
                if s.at_object() {
                    let read = nested.expect("a nested key has its reader").read;
                    read(s, &mut obj.nested, nested_layout.as_deref_mut())?
                } else {
                    obj.nested = None;
                    s.value()?
                }
            }
            Some(Key::Records | Key::Events | Key::QueryResultRows) if no_arrays => {
                return Err(GiveUp)
            }
            _ => s.value()?,
        };
        obj.put_keyed(Cow::Borrowed(key), known, value);
        Ok(())
    })
}

/// Reads one line of a line-delimited file (a CloudTrail record, a claim
/// set, a webhook delivery) into `obj`, as [`DocumentSeed`](super::DocumentSeed) would read it
/// when the line holds no record array. A line with one gives up before
/// anything is read from it, so the caller simply reads it with
/// serde_json, which streams the array. Sets [`Obj::plain`].
pub fn line_document<'de>(
    text: &'de str,
    obj: &mut Obj<'de>,
    nested: Option<&NestedReader>,
) -> Scan {
    let mut s = Scanner::new(text);
    if !s.at_object() {
        return Err(GiveUp);
    }
    record_object(&mut s, obj, true, None, nested)?;
    s.finish()?;
    obj.plain = !s.escapes && !s.large_numbers;
    Ok(())
}

/// The fields of one JSON object that a reader wants: `names[i]` lists the
/// spellings that fill slot `i` (camelCase and the lower-cased export
/// form). `null` counts as absent, other keys are skipped, and a wanted
/// field given twice is an error, as it is for serde's derived readers.
/// `field` names the object in errors.
pub fn fields<'t, const N: usize>(
    text: &'t str,
    names: &[&[&str]; N],
    field: &str,
) -> Result<[Option<Raw<'t>>; N], FieldError> {
    let mut s = Scanner::new(text);
    let mut out = [None; N];
    let scanned = s
        .object_fields(names, &mut out, |s, _| s.value())
        .and_then(|found| s.finish().map(|()| found));
    match scanned {
        Err(GiveUp) => fields_by_serde(text, names, field),
        Ok((_, Some(i))) => Err(FieldError::new(
            field,
            format!("is not readable: duplicate field `{}`", names[i][0]),
        )),
        Ok((_, None)) => Ok(out),
    }
}

/// [`fields`] through serde_json, for what the scanner leaves alone:
/// serde_json decides whether the text is valid, unescapes keys and words
/// the error.
#[cold]
fn fields_by_serde<'t, const N: usize>(
    text: &'t str,
    names: &[&[&str]; N],
    field: &str,
) -> Result<[Option<Raw<'t>>; N], FieldError> {
    let unreadable = |e: serde_json::Error| FieldError::new(field, format!("is not readable: {e}"));
    let pairs: Vec<(Cow<'t, str>, &'t serde_json::value::RawValue)> =
        serde_json::from_str::<PairList<'t>>(text)
            .map_err(unreadable)?
            .0;
    let mut out = [None; N];
    let mut seen = [false; N];
    for (key, value) in pairs {
        if let Some(i) = slot_in(names, &key) {
            if seen[i] {
                return Err(FieldError::new(
                    field,
                    format!("is not readable: duplicate field `{}`", names[i][0]),
                ));
            }
            seen[i] = true;
            let value = Raw::from_parsed(value);
            out[i] = (!value.is_null()).then_some(value);
        }
    }
    Ok(out)
}

/// An object's pairs in order, keys unescaped.
pub(crate) struct PairList<'t>(pub Vec<(Cow<'t, str>, &'t serde_json::value::RawValue)>);

impl<'de> serde::Deserialize<'de> for PairList<'de> {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> serde::de::Visitor<'de> for V {
            type Value = PairList<'de>;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("a JSON object")
            }
            fn visit_map<A: serde::de::MapAccess<'de>>(
                self,
                mut map: A,
            ) -> Result<Self::Value, A::Error> {
                let mut pairs = Vec::new();
                while let Some(key) = map.next_key_seed(KeySeed)? {
                    pairs.push((key, map.next_value()?));
                }
                Ok(PairList(pairs))
            }
        }
        d.deserialize_map(V)
    }
}

/// A JSON object's members as the record path hands them over, for the
/// tests that hold a members reading to its `serde_json` tree.
#[cfg(test)]
pub(crate) fn members_of(text: &str) -> Vec<(Cow<'_, str>, Raw<'_>)> {
    serde_json::from_str::<PairList<'_>>(text)
        .unwrap()
        .0
        .into_iter()
        .map(|(k, v)| (k, Raw::from_parsed(v)))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn accepts(text: &str) -> bool {
        let mut s = Scanner::new(text);
        s.skip().and_then(|()| s.finish()).is_ok()
    }

    #[test]
    fn accepts_what_json_allows() {
        for ok in [
            "{}",
            "[]",
            r#"{"a":[1,-0.5e+3,true,false,null,"x\"\\\/\b\f\n\r\t\u00e9"],"b":{}}"#,
            " \t\r\n{ \"a\" : 1 } \n",
            "0",
            "-0",
            "1E9",
            r#""\ud800""#,
            "\"caf\u{e9} \u{1f600}\"",
        ] {
            assert!(accepts(ok), "{ok}");
            assert!(
                serde_json::from_str::<serde::de::IgnoredAny>(ok).is_ok(),
                "{ok}"
            );
        }
    }

    #[test]
    fn refuses_what_json_forbids() {
        for bad in [
            "",
            "{",
            r#"{"a":1,}"#,
            "[1,]",
            "[,1]",
            "{'a':1}",
            r#"{"a" 1}"#,
            r#"{"a":01}"#,
            "1.",
            "-",
            ".5",
            "1e",
            "tru",
            "nul",
            "\"tab\there\"",
            r#""bad \x escape""#,
            r#""\u12g4""#,
            r#""unterminated"#,
            "{} {}",
            "[1 2]",
            "\"\\u00\"",
        ] {
            assert!(!accepts(bad), "{bad:?}");
            assert!(
                serde_json::from_str::<serde::de::IgnoredAny>(bad).is_err(),
                "{bad:?}"
            );
        }
    }

    #[test]
    fn gives_up_on_escaped_keys_and_deep_nesting() {
        assert!(!accepts(r#"{"k\u0065y":1}"#));
        let deep = format!("{}{}", "[".repeat(101), "]".repeat(101));
        assert!(!accepts(&deep));
        let fine = format!("{}{}", "[".repeat(100), "]".repeat(100));
        assert!(accepts(&fine));
    }

    #[test]
    fn strings_longer_than_a_block_find_their_end() {
        for n in 0..70 {
            let body = "x".repeat(n);
            let text = format!("[\"{body}\",\"{body}\\n{body}\"]");
            assert!(accepts(&text), "{n}");
            let bad = format!("[\"{body}\u{1}{body}\"]");
            assert!(!accepts(&bad), "{n}");
        }
    }

    #[test]
    fn fields_reads_spellings_skips_the_rest_and_treats_null_as_absent() {
        let text = r#"{"Type":"Role","skip":{"deep":[1,{"x":"}"}]},"arn":null,"accountid":"1"}"#;
        let [kind, arn, account] = fields(
            text,
            &[&["type", "Type"], &["arn"], &["accountId", "accountid"]],
            "o",
        )
        .unwrap();
        assert_eq!(kind.unwrap().get(), r#""Role""#);
        assert_eq!(arn, None);
        assert_eq!(account.unwrap().get(), r#""1""#);
    }

    #[test]
    fn fields_reports_duplicates_and_bad_text_like_serde() {
        let e = fields(r#"{"arn":"a","arn":"b"}"#, &[&["arn"]], "o").unwrap_err();
        assert_eq!(e.to_string(), "`o` is not readable: duplicate field `arn`");
        let e = fields(r#"{"arn":"a",}"#, &[&["arn"]], "o").unwrap_err();
        assert!(
            e.to_string()
                .starts_with("`o` is not readable: trailing comma"),
            "{e}"
        );
        // An escaped key is left to serde_json, which unescapes it.
        let [arn] = fields(r#"{"\u0061rn":"a"}"#, &[&["arn"]], "o").unwrap();
        assert_eq!(arn.unwrap().get(), r#""a""#);
    }

    type Pairs = Vec<(String, String)>;
    struct Collect(Vec<(u64, Result<Pairs, &'static str>)>);
    impl<'de> ArraySink<'de> for Collect {
        fn element(&mut self, _: ArrayKind, index: u64, obj: Result<&Obj<'de>, &'static str>) {
            let pairs = obj.map(|o| {
                o.pairs
                    .iter()
                    .map(|(k, v)| (k.to_string(), v.get().to_string()))
                    .collect()
            });
            self.0.push((index, pairs));
        }
        fn row(&mut self, index: u64, row: Raw<'de>) {
            self.0
                .push((index, Ok(vec![("row".into(), row.get().into())])));
        }
    }

    #[test]
    fn document_hands_over_what_serde_would() {
        let text = r#" {"Records": [ {"eventName":"A", "x":[1,{"y":null}]}, [7], null, {} ], "other": true} "#;
        let mut obj = Obj::default();
        let mut scratch = Obj::default();
        let mut sink = Collect(Vec::new());
        document(text, &mut obj, &mut scratch, &mut sink, None).unwrap();
        assert!(obj.has(Key::Records));
        assert_eq!(obj.pairs.len(), 1);
        assert_eq!(obj.pairs[0].1.get(), "true");
        assert_eq!(sink.0.len(), 4);
        assert_eq!(
            sink.0[0].1.as_ref().unwrap()[1],
            ("x".to_string(), r#"[1,{"y":null}]"#.to_string())
        );
        assert_eq!(sink.0[1].1, Err("an array"));
        assert_eq!(sink.0[2].1, Err("null"));
        assert_eq!(sink.0[3].1, Ok(vec![]));
    }

    #[test]
    fn same_key_takes_only_the_whole_key_and_its_quote() {
        for key in [
            "eventID",
            "readOnly",
            "resources",
            "requestParameters",
            "recipientAccountId",
        ] {
            let quoted = format!("\"{key}\":1");
            assert!(same_key(quoted.as_bytes(), 1, key.as_bytes()), "{key}");
            let longer = format!("\"{key}x\":1");
            assert!(!same_key(longer.as_bytes(), 1, key.as_bytes()), "{key}");
            let shorter = format!("\"{}\":1", &key[..key.len() - 1]);
            assert!(!same_key(shorter.as_bytes(), 1, key.as_bytes()), "{key}");
            let last_differs = format!("\"{}X\":1", &key[..key.len() - 1]);
            assert!(
                !same_key(last_differs.as_bytes(), 1, key.as_bytes()),
                "{key}"
            );
            let first_differs = format!("\"X{}\":1", &key[1..]);
            assert!(
                !same_key(first_differs.as_bytes(), 1, key.as_bytes()),
                "{key}"
            );
            // The text ends at the key or before its quote.
            let cut = format!("\"{key}");
            assert!(!same_key(cut.as_bytes(), 1, key.as_bytes()), "{key}");
            assert!(!same_key(b"\"", 1, key.as_bytes()), "{key}");
        }
    }

    #[test]
    fn line_document_reads_plain_lines_and_leaves_record_arrays_to_serde() {
        let mut obj = Obj::default();
        let line = r#"{"eventName":"GetObject","userIdentity":{"type":"AssumedRole","accessKeyId":"ASIAX"}}"#;
        assert_eq!(line_document(line, &mut obj, None), Ok(()));
        assert_eq!(
            obj.get(Key::EventName).map(Raw::get),
            Some(r#""GetObject""#)
        );
        for text in [
            r#"{"Records":[{"eventName":"A"}]}"#,
            r#"{"eventName":"A","Events":[]}"#,
            r#"{"QueryResultRows":[]}"#,
            r#"[{"eventName":"A"}]"#,
            r#"{"a":1} {"a":2}"#,
            r#"{"a":1,}"#,
        ] {
            assert_eq!(line_document(text, &mut obj, None), Err(GiveUp), "{text}");
        }
    }

    #[test]
    fn document_gives_up_on_what_it_leaves_to_serde() {
        let mut obj = Obj::default();
        let mut scratch = Obj::default();
        let mut sink = Collect(Vec::new());
        for text in [
            r#"{"Records":{}}"#,
            r#"[{"eventName":"A"}]"#,
            r#"{"Records":[]} {"Records":[]}"#,
            r#"{"Records":[{"a":1,}]}"#,
            // serde_json parses these elements and refuses them.
            r#"{"Records":[1e999]}"#,
            r#"{"Records":["\ud800"]}"#,
        ] {
            assert_eq!(
                document(text, &mut obj, &mut scratch, &mut sink, None),
                Err(GiveUp),
                "{text}"
            );
        }
    }
}
