//! Trust inputs: IAM role trust policies and OIDC providers, from snapshots
//! and from CloudTrail, and GCP workload identity pool providers.
//!
//! Recognized by content like every other input:
//! - `aws iam get-account-authorization-details` (`RoleDetailList`; users,
//!   groups and managed policies in the same file are not trust and are
//!   skipped), `aws iam get-role` (`{"Role": {...}}`), `aws iam list-roles`
//!   (`{"Roles": [...]}`) and bare role objects with an
//!   `AssumeRolePolicyDocument`;
//! - bare trust policy documents (`{"Version": ..., "Statement": ...}`):
//!   they carry no role ARN, so the role is named after the file and the
//!   run says so;
//! - `gcloud iam workload-identity-pools providers list --format=json` (or
//!   `describe`, or the REST `workloadIdentityPoolProviders` list);
//! - inside ordinary CloudTrail files: `CreateRole`,
//!   `UpdateAssumeRolePolicy` and the OIDC provider calls, read beside the
//!   event row the record already gives.
//!
//! The policy document may be an object, a JSON string or a URL-encoded
//! JSON string. A role whose document cannot be read is an input error
//! naming the file, the record and the role; the other roles are kept.

use serde_json::{Map, Value};

use super::json::{object_text, opt_str, Key, Obj};
use super::source::{self, Parser, Position, Record, Source};
use super::value::{at_map, str_at, string_list};
use crate::model::account_of_arn;
use crate::model::policy_doc::{parse_policy_value, PolicyDocument};
use crate::model::subject::normalize_issuer;
use crate::model::time::parse_timestamp;
use crate::model::trust::{OidcProviderChange, RoleTrust, TrustInputs, TrustOrigin, WifProvider};

/// The shape of a trust input object.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Shape {
    AccountDetails,
    GetRole,
    ListRoles,
    Role,
    Document,
    GcpProviderList,
    GcpProvider,
}

/// Recognizes a trust input by its top-level keys.
/// Trust inputs: role snapshots, bare policy documents, GCP pool providers.
pub const SOURCE: Source = Source {
    name: "trust policies",
    sniff: |obj| sniff(obj).is_some(),
    read: read_input,
};

fn read_input(p: &mut Parser<'_, '_>, rec: &mut Record<'_, '_>) -> source::Read {
    let Some(shape) = sniff(rec.obj) else {
        return source::Read::Declined;
    };
    let (at, pos) = (rec.at.clone(), p.position(rec.index));
    let display = p.ctx.display;
    let Some(map) = rec.map(p) else {
        return source::Read::Taken;
    };
    let read = read(shape, map, display, pos);
    p.out.records += read.records;
    p.out.notes.extend(read.notes);
    for e in read.errors {
        p.error(at.clone(), e);
    }
    let mut t = read.trust;
    p.out.trust.append(&mut t);
    source::Read::Taken
}

pub fn sniff(obj: &Obj<'_>) -> Option<Shape> {
    let has = |k: &str| obj.has_named(k);
    if has("RoleDetailList") || (has("UserDetailList") && has("GroupDetailList")) {
        return Some(Shape::AccountDetails);
    }
    if has("AssumeRolePolicyDocument") {
        return Some(Shape::Role);
    }
    if obj.pairs.len() == 1 && has("Role") {
        return Some(Shape::GetRole);
    }
    if has("Roles") && obj.pairs.len() <= 3 {
        return Some(Shape::ListRoles);
    }
    if has("Statement") {
        return Some(Shape::Document);
    }
    if has("workloadIdentityPoolProviders") {
        return Some(Shape::GcpProviderList);
    }
    let gcp_name = obj.pairs.iter().any(|(k, v)| {
        k == "name"
            && v.get().contains("/workloadIdentityPools/")
            && v.get().contains("/providers/")
    });
    if gcp_name && (has("oidc") || has("aws") || has("saml") || has("attributeMapping")) {
        return Some(Shape::GcpProvider);
    }
    None
}

/// What one trust input object gave.
#[derive(Default)]
pub struct Read {
    pub trust: TrustInputs,
    /// Problems with parts of the object (one role, one provider), each
    /// naming the part.
    pub errors: Vec<String>,
    pub notes: Vec<String>,
    /// Roles and providers read or attempted.
    pub records: u64,
}

/// The file's name without directories and extensions, for bare documents.
fn file_stem(display: &str) -> String {
    let base = display.rsplit(['/', '\\']).next().unwrap_or(display);
    let stem = base
        .trim_end_matches(".gz")
        .trim_end_matches(".json")
        .trim_end_matches(".JSON");
    if stem.is_empty() {
        "trust-policy".into()
    } else {
        stem.to_string()
    }
}

/// Reads one recognized object (already a map).
pub fn read(shape: Shape, map: &Map<String, Value>, display: &str, pos: Position) -> Read {
    let mut out = Read::default();
    let snapshot = |name: &str| TrustOrigin::Snapshot {
        shape: name.to_string(),
    };
    match shape {
        Shape::AccountDetails => {
            let roles = match map.get("RoleDetailList") {
                Some(Value::Array(r)) => r.as_slice(),
                None | Some(Value::Null) => &[],
                Some(_) => {
                    out.errors.push("`RoleDetailList` should be a list".into());
                    &[]
                }
            };
            for (i, r) in roles.iter().enumerate() {
                out.records += 1;
                let origin = snapshot("get-account-authorization-details");
                match role_object(r, origin, display, pos, i as u32) {
                    Ok(role) => out.trust.roles.push(role),
                    Err(e) => out.errors.push(format!("RoleDetailList[{i}]{e}")),
                }
            }
        }
        Shape::GetRole => {
            out.records += 1;
            match role_object(&map["Role"], snapshot("get-role"), display, pos, pos.record) {
                Ok(role) => out.trust.roles.push(role),
                Err(e) => out.errors.push(format!("Role{e}")),
            }
        }
        Shape::ListRoles => {
            let roles = map
                .get("Roles")
                .and_then(Value::as_array)
                .map(Vec::as_slice)
                .unwrap_or(&[]);
            for (i, r) in roles.iter().enumerate() {
                out.records += 1;
                match role_object(r, snapshot("list-roles"), display, pos, i as u32) {
                    Ok(role) => out.trust.roles.push(role),
                    Err(e) => out.errors.push(format!("Roles[{i}]{e}")),
                }
            }
        }
        Shape::Role => {
            out.records += 1;
            let value = Value::Object(map.clone());
            match role_object(&value, snapshot("role"), display, pos, pos.record) {
                Ok(role) => {
                    if role.bare {
                        out.notes.push(format!(
                            "{display}: a role without an ARN; named `{}` after the file",
                            role.role
                        ));
                    }
                    out.trust.roles.push(role)
                }
                Err(e) => out.errors.push(format!("role{e}")),
            }
        }
        Shape::Document => {
            out.records += 1;
            match parse_policy_value(&Value::Object(map.clone())) {
                Ok(document) => {
                    let name = bare_name(display, pos.record as usize);
                    out.notes.push(format!(
                        "{display}: a bare trust policy document (no role ARN); its role is named `{name}` after the file"
                    ));
                    out.trust.roles.push(RoleTrust {
                        role: name.clone(),
                        name,
                        account: None,
                        bare: true,
                        document,
                        origin: snapshot("bare document"),
                        time: None,
                        file: pos.file,
                        record: pos.record,
                        line: pos.line,
                    });
                }
                Err(e) => out.errors.push(format!("trust policy document: {e}")),
            }
        }
        Shape::GcpProviderList => {
            let list = map
                .get("workloadIdentityPoolProviders")
                .and_then(Value::as_array)
                .map(Vec::as_slice)
                .unwrap_or(&[]);
            for (i, p) in list.iter().enumerate() {
                out.records += 1;
                match p
                    .as_object()
                    .ok_or_else(|| "is not an object".to_string())
                    .and_then(|m| gcp_provider(m, pos))
                {
                    Ok(p) => out.trust.wif_providers.push(p),
                    Err(e) => out
                        .errors
                        .push(format!("workloadIdentityPoolProviders[{i}]: {e}")),
                }
            }
        }
        Shape::GcpProvider => {
            out.records += 1;
            match gcp_provider(map, pos) {
                Ok(p) => out.trust.wif_providers.push(p),
                Err(e) => out
                    .errors
                    .push(format!("workload identity pool provider: {e}")),
            }
        }
    }
    out
}

/// `FILE` for the only document of a file, `FILE#N` for the N-th of several.
fn bare_name(display: &str, record: usize) -> String {
    let stem = file_stem(display);
    if record == 0 {
        stem
    } else {
        format!("{stem}#{record}")
    }
}

/// One role object (`RoleDetailList[i]`, `Role`, `Roles[i]`, a bare role),
/// which is record `record` of its file. Errors start with
/// ` (role NAME): ` so the caller can prefix the path.
fn role_object(
    v: &Value,
    origin: TrustOrigin,
    display: &str,
    pos: Position,
    record: u32,
) -> Result<RoleTrust, String> {
    let Value::Object(m) = v else {
        return Err(": is not an object".into());
    };
    let text = |k: &str| m.get(k).and_then(Value::as_str).filter(|s| !s.is_empty());
    let arn = text("Arn").or_else(|| text("arn"));
    let name = text("RoleName").or_else(|| text("Name"));
    let label = name.or(arn).unwrap_or("?");
    let doc = match m.get("AssumeRolePolicyDocument") {
        Some(d) if !d.is_null() => d,
        _ => {
            return Err(format!(
                " (role `{label}`): has no `AssumeRolePolicyDocument`"
            ))
        }
    };
    let document = parse_policy_value(doc).map_err(|e| format!(" (role `{label}`): {e}"))?;
    let (role, bare) = match arn {
        Some(a) => (a.to_string(), false),
        None => (bare_name(display, record as usize), true),
    };
    let short = name
        .map(str::to_string)
        .unwrap_or_else(|| role.rsplit('/').next().unwrap_or(&role).to_string());
    Ok(RoleTrust {
        account: arn.and_then(account_of_arn),
        name: short,
        role,
        bare,
        document,
        origin,
        time: None,
        file: pos.file,
        record,
        line: pos.line,
    })
}

fn gcp_provider(m: &Map<String, Value>, pos: Position) -> Result<WifProvider, String> {
    let name = str_at(m, &["name"])
        .map_err(|e| e.to_string())?
        .ok_or("has no `name`")?;
    let issuer = str_at(m, &["oidc", "issuerUri"])
        .map_err(|e| e.to_string())?
        .map(normalize_issuer);
    let allowed_audiences = string_list(at_map(m, &["oidc", "allowedAudiences"]));
    let attribute_mapping = match m.get("attributeMapping") {
        Some(Value::Object(map)) => map
            .iter()
            .map(|(k, v)| (k.clone(), v.as_str().unwrap_or_default().to_string()))
            .collect(),
        None | Some(Value::Null) => Vec::new(),
        Some(_) => return Err("`attributeMapping` should be an object".into()),
    };
    let attribute_condition = str_at(m, &["attributeCondition"])
        .map_err(|e| e.to_string())?
        .map(str::to_string)
        .filter(|c| !c.trim().is_empty());
    Ok(WifProvider {
        name: name.to_string(),
        display_name: str_at(m, &["displayName"])
            .ok()
            .flatten()
            .map(str::to_string),
        issuer,
        allowed_audiences,
        attribute_condition,
        attribute_mapping,
        disabled: m.get("disabled").and_then(Value::as_bool).unwrap_or(false)
            || str_at(m, &["state"]).ok().flatten() == Some("DELETED"),
        file: pos.file,
        record: pos.record,
        line: pos.line,
    })
}

/// The CloudTrail events that change trust.
const ROLE_EVENTS: &[&str] = &["CreateRole", "UpdateAssumeRolePolicy"];
const PROVIDER_EVENTS: &[&str] = &[
    "CreateOpenIDConnectProvider",
    "AddClientIDToOpenIDConnectProvider",
    "RemoveClientIDFromOpenIDConnectProvider",
    "UpdateOpenIDConnectProviderThumbprint",
    "DeleteOpenIDConnectProvider",
];

/// A trust change read from a CloudTrail record.
pub enum TrustEvent {
    Role(Box<RoleTrust>),
    Provider(Box<OidcProviderChange>),
}

/// Cheap test on the raw `eventName` (it runs for every record).
pub fn is_trust_event(obj: &Obj<'_>) -> bool {
    let Some(raw) = obj.get(Key::EventName) else {
        return false;
    };
    let name = raw.get().trim_matches('"');
    ROLE_EVENTS.contains(&name) || PROVIDER_EVENTS.contains(&name)
}

fn nested(obj: &Obj<'_>, key: Key, field: &str) -> Result<Map<String, Value>, String> {
    match obj.get(key) {
        None => Ok(Map::new()),
        Some(raw) => {
            let text = object_text(raw, field).map_err(|e| e.to_string())?;
            serde_json::from_str(&text).map_err(|e| format!("`{field}` is not readable: {e}"))
        }
    }
}

fn strings_at(m: &Map<String, Value>, key: &str) -> Vec<String> {
    match m.get(key) {
        Some(Value::String(s)) => vec![s.clone()],
        other => string_list(other),
    }
}

/// Reads a trust change from a CloudTrail record already known to be one
/// ([`is_trust_event`]). Failed calls changed nothing: `None`.
pub fn from_cloudtrail(obj: &Obj<'_>, pos: Position) -> Option<Result<TrustEvent, String>> {
    let read = || -> Result<Option<TrustEvent>, String> {
        let s = |k: Key, f: &str| {
            opt_str(obj.get(k), f)
                .map(|v| v.map(|c| c.into_owned()))
                .map_err(|e| e.to_string())
        };
        if s(Key::ErrorCode, "errorCode")?.is_some() {
            return Ok(None);
        }
        if s(Key::EventSource, "eventSource")?.is_some_and(|src| src != "iam.amazonaws.com") {
            return Ok(None);
        }
        let event_name = s(Key::EventName, "eventName")?.unwrap_or_default();
        let time = s(Key::EventTime, "eventTime")?.and_then(|t| parse_timestamp(&t));
        let event_id = s(Key::EventId, "eventID")?;
        let account = s(Key::RecipientAccountId, "recipientAccountId")?;
        let identity = nested(obj, Key::UserIdentity, "userIdentity")?;
        let actor = str_at(&identity, &["arn"])
            .ok()
            .flatten()
            .map(str::to_string);
        let account = account.or_else(|| {
            str_at(&identity, &["accountId"])
                .ok()
                .flatten()
                .map(str::to_string)
        });
        let req = nested(obj, Key::RequestParameters, "requestParameters")?;
        let resp = nested(obj, Key::ResponseElements, "responseElements")?;
        let text =
            |m: &Map<String, Value>, k: &str| m.get(k).and_then(Value::as_str).map(str::to_string);
        if ROLE_EVENTS.contains(&event_name.as_str()) {
            let name = text(&req, "roleName")
                .ok_or_else(|| format!("{event_name} without `requestParameters.roleName`"))?;
            let doc_field = if event_name == "CreateRole" {
                "assumeRolePolicyDocument"
            } else {
                "policyDocument"
            };
            let raw = req.get(doc_field).ok_or_else(|| {
                format!("{event_name} for role `{name}` without `requestParameters.{doc_field}`")
            })?;
            let document: PolicyDocument = parse_policy_value(raw)
                .map_err(|e| format!("{event_name} for role `{name}`: {e}"))?;
            let path = text(&req, "path").unwrap_or_else(|| "/".into());
            let role = at_map(&resp, &["role", "arn"])
                .and_then(Value::as_str)
                .map(str::to_string)
                .unwrap_or_else(|| {
                    format!(
                        "arn:aws:iam::{}:role{path}{name}",
                        account.as_deref().unwrap_or("")
                    )
                });
            return Ok(Some(TrustEvent::Role(Box::new(RoleTrust {
                account: account_of_arn(&role).or(account),
                name,
                role,
                bare: false,
                document,
                origin: TrustOrigin::Change {
                    event_name,
                    event_id,
                    actor,
                },
                time,
                file: pos.file,
                record: pos.record,
                line: pos.line,
            }))));
        }
        let provider_arn = text(&req, "openIDConnectProviderArn")
            .or_else(|| text(&resp, "openIDConnectProviderArn"));
        let mut client_ids = strings_at(&req, "clientIDList");
        client_ids.extend(strings_at(&req, "clientID"));
        Ok(Some(TrustEvent::Provider(Box::new(OidcProviderChange {
            event_name,
            provider_arn,
            url: text(&req, "url"),
            client_ids,
            thumbprints: strings_at(&req, "thumbprintList"),
            account,
            actor,
            event_id,
            time,
            file: pos.file,
            record: pos.record,
            line: pos.line,
        }))))
    };
    read().transpose()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bare_names_come_from_the_file() {
        assert_eq!(file_stem("dir/sub/deploy-prod.json"), "deploy-prod");
        assert_eq!(file_stem("deploy-prod.json.gz"), "deploy-prod");
        assert_eq!(bare_name("a/x.json", 2), "x#2");
    }
}
