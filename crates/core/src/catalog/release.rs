//! A published release as the catalog holds it: its version, what `meta.yaml` says of it,
//! and its two firmware files in memory exactly as they were checked. Its own file so that
//! the scan (`releases`) and the check of one folder (`folder_check`) both build on it
//! without needing each other.

use std::sync::Arc;
use std::time::SystemTime;

use bytes::Bytes;

use crate::catalog::release_meta::FIRMWARE_FILES;
use crate::model::version::Version;
use crate::rollout::rules::Rollout;
use kkt_platform::fingerprint::Fingerprint;

/// One firmware file as validated: the bytes served, and what the HTTP caching headers say.
#[derive(Debug)]
pub struct FirmwareFile {
    pub bytes: Bytes,
    pub sha256: [u8; 32],
    /// The strong ETag's opaque value: the SHA-256 in hex, the same on every instance
    /// serving these bytes. A plain string, so the catalog knows no HTTP framework: the
    /// download handler makes the header of it.
    pub etag: String,
    /// Modification time in whole seconds, as HTTP dates carry it.
    pub modified: SystemTime,
    /// What the file looked like on disk when read: an unchanged file is reused, never
    /// read again.
    pub(super) fingerprint: Fingerprint,
}

/// A published release.
#[derive(Debug)]
pub struct Release {
    pub version: Version,
    pub description: String,
    pub critical: bool,
    /// Who may be offered it; none: everyone.
    pub rollout: Option<Rollout>,
    /// `floor: true`: a step of its line's upgrade path (see `ReleaseSet::floor_above`).
    pub floor: bool,
    /// In the order of `FIRMWARE_FILES`.
    pub files: [Arc<FirmwareFile>; 2],
    /// Who published it, for the audit trail: `published_by` in its `meta.yaml` (the
    /// `publish` command writes it), else the owner of its folder (none where that cannot
    /// be told simply: Windows).
    pub published_by: Option<String>,
}

impl Release {
    /// The file named `name`, if it is one of the two firmware files.
    pub fn file(&self, name: &str) -> Option<&Arc<FirmwareFile>> {
        let index = FIRMWARE_FILES.iter().position(|f| *f == name)?;
        self.files.get(index)
    }
}
