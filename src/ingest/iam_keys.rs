//! What IAM says of long-term access keys: the credential report (the
//! CSV `aws iam get-credential-report --query Content --output text |
//! base64 -d` writes, and the raw `get-credential-report` JSON with its
//! base64 `Content` and `GeneratedTime`), `aws iam list-access-keys`
//! (`AccessKeyMetadata[]`) and `aws iam get-access-key-last-used`
//! (`AccessKeyLastUsed`). Each becomes [`KeyRecord`]s in the batch.
//!
//! `N/A` and `no_information` are how the report says "no key", "never
//! used" and "before IAM tracked it"; they are values, not errors. A row
//! with an unreadable value is an input error naming its line and column;
//! the other rows are read. Columns are found by name, so reports with
//! more or fewer columns (certificates, new fields) read alike.

use base64::Engine;
use serde_json::{Map, Value};

use super::file::FileCtx;
use super::source::{Parser, Read, Record, Source};
use super::Batch;
use crate::error::{InputError, Location};
use crate::model::keys::{KeyRecord, KeyRecordSource};
use crate::model::time::{parse_timestamp, Micros};

/// The first columns of every credential report.
pub const REPORT_HEADER: &str = "user,arn,user_creation_time";

/// Whether a text is a credential report (after any byte-order mark).
pub fn is_credential_report(body: &str) -> bool {
    body.trim_start_matches('\u{feff}')
        .starts_with(REPORT_HEADER)
}

/// The raw `get-credential-report` output.
pub const REPORT_JSON: Source = Source {
    name: "IAM credential report (get-credential-report JSON)",
    sniff: |obj| {
        obj.has_named("Content")
            && (obj.has_named("ReportFormat") || obj.has_named("GeneratedTime"))
    },
    read: read_report_json,
};

/// `aws iam list-access-keys`.
pub const ACCESS_KEY_LIST: Source = Source {
    name: "IAM access key list (list-access-keys)",
    sniff: |obj| obj.has_named("AccessKeyMetadata"),
    read: read_key_list,
};

/// `aws iam get-access-key-last-used`.
pub const ACCESS_KEY_LAST_USED: Source = Source {
    name: "IAM access key last use (get-access-key-last-used)",
    sniff: |obj| obj.has_named("AccessKeyLastUsed"),
    read: read_last_used,
};

/// Reads a credential report given as CSV text; `first_line` is the
/// 1-based line its header is on.
pub fn read_report_csv(text: &str, first_line: u64, ctx: &FileCtx<'_>, batch: &mut Batch) {
    let mut errors = Vec::new();
    let records = parse_report(text, None, ctx.file, &mut |line, reason| {
        errors.push(InputError::at(
            ctx.display,
            Location::Line(first_line + line - 1),
            reason,
        ))
    });
    batch.records += records.len() as u64;
    batch.keys.records.extend(records);
    batch.errors.extend(errors);
}

fn read_report_json(p: &mut Parser<'_, '_>, rec: &mut Record<'_, '_>) -> Read {
    let at = rec.at.clone();
    let Some(map) = rec.map(p) else {
        return Read::Taken;
    };
    let content = match map.get("Content") {
        Some(Value::String(s)) => s.clone(),
        _ => {
            p.out.records += 1;
            p.error(at, "credential report: `Content` is not a base64 string");
            return Read::Taken;
        }
    };
    if let Some(Value::String(format)) = map.get("ReportFormat") {
        if format != "text/csv" {
            p.out.records += 1;
            p.error(
                at,
                format!("credential report: ReportFormat `{format}` is not text/csv"),
            );
            return Read::Taken;
        }
    }
    let generated = match map.get("GeneratedTime") {
        None | Some(Value::Null) => None,
        Some(Value::String(s)) => match parse_timestamp(s) {
            Some(t) => Some(t),
            None => {
                p.out.records += 1;
                p.error(
                    at,
                    format!("credential report: GeneratedTime `{s}` is not a time"),
                );
                return Read::Taken;
            }
        },
        Some(_) => {
            p.out.records += 1;
            p.error(at, "credential report: GeneratedTime is not a string");
            return Read::Taken;
        }
    };
    let compact: String = content.split_whitespace().collect();
    let decoded = match base64::engine::general_purpose::STANDARD.decode(compact.as_bytes()) {
        Ok(bytes) => bytes,
        Err(e) => {
            p.out.records += 1;
            p.error(
                at,
                format!("credential report: `Content` is not base64: {e}"),
            );
            return Read::Taken;
        }
    };
    let text = String::from_utf8_lossy(&decoded);
    if !is_credential_report(&text) {
        p.out.records += 1;
        p.error(
            at,
            format!("credential report: `Content` does not start with `{REPORT_HEADER}`"),
        );
        return Read::Taken;
    }
    let mut errors = Vec::new();
    let records = parse_report(&text, generated, p.ctx.file, &mut |line, reason| {
        errors.push(format!("credential report Content, line {line}: {reason}"))
    });
    p.out.records += records.len() as u64;
    p.out.keys.records.extend(records);
    for e in errors {
        p.error(at.clone(), e);
    }
    Read::Taken
}

fn read_key_list(p: &mut Parser<'_, '_>, rec: &mut Record<'_, '_>) -> Read {
    let (at, index) = (rec.at.clone(), rec.index);
    let Some(map) = rec.map(p) else {
        return Read::Taken;
    };
    let Some(Value::Array(items)) = map.get("AccessKeyMetadata") else {
        p.out.records += 1;
        p.error(at, "list-access-keys: `AccessKeyMetadata` is not a list");
        return Read::Taken;
    };
    for (i, item) in items.iter().enumerate() {
        p.out.records += 1;
        match key_metadata(item) {
            Ok(mut r) => {
                r.file = p.ctx.file;
                r.record = index.min(u32::MAX as u64) as u32;
                p.out.keys.records.push(r);
            }
            Err(reason) => p.error(
                at.clone(),
                format!("list-access-keys: AccessKeyMetadata[{i}]: {reason}"),
            ),
        }
    }
    Read::Taken
}

fn key_metadata(item: &Value) -> Result<KeyRecord, String> {
    let Value::Object(m) = item else {
        return Err("not an object".into());
    };
    let key_id = text(m, "AccessKeyId")?.ok_or("no AccessKeyId")?;
    let active = match text(m, "Status")?.as_deref() {
        Some("Active") => Some(true),
        Some("Inactive") => Some(false),
        None => None,
        Some(other) => return Err(format!("Status `{other}` is not Active or Inactive")),
    };
    Ok(KeyRecord {
        source: Some(KeyRecordSource::ListAccessKeys),
        user: text(m, "UserName")?,
        key_id: Some(key_id),
        active,
        created: time(m, "CreateDate")?,
        ..KeyRecord::default()
    })
}

fn read_last_used(p: &mut Parser<'_, '_>, rec: &mut Record<'_, '_>) -> Read {
    let (at, index) = (rec.at.clone(), rec.index);
    let Some(map) = rec.map(p) else {
        return Read::Taken;
    };
    p.out.records += 1;
    let read = || -> Result<KeyRecord, String> {
        let Some(Value::Object(used)) = map.get("AccessKeyLastUsed") else {
            return Err("`AccessKeyLastUsed` is not an object".into());
        };
        let last_used = time(used, "LastUsedDate")?;
        let service = text(used, "ServiceName")?.filter(|s| s != "N/A");
        let region = text(used, "Region")?.filter(|s| s != "N/A");
        Ok(KeyRecord {
            source: Some(KeyRecordSource::AccessKeyLastUsed),
            user: text(map, "UserName")?,
            // The CLI's output names no key; a wrapper that kept the id
            // it asked for may add it.
            key_id: text(map, "AccessKeyId")?,
            never_used: last_used.is_none(),
            last_used,
            last_used_service: service,
            last_used_region: region,
            ..KeyRecord::default()
        })
    };
    match read() {
        Ok(mut r) => {
            r.file = p.ctx.file;
            r.record = index.min(u32::MAX as u64) as u32;
            p.out.keys.records.push(r);
        }
        Err(reason) => p.error(at, format!("get-access-key-last-used: {reason}")),
    }
    Read::Taken
}

fn text(m: &Map<String, Value>, key: &str) -> Result<Option<String>, String> {
    match m.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => Ok(Some(s.clone())),
        Some(other) => Err(format!(
            "`{key}` is {}, not a string",
            crate::model::policy_doc::json_kind(other)
        )),
    }
}

fn time(m: &Map<String, Value>, key: &str) -> Result<Option<Micros>, String> {
    match text(m, key)? {
        None => Ok(None),
        Some(s) => parse_timestamp(&s)
            .map(Some)
            .ok_or_else(|| format!("`{key}` `{s}` is not a time")),
    }
}

// ---- the credential report's CSV

/// Splits CSV text into rows of fields (RFC 4180: quoted fields may hold
/// commas, doubled quotes and line breaks), with each row's 1-based line.
/// Line ends may be `\n` or `\r\n`.
fn csv_rows(text: &str) -> Vec<(u64, Vec<String>)> {
    let mut rows = Vec::new();
    let mut row = Vec::new();
    let mut field = String::new();
    let mut line = 1u64;
    let mut row_line = 1u64;
    let mut quoted = false;
    let mut chars = text.chars().peekable();
    let mut any = false;
    while let Some(c) = chars.next() {
        any = true;
        if quoted {
            match c {
                '"' if chars.peek() == Some(&'"') => {
                    chars.next();
                    field.push('"');
                }
                '"' => quoted = false,
                '\n' => {
                    line += 1;
                    field.push(c);
                }
                _ => field.push(c),
            }
            continue;
        }
        match c {
            '"' if field.is_empty() => quoted = true,
            ',' => row.push(std::mem::take(&mut field)),
            '\r' if chars.peek() == Some(&'\n') => {}
            '\n' => {
                row.push(std::mem::take(&mut field));
                rows.push((row_line, std::mem::take(&mut row)));
                line += 1;
                row_line = line;
                any = false;
            }
            _ => field.push(c),
        }
    }
    if any {
        row.push(field);
        rows.push((row_line, row));
    }
    rows.retain(|(_, r)| !(r.len() == 1 && r[0].trim().is_empty()));
    rows
}

/// The credential report's rows as key records (one per key slot that
/// holds a key); `error` is told each unreadable row's line and why.
pub fn parse_report(
    text: &str,
    generated: Option<Micros>,
    file: u32,
    error: &mut dyn FnMut(u64, String),
) -> Vec<KeyRecord> {
    let text = text.trim_start_matches('\u{feff}');
    let mut rows = csv_rows(text).into_iter();
    let Some((_, header)) = rows.next() else {
        return Vec::new();
    };
    let column = |name: &str| header.iter().position(|h| h.trim() == name);
    let (Some(user_col), Some(arn_col)) = (column("user"), column("arn")) else {
        error(1, "the header has no `user` and `arn` columns".into());
        return Vec::new();
    };
    let slots: Vec<(u8, [Option<usize>; 5])> = (1..=2u8)
        .map(|n| {
            let c = |field: &str| column(&format!("access_key_{n}_{field}"));
            (
                n,
                [
                    c("active"),
                    c("last_rotated"),
                    c("last_used_date"),
                    c("last_used_region"),
                    c("last_used_service"),
                ],
            )
        })
        .collect();
    let mut out = Vec::new();
    for (line, row) in rows {
        let cell = |i: Option<usize>| i.and_then(|i| row.get(i)).map(|s| s.trim());
        if row.len() < header.len() {
            error(
                line,
                format!(
                    "{} fields where the header has {} (a truncated row?)",
                    row.len(),
                    header.len()
                ),
            );
            continue;
        }
        let user = cell(Some(user_col)).unwrap_or("").to_string();
        let arn = cell(Some(arn_col)).unwrap_or("").to_string();
        for (slot, cols) in &slots {
            let [active, rotated, used, region, service] = *cols;
            let name =
                |i: Option<usize>| i.map(|i| header[i].trim().to_string()).unwrap_or_default();
            let active_value = match cell(active) {
                None => None,
                Some("true" | "TRUE" | "True") => Some(true),
                Some("false" | "FALSE" | "False") => Some(false),
                Some(other) => {
                    error(
                        line,
                        format!("column {}: `{other}` is not true or false", name(active)),
                    );
                    continue;
                }
            };
            let rotated_value = match report_time(cell(rotated)) {
                Ok(t) => t,
                Err(v) => {
                    error(
                        line,
                        format!("column {}: `{v}` is not a time", name(rotated)),
                    );
                    continue;
                }
            };
            // An inactive slot with no rotation date holds no key.
            if active_value != Some(true) && rotated_value.is_none() {
                continue;
            }
            let (last_used, never_used, unknown) = match cell(used) {
                None => (None, false, true),
                Some("N/A") => (None, true, false),
                Some("no_information") => (None, false, true),
                Some(v) => match parse_timestamp(v) {
                    Some(t) => (Some(t), false, false),
                    None => {
                        error(line, format!("column {}: `{v}` is not a time", name(used)));
                        continue;
                    }
                },
            };
            let known = |v: Option<&str>| {
                v.filter(|v| !matches!(*v, "N/A" | "no_information" | ""))
                    .map(str::to_string)
            };
            out.push(KeyRecord {
                source: Some(KeyRecordSource::CredentialReport),
                user: Some(user.clone()),
                user_arn: Some(arn.clone()).filter(|a| !a.is_empty()),
                key_id: None,
                slot: Some(*slot),
                active: active_value,
                created: rotated_value,
                last_used,
                never_used,
                last_used_unknown: unknown,
                last_used_region: known(cell(region)),
                last_used_service: known(cell(service)),
                generated,
                file,
                record: line.min(u32::MAX as u64) as u32,
            });
        }
    }
    out
}

/// A report time: `N/A` and `not_supported` are no time.
fn report_time(v: Option<&str>) -> Result<Option<Micros>, String> {
    match v {
        None | Some("N/A" | "not_supported" | "no_information" | "") => Ok(None),
        Some(v) => parse_timestamp(v).map(Some).ok_or_else(|| v.to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const HEADER: &str = "user,arn,user_creation_time,password_enabled,password_last_used,password_last_changed,password_next_rotation,mfa_active,access_key_1_active,access_key_1_last_rotated,access_key_1_last_used_date,access_key_1_last_used_region,access_key_1_last_used_service,access_key_2_active,access_key_2_last_rotated,access_key_2_last_used_date,access_key_2_last_used_region,access_key_2_last_used_service,cert_1_active,cert_1_last_rotated,cert_2_active,cert_2_last_rotated";

    fn parse(text: &str) -> (Vec<KeyRecord>, Vec<(u64, String)>) {
        let mut errors = Vec::new();
        let r = parse_report(text, None, 0, &mut |l, e| errors.push((l, e)));
        (r, errors)
    }

    #[test]
    fn a_report_with_a_bom_and_crlf_reads_each_key_slot() {
        let text = format!(
            "\u{feff}{HEADER}\r\n\
<root_account>,arn:aws:iam::111111111111:root,2019-01-01T00:00:00+00:00,not_supported,2025-05-01T00:00:00+00:00,not_supported,not_supported,true,false,N/A,N/A,N/A,N/A,false,N/A,N/A,N/A,N/A,false,N/A,false,N/A\r\n\
ci-deployer,arn:aws:iam::111111111111:user/ci-deployer,2021-03-01T10:00:00+00:00,false,N/A,N/A,N/A,false,true,2021-03-01T10:05:00+00:00,2025-05-14T08:12:00+00:00,us-east-1,s3,true,2025-01-02T00:00:00+00:00,N/A,N/A,N/A,false,N/A,false,N/A\r\n\
old-user,arn:aws:iam::111111111111:user/old-user,2015-01-01T00:00:00+00:00,true,no_information,N/A,N/A,false,true,2015-01-01T00:00:00+00:00,no_information,N/A,N/A,false,2016-01-01T00:00:00+00:00,N/A,N/A,N/A,false,N/A,false,N/A\r\n"
        );
        let (records, errors) = parse(&text);
        assert!(errors.is_empty(), "{errors:?}");
        let got: Vec<(&str, u8, Option<bool>, bool, bool)> = records
            .iter()
            .map(|r| {
                (
                    r.user.as_deref().unwrap(),
                    r.slot.unwrap(),
                    r.active,
                    r.never_used,
                    r.last_used_unknown,
                )
            })
            .collect();
        assert_eq!(
            got,
            vec![
                ("ci-deployer", 1, Some(true), false, false),
                ("ci-deployer", 2, Some(true), true, false),
                ("old-user", 1, Some(true), false, true),
                ("old-user", 2, Some(false), true, false),
            ],
            "the root's empty slots hold no key; N/A and no_information are values"
        );
        let first = &records[0];
        assert_eq!(first.last_used_service.as_deref(), Some("s3"));
        assert_eq!(first.last_used_region.as_deref(), Some("us-east-1"));
        assert_eq!(
            first.created,
            parse_timestamp("2021-03-01T10:05:00Z"),
            "last_rotated read"
        );
        assert_eq!(first.record, 3, "the row's line");
    }

    #[test]
    fn a_bad_value_names_its_line_and_column_and_the_other_rows_are_read() {
        let text = format!(
            "{HEADER}\n\
a,arn:aws:iam::1:user/a,x,x,x,x,x,x,maybe,N/A,N/A,N/A,N/A,false,N/A,N/A,N/A,N/A,x,x,x,x\n\
b,arn:aws:iam::1:user/b,x,x,x,x,x,x,true,yesterday,N/A,N/A,N/A,false,N/A,N/A,N/A,N/A,x,x,x,x\n\
c,arn:aws:iam::1:user/c,x,x,x,x,x,x,true,2024-01-01T00:00:00+00:00,N/A,N/A,N/A,false,N/A,N/A,N/A,N/A,x,x,x,x\n\
d,arn:aws:iam::1:user/d\n"
        );
        let (records, errors) = parse(&text);
        assert_eq!(records.len(), 1);
        assert_eq!(records[0].user.as_deref(), Some("c"));
        assert_eq!(errors.len(), 3, "{errors:?}");
        assert_eq!(errors[0].0, 2);
        assert!(
            errors[0].1.contains("access_key_1_active"),
            "{}",
            errors[0].1
        );
        assert!(errors[1].1.contains("access_key_1_last_rotated"));
        assert_eq!(errors[2].0, 5);
        assert!(errors[2].1.contains("truncated"));
    }

    #[test]
    fn quoted_fields_keep_their_commas_and_line_breaks() {
        let rows = csv_rows("a,\"b,c\",\"d\"\"e\"\r\n\"multi\nline\",x\nlast");
        assert_eq!(
            rows,
            vec![
                (1, vec!["a".into(), "b,c".into(), "d\"e".into()]),
                (2, vec!["multi\nline".into(), "x".into()]),
                (4, vec!["last".into()]),
            ]
        );
    }
}
