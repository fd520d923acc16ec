//! Reading a dataset back: the manifest, then every Parquet file under each
//! table's directory (any subset of the partitions), partition values
//! restored from the path, and every column checked against the manifest's
//! type, so that a file rewritten by another engine is either read as
//! rolecall wrote it or refused with its path.

use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};

use polars::prelude::*;
use polars_io::prelude::ParquetReader;
use polars_io::SerReader;

use super::{dtype_of, layout, unescape, Manifest, FORMAT, MANIFEST, VERSION};

/// Why a dataset could not be read.
#[derive(Debug, thiserror::Error)]
#[error("{path}: {reason}")]
pub struct LakeError {
    pub path: String,
    pub reason: String,
}

fn err(path: &Path, reason: impl std::fmt::Display) -> LakeError {
    LakeError {
        path: path.display().to_string(),
        reason: reason.to_string(),
    }
}

/// A dataset as read.
pub struct Dataset {
    pub manifest: Manifest,
    pub tables: BTreeMap<String, DataFrame>,
    /// Parquet files read.
    pub files: usize,
}

/// Reads the dataset at `dir`.
pub fn read_dataset(dir: &Path) -> Result<Dataset, LakeError> {
    let mpath = dir.join(MANIFEST);
    let text = fs::read_to_string(&mpath).map_err(|e| {
        err(
            &mpath,
            format!("{e} (not a `rolecall export --parquet` dataset, or its manifest was not copied with the partitions)"),
        )
    })?;
    let manifest: Manifest = serde_json::from_str(&text).map_err(|e| err(&mpath, e))?;
    if manifest.format != FORMAT || manifest.version != VERSION {
        return Err(err(
            &mpath,
            format!(
                "format {} version {}; this rolecall reads {FORMAT} version {VERSION}",
                manifest.format, manifest.version
            ),
        ));
    }
    let mut tables = BTreeMap::new();
    let mut files = 0;
    for (name, info) in &manifest.tables {
        let Some(lay) = layout(name) else {
            continue;
        };
        let mut schema = Schema::with_capacity(info.columns.len());
        for c in &info.columns {
            let dtype = dtype_of(&c.sql_type).ok_or_else(|| {
                err(
                    &mpath,
                    format!(
                        "table {name}: column {} has unknown type {}",
                        c.name, c.sql_type
                    ),
                )
            })?;
            schema.insert(c.name.as_str().into(), dtype);
        }
        let mut paths = Vec::new();
        collect_parquet(&dir.join(name), &mut paths)?;
        paths.sort();
        let mut frame = DataFrame::empty_with_schema(&schema);
        for path in &paths {
            let part = read_part(path, &dir.join(name), lay.by_account, &schema)?;
            frame.vstack_mut(&part).map_err(|e| err(path, e))?;
            files += 1;
        }
        frame.rechunk_mut();
        tables.insert(name.clone(), frame);
    }
    Ok(Dataset {
        manifest,
        tables,
        files,
    })
}

/// Every `*.parquet` under `dir`, skipping hidden and `_`-prefixed entries
/// (`_SUCCESS`, `.crc` files) as Spark and Hive do. A missing directory is
/// an empty table: the partition set left it out.
fn collect_parquet(dir: &Path, out: &mut Vec<PathBuf>) -> Result<(), LakeError> {
    let entries = match fs::read_dir(dir) {
        Ok(e) => e,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(()),
        Err(e) => return Err(err(dir, e)),
    };
    for entry in entries {
        let entry = entry.map_err(|e| err(dir, e))?;
        let name = entry.file_name().to_string_lossy().into_owned();
        if name.starts_with('.') || name.starts_with('_') {
            continue;
        }
        let path = entry.path();
        let kind = entry.file_type().map_err(|e| err(&path, e))?;
        if kind.is_dir() {
            collect_parquet(&path, out)?;
        } else if name.ends_with(".parquet") {
            out.push(path);
        }
    }
    Ok(())
}

/// One file, with its partition columns back and the manifest's columns
/// in the manifest's order.
fn read_part(
    path: &Path,
    table_dir: &Path,
    by_account: bool,
    schema: &Schema,
) -> Result<DataFrame, LakeError> {
    let file = fs::File::open(path).map_err(|e| err(path, e))?;
    // A damaged or foreign file must be an error naming it, not a crash,
    // whatever the Parquet reader makes of it.
    let read = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        ParquetReader::new(file).finish()
    }));
    let mut df = match read {
        Ok(result) => result.map_err(|e| err(path, e))?,
        Err(_) => {
            return Err(err(
                path,
                "not a readable Parquet file (the reader gave up on it)",
            ))
        }
    };
    let height = df.height();
    let mut values: BTreeMap<String, Option<String>> = BTreeMap::new();
    let rel = path.strip_prefix(table_dir).unwrap_or(path);
    for seg in rel.parent().into_iter().flat_map(|p| p.components()) {
        let seg = seg.as_os_str().to_string_lossy();
        let Some((key, value)) = seg.split_once('=') else {
            return Err(err(
                path,
                format!("directory {seg:?} is not a KEY=VALUE partition"),
            ));
        };
        values.insert(key.to_string(), unescape(value).map_err(|e| err(path, e))?);
    }
    if by_account {
        for key in ["cloud", "account"] {
            let Some(value) = values.get(key) else {
                return Err(err(path, format!("not under a {key}= partition")));
            };
            let col = Column::new(key.into(), vec![value.as_deref(); height]);
            df.with_column(col).map_err(|e| err(path, e))?;
        }
    }
    let mut columns = Vec::with_capacity(schema.len());
    for (name, dtype) in schema.iter() {
        let c = df
            .column(name)
            .map_err(|_| err(path, format!("has no column {name}")))?;
        let c = if c.dtype() == dtype {
            c.clone()
        } else {
            c.cast(dtype).map_err(|e| {
                err(
                    path,
                    format!(
                        "column {name} ({}) does not read as {dtype}: {e}",
                        c.dtype()
                    ),
                )
            })?
        };
        columns.push(c);
    }
    DataFrame::new(height, columns).map_err(|e| err(path, e))
}

/// The result rows of query `id` computed elsewhere: `DIR/ID.jsonl`, one
/// JSON object per line (Spark's `write.json`, Trino's and Athena's JSON
/// output). A missing file is an error: a detection that did not run must
/// not read as clean.
pub fn read_results(
    dir: &Path,
    id: &str,
) -> Result<Vec<serde_json::Map<String, serde_json::Value>>, LakeError> {
    let path = dir.join(format!("{id}.jsonl"));
    let text = fs::read_to_string(&path).map_err(|e| {
        err(
            &path,
            format!(
                "{e}: no result rows for detection {id} (run every query, or name the ones run with --rules)"
            ),
        )
    })?;
    let mut rows = Vec::new();
    for (n, line) in text.lines().enumerate() {
        if line.trim().is_empty() {
            continue;
        }
        match serde_json::from_str::<serde_json::Value>(line) {
            Ok(serde_json::Value::Object(map)) => rows.push(map),
            Ok(_) => return Err(err(&path, format!("line {}: not a JSON object", n + 1))),
            Err(e) => return Err(err(&path, format!("line {}: {e}", n + 1))),
        }
    }
    Ok(rows)
}

/// Reads text, integer and time cells of one frame by column name.
struct Cells<'a> {
    df: &'a DataFrame,
    cache: BTreeMap<&'static str, Option<Column>>,
}

impl<'a> Cells<'a> {
    fn new(df: &'a DataFrame) -> Self {
        Cells {
            df,
            cache: BTreeMap::new(),
        }
    }

    fn col(&mut self, name: &'static str) -> Option<&Column> {
        let df = self.df;
        self.cache
            .entry(name)
            .or_insert_with(|| {
                let c = df.column(name).ok()?;
                match c.dtype() {
                    DataType::Datetime(_, _) => c.cast(&DataType::Int64).ok(),
                    _ => Some(c.clone()),
                }
            })
            .as_ref()
    }

    fn text(&mut self, name: &'static str, row: usize) -> Option<String> {
        let c = self.col(name)?;
        c.str().ok()?.get(row).map(str::to_string)
    }

    fn int(&mut self, name: &'static str, row: usize) -> Option<i64> {
        self.col(name)?.i64().ok()?.get(row)
    }
}

/// The exchanges of an `assumptions` table, as the Rust detections read
/// them.
pub fn frame_assumptions(df: &DataFrame) -> Vec<crate::model::records::Assumption> {
    let mut c = Cells::new(df);
    (0..df.height())
        .map(|i| crate::model::records::Assumption {
            time: c.int("time", i),
            cloud: c.text("cloud", i).unwrap_or_default(),
            account: c.text("account", i),
            region: c.text("region", i),
            issuer: c.text("issuer", i),
            provider_arn: c.text("provider_arn", i),
            subject: c.text("subject", i),
            audience: c.text("audience", i),
            role_arn: c.text("role_arn", i),
            role_id: c.text("role_id", i),
            role_session_name: c.text("role_session_name", i),
            duration_seconds: c.int("duration_seconds", i),
            access_key_id: c.text("access_key_id", i),
            expiration: c.int("expiration", i),
            assumed_role_arn: c.text("assumed_role_arn", i),
            source_identity: c.text("source_identity", i),
            source_ip: c.text("source_ip", i),
            user_agent: c.text("user_agent", i),
            error_code: c.text("error_code", i),
            error_message: c.text("error_message", i),
            event_id: c.text("event_id", i),
            request_parameters: c.text("request_parameters", i),
            record: c.int("record", i).unwrap_or(0) as u32,
            line: c.int("line", i).unwrap_or(0) as u32,
            ..Default::default()
        })
        .collect()
}

/// The sessions of a `sessions` table, with what the outputs read of them
/// (key, role, claims match, the token's facts).
pub fn frame_sessions(df: &DataFrame) -> Vec<crate::model::records::Session> {
    use crate::model::records::{ClaimsMatch, MatchKind, Session};
    use crate::model::subject::Fact;
    let mut c = Cells::new(df);
    let fact = |c: &mut Cells<'_>, name: &'static str, i: usize| match c.text(name, i) {
        Some(v) => Fact::of(v),
        None => Fact::absent(),
    };
    (0..df.height())
        .map(|i| {
            let kind = match c.text("match", i).as_deref() {
                Some("exact") => MatchKind::Exact,
                Some("ambiguous") => MatchKind::Ambiguous,
                Some("derived") => MatchKind::Derived,
                _ => MatchKind::None,
            };
            Session {
                key: c.text("session_key", i).unwrap_or_default(),
                role_arn: c.text("role_arn", i),
                matched: ClaimsMatch {
                    kind,
                    claims: None,
                    candidates: 0,
                },
                repository: fact(&mut c, "repository", i),
                git_ref: fact(&mut c, "ref", i),
                environment: fact(&mut c, "environment", i),
                workflow_ref: fact(&mut c, "workflow_ref", i),
                trigger: fact(&mut c, "trigger", i),
                deployment_tier: c.text("deployment_tier", i),
                run_id: c.text("run_id", i),
                run_attempt: c.text("run_attempt", i),
                actor: c.text("actor", i),
                token_key: c.text("token_key", i),
                calls: c.int("calls", i).unwrap_or(0) as usize,
                errors: c.int("errors", i).unwrap_or(0) as usize,
                distinct_ips: c.int("distinct_ips", i).unwrap_or(0) as usize,
                first_use: c.int("first_use", i),
                last_use: c.int("last_use", i),
                ..Default::default()
            }
        })
        .collect()
}
