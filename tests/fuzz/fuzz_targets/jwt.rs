//! Raw JWTs against a key set: decoding and verification must reject, with
//! a reason, anything that is not a valid signed token; never panic.
#![no_main]

use std::sync::OnceLock;

use libfuzzer_sys::fuzz_target;
use rolecall::ingest::jwt::{decode, Jwks};

fn jwks() -> &'static Jwks {
    static JWKS: OnceLock<Jwks> = OnceLock::new();
    JWKS.get_or_init(|| {
        Jwks::parse(
            "gitlab-jwks.json",
            include_str!("../../../sample-logs/keys/gitlab-jwks.json"),
        )
        .expect("the sample key set")
    })
}

fuzz_target!(|data: &[u8]| {
    if let Ok(text) = std::str::from_utf8(data) {
        let _ = decode(text, None);
        if let Err(reason) = decode(text, Some(jwks())) {
            assert!(!reason.is_empty(), "a rejected token says why");
        }
    }
});
