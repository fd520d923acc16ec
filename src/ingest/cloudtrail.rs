//! AWS CloudTrail records: one record object to one [`EventRow`], and for
//! `AssumeRoleWithWebIdentity` also one [`Assumption`].
//!
//! Real records vary: fields come and go across `eventVersion`s, failed
//! exchanges carry `responseElements: null` and a `userIdentity` with only
//! `type` and `userName`, expirations are written `Apr 16, 2025, 3:46:56 AM`,
//! Athena and CloudTrail Lake exports lower-case the keys and store nested
//! objects as JSON strings. Missing fields are absent, not errors; a field
//! with the wrong type or an unreadable time makes the record an input error.

use std::borrow::Cow;

use super::json::scanner::{fields, slot_in, NestedLayout, NestedReader, Scan, Scanner};
use super::json::{
    as_str, object_text, opt_bool, opt_i64, opt_nonempty, opt_str, FieldError, Key, Nested, Obj,
    Raw,
};
use super::source::{Outcome, Parser, Position, Read, Source};
use super::trust;
use crate::error::Location;
use crate::model::events::EventRow;
use crate::model::records::Assumption;
use crate::model::secrets::redact_value;
use crate::model::subject::{issuer_from_provider_arn, normalize_issuer};
use crate::model::time::{parse_expiration, parse_timestamp, Micros};

/// STS actions that return a fresh access key.
pub const KEY_ISSUING_ACTIONS: &[&str] = &[
    "AssumeRole",
    "AssumeRoleWithWebIdentity",
    "AssumeRoleWithSAML",
    "AssumeRoot",
    "GetSessionToken",
    "GetFederationToken",
];

pub const WEB_IDENTITY_EXCHANGE: &str = "AssumeRoleWithWebIdentity";

/// `userIdentity`'s fields, as CloudTrail and lower-cased exports spell them.
const USER_IDENTITY: &[&[&str]; 9] = &[
    &["type", "Type"],
    &["principalId", "principalid"],
    &["arn", "ARN"],
    &["accountId", "accountid"],
    &["accessKeyId", "accesskeyid"],
    &["userName", "username"],
    &["invokedBy", "invokedby"],
    &["identityProvider", "identityprovider"],
    &["sessionContext", "sessioncontext"],
];

const SESSION_CONTEXT: &[&[&str]; 2] = &[
    &["sessionIssuer", "sessionissuer"],
    &["webIdFederationData", "webidfederationdata"],
];

const SESSION_ISSUER: &[&[&str]; 2] = &[&["type", "Type"], &["arn"]];

const WEB_ID_FEDERATION: &[&[&str]; 1] = &[&["federatedProvider", "federatedprovider"]];

const STS_REQUEST: &[&[&str]; 4] = &[
    &["roleArn", "rolearn"],
    &["roleSessionName", "rolesessionname"],
    &["durationSeconds", "durationseconds"],
    &["providerId", "providerid"],
];

const STS_RESPONSE: &[&[&str]; 6] = &[
    &["credentials"],
    &["subjectFromWebIdentityToken", "subjectfromwebidentitytoken"],
    &["audience"],
    &["provider"],
    &["assumedRoleUser", "assumedroleuser"],
    &["sourceIdentity", "sourceidentity"],
];

const CREDENTIALS: &[&[&str]; 2] = &[&["accessKeyId", "accesskeyid"], &["expiration"]];

const ASSUMED_ROLE_USER: &[&[&str]; 1] = &[&["arn"]];

/// Where `sessionContext` sits in [`USER_IDENTITY`].
const SESSION_CONTEXT_SLOT: usize = 8;

/// `userIdentity` as the record path reads it, in the slots of a
/// [`Nested`]: its own fields (the first nine), then `sessionContext`'s
/// two, `sessionIssuer`'s two and `webIdFederationData`'s one.
const USER_SLOTS: usize = 9;
const CONTEXT_SLOTS: usize = 2;
const ISSUER_SLOTS: usize = 2;

/// The scanner reads `userIdentity` in passing (see [`scan_identity`]).
pub const IDENTITY: NestedReader = NestedReader {
    key: Key::UserIdentity,
    read: scan_identity,
};

/// The four levels of an identity's slots, borrowed.
#[allow(clippy::type_complexity)]
fn levels<'n, 'de>(
    n: &'n Nested<'de>,
) -> (
    &'n [Option<Raw<'de>>; 9],
    &'n [Option<Raw<'de>>; 2],
    &'n [Option<Raw<'de>>; 2],
    &'n [Option<Raw<'de>>; 1],
) {
    let (user, rest) = n.0.split_first_chunk::<USER_SLOTS>().expect("slots");
    let (context, rest) = rest.split_first_chunk::<CONTEXT_SLOTS>().expect("slots");
    let (issuer, rest) = rest.split_first_chunk::<ISSUER_SLOTS>().expect("slots");
    let (federation, _) = rest.split_first_chunk::<1>().expect("slots");
    (user, context, issuer, federation)
}

/// Reads `userIdentity` while the record is scanned, so that its text is
/// walked once instead of once per nesting level, into `out` (in place: it
/// is a few hundred bytes, copied per record otherwise). The identity is
/// `None` when something in it is for the text path in [`read_record`] to
/// judge (a field given twice, a nested object of another type or written
/// as a string).
pub fn scan_identity<'de>(
    s: &mut Scanner<'de>,
    out: &mut Option<Nested<'de>>,
    layout: Option<&mut NestedLayout<'de>>,
) -> Scan<Raw<'de>> {
    let slots = &mut out.insert(Nested::default()).0;
    let (user, rest) = slots.split_first_chunk_mut::<USER_SLOTS>().expect("slots");
    let (context, rest) = rest
        .split_first_chunk_mut::<CONTEXT_SLOTS>()
        .expect("slots");
    let (issuer, rest) = rest.split_first_chunk_mut::<ISSUER_SLOTS>().expect("slots");
    let (federation, _) = rest.split_first_chunk_mut::<1>().expect("slots");
    let mut plain = true;
    // A nested object's value when it is an object; anything but `null`
    // otherwise leaves the identity to the text path.
    let (user_layout, mut context_layout, mut issuer_layout) = match layout {
        Some(l) => {
            let [u, c, i] = &mut l.levels;
            (Some(u), Some(c), Some(i))
        }
        None => (None, None, None),
    };
    let (raw, duplicate) = s.object_fields_by(
        user_layout,
        |k| slot_in(USER_IDENTITY, k),
        user,
        |s, i| {
            if i != SESSION_CONTEXT_SLOT || !s.at_object() {
                let v = s.value()?;
                plain &= i != SESSION_CONTEXT_SLOT || v.is_null();
                return Ok(v);
            }
            let context_slot = |key: &str| slot_in(SESSION_CONTEXT, key);
            let context_layout = context_layout.as_deref_mut();
            let (raw, duplicate) =
                s.object_fields_by(context_layout, context_slot, context, |s, j| {
                    if !s.at_object() {
                        let v = s.value()?;
                        plain &= v.is_null();
                        return Ok(v);
                    }
                    let (raw, duplicate) = if j == 0 {
                        let issuer_layout = issuer_layout.as_deref_mut();
                        s.object_fields_by(
                            issuer_layout,
                            |k| slot_in(SESSION_ISSUER, k),
                            issuer,
                            |s, _| s.value(),
                        )?
                    } else {
                        s.object_fields(WEB_ID_FEDERATION, federation, |s, _| s.value())?
                    };
                    plain &= duplicate.is_none();
                    Ok(raw)
                })?;
            plain &= duplicate.is_none();
            Ok(raw)
        },
    )?;
    plain &= duplicate.is_none();
    if !plain {
        *out = None;
    }
    Ok(raw)
}

/// The JSON text of an optional nested object: absent and `null` values
/// give `None`.
fn nested_text<'a>(raw: Option<Raw<'a>>, field: &str) -> Result<Option<Cow<'a, str>>, FieldError> {
    match raw {
        None => Ok(None),
        Some(r) if r.is_null() => Ok(None),
        Some(r) => object_text(r, field).map(Some),
    }
}

/// The wanted fields of an optional nested object (all absent when it is).
fn parse_nested<'t, const N: usize>(
    text: &'t Option<Cow<'_, str>>,
    names: &[&[&str]; N],
    field: &str,
) -> Result<[Option<Raw<'t>>; N], FieldError> {
    match text {
        None => Ok([None; N]),
        Some(t) => fields(t, names, field),
    }
}

/// True when a `sourceIPAddress` names an AWS service acting for the
/// principal rather than a network address.
pub fn is_service_source(source: &str) -> bool {
    source.ends_with(".amazonaws.com")
        || source == "AWS Internal"
        || source.ends_with(".amazon.com")
}

/// CloudTrail records, as S3 delivers them, exported, or embedded.
pub const SOURCE: Source = Source {
    name: "AWS CloudTrail",
    sniff: is_cloudtrail,
    read: |p, rec| {
        read_event(p, rec.obj, rec.at.clone(), rec.index);
        Read::Taken
    },
};

/// One CloudTrail record into the batch: its event (and exchange), and a
/// trust change it makes.
pub fn read_event(p: &mut Parser<'_, '_>, obj: &Obj<'_>, at: Location, record: u64) {
    p.out.records += 1;
    if let Some(k) = obj.duplicate {
        p.error(
            at.clone(),
            format!(
                "duplicate key `{}`; the last value was used",
                super::json::key_name(k)
            ),
        );
    }
    let pos = p.position(record);
    let window = p.window();
    let result = read_record(obj, pos, window, &mut p.pusher());
    match result {
        Ok(Outcome::Event(None)) if trust::is_trust_event(obj) => {
            match trust::from_cloudtrail(obj, pos) {
                Some(Ok(trust::TrustEvent::Role(r))) => p.out.trust.roles.push(*r),
                Some(Ok(trust::TrustEvent::Provider(c))) => p.out.trust.oidc_changes.push(*c),
                Some(Err(e)) => p.error(at, e),
                None => {}
            }
        }
        other => p.outcome(other, at),
    }
}

/// Whether an object looks like a CloudTrail record.
pub fn is_cloudtrail(obj: &Obj<'_>) -> bool {
    obj.has(Key::EventName)
        && (obj.has(Key::EventSource)
            || obj.has(Key::EventTime)
            || obj.has(Key::UserIdentity)
            || obj.has(Key::EventVersion)
            || obj.has(Key::RecipientAccountId))
}

/// Converts one CloudTrail record and hands its row to `push`, which stores
/// it and returns its index. Strings borrowed from the record are only valid
/// during the call, so the row never outlives it.
pub fn read_record(
    obj: &Obj<'_>,
    pos: Position,
    window: (Option<Micros>, Option<Micros>),
    push: &mut dyn FnMut(&EventRow<'_>) -> usize,
) -> Result<Outcome, FieldError> {
    let event_name = opt_str(obj.get(Key::EventName), "eventName")?;
    let event_category = opt_str(obj.get(Key::EventCategory), "eventCategory")?;
    let event_type = opt_str(obj.get(Key::EventType), "eventType")?;
    if obj.has(Key::InsightDetails)
        || event_category.as_deref() == Some("Insight")
        || event_type.as_deref() == Some("AwsCloudTrailInsight")
    {
        return Ok(Outcome::Insight);
    }
    let time = match obj.get(Key::EventTime) {
        None => None,
        Some(raw) => {
            let s = as_str(raw, "eventTime")?;
            Some(parse_timestamp(&s).ok_or_else(|| {
                FieldError::new(
                    "eventTime",
                    format!("is not a timestamp: {:?}", super::json::clip(&s, 40)),
                )
            })?)
        }
    };
    if let Some(t) = time {
        if window.0.is_some_and(|since| t < since) || window.1.is_some_and(|until| t >= until) {
            return Ok(Outcome::OutsideWindow);
        }
    }
    let service = opt_str(obj.get(Key::EventSource), "eventSource")?;
    let region = opt_str(obj.get(Key::AwsRegion), "awsRegion")?;
    let source_ip = opt_nonempty(obj.get(Key::SourceIp), "sourceIPAddress")?;
    let user_agent = opt_str(obj.get(Key::UserAgent), "userAgent")?;
    let error_code = opt_nonempty(obj.get(Key::ErrorCode), "errorCode")?;
    let event_id = opt_nonempty(obj.get(Key::EventId), "eventID")?;
    let read_only = opt_bool(obj.get(Key::ReadOnly), "readOnly")?;
    let recipient = opt_nonempty(obj.get(Key::RecipientAccountId), "recipientAccountId")?;

    // The identity as the scanner read it, or else from its text, nested
    // objects unwrapped from strings as exports write them (the texts may
    // be unwrapped copies, kept here for the record's life).
    let (ui_text, sc_text, issuer_text, wif_text, from_text);
    let id = match &obj.nested {
        Some(id) => id,
        None => {
            ui_text = nested_text(obj.get(Key::UserIdentity), "userIdentity")?;
            let user = parse_nested(&ui_text, USER_IDENTITY, "userIdentity")?;
            sc_text = nested_text(user[SESSION_CONTEXT_SLOT], "userIdentity.sessionContext")?;
            let context = parse_nested(&sc_text, SESSION_CONTEXT, "userIdentity.sessionContext")?;
            issuer_text = nested_text(context[0], "userIdentity.sessionContext.sessionIssuer")?;
            let issuer = parse_nested(
                &issuer_text,
                SESSION_ISSUER,
                "userIdentity.sessionContext.sessionIssuer",
            )?;
            wif_text = nested_text(
                context[1],
                "userIdentity.sessionContext.webIdFederationData",
            )?;
            let federation = parse_nested(
                &wif_text,
                WEB_ID_FEDERATION,
                "userIdentity.sessionContext.webIdFederationData",
            )?;
            let mut slots = Nested::default();
            let (u, rest) = slots
                .0
                .split_first_chunk_mut::<USER_SLOTS>()
                .expect("slots");
            *u = user;
            let (c, rest) = rest
                .split_first_chunk_mut::<CONTEXT_SLOTS>()
                .expect("slots");
            *c = context;
            let (i, rest) = rest.split_first_chunk_mut::<ISSUER_SLOTS>().expect("slots");
            *i = issuer;
            rest[0] = federation[0];
            from_text = slots;
            &from_text
        }
    };
    let (id_user, _, id_issuer, id_federation) = levels(id);
    let [kind, principal_id, arn, account_id, access_key_id, user_name, invoked_by, provider, _] =
        *id_user;
    let within = |e: FieldError| e.within("userIdentity");
    let principal_type = opt_str(kind, "type").map_err(within)?;
    let principal_id = opt_str(principal_id, "principalId").map_err(within)?;
    let principal_arn = opt_nonempty(arn, "arn").map_err(within)?;
    let ui_account = opt_nonempty(account_id, "accountId").map_err(within)?;
    let access_key = opt_nonempty(access_key_id, "accessKeyId").map_err(within)?;
    let user_name = opt_nonempty(user_name, "userName").map_err(within)?;
    let invoked_by = opt_nonempty(invoked_by, "invokedBy").map_err(within)?;
    let identity_provider = opt_nonempty(provider, "identityProvider").map_err(within)?;

    let [issuer_kind, issuer_arn] = *id_issuer;
    let within_issuer = |e: FieldError| e.within("userIdentity.sessionContext.sessionIssuer");
    let issuer_type = opt_str(issuer_kind, "type").map_err(within_issuer)?;
    let issuer_arn = opt_nonempty(issuer_arn, "arn").map_err(within_issuer)?;
    let [federated_provider] = *id_federation;
    let federated_provider = opt_nonempty(federated_provider, "federatedProvider")
        .map_err(|e| e.within("userIdentity.sessionContext.webIdFederationData"))?;

    let role_arn = match issuer_type.as_deref() {
        Some("Role") | None => issuer_arn.clone(),
        _ => None,
    };

    // Only STS calls that return keys need their blobs opened.
    let name = event_name.as_deref().unwrap_or("");
    let issues_keys = KEY_ISSUING_ACTIONS.contains(&name)
        && service.as_deref().is_none_or(|s| s == "sts.amazonaws.com");
    let resp_text = if issues_keys {
        nested_text(obj.get(Key::ResponseElements), "responseElements")?
    } else {
        None
    };
    let [credentials, subject_resp, audience_resp, provider_resp, role_user, source_identity] =
        parse_nested(&resp_text, STS_RESPONSE, "responseElements")?;
    let cred_text = nested_text(credentials, "responseElements.credentials")?;
    let [issued_key, expiration] =
        parse_nested(&cred_text, CREDENTIALS, "responseElements.credentials")?;
    let issued_key = opt_nonempty(issued_key, "accessKeyId")
        .map_err(|e| e.within("responseElements.credentials"))?;

    let via_service = invoked_by.is_some() || source_ip.as_deref().is_some_and(is_service_source);
    let account = recipient.clone().or_else(|| ui_account.clone());

    let row = EventRow {
        time,
        cloud: "aws",
        account: account.as_deref(),
        region: region.as_deref(),
        service: service.as_deref(),
        action: event_name.as_deref(),
        principal_type: principal_type.as_deref(),
        principal_arn: principal_arn.as_deref(),
        role_arn: role_arn.as_deref(),
        access_key: access_key.as_deref(),
        source_ip: source_ip.as_deref(),
        user_agent: user_agent.as_deref(),
        error_code: error_code.as_deref(),
        federated_provider: federated_provider.as_deref(),
        issued_key: issued_key.as_deref(),
        resource: None,
        event_id: event_id.as_deref(),
        read_only,
        via_service,
        file: pos.file,
        record: pos.record,
        line: pos.line,
    };

    if name != WEB_IDENTITY_EXCHANGE {
        push(&row);
        return Ok(Outcome::Event(None));
    }

    // The exchange: read the request and the rest of the response.
    let req_text = nested_text(obj.get(Key::RequestParameters), "requestParameters")?;
    let [role_arn_req, session_name, duration, provider_id] =
        parse_nested(&req_text, STS_REQUEST, "requestParameters")?;
    let within_req = |e: FieldError| e.within("requestParameters");
    let role_arn_req = opt_nonempty(role_arn_req, "roleArn").map_err(within_req)?;
    let session_name = opt_str(session_name, "roleSessionName").map_err(within_req)?;
    let duration = opt_i64(duration, "durationSeconds").map_err(within_req)?;
    let provider_id = opt_nonempty(provider_id, "providerId").map_err(within_req)?;
    let within_resp = |e: FieldError| e.within("responseElements");
    let subject_resp =
        opt_nonempty(subject_resp, "subjectFromWebIdentityToken").map_err(within_resp)?;
    let audience_resp = opt_nonempty(audience_resp, "audience").map_err(within_resp)?;
    let provider_resp = opt_nonempty(provider_resp, "provider").map_err(within_resp)?;
    let source_identity = opt_nonempty(source_identity, "sourceIdentity").map_err(within_resp)?;
    let aru_text = nested_text(role_user, "responseElements.assumedRoleUser")?;
    let [assumed_role_arn] = parse_nested(
        &aru_text,
        ASSUMED_ROLE_USER,
        "responseElements.assumedRoleUser",
    )?;
    let assumed_role_arn = opt_nonempty(assumed_role_arn, "arn")
        .map_err(|e| e.within("responseElements.assumedRoleUser"))?;
    let expiration = match opt_str(expiration, "expiration")
        .map_err(|e| e.within("responseElements.credentials"))?
    {
        None => None,
        Some(s) if s.is_empty() => None,
        Some(s) => Some(parse_expiration(&s).ok_or_else(|| {
            FieldError::new(
                "responseElements.credentials.expiration",
                format!("is not a time: {s:?}"),
            )
        })?),
    };
    let error_message = opt_str(obj.get(Key::ErrorMessage), "errorMessage")?;

    let provider_arn = provider_resp.or(identity_provider);
    let subject = subject_resp.or(user_name);
    let issuer_url = provider_arn.as_deref().and_then(|p| {
        issuer_from_provider_arn(p)
            .or_else(|| (!p.starts_with("arn:")).then(|| normalize_issuer(p)))
    });
    let issuer_url = issuer_url.or_else(|| provider_id.as_deref().map(normalize_issuer));
    let audience = audience_resp.map(Cow::into_owned).or_else(|| {
        audience_from_principal_id(
            principal_id.as_deref()?,
            provider_arn.as_deref()?,
            subject.as_deref()?,
        )
    });
    let request_parameters = req_text.as_deref().map(|t| {
        let mut v: serde_json::Value = serde_json::from_str(t).unwrap_or(serde_json::Value::Null);
        redact_value(&mut v);
        v.to_string()
    });

    let index = push(&row);
    let own = |c: &Option<Cow<'_, str>>| c.as_deref().map(str::to_string);
    Ok(Outcome::Event(Some(Box::new(Assumption {
        event_index: index,
        time,
        cloud: "aws".into(),
        account: own(&account),
        region: own(&region),
        issuer: issuer_url,
        provider_arn: own(&provider_arn),
        subject: own(&subject),
        audience,
        role_arn: own(&role_arn_req),
        role_session_name: own(&session_name),
        duration_seconds: duration,
        access_key_id: own(&issued_key),
        expiration,
        assumed_role_arn: own(&assumed_role_arn),
        source_identity: own(&source_identity),
        source_ip: own(&source_ip),
        user_agent: own(&user_agent),
        error_code: own(&error_code),
        error_message: own(&error_message),
        event_id: own(&event_id),
        request_parameters,
        file: pos.file,
        record: pos.record,
        line: pos.line,
        ..Default::default()
    }))))
}

/// `principalId` of a web-identity caller is `<provider-arn>:<aud>:<sub>`;
/// the audience is what sits between the two known ends.
fn audience_from_principal_id(
    principal_id: &str,
    provider_arn: &str,
    subject: &str,
) -> Option<String> {
    let rest = principal_id.strip_prefix(provider_arn)?.strip_prefix(':')?;
    let aud = rest.strip_suffix(subject)?.strip_suffix(':')?;
    (!aud.is_empty()).then(|| aud.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn audience_from_principal_id_handles_colons_in_audience() {
        assert_eq!(
            audience_from_principal_id(
                "arn:aws:iam::1:oidc-provider/token.actions.githubusercontent.com:https://github.com/octo-org:repo:octo-org/octo-repo:environment:prod",
                "arn:aws:iam::1:oidc-provider/token.actions.githubusercontent.com",
                "repo:octo-org/octo-repo:environment:prod",
            )
            .as_deref(),
            Some("https://github.com/octo-org")
        );
        assert_eq!(audience_from_principal_id("x", "arn", "s"), None);
    }

    #[test]
    fn service_sources() {
        assert!(is_service_source("cloudformation.amazonaws.com"));
        assert!(is_service_source("AWS Internal"));
        assert!(!is_service_source("203.0.113.9"));
        assert!(!is_service_source("x.x.x.x"));
    }
}
