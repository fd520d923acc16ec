//! The session detail: who was behind the token, the exchange, the run's
//! window, each finding explained with its evidence, and every call made
//! with the credentials in order, with the calls that triggered findings
//! marked, foreign addresses highlighted and calls after the run set apart.
//! Lines carry a [`Tone`]; the view decides what a tone looks like.

use std::collections::HashSet;

use super::data::{safe, short_time, Data};
use crate::model::events::EventStore;
use crate::model::{Finding, Severity};

/// What a piece of text means, for styling.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Tone {
    Normal,
    Muted,
    Heading,
    Severity(Severity),
    /// A call from an address other than the exchange's.
    Foreign,
    /// A call some finding rests on.
    Flagged,
    /// After the CI run ended.
    AfterRun,
}

/// The original record a line shows, for the raw view: an event of the
/// store, or a record read but not kept (a long-term key's call).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RawAt {
    Event(usize),
    Record { file: u32, record: u32, line: u32 },
}

impl RawAt {
    /// Where the record is: input file name, record and line numbers.
    pub fn locate<'a>(&self, report: &'a crate::model::Report) -> (&'a str, u32, u32) {
        match *self {
            RawAt::Event(i) => {
                let ev = &report.events;
                (report.file_name(ev.file[i]), ev.record[i], ev.line[i])
            }
            RawAt::Record { file, record, line } => (report.file_name(file), record, line),
        }
    }
}

/// One line of the detail view.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Line {
    pub parts: Vec<(String, Tone)>,
    /// The record this line shows, for the raw view.
    pub event: Option<RawAt>,
}

impl Line {
    fn text(s: impl Into<String>, tone: Tone) -> Line {
        Line {
            parts: vec![(s.into(), tone)],
            event: None,
        }
    }

    /// The line as plain text (exports, tests).
    pub fn plain(&self) -> String {
        self.parts.iter().map(|(s, _)| s.as_str()).collect()
    }
}

/// A `key  value` line; long values (attacker-sized subjects and user
/// agents) wrap under themselves.
fn kv(out: &mut Vec<Line>, width: usize, key: &str, value: impl Into<String>) {
    const MAX_LINES: usize = 6;
    let value = value.into();
    let mut parts = wrap(&value, width.saturating_sub(21));
    if parts.len() > MAX_LINES {
        let cut: usize = parts[MAX_LINES - 1..]
            .iter()
            .map(|p| p.chars().count())
            .sum();
        parts.truncate(MAX_LINES - 1);
        parts.push(format!("… {cut} more characters (r: the raw event)"));
    }
    for (i, part) in parts.into_iter().enumerate() {
        let lead = if i == 0 {
            format!("  {key:<18}")
        } else {
            " ".repeat(20)
        };
        out.push(Line {
            parts: vec![(lead, Tone::Muted), (part, Tone::Normal)],
            event: None,
        });
    }
}

fn evidence_text(f: &Finding) -> String {
    f.evidence_items()
        .map(|(k, v)| format!("{k}={v}"))
        .collect::<Vec<_>>()
        .join("  ")
}

/// Splits text into lines of at most `width` columns, at spaces where it can.
pub fn wrap(text: &str, width: usize) -> Vec<String> {
    let width = width.max(20);
    let mut lines = Vec::new();
    let mut cur = String::new();
    for word in text.split(' ') {
        let mut word = word.to_string();
        while word.chars().count() > width {
            let head: String = word.chars().take(width).collect();
            word = word.chars().skip(width).collect();
            if !cur.is_empty() {
                lines.push(std::mem::take(&mut cur));
            }
            lines.push(head);
        }
        if cur.chars().count() + word.chars().count() + 1 > width && !cur.is_empty() {
            lines.push(std::mem::take(&mut cur));
        }
        if !cur.is_empty() {
            cur.push(' ');
        }
        cur.push_str(&word);
    }
    if !cur.is_empty() || lines.is_empty() {
        lines.push(cur);
    }
    lines
}

fn finding_lines(out: &mut Vec<Line>, findings: &[&Finding], width: usize) {
    out.push(Line::text(
        format!("Findings ({})", findings.len()),
        Tone::Heading,
    ));
    if findings.is_empty() {
        out.push(Line::text(
            "  none: this session broke no rule",
            Tone::Muted,
        ));
    }
    for f in findings {
        out.push(Line {
            parts: vec![
                (
                    format!("  {:<9}", f.severity.as_str()),
                    Tone::Severity(f.severity),
                ),
                (safe(&f.rule), Tone::Heading),
            ],
            event: None,
        });
        for l in wrap(&safe(&f.message), width.saturating_sub(12)) {
            out.push(Line::text(format!("           {l}"), Tone::Normal));
        }
        let ev = evidence_text(f);
        if !ev.is_empty() {
            for (i, l) in wrap(&safe(&ev), width.saturating_sub(22))
                .into_iter()
                .enumerate()
            {
                let lead = if i == 0 {
                    "           evidence: "
                } else {
                    "                     "
                };
                out.push(Line::text(format!("{lead}{l}"), Tone::Muted));
            }
        }
    }
}

fn fit(s: &str, width: usize) -> String {
    if s.chars().count() <= width {
        format!("{s:<width$}")
    } else {
        let head: String = s.chars().take(width.saturating_sub(1)).collect();
        format!("{head}…")
    }
}

/// Service and action column widths for a `width`-column screen: what is
/// left after the mark, the time, the address and room for an error code.
fn call_columns(width: usize) -> (usize, usize) {
    let rest = width.saturating_sub(4 + 21 + 16 + 28);
    let service = (rest / 3).clamp(10, 24);
    let action = rest.saturating_sub(service + 2).clamp(16, 44);
    (service, action)
}

fn call_line(
    ev: &EventStore,
    i: usize,
    exchange_ip: Option<&str>,
    flagged: bool,
    after: bool,
    width: usize,
) -> Line {
    let (service_w, action_w) = call_columns(width);
    let ip = ev.str(ev.source_ip[i]).unwrap_or("");
    let foreign = !ev.via_service(i) && exchange_ip.is_some_and(|x| x != ip) && !ip.is_empty();
    let tone = if after { Tone::AfterRun } else { Tone::Normal };
    let mark = if flagged { "!" } else { " " };
    let error = ev
        .str(ev.error_code[i])
        .map(|e| format!("  error {}", safe(e)))
        .unwrap_or_default();
    Line {
        parts: vec![
            (
                format!("  {mark} "),
                if flagged { Tone::Flagged } else { tone },
            ),
            (format!("{:<19}  ", short_time(ev.time_of(i))), tone),
            (
                format!(
                    "{} ",
                    fit(&safe(ev.str(ev.service[i]).unwrap_or("")), service_w)
                ),
                tone,
            ),
            (
                format!(
                    "{} ",
                    fit(&safe(ev.str(ev.action[i]).unwrap_or("")), action_w)
                ),
                if flagged { Tone::Flagged } else { tone },
            ),
            (
                fit(&safe(ip), 15),
                if foreign { Tone::Foreign } else { tone },
            ),
            (
                if ev.via_service(i) {
                    "  (AWS service)".into()
                } else {
                    String::new()
                },
                Tone::Muted,
            ),
            (error, Tone::Severity(Severity::Medium)),
        ],
        event: Some(RawAt::Event(i)),
    }
}

/// The detail of session `si`, wrapped for a terminal `width` wide.
pub fn session(data: &Data, si: usize, width: usize) -> Vec<Line> {
    let r = &data.report;
    let s = &r.sessions[si];
    let a = &r.assumptions[s.assumption];
    let ev = &r.events;
    let mut out = Vec::new();
    out.push(Line::text(
        format!("Session {}", safe(&s.key)),
        Tone::Heading,
    ));
    kv(
        &mut out,
        width,
        "role",
        s.role_arn.as_deref().map(safe).unwrap_or_default(),
    );
    kv(
        &mut out,
        width,
        "cloud / account",
        format!(
            "{} / {}",
            safe(&a.cloud),
            a.account.as_deref().map(safe).unwrap_or_default()
        ),
    );
    kv(
        &mut out,
        width,
        "issuer",
        a.issuer
            .as_deref()
            .map(safe)
            .unwrap_or_else(|| "unknown".into()),
    );
    kv(
        &mut out,
        width,
        "subject",
        a.subject
            .as_deref()
            .map(safe)
            .unwrap_or_else(|| "unknown".into()),
    );
    kv(
        &mut out,
        width,
        "audience",
        a.audience
            .as_deref()
            .map(safe)
            .unwrap_or_else(|| "unknown".into()),
    );
    out.push(Line::text("", Tone::Normal));

    out.push(Line::text(
        format!("Token claims (match: {})", s.matched.kind.as_str()),
        Tone::Heading,
    ));
    let fact = |f: &crate::model::Fact| match (&f.value, f.known) {
        (Some(v), _) => safe(v),
        (None, true) => "none".to_string(),
        (None, false) => "unknown".to_string(),
    };
    kv(&mut out, width, "repository", fact(&s.repository));
    kv(&mut out, width, "ref", fact(&s.git_ref));
    kv(&mut out, width, "environment", fact(&s.environment));
    kv(&mut out, width, "workflow", fact(&s.workflow_ref));
    kv(&mut out, width, "trigger", fact(&s.trigger));
    kv(
        &mut out,
        width,
        "run",
        format!(
            "{} attempt {}",
            s.run_id
                .as_deref()
                .map(safe)
                .unwrap_or_else(|| "unknown".into()),
            s.run_attempt
                .as_deref()
                .map(safe)
                .unwrap_or_else(|| "?".into())
        ),
    );
    kv(
        &mut out,
        width,
        "actor",
        s.actor
            .as_deref()
            .map(safe)
            .unwrap_or_else(|| "unknown".into()),
    );
    kv(
        &mut out,
        width,
        "runner",
        s.runner_environment
            .as_deref()
            .map(safe)
            .unwrap_or_else(|| "unknown".into()),
    );
    kv(
        &mut out,
        width,
        "signature",
        match s.verified {
            Some(true) => "verified against --jwks",
            Some(false) => "FAILED verification",
            None => "not checked",
        },
    );
    out.push(Line::text("", Tone::Normal));

    out.push(Line::text("Exchange", Tone::Heading));
    out.push(Line {
        parts: vec![
            ("  time              ".into(), Tone::Muted),
            (short_time(a.time), Tone::Normal),
            ("   (r: raw event)".into(), Tone::Muted),
        ],
        event: Some(RawAt::Event(a.event_index)),
    });
    kv(
        &mut out,
        width,
        "source address",
        a.source_ip
            .as_deref()
            .map(safe)
            .unwrap_or_else(|| "unknown".into()),
    );
    kv(
        &mut out,
        width,
        "user agent",
        a.user_agent.as_deref().map(safe).unwrap_or_default(),
    );
    kv(
        &mut out,
        width,
        "session name",
        a.role_session_name.as_deref().map(safe).unwrap_or_default(),
    );
    kv(
        &mut out,
        width,
        "duration",
        a.duration_seconds
            .map(|d| format!("{d} s requested"))
            .unwrap_or_else(|| "not requested".into()),
    );
    kv(
        &mut out,
        width,
        "event id",
        a.event_id.as_deref().map(safe).unwrap_or_default(),
    );
    out.push(Line::text("", Tone::Normal));

    let run = s.run.and_then(|r| data.report.runs.get(r));
    out.push(Line::text("CI run", Tone::Heading));
    match run {
        Some(run) => {
            kv(&mut out, width, "started", short_time(run.started_at));
            kv(
                &mut out,
                width,
                "ended",
                run.ended_at
                    .map(|e| short_time(Some(e)))
                    .unwrap_or_else(|| "not finished in the jobs given".into()),
            );
            kv(
                &mut out,
                width,
                "jobs",
                format!(
                    "{} on {}",
                    run.jobs,
                    run.runners
                        .iter()
                        .map(|r| safe(r))
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
            );
        }
        None => out.push(Line::text(
            "  no workflow_job payload for this run",
            Tone::Muted,
        )),
    }
    out.push(Line::text("", Tone::Normal));

    let findings = data.session_findings(si);
    finding_lines(&mut out, &findings, width);
    out.push(Line::text("", Tone::Normal));

    let flagged: HashSet<&str> = findings
        .iter()
        .flat_map(|f| f.event_ids.iter().map(String::as_str))
        .collect();
    out.push(Line::text(
        format!(
            "Calls with these credentials ({})   ! a finding rests on it",
            s.activity.len()
        ),
        Tone::Heading,
    ));
    let end = run.and_then(|r| r.ended_at);
    let mut after = false;
    for &i in &s.activity {
        if let (Some(end), Some(t), false) = (end, ev.time_of(i), after) {
            if t > end {
                after = true;
                out.push(Line::text(
                    format!(
                        "  ── the run ended {} ──────────────────────",
                        short_time(Some(end))
                    ),
                    Tone::AfterRun,
                ));
            }
        }
        let is_flagged = ev.event_id_of(i).is_some_and(|id| flagged.contains(id));
        out.push(call_line(
            ev,
            i,
            a.source_ip.as_deref(),
            is_flagged,
            after,
            width,
        ));
    }
    if s.activity.is_empty() {
        out.push(Line::text("  none in the input", Tone::Muted));
    }
    out
}

/// The detail of a finding that rests on no single session (a failure
/// burst, a replayed token).
pub fn finding(data: &Data, fi: usize, width: usize) -> Vec<Line> {
    let f = &data.report.findings[fi];
    let mut out = vec![Line::text(
        format!("Finding {}", safe(&f.rule)),
        Tone::Heading,
    )];
    kv(&mut out, width, "severity", f.severity.as_str());
    kv(&mut out, width, "time", short_time(f.time));
    kv(
        &mut out,
        width,
        "role",
        f.role.as_deref().map(safe).unwrap_or_default(),
    );
    kv(
        &mut out,
        width,
        "subject",
        f.subject.as_deref().map(safe).unwrap_or_default(),
    );
    kv(
        &mut out,
        width,
        "source address",
        f.source_ip.as_deref().map(safe).unwrap_or_default(),
    );
    out.push(Line::text("", Tone::Normal));
    finding_lines(&mut out, &[f], width);
    out.push(Line::text("", Tone::Normal));
    out.push(Line::text(
        format!("Events ({})", f.event_ids.len()),
        Tone::Heading,
    ));
    let ev = &data.report.events;
    let wanted: HashSet<&str> = f.event_ids.iter().map(String::as_str).collect();
    // In time order, as a session's timeline is: the store's order is
    // not (calls held for their key join it last).
    let mut rows: Vec<usize> = (0..ev.len())
        .filter(|&i| ev.event_id_of(i).is_some_and(|id| wanted.contains(id)))
        .collect();
    rows.sort_by_key(|&i| ev.time_order(i));
    for i in rows {
        out.push(call_line(ev, i, None, true, false, width));
    }
    out
}

/// One long-term key: what IAM and the trail say of it, the findings about
/// it, its links to CI, the federated sessions it shared a runner with
/// (Enter opens one), and its latest calls (Enter: the raw record).
pub fn key(data: &Data, ki: usize, width: usize) -> Vec<Line> {
    let k = &data.report.keys.rows[ki];
    let row = &data.keys[ki];
    let o = |v: Option<&str>| v.map(safe).unwrap_or_default();
    let mut out = vec![Line::text(format!("Key {}", row.key), Tone::Heading)];
    kv(&mut out, width, "user", o(k.user.as_deref()));
    kv(&mut out, width, "user ARN", o(k.user_arn.as_deref()));
    kv(&mut out, width, "account", o(k.account.as_deref()));
    kv(&mut out, width, "verdict", k.verdict.as_str());
    let status = match k.active {
        Some(true) => "active",
        Some(false) => "inactive",
        None => "unknown (no credential report or key list)",
    };
    kv(&mut out, width, "status", status);
    if k.created.is_some() {
        kv(
            &mut out,
            width,
            "created / rotated",
            format!(
                "{} ({} days old)",
                short_time(k.created),
                k.age_days.unwrap_or_default()
            ),
        );
    }
    kv(
        &mut out,
        width,
        "last used (trail)",
        short_time(k.last_used_in_trail),
    );
    let iam_use = match (k.last_used_per_iam, k.never_used) {
        (Some(_), _) => format!(
            "{} {} {}",
            short_time(k.last_used_per_iam),
            o(k.last_used_service.as_deref()),
            o(k.last_used_region.as_deref())
        ),
        (None, true) => "never".into(),
        (None, false) => String::new(),
    };
    kv(&mut out, width, "last used (IAM)", iam_use);
    kv(
        &mut out,
        width,
        "calls",
        format!("{} ({} failed)", k.calls, k.errors),
    );
    if !k.record_sources.is_empty() {
        let sources: Vec<&str> = k.record_sources.iter().map(|s| s.as_str()).collect();
        let mut text = sources.join(", ");
        if let Some(how) = &k.report_match {
            text.push_str(&format!("; report row matched by {how}"));
        }
        kv(&mut out, width, "IAM records", text);
    }
    if let Some(repo) = &k.declared_repository {
        kv(&mut out, width, "declared for", safe(repo));
    }
    if let Some(role) = &k.replaced_by {
        kv(&mut out, width, "replaced by", safe(role));
    }
    if k.migrated.is_some() {
        kv(&mut out, width, "migrated", short_time(k.migrated));
    }
    out.push(Line::text("", Tone::Normal));
    let id = k.key_id.as_deref().unwrap_or(&k.key);
    let findings: Vec<&Finding> = data
        .report
        .findings
        .iter()
        .filter(|f| f.evidence.get("access_key_id").and_then(|v| v.as_str()) == Some(id))
        .collect();
    finding_lines(&mut out, &findings, width);
    out.push(Line::text("", Tone::Normal));
    out.push(Line::text(
        format!("Links to CI ({})", k.links.len()),
        Tone::Heading,
    ));
    if k.links.is_empty() {
        out.push(Line::text("  none seen", Tone::Muted));
    }
    for l in &k.links {
        kv(&mut out, width, l.kind.as_str(), safe(&l.detail));
    }
    out.push(Line::text("", Tone::Normal));
    out.push(Line::text(
        format!(
            "Federated sessions on the same runner ({}; Enter opens one)",
            row.shared_sessions.len()
        ),
        Tone::Heading,
    ));
    for &si in &row.shared_sessions {
        let s = &data.sessions[si];
        let a = &data.report.assumptions[data.report.sessions[si].assumption];
        out.push(Line {
            parts: vec![
                ("  ".into(), Tone::Normal),
                (format!("{:<19}  ", short_time(s.time)), Tone::Normal),
                (format!("{}  ", fit(&s.role, 30)), Tone::Normal),
                (format!("{}  ", fit(&s.repository, 30)), Tone::Normal),
                (format!("run {}", s.run_id), Tone::Muted),
            ],
            event: Some(RawAt::Event(a.event_index)),
        });
    }
    out.push(Line::text("", Tone::Normal));
    out.push(Line::text(
        format!(
            "Latest calls ({} of {}; Enter: the raw record)",
            k.recent.len(),
            k.calls
        ),
        Tone::Heading,
    ));
    let (_, action_w) = call_columns(width);
    for c in &k.recent {
        let tone = if c.failed {
            Tone::Foreign
        } else {
            Tone::Normal
        };
        out.push(Line {
            parts: vec![
                ("    ".into(), Tone::Normal),
                (format!("{:<19}  ", short_time(Some(c.time))), tone),
                (format!("{} ", fit(&safe(&c.action), action_w + 8)), tone),
                (format!("{}  ", fit(&safe(&c.source_ip), 15)), tone),
                (
                    fit(&safe(&c.user_agent), width.saturating_sub(action_w + 52)),
                    Tone::Muted,
                ),
            ],
            event: Some(RawAt::Record {
                file: c.file,
                record: c.record,
                line: c.line,
            }),
        });
    }
    for (title, list) in [
        ("Addresses", &k.addresses),
        ("User agents", &k.user_agents),
        ("Actions", &k.actions),
    ] {
        out.push(Line::text("", Tone::Normal));
        out.push(Line::text(
            format!(
                "{title} ({}{})",
                list.len(),
                if k.truncated { "+" } else { "" }
            ),
            Tone::Heading,
        ));
        for (name, n) in list.iter().take(20) {
            out.push(Line::text(
                format!("  {n:>7}  {}", safe(name)),
                Tone::Normal,
            ));
        }
    }
    out
}

/// Skipped files listed in the summary (a month of trail has thousands of
/// digests).
const SKIPPED_LISTED: usize = 20;

/// The run itself: what was read, what was found, and what could not be
/// judged or read, so that an investigator knows how far to trust the rest.
pub fn summary(data: &Data, width: usize) -> Vec<Line> {
    let sm = &data.report.summary;
    let mut out = vec![Line::text("Inputs", Tone::Heading)];
    kv(
        &mut out,
        width,
        "files",
        format!(
            "{} read, {} skipped (digests, insights, not logs)",
            sm.inputs.files, sm.inputs.files_skipped
        ),
    );
    kv(
        &mut out,
        width,
        "records",
        format!(
            "{} ({} bytes); {} outside --since/--until, {} not API calls",
            sm.inputs.records,
            sm.inputs.bytes,
            sm.inputs.records_outside_window,
            sm.inputs.records_skipped
        ),
    );
    kv(&mut out, width, "events", sm.events.to_string());
    let window = match (sm.since, sm.until) {
        (None, None) => "everything given (no --since or --until)".to_string(),
        (a, b) => format!("{} – {}", short_time(a), short_time(b)),
    };
    kv(&mut out, width, "window", window);
    let errors = sm.input_error_count;
    out.push(Line {
        parts: vec![
            (format!("  {:<18}", "input errors"), Tone::Muted),
            (
                if errors == 0 {
                    "none".to_string()
                } else {
                    format!("{errors}: results may be incomplete (listed below)")
                },
                if errors == 0 {
                    Tone::Normal
                } else {
                    Tone::Severity(Severity::High)
                },
            ),
        ],
        event: None,
    });
    if sm.partial {
        out.push(Line {
            parts: vec![
                (
                    format!("  {:<18}", "PARTIAL"),
                    Tone::Severity(Severity::Critical),
                ),
                (
                    "some input could not be read; the findings cover only the rest".into(),
                    Tone::Severity(Severity::Critical),
                ),
            ],
            event: None,
        });
        for u in &sm.unread {
            for (i, l) in wrap(
                &safe(&format!("{}: {}", u.source, u.reason)),
                width.saturating_sub(6),
            )
            .into_iter()
            .enumerate()
            {
                out.push(Line::text(
                    format!("{}{l}", if i == 0 { "  - " } else { "    " }),
                    Tone::Severity(Severity::High),
                ));
            }
        }
    }
    out.push(Line::text("", Tone::Normal));

    out.push(Line::text("Federation", Tone::Heading));
    kv(
        &mut out,
        width,
        "exchanges",
        format!(
            "{} ({} succeeded, {} failed)",
            sm.exchanges.total, sm.exchanges.succeeded, sm.exchanges.failed
        ),
    );
    kv(&mut out, width, "sessions", sm.sessions.to_string());
    kv(
        &mut out,
        width,
        "claim sets",
        format!("{} given, {} CI jobs", sm.claims, sm.jobs),
    );
    let m = &sm.claims_matched;
    kv(
        &mut out,
        width,
        "claims matched",
        format!(
            "{} exact, {} derived from the subject, {} ambiguous, {} none",
            m.exact, m.derived, m.ambiguous, m.none
        ),
    );
    out.push(Line::text("", Tone::Normal));

    out.push(Line::text(
        format!("Findings ({})", sm.findings.total),
        Tone::Heading,
    ));
    for sev in Severity::ALL {
        out.push(Line {
            parts: vec![
                (format!("  {:<18}", sev.as_str()), Tone::Severity(sev)),
                (sm.findings.get(sev).to_string(), Tone::Normal),
            ],
            event: None,
        });
    }
    kv(&mut out, width, "rules run", sm.rules.len().to_string());
    out.push(Line::text("", Tone::Normal));

    out.push(Line::text(
        format!("Could not be checked ({})", sm.unchecked.len()),
        Tone::Heading,
    ));
    if sm.unchecked.is_empty() {
        out.push(Line::text(
            "  every rule could judge every session",
            Tone::Muted,
        ));
    }
    for u in &sm.unchecked {
        out.push(Line {
            parts: vec![
                (format!("  {:<25} ", safe(&u.rule)), Tone::Heading),
                (
                    if u.sessions > 0 {
                        format!("{} sessions", u.sessions)
                    } else {
                        String::new()
                    },
                    Tone::Normal,
                ),
            ],
            event: None,
        });
        for l in wrap(&safe(&u.reason), width.saturating_sub(6)) {
            out.push(Line::text(format!("    {l}"), Tone::Normal));
        }
        if !u.examples.is_empty() {
            let ex = u
                .examples
                .iter()
                .map(|e| safe(e))
                .collect::<Vec<_>>()
                .join(", ");
            for l in wrap(&format!("e.g. {ex}"), width.saturating_sub(6)) {
                out.push(Line::text(format!("    {l}"), Tone::Muted));
            }
        }
    }
    if !sm.notes.is_empty() {
        out.push(Line::text("", Tone::Normal));
        out.push(Line::text("Notes", Tone::Heading));
        for n in &sm.notes {
            for (i, l) in wrap(&safe(n), width.saturating_sub(6))
                .into_iter()
                .enumerate()
            {
                out.push(Line::text(
                    format!("{}{l}", if i == 0 { "  - " } else { "    " }),
                    Tone::Normal,
                ));
            }
        }
    }
    out.push(Line::text("", Tone::Normal));
    out.push(Line::text(
        format!("Input errors ({errors})"),
        Tone::Heading,
    ));
    if sm.input_errors.is_empty() {
        out.push(Line::text("  every record was read", Tone::Muted));
    }
    for e in &sm.input_errors {
        for (i, l) in wrap(&safe(&e.to_string()), width.saturating_sub(6))
            .into_iter()
            .enumerate()
        {
            out.push(Line::text(
                format!("{}{l}", if i == 0 { "  - " } else { "    " }),
                Tone::Severity(Severity::Medium),
            ));
        }
    }
    if errors > sm.input_errors.len() {
        out.push(Line::text(
            format!(
                "  … and {} more (rolecall scan --format json lists them)",
                errors - sm.input_errors.len()
            ),
            Tone::Muted,
        ));
    }
    if !sm.skipped_files.is_empty() {
        out.push(Line::text("", Tone::Normal));
        out.push(Line::text(
            format!("Skipped files ({})", sm.skipped_files.len()),
            Tone::Heading,
        ));
        for f in sm.skipped_files.iter().take(SKIPPED_LISTED) {
            out.push(Line::text(
                format!("  {}  ({})", safe(&f.path), safe(&f.reason)),
                Tone::Muted,
            ));
        }
        if sm.skipped_files.len() > SKIPPED_LISTED {
            out.push(Line::text(
                format!("  … and {} more", sm.skipped_files.len() - SKIPPED_LISTED),
                Tone::Muted,
            ));
        }
    }
    out
}
