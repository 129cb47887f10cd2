//! The wings of `src/` and their order: a module may use the wings below it, never one
//! above it or a sibling listener. README "Design notes" draws the same map; this test
//! keeps the code and the map from drifting apart.

use std::fs;
use std::path::{Path, PathBuf};

/// Each wing with its level: a wing may use wings of a lower level only.
/// `reload`, `device_api` and `admin` share a level: none of them may use another.
///
/// A wing whose parts are used from different heights lists each part by its module path
/// (`rollout::rules`): each part then has its own level, may use only lower levels (its own
/// wing's lower parts included), and the wing's `mod.rs` may only name its parts.
const LEVELS: &[(&str, u32)] = &[
    ("model", 0),
    ("platform", 1),
    ("config", 2),
    ("licenses", 3),
    ("rollout::rules", 3),
    ("catalog", 4),
    ("rollout::admissions", 4),
    ("observe", 5),
    ("publishing", 5),
    ("rollout::status", 5),
    ("store", 6),
    ("rollout::gate", 7),
    ("app_state", 8),
    ("reload", 9),
    ("device_api", 9),
    ("admin", 9),
    ("rollout::watch", 9),
    ("commands", 10),
    ("server", 10),
];

/// The entry of `LEVELS` a module path (`catalog::snapshot`, `rollout::rules::Rollout`)
/// belongs to: the longest one it starts with.
fn part_of(module: &str) -> Option<&'static str> {
    LEVELS
        .iter()
        .map(|(part, _)| *part)
        .filter(|part| {
            module == *part
                || module
                    .strip_prefix(part)
                    .is_some_and(|rest| rest.starts_with("::"))
        })
        .max_by_key(|part| part.len())
}

fn level(part: &str) -> Option<u32> {
    LEVELS.iter().find(|(w, _)| *w == part).map(|(_, l)| *l)
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

/// The module path of a file of `src/`: `catalog/snapshot.rs` is `catalog::snapshot`,
/// `rollout/mod.rs` is `rollout`, `server.rs` is `server`.
fn module_of(relative: &Path) -> String {
    let mut parts: Vec<String> = relative
        .components()
        .map(|c| c.as_os_str().to_string_lossy().into_owned())
        .collect();
    if let Some(last) = parts.last_mut() {
        *last = last.trim_end_matches(".rs").to_string();
    }
    if parts.last().is_some_and(|l| l == "mod") {
        parts.pop();
    }
    parts.join("::")
}

/// Every `crate::<path>` named in a file's code (comments left out), as far as the path
/// goes: `crate::rollout::rules::Rollout` gives `rollout::rules::Rollout`.
fn wings_used(source: &str) -> Vec<String> {
    let mut used = Vec::new();
    for line in source.lines() {
        let code = line.split("//").next().unwrap_or("");
        let mut rest = code;
        while let Some(at) = rest.find("crate::") {
            let after = &rest[at + "crate::".len()..];
            let name: String = after
                .chars()
                .take_while(|c| c.is_ascii_alphanumeric() || *c == '_' || *c == ':')
                .collect();
            let name = name.trim_end_matches(':').to_string();
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
        let module = module_of(relative);
        if module == "lib" || module == "main" {
            continue;
        }
        let source = fs::read_to_string(file).expect("source file is readable");
        let Some(wing) = part_of(&module) else {
            let split = LEVELS
                .iter()
                .any(|(part, _)| part.starts_with(&format!("{module}::")));
            if !split {
                wrong.push(format!(
                    "{} is in no wing of the map (add it to LEVELS and README)",
                    relative.display()
                ));
            } else if let Some(used) = wings_used(&source).first() {
                wrong.push(format!(
                    "{} only names the parts of its wing, yet uses crate::{used}",
                    relative.display()
                ));
            }
            continue;
        };
        let own = level(wing).expect("a part of LEVELS has a level");
        for used in wings_used(&source) {
            match part_of(&used) {
                Some(part) if part == wing => {}
                Some(part) if level(part).is_some_and(|l| l < own) => {}
                Some(part) => wrong.push(format!(
                    "{} ({wing}) uses crate::{used} ({part}), which is not below it",
                    relative.display()
                )),
                None => wrong.push(format!(
                    "{} uses crate::{used}, which is no wing (or names a split wing, not its part)",
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
        let wing = wing.replace("::", "/");
        let folder = src.join(&wing).join("mod.rs");
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
    // 15 wings (each a folder, or `app_state.rs`), `lib.rs` and `main.rs`.
    let root_entries = fs::read_dir(&src).expect("src/").count();
    assert!(
        root_entries <= 17,
        "src/ has {root_entries} entries at its root: give the new ones a wing"
    );
}
