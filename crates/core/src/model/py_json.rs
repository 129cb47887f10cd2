//! JSON bytes in the exact form the vendor's Tornado server writes, so that drivers which
//! read the body as text in their own charset (cp1251 on Windows) see the same characters.
//!
//! Tornado answers with `json.dumps(value).replace("</", "<\\/")`: `", "` and `": "`
//! separators, every character outside printable ASCII escaped as `\uXXXX` in lowercase hex
//! (a surrogate pair above U+FFFF), the short escapes `\" \\ \n \r \t \b \f`, and `</`
//! written as `<\/`. serde_json does the structure; this formatter does the byte form.

use std::io::{self, Write};

use serde::Serialize;
use serde_json::ser::{CharEscape, Formatter, Serializer};

/// A `serde_json` formatter that reproduces Python's `json.dumps` with `ensure_ascii=True`.
struct PyJsonFormatter;

impl Formatter for PyJsonFormatter {
    fn begin_array_value<W: ?Sized + Write>(
        &mut self,
        writer: &mut W,
        first: bool,
    ) -> io::Result<()> {
        if first {
            Ok(())
        } else {
            writer.write_all(b", ")
        }
    }

    fn begin_object_key<W: ?Sized + Write>(
        &mut self,
        writer: &mut W,
        first: bool,
    ) -> io::Result<()> {
        if first {
            Ok(())
        } else {
            writer.write_all(b", ")
        }
    }

    fn begin_object_value<W: ?Sized + Write>(&mut self, writer: &mut W) -> io::Result<()> {
        writer.write_all(b": ")
    }

    /// serde_json hands over runs of characters it does not escape itself (it escapes `"`,
    /// `\` and controls below U+0020). Two adjacent unescaped characters always arrive in the
    /// same fragment, so `</` can be found here.
    fn write_string_fragment<W: ?Sized + Write>(
        &mut self,
        writer: &mut W,
        fragment: &str,
    ) -> io::Result<()> {
        let bytes = fragment.as_bytes();
        let mut start = 0;
        for (i, ch) in fragment.char_indices() {
            let printable_ascii = (' '..='~').contains(&ch);
            let slash_after_lt = ch == '/' && i > 0 && bytes[i - 1] == b'<';
            if printable_ascii && !slash_after_lt {
                continue;
            }
            writer.write_all(&bytes[start..i])?;
            if slash_after_lt {
                writer.write_all(b"\\/")?;
            } else {
                let mut units = [0u16; 2];
                for unit in ch.encode_utf16(&mut units) {
                    write!(writer, "\\u{:04x}", unit)?;
                }
            }
            start = i + ch.len_utf8();
        }
        writer.write_all(&bytes[start..])
    }

    fn write_char_escape<W: ?Sized + Write>(
        &mut self,
        writer: &mut W,
        escape: CharEscape,
    ) -> io::Result<()> {
        let short: &[u8] = match escape {
            CharEscape::Quote => b"\\\"",
            CharEscape::ReverseSolidus => b"\\\\",
            CharEscape::Solidus => b"\\/",
            CharEscape::Backspace => b"\\b",
            CharEscape::FormFeed => b"\\f",
            CharEscape::LineFeed => b"\\n",
            CharEscape::CarriageReturn => b"\\r",
            CharEscape::Tab => b"\\t",
            CharEscape::AsciiControl(byte) => return write!(writer, "\\u{:04x}", byte),
        };
        writer.write_all(short)
    }
}

/// Serializes `value` in the reference server's byte form.
///
/// Serializing our own response types cannot fail (no maps with non-string keys, no
/// failing `Serialize` impls); should it ever, the error says what it was.
pub fn to_vec<T: Serialize + ?Sized>(value: &T) -> Result<Vec<u8>, serde_json::Error> {
    let mut out = Vec::with_capacity(256);
    let mut serializer = Serializer::with_formatter(&mut out, PyJsonFormatter);
    value.serialize(&mut serializer)?;
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn dumps(value: serde_json::Value) -> String {
        String::from_utf8(to_vec(&value).expect("serializes")).expect("ascii")
    }

    #[test]
    fn separators_match_python() {
        #[derive(Serialize)]
        struct T {
            a: bool,
            b: u32,
            c: Vec<u8>,
        }
        let bytes = to_vec(&T {
            a: true,
            b: 20180125,
            c: vec![1, 2],
        })
        .unwrap();
        assert_eq!(bytes, br#"{"a": true, "b": 20180125, "c": [1, 2]}"#);
    }

    #[test]
    fn cyrillic_is_escaped_like_python() {
        // python3 -c 'import json; print(json.dumps("Прошивка"))'
        assert_eq!(
            dumps(json!("Прошивка")),
            r#""\u041f\u0440\u043e\u0448\u0438\u0432\u043a\u0430""#
        );
    }

    #[test]
    fn astral_characters_become_surrogate_pairs() {
        // python3 -c 'import json; print(json.dumps("\U0001F600"))' -> "\ud83d\ude00"
        assert_eq!(dumps(json!("x\u{1F600}y")), r#""x\ud83d\ude00y""#);
    }

    #[test]
    fn controls_and_del_are_escaped_like_python() {
        assert_eq!(
            dumps(json!("a\"b\\c\n\r\t\u{8}\u{c}")),
            r#""a\"b\\c\n\r\t\b\f""#
        );
        assert_eq!(dumps(json!("\u{1}\u{1f}\u{7f}")), r#""\u0001\u001f\u007f""#);
    }

    #[test]
    fn closing_tags_are_broken_like_tornado() {
        assert_eq!(dumps(json!("a</b>/c<x")), r#""a<\/b>/c<x""#);
        assert_eq!(dumps(json!("</</")), r#""<\/<\/""#);
        assert_eq!(dumps(json!({"k</": "v"})), r#"{"k<\/": "v"}"#);
    }
}
