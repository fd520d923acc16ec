//! The design's arrows, held against the code: data flows one way,
//! `cli → pipeline → ingest → correlate → detect → output | tui | report`,
//! every module may use `model` and the leaves (`error`, `text`), and
//! `trust` sits beside `detect`, `lake` beside `pipeline`. A module that
//! starts importing one it should not fails here, with the file that does.

use std::collections::BTreeMap;
use std::path::Path;

/// What each top-level module may import from the crate.
const ALLOWED: &[(&str, &[&str])] = &[
    ("text", &[]),
    ("error", &[]),
    ("limits", &[]),
    ("model", &["error", "text"]),
    ("policy", &["error", "model", "text"]),
    ("ingest", &["error", "limits", "model", "text"]),
    ("correlate", &["error", "model", "text"]),
    ("trust", &["error", "model", "policy", "text"]),
    // `rule_list` is the macro the rules declare their lists with.
    (
        "detect",
        &["error", "model", "policy", "rule_list", "text", "trust"],
    ),
    ("output", &["error", "model", "text"]),
    ("report", &["error", "model", "policy", "text"]),
    ("tui", &["error", "model", "text"]),
    ("lake", &["error", "model", "text"]),
    (
        "pipeline",
        &[
            "correlate",
            "detect",
            "error",
            "ingest",
            "lake",
            "limits",
            "model",
            "policy",
            "text",
            "trust",
        ],
    ),
];

fn sources(path: &Path, out: &mut Vec<std::path::PathBuf>) {
    if path.is_dir() {
        for e in std::fs::read_dir(path).unwrap() {
            sources(&e.unwrap().path(), out);
        }
    } else if path.extension().is_some_and(|e| e == "rs") {
        out.push(path.to_path_buf());
    }
}

#[test]
fn modules_import_only_what_the_design_allows() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut broken: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for (module, allowed) in ALLOWED {
        let dir = src.join(module);
        let mut files = Vec::new();
        if dir.is_dir() {
            sources(&dir, &mut files);
        } else {
            files.push(src.join(format!("{module}.rs")));
        }
        assert!(
            !files.is_empty() && files[0].exists(),
            "{module} is not in src"
        );
        for file in files {
            let text = std::fs::read_to_string(&file).unwrap();
            for line in text.lines() {
                let code = line.trim_start();
                if code.starts_with("//") {
                    continue;
                }
                assert!(
                    !code.contains("crate::{"),
                    "{}: name each import's module (`crate::{{` hides it from this test)",
                    file.display()
                );
                for (i, _) in code.match_indices("crate::") {
                    let name: String = code[i + 7..]
                        .chars()
                        .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
                        .collect();
                    if name != *module && !allowed.contains(&name.as_str()) {
                        broken
                            .entry(format!("{module} -> {name}"))
                            .or_default()
                            .push(file.strip_prefix(&src).unwrap().display().to_string());
                    }
                }
            }
        }
    }
    assert!(broken.is_empty(), "imports against the design: {broken:#?}");
}
