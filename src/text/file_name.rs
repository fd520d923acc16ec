//! Names of files that derive from input content, and writing them.
//!
//! Role ARNs, account ids, session names and view titles come from logs
//! and exports an attacker can shape (`arn:aws:iam::../../x:role/r`). A
//! file rolecall names after them is one path component from a safe
//! alphabet, never a path: [`component`] makes it, with a short hash of the
//! original when anything had to change, so that two inputs never share a
//! file. [`write_in`] writes such a file inside a directory without
//! following a link planted under its name.

use std::io::{self, Write};
use std::path::{Path, PathBuf};

/// The longest component [`component`] returns, hash included: well under
/// every file system's 255-byte limit, with room for an extension.
pub const MAX_COMPONENT: usize = 120;

/// Windows device names, which name a device whatever extension follows.
const RESERVED: &[&str] = &[
    "CON", "PRN", "AUX", "NUL", "COM1", "COM2", "COM3", "COM4", "COM5", "COM6", "COM7", "COM8",
    "COM9", "LPT1", "LPT2", "LPT3", "LPT4", "LPT5", "LPT6", "LPT7", "LPT8", "LPT9",
];

/// `name` as one safe path component: ASCII letters, digits, `.`, `_` and
/// `-` kept, anything else `_`; no leading dot or dash, no trailing dot,
/// no device name, at most [`MAX_COMPONENT`] bytes. When the result is not
/// `name` itself, `-` and eight hex digits of the original's SHA-256 end
/// it, so different names never meet.
pub fn component(name: &str) -> String {
    let mut out: String = name
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-') {
                c
            } else {
                '_'
            }
        })
        .collect();
    if out.starts_with(['.', '-']) {
        out.replace_range(..1, "_");
    }
    if out.ends_with('.') {
        out.pop();
        out.push('_');
    }
    let stem = out.split('.').next().unwrap_or("");
    if RESERVED.iter().any(|r| r.eq_ignore_ascii_case(stem)) {
        out.insert(0, '_');
    }
    if out.is_empty() {
        out.push('_');
    }
    if out == name && out.len() <= MAX_COMPONENT {
        return out;
    }
    out.truncate(MAX_COMPONENT - 9);
    format!("{out}-{}", sha256_prefix(name.as_bytes()))
}

/// Writes `contents` to `dir/name`, where `name` is one component (see
/// [`component`]). The bytes go to a new file created beside it (never an
/// existing one, never through a link), which then replaces `dir/name`: a
/// link planted there is replaced, not followed.
pub fn write_in(dir: &Path, name: &str, contents: &[u8]) -> io::Result<PathBuf> {
    if name.is_empty()
        || name == "."
        || name == ".."
        || name.contains(['/', '\\', '\0'])
        || Path::new(name).components().count() != 1
    {
        return Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            format!("{name:?} is not a single file name"),
        ));
    }
    let dest = dir.join(name);
    for attempt in 0..100u32 {
        let temp = dir.join(format!(".{name}.{}-{attempt}.tmp", std::process::id()));
        let mut options = std::fs::OpenOptions::new();
        options.write(true).create_new(true);
        #[cfg(unix)]
        {
            use std::os::unix::fs::OpenOptionsExt;
            options.custom_flags(libc::O_NOFOLLOW);
        }
        let mut f = match options.open(&temp) {
            Ok(f) => f,
            Err(e) if e.kind() == io::ErrorKind::AlreadyExists => continue,
            Err(e) => return Err(e),
        };
        let written = f.write_all(contents).and_then(|()| f.sync_all());
        drop(f);
        if let Err(e) = written.and_then(|()| std::fs::rename(&temp, &dest)) {
            let _ = std::fs::remove_file(&temp);
            return Err(e);
        }
        return Ok(dest);
    }
    Err(io::Error::other(format!(
        "cannot create a temporary file beside {}",
        dest.display()
    )))
}

/// The first eight hex digits of SHA-256.
fn sha256_prefix(bytes: &[u8]) -> String {
    let digest = ring::digest::digest(&ring::digest::SHA256, bytes);
    digest.as_ref()[..4]
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hostile_names_become_one_safe_component() {
        for hostile in [
            "../../escaped",
            "a/b",
            "a\\b",
            "nul\0byte",
            "..",
            ".",
            ".hidden",
            "-rf",
            "trailing.",
            "CON",
            "nul.json",
            "Lpt1",
            "",
            "日本",
            &"x".repeat(300),
        ] {
            let c = component(hostile);
            assert!(
                !c.is_empty() && c.len() <= MAX_COMPONENT,
                "{hostile:?} -> {c:?}"
            );
            assert!(
                c.bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b"._-".contains(&b)),
                "{hostile:?} -> {c:?}"
            );
            assert!(!c.starts_with(['.', '-']) && !c.ends_with('.'), "{c:?}");
            assert_ne!(c, hostile, "{hostile:?} had to change");
            assert_eq!(Path::new(&c).components().count(), 1);
            let stem = c.split('.').next().unwrap().to_ascii_uppercase();
            assert!(!RESERVED.contains(&stem.as_str()), "{c:?}");
        }
        assert_eq!(component("deploy-prod"), "deploy-prod");
        assert_eq!(
            component("111111111111-deploy_prod.v2"),
            "111111111111-deploy_prod.v2"
        );
    }

    #[test]
    fn names_that_had_to_change_never_collide() {
        let names = ["a/b", "a\\b", "a:b", "a b", "a_b-x", "a?b"];
        let mut seen = std::collections::HashSet::new();
        for n in names {
            assert!(seen.insert(component(n)), "{n} collided");
        }
        // Two long names that share their first 300 characters.
        let (a, b) = ("y".repeat(300) + "a", "y".repeat(300) + "b");
        assert_ne!(component(&a), component(&b));
    }

    #[test]
    fn writes_inside_the_directory_and_replaces_a_planted_link() {
        let dir = tempfile::tempdir().unwrap();
        let outside = tempfile::tempdir().unwrap();
        let target = outside.path().join("victim");
        std::fs::write(&target, b"keep me").unwrap();
        #[cfg(unix)]
        std::os::unix::fs::symlink(&target, dir.path().join("role.json")).unwrap();
        let p = write_in(dir.path(), "role.json", b"{}").unwrap();
        assert_eq!(p, dir.path().join("role.json"));
        assert_eq!(
            std::fs::read(&target).unwrap(),
            b"keep me",
            "the link was not followed"
        );
        assert_eq!(std::fs::read(&p).unwrap(), b"{}");
        assert!(!std::fs::symlink_metadata(&p)
            .unwrap()
            .file_type()
            .is_symlink());
        // Written again (a second run): replaced.
        write_in(dir.path(), "role.json", b"[]").unwrap();
        assert_eq!(std::fs::read(&p).unwrap(), b"[]");
        for bad in ["", ".", "..", "a/b", "../x", "a\\b", "n\0"] {
            assert!(write_in(dir.path(), bad, b"x").is_err(), "{bad:?}");
        }
        // Nothing but the file is left behind.
        let names: Vec<_> = std::fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(names.len(), 1, "{names:?}");
    }
}
