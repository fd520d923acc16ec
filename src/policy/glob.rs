//! Glob patterns for ARNs, repositories, refs, environments, events and
//! workflow refs: `*` matches any run of characters (including `/`, as IAM's
//! `StringLike` does) and `?` exactly one.

/// A compiled glob.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Glob {
    pattern: String,
    case_insensitive: bool,
}

impl Glob {
    pub fn new(pattern: &str) -> Glob {
        Glob {
            pattern: pattern.to_string(),
            case_insensitive: false,
        }
    }

    /// A glob that ignores ASCII case (repository and environment names).
    pub fn new_case_insensitive(pattern: &str) -> Glob {
        Glob {
            pattern: pattern.to_string(),
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
        wildcard_match(&self.pattern, text, self.case_insensitive)
    }
}

/// The length of the character starting at byte `i` of `s` (1 past the end).
fn char_len(s: &[u8], i: usize) -> usize {
    match s.get(i) {
        Some(&b) if b < 0x80 => 1,
        Some(&b) if b >= 0xf0 => 4,
        Some(&b) if b >= 0xe0 => 3,
        Some(_) => 2,
        None => 1,
    }
}

/// Iterative wildcard matching with backtracking to the last `*`; linear in
/// practice and never recursive, whatever the pattern. It steps through
/// both strings character by character on their UTF-8 bytes (a rule is
/// matched against every event, so nothing is allocated), and `fold`
/// ignores ASCII case.
fn wildcard_match(pattern: &str, text: &str, fold: bool) -> bool {
    let (p, t) = (pattern.as_bytes(), text.as_bytes());
    let same = |a: &[u8], b: &[u8]| {
        if fold {
            a.eq_ignore_ascii_case(b)
        } else {
            a == b
        }
    };
    let (mut pi, mut ti) = (0, 0);
    let mut star: Option<(usize, usize)> = None;
    while ti < t.len() {
        let (pl, tl) = (char_len(p, pi), char_len(t, ti));
        if pi < p.len() && (p[pi] == b'?' || same(&p[pi..pi + pl], &t[ti..ti + tl])) {
            pi += pl;
            ti += tl;
        } else if pi < p.len() && p[pi] == b'*' {
            star = Some((pi, ti));
            pi += 1;
        } else if let Some((sp, st)) = star {
            let next = st + char_len(t, st);
            pi = sp + 1;
            ti = next;
            star = Some((sp, next));
        } else {
            return false;
        }
    }
    while pi < p.len() && p[pi] == b'*' {
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
    fn question_mark_is_one_character_not_one_byte() {
        assert!(Glob::new("caf?").is_match("caf\u{e9}"));
        assert!(!Glob::new("caf?").is_match("caf\u{e9}e"));
        assert!(Glob::new("*\u{1f680}?").is_match("deploy \u{1f680}!"));
        assert!(Glob::new_case_insensitive("CAF\u{e9}").is_match("caf\u{e9}"));
        assert!(!Glob::new_case_insensitive("CAF\u{c9}").is_match("caf\u{e9}"));
    }

    /// The matcher as it was written first, on collected characters.
    fn by_chars(pattern: &str, text: &str) -> bool {
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

    proptest::proptest! {
        #[test]
        fn bytes_and_characters_agree(pattern in "[ab*?\u{e9}\u{1f680}]{0,8}", text in "[abAB*?\u{e9}\u{1f680}]{0,10}") {
            proptest::prop_assert_eq!(Glob::new(&pattern).is_match(&text), by_chars(&pattern, &text));
            proptest::prop_assert_eq!(
                Glob::new_case_insensitive(&pattern).is_match(&text),
                by_chars(&pattern.to_ascii_lowercase(), &text.to_ascii_lowercase())
            );
        }
    }

    #[test]
    fn pathological_patterns_stay_fast() {
        let g = Glob::new(&"*a".repeat(50));
        let text = "a".repeat(10_000) + "b";
        assert!(!g.is_match(&text));
        assert_eq!(Glob::new("*prod*").literal_len(), 4);
    }
}
