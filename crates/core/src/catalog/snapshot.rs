//! Everything a request needs, built off to the side by one pure scan and swapped in whole:
//! a handler that loads the snapshot once sees one release, one critical version and one
//! license table that belong together, whatever reloads happen meanwhile.

use std::path::PathBuf;
use std::time::{Duration, SystemTime};

use crate::catalog::device_line::{LineIndex, DEFAULT_LINE};
use crate::catalog::lines::LineSet;
use crate::catalog::private_files::{self, PrivateFile, Refusal};
use crate::catalog::releases::{QuietRules, ReleaseSet};
use crate::catalog::write_ledger::WriteLedger;
use crate::groups::groups_file::GroupsFile;
use crate::groups::Groups;
use crate::licenses::LicenseTable;
use crate::model::problem::Problem;
use crate::model::trusted_proxies::TrustedProxies;
use crate::model::version::Version;

/// What a scan needs of the configuration, and nothing else: the catalog's own narrow
/// input, which the server's configuration fills in (`Config::scan_settings`), so the
/// catalog knows no command line, no `server.yaml` and no listener.
#[derive(Debug, Clone, Default)]
pub struct ScanSettings {
    pub firmware_dir: PathBuf,
    /// The license files and folders, in the order given.
    pub licenses: Vec<PathBuf>,
    /// How long a changed folder or license file must stay unchanged.
    pub settle: Duration,
    /// The same, where the system cannot say whether a file is still open for writing.
    pub unconfirmed_settle: Duration,
    pub critical_version: Option<Version>,
    pub public_url: Option<String>,
    pub trusted_proxies: TrustedProxies,
    pub static_files: bool,
    /// The server's own files, which static files never serve.
    pub private_files: Vec<PrivateFile>,
    // groups
    /// `groups.yaml` (`groups:` in `server.yaml`); none: no groups.
    pub groups: Option<PathBuf>,
}

/// Where the critical version comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CriticalSource {
    /// `critical_version` in `server.yaml` (or its flag).
    Config,
    /// A published release whose `meta.yaml` says `critical: true`.
    Release,
}

/// Devices built before `version` get `critical: true`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CriticalVersion {
    pub version: Version,
    pub source: CriticalSource,
}

#[derive(Debug, Clone)]
pub struct Snapshot {
    pub public_url: Option<String>,
    pub trusted_proxies: TrustedProxies,
    pub firmware_dir: PathBuf,
    /// Other files below `firmware_dir` are served from disk (`static_files`).
    pub static_files: bool,
    /// The server's own files (configuration, licenses, TLS key, inventory, access log),
    /// which static files never serve, whatever `firmware_dir` holds.
    pub private_files: std::sync::Arc<[PrivateFile]>,
    /// Where `firmware_dir` leads at this scan, when the guard allows it: the only folder
    /// static files serve from (`private_files::static_root`); else why not.
    pub static_root: Result<PathBuf, Refusal>,
    /// The default line: release folders directly in `firmware_dir`.
    pub releases: ReleaseSet,
    /// Named lines: folders of `firmware_dir` with a `line.yaml`.
    pub lines: LineSet,
    /// Which line a build date belongs to.
    pub line_index: LineIndex,
    pub licenses: LicenseTable,
    /// For the default line: the configured critical version or its newest critical release.
    pub critical: Option<CriticalVersion>,
    /// `critical_version` of `server.yaml`, which every line honours.
    pub configured_critical: Option<Version>,
    /// `firmware_dir` could not be listed: the releases are the previous snapshot's.
    pub firmware_dir_problem: Option<Problem>,
    // groups
    /// `groups.yaml` as this scan read it (none: no groups file is set).
    pub groups_file: Option<GroupsFile>,
    /// Releases whose `rollout.pilot_groups` names a group the groups do not have.
    pub pilot_group_problems: Vec<Problem>,
}

impl Snapshot {
    /// Scans releases and licenses as `config` says. Files unchanged since `previous` are
    /// not read again; if `firmware_dir` cannot be listed, the previous releases stay.
    /// `ledger` is what the watcher saw of files being written.
    pub fn scan(
        config: &ScanSettings,
        now: SystemTime,
        previous: Option<&Snapshot>,
        ledger: &WriteLedger,
    ) -> Snapshot {
        let before = previous.map(|p| &p.releases);
        let rules = QuietRules {
            settle: config.settle,
            unconfirmed: config.unconfirmed_settle,
        };
        let (releases, firmware_dir_problem) =
            match ReleaseSet::scan(&config.firmware_dir, rules, now, before, ledger) {
                Ok(releases) => (releases, None),
                Err(problem) => (before.cloned().unwrap_or_default(), Some(problem)),
            };
        let lines = LineSet::scan(
            &config.firmware_dir,
            rules,
            now,
            previous.map(|p| &p.lines),
            ledger,
        );
        let line_index = LineIndex::build(&releases, &lines);
        let licenses = LicenseTable::load(
            &config.licenses,
            previous.map(|p| &p.licenses),
            now,
            config.settle,
        );
        let groups_file = config.groups.as_deref().map(|path| {
            GroupsFile::load(
                path,
                previous.and_then(|p| p.groups_file.as_ref()),
                now,
                config.settle,
            )
        });
        let pilot_group_problems = std::iter::once(&releases)
            .chain(lines.lines.values().map(|line| &line.releases))
            .flat_map(|releases| {
                crate::catalog::pilot_groups::problems(
                    releases,
                    groups_file.as_ref().map(|f| &*f.groups),
                )
            })
            .collect();
        let critical = critical_version(config.critical_version, &releases);
        let private_files: std::sync::Arc<[PrivateFile]> = config.private_files.clone().into();
        let static_root = private_files::static_root(&config.firmware_dir, &private_files);
        Snapshot {
            public_url: config.public_url.clone(),
            trusted_proxies: config.trusted_proxies.clone(),
            firmware_dir: config.firmware_dir.clone(),
            static_files: config.static_files,
            private_files,
            static_root,
            releases,
            lines,
            line_index,
            licenses,
            critical,
            configured_critical: config.critical_version,
            firmware_dir_problem,
            groups_file,
            pilot_group_problems,
        }
    }

    /// When a settling folder or a changing license file should be looked at again.
    pub fn next_settle(&self) -> Option<Duration> {
        [
            self.releases.next_settle(),
            self.lines.next_settle(),
            self.licenses.next_settle(),
            self.groups_file.as_ref().and_then(|f| f.wait),
        ]
        .into_iter()
        .flatten()
        .min()
    }
}

impl Snapshot {
    /// The device groups served (none without a groups file, or before one loaded).
    pub fn groups(&self) -> &Groups {
        static NONE: std::sync::OnceLock<Groups> = std::sync::OnceLock::new();
        match &self.groups_file {
            Some(file) => &file.groups,
            None => NONE.get_or_init(Groups::default),
        }
    }
}

/// One line as offers see it: the default line or a named one.
#[derive(Debug, Clone, Copy)]
pub struct LineView<'a> {
    /// `DEFAULT_LINE` for the default line.
    pub name: &'a str,
    pub releases: &'a ReleaseSet,
    /// The larger of `server.yaml`'s and the line's own `critical_version`.
    pub critical_floor: Option<Version>,
}

impl LineView<'_> {
    /// Devices of this line built before this get `critical: true` when offered the
    /// newest release: the floor or the newest release marked critical.
    pub fn critical(&self) -> Option<Version> {
        critical_version(self.critical_floor, self.releases).map(|c| c.version)
    }
}

impl Snapshot {
    /// The line named `name` (`DEFAULT_LINE` for the default one).
    pub fn line(&self, name: &str) -> Option<LineView<'_>> {
        if name == DEFAULT_LINE {
            return Some(LineView {
                name: DEFAULT_LINE,
                releases: &self.releases,
                critical_floor: self.configured_critical,
            });
        }
        let line = self.lines.get(name)?;
        Some(LineView {
            name: &line.name,
            releases: &line.releases,
            critical_floor: self.configured_critical.max(line.meta.critical_version),
        })
    }

    /// The default line, then every named line.
    pub fn all_lines(&self) -> impl Iterator<Item = LineView<'_>> {
        self.line(DEFAULT_LINE)
            .into_iter()
            .chain(self.lines.lines.keys().filter_map(|name| self.line(name)))
    }
}

/// The larger of the configured critical version and the newest published release marked
/// critical.
pub fn critical_version(
    configured: Option<Version>,
    releases: &ReleaseSet,
) -> Option<CriticalVersion> {
    let from_config = configured.map(|version| CriticalVersion {
        version,
        source: CriticalSource::Config,
    });
    let from_release = releases
        .published()
        .rev()
        .find(|r| r.critical)
        .map(|r| CriticalVersion {
            version: r.version,
            source: CriticalSource::Release,
        });
    match (from_config, from_release) {
        (Some(a), Some(b)) => Some(if b.version > a.version { b } else { a }),
        (a, b) => a.or(b),
    }
}
