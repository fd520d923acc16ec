//! Markdown table cells and paragraphs: markup shown as text, one line,
//! and nothing that pings or links on GitHub or GitLab.

use super::terminal::terminal;

/// A zero-width space as an entity: it renders as nothing, and breaks
/// the patterns GitHub and GitLab turn into mentions, references and
/// links (the way Dependabot and Renovate quote `@names`).
const BREAK: &str = "&#8203;";

/// Escapes text for a Markdown table cell or paragraph: markup is shown
/// as text, and nothing pings or links. `@user`, `#123`, `GH-1`, GitLab's
/// `!12`, `$3`, `%milestone` and `&epic`, bare `https://` and `www.`
/// autolinks, and e-mail addresses are broken with an invisible space, so
/// a table landing in a pull-request comment mentions nobody.
pub fn md(s: &str) -> String {
    let visible = terminal(s);
    let chars: Vec<char> = visible.chars().collect();
    let mut out = String::with_capacity(visible.len() + 16);
    for (i, &c) in chars.iter().enumerate() {
        let next = chars.get(i + 1).copied();
        let word_follows = next.is_some_and(|n| n.is_alphanumeric() || n == '_' || n == '-');
        match c {
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '&' => {
                out.push_str("&amp;");
                if word_follows {
                    out.push_str(BREAK);
                }
            }
            // Inline markup anywhere; with `[` and `]` escaped no link or
            // image can form.
            '\\' | '`' | '*' | '_' | '[' | ']' | '|' | '~' => {
                out.push('\\');
                out.push(c);
            }
            // Block markup only counts at the start of a line.
            '#' | '-' | '+' | '=' | '!' if i == 0 => {
                out.push('\\');
                out.push(c);
                if matches!(c, '#' | '!') && word_follows {
                    out.push_str(BREAK);
                }
            }
            // Mentions and references.
            '@' | '#' | '!' | '$' | '%' if word_follows => {
                out.push(c);
                out.push_str(BREAK);
            }
            // `scheme://` and `www.`: no bare autolink forms.
            ':' if next == Some('/') => {
                out.push(':');
                out.push_str(BREAK);
            }
            '.' if i >= 3
                && chars[i - 3..i]
                    .iter()
                    .collect::<String>()
                    .eq_ignore_ascii_case("www") =>
            {
                out.push_str(BREAK);
                out.push('.');
            }
            c => out.push(c),
        }
    }
    out
}

/// How a column's cells line up.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Align {
    Left,
    Right,
}

/// A Markdown table, written row by row: every Markdown table rolecall
/// prints (scan's `--format markdown`, the step summary, the report) is
/// laid out here. Cells are Markdown already: escape text with [`md`].
pub struct Table {
    out: String,
}

impl Table {
    /// A table with these columns (the header line and the alignment line).
    pub fn new(columns: &[(&str, Align)]) -> Table {
        let mut out = String::from("|");
        for (name, _) in columns {
            out.push(' ');
            out.push_str(name);
            out.push_str(" |");
        }
        out.push_str("\n|");
        for (_, align) in columns {
            out.push_str(match align {
                Align::Left => "---|",
                Align::Right => "---:|",
            });
        }
        out.push('\n');
        Table { out }
    }

    /// Columns that all line up to the left.
    pub fn left(names: &[&str]) -> Table {
        let columns: Vec<(&str, Align)> = names.iter().map(|n| (*n, Align::Left)).collect();
        Table::new(&columns)
    }

    /// One row.
    pub fn row<S: AsRef<str>>(&mut self, cells: impl IntoIterator<Item = S>) {
        self.out.push('|');
        for c in cells {
            self.out.push(' ');
            self.out.push_str(c.as_ref());
            self.out.push_str(" |");
        }
        self.out.push('\n');
    }

    /// The table's text, each line ending in a newline.
    pub fn finish(self) -> String {
        self.out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_what_markdown_would_read() {
        assert_eq!(md("a|b"), "a\\|b");
        assert_eq!(md("[x](http://evil)"), "\\[x\\](http:&#8203;//evil)");
        assert_eq!(md("<script>"), "&lt;script&gt;");
        assert_eq!(md("`code` *em* _u_"), "\\`code\\` \\*em\\* \\_u\\_");
        assert_eq!(md("# not a heading"), "\\# not a heading");
        assert_eq!(md("acme-web"), "acme-web", "a dash inside text stays");
        // The visible escape keeps its backslash when rendered.
        assert_eq!(md("line\nbreak"), "line\\\\u{a}break", "one line, always");
    }

    #[test]
    fn nothing_in_a_cell_mentions_references_or_links() {
        let z = "&#8203;";
        for (class, input, want) in [
            ("user mention", "@octocat", format!("@{z}octocat")),
            ("team mention", "@acme/ops", format!("@{z}acme/ops")),
            ("issue reference", "fixes #123", format!("fixes #{z}123")),
            ("issue reference first", "#9", format!("\\#{z}9")),
            ("GitLab merge request", "see !42", format!("see !{z}42")),
            ("GitLab snippet", "$7", format!("${z}7")),
            ("GitLab milestone", "%v1", format!("%{z}v1")),
            ("GitLab epic", "&12", format!("&amp;{z}12")),
            (
                "bare link",
                "https://evil.example/x",
                format!("https:{z}//evil.example/x"),
            ),
            (
                "www link",
                "www.evil.example",
                format!("www{z}.evil.example"),
            ),
            ("e-mail link", "a@b.example", format!("a@{z}b.example")),
        ] {
            assert_eq!(md(input), want, "{class}");
        }
        // Ordinary text is left alone.
        assert_eq!(md("100% of 3 calls @ 10:05"), "100% of 3 calls @ 10:05");
        assert_eq!(md("role/deploy-prod"), "role/deploy-prod");
    }

    #[test]
    fn tables_are_laid_out_one_way() {
        let mut t = Table::new(&[("rule", Align::Left), ("calls", Align::Right)]);
        t.row([md("a|b"), "3".to_string()]);
        t.row(["", "0"]);
        assert_eq!(
            t.finish(),
            "| rule | calls |\n|---|---:|\n| a\\|b | 3 |\n|  | 0 |\n"
        );
    }
}
