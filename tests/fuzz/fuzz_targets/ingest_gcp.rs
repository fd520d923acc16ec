//! Any bytes through the ingest entry point, seeded with GCP Cloud Audit Log entries: gcloud arrays and Cloud Storage sink NDJSON. Every
//! file is sniffed by content, so this reaches every parser; the seeds steer
//! it toward one. Nothing may panic, and every error must name the file.
#![no_main]

use libfuzzer_sys::fuzz_target;
use rolecall::ingest::{read_bytes, IngestOptions};

fuzz_target!(|data: &[u8]| {
    let opts = IngestOptions {
        max_file_bytes: 64 << 20,
        ..IngestOptions::default()
    };
    let batch = read_bytes("fuzz.json", data.to_vec(), 0, &opts);
    for e in &batch.errors {
        assert_eq!(e.path, "fuzz.json", "an input error names its file");
    }
});
