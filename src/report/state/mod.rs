//! The memory of `rolecall report`: an SQLite file (rusqlite, with SQLite
//! bundled) that holds every run, what each role was seen with, every
//! exchange, each workflow's API surface and every finding's status. It is
//! created on first use, marked with an application id so that a foreign
//! file is refused rather than reset, and versioned by migrations
//! ([`schema`]). A run reads its history and writes its results in one
//! `BEGIN IMMEDIATE` transaction: a run killed at any point leaves the file
//! as it was, and a second run waits for the first (up to a timeout), then
//! fails with a clear message.

pub mod history;
pub mod record;
pub mod schema;

use std::io::Read;
use std::path::Path;
use std::time::Duration;

use rusqlite::{Connection, ErrorCode, OpenFlags, Transaction, TransactionBehavior};

pub use record::RunRecord;

/// `PRAGMA application_id` of rolecall state files ("RCst").
pub const APPLICATION_ID: i32 = 0x5243_7374;

/// Why the state file cannot be used. Always fatal (exit 2): the state is
/// never reset behind the user's back.
#[derive(Debug, thiserror::Error)]
pub enum StateError {
    #[error(
        "{path}: not a rolecall state file ({reason}); refusing to touch it (choose another --state path)"
    )]
    Foreign { path: String, reason: String },
    #[error("{path}: the state file is damaged ({reason}); keep it for inspection and point --state at a new file")]
    Corrupt { path: String, reason: String },
    #[error("{path}: written by a newer rolecall (schema version {found}; this one knows up to {known}); upgrade rolecall")]
    TooNew {
        path: String,
        found: i64,
        known: i64,
    },
    #[error("{path}: another rolecall run is writing this state file; gave up after {waited} s (see --lock-timeout)")]
    Busy { path: String, waited: u64 },
    #[error("{path}: {reason}")]
    Other { path: String, reason: String },
}

/// An open state file.
pub struct State {
    conn: Connection,
    path: String,
    lock_timeout: Duration,
}

const SQLITE_HEADER: &[u8; 16] = b"SQLite format 3\0";

impl State {
    /// Opens `path`, creating it (and its schema) if it does not exist, and
    /// migrating it if it is older. Waits up to `lock_timeout` for another
    /// run's write to finish.
    pub fn open(path: &str, lock_timeout: Duration) -> Result<State, StateError> {
        Self::open_at(path, lock_timeout, schema::LATEST)
    }

    /// Opens `path` and migrates it no further than `version` (tests build
    /// files of older schema versions with it).
    #[doc(hidden)]
    pub fn open_at(path: &str, lock_timeout: Duration, version: i64) -> Result<State, StateError> {
        let p = Path::new(path);
        if p.exists() {
            check_header(path)?;
        }
        let conn = Connection::open_with_flags(
            p,
            OpenFlags::SQLITE_OPEN_READ_WRITE
                | OpenFlags::SQLITE_OPEN_CREATE
                | OpenFlags::SQLITE_OPEN_NO_MUTEX,
        )
        .map_err(|e| classify(path, e, lock_timeout))?;
        let mut state = State {
            conn,
            path: path.to_string(),
            lock_timeout,
        };
        state.configure()?;
        state.check_integrity()?;
        state.migrate_to(version)?;
        Ok(state)
    }

    pub fn path(&self) -> &str {
        &self.path
    }

    fn err(&self, e: rusqlite::Error) -> StateError {
        classify(&self.path, e, self.lock_timeout)
    }

    fn configure(&mut self) -> Result<(), StateError> {
        self.conn
            .busy_timeout(self.lock_timeout)
            .map_err(|e| self.err(e))?;
        // Rollback journal (the default) with full syncs: a commit is
        // durable, an interrupted transaction rolls back on the next open.
        self.conn
            .execute_batch("PRAGMA foreign_keys = ON; PRAGMA synchronous = FULL;")
            .map_err(|e| self.err(e))
    }

    fn check_integrity(&self) -> Result<(), StateError> {
        let result: String = self
            .conn
            .query_row("PRAGMA quick_check", [], |r| r.get(0))
            .map_err(|e| self.err(e))?;
        if result != "ok" {
            return Err(StateError::Corrupt {
                path: self.path.clone(),
                reason: result,
            });
        }
        Ok(())
    }

    fn pragma(&self, name: &str) -> Result<i64, StateError> {
        self.conn
            .pragma_query_value(None, name, |r| r.get::<_, i64>(0))
            .map_err(|e| self.err(e))
    }

    /// Applies the migrations a file lacks, up to `target`, in one
    /// transaction; refuses foreign and newer files.
    fn migrate_to(&mut self, target: i64) -> Result<(), StateError> {
        let (path, timeout) = (self.path.clone(), self.lock_timeout);
        let err = |e: rusqlite::Error| classify(&path, e, timeout);
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .map_err(err)?;
        let app: i64 = tx
            .pragma_query_value(None, "application_id", |r| r.get(0))
            .map_err(err)?;
        let version: i64 = tx
            .pragma_query_value(None, "user_version", |r| r.get(0))
            .map_err(err)?;
        if app != APPLICATION_ID as i64 {
            let tables: i64 = tx
                .query_row("SELECT count(*) FROM sqlite_master", [], |r| r.get(0))
                .map_err(err)?;
            if app != 0 || version != 0 || tables != 0 {
                return Err(StateError::Foreign {
                    path: path.clone(),
                    reason: if app != 0 {
                        format!("an SQLite database of another application, id {app:#x}")
                    } else {
                        format!("an SQLite database with {tables} tables of its own")
                    },
                });
            }
        }
        if version > schema::LATEST {
            return Err(StateError::TooNew {
                path: path.clone(),
                found: version,
                known: schema::LATEST,
            });
        }
        if version >= target {
            return Ok(());
        }
        for (i, sql) in schema::MIGRATIONS
            .iter()
            .enumerate()
            .take(target as usize)
            .skip(version as usize)
        {
            tx.execute_batch(sql).map_err(|e| StateError::Other {
                path: path.clone(),
                reason: format!("migration to schema version {} failed: {e}", i + 1),
            })?;
        }
        tx.pragma_update(None, "user_version", target)
            .and_then(|_| tx.pragma_update(None, "application_id", APPLICATION_ID))
            .and_then(|_| tx.commit())
            .map_err(err)
    }

    /// The schema version of the open file.
    pub fn version(&self) -> Result<i64, StateError> {
        self.pragma("user_version")
    }

    /// Starts the run's transaction: it holds the write lock from the first
    /// read of history to the commit, so two runs never interleave.
    pub fn begin(&mut self) -> Result<Transaction<'_>, StateError> {
        let (path, timeout) = (self.path.clone(), self.lock_timeout);
        self.conn
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .map_err(|e| classify(&path, e, timeout))
    }

    /// The raw connection, for reading in tests and for `history`.
    pub fn connection(&self) -> &Connection {
        &self.conn
    }

    /// Starts recording a run over `window_key` starting at
    /// `window_start`: the transaction begins (holding the write lock) and
    /// the history the run is judged against is read inside it.
    pub fn record(
        &mut self,
        window_key: &str,
        window_start: crate::model::time::Micros,
    ) -> Result<Recording<'_>, StateError> {
        let (path, lock_timeout) = (self.path.clone(), self.lock_timeout);
        let tx = self.begin()?;
        let history = history::load(&tx, &path, window_key, window_start)?;
        Ok(Recording {
            tx,
            path,
            lock_timeout,
            history,
        })
    }
}

/// A run being recorded: nothing it writes is seen by anyone until
/// [`commit`](Recording::commit), and dropping it leaves the state as it
/// was (a run stopped or failed midway changes nothing).
pub struct Recording<'s> {
    tx: Transaction<'s>,
    path: String,
    lock_timeout: Duration,
    /// What earlier runs saw.
    pub history: crate::model::history::History,
}

/// What recording a run gave back.
pub struct Recorded {
    pub run_id: i64,
    pub trends: crate::model::history::Trends,
    /// Runs in the state, this one included.
    pub runs: usize,
}

impl Recording<'_> {
    /// Writes the run, its observations and its findings' statuses, and
    /// reads the trends back (this run included).
    pub fn write(
        &self,
        run: &RunRecord,
        observations: &crate::model::history::Observations,
        findings: &[crate::model::Finding],
        statuses: &[crate::model::history::Status],
        resolved: &[&crate::model::history::PriorFinding],
    ) -> Result<Recorded, StateError> {
        let run_id = record::write(
            &self.tx,
            &self.path,
            &self.history,
            run,
            observations,
            findings,
            statuses,
            resolved,
        )?;
        let trends = record::trends(&self.tx, &self.path, 30, 30, run.window_end)?;
        let runs: i64 = self
            .tx
            .query_row("SELECT count(*) FROM runs", [], |r| r.get(0))
            .map_err(|e| classify(&self.path, e, Duration::ZERO))?;
        Ok(Recorded {
            run_id,
            trends,
            runs: runs as usize,
        })
    }

    pub fn path(&self) -> &str {
        &self.path
    }

    /// Makes the run part of the state.
    pub fn commit(self) -> Result<(), StateError> {
        let (path, timeout) = (self.path, self.lock_timeout);
        self.tx.commit().map_err(|e| classify(&path, e, timeout))
    }
}

/// Refuses files that are not SQLite databases before SQLite sees them.
fn check_header(path: &str) -> Result<(), StateError> {
    let mut header = [0u8; 16];
    let mut f = std::fs::File::open(path).map_err(|e| StateError::Other {
        path: path.to_string(),
        reason: e.to_string(),
    })?;
    let mut read = 0;
    while read < header.len() {
        match f.read(&mut header[read..]) {
            Ok(0) => break,
            Ok(n) => read += n,
            Err(e) => {
                return Err(StateError::Other {
                    path: path.to_string(),
                    reason: e.to_string(),
                })
            }
        }
    }
    // An empty file is a new database.
    if read == 0 {
        return Ok(());
    }
    if read < header.len() || &header != SQLITE_HEADER {
        return Err(StateError::Foreign {
            path: path.to_string(),
            reason: "not an SQLite database".into(),
        });
    }
    Ok(())
}

/// Maps SQLite's errors to what the user can do about them.
pub fn classify(path: &str, e: rusqlite::Error, timeout: Duration) -> StateError {
    let path = path.to_string();
    match e.sqlite_error_code() {
        Some(ErrorCode::DatabaseBusy | ErrorCode::DatabaseLocked) => StateError::Busy {
            path,
            waited: timeout.as_secs(),
        },
        Some(ErrorCode::NotADatabase) => StateError::Foreign {
            path,
            reason: "not an SQLite database".into(),
        },
        Some(ErrorCode::DatabaseCorrupt) => StateError::Corrupt {
            path,
            reason: e.to_string(),
        },
        _ => StateError::Other {
            path,
            reason: e.to_string(),
        },
    }
}
