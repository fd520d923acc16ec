//! Writing the dataset: every table split by partition, one Parquet file
//! per partition (zstd, with statistics), the manifest last.
//!
//! The dataset is built in a sibling directory and renamed into place at
//! the end, so a failed export never leaves a half-written dataset where a
//! good one was.

use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};

use polars::prelude::*;
use polars_io::parquet::write::{ParquetCompression, ParquetWriter, StatisticsOptions};

use super::{escape, layout, sql_type, ColumnInfo, Manifest, TableInfo, FORMAT, MANIFEST, VERSION};
use crate::model::fingerprint::sha256_hex;
use crate::model::time::format_time;
use crate::model::Summary;

/// Why an export failed.
#[derive(Debug, thiserror::Error)]
pub enum ExportError {
    #[error("{0}: exists and is not empty, and is not a rolecall export (nothing was written)")]
    NotEmpty(String),
    #[error("{0}: holds an earlier export; --overwrite replaces it")]
    Exists(String),
    #[error("{path}: {reason}")]
    Io { path: String, reason: String },
    #[error("table {table}: {reason}")]
    Table { table: String, reason: String },
}

fn io_err(path: &Path, e: impl std::fmt::Display) -> ExportError {
    ExportError::Io {
        path: path.display().to_string(),
        reason: e.to_string(),
    }
}

/// What an export wrote.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Written {
    pub tables: usize,
    pub files: usize,
    pub rows: usize,
}

/// What goes into the manifest besides the tables.
pub struct About<'a> {
    pub sources: &'a [String],
    pub policy_text: Option<&'a str>,
    pub summary: &'a Summary,
    pub keys: &'a crate::model::keys::KeyReport,
}

/// Writes `tables` (name → frame) under `dir`.
pub fn write_dataset(
    dir: &Path,
    tables: &BTreeMap<String, DataFrame>,
    about: &About<'_>,
    overwrite: bool,
) -> Result<Written, ExportError> {
    let existing = fs::read_dir(dir)
        .map(|mut d| d.next().is_some())
        .unwrap_or(false);
    if existing {
        if !dir.join(MANIFEST).is_file() {
            return Err(ExportError::NotEmpty(dir.display().to_string()));
        }
        if !overwrite {
            return Err(ExportError::Exists(dir.display().to_string()));
        }
    }
    let parent = match dir.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    };
    fs::create_dir_all(&parent).map_err(|e| io_err(&parent, e))?;
    let name = dir
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let staging = parent.join(format!(".{name}.rolecall-export-{}", std::process::id()));
    let _ = fs::remove_dir_all(&staging);
    fs::create_dir(&staging).map_err(|e| io_err(&staging, e))?;
    let result = write_all(&staging, tables, about);
    let written = match result {
        Ok(w) => w,
        Err(e) => {
            let _ = fs::remove_dir_all(&staging);
            return Err(e);
        }
    };
    if existing {
        fs::remove_dir_all(dir).map_err(|e| io_err(dir, e))?;
    } else if dir.exists() {
        fs::remove_dir(dir).map_err(|e| io_err(dir, e))?;
    }
    fs::rename(&staging, dir).map_err(|e| io_err(dir, e))?;
    Ok(written)
}

fn write_all(
    root: &Path,
    tables: &BTreeMap<String, DataFrame>,
    about: &About<'_>,
) -> Result<Written, ExportError> {
    let mut written = Written::default();
    let mut infos = BTreeMap::new();
    for (table, df) in tables {
        let Some(lay) = layout(table) else {
            continue;
        };
        let table_err = |reason: String| ExportError::Table {
            table: table.clone(),
            reason,
        };
        let columns = df
            .schema()
            .iter()
            .map(|(name, dtype)| {
                sql_type(dtype)
                    .map(|t| ColumnInfo {
                        name: name.to_string(),
                        sql_type: t.to_string(),
                    })
                    .ok_or_else(|| {
                        table_err(format!(
                            "column {name} has type {dtype}, which has no SQL name"
                        ))
                    })
            })
            .collect::<Result<Vec<_>, _>>()?;
        let parts = partitions(df, lay.by_account, lay.day_from).map_err(table_err)?;
        let dropped: Vec<PlSmallStr> = if lay.by_account {
            vec!["cloud".into(), "account".into()]
        } else {
            Vec::new()
        };
        let mut files = 0;
        for (path, rows) in &parts {
            let idx = IdxCa::from_vec("".into(), rows.iter().map(|&r| r as IdxSize).collect());
            let mut part = df
                .take(&idx)
                .map(|p| p.drop_many(dropped.iter().cloned()))
                .map_err(|e| table_err(e.to_string()))?;
            let dir = root.join(table).join(path);
            fs::create_dir_all(&dir).map_err(|e| io_err(&dir, e))?;
            let file = dir.join("part-00000.parquet");
            let out = fs::File::create(&file).map_err(|e| io_err(&file, e))?;
            ParquetWriter::new(out)
                .with_compression(ParquetCompression::Zstd(None))
                .with_statistics(StatisticsOptions::full())
                .finish(&mut part)
                .map_err(|e| io_err(&file, e))?;
            files += 1;
        }
        written.tables += 1;
        written.files += files;
        written.rows += df.height();
        infos.insert(
            table.clone(),
            TableInfo {
                partitioned_by: lay.keys().iter().map(|k| k.to_string()).collect(),
                rows: df.height(),
                files,
                columns,
            },
        );
    }
    let manifest = Manifest {
        format: FORMAT.to_string(),
        version: VERSION,
        rolecall_version: env!("CARGO_PKG_VERSION").to_string(),
        created: format_time(chrono::Utc::now().timestamp_micros()),
        sources: about.sources.to_vec(),
        policy: about.policy_text.map(str::to_string),
        policy_sha256: about.policy_text.map(|t| sha256_hex(t.as_bytes())),
        tables: infos,
        summary: about.summary.clone(),
        static_keys: about.keys.clone(),
    };
    let path = root.join(MANIFEST);
    let text = serde_json::to_string_pretty(&manifest).map_err(|e| io_err(&path, e))?;
    fs::write(&path, text + "\n").map_err(|e| io_err(&path, e))?;
    Ok(written)
}

/// The UTC date of a time (`None` outside the calendar's range: the null
/// partition).
fn utc_day(t: i64) -> Option<String> {
    chrono::DateTime::from_timestamp_micros(t).map(|d| d.format("%Y-%m-%d").to_string())
}

/// Microseconds in a day.
const DAY: i64 = 86_400_000_000;

/// cloud, account and day number (days since the epoch) of one row.
type PartitionKey<'a> = (Option<&'a str>, Option<&'a str>, Option<i64>);

/// Row numbers by partition path (`cloud=aws/account=1/day=2025-05-14`).
/// Rows are grouped on borrowed values and day numbers first, so a path is
/// built once per partition, not once per row. An empty table still gets
/// one (empty) file, so that every engine sees its columns.
fn partitions(
    df: &DataFrame,
    by_account: bool,
    day_from: Option<&str>,
) -> Result<BTreeMap<String, Vec<usize>>, String> {
    let text_col = |name: &str| -> Result<&StringChunked, String> {
        let c = df.column(name).map_err(|e| e.to_string())?;
        c.str().map_err(|e| format!("{name}: {e}"))
    };
    let (clouds, accounts) = if by_account {
        (Some(text_col("cloud")?), Some(text_col("account")?))
    } else {
        (None, None)
    };
    let micros_col = day_from
        .map(|name| {
            df.column(name)
                .and_then(|c| c.cast(&DataType::Int64))
                .map_err(|e| format!("{name}: {e}"))
        })
        .transpose()?;
    let micros = micros_col
        .as_ref()
        .map(|c| c.i64())
        .transpose()
        .map_err(|e| e.to_string())?;
    let mut groups: BTreeMap<PartitionKey<'_>, Vec<usize>> = BTreeMap::new();
    for row in 0..df.height() {
        let cloud = clouds.and_then(|c| c.get(row));
        let account = accounts.and_then(|c| c.get(row));
        let day = micros.and_then(|m| m.get(row)).map(|t| t.div_euclid(DAY));
        groups.entry((cloud, account, day)).or_default().push(row);
    }
    let mut out: BTreeMap<String, Vec<usize>> = BTreeMap::new();
    for ((cloud, account, day), rows) in groups {
        let mut segs = Vec::new();
        if by_account {
            segs.push(format!("cloud={}", escape(cloud)));
            segs.push(format!("account={}", escape(account)));
        }
        if day_from.is_some() {
            let date = day.and_then(|d| utc_day(d.checked_mul(DAY)?));
            segs.push(format!("day={}", escape(date.as_deref())));
        }
        // Days outside the calendar all land in the null partition.
        out.entry(segs.join("/")).or_default().extend(rows);
    }
    if out.is_empty() {
        let mut segs = Vec::new();
        if by_account {
            segs.push(format!("cloud={}", super::NULL_PARTITION));
            segs.push(format!("account={}", super::NULL_PARTITION));
        }
        if day_from.is_some() {
            segs.push(format!("day={}", super::NULL_PARTITION));
        }
        out.insert(segs.join("/"), Vec::new());
    }
    for rows in out.values_mut() {
        rows.sort_unstable();
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn days_are_utc_dates_and_impossible_times_are_the_null_partition() {
        assert_eq!(
            utc_day(1_747_180_800_000_000).as_deref(),
            Some("2025-05-14")
        );
        assert_eq!(utc_day(-1).as_deref(), Some("1969-12-31"));
        assert_eq!(utc_day(i64::MAX), None);
        let df = df!("time" => [Some(0i64), None, Some(i64::MAX)]).unwrap();
        let parts = partitions(&df, false, Some("time")).unwrap();
        let keys: Vec<&str> = parts.keys().map(String::as_str).collect();
        assert_eq!(keys, ["day=1970-01-01", "day=__HIVE_DEFAULT_PARTITION__"]);
        assert_eq!(parts["day=__HIVE_DEFAULT_PARTITION__"], vec![1, 2]);
    }
}
