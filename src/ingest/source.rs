//! What every reader shares: the one signature a source is read through,
//! and the [`Parser`] it writes its rows into.
//!
//! A [`Source`] is a row of the [dispatch](super::dispatch) table: a cheap
//! `sniff` over an object's keys and a `read` that turns the object into
//! rows of the file's [`Batch`], or declines it (the object only looked
//! like one of its records) so that the next row is tried. A reader sees the
//! object as the JSON layer read it ([`Record::obj`], borrowed keys and raw
//! values) and can ask for it as one whole JSON map ([`Record::map`], built
//! once however many readers ask). Imports the JSON layer and the model.

use serde_json::{Map, Value};

use super::file::FileCtx;
use super::json::{FieldError, Obj};
use super::Batch;
use crate::error::{InputError, Location};
use crate::model::records::Assumption;
use crate::model::time::Micros;

/// Where the record sits, for the rows that point back to it.
#[derive(Clone, Copy)]
pub struct Position {
    pub file: u32,
    pub record: u32,
    pub line: u32,
}

/// What became of one record.
#[derive(Debug)]
pub enum Outcome {
    /// The event was kept; `assumption` is set for web-identity exchanges.
    Event(Option<Box<Assumption>>),
    /// An Insight record: not an API call.
    Insight,
    /// Outside `--since`/`--until`.
    OutsideWindow,
}

/// Reads one audit record, given as a whole JSON map, handing its row to
/// `push` (which stores it and returns its index).
pub type EventReader = fn(
    &Map<String, Value>,
    Position,
    (Option<Micros>, Option<Micros>),
    &mut dyn FnMut(&crate::model::EventRow<'_>) -> usize,
) -> Result<Outcome, FieldError>;

/// Whether a reader took an object.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Read {
    /// Read (or reported as an error): the dispatch stops here.
    Taken,
    /// Not this source's after all: the next row is tried.
    Declined,
}

/// One row of the dispatch table.
pub struct Source {
    /// What `rolecall` calls the input in messages and docs.
    pub name: &'static str,
    /// A cheap look at the object's keys.
    pub sniff: fn(&Obj<'_>) -> bool,
    pub read: fn(&mut Parser<'_, '_>, &mut Record<'_, '_>) -> Read,
}

/// One object being read, with where it sits.
pub struct Record<'r, 'de> {
    pub obj: &'r Obj<'de>,
    pub at: Location,
    /// Its index when it came from an array, else 0.
    pub index: u64,
    /// The whole map, once a reader asked: `Some(None)` when a value in it
    /// was unreadable (reported once).
    map: Option<Option<Map<String, Value>>>,
}

impl<'r, 'de> Record<'r, 'de> {
    pub fn new(obj: &'r Obj<'de>, at: Location, index: u64) -> Self {
        Record {
            obj,
            at,
            index,
            map: None,
        }
    }

    /// The object as one JSON map; `None` when a value is unreadable, in
    /// which case the record is counted and its error reported (once).
    pub fn map(&mut self, p: &mut Parser<'_, '_>) -> Option<&Map<String, Value>> {
        if self.map.is_none() {
            self.map = Some(match pairs_to_map(self.obj) {
                Ok(map) => Some(map),
                Err(e) => {
                    p.out.records += 1;
                    p.error(self.at.clone(), e);
                    None
                }
            });
        }
        self.map.as_ref().and_then(Option::as_ref)
    }
}

/// Rebuilds a whole object from its borrowed pairs (claims and jobs are
/// few; they get full JSON values).
pub fn pairs_to_map(obj: &Obj<'_>) -> Result<Map<String, Value>, String> {
    let mut map = Map::new();
    for (k, v) in &obj.pairs {
        let value: Value =
            serde_json::from_str(v.get()).map_err(|e| format!("`{k}` is not readable: {e}"))?;
        map.insert(k.to_string(), value);
    }
    Ok(map)
}

/// Turns records into rows for one file.
pub struct Parser<'c, 'o> {
    pub ctx: &'c FileCtx<'o>,
    pub out: &'c mut Batch,
    /// Line of the document being read (line-delimited files), else 0.
    pub line: u64,
    /// Index of the first element of the record array being read, when
    /// it is a piece of a longer one (see [`stream`](super::json::stream)).
    pub record_base: u64,
}

impl<'c, 'o> Parser<'c, 'o> {
    pub fn new(ctx: &'c FileCtx<'o>, out: &'c mut Batch) -> Self {
        Parser {
            ctx,
            out,
            line: 0,
            record_base: 0,
        }
    }

    pub fn error(&mut self, location: Location, reason: impl Into<String>) {
        self.out
            .errors
            .push(InputError::at(self.ctx.display, location, reason));
    }

    pub fn syntax_error(&mut self, e: &serde_json::Error, lead_lines: u64) {
        let line = lead_lines + e.line() as u64;
        let reason = if e.is_eof() {
            format!("the JSON ends early (truncated file?): {e}")
        } else {
            format!("invalid JSON: {e}")
        };
        self.error(Location::Line(line.max(1)), reason);
    }

    /// Where an element of a streamed array sits.
    pub fn element_location(&self, index: u64) -> Location {
        if self.line > 0 {
            Location::LineRecord {
                line: self.line,
                record: index,
            }
        } else {
            Location::Record(index)
        }
    }

    pub fn position(&self, record: u64) -> Position {
        Position {
            file: self.ctx.file,
            record: record.min(u32::MAX as u64) as u32,
            line: self.line.min(u32::MAX as u64) as u32,
        }
    }

    /// The `--since`/`--until` window.
    pub fn window(&self) -> (Option<Micros>, Option<Micros>) {
        (self.ctx.opts.since, self.ctx.opts.until)
    }

    /// Hands an event's row to the batch (or, for a call no session can
    /// have made, only counts it) and returns its index.
    pub fn pusher(&mut self) -> impl FnMut(&crate::model::EventRow<'_>) -> usize + '_ {
        let elide = self.ctx.opts.elide_unrelated_events;
        let out = &mut *self.out;
        move |row| out.push_event(row, elide)
    }

    /// What reading one record gave, in the counts and rows.
    pub fn outcome(&mut self, outcome: Result<Outcome, FieldError>, at: Location) {
        match outcome {
            Ok(Outcome::Event(Some(a))) => self.out.assumptions.push(*a),
            Ok(Outcome::Event(None)) => {}
            Ok(Outcome::Insight) => self.out.records_skipped += 1,
            Ok(Outcome::OutsideWindow) => self.out.records_outside_window += 1,
            Err(e) => self.error(at, e.to_string()),
        }
    }

    /// A record of an audit source read as a whole JSON map.
    pub fn event(
        &mut self,
        map: &Map<String, Value>,
        at: Location,
        record: u64,
        reader: EventReader,
    ) {
        self.out.records += 1;
        let pos = self.position(record);
        let window = self.window();
        let result = reader(map, pos, window, &mut self.pusher());
        self.outcome(result, at);
    }
}

/// Whether an object has a key that only the logs read as whole maps
/// have (GCP, Vault, Entra): the one look their rows share before a map is
/// built.
pub fn keyed_log(obj: &Obj<'_>) -> bool {
    use super::json::Key;
    obj.has(Key::ProtoPayload)
        || (obj.has(Key::Type) && obj.has(Key::Request))
        || obj.has(Key::Category)
        || obj.has(Key::TimeGenerated)
        || obj.has(Key::OperationNameValue)
        || (obj.has(Key::Issuer) && obj.has(Key::Subject) && obj.has(Key::Audiences))
}

/// Reads a record as a whole map with `reader` when `is` says the map is
/// one of its source's; else declines it.
pub fn map_event(
    p: &mut Parser<'_, '_>,
    rec: &mut Record<'_, '_>,
    is: fn(&Map<String, Value>) -> bool,
    reader: EventReader,
) -> Read {
    let (at, index) = (rec.at.clone(), rec.index);
    let Some(map) = rec.map(p) else {
        return Read::Taken;
    };
    if !is(map) {
        return Read::Declined;
    }
    p.event(map, at, index, reader);
    Read::Taken
}
