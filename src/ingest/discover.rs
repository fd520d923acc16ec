//! Turning SOURCES into a list of files: plain files, directories walked
//! recursively (sorted, symlink loops broken, hidden entries skipped), and
//! `-` for stdin.
//!
//! CloudTrail digest and Insight files are skipped by name, as S3 delivers
//! them beside the trail. Files met while walking that are not regular files
//! (FIFOs, sockets, devices) are skipped with a note; a FIFO named on the
//! command line is read, since that is how `<(zcat ...)` arrives.

use std::collections::HashSet;
use std::fs;
use std::path::{Path, PathBuf};

use crate::error::InputError;
use crate::model::SkippedFile;

/// One input to read.
#[derive(Debug, Clone)]
pub struct InputFile {
    pub path: PathBuf,
    /// The path as the user will recognize it.
    pub display: String,
    /// Named on the command line (as opposed to found in a directory).
    pub explicit: bool,
    pub stdin: bool,
}

/// The files to read, plus what could not be listed or was skipped.
#[derive(Debug, Default)]
pub struct Discovered {
    pub files: Vec<InputFile>,
    pub errors: Vec<InputError>,
    pub skipped: Vec<SkippedFile>,
}

/// Why a path is skipped by name, if it is.
pub fn skip_reason(path: &Path) -> Option<&'static str> {
    let s = path.to_string_lossy();
    if s.contains("CloudTrail-Digest") {
        Some("CloudTrail digest file")
    } else if s.contains("CloudTrail-Insight") {
        Some("CloudTrail Insight file")
    } else {
        None
    }
}

fn walk(dir: &Path, display: &str, seen_dirs: &mut HashSet<PathBuf>, out: &mut Discovered) {
    match fs::canonicalize(dir) {
        Ok(canon) => {
            if !seen_dirs.insert(canon) {
                out.skipped.push(SkippedFile {
                    path: display.to_string(),
                    reason: "directory already visited (symlink loop or repeated source)".into(),
                });
                return;
            }
        }
        Err(e) => {
            out.errors.push(InputError::file(
                display,
                format!("cannot resolve directory: {e}"),
            ));
            return;
        }
    }
    let entries = match fs::read_dir(dir) {
        Ok(rd) => rd,
        Err(e) => {
            out.errors.push(InputError::file(
                display,
                format!("cannot list directory: {e}"),
            ));
            return;
        }
    };
    let mut names: Vec<(String, PathBuf)> = Vec::new();
    for entry in entries {
        match entry {
            Ok(e) => names.push((e.file_name().to_string_lossy().into_owned(), e.path())),
            Err(e) => out.errors.push(InputError::file(
                display,
                format!("cannot list directory: {e}"),
            )),
        }
    }
    names.sort();
    for (name, path) in names {
        if name.starts_with('.') {
            continue;
        }
        let shown = if display.ends_with('/') {
            format!("{display}{name}")
        } else {
            format!("{display}/{name}")
        };
        // Follows symlinks: a link to a directory is walked (loops are
        // caught above), a link to a file is read.
        match fs::metadata(&path) {
            Ok(meta) if meta.is_dir() => walk(&path, &shown, seen_dirs, out),
            Ok(meta) if meta.is_file() => {
                if let Some(reason) = skip_reason(&path) {
                    out.skipped.push(SkippedFile {
                        path: shown,
                        reason: reason.into(),
                    });
                } else {
                    out.files.push(InputFile {
                        path,
                        display: shown,
                        explicit: false,
                        stdin: false,
                    });
                }
            }
            Ok(_) => out.skipped.push(SkippedFile {
                path: shown,
                reason: "not a regular file (FIFO, socket or device)".into(),
            }),
            Err(e) => out
                .errors
                .push(InputError::file(shown, format!("cannot read: {e}"))),
        }
    }
}

/// Expands the command line's sources into files, in a stable order.
pub fn discover(sources: &[String]) -> Discovered {
    let mut out = Discovered::default();
    let mut seen_dirs = HashSet::new();
    for source in sources {
        if source == "-" {
            out.files.push(InputFile {
                path: PathBuf::from("-"),
                display: "<stdin>".into(),
                explicit: true,
                stdin: true,
            });
            continue;
        }
        let path = PathBuf::from(source);
        match fs::metadata(&path) {
            Ok(meta) if meta.is_dir() => walk(&path, source, &mut seen_dirs, &mut out),
            Ok(_) => {
                if let Some(reason) = skip_reason(&path) {
                    out.skipped.push(SkippedFile {
                        path: source.clone(),
                        reason: reason.into(),
                    });
                } else {
                    out.files.push(InputFile {
                        path,
                        display: source.clone(),
                        explicit: true,
                        stdin: false,
                    });
                }
            }
            Err(e) => out.errors.push(InputError::file(
                source.clone(),
                format!("cannot read: {e}"),
            )),
        }
    }
    // The same file named twice (or reached twice through links) is read once.
    let mut seen_files = HashSet::new();
    out.files.retain(|f| {
        f.stdin || seen_files.insert(fs::canonicalize(&f.path).unwrap_or_else(|_| f.path.clone()))
    });
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn walks_sorted_skips_digests_hidden_and_loops() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        fs::create_dir_all(root.join("AWSLogs/1/CloudTrail-Digest/us-east-1")).unwrap();
        fs::create_dir_all(root.join("AWSLogs/1/CloudTrail/us-east-1")).unwrap();
        fs::write(
            root.join("AWSLogs/1/CloudTrail-Digest/us-east-1/d.json.gz"),
            b"x",
        )
        .unwrap();
        fs::write(root.join("AWSLogs/1/CloudTrail/us-east-1/b.json"), b"{}").unwrap();
        fs::write(root.join("AWSLogs/1/CloudTrail/us-east-1/a.json"), b"{}").unwrap();
        fs::write(root.join(".hidden.json"), b"{}").unwrap();
        #[cfg(unix)]
        std::os::unix::fs::symlink(root, root.join("AWSLogs/loop")).unwrap();
        let top = root.to_string_lossy().to_string();
        let d = discover(std::slice::from_ref(&top));
        let names: Vec<_> = d
            .files
            .iter()
            .map(|f| f.display.trim_start_matches(&top).to_string())
            .collect();
        assert_eq!(
            names,
            vec![
                "/AWSLogs/1/CloudTrail/us-east-1/a.json",
                "/AWSLogs/1/CloudTrail/us-east-1/b.json"
            ]
        );
        assert!(d
            .skipped
            .iter()
            .any(|s| s.reason == "CloudTrail digest file"));
        #[cfg(unix)]
        assert!(d.skipped.iter().any(|s| s.reason.contains("symlink loop")));
        assert!(d.errors.is_empty());
    }

    #[test]
    fn missing_sources_are_errors_and_duplicates_collapse() {
        let dir = tempfile::tempdir().unwrap();
        let f = dir.path().join("a.json");
        fs::write(&f, b"{}").unwrap();
        let f = f.to_string_lossy().to_string();
        let d = discover(&[f.clone(), f.clone(), "/no/such/thing".into(), "-".into()]);
        assert_eq!(d.files.len(), 2);
        assert!(d.files[1].stdin);
        assert_eq!(d.errors.len(), 1);
        assert!(d.errors[0]
            .to_string()
            .starts_with("/no/such/thing: cannot read"));
    }
}
