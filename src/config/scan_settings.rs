//! What a scan of `firmware_dir` needs of the configuration, handed to the catalog as its
//! own narrow input (`ScanSettings`): the catalog lives in a crate that knows no
//! configuration, command line or listener.

use crate::catalog::snapshot::ScanSettings;
use crate::config::{firmware_dir_guard, Config};

impl Config {
    /// The settings a scan reads, with the server's own files resolved now (the inventory
    /// and the logs may be created after start-up).
    pub fn scan_settings(&self) -> ScanSettings {
        ScanSettings {
            firmware_dir: self.firmware_dir.clone(),
            licenses: self.licenses.clone(),
            settle: self.settle,
            unconfirmed_settle: self.unconfirmed_settle,
            critical_version: self.critical_version,
            public_url: self.public_url.clone(),
            trusted_proxies: self.trusted_proxies.clone(),
            static_files: self.static_files,
            private_files: firmware_dir_guard::private_files(self),
            groups: self.groups.clone(),
        }
    }
}
