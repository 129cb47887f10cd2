//! Pausing and resuming a release's rollout (`POST /releases/<version>/pause|resume`):
//! `paused:` in the `rollout:` of its `meta.yaml` is set to `true` or `false`, the rest of
//! the file kept as written (comments, order, quoting: the one line is edited in the text,
//! and the result must parse to the same release but for `paused`; a file laid out so that
//! the line cannot be found is rewritten from its parsed form instead, comments lost). The
//! file is read by its path, never through a link at its own name (a member of the group
//! who swaps a folder on the way could only make the server read a `meta.yaml` of theirs,
//! which they may write anyway); the new one is written beside it under a dot-name,
//! synced, and renamed over it through the opened folders (`platform::shared_dir`), as
//! `publish` writes, so nothing is ever written outside the release's own folder.
//!
//! An automatic halt lives in the inventory, not in `meta.yaml`, and lasts until
//! `rollout:` is edited: pausing and resuming must not count as that edit, so the caller
//! carries the halt over to the new settings (`rollout_sql::carry_halt`) before the file
//! is renamed in; this module only says which settings the edit leaves.

use std::path::{Path, PathBuf};
use std::time::{SystemTime, UNIX_EPOCH};

use crate::catalog::device_line::DEFAULT_LINE;
use crate::catalog::lines::{line_folder, line_folders};
use crate::catalog::release_meta::{MetaError, ReleaseMeta, META_FILE_MAX};
use crate::model::lang::InLanguage;
use crate::model::text_file::utf8_text;
use crate::model::version::Version;
use crate::platform::durable::write_synced;
use crate::platform::regular_file::{read_regular, NotOpened, NotRead};
use crate::platform::shared_dir::{is_link, Entry, SharedDir};

/// Why a rollout could not be paused or resumed; nothing was changed.
#[derive(Debug, thiserror::Error)]
pub enum PauseError {
    #[error(
        "there is no line {name:?} in {} (a line is a folder with a line.yaml)",
        firmware_dir.display()
    )]
    NoSuchLine { name: String, firmware_dir: PathBuf },
    #[error("there is no release {version}{} in {}", in_line(line), line_dir.display())]
    NoRelease {
        version: Version,
        line: String,
        line_dir: PathBuf,
    },
    #[error(
        "release {version}{} has no rollout: it is offered to every device, so there is \
         nothing to {what}; give its meta.yaml a rollout: section to stage it",
        in_line(line)
    )]
    NoRollout {
        version: Version,
        line: String,
        what: &'static str,
    },
    /// The file does not load now; the server keeps the release as it last loaded it.
    #[error("{} does not load now ({error}); fix it first", path.display())]
    MetaInvalid { path: PathBuf, error: MetaError },
    #[error("{} is not UTF-8 text; save it in UTF-8 first", .0.display())]
    NotText(PathBuf),
    #[error(
        "{} is a link; refusing to follow it (someone with write access to firmware_dir \
         put it there: remove it and try again)",
        .0.display()
    )]
    Link(PathBuf),
    #[error("cannot {what} {}: {error}", path.display())]
    Io {
        what: &'static str,
        path: PathBuf,
        error: std::io::Error,
    },
    /// The rollout is halted and the inventory could not take the new settings along:
    /// writing the file would lift the halt, so nothing is written.
    #[error(
        "the rollout is halted and the inventory cannot be written now ({0}); nothing was \
         changed, so the halt stands: try again when the inventory answers"
    )]
    HaltNotCarried(String),
}

impl InLanguage for PauseError {
    fn in_russian(&self) -> String {
        let in_line_ru = |line: &str| {
            if line == DEFAULT_LINE {
                String::new()
            } else {
                format!(" в линейке {line}")
            }
        };
        match self {
            PauseError::NoSuchLine { name, firmware_dir } => format!(
                "в {} нет линейки {name:?} (линейка — это папка с line.yaml)",
                firmware_dir.display()
            ),
            PauseError::NoRelease {
                version,
                line,
                line_dir,
            } => format!(
                "нет релиза {version}{} в {}",
                in_line_ru(line),
                line_dir.display()
            ),
            PauseError::NoRollout {
                version,
                line,
                what,
            } => format!(
                "у релиза {version}{} нет rollout: его предлагают всем ККТ, {} нечего; \
                 добавьте в его meta.yaml раздел rollout:, чтобы выкатывать его поэтапно",
                in_line_ru(line),
                if *what == "pause" {
                    "ставить на паузу"
                } else {
                    "снимать с паузы"
                }
            ),
            PauseError::MetaInvalid { path, error } => format!(
                "{} сейчас не загружается ({}); сначала исправьте его",
                path.display(),
                error.in_russian()
            ),
            PauseError::NotText(path) => format!(
                "{} — не текст в UTF-8; сначала сохраните его в UTF-8",
                path.display()
            ),
            PauseError::Link(path) => format!(
                "{} — ссылка; переходить по ней сервер отказывается (её положил тот, кто может \
                 писать в firmware_dir: удалите её и повторите)",
                path.display()
            ),
            PauseError::Io { what, path, error } => format!(
                "не удалось {} {}: {error}",
                crate::model::lang::step_in_russian(what),
                path.display()
            ),
            PauseError::HaltNotCarried(why) => format!(
                "выпуск остановлен автоматически, а записать в базу сейчас не удаётся ({why}); \
                 ничего не изменено, остановка остаётся: повторите, когда база ответит"
            ),
        }
    }
}

impl PauseError {
    /// The line or the release is not there (404), rather than in a state that refuses.
    pub fn is_not_found(&self) -> bool {
        matches!(
            self,
            PauseError::NoSuchLine { .. } | PauseError::NoRelease { .. }
        )
    }

    /// The system failed, not the request.
    pub fn is_failure(&self) -> bool {
        matches!(
            self,
            PauseError::Io { .. } | PauseError::Link(_) | PauseError::HaltNotCarried(_)
        )
    }
}

/// ` in line NAME`, or nothing for the default line.
fn in_line(line: &str) -> String {
    if line == DEFAULT_LINE {
        String::new()
    } else {
        format!(" in line {line}")
    }
}

/// The edit, checked and ready to be written (`write`).
#[derive(Debug)]
pub struct PauseEdit {
    release: SharedDir,
    /// `None`: the rollout is already so; nothing to write.
    text: Option<String>,
    /// The rollout's fingerprint before and after (what a halt is keyed on).
    pub settings_before: String,
    pub settings_after: String,
    /// Where the file is, as shown.
    pub path: PathBuf,
}

impl PauseEdit {
    /// The rollout already was as asked: nothing will be written.
    pub fn unchanged(&self) -> bool {
        self.text.is_none()
    }

    /// Writes the new `meta.yaml` (beside the old one, synced, renamed over it).
    pub fn write(self) -> Result<(), PauseError> {
        let Some(text) = self.text else {
            return Ok(());
        };
        let nanos = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.subsec_nanos());
        let temp = format!(".meta.yaml.new-{}-{nanos:09}", std::process::id());
        let io = |what: &'static str, path: PathBuf| {
            move |error: std::io::Error| match is_link(&error) {
                Some(link) => PauseError::Link(link.to_path_buf()),
                None => PauseError::Io { what, path, error },
            }
        };
        let release = self.release;
        write_synced(&release, &temp, text.as_bytes())
            .map_err(io("write", release.shown(&temp)))?;
        if let Err(error) = release.rename_to(&temp, &release, "meta.yaml") {
            let _ = release.remove_file(&temp);
            return Err(io("rename into place", self.path)(error));
        }
        release
            .sync()
            .map_err(io("sync", release.path().to_path_buf()))
    }
}

/// Prepares setting `paused` of release `version` of `line` (`None`: the default line):
/// reads and checks its `meta.yaml`, and makes the new text.
pub fn prepare(
    firmware_dir: &Path,
    line: Option<&str>,
    version: Version,
    paused: bool,
) -> Result<PauseEdit, PauseError> {
    let line = match line {
        None => DEFAULT_LINE.to_string(),
        Some(name) if line_folders(firmware_dir).iter().any(|l| l == name) => name.to_string(),
        Some(name) => {
            return Err(PauseError::NoSuchLine {
                name: name.to_string(),
                firmware_dir: firmware_dir.to_path_buf(),
            })
        }
    };
    let release = open_release(firmware_dir, &line, version)?;
    let path = release.shown("meta.yaml");
    let what = if paused { "pause" } else { "resume" };
    let no_rollout = || PauseError::NoRollout {
        version,
        line: line.clone(),
        what,
    };
    let text = read_meta(&path)?.ok_or_else(no_rollout)?;
    let invalid = |error| PauseError::MetaInvalid {
        path: path.clone(),
        error,
    };
    let before = ReleaseMeta::parse(version, &text).map_err(invalid)?;
    let Some(rollout) = &before.rollout else {
        return Err(no_rollout());
    };
    let settings_before = rollout.settings_id.clone();
    if rollout.paused == paused {
        return Ok(PauseEdit {
            release,
            text: None,
            settings_after: settings_before.clone(),
            settings_before,
            path,
        });
    }
    let text = edited(&text, version, &before, paused).ok_or_else(|| PauseError::Io {
        what: "write",
        path: path.clone(),
        error: std::io::Error::other("the new meta.yaml cannot be written as YAML"),
    })?;
    let after = ReleaseMeta::parse(version, &text).map_err(invalid)?;
    let settings_after = after
        .rollout
        .map(|r| r.settings_id)
        .unwrap_or_else(|| settings_before.clone());
    Ok(PauseEdit {
        release,
        text: Some(text),
        settings_before,
        settings_after,
        path,
    })
}

/// The text of the release's `meta.yaml`, `None` when it has none.
fn read_meta(path: &Path) -> Result<Option<String>, PauseError> {
    let io = |error| PauseError::Io {
        what: "read",
        path: path.to_path_buf(),
        error,
    };
    match read_regular(path, META_FILE_MAX) {
        Ok(bytes) => utf8_text(bytes, "meta.yaml")
            .map(Some)
            .map_err(|_| PauseError::NotText(path.to_path_buf())),
        Err(NotRead::NotOpened(NotOpened::Missing)) => Ok(None),
        Err(NotRead::NotOpened(NotOpened::NotRegular(kind))) => Err(io(std::io::Error::other(
            format!("it is {kind}, not a regular file"),
        ))),
        Err(NotRead::Larger(limit)) => Err(io(std::io::Error::other(format!(
            "it is larger than {} MiB, more than a meta.yaml may be",
            limit / 1_048_576
        )))),
        Err(NotRead::NotOpened(NotOpened::Io(error)) | NotRead::Io(error)) => Err(io(error)),
    }
}

/// Opens the release's folder through `firmware_dir` and its line's, never through a link.
fn open_release(
    firmware_dir: &Path,
    line: &str,
    version: Version,
) -> Result<SharedDir, PauseError> {
    let line_dir_path = line_folder(firmware_dir, line);
    let io = |what: &'static str, path: &Path| {
        let path = path.to_path_buf();
        move |error: std::io::Error| match is_link(&error) {
            Some(link) => PauseError::Link(link.to_path_buf()),
            None => PauseError::Io { what, path, error },
        }
    };
    let no_release = || PauseError::NoRelease {
        version,
        line: line.to_string(),
        line_dir: line_dir_path.clone(),
    };
    let firmware = SharedDir::open(firmware_dir).map_err(io("open", firmware_dir))?;
    let line_dir = if line == DEFAULT_LINE {
        firmware
    } else {
        firmware
            .open_subdir(line)
            .map_err(io("open", &line_dir_path))?
    };
    let name = version.to_string();
    match line_dir
        .entry(&name)
        .map_err(io("read", &line_dir.shown(&name)))?
    {
        Entry::Folder => {}
        Entry::Link => return Err(PauseError::Link(line_dir.shown(&name))),
        Entry::Missing | Entry::Other => return Err(no_release()),
    }
    line_dir
        .open_subdir(&name)
        .map_err(io("open", &line_dir.shown(&name)))
}

/// `text` with `paused:` of its `rollout:` set: the one line edited (or added right under
/// `rollout:`) when the result parses to `before` but for `paused`; else the file
/// rewritten from its parsed form (`None`: it cannot be written).
fn edited(text: &str, version: Version, before: &ReleaseMeta, paused: bool) -> Option<String> {
    let same_but_paused = |candidate: &str| {
        ReleaseMeta::parse(version, candidate).is_ok_and(|after| {
            let (Some(a), Some(b)) = (&after.rollout, &before.rollout) else {
                return false;
            };
            let mut unpaused = a.clone();
            unpaused.paused = b.paused;
            unpaused.settings_id.clone_from(&b.settings_id);
            a.paused == paused
                && unpaused == *b
                && after.description == before.description
                && after.critical == before.critical
                && after.floor == before.floor
                && after.sha256 == before.sha256
        })
    };
    match edit_line(text, paused) {
        Some(candidate) if same_but_paused(&candidate) => Some(candidate),
        _ => rewritten(text, paused),
    }
}

/// The text with the line edited, when `rollout:` is a block at the top level: its
/// `paused:` line's value replaced (a comment after it kept), or `paused:` added as the
/// block's first key. `None` for any other layout.
fn edit_line(text: &str, paused: bool) -> Option<String> {
    let newline = if text.contains("\r\n") { "\r\n" } else { "\n" };
    let lines: Vec<&str> = text.split_inclusive('\n').collect();
    let start = lines.iter().position(|l| {
        let l = l.trim_end();
        l == "rollout:"
            || l.strip_prefix("rollout:")
                .is_some_and(|r| r.trim_start().starts_with('#'))
    })?;
    let block_end = lines[start + 1..]
        .iter()
        .position(|l| {
            let t = l.trim();
            !(t.is_empty() || t.starts_with('#') || l.starts_with([' ', '\t']))
        })
        .map_or(lines.len(), |p| start + 1 + p);
    let body = &lines[start + 1..block_end];
    let indent = body
        .iter()
        .find(|l| !l.trim().is_empty() && !l.trim().starts_with('#'))
        .map(|l| &l[..l.len() - l.trim_start().len()])?;
    if indent.contains('\t') || indent.is_empty() {
        return None;
    }
    let value = if paused { "true" } else { "false" };
    let mut out: Vec<String> = lines.iter().map(|l| (*l).to_string()).collect();
    let found = body.iter().position(|l| {
        l.strip_prefix(indent)
            .is_some_and(|rest| rest.starts_with("paused:"))
    });
    match found {
        Some(at) => {
            let line = body[at];
            let rest = &line[indent.len() + "paused:".len()..];
            let comment = rest.find(" #").map_or("", |i| rest[i..].trim_end());
            out[start + 1 + at] = format!("{indent}paused: {value}{comment}{newline}");
        }
        None => out.insert(start + 1, format!("{indent}paused: {value}{newline}")),
    }
    Some(out.concat())
}

/// The file rewritten from its parsed form with `rollout.paused` set (comments lost).
fn rewritten(text: &str, paused: bool) -> Option<String> {
    use serde_yaml::{Mapping, Value};
    let key = |k: &str| Value::String(k.to_string());
    let mut map = match serde_yaml::from_str::<Value>(text) {
        Ok(Value::Mapping(map)) => map,
        _ => Mapping::new(),
    };
    let mut rollout = match map.remove(key("rollout")) {
        Some(Value::Mapping(rollout)) => rollout,
        _ => Mapping::new(),
    };
    rollout.insert(key("paused"), Value::Bool(paused));
    map.insert(key("rollout"), Value::Mapping(rollout));
    serde_yaml::to_string(&Value::Mapping(map)).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_paused_line_is_edited_in_place_and_comments_stay() {
        let text = "# March release\ndescription: \"March\"  # shown on the till\nrollout:\n  \
                    percent: 10   # a tenth first\n  paused: false # looked at it\n  pilot: \
                    [10.0.0.0/8]\ncritical: false\n";
        let paused = edit_line(text, true).unwrap();
        assert_eq!(
            paused,
            text.replace(
                "paused: false # looked at it",
                "paused: true # looked at it"
            )
        );
        let added = edit_line("rollout:\n    percent: 5\n", true).unwrap();
        assert_eq!(added, "rollout:\n    paused: true\n    percent: 5\n");
        let crlf = edit_line("rollout:\r\n  percent: 5\r\n", false).unwrap();
        assert_eq!(crlf, "rollout:\r\n  paused: false\r\n  percent: 5\r\n");
        // Flow style, or no rollout block: not edited in the text.
        assert_eq!(edit_line("rollout: {percent: 5}\n", true), None);
        assert_eq!(edit_line("description: x\n", true), None);
    }

    #[test]
    fn a_layout_the_line_edit_cannot_keep_is_rewritten_whole() {
        let v = Version::from_yyyymmdd(20250301).unwrap();
        let text = "rollout: {percent: 5, pilot: [10.0.0.0/8]}\ndescription: x\n";
        let before = ReleaseMeta::parse(v, text).unwrap();
        let out = edited(text, v, &before, true).unwrap();
        let after = ReleaseMeta::parse(v, &out).unwrap();
        let rollout = after.rollout.unwrap();
        assert!(rollout.paused);
        assert_eq!(rollout.percent, 5);
        assert_eq!(after.description, "x");
    }
}
