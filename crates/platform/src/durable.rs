//! Making a publish survive a power cut: after files are written and synced, the folder
//! that names them must be synced too (`SharedDir::sync`), or a crash can leave a renamed
//! folder whose entries never reached the disk.

use std::io;

use crate::shared_dir::SharedDir;

/// Writes `bytes` to the new file `name` in `dir` and syncs it to disk; the file's group
/// may manage it as it may its folder, and a name that exists (a planted link included) is
/// refused (`SharedDir::create_file`).
pub fn write_synced(dir: &SharedDir, name: &str, bytes: &[u8]) -> io::Result<()> {
    use std::io::Write;
    let mut file = dir.create_file(name)?;
    file.write_all(bytes)?;
    file.sync_all()
}
