//! Policy TOML: any text either parses or fails with a line and column;
//! never panics.
#![no_main]

use libfuzzer_sys::fuzz_target;
use rolecall::policy::Policy;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    if let Err(e) = Policy::parse("fuzz.toml", text) {
        assert!(e.to_string().starts_with("fuzz.toml"), "{e}");
    }
});
