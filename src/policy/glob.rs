//! Glob patterns for ARNs, repositories, refs, environments, events and
//! workflow refs: `*` matches any run of characters (including `/`, as IAM's
//! `StringLike` does) and `?` exactly one.

/// A compiled glob.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Glob {
    pattern: String,
    folded: Option<String>,
    case_insensitive: bool,
}

impl Glob {
    pub fn new(pattern: &str) -> Glob {
        Glob {
            pattern: pattern.to_string(),
            folded: None,
            case_insensitive: false,
        }
    }

    /// A glob that ignores ASCII case (repository and environment names).
    pub fn new_case_insensitive(pattern: &str) -> Glob {
        Glob {
            pattern: pattern.to_string(),
            folded: Some(pattern.to_ascii_lowercase()),
            case_insensitive: true,
        }
    }

    pub fn as_str(&self) -> &str {
        &self.pattern
    }

    /// Characters that are not wildcards: how specific the pattern is.
    pub fn literal_len(&self) -> usize {
        self.pattern
            .chars()
            .filter(|&c| c != '*' && c != '?')
            .count()
    }

    pub fn is_match(&self, text: &str) -> bool {
        if self.case_insensitive {
            let folded = text.to_ascii_lowercase();
            wildcard_match(self.folded.as_deref().unwrap_or(""), &folded)
        } else {
            wildcard_match(&self.pattern, text)
        }
    }
}

/// Iterative wildcard matching with backtracking to the last `*`; linear in
/// practice and never recursive, whatever the pattern.
fn wildcard_match(pattern: &str, text: &str) -> bool {
    let p: Vec<char> = pattern.chars().collect();
    let t: Vec<char> = text.chars().collect();
    let (mut pi, mut ti) = (0, 0);
    let mut star: Option<(usize, usize)> = None;
    while ti < t.len() {
        if pi < p.len() && (p[pi] == '?' || p[pi] == t[ti]) {
            pi += 1;
            ti += 1;
        } else if pi < p.len() && p[pi] == '*' {
            star = Some((pi, ti));
            pi += 1;
        } else if let Some((sp, st)) = star {
            pi = sp + 1;
            ti = st + 1;
            star = Some((sp, st + 1));
        } else {
            return false;
        }
    }
    while pi < p.len() && p[pi] == '*' {
        pi += 1;
    }
    pi == p.len()
}

/// True when any glob matches.
pub fn any_match(globs: &[Glob], text: &str) -> bool {
    globs.iter().any(|g| g.is_match(text))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn star_crosses_slashes_like_iam() {
        let g = Glob::new("acme/*/.github/workflows/deploy.yml@*");
        assert!(g.is_match("acme/payments/.github/workflows/deploy.yml@refs/heads/main"));
        assert!(!g.is_match("evil/payments/.github/workflows/deploy.yml@refs/heads/main"));
        assert!(Glob::new("refs/tags/v*").is_match("refs/tags/v1.2.3"));
        assert!(!Glob::new("refs/tags/v*").is_match("refs/heads/v1"));
        assert!(Glob::new("arn:aws:iam::*:role/deploy-?").is_match("arn:aws:iam::1:role/deploy-a"));
        assert!(
            !Glob::new("arn:aws:iam::*:role/deploy-?").is_match("arn:aws:iam::1:role/deploy-ab")
        );
    }

    #[test]
    fn exact_and_case() {
        assert!(Glob::new("main").is_match("main"));
        assert!(!Glob::new("main").is_match("Main"));
        assert!(Glob::new_case_insensitive("Acme/Web").is_match("acme/web"));
        assert!(Glob::new("").is_match(""));
        assert!(!Glob::new("").is_match("x"));
        assert!(Glob::new("*").is_match(""));
    }

    #[test]
    fn pathological_patterns_stay_fast() {
        let g = Glob::new(&"*a".repeat(50));
        let text = "a".repeat(10_000) + "b";
        assert!(!g.is_match(&text));
        assert_eq!(Glob::new("*prod*").literal_len(), 4);
    }
}
