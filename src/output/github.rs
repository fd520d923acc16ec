//! GitHub Actions: one workflow command per finding (`::error`,
//! `::warning`, `::notice` by severity), pointing at the workflow file the
//! token names when there is one, so the annotation lands on it; and a
//! Markdown summary for `$GITHUB_STEP_SUMMARY`. Values are escaped as the
//! runner requires (`%`, CR, LF, and in properties `:` and `,`), after
//! control characters are made visible, so a log value can neither end the
//! command nor start another.

use std::io::{self, Write};

use super::Context;
use crate::model::Severity;
use crate::text::terminal;

fn data(s: &str) -> String {
    terminal(s)
        .replace('%', "%25")
        .replace('\r', "%0D")
        .replace('\n', "%0A")
}

fn property(s: &str) -> String {
    data(s).replace(':', "%3A").replace(',', "%2C")
}

pub fn command(severity: Severity) -> &'static str {
    match severity {
        Severity::Critical | Severity::High => "error",
        Severity::Medium => "warning",
        Severity::Low | Severity::Info => "notice",
    }
}

pub fn write<W: Write>(w: &mut W, cx: &Context<'_>) -> io::Result<()> {
    for f in &cx.report.findings {
        let title = format!("rolecall {}: {}", f.severity.as_str(), f.rule);
        let file = cx
            .workflow_file(f)
            .map(|p| format!(",file={}", property(&p)))
            .unwrap_or_default();
        let mut message = f.message.clone();
        if let Some(role) = &f.role {
            if !message.contains(role.as_str()) {
                message.push_str(&format!(" (role {role})"));
            }
        }
        writeln!(
            w,
            "::{} title={}{file}::{} [fingerprint {}]",
            command(f.severity),
            property(&title),
            data(&message),
            f.fingerprint
        )?;
    }
    let s = &cx.report.summary;
    for u in &s.unread {
        writeln!(
            w,
            "::warning title={}::{}",
            property("rolecall: partial input"),
            data(&format!(
                "not read: {}: {} (the findings cover only what was read)",
                u.source, u.reason
            ))
        )?;
    }
    writeln!(
        w,
        "::notice title=rolecall::{}",
        data(&format!(
            "{} findings ({} critical, {} high, {} medium, {} low, {} info), {} suppressed, {} input errors",
            s.findings.total,
            s.findings.critical,
            s.findings.high,
            s.findings.medium,
            s.findings.low,
            s.findings.info,
            s.suppressed,
            s.input_error_count
        ))
    )
}

/// Appends the Markdown summary to `$GITHUB_STEP_SUMMARY` when it is set.
pub fn write_step_summary(cx: &Context<'_>) -> io::Result<Option<String>> {
    let Some(path) = std::env::var_os("GITHUB_STEP_SUMMARY").filter(|p| !p.is_empty()) else {
        return Ok(None);
    };
    let mut f = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(&path)?;
    super::markdown::write(&mut f, cx)?;
    Ok(Some(path.to_string_lossy().to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_cannot_end_or_start_a_command() {
        assert_eq!(
            data("50%\r\n::set-env name=X::1"),
            "50%25\\u{d}\\u{a}::set-env name=X::1"
        );
        assert_eq!(property("a:b,c"), "a%3Ab%2Cc");
    }
}
