//! Which configuration file the server reads, in a documented order: `--config`, then
//! `KKT_CONFIG`, then `server.yaml` in the working folder, then (packaged builds only, the
//! `packaged` cargo feature that `packaging/build.sh` turns on) where the package put it:
//! `/etc/kkt-update-server/server.yaml` on Linux, `server.yaml` beside the `.exe` on
//! Windows (`platform::installed_config`). A build from source never looks outside the
//! working folder, so a test in a temporary folder cannot read a machine's `/etc`.
//!
//! The choice is remembered with the configuration, so that `check`, the start-up log and
//! the other commands say which file they used, and, when there was none, where they
//! looked (a missing `firmware_dir` then says so, instead of sending the operator to
//! create `./firmware`).

use std::path::{Path, PathBuf};

use crate::config::cli::{Command, ServiceAction};
use crate::model::lang::{fill, Lang};
use crate::model::one_line::escaped;
use crate::words::Words;

/// The file looked for in the working folder.
pub const WORKING_FOLDER_FILE: &str = "server.yaml";

/// How the configuration file was chosen.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Found {
    /// Named by `--config`.
    Flag(PathBuf),
    /// Named by `KKT_CONFIG`.
    Env(PathBuf),
    /// Found by the search (`server.yaml` in the working folder, then the packaged
    /// places); `tried` are the places looked at before it.
    Searched { path: PathBuf, tried: Vec<PathBuf> },
    /// No file anywhere: defaults and flags only. `tried` is every place looked at.
    Nothing { tried: Vec<PathBuf> },
}

impl Default for Found {
    /// For a configuration built without a search (tests of `Config::resolve`).
    fn default() -> Found {
        Found::Nothing { tried: Vec::new() }
    }
}

/// Who named the file, when one was named.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NamedBy {
    Flag,
    Env,
}

/// The places searched when no file is named, in order: `server.yaml` in the working
/// folder, then, in packaged builds, the installed places.
pub fn places() -> Vec<PathBuf> {
    let mut places = vec![PathBuf::from(WORKING_FOLDER_FILE)];
    places.extend(installed_places());
    places
}

/// Where the package put the configuration (the `packaged` feature).
#[cfg(feature = "packaged")]
fn installed_places() -> Vec<PathBuf> {
    use crate::platform::installed_config::{installed_config_files, program_folder};
    installed_config_files(Path::new("/"), program_folder().as_deref())
}

/// A build from source looks nowhere else.
#[cfg(not(feature = "packaged"))]
fn installed_places() -> Vec<PathBuf> {
    Vec::new()
}

/// Chooses the file: the named one, else the first of `places` that exists. A place whose
/// existence cannot be told (a folder it may not enter) counts as existing, so reading it
/// fails with the system's reason instead of silently falling through to the next one.
pub fn choose(named: Option<(PathBuf, NamedBy)>, places: &[PathBuf]) -> Found {
    if let Some((path, by)) = named {
        return match by {
            NamedBy::Flag => Found::Flag(path),
            NamedBy::Env => Found::Env(path),
        };
    }
    let mut tried = Vec::new();
    for place in places {
        if place.try_exists().unwrap_or(true) {
            return Found::Searched {
                path: place.clone(),
                tried,
            };
        }
        tried.push(place.clone());
    }
    Found::Nothing { tried }
}

impl Found {
    /// The file to read, when there is one.
    pub fn path(&self) -> Option<&Path> {
        match self {
            Found::Flag(path) | Found::Env(path) | Found::Searched { path, .. } => Some(path),
            Found::Nothing { .. } => None,
        }
    }

    /// Whether the file was named (a named file that is missing is an error; a searched
    /// one that vanished between the look and the read is "no file").
    pub fn named(&self) -> bool {
        matches!(self, Found::Flag(_) | Found::Env(_))
    }

    /// One line saying which file is used and why, or where none was found, in `lang`.
    pub fn describe(&self, lang: Lang) -> String {
        let t = Words::of(lang).config;
        let (template, path) = match self {
            Found::Flag(path) => (t.used_flag, shown(path, lang)),
            Found::Env(path) => (t.used_env, shown(path, lang)),
            Found::Searched { path, .. } => (t.used_found, shown(path, lang)),
            Found::Nothing { tried } => {
                let tried: Vec<String> = tried.iter().map(|p| shown(p, lang)).collect();
                return fill(t.used_none, &[("tried", &tried.join(", "))]);
            }
        };
        fill(template, &[("path", &path)])
    }

    /// What no file means, after [`Found::describe`].
    pub fn fallback(&self, lang: Lang) -> &'static str {
        match self {
            Found::Nothing { .. } => Words::of(lang).config.defaults_only,
            _ => "",
        }
    }

    /// Says which file is used where the operator looks: the start-up log for the server,
    /// stderr for the other commands (their stdout may be read by a script). `check`
    /// says it in its own report.
    pub fn announce(&self, command: &Command) {
        let lang = Lang::operator();
        match command {
            Command::Check => {}
            Command::Serve | Command::Service(ServiceAction::Run) => {
                log::info!("{}{}", self.describe(lang), self.fallback(lang))
            }
            _ => eprintln!(
                "kkt-update-server: {}{}",
                self.describe(lang),
                self.fallback(lang)
            ),
        }
    }
}

/// A place as the operator should read it: a relative path with the working folder it is
/// relative to, on one line.
fn shown(path: &Path, lang: Lang) -> String {
    let text = if path.is_relative() {
        match std::env::current_dir() {
            Ok(folder) => fill(
                Words::of(lang).config.in_working_folder,
                &[("path", &path.display()), ("folder", &folder.display())],
            ),
            Err(_) => path.display().to_string(),
        }
    } else {
        path.display().to_string()
    };
    escaped(&text).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_named_file_wins_and_the_first_existing_place_is_taken() {
        let dir = tempfile::tempdir().unwrap();
        let first = dir.path().join("a.yaml");
        let second = dir.path().join("b.yaml");
        std::fs::write(&second, "").unwrap();
        let places = [first.clone(), second.clone()];
        assert_eq!(
            choose(Some((PathBuf::from("x.yaml"), NamedBy::Env)), &places),
            Found::Env(PathBuf::from("x.yaml"))
        );
        assert_eq!(
            choose(None, &places),
            Found::Searched {
                path: second,
                tried: vec![first.clone()]
            }
        );
        assert_eq!(
            choose(None, &places[..1]),
            Found::Nothing { tried: vec![first] }
        );
    }

    /// The packaged build's places, computed against a temporary root instead of `/`:
    /// `cargo test --features packaged --lib search`.
    #[cfg(all(feature = "packaged", unix))]
    #[test]
    fn a_packaged_build_finds_the_conffile_under_etc() {
        let root = tempfile::tempdir().unwrap();
        let places: Vec<PathBuf> = std::iter::once(root.path().join("cwd/server.yaml"))
            .chain(crate::platform::installed_config::installed_config_files(
                root.path(),
                None,
            ))
            .collect();
        let conffile = root.path().join("etc/kkt-update-server/server.yaml");
        assert_eq!(places[1], conffile);
        assert_eq!(
            choose(None, &places),
            Found::Nothing {
                tried: places.clone()
            }
        );
        std::fs::create_dir_all(conffile.parent().unwrap()).unwrap();
        std::fs::write(&conffile, "listen: 127.0.0.1:0\n").unwrap();
        assert_eq!(
            choose(None, &places),
            Found::Searched {
                path: conffile,
                tried: vec![places[0].clone()]
            }
        );
        // And the real list: the working folder first, then /etc.
        assert_eq!(
            super::places(),
            [
                PathBuf::from("server.yaml"),
                PathBuf::from("/etc/kkt-update-server/server.yaml")
            ]
        );
    }

    /// A build from source never looks outside the working folder.
    #[cfg(not(feature = "packaged"))]
    #[test]
    fn a_build_from_source_looks_only_in_the_working_folder() {
        assert_eq!(super::places(), [PathBuf::from("server.yaml")]);
    }
}
