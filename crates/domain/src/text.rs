//! Text that reaches a person: refusing control characters on the way in, escaping them on the
//! way out.
//!
//! A plan's title, a comment or any value a caller or a router supplies can carry terminal
//! escape sequences (`ESC [ 2 J` clears the screen), carriage returns and newlines that draw a
//! fake line over a real one, or bidirectional overrides that reorder what is shown. Printed
//! as is to a terminal or put into an approval prompt, such text can make a critical change
//! look harmless. Input paths refuse it ([`find_control`] names the character); output paths
//! that print text from a caller or a router escape it ([`escape`]) so what a person reads is
//! what is there.

use std::borrow::Cow;
use std::fmt;

/// A character that must not appear in text shown to a person, and where it was.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ControlChar {
    /// The character.
    pub ch: char,
    /// Its position, counted in characters from 0.
    pub position: usize,
}

impl fmt::Display for ControlChar {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "the control character U+{:04X}{} at position {}",
            u32::from(self.ch),
            name(self.ch).map(|n| format!(" ({n})")).unwrap_or_default(),
            self.position
        )
    }
}

/// The common name of a control character, where it has one worth saying.
fn name(c: char) -> Option<&'static str> {
    Some(match c {
        '\0' => "NUL",
        '\u{7}' => "BEL",
        '\u{8}' => "BS",
        '\t' => "TAB",
        '\n' => "LF, a newline",
        '\u{b}' => "VT",
        '\u{c}' => "FF",
        '\r' => "CR, a carriage return",
        '\u{1b}' => "ESC, a terminal escape",
        '\u{7f}' => "DEL",
        '\u{9b}' => "CSI, a terminal escape",
        '\u{200e}' | '\u{200f}' | '\u{061c}' => "a bidirectional mark",
        '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}' => "a bidirectional override",
        '\u{2028}' | '\u{2029}' => "a line or paragraph separator",
        _ => return None,
    })
}

/// Whether `c` can change how surrounding text is displayed: C0 and C1 controls, DEL, the
/// Unicode line and paragraph separators, and bidirectional marks, embeddings, overrides and
/// isolates.
pub fn is_control(c: char) -> bool {
    c.is_control()
        || matches!(
            c,
            '\u{200e}'
                | '\u{200f}'
                | '\u{061c}'
                | '\u{202a}'..='\u{202e}'
                | '\u{2066}'..='\u{2069}'
                | '\u{2028}'
                | '\u{2029}'
        )
}

/// The first control character in `text`, if any.
pub fn find_control(text: &str) -> Option<ControlChar> {
    text.chars()
        .enumerate()
        .find(|(_, c)| is_control(*c))
        .map(|(position, ch)| ControlChar { ch, position })
}

/// `text` with every control character written as a visible escape (`\e`, `\n`, `\r`, `\t`,
/// `\u{202e}`), and backslashes doubled so an escape cannot be faked. Borrowed when there was
/// nothing to escape.
pub fn escape(text: &str) -> Cow<'_, str> {
    if !text.chars().any(|c| is_control(c) || c == '\\') {
        return Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len() + 8);
    for c in text.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '\u{1b}' => out.push_str("\\e"),
            c if is_control(c) => out.push_str(&format!("\\u{{{:x}}}", u32::from(c))),
            c => out.push(c),
        }
    }
    Cow::Owned(out)
}

/// [`escape`] for multi-line text of our own (an error listing several problems): each line is
/// escaped and the newlines between them are kept, so a quoted value can add a line but never
/// move the cursor, clear the screen or overwrite one.
pub fn escape_lines(text: &str) -> String {
    text.split('\n')
        .map(|line| escape(line).into_owned())
        .collect::<Vec<_>>()
        .join("\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_and_names_what_can_redraw_a_screen() {
        let hidden = "Add DNS entry\u{1b}[2K\rlow risk";
        let found = find_control(hidden).unwrap_or_else(|| unreachable!());
        assert_eq!(found.ch, '\u{1b}');
        assert_eq!(found.position, 13);
        assert_eq!(
            found.to_string(),
            "the control character U+001B (ESC, a terminal escape) at position 13"
        );
        assert_eq!(
            find_control("a\nb").map(|c| c.to_string()).as_deref(),
            Some("the control character U+000A (LF, a newline) at position 1")
        );
        assert!(find_control("x\u{202e}y").is_some());
        assert!(find_control("x\u{9b}y").is_some());
        assert!(find_control("plain title: ünïcödé — fine").is_none());
    }

    #[test]
    fn escapes_everything_that_could_draw_and_cannot_be_faked() {
        assert_eq!(escape("plain"), Cow::Borrowed("plain"));
        assert_eq!(
            escape("a\u{1b}[2J\r\nb\u{202e}c"),
            "a\\e[2J\\r\\nb\\u{202e}c"
        );
        // A literal backslash-n in the input stays distinguishable from a real newline.
        assert_eq!(escape("a\\nb"), "a\\\\nb");
        assert_eq!(escape_lines("one\ntwo\r\u{1b}[2J"), "one\ntwo\\r\\e[2J");
        for c in ['\u{0}', '\u{7}', '\u{7f}', '\u{85}', '\u{2028}', '\u{2066}'] {
            let s = format!("x{c}y");
            assert!(find_control(&escape(&s)).is_none(), "{c:?}");
        }
    }
}
