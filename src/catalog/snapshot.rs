//! Everything a request needs, built off to the side by one pure scan and swapped in whole:
//! a handler that loads the snapshot once sees one release, one critical version and one
//! license table that belong together, whatever reloads happen meanwhile.

use std::path::PathBuf;
use std::time::{Duration, SystemTime};

use crate::catalog::releases::{QuietRules, ReleaseSet};
use crate::catalog::write_ledger::WriteLedger;
use crate::config::trusted_proxies::TrustedProxies;
use crate::config::Config;
use crate::licenses::LicenseTable;
use crate::model::problem::Problem;
use crate::model::version::Version;

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
    pub releases: ReleaseSet,
    pub licenses: LicenseTable,
    pub critical: Option<CriticalVersion>,
    /// `firmware_dir` could not be listed: the releases are the previous snapshot's.
    pub firmware_dir_problem: Option<Problem>,
}

impl Snapshot {
    /// Scans releases and licenses as `config` says. Files unchanged since `previous` are
    /// not read again; if `firmware_dir` cannot be listed, the previous releases stay.
    /// `ledger` is what the watcher saw of files being written.
    pub fn scan(
        config: &Config,
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
        let licenses = LicenseTable::load(
            &config.licenses,
            previous.map(|p| &p.licenses),
            now,
            config.settle,
        );
        let critical = critical_version(config.critical_version, &releases);
        Snapshot {
            public_url: config.public_url.clone(),
            trusted_proxies: config.trusted_proxies.clone(),
            firmware_dir: config.firmware_dir.clone(),
            static_files: config.static_files,
            releases,
            licenses,
            critical,
            firmware_dir_problem,
        }
    }

    /// When a settling folder or a changing license file should be looked at again.
    pub fn next_settle(&self) -> Option<Duration> {
        [self.releases.next_settle(), self.licenses.next_settle()]
            .into_iter()
            .flatten()
            .min()
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
