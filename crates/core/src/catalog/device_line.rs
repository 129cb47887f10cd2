//! Which firmware line a device belongs to, from the only thing it tells us: its build
//! date. A line claims the dates of its release folders and its `known_builds`; release
//! folders directly in `firmware_dir` form the default line. A date claimed by one line is
//! that line's; by two, nobody's (no update, a warning); by none, the default line's when it
//! has releases and every line folder could be read, else nobody's (listed as unknown so
//! the operator can add it to a `line.yaml`).

use std::collections::BTreeMap;

use crate::catalog::lines::LineSet;
pub use crate::catalog::lines::DEFAULT_LINE;
use crate::catalog::releases::ReleaseSet;
use crate::model::version::Version;

/// How a build date maps to lines, built once per scan.
#[derive(Debug, Clone, Default)]
pub struct LineIndex {
    by_date: BTreeMap<Version, Vec<String>>,
    /// Named lines exist (else every device is the default line's, as before lines).
    has_lines: bool,
    /// A date no line claims goes to the default line.
    unknown_to_default: bool,
}

/// The line of one device.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DeviceLine<'a> {
    /// Claimed by this line (`DEFAULT_LINE` for the default line).
    Known(&'a str),
    /// Claimed by no line; served by the default line.
    UnknownToDefault,
    /// Claimed by no line, and there is no default line to fall back on: no update.
    Unknown,
    /// Claimed by several lines: no update.
    Ambiguous(&'a [String]),
}

impl<'a> DeviceLine<'a> {
    /// The line whose releases the device is offered, if any.
    pub fn serving_line(self) -> Option<&'a str> {
        match self {
            DeviceLine::Known(name) => Some(name),
            DeviceLine::UnknownToDefault => Some(DEFAULT_LINE),
            DeviceLine::Unknown | DeviceLine::Ambiguous(_) => None,
        }
    }

    /// Whether the operator should map this date to a line.
    pub fn is_unknown(&self) -> bool {
        matches!(self, DeviceLine::UnknownToDefault | DeviceLine::Unknown)
    }
}

impl LineIndex {
    pub fn build(default: &ReleaseSet, lines: &LineSet) -> LineIndex {
        let mut by_date: BTreeMap<Version, Vec<String>> = BTreeMap::new();
        let mut claim = |date: Version, line: &str| {
            let claimants = by_date.entry(date).or_default();
            if !claimants.iter().any(|l| l == line) {
                claimants.push(line.to_string());
            }
        };
        for folder in &default.folders {
            claim(folder.version, DEFAULT_LINE);
        }
        for line in lines.lines.values() {
            for folder in &line.releases.folders {
                claim(folder.version, &line.name);
            }
            for date in &line.meta.known_builds {
                claim(*date, &line.name);
            }
        }
        LineIndex {
            by_date,
            has_lines: !lines.is_empty(),
            unknown_to_default: default.current().is_some() && lines.out.is_empty(),
        }
    }

    pub fn has_lines(&self) -> bool {
        self.has_lines
    }

    pub fn line_of(&self, build: Version) -> DeviceLine<'_> {
        if !self.has_lines {
            return DeviceLine::Known(DEFAULT_LINE);
        }
        match self.by_date.get(&build).map(Vec::as_slice) {
            Some([only]) => DeviceLine::Known(only),
            Some(several) if several.len() > 1 => DeviceLine::Ambiguous(several),
            _ if self.unknown_to_default => DeviceLine::UnknownToDefault,
            _ => DeviceLine::Unknown,
        }
    }

    /// Dates claimed by more than one line, with the lines.
    pub fn ambiguous(&self) -> impl Iterator<Item = (Version, &[String])> {
        self.by_date
            .iter()
            .filter(|(_, lines)| lines.len() > 1)
            .map(|(date, lines)| (*date, lines.as_slice()))
    }
}

/// A line's name as people read it.
pub fn line_label(name: &str) -> &str {
    if name == DEFAULT_LINE {
        "(default)"
    } else {
        name
    }
}
