//! Parser for the RouterOS console and scripting language.
//!
//! Like RouterOS, the whole input is parsed before anything runs, and menu paths and command
//! names are resolved against the command tree while parsing (with the console's
//! unambiguous-prefix abbreviations), so `bad command name`, `expected end of command` and
//! `syntax error` are reported with RouterOS's `(line N column M)` positions and nothing of the
//! script has happened. Errors RouterOS detects during parsing but reports only when the command
//! runs (`bad parameter …`) are attached to the command.
//!
//! The grammar covered: commands separated by `;` or new lines, `\` line joining, `#` comments,
//! absolute and relative menu paths (`/ip address`, `/ip/address`, `..`, `/`), named, positional
//! and valueless arguments, `!prop` unsets, `where` filters, `[ … ]` command substitution,
//! `( … )` expressions with RouterOS's operators, `{ … }` blocks, code values and array literals,
//! `$var` and string interpolation, and the global `:` commands.

use std::sync::Arc;

use super::ast::{Arg, BinOp, Block, Expr, GArg, GlobalCmd, MenuCmd, Stmt, UnOp};
use super::error::{CliError, Pos};
use super::lexer::{Cursor, StrPiece, is_var_char, read_string};
use super::tree::{CmdSpec, FilterMode, Resolved, Tree, expand_name};

/// Global commands the interpreter knows (written with a leading `:`; the colon may be left out
/// where the word is not a menu or command of the current menu).
pub const GLOBAL_COMMANDS: &[&str] = &[
    "beep",
    "break",
    "continue",
    "delay",
    "deserialize",
    "do",
    "environment",
    "error",
    "execute",
    "exit",
    "find",
    "for",
    "foreach",
    "global",
    "if",
    "jobname",
    "len",
    "local",
    "log",
    "nothing",
    "onerror",
    "parse",
    "pick",
    "put",
    "range",
    "resolve",
    "return",
    "rndnum",
    "rndstr",
    "serialize",
    "set",
    "time",
    "timestamp",
    "toarray",
    "tobool",
    "toid",
    "toip",
    "toip6",
    "tonum",
    "tostr",
    "totime",
    "typeof",
    "while",
];

/// The result of parsing a script.
#[derive(Debug, Clone)]
pub struct Parsed {
    /// The statements.
    pub block: Block,
    /// The current menu after the last statement (for the console prompt).
    pub menu: String,
}

/// Parses `src` with `menu` as the current menu.
pub fn parse(tree: &Tree, menu: &str, src: &str) -> Result<Parsed, CliError> {
    let chars: Vec<char> = src.chars().collect();
    let mut p = Parser {
        cur: Cursor::new(&chars),
        tree,
        menu: menu.to_string(),
        depth: 0,
    };
    let block = p.block(None)?;
    Ok(Parsed {
        block,
        menu: p.menu,
    })
}

/// How an expression ends.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Mode {
    /// Inside `( … )`: new lines are blanks.
    Paren,
    /// A `where` filter: ends with the command.
    Where,
}

struct Parser<'t, 'a> {
    cur: Cursor<'a>,
    tree: &'t Tree,
    /// The lexical current menu.
    menu: String,
    /// Nesting of blocks, brackets and expressions (bounded: input comes from the network).
    depth: usize,
}

/// Deepest nesting accepted; deeper input is a syntax error rather than a stack overflow.
const MAX_NESTING: usize = 100;

fn is_name_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || c == '-' || c == '_' || c == '.'
}

fn is_path_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || c == '-' || c == '_'
}

/// Characters that end an unquoted value.
fn ends_word(c: char) -> bool {
    matches!(
        c,
        ' ' | '\t' | '\r' | '\n' | ';' | '"' | '$' | '[' | ']' | '(' | ')' | '{' | '}' | '\\'
    )
}

impl<'t, 'a> Parser<'t, 'a> {
    fn pos(&self) -> Pos {
        self.cur.pos()
    }

    fn syntax(&self) -> CliError {
        CliError::syntax(self.pos())
    }

    /// Whether the command ends here (`;`, line end, end of input, or a closing bracket that
    /// belongs to an enclosing construct).
    fn at_command_end(&self) -> bool {
        matches!(
            self.cur.peek(),
            None | Some(';') | Some('\n') | Some('\r') | Some('}') | Some(']') | Some(')')
        )
    }

    /// Counts one more level of nesting; too deep is a syntax error.
    fn enter(&mut self) -> Result<(), CliError> {
        self.depth += 1;
        if self.depth > MAX_NESTING {
            return Err(self.syntax());
        }
        Ok(())
    }

    fn block(&mut self, closer: Option<char>) -> Result<Block, CliError> {
        self.enter()?;
        let r = self.block_inner(closer);
        self.depth -= 1;
        r
    }

    fn block_inner(&mut self, closer: Option<char>) -> Result<Block, CliError> {
        let saved_menu = closer.map(|_| self.menu.clone());
        let mut stmts = Vec::new();
        loop {
            self.cur.skip_blanks();
            match self.cur.peek() {
                None => {
                    if closer.is_some() {
                        return Err(self.syntax());
                    }
                    break;
                }
                Some(c) if Some(c) == closer => break,
                Some(';') | Some('\n') | Some('\r') => {
                    self.cur.bump();
                }
                Some('#') => self.cur.skip_comment(),
                Some('}') | Some(']') | Some(')') => return Err(self.syntax()),
                Some('\\') => return Err(self.syntax()),
                Some(_) => {
                    let stmt = self.statement()?;
                    stmts.push(stmt);
                    self.cur.skip_blanks();
                    match self.cur.peek() {
                        None | Some(';') | Some('\n') | Some('\r') => {}
                        Some(c) if Some(c) == closer => {}
                        Some('}') | Some(']') | Some(')') => return Err(self.syntax()),
                        Some(_) => return Err(CliError::ExpectedEndOfCommand(self.pos())),
                    }
                }
            }
        }
        if let Some(m) = saved_menu {
            self.menu = m;
        }
        Ok(Block { stmts })
    }

    fn statement(&mut self) -> Result<Stmt, CliError> {
        let start = self.pos();
        match self.cur.peek() {
            Some('{') => {
                self.cur.bump();
                let b = self.block(Some('}'))?;
                if !self.cur.eat('}') {
                    return Err(self.syntax());
                }
                Ok(Stmt::Block(b))
            }
            Some(':') => {
                self.cur.bump();
                let npos = self.pos();
                let name = self.cur.take_while(is_path_char);
                if name.is_empty() {
                    return Err(CliError::ExpectedCommandName(npos));
                }
                if !GLOBAL_COMMANDS.contains(&name.as_str()) {
                    return Err(CliError::BadCommandName { name, pos: npos });
                }
                self.global(name, start)
            }
            Some('$') => {
                self.cur.bump();
                let var = self.var_name()?;
                let args = self.global_args("")?;
                Ok(Stmt::Call {
                    var,
                    args,
                    pos: start,
                })
            }
            Some('[') => Ok(Stmt::Expr(self.cmd_subst()?)),
            Some('(') => {
                self.cur.bump();
                let e = self.expr(Mode::Paren)?;
                self.cur.skip_blanks_and_newlines();
                if !self.cur.eat(')') {
                    return Err(self.syntax());
                }
                Ok(Stmt::Expr(e))
            }
            _ => self.menu_statement(start),
        }
    }

    fn var_name(&mut self) -> Result<String, CliError> {
        if self.cur.peek() == Some('"') {
            return self.plain_string();
        }
        let name = self.cur.take_while(is_var_char);
        if name.is_empty() {
            return Err(self.syntax());
        }
        Ok(name)
    }

    /// A quoted string without interpolation (variable names, array keys).
    fn plain_string(&mut self) -> Result<String, CliError> {
        let pieces = read_string::<Expr>(&mut self.cur, |c| Err(CliError::syntax(c.pos())))?;
        Ok(pieces
            .into_iter()
            .map(|p| match p {
                StrPiece::Text(t) => t,
                StrPiece::Var(v) => format!("${v}"),
                StrPiece::Expr(_) => String::new(),
            })
            .collect())
    }

    fn menu_statement(&mut self, start: Pos) -> Result<Stmt, CliError> {
        let mut path = self.menu.clone();
        let mut moved = false;
        if self.cur.eat('/') {
            path.clear();
            moved = true;
        }
        loop {
            let wpos = self.pos();
            if self.cur.looking_at("..") {
                self.cur.bump();
                self.cur.bump();
                path = match path.rfind('/') {
                    Some(i) => path[..i].to_string(),
                    None => String::new(),
                };
                moved = true;
                if self.cur.eat('/') {
                    continue;
                }
                self.cur.skip_blanks();
                if self.at_command_end() {
                    self.menu = path.clone();
                    return Ok(Stmt::Nav { menu: path });
                }
                continue;
            }
            let word = self.cur.take_while(is_path_char);
            if word.is_empty() {
                if self.at_command_end() || matches!(self.cur.peek(), Some(' ') | Some('\t')) {
                    self.cur.skip_blanks();
                    if self.at_command_end() {
                        self.menu = path.clone();
                        return Ok(Stmt::Nav { menu: path });
                    }
                }
                return Err(if moved {
                    CliError::ExpectedCommandName(wpos)
                } else {
                    self.syntax()
                });
            }
            match self.tree.resolve(&path, &word) {
                Some(Resolved::Menu(p)) => {
                    path = p;
                    moved = true;
                    if self.cur.eat('/') {
                        continue;
                    }
                    self.cur.skip_blanks();
                    if self.at_command_end() {
                        self.menu = path.clone();
                        return Ok(Stmt::Nav { menu: path });
                    }
                }
                Some(Resolved::Command(spec)) => {
                    if self.cur.peek() == Some('/') {
                        return Err(CliError::BadCommandName {
                            name: word,
                            pos: wpos,
                        });
                    }
                    return self.menu_command(path, spec, wpos);
                }
                None => {
                    if !moved && GLOBAL_COMMANDS.contains(&word.as_str()) {
                        return self.global(word, start);
                    }
                    return Err(CliError::BadCommandName {
                        name: word,
                        pos: wpos,
                    });
                }
            }
        }
    }

    fn menu_command(&mut self, menu: String, spec: CmdSpec, pos: Pos) -> Result<Stmt, CliError> {
        let saved = std::mem::replace(&mut self.menu, menu.clone());
        let r = self.menu_command_args(&menu, &spec, pos);
        self.menu = saved;
        r.map(Stmt::Menu)
    }

    fn menu_command_args(
        &mut self,
        menu: &str,
        spec: &CmdSpec,
        pos: Pos,
    ) -> Result<MenuCmd, CliError> {
        let info = self.tree.menu(menu);
        let settable: Vec<String> = info.map(|m| m.settable.clone()).unwrap_or_default();
        let readable: Vec<String> = info.map(|m| m.readable.clone()).unwrap_or_default();
        let mut cmd = MenuCmd {
            menu: menu.to_string(),
            cmd: spec.name.to_string(),
            args: Vec::new(),
            filter: None,
            pos,
            deferred: None,
        };
        let mut next_positional = 0;
        loop {
            self.cur.skip_blanks();
            if self.at_command_end() {
                break;
            }
            let apos = self.pos();
            if spec.filter == FilterMode::Find && cmd.filter.is_none() {
                if self.word_ahead().as_deref() == Some("where") {
                    self.cur.take_while(is_name_char);
                    self.cur.skip_blanks();
                }
                if self.at_command_end() {
                    break;
                }
                cmd.filter = Some(self.expr(Mode::Where)?);
                continue;
            }
            let c0 = self.cur.peek().unwrap_or(' ');
            if c0.is_ascii_alphabetic() || c0 == '.' || c0 == '!' {
                let (unset, name, after) = self.name_ahead();
                if after == Some('=') && !unset {
                    for _ in 0..name.chars().count() {
                        self.cur.bump();
                    }
                    let eq_pos = self.pos();
                    self.cur.bump();
                    self.cur.skip_blanks();
                    let value = self.arg_value()?;
                    let mut candidates: Vec<&str> = spec.named.to_vec();
                    candidates.extend(spec.positional.iter().copied());
                    if spec.props {
                        candidates.extend(settable.iter().map(String::as_str));
                    }
                    if spec.name == "print" && name == ".proplist" {
                        candidates.push("proplist");
                    }
                    let canonical = if spec.name == "print" && name == ".proplist" {
                        Some("proplist")
                    } else {
                        expand_name(&name, candidates)
                    };
                    match canonical {
                        Some(n) => cmd.args.push(Arg {
                            name: n.to_string(),
                            value: Some(value),
                            unset: false,
                            pos: apos,
                        }),
                        None => {
                            if cmd.deferred.is_none() {
                                cmd.deferred = Some(CliError::BadParameter { name, pos: eq_pos });
                            }
                        }
                    }
                    continue;
                }
                if unset && spec.props && !name.is_empty() {
                    self.cur.bump();
                    for _ in 0..name.chars().count() {
                        self.cur.bump();
                    }
                    match expand_name(&name, settable.iter().map(String::as_str)) {
                        Some(n) => cmd.args.push(Arg {
                            name: n.to_string(),
                            value: None,
                            unset: true,
                            pos: apos,
                        }),
                        None => {
                            if cmd.deferred.is_none() {
                                cmd.deferred = Some(CliError::BadParameter {
                                    name,
                                    pos: self.pos(),
                                });
                            }
                        }
                    }
                    continue;
                }
                if !unset && spec.filter == FilterMode::Where && name == "where" {
                    self.cur.take_while(is_name_char);
                    self.cur.skip_blanks();
                    if self.at_command_end() {
                        return Err(CliError::ExpectedInputValue(self.pos()));
                    }
                    cmd.filter = Some(self.expr(Mode::Where)?);
                    continue;
                }
                if !unset
                    && after.is_none_or(ends_word)
                    && let Some(flag) = expand_name(&name, spec.flags.iter().copied())
                {
                    {
                        self.cur.take_while(is_name_char);
                        cmd.args.push(Arg {
                            name: flag.to_string(),
                            value: None,
                            unset: false,
                            pos: apos,
                        });
                        continue;
                    }
                }
            }
            if next_positional < spec.positional.len() {
                let value = self.arg_value()?;
                let pname = spec.positional[next_positional];
                next_positional += 1;
                // `get <n> <prop>`: the property name may be abbreviated.
                let value = match (pname, &value) {
                    ("value-name", Expr::Word(w, p)) => {
                        let full = expand_name(w, readable.iter().map(String::as_str))
                            .unwrap_or(w.as_str());
                        Expr::Word(full.to_string(), *p)
                    }
                    _ => value,
                };
                cmd.args.push(Arg {
                    name: pname.to_string(),
                    value: Some(value),
                    unset: false,
                    pos: apos,
                });
                continue;
            }
            return Err(CliError::ExpectedEndOfCommand(apos));
        }
        Ok(cmd)
    }

    /// Looks at an argument name ahead without consuming it: `(is_unset, name, char after)`.
    fn name_ahead(&self) -> (bool, String, Option<char>) {
        let mut probe = self.cur.clone();
        let unset = probe.eat('!');
        let name = probe.take_while(is_name_char);
        (unset, name, probe.peek())
    }

    fn word_ahead(&self) -> Option<String> {
        let mut probe = self.cur.clone();
        let w = probe.take_while(is_name_char);
        match probe.peek() {
            None => Some(w),
            Some(c) if ends_word(c) => Some(w),
            _ => None,
        }
    }

    /// An argument value: adjacent pieces (unquoted text, strings, `$var`, `[cmd]`) up to a blank
    /// or the end of the command; `( … )` and `{ … }` only as the whole value.
    fn arg_value(&mut self) -> Result<Expr, CliError> {
        let mut pieces = Vec::new();
        loop {
            let p = self.pos();
            match self.cur.peek() {
                None | Some(' ') | Some('\t') | Some('\r') | Some('\n') | Some(';') | Some(']')
                | Some(')') | Some('}') => break,
                Some('"') => pieces.push(self.string()?),
                Some('$') => {
                    self.cur.bump();
                    let name = self.var_name()?;
                    pieces.push(Expr::Var(name, p));
                }
                Some('[') => pieces.push(self.cmd_subst()?),
                Some('(') => {
                    if !pieces.is_empty() {
                        return Err(self.syntax());
                    }
                    self.cur.bump();
                    let e = self.expr(Mode::Paren)?;
                    self.cur.skip_blanks_and_newlines();
                    if !self.cur.eat(')') {
                        return Err(self.syntax());
                    }
                    pieces.push(e);
                }
                Some('{') => {
                    if !pieces.is_empty() {
                        return Err(self.syntax());
                    }
                    pieces.push(self.code()?);
                }
                Some('\\') => {
                    let mut probe = self.cur.clone();
                    probe.skip_blanks();
                    if probe.index() == self.cur.index() {
                        return Err(self.syntax());
                    }
                    break;
                }
                Some(_) => {
                    let w = self.cur.take_while(|c| !ends_word(c));
                    pieces.push(Expr::Word(w, p));
                }
            }
        }
        Ok(match pieces.len() {
            0 => Expr::Word(String::new(), self.pos()),
            1 => pieces
                .pop()
                .unwrap_or(Expr::Word(String::new(), self.pos())),
            _ => Expr::Concat(pieces),
        })
    }

    fn string(&mut self) -> Result<Expr, CliError> {
        let tree = self.tree;
        let menu = self.menu.clone();
        let depth = self.depth + 1;
        let mut cur = self.cur.clone();
        let pieces = read_string(&mut cur, |c| {
            let mut sub = Parser {
                cur: c.clone(),
                tree,
                menu: menu.clone(),
                depth,
            };
            let e = match sub.cur.peek() {
                Some('[') => sub.cmd_subst()?,
                _ => {
                    sub.cur.bump();
                    let e = sub.expr(Mode::Paren)?;
                    sub.cur.skip_blanks_and_newlines();
                    if !sub.cur.eat(')') {
                        return Err(sub.syntax());
                    }
                    e
                }
            };
            *c = sub.cur;
            Ok(e)
        })?;
        self.cur = cur;
        Ok(Expr::Str(pieces))
    }

    fn cmd_subst(&mut self) -> Result<Expr, CliError> {
        self.cur.bump(); // [
        let b = self.block(Some(']'))?;
        if !self.cur.eat(']') {
            return Err(self.syntax());
        }
        Ok(Expr::Cmd(Box::new(b)))
    }

    /// `{ … }` as code.
    fn code(&mut self) -> Result<Expr, CliError> {
        self.cur.bump(); // {
        let from = self.cur.index();
        let b = self.block(Some('}'))?;
        let to = self.cur.index();
        if !self.cur.eat('}') {
            return Err(self.syntax());
        }
        let src = self.cur.slice(from, to);
        Ok(Expr::Code(Arc::new(b), Arc::from(src.trim())))
    }

    /// `{ … }` as an array literal: `{1;2;3}`, `{a=1;"b"=2}`.
    fn array_literal(&mut self) -> Result<Expr, CliError> {
        self.enter()?;
        let r = self.array_literal_inner();
        self.depth -= 1;
        r
    }

    fn array_literal_inner(&mut self) -> Result<Expr, CliError> {
        self.cur.bump(); // {
        let mut items = Vec::new();
        loop {
            self.cur.skip_blanks_and_newlines();
            match self.cur.peek() {
                None => return Err(self.syntax()),
                Some('}') => {
                    self.cur.bump();
                    break;
                }
                Some(';') => {
                    self.cur.bump();
                    continue;
                }
                _ => {}
            }
            let mut key = None;
            let mut probe = self.cur.clone();
            if probe.peek() == Some('"') {
                let mut sub = Parser {
                    cur: probe.clone(),
                    tree: self.tree,
                    menu: self.menu.clone(),
                    depth: self.depth,
                };
                if let Ok(k) = sub.plain_string()
                    && sub.cur.peek() == Some('=')
                {
                    key = Some(k);
                    probe = sub.cur;
                }
            } else {
                let k = probe.take_while(|c| is_name_char(c) && c != '.');
                if !k.is_empty() && probe.peek() == Some('=') {
                    key = Some(k);
                }
            }
            if key.is_some() {
                self.cur = probe;
                self.cur.bump(); // =
            }
            let v = match self.cur.peek() {
                Some('{') => self.array_literal()?,
                _ => self.expr_until_item_end()?,
            };
            items.push((key, v));
            self.cur.skip_blanks_and_newlines();
            match self.cur.peek() {
                Some(';') => {
                    self.cur.bump();
                }
                Some('}') => {}
                _ => return Err(self.syntax()),
            }
        }
        Ok(Expr::Array(items))
    }

    fn expr_until_item_end(&mut self) -> Result<Expr, CliError> {
        self.expr_bp(Mode::Paren, 0, true)
    }

    fn global(&mut self, name: String, pos: Pos) -> Result<Stmt, CliError> {
        let args = self.global_args(&name)?;
        Ok(Stmt::Global(GlobalCmd { name, args, pos }))
    }

    fn global_args(&mut self, cmd: &str) -> Result<Vec<GArg>, CliError> {
        let mut args = Vec::new();
        loop {
            self.cur.skip_blanks();
            if self.at_command_end() {
                break;
            }
            let apos = self.pos();
            let c0 = self.cur.peek().unwrap_or(' ');
            if c0.is_ascii_alphabetic() {
                let (_, name, after) = self.name_ahead();
                if after == Some('=') {
                    for _ in 0..name.chars().count() {
                        self.cur.bump();
                    }
                    self.cur.bump();
                    self.cur.skip_blanks();
                    let value = self.global_value(cmd, Some(&name))?;
                    args.push(GArg {
                        name: Some(name),
                        value,
                        pos: apos,
                    });
                    continue;
                }
            }
            let value = self.global_value(cmd, None)?;
            args.push(GArg {
                name: None,
                value,
                pos: apos,
            });
        }
        Ok(args)
    }

    fn global_value(&mut self, cmd: &str, arg: Option<&str>) -> Result<Expr, CliError> {
        if self.cur.peek() == Some('{') {
            let code = match arg {
                Some(a) => {
                    matches!(a, "do" | "else" | "on-error" | "command")
                        || (a == "in" && cmd == "onerror")
                }
                None => matches!(cmd, "do" | "time" | "execute" | ""),
            };
            return if code {
                self.code()
            } else {
                self.array_literal()
            };
        }
        self.arg_value()
    }

    // ---- expressions ----

    fn expr(&mut self, mode: Mode) -> Result<Expr, CliError> {
        self.expr_bp(mode, 0, false)
    }

    fn skip_expr_blanks(&mut self, mode: Mode) {
        match mode {
            Mode::Paren => self.cur.skip_blanks_and_newlines(),
            Mode::Where => self.cur.skip_blanks(),
        }
    }

    fn expr_bp(&mut self, mode: Mode, min_bp: u8, item: bool) -> Result<Expr, CliError> {
        self.enter()?;
        let r = self.expr_bp_inner(mode, min_bp, item);
        self.depth -= 1;
        r
    }

    fn expr_bp_inner(&mut self, mode: Mode, min_bp: u8, item: bool) -> Result<Expr, CliError> {
        self.skip_expr_blanks(mode);
        let mut lhs = self.prefix(mode, item)?;
        loop {
            self.skip_expr_blanks(mode);
            let (op, len) = match self.peek_binop(mode, item) {
                Some(x) => x,
                None => {
                    if mode == Mode::Where && self.starts_operand() {
                        (BinOp::And, 0)
                    } else {
                        break;
                    }
                }
            };
            let (l, r) = binding(op);
            if l < min_bp {
                break;
            }
            for _ in 0..len {
                self.cur.bump();
            }
            let rhs = self.expr_bp(mode, r, item)?;
            lhs = Expr::Binary(op, Box::new(lhs), Box::new(rhs));
        }
        Ok(lhs)
    }

    fn starts_operand(&self) -> bool {
        match self.cur.peek() {
            Some(c) => c.is_ascii_alphanumeric() || matches!(c, '"' | '$' | '[' | '(' | '!' | '.'),
            None => false,
        }
    }

    fn peek_binop(&self, mode: Mode, item: bool) -> Option<(BinOp, usize)> {
        let c = self.cur.peek()?;
        let c1 = self.cur.peek_at(1);
        let two = |op| Some((op, 2));
        let one = |op| Some((op, 1));
        match (c, c1) {
            ('|', Some('|')) => two(BinOp::Or),
            ('&', Some('&')) => two(BinOp::And),
            ('!', Some('=')) => two(BinOp::Ne),
            ('<', Some('=')) => two(BinOp::Le),
            ('>', Some('=')) => two(BinOp::Ge),
            ('-', Some('>')) => two(BinOp::Index),
            ('=', _) => one(BinOp::Eq),
            ('<', _) => one(BinOp::Lt),
            ('>', _) => one(BinOp::Gt),
            ('~', _) => one(BinOp::Match),
            (',', _) if mode == Mode::Paren && !item => one(BinOp::Comma),
            ('.', _) => one(BinOp::Concat),
            ('+', _) => one(BinOp::Add),
            ('-', _) => one(BinOp::Sub),
            ('*', _) => one(BinOp::Mul),
            ('/', _) => one(BinOp::Div),
            ('%', _) => one(BinOp::Mod),
            ('&', _) => one(BinOp::BitAnd),
            ('|', _) => one(BinOp::BitOr),
            ('^', _) => one(BinOp::BitXor),
            _ => {
                let mut probe = self.cur.clone();
                let w = probe.take_while(|c| c.is_ascii_alphabetic());
                let whole = probe.peek().is_none_or(|c| !is_name_char(c));
                if !whole {
                    return None;
                }
                match w.as_str() {
                    "and" => Some((BinOp::And, 3)),
                    "or" => Some((BinOp::Or, 2)),
                    "in" => Some((BinOp::In, 2)),
                    _ => None,
                }
            }
        }
    }

    fn prefix(&mut self, mode: Mode, item: bool) -> Result<Expr, CliError> {
        let p = self.pos();
        match self.cur.peek() {
            None => Err(self.syntax()),
            Some('!') => {
                self.cur.bump();
                let e = self.expr_bp(mode, PREFIX_BP, item)?;
                Ok(Expr::Unary(UnOp::Not, Box::new(e)))
            }
            Some('-') if !self.cur.peek_at(1).is_some_and(|c| c.is_ascii_digit()) => {
                self.cur.bump();
                let e = self.expr_bp(mode, PREFIX_BP, item)?;
                Ok(Expr::Unary(UnOp::Neg, Box::new(e)))
            }
            Some('~') => {
                self.cur.bump();
                let e = self.expr_bp(mode, PREFIX_BP, item)?;
                Ok(Expr::Unary(UnOp::Inv, Box::new(e)))
            }
            Some('"') => self.string(),
            Some('$') => {
                self.cur.bump();
                let name = self.var_name()?;
                Ok(Expr::Var(name, p))
            }
            Some('[') => self.cmd_subst(),
            Some('(') => {
                self.cur.bump();
                let e = self.expr(Mode::Paren)?;
                self.cur.skip_blanks_and_newlines();
                if !self.cur.eat(')') {
                    return Err(self.syntax());
                }
                Ok(e)
            }
            Some('{') => self.array_literal(),
            Some(c)
                if c.is_ascii_alphanumeric() || c == '_' || c == '-' || c == '*' || c == '.' =>
            {
                let w = self.expr_word(mode);
                if w.is_empty() {
                    return Err(self.syntax());
                }
                if w == "not" {
                    let e = self.expr_bp(mode, PREFIX_BP, item)?;
                    return Ok(Expr::Unary(UnOp::Not, Box::new(e)));
                }
                Ok(Expr::Word(w, p))
            }
            Some(_) => Err(self.syntax()),
        }
    }

    /// A bare word inside an expression: names (`default-name`, `.id`), numbers, ids (`*1A`),
    /// addresses and prefixes (`10.0.0.0/8`, `1::1`), times (`00:01:00`, `1d2h`).
    fn expr_word(&mut self, mode: Mode) -> String {
        let mut w = String::new();
        // Leading characters that are otherwise operators.
        match self.cur.peek() {
            Some('*') if self.cur.peek_at(1).is_some_and(|c| c.is_ascii_hexdigit()) => {
                w.push('*');
                self.cur.bump();
            }
            Some('-') if self.cur.peek_at(1).is_some_and(|c| c.is_ascii_digit()) => {
                w.push('-');
                self.cur.bump();
            }
            Some('.') if self.cur.peek_at(1).is_some_and(|c| c.is_ascii_alphabetic()) => {
                w.push('.');
                self.cur.bump();
            }
            _ => {}
        }
        while let Some(c) = self.cur.peek() {
            let next = self.cur.peek_at(1);
            let next_alnum = next.is_some_and(|n| n.is_ascii_alphanumeric());
            let take = if c.is_ascii_alphanumeric() || c == '_' || c == '@' {
                true
            } else {
                match c {
                    '.' => next_alnum,
                    '-' => next_alnum && !w.chars().all(|x| x.is_ascii_digit()),
                    ':' => next_alnum || next == Some(':'),
                    '/' => {
                        next.is_some_and(|n| n.is_ascii_digit())
                            && (w.contains('.') || w.contains(':'))
                    }
                    ',' => mode == Mode::Where && next_alnum,
                    _ => false,
                }
            };
            if !take {
                break;
            }
            w.push(c);
            self.cur.bump();
        }
        w
    }
}

const PREFIX_BP: u8 = 11;

fn binding(op: BinOp) -> (u8, u8) {
    match op {
        BinOp::Comma => (1, 2),
        BinOp::Or => (2, 3),
        BinOp::And => (3, 4),
        BinOp::Eq
        | BinOp::Ne
        | BinOp::Lt
        | BinOp::Gt
        | BinOp::Le
        | BinOp::Ge
        | BinOp::Match
        | BinOp::In => (4, 5),
        BinOp::BitOr | BinOp::BitXor => (5, 6),
        BinOp::BitAnd => (6, 7),
        BinOp::Concat => (7, 8),
        BinOp::Add | BinOp::Sub => (8, 9),
        BinOp::Mul | BinOp::Div | BinOp::Mod => (9, 10),
        BinOp::Index => (12, 13),
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;
    use crate::cli::tree::{MenuInfo, NodeKind};

    fn tree() -> Tree {
        let list = |path: &str, props: &[&str]| MenuInfo {
            path: path.to_string(),
            kind: NodeKind::List {
                ordered: path.contains("firewall"),
                can_add: true,
                can_set: true,
                can_remove: true,
            },
            settable: props.iter().map(|s| s.to_string()).collect(),
            readable: props.iter().map(|s| s.to_string()).collect(),
        };
        Tree::new([
            list(
                "ip/address",
                &["address", "comment", "disabled", "interface", "network"],
            ),
            list("ip/arp", &["address", "interface", "mac-address"]),
            list(
                "ip/firewall/filter",
                &["action", "chain", "comment", "disabled"],
            ),
            list("interface", &["comment", "disabled", "mtu", "name"]),
            list(
                "interface/ethernet",
                &["comment", "disabled", "mtu", "name"],
            ),
            list("system/script", &["name", "source"]),
            MenuInfo {
                path: "system/identity".into(),
                kind: NodeKind::Singleton { writable: true },
                settable: vec!["name".into()],
                readable: vec!["name".into()],
            },
        ])
    }

    fn p(src: &str) -> Result<Parsed, String> {
        parse(&tree(), "", src).map_err(|e| e.to_string())
    }

    fn menu_cmd(src: &str) -> MenuCmd {
        match p(src).unwrap().block.stmts.into_iter().next().unwrap() {
            Stmt::Menu(m) => m,
            other => panic!("not a menu command: {other:?}"),
        }
    }

    #[test]
    fn paths_in_every_spelling_resolve_to_one_command() {
        for src in [
            "/ip address print",
            "/ip/address/print",
            "/ip addr pr",
            "ip address print",
            "/ip/address print",
        ] {
            let m = menu_cmd(src);
            assert_eq!(
                (m.menu.as_str(), m.cmd.as_str()),
                ("ip/address", "print"),
                "{src}"
            );
        }
        let parsed = p("/ip address\n").unwrap();
        assert_eq!(parsed.menu, "ip/address");
        let parsed = parse(&tree(), "ip/address", "..").unwrap();
        assert_eq!(parsed.menu, "ip");
        let parsed = parse(&tree(), "ip/address", "/").unwrap();
        assert_eq!(parsed.menu, "");
        let parsed = parse(&tree(), "ip/firewall/filter", "../../address/print").unwrap();
        match &parsed.block.stmts[0] {
            Stmt::Menu(m) => assert_eq!(m.menu, "ip/address"),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn bad_command_names_point_at_the_word() {
        assert_eq!(
            p("/zzz qqq print").unwrap_err(),
            "bad command name zzz (line 1 column 2)"
        );
        assert_eq!(
            p("/ip bogus print").unwrap_err(),
            "bad command name bogus (line 1 column 5)"
        );
        assert_eq!(
            p("/ip address print\n/system license output").unwrap_err(),
            "bad command name license (line 2 column 9)"
        );
    }

    #[test]
    fn bad_parameter_is_deferred_and_points_after_the_name() {
        let m = menu_cmd("/ip address print bogus-attr=1");
        assert_eq!(
            m.deferred.unwrap().to_string(),
            "bad parameter bogus-attr (line 1 column 29)"
        );
        let m = menu_cmd("/ip address add no-such-arg=x");
        assert_eq!(
            m.deferred.unwrap().to_string(),
            "bad parameter no-such-arg (line 1 column 28)"
        );
    }

    #[test]
    fn unquoted_spaces_and_semicolons_fail_like_routeros() {
        assert_eq!(
            p("/ip address add address=1.2.3.4/24 comment=hello world").unwrap_err(),
            "expected end of command (line 1 column 50)"
        );
        assert_eq!(
            p("/ip address add comment=a;b").unwrap_err(),
            "bad command name b (line 1 column 27)"
        );
        assert_eq!(
            p("/ip address add comment=a}").unwrap_err(),
            "syntax error (line 1 column 26)"
        );
        assert_eq!(
            p("/ip address add comment=\"a").unwrap_err(),
            "syntax error (line 1 column 25)"
        );
        assert_eq!(
            p("/ip address add comment=a\\b").unwrap_err(),
            "syntax error (line 1 column 26)"
        );
    }

    #[test]
    fn named_flags_positional_and_abbreviations() {
        let m = menu_cmd("/interface set ether1 mtu=1460 !comment");
        assert_eq!(m.args[0].name, "numbers");
        assert_eq!(m.args[1].name, "mtu");
        assert!(m.args[2].unset);
        let m = menu_cmd("/ip address add addr=10.0.0.1/24 int=ether1");
        assert_eq!(
            m.args.iter().map(|a| a.name.as_str()).collect::<Vec<_>>(),
            ["address", "interface"]
        );
        let m =
            menu_cmd("/ip address print det without-paging where interface=ether1 && !disabled");
        assert!(m.flag("detail") && m.flag("without-paging"));
        assert!(m.filter.is_some());
        let m = menu_cmd("/system identity get name");
        assert_eq!(m.args[0].name, "value-name");
    }

    #[test]
    fn find_takes_the_rest_as_filter() {
        let m = menu_cmd("/interface find name=ether1 disabled=no");
        assert!(matches!(m.filter, Some(Expr::Binary(BinOp::And, _, _))));
        let m = menu_cmd("/interface find where name~\"eth\"");
        assert!(matches!(m.filter, Some(Expr::Binary(BinOp::Match, _, _))));
        let m = menu_cmd("/interface find");
        assert!(m.filter.is_none());
    }

    #[test]
    fn substitution_is_relative_to_the_commands_menu() {
        let m = menu_cmd("/interface set [find name=ether1] mtu=1400");
        match &m.args[0].value {
            Some(Expr::Cmd(b)) => match &b.stmts[0] {
                Stmt::Menu(inner) => assert_eq!(
                    (inner.menu.as_str(), inner.cmd.as_str()),
                    ("interface", "find")
                ),
                other => panic!("{other:?}"),
            },
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn globals_blocks_and_comments() {
        let src = "# a comment\n:local a 5; :if ($a > 3) do={ :put \"big $a\" } else={ :put small }\n{ :put [:len \"abc\"] }";
        let parsed = p(src).unwrap();
        assert_eq!(parsed.block.stmts.len(), 3);
        assert!(matches!(&parsed.block.stmts[2], Stmt::Block(_)));
        assert_eq!(
            p(":bogus").unwrap_err(),
            "bad command name bogus (line 1 column 2)"
        );
        assert_eq!(p(":put (1").unwrap_err(), "syntax error (line 1 column 8)");
        assert_eq!(p(":put 1)").unwrap_err(), "syntax error (line 1 column 7)");
        assert_eq!(p(":local x {a=1;b=\"two\"}").unwrap().block.stmts.len(), 1);
    }

    #[test]
    fn deep_nesting_is_a_syntax_error_not_a_crash() {
        let deep = format!(":put {}1{}", "(".repeat(5000), ")".repeat(5000));
        assert!(p(&deep).unwrap_err().starts_with("syntax error"));
        let deep = format!("{}:put 1{}", "{".repeat(5000), "}".repeat(5000));
        assert!(p(&deep).unwrap_err().starts_with("syntax error"));
        let ok = format!(":put {}1{}", "(".repeat(20), ")".repeat(20));
        assert!(p(&ok).is_ok());
    }

    #[test]
    fn line_joining_outside_strings() {
        let m = menu_cmd("/ip address add address=10.0.0.1/24 \\\n    interface=ether1");
        assert_eq!(m.args.len(), 2);
    }
}
