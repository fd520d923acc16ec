//! Git ref normalization.
//!
//! Providers spell refs differently: GitHub sends `refs/heads/main`, GitLab
//! sends `main` with `ref_type = branch`, Buildkite sends a bare branch and a
//! separate tag. Policies compare against the full form, so every ref is
//! normalized to it once, at ingest. Normalization is idempotent.

/// The full git form of `name`: `refs/heads/main`, `refs/tags/v1`,
/// `refs/pull/42/merge`. A bare name with no type is taken as a branch, which
/// is what every provider means by an untyped ref.
pub fn normalize_ref(name: &str, ref_type: Option<&str>) -> Option<String> {
    let name = name.trim();
    if name.is_empty() {
        return None;
    }
    if name.starts_with("refs/") {
        return Some(name.to_string());
    }
    let prefix = match ref_type.map(|t| t.trim().to_ascii_lowercase()) {
        Some(t) if t == "tag" => "refs/tags/",
        _ => "refs/heads/",
    };
    Some(format!("{prefix}{name}"))
}

/// True for refs that only pull or merge requests produce.
pub fn is_pull_request_ref(full_ref: &str) -> bool {
    full_ref.starts_with("refs/pull/")
        || full_ref.starts_with("refs/merge-requests/")
        || full_ref.starts_with("refs/pull-requests/")
}

/// True for `refs/tags/*`.
pub fn is_tag_ref(full_ref: &str) -> bool {
    full_ref.starts_with("refs/tags/")
}

/// The short name of a branch or tag ref (`refs/heads/main` gives `main`).
pub fn short_ref(full_ref: &str) -> &str {
    full_ref
        .strip_prefix("refs/heads/")
        .or_else(|| full_ref.strip_prefix("refs/tags/"))
        .unwrap_or(full_ref)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn normalizes_each_spelling() {
        assert_eq!(
            normalize_ref("main", Some("branch")).unwrap(),
            "refs/heads/main"
        );
        assert_eq!(
            normalize_ref("v1.2", Some("tag")).unwrap(),
            "refs/tags/v1.2"
        );
        assert_eq!(
            normalize_ref("feature/x", None).unwrap(),
            "refs/heads/feature/x"
        );
        assert_eq!(
            normalize_ref("refs/pull/42/merge", Some("branch")).unwrap(),
            "refs/pull/42/merge"
        );
        assert_eq!(normalize_ref("  ", None), None);
    }

    #[test]
    fn normalization_is_idempotent() {
        for (name, ty) in [("main", Some("branch")), ("v1", Some("TAG")), ("x", None)] {
            let once = normalize_ref(name, ty).unwrap();
            assert_eq!(normalize_ref(&once, ty).unwrap(), once);
            assert_eq!(normalize_ref(&once, None).unwrap(), once);
        }
    }

    #[test]
    fn pull_request_refs() {
        assert!(is_pull_request_ref("refs/pull/7/merge"));
        assert!(is_pull_request_ref("refs/merge-requests/3/head"));
        assert!(!is_pull_request_ref("refs/heads/pull/7"));
        assert_eq!(short_ref("refs/tags/v1"), "v1");
    }
}
