//! Reading an input too large to hold whole, in bounded memory.
//!
//! A file is read whole when it decompresses to at most
//! [`WHOLE_LIMIT`](crate::ingest::read::WHOLE_LIMIT) bytes (nearly every CloudTrail
//! file): that path is the fastest. Anything larger arrives here as a
//! reader, and [`Framer`] cuts it into [`Piece`]s of a few MiB, each a
//! complete text of the same shape the whole-file parser reads: runs of
//! whole lines of a line-delimited file, runs of concatenated documents,
//! and the elements of a record array (`{"Records":[...]}`, `Events`,
//! `QueryResultRows`, `records`, `value`, or a bare top-level array)
//! re-framed as a small document of their own with the index of their first
//! element. What a document holds besides its record arrays comes last, as
//! one more piece with those arrays emptied. The parser reads each piece as
//! it reads a whole file, so records, locations and errors come out as they
//! would, and memory holds a piece or two and one record at a time, never
//! the file.
//!
//! The framer follows only JSON's structure (strings, escapes, brackets);
//! it neither validates nor decodes: each piece's parser does. It knows no
//! source: the keys whose arrays are streamed come from the caller. One
//! record (a line, a document, an array element) longer than
//! [`MAX_RECORD_BYTES`] is reported and skipped without being held.

use std::io::{self, Read};

/// The most bytes one record (a line, a document outside its record
/// arrays, an element of a record array) may take; a longer one is
/// reported and skipped. A 200 MB line is read.
pub const MAX_RECORD_BYTES: usize = 256 << 20;

/// How much a piece holds before it is cut, at the next record boundary.
pub const PIECE_BYTES: usize = 4 << 20;

/// How far into a `{` file a first line break is looked for to tell
/// line-delimited input from one document.
const PROBE_BYTES: usize = 1 << 20;

/// Bytes asked of the reader at a time.
const READ_BYTES: usize = 1 << 20;

/// A complete text cut from a large input, for the parser.
#[derive(Debug, PartialEq, Eq)]
pub enum Piece {
    /// Whole lines of a line-delimited file; `lead_lines` lines come
    /// before the first.
    Lines { text: Vec<u8>, lead_lines: u64 },
    /// Whole concatenated documents (pretty-printed objects one after
    /// another), starting on the line after `lead_lines`.
    Documents { text: Vec<u8>, lead_lines: u64 },
    /// Elements of a record array, re-framed as `{"KEY":[...]}` (or
    /// `[...]` for a bare top-level array) so that it parses as the file
    /// would; `first_index` is the first element's index in the array and
    /// `lead_lines` the lines before it.
    Elements {
        doc: Vec<u8>,
        key: Option<String>,
        first_index: u64,
        lead_lines: u64,
    },
    /// A whole top-level document whose record arrays, if any, were
    /// streamed as [`Piece::Elements`] and are empty here. `line` is its
    /// first line when more documents or lines follow it (`as_line`: the
    /// file is line-delimited), `None` when it is the only one.
    Document {
        doc: Vec<u8>,
        line: Option<u64>,
        as_line: bool,
        lead_lines: u64,
    },
    /// The input holds nothing but whitespace.
    Empty,
    /// The input starts with something no reader takes: a preview of it.
    NotJson(String),
    /// A record that could not be framed (too long, or the input ended
    /// inside it): line (when known) and reason.
    Error { line: u64, reason: String },
}

/// Why a framer stopped reading before the end.
#[derive(Debug)]
pub enum Stopped {
    /// More than the cap on decompressed bytes.
    Cap,
    /// The reader failed (a truncated or corrupt gzip stream) after this
    /// many bytes.
    Read { after: u64, error: io::Error },
}

/// Where the framer is in its input.
enum State {
    Start,
    Lines,
    Documents,
    /// Inside a bare top-level array, before its next element.
    TopArray {
        index: u64,
    },
    /// Inside a top-level object, before its next member. `rest` holds the
    /// members read so far (record arrays emptied).
    Members(Members),
    /// Inside a streamed member array of the top-level object.
    MemberArray {
        members: Members,
        key: String,
        index: u64,
    },
    Done,
}

struct Members {
    rest: Vec<u8>,
    /// The line the document starts on.
    first_line: u64,
    /// Members written into `rest`, for the separating commas.
    written: usize,
}

/// Cuts a large input into [`Piece`]s.
pub struct Framer<'r> {
    reader: &'r mut dyn Read,
    buf: Vec<u8>,
    /// Start of the bytes not yet consumed in `buf`.
    pos: usize,
    eof: bool,
    /// Bytes taken from the reader (and the head) so far.
    total: u64,
    max_bytes: u64,
    /// Line breaks in the bytes already dropped from `buf`.
    lines_dropped: u64,
    stopped: Option<Stopped>,
    state: State,
    /// Keys of a top-level object whose array values are streamed.
    streamed_keys: &'static [&'static str],
    /// Pieces ready to hand out before the state moves on.
    ready: std::collections::VecDeque<Piece>,
    limits: Limits,
}

/// How large pieces grow and records may be.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    /// A piece is cut at the first record boundary past this size.
    pub piece_bytes: usize,
    /// One record longer than this is reported and skipped.
    pub max_record: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            piece_bytes: PIECE_BYTES,
            max_record: MAX_RECORD_BYTES,
        }
    }
}

/// Where a value scan ended.
enum End {
    /// Just past the value, as an offset from `pos`.
    At(usize),
    /// The input ended inside the value.
    Eof,
    /// The value is longer than the limit.
    TooLong,
    /// A byte that cannot stand here (a closing bracket with nothing open).
    Invalid,
}

/// Elements of an array read into one piece.
struct Chunk {
    /// The elements' text, comma-separated, without brackets.
    body: Vec<u8>,
    first_index: u64,
    /// The index of the element after the last one here.
    next_index: u64,
    lead_lines: u64,
    end: ArrayEnd,
    /// A piece that goes out after this one (a record that was skipped).
    after: Option<Piece>,
}

/// How a chunk of elements ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum ArrayEnd {
    /// The piece is full; the array goes on.
    Full,
    /// The array's closing bracket.
    Closed,
    /// The input broke off or went wrong inside the array.
    Broken,
}

impl<'r> Framer<'r> {
    /// A framer over `head` (bytes already read) followed by `reader`,
    /// stopping past `max_bytes` in all. `streamed_keys` names the members
    /// of a top-level object whose arrays are streamed element by element.
    pub fn new(
        head: Vec<u8>,
        reader: &'r mut dyn Read,
        max_bytes: u64,
        streamed_keys: &'static [&'static str],
    ) -> Self {
        Framer {
            reader,
            total: head.len() as u64,
            buf: head,
            pos: 0,
            eof: false,
            max_bytes,
            lines_dropped: 0,
            stopped: None,
            state: State::Start,
            streamed_keys,
            ready: Default::default(),
            limits: Limits::default(),
        }
    }

    /// The same framer with other limits (tests cut small inputs small).
    pub fn with_limits(mut self, limits: Limits) -> Self {
        self.limits = limits;
        self
    }

    /// Why reading stopped early, once [`next_piece`](Self::next_piece) returned `None`.
    pub fn stopped(&mut self) -> Option<Stopped> {
        self.stopped.take()
    }

    /// Bytes read in all.
    pub fn bytes(&self) -> u64 {
        self.total
    }

    fn available(&self) -> usize {
        self.buf.len() - self.pos
    }

    /// Reads more; false when nothing more will come.
    fn fill(&mut self) -> bool {
        if self.eof {
            return false;
        }
        if self.pos > 0 && self.pos >= self.buf.len() / 2 {
            self.lines_dropped += memchr::memchr_iter(b'\n', &self.buf[..self.pos]).count() as u64;
            self.buf.drain(..self.pos);
            self.pos = 0;
        }
        let start = self.buf.len();
        self.buf.resize(start + READ_BYTES, 0);
        loop {
            match self.reader.read(&mut self.buf[start..]) {
                Ok(0) => {
                    self.buf.truncate(start);
                    self.eof = true;
                    return false;
                }
                Ok(n) => {
                    self.buf.truncate(start + n);
                    self.total += n as u64;
                    if self.total > self.max_bytes {
                        self.stopped = Some(Stopped::Cap);
                        self.eof = true;
                        return false;
                    }
                    return true;
                }
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(error) => {
                    self.buf.truncate(start);
                    self.stopped = Some(Stopped::Read {
                        after: self.total,
                        error,
                    });
                    self.eof = true;
                    return false;
                }
            }
        }
    }

    /// Whether reading must end now (the cap was passed).
    fn capped(&self) -> bool {
        matches!(self.stopped, Some(Stopped::Cap))
    }

    /// Makes at least `n` bytes available from `pos`, when the input has them.
    fn want(&mut self, n: usize) -> bool {
        while self.available() < n {
            if !self.fill() {
                return false;
            }
        }
        true
    }

    /// Line breaks before `pos + offset` in the whole input.
    fn lines_before(&self, offset: usize) -> u64 {
        self.lines_dropped
            + memchr::memchr_iter(b'\n', &self.buf[..self.pos + offset]).count() as u64
    }

    /// Skips whitespace (and a byte-order mark at the very start) and
    /// returns the next byte, without consuming it.
    fn peek_nonws(&mut self) -> Option<u8> {
        loop {
            while self.pos < self.buf.len() {
                match self.buf[self.pos] {
                    b' ' | b'\t' | b'\r' | b'\n' => self.pos += 1,
                    b => return Some(b),
                }
            }
            if !self.fill() {
                return None;
            }
        }
    }

    /// Finds the end of the JSON value at `pos + from`, reading more as
    /// needed, up to `limit` bytes from `pos`. With `keep` false the bytes
    /// scanned are dropped as it goes (a value skipped, not kept), and the
    /// offset returned is from the new `pos`.
    fn value_end(&mut self, from: usize, limit: usize, keep: bool) -> End {
        match self.value_end_unbounded(from, limit, keep) {
            End::At(end) if keep && end > limit => End::TooLong,
            other => other,
        }
    }

    fn value_end_unbounded(&mut self, from: usize, limit: usize, keep: bool) -> End {
        let mut i = from;
        let mut depth: u64 = 0;
        let mut in_string = false;
        let mut escaped = false;
        // A scalar outside any bracket ends at the first byte that cannot
        // be part of it.
        let mut scalar = false;
        loop {
            let bytes = &self.buf[self.pos..];
            while i < bytes.len() {
                let b = bytes[i];
                if in_string {
                    if escaped {
                        escaped = false;
                        i += 1;
                        continue;
                    }
                    match memchr::memchr2(b'"', b'\\', &bytes[i..]) {
                        Some(at) => {
                            i += at;
                            if bytes[i] == b'\\' {
                                escaped = true;
                            } else {
                                in_string = false;
                                if depth == 0 {
                                    return End::At(i + 1);
                                }
                            }
                            i += 1;
                        }
                        None => i = bytes.len(),
                    }
                    continue;
                }
                if scalar {
                    match b {
                        b',' | b']' | b'}' | b' ' | b'\t' | b'\r' | b'\n' | b'"' | b'{' | b'[' => {
                            return End::At(i)
                        }
                        _ => {
                            i += 1;
                            continue;
                        }
                    }
                }
                match b {
                    b'"' => in_string = true,
                    b'{' | b'[' => depth += 1,
                    b'}' | b']' => {
                        if depth == 0 {
                            return End::Invalid;
                        }
                        depth -= 1;
                        if depth == 0 {
                            return End::At(i + 1);
                        }
                    }
                    b' ' | b'\t' | b'\r' | b'\n' | b',' | b':' => {}
                    _ if depth == 0 => scalar = true,
                    _ => {}
                }
                i += 1;
            }
            if i > limit {
                return End::TooLong;
            }
            if !keep && i > from {
                // Drop what was scanned; keep counting lines.
                self.pos += i;
                i = 0;
            }
            if !self.fill() {
                return if scalar && !self.capped() && self.stopped.is_none() {
                    End::At(i)
                } else {
                    End::Eof
                };
            }
        }
    }

    /// Drops bytes up to and including the next line break.
    fn skip_line(&mut self) {
        loop {
            if let Some(at) = memchr::memchr(b'\n', &self.buf[self.pos..]) {
                self.pos += at + 1;
                return;
            }
            self.pos = self.buf.len();
            if !self.fill() {
                return;
            }
        }
    }

    /// The next piece, or `None` at the end (see [`stopped`](Self::stopped)).
    pub fn next_piece(&mut self) -> Option<Piece> {
        loop {
            if let Some(p) = self.ready.pop_front() {
                return Some(p);
            }
            if self.capped() {
                return None;
            }
            match std::mem::replace(&mut self.state, State::Done) {
                State::Done => return None,
                State::Start => self.start(),
                State::Lines => self.lines(),
                State::Documents => self.documents(),
                State::TopArray { index } => self.top_array(index),
                State::Members(m) => self.members(m),
                State::MemberArray {
                    members,
                    key,
                    index,
                } => self.member_array(members, key, index),
            }
        }
    }

    fn start(&mut self) {
        // A byte-order mark is skipped, as whole files have it trimmed.
        self.want(3);
        if self.buf[self.pos..].starts_with(b"\xef\xbb\xbf") {
            self.pos += 3;
        }
        let Some(first) = self.peek_nonws() else {
            self.ready.push_back(Piece::Empty);
            return;
        };
        self.want(PROBE_BYTES);
        let window = &self.buf[self.pos..self.buf.len().min(self.pos + PROBE_BYTES)];
        let first_line = match memchr::memchr(b'\n', window) {
            Some(at) => &window[..at],
            None => window,
        };
        match first {
            b'[' => {
                self.pos += 1;
                self.state = State::TopArray { index: 0 };
            }
            b'{' => {
                let line = trim_end(first_line);
                let more_follows = memchr::memchr(b'\n', window).is_some_and(|at| {
                    window[at..].iter().any(|b| !b.is_ascii_whitespace())
                        || !self.eof
                        || self.available() > window.len()
                });
                if more_follows
                    && line.ends_with(b"}")
                    && serde_json::from_slice::<serde::de::IgnoredAny>(line).is_ok()
                {
                    self.state = State::Lines;
                } else {
                    let first_line = self.lines_before(0) + 1;
                    self.pos += 1;
                    self.state = State::Members(Members {
                        rest: b"{".to_vec(),
                        first_line,
                        written: 0,
                    });
                }
            }
            _ if looks_like_jwt(first_line) => self.state = State::Lines,
            _ => {
                let preview: String = String::from_utf8_lossy(&window[..window.len().min(96)])
                    .chars()
                    .take(24)
                    .flat_map(char::escape_default)
                    .collect();
                self.ready.push_back(Piece::NotJson(preview));
            }
        }
    }

    /// Cuts the next run of whole lines.
    fn lines(&mut self) {
        if self.peek_nonws().is_none() {
            return;
        }
        // Start the piece at the beginning of its line, so that line
        // numbers count from there.
        let lead_lines = self.lines_before(0);
        let mut searched = 0;
        loop {
            let from = self.limits.piece_bytes.max(searched);
            if let Some(at) = memchr::memchr(b'\n', self.buf.get(self.pos + from..).unwrap_or(&[]))
            {
                let end = from + at + 1;
                self.emit_lines(end, lead_lines);
                self.state = State::Lines;
                return;
            }
            searched = self.available();
            if searched > self.limits.max_record + self.limits.piece_bytes {
                // A line longer than a record may be: the whole lines
                // before it go out, then it is skipped.
                let head = &self.buf[self.pos..self.pos + self.limits.piece_bytes];
                match memchr::memrchr(b'\n', head) {
                    Some(at) => self.emit_lines(at + 1, lead_lines),
                    None => {
                        let line = lead_lines + 1;
                        self.skip_line();
                        self.ready.push_back(Piece::Error {
                            line,
                            reason: format!(
                                "longer than the {}-byte limit for one record; skipped",
                                self.limits.max_record
                            ),
                        });
                    }
                }
                self.state = State::Lines;
                return;
            }
            if !self.fill() {
                let end = self.available();
                if end > 0 && !self.capped() {
                    self.emit_lines(end, lead_lines);
                }
                return;
            }
        }
    }

    /// Hands out the `end` bytes from `pos` as whole lines, up to the first
    /// line longer than a record may be, which is reported and dropped.
    fn emit_lines(&mut self, end: usize, lead_lines: u64) {
        let max = self.limits.max_record;
        let region = &self.buf[self.pos..self.pos + end];
        let mut start = 0;
        let mut long = None;
        for (n, nl) in memchr::memchr_iter(b'\n', region)
            .chain(std::iter::once(region.len()))
            .enumerate()
        {
            if nl - start > max {
                long = Some((start, nl, n as u64));
                break;
            }
            start = nl + 1;
        }
        let Some((from, to, before)) = long else {
            let text = self.take(end);
            self.ready.push_back(Piece::Lines { text, lead_lines });
            return;
        };
        if from > 0 {
            let text = self.take(from);
            self.ready.push_back(Piece::Lines { text, lead_lines });
        }
        self.pos += (to + 1 - from).min(self.available());
        self.ready.push_back(Piece::Error {
            line: lead_lines + before + 1,
            reason: format!("longer than the {max}-byte limit for one record; skipped"),
        });
    }

    /// Takes `end` bytes from `pos` out of the buffer, moved rather than
    /// copied (a piece can be a long record).
    fn take(&mut self, end: usize) -> Vec<u8> {
        let cut = self.pos + end;
        self.lines_dropped += memchr::memchr_iter(b'\n', &self.buf[..cut]).count() as u64;
        let tail = self.buf[cut..].to_vec();
        let mut text = std::mem::replace(&mut self.buf, tail);
        text.truncate(cut);
        text.drain(..self.pos);
        self.pos = 0;
        text
    }

    /// Cuts the next run of concatenated documents, at a line that opens
    /// an object (where the whole-file reader resynchronizes too).
    fn documents(&mut self) {
        if self.peek_nonws().is_none() {
            return;
        }
        let lead_lines = self.lines_before(0);
        let mut searched = self.limits.piece_bytes;
        loop {
            if self.available() > searched {
                // One byte back, for a break that ended the last search.
                let from = (searched - 1).max(self.limits.piece_bytes);
                if let Some(at) = memchr::memmem::find(&self.buf[self.pos + from..], b"\n{") {
                    let text = self.take(from + at + 1);
                    self.ready.push_back(Piece::Documents { text, lead_lines });
                    self.state = State::Documents;
                    return;
                }
                searched = self.available();
            }
            let too_long = self.available() > self.limits.max_record + self.limits.piece_bytes;
            if too_long || !self.fill() {
                let end = self.available();
                if end > 0 && !self.capped() {
                    let text = self.take(end);
                    self.ready.push_back(Piece::Documents { text, lead_lines });
                }
                if too_long {
                    self.state = State::Documents;
                }
                return;
            }
        }
    }

    /// Reads elements of an array into one piece, until the piece is full
    /// or the array ends.
    fn elements(&mut self, first_index: u64) -> Chunk {
        let mut chunk = Chunk {
            body: Vec::new(),
            first_index,
            next_index: first_index,
            lead_lines: 0,
            end: ArrayEnd::Full,
            after: None,
        };
        loop {
            match self.peek_nonws() {
                None => {
                    chunk.end = ArrayEnd::Broken;
                    return chunk;
                }
                Some(b']') => {
                    self.pos += 1;
                    chunk.end = ArrayEnd::Closed;
                    return chunk;
                }
                Some(b',') => {
                    self.pos += 1;
                    continue;
                }
                Some(_) => {}
            }
            if chunk.next_index == chunk.first_index {
                chunk.lead_lines = self.lines_before(0);
            }
            match self.value_end(0, self.limits.max_record, true) {
                End::At(end) => {
                    if !chunk.body.is_empty() {
                        chunk.body.push(b',');
                    }
                    chunk
                        .body
                        .extend_from_slice(&self.buf[self.pos..self.pos + end]);
                    self.pos += end;
                    chunk.next_index += 1;
                    if chunk.body.len() >= self.limits.piece_bytes {
                        return chunk;
                    }
                }
                End::TooLong => {
                    // Skipped without being held. The piece ends before it,
                    // so the elements after it keep their indices.
                    let line = self.lines_before(0) + 1;
                    let skipped = self.value_end(0, usize::MAX, false);
                    chunk.after = Some(Piece::Error {
                        line,
                        reason: format!(
                            "record {} is longer than the {}-byte limit for one record; skipped",
                            chunk.next_index, self.limits.max_record
                        ),
                    });
                    match skipped {
                        End::At(end) => {
                            self.pos += end;
                            chunk.next_index += 1;
                        }
                        _ => chunk.end = ArrayEnd::Broken,
                    }
                    return chunk;
                }
                End::Eof | End::Invalid => {
                    // What is left goes to the parser, which says what is
                    // wrong with it (the JSON ends early, a stray bracket).
                    if !chunk.body.is_empty() {
                        chunk.body.push(b',');
                    }
                    let end = self.available().min(self.limits.max_record);
                    chunk
                        .body
                        .extend_from_slice(&self.buf[self.pos..self.pos + end]);
                    self.pos += end;
                    chunk.end = ArrayEnd::Broken;
                    return chunk;
                }
            }
        }
    }

    /// Hands out a chunk of elements framed by `open` and `close`.
    fn push_chunk(&mut self, chunk: Chunk, key: Option<String>, open: &[u8], close: &[u8]) {
        let broken = chunk.end == ArrayEnd::Broken;
        if !chunk.body.is_empty() || broken {
            let mut doc = Vec::with_capacity(chunk.body.len() + open.len() + close.len());
            doc.extend_from_slice(open);
            doc.extend_from_slice(&chunk.body);
            if !broken {
                doc.extend_from_slice(close);
            }
            self.ready.push_back(Piece::Elements {
                doc,
                key,
                first_index: chunk.first_index,
                lead_lines: chunk.lead_lines,
            });
        }
        if let Some(after) = chunk.after {
            self.ready.push_back(after);
        }
    }

    fn top_array(&mut self, index: u64) {
        let chunk = self.elements(index);
        let (end, next) = (chunk.end, chunk.next_index);
        self.push_chunk(chunk, None, b"[", b"]");
        match end {
            ArrayEnd::Full => self.state = State::TopArray { index: next },
            ArrayEnd::Closed => {
                // Only whitespace may follow the array.
                if self.peek_nonws().is_some() {
                    let line = self.lines_before(0) + 1;
                    self.ready.push_back(Piece::Error {
                        line,
                        reason: "invalid JSON: trailing characters after the top-level array"
                            .into(),
                    });
                }
            }
            ArrayEnd::Broken => {}
        }
    }

    fn members(&mut self, mut m: Members) {
        match self.peek_nonws() {
            None => {
                // The document ends early: its parser says so.
                self.finish_document(m, true);
            }
            Some(b'}') => {
                self.pos += 1;
                m.rest.push(b'}');
                self.finish_document(m, false);
            }
            Some(b',') => {
                self.pos += 1;
                self.state = State::Members(m);
            }
            Some(b'"') => {
                let key_end = match self.value_end(0, 1 << 16, true) {
                    End::At(e) => e,
                    _ => {
                        self.broken_member(m);
                        return;
                    }
                };
                let key_text = self.buf[self.pos..self.pos + key_end].to_vec();
                self.pos += key_end;
                if self.peek_nonws() != Some(b':') {
                    m.rest.extend_from_slice(&key_text);
                    self.broken_member(m);
                    return;
                }
                self.pos += 1;
                let key: Option<String> = serde_json::from_slice(&key_text).ok();
                let streamed = key
                    .as_deref()
                    .filter(|k| self.streamed_keys.contains(k))
                    .map(str::to_string);
                if m.written > 0 {
                    m.rest.push(b',');
                }
                m.written += 1;
                m.rest.extend_from_slice(&key_text);
                m.rest.push(b':');
                if let (Some(key), Some(b'[')) = (streamed, self.peek_nonws()) {
                    self.pos += 1;
                    m.rest.extend_from_slice(b"[]");
                    self.state = State::MemberArray {
                        members: m,
                        key,
                        index: 0,
                    };
                    return;
                }
                let room = self.limits.max_record.saturating_sub(m.rest.len());
                match self.value_end(0, room, true) {
                    End::At(end) => {
                        m.rest
                            .extend_from_slice(&self.buf[self.pos..self.pos + end]);
                        self.pos += end;
                        self.state = State::Members(m);
                    }
                    End::TooLong => {
                        let line = m.first_line;
                        self.value_end(0, usize::MAX, false);
                        self.ready.push_back(Piece::Error {
                            line,
                            reason: format!(
                                "a document longer than the {}-byte limit for one record outside its record arrays; not read",
                                self.limits.max_record
                            ),
                        });
                    }
                    End::Eof | End::Invalid => self.broken_member(m),
                }
            }
            Some(_) => self.broken_member(m),
        }
    }

    /// The document breaks off or goes wrong inside its members: what is
    /// there goes to the parser, which words the error.
    fn broken_member(&mut self, mut m: Members) {
        let end = self.available().min(self.limits.piece_bytes);
        m.rest
            .extend_from_slice(&self.buf[self.pos..self.pos + end]);
        self.pos += end;
        self.finish_document(m, true);
    }

    fn member_array(&mut self, m: Members, key: String, index: u64) {
        let chunk = self.elements(index);
        let (end, next) = (chunk.end, chunk.next_index);
        let quoted = serde_json::to_string(&key).unwrap_or_default();
        let open = format!("{{{quoted}:[");
        self.push_chunk(chunk, Some(key.clone()), open.as_bytes(), b"]}");
        match end {
            ArrayEnd::Full => {
                self.state = State::MemberArray {
                    members: m,
                    key,
                    index: next,
                }
            }
            ArrayEnd::Closed => self.state = State::Members(m),
            ArrayEnd::Broken => {}
        }
    }

    /// The top-level document is complete (or broke off): it goes out,
    /// and what follows it decides how the rest of the input is read.
    fn finish_document(&mut self, m: Members, broken: bool) {
        let last_line = self.lines_before(0) + 1;
        let single_line = last_line == m.first_line;
        let lead_lines = m.first_line - 1;
        if broken {
            self.ready.push_back(Piece::Document {
                doc: m.rest,
                line: None,
                as_line: false,
                lead_lines,
            });
            return;
        }
        if self.peek_nonws().is_none() {
            self.ready.push_back(Piece::Document {
                doc: m.rest,
                line: None,
                as_line: false,
                lead_lines,
            });
            return;
        }
        let next_line = self.lines_before(0) + 1;
        let as_line = single_line && next_line > last_line;
        self.ready.push_back(Piece::Document {
            doc: m.rest,
            line: Some(m.first_line),
            as_line,
            lead_lines,
        });
        self.state = if as_line {
            State::Lines
        } else {
            State::Documents
        };
    }
}

fn trim_end(b: &[u8]) -> &[u8] {
    let mut end = b.len();
    while end > 0 && b[end - 1].is_ascii_whitespace() {
        end -= 1;
    }
    &b[..end]
}

/// Three base64url parts, as [`super::jwt::looks_like_jwt`] has it.
fn looks_like_jwt(line: &[u8]) -> bool {
    let t = trim_end(line);
    t.starts_with(b"eyJ") && t.iter().filter(|&&b| b == b'.').count() == 2
}
