//! The server's own log (env_logger), one record per line whatever a message holds. Log
//! messages quote what devices send (a line name from a URL, a serial, a header), and a
//! device that puts `%0A` in a line name must not be able to write a forged line into the
//! log an operator or a log shipper reads. So every record is written through `escaped`:
//! control characters become `\n`, `\r`, `\t`, `\u{1b}`…; everything else (Cyrillic
//! included) is kept as it is.

use std::fmt::Write as _;
use std::io::Write as _;

/// Sets the logger's format: env_logger's usual `[time LEVEL target] message`, with the
/// message escaped.
pub fn one_record_per_line(builder: &mut env_logger::Builder) {
    builder.format(|out, record| {
        let mut message = String::new();
        let _ = write!(message, "{}", record.args());
        let style = out.default_level_style(record.level());
        writeln!(
            out,
            "[{} {style}{:<5}{style:#} {}] {}",
            out.timestamp(),
            record.level(),
            record.target(),
            escaped(&message)
        )
    });
}

/// `text` with every control character written as an escape (`\n`, `\u{7f}`).
pub fn escaped(text: &str) -> std::borrow::Cow<'_, str> {
    if !text.chars().any(char::is_control) {
        return std::borrow::Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len() + 8);
    for c in text.chars() {
        match c {
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if c.is_control() => {
                let _ = write!(out, "\\u{{{:x}}}", u32::from(c));
            }
            c => out.push(c),
        }
    }
    std::borrow::Cow::Owned(out)
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
    }
}
