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
    let text = error.to_string();
    match error.location() {
        Some(at) if !text.contains(" at line ") => {
            format!("{text} at line {} column {}", at.line(), at.column())
        }
        _ => text,
    }
}
