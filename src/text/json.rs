//! JSON that is also safe to print: valid UTF-8 JSON in which, beyond
//! what JSON requires, bidirectional controls, C1 controls and invisible
//! characters are written as `\uXXXX` (beyond the BMP, as a surrogate
//! pair), and JWT signatures are removed.

use std::io::{self, Write};

use serde::Serialize;
use serde_json::ser::{CompactFormatter, Formatter, PrettyFormatter};

use super::jwt::redact_jwts;
use super::terminal::is_unsafe_char;

/// Wraps a serde_json formatter to escape display-changing characters.
pub struct SafeFormatter<F>(pub F);

impl<F: Formatter> Formatter for SafeFormatter<F> {
    fn write_string_fragment<W: ?Sized + Write>(
        &mut self,
        writer: &mut W,
        fragment: &str,
    ) -> io::Result<()> {
        let fragment = redact_jwts(fragment);
        let mut start = 0;
        for (i, c) in fragment.char_indices() {
            if is_unsafe_char(c) {
                writer.write_all(fragment[start..i].as_bytes())?;
                // Beyond the BMP (tag characters) as a surrogate pair:
                // `\u` takes exactly four hex digits.
                for unit in c.encode_utf16(&mut [0; 2]) {
                    write!(writer, "\\u{:04x}", unit)?;
                }
                start = i + c.len_utf8();
            }
        }
        writer.write_all(fragment[start..].as_bytes())
    }

    // Delegate structure to the inner formatter (pretty or compact).
    fn begin_array<W: ?Sized + Write>(&mut self, w: &mut W) -> io::Result<()> {
        self.0.begin_array(w)
    }
    fn end_array<W: ?Sized + Write>(&mut self, w: &mut W) -> io::Result<()> {
        self.0.end_array(w)
    }
    fn begin_array_value<W: ?Sized + Write>(&mut self, w: &mut W, first: bool) -> io::Result<()> {
        self.0.begin_array_value(w, first)
    }
    fn end_array_value<W: ?Sized + Write>(&mut self, w: &mut W) -> io::Result<()> {
        self.0.end_array_value(w)
    }
    fn begin_object<W: ?Sized + Write>(&mut self, w: &mut W) -> io::Result<()> {
        self.0.begin_object(w)
    }
    fn end_object<W: ?Sized + Write>(&mut self, w: &mut W) -> io::Result<()> {
        self.0.end_object(w)
    }
    fn begin_object_key<W: ?Sized + Write>(&mut self, w: &mut W, first: bool) -> io::Result<()> {
        self.0.begin_object_key(w, first)
    }
    fn end_object_key<W: ?Sized + Write>(&mut self, w: &mut W) -> io::Result<()> {
        self.0.end_object_key(w)
    }
    fn begin_object_value<W: ?Sized + Write>(&mut self, w: &mut W) -> io::Result<()> {
        self.0.begin_object_value(w)
    }
    fn end_object_value<W: ?Sized + Write>(&mut self, w: &mut W) -> io::Result<()> {
        self.0.end_object_value(w)
    }
}

/// Writes `value` as pretty JSON through the safe formatter.
pub fn write_pretty<T: Serialize + ?Sized, W: Write>(w: &mut W, value: &T) -> io::Result<()> {
    let mut ser =
        serde_json::Serializer::with_formatter(&mut *w, SafeFormatter(PrettyFormatter::new()));
    value.serialize(&mut ser).map_err(io::Error::from)?;
    w.write_all(b"\n")
}

/// Writes `value` as one compact JSON line.
pub fn write_line<T: Serialize + ?Sized, W: Write>(w: &mut W, value: &T) -> io::Result<()> {
    let mut ser = serde_json::Serializer::with_formatter(&mut *w, SafeFormatter(CompactFormatter));
    value.serialize(&mut ser).map_err(io::Error::from)?;
    w.write_all(b"\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_bidi_and_keeps_valid_json() {
        let mut buf = Vec::new();
        write_line(
            &mut buf,
            &serde_json::json!({"ua": "x\u{202e}y\u{1b}[0m\u{85}", "ok": "日本"}),
        )
        .unwrap();
        let text = String::from_utf8(buf).unwrap();
        assert_eq!(
            text,
            "{\"ua\":\"x\\u202ey\\u001b[0m\\u0085\",\"ok\":\"日本\"}\n"
        );
        let back: serde_json::Value = serde_json::from_str(&text).unwrap();
        assert_eq!(back["ua"], "x\u{202e}y\u{1b}[0m\u{85}");
    }

    #[test]
    fn removes_jwt_signatures() {
        let mut buf = Vec::new();
        write_line(
            &mut buf,
            &serde_json::json!({"a": "eyJhbGciOiJub25lIn0.eyJzdWIiOiJ4In0.c2ln"}),
        )
        .unwrap();
        assert!(String::from_utf8(buf)
            .unwrap()
            .contains("eyJzdWIiOiJ4In0.<redacted>"));
    }
}
