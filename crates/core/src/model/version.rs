//! Firmware dates: the `D.M.YYYY` build date a register reports and the `yyyymmdd`
//! version that names a release folder, both as one comparable `Version`, compared as the
//! reference compares them (`int(strftime('%Y%m%d'))`).

use std::fmt;

use chrono::NaiveDate;

/// A real calendar date as the integer `yyyymmdd` (`20180125`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Version(u32);

impl Version {
    /// Builds a version from a year, month and day, if that day exists.
    fn from_ymd(year: i32, month: u32, day: u32) -> Option<Version> {
        NaiveDate::from_ymd_opt(year, month, day)?;
        let year = u32::try_from(year).ok()?;
        Some(Version(year * 10_000 + month * 100 + day))
    }

    /// Parses a register's build date, `D.M.YYYY`: day and month of one or two digits, a
    /// four-digit year, a date that exists. Nothing else (no spaces, no other separators).
    pub fn parse_build_date(text: &str) -> Option<Version> {
        let mut parts = text.split('.');
        let (day, month, year) = (parts.next()?, parts.next()?, parts.next()?);
        if parts.next().is_some() {
            return None;
        }
        let day = digits(day, 1..=2)?;
        let month = digits(month, 1..=2)?;
        let year = digits(year, 4..=4)?;
        Version::from_ymd(i32::try_from(year).ok()?, month, day)
    }

    /// Parses a release folder name: exactly eight digits `yyyymmdd` naming a real date.
    pub fn parse_folder_name(text: &str) -> Option<Version> {
        let value = digits(text, 8..=8)?;
        Version::from_yyyymmdd(value)
    }

    /// Checks an integer `yyyymmdd` (from `server.yaml` or the command line).
    pub fn from_yyyymmdd(value: u32) -> Option<Version> {
        let (year, month, day) = (value / 10_000, value / 100 % 100, value % 100);
        if !(1000..=9999).contains(&year) {
            return None;
        }
        Version::from_ymd(i32::try_from(year).ok()?, month, day)
    }

    /// The integer form, as devices receive it in `version`.
    pub fn as_u32(self) -> u32 {
        self.0
    }
}

/// A yyyymmdd number as operators' pages write dates: DD.MM.YYYY (`Display` keeps the
/// yyyymmdd of folder names and of what devices receive).
pub fn day_month_year(yyyymmdd: u32) -> String {
    format!(
        "{:02}.{:02}.{}",
        yyyymmdd % 100,
        yyyymmdd / 100 % 100,
        yyyymmdd / 10_000
    )
}

impl fmt::Display for Version {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:08}", self.0)
    }
}

/// The value of `text` when it is `len` ASCII digits and nothing else.
fn digits(text: &str, len: std::ops::RangeInclusive<usize>) -> Option<u32> {
    if !len.contains(&text.len()) || !text.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    text.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn build(text: &str) -> Option<u32> {
        Version::parse_build_date(text).map(Version::as_u32)
    }

    #[test]
    fn build_dates_parse_like_strptime() {
        assert_eq!(build("28.12.2017"), Some(20171228));
        assert_eq!(build("1.2.2018"), Some(20180201));
        assert_eq!(build("01.02.2018"), Some(20180201));
        assert_eq!(build("29.02.2020"), Some(20200229));
    }

    #[test]
    fn impossible_or_malformed_build_dates_are_rejected() {
        for bad in [
            "31.02.2017",
            "29.02.2019",
            "2017-12-28",
            "28.12.17",
            "28.12.02017",
            "001.1.2018",
            "28.13.2017",
            "0.1.2018",
            "1.0.2018",
            "",
            "..",
            " 1.2.2018",
            "1.2.2018 ",
            "1.2.2018.",
            "+1.2.2018",
            "1.2.-201",
            "١.٢.٢٠١٨",
        ] {
            assert_eq!(build(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn folder_names_are_eight_digit_real_dates() {
        assert_eq!(
            Version::parse_folder_name("20180125").map(Version::as_u32),
            Some(20180125)
        );
        for bad in [
            "2018012",
            "201801250",
            "20180231",
            "20181301",
            ".20180125",
            "2018012a",
            "00000000",
        ] {
            assert_eq!(Version::parse_folder_name(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn display_is_the_folder_name() {
        assert_eq!(
            Version::from_yyyymmdd(20180125).unwrap().to_string(),
            "20180125"
        );
        assert_eq!(Version::from_yyyymmdd(2018012), None);
    }
}
