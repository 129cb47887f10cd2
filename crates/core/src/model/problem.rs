//! One reported problem with an operator's file: where it is (file and, when known, line)
//! and what is wrong. `check`, the log and the scan results all speak in these; what is
//! wrong is said in both languages (`Said`), and each reader picks its own.

use std::fmt;
use std::path::{Path, PathBuf};

use crate::model::lang::Lang;
use crate::model::said::Said;

/// A problem found in an operator's file; never fatal by itself.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    /// The file or folder the problem is in.
    pub path: PathBuf,
    /// 1-based line number, when the problem is on one line.
    pub line: Option<usize>,
    /// What is wrong, naming the value, in both languages (`Display` is the English).
    pub message: Said,
}

impl Problem {
    /// A problem with a whole file or folder.
    pub fn file(path: &Path, message: Said) -> Problem {
        Problem {
            path: path.to_path_buf(),
            line: None,
            message,
        }
    }

    /// A problem on one line of a file.
    pub fn line(path: &Path, line: usize, message: Said) -> Problem {
        Problem {
            path: path.to_path_buf(),
            line: Some(line),
            message,
        }
    }
}

impl Problem {
    /// The problem as one line in `lang`: where, then what.
    pub fn in_language(&self, lang: Lang) -> String {
        let message = self.message.in_language(lang);
        match self.line {
            Some(line) => format!("{}:{}: {}", self.path.display(), line, message),
            None => format!("{}: {}", self.path.display(), message),
        }
    }
}

/// The English (what `/status` and scripts read).
impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.in_language(Lang::En))
    }
}

/// A YAML error with its position: the parser leaves out "at line 1 column 1" for errors
/// at the very start of a document, which is exactly where a typo in the first key lands.
pub fn yaml_message(error: &serde_yaml::Error) -> String {
    let text = plain_types(&error.to_string());
    match error.location() {
        Some(at) if !text.contains(" at line ") => {
            format!("{text} at line {} column {}", at.line(), at.column())
        }
        _ => text,
    }
}

/// The parser names the form it expected by the Rust type of the field ("invalid type:
/// integer `-1`, expected u64"); an operator reads the form instead.
const TYPE_WORDS: [(&str, &str); 10] = [
    ("expected u8", "expected a whole number from 0 to 255"),
    ("expected u16", "expected a whole number from 0 to 65535"),
    (
        "expected u32",
        "expected a whole number from 0 to 4294967295",
    ),
    ("expected u64", "expected a whole number from 0 up"),
    ("expected usize", "expected a whole number from 0 up"),
    ("expected i8", "expected a whole number"),
    ("expected i16", "expected a whole number"),
    ("expected i32", "expected a whole number"),
    ("expected i64", "expected a whole number"),
    ("expected f64", "expected a number"),
];

/// `text` with the Rust type names of `TYPE_WORDS` said in words (only where a whole
/// name ends: "expected u64" and not the start of "expected u64s").
fn plain_types(text: &str) -> String {
    let mut text = text.to_string();
    for (rust, words) in TYPE_WORDS {
        let mut from = 0;
        while let Some(at) = text[from..].find(rust).map(|i| i + from) {
            let end = at + rust.len();
            let whole = !text[end..].starts_with(|c: char| c.is_ascii_alphanumeric() || c == '_');
            if whole {
                text.replace_range(at..end, words);
                from = at + words.len();
            } else {
                from = end;
            }
        }
    }
    text
}
