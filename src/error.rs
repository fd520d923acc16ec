//! Errors that say where they happened.
//!
//! Every error a user can cause names the file and, where it has one, the
//! record (line or array index) and a reason. Input errors are values, not
//! control flow: ingest collects them beside the records it could read, so one
//! bad file or record never stops the others. This module imports nothing
//! internal.

use std::fmt;

use serde::Serialize;

/// Where inside a file an input error sits.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Location {
    /// The file as a whole (unreadable, not a log, truncated gzip...).
    File,
    /// A 1-based line of a line-delimited file.
    Line(u64),
    /// A 0-based index into an array of records (`Records[i]`, `Events[i]`).
    Record(u64),
    /// A record inside an array on one line of a line-delimited file.
    LineRecord { line: u64, record: u64 },
}

impl fmt::Display for Location {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Location::File => Ok(()),
            Location::Line(n) => write!(f, "line {n}"),
            Location::Record(i) => write!(f, "record {i}"),
            Location::LineRecord { line, record } => write!(f, "line {line}, record {record}"),
        }
    }
}

/// A file or record that could not be read. Counted, reported on stderr and
/// in the summary; the run goes on.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, serde::Deserialize)]
pub struct InputError {
    pub path: String,
    pub location: Location,
    pub reason: String,
}

impl InputError {
    pub fn file(path: impl Into<String>, reason: impl Into<String>) -> Self {
        InputError {
            path: path.into(),
            location: Location::File,
            reason: reason.into(),
        }
    }

    pub fn at(path: impl Into<String>, location: Location, reason: impl Into<String>) -> Self {
        InputError {
            path: path.into(),
            location,
            reason: reason.into(),
        }
    }
}

impl fmt::Display for InputError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.location {
            Location::File => write!(f, "{}: {}", self.path, self.reason),
            _ => write!(f, "{}: {}: {}", self.path, self.location, self.reason),
        }
    }
}

/// A policy file that cannot be used. Always fatal (exit 2).
#[derive(Debug, thiserror::Error)]
pub enum PolicyError {
    #[error("{path}: {source}")]
    Read {
        path: String,
        source: std::io::Error,
    },
    #[error("{path}: line {line}, column {column}: {reason}")]
    Invalid {
        path: String,
        line: usize,
        column: usize,
        reason: String,
    },
}

/// A detection query that cannot be loaded or run. Always fatal (exit 2):
/// a gate that silently skipped a detection would lie.
#[derive(Debug, thiserror::Error)]
pub enum QueryError {
    #[error("{path}: {source}")]
    Read {
        path: String,
        source: std::io::Error,
    },
    #[error("{path}: line {line}: {reason}")]
    Header {
        path: String,
        line: usize,
        reason: String,
    },
    #[error("detection {id} ({path}): {reason}")]
    Run {
        id: String,
        path: String,
        reason: String,
    },
}

/// A JWKS file given with `--jwks` that cannot be used. Fatal (exit 2).
#[derive(Debug, thiserror::Error)]
#[error("{path}: {reason}")]
pub struct JwksError {
    pub path: String,
    pub reason: String,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn input_error_names_file_and_record() {
        let e = InputError::at("logs/a.json", Location::Record(3), "eventTime is a number");
        assert_eq!(
            e.to_string(),
            "logs/a.json: record 3: eventTime is a number"
        );
        let e = InputError::at("b.ndjson", Location::Line(12), "invalid JSON");
        assert_eq!(e.to_string(), "b.ndjson: line 12: invalid JSON");
        let e = InputError::file("c.gz", "truncated gzip");
        assert_eq!(e.to_string(), "c.gz: truncated gzip");
    }
}
