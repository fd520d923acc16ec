//! XML 1.0 content and double-quoted attributes: made visible first (XML
//! cannot carry most control characters even escaped), then escaped. No
//! CDATA is ever written, so `]]>` in a value is just text.

use std::fmt::Write as _;

use super::terminal::terminal;

/// Escapes text for XML content and double-quoted attributes.
pub fn xml(s: &str) -> String {
    let visible = terminal(s);
    let mut out = String::with_capacity(visible.len() + 16);
    for c in visible.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            // Not characters in XML 1.0.
            '\u{fffe}' | '\u{ffff}' => {
                let _ = write!(out, "\\u{{{:x}}}", c as u32);
            }
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_markup_cdata_ends_and_controls() {
        assert_eq!(
            xml("]]><a b=\"c\">'&'"),
            "]]&gt;&lt;a b=&quot;c&quot;&gt;&apos;&amp;&apos;"
        );
        assert_eq!(xml("x\u{0}\u{1b}\u{ffff}"), "x\\u{0}\\u{1b}\\u{ffff}");
    }
}
