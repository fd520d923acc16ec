//! The Markdown report, for tickets, pull-request comments and chat: the
//! same content as the HTML in headings, lists and tables, no HTML. Log
//! text is made visible, then every character Markdown could read as markup
//! (pipes, backticks, emphasis, links, angle brackets) is escaped, so a
//! subject cannot break a table, open a link or inject a tag.

use std::fmt::Write;

use super::{Document, Timeline};
use crate::model::time::{format_time, Micros};
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
    let _ = writeln!(out, "| exchanges | failed | sessions | critical | high | medium | low | info | new | resolved | input errors |");
    let _ = writeln!(
        out,
        "|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"
    );
    let dash = |v: Option<usize>| v.map_or("–".to_string(), |n| n.to_string());
    let _ = writeln!(
        out,
        "| {} | {} | {} | {} | {} | {} | {} | {} | {} | {} | {} |\n",
        sm.exchanges,
        sm.failed_exchanges,
        sm.sessions,
        sm.findings.critical,
        sm.findings.high,
        sm.findings.medium,
        sm.findings.low,
        sm.findings.info,
        dash(sm.new),
        dash(sm.resolved),
        doc.inputs.input_error_count
    );

    let _ = writeln!(out, "## Findings ({})\n", doc.findings.len());
    if doc.findings.is_empty() {
        let _ = writeln!(out, "No findings in this window.\n");
    } else {
        let _ = writeln!(
            out,
            "| severity | status | time | rule | role | repository | ref | message |"
        );
        let _ = writeln!(out, "|---|---|---|---|---|---|---|---|");
        for f in &doc.findings {
            let x = &f.finding;
            let _ = writeln!(
                out,
                "| **{}** | {} | {} | {} | {} | {} | {} | {} |",
                x.severity.as_str(),
                f.status.map(|s| s.as_str()).unwrap_or(""),
                time(x.time),
                md(&x.rule),
                opt(&x.role),
                opt(&x.repository),
                opt(&x.git_ref),
                md(&x.message)
            );
        }
        let _ = writeln!(out);
        let _ = writeln!(out, "### Evidence\n");
        for (i, f) in doc.findings.iter().enumerate() {
            let x = &f.finding;
            let evidence: Vec<String> = x
                .evidence
                .iter()
                .filter(|(_, v)| !v.is_null())
                .map(|(k, v)| {
                    let text = match v {
                        serde_json::Value::String(s) => s.clone(),
                        serde_json::Value::Array(items) => items
                            .iter()
                            .map(|i| {
                                i.as_str()
                                    .map(str::to_string)
                                    .unwrap_or_else(|| i.to_string())
                            })
                            .collect::<Vec<_>>()
                            .join(", "),
                        other => other.to_string(),
                    };
                    format!("{}: {}", md(k), md(&text))
                })
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
            let _ = writeln!(out, "| severity | rule | role | last seen | message |");
            let _ = writeln!(out, "|---|---|---|---|---|");
            for r in &doc.resolved {
                let _ = writeln!(
                    out,
                    "| {} | {} | {} | {} | {} |",
                    md(&r.severity),
                    md(&r.rule),
                    opt(&r.role),
                    time(r.last_seen),
                    md(&r.message)
                );
            }
            let _ = writeln!(out);
        }
    }

    let _ = writeln!(out, "## Exchanges over time\n");
    let _ = writeln!(
        out,
        "| {} | production | staging | development | unknown tier | failed |",
        if doc.timeline.bucket_seconds < 86_400 {
            "hour"
        } else {
            "day"
        }
    );
    let _ = writeln!(out, "|---|---:|---:|---:|---:|---:|");
    for b in doc
        .timeline
        .buckets
        .iter()
        .filter(|b| b.total() + b.failed > 0)
    {
        let _ = writeln!(
            out,
            "| {} | {} | {} | {} | {} | {} |",
            format_time(b.start),
            b.production,
            b.staging,
            b.development,
            b.unknown,
            b.failed
        );
    }
    let _ = writeln!(out);

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

    if let Some(t) = &doc.trends {
        let _ = writeln!(out, "## Trends across runs\n");
        let _ = writeln!(out, "| run | window | exchanges | failed | findings | critical | high | medium | low | info | new | resolved |");
        let _ = writeln!(
            out,
            "|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"
        );
        for r in t.runs.iter().rev() {
            let _ = writeln!(
                out,
                "| {} | {} – {} | {} | {} | {} | {} | {} | {} | {} | {} | {} | {} |",
                r.id,
                format_time(r.window_start),
                format_time(r.window_end),
                r.exchanges,
                r.failed_exchanges,
                r.findings,
                r.critical,
                r.high,
                r.medium,
                r.low,
                r.info,
                r.new,
                r.resolved
            );
        }
        let _ = writeln!(out);
        if !t.days.is_empty() {
            let _ = writeln!(out, "| day | exchanges | failed |");
            let _ = writeln!(out, "|---|---:|---:|");
            for d in &t.days {
                let _ = writeln!(out, "| {} | {} | {} |", d.day, d.exchanges, d.failed);
            }
            let _ = writeln!(out);
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
            let _ = writeln!(
                out,
                "- {} for {} sessions: {}",
                md(&u.rule),
                u.sessions,
                md(&u.reason)
            );
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
