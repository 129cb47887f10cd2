//! What is published: the scan of `firmware_dir` into lines and releases (`line.yaml`,
//! `meta.yaml`, pins, settling, rollouts), the snapshot that bundles them with the license table and the configuration devices see,
//! the line and the offer a build date gets, the server's own files that static files never
//! serve (`private_files`), and the human-readable account of a scan.
//! May use `groups`, `licenses`, `rollout::rules`, `platform` and `model`; never the configuration
//! (a scan takes its own `ScanSettings`), a listener or `app_state`.

pub mod device_line;
pub mod firmware_offer;
pub mod folder_check;
pub mod line_meta;
pub mod lines;
pub mod pilot_groups;
pub mod private_files;
pub mod release;
pub mod release_meta;
pub mod releases;
pub mod sample_release;
pub mod snapshot;
pub mod snapshot_report;
pub mod write_ledger;
pub mod yaml_refusal;
