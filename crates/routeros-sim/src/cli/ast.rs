//! The parsed form of a RouterOS script.
//!
//! RouterOS parses a whole script before running any of it (a `bad command name` on line 3 means
//! lines 1 and 2 never ran), resolving menu paths and command names at parse time. So commands
//! here already carry their canonical menu path and command name; only values and `where`
//! expressions are evaluated when the command runs.

use std::sync::Arc;

use super::error::{CliError, Pos};
use super::lexer::StrPiece;

/// A sequence of statements forming one scope (`{ … }`, `do={ … }` or a whole script).
#[derive(Debug, Clone, Default)]
pub struct Block {
    /// The statements, in order.
    pub stmts: Vec<Stmt>,
}

/// One statement.
#[derive(Debug, Clone)]
pub enum Stmt {
    /// A bare menu path (`/ip address`, `..`, `/`): changes the console's current menu.
    Nav {
        /// The new current menu (canonical, no leading slash; empty for the root).
        menu: String,
    },
    /// A menu command (`/ip address print detail`).
    Menu(MenuCmd),
    /// A global command (`:put`, `:if`, `:local`, …).
    Global(GlobalCmd),
    /// A function call through a variable (`$fn a=1`).
    Call {
        /// Variable holding the code.
        var: String,
        /// Arguments.
        args: Vec<GArg>,
        /// Where the call starts.
        pos: Pos,
    },
    /// A nested scope `{ … }`.
    Block(Block),
    /// A bare `[ … ]` or `( … )` evaluated for its side effects.
    Expr(Expr),
}

/// A command of a configuration menu, resolved at parse time.
#[derive(Debug, Clone)]
pub struct MenuCmd {
    /// Canonical menu path without leading slash (`ip/address`; empty for the root).
    pub menu: String,
    /// Canonical command name (`print`, `add`, `run`, …).
    pub cmd: String,
    /// Arguments in the order given (positional ones carry their parameter name).
    pub args: Vec<Arg>,
    /// A `where` expression (print) or the filter of `find`.
    pub filter: Option<Expr>,
    /// Where the command name starts.
    pub pos: Pos,
    /// An error RouterOS detects while parsing but reports only when the command runs
    /// (`bad parameter …`).
    pub deferred: Option<CliError>,
}

impl MenuCmd {
    /// The argument named `name`, if given.
    pub fn arg(&self, name: &str) -> Option<&Arg> {
        self.args.iter().find(|a| a.name == name)
    }

    /// Whether the valueless flag `name` was given (`detail`, `as-value`, …).
    pub fn flag(&self, name: &str) -> bool {
        self.arg(name).is_some()
    }
}

/// An argument of a menu command.
#[derive(Debug, Clone)]
pub struct Arg {
    /// Canonical parameter name (abbreviations are expanded; positional arguments get the name
    /// of the parameter they fill, e.g. `numbers`).
    pub name: String,
    /// The value; `None` for valueless flags.
    pub value: Option<Expr>,
    /// `!name` in `set`: unset the property.
    pub unset: bool,
    /// Where the argument starts.
    pub pos: Pos,
}

/// A global (`:`) command.
#[derive(Debug, Clone)]
pub struct GlobalCmd {
    /// Command name without the colon (`put`, `if`, …).
    pub name: String,
    /// Arguments in order.
    pub args: Vec<GArg>,
    /// Where the command starts.
    pub pos: Pos,
}

impl GlobalCmd {
    /// Positional arguments in order.
    pub fn positional(&self) -> impl Iterator<Item = &Expr> {
        self.args
            .iter()
            .filter(|a| a.name.is_none())
            .map(|a| &a.value)
    }

    /// The named argument `name`.
    pub fn named(&self, name: &str) -> Option<&Expr> {
        self.args
            .iter()
            .find(|a| a.name.as_deref() == Some(name))
            .map(|a| &a.value)
    }
}

/// An argument of a global command or function call.
#[derive(Debug, Clone)]
pub struct GArg {
    /// `Some(name)` for `name=value`, `None` for a positional value.
    pub name: Option<String>,
    /// The value.
    pub value: Expr,
    /// Where the argument starts.
    pub pos: Pos,
}

/// Unary operators.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UnOp {
    /// `!` / `not`.
    Not,
    /// `-`.
    Neg,
    /// `~` (bitwise inversion of an address).
    Inv,
}

/// Binary operators.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BinOp {
    /// `||` / `or`.
    Or,
    /// `&&` / `and`.
    And,
    /// `=`.
    Eq,
    /// `!=`.
    Ne,
    /// `<`.
    Lt,
    /// `>`.
    Gt,
    /// `<=`.
    Le,
    /// `>=`.
    Ge,
    /// `~` (regular expression match).
    Match,
    /// `in` (address in prefix).
    In,
    /// `,` (array concatenation).
    Comma,
    /// `.` (string concatenation).
    Concat,
    /// `+`.
    Add,
    /// `-`.
    Sub,
    /// `*`.
    Mul,
    /// `/`.
    Div,
    /// `%`.
    Mod,
    /// `&` (bitwise and on addresses).
    BitAnd,
    /// `|`.
    BitOr,
    /// `^`.
    BitXor,
    /// `->` (array element by key or index).
    Index,
}

/// An expression.
#[derive(Debug, Clone)]
pub enum Expr {
    /// A bare word: a typed literal (`1500`, `10.0.0.1/24`, `yes`, `1d`), a string, or — inside
    /// `where` — a property of the item.
    Word(String, Pos),
    /// A double-quoted string with interpolations.
    Str(Vec<StrPiece<Expr>>),
    /// `$name`.
    Var(String, Pos),
    /// `[ command ]`: the value of the last command.
    Cmd(Box<Block>),
    /// A unary operation.
    Unary(UnOp, Box<Expr>),
    /// A binary operation.
    Binary(BinOp, Box<Expr>, Box<Expr>),
    /// `{a=1;b=2}` / `{1;2;3}`.
    Array(Vec<(Option<String>, Expr)>),
    /// `{ … }` as code, with its source text.
    Code(Arc<Block>, Arc<str>),
    /// Adjacent pieces of one argument value, joined as strings (`pre$x"post"`).
    Concat(Vec<Expr>),
}
