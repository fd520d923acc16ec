//! The HTML report: one self-contained, well-formed file (inline CSS and
//! SVG, no scripts, nothing fetched from the network) that reads on a laptop
//! and prints. Findings expand with `<details>`.
//!
//! Written with maud's `html!` templates, which escape every value they are
//! given: markup cannot come from data by forgetting a call. Text from the
//! input goes through `Text`, which also makes controls, bidi overrides
//! and invisible characters visible and removes JWT signatures (see
//! `text::html`); only the charts' SVG, which rolecall draws from numbers
//! and times, and the fixed head are inserted as markup. (maud over askama:
//! no template files outside `src`, and the templates are Rust, checked by
//! the compiler.)

use maud::{html, Markup, PreEscaped, Render};

use super::charts::{self, Series};
use super::{Bucket, Document, KeyEntry, ReportFinding, RoleSection, StaticKeys, Timeline};
use crate::model::history::Status;
use crate::model::time::{format_time, Micros};
use crate::model::Severity;
use crate::text::esc;

/// Text from the input, as HTML: visible (`\u{..}` for what a reader
/// would not see), signatures removed, escaped.
struct Text<'a>(&'a str);

impl Render for Text<'_> {
    fn render_to(&self, buffer: &mut String) {
        buffer.push_str(&esc(self.0));
    }
}

/// An optional text: nothing when absent.
fn opt(s: &Option<String>) -> Text<'_> {
    Text(s.as_deref().unwrap_or(""))
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

fn card(n: impl std::fmt::Display, label: &str, class: &str) -> Markup {
    html! {
        div class={"card " (class)} { div.n { (n.to_string()) } div.l { (Text(label)) } }
    }
}

fn status_badge(s: Option<Status>) -> Markup {
    html! {
        @if let Some(st) = s {
            span class={"badge " (st.as_str())} { (st.as_str()) }
        }
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

fn finding_row(f: &ReportFinding) -> Markup {
    let x = &f.finding;
    let sev = x.severity.as_str();
    let o = |v: &Option<String>| v.clone().unwrap_or_default();
    let mut fields: Vec<(String, String)> = vec![
        ("title".into(), x.title.clone()),
        ("subject".into(), o(&x.subject)),
        ("repository".into(), o(&x.repository)),
        ("ref".into(), o(&x.git_ref)),
        ("environment".into(), o(&x.environment)),
        ("trigger".into(), o(&x.trigger)),
        ("run".into(), o(&x.run_id)),
        ("issuer".into(), o(&x.issuer)),
        ("account".into(), o(&x.account)),
        ("source address".into(), o(&x.source_ip)),
        ("session".into(), o(&x.session_key)),
    ];
    fields.extend(x.evidence_items().map(|(k, text)| (k.to_string(), text)));
    fields.push(("events".into(), x.event_ids.join(", ")));
    fields.push(("fingerprint".into(), x.fingerprint.clone()));
    html! {
        tr {
            td { span class={"sev " (sev)} { (sev) } }
            td { (status_badge(f.status)) }
            td.mono.nowrap { (Text(&short_time(x.time))) }
            td.nowrap { code { (Text(&x.rule)) } }
            td.wrap { code { (opt(&x.role)) } }
            td.wrap {
                details {
                    summary { (Text(&x.message)) }
                    dl {
                        @for (name, value) in &fields {
                            @if !value.is_empty() {
                                dt { (Text(name)) } dd { code { (Text(value)) } }
                            }
                        }
                    }
                }
            }
        }
        "\n"
    }
}

fn value_list(role: &RoleSection, kind: &str, label: &str, values: &[String]) -> Markup {
    html! {
        @if !values.is_empty() {
            dt { (Text(label)) }
            dd {
                @for (i, v) in values.iter().enumerate() {
                    @if i > 0 { ", " }
                    @if role.new_values.iter().any(|n| n.kind == kind && &n.value == v) {
                        code.new-value { (Text(v)) } " " span.badge.new { "new" }
                    } @else {
                        code { (Text(v)) }
                    }
                }
            }
        }
    }
}

fn key_table(title: &str, what: &str, keys: &[KeyEntry]) -> Markup {
    html! {
        @if !keys.is_empty() {
            h3 { (title) " (" (keys.len()) ")" }
            p.muted { (what) }
            table {
                thead { tr {
                    th { "Key" } th { "User" } th { "Account" } th { "Last used" } th { "Calls" }
                    th { "Idle days" } th { "Age days" } th { "Links to CI" }
                } }
                tbody {
                    "\n"
                    @for k in keys {
                        tr {
                            td.mono { (Text(&k.key)) }
                            td { (opt(&k.user)) }
                            td.mono { (opt(&k.account)) }
                            td.mono { (short_time(k.last_used)) }
                            td { (k.calls) }
                            td { @if let Some(d) = k.idle_days { (d) } }
                            td { @if let Some(d) = k.age_days { (d) } }
                            td {
                                @if let Some(t) = &k.trend { span.badge.new { (t) } " " }
                                @for l in &k.ci_links {
                                    div { (Text(l)) }
                                }
                                @if !k.federating_repositories.is_empty() {
                                    div { "also federates: " (Text(&k.federating_repositories.join(", "))) }
                                }
                            }
                        }
                        "\n"
                    }
                }
            }
        }
    }
}

fn static_keys_section(k: &StaticKeys) -> Markup {
    html! {
        section #static-keys {
            h2 { "Static keys (" (k.total) ")" }
            p.meta {
                (k.in_ci.len()) " still used from CI · " (k.to_revoke.len()) " to revoke · "
                (k.to_rotate.len()) " past the rotation age · " (k.others) " others"
                @if let Some(at) = k.measured_at {
                    " · ages measured at " (short_time(Some(at)))
                    @if let Some(b) = &k.measured_basis { " (" (b) ")" }
                }
            }
            @if !k.iam_records {
                p.muted { "No credential report or key list was given: unused keys were not judged." }
            }
            (key_table("Still used from CI", "Move the job to its federated role, remove the key from the CI secrets, then deactivate it.", &k.in_ci))
            (key_table("To revoke", "Active and unused: deactivate, wait a cycle, delete.", &k.to_revoke))
            (key_table("Past the rotation age", "Active, not seen in CI: rotate, or replace with a role.", &k.to_rotate))
            (key_table("Stopped since the previous run", "Used from CI in the previous run, not in this one.", &k.stopped))
        }
    }
}

fn chart(svg: String) -> PreEscaped<String> {
    PreEscaped(svg)
}

/// Renders the document.
pub fn render(doc: &Document) -> String {
    let window = format!(
        "{} – {}",
        format_time(doc.window.start),
        format_time(doc.window.end)
    );
    let head = format!(
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\"/>\n<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\"/>\n<title>rolecall report {}</title>\n<style>{CSS}</style>\n</head>\n<body>\n",
        esc(&window)
    );
    let sm = &doc.summary;
    let i = &doc.inputs;
    let per = if doc.timeline.bucket_seconds < 86_400 {
        "hour"
    } else {
        "day"
    };
    let body = html! {
        header {
            h1 { "rolecall report" }
            p.meta {
                "Window " (Text(&window)) " (times in UTC) · generated "
                (Text(&format_time(doc.generated_at))) " · rolecall " (Text(&doc.rolecall_version))
            }
            p.meta {
                "Policy "
                @match &doc.policy.path {
                    Some(p) => code { (Text(p)) },
                    None => "built-in defaults",
                }
                @if let Some(h) = &doc.policy.sha256 {
                    " (sha256 " code { (Text(&h[..h.len().min(16)])) } ")"
                }
                @match &doc.state {
                    Some(s) => {
                        " · state " code { (Text(&s.path)) } ", run " (s.run_id) " of " (s.runs)
                        @match &s.previous_run {
                            Some(p) => {
                                ", compared with run " (p.id) " ("
                                (Text(&format_time(p.window_start))) " – "
                                (Text(&format_time(p.window_end))) ")"
                            }
                            None => ", the first",
                        }
                        @if s.replaced_earlier_run {
                            "; replaces an earlier run over the same window"
                        }
                    }
                    None => " · no state: statuses and trends need --state",
                }
            }
        }
        "\n"
        @if i.partial {
            p.partial {
                strong { "Partial:" }
                " some input could not be read; the findings cover only the rest."
            }
            ul.partial {
                @for u in &i.unread {
                    li { code { (Text(&u.source)) } ": " (Text(&u.reason)) }
                }
            }
            "\n"
        }
        section.cards #summary {
            (card(sm.exchanges, "exchanges", ""))
            (card(sm.failed_exchanges, "failed exchanges", ""))
            (card(sm.sessions, "sessions", ""))
            @for s in Severity::ALL.iter() {
                (card(sm.findings.get(*s), s.as_str(), &format!("sev-card {}", s.as_str())))
            }
            @if let (Some(n), Some(r)) = (sm.new, sm.resolved) {
                (card(n, "new since last run", ""))
                (card(r, "resolved", ""))
            }
            @if i.input_error_count > 0 {
                (card(i.input_error_count, "input errors", "sev-card high"))
            }
        }
        "\n"
        section #findings {
            h2 { "Findings (" (doc.findings.len()) ")" }
            "\n"
            @if doc.findings.is_empty() {
                p.muted { "No findings in this window." }
                "\n"
            } @else {
                table {
                    thead { tr {
                        th { "Severity" } th { "Status" } th { "Time" } th { "Rule" } th { "Role" }
                        th { "What happened (expand for evidence)" }
                    } }
                    tbody {
                        "\n"
                        @for f in &doc.findings { (finding_row(f)) }
                    }
                }
                "\n"
            }
        }
        "\n"
        @if doc.state.is_some() {
            section #resolved {
                h2 { "Resolved since the previous run (" (doc.resolved.len()) ")" }
                "\n"
                @if doc.resolved.is_empty() {
                    p.muted { "Nothing the previous run found has gone away." }
                    "\n"
                } @else {
                    table {
                        thead { tr {
                            th { "Severity" } th { "Rule" } th { "Role" } th { "Last seen" } th { "Message" }
                        } }
                        tbody {
                            "\n"
                            @for r in &doc.resolved {
                                tr {
                                    td { span class={"sev " (severity_class(&r.severity))} { (Text(&r.severity)) } }
                                    td { code { (Text(&r.rule)) } }
                                    td.wrap { code { (opt(&r.role)) } }
                                    td.mono { (Text(&time(r.last_seen))) }
                                    td.wrap { (Text(&r.message)) }
                                }
                                "\n"
                            }
                        }
                    }
                    "\n"
                }
            }
            "\n"
        }
        section #activity {
            h2 { "Exchanges over time, by tier" }
            "\n"
            div.chart { (chart(timeline_chart(&doc.timeline, true, 1100))) }
            p.muted { "One point per " (per) "." }
        }
        "\n"
        section #roles {
            h2 { "Roles (" (doc.roles.len()) ")" }
            "\n"
            @for r in &doc.roles {
                div.role {
                    h3 { code { (Text(&r.role)) } }
                    p.meta {
                        "tier " (Text(r.tier.as_deref().unwrap_or("unknown"))) " · "
                        (r.exchanges) " exchanges, " (r.failed_exchanges) " failed · "
                        (r.sessions) " sessions · " (r.findings) " findings"
                        @if !r.new_values.is_empty() {
                            " · " span.badge.new { (r.new_values.len()) " new" }
                        }
                    }
                    dl.values {
                        (value_list(r, "subject", "subjects", &r.subjects))
                        (value_list(r, "issuer", "issuers", &r.issuers))
                        (value_list(r, "repository", "repositories", &r.repositories))
                        (value_list(r, "ref", "refs", &r.refs))
                        (value_list(r, "environment", "environments", &r.environments))
                        (value_list(r, "workflow", "workflows", &r.workflows))
                        (value_list(r, "trigger", "triggers", &r.triggers))
                    }
                    div.chart { (chart(timeline_chart(&r.timeline, false, 900))) }
                }
                "\n"
            }
        }
        "\n"
        @if doc.static_keys.total > 0 || !doc.static_keys.stopped.is_empty() {
            (static_keys_section(&doc.static_keys))
            "\n"
        }
        @if let Some(t) = &doc.trends {
            section #trends {
                h2 { "Trends across runs" }
                "\n"
                @if t.runs.len() > 1 {
                    h3 { "Findings per run" }
                    div.chart { (chart(findings_chart(t))) }
                }
                @if t.days.len() > 1 {
                    h3 { "Exchanges per day" }
                    div.chart { (chart(days_chart(t))) }
                }
                table {
                    thead { tr {
                        th { "Run" } th { "Window" } th { "Exchanges" } th { "Failed" }
                        th { "Findings" } th { "New" } th { "Resolved" }
                    } }
                    tbody {
                        "\n"
                        @for r in t.runs.iter().rev() {
                            tr {
                                td { (r.id) }
                                td.mono { (Text(&format_time(r.window_start))) " – " (Text(&format_time(r.window_end))) }
                                td { (r.exchanges) } td { (r.failed_exchanges) } td { (r.findings) }
                                td { (r.new) } td { (r.resolved) }
                            }
                            "\n"
                        }
                    }
                }
            }
            "\n"
        }
        section #inputs {
            h2 { "Inputs" }
            dl.values {
                dt { "sources" }
                dd {
                    @for (n, s) in i.sources.iter().enumerate() {
                        @if n > 0 { ", " }
                        code { (Text(s)) }
                    }
                }
                dt { "files" } dd { (i.files) " read, " (i.files_skipped) " skipped" }
                dt { "records" } dd { (i.records) " (" (i.bytes) " bytes), " (i.events) " events" }
                dt { "input errors" } dd { (i.input_error_count) }
            }
            "\n"
            @if !i.input_errors.is_empty() {
                table {
                    thead { tr { th { "File" } th { "Where" } th { "Why" } } }
                    tbody {
                        "\n"
                        @for e in &i.input_errors {
                            tr {
                                td.wrap { code { (Text(&e.path)) } }
                                td { (Text(&e.location)) }
                                td.wrap { (Text(&e.reason)) }
                            }
                            "\n"
                        }
                    }
                }
                "\n"
                @if i.input_error_count > i.input_errors.len() {
                    p.muted { "… and " (i.input_error_count - i.input_errors.len()) " more." }
                    "\n"
                }
            }
            @if !doc.unchecked.is_empty() {
                h3 { "What could not be checked" }
                table {
                    thead { tr { th { "Rule" } th { "Sessions" } th { "Why" } } }
                    tbody {
                        "\n"
                        @for u in &doc.unchecked {
                            tr {
                                td { code { (Text(&u.rule)) } }
                                td { @if u.sessions > 0 { (u.sessions) } }
                                td.wrap { (Text(&u.reason)) }
                            }
                            "\n"
                        }
                    }
                }
                "\n"
            }
            @if !doc.notes.is_empty() {
                h3 { "Notes" }
                ul { @for n in &doc.notes { li { (Text(n)) } } }
                "\n"
            }
        }
        "\n"
    };
    let mut out = head;
    out.push_str(&body.into_string());
    out.push_str("</body>\n</html>\n");
    out
}

fn findings_chart(t: &crate::model::history::Trends) -> String {
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
    charts::lines(&labels, &series, 900, 220)
}

fn days_chart(t: &crate::model::history::Trends) -> String {
    let labels: Vec<String> = t.days.iter().map(|d| d.day.clone()).collect();
    charts::lines(
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
    )
}
