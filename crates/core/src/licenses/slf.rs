//! The vendor's `.slf` license format: one `SERIAL<TAB>LICENSES<TAB>SIGNATURE` line per
//! device, LF or CRLF endings, an optional UTF-8 BOM, blank lines ignored. A bad line is
//! reported with its number and skipped; the good lines load.

use std::io::BufRead;
use std::path::Path;

use std::fmt;

use super::record::{HexError, HexField, LicenseRecord};
use super::serial::Serial;
use super::{LicenseEntry, ParsedLicenses};
use crate::model::lang::{fill, InLanguage};
use crate::model::problem::Problem;
use crate::words::{FromTable, Said, Words};

/// Parses a `.slf` file line by line, so that a file of a million devices never sits in
/// memory as text next to its parsed entries. `size_hint` (the file size) pre-sizes the
/// entry list. An I/O error is returned as is: the caller decides what it means.
pub fn parse(
    path: &Path,
    mut reader: impl BufRead,
    size_hint: u64,
) -> std::io::Result<ParsedLicenses> {
    let mut parsed = ParsedLicenses::default();
    // A line is 16 + 1 + 128 + 1 + 128 + 2 bytes.
    parsed
        .entries
        .reserve(usize::try_from(size_hint / 276).unwrap_or(0));
    let mut buffer = Vec::with_capacity(300);
    let mut number = 0usize;
    loop {
        buffer.clear();
        if reader.read_until(b'\n', &mut buffer)? == 0 {
            break;
        }
        number += 1;
        let mut bytes = buffer.strip_suffix(b"\n").unwrap_or(&buffer);
        bytes = bytes.strip_suffix(b"\r").unwrap_or(bytes);
        if number == 1 {
            bytes = bytes.strip_prefix("\u{feff}".as_bytes()).unwrap_or(bytes);
        }
        let Ok(line) = std::str::from_utf8(bytes) else {
            parsed.problems.push(Problem::line(
                path,
                number,
                Said::new(|w| w.scan.slf_not_utf8.to_string()),
            ));
            continue;
        };
        if line.trim().is_empty() {
            continue;
        }
        match parse_line(line) {
            Ok((serial, record)) => parsed.entries.push(LicenseEntry {
                serial,
                line: number,
                record,
            }),
            Err(error) => parsed
                .problems
                .push(Problem::line(path, number, Said::of(&error))),
        }
    }
    Ok(parsed)
}

/// Why a line of an `.slf` file was refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LineError {
    /// Not three tab-separated fields: `found` of them.
    Fields {
        found: usize,
    },
    /// The first field is no serial number.
    Serial(String),
    Licenses(HexError),
    Signature(HexError),
}

impl FromTable for LineError {
    fn said(&self, words: &'static Words) -> String {
        let t = words.scan;
        let field = |name: &str, e: &HexError| {
            fill(
                t.in_file,
                &[("name", &name), ("why", &e.in_language(words.lang))],
            )
        };
        match self {
            LineError::Fields { found } => fill(t.slf_fields, &[("found", found)]),
            LineError::Serial(serial) => fill(t.slf_serial, &[("serial", &format!("{serial:?}"))]),
            LineError::Licenses(e) => field("licenses", e),
            LineError::Signature(e) => field("signature", e),
        }
    }
}

impl fmt::Display for LineError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.english())
    }
}

impl InLanguage for LineError {
    fn in_russian(&self) -> String {
        self.russian()
    }
}

impl std::error::Error for LineError {}

/// Parses one non-blank line.
pub fn parse_line(line: &str) -> Result<(Serial, LicenseRecord), LineError> {
    let fields: Vec<&str> = line
        .split('\t')
        .map(|field| field.trim_matches(' '))
        .collect();
    let [serial, licenses, signature] = fields[..] else {
        return Err(LineError::Fields {
            found: fields.len(),
        });
    };
    let serial =
        Serial::parse_file_form(serial).ok_or_else(|| LineError::Serial(serial.to_string()))?;
    let licenses = HexField::parse(licenses).map_err(LineError::Licenses)?;
    let signature = HexField::parse(signature).map_err(LineError::Signature)?;
    Ok((
        serial,
        LicenseRecord {
            licenses,
            signature,
        },
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn line(serial: &str, fill: char) -> String {
        format!(
            "{serial}\t{}\t{}",
            fill.to_string().repeat(128),
            "A".repeat(128)
        )
    }

    #[test]
    fn crlf_bom_and_blank_lines() {
        let text = format!(
            "\u{feff}{}\r\n\r\n   \r\n{}\r\n",
            line("0000000000012345", 'f'),
            line("0000000000000001", '0')
        );
        let parsed = parse(Path::new("a.slf"), text.as_bytes(), 0).unwrap();
        assert!(parsed.problems.is_empty(), "{:?}", parsed.problems);
        let serials: Vec<String> = parsed
            .entries
            .iter()
            .map(|e| e.serial.to_string())
            .collect();
        assert_eq!(serials, ["0000000000012345", "0000000000000001"]);
        assert_eq!(parsed.entries[0].line, 1);
        assert_eq!(parsed.entries[1].line, 4);
        assert_eq!(parsed.entries[0].record.licenses.to_hex(), "f".repeat(128));
    }

    #[test]
    fn bad_lines_are_reported_with_their_number_and_skipped() {
        let text = format!(
            "{}\n12345\tff\n{}\nnot a line\n{}\n",
            line("0000000000012345", 'f'),
            line("00000000000x2345", 'f'),
            line("0000000000000002", 'e')
        );
        let parsed = parse(Path::new("a.slf"), text.as_bytes(), 0).unwrap();
        assert_eq!(parsed.entries.len(), 2);
        let problems: Vec<String> = parsed.problems.iter().map(ToString::to_string).collect();
        assert_eq!(
            problems,
            [
                "a.slf:2: expected 3 tab-separated fields (serial, licenses, signature), found 2",
                "a.slf:3: serial \"00000000000x2345\" is not 16 digits",
                "a.slf:4: expected 3 tab-separated fields (serial, licenses, signature), found 1",
            ]
        );
    }

    #[test]
    fn reads_the_vendors_sample() {
        let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/data/vendor-sample.slf");
        let text = std::fs::read_to_string(&path).expect("the vendor's sample is in the repo");
        let parsed = parse(&path, text.as_bytes(), 0).unwrap();
        assert!(parsed.problems.is_empty(), "{:?}", parsed.problems);
        assert_eq!(parsed.entries.len(), 1);
        let entry = &parsed.entries[0];
        assert_eq!(entry.serial.to_string(), "0000000000012345");
        assert!(entry
            .record
            .signature
            .to_hex()
            .starts_with("0123456789DEADBEEF"));
    }
}
