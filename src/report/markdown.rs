//! The Markdown report, for tickets, pull-request comments and chat: the
//! same content as the HTML in headings, lists and tables, no HTML. Log
//! text is made visible, then every character Markdown could read as markup
//! (pipes, backticks, emphasis, links, angle brackets) is escaped, so a
//! subject cannot break a table, open a link or inject a tag.

use std::fmt::Write;

use super::{Document, Timeline};
use crate::model::time::{format_time, Micros};
use crate::text::markdown::{Align, Table};
use crate::text::md;

fn opt(s: &Option<String>) -> String {
    s.as_deref().map(md).unwrap_or_default()
}

fn time(t: Option<Micros>) -> String {
    t.map(format_time).unwrap_or_default()
}

fn busiest(t: &Timeline) -> String {
    match t
        .buckets
        .iter()
        .max_by_key(|b| (b.total() + b.failed, std::cmp::Reverse(b.start)))
    {
        Some(b) if b.total() + b.failed > 0 => {
            format!(
                "busiest {}: {} exchanges, {} failed",
                if t.bucket_seconds < 86_400 {
                    "hour"
                } else {
                    "day"
                },
                b.total(),
                b.failed
            ) + &format!(" (from {})", format_time(b.start))
        }
        _ => "no exchanges".into(),
    }
}

/// Renders the document.
pub fn render(doc: &Document) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "# rolecall report\n");
    let _ = writeln!(
        out,
        "Window {} – {} · generated {} · rolecall {}  ",
        format_time(doc.window.start),
        format_time(doc.window.end),
        format_time(doc.generated_at),
        md(&doc.rolecall_version)
    );
    let _ = write!(
        out,
        "Policy {}{}",
        doc.policy
            .path
            .as_deref()
            .map(md)
            .unwrap_or_else(|| "built-in defaults".into()),
        doc.policy
            .sha256
            .as_deref()
            .map(|h| format!(" (sha256 {})", &h[..h.len().min(16)]))
            .unwrap_or_default()
    );
    match &doc.state {
        Some(s) => {
            let _ = writeln!(
                out,
                " · state {}, run {} of {}{}{}\n",
                md(&s.path),
                s.run_id,
                s.runs,
                s.previous_run
                    .as_ref()
                    .map(|p| format!(
                        ", compared with run {} ({} – {})",
                        p.id,
                        format_time(p.window_start),
                        format_time(p.window_end)
                    ))
                    .unwrap_or_else(|| ", the first".into()),
                if s.replaced_earlier_run {
                    "; replaces an earlier run over the same window"
                } else {
                    ""
                }
            );
        }
        None => {
            let _ = writeln!(out, " · no state: statuses and trends need \\-\\-state\n");
        }
    }

    if doc.inputs.partial {
        let _ = writeln!(
            out,
            "**Partial: some input could not be read; the findings cover only the rest.**\n"
        );
        for u in &doc.inputs.unread {
            let _ = writeln!(out, "- not read: {}: {}", md(&u.source), md(&u.reason));
        }
        let _ = writeln!(out);
    }
    let sm = &doc.summary;
    let _ = writeln!(out, "## Summary\n");
    let mut t = Table::new(
        &[
            "exchanges",
            "failed",
            "sessions",
            "critical",
            "high",
            "medium",
            "low",
            "info",
            "new",
            "resolved",
            "input errors",
        ]
        .map(|c| (c, Align::Right)),
    );
    let dash = |v: Option<usize>| v.map_or("–".to_string(), |n| n.to_string());
    t.row([
        sm.exchanges.to_string(),
        sm.failed_exchanges.to_string(),
        sm.sessions.to_string(),
        sm.findings.critical.to_string(),
        sm.findings.high.to_string(),
        sm.findings.medium.to_string(),
        sm.findings.low.to_string(),
        sm.findings.info.to_string(),
        dash(sm.new),
        dash(sm.resolved),
        doc.inputs.input_error_count.to_string(),
    ]);
    let _ = writeln!(out, "{}", t.finish());

    let _ = writeln!(out, "## Findings ({})\n", doc.findings.len());
    if doc.findings.is_empty() {
        let _ = writeln!(out, "No findings in this window.\n");
    } else {
        let mut t = Table::left(&[
            "severity",
            "status",
            "time",
            "rule",
            "role",
            "repository",
            "ref",
            "message",
        ]);
        for f in &doc.findings {
            let x = &f.finding;
            t.row([
                format!("**{}**", x.severity.as_str()),
                f.status.map(|s| s.as_str()).unwrap_or("").to_string(),
                time(x.time),
                md(&x.rule),
                opt(&x.role),
                opt(&x.repository),
                opt(&x.git_ref),
                md(&x.message),
            ]);
        }
        let _ = writeln!(out, "{}", t.finish());
        let _ = writeln!(out, "### Evidence\n");
        for (i, f) in doc.findings.iter().enumerate() {
            let x = &f.finding;
            let evidence: Vec<String> = x
                .evidence_items()
                .map(|(k, text)| format!("{}: {}", md(k), md(&text)))
                .collect();
            let _ = writeln!(
                out,
                "{}. {} {} · subject {} · session {} · fingerprint {}{}{}",
                i + 1,
                x.severity.as_str(),
                md(&x.rule),
                opt(&x.subject),
                opt(&x.session_key),
                md(&x.fingerprint),
                if evidence.is_empty() {
                    String::new()
                } else {
                    format!(" · {}", evidence.join("; "))
                },
                if x.event_ids.is_empty() {
                    String::new()
                } else {
                    format!(" · events {}", md(&x.event_ids.join(", ")))
                }
            );
        }
        let _ = writeln!(out);
    }

    if doc.state.is_some() {
        let _ = writeln!(
            out,
            "## Resolved since the previous run ({})\n",
            doc.resolved.len()
        );
        if doc.resolved.is_empty() {
            let _ = writeln!(out, "Nothing the previous run found has gone away.\n");
        } else {
            let mut t = Table::left(&["severity", "rule", "role", "last seen", "message"]);
            for r in &doc.resolved {
                t.row([
                    md(&r.severity),
                    md(&r.rule),
                    opt(&r.role),
                    time(r.last_seen),
                    md(&r.message),
                ]);
            }
            let _ = writeln!(out, "{}", t.finish());
        }
    }

    let _ = writeln!(out, "## Exchanges over time\n");
    let bucket = if doc.timeline.bucket_seconds < 86_400 {
        "hour"
    } else {
        "day"
    };
    let mut t = Table::new(&[
        (bucket, Align::Left),
        ("production", Align::Right),
        ("staging", Align::Right),
        ("development", Align::Right),
        ("unknown tier", Align::Right),
        ("failed", Align::Right),
    ]);
    for b in doc
        .timeline
        .buckets
        .iter()
        .filter(|b| b.total() + b.failed > 0)
    {
        t.row([
            format_time(b.start),
            b.production.to_string(),
            b.staging.to_string(),
            b.development.to_string(),
            b.unknown.to_string(),
            b.failed.to_string(),
        ]);
    }
    let _ = writeln!(out, "{}", t.finish());

    let _ = writeln!(out, "## Roles ({})\n", doc.roles.len());
    for r in &doc.roles {
        let _ = writeln!(out, "### {}\n", md(&r.role));
        let _ = writeln!(
            out,
            "Tier {} · {} exchanges, {} failed · {} sessions · {} findings · {}\n",
            r.tier
                .as_deref()
                .map(md)
                .unwrap_or_else(|| "unknown".into()),
            r.exchanges,
            r.failed_exchanges,
            r.sessions,
            r.findings,
            busiest(&r.timeline)
        );
        for (kind, label, values) in [
            ("subject", "Subjects", &r.subjects),
            ("issuer", "Issuers", &r.issuers),
            ("repository", "Repositories", &r.repositories),
            ("ref", "Refs", &r.refs),
            ("environment", "Environments", &r.environments),
            ("workflow", "Workflows", &r.workflows),
            ("trigger", "Triggers", &r.triggers),
        ] {
            if values.is_empty() {
                continue;
            }
            let shown: Vec<String> = values
                .iter()
                .map(|v| {
                    if r.new_values.iter().any(|n| n.kind == kind && &n.value == v) {
                        format!("{} (**new**)", md(v))
                    } else {
                        md(v)
                    }
                })
                .collect();
            let _ = writeln!(out, "- {label}: {}", shown.join(", "));
        }
        let _ = writeln!(out);
    }

    let k = &doc.static_keys;
    if k.total > 0 || !k.stopped.is_empty() {
        let _ = writeln!(out, "## Static keys ({})\n", k.total);
        let mut line = format!(
            "{} still used from CI · {} to revoke · {} past the rotation age · {} others",
            k.in_ci.len(),
            k.to_revoke.len(),
            k.to_rotate.len(),
            k.others
        );
        if let Some(at) = k.measured_at {
            line.push_str(&format!(
                " · ages measured at {} ({})",
                format_time(at),
                opt(&k.measured_basis)
            ));
        }
        let _ = writeln!(out, "{line}\n");
        if !k.iam_records {
            let _ = writeln!(
                out,
                "No credential report or key list was given: unused keys were not judged.\n"
            );
        }
        for (title, keys) in [
            ("Still used from CI", &k.in_ci),
            ("To revoke", &k.to_revoke),
            ("Past the rotation age", &k.to_rotate),
            ("Stopped since the previous run", &k.stopped),
        ] {
            if keys.is_empty() {
                continue;
            }
            let _ = writeln!(out, "### {title} ({})\n", keys.len());
            let mut t = Table::new(&[
                ("key", Align::Left),
                ("user", Align::Left),
                ("account", Align::Left),
                ("last used", Align::Left),
                ("calls", Align::Right),
                ("idle days", Align::Right),
                ("age days", Align::Right),
                ("links to CI", Align::Left),
            ]);
            for e in keys.iter() {
                let mut links: Vec<String> = e.trend.iter().map(|t| md(t)).collect();
                links.extend(e.ci_links.iter().map(|l| md(l)));
                t.row([
                    md(&e.key),
                    opt(&e.user),
                    opt(&e.account),
                    time(e.last_used),
                    e.calls.to_string(),
                    e.idle_days.map(|d| d.to_string()).unwrap_or_default(),
                    e.age_days.map(|d| d.to_string()).unwrap_or_default(),
                    links.join("; "),
                ]);
            }
            let _ = writeln!(out, "{}", t.finish());
        }
    }

    if let Some(t) = &doc.trends {
        let _ = writeln!(out, "## Trends across runs\n");
        let mut runs = Table::new(&[
            ("run", Align::Right),
            ("window", Align::Left),
            ("exchanges", Align::Right),
            ("failed", Align::Right),
            ("findings", Align::Right),
            ("critical", Align::Right),
            ("high", Align::Right),
            ("medium", Align::Right),
            ("low", Align::Right),
            ("info", Align::Right),
            ("new", Align::Right),
            ("resolved", Align::Right),
        ]);
        for r in t.runs.iter().rev() {
            runs.row([
                r.id.to_string(),
                format!(
                    "{} – {}",
                    format_time(r.window_start),
                    format_time(r.window_end)
                ),
                r.exchanges.to_string(),
                r.failed_exchanges.to_string(),
                r.findings.to_string(),
                r.critical.to_string(),
                r.high.to_string(),
                r.medium.to_string(),
                r.low.to_string(),
                r.info.to_string(),
                r.new.to_string(),
                r.resolved.to_string(),
            ]);
        }
        let _ = writeln!(out, "{}", runs.finish());
        if !t.days.is_empty() {
            let mut days = Table::new(&[
                ("day", Align::Left),
                ("exchanges", Align::Right),
                ("failed", Align::Right),
            ]);
            for d in &t.days {
                days.row([d.day.clone(), d.exchanges.to_string(), d.failed.to_string()]);
            }
            let _ = writeln!(out, "{}", days.finish());
        }
    }

    let i = &doc.inputs;
    let _ = writeln!(out, "## Inputs\n");
    let _ = writeln!(
        out,
        "- sources: {}",
        i.sources
            .iter()
            .map(|s| md(s))
            .collect::<Vec<_>>()
            .join(", ")
    );
    let _ = writeln!(
        out,
        "- files: {} read, {} skipped",
        i.files, i.files_skipped
    );
    let _ = writeln!(
        out,
        "- records: {} ({} bytes), {} events",
        i.records, i.bytes, i.events
    );
    let _ = writeln!(out, "- input errors: {}", i.input_error_count);
    for e in &i.input_errors {
        let _ = writeln!(
            out,
            "  - {}{}: {}",
            md(&e.path),
            if e.location.is_empty() {
                String::new()
            } else {
                format!(": {}", md(&e.location))
            },
            md(&e.reason)
        );
    }
    if i.input_error_count > i.input_errors.len() {
        let _ = writeln!(
            out,
            "  - … and {} more",
            i.input_error_count - i.input_errors.len()
        );
    }
    if !doc.unchecked.is_empty() {
        let _ = writeln!(out, "\nCould not be checked:\n");
        for u in &doc.unchecked {
            let _ = writeln!(out, "- {}{}: {}", md(&u.rule), u.scope(), md(&u.reason));
        }
    }
    if !doc.notes.is_empty() {
        let _ = writeln!(out, "\nNotes:\n");
        for n in &doc.notes {
            let _ = writeln!(out, "- {}", md(n));
        }
    }
    out
}
