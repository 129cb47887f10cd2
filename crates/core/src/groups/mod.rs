//! Device groups (`groups.yaml`): the client companies and stores a service centre serves,
//! each by its networks and serials, with the time zone its rollout windows are read in.
//! Groups are for the operator: a device sees nothing of them, and its answer changes only
//! through a release's rollout (`pilot_groups`, and its window read in the group's time).
//! May use `model`, `words` and `licenses` (a serial's form); the catalog puts the groups
//! in the snapshot beside the releases, so one scan sees both.
//!
//! - `group`: one group, and the local minute of its time zone.
//! - `membership`: which group a register belongs to (for admission: networks only).
//! - `groups_yaml`: the file's text checked strictly into groups.
//! - `time_zone`: an IANA time zone name, or the nearest one to suggest.
//! - `refusal`: why the file was refused, in both languages.
//! - `groups_file`: the file as successive scans read it (the last good groups kept).

pub mod group;
pub mod groups_file;
pub mod groups_yaml;
pub mod membership;
pub mod refusal;
pub mod time_zone;

pub use group::Group;
pub use membership::Groups;

/// At most this many groups in the file.
pub const MAX_GROUPS: usize = 1000;
/// At most this many `networks` entries in one group.
pub const MAX_NETWORKS: usize = 1000;
/// At most this many `serials` in one group.
pub const MAX_SERIALS: usize = 10_000;
/// A group's name is at most this many characters.
pub const MAX_NAME_CHARS: usize = 100;
/// The largest groups file read. About a hundred thousand serials fit (a service centre
/// groups most registers by network); the bound is the parser's: it holds every token of
/// the text at once, about 120 bytes each, so the worst text of this size (`[a,a,a,…]`)
/// costs some 250 MB while it is read, and a larger one is refused unread.
pub const GROUPS_FILE_MAX: u64 = 2 * 1024 * 1024;
