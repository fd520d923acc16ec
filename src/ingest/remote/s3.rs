//! CloudTrail trails read straight from S3.
//!
//! Account and organization layouts (`AWSLogs/[o-ORG/]ACCOUNT/CloudTrail/
//! REGION/YYYY/MM/DD/`) are walked level by level; with `--since` only the
//! day prefixes of the window (and a day of margin either side, since files
//! are named by delivery time, not event time) are listed, and `eventTime`
//! does the exact filtering. Digest and Insight files are skipped. Objects
//! are fetched concurrently, a batch at a time, and each batch is parsed on
//! the rayon pool while the next one downloads.

use std::sync::Arc;

use aws_sdk_s3::Client;
use chrono::{Duration as ChronoDuration, NaiveDate, TimeZone, Utc};
use tokio::sync::Semaphore;

use super::{api_error, sdk_error, Blob, RemoteError};
use crate::ingest::discover::skip_reason;
use crate::model::time::Micros;

/// Objects fetched at once.
const CONCURRENCY: usize = 16;
/// Objects per parse batch.
pub const CHUNK: usize = 64;

/// One object to read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Object {
    pub key: String,
    pub size: i64,
}

fn day_of(micros: Micros) -> NaiveDate {
    Utc.timestamp_micros(micros)
        .single()
        .map_or(NaiveDate::MIN, |d| d.date_naive())
}

/// The `YYYY/MM/DD` folder date in a CloudTrail key, if it has one.
pub fn key_day(key: &str) -> Option<NaiveDate> {
    let rest = key.split_once("/CloudTrail/")?.1;
    let mut parts = rest.split('/').skip(1);
    let (y, m, d) = (parts.next()?, parts.next()?, parts.next()?);
    NaiveDate::from_ymd_opt(y.parse().ok()?, m.parse().ok()?, d.parse().ok()?)
}

/// True for a prefix that ends at a region folder (`.../CloudTrail/REGION/`).
fn is_region_level(prefix: &str) -> bool {
    let trimmed = prefix.trim_end_matches('/');
    let mut segments = trimmed.rsplit('/');
    let _region = segments.next();
    prefix.ends_with('/') && segments.next() == Some("CloudTrail")
}

/// True for a prefix inside a region folder (`.../CloudTrail/REGION/2025/`).
fn is_below_region_level(prefix: &str) -> bool {
    match prefix.split_once("/CloudTrail/") {
        Some((_, rest)) => {
            rest.trim_end_matches('/')
                .split('/')
                .filter(|s| !s.is_empty())
                .count()
                >= 2
        }
        None => false,
    }
}

fn in_window(day: Option<NaiveDate>, from: Option<NaiveDate>, to: Option<NaiveDate>) -> bool {
    match day {
        None => true,
        Some(d) => from.is_none_or(|f| d >= f) && to.is_none_or(|t| d <= t),
    }
}

async fn list_flat(
    client: &Client,
    bucket: &str,
    prefix: &str,
    source: &str,
    out: &mut Vec<Object>,
) -> Result<(), RemoteError> {
    let mut pages = client
        .list_objects_v2()
        .bucket(bucket)
        .prefix(prefix)
        .into_paginator()
        .send();
    while let Some(page) = pages.next().await {
        let page = page.map_err(|e| {
            RemoteError::new(source, format!("listing {prefix}: {}", api_error(&e)))
        })?;
        for o in page.contents() {
            if let Some(k) = o.key() {
                out.push(Object {
                    key: k.to_string(),
                    size: o.size().unwrap_or(0),
                });
            }
        }
    }
    Ok(())
}

async fn list_level(
    client: &Client,
    bucket: &str,
    prefix: &str,
    source: &str,
    out: &mut Vec<Object>,
) -> Result<Vec<String>, RemoteError> {
    let mut prefixes = Vec::new();
    let mut pages = client
        .list_objects_v2()
        .bucket(bucket)
        .prefix(prefix)
        .delimiter("/")
        .into_paginator()
        .send();
    while let Some(page) = pages.next().await {
        let page = page.map_err(|e| {
            RemoteError::new(source, format!("listing {prefix}: {}", api_error(&e)))
        })?;
        for p in page.common_prefixes() {
            if let Some(p) = p.prefix() {
                prefixes.push(p.to_string());
            }
        }
        for o in page.contents() {
            if let Some(k) = o.key() {
                out.push(Object {
                    key: k.to_string(),
                    size: o.size().unwrap_or(0),
                });
            }
        }
    }
    Ok(prefixes)
}

/// Lists the trail objects under `prefix` for the window, sorted by key.
pub async fn list(
    client: &Client,
    bucket: &str,
    prefix: &str,
    window: (Option<Micros>, Option<Micros>),
    now: Micros,
) -> (Vec<Object>, Vec<RemoteError>) {
    let source = format!("s3://{bucket}/{prefix}");
    // A day of margin: files are named by delivery, events by their time.
    let from = window.0.map(|s| day_of(s) - ChronoDuration::days(1));
    let to = day_of(window.1.unwrap_or(now)) + ChronoDuration::days(1);
    let mut out = Vec::new();
    // A prefix that cannot be listed (access denied on one account, say)
    // is reported and the others are still read.
    let mut failed = Vec::new();
    match from {
        None => {
            if let Err(e) = list_flat(client, bucket, prefix, &source, &mut out).await {
                failed.push(e);
            }
        }
        Some(from) => {
            let mut stack = vec![prefix.to_string()];
            while let Some(p) = stack.pop() {
                if is_region_level(&p) {
                    let mut day = from;
                    let last = to;
                    let mut days = 0;
                    while day <= last && days < 3700 {
                        let day_prefix = format!("{p}{}/", day.format("%Y/%m/%d"));
                        if let Err(e) =
                            list_flat(client, bucket, &day_prefix, &source, &mut out).await
                        {
                            failed.push(e);
                        }
                        day += ChronoDuration::days(1);
                        days += 1;
                    }
                } else if is_below_region_level(&p) {
                    // Below the region level already: list what is there.
                    if let Err(e) = list_flat(client, bucket, &p, &source, &mut out).await {
                        failed.push(e);
                    }
                } else {
                    match list_level(client, bucket, &p, &source, &mut out).await {
                        Ok(subs) => {
                            for sub in subs {
                                if skip_reason(std::path::Path::new(&sub)).is_none() {
                                    stack.push(sub);
                                }
                            }
                        }
                        Err(e) => failed.push(e),
                    }
                }
            }
        }
    }
    out.retain(|o| {
        skip_reason(std::path::Path::new(&o.key)).is_none()
            && !o.key.ends_with('/')
            && in_window(key_day(&o.key), from, Some(to))
    });
    out.sort_by(|a, b| a.key.cmp(&b.key));
    out.dedup();
    (out, failed)
}

/// Fetches objects concurrently, in order; each object succeeds or fails
/// on its own (after the SDK's retries).
pub async fn fetch(
    client: Client,
    bucket: String,
    objects: Vec<Object>,
) -> Vec<Result<Blob, RemoteError>> {
    let limit = Arc::new(Semaphore::new(CONCURRENCY));
    let mut tasks = Vec::with_capacity(objects.len());
    for o in objects {
        let (client, bucket, limit) = (client.clone(), bucket.clone(), limit.clone());
        tasks.push(tokio::spawn(async move {
            let _permit = limit
                .acquire()
                .await
                .map_err(|e| RemoteError::new("s3", e.to_string()))?;
            let display = format!("s3://{bucket}/{}", o.key);
            let resp = client
                .get_object()
                .bucket(&bucket)
                .key(&o.key)
                .send()
                .await
                .map_err(|e| RemoteError::new(&display, api_error(&e)))?;
            let body = resp.body.collect().await.map_err(|e| {
                RemoteError::new(&display, format!("reading the object: {}", sdk_error(&e)))
            })?;
            Ok::<Blob, RemoteError>(Blob {
                display,
                bytes: body.into_bytes().to_vec(),
            })
        }));
    }
    let mut blobs = Vec::with_capacity(tasks.len());
    for t in tasks {
        blobs.push(
            t.await
                .map_err(|e| RemoteError::new("s3", format!("a download task failed: {e}")))
                .and_then(|r| r),
        );
    }
    blobs
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn key_days_and_levels() {
        let k = "AWSLogs/o-abc/111111111111/CloudTrail/us-east-1/2025/05/14/111111111111_CloudTrail_us-east-1_20250514T1000Z_x.json.gz";
        assert_eq!(key_day(k), NaiveDate::from_ymd_opt(2025, 5, 14));
        assert_eq!(key_day("other/file.json"), None);
        assert!(is_region_level(
            "AWSLogs/111111111111/CloudTrail/eu-west-1/"
        ));
        assert!(!is_region_level("AWSLogs/111111111111/CloudTrail/"));
        assert!(!is_region_level(
            "AWSLogs/111111111111/CloudTrail-Digest/eu-west-1/"
        ));
        assert!(is_below_region_level(
            "AWSLogs/1/CloudTrail/eu-west-1/2025/"
        ));
        assert!(!is_below_region_level("AWSLogs/1/CloudTrail/eu-west-1/"));
        let d = NaiveDate::from_ymd_opt(2025, 5, 14);
        assert!(in_window(d, d, d));
        assert!(!in_window(d, NaiveDate::from_ymd_opt(2025, 5, 15), None));
    }
}
