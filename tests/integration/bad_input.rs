//! The bad-input corpus: each case with its asserted outcome (the README's
//! "What rolecall does with bad input" lists the same). Every case also
//! reads one good file beside the bad one, which must come through intact.

use std::io::Write;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use flate2::write::GzEncoder;
use flate2::Compression;
use rolecall::ingest::{ingest, Batch, IngestOptions};
use serde_json::{json, Value};

use crate::common::{stderr, stdout, Gh, Scenario};

fn event(id: &str) -> Value {
    json!({
        "eventVersion": "1.08",
        "userIdentity": {"type": "AssumedRole", "accessKeyId": "ASIAKEY", "arn": "arn:aws:sts::1:assumed-role/r/s"},
        "eventTime": "2025-05-14T10:00:00Z", "eventSource": "s3.amazonaws.com", "eventName": "GetObject",
        "awsRegion": "us-east-1", "sourceIPAddress": "20.1.2.3", "userAgent": "ua", "eventID": id,
        "readOnly": true, "recipientAccountId": "111111111111",
        "requestParameters": {"bucketName": "b"}, "responseElements": null
    })
}

fn gz(data: &[u8]) -> Vec<u8> {
    let mut e = GzEncoder::new(Vec::new(), Compression::fast());
    e.write_all(data).unwrap();
    e.finish().unwrap()
}

struct Dir(tempfile::TempDir);

impl Dir {
    fn new() -> Dir {
        let d = Dir(tempfile::tempdir().unwrap());
        // The good file every case reads beside its bad one.
        d.put(
            "good.json",
            json!({"Records": [event("good-1"), event("good-2")]}).to_string(),
        );
        d
    }

    fn put(&self, name: &str, data: impl AsRef<[u8]>) -> String {
        let p = self.0.path().join(name);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(&p, data).unwrap();
        p.to_string_lossy().to_string()
    }

    fn path(&self) -> &Path {
        self.0.path()
    }

    fn read(&self, opts: &IngestOptions) -> Batch {
        ingest(&[self.path().to_string_lossy().to_string()], opts)
            .unwrap()
            .batch
    }
}

fn ids(b: &Batch) -> Vec<String> {
    (0..b.events.len())
        .filter_map(|i| b.events.event_id_of(i).map(str::to_string))
        .collect()
}

fn errors(b: &Batch) -> Vec<String> {
    b.errors.iter().map(|e| e.to_string()).collect()
}

fn assert_good_intact(b: &Batch) {
    let ids = ids(b);
    assert!(
        ids.contains(&"good-1".to_string()) && ids.contains(&"good-2".to_string()),
        "the good file was read: {ids:?}"
    );
}

#[test]
fn concatenated_gzip_members_are_read_whole() {
    let d = Dir::new();
    let mut bytes = gz(format!("{}\n", event("m1")).as_bytes());
    bytes.extend(gz(format!("{}\n", event("m2")).as_bytes()));
    d.put("members.ndjson.gz", bytes);
    let b = d.read(&IngestOptions::default());
    assert_good_intact(&b);
    let ids = ids(&b);
    assert!(
        ids.contains(&"m1".into()) && ids.contains(&"m2".into()),
        "{ids:?}"
    );
    assert!(b.errors.is_empty(), "{:?}", errors(&b));
}

#[test]
fn a_gzip_bomb_is_refused_at_the_cap_with_the_cap_named() {
    let d = Dir::new();
    // 64 MiB of zeros in about 64 KiB: no log starts with a NUL, so it is
    // refused at its first bytes, without being inflated further.
    d.put("zeros.json.gz", gz(&vec![0u8; 64 << 20]));
    // A bomb that looks like a trail: what follows `[` is 64 MiB of
    // spaces, which only the cap stops.
    let mut spaces = b"{\"Records\":[".to_vec();
    spaces.extend(vec![b' '; 64 << 20]);
    d.put("bomb.json.gz", gz(&spaces));
    let opts = IngestOptions {
        max_file_bytes: 8 << 20,
        ..IngestOptions::default()
    };
    let b = d.read(&opts);
    assert_good_intact(&b);
    let e = errors(&b);
    assert!(
        e.iter()
            .any(|m| m.contains("bomb.json.gz") && m.contains("8388608")),
        "the error names the file and the cap: {e:?}"
    );
    assert!(
        e.iter()
            .any(|m| m.contains("zeros.json.gz") && m.contains("not a recognized log")),
        "{e:?}"
    );
}

#[test]
fn nul_bytes_cost_only_their_record() {
    let d = Dir::new();
    let mut nul = format!("{}\n", event("before")).into_bytes();
    nul.extend(b"{\"eventVersion\":\"1.08\",\x00\x00\x00}\n");
    nul.extend(format!("{}\n", event("after")).as_bytes());
    d.put("nul.ndjson", &nul);
    d.put("allnul.json", vec![0u8; 4096]);
    let mut in_string = event("nul-in-string");
    in_string["userAgent"] = json!("a\u{0}b");
    d.put("instring.ndjson", format!("{in_string}\n"));
    let b = d.read(&IngestOptions::default());
    assert_good_intact(&b);
    let ids = ids(&b);
    for id in ["before", "after", "nul-in-string"] {
        assert!(ids.contains(&id.to_string()), "{id} read: {ids:?}");
    }
    let e = errors(&b);
    assert!(e.iter().any(|m| m.contains("nul.ndjson: line 2")), "{e:?}");
    assert!(e.iter().any(|m| m.contains("allnul.json")), "{e:?}");
}

#[test]
fn a_single_200_mb_line_is_read_within_bounds() {
    let d = Dir::new();
    let mut huge = event("huge");
    huge["userAgent"] = json!("A".repeat(200 << 20));
    let path = d.path().join("huge.ndjson");
    {
        let mut f = std::io::BufWriter::new(std::fs::File::create(&path).unwrap());
        serde_json::to_writer(&mut f, &huge).unwrap();
        writeln!(f).unwrap();
        writeln!(f, "{}", event("after-huge")).unwrap();
    }
    drop(huge);
    let start = Instant::now();
    let b = d.read(&IngestOptions::default());
    assert_good_intact(&b);
    let ids = ids(&b);
    assert!(
        ids.contains(&"huge".to_string()) && ids.contains(&"after-huge".to_string()),
        "{ids:?}"
    );
    assert!(start.elapsed() < Duration::from_secs(120), "bounded time");
}

#[test]
fn every_envelope_field_with_the_wrong_type_costs_one_record() {
    let fields = [
        "eventVersion",
        "userIdentity",
        "eventTime",
        "eventSource",
        "eventName",
        "awsRegion",
        "sourceIPAddress",
        "userAgent",
        "requestParameters",
        "responseElements",
        "eventID",
        "readOnly",
        "errorCode",
        "recipientAccountId",
        "additionalEventData",
        "sessionCredentialFromConsole",
    ];
    let wrong = [
        json!(5),
        json!(["x"]),
        json!({"a": 1}),
        json!(true),
        json!(-1.5e300),
        json!(""),
    ];
    let d = Dir::new();
    let mut expected_good = Vec::new();
    for (i, field) in fields.iter().enumerate() {
        let mut records = Vec::new();
        for (j, w) in wrong.iter().enumerate() {
            let mut bad = event(&format!("bad-{i}-{j}"));
            bad[*field] = w.clone();
            records.push(bad);
        }
        let ok = format!("ok-{i}");
        records.push(event(&ok));
        expected_good.push(ok);
        d.put(
            &format!("wrong-{field}.json"),
            json!({"Records": records}).to_string(),
        );
    }
    let b = d.read(&IngestOptions::default());
    assert_good_intact(&b);
    let ids = ids(&b);
    for ok in &expected_good {
        assert!(
            ids.contains(ok),
            "{ok}: the record after the bad ones was read"
        );
    }
    for e in &b.errors {
        let text = e.to_string();
        assert!(
            text.contains("wrong-") && (text.contains("record ") || text.contains("line ")),
            "names file and record: {text}"
        );
    }
}

#[test]
fn symlink_loops_fifos_and_unreadable_files_in_a_walk() {
    let d = Dir::new();
    let sub = d.path().join("sub");
    std::fs::create_dir(&sub).unwrap();
    std::os::unix::fs::symlink(d.path(), sub.join("loop")).unwrap();
    std::os::unix::fs::symlink("/proc/self/mem", d.path().join("unreadable.json")).unwrap();
    let fifo = d.path().join("pipe.json");
    assert!(Command::new("mkfifo")
        .arg(&fifo)
        .status()
        .unwrap()
        .success());
    let b = d.read(&IngestOptions::default());
    assert_good_intact(&b);
    assert_eq!(
        ids(&b).len(),
        2,
        "the loop does not read the good file twice"
    );
    let skipped: Vec<String> = b
        .skipped_files
        .iter()
        .map(|s| format!("{}: {}", s.path, s.reason))
        .collect();
    assert!(
        skipped.iter().any(|s| s.contains("pipe.json")),
        "the FIFO in a walk is skipped: {skipped:?}"
    );
    let e = errors(&b);
    assert!(
        e.iter().any(|m| m.contains("unreadable.json"))
            || skipped.iter().any(|s| s.contains("unreadable.json")),
        "an unreadable file is named: {e:?} {skipped:?}"
    );

    // Named explicitly, a FIFO is read (process substitution works).
    let writer = {
        let fifo = fifo.clone();
        std::thread::spawn(move || {
            let mut f = std::fs::OpenOptions::new().write(true).open(&fifo).unwrap();
            writeln!(f, "{}", event("from-fifo")).unwrap();
        })
    };
    let b = ingest(
        &[fifo.to_string_lossy().to_string()],
        &IngestOptions::default(),
    )
    .unwrap()
    .batch;
    writer.join().unwrap();
    assert_eq!(ids(&b), vec!["from-fifo"]);

    // A read that fails with an I/O error is an error naming the file
    // (reading /proc/self/mem at its start fails, for root too).
    if Path::new("/proc/self/mem").exists() {
        let b = ingest(&["/proc/self/mem".to_string()], &IngestOptions::default())
            .unwrap()
            .batch;
        let e = errors(&b);
        assert!(
            e.iter()
                .any(|m| m.starts_with("/proc/self/mem: cannot read")),
            "{e:?}"
        );
    }
    // Without root, a file without read permission is an error naming it.
    if unsafe_is_root() {
        eprintln!(
            "skipped: as root every file is readable, so the permission case is not checked here (the I/O error case above is)"
        );
        return;
    }
    use std::os::unix::fs::PermissionsExt;
    let locked = d.put("locked.json", json!({"Records": [event("x")]}).to_string());
    std::fs::set_permissions(&locked, std::fs::Permissions::from_mode(0o000)).unwrap();
    let b = ingest(std::slice::from_ref(&locked), &IngestOptions::default())
        .unwrap()
        .batch;
    assert!(
        errors(&b).iter().any(|m| m.contains("locked.json")),
        "{:?}",
        errors(&b)
    );
}

fn unsafe_is_root() -> bool {
    std::fs::read_to_string("/proc/self/status")
        .map(|s| {
            s.lines()
                .any(|l| l.starts_with("Uid:") && l.split_whitespace().nth(1) == Some("0"))
        })
        .unwrap_or(false)
}

// --- resource bounds and stopping -----------------------------------------

#[test]
fn max_memory_stops_with_a_clear_error_instead_of_being_killed() {
    let o = crate::common::rolecall(&[
        "scan",
        &crate::common::repo_path("sample-logs"),
        "--max-memory",
        "1M",
        "--format",
        "json",
    ]);
    assert_eq!(o.status.code(), Some(2));
    let err = stderr(&o);
    assert!(err.contains("over --max-memory 1048576"), "{err}");
    assert!(stdout(&o).is_empty(), "no partial output");
    let o = crate::common::rolecall(&["scan", "x", "--max-memory", "lots"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("not a size"), "{}", stderr(&o));
}

#[test]
fn ctrl_c_stops_a_scan_promptly_with_130() {
    // Enough files that the scan is still reading when the signal comes.
    let d = tempfile::tempdir().unwrap();
    let records: Vec<Value> = (0..200).map(|i| event(&format!("e{i}"))).collect();
    let body = json!({"Records": records}).to_string();
    for i in 0..3000 {
        std::fs::write(d.path().join(format!("f{i:05}.json")), &body).unwrap();
    }
    let mut child = Command::new(env!("CARGO_BIN_EXE_rolecall"))
        .args([
            "--threads",
            "1",
            "scan",
            d.path().to_str().unwrap(),
            "--format",
            "json",
        ])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    std::thread::sleep(Duration::from_millis(300));
    let sent = Instant::now();
    assert!(Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .unwrap()
        .success());
    let status = child.wait().unwrap();
    assert_eq!(status.code(), Some(130));
    assert!(
        sent.elapsed() < Duration::from_secs(10),
        "stopped promptly: {:?}",
        sent.elapsed()
    );
    let mut out = String::new();
    std::io::Read::read_to_string(&mut child.stdout.take().unwrap(), &mut out).unwrap();
    assert!(
        out.is_empty(),
        "nothing written: {}",
        &out[..out.len().min(200)]
    );
}

#[test]
fn ctrl_c_during_a_report_leaves_the_state_untouched() {
    let d = tempfile::tempdir().unwrap();
    let logs = d.path().join("logs");
    std::fs::create_dir(&logs).unwrap();
    let mut s = Scenario::new();
    s.github(&Gh::default());
    s.write(&logs);
    let state = d.path().join("state.db");
    let out = d.path().join("r.md");
    let run = |extra: &[&str], pause: &str| {
        let mut c = Command::new(env!("CARGO_BIN_EXE_rolecall"));
        c.arg("report")
            .arg(&logs)
            .args(extra)
            .arg("--state")
            .arg(&state)
            .arg("--out")
            .arg(&out)
            .env("ROLECALL_FAILPOINT", format!("state-write-pause={pause}"))
            .stdout(Stdio::null())
            .stderr(Stdio::piped());
        c
    };
    assert!(run(&["--until", "2025-05-15T00:00:00Z"], "0")
        .status()
        .unwrap()
        .success());
    let before = std::fs::read(&state).unwrap();
    std::fs::remove_file(&out).unwrap();

    let child = run(&["--since", "2025-05-13T00:00:00Z"], "2000")
        .spawn()
        .unwrap();
    let journal = d.path().join("state.db-journal");
    let deadline = Instant::now() + Duration::from_secs(60);
    while !journal.exists() {
        assert!(Instant::now() < deadline, "the run never started writing");
        std::thread::sleep(Duration::from_millis(20));
    }
    assert!(Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .unwrap()
        .success());
    let o = child.wait_with_output().unwrap();
    assert_eq!(o.status.code(), Some(130), "{}", stderr(&o));
    assert!(stderr(&o).contains("interrupted"), "{}", stderr(&o));
    assert!(!out.exists(), "no report");
    let st = rolecall::report::state::State::open(state.to_str().unwrap(), Duration::from_secs(5))
        .unwrap();
    let runs: i64 = st
        .connection()
        .query_row("SELECT count(*) FROM runs", [], |r| r.get(0))
        .unwrap();
    assert_eq!(runs, 1, "the interrupted run left no trace");
    drop(st);
    assert_eq!(std::fs::read(&state).unwrap().len(), before.len());
}
