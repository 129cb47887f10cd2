//! Text from devices and files made fit for one line of a log or a report. A device that
//! puts `%0A` in a line name, or an operator's colleague who names a license file
//! `a⏎check passed.yaml`, must not be able to write a line of their own where an operator
//! or a log shipper reads. So control characters become `\n`, `\r`, `\t`, `\u{1b}`…, and
//! so do the characters some viewers break lines at or that reorder what is shown
//! (U+2028, U+2029, the bidirectional overrides); everything else (Cyrillic included) is
//! kept as it is.

use std::borrow::Cow;
use std::fmt::Write as _;

/// Whether `c` may not be shown as it is.
fn must_escape(c: char) -> bool {
    c.is_control()
        || matches!(
            c,
            '\u{2028}' | '\u{2029}' | '\u{200e}' | '\u{200f}' | '\u{202a}'..='\u{202e}'
                | '\u{2066}'..='\u{2069}'
        )
}

/// `text` with every such character written as an escape (`\n`, `\u{7f}`, `\u{2028}`).
pub fn escaped(text: &str) -> Cow<'_, str> {
    if !text.chars().any(must_escape) {
        return Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len() + 8);
    for c in text.chars() {
        match c {
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if must_escape(c) => {
                let _ = write!(out, "\\u{{{:x}}}", u32::from(c));
            }
            c => out.push(c),
        }
    }
    Cow::Owned(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn control_characters_are_escaped_and_the_rest_kept() {
        assert_eq!(escaped("линия ffd12"), "линия ffd12");
        assert_eq!(
            escaped("x\n[2026-01-01T00:00:00Z INFO  forged] y"),
            "x\\n[2026-01-01T00:00:00Z INFO  forged] y"
        );
        assert_eq!(
            escaped("a\r\tb\u{1b}[31m\u{7f}"),
            "a\\r\\tb\\u{1b}[31m\\u{7f}"
        );
        assert_eq!(
            escaped("a\u{2028}b\u{202e}c\u{85}"),
            "a\\u{2028}b\\u{202e}c\\u{85}"
        );
    }
}
