//! Reading logs where they live: CloudTrail trails straight from S3
//! (`s3://BUCKET/PREFIX`), LookupEvents for quick triage
//! (`cloudtrail://REGION[,REGION...]`), and CloudTrail Lake
//! (`cloudtrail-lake://EVENT_DATA_STORE`).
//!
//! Everything fetched becomes bytes that go through the same sniffing and
//! parsing as files. Credentials and region come from the standard AWS chain
//! (environment, profiles, SSO, instance roles); `--endpoint-url` (or
//! `AWS_ENDPOINT_URL`) points at a private endpoint or a test server. An API
//! failure, after the retries that make sense, is a [`RemoteError`]: the
//! run stops with exit 2 rather than report "clean" on partial data.

pub mod lake;
pub mod lookup;
pub mod s3;

use std::time::Duration;

use aws_config::retry::RetryConfig;
use aws_config::{BehaviorVersion, Region, SdkConfig};

use crate::model::time::Micros;

/// A source that is read through an API.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Remote {
    S3 { bucket: String, prefix: String },
    LookupEvents { regions: Vec<String> },
    Lake { store: String },
}

impl Remote {
    pub fn display(&self) -> String {
        match self {
            Remote::S3 { bucket, prefix } => format!("s3://{bucket}/{prefix}"),
            Remote::LookupEvents { regions } => format!("cloudtrail://{}", regions.join(",")),
            Remote::Lake { store } => format!("cloudtrail-lake://{store}"),
        }
    }
}

/// Parses a source URL; `None` when the source is a local path.
pub fn parse_source(s: &str) -> Option<Result<Remote, String>> {
    let (scheme, rest) = s.split_once("://")?;
    Some(match scheme {
        "s3" => {
            let (bucket, prefix) = rest.split_once('/').unwrap_or((rest, ""));
            if bucket.is_empty() {
                Err(format!("{s}: no bucket (use s3://BUCKET/PREFIX)"))
            } else {
                Ok(Remote::S3 {
                    bucket: bucket.to_string(),
                    prefix: prefix.to_string(),
                })
            }
        }
        "cloudtrail" => {
            let regions: Vec<String> = rest
                .trim_end_matches('/')
                .split(',')
                .map(str::trim)
                .filter(|r| !r.is_empty())
                .map(str::to_string)
                .collect();
            if regions.is_empty()
                || regions.iter().any(|r| {
                    !r.bytes()
                        .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
                })
            {
                Err(format!(
                    "{s}: expected cloudtrail://REGION[,REGION...], e.g. cloudtrail://us-east-1,eu-west-1"
                ))
            } else {
                Ok(Remote::LookupEvents { regions })
            }
        }
        "cloudtrail-lake" => {
            let store = rest.trim_end_matches('/');
            if store.is_empty() {
                Err(format!(
                    "{s}: expected cloudtrail-lake://EVENT_DATA_STORE_ID (or its ARN)"
                ))
            } else {
                Ok(Remote::Lake {
                    store: store.to_string(),
                })
            }
        }
        other => Err(format!(
            "{s}: unknown source scheme `{other}://` (use s3://, cloudtrail:// or cloudtrail-lake://)"
        )),
    })
}

/// How to reach AWS.
#[derive(Debug, Clone, Default)]
pub struct RemoteOptions {
    pub endpoint_url: Option<String>,
    pub region: Option<String>,
    /// Show progress on stderr (when it is a terminal).
    pub progress: bool,
}

/// An API failure: which source, which call, why.
#[derive(Debug, thiserror::Error)]
#[error("{source_name}: {reason}")]
pub struct RemoteError {
    pub source_name: String,
    pub reason: String,
}

impl RemoteError {
    pub fn new(source_name: impl Into<String>, reason: impl Into<String>) -> Self {
        RemoteError {
            source_name: source_name.into(),
            reason: reason.into(),
        }
    }
}

/// Bytes fetched from a remote source, named for reports.
pub struct Blob {
    pub display: String,
    pub bytes: Vec<u8>,
}

/// Everything a remote source gave.
#[derive(Default)]
pub struct Fetched {
    pub blobs: Vec<Blob>,
    /// What the user should know about the fetch (the 90-day window...).
    pub notes: Vec<String>,
    /// Parts of the source that could not be read.
    pub failed: Vec<RemoteError>,
}

/// The SDK configuration: the standard chain, the endpoint override, and
/// retries generous enough for throttled APIs.
pub async fn sdk_config(opts: &RemoteOptions) -> SdkConfig {
    let mut loader = aws_config::defaults(BehaviorVersion::latest()).retry_config(
        RetryConfig::standard()
            .with_max_attempts(8)
            .with_initial_backoff(Duration::from_millis(250))
            .with_max_backoff(Duration::from_secs(20)),
    );
    if let Some(url) = &opts.endpoint_url {
        loader = loader.endpoint_url(url);
    }
    if let Some(r) = &opts.region {
        loader = loader.region(Region::new(r.clone()));
    }
    loader.load().await
}

/// A runtime for the SDK's async calls; parsing stays on rayon.
pub fn runtime() -> Result<tokio::runtime::Runtime, RemoteError> {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .map_err(|e| RemoteError::new("aws", format!("cannot start the I/O runtime: {e}")))
}

/// The full text of an SDK error, cause chain included.
/// An API call's failure as the user needs it: the service's error code and
/// message when it sent them (`AccessDenied: ...`), else the error chain
/// (timeouts, connection failures).
pub fn api_error<E>(e: &E) -> String
where
    E: std::error::Error + aws_sdk_s3::error::ProvideErrorMetadata,
{
    match (e.code(), e.message()) {
        (Some(code), Some(message)) => format!("{code}: {message}"),
        (Some(code), None) => code.to_string(),
        _ => sdk_error(e),
    }
}

/// An error and its sources, joined.
pub fn sdk_error<E: std::error::Error>(e: &E) -> String {
    let mut text = e.to_string();
    let mut cur = e.source();
    while let Some(c) = cur {
        let s = c.to_string();
        if !text.contains(&s) {
            text.push_str(": ");
            text.push_str(&s);
        }
        cur = c.source();
    }
    text
}

/// Prints progress on one stderr line when asked to.
pub struct Progress {
    on: bool,
    label: String,
}

impl Progress {
    pub fn new(on: bool, label: impl Into<String>) -> Self {
        Progress {
            on,
            label: label.into(),
        }
    }

    pub fn update(&self, done: usize, total: usize, bytes: u64) {
        if self.on {
            eprint!(
                "\r{}: {done}/{total} objects, {} MiB   ",
                self.label,
                bytes >> 20
            );
        }
    }

    pub fn finish(&self) {
        if self.on {
            eprintln!();
        }
    }
}

/// `--since`/`--until` for APIs that need both ends.
pub fn window_or_default(
    since: Option<Micros>,
    until: Option<Micros>,
    now: Micros,
    default_days: i64,
) -> (Micros, Micros) {
    let until = until.unwrap_or(now);
    let since = since.unwrap_or(until - default_days * 86_400 * 1_000_000);
    (since, until)
}

/// Remote sources, one after another.
pub(crate) fn read_all(
    remotes: &[Remote],
    opts: &super::IngestOptions,
    files: &mut Vec<String>,
    batch: &mut super::Batch,
) -> Result<(), RemoteError> {
    let rt = runtime()?;
    let conf = rt.block_on(sdk_config(&opts.remote));
    let now = chrono::Utc::now().timestamp_micros();
    for r in remotes {
        match r {
            Remote::S3 { bucket, prefix } => {
                let mut s3conf = aws_sdk_s3::config::Builder::from(&conf);
                if opts.remote.endpoint_url.is_some() {
                    // Local S3 servers and most private endpoints want paths.
                    s3conf = s3conf.force_path_style(true);
                }
                let client = aws_sdk_s3::Client::from_conf(s3conf.build());
                let (objects, failed) = rt.block_on(s3::list(
                    &client,
                    bucket,
                    prefix,
                    (opts.since, opts.until),
                    now,
                ));
                batch.unread.extend(failed);
                let total = objects.len();
                let progress = Progress::new(opts.remote.progress, r.display());
                let mut chunks = objects.chunks(s3::CHUNK).map(|c| c.to_vec());
                let mut next = chunks
                    .next()
                    .map(|c| rt.spawn(s3::fetch(client.clone(), bucket.clone(), c)));
                let (mut done, mut bytes) = (0, 0u64);
                while let Some(handle) = next.take() {
                    let results = match rt.block_on(handle) {
                        Ok(results) => results,
                        Err(e) => vec![Err(RemoteError::new(
                            r.display(),
                            format!("a download task failed: {e}"),
                        ))],
                    };
                    // The next chunk downloads while this one is parsed.
                    next = chunks
                        .next()
                        .map(|c| rt.spawn(s3::fetch(client.clone(), bucket.clone(), c)));
                    let mut blobs = Vec::with_capacity(results.len());
                    for result in results {
                        match result {
                            Ok(b) => blobs.push(b),
                            Err(e) => batch.unread.push(e),
                        }
                    }
                    done += blobs.len();
                    bytes += blobs.iter().map(|b| b.bytes.len() as u64).sum::<u64>();
                    super::read_blobs(blobs, opts, files, batch);
                    progress.update(done, total, bytes);
                }
                progress.finish();
            }
            Remote::LookupEvents { regions } => {
                let window = window_or_default(opts.since, opts.until, now, lookup::RETENTION_DAYS);
                match rt.block_on(lookup::fetch(&conf, regions, window, now)) {
                    Ok(fetched) => {
                        batch.notes.extend(fetched.notes);
                        batch.unread.extend(fetched.failed);
                        super::read_blobs(fetched.blobs, opts, files, batch);
                    }
                    Err(e) => batch.unread.push(e),
                }
            }
            Remote::Lake { store } => {
                let window = window_or_default(opts.since, opts.until, now, 7);
                if opts.since.is_none() {
                    batch.notes.push(
                        "cloudtrail-lake:// without --since reads the last 7 days (Lake bills by data scanned)".into(),
                    );
                }
                match rt.block_on(lake::fetch(&conf, store, window)) {
                    Ok(fetched) => super::read_blobs(fetched.blobs, opts, files, batch),
                    Err(e) => batch.unread.push(e),
                }
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn source_urls() {
        assert_eq!(parse_source("./logs"), None);
        assert_eq!(
            parse_source("s3://trail/AWSLogs/o-1/").unwrap().unwrap(),
            Remote::S3 {
                bucket: "trail".into(),
                prefix: "AWSLogs/o-1/".into()
            }
        );
        assert_eq!(
            parse_source("cloudtrail://us-east-1,eu-west-1")
                .unwrap()
                .unwrap(),
            Remote::LookupEvents {
                regions: vec!["us-east-1".into(), "eu-west-1".into()]
            }
        );
        assert!(parse_source("cloudtrail://").unwrap().is_err());
        assert!(parse_source("cloudtrail://US_EAST").unwrap().is_err());
        assert!(parse_source("s3:///x").unwrap().is_err());
        assert!(parse_source("gs://bucket")
            .unwrap()
            .unwrap_err()
            .contains("unknown source scheme"));
        assert_eq!(
            parse_source("cloudtrail-lake://eds-123").unwrap().unwrap(),
            Remote::Lake {
                store: "eds-123".into()
            }
        );
    }
}
