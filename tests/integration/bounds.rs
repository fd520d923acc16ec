//! The bounds the README promises, each checked so that a change that
//! breaks one fails here: memory per file (a file several times larger
//! than the whole-read limit is streamed, not held), memory for the
//! bad-input corpus as a whole, and the time to refuse a gzip bomb.
//!
//! These run the real binary as a child process and read its peak
//! resident set from `wait4`, so nothing else in the test process counts.
//! They are bounds, not measurements: the numbers quoted in the README
//! come from `tests/bench/bounds.sh` on a release build.

use std::io::Write;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use flate2::write::GzEncoder;
use flate2::Compression;
use serde_json::{json, Value};

const MIB: u64 = 1 << 20;

/// Runs the binary to the end; returns its exit code, stdout, stderr,
/// peak resident set in bytes, and wall time. The peak is the binary's own
/// (`ROLECALL_TIMINGS` makes it print `VmHWM` as it exits): the `wait4`
/// figure would count this test process, from which it was started.
fn run_measured(args: &[&str]) -> (i32, String, String, u64, Duration) {
    let start = Instant::now();
    let o = Command::new(env!("CARGO_BIN_EXE_rolecall"))
        .args(args)
        .env("ROLECALL_TIMINGS", "1")
        .stdin(Stdio::null())
        .output()
        .expect("the binary runs");
    let wall = start.elapsed();
    let err = String::from_utf8_lossy(&o.stderr).into_owned();
    let peak = err
        .lines()
        .find_map(|l| l.strip_prefix("rolecall: peak resident memory: "))
        .and_then(|l| l.trim_end_matches(" bytes").parse().ok())
        .expect("the binary says its peak memory");
    (
        o.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&o.stdout).into_owned(),
        err,
        peak,
        wall,
    )
}

fn event(id: &str, key: &str) -> Value {
    json!({
        "eventVersion": "1.08",
        "userIdentity": {"type": "IAMUser", "accessKeyId": key, "arn": "arn:aws:iam::111111111111:user/ci",
            "principalId": "AIDAEXAMPLE", "accountId": "111111111111", "userName": "ci"},
        "eventTime": "2025-05-14T10:00:00Z", "eventSource": "s3.amazonaws.com", "eventName": "GetObject",
        "awsRegion": "us-east-1", "sourceIPAddress": "20.1.2.3",
        "userAgent": "aws-sdk-go-v2/1.30.3 os/linux lang/go#1.22.5 md/GOOS#linux md/GOARCH#amd64 api/s3#1.58.3",
        "eventID": id, "readOnly": true, "recipientAccountId": "111111111111",
        "requestParameters": {"bucketName": "acme-artifacts", "key": "builds/2025/05/14/web-1.2.3.tar.gz",
            "Host": "acme-artifacts.s3.us-east-1.amazonaws.com"},
        "responseElements": null, "managementEvent": false, "eventCategory": "Data",
        "tlsDetails": {"tlsVersion": "TLSv1.3", "cipherSuite": "TLS_AES_128_GCM_SHA256",
            "clientProvidedHostHeader": "acme-artifacts.s3.us-east-1.amazonaws.com"}
    })
}

/// Writes a `{"Records":[...]}` file of about `bytes` bytes, record by
/// record. The calls are made with a long-term key, so a scan keeps
/// nothing of them: what the run holds is what reading costs.
fn write_records(path: &Path, bytes: u64) -> u64 {
    let mut f = std::io::BufWriter::with_capacity(1 << 20, std::fs::File::create(path).unwrap());
    f.write_all(b"{\"Records\":[").unwrap();
    let mut written = 12u64;
    let mut i = 0u64;
    while written < bytes {
        let r = event(&format!("e-{i:012}"), "AKIAIOSFODNN7EXAMPLE").to_string();
        if i > 0 {
            f.write_all(b",").unwrap();
            written += 1;
        }
        f.write_all(r.as_bytes()).unwrap();
        written += r.len() as u64;
        i += 1;
    }
    f.write_all(b"]}").unwrap();
    i
}

/// A gzip file that inflates to `members` MiB of zeros in about a KiB a
/// MiB: the shape of a decompression bomb.
fn bomb(path: &Path, members: usize) {
    let mut e = GzEncoder::new(Vec::new(), Compression::best());
    e.write_all(&vec![0u8; MIB as usize]).unwrap();
    let member = e.finish().unwrap();
    let mut f = std::io::BufWriter::new(std::fs::File::create(path).unwrap());
    for _ in 0..members {
        f.write_all(&member).unwrap();
    }
}

/// The binary's peak on an input of one tiny file: the memory it takes
/// to start at all (its own pages, the allocator, polars), which the
/// bounds below are measured above.
fn baseline() -> u64 {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("tiny.json");
    std::fs::write(
        &p,
        json!({"Records": [event("tiny", "AKIAIOSFODNN7EXAMPLE")]}).to_string(),
    )
    .unwrap();
    let p = p.to_string_lossy().to_string();
    let (code, _, err, peak, _) = run_measured(&[
        "--threads",
        "2",
        "scan",
        &p,
        "--format",
        "json",
        "--fail-on",
        "never",
    ]);
    assert_eq!(code, 0, "{err}");
    peak
}

fn summary(out: &str) -> Value {
    serde_json::from_str::<Value>(out).expect("the scan prints its JSON document")["summary"]
        .clone()
}

// A file five times the whole-read limit (64 MiB) is streamed: the scan's
// peak stays far below the file's size, so memory does not grow with the
// file. (tests/bench/bounds.sh measures the README's 1 GiB case.)
#[test]
fn a_large_records_file_is_read_in_bounded_memory() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("big.json");
    let records = write_records(&path, 320 * MIB);
    let size = std::fs::metadata(&path).unwrap().len();
    let p = path.to_string_lossy().to_string();
    let (code, out, err, peak, _) = run_measured(&[
        "--threads",
        "2",
        "scan",
        &p,
        "--format",
        "json",
        "--fail-on",
        "never",
    ]);
    assert_eq!(code, 0, "{err}");
    let s = summary(&out);
    assert_eq!(s["inputs"]["records"], records, "every record was read");
    assert_eq!(s["input_error_count"], 0, "{err}");
    let base = baseline();
    eprintln!(
        "{size} bytes, {records} records: peak {} MiB, {} MiB above the {} MiB a tiny input takes",
        peak / MIB,
        peak.saturating_sub(base) / MIB,
        base / MIB
    );
    assert!(
        peak.saturating_sub(base) < 64 * MIB,
        "a {} MiB file took {} MiB above the baseline: it was held, not streamed",
        size / MIB,
        peak.saturating_sub(base) / MIB
    );
}

// The bad-input corpus at once, two threads: every file is read in
// bounded memory, and the bomb is refused at once.
#[test]
fn the_bad_input_corpus_stays_under_512_mib_and_the_bomb_is_refused_in_seconds() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    // 4 GiB of zeros in 4 MiB.
    bomb(&d.join("bomb.json.gz"), 4096);
    // A 64 MB line between ordinary ones.
    {
        let mut f =
            std::io::BufWriter::new(std::fs::File::create(d.join("long-line.ndjson")).unwrap());
        let mut huge = event("huge", "ASIAEXAMPLEKEY000001");
        huge["userAgent"] = json!("A".repeat(64 << 20));
        writeln!(f, "{}", event("before", "ASIAEXAMPLEKEY000001")).unwrap();
        writeln!(f, "{huge}").unwrap();
        writeln!(f, "{}", event("after", "ASIAEXAMPLEKEY000001")).unwrap();
    }
    // Nesting 10,000 deep, and the same inside a record array.
    std::fs::write(
        d.join("deep.json"),
        "[".repeat(10_000) + &"]".repeat(10_000),
    )
    .unwrap();
    std::fs::write(
        d.join("deep-record.json"),
        format!(
            "{{\"Records\":[{}{}]}}",
            "{\"a\":".repeat(10_000),
            "1".to_string() + &"}".repeat(10_000)
        ),
    )
    .unwrap();
    // A truncated gzip of a large trail.
    {
        let big = d.join("big.tmp");
        write_records(&big, 96 * MIB);
        let raw = std::fs::read(&big).unwrap();
        std::fs::remove_file(&big).unwrap();
        let mut e = GzEncoder::new(Vec::new(), Compression::fast());
        e.write_all(&raw).unwrap();
        let gz = e.finish().unwrap();
        std::fs::write(d.join("truncated.json.gz"), &gz[..gz.len() / 2]).unwrap();
    }
    // Invalid UTF-8 and NUL bytes.
    let mut bad = format!("{}\n", event("utf8", "ASIAEXAMPLEKEY000001")).into_bytes();
    bad.extend(b"{\"eventVersion\": \"1.08\", \"x\": \"\xff\xfe\x00\"}\n");
    std::fs::write(d.join("bytes.ndjson"), bad).unwrap();
    // A credential report's header, then 1 GiB of spaces (gzip members
    // of 1 MiB): a report is read whole, so it is refused at the size a
    // file is read whole at, not at --max-file-bytes.
    {
        let mut e = GzEncoder::new(Vec::new(), Compression::best());
        e.write_all(b"user,arn,user_creation_time,password_enabled\n")
            .unwrap();
        let head = e.finish().unwrap();
        let mut e = GzEncoder::new(Vec::new(), Compression::best());
        e.write_all(&vec![b' '; MIB as usize]).unwrap();
        let member = e.finish().unwrap();
        let mut f = std::io::BufWriter::new(
            std::fs::File::create(d.join("credential-report.csv.gz")).unwrap(),
        );
        f.write_all(&head).unwrap();
        for _ in 0..1024 {
            f.write_all(&member).unwrap();
        }
    }
    // And a good file, which must come through.
    std::fs::write(
        d.join("good.json"),
        json!({"Records": [event("good-1", "ASIAEXAMPLEKEY000001")]}).to_string(),
    )
    .unwrap();

    let dir_arg = d.to_string_lossy().to_string();
    let (code, out, err, peak, wall) = run_measured(&[
        "--threads",
        "2",
        "scan",
        &dir_arg,
        "--format",
        "json",
        "--fail-on",
        "never",
    ]);
    assert_eq!(code, 0, "{err}");
    let s = summary(&out);
    let errors: Vec<String> = s["input_errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| format!("{} {}", e["path"], e["reason"]))
        .collect();
    assert!(
        errors.iter().any(|e| e.contains("bomb.json.gz")),
        "the bomb is refused: {errors:?}"
    );
    assert!(
        errors
            .iter()
            .any(|e| e.contains("truncated.json.gz") && e.contains("truncated or corrupt")),
        "{errors:?}"
    );
    assert!(
        errors
            .iter()
            .any(|e| e.contains("credential-report.csv.gz") && e.contains("credential report")),
        "{errors:?}"
    );
    assert!(s["inputs"]["records"].as_u64().unwrap() > 4, "{s}");
    eprintln!("bad-input corpus: peak {} MiB in {wall:?}", peak / MIB);
    assert!(
        peak < 512 * MIB,
        "the bad-input corpus took {} MiB with 2 threads",
        peak / MIB
    );

    // The bomb alone, refused in seconds (the cap is the default 2 GiB).
    let bomb_path = d.join("bomb.json.gz").to_string_lossy().to_string();
    let (_, out, _, peak, wall) =
        run_measured(&["scan", &bomb_path, "--format", "json", "--fail-on", "never"]);
    let s = summary(&out);
    assert_eq!(s["input_error_count"], 1, "{s}");
    let above = peak.saturating_sub(baseline());
    eprintln!(
        "bomb: refused in {wall:?}, {} MiB above the baseline",
        above / MIB
    );
    assert!(above < 96 * MIB, "the bomb took {} MiB", above / MIB);
    assert!(
        wall < Duration::from_secs(5),
        "the bomb took {wall:?} to refuse"
    );
}
