//! Microsoft Entra workload identity federation.
//!
//! - Service principal sign-ins (`ServicePrincipalSignInLogs`), as
//!   diagnostic settings export them (`{"records":[...]}` files or NDJSON,
//!   fields under `properties`) or flattened as Log Analytics stores them
//!   (`AADServicePrincipalSignInLogs`). A sign-in with
//!   `clientCredentialType = federatedIdentityCredential` (or a
//!   `federatedCredentialId`, or a federated-assertion error such as
//!   AADSTS70021) is an exchange; its `uniqueTokenIdentifier` is the issued
//!   token, and the application is the role.
//! - Federated identity credential definitions (`az ad app
//!   federated-credential list`, or Graph's `{"value":[...]}`): the sign-in
//!   does not carry the token's subject, so the credential it matched
//!   supplies issuer, subject and audiences.
//! - Azure Activity Log records (diagnostic export or Log Analytics
//!   `AzureActivity`): later calls, tied to the sign-in by the token's `uti`.

use serde_json::{Map, Value};

use super::json::FieldError;
use super::source::{keyed_log, map_event, Outcome, Position, Read, Source};
use super::value::{at_map, object_at, str_at, string_list, text_at, time_at};
use crate::model::events::EventRow;
use crate::model::records::{Assumption, FederatedCredential};
use crate::model::time::Micros;

/// Entra error codes of a federated assertion that did not match a
/// credential (or was otherwise refused).
const FEDERATED_ERRORS: &[i64] = &[
    70021, 700211, 700212, 700213, 700222, 700223, 700024, 700027,
];

fn field<'a>(m: &'a Map<String, Value>, diag: &str, flat: &str) -> Option<&'a Value> {
    at_map(m, &["properties", diag])
        .or_else(|| m.get(flat))
        .filter(|v| !v.is_null())
}

fn text(m: &Map<String, Value>, diag: &str, flat: &str) -> Result<Option<String>, FieldError> {
    if at_map(m, &["properties", diag]).is_some() {
        text_at(m, &["properties", diag])
    } else {
        text_at(m, &[flat])
    }
}

/// A service principal sign-in record, in either shape.
/// Entra service-principal and managed-identity sign-ins.
pub const SIGN_INS: Source = Source {
    name: "Microsoft Entra sign-ins",
    sniff: keyed_log,
    read: |p, rec| map_event(p, rec, is_signin, read_signin),
};

/// Azure Activity Log records.
pub const ACTIVITY: Source = Source {
    name: "Azure Activity Log",
    sniff: keyed_log,
    read: |p, rec| map_event(p, rec, is_activity, read_activity),
};

/// Entra federated identity credential definitions.
pub const CREDENTIALS: Source = Source {
    name: "Entra federated credentials",
    sniff: keyed_log,
    read: |p, rec| {
        let at = rec.at.clone();
        let Some(map) = rec.map(p) else {
            return Read::Taken;
        };
        if !is_credential(map) {
            return Read::Declined;
        }
        p.out.records += 1;
        match read_credential(map, p.ctx.file) {
            Ok(c) => p.out.federated_credentials.push(c),
            Err(e) => p.error(at, format!("federated credential: {e}")),
        }
        Read::Taken
    },
};

pub fn is_signin(m: &Map<String, Value>) -> bool {
    let category = m.get("category").and_then(Value::as_str);
    let kind = m.get("Type").and_then(Value::as_str);
    (matches!(
        category,
        Some("ServicePrincipalSignInLogs" | "ManagedIdentitySignInLogs")
    ) && m.contains_key("properties"))
        || matches!(
            kind,
            Some("AADServicePrincipalSignInLogs" | "AADManagedIdentitySignInLogs")
        )
        || (m.contains_key("ServicePrincipalId")
            && m.contains_key("AppId")
            && m.contains_key("TimeGenerated"))
}

/// An Azure Activity Log record, in either shape.
pub fn is_activity(m: &Map<String, Value>) -> bool {
    let kind = m.get("Type").and_then(Value::as_str);
    (m.contains_key("operationName")
        && m.contains_key("resourceId")
        && m.contains_key("category")
        && !is_signin(m))
        || kind == Some("AzureActivity")
        || m.contains_key("OperationNameValue")
}

/// A federated identity credential definition.
pub fn is_credential(m: &Map<String, Value>) -> bool {
    m.contains_key("issuer")
        && m.contains_key("subject")
        && m.get("audiences").is_some_and(Value::is_array)
}

pub fn read_credential(
    m: &Map<String, Value>,
    file: u32,
) -> Result<FederatedCredential, FieldError> {
    let need = |k: &str| -> Result<String, FieldError> {
        str_at(m, &[k])?
            .map(str::to_string)
            .ok_or_else(|| FieldError::new(k, "is missing"))
    };
    let audiences = string_list(m.get("audiences"));
    // A flexible credential (Graph beta) has a null subject and matches by
    // `claimsMatchingExpression` instead.
    let expression = str_at(m, &["claimsMatchingExpression", "value"])?.map(str::to_string);
    let subject = match &expression {
        Some(_) => str_at(m, &["subject"])?.unwrap_or_default().to_string(),
        None => need("subject")?,
    };
    Ok(FederatedCredential {
        id: need("id")?,
        name: str_at(m, &["name"])?.map(str::to_string),
        issuer: need("issuer")?,
        subject,
        audiences,
        claims_matching_expression: expression,
        file,
    })
}

/// Reads one sign-in record.
pub fn read_signin(
    m: &Map<String, Value>,
    pos: Position,
    window: (Option<Micros>, Option<Micros>),
    push: &mut dyn FnMut(&EventRow<'_>) -> usize,
) -> Result<Outcome, FieldError> {
    let time = match time_at(m, &["properties", "createdDateTime"])? {
        Some(t) => Some(t),
        None => time_at(m, &["time"])?.or(time_at(m, &["TimeGenerated"])?),
    };
    if let Some(t) = time {
        if window.0.is_some_and(|s| t < s) || window.1.is_some_and(|u| t >= u) {
            return Ok(Outcome::OutsideWindow);
        }
    }
    let tenant = text(m, "tenantId", "TenantId")?.or(text_at(m, &["tenantId"])?);
    let app_id = text(m, "appId", "AppId")?;
    let sp_name = text(m, "servicePrincipalName", "ServicePrincipalName")?;
    let sp_id = text(m, "servicePrincipalId", "ServicePrincipalId")?;
    let ip = text(m, "ipAddress", "IPAddress")?.or(text_at(m, &["callerIpAddress"])?);
    let id = text(m, "id", "Id")?;
    let uti = text(m, "uniqueTokenIdentifier", "UniqueTokenIdentifier")?;
    let credential_type = text(m, "clientCredentialType", "ClientCredentialType")?;
    let credential_id = text(m, "federatedCredentialId", "FederatedCredentialId")?;
    let resource = text(m, "resourceDisplayName", "ResourceDisplayName")?;
    // The status: properties.status.errorCode, or the flattened ResultType.
    let code: i64 = match field(m, "status", "Status") {
        Some(_) => {
            let status = if at_map(m, &["properties", "status"]).is_some() {
                object_at(m, &["properties", "status"])?
            } else {
                object_at(m, &["Status"])?
            };
            status
                .as_ref()
                .and_then(|s| s.get("errorCode"))
                .and_then(|c| {
                    c.as_i64()
                        .or_else(|| c.as_str().and_then(|s| s.parse().ok()))
                })
                .unwrap_or(0)
        }
        None => text_at(m, &["ResultType"])?
            .or(text_at(m, &["resultType"])?)
            .and_then(|r| r.parse().ok())
            .unwrap_or(0),
    };
    let error_code = (code != 0).then(|| format!("AADSTS{code}"));
    let federated = credential_type.as_deref() == Some("federatedIdentityCredential")
        || credential_id.is_some()
        || FEDERATED_ERRORS.contains(&code);
    let role = sp_name.clone().or(app_id.clone());
    let row = EventRow {
        time,
        cloud: "azure",
        account: tenant.as_deref(),
        region: None,
        service: Some("login.microsoftonline.com"),
        action: Some("ServicePrincipalSignIn"),
        principal_type: Some("ServicePrincipal"),
        principal_arn: sp_id.as_deref(),
        role_arn: role.as_deref(),
        access_key: None,
        source_ip: ip.as_deref(),
        user_agent: None,
        error_code: error_code.as_deref(),
        federated_provider: None,
        issued_key: if federated && code == 0 {
            uti.as_deref()
        } else {
            None
        },
        resource: resource.as_deref(),
        event_id: id.as_deref(),
        read_only: None,
        via_service: false,
        file: pos.file,
        record: pos.record,
        line: pos.line,
    };
    let index = push(&row);
    if !federated {
        return Ok(Outcome::Event(None));
    }
    Ok(Outcome::Event(Some(Box::new(Assumption {
        event_index: index,
        time,
        cloud: "azure".into(),
        account: tenant,
        role_arn: role,
        role_id: app_id.clone(),
        access_key_id: if code == 0 { uti } else { None },
        // Activity records without a uti fall back to the application and time.
        link_principal: app_id
            .as_ref()
            .filter(|_| code == 0)
            .map(|a| format!("azure-app:{a}")),
        credential_id,
        source_ip: ip,
        error_code,
        error_message: text(m, "failureReason", "ResultDescription")?,
        event_id: id,
        file: pos.file,
        record: pos.record,
        line: pos.line,
        ..Default::default()
    }))))
}

/// Reads one Activity Log record.
pub fn read_activity(
    m: &Map<String, Value>,
    pos: Position,
    window: (Option<Micros>, Option<Micros>),
    push: &mut dyn FnMut(&EventRow<'_>) -> usize,
) -> Result<Outcome, FieldError> {
    let time = time_at(m, &["time"])?
        .or(time_at(m, &["TimeGenerated"])?)
        .or(time_at(m, &["eventTimestamp"])?);
    if let Some(t) = time {
        if window.0.is_some_and(|s| t < s) || window.1.is_some_and(|u| t >= u) {
            return Ok(Outcome::OutsideWindow);
        }
    }
    // operationName is a string in diagnostic exports, `{value, localizedValue}`
    // in the REST shape, OperationNameValue in Log Analytics.
    let operation = match m.get("operationName") {
        Some(Value::Object(o)) => o.get("value").and_then(Value::as_str).map(str::to_string),
        Some(Value::String(s)) => Some(s.clone()),
        _ => text_at(m, &["OperationNameValue"])?,
    }
    .map(|o| o.to_ascii_lowercase());
    let service = operation
        .as_deref()
        .and_then(|o| o.split('/').next())
        .map(str::to_string);
    let claims = match object_at(m, &["identity", "claims"])? {
        Some(c) => Some(c),
        None => object_at(m, &["Claims"])?,
    };
    let claim = |k: &str| {
        claims
            .as_ref()
            .and_then(|c| c.get(k))
            .and_then(Value::as_str)
            .map(str::to_string)
    };
    let uti = claim("uti");
    let app_id = claim("appid").or_else(|| claim("azp"));
    // Without the token's uti, the application is the link (by time).
    let credential = uti
        .clone()
        .or_else(|| app_id.as_ref().map(|a| format!("azure-app:{a}")));
    let ip = text_at(m, &["callerIpAddress"])?.or(text_at(m, &["CallerIpAddress"])?);
    let result = text_at(m, &["resultType"])?.or(text_at(m, &["ActivityStatusValue"])?);
    let failed = result
        .as_deref()
        .is_some_and(|r| r.eq_ignore_ascii_case("failure") || r.eq_ignore_ascii_case("failed"));
    let error_code = if failed {
        Some(text_at(m, &["resultSignature"])?.unwrap_or_else(|| "Failure".into()))
    } else {
        None
    };
    let resource = text_at(m, &["resourceId"])?
        .or(text_at(m, &["ResourceId"])?)
        .or(text_at(m, &["_ResourceId"])?);
    let id = text_at(m, &["properties", "eventDataId"])?
        .or(text_at(m, &["EventDataId"])?)
        .or(text_at(m, &["correlationId"])?)
        .or(text_at(m, &["CorrelationId"])?);
    let tenant = text_at(m, &["tenantId"])?
        .or(text_at(m, &["TenantId"])?)
        .or(claim("tid"));
    let caller = text_at(m, &["caller"])?.or(text_at(m, &["Caller"])?);
    let row = EventRow {
        time,
        cloud: "azure",
        account: tenant.as_deref(),
        region: None,
        service: service.as_deref(),
        action: operation.as_deref(),
        principal_type: Some(if app_id.is_some() {
            "ServicePrincipal"
        } else {
            "User"
        }),
        principal_arn: caller.as_deref().or(app_id.as_deref()),
        role_arn: None,
        access_key: credential.as_deref(),
        source_ip: ip.as_deref(),
        user_agent: None,
        error_code: error_code.as_deref(),
        federated_provider: None,
        issued_key: None,
        resource: resource.as_deref(),
        event_id: id.as_deref(),
        read_only: operation.as_deref().map(|o| o.ends_with("/read")),
        via_service: !ip.as_deref().is_some_and(super::value::is_ip),
        file: pos.file,
        record: pos.record,
        line: pos.line,
    };
    push(&row);
    Ok(Outcome::Event(None))
}
