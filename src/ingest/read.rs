//! Opening one input: plain or gzip (also several concatenated gzip
//! members, as `cat a.gz b.gz` makes), from a file or stdin, with a cap on
//! decompressed bytes so that a gzip bomb is reported, not obeyed.
//!
//! What decompresses to at most [`WHOLE_LIMIT`] bytes is read into memory
//! whole ([`Opened::Whole`]): nearly every log file, on the fastest path
//! (libdeflate inflates a whole buffer about twice as fast as zlib-rs
//! streams). Anything larger is handed on as a reader
//! ([`Opened::Stream`]) for [`stream`](super::json::stream) to read in bounded
//! memory. The gzip trailer's size is only a hint for the first buffer:
//! it is the last member's size mod 2^32, and forgeable.
//!
//! A truncated or corrupt gzip stream keeps what decompressed before the
//! damage: the parser then reads every whole record in it and the error says
//! how far it got.

// Unsafe code here: libdeflate is called through its C interface. Each block says why it is sound.
#![allow(unsafe_code)]

use std::io::{self, Read};
use std::path::Path;

use flate2::read::MultiGzDecoder;

use crate::error::InputError;

/// Default cap on one file's decompressed size. Real CloudTrail files are a
/// few MB to a few hundred MB; exports can be larger, hence the flag.
pub const DEFAULT_MAX_FILE_BYTES: u64 = 2 << 30;

/// Inputs that decompress to at most this many bytes are read whole;
/// larger ones are streamed. Two workers each holding a file this size
/// (and, for gzip, its compressed bytes) stay well inside the memory the
/// README promises per file.
pub const WHOLE_LIMIT: u64 = 64 << 20;

/// An input, opened.
pub enum Opened {
    /// Small enough to read whole.
    Whole(Loaded),
    /// To be read as a stream: `head`, then `reader`.
    Stream(Streamed),
}

/// A large input's decompressed bytes, as a stream.
pub struct Streamed {
    /// Bytes already read from the start.
    pub head: Vec<u8>,
    /// The rest, decompressed.
    pub reader: Box<dyn Read + Send>,
    pub gzip: bool,
}

fn too_large(display: &str, max_bytes: u64) -> InputError {
    InputError::file(
        display,
        format!("larger than the {max_bytes}-byte limit (--max-file-bytes); not read"),
    )
}

/// The error for a gzip input that inflates past the cap.
pub fn bomb(display: &str, max_bytes: u64) -> InputError {
    InputError::file(
        display,
        format!(
            "decompresses to more than the {max_bytes}-byte limit (--max-file-bytes); not read (gzip bomb?)"
        ),
    )
}

/// Opens `path` (or stdin when `stdin` is set): whole when it is small
/// enough, else as a stream. A regular file larger than `max_bytes` is
/// refused unread.
pub fn open(
    path: &Path,
    display: &str,
    stdin: bool,
    max_bytes: u64,
) -> (Option<Opened>, Vec<InputError>) {
    open_within(path, display, stdin, max_bytes, WHOLE_LIMIT)
}

/// [`open`], reading whole what decompresses to at most `whole_limit`.
fn open_within(
    path: &Path,
    display: &str,
    stdin: bool,
    max_bytes: u64,
    whole_limit: u64,
) -> (Option<Opened>, Vec<InputError>) {
    let whole = whole_limit.min(max_bytes);
    let mut reader: Box<dyn Read + Send> = if stdin {
        Box::new(io::stdin())
    } else {
        let mut f = match std::fs::File::open(path) {
            Ok(f) => f,
            Err(e) => {
                return (
                    None,
                    vec![InputError::file(display, format!("cannot open: {e}"))],
                )
            }
        };
        let len = f.metadata().ok().filter(|m| m.is_file()).map(|m| m.len());
        if let Some(len) = len.filter(|&l| l <= whole) {
            // The usual case: a small file, read in one go into a buffer of
            // its size.
            let mut bytes = Vec::with_capacity(len as usize + 1);
            if let Err(e) = (&mut f).take(whole + 1).read_to_end(&mut bytes) {
                return (
                    None,
                    vec![InputError::file(display, format!("cannot read: {e}"))],
                );
            }
            if bytes.len() as u64 <= whole {
                return open_bytes_within(bytes, display, max_bytes, whole_limit);
            }
            // It grew while we read it: stream the rest.
            return (Some(stream(bytes, Box::new(f))), Vec::new());
        }
        match len {
            Some(len) if len > max_bytes => return (None, vec![too_large(display, max_bytes)]),
            Some(len) if len > whole => {
                // Large: only the first bytes are read now, to tell gzip.
                let mut magic = Vec::with_capacity(2);
                if let Err(e) = (&mut f).take(2).read_to_end(&mut magic) {
                    return (
                        None,
                        vec![InputError::file(display, format!("cannot read: {e}"))],
                    );
                }
                return (Some(stream(magic, Box::new(f))), Vec::new());
            }
            _ => Box::new(f),
        }
    };
    // Small, or of unknown size (stdin, a FIFO): read up to the limit for
    // reading whole, and stream beyond it.
    let mut head = Vec::new();
    if let Err(e) = (&mut reader).take(whole + 1).read_to_end(&mut head) {
        return (
            None,
            vec![InputError::file(display, format!("cannot read: {e}"))],
        );
    }
    if head.len() as u64 <= whole {
        return open_bytes_within(head, display, max_bytes, whole_limit);
    }
    if whole == max_bytes && !is_gzip(&head) {
        return (None, vec![too_large(display, max_bytes)]);
    }
    (Some(stream(head, reader)), Vec::new())
}

fn is_gzip(b: &[u8]) -> bool {
    b.len() >= 2 && b[0] == 0x1f && b[1] == 0x8b
}

/// A stream over `head` then `rest`, inflated when it is gzip.
fn stream(head: Vec<u8>, rest: Box<dyn Read + Send>) -> Opened {
    if is_gzip(&head) {
        let raw = io::Cursor::new(head).chain(rest);
        Opened::Stream(Streamed {
            head: Vec::new(),
            reader: Box::new(MultiGzDecoder::new(raw)),
            gzip: true,
        })
    } else {
        Opened::Stream(Streamed {
            head,
            reader: rest,
            gzip: false,
        })
    }
}

/// Opens bytes already in memory (a small file, an S3 object, an API
/// page): plain ones whole; gzip inflated whole when the result is small
/// enough, else streamed from the compressed bytes.
pub fn open_bytes(
    raw: Vec<u8>,
    display: &str,
    max_bytes: u64,
) -> (Option<Opened>, Vec<InputError>) {
    open_bytes_within(raw, display, max_bytes, WHOLE_LIMIT)
}

fn open_bytes_within(
    raw: Vec<u8>,
    display: &str,
    max_bytes: u64,
    whole_limit: u64,
) -> (Option<Opened>, Vec<InputError>) {
    if !is_gzip(&raw) {
        if raw.len() as u64 > max_bytes {
            return (None, vec![too_large(display, max_bytes)]);
        }
        let stored_len = raw.len() as u64;
        return (
            Some(Opened::Whole(Loaded {
                bytes: raw,
                stored_len,
                gzip: false,
            })),
            Vec::new(),
        );
    }
    let stored_len = raw.len() as u64;
    match gunzip_whole(&raw, whole_limit.min(max_bytes)) {
        Whole::Done(bytes) => (
            Some(Opened::Whole(Loaded {
                bytes,
                stored_len,
                gzip: true,
            })),
            Vec::new(),
        ),
        // Larger than a whole read takes, or damaged: streamed, under the
        // cap, and a stream keeps the records before any damage.
        Whole::Insufficient | Whole::Damaged => (
            Some(Opened::Stream(Streamed {
                head: Vec::new(),
                reader: Box::new(MultiGzDecoder::new(io::Cursor::new(raw))),
                gzip: true,
            })),
            Vec::new(),
        ),
    }
}

/// The error for a gzip stream that breaks off after `after` bytes.
pub fn damaged(display: &str, after: u64, e: &io::Error) -> InputError {
    InputError::file(
        display,
        format!(
            "gzip stream is truncated or corrupt after {after} decompressed bytes ({e}); the records before that point were read"
        ),
    )
}

/// An input's bytes after decompression.
pub struct Loaded {
    pub bytes: Vec<u8>,
    /// Bytes as stored (compressed size for gzip).
    pub stored_len: u64,
    pub gzip: bool,
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
    /// Larger than the buffer the trailer (or the compressed size) asked
    /// for: several members, a trailer that lies, or simply large.
    Insufficient,
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

/// Whole-buffer gzip decompression with libdeflate, in one buffer sized
/// once.
///
/// libdeflate decompresses about twice as fast as zlib-rs through flate2
/// here and checks the CRC at memory speed; it needs the output size up
/// front, which the trailer gives for the usual single-member file. The
/// trailer is trusted only as far as DEFLATE can expand at all (1032:1),
/// and only up to `limit`: what needs more room than that (a larger file,
/// several members, a forged or wrapped size, a bomb) is
/// [`Whole::Insufficient`], and the caller streams it instead of growing a
/// buffer toward the cap. Damaged input is not salvaged here: the stream
/// reader keeps the records before the damage.
fn gunzip_whole(raw: &[u8], limit: u64) -> Whole {
    use libdeflate_sys::{
        libdeflate_alloc_decompressor, libdeflate_gzip_decompress_ex,
        libdeflate_result_LIBDEFLATE_INSUFFICIENT_SPACE as INSUFFICIENT_SPACE,
        libdeflate_result_LIBDEFLATE_SUCCESS as SUCCESS,
    };
    let limit = usize::try_from(limit).unwrap_or(usize::MAX);
    let trailer = hint_from_trailer(raw);
    let size = if trailer > 0 && trailer <= raw.len().saturating_mul(1032) {
        trailer
    } else {
        raw.len().saturating_mul(4).max(1 << 16)
    };
    if size > limit {
        return Whole::Insufficient;
    }
    // SAFETY: plain allocation; null means out of memory.
    let d = Libdeflate(unsafe { libdeflate_alloc_decompressor() });
    if d.0.is_null() {
        return Whole::Damaged;
    }
    let mut out: Vec<u8> = Vec::with_capacity(size);
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
                pos += used_in;
            }
            INSUFFICIENT_SPACE => return Whole::Insufficient,
            _ => return Whole::Damaged,
        }
    }
    Whole::Done(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use flate2::write::GzEncoder;
    use flate2::Compression;
    use std::io::Write;

    fn whole(opened: (Option<Opened>, Vec<InputError>)) -> (Option<Loaded>, Vec<InputError>) {
        match opened {
            (Some(Opened::Whole(l)), e) => (Some(l), e),
            (Some(Opened::Stream(_)), _) => panic!("streamed, not read whole"),
            (None, e) => (None, e),
        }
    }

    fn load(
        path: &Path,
        display: &str,
        stdin: bool,
        max: u64,
    ) -> (Option<Loaded>, Vec<InputError>) {
        whole(open(path, display, stdin, max))
    }

    fn decode(raw: Vec<u8>, display: &str, max: u64) -> (Option<Loaded>, Vec<InputError>) {
        whole(open_bytes(raw, display, max))
    }

    /// The stream's bytes, all of them, and the error that ended it.
    fn drain(opened: Option<Opened>) -> (Vec<u8>, Option<io::Error>) {
        let Some(Opened::Stream(mut s)) = opened else {
            panic!("read whole, not streamed");
        };
        let mut out = s.head;
        let e = s.reader.read_to_end(&mut out).err();
        (out, e)
    }

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

    /// All the bytes an opened input yields, read whole or streamed, and
    /// the error a stream ended with.
    fn all_bytes(opened: Option<Opened>) -> (Vec<u8>, Option<io::Error>) {
        match opened {
            Some(Opened::Whole(l)) => (l.bytes, None),
            other => drain(other),
        }
    }

    /// What reading through the parser says of `raw` under a cap.
    fn ingest_errors(raw: Vec<u8>, max: u64) -> Vec<String> {
        let opts = crate::ingest::IngestOptions {
            max_file_bytes: max,
            ..Default::default()
        };
        crate::ingest::read_bytes("x.gz", raw, 0, &opts)
            .errors
            .iter()
            .map(ToString::to_string)
            .collect()
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
        let (opened, e) = open(&p, "b.json.gz", false, 1 << 20);
        assert!(e.is_empty());
        let (got, err) = all_bytes(opened);
        assert!(err.is_none());
        assert_eq!(got, b"{\"a\":1}\n{\"b\":2}\n");
    }

    #[test]
    fn a_single_member_whose_trailer_is_right_is_read_whole_in_one_buffer() {
        let big: Vec<u8> = (0..50_000)
            .flat_map(|i| format!("{{\"n\":{i}}}\n").into_bytes())
            .collect();
        let (l, e) = decode(gz(&big), "one.gz", 1 << 30);
        assert!(e.is_empty());
        let l = l.unwrap();
        assert_eq!(l.bytes, big);
        assert_eq!(
            l.bytes.capacity(),
            big.len(),
            "sized once, from the trailer"
        );
    }

    #[test]
    fn members_beyond_the_trailer_and_forged_trailers_are_streamed_whole() {
        let big: Vec<u8> = (0..50_000)
            .flat_map(|i| format!("{{\"n\":{i}}}\n").into_bytes())
            .collect();
        let mut two = gz(&big);
        two.extend(gz(b"{\"last\":1}\n"));
        let (opened, e) = open_bytes(two, "two.gz", 1 << 30);
        assert!(e.is_empty(), "{e:?}");
        let (got, err) = all_bytes(opened);
        assert!(err.is_none());
        assert_eq!(got.len(), big.len() + 11);
        assert!(got.starts_with(&big) && got.ends_with(b"{\"last\":1}\n"));
        // A trailer claiming 4 GiB in a tiny file.
        let mut forged = gz(b"{\"a\":1}\n");
        let n = forged.len();
        forged[n - 4..].copy_from_slice(&u32::MAX.to_le_bytes());
        let (opened, e) = open_bytes(forged, "forged.gz", 1 << 30);
        assert!(e.is_empty());
        // The size check fails (the stream is otherwise whole): read as
        // far as it goes, and the stream says so.
        let (got, err) = all_bytes(opened);
        assert_eq!(got, b"{\"a\":1}\n");
        assert!(err.is_some());
    }

    #[test]
    fn the_size_cap_is_exact() {
        let data = format!("{{\"a\":{}1}}", " ".repeat(4089)).into_bytes();
        assert_eq!(data.len(), 4096);
        assert!(ingest_errors(gz(&data), 4096)
            .iter()
            .all(|e| !e.contains("limit")));
        let e = ingest_errors(gz(&data), 4095);
        assert!(e.iter().any(|e| e.contains("4095-byte limit")), "{e:?}");
    }

    #[test]
    fn truncated_gzip_keeps_the_prefix_and_reports() {
        let dir = tempfile::tempdir().unwrap();
        let data: Vec<u8> = (0..20000)
            .flat_map(|i| format!("{{\"n\":{i}}}\n").into_bytes())
            .collect();
        let full = gz(&data);
        let p = write(&dir, "t.gz", &full[..full.len() / 2]);
        let (opened, e) = open(&p, "t.gz", false, 1 << 30);
        assert!(e.is_empty());
        let (got, err) = all_bytes(opened);
        assert!(err.is_some(), "the damage ends the stream with an error");
        assert!(!got.is_empty() && data.starts_with(&got));
    }

    #[test]
    fn caps_decompressed_size() {
        // A bomb whose content looks like a log is refused at the cap.
        let mut bomb = b"{\"Records\":[".to_vec();
        bomb.extend(vec![b' '; 1 << 20]);
        let e = ingest_errors(gz(&bomb), 1000);
        assert!(e.iter().any(|e| e.contains("1000-byte limit")), "{e:?}");
        let dir = tempfile::tempdir().unwrap();
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

    #[test]
    fn what_inflates_past_the_whole_limit_is_streamed_and_never_held() {
        let data: Vec<u8> = (0..20_000)
            .flat_map(|i| format!("{{\"n\":{i}}}\n").into_bytes())
            .collect();
        // The trailer is right, and larger than the limit: streamed.
        let (opened, e) = open_bytes_within(gz(&data), "big.gz", 1 << 30, 4096);
        assert!(e.is_empty(), "{e:?}");
        assert!(matches!(opened, Some(Opened::Stream(_))));
        let (got, err) = all_bytes(opened);
        assert!(err.is_none());
        assert_eq!(got, data);
        // A trailer that understates the size (mod 2^32, or forged) does
        // not decide either: the one buffer is too small, and it streams.
        let mut forged = gz(&data);
        let n = forged.len();
        forged[n - 4..].copy_from_slice(&16u32.to_le_bytes());
        let (opened, e) = open_bytes_within(forged, "forged.gz", 1 << 30, 1 << 20);
        assert!(e.is_empty(), "{e:?}");
        let (got, err) = all_bytes(opened);
        assert_eq!(got, data);
        assert!(err.is_some(), "the size check fails at the end");
    }

    #[test]
    fn large_plain_and_gzip_files_stream_from_disk() {
        let dir = tempfile::tempdir().unwrap();
        let data: Vec<u8> = (0..20_000)
            .flat_map(|i| format!("{{\"n\":{i}}}\n").into_bytes())
            .collect();
        let p = write(&dir, "big.ndjson", &data);
        let (opened, e) = open_within(&p, "big.ndjson", false, 1 << 30, 4096);
        assert!(e.is_empty());
        let (got, err) = drain(opened);
        assert!(err.is_none());
        assert_eq!(got, data);
        let p = write(&dir, "big.ndjson.gz", &gz(&data));
        let (opened, e) = open_within(&p, "big.ndjson.gz", false, 1 << 30, 4096);
        assert!(e.is_empty());
        let (got, err) = drain(opened);
        assert!(err.is_none());
        assert_eq!(got, data);
        // Larger on disk than the cap: refused unread.
        let (opened, e) = open_within(&p, "big.ndjson.gz", false, 100, 50);
        assert!(opened.is_none());
        assert!(e[0].reason.contains("100-byte limit"), "{}", e[0]);
    }

    #[test]
    fn a_truncated_large_gzip_streams_to_the_damage() {
        let data: Vec<u8> = (0..50_000)
            .flat_map(|i| format!("{{\"n\":{i}}}\n").into_bytes())
            .collect();
        let full = gz(&data);
        let cut = full[..full.len() / 2].to_vec();
        let (opened, e) = open_bytes_within(cut, "t.gz", 1 << 30, 4096);
        assert!(e.is_empty(), "{e:?}");
        let (got, err) = drain(opened);
        assert!(err.is_some(), "the damage is an error of the stream");
        assert!(got.len() > 4096 && data.starts_with(&got));
    }
}
