//! Subject and ref parsing on any text, with every provider hint: never
//! panics, and ref normalization is idempotent.
#![no_main]

use libfuzzer_sys::fuzz_target;
use rolecall::model::refs::normalize_ref;
use rolecall::model::subject::{parse_subject, Provider};

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let _ = parse_subject(text, None);
    for p in Provider::ALL {
        let _ = parse_subject(text, Some(p));
    }
    for kind in [None, Some("branch"), Some("tag")] {
        if let Some(once) = normalize_ref(text, kind) {
            assert_eq!(
                normalize_ref(&once, kind).as_deref(),
                Some(once.as_str()),
                "normalize_ref is idempotent"
            );
        }
    }
});
