//! HashiCorp Vault JWT/OIDC auth, from the file audit device (one JSON
//! object per line, or concatenated pretty-printed objects).
//!
//! The exchange is the *response* to `auth/<mount>/login` on a `jwt` or
//! `oidc` mount: the Vault role (`auth.metadata.role`) is the role, the
//! token's accessor (HMAC'd like every secret, so equal accessors still
//! compare equal) is the issued credential, `auth.metadata` carries the
//! bound claims the role maps (repository, ref, environment...), and
//! `token_ttl` is the session length. Later *requests* made with the same
//! accessor are the session's activity; responses to them are the same
//! calls seen twice and are counted, not kept.

use serde_json::{Map, Value};

use super::json::FieldError;
use super::source::{keyed_log, map_event, Outcome, Position, Source};
use super::value::{object_at, str_at, time_at};
use crate::model::events::EventRow;
use crate::model::records::Assumption;
use crate::model::time::Micros;

/// Whether an object is a Vault audit entry.
/// HashiCorp Vault audit device records.
pub const SOURCE: Source = Source {
    name: "HashiCorp Vault audit log",
    sniff: keyed_log,
    read: |p, rec| map_event(p, rec, is_entry, read_entry),
};

pub fn is_entry(m: &Map<String, Value>) -> bool {
    matches!(
        m.get("type").and_then(Value::as_str),
        Some("request" | "response")
    ) && m.get("request").is_some_and(Value::is_object)
}

/// The path with its variable parts folded, for matching sensitive
/// operations: `sys/audit/file` gives `sys/audit`, `sys/policies/acl/x`
/// gives `sys/policies`, `auth/token/create/role` gives `auth/token/create`.
pub fn path_class(path: &str) -> String {
    let parts: Vec<&str> = path.trim_matches('/').split('/').collect();
    let keep = match parts.as_slice() {
        ["sys", "audit" | "audit-hash" | "policies" | "policy" | "auth" | "mounts" | "raw" | "config", ..] => {
            2
        }
        ["auth", "token", "create" | "create-orphan", ..] => 3,
        ["identity", ..] => 2,
        _ => parts.len(),
    };
    parts[..keep.min(parts.len())].join("/")
}

/// Keys of `auth.metadata` that carry a job fact, by the fact they carry.
const HINT_KEYS: &[(&str, &[&str])] = &[
    (
        "repository",
        &[
            "repository",
            "project_path",
            "repo",
            "workspace_name",
            "terraform_workspace_name",
        ],
    ),
    ("ref", &["ref", "ref_path"]),
    ("ref_type", &["ref_type"]),
    ("environment", &["environment"]),
    (
        "workflow_ref",
        &["job_workflow_ref", "workflow_ref", "ci_config_ref_uri"],
    ),
    ("trigger", &["event_name", "pipeline_source"]),
    ("run_id", &["run_id", "pipeline_id", "terraform_run_id"]),
];

fn is_login(path: &str, mount_type: Option<&str>) -> bool {
    path.ends_with("/login")
        && (matches!(mount_type, Some("jwt" | "oidc"))
            || path.starts_with("auth/jwt")
            || path.starts_with("auth/oidc"))
}

/// Reads one audit entry.
pub fn read_entry(
    m: &Map<String, Value>,
    pos: Position,
    window: (Option<Micros>, Option<Micros>),
    push: &mut dyn FnMut(&EventRow<'_>) -> usize,
) -> Result<Outcome, FieldError> {
    let time = time_at(m, &["time"])?;
    if let Some(t) = time {
        if window.0.is_some_and(|s| t < s) || window.1.is_some_and(|u| t >= u) {
            return Ok(Outcome::OutsideWindow);
        }
    }
    let kind = str_at(m, &["type"])?.unwrap_or("request");
    let path = str_at(m, &["request", "path"])?.unwrap_or("");
    let operation = str_at(m, &["request", "operation"])?.unwrap_or("");
    let mount_type = str_at(m, &["request", "mount_type"])?;
    let mount_point = str_at(m, &["request", "mount_point"])?;
    let remote = str_at(m, &["request", "remote_address"])?;
    let request_id = str_at(m, &["request", "id"])?.filter(|id| !id.starts_with("****"));
    let namespace = str_at(m, &["request", "namespace", "id"])?.unwrap_or("root");
    let error = str_at(m, &["error"])?;
    let login = is_login(path, mount_type);
    if kind == "response" && !login {
        // The same call as its request.
        return Ok(Outcome::Insight);
    }
    let account = format!("vault:{namespace}");
    if login && kind == "request" {
        // The login's request half: the response carries the outcome.
        return Ok(Outcome::Insight);
    }
    let action = format!("{operation} {}", path_class(path));
    if !login {
        let accessor = str_at(m, &["auth", "accessor"])?.filter(|a| !a.starts_with("****"));
        let role = str_at(m, &["auth", "metadata", "role"])?;
        let display = str_at(m, &["auth", "display_name"])?;
        let row = EventRow {
            time,
            cloud: "vault",
            account: Some(&account),
            region: None,
            service: Some("vault"),
            action: Some(&action),
            principal_type: str_at(m, &["auth", "token_type"])?,
            principal_arn: display,
            role_arn: role,
            access_key: accessor,
            source_ip: remote,
            user_agent: None,
            error_code: error.map(|_| "error"),
            federated_provider: None,
            issued_key: None,
            resource: Some(path),
            event_id: request_id,
            read_only: Some(operation == "read" || operation == "list"),
            via_service: false,
            file: pos.file,
            record: pos.record,
            line: pos.line,
        };
        push(&row);
        return Ok(Outcome::Event(None));
    }
    // The login response: the exchange.
    let auth = object_at(m, &["response", "auth"])?.or(object_at(m, &["auth"])?);
    let auth_str = |k: &str| {
        auth.as_ref()
            .and_then(|a| a.get(k))
            .and_then(Value::as_str)
            .filter(|s| !s.starts_with("****"))
    };
    let accessor = if error.is_none() {
        auth_str("accessor")
    } else {
        None
    };
    let metadata: Map<String, Value> = auth
        .as_ref()
        .and_then(|a| a.get("metadata"))
        .and_then(Value::as_object)
        .cloned()
        .unwrap_or_default();
    let role_name =
        metadata
            .get("role")
            .and_then(Value::as_str)
            .or(str_at(m, &["request", "data", "role"])?
                .filter(|r| !r.starts_with("hmac-") && !r.starts_with("****")));
    let mount = mount_point.map(str::to_string).unwrap_or_else(|| {
        let p = path.trim_end_matches("login");
        p.to_string()
    });
    let role = role_name.map(|r| format!("{mount}role/{r}"));
    let display = auth_str("display_name");
    // display_name is "<mount type>-<user claim>"; the user claim defaults
    // to the token's subject.
    let subject = display.map(|d| d.split_once('-').map_or(d, |(_, rest)| rest).to_string());
    let ttl = match auth.as_ref().and_then(|a| a.get("token_ttl")) {
        None | Some(Value::Null) => None,
        Some(v) => Some(
            v.as_i64()
                .ok_or_else(|| FieldError::new("response.auth.token_ttl", "should be a number"))?,
        ),
    };
    let mut hints = Vec::new();
    for (fact, keys) in HINT_KEYS {
        if let Some(v) = keys
            .iter()
            .find_map(|k| metadata.get(*k).and_then(Value::as_str))
        {
            hints.push((fact.to_string(), v.to_string()));
        }
    }
    let row = EventRow {
        time,
        cloud: "vault",
        account: Some(&account),
        region: None,
        service: Some("vault"),
        action: Some(&action),
        principal_type: Some("JWTLogin"),
        principal_arn: display,
        role_arn: role.as_deref(),
        access_key: None,
        source_ip: remote,
        user_agent: None,
        error_code: error.map(|_| "error"),
        federated_provider: None,
        issued_key: accessor,
        resource: Some(path),
        event_id: request_id,
        read_only: None,
        via_service: false,
        file: pos.file,
        record: pos.record,
        line: pos.line,
    };
    let index = push(&row);
    Ok(Outcome::Event(Some(Box::new(Assumption {
        event_index: index,
        time,
        cloud: "vault".into(),
        account: Some(account),
        provider_arn: Some(mount),
        subject,
        role_arn: role,
        duration_seconds: ttl,
        access_key_id: accessor.map(str::to_string),
        source_ip: remote.map(str::to_string),
        error_code: error.map(|_| "error".to_string()),
        error_message: error.map(str::to_string),
        event_id: request_id.map(str::to_string),
        hints,
        file: pos.file,
        record: pos.record,
        line: pos.line,
        ..Default::default()
    }))))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn path_classes() {
        assert_eq!(path_class("sys/audit/file"), "sys/audit");
        assert_eq!(path_class("sys/policies/acl/admin"), "sys/policies");
        assert_eq!(path_class("auth/token/create/ci"), "auth/token/create");
        assert_eq!(path_class("auth/token/renew-self"), "auth/token/renew-self");
        assert_eq!(path_class("secret/data/app/db"), "secret/data/app/db");
    }
}
