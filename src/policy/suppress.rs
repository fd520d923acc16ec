//! Suppressions: accepting a known finding for a while without turning the
//! gate off. `[[suppress]]` entries live in the policy or in a separate
//! `--suppressions FILE` (same format, nothing else in it). Each names what
//! it accepts (a fingerprint, a rule, role and subject globs: all that are
//! given must match) and must say why and until when; a suppression past
//! its date stops suppressing (and `expired-suppression` reports it).

use chrono::NaiveDate;
use serde::Deserialize;
use toml::Spanned;

use super::glob::Glob;
use super::line_col;
use crate::error::PolicyError;
use crate::model::Finding;

/// The reason `rolecall scan --write-baseline` leaves for a person to fill.
pub const PLACEHOLDER_REASON: &str = "TODO: say why this finding is accepted";

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct SuppressFile {
    rule: Option<Spanned<String>>,
    role: Option<Spanned<String>>,
    subject: Option<Spanned<String>>,
    fingerprint: Option<Spanned<String>>,
    reason: Option<Spanned<String>>,
    until: Option<Spanned<toml::Value>>,
}

/// A file of suppressions only.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct SuppressionsFile {
    #[serde(default, rename = "suppress")]
    suppress: Vec<Spanned<SuppressFile>>,
}

/// One accepted finding (or family of findings).
#[derive(Debug, Clone)]
pub struct Suppression {
    pub rule: Option<String>,
    pub role: Option<Glob>,
    pub subject: Option<Glob>,
    pub fingerprint: Option<String>,
    pub reason: String,
    /// The last day (UTC) it applies.
    pub until: NaiveDate,
    /// `FILE:LINE` of its `[[suppress]]`.
    pub origin: String,
}

impl Suppression {
    pub fn matches(&self, f: &Finding) -> bool {
        self.rule.as_ref().is_none_or(|r| r == &f.rule)
            && self
                .fingerprint
                .as_ref()
                .is_none_or(|fp| fp == &f.fingerprint)
            && self
                .role
                .as_ref()
                .is_none_or(|g| f.role.as_deref().is_some_and(|r| g.is_match(r)))
            && self
                .subject
                .as_ref()
                .is_none_or(|g| f.subject.as_deref().is_some_and(|s| g.is_match(s)))
    }

    /// Whether `today` is past its last day.
    pub fn expired(&self, today: NaiveDate) -> bool {
        today > self.until
    }

    /// What it selects, for messages: `rule=… role=… fingerprint=…`.
    pub fn selector(&self) -> String {
        let mut parts = Vec::new();
        if let Some(r) = &self.rule {
            parts.push(format!("rule={r}"));
        }
        if let Some(f) = &self.fingerprint {
            parts.push(format!("fingerprint={f}"));
        }
        if let Some(g) = &self.role {
            parts.push(format!("role={}", g.as_str()));
        }
        if let Some(g) = &self.subject {
            parts.push(format!("subject={}", g.as_str()));
        }
        parts.join(" ")
    }
}

fn parse_date(v: &toml::Value) -> Option<NaiveDate> {
    match v {
        toml::Value::String(s) => NaiveDate::parse_from_str(s.trim(), "%Y-%m-%d").ok(),
        toml::Value::Datetime(d) => {
            let date = d.date?;
            NaiveDate::from_ymd_opt(date.year as i32, date.month as u32, date.day as u32)
        }
        _ => None,
    }
}

/// Validates `[[suppress]]` entries of `text` (read from `path`).
pub(super) fn compile(
    path: &str,
    text: &str,
    entries: &[Spanned<SuppressFile>],
) -> Result<Vec<Suppression>, PolicyError> {
    let invalid = |span: std::ops::Range<usize>, reason: String| {
        let (line, column) = line_col(text, span.start);
        PolicyError::Invalid {
            path: path.to_string(),
            line,
            column,
            reason,
        }
    };
    entries
        .iter()
        .map(|entry| {
            let span = entry.span();
            let e = entry.get_ref();
            let text_of = |v: &Option<Spanned<String>>| {
                v.as_ref()
                    .map(|s| s.get_ref().trim().to_string())
                    .filter(|s| !s.is_empty())
            };
            let reason = e
                .reason
                .as_ref()
                .ok_or_else(|| invalid(span.clone(), "a [[suppress]] needs a reason".into()))?;
            let reason_text = reason.get_ref().trim();
            if reason_text.is_empty() || reason_text.starts_with("TODO") {
                return Err(invalid(
                    reason.span(),
                    "fill in the reason: say why this finding is accepted".into(),
                ));
            }
            let until = e.until.as_ref().ok_or_else(|| {
                invalid(
                    span.clone(),
                    "a [[suppress]] needs an until date (YYYY-MM-DD)".into(),
                )
            })?;
            let until_date = parse_date(until.get_ref())
                .ok_or_else(|| invalid(until.span(), "until must be a date: YYYY-MM-DD".into()))?;
            let fingerprint = text_of(&e.fingerprint);
            if let (Some(fp), Some(s)) = (&fingerprint, &e.fingerprint) {
                if fp.len() != 32 || !fp.bytes().all(|b| b.is_ascii_hexdigit()) {
                    return Err(invalid(
                        s.span(),
                        "a fingerprint is 32 hexadecimal digits (see a finding's `fingerprint`)"
                            .into(),
                    ));
                }
            }
            let s = Suppression {
                rule: text_of(&e.rule),
                role: text_of(&e.role).map(|p| Glob::new(&p)),
                subject: text_of(&e.subject).map(|p| Glob::new(&p)),
                fingerprint: fingerprint.map(|f| f.to_ascii_lowercase()),
                reason: reason_text.to_string(),
                until: until_date,
                origin: format!("{path}:{}", line_col(text, span.start).0),
            };
            if s.rule.is_none()
                && s.fingerprint.is_none()
                && s.role.is_none()
                && s.subject.is_none()
            {
                return Err(invalid(
                    span,
                    "a [[suppress]] must say what it accepts: fingerprint, rule, role or subject"
                        .into(),
                ));
            }
            Ok(s)
        })
        .collect()
}

/// Reads a `--suppressions` file.
pub fn load(path: &str) -> Result<Vec<Suppression>, PolicyError> {
    let text = std::fs::read_to_string(path).map_err(|source| PolicyError::Read {
        path: path.to_string(),
        source,
    })?;
    let file: SuppressionsFile = toml::from_str(&text).map_err(|e| {
        let (line, column) = line_col(&text, e.span().unwrap_or(0..0).start);
        PolicyError::Invalid {
            path: path.to_string(),
            line,
            column,
            reason: e.message().to_string(),
        }
    })?;
    compile(path, &text, &file.suppress)
}

/// A baseline: one `[[suppress]]` per finding, by fingerprint, with the
/// placeholder reason (which the loader refuses until a person replaces it)
/// and `until` days from `today`.
pub fn baseline(findings: &[Finding], today: NaiveDate, days: i64) -> String {
    let until = today + chrono::Duration::days(days);
    let mut out = format!(
        "# Suppressions for the {} findings rolecall saw on {today}.\n\
         # Replace every reason with why the finding is accepted (rolecall refuses\n\
         # the placeholder), shorten `until` where you can, delete what you fix.\n",
        findings.len()
    );
    let mut seen = std::collections::HashSet::new();
    for f in findings {
        if !seen.insert(f.fingerprint.as_str()) {
            continue;
        }
        let comment = |s: &str| crate::text::terminal(s).replace('\n', " ");
        out.push_str(&format!(
            "\n# {} {}: {}\n[[suppress]]\nrule = {}\nfingerprint = {}\nreason = {}\nuntil = {}\n",
            f.severity.as_str(),
            comment(&f.rule),
            comment(&f.message),
            toml::Value::String(f.rule.clone()),
            toml::Value::String(f.fingerprint.clone()),
            toml::Value::String(PLACEHOLDER_REASON.into()),
            toml::Value::String(until.to_string()),
        ));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Severity;

    fn parse(text: &str) -> Result<Vec<Suppression>, PolicyError> {
        let file: SuppressionsFile = toml::from_str(text).unwrap();
        compile("s.toml", text, &file.suppress)
    }

    #[test]
    fn reason_and_until_are_required_and_a_selector_too() {
        let e = parse("[[suppress]]\nrule = \"x\"\nuntil = \"2030-01-01\"\n")
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("needs a reason") && e.contains("s.toml: line 1"),
            "{e}"
        );
        let e = parse("[[suppress]]\nrule = \"x\"\nreason = \"ok\"\n")
            .unwrap_err()
            .to_string();
        assert!(e.contains("needs an until date"), "{e}");
        let e = parse("[[suppress]]\nreason = \"ok\"\nuntil = 2030-01-01\n")
            .unwrap_err()
            .to_string();
        assert!(e.contains("must say what it accepts"), "{e}");
        let e = parse(&format!(
            "[[suppress]]\nrule = \"x\"\nreason = \"{PLACEHOLDER_REASON}\"\nuntil = 2030-01-01\n"
        ))
        .unwrap_err()
        .to_string();
        assert!(
            e.contains("fill in the reason") && e.contains("line 3"),
            "{e}"
        );
        let e = parse("[[suppress]]\nfingerprint = \"abc\"\nreason = \"ok\"\nuntil = 2030-01-01\n")
            .unwrap_err()
            .to_string();
        assert!(e.contains("32 hexadecimal"), "{e}");
        let ok = parse("[[suppress]]\nrule = \"x\"\nrole = \"arn:*:role/ci-*\"\nreason = \"accepted by sec\"\nuntil = 2030-01-31\n").unwrap();
        assert_eq!(ok[0].until, NaiveDate::from_ymd_opt(2030, 1, 31).unwrap());
        assert_eq!(ok[0].origin, "s.toml:1");
    }

    #[test]
    fn every_given_selector_must_match_and_until_is_inclusive() {
        let s = &parse("[[suppress]]\nrule = \"unexpected-ref\"\nrole = \"*:role/deploy-*\"\nreason = \"r\"\nuntil = \"2030-01-31\"\n").unwrap()[0];
        let mut f = Finding::new("unexpected-ref", Severity::High, "t");
        f.role = Some("arn:aws:iam::1:role/deploy-prod".into());
        assert!(s.matches(&f));
        f.role = Some("arn:aws:iam::1:role/build".into());
        assert!(!s.matches(&f));
        f.role = None;
        assert!(
            !s.matches(&f),
            "a role glob never matches a finding without a role"
        );
        let day = |d| NaiveDate::from_ymd_opt(2030, 1, d).unwrap();
        assert!(!s.expired(day(31)));
        assert!(s.expired(NaiveDate::from_ymd_opt(2030, 2, 1).unwrap()));
    }

    #[test]
    fn a_baseline_round_trips_once_its_reasons_are_filled() {
        let mut f = Finding::new("unexpected-ref", Severity::High, "t");
        f.fingerprint = "0123456789abcdef0123456789abcdef".into();
        f.message = "a\nmessage with \"quotes\"".into();
        let text = baseline(
            &[f.clone(), f.clone()],
            NaiveDate::from_ymd_opt(2026, 1, 1).unwrap(),
            90,
        );
        assert_eq!(
            text.matches("[[suppress]]").count(),
            1,
            "one entry per fingerprint"
        );
        assert!(parse(&text).is_err(), "the placeholder reason is refused");
        let filled = text.replace(PLACEHOLDER_REASON, "accepted: legacy deploy path");
        let s = parse(&filled).unwrap();
        assert!(s[0].matches(&f));
        assert_eq!(s[0].until, NaiveDate::from_ymd_opt(2026, 4, 1).unwrap());
    }
}
