//! `cloudtrail://REGION[,REGION...]`: CloudTrail's LookupEvents API, for
//! triage without access to the trail's bucket.
//!
//! First every `AssumeRoleWithWebIdentity` in the window, then, for each
//! issued access key, the calls made with it. LookupEvents allows 2 requests
//! per second per region, so calls are paced, and throttling is retried with
//! backoff (the SDK's retry policy). It keeps 90 days of management events;
//! an older `--since` is said in the summary.

use std::time::{Duration, Instant};

use aws_config::{Region, SdkConfig};
use aws_sdk_cloudtrail::primitives::DateTime;
use aws_sdk_cloudtrail::types::{LookupAttribute, LookupAttributeKey};
use aws_sdk_cloudtrail::Client;
use serde_json::{json, Value};

use super::{api_error, Blob, Fetched, RemoteError};
use crate::model::time::{format_time, Micros};

/// LookupEvents' documented rate: 2 requests per second per region.
const PACE: Duration = Duration::from_millis(500);
/// How far back LookupEvents can see.
pub const RETENTION_DAYS: i64 = 90;

/// Keeps requests to one region at least [`PACE`] apart. Counting from the
/// end of the previous call also spaces the SDK's own retries inside it.
struct Pacer {
    last: Option<Instant>,
}

impl Pacer {
    async fn wait(&mut self) {
        if let Some(last) = self.last {
            let next = last + PACE;
            let now = Instant::now();
            if next > now {
                tokio::time::sleep(next - now).await;
            }
        }
    }

    fn done(&mut self) {
        self.last = Some(Instant::now());
    }
}

async fn lookup_all(
    client: &Client,
    attribute: LookupAttribute,
    window: (Micros, Micros),
    pacer: &mut Pacer,
    source: &str,
) -> Result<Vec<String>, RemoteError> {
    let mut events = Vec::new();
    let mut token: Option<String> = None;
    loop {
        pacer.wait().await;
        let resp = client
            .lookup_events()
            .lookup_attributes(attribute.clone())
            .start_time(DateTime::from_secs(window.0.div_euclid(1_000_000)))
            .end_time(DateTime::from_secs(window.1.div_euclid(1_000_000)))
            .max_results(50)
            .set_next_token(token.clone())
            .send()
            .await;
        pacer.done();
        let resp =
            resp.map_err(|e| RemoteError::new(source, format!("LookupEvents: {}", api_error(&e))))?;
        events.extend(
            resp.events()
                .iter()
                .filter_map(|e| e.cloud_trail_event().map(str::to_string)),
        );
        match resp.next_token() {
            Some(t) if !t.is_empty() => token = Some(t.to_string()),
            _ => return Ok(events),
        }
    }
}

/// The access key an exchange issued, from its CloudTrailEvent JSON.
fn issued_key(event: &str) -> Option<String> {
    let v: Value = serde_json::from_str(event).ok()?;
    let key = v
        .get("responseElements")?
        .get("credentials")?
        .get("accessKeyId")?
        .as_str()?;
    // Key ids are upper-case letters and digits; anything else is not a key
    // worth asking about.
    (key.len() >= 16
        && key
            .bytes()
            .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit()))
    .then(|| key.to_string())
}

fn attribute(key: LookupAttributeKey, value: &str) -> Result<LookupAttribute, RemoteError> {
    LookupAttribute::builder()
        .attribute_key(key)
        .attribute_value(value)
        .build()
        .map_err(|e| RemoteError::new("cloudtrail", e.to_string()))
}

/// Fetches the window's exchanges and their keys' calls in each region.
pub async fn fetch(
    conf: &SdkConfig,
    regions: &[String],
    window: (Micros, Micros),
    now: Micros,
) -> Result<Fetched, RemoteError> {
    let mut fetched = Fetched::default();
    let oldest = now - RETENTION_DAYS * 86_400 * 1_000_000;
    let window = if window.0 < oldest {
        fetched.notes.push(format!(
            "LookupEvents keeps {RETENTION_DAYS} days of events: nothing before {} could be read (use the trail in S3 or CloudTrail Lake for older events)",
            format_time(oldest)
        ));
        (oldest, window.1)
    } else {
        window
    };
    // Each region is read on its own: one that fails (access denied, a
    // region not enabled) is reported and the others are still read.
    for region in regions {
        let source = format!("cloudtrail://{region}");
        match fetch_region(conf, region, window, &source).await {
            Ok(blob) => fetched.blobs.push(blob),
            Err(e) => fetched.failed.push(e),
        }
    }
    Ok(fetched)
}

/// One region's exchanges and their keys' calls.
async fn fetch_region(
    conf: &SdkConfig,
    region: &str,
    window: (Micros, Micros),
    source: &str,
) -> Result<Blob, RemoteError> {
    let client = Client::from_conf(
        aws_sdk_cloudtrail::config::Builder::from(conf)
            .region(Region::new(region.to_string()))
            .build(),
    );
    let mut pacer = Pacer { last: None };
    let exchanges = lookup_all(
        &client,
        attribute(LookupAttributeKey::EventName, "AssumeRoleWithWebIdentity")?,
        window,
        &mut pacer,
        source,
    )
    .await?;
    let mut keys: Vec<String> = exchanges.iter().filter_map(|e| issued_key(e)).collect();
    keys.sort();
    keys.dedup();
    let mut calls = Vec::new();
    for key in &keys {
        calls.extend(
            lookup_all(
                &client,
                attribute(LookupAttributeKey::AccessKeyId, key)?,
                window,
                &mut pacer,
                source,
            )
            .await?,
        );
    }
    let events: Vec<Value> = exchanges
        .into_iter()
        .chain(calls)
        .map(|e| json!({ "CloudTrailEvent": e }))
        .collect();
    Ok(Blob {
        display: format!("{source} (LookupEvents)"),
        bytes: json!({ "Events": events }).to_string().into_bytes(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_come_from_the_credentials() {
        let e = r#"{"responseElements":{"credentials":{"accessKeyId":"ASIAEXAMPLEKEY000001"}}}"#;
        assert_eq!(issued_key(e).as_deref(), Some("ASIAEXAMPLEKEY000001"));
        assert_eq!(issued_key(r#"{"responseElements":null}"#), None);
        assert_eq!(
            issued_key(r#"{"responseElements":{"credentials":{"accessKeyId":"x' OR 1=1"}}}"#),
            None
        );
    }
}
