//! How deep a YAML text nests its flow collections (`[`, `{`), found before the YAML parser
//! sees it. The parser's scanner costs time in the square of that depth, and it reads the
//! whole text before its own nesting limit refuses it: a groups file of a hundred thousand
//! `[` kept a scan busy for minutes. A groups file needs two levels (`- {name: A,
//! networks: [...]}`); past `MAX_FLOW_DEPTH` the text is refused unread.
//!
//! Quoted scalars are skipped as YAML reads them (a `]` inside `"..."` closes nothing), and
//! a quote opens one only where a scalar starts (after `[`, `{`, `,`, `:`, `-`, `?` or at
//! the start of a line), so an apostrophe inside a plain word (`O'Reilly`) is a letter, as
//! it is to the parser.

/// Deeper flow nesting than this is refused.
pub const MAX_FLOW_DEPTH: usize = 16;

/// Whether `text` nests flow collections deeper than `MAX_FLOW_DEPTH`.
pub fn too_deep(text: &str) -> bool {
    let mut depth = 0usize;
    // The last character that was not a space or a tab, on this line (none: line start).
    let mut before: Option<char> = None;
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\n' | '\r' => {
                before = None;
                continue;
            }
            ' ' | '\t' => continue,
            '#' => {
                // A comment runs to the end of the line.
                while chars.peek().is_some_and(|c| *c != '\n') {
                    chars.next();
                }
                continue;
            }
            '"' | '\'' if before.is_none_or(|b| "[{,:-?".contains(b)) => {
                skip_quoted(c, &mut chars);
            }
            '[' | '{' => {
                depth += 1;
                if depth > MAX_FLOW_DEPTH {
                    return true;
                }
            }
            ']' | '}' => depth = depth.saturating_sub(1),
            _ => {}
        }
        before = Some(c);
    }
    false
}

/// Past a quoted scalar opened by `quote`: `\` escapes in `"..."`, `''` in `'...'`.
fn skip_quoted(quote: char, chars: &mut std::iter::Peekable<std::str::Chars<'_>>) {
    while let Some(c) = chars.next() {
        if quote == '"' && c == '\\' {
            chars.next();
        } else if c == quote {
            if quote == '\'' && chars.peek() == Some(&'\'') {
                chars.next();
            } else {
                return;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn depth_is_counted_outside_quotes_and_comments() {
        assert!(!too_deep("- {name: A, networks: [10.0.0.0/8]}\n"));
        assert!(too_deep(&format!("x: {}", "[".repeat(MAX_FLOW_DEPTH + 1))));
        assert!(!too_deep(&format!("x: {}", "[".repeat(MAX_FLOW_DEPTH))));
        assert!(too_deep(&format!(
            "x: {}",
            "{a: ".repeat(MAX_FLOW_DEPTH + 1)
        )));
        // A `]` in quotes closes nothing: the parser's depth is what counts.
        assert!(too_deep(&format!(
            "x: {}",
            "[ \"]\", ".repeat(MAX_FLOW_DEPTH + 1)
        )));
        assert!(too_deep(&format!(
            "x: {}",
            "[ 'a'']', ".repeat(MAX_FLOW_DEPTH + 1)
        )));
        assert!(too_deep(&format!(
            "x: {}",
            "[ \"a\\\"]\", ".repeat(MAX_FLOW_DEPTH + 1)
        )));
        // Brackets in quotes, in comments and in plain words (after an apostrophe) are text.
        assert!(!too_deep(&format!("- name: \"{}\"\n", "[".repeat(100))));
        assert!(!too_deep(&format!("- name: A # {}\n", "[".repeat(100))));
        assert!(!too_deep(&format!("- name: O'Reilly {}\n", "]".repeat(3))));
        assert!(too_deep(&format!(
            "- name: O'Reilly\n  networks: {}",
            "[".repeat(MAX_FLOW_DEPTH + 1)
        )));
    }
}
