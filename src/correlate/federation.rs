//! The claims join: which CI token was traded in each role exchange.
//!
//! A claim set fits an exchange when issuer, subject and audience are equal
//! and the exchange happened inside the token's `[iat, exp]`, widened by the
//! clock skew. When several fit, a run id found in the role session name
//! decides; failing that, the nearest `iat` is taken and the match is marked
//! ambiguous. Claims whose JWT signature failed verification never vouch for
//! an exchange. The index is keyed by issuer, so a match never crosses
//! issuers.

use std::collections::HashMap;

use rayon::prelude::*;

use crate::model::records::{Assumption, ClaimsMatch, MatchKind, TokenClaims};
use crate::model::subject::{parse_subject, provider_from_issuer};
use crate::model::time::Micros;

/// True when `needle` occurs in `haystack` as a whole token (not inside a
/// longer run of letters or digits).
fn contains_token(haystack: &str, needle: &str) -> bool {
    if needle.is_empty() {
        return false;
    }
    // Session names and run ids are a few dozen bytes: a plain scan beats
    // building a substring searcher for every comparison.
    let (h, n) = (haystack.as_bytes(), needle.as_bytes());
    memchr::memchr_iter(n[0], h)
        .filter(|&start| h[start..].starts_with(n))
        .any(|start| {
            let end = start + n.len();
            let before = start == 0 || !h[start - 1].is_ascii_alphanumeric();
            let after = end == h.len() || !h[end].is_ascii_alphanumeric();
            before && after
        })
}

fn in_window(c: &TokenClaims, t: Micros, skew: Micros) -> bool {
    c.iat.is_none_or(|iat| t >= iat.saturating_sub(skew))
        && c.exp.is_none_or(|exp| t <= exp.saturating_add(skew))
}

/// The claim sets of one issuer and subject, ordered by `iat` so that an
/// exchange looks only at the tokens alive around it: a busy subject (one
/// repository's deploys over a month) has thousands of tokens, and testing
/// each exchange against all of them made the join quadratic.
#[derive(Default)]
struct Bucket {
    /// `(iat, index)` of tokens with both `iat` and `exp`, by `iat`.
    timed: Vec<(Micros, usize)>,
    /// The longest `exp - iat` among them.
    longest: Micros,
    /// Tokens missing `iat` or `exp`: open-ended, always candidates.
    open: Vec<usize>,
}

impl Bucket {
    /// Indexes of the tokens whose window (widened by `skew`) may hold `t`,
    /// in claim order; `None` for an exchange without a time.
    fn candidates(&self, t: Option<Micros>, skew: Micros) -> Vec<usize> {
        let mut out: Vec<usize> = match t {
            Some(t) => {
                let hi = self
                    .timed
                    .partition_point(|&(iat, _)| iat <= t.saturating_add(skew));
                let earliest = t.saturating_sub(skew).saturating_sub(self.longest);
                let lo = self.timed[..hi].partition_point(|&(iat, _)| iat < earliest);
                self.timed[lo..hi].iter().map(|&(_, i)| i).collect()
            }
            None => self.timed.iter().map(|&(_, i)| i).collect(),
        };
        out.extend_from_slice(&self.open);
        out.sort_unstable();
        out
    }
}

/// Below this many rows (exchanges, claim sets, job deliveries) the joins
/// run on the calling thread.
pub(crate) const PARALLEL_FROM: usize = 1024;

/// Joins each exchange to the claim set it traded, index for index.
pub fn match_claims(
    assumptions: &[Assumption],
    claims: &[TokenClaims],
    skew: Micros,
) -> Vec<ClaimsMatch> {
    let mut index: HashMap<(&str, &str), Bucket> = HashMap::new();
    for (i, c) in claims.iter().enumerate() {
        if c.verified == Some(false) {
            continue;
        }
        let bucket = index
            .entry((c.issuer.as_str(), c.subject.as_str()))
            .or_default();
        match (c.iat, c.exp) {
            (Some(iat), Some(exp)) => {
                bucket.timed.push((iat, i));
                bucket.longest = bucket.longest.max(exp.saturating_sub(iat));
            }
            _ => bucket.open.push(i),
        }
    }
    for bucket in index.values_mut() {
        bucket.timed.sort_unstable();
    }
    // Each exchange is matched on its own; a month of deploys is tens of
    // thousands of them, so they are spread over the pool (in order). A
    // few hundred take less time than waking the pool: the session-join
    // benchmark (one 8 MiB file) ran 11% faster on the calling thread.
    // Token keys are compared for every claim set that fits an exchange;
    // each is built once here rather than once per comparison.
    let keys: Vec<&str> = if claims.len() < PARALLEL_FROM {
        claims.iter().map(TokenClaims::token_key).collect()
    } else {
        claims.par_iter().map(TokenClaims::token_key).collect()
    };
    let one = |a: &Assumption| match_one(a, claims, &keys, &index, skew);
    if assumptions.len() < PARALLEL_FROM {
        assumptions.iter().map(one).collect()
    } else {
        assumptions.par_iter().map(one).collect()
    }
}

fn derived_or_none(a: &Assumption) -> ClaimsMatch {
    let recognized = a.subject.as_deref().is_some_and(|s| {
        let hint = a.issuer.as_deref().and_then(provider_from_issuer);
        parse_subject(s, hint).recognized
    });
    ClaimsMatch {
        kind: if recognized {
            MatchKind::Derived
        } else {
            MatchKind::None
        },
        claims: None,
        candidates: 0,
    }
}

fn match_one(
    a: &Assumption,
    claims: &[TokenClaims],
    keys: &[&str],
    index: &HashMap<(&str, &str), Bucket>,
    skew: Micros,
) -> ClaimsMatch {
    let (Some(issuer), Some(subject)) = (a.issuer.as_deref(), a.subject.as_deref()) else {
        return derived_or_none(a);
    };
    let Some(same_identity) = index.get(&(issuer, subject)) else {
        return derived_or_none(a);
    };
    let fits: Vec<usize> = same_identity
        .candidates(a.time, skew)
        .into_iter()
        .filter(|&i| {
            let c = &claims[i];
            let audience_ok = match &a.audience {
                Some(aud) => c.audiences.is_empty() || c.audiences.iter().any(|x| x == aud),
                None => true,
            };
            let time_ok = a.time.is_none_or(|t| in_window(c, t, skew));
            audience_ok && time_ok
        })
        .collect();
    if fits.is_empty() {
        return derived_or_none(a);
    }
    // The same token given twice (a decoded claim set and its JWT) is one
    // token: prefer the verified copy.
    let first_key = &keys[fits[0]];
    if fits.iter().all(|&i| &keys[i] == first_key) {
        let best = fits
            .iter()
            .copied()
            .find(|&i| claims[i].verified == Some(true))
            .unwrap_or(fits[0]);
        return ClaimsMatch {
            kind: MatchKind::Exact,
            claims: Some(best),
            candidates: fits.len(),
        };
    }
    let by_run: Vec<usize> = match a.role_session_name.as_deref() {
        Some(name) => fits
            .iter()
            .copied()
            .filter(|&i| {
                claims[i]
                    .run_id
                    .as_deref()
                    .is_some_and(|r| contains_token(name, r))
            })
            .collect(),
        None => Vec::new(),
    };
    if by_run.len() == 1 {
        return ClaimsMatch {
            kind: MatchKind::Exact,
            claims: Some(by_run[0]),
            candidates: fits.len(),
        };
    }
    let pool = if by_run.is_empty() { &fits } else { &by_run };
    let nearest = pool
        .iter()
        .copied()
        .min_by_key(|&i| match (a.time, claims[i].iat) {
            (Some(t), Some(iat)) => ((t - iat).unsigned_abs(), i),
            _ => (u64::MAX, i),
        })
        .expect("pool is not empty");
    ClaimsMatch {
        kind: MatchKind::Ambiguous,
        claims: Some(nearest),
        candidates: fits.len(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const GH: &str = "https://token.actions.githubusercontent.com";
    const SUB: &str = "repo:acme/web:ref:refs/heads/main";

    fn claim(run: &str, iat: i64, jti: &str) -> TokenClaims {
        TokenClaims {
            issuer: GH.into(),
            subject: SUB.into(),
            audiences: vec!["sts.amazonaws.com".into()],
            jti: Some(jti.into()),
            iat: Some(iat),
            exp: Some(iat + 300_000_000),
            run_id: Some(run.into()),
            ..Default::default()
        }
    }

    fn exchange(t: i64, session: &str) -> Assumption {
        Assumption {
            time: Some(t),
            issuer: Some(GH.into()),
            subject: Some(SUB.into()),
            audience: Some("sts.amazonaws.com".into()),
            role_session_name: Some(session.into()),
            ..Default::default()
        }
    }

    #[test]
    fn one_fitting_token_is_exact() {
        let claims = vec![claim("100", 1_000_000_000, "a")];
        let m = match_claims(
            &[exchange(1_010_000_000, "GitHubActions")],
            &claims,
            60_000_000,
        );
        assert_eq!(m[0].kind, MatchKind::Exact);
        assert_eq!(m[0].claims, Some(0));
    }

    #[test]
    fn outside_the_token_window_falls_back_to_the_subject() {
        let claims = vec![claim("100", 1_000_000_000, "a")];
        // 10 minutes after exp + skew.
        let m = match_claims(&[exchange(1_900_000_000, "x")], &claims, 60_000_000);
        assert_eq!(m[0].kind, MatchKind::Derived);
        // Within the skew before iat.
        let m = match_claims(&[exchange(950_000_000, "x")], &claims, 60_000_000);
        assert_eq!(m[0].kind, MatchKind::Exact);
    }

    #[test]
    fn a_busy_subject_matches_each_exchange_to_the_token_alive_then() {
        // A token every 10 minutes for a day, each valid 5 minutes, in
        // reverse order, and one without exp (open-ended: always a candidate).
        let mut claims: Vec<TokenClaims> = (0..144)
            .rev()
            .map(|k| claim(&format!("{k}"), k * 600_000_000, &format!("t{k}")))
            .collect();
        let mut open = claim("open", 0, "open");
        open.exp = None;
        claims.push(open);
        let skew = 60_000_000;
        let m = match_claims(
            &[exchange(70 * 600_000_000 + 1_000_000, "gh-70-1")],
            &claims,
            skew,
        );
        assert_eq!(m[0].candidates, 2, "the live token and the open-ended one");
        assert_eq!(m[0].kind, MatchKind::Exact);
        assert_eq!(claims[m[0].claims.unwrap()].jti.as_deref(), Some("t70"));
        // Inside the skew after one token's exp and before the next's iat.
        let m = match_claims(
            &[exchange(70 * 600_000_000 + 330_000_000, "x")],
            &claims,
            skew,
        );
        assert_eq!(m[0].candidates, 2);
        assert_eq!(m[0].kind, MatchKind::Ambiguous);
        // An exchange without a time: every token of the subject fits.
        let mut untimed = exchange(0, "x");
        untimed.time = None;
        assert_eq!(match_claims(&[untimed], &claims, skew)[0].candidates, 145);
    }

    #[test]
    fn run_id_in_session_name_decides_between_tokens() {
        let claims = vec![
            claim("100", 1_000_000_000, "a"),
            claim("200", 1_001_000_000, "b"),
        ];
        let m = match_claims(&[exchange(1_000_500_000, "gh-100-1")], &claims, 60_000_000);
        assert_eq!((m[0].kind, m[0].claims), (MatchKind::Exact, Some(0)));
        // "1000" must not match run "100".
        let m = match_claims(&[exchange(1_000_900_000, "gh-1000")], &claims, 60_000_000);
        assert_eq!((m[0].kind, m[0].claims), (MatchKind::Ambiguous, Some(1)));
        assert_eq!(m[0].candidates, 2);
    }

    #[test]
    fn never_matches_across_issuers_or_audiences() {
        let mut other = claim("100", 1_000_000_000, "a");
        other.issuer = "https://gitlab.com".into();
        let m = match_claims(&[exchange(1_000_000_000, "x")], &[other], 60_000_000);
        assert_eq!(m[0].claims, None);
        let mut wrong_aud = claim("100", 1_000_000_000, "a");
        wrong_aud.audiences = vec!["api://AzureADTokenExchange".into()];
        let m = match_claims(&[exchange(1_000_000_000, "x")], &[wrong_aud], 60_000_000);
        assert_eq!(m[0].claims, None);
    }

    #[test]
    fn failed_verification_never_vouches() {
        let mut forged = claim("100", 1_000_000_000, "a");
        forged.verified = Some(false);
        let m = match_claims(&[exchange(1_000_000_000, "x")], &[forged], 60_000_000);
        assert_eq!(m[0].kind, MatchKind::Derived);
    }

    #[test]
    fn duplicate_copies_of_one_token_are_exact() {
        let mut jwt = claim("100", 1_000_000_000, "a");
        jwt.verified = Some(true);
        let claims = vec![claim("100", 1_000_000_000, "a"), jwt];
        let m = match_claims(&[exchange(1_000_000_000, "x")], &claims, 60_000_000);
        assert_eq!((m[0].kind, m[0].claims), (MatchKind::Exact, Some(1)));
    }

    #[test]
    fn unreadable_subject_is_none() {
        let mut a = exchange(1, "x");
        a.subject = Some("0191f956-042f".into());
        a.issuer = Some("https://idp.example.com".into());
        assert_eq!(match_claims(&[a], &[], 0)[0].kind, MatchKind::None);
        assert!(contains_token("gh-100-1", "100"));
        assert!(!contains_token("gh-1000", "100"));
    }
}
