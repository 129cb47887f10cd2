//! The wings of `src/` and their order: a module may use the wings below it, never one
//! above it or a sibling listener. README "Design notes" draws the same map; this test
//! keeps the code and the map from drifting apart.

use std::fs;
use std::path::{Path, PathBuf};

/// Each wing with its level: a wing may use wings of a lower level only.
/// `reload`, `device_api` and `admin` share a level: none of them may use another.
const LEVELS: &[(&str, u32)] = &[
    ("model", 0),
    ("platform", 1),
    ("config", 2),
    ("licenses", 3),
    ("catalog", 4),
    ("observe", 5),
    ("publishing", 5),
    ("app_state", 6),
    ("reload", 7),
    ("device_api", 7),
    ("admin", 7),
    ("commands", 8),
    ("server", 8),
];

fn level(wing: &str) -> Option<u32> {
    LEVELS.iter().find(|(w, _)| *w == wing).map(|(_, l)| *l)
}

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in fs::read_dir(dir).expect("src/ is readable") {
        let path = entry.expect("src/ entry").path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// The wing a file of `src/` belongs to: its first folder, or its own name at the root.
fn wing_of(relative: &Path) -> String {
    let first = relative
        .components()
        .next()
        .expect("a path below src/")
        .as_os_str()
        .to_string_lossy()
        .into_owned();
    first.trim_end_matches(".rs").to_string()
}

/// Every `crate::<wing>` named in a file's code (comments left out).
fn wings_used(source: &str) -> Vec<String> {
    let mut used = Vec::new();
    for line in source.lines() {
        let code = line.split("//").next().unwrap_or("");
        let mut rest = code;
        while let Some(at) = rest.find("crate::") {
            let after = &rest[at + "crate::".len()..];
            let name: String = after
                .chars()
                .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
                .collect();
            if !name.is_empty() {
                used.push(name);
            }
            rest = after;
        }
    }
    used
}

#[test]
fn nothing_imports_upward_or_across_listeners() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    rust_files(&src, &mut files);
    let mut wrong = Vec::new();
    for file in &files {
        let relative = file.strip_prefix(&src).expect("below src/");
        let wing = wing_of(relative);
        if wing == "lib" || wing == "main" {
            continue;
        }
        let Some(own) = level(&wing) else {
            wrong.push(format!(
                "{} is in no wing of the map (add it to LEVELS and README)",
                relative.display()
            ));
            continue;
        };
        let source = fs::read_to_string(file).expect("source file is readable");
        for used in wings_used(&source) {
            if used == wing {
                continue;
            }
            match level(&used) {
                Some(l) if l < own => {}
                Some(_) => wrong.push(format!(
                    "{} ({wing}) uses crate::{used}, which is not below it",
                    relative.display()
                )),
                None => wrong.push(format!(
                    "{} uses crate::{used}, which is no wing",
                    relative.display()
                )),
            }
        }
    }
    assert!(
        wrong.is_empty(),
        "arrows must point down:\n{}",
        wrong.join("\n")
    );
}

#[test]
fn every_wing_says_what_it_is_for() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut missing = Vec::new();
    for (wing, _) in LEVELS {
        let folder = src.join(wing).join("mod.rs");
        let file = src.join(format!("{wing}.rs"));
        let path = if folder.exists() { folder } else { file };
        let text = fs::read_to_string(&path).unwrap_or_default();
        if !text.starts_with("//! ") {
            missing.push(path.display().to_string());
        }
    }
    let mut files = Vec::new();
    rust_files(&src, &mut files);
    for file in files {
        let text = fs::read_to_string(&file).unwrap_or_default();
        if !text.starts_with("//! ") {
            missing.push(file.display().to_string());
        }
    }
    assert!(missing.is_empty(), "no `//!` purpose line: {missing:?}");
    let root_entries = fs::read_dir(&src).expect("src/").count();
    assert!(
        root_entries <= 15,
        "src/ has {root_entries} entries at its root: give the new ones a wing"
    );
}
