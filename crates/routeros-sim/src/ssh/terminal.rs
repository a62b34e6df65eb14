//! The interactive terminal of an SSH shell: turns keystrokes into command lines and produces
//! the echo a RouterOS console gives.
//!
//! Clients (netmiko, Ansible, a human with OpenSSH) send printable text, `\r` or `\r\n` for
//! Enter, backspace, Ctrl-C, Ctrl-D and terminal escape sequences (arrow keys, replies to cursor
//! position probes). This line editor echoes printable characters, erases on backspace, treats
//! `\r\n`, `\r` and `\n` each as one Enter, discards escape sequences, and reports complete lines.
//! It is pure (bytes in, events and echo bytes out) so it is tested without a network.
//!
//! The [`Pager`] is RouterOS's output pager: an interactive console stops output that does not
//! fit the terminal at `-- [Q quit|D dump|down]` and waits for a key.

/// What a chunk of input produced.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TermEvent {
    /// Enter was pressed; the line typed so far.
    Line(String),
    /// Ctrl-C: the line is abandoned.
    Interrupt,
    /// Ctrl-D on an empty line: the user leaves.
    Eof,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Esc {
    /// Not in an escape sequence.
    None,
    /// After ESC.
    Start,
    /// In a CSI (`ESC [`) or SS3 (`ESC O`) sequence, waiting for its final byte.
    Csi,
}

/// A line editor with RouterOS-like echo.
#[derive(Debug, Clone)]
pub struct LineEditor {
    line: String,
    pending_utf8: Vec<u8>,
    esc: Esc,
    last_was_cr: bool,
    echo: bool,
}

impl LineEditor {
    /// A line editor; `echo` is false for exec channels.
    pub fn new(echo: bool) -> Self {
        Self {
            line: String::new(),
            pending_utf8: Vec::new(),
            esc: Esc::None,
            last_was_cr: false,
            echo,
        }
    }

    /// The text typed so far on the current line.
    pub fn current(&self) -> &str {
        &self.line
    }

    /// Feeds received bytes; returns the events and the bytes to echo back.
    pub fn feed(&mut self, input: &[u8]) -> (Vec<TermEvent>, Vec<u8>) {
        let mut events = Vec::new();
        let mut echo = Vec::new();
        for &b in input {
            let was_cr = self.last_was_cr;
            self.last_was_cr = false;
            match self.esc {
                Esc::Start => {
                    self.esc = if b == b'[' || b == b'O' {
                        Esc::Csi
                    } else {
                        Esc::None
                    };
                    continue;
                }
                Esc::Csi => {
                    if (0x40..=0x7e).contains(&b) {
                        self.esc = Esc::None;
                    }
                    continue;
                }
                Esc::None => {}
            }
            match b {
                0x1b => self.esc = Esc::Start,
                b'\r' => {
                    self.last_was_cr = true;
                    events.push(TermEvent::Line(std::mem::take(&mut self.line)));
                    self.pending_utf8.clear();
                }
                b'\n' => {
                    if !was_cr {
                        events.push(TermEvent::Line(std::mem::take(&mut self.line)));
                        self.pending_utf8.clear();
                    }
                }
                0x7f | 0x08 => {
                    if self.line.pop().is_some() && self.echo {
                        echo.extend_from_slice(b"\x08 \x08");
                    }
                }
                0x03 => {
                    self.line.clear();
                    self.pending_utf8.clear();
                    events.push(TermEvent::Interrupt);
                }
                0x04 => {
                    if self.line.is_empty() {
                        events.push(TermEvent::Eof);
                    }
                }
                b'\t' => {}
                0x00..=0x1f => {}
                _ => {
                    self.pending_utf8.push(b);
                    match std::str::from_utf8(&self.pending_utf8) {
                        Ok(s) => {
                            self.line.push_str(s);
                            if self.echo {
                                echo.extend_from_slice(&self.pending_utf8);
                            }
                            self.pending_utf8.clear();
                        }
                        Err(e) if e.error_len().is_some() => {
                            // Not UTF-8: drop the bad bytes.
                            self.pending_utf8.clear();
                        }
                        Err(_) => {}
                    }
                }
            }
        }
        (events, echo)
    }
}

/// The pager prompt RouterOS shows on the last terminal row.
pub const PAGER_PROMPT: &str = "-- [Q quit|D dump|down]";

/// What the pager did with a key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PagerStep {
    /// Still waiting at the pager prompt; the bytes to send (possibly none).
    More(Vec<u8>),
    /// The output is finished (shown to the end, dumped, or quit): the bytes to send, and the
    /// input that followed the deciding key (typed ahead, for the line editor).
    Done(Vec<u8>, Vec<u8>),
}

/// Paged output of one command: pages of `height - 1` lines with [`PAGER_PROMPT`] on the last
/// row. Keys: `q` (or Ctrl-C) quits, space shows the next page, `d` dumps the rest, down-arrow
/// (or Enter) shows one more line; other keys are ignored, as RouterOS does.
#[derive(Debug, Clone)]
pub struct Pager {
    lines: Vec<String>,
    shown: usize,
    page: usize,
    esc: Vec<u8>,
}

impl Pager {
    /// Pages `text` for a terminal of `height` rows. `None` when it fits: it is shown whole.
    pub fn new(text: &str, height: usize) -> Option<Self> {
        let lines: Vec<String> = text.lines().map(str::to_string).collect();
        let page = height.max(2) - 1;
        (lines.len() > page).then_some(Pager {
            lines,
            shown: 0,
            page,
            esc: Vec::new(),
        })
    }

    /// The first page and the prompt.
    pub fn start(&mut self) -> Vec<u8> {
        let mut out = self.advance(self.page);
        out.extend_from_slice(PAGER_PROMPT.as_bytes());
        out
    }

    fn advance(&mut self, n: usize) -> Vec<u8> {
        let end = (self.shown + n).min(self.lines.len());
        let mut text = String::new();
        for l in &self.lines[self.shown..end] {
            text.push_str(l);
            text.push('\n');
        }
        self.shown = end;
        crlf(&text)
    }

    /// Erases the prompt from the row it occupies.
    fn erase() -> Vec<u8> {
        let mut out = b"\r".to_vec();
        out.extend(std::iter::repeat_n(b' ', PAGER_PROMPT.len()));
        out.push(b'\r');
        out
    }

    /// Feeds input received while the prompt is shown.
    pub fn feed(&mut self, input: &[u8]) -> PagerStep {
        let mut out = Vec::new();
        for (i, &b) in input.iter().enumerate() {
            let rest = || input[i + 1..].to_vec();
            // Escape sequences: only down-arrow (`ESC [ B` or `ESC O B`) means something.
            if !self.esc.is_empty() || b == 0x1b {
                self.esc.push(b);
                let seq = self.esc.as_slice();
                let done = match seq.len() {
                    1 => false,
                    2 => !(seq[1] == b'[' || seq[1] == b'O'),
                    _ => (0x40..=0x7e).contains(&b),
                };
                if !done {
                    continue;
                }
                let down = seq == b"\x1b[B" || seq == b"\x1bOB";
                self.esc.clear();
                if !down {
                    continue;
                }
                out.extend(Self::erase());
                out.extend(self.advance(1));
            } else {
                match b {
                    b'q' | b'Q' | 0x03 => {
                        out.extend(Self::erase());
                        return PagerStep::Done(out, rest());
                    }
                    b'd' | b'D' => {
                        out.extend(Self::erase());
                        out.extend(self.advance(self.lines.len()));
                    }
                    b' ' => {
                        out.extend(Self::erase());
                        out.extend(self.advance(self.page));
                    }
                    b'\r' | b'\n' => {
                        out.extend(Self::erase());
                        out.extend(self.advance(1));
                    }
                    _ => continue,
                }
            }
            if self.shown >= self.lines.len() {
                return PagerStep::Done(out, rest());
            }
            out.extend_from_slice(PAGER_PROMPT.as_bytes());
        }
        PagerStep::More(out)
    }
}

/// Converts output text to terminal line endings (`\r\n`).
pub fn crlf(text: &str) -> Vec<u8> {
    let mut out = Vec::with_capacity(text.len() + text.len() / 16);
    let mut prev = '\0';
    for c in text.chars() {
        if c == '\n' && prev != '\r' {
            out.push(b'\r');
        }
        let mut buf = [0u8; 4];
        out.extend_from_slice(c.encode_utf8(&mut buf).as_bytes());
        prev = c;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn crlf_and_lf_are_one_enter_each() {
        let mut ed = LineEditor::new(true);
        let (ev, echo) = ed.feed(b"/ip address print\r\n");
        assert_eq!(ev, vec![TermEvent::Line("/ip address print".into())]);
        assert_eq!(echo, b"/ip address print");
        let (ev, _) = ed.feed(b"a\rb\nc\r");
        assert_eq!(
            ev,
            vec![
                TermEvent::Line("a".into()),
                TermEvent::Line("b".into()),
                TermEvent::Line("c".into())
            ]
        );
        // A lone LF right after a CR that ended a previous chunk is part of that Enter.
        let (ev, _) = ed.feed(b"\n");
        assert!(ev.is_empty());
    }

    #[test]
    fn escape_sequences_are_discarded() {
        let mut ed = LineEditor::new(true);
        let (ev, echo) = ed.feed(b"\x1b[24;80R\x1b[Ai\x1bOPp\r");
        assert_eq!(ev, vec![TermEvent::Line("ip".into())]);
        assert_eq!(echo, b"ip");
    }

    #[test]
    fn backspace_ctrl_c_and_ctrl_d() {
        let mut ed = LineEditor::new(true);
        let (_, echo) = ed.feed(b"ab\x7f");
        assert_eq!(echo, b"ab\x08 \x08");
        assert_eq!(ed.current(), "a");
        let (ev, _) = ed.feed(b"\x03");
        assert_eq!(ev, vec![TermEvent::Interrupt]);
        let (ev, _) = ed.feed(b"x\x04");
        assert!(ev.is_empty());
        let (ev, _) = ed.feed(b"\x7f\x04");
        assert_eq!(ev, vec![TermEvent::Eof]);
    }

    #[test]
    fn utf8_split_across_chunks() {
        let mut ed = LineEditor::new(false);
        let bytes = "é".as_bytes();
        ed.feed(&bytes[..1]);
        let (ev, echo) = ed.feed(&[bytes[1], b'\r']);
        assert_eq!(ev, vec![TermEvent::Line("é".into())]);
        assert!(echo.is_empty());
    }

    fn page_text(n: usize) -> String {
        (1..=n).map(|i| format!("line {i}\n")).collect()
    }

    #[test]
    fn output_that_fits_is_not_paged() {
        assert!(Pager::new(&page_text(23), 24).is_none());
        assert!(Pager::new(&page_text(24), 24).is_some());
    }

    #[test]
    fn pager_pages_dumps_and_quits() {
        let mut p = Pager::new(&page_text(50), 10).unwrap();
        let first = String::from_utf8(p.start()).unwrap();
        assert!(first.starts_with("line 1\r\n"));
        assert!(first.contains("line 9\r\n"));
        assert!(!first.contains("line 10"));
        assert!(first.ends_with(PAGER_PROMPT));
        // Unknown keys are ignored; the prompt stays.
        assert_eq!(p.feed(b"x"), PagerStep::More(Vec::new()));
        // Down-arrow: one more line.
        let PagerStep::More(out) = p.feed(b"\x1b[B") else {
            panic!("finished early")
        };
        let out = String::from_utf8(out).unwrap();
        assert!(
            out.contains("line 10\r\n") && !out.contains("line 11"),
            "{out}"
        );
        // Space: the next page.
        let PagerStep::More(out) = p.feed(b" ") else {
            panic!("finished early")
        };
        let out = String::from_utf8(out).unwrap();
        assert!(out.contains("line 11\r\n") && out.contains("line 19\r\n"));
        assert!(!out.contains("line 20"));
        // d dumps the rest and finishes; what follows is typed ahead.
        let PagerStep::Done(out, rest) = p.feed(b"d/quit\r") else {
            panic!("dump did not finish")
        };
        let out = String::from_utf8(out).unwrap();
        assert!(
            out.contains("line 20\r\n") && out.ends_with("line 50\r\n"),
            "{out}"
        );
        assert_eq!(rest, b"/quit\r");

        let mut p = Pager::new(&page_text(50), 10).unwrap();
        p.start();
        let PagerStep::Done(out, rest) = p.feed(b"q") else {
            panic!("q did not quit")
        };
        assert!(!String::from_utf8(out).unwrap().contains("line"));
        assert!(rest.is_empty());
    }

    #[test]
    fn pager_reaches_the_end_by_pages() {
        let mut p = Pager::new(&page_text(20), 10).unwrap();
        p.start();
        assert!(matches!(p.feed(b" "), PagerStep::More(_)));
        let PagerStep::Done(out, _) = p.feed(b" ") else {
            panic!("last page did not finish")
        };
        assert!(String::from_utf8(out).unwrap().ends_with("line 20\r\n"));
    }

    #[test]
    fn output_gets_crlf() {
        assert_eq!(crlf("a\nb\r\nc"), b"a\r\nb\r\nc");
    }
}
