//! The stream reader against the whole-file reader: any input the whole
//! reader reads without an error, read as a stream cut into small pieces,
//! gives the same events at the same positions. Inputs with a lower-case
//! `records` or a `value` key are left out: streamed, those arrays are
//! read element by element before the rest of their object is known.
#![no_main]

use libfuzzer_sys::fuzz_target;
use rolecall::ingest::{read_bytes, read_streamed, Batch, IngestOptions};

fn events(b: &Batch) -> Vec<(Option<String>, u32, u32)> {
    (0..b.events.len())
        .map(|i| {
            (
                b.events.event_id_of(i).map(str::to_string),
                b.events.record[i],
                b.events.line[i],
            )
        })
        .collect()
}

fuzz_target!(|data: &[u8]| {
    let piece = 1 + data.first().copied().unwrap_or(0) as usize % 97;
    let data = data.get(1..).unwrap_or_default();
    let text = String::from_utf8_lossy(data);
    if text.contains("\"records\"") || text.contains("\"value\"") {
        return;
    }
    let mut whole = read_bytes("f.json", data.to_vec(), 0, &IngestOptions::default());
    whole.settle_held();
    let streamed = read_streamed(data, piece, 1 << 20);
    if whole.errors.is_empty() {
        assert_eq!(events(&streamed), events(&whole), "pieces of {piece} bytes");
        assert_eq!(streamed.records, whole.records);
    }
});
