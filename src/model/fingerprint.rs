//! Stable finding fingerprints: a finding's rule and its identifying fields
//! (declared per rule, never the time), hashed. The same problem seen in two
//! runs has the same fingerprint, which is what lets a report say "new",
//! "recurring" or "resolved" and a suppression name one finding.

use ring::digest::{digest, SHA256};
use serde_json::Value;

use super::Finding;

/// The fields a rule identifies its findings by when it does not say.
pub const DEFAULT_IDENTITY: &[&str] = &["role", "subject", "session_key"];

/// Finding fields an identity may name (`evidence.KEY` names evidence).
pub const IDENTITY_FIELDS: &[&str] = &[
    "cloud",
    "account",
    "role",
    "issuer",
    "subject",
    "repository",
    "ref",
    "environment",
    "trigger",
    "run_id",
    "session_key",
    "source_ip",
];

/// Whether `name` can be part of an identity.
pub fn valid_identity_field(name: &str) -> bool {
    IDENTITY_FIELDS.contains(&name)
        || name.strip_prefix("evidence.").is_some_and(|k| {
            !k.is_empty() && k.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_')
        })
}

fn field<'a>(f: &'a Finding, name: &str) -> Option<String> {
    let text = |v: &'a Option<String>| v.clone();
    match name {
        "cloud" => text(&f.cloud),
        "account" => text(&f.account),
        "role" => text(&f.role),
        "issuer" => text(&f.issuer),
        "subject" => text(&f.subject),
        "repository" => text(&f.repository),
        "ref" => text(&f.git_ref),
        "environment" => text(&f.environment),
        "trigger" => text(&f.trigger),
        "run_id" => text(&f.run_id),
        "session_key" => text(&f.session_key),
        "source_ip" => text(&f.source_ip),
        other => match f.evidence.get(other.strip_prefix("evidence.")?)? {
            Value::Null => None,
            Value::String(s) => Some(s.clone()),
            // Lists are sets here: their order is not identity.
            Value::Array(items) => {
                let mut parts: Vec<String> = items.iter().map(Value::to_string).collect();
                parts.sort();
                Some(parts.join(","))
            }
            v => Some(v.to_string()),
        },
    }
}

/// The fingerprint of `f` under `identity`: 32 hex digits of SHA-256 over
/// the rule and each named field (absent fields hash as absent, not as
/// empty text).
pub fn fingerprint<S: AsRef<str>>(f: &Finding, identity: &[S]) -> String {
    let mut input = String::from("rolecall-finding-v1\0");
    input.push_str(&f.rule);
    for name in identity {
        let name = name.as_ref();
        input.push('\0');
        input.push_str(name);
        match field(f, name) {
            Some(v) => {
                input.push('=');
                input.push_str(&v);
            }
            None => input.push('\u{1}'),
        }
    }
    hex(&digest(&SHA256, input.as_bytes()).as_ref()[..16])
}

/// 32 hex digits of SHA-256 over `text`, for things that are not findings.
pub fn text_fingerprint(text: &str) -> String {
    hex(&digest(&SHA256, text.as_bytes()).as_ref()[..16])
}

/// The whole SHA-256 of `bytes`, in hex (a policy file's digest).
pub fn sha256_hex(bytes: &[u8]) -> String {
    hex(digest(&SHA256, bytes).as_ref())
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Severity;

    fn finding() -> Finding {
        let mut f = Finding::new("unexpected-ref", Severity::High, "t");
        f.role = Some("arn:aws:iam::1:role/deploy".into());
        f.repository = Some("acme/web".into());
        f.git_ref = Some("refs/heads/x".into());
        f.time = Some(1);
        f.session_key = Some("ASIA1".into());
        f
    }

    #[test]
    fn sha256_hex_is_the_standard_digest() {
        assert_eq!(
            sha256_hex(b"abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
    }

    #[test]
    fn the_time_and_other_fields_do_not_change_it() {
        let a = finding();
        let mut b = finding();
        b.time = Some(99);
        b.session_key = Some("ASIA2".into());
        b.message = "other words".into();
        let id = ["role", "repository", "ref"];
        assert_eq!(fingerprint(&a, &id), fingerprint(&b, &id));
        assert_eq!(fingerprint(&a, &id).len(), 32);
    }

    #[test]
    fn identifying_fields_and_the_rule_do() {
        let a = finding();
        let id = ["role", "repository", "ref"];
        let mut b = finding();
        b.git_ref = Some("refs/heads/y".into());
        assert_ne!(fingerprint(&a, &id), fingerprint(&b, &id));
        let mut c = finding();
        c.rule = "unexpected-environment".into();
        assert_ne!(fingerprint(&a, &id), fingerprint(&c, &id));
        // Absent is not the same as empty.
        let mut d = finding();
        d.git_ref = None;
        let mut e = finding();
        e.git_ref = Some(String::new());
        assert_ne!(fingerprint(&d, &id), fingerprint(&e, &id));
    }

    #[test]
    fn evidence_lists_are_sets() {
        let mut a = finding();
        a.evidence
            .insert("ips".into(), serde_json::json!(["1", "2"]));
        let mut b = finding();
        b.evidence
            .insert("ips".into(), serde_json::json!(["2", "1"]));
        assert_eq!(
            fingerprint(&a, &["evidence.ips"]),
            fingerprint(&b, &["evidence.ips"])
        );
        assert!(valid_identity_field("evidence.ips"));
        assert!(!valid_identity_field("evidence."));
        assert!(!valid_identity_field("time"));
    }
}
