//! The release to publish, read from a folder or a `.zip`: its two firmware files (regular,
//! non-empty, not the same bytes, not still growing), an optional `meta.yaml` to start from,
//! and the version its name tells (`20250301`, `20250301.zip`, a zip whose one top folder
//! is `20250301`). Every refusal is one plain sentence.

use std::fs;
use std::io::Read;
use std::path::Path;
use std::time::Duration;

use crate::catalog::release_meta::FIRMWARE_FILES;
use crate::model::text_file::utf8_text;
use crate::model::version::Version;

/// A zip larger than this is refused (two firmware files are well under 10 MB).
const ZIP_MAX: u64 = 256 * 1024 * 1024;

/// What a source holds.
#[derive(Debug)]
pub struct Source {
    /// In the order of `FIRMWARE_FILES`.
    pub files: [Vec<u8>; 2],
    /// `meta.yaml` of the source, as text.
    pub meta: Option<String>,
    /// The version the source's name tells, if it is a date.
    pub named_version: Option<Version>,
}

/// Reads `path`, refusing a source still being written: sizes and times must not change
/// over `stable_for`.
pub fn read(path: &Path, stable_for: Duration) -> Result<Source, String> {
    let meta = fs::metadata(path).map_err(|e| match e.kind() {
        std::io::ErrorKind::NotFound => format!("{} does not exist", path.display()),
        _ => format!("cannot read {}: {e}", path.display()),
    })?;
    let source = if meta.is_dir() {
        read_folder(path, stable_for)?
    } else if path
        .extension()
        .is_some_and(|e| e.eq_ignore_ascii_case("zip"))
    {
        read_zip(path, stable_for)?
    } else {
        return Err(format!(
            "{} is neither a folder nor a .zip; give the folder that holds upd_app.bin and \
             upd_app_for_old_frs.bin, or a .zip of it",
            path.display()
        ));
    };
    let [new, old] = &source.files;
    if new == old {
        return Err(format!(
            "{} and {} in {} are the same bytes: one of them is surely the wrong file",
            FIRMWARE_FILES[0],
            FIRMWARE_FILES[1],
            path.display()
        ));
    }
    Ok(source)
}

/// The version a file or folder name tells: `20250301`, `20250301.zip`.
fn version_of_name(path: &Path) -> Option<Version> {
    let stem = path.file_stem()?.to_str()?;
    Version::parse_folder_name(stem)
}

/// Size and modification time, to see whether something still grows.
fn stamp(path: &Path) -> Result<(u64, Option<std::time::SystemTime>), String> {
    let m = fs::metadata(path).map_err(|e| format!("cannot read {}: {e}", path.display()))?;
    Ok((m.len(), m.modified().ok()))
}

fn still_written(path: &Path, before: (u64, Option<std::time::SystemTime>)) -> Result<(), String> {
    let after = stamp(path)?;
    if after != before {
        return Err(format!(
            "{} is still being written (it changed from {} to {} bytes while it was checked); \
             wait until the copy has finished",
            path.display(),
            before.0,
            after.0
        ));
    }
    Ok(())
}

fn read_folder(dir: &Path, stable_for: Duration) -> Result<Source, String> {
    let mut stamps = Vec::new();
    for name in FIRMWARE_FILES {
        let file = dir.join(name);
        let m = match fs::metadata(&file) {
            Ok(m) => m,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                return Err(format!("{name} is missing in {}", dir.display()))
            }
            Err(e) => return Err(format!("cannot read {}: {e}", file.display())),
        };
        if !m.is_file() {
            return Err(format!("{} is not a regular file", file.display()));
        }
        if m.len() == 0 {
            return Err(format!("{} is empty", file.display()));
        }
        stamps.push((file.clone(), stamp(&file)?));
    }
    std::thread::sleep(stable_for);
    let mut files: [Vec<u8>; 2] = [Vec::new(), Vec::new()];
    for (slot, (file, before)) in files.iter_mut().zip(stamps) {
        still_written(&file, before)?;
        *slot = fs::read(&file).map_err(|e| format!("cannot read {}: {e}", file.display()))?;
        still_written(&file, before)?;
        if slot.len() as u64 != before.0 {
            return Err(format!("{} changed while it was read", file.display()));
        }
    }
    let meta_path = dir.join("meta.yaml");
    let meta = match fs::read(&meta_path) {
        Ok(bytes) => Some(
            utf8_text(bytes, "meta.yaml").map_err(|e| format!("{}: {e}", meta_path.display()))?,
        ),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => None,
        Err(e) => return Err(format!("cannot read {}: {e}", meta_path.display())),
    };
    Ok(Source {
        files,
        meta,
        named_version: version_of_name(dir),
    })
}

fn read_zip(path: &Path, stable_for: Duration) -> Result<Source, String> {
    let before = stamp(path)?;
    if before.0 > ZIP_MAX {
        return Err(format!(
            "{} is {} MB; a release's two files are far smaller: is it the right archive?",
            path.display(),
            before.0 / 1_048_576
        ));
    }
    std::thread::sleep(stable_for);
    still_written(path, before)?;
    let bytes = fs::read(path).map_err(|e| format!("cannot read {}: {e}", path.display()))?;
    let mut archive = zip::ZipArchive::new(std::io::Cursor::new(bytes))
        .map_err(|e| format!("{} is not a readable .zip: {e}", path.display()))?;
    let mut found: [Option<Vec<u8>>; 2] = [None, None];
    let mut meta = None;
    let mut top_folders = std::collections::BTreeSet::new();
    for index in 0..archive.len() {
        let mut entry = archive
            .by_index(index)
            .map_err(|e| format!("{}: entry {index} cannot be read: {e}", path.display()))?;
        if entry.is_dir() {
            continue;
        }
        let Some(name) = entry.enclosed_name() else {
            continue;
        };
        let components: Vec<String> = name
            .components()
            .map(|c| c.as_os_str().to_string_lossy().into_owned())
            .collect();
        if components.len() > 1 {
            top_folders.insert(components[0].clone());
        }
        let Some(file_name) = components.last() else {
            continue;
        };
        let slot = FIRMWARE_FILES.iter().position(|f| f == file_name);
        if slot.is_none() && file_name != "meta.yaml" {
            continue;
        }
        if components.len() > 2 {
            return Err(format!(
                "{}: {} is nested too deep; put the files at the top of the archive or in one folder",
                path.display(),
                components.join("/")
            ));
        }
        if entry.size() > ZIP_MAX {
            return Err(format!("{}: {file_name} is too large", path.display()));
        }
        let mut data = Vec::new();
        entry
            .read_to_end(&mut data)
            .map_err(|e| format!("{}: {file_name} cannot be unpacked: {e}", path.display()))?;
        match slot {
            Some(i) => {
                if found[i].is_some() {
                    return Err(format!(
                        "{} holds {file_name} twice; keep one",
                        path.display()
                    ));
                }
                found[i] = Some(data);
            }
            None => {
                meta = Some(
                    utf8_text(data, "meta.yaml").map_err(|e| format!("{}: {e}", path.display()))?,
                )
            }
        }
    }
    let mut files: [Vec<u8>; 2] = [Vec::new(), Vec::new()];
    for (i, name) in FIRMWARE_FILES.iter().enumerate() {
        match found[i].take() {
            Some(data) if data.is_empty() => {
                return Err(format!("{name} in {} is empty", path.display()))
            }
            Some(data) => files[i] = data,
            None => return Err(format!("{name} is missing in {}", path.display())),
        }
    }
    let from_folder = match top_folders.iter().collect::<Vec<_>>().as_slice() {
        [only] => Version::parse_folder_name(only),
        _ => None,
    };
    Ok(Source {
        files,
        meta,
        named_version: version_of_name(path).or(from_folder),
    })
}
