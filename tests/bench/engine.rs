//! Criterion benchmarks of the per-record path and the joins, so that a
//! regression shows as a number:
//!
//!     cargo bench --bench engine
//!     cargo bench --bench engine -- parse     # one group
//!
//! - `parse`: one 8 MiB CloudTrail file (the sample logs' records, repeated
//!   with fresh ids and keys) read into rows, as JSON and gzipped.
//! - `join`: the claims join for a busy subject (one token every ten
//!   minutes for a month, an exchange for each), and the session join
//!   (keys to calls) over the parsed file.
//! - `detect`: the whole engine over the bundled sample logs.

use std::io::Write;

use criterion::{criterion_group, criterion_main, BatchSize, Criterion, Throughput};
use rolecall::correlate::{correlate, federation::match_claims};
use rolecall::ingest::{read_bytes, IngestOptions};
use rolecall::model::{Assumption, TokenClaims};
use serde_json::Value;

const TARGET_BYTES: usize = 8 << 20;

/// The sample logs' CloudTrail records, repeated with fresh event ids and
/// access keys until the file holds about 8 MiB.
fn cloudtrail_body() -> Vec<u8> {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("sample-logs/AWSLogs");
    let mut records: Vec<Value> = Vec::new();
    let mut stack = vec![root];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                if !path.to_string_lossy().contains("Digest")
                    && !path.to_string_lossy().contains("Insight")
                {
                    stack.push(path);
                }
            } else if path.to_string_lossy().ends_with(".json.gz") {
                let raw = std::fs::read(&path).unwrap();
                let mut text = String::new();
                std::io::Read::read_to_string(
                    &mut flate2::read::MultiGzDecoder::new(&raw[..]),
                    &mut text,
                )
                .unwrap();
                let doc: Value = serde_json::from_str(&text).unwrap();
                records.extend(doc["Records"].as_array().cloned().unwrap_or_default());
            }
        }
    }
    assert!(
        !records.is_empty(),
        "the sample logs hold CloudTrail records"
    );
    let mut out: Vec<Value> = Vec::new();
    let mut size = 0;
    let mut round = 0u32;
    while size < TARGET_BYTES {
        for r in &records {
            let mut r = r.clone();
            r["eventID"] = Value::from(format!("{round:08x}-0000-4000-8000-{:012x}", out.len()));
            let mutate = |key: &Value| {
                key.as_str()
                    .map(|k| format!("{}{round:04X}", &k[..k.len().min(16)]))
            };
            if let Some(k) = mutate(&r["userIdentity"]["accessKeyId"]) {
                r["userIdentity"]["accessKeyId"] = Value::from(k);
            }
            if let Some(k) = mutate(&r["responseElements"]["credentials"]["accessKeyId"]) {
                r["responseElements"]["credentials"]["accessKeyId"] = Value::from(k);
            }
            size += r.to_string().len() + 1;
            out.push(r);
        }
        round += 1;
    }
    serde_json::json!({ "Records": out })
        .to_string()
        .into_bytes()
}

fn gzip(bytes: &[u8]) -> Vec<u8> {
    let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::new(6));
    enc.write_all(bytes).unwrap();
    enc.finish().unwrap()
}

fn parse(c: &mut Criterion) {
    let body = cloudtrail_body();
    let gz = gzip(&body);
    let opts = IngestOptions {
        max_file_bytes: 1 << 30,
        ..Default::default()
    };
    let mut g = c.benchmark_group("parse");
    g.throughput(Throughput::Bytes(body.len() as u64));
    g.sample_size(20);
    g.bench_function("cloudtrail_json_8MiB", |b| {
        b.iter_batched(
            || body.clone(),
            |bytes| read_bytes("bench.json", bytes, 0, &opts),
            BatchSize::LargeInput,
        )
    });
    g.bench_function("cloudtrail_gzip_8MiB", |b| {
        b.iter_batched(
            || gz.clone(),
            |bytes| read_bytes("bench.json.gz", bytes, 0, &opts),
            BatchSize::LargeInput,
        )
    });
    g.finish();
}

fn join(c: &mut Criterion) {
    const GH: &str = "https://token.actions.githubusercontent.com";
    const SUB: &str = "repo:acme/web:environment:production";
    let tokens = 30 * 24 * 6;
    let claims: Vec<TokenClaims> = (0..tokens)
        .map(|k: i64| TokenClaims {
            issuer: GH.into(),
            subject: SUB.into(),
            audiences: vec!["sts.amazonaws.com".into()],
            jti: Some(format!("jti-{k}")),
            iat: Some(k * 600_000_000),
            exp: Some(k * 600_000_000 + 300_000_000),
            run_id: Some(format!("{}", 9_000_000 + k)),
            ..Default::default()
        })
        .collect();
    let exchanges: Vec<Assumption> = (0..tokens)
        .map(|k: i64| Assumption {
            time: Some(k * 600_000_000 + 5_000_000),
            issuer: Some(GH.into()),
            subject: Some(SUB.into()),
            audience: Some("sts.amazonaws.com".into()),
            role_session_name: Some(format!("gh-{}", 9_000_000 + k)),
            ..Default::default()
        })
        .collect();
    let mut g = c.benchmark_group("join");
    g.throughput(Throughput::Elements(exchanges.len() as u64));
    g.bench_function("claims_busy_subject_4320_tokens", |b| {
        b.iter(|| match_claims(&exchanges, &claims, 60_000_000))
    });
    let opts = IngestOptions {
        max_file_bytes: 1 << 30,
        ..Default::default()
    };
    let batch = read_bytes("bench.json", cloudtrail_body(), 0, &opts);
    g.throughput(Throughput::Elements(batch.events.len() as u64));
    g.bench_function("sessions_keys_to_calls_8MiB", |b| {
        b.iter(|| {
            correlate(
                &batch.events,
                &batch.assumptions,
                &batch.claims,
                &batch.jobs,
                60_000_000,
            )
        })
    });
    g.finish();
}

fn detect(c: &mut Criterion) {
    let logs = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("sample-logs");
    let policy =
        rolecall::policy::Policy::load(&logs.join("rolecall.toml").to_string_lossy()).unwrap();
    let cfg = rolecall::pipeline::Config {
        sources: vec![logs.to_string_lossy().to_string()],
        policy,
        ingest: IngestOptions {
            max_file_bytes: 1 << 30,
            elide_unrelated_events: true,
            ..Default::default()
        },
        rules: None,
        queries: rolecall::detect::sql::builtin_queries(),
        allow_partial: false,
        ..Default::default()
    };
    let mut g = c.benchmark_group("detect");
    g.sample_size(20);
    g.bench_function("engine_over_sample_logs", |b| {
        b.iter(|| rolecall::pipeline::run(&cfg).unwrap())
    });
    g.finish();
}

criterion_group!(benches, parse, join, detect);
criterion_main!(benches);
