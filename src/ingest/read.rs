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
pub fn load(
    path: &Path,
    display: &str,
    stdin: bool,
    max_bytes: u64,
) -> (Option<Loaded>, Vec<InputError>) {
    let stored = if stdin {
        read_capped(&mut io::stdin().lock(), max_bytes, 1 << 20)
    } else {
        match std::fs::File::open(path) {
            Ok(mut f) => {
                let hint = f
                    .metadata()
                    .map(|m| m.len().min(max_bytes) as usize)
                    .unwrap_or(0);
                read_capped(&mut f, max_bytes, hint)
            }
            Err(e) => {
                return (
                    None,
                    vec![InputError::file(display, format!("cannot open: {e}"))],
                )
            }
        }
    };
    let (raw, too_big) = match stored {
        Ok(r) => r,
        Err(e) => {
            return (
                None,
                vec![InputError::file(display, format!("cannot read: {e}"))],
            )
        }
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

/// The gzip trailer's ISIZE (the last member's size mod 2^32).
fn hint_from_trailer(raw: &[u8]) -> usize {
    match raw.len().checked_sub(4) {
        Some(at) => u32::from_le_bytes([raw[at], raw[at + 1], raw[at + 2], raw[at + 3]]) as usize,
        None => 0,
    }
}

enum Whole {
    Done(Vec<u8>),
    TooLarge,
    Damaged,
}

/// An owned libdeflate decompressor.
struct Libdeflate(*mut libdeflate_sys::libdeflate_decompressor);

impl Drop for Libdeflate {
    fn drop(&mut self) {
        // SAFETY: allocated by libdeflate_alloc_decompressor, freed once.
        unsafe { libdeflate_sys::libdeflate_free_decompressor(self.0) }
    }
}

/// Whole-buffer gzip decompression with libdeflate, member after member.
///
/// libdeflate decompresses about twice as fast as zlib-rs through flate2
/// here and checks the CRC at memory speed; it needs the output size up
/// front, which the trailer gives for the usual single-member file. A
/// member that does not fit grows the buffer (doubling, up to the cap) and
/// is decompressed again. Damaged input is not salvaged here: the caller
/// re-reads it as a stream to keep the records before the damage.
fn gunzip_whole(raw: &[u8], max_bytes: u64) -> Whole {
    use libdeflate_sys::{
        libdeflate_alloc_decompressor, libdeflate_gzip_decompress_ex,
        libdeflate_result_LIBDEFLATE_INSUFFICIENT_SPACE as INSUFFICIENT_SPACE,
        libdeflate_result_LIBDEFLATE_SUCCESS as SUCCESS,
    };
    // SAFETY: plain allocation; null means out of memory.
    let d = Libdeflate(unsafe { libdeflate_alloc_decompressor() });
    if d.0.is_null() {
        return Whole::Damaged;
    }
    let cap = usize::try_from(max_bytes)
        .unwrap_or(usize::MAX)
        .saturating_add(1);
    // The trailer's size is exact for a single member under 4 GiB; trust it
    // as far as DEFLATE can expand at all (1032:1), so a forged size in a
    // small file cannot ask for gigabytes.
    let trailer = hint_from_trailer(raw);
    let first = if trailer > 0 && trailer <= raw.len().saturating_mul(1032) {
        trailer
    } else {
        raw.len().saturating_mul(4)
    };
    let mut out: Vec<u8> = Vec::with_capacity(first.min(cap));
    let mut pos = 0;
    while pos < raw.len() {
        let (mut used_in, mut used_out) = (0usize, 0usize);
        let spare = out.capacity() - out.len();
        // SAFETY: input is raw[pos..]; output is the vector's spare
        // capacity, of which libdeflate writes at most `spare` bytes and
        // reports how many; only those become part of the vector.
        let result = unsafe {
            libdeflate_gzip_decompress_ex(
                d.0,
                raw[pos..].as_ptr().cast(),
                raw.len() - pos,
                out.as_mut_ptr().add(out.len()).cast(),
                spare,
                &mut used_in,
                &mut used_out,
            )
        };
        match result {
            SUCCESS => {
                // SAFETY: libdeflate initialised `used_out` bytes.
                unsafe { out.set_len(out.len() + used_out) };
                if out.len() > cap - 1 {
                    return Whole::TooLarge;
                }
                pos += used_in;
            }
            INSUFFICIENT_SPACE => {
                if out.capacity() >= cap {
                    return Whole::TooLarge;
                }
                let grown = out.capacity().saturating_mul(2).max(1 << 16).min(cap);
                out.reserve_exact(grown - out.len());
            }
            _ => return Whole::Damaged,
        }
    }
    Whole::Done(out)
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
    match gunzip_whole(&raw, max_bytes) {
        Whole::Done(bytes) => {
            return (
                Some(Loaded {
                    bytes,
                    stored_len,
                    gzip: true,
                }),
                errors,
            )
        }
        Whole::TooLarge => {
            errors.push(InputError::file(
                display,
                format!(
                    "decompresses to more than the {max_bytes}-byte limit (--max-file-bytes); not read (gzip bomb?)"
                ),
            ));
            return (None, errors);
        }
        // Read it again as a stream, which keeps what came before the damage.
        Whole::Damaged => {}
    }
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
    fn a_first_member_larger_than_the_trailer_says_and_a_forged_trailer_still_decode_whole() {
        let big: Vec<u8> = (0..50_000)
            .flat_map(|i| format!("{{\"n\":{i}}}\n").into_bytes())
            .collect();
        let mut two = gz(&big);
        two.extend(gz(b"{\"last\":1}\n"));
        let (l, e) = decode(two, "two.gz", 1 << 30);
        assert!(e.is_empty(), "{e:?}");
        let got = l.unwrap().bytes;
        assert_eq!(got.len(), big.len() + 11);
        assert!(got.starts_with(&big) && got.ends_with(b"{\"last\":1}\n"));
        // A trailer claiming 4 GiB in a tiny file.
        let mut forged = gz(b"{\"a\":1}\n");
        let n = forged.len();
        forged[n - 4..].copy_from_slice(&u32::MAX.to_le_bytes());
        let (l, e) = decode(forged, "forged.gz", 1 << 30);
        // The size check fails (the stream is otherwise whole): read as
        // far as it goes and say so.
        assert_eq!(l.unwrap().bytes, b"{\"a\":1}\n");
        assert_eq!(e.len(), 1, "{e:?}");
    }

    #[test]
    fn the_size_cap_is_exact() {
        let data = vec![b' '; 4096];
        let (l, e) = decode(gz(&data), "exact.gz", 4096);
        assert!(e.is_empty());
        assert_eq!(l.unwrap().bytes.len(), 4096);
        let (l, e) = decode(gz(&data), "over.gz", 4095);
        assert!(l.is_none());
        assert!(e[0].reason.contains("4095-byte limit"), "{}", e[0]);
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
