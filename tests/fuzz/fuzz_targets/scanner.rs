//! The record path's JSON scanner against serde_json: on any text the
//! scanner reads as a document, serde_json must read the same elements and
//! every CloudTrail record must come out of the record reader the same.
//! Seeded with decompressed CloudTrail files.
#![no_main]

use libfuzzer_sys::fuzz_target;
use rolecall::ingest::oracle::disagreement;

fuzz_target!(|data: &[u8]| {
    if let Ok(text) = std::str::from_utf8(data) {
        if let Some(difference) = disagreement(text) {
            panic!("the scanner and serde_json disagree on {text:?}:\n{difference}");
        }
    }
});
