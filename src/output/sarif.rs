//! SARIF 2.1.0 for code scanning (GitHub, Azure DevOps, any SARIF viewer):
//! one rule per detection in the catalogue, one result per finding with a
//! stable `partialFingerprints` entry, located at the workflow file the
//! token names when known and always at the role as a logical location.
//! Suppressed findings are included with an external suppression and its
//! justification, as SARIF intends, so viewers show them as accepted.

use std::io::{self, Write};

use serde_json::{json, Map, Value};

use super::json::write_pretty;
use super::Context;
use crate::model::{Finding, Severity};

pub fn level(s: Severity) -> &'static str {
    match s {
        Severity::Critical | Severity::High => "error",
        Severity::Medium => "warning",
        Severity::Low | Severity::Info => "note",
    }
}

/// GitHub's `security-severity` scale (0.1 to 10).
fn security_severity(s: Severity) -> &'static str {
    match s {
        Severity::Critical => "9.5",
        Severity::High => "8.0",
        Severity::Medium => "5.5",
        Severity::Low => "3.0",
        Severity::Info => "1.0",
    }
}

fn rule_name(id: &str) -> String {
    id.split('-')
        .map(|w| {
            let mut c = w.chars();
            c.next()
                .map(|f| f.to_ascii_uppercase().to_string() + c.as_str())
                .unwrap_or_default()
        })
        .collect()
}

fn result(
    cx: &Context<'_>,
    f: &Finding,
    rule_index: Option<usize>,
    suppression: Option<(&str, &str)>,
) -> Value {
    let mut locations = Vec::new();
    // The role; for a static key without one, the key's user (or the key).
    let logical = f
        .role
        .as_deref()
        .or_else(|| f.evidence.get("user_arn").and_then(Value::as_str))
        .or_else(|| f.evidence.get("access_key_id").and_then(Value::as_str))
        .map(|r| json!([{"fullyQualifiedName": r, "kind": "resource"}]));
    let mut location = Map::new();
    if let Some(file) = cx.workflow_file(f) {
        location.insert(
            "physicalLocation".into(),
            json!({"artifactLocation": {"uri": file}, "region": {"startLine": 1}}),
        );
    }
    if let Some(l) = logical {
        location.insert("logicalLocations".into(), l);
    }
    if !location.is_empty() {
        locations.push(Value::Object(location));
    }
    let mut properties = Map::new();
    properties.insert("severity".into(), json!(f.severity.as_str()));
    for (k, v) in [
        ("time", f.time.map(crate::model::time::format_time)),
        ("cloud", f.cloud.clone()),
        ("account", f.account.clone()),
        ("issuer", f.issuer.clone()),
        ("subject", f.subject.clone()),
        ("repository", f.repository.clone()),
        ("ref", f.git_ref.clone()),
        ("environment", f.environment.clone()),
        ("trigger", f.trigger.clone()),
        ("runId", f.run_id.clone()),
        ("sessionKey", f.session_key.clone()),
        ("sourceIp", f.source_ip.clone()),
    ] {
        if let Some(v) = v {
            properties.insert(k.into(), json!(v));
        }
    }
    properties.insert("eventIds".into(), json!(f.event_ids));
    properties.insert("evidence".into(), Value::Object(f.evidence.clone()));
    let mut r = json!({
        "ruleId": f.rule,
        "level": level(f.severity),
        "message": {"text": f.message},
        "locations": locations,
        "partialFingerprints": {"rolecallFingerprint/v1": f.fingerprint},
        "properties": properties,
    });
    if let Some(i) = rule_index {
        r["ruleIndex"] = json!(i);
    }
    if let Some((reason, until)) = suppression {
        r["suppressions"] = json!([{"kind": "external", "status": "accepted", "justification": format!("{reason} (until {until})")}]);
    }
    r
}

pub fn write<W: Write>(w: &mut W, cx: &Context<'_>) -> io::Result<()> {
    let rules: Vec<Value> = cx
        .rules
        .iter()
        .map(|r| {
            let mut rule = json!({
                "id": r.id,
                "name": rule_name(&r.id),
                "shortDescription": {"text": r.title},
                "fullDescription": {"text": r.description},
                "help": {"text": format!("{}\n\nNeeds: {}", r.description, r.needs)},
                "defaultConfiguration": {"level": level(r.severity)},
                "properties": {
                    "security-severity": security_severity(r.severity),
                    "tags": ["security", "ci-cd", "workload-identity"],
                    "precision": "high",
                },
            });
            if let Some(uri) = r.references.first() {
                rule["helpUri"] = json!(uri);
            }
            rule
        })
        .collect();
    let index = |id: &str| cx.rules.iter().position(|r| r.id == id);
    let mut results: Vec<Value> = cx
        .report
        .findings
        .iter()
        .map(|f| result(cx, f, index(&f.rule), None))
        .collect();
    results.extend(cx.report.suppressed.iter().map(|s| {
        result(
            cx,
            &s.finding,
            index(&s.finding.rule),
            Some((&s.reason, &s.until)),
        )
    }));
    let summary = &cx.report.summary;
    let mut notifications: Vec<Value> = summary
        .unread
        .iter()
        .map(|u| json!({"level": "error", "message": {"text": format!("not read (results are partial): {}: {}", u.source, u.reason)}}))
        .collect();
    notifications.extend(
        summary
            .input_errors
            .iter()
            .map(|e| json!({"level": "warning", "message": {"text": format!("input error: {e}")}})),
    );
    let log = json!({
        "$schema": "https://json.schemastore.org/sarif-2.1.0.json",
        "version": "2.1.0",
        "runs": [{
            "tool": {"driver": {
                "name": "rolecall",
                "version": env!("CARGO_PKG_VERSION"),
                "semanticVersion": env!("CARGO_PKG_VERSION"),
                "rules": rules,
            }},
            "invocations": [{
                "executionSuccessful": !summary.partial,
                "toolExecutionNotifications": notifications,
            }],
            "results": results,
            "properties": {"partialInput": summary.partial},
        }],
    });
    write_pretty(w, &log)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rule_names_are_pascal_case() {
        assert_eq!(rule_name("credential-ip-drift"), "CredentialIpDrift");
    }
}
