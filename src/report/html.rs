//! The HTML report: one self-contained, well-formed file (inline CSS and
//! SVG, no scripts, nothing fetched from the network) that reads on a laptop
//! and prints. Findings expand with `<details>`; every log-derived string is
//! made visible (`\u{..}` for controls and bidi overrides, JWT signatures
//! removed) and then HTML-escaped.

use std::fmt::Write;

use super::charts::{self, Series};
use super::{Bucket, Document, ReportFinding, RoleSection, Timeline};
use crate::model::history::Status;
use crate::model::time::{format_time, Micros};
use crate::model::Severity;
use crate::text::esc;

fn opt(s: &Option<String>) -> String {
    s.as_deref().map(esc).unwrap_or_default()
}

fn time(t: Option<Micros>) -> String {
    t.map(format_time).unwrap_or_default()
}

/// `2025-05-14 13:23:10` (UTC, as the header says).
fn short_time(t: Option<Micros>) -> String {
    time(t).replace('T', " ").trim_end_matches('Z').to_string()
}

const CSS: &str = r#"
:root { --fg: #1d2329; --muted: #5f6b76; --line: #dde3e8; --bg: #f6f8fa;
  --critical: #b01c1c; --high: #e0561b; --medium: #b07400; --low: #1f6fb2; --info: #6c757d; }
* { box-sizing: border-box; }
body { font: 14px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; color: var(--fg);
  margin: 0 auto; max-width: 1200px; padding: 24px; }
h1 { font-size: 22px; margin: 0 0 4px; }
h2 { font-size: 18px; margin: 28px 0 8px; border-bottom: 1px solid var(--line); padding-bottom: 4px; }
h3 { font-size: 15px; margin: 18px 0 6px; word-break: break-all; }
.meta, .muted { color: var(--muted); }
.meta { margin: 0; font-size: 13px; }
code, .mono { font-family: ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; font-size: 12.5px; overflow-wrap: anywhere; }
td.nowrap { white-space: nowrap; }
.cards { display: flex; flex-wrap: wrap; gap: 10px; margin: 16px 0; }
.card { border: 1px solid var(--line); border-radius: 6px; padding: 8px 14px; min-width: 110px; background: var(--bg); }
.card .n { font-size: 22px; font-weight: 600; }
.card .l { color: var(--muted); font-size: 12px; }
table { border-collapse: collapse; width: 100%; margin: 6px 0 12px; }
th, td { text-align: left; vertical-align: top; padding: 5px 8px; border-bottom: 1px solid var(--line); }
th { font-size: 12px; color: var(--muted); font-weight: 600; }
td.wrap { word-break: break-word; }
.sev { font-weight: 600; text-transform: uppercase; font-size: 11.5px; }
.sev.critical { color: var(--critical); } .sev.high { color: var(--high); } .sev.medium { color: var(--medium); }
.sev.low { color: var(--low); } .sev.info { color: var(--info); }
.sev-card.critical .n { color: var(--critical); } .sev-card.high .n { color: var(--high); }
.sev-card.medium .n { color: var(--medium); } .sev-card.low .n { color: var(--low); } .sev-card.info .n { color: var(--info); }
.badge { display: inline-block; border-radius: 10px; padding: 0 8px; font-size: 11.5px; border: 1px solid var(--line); }
.badge.new { background: #fff4d6; border-color: #e6c36a; }
.badge.recurring { background: #eef1f4; }
.badge.resolved { background: #e3f4e6; border-color: #8fcf9b; }
details summary { cursor: pointer; }
details dl { display: grid; grid-template-columns: max-content 1fr; gap: 2px 12px; margin: 6px 0 4px; }
details dt { color: var(--muted); }
details dd { margin: 0; }
.chart svg { max-width: 100%; height: auto; }
.values { display: grid; grid-template-columns: max-content 1fr; gap: 2px 12px; }
.values dt { color: var(--muted); }
.values dd { margin: 0; }
.new-value { background: #fff4d6; }
.partial { background: #fdecea; border: 1px solid #f5c2c0; border-radius: 6px; padding: 8px 12px; }
ul.partial { margin-top: 0; padding-left: 28px; }
@media print {
  body { max-width: none; padding: 0; font-size: 11px; }
  .card { break-inside: avoid; }
  tr, .role { break-inside: avoid; }
  details summary { list-style: none; }
}
"#;

fn severity_class(s: &str) -> &str {
    match s {
        "critical" | "high" | "medium" | "low" => s,
        _ => "info",
    }
}

fn card(out: &mut String, n: impl std::fmt::Display, label: &str, class: &str) {
    let _ = write!(
        out,
        "<div class=\"card {class}\"><div class=\"n\">{n}</div><div class=\"l\">{}</div></div>",
        esc(label)
    );
}

fn status_badge(s: Option<Status>) -> String {
    match s {
        Some(st) => format!("<span class=\"badge {0}\">{0}</span>", st.as_str()),
        None => String::new(),
    }
}

fn timeline_chart(t: &Timeline, by_tier: bool, width: u32) -> String {
    let labels: Vec<String> = t
        .buckets
        .iter()
        .map(|b| {
            let s = format_time(b.start);
            if t.bucket_seconds < 86_400 {
                s[5..16].replace('T', " ")
            } else {
                s[..10].to_string()
            }
        })
        .collect();
    let pick = |f: fn(&Bucket) -> u64| t.buckets.iter().map(f).collect::<Vec<u64>>();
    let mut series = Vec::new();
    if by_tier {
        for (name, color, f) in [
            (
                "production",
                charts::PRODUCTION,
                (|b: &Bucket| b.production) as fn(&Bucket) -> u64,
            ),
            ("staging", charts::STAGING, |b: &Bucket| b.staging),
            ("development", charts::DEVELOPMENT, |b: &Bucket| {
                b.development
            }),
            ("tier unknown", charts::UNKNOWN, |b: &Bucket| b.unknown),
        ] {
            let values = pick(f);
            if values.iter().any(|&v| v > 0) {
                series.push(Series {
                    name,
                    color,
                    values,
                });
            }
        }
    } else {
        series.push(Series {
            name: "exchanges",
            color: charts::LOW,
            values: pick(Bucket::total),
        });
    }
    series.push(Series {
        name: "failed",
        color: charts::FAILED,
        values: pick(|b| b.failed),
    });
    charts::lines(&labels, &series, width, if by_tier { 260 } else { 170 })
}

fn finding_row(out: &mut String, f: &ReportFinding) {
    let x = &f.finding;
    let sev = x.severity.as_str();
    let _ = write!(
        out,
        "<tr><td><span class=\"sev {sev}\">{sev}</span></td><td>{}</td><td class=\"mono nowrap\">{}</td><td class=\"nowrap\"><code>{}</code></td><td class=\"wrap\"><code>{}</code></td><td class=\"wrap\"><details><summary>{}</summary><dl>",
        status_badge(f.status),
        esc(&short_time(x.time)),
        esc(&x.rule),
        opt(&x.role),
        esc(&x.message),
    );
    let mut field = |name: &str, value: &str| {
        if !value.is_empty() {
            let _ = write!(out, "<dt>{}</dt><dd><code>{}</code></dd>", esc(name), value);
        }
    };
    field("title", &esc(&x.title));
    field("subject", &opt(&x.subject));
    field("repository", &opt(&x.repository));
    field("ref", &opt(&x.git_ref));
    field("environment", &opt(&x.environment));
    field("trigger", &opt(&x.trigger));
    field("run", &opt(&x.run_id));
    field("issuer", &opt(&x.issuer));
    field("account", &opt(&x.account));
    field("source address", &opt(&x.source_ip));
    field("session", &opt(&x.session_key));
    for (k, v) in &x.evidence {
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
            serde_json::Value::Null => continue,
            other => other.to_string(),
        };
        field(k, &esc(&text));
    }
    field("events", &esc(&x.event_ids.join(", ")));
    field("fingerprint", &esc(&x.fingerprint));
    out.push_str("</dl></details></td></tr>\n");
}

fn value_list(out: &mut String, role: &RoleSection, kind: &str, label: &str, values: &[String]) {
    if values.is_empty() {
        return;
    }
    let _ = write!(out, "<dt>{}</dt><dd>", esc(label));
    for (i, v) in values.iter().enumerate() {
        if i > 0 {
            out.push_str(", ");
        }
        let new = role
            .new_values
            .iter()
            .any(|n| n.kind == kind && &n.value == v);
        if new {
            let _ = write!(
                out,
                "<code class=\"new-value\">{}</code> <span class=\"badge new\">new</span>",
                esc(v)
            );
        } else {
            let _ = write!(out, "<code>{}</code>", esc(v));
        }
    }
    out.push_str("</dd>");
}

/// Renders the document.
pub fn render(doc: &Document) -> String {
    let mut out = String::with_capacity(64 * 1024);
    let window = format!(
        "{} – {}",
        format_time(doc.window.start),
        format_time(doc.window.end)
    );
    let _ = writeln!(
        out,
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\"/>\n<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\"/>\n<title>rolecall report {}</title>\n<style>{CSS}</style>\n</head>\n<body>",
        esc(&window)
    );
    let _ = write!(out, "<header><h1>rolecall report</h1><p class=\"meta\">Window {} (times in UTC) · generated {} · rolecall {}</p>", esc(&window), esc(&format_time(doc.generated_at)), esc(&doc.rolecall_version));
    let _ = write!(
        out,
        "<p class=\"meta\">Policy {}{}",
        doc.policy
            .path
            .as_deref()
            .map(|p| format!("<code>{}</code>", esc(p)))
            .unwrap_or_else(|| "built-in defaults".into()),
        doc.policy
            .sha256
            .as_deref()
            .map(|h| format!(" (sha256 <code>{}</code>)", esc(&h[..h.len().min(16)])))
            .unwrap_or_default()
    );
    match &doc.state {
        Some(s) => {
            let _ = writeln!(
                out,
                " · state <code>{}</code>, run {} of {}{}{}</p></header>",
                esc(&s.path),
                s.run_id,
                s.runs,
                s.previous_run
                    .as_ref()
                    .map(|p| format!(
                        ", compared with run {} ({} – {})",
                        p.id,
                        esc(&format_time(p.window_start)),
                        esc(&format_time(p.window_end))
                    ))
                    .unwrap_or_else(|| ", the first".into()),
                if s.replaced_earlier_run {
                    "; replaces an earlier run over the same window"
                } else {
                    ""
                }
            );
        }
        None => out.push_str(" · no state: statuses and trends need --state</p></header>\n"),
    }

    if doc.inputs.partial {
        out.push_str("<p class=\"partial\"><strong>Partial:</strong> some input could not be read; the findings cover only the rest.</p><ul class=\"partial\">");
        for u in &doc.inputs.unread {
            let _ = write!(
                out,
                "<li><code>{}</code>: {}</li>",
                esc(&u.source),
                esc(&u.reason)
            );
        }
        out.push_str("</ul>\n");
    }
    // Summary cards.
    let sm = &doc.summary;
    out.push_str("<section class=\"cards\" id=\"summary\">");
    card(&mut out, sm.exchanges, "exchanges", "");
    card(&mut out, sm.failed_exchanges, "failed exchanges", "");
    card(&mut out, sm.sessions, "sessions", "");
    for s in Severity::ALL.iter() {
        card(
            &mut out,
            sm.findings.get(*s),
            s.as_str(),
            &format!("sev-card {}", s.as_str()),
        );
    }
    if let (Some(n), Some(r)) = (sm.new, sm.resolved) {
        card(&mut out, n, "new since last run", "");
        card(&mut out, r, "resolved", "");
    }
    if doc.inputs.input_error_count > 0 {
        card(
            &mut out,
            doc.inputs.input_error_count,
            "input errors",
            "sev-card high",
        );
    }
    out.push_str("</section>\n");

    // Findings.
    let _ = writeln!(
        out,
        "<section id=\"findings\"><h2>Findings ({})</h2>",
        doc.findings.len()
    );
    if doc.findings.is_empty() {
        out.push_str("<p class=\"muted\">No findings in this window.</p>\n");
    } else {
        out.push_str("<table><thead><tr><th>Severity</th><th>Status</th><th>Time</th><th>Rule</th><th>Role</th><th>What happened (expand for evidence)</th></tr></thead><tbody>\n");
        for f in &doc.findings {
            finding_row(&mut out, f);
        }
        out.push_str("</tbody></table>\n");
    }
    out.push_str("</section>\n");

    if doc.state.is_some() {
        let _ = writeln!(
            out,
            "<section id=\"resolved\"><h2>Resolved since the previous run ({})</h2>",
            doc.resolved.len()
        );
        if doc.resolved.is_empty() {
            out.push_str("<p class=\"muted\">Nothing the previous run found has gone away.</p>\n");
        } else {
            out.push_str("<table><thead><tr><th>Severity</th><th>Rule</th><th>Role</th><th>Last seen</th><th>Message</th></tr></thead><tbody>\n");
            for r in &doc.resolved {
                let _ = writeln!(
                    out,
                    "<tr><td><span class=\"sev {0}\">{1}</span></td><td><code>{2}</code></td><td class=\"wrap\"><code>{3}</code></td><td class=\"mono\">{4}</td><td class=\"wrap\">{5}</td></tr>",
                    severity_class(&r.severity),
                    esc(&r.severity),
                    esc(&r.rule),
                    opt(&r.role),
                    esc(&time(r.last_seen)),
                    esc(&r.message)
                );
            }
            out.push_str("</tbody></table>\n");
        }
        out.push_str("</section>\n");
    }

    // Activity.
    out.push_str(
        "<section id=\"activity\"><h2>Exchanges over time, by tier</h2>\n<div class=\"chart\">",
    );
    out.push_str(&timeline_chart(&doc.timeline, true, 1100));
    let _ = writeln!(
        out,
        "</div><p class=\"muted\">One point per {}.</p></section>",
        if doc.timeline.bucket_seconds < 86_400 {
            "hour"
        } else {
            "day"
        }
    );

    // Roles.
    let _ = writeln!(
        out,
        "<section id=\"roles\"><h2>Roles ({})</h2>",
        doc.roles.len()
    );
    for r in &doc.roles {
        let _ = write!(
            out,
            "<div class=\"role\"><h3><code>{}</code></h3><p class=\"meta\">tier {} · {} exchanges, {} failed · {} sessions · {} findings{}</p>",
            esc(&r.role),
            r.tier.as_deref().map(esc).unwrap_or_else(|| "unknown".into()),
            r.exchanges,
            r.failed_exchanges,
            r.sessions,
            r.findings,
            if r.new_values.is_empty() { String::new() } else { format!(" · <span class=\"badge new\">{} new</span>", r.new_values.len()) }
        );
        out.push_str("<dl class=\"values\">");
        value_list(&mut out, r, "subject", "subjects", &r.subjects);
        value_list(&mut out, r, "issuer", "issuers", &r.issuers);
        value_list(&mut out, r, "repository", "repositories", &r.repositories);
        value_list(&mut out, r, "ref", "refs", &r.refs);
        value_list(&mut out, r, "environment", "environments", &r.environments);
        value_list(&mut out, r, "workflow", "workflows", &r.workflows);
        value_list(&mut out, r, "trigger", "triggers", &r.triggers);
        out.push_str("</dl><div class=\"chart\">");
        out.push_str(&timeline_chart(&r.timeline, false, 900));
        out.push_str("</div></div>\n");
    }
    out.push_str("</section>\n");

    // Trends.
    if let Some(t) = &doc.trends {
        out.push_str("<section id=\"trends\"><h2>Trends across runs</h2>\n");
        if t.runs.len() > 1 {
            let labels: Vec<String> = t
                .runs
                .iter()
                .map(|r| format_time(r.window_end)[..10].to_string())
                .collect();
            let series: Vec<Series> = [
                (
                    "critical",
                    charts::CRITICAL,
                    t.runs.iter().map(|r| r.critical as u64).collect::<Vec<_>>(),
                ),
                (
                    "high",
                    charts::HIGH,
                    t.runs.iter().map(|r| r.high as u64).collect(),
                ),
                (
                    "medium",
                    charts::MEDIUM,
                    t.runs.iter().map(|r| r.medium as u64).collect(),
                ),
                (
                    "low",
                    charts::LOW,
                    t.runs.iter().map(|r| r.low as u64).collect(),
                ),
            ]
            .into_iter()
            .map(|(name, color, values)| Series {
                name,
                color,
                values,
            })
            .collect();
            out.push_str("<h3>Findings per run</h3><div class=\"chart\">");
            out.push_str(&charts::lines(&labels, &series, 900, 220));
            out.push_str("</div>");
        }
        if t.days.len() > 1 {
            let labels: Vec<String> = t.days.iter().map(|d| d.day.clone()).collect();
            out.push_str("<h3>Exchanges per day</h3><div class=\"chart\">");
            out.push_str(&charts::lines(
                &labels,
                &[
                    Series {
                        name: "exchanges",
                        color: charts::LOW,
                        values: t.days.iter().map(|d| d.exchanges as u64).collect(),
                    },
                    Series {
                        name: "failed",
                        color: charts::FAILED,
                        values: t.days.iter().map(|d| d.failed as u64).collect(),
                    },
                ],
                900,
                200,
            ));
            out.push_str("</div>");
        }
        out.push_str("<table><thead><tr><th>Run</th><th>Window</th><th>Exchanges</th><th>Failed</th><th>Findings</th><th>New</th><th>Resolved</th></tr></thead><tbody>\n");
        for r in t.runs.iter().rev() {
            let _ = writeln!(
                out,
                "<tr><td>{}</td><td class=\"mono\">{} – {}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
                r.id,
                esc(&format_time(r.window_start)),
                esc(&format_time(r.window_end)),
                r.exchanges,
                r.failed_exchanges,
                r.findings,
                r.new,
                r.resolved
            );
        }
        out.push_str("</tbody></table></section>\n");
    }

    // Inputs.
    let i = &doc.inputs;
    out.push_str("<section id=\"inputs\"><h2>Inputs</h2><dl class=\"values\">");
    let _ = write!(
        out,
        "<dt>sources</dt><dd>{}</dd>",
        i.sources
            .iter()
            .map(|s| format!("<code>{}</code>", esc(s)))
            .collect::<Vec<_>>()
            .join(", ")
    );
    let _ = write!(
        out,
        "<dt>files</dt><dd>{} read, {} skipped</dd>",
        i.files, i.files_skipped
    );
    let _ = write!(
        out,
        "<dt>records</dt><dd>{} ({} bytes), {} events</dd>",
        i.records, i.bytes, i.events
    );
    let _ = writeln!(
        out,
        "<dt>input errors</dt><dd>{}</dd></dl>",
        i.input_error_count
    );
    if !i.input_errors.is_empty() {
        out.push_str(
            "<table><thead><tr><th>File</th><th>Where</th><th>Why</th></tr></thead><tbody>\n",
        );
        for e in &i.input_errors {
            let _ = writeln!(
                out,
                "<tr><td class=\"wrap\"><code>{}</code></td><td>{}</td><td class=\"wrap\">{}</td></tr>",
                esc(&e.path),
                esc(&e.location),
                esc(&e.reason)
            );
        }
        out.push_str("</tbody></table>\n");
        if i.input_error_count > i.input_errors.len() {
            let _ = writeln!(
                out,
                "<p class=\"muted\">… and {} more.</p>",
                i.input_error_count - i.input_errors.len()
            );
        }
    }
    if !doc.unchecked.is_empty() {
        out.push_str("<h3>What could not be checked</h3><table><thead><tr><th>Rule</th><th>Sessions</th><th>Why</th></tr></thead><tbody>\n");
        for u in &doc.unchecked {
            let _ = writeln!(
                out,
                "<tr><td><code>{}</code></td><td>{}</td><td class=\"wrap\">{}</td></tr>",
                esc(&u.rule),
                u.sessions,
                esc(&u.reason)
            );
        }
        out.push_str("</tbody></table>\n");
    }
    if !doc.notes.is_empty() {
        out.push_str("<h3>Notes</h3><ul>");
        for n in &doc.notes {
            let _ = write!(out, "<li>{}</li>", esc(n));
        }
        out.push_str("</ul>\n");
    }
    out.push_str("</section>\n</body>\n</html>\n");
    out
}
