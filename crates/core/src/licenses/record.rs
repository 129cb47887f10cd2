//! One device's licenses and signature, stored in 168 bytes instead of 256 characters of
//! hex plus allocations: a fleet of a million registers must fit in a few hundred MB.
//! Devices get the hex back exactly as the license file wrote it, letter case included.

use std::fmt;

use crate::model::lang::{fill, InLanguage};
use crate::words::{FromTable, Words};

/// Hex characters in each of the two fields (64 bytes each).
pub const HEX_LEN: usize = 128;
const BYTES: usize = HEX_LEN / 2;

/// Why a field is not 128 hex digits.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum HexError {
    /// Too short or too long: `found` characters.
    Length { found: usize },
    /// The character at `position` (from 1) is no hex digit.
    NotHex { found: char, position: usize },
}

impl FromTable for HexError {
    fn said(&self, words: &'static Words) -> String {
        match self {
            HexError::Length { found } => fill(
                words.scan.hex_length,
                &[("len", &HEX_LEN), ("found", found)],
            ),
            HexError::NotHex { found, position } => fill(
                words.scan.hex_not_hex,
                &[("found", &format!("{found:?}")), ("position", position)],
            ),
        }
    }
}

impl fmt::Display for HexError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.english())
    }
}

impl InLanguage for HexError {
    fn in_russian(&self) -> String {
        self.russian()
    }
}

impl std::error::Error for HexError {}

/// 128 hex characters as 64 bytes, plus one bit per character saying it was an uppercase
/// letter, so that the original text is rebuilt exactly.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HexField {
    bytes: [u8; BYTES],
    upper: [u8; HEX_LEN / 8],
}

impl HexField {
    /// Parses exactly 128 hex digits (either case), or says what is wrong.
    pub fn parse(text: &str) -> Result<HexField, HexError> {
        if text.len() != HEX_LEN {
            return Err(HexError::Length {
                found: text.chars().count(),
            });
        }
        let mut field = HexField {
            bytes: [0; BYTES],
            upper: [0; HEX_LEN / 8],
        };
        for (i, b) in text.bytes().enumerate() {
            let nibble = match b {
                b'0'..=b'9' => b - b'0',
                b'a'..=b'f' => b - b'a' + 10,
                b'A'..=b'F' => {
                    field.upper[i / 8] |= 1 << (i % 8);
                    b - b'A' + 10
                }
                _ => {
                    let found = text[i..].chars().next().unwrap_or('?');
                    return Err(HexError::NotHex {
                        found,
                        position: i + 1,
                    });
                }
            };
            field.bytes[i / 2] |= if i % 2 == 0 { nibble << 4 } else { nibble };
        }
        Ok(field)
    }

    /// The hex text exactly as it was parsed.
    pub fn to_hex(&self) -> String {
        let mut out = String::with_capacity(HEX_LEN);
        for i in 0..HEX_LEN {
            let byte = self.bytes[i / 2];
            let nibble = if i % 2 == 0 { byte >> 4 } else { byte & 0x0f };
            let upper = self.upper[i / 8] & (1 << (i % 8)) != 0;
            let digits: &[u8; 16] = if upper {
                b"0123456789ABCDEF"
            } else {
                b"0123456789abcdef"
            };
            out.push(char::from(digits[usize::from(nibble)]));
        }
        out
    }
}

/// What a device receives from `feature_licenses`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LicenseRecord {
    pub licenses: HexField,
    pub signature: HexField,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hex_round_trips_with_its_case() {
        let mixed = "0123456789DEADBEEFdeadbeefAbCdEf".repeat(4);
        assert_eq!(HexField::parse(&mixed).unwrap().to_hex(), mixed);
        let lower = "ff".to_string() + &"0".repeat(126);
        assert_eq!(HexField::parse(&lower).unwrap().to_hex(), lower);
    }

    #[test]
    fn bad_hex_names_the_problem() {
        assert_eq!(
            HexField::parse("abc").unwrap_err().to_string(),
            "expected 128 hex digits, found 3 characters"
        );
        let bad = "0".repeat(10) + "g" + &"0".repeat(117);
        assert_eq!(
            HexField::parse(&bad).unwrap_err().to_string(),
            "'g' at position 11 is not a hex digit"
        );
        let cyrillic = "0".repeat(126) + "я";
        assert!(HexField::parse(&cyrillic)
            .unwrap_err()
            .to_string()
            .contains("'я'"));
    }

    #[test]
    fn record_is_compact() {
        assert!(std::mem::size_of::<LicenseRecord>() <= 160);
    }
}
