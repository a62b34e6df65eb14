//! Character-level scanning of RouterOS script source: positions, whitespace and line joining,
//! comments, and string literals with RouterOS's exact escape rules.
//!
//! RouterOS tokenises context-sensitively (a `/` is a path separator in a command and a division
//! in an expression; `.` is part of an address or the concatenation operator), so the parser
//! drives this cursor and asks for the token shape it expects next instead of receiving a token
//! stream. What lives here is what is context-free: where we are (`line`/`column`, 1-based, as
//! RouterOS prints them in `(line N column M)`), what counts as blank, and how a quoted string
//! is unescaped. The unescaping must be exact — drivers quote arbitrary values (`"`, `\`, `$`,
//! `;`, brackets, newlines) and rely on them being stored literally — and wrong escapes must fail
//! the way RouterOS fails (a syntax error), never be accepted loosely.

use super::error::{CliError, Pos};

/// A cursor over script source with RouterOS position accounting.
#[derive(Debug, Clone)]
pub struct Cursor<'a> {
    src: &'a [char],
    i: usize,
    line: u32,
    col: u32,
}

impl<'a> Cursor<'a> {
    /// Starts scanning `src` at line 1, column 1.
    pub fn new(src: &'a [char]) -> Self {
        Self {
            src,
            i: 0,
            line: 1,
            col: 1,
        }
    }

    /// The position of the next character.
    pub fn pos(&self) -> Pos {
        Pos {
            line: self.line,
            col: self.col,
        }
    }

    /// Index of the next character in the source (for slicing raw text).
    pub fn index(&self) -> usize {
        self.i
    }

    /// The raw source between two indexes.
    pub fn slice(&self, from: usize, to: usize) -> String {
        self.src[from.min(self.src.len())..to.min(self.src.len())]
            .iter()
            .collect()
    }

    /// Whether the whole source has been consumed.
    pub fn at_eof(&self) -> bool {
        self.i >= self.src.len()
    }

    /// The next character, if any.
    pub fn peek(&self) -> Option<char> {
        self.src.get(self.i).copied()
    }

    /// The character `n` places ahead of the next one.
    pub fn peek_at(&self, n: usize) -> Option<char> {
        self.src.get(self.i + n).copied()
    }

    /// Consumes one character, keeping line/column accounting (CR LF counts as one line end).
    pub fn bump(&mut self) -> Option<char> {
        let c = self.src.get(self.i).copied()?;
        self.i += 1;
        match c {
            '\n' => {
                self.line += 1;
                self.col = 1;
            }
            '\r' => {
                if self.peek() == Some('\n') {
                    // The LF that follows finishes the line end.
                    self.col += 1;
                } else {
                    self.line += 1;
                    self.col = 1;
                }
            }
            _ => self.col += 1,
        }
        Some(c)
    }

    /// Consumes `c` if it is next.
    pub fn eat(&mut self, c: char) -> bool {
        if self.peek() == Some(c) {
            self.bump();
            true
        } else {
            false
        }
    }

    /// Whether the next characters are `s`.
    pub fn looking_at(&self, s: &str) -> bool {
        s.chars()
            .enumerate()
            .all(|(k, c)| self.src.get(self.i + k) == Some(&c))
    }

    /// Whether a line join (`\` immediately followed by a line end) starts here.
    fn at_line_join(&self) -> bool {
        self.peek() == Some('\\') && matches!(self.peek_at(1), Some('\n') | Some('\r'))
    }

    /// Consumes a `\` + line end.
    fn eat_line_join(&mut self) {
        self.bump(); // backslash
        if self.peek() == Some('\r') {
            self.bump();
        }
        if self.peek() == Some('\n') {
            self.bump();
        }
    }

    /// Skips blanks inside a line: spaces, tabs and line joins. Line ends are not skipped: they
    /// end a command.
    pub fn skip_blanks(&mut self) {
        loop {
            match self.peek() {
                Some(' ') | Some('\t') => {
                    self.bump();
                }
                _ if self.at_line_join() => self.eat_line_join(),
                _ => return,
            }
        }
    }

    /// Skips blanks and line ends (inside parentheses, brackets and braces a new line does not
    /// end anything).
    pub fn skip_blanks_and_newlines(&mut self) {
        loop {
            self.skip_blanks();
            match self.peek() {
                Some('\n') | Some('\r') => {
                    self.bump();
                }
                _ => return,
            }
        }
    }

    /// Whether the next character ends a line.
    pub fn at_newline(&self) -> bool {
        matches!(self.peek(), Some('\n') | Some('\r'))
    }

    /// Skips a `#` comment up to (not including) the line end.
    pub fn skip_comment(&mut self) {
        while let Some(c) = self.peek() {
            if c == '\n' || c == '\r' {
                return;
            }
            self.bump();
        }
    }

    /// Consumes characters while `f` holds; returns them.
    pub fn take_while(&mut self, f: impl Fn(char) -> bool) -> String {
        let mut out = String::new();
        while let Some(c) = self.peek() {
            if !f(c) {
                break;
            }
            out.push(c);
            self.bump();
        }
        out
    }
}

/// One piece of a double-quoted string: literal text or an interpolation.
#[derive(Debug, Clone, PartialEq)]
pub enum StrPiece<E> {
    /// Literal text, already unescaped.
    Text(String),
    /// `$name` or `$"name"`.
    Var(String),
    /// `$( expression )` or `$[ command ]`.
    Expr(E),
}

/// Whether `c` may appear in a bare variable name after `$`.
pub fn is_var_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || c == '_'
}

/// Value of an uppercase hexadecimal digit (RouterOS rejects lowercase in `\XX` escapes).
fn upper_hex(c: char) -> Option<u8> {
    match c {
        '0'..='9' => Some(c as u8 - b'0'),
        'A'..='F' => Some(c as u8 - b'A' + 10),
        _ => None,
    }
}

/// Reads a double-quoted string starting at the opening quote, unescaping it exactly as RouterOS
/// does. `interp` is called when a `$(` or `$[` interpolation starts (the cursor is on the `(`
/// or `[`); it parses the inner expression and leaves the cursor after the closing bracket.
///
/// Escapes: `\"` `\\` `\n` `\r` `\t` `\$` `\?` `\_` (space) `\a` `\b` `\f` `\v`, `\XX` with two
/// uppercase hexadecimal digits (one byte; bytes are reassembled as UTF-8), and `\` + line end
/// joins lines (the line end and the next line's indentation are dropped). Anything else after a
/// backslash is a syntax error at the backslash, as is an unterminated string (reported at the
/// opening quote).
pub fn read_string<E>(
    cur: &mut Cursor<'_>,
    mut interp: impl FnMut(&mut Cursor<'_>) -> Result<E, CliError>,
) -> Result<Vec<StrPiece<E>>, CliError> {
    let open = cur.pos();
    if !cur.eat('"') {
        return Err(CliError::syntax(open));
    }
    let mut pieces = Vec::new();
    let mut bytes: Vec<u8> = Vec::new();
    let flush = |bytes: &mut Vec<u8>, pieces: &mut Vec<StrPiece<E>>| {
        if !bytes.is_empty() {
            pieces.push(StrPiece::Text(String::from_utf8_lossy(bytes).into_owned()));
            bytes.clear();
        }
    };
    loop {
        let here = cur.pos();
        let Some(c) = cur.peek() else {
            return Err(CliError::syntax(open));
        };
        match c {
            '"' => {
                cur.bump();
                break;
            }
            '\\' => {
                cur.bump();
                let Some(e) = cur.peek() else {
                    return Err(CliError::syntax(here));
                };
                let simple = match e {
                    '"' => Some(b'"'),
                    '\\' => Some(b'\\'),
                    'n' => Some(b'\n'),
                    'r' => Some(b'\r'),
                    't' => Some(b'\t'),
                    '$' => Some(b'$'),
                    '?' => Some(b'?'),
                    '_' => Some(b' '),
                    'a' => Some(0x07),
                    'b' => Some(0x08),
                    'f' => Some(0x0c),
                    'v' => Some(0x0b),
                    _ => None,
                };
                if let Some(b) = simple {
                    cur.bump();
                    bytes.push(b);
                    continue;
                }
                if e == '\n' || e == '\r' {
                    if e == '\r' {
                        cur.bump();
                    }
                    if cur.peek() == Some('\n') {
                        cur.bump();
                    }
                    while matches!(cur.peek(), Some(' ') | Some('\t')) {
                        cur.bump();
                    }
                    continue;
                }
                let hi = upper_hex(e);
                let lo = cur.peek_at(1).and_then(upper_hex);
                match (hi, lo) {
                    (Some(hi), Some(lo)) => {
                        cur.bump();
                        cur.bump();
                        bytes.push(hi * 16 + lo);
                    }
                    _ => return Err(CliError::syntax(here)),
                }
            }
            '$' => {
                cur.bump();
                match cur.peek() {
                    Some('(') | Some('[') => {
                        flush(&mut bytes, &mut pieces);
                        let e = interp(cur)?;
                        pieces.push(StrPiece::Expr(e));
                    }
                    Some('"') => {
                        // `$"name"` is not usable inside a string (RouterOS rejects it).
                        return Err(CliError::syntax(cur.pos()));
                    }
                    Some(c) if is_var_char(c) => {
                        flush(&mut bytes, &mut pieces);
                        let name = cur.take_while(is_var_char);
                        pieces.push(StrPiece::Var(name));
                    }
                    _ => return Err(CliError::syntax(cur.pos())),
                }
            }
            _ => {
                cur.bump();
                let mut buf = [0u8; 4];
                bytes.extend_from_slice(c.encode_utf8(&mut buf).as_bytes());
            }
        }
    }
    flush(&mut bytes, &mut pieces);
    Ok(pieces)
}

/// For interactive input: the brackets a line leaves open (`{(` …, `"` for an open string,
/// `\\` for a trailing line join), which the console shows as its continuation prompt
/// (`{(\\... `). `None` when the input is complete (or broken in a way only parsing can tell).
pub fn open_brackets(src: &str) -> Option<String> {
    let mut stack: Vec<char> = Vec::new();
    let mut in_string = false;
    let mut chars = src.chars().peekable();
    let mut at_line_start = true;
    let mut last_significant = ' ';
    while let Some(c) = chars.next() {
        if in_string {
            match c {
                '\\' => {
                    chars.next();
                }
                '"' => in_string = false,
                _ => {}
            }
            continue;
        }
        match c {
            '#' if at_line_start => {
                // A comment runs to the end of the line.
                for n in chars.by_ref() {
                    if n == '\n' {
                        break;
                    }
                }
                at_line_start = true;
                continue;
            }
            '"' => in_string = true,
            '{' | '(' | '[' => stack.push(c),
            '}' | ')' | ']' => {
                let want = match c {
                    '}' => '{',
                    ')' => '(',
                    _ => '[',
                };
                if stack.pop() != Some(want) {
                    return None;
                }
            }
            _ => {}
        }
        if c == '\n' || c == ';' {
            at_line_start = true;
        } else if c != ' ' && c != '\t' {
            at_line_start = false;
        }
        if !c.is_whitespace() {
            last_significant = c;
        }
    }
    let mut open: String = stack.into_iter().collect();
    if in_string {
        open.push('"');
    } else if last_significant == '\\' {
        open.push('\\');
    }
    (!open.is_empty()).then_some(open)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;

    fn lit(src: &str) -> Result<String, String> {
        let chars: Vec<char> = src.chars().collect();
        let mut cur = Cursor::new(&chars);
        let pieces = read_string::<()>(&mut cur, |c| {
            // A stand-in for the parser: skip the bracketed expression.
            while let Some(ch) = c.bump() {
                if ch == ')' || ch == ']' {
                    break;
                }
            }
            Ok(())
        })
        .map_err(|e| e.to_string())?;
        let mut out = String::new();
        for p in pieces {
            match p {
                StrPiece::Text(t) => out.push_str(&t),
                StrPiece::Var(v) => {
                    out.push('<');
                    out.push_str(&v);
                    out.push('>');
                }
                StrPiece::Expr(()) => out.push_str("<expr>"),
            }
        }
        Ok(out)
    }

    #[test]
    fn simple_escapes_are_exact() {
        assert_eq!(lit(r#""a\"b""#).unwrap(), "a\"b");
        assert_eq!(lit(r#""a\\b""#).unwrap(), "a\\b");
        assert_eq!(lit(r#""l1\nl2\r\t""#).unwrap(), "l1\nl2\r\t");
        assert_eq!(lit(r#""\$x \? a\_b""#).unwrap(), "$x ? a b");
        assert_eq!(lit(r#""\a\b\f\v""#).unwrap(), "\u{7}\u{8}\u{c}\u{b}");
        assert_eq!(lit(r#""; [ ] { } ?""#).unwrap(), "; [ ] { } ?");
    }

    #[test]
    fn hex_escapes_need_two_uppercase_digits_and_reassemble_utf8() {
        assert_eq!(lit(r#""\48\45\4C\4C\4F""#).unwrap(), "HELLO");
        assert_eq!(lit(r#""\3F""#).unwrap(), "?");
        assert_eq!(lit(r#""\E2\9C\85""#).unwrap(), "\u{2705}");
        assert_eq!(
            lit(r#""\e2""#).unwrap_err(),
            "syntax error (line 1 column 2)"
        );
        assert_eq!(
            lit(r#""ab\4""#).unwrap_err(),
            "syntax error (line 1 column 4)"
        );
        assert_eq!(
            lit(r#""\q""#).unwrap_err(),
            "syntax error (line 1 column 2)"
        );
    }

    #[test]
    fn line_join_inside_string_drops_newline_and_indent() {
        assert_eq!(lit("\"Wirele\\\n    ss\"").unwrap(), "Wireless");
        assert_eq!(lit("\"a\\\r\n  \\_b\"").unwrap(), "a b");
    }

    #[test]
    fn interpolation_and_errors() {
        assert_eq!(lit(r#""x $name y""#).unwrap(), "x <name> y");
        assert_eq!(lit(r#""$(1)""#).unwrap(), "<expr>");
        assert_eq!(
            lit(r#""a $ b""#).unwrap_err(),
            "syntax error (line 1 column 5)"
        );
        assert_eq!(lit("\"open").unwrap_err(), "syntax error (line 1 column 1)");
    }

    #[test]
    fn open_brackets_drive_the_continuation_prompt() {
        assert_eq!(open_brackets("{"), Some("{".into()));
        assert_eq!(open_brackets("{\n:put (\\"), Some("{(\\".into()));
        assert_eq!(open_brackets("{\n:put (\\\n1+2)}"), None);
        assert_eq!(open_brackets(":put \"abc"), Some("\"".into()));
        assert_eq!(open_brackets(":put \"a{b\""), None);
        assert_eq!(open_brackets("# comment {"), None);
        assert_eq!(open_brackets("/ip address print"), None);
        assert_eq!(open_brackets(":put 1)"), None);
    }

    #[test]
    fn positions_count_lines_and_columns_from_one() {
        let chars: Vec<char> = "ab\r\ncd\ne".chars().collect();
        let mut cur = Cursor::new(&chars);
        for _ in 0..4 {
            cur.bump();
        }
        assert_eq!(cur.pos(), Pos { line: 2, col: 1 });
        for _ in 0..3 {
            cur.bump();
        }
        assert_eq!(cur.pos(), Pos { line: 3, col: 1 });
    }
}
