//! Errors of the command interpreter, worded exactly as the RouterOS console prints them.
//!
//! Clients written against real routers recognise failures by these lines (`bad command name
//! print (line 1 column 7)`, `expected end of command …`, `failure: …`, `no such item`), so the
//! text is the contract; the variant only says where it came from. Parse-time errors carry the
//! position RouterOS reports (1-based line and column); run-time errors from the configuration
//! model carry the model's own detail text.

use std::fmt;

/// A position in script source, 1-based like RouterOS's `(line N column M)`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Pos {
    /// Line number, from 1.
    pub line: u32,
    /// Column number, from 1.
    pub col: u32,
}

impl fmt::Display for Pos {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "(line {} column {})", self.line, self.col)
    }
}

/// An error the interpreter reports to the console user.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum CliError {
    /// Malformed input (unbalanced brackets, bad escapes, unterminated strings).
    #[error("syntax error {0}")]
    Syntax(Pos),
    /// A word that is neither a menu nor a command at that place.
    #[error("bad command name {name} {pos}")]
    BadCommandName {
        /// The word as typed.
        name: String,
        /// Where the word starts.
        pos: Pos,
    },
    /// More input where the command had to end (e.g. an unquoted value containing a space).
    #[error("expected end of command {0}")]
    ExpectedEndOfCommand(Pos),
    /// A `:` or `/` with nothing usable after it.
    #[error("expected command name {0}")]
    ExpectedCommandName(Pos),
    /// A parameter the command does not have.
    #[error("bad parameter {name} {pos}")]
    BadParameter {
        /// The parameter as typed.
        name: String,
        /// Where RouterOS points (just after the name).
        pos: Pos,
    },
    /// A required value is missing (e.g. `:local` without a name).
    #[error("expected input value {0}")]
    ExpectedInputValue(Pos),
    /// An error raised while running: the configuration model's detail (`no such item`,
    /// `failure: already have such address`, `invalid value for argument mtu`, …) or a script's
    /// own `:error`.
    #[error("{0}")]
    Runtime(String),
    /// `:error` raised by a script: printed as its message.
    #[error("{0}")]
    Raised(String),
}

impl CliError {
    /// A syntax error at `pos`.
    pub fn syntax(pos: Pos) -> Self {
        Self::Syntax(pos)
    }

    /// A run-time error with RouterOS's wording.
    pub fn runtime(msg: impl Into<String>) -> Self {
        Self::Runtime(msg.into())
    }

    /// Whether this error comes from parsing (nothing of the script ran).
    pub fn is_parse_error(&self) -> bool {
        matches!(
            self,
            Self::Syntax(_)
                | Self::BadCommandName { .. }
                | Self::ExpectedEndOfCommand(_)
                | Self::ExpectedCommandName(_)
                | Self::ExpectedInputValue(_)
        )
    }
}
