//! SQL detections: `queries/*.sql` (built in) and `--queries DIR` (the
//! user's), run by polars SQL over the registered tables.
//!
//! A query file opens with a header of `-- key: value` comment lines:
//!
//! ```sql
//! -- id: unexpected-ref
//! -- title: Role assumed from an unexpected ref
//! -- severity: high
//! -- description: What it detects and why it matters.
//! -- message: The {repository} token for {ref} assumed {role_arn}.
//! -- references: https://example.com/a, https://example.com/b
//! SELECT session_key, time, ref FROM sessions WHERE ref_allowed = false
//! ```
//!
//! Each result row is one finding. Columns named like finding fields
//! (`session_key`, `time`, `source_ip`, `event_ids`, `role`, `subject`,
//! `repository`, `ref`, `severity`, `message`, ...) fill them; a
//! `session_key` fills whatever the row leaves out from that session; every
//! other column becomes evidence. `{name}` in the message template reads the
//! row first, then the session.

use crate::model::fingerprint::{valid_identity_field, DEFAULT_IDENTITY, IDENTITY_FIELDS};
use std::collections::HashMap;

use polars::prelude::*;
use serde_json::{Map, Value};

use std::borrow::Cow;

use crate::error::QueryError;
use crate::model::cells::{cell_value, display};
use crate::model::rule::{Coverage, List, Rule, RuleKind, SOURCES};
use crate::model::{format_opt, Finding, Severity};

/// A detection written in SQL: its [`Rule`] from the header, its message
/// template and its query.
#[derive(Debug, Clone)]
pub struct QueryDef {
    pub rule: Rule,
    pub message: Option<String>,
    pub sql: String,
}

impl QueryDef {
    pub fn id(&self) -> &str {
        &self.rule.id
    }

    /// Where it came from (a path, or `queries/ID.sql` for built-ins).
    pub fn path(&self) -> &str {
        &self.rule.source
    }
}

/// The built-in detections, compiled into the binary so that an installed
/// `rolecall` needs no source tree.
pub const BUILTIN_SOURCES: &[(&str, &str)] = &[
    (
        "queries/tier-mismatch.sql",
        include_str!("../../queries/tier-mismatch.sql"),
    ),
    (
        "queries/untrusted-repository.sql",
        include_str!("../../queries/untrusted-repository.sql"),
    ),
    (
        "queries/unexpected-ref.sql",
        include_str!("../../queries/unexpected-ref.sql"),
    ),
    (
        "queries/unexpected-environment.sql",
        include_str!("../../queries/unexpected-environment.sql"),
    ),
    (
        "queries/unexpected-workflow.sql",
        include_str!("../../queries/unexpected-workflow.sql"),
    ),
    (
        "queries/pull-request-assumption.sql",
        include_str!("../../queries/pull-request-assumption.sql"),
    ),
    (
        "queries/untrusted-issuer.sql",
        include_str!("../../queries/untrusted-issuer.sql"),
    ),
    (
        "queries/audience-mismatch.sql",
        include_str!("../../queries/audience-mismatch.sql"),
    ),
    (
        "queries/excessive-duration.sql",
        include_str!("../../queries/excessive-duration.sql"),
    ),
    (
        "queries/credential-ip-drift.sql",
        include_str!("../../queries/credential-ip-drift.sql"),
    ),
    (
        "queries/credential-use-after-job.sql",
        include_str!("../../queries/credential-use-after-job.sql"),
    ),
    (
        "queries/token-reuse.sql",
        include_str!("../../queries/token-reuse.sql"),
    ),
    (
        "queries/sensitive-action.sql",
        include_str!("../../queries/sensitive-action.sql"),
    ),
    (
        "queries/unmatched-assumption.sql",
        include_str!("../../queries/unmatched-assumption.sql"),
    ),
];

fn valid_id(id: &str) -> bool {
    !id.is_empty()
        && id.len() <= 64
        && id
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        && !id.starts_with('-')
}

/// Parses a query file's header and body.
pub fn parse_query(path: &str, text: &str) -> Result<QueryDef, QueryError> {
    let err = |line: usize, reason: String| QueryError::Header {
        path: path.to_string(),
        line,
        reason,
    };
    let mut fields: Vec<(String, String, usize)> = Vec::new();
    let mut body_start = text.len();
    let mut offset = 0;
    for (n, raw) in text.split_inclusive('\n').enumerate() {
        let line = raw.trim_end_matches(['\n', '\r']);
        let trimmed = line.trim_start();
        if let Some(comment) = trimmed.strip_prefix("--") {
            let content = comment.trim();
            if comment.starts_with("  ") && !content.is_empty() {
                // A continuation line: indented text after `--`.
                if let Some(last) = fields.last_mut() {
                    last.1.push(' ');
                    last.1.push_str(content);
                }
            } else if let Some((k, v)) = content.split_once(':') {
                if !k.is_empty() && k.bytes().all(|b| b.is_ascii_lowercase() || b == b'_') {
                    fields.push((k.to_string(), v.trim().to_string(), n + 1));
                }
            }
        } else if !trimmed.is_empty() {
            body_start = offset;
            break;
        }
        offset += raw.len();
    }
    let get = |k: &str| fields.iter().find(|(key, _, _)| key == k);
    let need = |k: &str| {
        get(k)
            .map(|(_, v, _)| v.clone())
            .filter(|v| !v.is_empty())
            .ok_or_else(|| err(1, format!("the header has no `-- {k}:` line")))
    };
    let id = need("id")?;
    if !valid_id(&id) {
        let line = get("id").map_or(1, |f| f.2);
        return Err(err(
            line,
            format!("id `{id}` should be lower-case letters, digits and dashes"),
        ));
    }
    let severity_text = need("severity")?;
    let severity = severity_text
        .parse::<Severity>()
        .map_err(|r| err(get("severity").map_or(1, |f| f.2), r))?;
    let identity: Vec<String> = match get("identity") {
        Some((_, v, line)) => {
            let names: Vec<String> = v
                .split([',', ' '])
                .filter(|s| !s.is_empty())
                .map(str::to_string)
                .collect();
            if let Some(bad) = names.iter().find(|n| !valid_identity_field(n)) {
                return Err(err(
                    *line,
                    format!(
                        "identity field `{bad}` is not one of {} or evidence.NAME",
                        IDENTITY_FIELDS.join(", ")
                    ),
                ));
            }
            names
        }
        None => DEFAULT_IDENTITY.iter().map(|s| s.to_string()).collect(),
    };
    let sql = text[body_start..].trim().to_string();
    if sql.is_empty() {
        return Err(err(1, "no SQL after the header".into()));
    }
    let sources = match get("sources") {
        Some((_, v, line)) => parse_sources(v).map_err(|r| err(*line, r))?,
        None => Coverage::all(""),
    };
    let list = |v: &str| -> List {
        Cow::Owned(
            v.split([',', ' '])
                .filter(|s| !s.is_empty())
                .map(|s| Cow::Owned(s.to_string()))
                .collect(),
        )
    };
    Ok(QueryDef {
        rule: Rule {
            id: Cow::Owned(id),
            severity,
            title: Cow::Owned(need("title")?),
            description: Cow::Owned(need("description")?),
            references: get("references").map(|f| list(&f.1)).unwrap_or_default(),
            source: Cow::Owned(path.to_string()),
            needs: Cow::Owned(
                get("needs")
                    .map(|f| f.1.clone())
                    .filter(|v| !v.is_empty())
                    .unwrap_or_else(|| "user-defined".into()),
            ),
            sources,
            identity: Cow::Owned(identity.into_iter().map(Cow::Owned).collect()),
            kind: RuleKind::Run,
        },
        message: get("message")
            .map(|f| f.1.clone())
            .filter(|m| !m.is_empty()),
        sql,
    })
}

/// `-- sources: aws yes (note); gcp no (why not); azure yes; vault yes`:
/// each of [`SOURCES`] once, in any order, each `yes` or `no` with an
/// optional note.
fn parse_sources(v: &str) -> Result<[Coverage; 4], String> {
    let mut found: [Option<(bool, String)>; 4] = Default::default();
    // Entries end at a `;` outside parentheses (a note may hold one).
    let mut entries = Vec::new();
    let (mut depth, mut start) = (0i32, 0);
    for (i, c) in v.char_indices() {
        match c {
            '(' => depth += 1,
            ')' => depth -= 1,
            ';' if depth == 0 => {
                entries.push(&v[start..i]);
                start = i + 1;
            }
            _ => {}
        }
    }
    entries.push(&v[start..]);
    for entry in entries.into_iter().map(str::trim).filter(|e| !e.is_empty()) {
        let (head, note) = match entry.split_once('(') {
            Some((h, rest)) => (
                h.trim(),
                rest.strip_suffix(')')
                    .ok_or_else(|| format!("`{entry}`: a note ends with `)`"))?
                    .trim()
                    .to_string(),
            ),
            None => (entry, String::new()),
        };
        let (source, verdict) = head
            .split_once(' ')
            .ok_or_else(|| format!("`{entry}`: write SOURCE yes|no (note)"))?;
        let i = SOURCES
            .iter()
            .position(|s| *s == source)
            .ok_or_else(|| format!("`{source}` is not one of {}", SOURCES.join(", ")))?;
        let applies = match verdict.trim() {
            "yes" => true,
            "no" => false,
            other => return Err(format!("`{other}`: a source is `yes` or `no`")),
        };
        if found[i].replace((applies, note)).is_some() {
            return Err(format!("`{source}` is given twice"));
        }
    }
    let mut out = Coverage::all("");
    for (c, f) in out.iter_mut().zip(found) {
        let (applies, note) = f.ok_or_else(|| {
            format!(
                "`{}` is missing: name every one of {}",
                c.source,
                SOURCES.join(", ")
            )
        })?;
        c.applies = applies;
        c.note = Cow::Owned(note);
    }
    Ok(out)
}

/// The built-in queries.
pub fn builtin_queries() -> Vec<QueryDef> {
    BUILTIN_SOURCES
        .iter()
        .map(|(path, text)| parse_query(path, text).expect("built-in queries have valid headers"))
        .collect()
}

/// Loads every `.sql` file of a directory, sorted by name.
pub fn load_dir(dir: &str) -> Result<Vec<QueryDef>, QueryError> {
    let read_err = |source| QueryError::Read {
        path: dir.to_string(),
        source,
    };
    let mut paths: Vec<_> = std::fs::read_dir(dir)
        .map_err(read_err)?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|e| e == "sql"))
        .collect();
    paths.sort();
    paths
        .iter()
        .map(|p| {
            let shown = p.display().to_string();
            let text = std::fs::read_to_string(p).map_err(|source| QueryError::Read {
                path: shown.clone(),
                source,
            })?;
            parse_query(&shown, &text)
        })
        .collect()
}

/// Fills `{name}` placeholders; unknown names read as `none`.
pub fn render(template: &str, lookup: &dyn Fn(&str) -> Option<String>) -> String {
    let mut out = String::with_capacity(template.len() + 32);
    let mut rest = template;
    while let Some(start) = rest.find('{') {
        out.push_str(&rest[..start]);
        let after = &rest[start + 1..];
        match after.find('}') {
            Some(end)
                if after[..end]
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'_') =>
            {
                out.push_str(&lookup(&after[..end]).unwrap_or_else(|| "none".into()));
                rest = &after[end + 1..];
            }
            _ => {
                out.push('{');
                rest = after;
            }
        }
    }
    out.push_str(rest);
    out
}

/// Session fields that templates and findings can read by name.
pub type SessionFields = HashMap<String, Map<String, Value>>;

const FINDING_COLUMNS: &[&str] = &[
    "session_key",
    "time",
    "source_ip",
    "event_ids",
    "event_id",
    "severity",
    "message",
    "cloud",
    "account",
    "role",
    "role_arn",
    "issuer",
    "subject",
    "repository",
    "ref",
    "environment",
    "trigger",
    "run_id",
];

fn text_of(v: Option<&Value>) -> Option<String> {
    match v? {
        Value::Null => None,
        Value::String(s) => Some(s.clone()),
        other => Some(display(other)),
    }
}

/// Maps a query's result rows to findings.
pub fn findings_from_frame(
    def: &QueryDef,
    df: &DataFrame,
    sessions: &SessionFields,
) -> Result<Vec<Finding>, QueryError> {
    let run_err = |reason: String| QueryError::Run {
        id: def.id().to_string(),
        path: def.path().to_string(),
        reason,
    };
    let names: Vec<String> = df
        .get_column_names()
        .iter()
        .map(|n| n.to_string())
        .collect();
    let mut out = Vec::with_capacity(df.height());
    for row in 0..df.height() {
        let mut cells = Map::new();
        for (name, col) in names.iter().zip(df.columns()) {
            let v = col.get(row).map_err(|e| run_err(e.to_string()))?;
            cells.insert(name.clone(), cell_value(&v));
        }
        out.push(finding_from_row(def, cells, sessions).map_err(run_err)?);
    }
    Ok(out)
}

/// Builds a finding from one result row.
pub fn finding_from_row(
    def: &QueryDef,
    cells: Map<String, Value>,
    sessions: &SessionFields,
) -> Result<Finding, String> {
    let session_key = text_of(cells.get("session_key"));
    let session = session_key.as_deref().and_then(|k| sessions.get(k));
    let field = |name: &str| -> Option<String> {
        text_of(cells.get(name)).or_else(|| session.and_then(|s| text_of(s.get(name))))
    };
    let mut f = Finding::new(&def.rule.id, def.rule.severity, &def.rule.title);
    if let Some(sev) = text_of(cells.get("severity")) {
        f.severity = sev.parse().map_err(|e| format!("column `severity`: {e}"))?;
    }
    f.session_key = session_key.clone();
    f.time = match cells
        .get("time")
        .or_else(|| session.and_then(|s| s.get("time")))
    {
        Some(Value::String(t)) => crate::model::time::parse_timestamp(t),
        _ => None,
    };
    f.cloud = field("cloud");
    f.account = field("account");
    f.role = text_of(cells.get("role")).or_else(|| field("role_arn"));
    f.issuer = field("issuer");
    f.subject = field("subject");
    f.repository = field("repository");
    f.git_ref = field("ref");
    f.environment = field("environment");
    f.trigger = field("trigger");
    f.run_id = field("run_id");
    f.source_ip = field("source_ip");
    // The exchange first, then what the row adds.
    if let Some(id) = session.and_then(|s| text_of(s.get("event_id"))) {
        f.event_ids.push(id);
    }
    for key in ["event_id", "event_ids"] {
        match cells.get(key) {
            Some(Value::Array(items)) => {
                for id in items.iter().filter_map(|v| v.as_str()) {
                    if !f.event_ids.iter().any(|x| x == id) {
                        f.event_ids.push(id.to_string());
                    }
                }
            }
            Some(Value::String(s)) => {
                for id in s.split(',').map(str::trim).filter(|x| !x.is_empty()) {
                    if !f.event_ids.iter().any(|x| x == id) {
                        f.event_ids.push(id.to_string());
                    }
                }
            }
            _ => {}
        }
    }
    // SQL promises no order inside aggregates: sort, so that output is the
    // same on every run (the exchange stays first among the event ids).
    if f.event_ids.len() > 2 {
        f.event_ids[1..].sort();
    }
    for (k, v) in &cells {
        if !FINDING_COLUMNS.contains(&k.as_str()) {
            let mut v = v.clone();
            if let Value::Array(items) = &mut v {
                if items.iter().all(Value::is_string) {
                    items.sort_by(|a, b| a.as_str().cmp(&b.as_str()));
                    items.dedup();
                }
            }
            f.evidence.insert(k.clone(), v);
        }
    }
    let lookup = |name: &str| -> Option<String> {
        match cells.get(name) {
            Some(v) => Some(display(v)),
            None => session.and_then(|s| s.get(name)).map(display),
        }
    };
    f.message = match text_of(cells.get("message")) {
        Some(m) => m,
        None => match &def.message {
            Some(t) => render(t, &lookup),
            None => format!(
                "{} ({}).",
                def.rule.title,
                format_opt(f.role.as_deref().or(f.subject.as_deref()))
            ),
        },
    };
    Ok(f)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_builtin_query_has_a_valid_header() {
        let qs = builtin_queries();
        assert_eq!(qs.len(), BUILTIN_SOURCES.len());
        for (q, (path, _)) in qs.iter().zip(BUILTIN_SOURCES) {
            assert_eq!(
                format!("queries/{}.sql", q.id()),
                *path,
                "file name matches id"
            );
            assert!(q.message.is_some(), "{} has a message template", q.id());
            assert!(!q.rule.references.is_empty(), "{} has references", q.id());
            assert_ne!(
                q.rule.needs,
                "user-defined",
                "{} says what it needs",
                q.id()
            );
        }
    }

    #[test]
    fn header_errors_name_the_line() {
        let e = parse_query(
            "x.sql",
            "-- id: Bad Id\n-- title: t\n-- severity: high\n-- description: d\nSELECT 1",
        )
        .unwrap_err()
        .to_string();
        assert_eq!(
            e,
            "x.sql: line 1: id `Bad Id` should be lower-case letters, digits and dashes"
        );
        let e = parse_query(
            "x.sql",
            "-- id: a\n-- title: t\n-- severity: urgent\n-- description: d\nSELECT 1",
        )
        .unwrap_err()
        .to_string();
        assert!(e.starts_with("x.sql: line 3: unknown severity"), "{e}");
        let e = parse_query(
            "x.sql",
            "-- id: a\n-- severity: low\n-- description: d\nSELECT 1",
        )
        .unwrap_err()
        .to_string();
        assert!(e.contains("`-- title:`"), "{e}");
        let e = parse_query(
            "x.sql",
            "-- id: a\n-- title: t\n-- severity: low\n-- description: d\n",
        )
        .unwrap_err()
        .to_string();
        assert!(e.contains("no SQL"), "{e}");
    }

    #[test]
    fn sources_say_per_source_what_a_rule_judges() {
        let c = parse_sources("aws yes (a; b (c)); gcp no (why not); azure yes; vault no").unwrap();
        assert_eq!((c[0].applies, c[0].note.as_ref()), (true, "a; b (c)"));
        assert_eq!((c[1].applies, c[1].note.as_ref()), (false, "why not"));
        assert_eq!((c[2].applies, c[2].note.as_ref()), (true, ""));
        assert!(!c[3].applies);
        for (bad, why) in [
            ("aws yes; gcp yes; azure yes", "`vault` is missing"),
            (
                "aws yes; aws no; gcp yes; azure yes; vault yes",
                "given twice",
            ),
            ("aws maybe; gcp yes; azure yes; vault yes", "`yes` or `no`"),
            (
                "k8s yes; aws yes; gcp yes; azure yes; vault yes",
                "not one of",
            ),
            ("aws yes (open; gcp yes; azure yes; vault yes", "ends with"),
        ] {
            let e = parse_sources(bad).unwrap_err();
            assert!(e.contains(why), "{bad}: {e}");
        }
    }

    #[test]
    fn continuation_lines_and_references() {
        let q = parse_query(
            "x.sql",
            "-- id: a\n-- title: t\n-- severity: low\n-- description: first\n--   second: with a colon\n-- references: https://a, https://b\nSELECT 1",
        )
        .unwrap();
        assert_eq!(q.rule.description, "first second: with a colon");
        assert_eq!(q.rule.references.to_vec(), vec!["https://a", "https://b"]);
        assert_eq!(q.sql, "SELECT 1");
    }

    #[test]
    fn templates_fill_and_leave_unknown_braces() {
        let f = |k: &str| (k == "role").then(|| "deploy".to_string());
        assert_eq!(
            render("{role} by {who} {not a key}", &f),
            "deploy by none {not a key}"
        );
    }
}
