//! JWT signatures out of text. A JWT in a log value (a user agent, a
//! request parameter) is a bearer credential: its signature is replaced
//! with `<redacted>` wherever rolecall keeps or prints text, while header
//! and payload, which an investigator reads and which carry no secret,
//! stay.

/// What a removed secret reads as.
pub const REDACTED: &str = "<redacted>";

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
}
