//! The log of a server that has no terminal (the Windows service): a file next to
//! `server.yaml`, rotated by size so it never fills the disk: past `MAX_BYTES` the file
//! becomes `<name>.1` (the older `.1` becomes `.2`, and so on up to `KEEP`), and a fresh file
//! is started. Writes are whole log lines, so a line is never split across files.

use std::fs::{self, File, OpenOptions};
use std::io::{self, Write};
use std::path::{Path, PathBuf};

/// A file is rotated when it passes this size.
pub const MAX_BYTES: u64 = 10 * 1024 * 1024;
/// Rotated files kept besides the current one.
pub const KEEP: usize = 3;

/// A log file that rotates itself.
pub struct RotatingFile {
    path: PathBuf,
    file: File,
    written: u64,
    max_bytes: u64,
}

impl RotatingFile {
    pub fn open(path: &Path) -> io::Result<RotatingFile> {
        RotatingFile::with_limit(path, MAX_BYTES)
    }

    fn with_limit(path: &Path, max_bytes: u64) -> io::Result<RotatingFile> {
        let file = OpenOptions::new().create(true).append(true).open(path)?;
        let written = file.metadata().map_or(0, |m| m.len());
        Ok(RotatingFile {
            path: path.to_path_buf(),
            file,
            written,
            max_bytes,
        })
    }

    fn numbered(&self, n: usize) -> PathBuf {
        let mut name = self.path.as_os_str().to_owned();
        name.push(format!(".{n}"));
        PathBuf::from(name)
    }

    fn rotate(&mut self) -> io::Result<()> {
        self.file.flush()?;
        let _ = fs::remove_file(self.numbered(KEEP));
        for n in (1..KEEP).rev() {
            let _ = fs::rename(self.numbered(n), self.numbered(n + 1));
        }
        fs::rename(&self.path, self.numbered(1))?;
        self.file = OpenOptions::new()
            .create(true)
            .append(true)
            .open(&self.path)?;
        self.written = 0;
        Ok(())
    }
}

impl Write for RotatingFile {
    fn write(&mut self, bytes: &[u8]) -> io::Result<usize> {
        if self.written > 0 && self.written + bytes.len() as u64 > self.max_bytes {
            // A failed rotation keeps writing to the current file: a log is never lost for it.
            let _ = self.rotate();
        }
        let n = self.file.write(bytes)?;
        self.written += n as u64;
        Ok(n)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.file.flush()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rotates_by_size_and_keeps_three() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("kkt.log");
        let mut log = RotatingFile::with_limit(&path, 100).unwrap();
        for i in 0..50 {
            writeln!(log, "line {i:04} of the log, about forty bytes").unwrap();
        }
        log.flush().unwrap();
        for n in 1..=KEEP {
            assert!(dir.path().join(format!("kkt.log.{n}")).exists(), "{n}");
        }
        assert!(!dir.path().join(format!("kkt.log.{}", KEEP + 1)).exists());
        let current = fs::read_to_string(&path).unwrap();
        assert!(
            current.len() <= 100 && current.ends_with("bytes\n"),
            "{current}"
        );
        assert!(current.contains("line 0049"));
    }
}
