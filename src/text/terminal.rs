//! Text for a terminal: one line, nothing hidden, nothing obeyed.
//!
//! Before a value reaches a terminal (or any format built on it), control
//! characters, escape sequences, bidirectional marks and invisible
//! characters become visible `\u{..}` escapes, and JWT signatures are
//! removed. Every other escaper in [`text`](super) starts from this one.

use std::borrow::Cow;

use super::jwt::redact_jwts;

/// Characters that change how text is displayed rather than being
/// displayed, or are not displayed at all: C0/C1 controls, DEL, bidi
/// marks, embeddings, overrides and isolates, zero-width and other
/// invisible format characters (soft hyphen, joiners, fillers, variation
/// selectors), line and paragraph separators, and Unicode tag characters
/// (U+E0000 to U+E007F), which smuggle invisible ASCII.
pub fn is_unsafe_char(c: char) -> bool {
    matches!(c,
        '\u{0}'..='\u{1f}' | '\u{7f}'..='\u{9f}'
        | '\u{ad}' | '\u{34f}' | '\u{61c}' | '\u{115f}' | '\u{1160}'
        | '\u{17b4}' | '\u{17b5}' | '\u{180b}'..='\u{180f}'
        | '\u{200b}'..='\u{200f}' | '\u{2028}'..='\u{202e}'
        | '\u{2060}'..='\u{206f}' | '\u{3164}' | '\u{fe00}'..='\u{fe0f}'
        | '\u{feff}' | '\u{ffa0}' | '\u{fff9}'..='\u{fffb}'
        | '\u{1d173}'..='\u{1d17a}' | '\u{e0000}'..='\u{e007f}'
        | '\u{e0100}'..='\u{e01ef}')
}

/// Text safe to print on a terminal: one line, nothing hidden.
pub fn terminal(s: &str) -> Cow<'_, str> {
    let s = redact_jwts(s);
    if !s.chars().any(is_unsafe_char) {
        return s;
    }
    let mut out = String::with_capacity(s.len() + 8);
    for c in s.chars() {
        if is_unsafe_char(c) {
            out.push_str(&format!("\\u{{{:x}}}", c as u32));
        } else {
            out.push(c);
        }
    }
    Cow::Owned(out)
}

/// Shortens to at most `max` characters, marking the cut with `…`.
pub fn truncate(s: &str, max: usize) -> Cow<'_, str> {
    if s.chars().count() <= max {
        return Cow::Borrowed(s);
    }
    let keep: String = s.chars().take(max.saturating_sub(1)).collect();
    Cow::Owned(format!("{keep}…"))
}

/// Terminal-safe and at most `max` characters.
pub fn cell(s: &str, max: usize) -> String {
    truncate(&terminal(s), max).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn terminal_escapes_controls_and_bidi() {
        assert_eq!(terminal("a\x1b[31mred"), "a\\u{1b}[31mred");
        assert_eq!(terminal("evil\u{202e}txt.exe"), "evil\\u{202e}txt.exe");
        assert_eq!(terminal("two\nlines"), "two\\u{a}lines");
        assert_eq!(terminal("zero\u{200b}width"), "zero\\u{200b}width");
        assert_eq!(terminal("plain ünïcode 日本"), "plain ünïcode 日本");
        assert_eq!(terminal("c1\u{9b}31m"), "c1\\u{9b}31m");
    }

    #[test]
    fn terminal_escapes_every_invisible_class() {
        for (class, c) in [
            ("tag character", '\u{e0041}'),
            ("tag cancel", '\u{e007f}'),
            ("language tag", '\u{e0001}'),
            ("left-to-right embedding", '\u{202a}'),
            ("right-to-left override", '\u{202e}'),
            ("left-to-right isolate", '\u{2066}'),
            ("pop directional isolate", '\u{2069}'),
            ("arabic letter mark", '\u{61c}'),
            ("zero width space", '\u{200b}'),
            ("zero width joiner", '\u{200d}'),
            ("word joiner", '\u{2060}'),
            ("invisible separator", '\u{2063}'),
            ("byte order mark", '\u{feff}'),
            ("soft hyphen", '\u{ad}'),
            ("hangul filler", '\u{3164}'),
            ("variation selector", '\u{fe0f}'),
            ("mongolian vowel separator", '\u{180e}'),
        ] {
            let input = format!("a{c}b");
            let out = terminal(&input);
            assert_eq!(out, format!("a\\u{{{:x}}}b", c as u32), "{class}");
            assert!(out.is_ascii(), "{class}");
        }
    }

    #[test]
    fn truncation_respects_characters() {
        assert_eq!(truncate("日本語テキスト", 4), "日本語…");
        assert_eq!(truncate("short", 10), "short");
        assert_eq!(cell(&"x".repeat(10_000), 20).chars().count(), 20);
    }
}
