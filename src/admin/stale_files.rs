//! The files that do not load while the server runs on what it had (`server.yaml`) or on
//! less than they hold (a license file): the red banner, the `config_stale` list of
//! `GET /status`, and `/readyz`. Part of the status report (`status_report`).

use serde::Serialize;

use crate::app_state::StaleConfig;
use crate::catalog::snapshot::Snapshot;
use crate::model::lang::Lang;
use crate::model::unix_time::unix;
use crate::words::dashboard::Text;

impl StaleFile {
    /// Why it does not load, in the page's language.
    pub fn error_in(&self, t: &Text) -> &str {
        if t.lang == "ru" {
            &self.error_ru
        } else {
            &self.error
        }
    }
}

/// One file that does not load, for the red banner, `/status` and `/readyz`.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct StaleFile {
    /// The file, as named in the settings.
    pub file: String,
    pub kind: StaleKind,
    /// Why it does not load.
    pub error: String,
    /// The same in Russian, for the Russian dashboard (not part of `/status`).
    #[serde(skip)]
    pub error_ru: String,
    /// Unix seconds: since when.
    pub since: u64,
    pub since_local: String,
    pub stale_for_s: u64,
    /// Licenses still served from it (the ones loaded before it broke; 0 after a start
    /// with it broken: every serial in it then gets 404). None for `server.yaml`.
    pub licenses_served: Option<usize>,
    /// What the server does meanwhile, in words.
    pub meanwhile: String,
    /// groups: the groups still used from `groups.yaml` (the ones loaded before it broke;
    /// 0 after a start with it broken). Only for the groups file.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub groups_served: Option<usize>,
}

/// Which kind of file is stale: `GET /status` shows `as_str`, the metric is named by it.
#[derive(Debug, Clone, Copy, Serialize, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum StaleKind {
    /// `server.yaml`: the running configuration is kept.
    Config,
    /// A license file.
    Licenses,
    /// groups: the groups file (`groups.yaml`): the groups loaded before are kept.
    Groups,
}

impl StaleKind {
    /// `config` or `licenses`.
    pub fn as_str(self) -> &'static str {
        match self {
            StaleKind::Config => "config",
            StaleKind::Licenses => "licenses",
            StaleKind::Groups => "groups",
        }
    }
}

/// The most of an error a stale file's entry shows: a key of a megabyte in a broken
/// `server.yaml` is echoed by its error, and must not become a megabyte of every
/// `/readyz` answer and dashboard page.
const STALE_ERROR_MAX: usize = 1000;

/// `error`, cut to `STALE_ERROR_MAX` bytes (at a character boundary) with "…" after it.
fn bounded(error: String) -> String {
    if error.len() <= STALE_ERROR_MAX {
        return error;
    }
    let mut end = STALE_ERROR_MAX;
    while !error.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}…", &error[..end])
}

/// The files that do not load, as of `now` (Unix seconds): `server.yaml` first, then
/// every broken license file.
pub fn stale_files(snapshot: &Snapshot, config: Option<&StaleConfig>, now: u64) -> Vec<StaleFile> {
    let entry = |file: String,
                 kind,
                 (error, error_ru): (String, String),
                 since: u64,
                 served: Option<usize>| {
        let meanwhile = match served {
            None => "the running configuration is kept until the file loads".to_string(),
            Some(0) => "no license is served from it: every serial in it gets 404 \
                        until the file loads"
                .to_string(),
            Some(n) => format!("still serving the {n} licenses loaded before it broke"),
        };
        StaleFile {
            file,
            kind,
            error: bounded(error),
            error_ru: bounded(error_ru),
            since,
            since_local: crate::model::unix_time::local_text(since),
            stale_for_s: now.saturating_sub(since),
            licenses_served: served,
            meanwhile,
            groups_served: None,
        }
    };
    let config = config.map(|c| {
        entry(
            c.file.clone(),
            StaleKind::Config,
            (c.error.clone(), c.error_ru.clone()),
            c.since,
            None,
        )
    });
    let licenses = snapshot.licenses.files.iter().filter_map(|file| {
        let broken = file.broken.as_ref()?;
        Some(entry(
            file.path.display().to_string(),
            StaleKind::Licenses,
            (
                broken.reason.in_language(Lang::En).to_string(),
                broken.reason.in_language(Lang::Ru).to_string(),
            ),
            unix(broken.since),
            Some(file.len()),
        ))
    });
    config
        .into_iter()
        .chain(licenses)
        .chain(groups_stale(snapshot, now))
        .collect()
}

/// `groups.yaml` as a file that does not load, with the groups still used meanwhile.
fn groups_stale(snapshot: &Snapshot, now: u64) -> Option<StaleFile> {
    let file = snapshot.groups_file.as_ref()?;
    let broken = file.broken.as_ref()?;
    let served = file.groups.len();
    let since = unix(broken.since);
    Some(StaleFile {
        file: file.path.display().to_string(),
        kind: StaleKind::Groups,
        error: bounded(broken.reason.in_language(Lang::En).to_string()),
        error_ru: bounded(broken.reason.in_language(Lang::Ru).to_string()),
        since,
        since_local: crate::model::unix_time::local_text(since),
        stale_for_s: now.saturating_sub(since),
        licenses_served: None,
        meanwhile: groups_meanwhile(served, Lang::En),
        groups_served: Some(served),
    })
}

/// What the server does while the groups file does not load, in `lang`.
fn groups_meanwhile(served: usize, lang: Lang) -> String {
    let t = crate::words::Words::of(lang).groups;
    if served == 0 {
        t.stale_none.to_string()
    } else {
        format!("{} {served}.", t.stale_kept)
    }
}

impl StaleFile {
    /// For the groups file: what the server does meanwhile, in the page's language.
    pub fn groups_meanwhile_in(&self, t: &Text) -> Option<String> {
        let lang = if t.lang == "ru" { Lang::Ru } else { Lang::En };
        self.groups_served
            .map(|served| groups_meanwhile(served, lang))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_huge_error_is_cut_at_a_character_boundary() {
        let error = "ключ".repeat(1000);
        let cut = bounded(error);
        assert!(
            cut.len() <= STALE_ERROR_MAX + '…'.len_utf8(),
            "{}",
            cut.len()
        );
        assert!(cut.ends_with('…') && cut.starts_with("ключ"));
        assert_eq!(bounded("short".into()), "short");
    }
}
