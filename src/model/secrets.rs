//! Secrets never leave the process: session tokens, secret keys, SAML
//! assertions and JWT signatures are removed from anything rolecall keeps or
//! prints. Logs should not carry them, but attacker-shaped or misconfigured
//! records can, and a security tool must not become the leak.

use serde_json::Value;

const REDACTED: &str = "<redacted>";

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

fn is_b64url(s: &str) -> bool {
    !s.is_empty()
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_' || b == b'=')
}

/// Replaces the signature of every JWT-shaped substring (`eyJ...`.`...`.`sig`)
/// with `<redacted>`. Header and payload stay: they are what an investigator
/// reads, and carry no secret.
pub fn redact_jwts(s: &str) -> std::borrow::Cow<'_, str> {
    if !s.contains("eyJ") {
        return std::borrow::Cow::Borrowed(s);
    }
    let mut out = String::with_capacity(s.len());
    let mut rest = s;
    while let Some(start) = rest.find("eyJ") {
        out.push_str(&rest[..start]);
        let tail = &rest[start..];
        let end = tail
            .find(|c: char| {
                !(c.is_ascii_alphanumeric() || c == '-' || c == '_' || c == '.' || c == '=')
            })
            .unwrap_or(tail.len());
        let candidate = &tail[..end];
        let parts: Vec<&str> = candidate.split('.').collect();
        if parts.len() == 3 && parts.iter().take(2).all(|p| is_b64url(p)) && !parts[2].is_empty() {
            out.push_str(parts[0]);
            out.push('.');
            out.push_str(parts[1]);
            out.push('.');
            out.push_str(REDACTED);
        } else {
            out.push_str(candidate);
        }
        rest = &tail[end..];
        if end == 0 {
            // Not reachable ("eyJ" is alphanumeric), but never loop forever.
            out.push_str(rest);
            rest = "";
        }
    }
    out.push_str(rest);
    std::borrow::Cow::Owned(out)
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
    fn jwt_signatures_are_removed() {
        let t = "token=eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJ4In0.c2lnbmF0dXJl end";
        assert_eq!(
            redact_jwts(t),
            "token=eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJ4In0.<redacted> end"
        );
        assert_eq!(redact_jwts("no token here"), "no token here");
        assert_eq!(redact_jwts("eyJ only"), "eyJ only");
    }

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
