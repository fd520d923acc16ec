//! OCSF 1.1.0 Detection Finding records (class 2004), one JSON object per
//! line, for Amazon Security Lake or any SIEM that speaks OCSF: the finding
//! as `finding_info` (fingerprint as uid, the rule as the analytic, the
//! audit events as related events), the role as a resource, the subject,
//! repository and addresses as observables, and what OCSF has no place for
//! under `unmapped`.

use std::io::{self, Write};

use serde_json::{json, Map, Value};

use super::json::write_line;
use super::Context;
use crate::model::{Finding, Severity};

pub const CLASS_UID: u32 = 2004;
pub const CATEGORY_UID: u32 = 2;
/// Activity 1: Create (a new finding).
pub const ACTIVITY_ID: u32 = 1;
pub const SCHEMA_VERSION: &str = "1.1.0";

pub fn severity_id(s: Severity) -> (u32, &'static str) {
    match s {
        Severity::Info => (1, "Informational"),
        Severity::Low => (2, "Low"),
        Severity::Medium => (3, "Medium"),
        Severity::High => (4, "High"),
        Severity::Critical => (5, "Critical"),
    }
}

fn resource_type(role: &str) -> &'static str {
    if role.starts_with("arn:") {
        "AWS::IAM::Role"
    } else if role.ends_with(".gserviceaccount.com") {
        "GCP::IAM::ServiceAccount"
    } else if role.starts_with("auth/") {
        "Vault::Auth::Role"
    } else {
        "Azure::ServicePrincipal"
    }
}

fn provider(cloud: Option<&str>) -> &'static str {
    match cloud {
        Some("aws") => "AWS",
        Some("gcp") => "GCP",
        Some("azure") => "Azure",
        Some("vault") => "HashiCorp Vault",
        _ => "Unknown",
    }
}

pub fn record(f: &Finding, now_ms: i64, partial: bool) -> Value {
    let (sev_id, sev) = severity_id(f.severity);
    let time = f.time.map(|t| t / 1000).unwrap_or(now_ms);
    let mut observables = Vec::new();
    if let Some(s) = &f.subject {
        observables.push(json!({"name": "subject", "type_id": 99, "type": "Other", "value": s}));
    }
    if let Some(r) = &f.repository {
        observables.push(json!({"name": "repository", "type_id": 99, "type": "Other", "value": r}));
    }
    if let Some(ip) = &f.source_ip {
        observables
            .push(json!({"name": "source_ip", "type_id": 2, "type": "IP Address", "value": ip}));
    }
    if let Some(r) = &f.role {
        observables
            .push(json!({"name": "role", "type_id": 10, "type": "Resource UID", "value": r}));
    }
    let mut unmapped = Map::new();
    for (k, v) in [
        ("issuer", &f.issuer),
        ("ref", &f.git_ref),
        ("environment", &f.environment),
        ("trigger", &f.trigger),
        ("run_id", &f.run_id),
        ("session_key", &f.session_key),
    ] {
        if let Some(v) = v {
            unmapped.insert(k.into(), json!(v));
        }
    }
    unmapped.insert("evidence".into(), Value::Object(f.evidence.clone()));
    if partial {
        unmapped.insert("partial_input".into(), json!(true));
    }
    let mut record = json!({
        "activity_id": ACTIVITY_ID,
        "activity_name": "Create",
        "category_uid": CATEGORY_UID,
        "category_name": "Findings",
        "class_uid": CLASS_UID,
        "class_name": "Detection Finding",
        "type_uid": CLASS_UID * 100 + ACTIVITY_ID,
        "type_name": "Detection Finding: Create",
        "severity_id": sev_id,
        "severity": sev,
        "status_id": 1,
        "status": "New",
        "time": time,
        "message": f.message,
        "metadata": {
            "version": SCHEMA_VERSION,
            "product": {"name": "rolecall", "vendor_name": "rolecall", "version": env!("CARGO_PKG_VERSION")},
            "log_name": "rolecall findings",
        },
        "finding_info": {
            "uid": f.fingerprint,
            "title": f.title,
            "desc": f.message,
            "types": ["CI/CD federated session"],
            "analytic": {"uid": f.rule, "name": f.rule, "type_id": 1, "type": "Rule"},
            "related_events": f.event_ids.iter().map(|id| json!({"uid": id})).collect::<Vec<_>>(),
            "first_seen_time": time,
        },
        "observables": observables,
        "unmapped": unmapped,
    });
    if partial {
        record["metadata"]["labels"] = json!(["partial-input"]);
    }
    let mut resources = Vec::new();
    // A static-key finding is about the key first (its role is the one
    // that replaces it, or the job's).
    if let Some(key) = f.evidence.get("access_key_id").and_then(Value::as_str) {
        let user = f.evidence.get("user").and_then(Value::as_str).unwrap_or("");
        resources.push(json!({"uid": key, "name": user, "type": "AWS::IAM::AccessKey"}));
    }
    if let Some(role) = &f.role {
        resources.push(json!({"uid": role, "name": crate::model::role_name(role), "type": resource_type(role)}));
    }
    if !resources.is_empty() {
        record["resources"] = Value::Array(resources);
    }
    if f.cloud.is_some() || f.account.is_some() {
        let mut cloud = json!({"provider": provider(f.cloud.as_deref())});
        if let Some(a) = &f.account {
            cloud["account"] = json!({"uid": a});
        }
        record["cloud"] = cloud;
    }
    record
}

pub fn write<W: Write>(w: &mut W, cx: &Context<'_>) -> io::Result<()> {
    let now_ms = chrono::Utc::now().timestamp_millis();
    for f in &cx.report.findings {
        write_line(w, &record(f, now_ms, cx.report.summary.partial))?;
    }
    Ok(())
}
