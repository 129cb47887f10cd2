//! A register's serial number (заводской номер): 16 digits in license files, sent by
//! devices and scripts as a string of up to 16 digits or as a JSON integer. Kept as a
//! `u64` so a million of them sort and search fast.

use std::fmt;

/// Digits in a serial as license files write it.
pub const SERIAL_DIGITS: usize = 16;
const MAX: u64 = 9_999_999_999_999_999;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Serial(u64);

impl Serial {
    /// A serial as license files write it: exactly 16 digits.
    pub fn parse_file_form(text: &str) -> Option<Serial> {
        if text.len() != SERIAL_DIGITS {
            return None;
        }
        Serial::parse_request_form(text)
    }

    /// A serial as a request sends it: 1 to 16 digits after trimming whitespace;
    /// shorter ones are left-padded with zeros.
    pub fn parse_request_form(text: &str) -> Option<Serial> {
        let text = text.trim();
        if text.is_empty()
            || text.len() > SERIAL_DIGITS
            || !text.bytes().all(|b| b.is_ascii_digit())
        {
            return None;
        }
        text.parse().ok().map(Serial)
    }

    /// A serial sent as a JSON integer.
    pub fn from_integer(value: u64) -> Option<Serial> {
        (value <= MAX).then_some(Serial(value))
    }
}

/// Serialized as devices and license files write it: 16 digits, as a string.
impl serde::Serialize for Serial {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl fmt::Display for Serial {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:016}", self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn request_serials_are_trimmed_and_padded() {
        assert_eq!(
            Serial::parse_request_form(" 12345\n").unwrap().to_string(),
            "0000000000012345"
        );
        assert_eq!(
            Serial::parse_request_form("0000000000012345")
                .unwrap()
                .to_string(),
            "0000000000012345"
        );
        assert_eq!(
            Serial::from_integer(12345).unwrap().to_string(),
            "0000000000012345"
        );
        assert_eq!(
            Serial::from_integer(MAX).unwrap().to_string(),
            "9999999999999999"
        );
    }

    #[test]
    fn malformed_serials_are_rejected() {
        for bad in [
            "",
            "  ",
            "12a45",
            "00000000000123456",
            "-1",
            "+1",
            "1 2",
            "１２",
        ] {
            assert_eq!(Serial::parse_request_form(bad), None, "{bad:?}");
        }
        assert_eq!(Serial::from_integer(MAX + 1), None);
        assert_eq!(Serial::parse_file_form("12345"), None);
    }
}
