//! Reading `POST /releases`: a `multipart/form-data` body, part by part, into what
//! `publishing::publish` takes. The release's files go to anonymous temp files on
//! `firmware_dir`'s own file system (on disk, not in memory; no name anyone else could
//! open or swap, gone when closed even if the server dies), each through the bound the
//! `publish` command applies to the same file: the `.zip` at 256 MiB, a firmware file at
//! 64 MiB. A part that passes its bound is refused the moment it does, not after the rest
//! of the body was read. The text fields are bounded too (`FIELD_MAX` bytes each), and so
//! is the number of parts (`PARTS_MAX`); a part headers' block is bounded by
//! actix-multipart (64 KiB). Names outside the form's list, and a part sent twice (but the
//! repeatable `pilot`), are refused in plain words.

use std::fs::File;
use std::io::Write;
use std::path::{Path, PathBuf};

use actix_multipart::{Field, Multipart};
use actix_web::web;
use futures_util::StreamExt;

use crate::catalog::release_meta::FIRMWARE_FILES;
use crate::model::lang::InLanguage;
use crate::publishing::publish::{PublishError, PublishOptions};
use crate::publishing::source::{SourceError, Upload, FILE_MAX, UPLOAD_SHOWN, ZIP_MAX};

/// The most parts a form may have: the release's files and eight fields take eleven;
/// the rest is room for `pilot`, which may repeat.
pub const PARTS_MAX: usize = 64;
/// The most bytes a text field may hold (a description is a sentence; a pilot a network).
pub const FIELD_MAX: usize = 4096;
/// The fields of the form, named as `publish`'s flags.
pub const FIELDS: [&str; 11] = [
    "file",
    "upd_app.bin",
    "upd_app_for_old_frs.bin",
    "version",
    "line",
    "description",
    "critical",
    "floor",
    "rollout_percent",
    "pilot",
    "replace",
];
/// The parts that carry files.
const FILE_PARTS: [&str; 3] = ["file", "upd_app.bin", "upd_app_for_old_frs.bin"];
/// The uploaded zip's name in refusals when the browser gave none that reads plainly.
const ZIP_SHOWN: &str = "the uploaded .zip";

/// Why the form was refused before the release in it was looked at.
#[derive(Debug, thiserror::Error)]
pub enum UploadError {
    #[error(
        "POST /releases takes a form sent as multipart/form-data (the part file with a .zip, \
         or the parts upd_app.bin and upd_app_for_old_frs.bin, and the fields of publish); \
         the body cannot be read as one: {0}"
    )]
    NotAForm(String),
    #[error("the form has a part without a name; name each part as the form's fields: {}", FIELDS.join(", "))]
    Unnamed,
    #[error("the form has a field {name:?} that publishing does not know; the fields are: {}", FIELDS.join(", "))]
    UnknownField { name: String },
    #[error("the form has more than {PARTS_MAX} parts; a release needs a dozen")]
    TooManyParts,
    #[error("the field {0} is sent twice; send it once")]
    Twice(&'static str),
    #[error("the field {0} is longer than {FIELD_MAX} bytes")]
    FieldTooLong(&'static str),
    #[error("the field {0} is not UTF-8 text")]
    NotText(&'static str),
    #[error("the field {name} must be true, on or false; got {given:?}")]
    NotBoolean { name: &'static str, given: String },
    #[error(
        "send either the part file (a .zip) or the parts upd_app.bin and \
         upd_app_for_old_frs.bin, not both"
    )]
    Both,
    #[error(
        "the form holds no release: send the part file (a .zip), or the parts upd_app.bin \
         and upd_app_for_old_frs.bin"
    )]
    NoRelease,
    /// A file part beyond its bound, or one of the two files missing: what `publish`
    /// says of the same file.
    #[error(transparent)]
    Source(SourceError),
    /// A publish refusal met while reading the form (a description not in UTF-8).
    #[error(transparent)]
    Publish(PublishError),
    #[error("cannot keep the upload in {}: {error}", firmware_dir.display())]
    Keep {
        firmware_dir: PathBuf,
        error: std::io::Error,
    },
}

impl InLanguage for UploadError {
    fn in_russian(&self) -> String {
        let fields = FIELDS.join(", ");
        match self {
            UploadError::NotAForm(why) => format!(
                "POST /releases принимает форму в виде multipart/form-data (часть file с .zip \
                 или части upd_app.bin и upd_app_for_old_frs.bin и поля publish); тело \
                 запроса так не читается: {why}"
            ),
            UploadError::Unnamed => {
                format!("в форме есть часть без имени; называйте части как поля формы: {fields}")
            }
            UploadError::UnknownField { name } => {
                format!("в форме есть поле {name:?}, которого публикация не знает; поля: {fields}")
            }
            UploadError::TooManyParts => {
                format!("в форме больше {PARTS_MAX} частей; релизу нужно около десятка")
            }
            UploadError::Twice(name) => {
                format!("поле {name} прислано дважды; пришлите его один раз")
            }
            UploadError::FieldTooLong(name) => {
                format!("поле {name} длиннее {FIELD_MAX} байт")
            }
            UploadError::NotText(name) => format!("поле {name} — не текст в UTF-8"),
            UploadError::NotBoolean { name, given } => {
                format!("поле {name} — true, on или false; получено {given:?}")
            }
            UploadError::Both => "пришлите либо часть file (.zip), либо части upd_app.bin и \
                                  upd_app_for_old_frs.bin, но не то и другое"
                .into(),
            UploadError::NoRelease => "в форме нет релиза: пришлите часть file (.zip) или \
                                       части upd_app.bin и upd_app_for_old_frs.bin"
                .into(),
            UploadError::Source(error) => error.in_russian(),
            UploadError::Publish(error) => error.in_russian(),
            UploadError::Keep {
                firmware_dir,
                error,
            } => format!(
                "не удалось сохранить загрузку в {}: {error}",
                firmware_dir.display()
            ),
        }
    }
}

impl UploadError {
    /// A part or the form past its bound: 413.
    pub fn is_too_large(&self) -> bool {
        matches!(
            self,
            UploadError::TooManyParts
                | UploadError::FieldTooLong(_)
                | UploadError::Source(
                    SourceError::TooLarge { .. } | SourceError::ZipTooLarge { .. }
                )
        )
    }

    /// The server could not keep the upload: 500.
    pub fn is_failure(&self) -> bool {
        matches!(self, UploadError::Keep { .. })
    }
}

/// What the form held.
#[derive(Debug)]
pub struct Form {
    pub upload: Upload,
    pub options: PublishOptions,
}

/// The file parts as they arrive.
#[derive(Default)]
struct Files {
    zip: Option<(File, String)>,
    firmware: [Option<File>; 2],
}

/// Reads the whole form, refusing at the first part that breaks a rule.
pub async fn read_form(mut multipart: Multipart, firmware_dir: &Path) -> Result<Form, UploadError> {
    let mut files = Files::default();
    let mut options = PublishOptions::default();
    let mut seen: Vec<&'static str> = Vec::new();
    let mut parts = 0;
    while let Some(field) = multipart.next().await {
        let mut field = field.map_err(|e| UploadError::NotAForm(e.to_string()))?;
        parts += 1;
        if parts > PARTS_MAX {
            return Err(UploadError::TooManyParts);
        }
        let name = field_name(&field)?;
        if name != "pilot" && seen.contains(&name) {
            return Err(UploadError::Twice(name));
        }
        seen.push(name);
        if FILE_PARTS.contains(&name) && is_empty_file_input(&field) {
            // A browser sends a file input left empty (the zip when the two files are
            // chosen, or the other way round) as a part with an empty file name.
            nothing_in(&mut field).await?;
            continue;
        }
        match name {
            "file" => {
                let shown = zip_shown(&field);
                let file = keep(&mut field, firmware_dir, ZIP_MAX, |bytes| {
                    SourceError::ZipTooLarge {
                        shown: shown.clone(),
                        bytes,
                    }
                })
                .await?;
                files.zip = Some((file, shown));
            }
            "upd_app.bin" | "upd_app_for_old_frs.bin" => {
                let slot = usize::from(name != FIRMWARE_FILES[0]);
                let file = keep(&mut field, firmware_dir, FILE_MAX, |_| {
                    SourceError::TooLarge {
                        shown: format!("{name} in {UPLOAD_SHOWN}"),
                        limit: FILE_MAX,
                    }
                })
                .await?;
                files.firmware[slot] = Some(file);
            }
            _ => {
                let text = text_field(&mut field, name).await?;
                set_option(&mut options, name, text)?;
            }
        }
    }
    let upload = upload_of(files)?;
    Ok(Form { upload, options })
}

/// The release the file parts make: a zip, or the two files; refused when both or neither.
fn upload_of(files: Files) -> Result<Upload, UploadError> {
    Ok(match files {
        Files {
            zip: Some(_),
            firmware: [Some(_), _] | [_, Some(_)],
        } => return Err(UploadError::Both),
        Files {
            zip: Some((file, shown)),
            ..
        } => Upload::Zip { file, shown },
        Files {
            firmware: [Some(new), Some(old)],
            ..
        } => Upload::Files { files: [new, old] },
        Files {
            firmware: [None, None],
            ..
        } => return Err(UploadError::NoRelease),
        Files {
            firmware: [new, _], ..
        } => {
            let name = if new.is_none() {
                FIRMWARE_FILES[0]
            } else {
                FIRMWARE_FILES[1]
            };
            return Err(UploadError::Source(SourceError::FileMissing {
                name,
                shown: UPLOAD_SHOWN.to_string(),
            }));
        }
    })
}

/// The part's name, one of `FIELDS`.
fn field_name(field: &Field) -> Result<&'static str, UploadError> {
    let name = field
        .content_disposition()
        .and_then(|d| d.get_name())
        .filter(|n| !n.is_empty())
        .ok_or(UploadError::Unnamed)?;
    FIELDS.iter().copied().find(|f| *f == name).ok_or_else(|| {
        // A name sent by anyone: shown escaped ({:?}) and cut to a readable length.
        UploadError::UnknownField {
            name: name.chars().take(64).collect(),
        }
    })
}

/// A file part as a browser sends an empty file input: `filename=""`.
fn is_empty_file_input(field: &Field) -> bool {
    field
        .content_disposition()
        .and_then(|d| d.get_filename())
        .is_some_and(str::is_empty)
}

/// Reads a part that must be empty (an empty file input); refuses one that is not.
async fn nothing_in(field: &mut Field) -> Result<(), UploadError> {
    while let Some(chunk) = field.next().await {
        let chunk = chunk.map_err(|e| UploadError::NotAForm(e.to_string()))?;
        if !chunk.is_empty() {
            return Err(UploadError::NotAForm(
                "a file part without a file name carries bytes; name the file (filename=)".into(),
            ));
        }
    }
    Ok(())
}

/// How the uploaded zip is named in refusals: the browser's file name when it reads
/// plainly (letters, digits, `.`, `-`, `_`, at most 100 of them), else `ZIP_SHOWN`. The
/// name also tells the version (`20250301.zip`), as a source's name does.
fn zip_shown(field: &Field) -> String {
    field
        .content_disposition()
        .and_then(|d| d.get_filename())
        .filter(|name| {
            !name.is_empty()
                && name.len() <= 100
                && !name.starts_with('.')
                && name
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_'))
        })
        .map_or_else(|| ZIP_SHOWN.to_string(), str::to_string)
}

/// Streams a file part into an anonymous temp file on `firmware_dir`'s file system, at
/// most `limit` bytes: the first chunk past it refuses the part (`too_large`), and the
/// rest of the body is never read. Disk writes run off the admin listener's worker.
async fn keep(
    field: &mut Field,
    firmware_dir: &Path,
    limit: u64,
    too_large: impl Fn(u64) -> SourceError,
) -> Result<File, UploadError> {
    let kept = |error: std::io::Error| UploadError::Keep {
        firmware_dir: firmware_dir.to_path_buf(),
        error,
    };
    let dir = firmware_dir.to_path_buf();
    let mut file = web::block(move || tempfile::tempfile_in(dir))
        .await
        .map_err(|e| kept(std::io::Error::other(e.to_string())))?
        .map_err(kept)?;
    let mut written: u64 = 0;
    while let Some(chunk) = field.next().await {
        let chunk = chunk.map_err(|e| UploadError::NotAForm(e.to_string()))?;
        written = written.saturating_add(chunk.len() as u64);
        if written > limit {
            return Err(UploadError::Source(too_large(written)));
        }
        file = web::block(move || file.write_all(&chunk).map(|()| file))
            .await
            .map_err(|e| kept(std::io::Error::other(e.to_string())))?
            .map_err(kept)?;
    }
    Ok(file)
}

/// A text field, at most `FIELD_MAX` bytes of UTF-8.
async fn text_field(field: &mut Field, name: &'static str) -> Result<String, UploadError> {
    let mut bytes = Vec::new();
    while let Some(chunk) = field.next().await {
        let chunk = chunk.map_err(|e| UploadError::NotAForm(e.to_string()))?;
        if bytes.len() + chunk.len() > FIELD_MAX {
            return Err(UploadError::FieldTooLong(name));
        }
        bytes.extend_from_slice(&chunk);
    }
    String::from_utf8(bytes).map_err(|_| {
        if name == "description" {
            UploadError::Publish(PublishError::DescriptionNotUtf8)
        } else {
            UploadError::NotText(name)
        }
    })
}

/// Sets the option the field `name` carries. An empty text field is one not given (a
/// browser sends every field of the form, empty ones included).
fn set_option(
    options: &mut PublishOptions,
    name: &'static str,
    text: String,
) -> Result<(), UploadError> {
    let given = (!text.trim().is_empty()).then_some(text.clone());
    match name {
        "version" => options.version = given,
        "line" => options.line = given,
        "description" => options.description = given,
        "rollout_percent" => options.rollout_percent = given,
        "pilot" => options.pilot.extend(given.map(|p| p.trim().to_string())),
        "critical" => options.critical = boolean(name, &text)?,
        "floor" => options.floor = boolean(name, &text)?,
        "replace" => options.replace = boolean(name, &text)?,
        _ => {
            return Err(UploadError::UnknownField {
                name: name.to_string(),
            })
        }
    }
    Ok(())
}

/// `true` and `on` (a checked HTML checkbox) are yes; `false` and empty are no.
pub fn boolean(name: &'static str, text: &str) -> Result<bool, UploadError> {
    match text.trim() {
        "true" | "on" => Ok(true),
        "false" | "" => Ok(false),
        other => Err(UploadError::NotBoolean {
            name,
            given: other.chars().take(64).collect(),
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn booleans_are_true_on_false_or_empty() {
        assert!(boolean("critical", "true").unwrap());
        assert!(boolean("critical", "on").unwrap());
        assert!(!boolean("critical", "false").unwrap());
        assert!(!boolean("critical", "").unwrap());
        let error = boolean("critical", "yes").unwrap_err().to_string();
        assert_eq!(
            error,
            "the field critical must be true, on or false; got \"yes\""
        );
    }
}
