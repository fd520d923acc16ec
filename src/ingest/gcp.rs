//! GCP Cloud Audit Logs (LogEntry with an AuditLog `protoPayload`), as
//! `gcloud logging read --format=json` writes them (a JSON array) or a Cloud
//! Storage sink does (NDJSON under `cloudaudit.googleapis.com/...`).
//!
//! Workload identity federation shows up in three kinds of entry:
//! - `sts.googleapis.com` `ExchangeToken` (a Data Access log, which must be
//!   enabled): the exchange. The IdP's subject is
//!   `authenticationInfo.principalSubject`, the federated principal
//!   `metadata.mapped_principal`, the pool provider `resourceName` and
//!   `request.audience`.
//! - `iamcredentials.googleapis.com` `GenerateAccessToken` by that
//!   principal: the service account it impersonates is the session's role.
//! - later calls whose `principalSubject` (direct resource access) or
//!   `serviceAccountDelegationInfo[].principalSubject` names the principal:
//!   the session's activity.
//!
//! GCP logs carry no token id, so rows keep the federated principal in the
//! access-key column and correlation links calls to the latest exchange of
//! that principal by time. The issuer is not in the log either; it comes
//! from the policy's `[[gcp_provider]]` or the subject's format.

use serde_json::{Map, Value};

use super::json::FieldError;
use super::source::{keyed_log, map_event, Outcome, Position, Source};
use super::value::{at_map, is_ip, str_at, time_at};
use crate::model::events::EventRow;
use crate::model::records::Assumption;
use crate::model::secrets::redact_value;
use crate::model::time::Micros;

pub const EXCHANGE_METHOD: &str = "google.identity.sts.v1.SecurityTokenService.ExchangeToken";

/// gRPC status code names, for `status.code`.
fn status_name(code: i64) -> String {
    match code {
        1 => "CANCELLED",
        2 => "UNKNOWN",
        3 => "INVALID_ARGUMENT",
        4 => "DEADLINE_EXCEEDED",
        5 => "NOT_FOUND",
        6 => "ALREADY_EXISTS",
        7 => "PERMISSION_DENIED",
        8 => "RESOURCE_EXHAUSTED",
        9 => "FAILED_PRECONDITION",
        10 => "ABORTED",
        11 => "OUT_OF_RANGE",
        12 => "UNIMPLEMENTED",
        13 => "INTERNAL",
        14 => "UNAVAILABLE",
        15 => "DATA_LOSS",
        16 => "UNAUTHENTICATED",
        other => return format!("STATUS_{other}"),
    }
    .to_string()
}

/// `//iam.googleapis.com/projects/...` (as logged) and
/// `https://iam.googleapis.com/projects/...` (as CI tokens carry it) are the
/// same audience; the token's form is kept.
pub fn normalize_audience(aud: &str) -> String {
    match aud.strip_prefix("//") {
        Some(rest) => format!("https://{rest}"),
        None => aud.to_string(),
    }
}

/// The pool of a federated principal:
/// `principal://iam.googleapis.com/projects/N/locations/global/workloadIdentityPools/P/subject/S`
/// gives `projects/N/locations/global/workloadIdentityPools/P`.
pub fn pool_of(principal: &str) -> Option<&str> {
    let rest = principal.split_once("iam.googleapis.com/")?.1;
    let end = rest
        .find("/subject/")
        .or_else(|| rest.find("/group/"))
        .or_else(|| rest.find("/attribute."))?;
    Some(&rest[..end])
}

/// The subject part of a federated principal.
pub fn subject_of(principal: &str) -> Option<&str> {
    principal.split_once("/subject/").map(|(_, s)| s)
}

fn is_federated(p: &str) -> bool {
    p.starts_with("principal://") || p.starts_with("principalSet://")
}

/// The service a method belongs to: `google.pubsub.v1.Publisher.CreateTopic`
/// gives `pubsub.googleapis.com`, `storage.setIamPermissions` gives
/// `storage.googleapis.com`.
pub fn service_of_method(method: &str) -> Option<String> {
    if method == EXCHANGE_METHOD {
        return Some("sts.googleapis.com".into());
    }
    if method == "GenerateAccessToken" || method.contains("IAMCredentials") {
        return Some("iamcredentials.googleapis.com".into());
    }
    let parts: Vec<&str> = method.split('.').collect();
    let name = match parts.as_slice() {
        ["google", "iam", "admin", ..] => "iam",
        ["google", svc, ..] => svc,
        [svc, _] if !svc.is_empty() => svc,
        _ => return None,
    };
    Some(format!("{name}.googleapis.com"))
}

/// Whether an object is a Cloud Audit Log entry.
/// GCP Cloud Audit Log entries.
pub const SOURCE: Source = Source {
    name: "GCP Cloud Audit Logs",
    sniff: keyed_log,
    read: |p, rec| map_event(p, rec, is_entry, read_entry),
};

pub fn is_entry(map: &Map<String, Value>) -> bool {
    map.get("protoPayload").is_some_and(Value::is_object)
}

/// Reads one LogEntry.
pub fn read_entry(
    m: &Map<String, Value>,
    pos: Position,
    window: (Option<Micros>, Option<Micros>),
    push: &mut dyn FnMut(&EventRow<'_>) -> usize,
) -> Result<Outcome, FieldError> {
    let time = match time_at(m, &["timestamp"])? {
        Some(t) => Some(t),
        None => time_at(
            m,
            &[
                "protoPayload",
                "requestMetadata",
                "requestAttributes",
                "time",
            ],
        )?
        .or(time_at(m, &["receiveTimestamp"])?),
    };
    if let Some(t) = time {
        if window.0.is_some_and(|s| t < s) || window.1.is_some_and(|u| t >= u) {
            return Ok(Outcome::OutsideWindow);
        }
    }
    let method = str_at(m, &["protoPayload", "methodName"])?;
    let service = str_at(m, &["protoPayload", "serviceName"])?
        .or(str_at(m, &["resource", "labels", "service"])?);
    // Trimmed entries (the docs' examples) leave serviceName out; the
    // method name says it.
    let derived_service = match service {
        Some(_) => None,
        None => method.and_then(service_of_method),
    };
    let service = service.or(derived_service.as_deref());
    let email = str_at(m, &["protoPayload", "authenticationInfo", "principalEmail"])?;
    let principal_subject = str_at(
        m,
        &["protoPayload", "authenticationInfo", "principalSubject"],
    )?;
    let delegated: Option<String> = match at_map(
        m,
        &[
            "protoPayload",
            "authenticationInfo",
            "serviceAccountDelegationInfo",
        ],
    ) {
        Some(Value::Array(items)) => items
            .iter()
            .filter_map(|d| d.get("principalSubject").and_then(Value::as_str))
            .find(|p| is_federated(p))
            .map(str::to_string),
        Some(other) => {
            return Err(FieldError::new(
                "protoPayload.authenticationInfo.serviceAccountDelegationInfo",
                format!("should be an array, found {}", super::value::kind(other)),
            ))
        }
        None => None,
    };
    let caller_ip = str_at(m, &["protoPayload", "requestMetadata", "callerIp"])?;
    let user_agent = str_at(
        m,
        &["protoPayload", "requestMetadata", "callerSuppliedUserAgent"],
    )?;
    let code = match at_map(m, &["protoPayload", "status", "code"]) {
        None => 0,
        Some(v) => v
            .as_i64()
            .ok_or_else(|| FieldError::new("protoPayload.status.code", "should be a number"))?,
    };
    let error_code = (code != 0).then(|| status_name(code));
    let error_message = str_at(m, &["protoPayload", "status", "message"])?;
    let resource_name = str_at(m, &["protoPayload", "resourceName"])?;
    let insert_id = str_at(m, &["insertId"])?;
    let project = match str_at(m, &["resource", "labels", "project_id"])? {
        Some(p) => Some(p.to_string()),
        None => str_at(m, &["logName"])?
            .and_then(|l| l.strip_prefix("projects/"))
            .and_then(|l| l.split('/').next())
            .map(str::to_string),
    };
    let is_exchange = method == Some(EXCHANGE_METHOD);
    let mapped = str_at(m, &["protoPayload", "metadata", "mapped_principal"])?;
    let federated: Option<String> = if is_exchange {
        mapped.map(str::to_string).or(principal_subject
            .filter(|p| is_federated(p))
            .map(str::to_string))
    } else {
        principal_subject
            .filter(|p| is_federated(p))
            .map(str::to_string)
            .or(delegated.clone())
    };
    let sa_email = if method.is_some_and(|mm| mm.ends_with("GenerateAccessToken")) {
        str_at(m, &["resource", "labels", "email_id"])?
            .map(str::to_string)
            .or_else(|| {
                str_at(m, &["protoPayload", "request", "name"])
                    .ok()
                    .flatten()
                    .and_then(|n| n.rsplit('/').next())
                    .filter(|e| e.contains('@'))
                    .map(str::to_string)
            })
    } else {
        None
    };
    let principal_type = if email.is_some_and(|e| e.ends_with(".gserviceaccount.com")) {
        "ServiceAccount"
    } else if federated.is_some() {
        "FederatedPrincipal"
    } else if email.is_some() {
        "User"
    } else {
        "Unknown"
    };
    let resource = sa_email.as_deref().or(resource_name);
    let row = EventRow {
        time,
        cloud: "gcp",
        account: project.as_deref(),
        region: str_at(m, &["resource", "labels", "location"])?,
        service,
        action: method,
        principal_type: Some(principal_type),
        principal_arn: email.or(principal_subject),
        role_arn: email.filter(|e| e.ends_with(".gserviceaccount.com")),
        access_key: if is_exchange {
            None
        } else {
            federated.as_deref()
        },
        source_ip: caller_ip,
        user_agent,
        error_code: error_code.as_deref(),
        federated_provider: federated.as_deref().and_then(pool_of),
        issued_key: None,
        resource,
        event_id: insert_id,
        read_only: None,
        // "private", "gce-internal-ip" and absent addresses are Google's own
        // network, not a place a key could have been taken to.
        via_service: !caller_ip.is_some_and(is_ip),
        file: pos.file,
        record: pos.record,
        line: pos.line,
    };
    if !is_exchange {
        push(&row);
        return Ok(Outcome::Event(None));
    }
    let provider = resource_name.map(str::to_string).or_else(|| {
        str_at(m, &["protoPayload", "request", "audience"])
            .ok()
            .flatten()
            .and_then(|a| {
                a.split_once("iam.googleapis.com/")
                    .map(|(_, p)| p.to_string())
            })
    });
    let audience = str_at(m, &["protoPayload", "request", "audience"])?
        .map(normalize_audience)
        .or_else(|| {
            provider
                .as_ref()
                .map(|p| format!("https://iam.googleapis.com/{p}"))
        });
    let subject = principal_subject
        .filter(|p| !is_federated(p))
        .map(str::to_string)
        .or_else(|| {
            federated
                .as_deref()
                .and_then(subject_of)
                .map(str::to_string)
        });
    let request_parameters = at_map(m, &["protoPayload", "request"]).map(|r| {
        let mut v = r.clone();
        redact_value(&mut v);
        v.to_string()
    });
    let index = push(&row);
    Ok(Outcome::Event(Some(Box::new(Assumption {
        event_index: index,
        time,
        cloud: "gcp".into(),
        account: project,
        provider_arn: provider.clone(),
        subject,
        audience,
        // Until a GenerateAccessToken names a service account, the session
        // acts as the federated principal of this pool provider.
        role_arn: provider,
        source_ip: caller_ip.map(str::to_string),
        user_agent: user_agent.map(str::to_string),
        error_code,
        error_message: error_message.map(str::to_string),
        event_id: insert_id.map(str::to_string),
        request_parameters,
        link_principal: federated,
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
    fn principals_and_audiences() {
        let p = "principal://iam.googleapis.com/projects/1234/locations/global/workloadIdentityPools/gh/subject/repo:acme/web:ref:refs/heads/main";
        assert_eq!(
            pool_of(p),
            Some("projects/1234/locations/global/workloadIdentityPools/gh")
        );
        assert_eq!(subject_of(p), Some("repo:acme/web:ref:refs/heads/main"));
        assert_eq!(
            normalize_audience("//iam.googleapis.com/projects/1/locations/global/workloadIdentityPools/gh/providers/github"),
            "https://iam.googleapis.com/projects/1/locations/global/workloadIdentityPools/gh/providers/github"
        );
        assert_eq!(status_name(7), "PERMISSION_DENIED");
        assert_eq!(
            service_of_method("google.pubsub.v1.Publisher.CreateTopic").as_deref(),
            Some("pubsub.googleapis.com")
        );
        assert_eq!(
            service_of_method("google.iam.admin.v1.CreateServiceAccountKey").as_deref(),
            Some("iam.googleapis.com")
        );
        assert_eq!(
            service_of_method("storage.setIamPermissions").as_deref(),
            Some("storage.googleapis.com")
        );
        assert_eq!(service_of_method("SetIamPolicy"), None);
    }
}
