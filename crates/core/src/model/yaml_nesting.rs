//! How deep a YAML text nests its flow collections (`[`, `{`), found before the YAML parser
//! sees it. Every YAML file the server or its commands read (`server.yaml`, `groups.yaml`,
//! license `.yaml` files, `meta.yaml`, `line.yaml`, a `meta.yaml` in a zip given to
//! `publish` or uploaded) is checked here first, by `refuse_deep_nesting`.
//!
//! The parser's scanner costs time in the square of the flow depth, and it reads the whole
//! text before its own nesting limit refuses it. Measured with the parser of `Cargo.lock`
//! in a release build: 10 000 levels of `{a: ` take 0.3 s, 20 000 take 1.3 s, 40 000
//! take 5.8 s; a `meta.yaml` of 1 MiB holds 260 000 levels (minutes), a license file of
//! 1 GiB hundreds of millions (days). A real file needs two levels (`- {name: A,
//! networks: [...]}`, `stages: [{percent: 5}]`); past `MAX_FLOW_DEPTH` the text is refused
//! unread. Block nesting (indentation, `- - -`) is not checked: its cost grows with the
//! length of the text, not its square (a million levels of `- ` in 0.35 s), as a flat list
//! of the same length does.
//!
//! Quoted scalars are skipped as YAML reads them (a `]` inside `"..."` closes nothing), and
//! a quote opens one only where a scalar starts (after `[`, `{`, `,`, `:`, `-`, `?` or at
//! the start of a line), so an apostrophe inside a plain word (`O'Reilly`) is a letter, as
//! it is to the parser.

/// Deeper flow nesting than this is refused.
pub const MAX_FLOW_DEPTH: usize = 16;

/// A text whose flow collections nest deeper than `MAX_FLOW_DEPTH`: `line` (from 1) is
/// where the first one too many opens. Its sentence is made from the tables
/// (`words::vocabulary`); the frame around it names the file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NestedTooDeep {
    pub line: usize,
}

impl std::error::Error for NestedTooDeep {}

/// `Err` when `text` nests flow collections deeper than `MAX_FLOW_DEPTH`: the YAML parser
/// must not be given it. One pass over the text, stopping at the first level too many.
pub fn refuse_deep_nesting(text: &str) -> Result<(), NestedTooDeep> {
    let mut depth = 0usize;
    let mut line = 1usize;
    // The last character that was not a space or a tab, on this line (none: line start).
    let mut before: Option<char> = None;
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\n' => {
                line += 1;
                before = None;
                continue;
            }
            '\r' => {
                // `\r\n` is one line break (counted at its `\n`); a `\r` alone is one too.
                if chars.peek() != Some(&'\n') {
                    line += 1;
                }
                before = None;
                continue;
            }
            ' ' | '\t' => continue,
            '#' => {
                // A comment runs to the end of the line.
                while chars.peek().is_some_and(|c| *c != '\n' && *c != '\r') {
                    chars.next();
                }
                continue;
            }
            '"' | '\'' if before.is_none_or(|b| "[{,:-?".contains(b)) => {
                line += skip_quoted(c, &mut chars);
            }
            '[' | '{' => {
                depth += 1;
                if depth > MAX_FLOW_DEPTH {
                    return Err(NestedTooDeep { line });
                }
            }
            ']' | '}' => depth = depth.saturating_sub(1),
            _ => {}
        }
        before = Some(c);
    }
    Ok(())
}

/// Past a quoted scalar opened by `quote` (`\` escapes in `"..."`, `''` in `'...'`): how
/// many lines it spans beyond its first.
fn skip_quoted(quote: char, chars: &mut std::iter::Peekable<std::str::Chars<'_>>) -> usize {
    let mut lines = 0;
    while let Some(c) = chars.next() {
        if c == '\n' || c == '\r' && chars.peek() != Some(&'\n') {
            lines += 1;
        }
        if quote == '"' && c == '\\' {
            if chars.next() == Some('\n') {
                lines += 1;
            }
        } else if c == quote {
            if quote == '\'' && chars.peek() == Some(&'\'') {
                chars.next();
            } else {
                return lines;
            }
        }
    }
    lines
}

#[cfg(test)]
mod tests {
    use super::*;

    fn too_deep(text: &str) -> bool {
        refuse_deep_nesting(text).is_err()
    }

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
        // Levels closed before count no more: depth, not the number of brackets.
        let full = format!(
            "{}a{},",
            "[".repeat(MAX_FLOW_DEPTH - 1),
            "]".repeat(MAX_FLOW_DEPTH - 1)
        );
        assert!(!too_deep(&format!("x: [{}]", full.repeat(1000))));
    }

    #[test]
    fn the_line_named_is_where_the_level_too_many_opens() {
        let deep = |head: &str| format!("{head}x: {}", "[\n".repeat(MAX_FLOW_DEPTH + 1));
        assert_eq!(
            refuse_deep_nesting(&deep("")),
            Err(NestedTooDeep {
                line: MAX_FLOW_DEPTH + 1
            })
        );
        // Lines inside quotes, in comments and after `\r\n` or a lone `\r` are counted.
        let head = "a: \"one\n two\"\nb: 'three\n four' # five\r\nc: d\re: f\n";
        assert_eq!(
            refuse_deep_nesting(&deep(head)),
            Err(NestedTooDeep {
                line: 7 + MAX_FLOW_DEPTH
            })
        );
    }

    #[test]
    fn a_deep_text_is_refused_at_once() {
        // 1 MiB of `{a: `: minutes for the parser, milliseconds here.
        let text = "{a: ".repeat(256 * 1024);
        let started = std::time::Instant::now();
        assert!(too_deep(&text));
        assert!(started.elapsed() < std::time::Duration::from_secs(1));
    }
}
