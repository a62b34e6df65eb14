//! The interactive terminal of an SSH shell: turns keystrokes into command lines and produces
//! the echo a RouterOS console gives.
//!
//! Clients (netmiko, Ansible, a human with OpenSSH) send printable text, `\r` or `\r\n` for
//! Enter, backspace, Ctrl-C, Ctrl-D and terminal escape sequences (arrow keys, replies to cursor
//! position probes). This line editor echoes printable characters, erases on backspace, treats
//! `\r\n`, `\r` and `\n` each as one Enter, discards escape sequences, and reports complete lines.
//! It is pure (bytes in, events and echo bytes out) so it is tested without a network.

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

    #[test]
    fn output_gets_crlf() {
        assert_eq!(crlf("a\nb\r\nc"), b"a\r\nb\r\nc");
    }
}
