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
//! unread. Block nesting (indentation, `- - -`) costs time in proportion to the text, as a
//! flat list of the same length does (a million levels of `- ` in 0.35 s); it is bounded
//! at `MAX_BLOCK_DEPTH` only so that this check holds no more than that many levels (the
//! parser refuses a document nested past 128 levels of any kind anyway).
//!
//! A bracket counts where the parser reads it as one, and only there: the text is walked
//! token by token as the parser's scanner (libyaml's) walks it, so that a bracket in a
//! comment, a quoted or plain scalar, a block scalar (`|`, `>`), a tag or a directive is
//! text, and a quote or a `#` is taken for what the parser takes it for. A walk that
//! disagreed with the parser would let a hostile file hide its brackets: `[a#b, [[[...`
//! (the `#` is a letter of `a#b`), `[a-', [[[..., b']` (the quotes are letters of plain
//! scalars), a block scalar whose lines begin with a quote. Where the parser would stop at
//! an error the walk goes on: it may then count more than the parser reads, never less.

/// Deeper flow nesting than this is refused.
pub const MAX_FLOW_DEPTH: usize = 16;

/// Deeper block nesting (indentation levels) than this is refused: the parser refuses a
/// document nested past 128 levels of any kind in any case.
pub const MAX_BLOCK_DEPTH: usize = 128;

/// How a text nests too deep.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Nesting {
    /// Brackets (`[`, `{`) past `MAX_FLOW_DEPTH`.
    Brackets,
    /// Indentation levels past `MAX_BLOCK_DEPTH`.
    Indentation,
}

/// A text nested too deep to be given to the parser: `line` (from 1) is where the first
/// level too many opens. Its sentence is made from the tables (`words::vocabulary`); the
/// frame around it names the file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NestedTooDeep {
    pub line: usize,
    pub nesting: Nesting,
}

impl std::error::Error for NestedTooDeep {}

/// `Err` when `text` nests flow collections deeper than `MAX_FLOW_DEPTH` (or indentation
/// deeper than `MAX_BLOCK_DEPTH`): the YAML parser must not be given it. One pass over the
/// text, stopping at the first level too many.
pub fn refuse_deep_nesting(text: &str) -> Result<(), NestedTooDeep> {
    Walk::new(text).run()
}

/// A position, as the scanner marks it: line (from 1), column and index in characters.
#[derive(Debug, Clone, Copy)]
struct Mark {
    line: usize,
    column: usize,
    index: usize,
}

/// The walk through the text: libyaml's scanner without its tokens.
struct Walk<'a> {
    bytes: &'a [u8],
    at: usize,
    mark: Mark,
    /// Flow collections open.
    flow: usize,
    /// The columns of the block collections open (the parser's indentation stack).
    indents: Vec<usize>,
    /// Whether a simple key (`key:` without `?`) may start here.
    key_allowed: bool,
    /// Where the possible simple key of the block context starts.
    key: Option<Mark>,
}

impl<'a> Walk<'a> {
    fn new(text: &'a str) -> Walk<'a> {
        Walk {
            bytes: text.as_bytes(),
            at: 0,
            mark: Mark {
                line: 1,
                column: 0,
                index: 0,
            },
            flow: 0,
            indents: Vec::new(),
            key_allowed: true,
            key: None,
        }
    }

    fn run(mut self) -> Result<(), NestedTooDeep> {
        loop {
            self.skip_to_next_token();
            if self.at >= self.bytes.len() {
                return Ok(());
            }
            self.stale_key();
            self.unroll(Some(self.mark.column));
            let (c, next) = (self.byte(0), self.byte(1));
            let at_line_start = self.mark.column == 0;
            if at_line_start && c == b'%' {
                // A directive: one line, none of it structure.
                self.skip_to_break();
            } else if at_line_start && self.document_marker() {
                self.unroll(None);
                self.key = None;
                self.key_allowed = false;
                for _ in 0..3 {
                    self.advance();
                }
            } else if c == b'[' || c == b'{' {
                self.save_key();
                self.flow += 1;
                if self.flow > MAX_FLOW_DEPTH {
                    return Err(self.too_deep(Nesting::Brackets));
                }
                self.key_allowed = true;
                self.advance();
            } else if c == b']' || c == b'}' {
                self.flow = self.flow.saturating_sub(1);
                self.key_allowed = false;
                self.advance();
            } else if c == b',' {
                self.key_allowed = true;
                self.advance();
            } else if c == b'-' && self.blankz(1) {
                self.roll(self.mark.column)?;
                self.remove_key();
                self.key_allowed = true;
                self.advance();
            } else if c == b'?' && (self.flow > 0 || self.blankz(1)) {
                self.roll(self.mark.column)?;
                self.remove_key();
                self.key_allowed = self.flow == 0;
                self.advance();
            } else if c == b':' && (self.flow > 0 || self.blankz(1)) {
                self.value()?;
                self.advance();
            } else if c == b'*' || c == b'&' {
                self.save_key();
                self.key_allowed = false;
                self.advance();
                while is_alpha(self.byte(0)) {
                    self.advance();
                }
            } else if c == b'!' {
                self.save_key();
                self.key_allowed = false;
                self.tag();
            } else if (c == b'|' || c == b'>') && self.flow == 0 {
                self.remove_key();
                self.key_allowed = true;
                self.block_scalar();
            } else if c == b'\'' || c == b'"' {
                self.save_key();
                self.key_allowed = false;
                self.quoted(c);
            } else if starts_plain(c, next, self.flow) {
                self.save_key();
                self.key_allowed = false;
                self.plain();
            } else {
                // No token starts here: the parser stops at an error; the walk goes on.
                self.advance();
            }
        }
    }

    fn too_deep(&self, nesting: Nesting) -> NestedTooDeep {
        NestedTooDeep {
            line: self.mark.line,
            nesting,
        }
    }

    /// The byte `ahead` bytes on (0 past the end, as the parser's buffer ends).
    fn byte(&self, ahead: usize) -> u8 {
        self.bytes.get(self.at + ahead).copied().unwrap_or(0)
    }

    /// The length of the line break `ahead` bytes on (0: none): `\r\n`, `\r`, `\n`, and
    /// NEL, LS and PS, which the parser takes for line breaks too.
    fn break_len(&self, ahead: usize) -> usize {
        match (self.byte(ahead), self.byte(ahead + 1), self.byte(ahead + 2)) {
            (b'\r', b'\n', _) => 2,
            (b'\r' | b'\n', _, _) => 1,
            (0xC2, 0x85, _) => 2,
            (0xE2, 0x80, 0xA8 | 0xA9) => 3,
            _ => 0,
        }
    }

    fn blank(&self, ahead: usize) -> bool {
        matches!(self.byte(ahead), b' ' | b'\t')
    }

    /// A blank, a line break or the end.
    fn blankz(&self, ahead: usize) -> bool {
        self.blank(ahead) || self.break_len(ahead) > 0 || self.at + ahead >= self.bytes.len()
    }

    /// Past one character (a line break is passed by `skip_break`).
    fn advance(&mut self) {
        let width = match self.byte(0) {
            0xF0..=0xFF => 4,
            0xE0..=0xEF => 3,
            0xC0..=0xDF => 2,
            _ => 1,
        };
        self.at = (self.at + width).min(self.bytes.len());
        self.mark.column += 1;
        self.mark.index += 1;
    }

    /// Past the line break here, if there is one; whether there was.
    fn skip_break(&mut self) -> bool {
        let len = self.break_len(0);
        if len == 0 {
            return false;
        }
        self.at += len;
        self.mark.line += 1;
        self.mark.column = 0;
        self.mark.index += 1;
        true
    }

    fn skip_to_break(&mut self) {
        while self.at < self.bytes.len() && self.break_len(0) == 0 {
            self.advance();
        }
    }

    fn document_marker(&self) -> bool {
        let c = self.byte(0);
        (c == b'-' || c == b'.') && self.byte(1) == c && self.byte(2) == c && self.blankz(3)
    }

    /// Past blanks, comments and line breaks, to where the next token starts.
    fn skip_to_next_token(&mut self) {
        loop {
            if self.mark.column == 0 && self.bytes[self.at..].starts_with(b"\xEF\xBB\xBF") {
                self.advance();
            }
            while self.byte(0) == b' '
                || (self.flow > 0 || !self.key_allowed) && self.byte(0) == b'\t'
            {
                self.advance();
            }
            if self.byte(0) == b'#' {
                self.skip_to_break();
            }
            if !self.skip_break() {
                return;
            }
            if self.flow == 0 {
                self.key_allowed = true;
            }
        }
    }

    /// A possible simple key of the block context goes stale on the next line, or 1024
    /// characters on.
    fn stale_key(&mut self) {
        if let Some(key) = self.key {
            if key.line < self.mark.line || key.index + 1024 < self.mark.index {
                self.key = None;
            }
        }
    }

    /// The possible simple key is no more (its own level's only: the block context's is
    /// kept through a flow collection, which may be the key: `[a]: b`).
    fn remove_key(&mut self) {
        if self.flow == 0 {
            self.key = None;
        }
    }

    fn save_key(&mut self) {
        if self.key_allowed && self.flow == 0 {
            self.key = Some(self.mark);
        }
    }

    /// The parser's indentation (none: -1).
    fn indent(&self) -> Option<usize> {
        self.indents.last().copied()
    }

    /// A block collection starts at `column` if it is deeper than the one open.
    fn roll(&mut self, column: usize) -> Result<(), NestedTooDeep> {
        if self.flow > 0 || self.indent().is_some_and(|top| top >= column) {
            return Ok(());
        }
        if self.indents.len() >= MAX_BLOCK_DEPTH {
            return Err(self.too_deep(Nesting::Indentation));
        }
        self.indents.push(column);
        Ok(())
    }

    /// The block collections deeper than `column` end (`None`: all of them).
    fn unroll(&mut self, column: Option<usize>) {
        if self.flow > 0 {
            return;
        }
        while self
            .indent()
            .is_some_and(|top| column.is_none_or(|column| top > column))
        {
            self.indents.pop();
        }
    }

    /// `:` as a value indicator: a block mapping starts at its simple key.
    fn value(&mut self) -> Result<(), NestedTooDeep> {
        match self.key.filter(|_| self.flow == 0) {
            Some(key) => {
                self.key = None;
                self.roll(key.column)?;
                self.key_allowed = false;
            }
            None => {
                self.roll(self.mark.column)?;
                self.key_allowed = self.flow == 0;
            }
        }
        Ok(())
    }

    /// A tag: `!<verbatim>`, or a handle and a suffix, up to a blank.
    fn tag(&mut self) {
        self.advance();
        if self.byte(0) == b'<' {
            self.advance();
            while is_uri(self.byte(0)) || matches!(self.byte(0), b',' | b'[' | b']') {
                self.advance();
            }
            if self.byte(0) == b'>' {
                self.advance();
            }
        } else {
            while is_uri(self.byte(0)) {
                self.advance();
            }
        }
    }

    /// A single- or double-quoted scalar, to its closing quote.
    fn quoted(&mut self, quote: u8) {
        self.advance();
        while self.at < self.bytes.len() {
            let c = self.byte(0);
            if self.skip_break() {
                continue;
            }
            if quote == b'\'' && c == b'\'' && self.byte(1) == b'\'' {
                self.advance();
                self.advance();
            } else if c == quote {
                self.advance();
                return;
            } else if quote == b'"' && c == b'\\' {
                self.advance();
                if !self.skip_break() {
                    self.advance();
                }
            } else {
                self.advance();
            }
        }
    }

    /// A plain scalar: words, and the blanks and line breaks between them, to an
    /// indicator, a comment, a line indented less than its parent's content or (in flow
    /// collections) a flow indicator. Quotes and `#` inside it are letters.
    fn plain(&mut self) {
        let indent = self.indent().map_or(0, |i| i + 1);
        let mut crossed_line = false;
        loop {
            if self.mark.column == 0 && self.document_marker() || self.byte(0) == b'#' {
                break;
            }
            while !self.blankz(0) {
                let (c, next) = (self.byte(0), self.byte(1));
                let ends = c == b':' && self.blankz(1)
                    || self.flow > 0
                        && (matches!(c, b',' | b'[' | b']' | b'{' | b'}')
                            || c == b':'
                                && matches!(next, b',' | b'?' | b'[' | b']' | b'{' | b'}'));
                if ends {
                    break;
                }
                self.advance();
            }
            if !(self.blank(0) || self.break_len(0) > 0) {
                break;
            }
            while self.blank(0) || self.break_len(0) > 0 {
                if !self.skip_break() {
                    self.advance();
                } else {
                    crossed_line = true;
                }
            }
            if self.flow == 0 && self.mark.column < indent {
                break;
            }
        }
        if crossed_line {
            self.key_allowed = true;
        }
    }

    /// A literal (`|`) or folded (`>`) scalar: its header, then every line indented at
    /// least as its first (and deeper than its parent), all of it text.
    fn block_scalar(&mut self) {
        self.advance();
        let mut increment = 0usize;
        for _ in 0..2 {
            match self.byte(0) {
                b'+' | b'-' => self.advance(),
                d @ b'1'..=b'9' => {
                    increment = usize::from(d - b'0');
                    self.advance();
                }
                _ => break,
            }
        }
        while self.blank(0) {
            self.advance();
        }
        if self.byte(0) == b'#' {
            self.skip_to_break();
        }
        if !self.skip_break() {
            // The parser stops here (no line break after the header).
            return;
        }
        let parent = self.indent();
        let mut indent = match (increment, parent) {
            (0, _) => 0,
            (increment, Some(parent)) => parent + increment,
            (increment, None) => increment,
        };
        // The leading empty lines, and the indentation of the first line when not given.
        let mut widest = 0;
        loop {
            while (indent == 0 || self.mark.column < indent) && self.byte(0) == b' ' {
                self.advance();
            }
            widest = widest.max(self.mark.column);
            if !self.skip_break() {
                break;
            }
        }
        if indent == 0 {
            indent = widest.max(parent.map_or(0, |p| p + 1)).max(1);
        }
        while self.mark.column == indent && self.at < self.bytes.len() {
            self.skip_to_break();
            if !self.skip_break() {
                break;
            }
            loop {
                while self.mark.column < indent && self.byte(0) == b' ' {
                    self.advance();
                }
                if !self.skip_break() {
                    break;
                }
            }
        }
    }
}

/// A character of an anchor's or an alias's name.
fn is_alpha(c: u8) -> bool {
    c.is_ascii_alphanumeric() || c == b'_' || c == b'-'
}

/// A character of a tag (besides `,`, `[` and `]`, which only a verbatim tag may hold).
fn is_uri(c: u8) -> bool {
    is_alpha(c) || b";/?:@&=+$.%!~*'()".contains(&c)
}

/// Whether a plain scalar starts at `c` (followed by `next`), as the parser decides it.
fn starts_plain(c: u8, next: u8, flow: usize) -> bool {
    let blankz = |b: u8| matches!(b, b' ' | b'\t' | b'\r' | b'\n' | 0);
    let indicator = b"-?:,[]{}#&*!|>'\"%@`".contains(&c);
    !(blankz(c) || indicator)
        || c == b'-' && !matches!(next, b' ' | b'\t')
        || flow == 0 && (c == b'?' || c == b':') && !blankz(next)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn too_deep(text: &str) -> bool {
        refuse_deep_nesting(text).is_err()
    }

    /// `{a: ` nested `levels` deep, closed: valid YAML.
    fn nested(levels: usize) -> String {
        format!("{}1{}", "{a: ".repeat(levels), "}".repeat(levels))
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
        assert!(too_deep(&format!(
            "x: {}",
            "[{\"a\":\"]\"}, ".repeat(MAX_FLOW_DEPTH + 1)
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

    /// Texts that hide their brackets from a walk that reads quotes and comments otherwise
    /// than the parser: each is valid YAML the parser would read 40 levels deep.
    #[test]
    fn brackets_are_found_where_the_parser_reads_them() {
        let deep = nested(40);
        let hiding = [
            // `#` in a word is a letter, not a comment.
            format!("x: [a#b, {deep}]\n"),
            // A quote inside a plain word is a letter: nothing is quoted here.
            format!("x: [a-', {deep}, b']\n"),
            format!("x: [a:', {deep}, b']\n"),
            format!("x: [a ', {deep}, b']\n"),
            format!("x: a'\ny: {deep}\nz: b'\n"),
            // A plain scalar goes on over more indented lines; its quote is a letter.
            format!("x: word\n  'more\ny: {deep}\nz: b'\n"),
            // The lines of a block scalar are text, quotes included.
            format!("x: |\n  'text\ny: {deep}\nz: b'\n"),
            format!("- a: >-\n   \"text\n  b: {deep}\n  c: d\"\n"),
            // A comment ends at any line break the parser knows (here LS, U+2028).
            format!("# comment\u{2028}x: {deep}\n"),
            // Brackets in a verbatim tag are letters of the tag.
            format!("x: {}1{}\n", "[!<a]]]]> ".repeat(40), "]".repeat(40)),
        ];
        for text in hiding {
            let parsed = serde_yaml::from_str::<serde_yaml::Value>(&text).is_ok();
            assert!(parsed, "valid YAML: {text:?}");
            assert!(too_deep(&text), "hidden: {text:?}");
        }
    }

    /// What the parser reads as text is not counted: a real file is not refused for the
    /// brackets in its descriptions, comments, tags or block scalars.
    #[test]
    fn text_holding_brackets_is_not_refused() {
        let many = "[".repeat(40);
        let texts = [
            format!("description: \"{many}\"\n"),
            format!("description: '{many}'\n"),
            format!("description: x{many}\n"),
            format!("description: |\n  {many}\n  more {many}\nnext: 1\n"),
            format!("- a: >\n   {many}\n  b: 2\n"),
            format!("a: 1 # {many}\n"),
            format!("%TAG !e! tag:e.org,2000:{many}\n---\na: 1\n"),
            format!("a: \"x\n  {many}\"\n"),
        ];
        for text in texts {
            assert!(!too_deep(&text), "{text:?}");
        }
    }

    #[test]
    fn the_line_named_is_where_the_level_too_many_opens() {
        let deep = |head: &str| format!("{head}x: {}", "[\n".repeat(MAX_FLOW_DEPTH + 1));
        assert_eq!(
            refuse_deep_nesting(&deep("")),
            Err(NestedTooDeep {
                line: MAX_FLOW_DEPTH + 1,
                nesting: Nesting::Brackets,
            })
        );
        // Lines inside quotes, in comments and after `\r\n` or a lone `\r` are counted.
        let head = "a: \"one\n two\"\nb: 'three\n four' # five\r\nc: d\re: f\n";
        assert_eq!(
            refuse_deep_nesting(&deep(head)),
            Err(NestedTooDeep {
                line: 7 + MAX_FLOW_DEPTH,
                nesting: Nesting::Brackets,
            })
        );
    }

    #[test]
    fn indentation_is_bounded_too() {
        let levels = |n: usize| -> String {
            (0..n)
                .map(|i| format!("{}k{i}:\n", " ".repeat(i)))
                .collect()
        };
        assert!(!too_deep(&levels(MAX_BLOCK_DEPTH)));
        assert_eq!(
            refuse_deep_nesting(&levels(MAX_BLOCK_DEPTH + 1)),
            Err(NestedTooDeep {
                line: MAX_BLOCK_DEPTH + 1,
                nesting: Nesting::Indentation,
            })
        );
        assert!(too_deep(&format!(
            "{}x\n",
            "- ".repeat(MAX_BLOCK_DEPTH + 1)
        )));
    }

    /// Random texts of YAML's pieces with 130 levels of brackets somewhere: whenever the
    /// parser reads them past its own limit of 128 levels, the walk has refused the text.
    /// (Seeded, so that a failure is the same on every run. The alias names no anchor: an
    /// alias to its own anchor recurses past the limit without a bracket.)
    #[test]
    fn the_walk_finds_whatever_depth_the_parser_reads() {
        const PIECES: [&str; 56] = [
            "[", "]", "{", "}", ", ", ",", ": ", ":", "- ", "-", "? ", "?", "'", "\"", "''",
            "\\\"", "#", " #", " ", "  ", "\n", "\n  ", "\r\n", "\t", "a", "b: ", "|\n", ">-\n",
            "!<x]>", "!t ", "&x ", "*y", "%", "---\n", "\u{2028}", "\u{85}", "@", "x'", "k:\n  ",
            "- a: ", "\n ", "\n   ", "|2\n", "- |\n", "k: |\n ", "'\n", "\"\n", " '", "a#", "#b\n",
            "\\\n", "...\n", "\r", "k: >\n  ", "\u{feff}", "!",
        ];
        let mut seed = 0x9E37_79B9_7F4A_7C15u64;
        let mut next = move |below: usize| {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            usize::try_from(seed % below as u64).unwrap_or(0)
        };
        let mut read_deep = 0;
        for _ in 0..4000 {
            let mut text = String::new();
            let deep_at = next(30);
            for i in 0..30 {
                if i == deep_at {
                    text.push_str(&["[", "{a: ", "[a, "][next(3)].repeat(130));
                }
                text.push_str(PIECES[next(PIECES.len())]);
            }
            let parsed = serde_yaml::from_str::<serde_yaml::Value>(&text);
            if parsed.is_err_and(|e| e.to_string().contains("recursion limit exceeded")) {
                read_deep += 1;
                assert!(too_deep(&text), "hidden: {text:?}");
            }
        }
        assert!(read_deep > 100, "{read_deep}");
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
