//! `cloudtrail-lake://EVENT_DATA_STORE`: CloudTrail Lake queries.
//!
//! One query for the window's `AssumeRoleWithWebIdentity` exchanges, then
//! queries for the calls made with their keys (a few hundred keys each).
//! Each query is started, polled until it finishes, and its results paged.
//! Lake returns every column as a string and nested structs in its own
//! notation, so the queries select flat, aliased columns and [`rebuild`]
//! puts the record back together.

use std::collections::HashMap;
use std::time::Duration;

use aws_config::{Region, SdkConfig};
use aws_sdk_cloudtrail::types::QueryStatus;
use aws_sdk_cloudtrail::Client;
use serde_json::{json, Map, Value};

use super::{api_error, Blob, Fetched, RemoteError};
use crate::model::time::Micros;

/// The columns every query selects: CloudTrail's envelope with the nested
/// fields the engine reads, flattened under aliases.
pub const COLUMNS: &str = "eventID, eventTime, eventSource, eventName, awsRegion, sourceIPAddress, userAgent, \
errorCode, errorMessage, recipientAccountId, readOnly, \
userIdentity.type AS userIdentityType, userIdentity.principalId AS userIdentityPrincipalId, \
userIdentity.arn AS userIdentityArn, userIdentity.accountId AS userIdentityAccountId, \
userIdentity.accessKeyId AS userIdentityAccessKeyId, userIdentity.userName AS userIdentityUserName, \
userIdentity.invokedBy AS userIdentityInvokedBy, userIdentity.identityProvider AS userIdentityIdentityProvider, \
userIdentity.sessionContext.sessionIssuer.arn AS sessionIssuerArn, \
userIdentity.sessionContext.webIdFederationData.federatedProvider AS federatedProvider, \
element_at(requestParameters, 'roleArn') AS roleArn, element_at(requestParameters, 'roleSessionName') AS roleSessionName, \
element_at(requestParameters, 'durationSeconds') AS durationSeconds, \
element_at(responseElements, 'credentials') AS credentials, \
element_at(responseElements, 'subjectFromWebIdentityToken') AS subjectFromWebIdentityToken, \
element_at(responseElements, 'audience') AS audience, element_at(responseElements, 'provider') AS provider";

/// Keys per follow-up query.
const KEYS_PER_QUERY: usize = 200;
/// How long to wait for one query.
const QUERY_TIMEOUT: Duration = Duration::from_secs(15 * 60);

fn lake_time(t: Micros) -> String {
    chrono::DateTime::from_timestamp_micros(t)
        .map(|d| d.format("%Y-%m-%d %H:%M:%S").to_string())
        .unwrap_or_default()
}

/// The event data store's id (for `FROM`) and region (from an ARN).
pub fn store_parts(store: &str) -> (String, Option<String>) {
    if let Some(rest) = store.strip_prefix("arn:") {
        let parts: Vec<&str> = rest.split(':').collect();
        let region = parts
            .get(2)
            .map(|r| r.to_string())
            .filter(|r| !r.is_empty());
        let id = store.rsplit('/').next().unwrap_or(store).to_string();
        return (id, region);
    }
    (store.to_string(), None)
}

/// The exchanges of the window.
pub fn exchanges_query(id: &str, window: (Micros, Micros)) -> String {
    format!(
        "SELECT {COLUMNS} FROM {id} WHERE eventTime >= '{}' AND eventTime < '{}' AND eventName = 'AssumeRoleWithWebIdentity'",
        lake_time(window.0),
        lake_time(window.1)
    )
}

/// The calls made with these keys in the window.
pub fn calls_query(id: &str, window: (Micros, Micros), keys: &[String]) -> String {
    let list: Vec<String> = keys.iter().map(|k| format!("'{k}'")).collect();
    format!(
        "SELECT {COLUMNS} FROM {id} WHERE eventTime >= '{}' AND eventTime < '{}' AND userIdentity.accessKeyId IN ({})",
        lake_time(window.0),
        lake_time(window.1),
        list.join(", ")
    )
}

/// Parses Lake's struct notation `{accessKeyId=ASIA..., expiration=...}`
/// (or JSON) into an object.
pub fn parse_struct(s: &str) -> Option<Map<String, Value>> {
    if let Ok(Value::Object(o)) = serde_json::from_str::<Value>(s) {
        return Some(o);
    }
    let inner = s.trim().strip_prefix('{')?.strip_suffix('}')?;
    let mut out = Map::new();
    let mut last: Option<String> = None;
    for part in inner.split(", ") {
        match part.split_once('=') {
            Some((k, v)) => {
                let k = k.trim().to_string();
                out.insert(k.clone(), Value::String(v.trim().to_string()));
                last = Some(k);
            }
            // Lake writes `k=v, k=v` without quoting, so a value with a
            // comma in it (`expiration=Apr 16, 2025, 3:46:56 AM`) comes
            // apart: a piece without `=` goes on with the value before.
            None => {
                let k = last.as_ref()?;
                if let Some(Value::String(v)) = out.get_mut(k) {
                    v.push_str(", ");
                    v.push_str(part.trim());
                }
            }
        }
    }
    Some(out)
}

fn present(v: Option<&Value>) -> Option<&str> {
    v.and_then(Value::as_str)
        .filter(|s| !s.is_empty() && *s != "null")
}

/// Rebuilds a CloudTrail record from one row of [`COLUMNS`].
pub fn rebuild(row: &Map<String, Value>) -> Map<String, Value> {
    let get = |k: &str| present(row.get(k)).map(|s| Value::String(s.to_string()));
    let mut r = Map::new();
    for k in [
        "eventID",
        "eventTime",
        "eventSource",
        "eventName",
        "awsRegion",
        "sourceIPAddress",
        "userAgent",
        "errorCode",
        "errorMessage",
        "recipientAccountId",
        "readOnly",
    ] {
        if let Some(v) = get(k) {
            r.insert(k.to_string(), v);
        }
    }
    let mut ui = Map::new();
    for (alias, key) in [
        ("userIdentityType", "type"),
        ("userIdentityPrincipalId", "principalId"),
        ("userIdentityArn", "arn"),
        ("userIdentityAccountId", "accountId"),
        ("userIdentityAccessKeyId", "accessKeyId"),
        ("userIdentityUserName", "userName"),
        ("userIdentityInvokedBy", "invokedBy"),
        ("userIdentityIdentityProvider", "identityProvider"),
    ] {
        if let Some(v) = get(alias) {
            ui.insert(key.to_string(), v);
        }
    }
    let mut sc = Map::new();
    if let Some(v) = get("sessionIssuerArn") {
        sc.insert("sessionIssuer".into(), json!({"type": "Role", "arn": v}));
    }
    if let Some(v) = get("federatedProvider") {
        sc.insert(
            "webIdFederationData".into(),
            json!({"federatedProvider": v}),
        );
    }
    if !sc.is_empty() {
        ui.insert("sessionContext".into(), Value::Object(sc));
    }
    r.insert("userIdentity".into(), Value::Object(ui));
    let mut req = Map::new();
    for k in ["roleArn", "roleSessionName", "durationSeconds"] {
        if let Some(v) = get(k) {
            req.insert(k.to_string(), v);
        }
    }
    if !req.is_empty() {
        r.insert("requestParameters".into(), Value::Object(req));
    }
    let mut resp = Map::new();
    if let Some(c) = present(row.get("credentials")).and_then(parse_struct) {
        let mut c = c;
        c.remove("sessionToken");
        resp.insert("credentials".into(), Value::Object(c));
    }
    for k in ["subjectFromWebIdentityToken", "audience", "provider"] {
        if let Some(v) = get(k) {
            resp.insert(k.to_string(), v);
        }
    }
    if !resp.is_empty() {
        r.insert("responseElements".into(), Value::Object(resp));
    }
    r
}

/// True when a Lake row has the aliased columns of [`COLUMNS`].
pub fn is_aliased(row: &Map<String, Value>) -> bool {
    row.contains_key("userIdentityType")
        || row.contains_key("userIdentityAccessKeyId")
        || row.contains_key("credentials")
}

type Rows = Vec<Vec<HashMap<String, String>>>;

async fn run_query(client: &Client, sql: &str, source: &str) -> Result<Rows, RemoteError> {
    let started = client
        .start_query()
        .query_statement(sql)
        .send()
        .await
        .map_err(|e| RemoteError::new(source, format!("StartQuery: {}", api_error(&e))))?;
    let id = started
        .query_id()
        .ok_or_else(|| RemoteError::new(source, "StartQuery returned no query id"))?
        .to_string();
    let begun = std::time::Instant::now();
    loop {
        let d = client
            .describe_query()
            .query_id(&id)
            .send()
            .await
            .map_err(|e| RemoteError::new(source, format!("DescribeQuery: {}", api_error(&e))))?;
        match d.query_status() {
            Some(QueryStatus::Finished) => break,
            Some(s @ (QueryStatus::Failed | QueryStatus::Cancelled | QueryStatus::TimedOut)) => {
                return Err(RemoteError::new(
                    source,
                    format!(
                        "query {id} {}: {}",
                        s.as_str(),
                        d.error_message().unwrap_or("no reason given")
                    ),
                ))
            }
            _ => {}
        }
        if begun.elapsed() > QUERY_TIMEOUT {
            return Err(RemoteError::new(
                source,
                format!("query {id} did not finish in {} s", QUERY_TIMEOUT.as_secs()),
            ));
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    let mut rows = Vec::new();
    let mut token: Option<String> = None;
    loop {
        let page = client
            .get_query_results()
            .query_id(&id)
            .set_next_token(token.clone())
            .send()
            .await
            .map_err(|e| RemoteError::new(source, format!("GetQueryResults: {}", api_error(&e))))?;
        rows.extend(page.query_result_rows().iter().cloned());
        match page.next_token() {
            Some(t) if !t.is_empty() => token = Some(t.to_string()),
            _ => return Ok(rows),
        }
    }
}

fn rows_json(rows: &Rows) -> Value {
    Value::Array(
        rows.iter()
            .map(|row| Value::Array(row.iter().map(|cell| json!(cell)).collect()))
            .collect(),
    )
}

/// Runs the exchange query and the key queries.
pub async fn fetch(
    conf: &SdkConfig,
    store: &str,
    window: (Micros, Micros),
) -> Result<Fetched, RemoteError> {
    let source = format!("cloudtrail-lake://{store}");
    let (id, region) = store_parts(store);
    let mut builder = aws_sdk_cloudtrail::config::Builder::from(conf);
    if let Some(r) = region {
        builder = builder.region(Region::new(r));
    }
    let client = Client::from_conf(builder.build());
    let exchanges = run_query(&client, &exchanges_query(&id, window), &source).await?;
    let mut keys: Vec<String> = exchanges
        .iter()
        .filter_map(|row| {
            let creds = row.iter().find_map(|c| c.get("credentials"))?;
            let key = parse_struct(creds)?
                .get("accessKeyId")?
                .as_str()?
                .to_string();
            (key.len() >= 16
                && key
                    .bytes()
                    .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit()))
            .then_some(key)
        })
        .collect();
    keys.sort();
    keys.dedup();
    let mut fetched = Fetched::default();
    fetched.blobs.push(Blob {
        display: format!("{source} (exchanges)"),
        bytes: json!({ "QueryResultRows": rows_json(&exchanges) })
            .to_string()
            .into_bytes(),
    });
    for (i, chunk) in keys.chunks(KEYS_PER_QUERY).enumerate() {
        let calls = run_query(&client, &calls_query(&id, window, chunk), &source).await?;
        fetched.blobs.push(Blob {
            display: format!("{source} (calls, part {})", i + 1),
            bytes: json!({ "QueryResultRows": rows_json(&calls) })
                .to_string()
                .into_bytes(),
        });
    }
    Ok(fetched)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stores_and_queries() {
        assert_eq!(
            store_parts("arn:aws:cloudtrail:eu-west-1:111111111111:eventdatastore/abcd-1234"),
            ("abcd-1234".to_string(), Some("eu-west-1".to_string()))
        );
        assert_eq!(store_parts("abcd"), ("abcd".to_string(), None));
        let q = calls_query("eds", (0, 86_400_000_000), &["ASIAAAAAAAAAAAAAAAA1".into()]);
        assert!(
            q.ends_with("userIdentity.accessKeyId IN ('ASIAAAAAAAAAAAAAAAA1')"),
            "{q}"
        );
        assert!(
            q.contains("eventTime >= '1970-01-01 00:00:00' AND eventTime < '1970-01-02 00:00:00'")
        );
    }

    #[test]
    fn structs_and_rebuilt_records() {
        let c = parse_struct(
            "{accessKeyId=ASIAKEY, expiration=Apr 16, 2025, 3:46:56 AM, sessionToken=x}",
        );
        // A value with commas in it keeps them.
        let c = c.expect("Lake's struct notation is read");
        assert_eq!(c["accessKeyId"], "ASIAKEY");
        assert_eq!(c["expiration"], "Apr 16, 2025, 3:46:56 AM");
        assert_eq!(c["sessionToken"], "x");
        assert!(parse_struct("{no pairs here}").is_none());
        let c = parse_struct(r#"{"accessKeyId":"ASIAKEY","sessionToken":"secret"}"#).unwrap();
        assert_eq!(c["accessKeyId"], "ASIAKEY");
        let row: Map<String, Value> = serde_json::from_value(json!({
            "eventID": "e1", "eventTime": "2025-05-14 10:00:00.000", "eventName": "AssumeRoleWithWebIdentity",
            "eventSource": "sts.amazonaws.com", "userIdentityType": "WebIdentityUser", "userIdentityUserName": "repo:a/b:ref:refs/heads/main",
            "roleArn": "arn:aws:iam::1:role/r", "credentials": "{\"accessKeyId\":\"ASIAKEY\",\"sessionToken\":\"secret\"}",
            "audience": "sts.amazonaws.com", "errorCode": "null"
        }))
        .unwrap();
        let r = rebuild(&row);
        assert_eq!(r["userIdentity"]["type"], "WebIdentityUser");
        assert_eq!(r["requestParameters"]["roleArn"], "arn:aws:iam::1:role/r");
        assert_eq!(
            r["responseElements"]["credentials"]["accessKeyId"],
            "ASIAKEY"
        );
        assert!(r["responseElements"]["credentials"]
            .get("sessionToken")
            .is_none());
        assert!(r.get("errorCode").is_none());
        assert!(is_aliased(&row));
    }
}
