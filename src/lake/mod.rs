//! Lake: the engine's tables as a Parquet dataset, partitioned Hive-style,
//! for the engines that scale out (Spark, Trino/Athena, DuckDB) and back.
//!
//! [`write`] (behind `rolecall export`) puts each table in its own
//! directory, split into `cloud=/account=/day=` partitions where the table
//! has them, and a manifest (`_rolecall.json`: format version, each table's
//! columns and types, the policy the derived columns were computed with,
//! the run's summary). [`read`] (behind `rolecall scan --from-parquet`)
//! takes any set of those partitions back with the manifest and hands the
//! tables to the detections. Partition values come from logs, so they are
//! escaped as Hive escapes them: no value can name a path of its own.
//! Imports `model` and `text`; the pipeline hands it tables and reads
//! them back from it.

pub mod read;
pub mod write;

use std::collections::BTreeMap;

use polars::prelude::DataType;
use polars::prelude::TimeUnit;
use serde::{Deserialize, Serialize};

use crate::model::Summary;

/// `format` in the manifest.
pub const FORMAT: &str = "rolecall-parquet";
/// Bumped whenever a column changes name, type or meaning.
pub const VERSION: u32 = 1;
/// The manifest's file name, at the dataset's root.
pub const MANIFEST: &str = "_rolecall.json";
/// Hive's (and Spark's, Trino's) spelling of a null partition value.
pub const NULL_PARTITION: &str = "__HIVE_DEFAULT_PARTITION__";
/// Longest escaped partition value; a directory name has 255 bytes.
const MAX_PARTITION_VALUE: usize = 200;

/// How one table is laid out on disk.
#[derive(Debug, Clone, Copy)]
pub struct Layout {
    pub table: &'static str,
    /// Partitioned by `cloud=` and `account=` (columns of the table, moved
    /// to the path).
    pub by_account: bool,
    /// The time column `day=` is taken from (UTC date), if any.
    pub day_from: Option<&'static str>,
}

impl Layout {
    /// The partition keys, outermost first.
    pub fn keys(&self) -> Vec<&'static str> {
        let mut k = Vec::new();
        if self.by_account {
            k.extend(["cloud", "account"]);
        }
        if self.day_from.is_some() {
            k.push("day");
        }
        k
    }
}

/// Every exported table. `sessions`, `activity` and `sensitive_actions`
/// carry the columns the policy decides (tiers, allowed lists, CIDR
/// checks): they are what the detections in `queries/` read.
pub const LAYOUTS: &[Layout] = &[
    Layout {
        table: "events",
        by_account: true,
        day_from: Some("time"),
    },
    Layout {
        table: "assumptions",
        by_account: true,
        day_from: Some("time"),
    },
    Layout {
        table: "sessions",
        by_account: true,
        day_from: Some("time"),
    },
    Layout {
        table: "activity",
        by_account: true,
        day_from: Some("time"),
    },
    Layout {
        table: "claims",
        by_account: false,
        day_from: Some("iat"),
    },
    Layout {
        table: "jobs",
        by_account: false,
        day_from: Some("started_at"),
    },
    Layout {
        table: "runs",
        by_account: false,
        day_from: Some("started_at"),
    },
    Layout {
        table: "sensitive_actions",
        by_account: false,
        day_from: None,
    },
    Layout {
        table: "keys",
        by_account: false,
        day_from: None,
    },
];

pub fn layout(table: &str) -> Option<&'static Layout> {
    LAYOUTS.iter().find(|l| l.table == table)
}

/// The dataset's description, written last (a dataset without one is
/// incomplete).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Manifest {
    pub format: String,
    pub version: u32,
    pub rolecall_version: String,
    pub created: String,
    pub sources: Vec<String>,
    /// The policy file the derived columns were computed with, verbatim
    /// (`None`: the built-in defaults).
    pub policy: Option<String>,
    /// SHA-256 of `policy` (hex), to tell policies apart at a glance.
    pub policy_sha256: Option<String>,
    pub tables: BTreeMap<String, TableInfo>,
    /// The summary of the run that exported (inputs, notes, what could
    /// not be checked).
    pub summary: Summary,
    /// The long-term keys and what IAM said of them, judged again by the
    /// static-key rules on `scan --from-parquet` (not partitioned: a
    /// partition subset keeps every account's keys).
    #[serde(default)]
    pub static_keys: crate::model::keys::KeyReport,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct TableInfo {
    pub partitioned_by: Vec<String>,
    pub rows: usize,
    pub files: usize,
    pub columns: Vec<ColumnInfo>,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct ColumnInfo {
    pub name: String,
    /// SQL type name, as Spark, Trino and Athena spell it: `string`,
    /// `bigint`, `boolean`, `timestamp` (UTC, microseconds, no zone).
    #[serde(rename = "type")]
    pub sql_type: String,
}

/// The SQL type name of a column type rolecall's tables use.
pub fn sql_type(dtype: &DataType) -> Option<&'static str> {
    match dtype {
        DataType::String => Some("string"),
        DataType::Int64 => Some("bigint"),
        DataType::Boolean => Some("boolean"),
        DataType::Datetime(_, _) => Some("timestamp"),
        _ => None,
    }
}

/// The column type of an SQL type name.
pub fn dtype_of(sql_type: &str) -> Option<DataType> {
    match sql_type {
        "string" => Some(DataType::String),
        "bigint" => Some(DataType::Int64),
        "boolean" => Some(DataType::Boolean),
        "timestamp" => Some(DataType::Datetime(TimeUnit::Microseconds, None)),
        _ => None,
    }
}

/// A partition value as a path segment, escaped as Hive escapes it (ASCII
/// other than letters, digits, `.`, `_` and `-` becomes `%XX`; engines
/// unescape it when they read). `None` and the empty string are Hive's
/// null partition.
///
/// Values come from the input (an account id is whatever a record says),
/// so the segment is always one safe directory name: a value that would
/// escape to more than a directory name holds, or that holds characters a
/// terminal would not show (bidi controls, invisibles), is stored as its
/// first printable characters, `~` and sixteen hex digits of its SHA-256:
/// it reads back in that form, and two such values never share a
/// directory.
pub fn escape(value: Option<&str>) -> String {
    let Some(v) = value.filter(|v| !v.is_empty()) else {
        return NULL_PARTITION.to_string();
    };
    // ASCII controls are %-escaped; invisible characters beyond ASCII
    // would pass as they are.
    let hidden = |c: char| !c.is_ascii() && crate::text::is_unsafe_char(c);
    let out = hive_escape(v);
    if out.len() <= MAX_PARTITION_VALUE && !v.chars().any(hidden) {
        return out;
    }
    let kept: String = v.chars().filter(|&c| !hidden(c)).take(60).collect();
    let digest = crate::model::fingerprint::sha256_hex(v.as_bytes());
    hive_escape(&format!("{kept}~{}", &digest[..16]))
}

fn hive_escape(v: &str) -> String {
    let mut out = String::with_capacity(v.len());
    for c in v.chars() {
        if c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-') || !c.is_ascii() {
            out.push(c);
        } else {
            out.push_str(&format!("%{:02X}", c as u32));
        }
    }
    if out == NULL_PARTITION {
        // A value that spells the null marker must not read back as null.
        out = out.replacen('_', "%5F", 1);
    }
    out
}

/// The value of an escaped path segment; `None` for the null partition.
pub fn unescape(segment: &str) -> Result<Option<String>, String> {
    if segment == NULL_PARTITION {
        return Ok(None);
    }
    let bytes = segment.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hex = segment
                .get(i + 1..i + 3)
                .and_then(|h| u8::from_str_radix(h, 16).ok())
                .ok_or_else(|| format!("bad escape in partition value {segment:?}"))?;
            out.push(hex);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out)
        .map(Some)
        .map_err(|_| format!("partition value {segment:?} is not UTF-8 once unescaped"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn partition_values_round_trip_and_never_form_a_path() {
        for v in [
            "123456789012",
            "aws",
            "my-project.v2_x",
            "../../etc",
            "a/b=c%d",
            "tab\there",
            "ünïcödé",
            NULL_PARTITION,
        ] {
            let e = escape(Some(v));
            assert!(
                !e.contains('/') && !e.contains('=') && !e.contains('\\'),
                "{e}"
            );
            assert_ne!(e, "..");
            assert_eq!(unescape(&e).unwrap().as_deref(), Some(v), "{v}");
        }
        assert_eq!(escape(Some("../x")), "..%2Fx");
        assert_eq!(escape(None), NULL_PARTITION);
        assert_eq!(escape(Some("")), NULL_PARTITION);
        assert_eq!(unescape(NULL_PARTITION).unwrap(), None);
        // Too long for a directory, or hiding characters: a short name
        // with a hash, one component, and distinct for distinct values.
        let (a, b) = ("x".repeat(300) + "a", "x".repeat(300) + "b");
        let (ea, eb) = (escape(Some(&a)), escape(Some(&b)));
        assert!(ea.len() <= MAX_PARTITION_VALUE && ea != eb, "{ea} {eb}");
        assert!(unescape(&ea).unwrap().unwrap().starts_with(&"x".repeat(60)));
        let bidi = escape(Some("1111\u{202e}2222"));
        assert!(!bidi.contains('\u{202e}') && bidi.contains("%7E"), "{bidi}");
        for e in [&ea, &eb, &bidi] {
            assert!(!e.contains('/') && !e.contains('\\') && e != ".." && !e.contains('\0'));
        }
        assert!(unescape("%zz").is_err());
    }

    #[test]
    fn every_table_type_has_a_sql_name_and_back() {
        for t in ["string", "bigint", "boolean", "timestamp"] {
            assert_eq!(sql_type(&dtype_of(t).unwrap()), Some(t));
        }
    }
}
