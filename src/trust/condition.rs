//! One condition, decided as AWS decides it: string equality and
//! `StringLike` wildcards, case rules, set qualifiers, `...IfExists`,
//! `Null`, several values and negation, and what a missing key means.
//!
//! The rules, from IAM's documentation: condition keys are
//! case-insensitive, `String*` values case-sensitive (except the
//! `IgnoreCase` operators). Several values of one key are ORed; for a
//! negated operator (`StringNotEquals`, `StringNotLike`) the condition holds
//! when the context value matches *none* of them. A key missing from the
//! context makes a condition false, except that negated operators are then
//! true, `...IfExists` is true, `ForAllValues:` is true and `ForAnyValue:`
//! false. `Null: true` holds exactly when the key is missing. In
//! `StringLike`, `*` matches any run of characters (`/` and `:` included)
//! and `?` exactly one; in `StringEquals` they are plain characters. With
//! policy version 2012-10-17, `${key}` is replaced by the key's value and
//! `${*}`, `${?}`, `${$}` stand for the literal characters.
//!
//! The answer is three-valued: when the evidence does not carry a key
//! (claims not joined), a condition on it is [`Truth::Unknown`].

use super::context::{Context, KeyState};
use crate::model::policy_doc::{BaseOp, Condition, Qualifier};

/// A condition's truth on the evidence.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Truth {
    True,
    False,
    Unknown,
}

/// One element of a compiled `StringLike` pattern.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Tok {
    Lit(char),
    Star,
    One,
}

/// Compiles a condition value: wildcards when `like`, policy variables when
/// `vars`. `None` when a variable cannot be resolved (IAM then treats the
/// value as matching nothing).
fn compile(value: &str, like: bool, vars: bool, ctx: &Context) -> Option<Vec<Tok>> {
    let chars: Vec<char> = value.chars().collect();
    let mut out = Vec::with_capacity(chars.len());
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        if vars && c == '$' && chars.get(i + 1) == Some(&'{') {
            if let Some(end) = chars[i + 2..].iter().position(|&c| c == '}') {
                let inner: String = chars[i + 2..i + 2 + end].iter().collect();
                match inner.as_str() {
                    "*" | "?" | "$" => out.push(Tok::Lit(inner.chars().next().unwrap_or('$'))),
                    _ => {
                        let (key, default) = match inner.split_once(',') {
                            Some((k, d)) => {
                                (k.trim(), Some(d.trim().trim_matches('\'').to_string()))
                            }
                            None => (inner.trim(), None),
                        };
                        let resolved = match ctx.state(key) {
                            KeyState::Present(v) if v.len() == 1 => Some(v[0].clone()),
                            _ => default,
                        };
                        out.extend(resolved?.chars().map(Tok::Lit));
                    }
                }
                i += end + 3;
                continue;
            }
        }
        out.push(match c {
            '*' if like => Tok::Star,
            '?' if like => Tok::One,
            c => Tok::Lit(c),
        });
        i += 1;
    }
    Some(out)
}

/// Wildcard matching with backtracking to the last `*`: linear in practice,
/// never recursive.
fn tokens_match(p: &[Tok], text: &str, fold: bool) -> bool {
    let t: Vec<char> = if fold {
        text.to_lowercase().chars().collect()
    } else {
        text.chars().collect()
    };
    let lit = |c: char| {
        if fold {
            c.to_lowercase().next().unwrap_or(c)
        } else {
            c
        }
    };
    let (mut pi, mut ti) = (0, 0);
    let mut star: Option<(usize, usize)> = None;
    while ti < t.len() {
        match p.get(pi) {
            Some(Tok::One) => {
                pi += 1;
                ti += 1;
            }
            Some(Tok::Lit(c)) if lit(*c) == t[ti] => {
                pi += 1;
                ti += 1;
            }
            Some(Tok::Star) => {
                star = Some((pi, ti));
                pi += 1;
            }
            _ => match star {
                Some((sp, st)) => {
                    pi = sp + 1;
                    ti = st + 1;
                    star = Some((sp, st + 1));
                }
                None => return false,
            },
        }
    }
    while p.get(pi) == Some(&Tok::Star) {
        pi += 1;
    }
    pi == p.len()
}

/// IAM `StringLike` of one pattern against one text (no variables): the
/// policy's globs have exactly these semantics.
pub fn like(pattern: &str, text: &str) -> bool {
    crate::policy::glob::Glob::new(pattern).is_match(text)
}

/// Whether a value has a `StringLike` wildcard (`${*}` and `${?}` are
/// literal characters, not wildcards).
pub fn has_wildcard(value: &str) -> bool {
    let cleaned = value.replace("${*}", "").replace("${?}", "");
    cleaned.contains('*') || cleaned.contains('?')
}

/// Whether one policy value matches one context value under `base`
/// (ignoring negation).
fn value_matches(base: &BaseOp, policy: &str, actual: &str, vars: bool, ctx: &Context) -> bool {
    let fold = matches!(
        base,
        BaseOp::StringEqualsIgnoreCase | BaseOp::StringNotEqualsIgnoreCase
    );
    match compile(policy, base.wildcards(), vars, ctx) {
        Some(toks) => tokens_match(&toks, actual, fold),
        None => false,
    }
}

/// The token's values: `a`, or `a`, `b` for a multi-valued claim.
fn show_actual(values: &[String]) -> String {
    values
        .iter()
        .map(|v| format!("`{v}`"))
        .collect::<Vec<_>>()
        .join(", ")
}

fn show(values: &[String]) -> String {
    match values {
        [one] => format!("`{one}`"),
        many => format!(
            "one of {}",
            many.iter()
                .map(|v| format!("`{v}`"))
                .collect::<Vec<_>>()
                .join(", ")
        ),
    }
}

/// Decides one condition; the reason says what was compared.
pub fn evaluate(c: &Condition, ctx: &Context, vars: bool) -> (Truth, String) {
    let op = &c.operator;
    let head = format!("`{}` on `{}`", op.raw, c.key);
    let state = ctx.state(&c.key);
    if op.base == BaseOp::Null {
        let present = match state {
            KeyState::Present(_) => true,
            KeyState::Absent => false,
            KeyState::Unknown => {
                return (
                    Truth::Unknown,
                    format!("{head}: the evidence does not say whether the key is present"),
                )
            }
        };
        let holds = c
            .values
            .iter()
            .any(|v| match v.to_ascii_lowercase().as_str() {
                "true" => !present,
                "false" => present,
                _ => false,
            });
        let what = if present { "present" } else { "absent" };
        return (
            if holds { Truth::True } else { Truth::False },
            format!("{head}: the key is {what}"),
        );
    }
    let values = match state {
        KeyState::Unknown => {
            return (
                Truth::Unknown,
                format!("{head}: the evidence does not carry this key (no claim set joined)"),
            )
        }
        KeyState::Absent => {
            let (truth, why) = if op.if_exists {
                (true, "...IfExists holds when the key is missing")
            } else {
                match op.qualifier {
                    Some(Qualifier::ForAllValues) => {
                        (true, "ForAllValues holds when the key is missing")
                    }
                    Some(Qualifier::ForAnyValue) => {
                        (false, "ForAnyValue fails when the key is missing")
                    }
                    None if op.base.negated() => {
                        (true, "a negated operator holds when the key is missing")
                    }
                    None => (false, "the key is missing"),
                }
            };
            return (
                if truth { Truth::True } else { Truth::False },
                format!("{head}: the token has no such claim; {why}"),
            );
        }
        KeyState::Present(v) => v,
    };
    if let BaseOp::Other(name) = &op.base {
        return (
            Truth::Unknown,
            format!("{head}: rolecall does not evaluate `{name}` operators"),
        );
    }
    let matches_one = |actual: &str| -> bool {
        if op.base == BaseOp::Bool {
            return c.values.iter().any(|p| p.eq_ignore_ascii_case(actual));
        }
        c.values
            .iter()
            .any(|p| value_matches(&op.base, p, actual, vars, ctx))
    };
    // A context value "passes" when it matches (positive operators) or
    // matches none of the values (negated ones).
    let passes = |actual: &str| matches_one(actual) != op.base.negated();
    let holds = match op.qualifier {
        Some(Qualifier::ForAllValues) => values.iter().all(|v| passes(v)),
        Some(Qualifier::ForAnyValue) => values.iter().any(|v| passes(v)),
        // Unqualified on a multi-valued key: positive operators hold when
        // any value matches, negated ones when no value matches (the
        // negation of the positive form).
        None if op.base.negated() => values.iter().all(|v| passes(v)),
        None => values.iter().any(|v| passes(v)),
    };
    let wanted = match (op.base.negated(), c.values.as_slice()) {
        (true, [one]) => format!("anything but `{one}`"),
        (true, many) => format!("none of {}", show(many).trim_start_matches("one of ")),
        (false, many) => show(many),
    };
    let reason = if holds {
        format!("{head}: {} satisfies {wanted}", show_actual(values))
    } else {
        format!(
            "{head}: the token has {}, the policy wants {wanted}",
            show_actual(values)
        )
    };
    (if holds { Truth::True } else { Truth::False }, reason)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn like_wildcards() {
        assert!(like("repo:acme/*", "repo:acme/web:ref:refs/heads/main"));
        assert!(like(
            "repo:acme/web:ref:refs/heads/?ain",
            "repo:acme/web:ref:refs/heads/main"
        ));
        assert!(!like(
            "repo:acme/web:ref:refs/heads/?",
            "repo:acme/web:ref:refs/heads/main"
        ));
        assert!(like("*", ""));
        assert!(like("a*b*c", "a-x-b-y-c"));
        assert!(!like("a*b*c", "a-x-b-y-d"));
        assert!(!like("Repo:acme/*", "repo:acme/web"));
    }

    #[test]
    fn wildcard_detection_ignores_escaped_characters() {
        assert!(has_wildcard("repo:acme/*"));
        assert!(!has_wildcard("repo:acme/${*}"));
        assert!(!has_wildcard("repo:acme/web:ref:refs/heads/main"));
    }
}
