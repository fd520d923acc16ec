//! CSV fields: control characters and bidi overrides made visible (a CSV
//! is often `cat` to a terminal), formula triggers neutralized with a
//! leading `'`, quoted when a field holds a separator or quote.

use super::terminal::terminal;

/// One CSV field: control characters and bidi overrides made visible (a CSV
/// is often `cat` to a terminal), formula triggers neutralized with a
/// leading `'`, quoted when it holds a separator or quote.
pub fn csv_field(s: &str) -> String {
    let s = terminal(s);
    let neutral = match s.chars().next() {
        Some('=' | '+' | '-' | '@' | '\t' | '\r') => format!("'{s}"),
        _ => s.into_owned(),
    };
    if neutral.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", neutral.replace('"', "\"\""))
    } else {
        neutral
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn csv_neutralizes_formulas() {
        assert_eq!(
            csv_field("=HYPERLINK(\"http://x\",\"y\")"),
            "\"'=HYPERLINK(\"\"http://x\"\",\"\"y\"\")\""
        );
        assert_eq!(csv_field("+1"), "'+1");
        assert_eq!(csv_field("-2"), "'-2");
        assert_eq!(csv_field("@SUM(A1)"), "'@SUM(A1)");
        assert_eq!(
            csv_field("\tx"),
            "\\u{9}x",
            "a leading tab is shown, so it triggers nothing"
        );
        assert_eq!(csv_field("a\x1b[2Jb"), "a\\u{1b}[2Jb");
        assert_eq!(csv_field("a,b"), "\"a,b\"");
        assert_eq!(csv_field("ok"), "ok");
    }
}
