//! Secrets never leave the process: session tokens, secret keys, SAML
//! assertions and JWT signatures are removed from anything rolecall keeps or
//! prints. Logs should not carry them, but attacker-shaped or misconfigured
//! records can, and a security tool must not become the leak.

use serde_json::Value;

use crate::text::jwt::{redact_jwts, REDACTED};

/// Keys whose values are credentials (compared case-insensitively).
const SECRET_KEYS: &[&str] = &[
    "sessiontoken",
    "secretaccesskey",
    "webidentitytoken",
    "samlassertion",
    "password",
    "clientsecret",
    "client_secret",
    "privatekey",
    "private_key",
    "id_token",
    "idtoken",
    "access_token",
    "accesstoken",
    "refresh_token",
];

pub fn is_secret_key(key: &str) -> bool {
    SECRET_KEYS.iter().any(|k| key.eq_ignore_ascii_case(k))
}

/// Removes secret values from a JSON value in place.
pub fn redact_value(v: &mut Value) {
    match v {
        Value::Object(map) => {
            for (k, val) in map.iter_mut() {
                if is_secret_key(k) && !val.is_null() && val.as_str() != Some("") {
                    *val = Value::String(REDACTED.into());
                } else {
                    redact_value(val);
                }
            }
        }
        Value::Array(items) => items.iter_mut().for_each(redact_value),
        Value::String(s) => {
            if let std::borrow::Cow::Owned(r) = redact_jwts(s) {
                *s = r;
            }
        }
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secret_keys_are_removed_recursively() {
        let mut v = serde_json::json!({
            "roleArn": "arn:aws:iam::1:role/x",
            "WebIdentityToken": "abc",
            "nested": [{"sessionToken": "IQo..."}],
            "empty": {"sessionToken": ""}
        });
        redact_value(&mut v);
        assert_eq!(v["WebIdentityToken"], "<redacted>");
        assert_eq!(v["nested"][0]["sessionToken"], "<redacted>");
        assert_eq!(v["empty"]["sessionToken"], "");
        assert_eq!(v["roleArn"], "arn:aws:iam::1:role/x");
    }
}
