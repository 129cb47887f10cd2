//! Operators' text files (`server.yaml`, `meta.yaml`, `licenses.yaml`) as the editors of
//! service centres save them: Windows Notepad may put a UTF-8 byte order mark first, which
//! is accepted; an editor set to Windows-1251 writes Cyrillic that is not UTF-8, which is
//! refused with a message that says what to do.

/// A file that is not UTF-8 text: `what` names it, `line` is where the first bad byte is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NotUtf8 {
    pub what: String,
    pub line: usize,
}

// Its sentence, in either language, is made from the tables: `words::vocabulary`.

impl std::error::Error for NotUtf8 {}

/// The text of `bytes`, without a leading UTF-8 BOM; `Err` in plain words when it is not
/// UTF-8 (`what` names the file).
pub fn utf8_text(bytes: Vec<u8>, what: &str) -> Result<String, NotUtf8> {
    let bytes = match bytes.strip_prefix(b"\xEF\xBB\xBF") {
        Some(rest) => rest.to_vec(),
        None => bytes,
    };
    String::from_utf8(bytes).map_err(|e| {
        let at = e.utf8_error().valid_up_to();
        let line = e.as_bytes()[..at].iter().filter(|b| **b == b'\n').count() + 1;
        NotUtf8 {
            what: what.to_string(),
            line,
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_bom_is_dropped_and_cp1251_is_refused_in_plain_words() {
        let with_bom =
            b"\xEF\xBB\xBFdescription: \xD0\x9F\xD1\x80\xD0\xB8\xD0\xB2\xD0\xB5\xD1\x82\n".to_vec();
        assert_eq!(
            utf8_text(with_bom, "meta.yaml").unwrap(),
            "description: Привет\n"
        );
        // "Привет" in Windows-1251, on line 2.
        let cp1251 = b"critical: false\ndescription: \xCF\xF0\xE8\xE2\xE5\xF2\n".to_vec();
        let error = utf8_text(cp1251, "meta.yaml").unwrap_err().to_string();
        assert_eq!(
            error,
            "meta.yaml is not UTF-8 text (line 2; Cyrillic saved as Windows-1251?): save it \
             as UTF-8"
        );
    }
}
