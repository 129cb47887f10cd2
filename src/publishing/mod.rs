//! Publishing and withdrawing releases the way the scan likes best, for the `publish` and
//! `withdraw` commands and the admin listener's `POST /releases`, `/withdraw`, `/pause`
//! and `/resume` (one code path for both): the source is checked before `firmware_dir` is touched, the release
//! is staged beside its final place (same file system), synced, pinned by SHA-256 and
//! renamed into place in one step; a withdrawn release is moved aside, never deleted.
//! These only write files the way the watcher is built for, so a running server picks
//! them up and a stopped one finds them; the server writes `firmware_dir` only through them.
//! May use `catalog`, `config`, `platform`, `model` and `words`.

pub mod offer_summary;
pub mod publish;
pub mod release_meta_text;
pub mod rollout_pause;
pub mod source;
pub mod staging;
pub mod withdraw;
