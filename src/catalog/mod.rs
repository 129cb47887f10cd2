//! What is published: the scan of `firmware_dir` into lines and releases (`line.yaml`,
//! `meta.yaml`, pins, settling, rollouts), the snapshot that bundles them with the license table and the configuration devices see,
//! the line and the offer a build date gets, and the human-readable account of a scan.
//! May use `licenses`, `config`, `platform` and `model`; never a listener or `app_state`.

pub mod device_line;
pub mod firmware_offer;
pub mod line_meta;
pub mod lines;
pub mod release_meta;
pub mod releases;
pub mod sample_release;
pub mod snapshot;
pub mod snapshot_report;
pub mod write_ledger;
