//! JUnit XML for GitLab (`artifacts:reports:junit`), Jenkins and Azure
//! DevOps: one testsuite per rule that ran, a failing testcase per finding,
//! a passing testcase for a rule that ran clean, and a skipped testcase per
//! suppressed finding. Text is made visible (no control characters, which
//! XML 1.0 cannot carry even escaped) and then escaped; no CDATA, so `]]>`
//! in a log value is just text.

use std::collections::BTreeMap;
use std::io::{self, Write};

use super::Context;
use crate::model::time::format_time;
use crate::model::Finding;
use crate::text::xml;

fn case_name(f: &Finding) -> String {
    let mut parts = vec![f.severity.as_str().to_string()];
    if let Some(r) = &f.role {
        parts.push(r.clone());
    }
    if let Some(s) = f.subject.as_ref().or(f.repository.as_ref()) {
        parts.push(s.clone());
    }
    parts.push(f.fingerprint.clone());
    parts.join(" · ")
}

/// The failure's body: one escaped `key: value` line per fact.
fn details(f: &Finding) -> String {
    let mut lines: Vec<String> = Vec::new();
    let mut line = |k: &str, v: Option<&str>| {
        if let Some(v) = v.filter(|v| !v.is_empty()) {
            lines.push(xml(&format!("{k}: {v}")));
        }
    };
    line("message", Some(&f.message));
    line("time", f.time.map(format_time).as_deref());
    line("role", f.role.as_deref());
    line("subject", f.subject.as_deref());
    line("repository", f.repository.as_deref());
    line("ref", f.git_ref.as_deref());
    line("environment", f.environment.as_deref());
    line("source ip", f.source_ip.as_deref());
    line("session", f.session_key.as_deref());
    line("fingerprint", Some(&f.fingerprint));
    line("events", Some(&f.event_ids.join(", ")));
    for (k, v) in &f.evidence {
        if !v.is_null() {
            let text = match v {
                serde_json::Value::String(s) => s.clone(),
                other => other.to_string(),
            };
            line(k, Some(&text));
        }
    }
    lines.join("\n")
}

pub fn write<W: Write>(w: &mut W, cx: &Context<'_>) -> io::Result<()> {
    let r = cx.report;
    let mut by_rule: BTreeMap<&str, (Vec<&Finding>, Vec<&crate::model::Suppressed>)> =
        BTreeMap::new();
    for id in &r.summary.rules {
        by_rule.entry(id.as_str()).or_default();
    }
    for f in &r.findings {
        by_rule.entry(f.rule.as_str()).or_default().0.push(f);
    }
    for s in &r.suppressed {
        by_rule
            .entry(s.finding.rule.as_str())
            .or_default()
            .1
            .push(s);
    }
    let failures = r.findings.len();
    let tests: usize = by_rule
        .values()
        .map(|(f, s)| (f.len() + s.len()).max(1))
        .sum();
    writeln!(w, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>")?;
    let unread = r.summary.unread.len();
    writeln!(
        w,
        "<testsuites name=\"rolecall\" tests=\"{}\" failures=\"{failures}\" errors=\"{unread}\" skipped=\"{}\">",
        tests + unread,
        r.suppressed.len()
    )?;
    for (rule, (found, suppressed)) in &by_rule {
        let title = cx
            .rules
            .iter()
            .find(|x| x.id == *rule)
            .map(|x| x.title.as_ref())
            .unwrap_or("");
        writeln!(
            w,
            "  <testsuite name=\"{}\" tests=\"{}\" failures=\"{}\" errors=\"0\" skipped=\"{}\">",
            xml(rule),
            (found.len() + suppressed.len()).max(1),
            found.len(),
            suppressed.len()
        )?;
        if found.is_empty() && suppressed.is_empty() {
            writeln!(
                w,
                "    <testcase classname=\"rolecall.{}\" name=\"{}: no findings\"/>",
                xml(rule),
                xml(title)
            )?;
        }
        for f in found {
            writeln!(
                w,
                "    <testcase classname=\"rolecall.{}\" name=\"{}\">",
                xml(rule),
                xml(&case_name(f))
            )?;
            writeln!(
                w,
                "      <failure type=\"{}\" message=\"{}\">{}</failure>",
                f.severity.as_str(),
                xml(&f.message),
                details(f)
            )?;
            writeln!(w, "    </testcase>")?;
        }
        for s in suppressed {
            writeln!(
                w,
                "    <testcase classname=\"rolecall.{}\" name=\"{}\">",
                xml(rule),
                xml(&case_name(&s.finding))
            )?;
            writeln!(
                w,
                "      <skipped message=\"{}\"/>",
                xml(&format!(
                    "suppressed until {} ({}): {}",
                    s.until, s.suppression, s.reason
                ))
            )?;
            writeln!(w, "    </testcase>")?;
        }
        writeln!(w, "  </testsuite>")?;
    }
    if !r.summary.unread.is_empty() {
        writeln!(
            w,
            "  <testsuite name=\"rolecall-input\" tests=\"{0}\" failures=\"0\" errors=\"{0}\" skipped=\"0\">",
            r.summary.unread.len()
        )?;
        for u in &r.summary.unread {
            writeln!(
                w,
                "    <testcase classname=\"rolecall.input\" name=\"{}\">",
                xml(&u.source)
            )?;
            writeln!(
                w,
                "      <error type=\"partial-input\" message=\"{}\"/>",
                xml(&format!("not read (results are partial): {}", u.reason))
            )?;
            writeln!(w, "    </testcase>")?;
        }
        writeln!(w, "  </testsuite>")?;
    }
    writeln!(w, "</testsuites>")
}
