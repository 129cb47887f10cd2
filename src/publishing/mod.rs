//! Publishing and withdrawing releases the way the scan likes best, for the `publish` and
//! `withdraw` commands: the source is checked before `firmware_dir` is touched, the release
//! is staged beside its final place (same file system), synced, pinned by SHA-256 and
//! renamed into place in one step; a withdrawn release is moved aside, never deleted.
//! The server itself never writes to `firmware_dir`; these only write files the way the
//! watcher is built for, so a running server picks them up and a stopped one finds them.
//! May use `catalog`, `config`, `platform` and `model`.

pub mod release_meta_text;
pub mod source;
pub mod staging;
pub mod withdraw;
