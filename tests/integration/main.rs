//! The end-to-end suite, one test binary: each module is one area (`publish`, `rollouts`,
//! `tls`, ...) and starts the real server binary through `common`. One binary, not one per
//! file, so `common` and the test dependencies are compiled and linked once (like
//! ripgrep's `tests/tests.rs`). Run one area with its module prefix:
//! `cargo test --test integration publish::`.
//!
//! All tests share one process and run in parallel threads (as many as cores, or
//! `--test-threads`): anything process-wide (the open-file limit, a lock) is shared, and
//! tests that load the machine take `common::heavy()` so that no two of them overlap.

// A failed unwrap in a test is a failed test, which is what it should be (the library
// denies them: Cargo.toml's [workspace.lints]).
#![allow(clippy::unwrap_used, clippy::expect_used)]

// Shared by the areas below.
mod attacks;
mod common;
mod inventory_scenarios;
mod tls_certs;

mod access_log;
mod admin;
mod admin_access;
mod architecture;
mod attacks_26;
mod audit;
mod check_firmware;
mod cli;
mod contrib;
mod dangerous_config;
mod dashboard_forms;
mod dashboard_layout;
mod deadlines;
mod device_pages;
mod docs;
mod exports;
mod faults;
mod feature_licenses;
mod firmware_files;
mod fleet_load;
mod floors;
mod group_views;
mod groups;
mod hostile_clients;
mod hostile_requests;
mod hot_reload;
mod inventory;
mod inventory_postgres;
mod inventory_postgres_store;
mod language;
mod language_scan;
mod language_watch;
mod limits;
mod lines;
mod link_races;
mod operators;
mod properties;
mod publish;
mod publishing_safety;
mod rollout_attacks;
mod rollouts;
mod sample_firmware;
mod shared_folders;
mod socket_activation;
mod stages;
mod stale_files;
mod static_files;
mod tls;
mod tls_flood;
mod two_instances;
mod upload;
mod why_not_offered;
mod windows_wine;
mod yaml_nesting;
