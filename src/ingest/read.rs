//! Reading one input into memory: plain or gzip (also several concatenated
//! gzip members, as `cat a.gz b.gz` makes), from a file or stdin, with a cap
//! on decompressed bytes so that a gzip bomb is reported, not obeyed.
//!
//! A truncated or corrupt gzip stream keeps what decompressed before the
//! damage: the parser then reads every whole record in it and the error says
//! how far it got.

use std::io::{self, Read};
use std::path::Path;

use flate2::read::MultiGzDecoder;

use crate::error::InputError;

/// Default cap on one file's decompressed size. Real CloudTrail files are a
/// few MB to a few hundred MB; exports can be larger, hence the flag.
pub const DEFAULT_MAX_FILE_BYTES: u64 = 2 << 30;

/// An input's bytes after decompression.
pub struct Loaded {
    pub bytes: Vec<u8>,
    /// Bytes as stored (compressed size for gzip).
    pub stored_len: u64,
    pub gzip: bool,
}

fn read_capped(reader: &mut dyn Read, cap: u64, hint: usize) -> io::Result<(Vec<u8>, bool)> {
    let mut buf = Vec::with_capacity(hint);
    let n = reader.take(cap + 1).read_to_end(&mut buf)?;
    Ok((buf, n as u64 > cap))
}

/// Reads `path` (or stdin when `stdin` is set), decompressing gzip. Returns
/// the bytes it could read (possibly partial) and the errors it met.
pub fn load(path: &Path, display: &str, stdin: bool, max_bytes: u64) -> (Option<Loaded>, Vec<InputError>) {
    let stored = if stdin {
        read_capped(&mut io::stdin().lock(), max_bytes, 1 << 20)
    } else {
        match std::fs::File::open(path) {
            Ok(mut f) => {
                let hint = f.metadata().map(|m| m.len().min(max_bytes) as usize).unwrap_or(0);
                read_capped(&mut f, max_bytes, hint)
            }
            Err(e) => return (None, vec![InputError::file(display, format!("cannot open: {e}"))]),
        }
    };
    let (raw, too_big) = match stored {
        Ok(r) => r,
        Err(e) => return (None, vec![InputError::file(display, format!("cannot read: {e}"))]),
    };
    if too_big {
        return (
            None,
            vec![InputError::file(
                display,
                format!("larger than the {max_bytes}-byte limit (--max-file-bytes); not read"),
            )],
        );
    }
    decode(raw, display, max_bytes)
}

/// Decompresses gzip (one member or several) when the bytes are gzip, with
/// the same cap and the same keep-what-decompressed rule as [`load`].
pub fn decode(raw: Vec<u8>, display: &str, max_bytes: u64) -> (Option<Loaded>, Vec<InputError>) {
    let mut errors = Vec::new();
    let stored_len = raw.len() as u64;
    if raw.len() < 2 || raw[0] != 0x1f || raw[1] != 0x8b {
        if stored_len > max_bytes {
            errors.push(InputError::file(
                display,
                format!("larger than the {max_bytes}-byte limit (--max-file-bytes); not read"),
            ));
            return (None, errors);
        }
        return (
            Some(Loaded {
                bytes: raw,
                stored_len,
                gzip: false,
            }),
            errors,
        );
    }
    // The gzip trailer's size field is only a hint (mod 2^32, last member
    // only, attacker-controlled): never trust it for more than a head start.
    let hint = if raw.len() >= 4 {
        let t = &raw[raw.len() - 4..];
        (u32::from_le_bytes([t[0], t[1], t[2], t[3]]) as u64)
            .min(max_bytes)
            .min(64 << 20) as usize
    } else {
        0
    };
    let mut decoder = MultiGzDecoder::new(&raw[..]);
    let mut out = Vec::with_capacity(hint);
    let result = (&mut decoder).take(max_bytes + 1).read_to_end(&mut out);
    match result {
        Ok(n) if n as u64 > max_bytes => {
            errors.push(InputError::file(
                display,
                format!(
                    "decompresses to more than the {max_bytes}-byte limit (--max-file-bytes); not read (gzip bomb?)"
                ),
            ));
            (None, errors)
        }
        Ok(_) => (
            Some(Loaded {
                bytes: out,
                stored_len,
                gzip: true,
            }),
            errors,
        ),
        Err(e) => {
            errors.push(InputError::file(
                display,
                format!(
                    "gzip stream is truncated or corrupt after {} decompressed bytes ({e}); the records before that point were read",
                    out.len()
                ),
            ));
            (
                Some(Loaded {
                    bytes: out,
                    stored_len,
                    gzip: true,
                }),
                errors,
            )
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use flate2::write::GzEncoder;
    use flate2::Compression;
    use std::io::Write;

    fn gz(data: &[u8]) -> Vec<u8> {
        let mut e = GzEncoder::new(Vec::new(), Compression::default());
        e.write_all(data).unwrap();
        e.finish().unwrap()
    }

    fn write(dir: &tempfile::TempDir, name: &str, data: &[u8]) -> std::path::PathBuf {
        let p = dir.path().join(name);
        std::fs::write(&p, data).unwrap();
        p
    }

    #[test]
    fn reads_plain_gzip_and_concatenated_members() {
        let dir = tempfile::tempdir().unwrap();
        let p = write(&dir, "a.json", b"{}");
        let (l, e) = load(&p, "a.json", false, 1 << 20);
        assert!(e.is_empty());
        assert_eq!(l.unwrap().bytes, b"{}");
        let mut two = gz(b"{\"a\":1}\n");
        two.extend(gz(b"{\"b\":2}\n"));
        let p = write(&dir, "b.json.gz", &two);
        let (l, e) = load(&p, "b.json.gz", false, 1 << 20);
        assert!(e.is_empty());
        assert_eq!(l.unwrap().bytes, b"{\"a\":1}\n{\"b\":2}\n");
    }

    #[test]
    fn truncated_gzip_keeps_the_prefix_and_reports() {
        let dir = tempfile::tempdir().unwrap();
        let data: Vec<u8> = (0..20000)
            .flat_map(|i| format!("{{\"n\":{i}}}\n").into_bytes())
            .collect();
        let full = gz(&data);
        let p = write(&dir, "t.gz", &full[..full.len() / 2]);
        let (l, e) = load(&p, "t.gz", false, 1 << 30);
        assert_eq!(e.len(), 1);
        assert!(e[0].reason.contains("truncated or corrupt"), "{}", e[0]);
        let got = l.unwrap().bytes;
        assert!(!got.is_empty() && data.starts_with(&got));
    }

    #[test]
    fn caps_decompressed_size() {
        let dir = tempfile::tempdir().unwrap();
        let p = write(&dir, "bomb.gz", &gz(&vec![b' '; 1 << 20]));
        let (l, e) = load(&p, "bomb.gz", false, 1000);
        assert!(l.is_none());
        assert!(e[0].reason.contains("1000-byte limit"), "{}", e[0]);
        let p = write(&dir, "big.json", &[b' '; 2000]);
        let (l, e) = load(&p, "big.json", false, 1000);
        assert!(l.is_none());
        assert!(e[0].reason.contains("larger than"));
    }

    #[test]
    fn missing_file_is_an_error() {
        let (l, e) = load(Path::new("/nonexistent/x.json"), "x.json", false, 10);
        assert!(l.is_none());
        assert!(e[0].reason.starts_with("cannot open"));
    }
}
