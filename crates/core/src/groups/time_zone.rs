//! A group's `time_zone`: an IANA name (`Europe/Moscow`, `Asia/Vladivostok`) from the
//! database `chrono-tz` compiles in, never an offset written by hand (`+03:00` is wrong
//! half the year in a zone with summer time, and Russia's zones moved in 2011, 2014 and
//! 2016). A name that is none of them is refused with the nearest one.

use chrono_tz::{Tz, TZ_VARIANTS};

use crate::model::did_you_mean::nearest;

/// The zone named `text` (exactly as the database writes it), or the name nearest to it
/// (another case, a typo) to suggest.
pub fn parse(text: &str) -> Result<Tz, Option<&'static str>> {
    let text = text.trim();
    if let Ok(zone) = text.parse::<Tz>() {
        return Ok(zone);
    }
    let same_but_case = TZ_VARIANTS
        .iter()
        .map(|zone| zone.name())
        .find(|name| name.eq_ignore_ascii_case(text));
    if same_but_case.is_some() {
        return Err(same_but_case);
    }
    // Typos only among names of a similar length: comparing a megabyte of text with six
    // hundred names is not done.
    if text.len() > 64 {
        return Err(None);
    }
    Err(nearest(
        &text.to_ascii_lowercase(),
        TZ_VARIANTS.iter().map(|zone| zone.name()),
    ))
}

/// For `Etc/GMT+N` / `Etc/GMT-N` (N not 0, any case): what it really means, `UTC-N` /
/// `UTC+N`. The POSIX sign is the opposite of the usual one.
pub fn inverted_offset(text: &str) -> Option<String> {
    let text = text.trim();
    let rest = text
        .get(..7)?
        .eq_ignore_ascii_case("etc/gmt")
        .then(|| &text[7..])?;
    let (sign, hours) = rest.split_at_checked(1)?;
    let hours: u8 = hours.parse().ok().filter(|h| *h != 0)?;
    match sign {
        "+" => Some(format!("UTC-{hours}")),
        "-" => Some(format!("UTC+{hours}")),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn etc_gmt_names_are_read_with_their_real_sign() {
        assert_eq!(inverted_offset("Etc/GMT+3").as_deref(), Some("UTC-3"));
        assert_eq!(inverted_offset(" etc/gmt-10 ").as_deref(), Some("UTC+10"));
        for fine in [
            "Etc/GMT",
            "Etc/GMT+0",
            "Etc/UTC",
            "Europe/Moscow",
            "Etc/GMT+x",
            "Etc",
        ] {
            assert_eq!(inverted_offset(fine), None, "{fine}");
        }
    }

    #[test]
    fn iana_names_pass_and_others_are_refused_with_the_nearest() {
        assert_eq!(parse("Asia/Vladivostok"), Ok(Tz::Asia__Vladivostok));
        assert_eq!(parse(" Europe/Moscow "), Ok(Tz::Europe__Moscow));
        assert_eq!(parse("UTC"), Ok(Tz::UTC));
        assert_eq!(parse("europe/moscow"), Err(Some("Europe/Moscow")));
        assert_eq!(parse("Asia/Vladivostock"), Err(Some("Asia/Vladivostok")));
        assert_eq!(parse("+03:00"), Err(None));
        assert_eq!(parse(""), Err(None));
        assert_eq!(parse(&"x".repeat(10_000)), Err(None));
    }
}
