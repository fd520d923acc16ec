//! CI runner address ranges as published: GitHub's meta API
//! (`curl https://api.github.com/meta`), whose `actions` (and
//! `actions_macos`) lists are the addresses GitHub-hosted runners use.
//! The other lists (`hooks`, `web`, `git`...) are GitHub's own services,
//! not runners, and are not read. A CIDR that does not parse is an input
//! error naming it; the others are kept.

use serde_json::Value;

use super::source::{Read, Source};

/// The lists of the meta API that hold runner addresses.
const RUNNER_LISTS: &[(&str, &str)] = &[
    ("actions", "GitHub Actions runners"),
    ("actions_macos", "GitHub Actions macOS runners"),
];

/// GitHub's meta API output.
pub const GITHUB_META: Source = Source {
    name: "GitHub meta API (runner address ranges)",
    sniff: |obj| {
        let has = |k: &str| obj.has_named(k);
        has("actions")
            && (has("hooks")
                || has("web")
                || has("git")
                || has("verifiable_password_authentication"))
    },
    read: |p, rec| {
        let at = rec.at.clone();
        let Some(map) = rec.map(p) else {
            return Read::Taken;
        };
        p.out.records += 1;
        for (list, name) in RUNNER_LISTS {
            let Some(value) = map.get(*list) else {
                continue;
            };
            let Value::Array(items) = value else {
                p.error(at.clone(), format!("GitHub meta: `{list}` is not a list"));
                continue;
            };
            let mut cidrs = Vec::with_capacity(items.len());
            for item in items {
                match item.as_str().filter(|s| is_cidr(s)) {
                    Some(c) => cidrs.push(c.to_string()),
                    None => p.error(
                        at.clone(),
                        format!(
                            "GitHub meta: `{list}` holds {}, not a CIDR",
                            super::json::clip(&item.to_string(), 80)
                        ),
                    ),
                }
            }
            if !cidrs.is_empty() {
                p.out.keys.ci_ranges.sets.push((name.to_string(), cidrs));
            }
        }
        Read::Taken
    },
};

/// `ADDRESS/PREFIX` with a prefix that fits the address family.
pub fn is_cidr(s: &str) -> bool {
    let Some((addr, prefix)) = s.split_once('/') else {
        return false;
    };
    let Ok(prefix) = prefix.parse::<u8>() else {
        return false;
    };
    match addr.parse::<std::net::IpAddr>() {
        Ok(std::net::IpAddr::V4(_)) => prefix <= 32,
        Ok(std::net::IpAddr::V6(_)) => prefix <= 128,
        Err(_) => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cidrs_of_both_families_and_nothing_else() {
        assert!(is_cidr("4.148.0.0/16"));
        assert!(is_cidr("2a0a:a440::/29"));
        assert!(!is_cidr("4.148.0.0/33"));
        assert!(!is_cidr("4.148.0.0"));
        assert!(!is_cidr("github.com/24"));
    }
}
