//! The vendor's `.slf` license format: one `SERIAL<TAB>LICENSES<TAB>SIGNATURE` line per
//! device, LF or CRLF endings, an optional UTF-8 BOM, blank lines ignored. A bad line is
//! reported with its number and skipped; the good lines load.

use std::path::Path;

use super::record::{HexField, LicenseRecord};
use super::serial::Serial;
use super::{LicenseEntry, ParsedLicenses};
use crate::problem::Problem;

/// Parses the text of a `.slf` file.
pub fn parse(path: &Path, text: &str) -> ParsedLicenses {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let mut parsed = ParsedLicenses::default();
    for (index, line) in text.split('\n').enumerate() {
        let line = line.strip_suffix('\r').unwrap_or(line);
        if line.trim().is_empty() {
            continue;
        }
        match parse_line(line) {
            Ok((serial, record)) => parsed.entries.push(LicenseEntry {
                serial,
                record,
                line: index + 1,
            }),
            Err(message) => parsed
                .problems
                .push(Problem::line(path, index + 1, message)),
        }
    }
    parsed
}

/// Parses one non-blank line.
pub fn parse_line(line: &str) -> Result<(Serial, LicenseRecord), String> {
    let fields: Vec<&str> = line
        .split('\t')
        .map(|field| field.trim_matches(' '))
        .collect();
    let [serial, licenses, signature] = fields[..] else {
        return Err(format!(
            "expected 3 tab-separated fields (serial, licenses, signature), found {}",
            fields.len()
        ));
    };
    let serial = Serial::parse_file_form(serial)
        .ok_or_else(|| format!("serial {serial:?} is not 16 digits"))?;
    let licenses = HexField::parse(licenses).map_err(|e| format!("licenses: {e}"))?;
    let signature = HexField::parse(signature).map_err(|e| format!("signature: {e}"))?;
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
        let parsed = parse(Path::new("a.slf"), &text);
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
        let parsed = parse(Path::new("a.slf"), &text);
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
    fn reads_the_vendors_sample_when_present() {
        let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/spec/licenses.slf");
        let Ok(text) = std::fs::read_to_string(&path) else {
            return;
        };
        let parsed = parse(&path, &text);
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
