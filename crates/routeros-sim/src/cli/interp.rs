//! Running parsed scripts against a device's configuration model.
//!
//! The interpreter owns no configuration: every menu command goes through the model's
//! operations (`print`, `add`, `set`, …) on the device's [`RouterState`], the same ones the REST
//! API calls, so the console, REST and the scheduler can never disagree. It keeps only what a
//! RouterOS console session keeps: the current menu, the item numbers of the last `print` per
//! menu, local variables, and a handle on the device's global variables.
//!
//! It runs synchronously (callers put it on a blocking thread): scripts are short, and `:delay`
//! then simply sleeps for the simulated duration converted to real time.

use std::collections::{BTreeMap, HashMap};
use std::fmt;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;

use super::ast::{BinOp, Block, Expr, GlobalCmd, MenuCmd, Stmt, UnOp};
use super::error::CliError;
use super::lexer::StrPiece;
use super::parser::{self, Parsed};
use super::print::{self, Row, Style};
use super::tree::{MenuInfo, NodeKind, Tree};
use super::value::{self, Value, ip_in, parse_literal, parse_time};
use crate::model::{
    self as mspec, Effect, MenuKind, MenuSpec, PropType, Record, RosError, RosId, RouterState, Tool,
};

/// What the interpreter needs from a device: access to its configuration, and the side effects
/// of a few commands. Implemented by the fleet's device handle.
pub trait Device: Sync {
    /// Runs `f` with the configuration (read access).
    fn read<R>(&self, f: impl FnOnce(&RouterState) -> R) -> R;
    /// Runs `f` with the configuration (write access).
    fn write<R>(&self, f: impl FnOnce(&mut RouterState) -> R) -> R;
    /// `/system reboot`: the device goes down and comes back.
    fn reboot(&self);
}

/// Global variables of a device (`:global`), shared by its console sessions, scripts and
/// scheduler; they live until the device reboots, as on RouterOS.
#[derive(Default)]
pub struct Globals {
    vars: Mutex<BTreeMap<String, Value>>,
}

impl fmt::Debug for Globals {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Values may hold secrets a script computed; show only how many there are.
        let n = self.vars.lock().map(|v| v.len()).unwrap_or(0);
        f.debug_struct("Globals").field("count", &n).finish()
    }
}

impl Globals {
    /// An empty set of globals.
    pub fn new() -> Arc<Self> {
        Arc::new(Self::default())
    }

    fn get(&self, name: &str) -> Option<Value> {
        self.vars
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .get(name)
            .cloned()
    }

    fn set(&self, name: &str, v: Option<Value>) {
        let mut vars = self
            .vars
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        match v {
            Some(v) => {
                vars.insert(name.to_string(), v);
            }
            None => {
                vars.remove(name);
            }
        }
    }

    fn declare(&self, name: &str) {
        let mut vars = self
            .vars
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        vars.entry(name.to_string()).or_insert(Value::Nothing);
    }

    /// Forgets every global (the device rebooted).
    pub fn clear(&self) {
        self.vars
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .clear();
    }
}

/// Asks the console user a yes/no question (`Reboot, yes? [y/N]:`); `true` means yes.
pub type Confirm = Arc<dyn Fn(&str) -> bool + Send + Sync>;

/// A console session: who is logged in and what the console remembers between commands.
pub struct Session {
    /// The logged-in user.
    pub user: String,
    /// The policies of the user's group (`read`, `write`, `reboot`, …).
    pub policies: Vec<String>,
    /// Current menu, canonical without leading slash (`ip/address`); empty at the root.
    pub menu: String,
    /// Terminal width for `print detail` wrapping.
    pub width: usize,
    /// An interactive console (asks before rebooting).
    pub confirm: Option<Confirm>,
    /// The name `:jobname` returns (the running script or scheduler entry).
    pub job_name: String,
    /// The device's global variables.
    pub globals: Arc<Globals>,
    /// Set to stop a running script (connection closed, device going down).
    pub cancel: Arc<AtomicBool>,
    numbering: HashMap<&'static str, Vec<RosId>>,
}

impl fmt::Debug for Session {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Session")
            .field("user", &self.user)
            .field("menu", &self.menu)
            .field("width", &self.width)
            .field("interactive", &self.confirm.is_some())
            .finish_non_exhaustive()
    }
}

impl Session {
    /// A session of `user` with the given policies, at the root menu.
    pub fn new(user: impl Into<String>, policies: Vec<String>, globals: Arc<Globals>) -> Self {
        Session {
            user: user.into(),
            policies,
            menu: String::new(),
            width: 80,
            confirm: None,
            job_name: String::new(),
            globals,
            cancel: Arc::new(AtomicBool::new(false)),
            numbering: HashMap::new(),
        }
    }

    /// A session with every policy, for scripts the device runs itself (scheduler).
    pub fn system(owner: impl Into<String>, globals: Arc<Globals>) -> Self {
        let all = [
            "ftp",
            "reboot",
            "read",
            "write",
            "policy",
            "test",
            "password",
            "sniff",
            "sensitive",
            "romon",
        ];
        Session::new(owner, all.iter().map(|s| s.to_string()).collect(), globals)
    }

    /// The console prompt: `[admin@MikroTik] > ` or `[admin@MikroTik] /ip/address> `.
    pub fn prompt(&self, identity: &str) -> String {
        if self.menu.is_empty() {
            format!("[{}@{}] > ", self.user, identity)
        } else {
            format!("[{}@{}] /{}> ", self.user, identity, self.menu)
        }
    }

    fn has(&self, policy: &str) -> bool {
        self.policies.iter().any(|p| p == policy)
    }
}

/// What running a script produced.
#[derive(Debug, Clone, Default)]
pub struct ScriptOutput {
    /// Everything the script printed, lines ending in `\n`.
    pub text: String,
    /// The error that stopped it, if any (not included in `text`).
    pub error: Option<CliError>,
    /// The value of the last command.
    pub value: Value,
    /// The user asked to leave (`/quit`).
    pub quit: bool,
    /// For a run-time error of a menu command: the command (`/ip/service/set`) and the line it
    /// is on, which RouterOS adds when it reports script errors (`… (/ip/service/set; line 1)`).
    pub context: Option<(String, u32)>,
    /// A `print without-paging` ran: an interactive console shows the output without stopping
    /// at the terminal height.
    pub without_paging: bool,
}

impl ScriptOutput {
    /// The text as a console shows it: output, then the error line.
    pub fn console_text(&self) -> String {
        let mut t = self.text.clone();
        if let Some(e) = &self.error {
            t.push_str(&e.to_string());
            t.push('\n');
        }
        t
    }
}

/// The console command tree of a device with every optional package installed.
pub fn tree() -> Arc<Tree> {
    let all: Vec<&'static str> = {
        let mut v: Vec<&'static str> = mspec::menus().iter().filter_map(|m| m.package).collect();
        v.sort_unstable();
        v.dedup();
        v
    };
    tree_for(&all)
}

/// The console command tree of a device with these optional `packages` installed (sorted, as
/// [`crate::model::RouterState::packages`] gives them): menus of other packages do not exist,
/// so naming them is `bad command name`. Built once per package set.
pub fn tree_for(packages: &[&'static str]) -> Arc<Tree> {
    type Cache = Mutex<Vec<(Vec<&'static str>, Arc<Tree>)>>;
    static TREES: OnceLock<Cache> = OnceLock::new();
    let cache = TREES.get_or_init(|| Mutex::new(Vec::new()));
    let mut cache = cache
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    if let Some((_, t)) = cache.iter().find(|(p, _)| p.as_slice() == packages) {
        return t.clone();
    }
    let menus = mspec::menus()
        .iter()
        .filter(|m| m.package.is_none_or(|p| packages.contains(&p)))
        .map(|m| {
            let kind = match m.kind {
                MenuKind::Singleton => NodeKind::Singleton {
                    writable: m.can_set,
                },
                MenuKind::List | MenuKind::Ordered => NodeKind::List {
                    ordered: m.kind == MenuKind::Ordered,
                    can_add: m.can_add,
                    can_set: m.can_set,
                    can_remove: m.can_remove,
                },
            };
            MenuInfo {
                path: m.path.trim_start_matches('/').to_string(),
                kind,
                settable: m
                    .props
                    .iter()
                    .filter(|p| p.writable())
                    .map(|p| p.name.to_string())
                    .collect(),
                readable: m
                    .props
                    .iter()
                    .filter(|p| p.printable())
                    .map(|p| p.name.to_string())
                    .collect(),
            }
        });
    let tree = Arc::new(Tree::new(menus));
    cache.push((packages.to_vec(), tree.clone()));
    tree
}

/// Parses `src` in the session's current menu without running it.
pub fn parse(session: &Session, src: &str) -> Result<Parsed, CliError> {
    parser::parse(&tree(), &session.menu, src)
}

/// Runs a script: parses it whole, then executes it. The session's current menu follows bare
/// path commands (`/ip address`), as the console prompt does.
pub fn run<D: Device>(dev: &D, session: &mut Session, src: &str) -> ScriptOutput {
    let tree = tree_for(&dev.read(|s| s.packages().to_vec()));
    let parsed = match parser::parse(&tree, &session.menu, src) {
        Ok(p) => p,
        Err(e) => {
            return ScriptOutput {
                error: Some(e),
                ..ScriptOutput::default()
            };
        }
    };
    let mut it = Interp {
        dev,
        tree,
        session,
        out: String::new(),
        scopes: vec![BTreeMap::new()],
        regex: HashMap::new(),
        depth: 0,
        context: None,
        calls: 0,
        without_paging: false,
    };
    let result = it.block(&parsed.block, false);
    let out = std::mem::take(&mut it.out);
    it.session.menu = parsed.menu;
    let without_paging = it.without_paging;
    let mut output = match result {
        Ok(value) | Err(Flow::Return(value)) => ScriptOutput {
            text: out,
            value,
            ..ScriptOutput::default()
        },
        Err(Flow::Break | Flow::Continue) => ScriptOutput {
            text: out,
            ..ScriptOutput::default()
        },
        Err(Flow::Exit) => ScriptOutput {
            text: out,
            ..ScriptOutput::default()
        },
        Err(Flow::Quit) => ScriptOutput {
            text: out,
            quit: true,
            ..ScriptOutput::default()
        },
        Err(Flow::Error(e)) => ScriptOutput {
            text: out,
            error: Some(e),
            context: it.context.take(),
            ..ScriptOutput::default()
        },
    };
    output.without_paging = without_paging;
    output
}

/// Non-local control flow while running.
enum Flow {
    Error(CliError),
    Return(Value),
    Break,
    Continue,
    Exit,
    Quit,
}

impl From<CliError> for Flow {
    fn from(e: CliError) -> Self {
        Flow::Error(e)
    }
}

impl From<RosError> for Flow {
    fn from(e: RosError) -> Self {
        Flow::Error(CliError::runtime(e.detail()))
    }
}

type Res<T> = Result<T, Flow>;

fn rt(msg: impl Into<String>) -> Flow {
    Flow::Error(CliError::runtime(msg))
}

/// What a `where` expression is evaluated against.
#[derive(Clone, Copy)]
struct ItemCtx<'r> {
    menu: &'static MenuSpec,
    record: &'r Record,
}

struct Interp<'d, 's, D: Device> {
    dev: &'d D,
    /// The device's command tree (its optional packages decide which menus exist).
    tree: Arc<Tree>,
    session: &'s mut Session,
    out: String,
    scopes: Vec<BTreeMap<String, Value>>,
    regex: HashMap<String, Option<regex_lite::Regex>>,
    /// Nesting of `[ … ]`: a top-level `print as-value` shows its value, a nested one returns it.
    depth: usize,
    /// Where the first run-time error happened (see [`ScriptOutput::context`]).
    context: Option<(String, u32)>,
    /// Nesting of function calls and script runs (bounded: a script may recurse).
    calls: usize,
    /// A `print without-paging` ran (see [`ScriptOutput::without_paging`]).
    without_paging: bool,
}

/// Deepest nesting of function calls and script runs.
const MAX_CALLS: usize = 64;

/// Largest real sleep slice while `:delay` waits, so cancellation is noticed.
const DELAY_SLICE: Duration = Duration::from_millis(50);

/// Ids handed out by `:execute` (RouterOS answers with a job id).
static JOB_IDS: AtomicU64 = AtomicU64::new(1);

/// A fresh background job id (`:execute`, `/rest/execute`).
pub fn next_job_id() -> u64 {
    JOB_IDS.fetch_add(1, Ordering::Relaxed) + 0x10
}

fn spec_of(menu: &str) -> Res<&'static MenuSpec> {
    mspec::menu(&format!("/{menu}")).ok_or_else(|| rt("no such command prefix"))
}

/// A property value (REST spelling) as a typed script value, as `print as-value` and `get` return it.
pub fn typed(spec: &MenuSpec, name: &str, raw: &str) -> Value {
    if name == ".id" {
        return RosId::parse(raw).map_or_else(
            || Value::Str(raw.to_string()),
            |id| Value::Id(u64::from(id.get())),
        );
    }
    let Some(p) = spec.prop(name) else {
        return Value::Str(raw.to_string());
    };
    let parsed = match &p.ty {
        PropType::Bool => match raw {
            "true" | "yes" => Some(Value::Bool(true)),
            "false" | "no" => Some(Value::Bool(false)),
            _ => None,
        },
        PropType::Int { .. } | PropType::IntOr { .. } => value::parse_num(raw).map(Value::Num),
        PropType::Duration | PropType::DurationOr(_) => parse_time(raw).map(Value::Time),
        PropType::Ipv4 | PropType::Ipv4Prefix | PropType::Ipv4Network => match parse_literal(raw) {
            Some(v @ (Value::Ip(_) | Value::IpPrefix(..))) => Some(v),
            _ => None,
        },
        // An interface address keeps its host bits (`fe80::1/64`), unlike a prefix literal.
        PropType::Ipv6Prefix => match raw.split_once('/') {
            Some((addr, len)) => match (addr.parse::<std::net::Ipv6Addr>(), len.parse::<u8>()) {
                (Ok(a), Ok(l)) if l <= 128 => Some(Value::Ip6Prefix(a, l)),
                _ => None,
            },
            None => raw.parse().ok().map(Value::Ip6),
        },
        _ => None,
    };
    parsed.unwrap_or_else(|| Value::Str(raw.to_string()))
}

/// A record as the keyed array `print as-value` returns (keys sorted, `.id` first).
pub fn record_value(spec: &MenuSpec, rec: &Record) -> Value {
    let mut items = Vec::new();
    if let Some(id) = rec.id {
        Value::array_set(&mut items, ".id".into(), Value::Id(u64::from(id.get())));
    }
    for (k, v) in &rec.props {
        Value::array_set(&mut items, (*k).to_string(), typed(spec, k, v));
    }
    Value::Array(items)
}

impl<'d, 's, D: Device> Interp<'d, 's, D> {
    fn check_cancel(&self) -> Res<()> {
        if self.session.cancel.load(Ordering::Relaxed) {
            Err(Flow::Exit)
        } else {
            Ok(())
        }
    }

    fn block(&mut self, b: &Block, new_scope: bool) -> Res<Value> {
        if new_scope {
            self.scopes.push(BTreeMap::new());
        }
        let mut last = Value::Nil;
        let mut result = Ok(());
        for s in &b.stmts {
            if let Err(e) = self.check_cancel() {
                result = Err(e);
                break;
            }
            match self.stmt(s) {
                Ok(v) => last = v,
                Err(e) => {
                    result = Err(e);
                    break;
                }
            }
        }
        if new_scope {
            self.scopes.pop();
        }
        result.map(|()| last)
    }

    fn stmt(&mut self, s: &Stmt) -> Res<Value> {
        match s {
            Stmt::Nav { .. } => Ok(Value::Nil),
            Stmt::Block(b) => self.block(b, true),
            Stmt::Expr(e) => self.eval(e, None),
            Stmt::Menu(m) => {
                let v = match self.menu_cmd(m) {
                    Ok(v) => v,
                    Err(Flow::Error(e)) => {
                        if self.context.is_none() && matches!(e, CliError::Runtime(_)) {
                            let path = if m.menu.is_empty() {
                                format!("/{}", m.cmd)
                            } else {
                                format!("/{}/{}", m.menu, m.cmd)
                            };
                            self.context = Some((path, m.pos.line));
                        }
                        return Err(Flow::Error(e));
                    }
                    Err(other) => return Err(other),
                };
                if self.depth == 0 && m.cmd == "print" && m.flag("as-value") {
                    self.out.push_str(&v.to_string());
                    self.out.push('\n');
                }
                Ok(v)
            }
            Stmt::Global(g) => self.global(g),
            Stmt::Call { var, args, .. } => {
                let f = self.lookup(var);
                self.call(&f, args)
            }
        }
    }

    // ---- variables ----

    fn lookup(&self, name: &str) -> Value {
        for scope in self.scopes.iter().rev() {
            if let Some(v) = scope.get(name) {
                return v.clone();
            }
        }
        self.session.globals.get(name).unwrap_or(Value::Nothing)
    }

    fn assign(&mut self, name: &str, v: Option<Value>) {
        for scope in self.scopes.iter_mut().rev() {
            if let Some(slot) = scope.get_mut(name) {
                match v {
                    Some(v) => *slot = v,
                    None => {
                        scope.remove(name);
                    }
                }
                return;
            }
        }
        self.session.globals.set(name, v);
    }

    fn declare_local(&mut self, name: &str, v: Value) {
        if let Some(scope) = self.scopes.last_mut() {
            scope.insert(name.to_string(), v);
        }
    }

    // ---- expressions ----

    fn eval(&mut self, e: &Expr, item: Option<ItemCtx<'_>>) -> Res<Value> {
        match e {
            Expr::Word(w, _) => {
                if let Some(ctx) = item {
                    if w == ".id" {
                        return Ok(ctx
                            .record
                            .id
                            .map_or(Value::Nothing, |id| Value::Id(u64::from(id.get()))));
                    }
                    if ctx.menu.prop(w).is_some_and(|p| p.printable()) {
                        return Ok(ctx
                            .record
                            .get(w)
                            .map_or(Value::Nothing, |v| typed(ctx.menu, w, &v)));
                    }
                }
                Ok(parse_literal(w).unwrap_or_else(|| Value::Str(w.clone())))
            }
            Expr::Str(pieces) => {
                let mut s = String::new();
                for p in pieces {
                    match p {
                        StrPiece::Text(t) => s.push_str(t),
                        StrPiece::Var(v) => s.push_str(&self.var_value(v, item).to_string()),
                        StrPiece::Expr(e) => s.push_str(&self.eval(e, item)?.to_string()),
                    }
                }
                Ok(Value::Str(s))
            }
            Expr::Var(name, _) => Ok(self.var_value(name, item)),
            Expr::Cmd(b) => {
                let saved = std::mem::take(&mut self.out);
                self.depth += 1;
                let r = self.block(b, true);
                self.depth -= 1;
                let printed = std::mem::replace(&mut self.out, saved);
                self.out.push_str(&printed);
                r
            }
            Expr::Unary(op, inner) => {
                let v = self.eval(inner, item)?;
                Ok(match op {
                    UnOp::Not => Value::Bool(!v.truthy()),
                    UnOp::Neg => match v {
                        Value::Num(n) => Value::Num(-n),
                        Value::Time(t) => Value::Time(-t),
                        other => other.as_num().map_or(Value::Nothing, |n| Value::Num(-n)),
                    },
                    UnOp::Inv => match v {
                        Value::Ip(a) => Value::Ip(std::net::Ipv4Addr::from(!u32::from(a))),
                        Value::Num(n) => Value::Num(!n),
                        _ => Value::Nothing,
                    },
                })
            }
            Expr::Binary(op, l, r) => self.binary(*op, l, r, item),
            Expr::Array(items) => {
                let mut out = Vec::new();
                for (k, e) in items {
                    let v = self.eval(e, item)?;
                    match k {
                        Some(k) => Value::array_set(&mut out, k.clone(), v),
                        None => out.push((None, v)),
                    }
                }
                Ok(Value::Array(out))
            }
            Expr::Code(b, src) => Ok(Value::Code(b.clone(), src.clone())),
            Expr::Concat(parts) => {
                let mut s = String::new();
                for p in parts {
                    s.push_str(&self.eval_arg_text(p, item)?);
                }
                Ok(Value::Str(s))
            }
        }
    }

    fn var_value(&self, name: &str, item: Option<ItemCtx<'_>>) -> Value {
        if let Some(ctx) = item
            && ctx.menu.prop(name).is_some_and(|p| p.printable())
        {
            return ctx
                .record
                .get(name)
                .map_or(Value::Nothing, |v| typed(ctx.menu, name, &v));
        }
        self.lookup(name)
    }

    fn binary(&mut self, op: BinOp, l: &Expr, r: &Expr, item: Option<ItemCtx<'_>>) -> Res<Value> {
        // Short-circuit logic first.
        match op {
            BinOp::And => {
                let a = self.eval(l, item)?;
                if !a.truthy() {
                    return Ok(Value::Bool(false));
                }
                return Ok(Value::Bool(self.eval(r, item)?.truthy()));
            }
            BinOp::Or => {
                let a = self.eval(l, item)?;
                if a.truthy() {
                    return Ok(Value::Bool(true));
                }
                return Ok(Value::Bool(self.eval(r, item)?.truthy()));
            }
            _ => {}
        }
        let a = self.eval(l, item)?;
        let b = self.eval(r, item)?;
        use std::cmp::Ordering as O;
        Ok(match op {
            BinOp::Eq => Value::Bool(a.loose_eq(&b)),
            BinOp::Ne => Value::Bool(!a.loose_eq(&b)),
            BinOp::Lt => Value::Bool(a.compare(&b) == O::Less),
            BinOp::Gt => Value::Bool(a.compare(&b) == O::Greater),
            BinOp::Le => Value::Bool(a.compare(&b) != O::Greater),
            BinOp::Ge => Value::Bool(a.compare(&b) != O::Less),
            BinOp::Match => {
                let pattern = b.to_string();
                let re = self
                    .regex
                    .entry(pattern.clone())
                    .or_insert_with(|| regex_lite::Regex::new(&pattern).ok());
                Value::Bool(re.as_ref().is_some_and(|re| re.is_match(&a.to_string())))
            }
            BinOp::In => Value::Bool(ip_in(&a, &b)),
            BinOp::Comma => {
                let mut items = a.elements();
                items.extend(b.elements());
                Value::Array(items)
            }
            BinOp::Concat => match (&a, &b) {
                (Value::Array(items), other) if !matches!(other, Value::Array(_)) => Value::Array(
                    items
                        .iter()
                        .map(|(k, v)| (k.clone(), Value::Str(format!("{v}{other}"))))
                        .collect(),
                ),
                (other, Value::Array(items)) if !matches!(other, Value::Array(_)) => Value::Array(
                    items
                        .iter()
                        .map(|(k, v)| (k.clone(), Value::Str(format!("{other}{v}"))))
                        .collect(),
                ),
                _ => Value::Str(format!("{a}{b}")),
            },
            BinOp::Add | BinOp::Sub | BinOp::Mul | BinOp::Div | BinOp::Mod => arith(op, &a, &b),
            BinOp::BitAnd | BinOp::BitOr | BinOp::BitXor => bitwise(op, &a, &b),
            BinOp::Index => match a {
                Value::Array(items) => {
                    let key = b.to_string();
                    let by_key = items
                        .iter()
                        .find(|(k, _)| k.as_deref() == Some(key.as_str()))
                        .map(|(_, v)| v.clone());
                    match (by_key, b.as_num()) {
                        (Some(v), _) => v,
                        (None, Some(i)) => usize::try_from(i)
                            .ok()
                            .and_then(|i| items.get(i))
                            .map_or(Value::Nothing, |(_, v)| v.clone()),
                        (None, None) => Value::Nothing,
                    }
                }
                _ => Value::Nothing,
            },
            BinOp::And | BinOp::Or => Value::Nothing,
        })
    }

    /// The text of an argument value as passed to a configuration command: unquoted words as
    /// typed, strings unescaped, variables and substitutions in their argument spelling.
    fn eval_arg_text(&mut self, e: &Expr, item: Option<ItemCtx<'_>>) -> Res<String> {
        Ok(match e {
            Expr::Word(w, _) => w.clone(),
            Expr::Concat(parts) => {
                let mut s = String::new();
                for p in parts {
                    s.push_str(&self.eval_arg_text(p, item)?);
                }
                s
            }
            other => self.eval(other, item)?.to_arg_string(),
        })
    }

    // ---- function calls ----

    fn call(&mut self, f: &Value, args: &[super::ast::GArg]) -> Res<Value> {
        let Value::Code(body, _) = f else {
            return Err(rt("syntax error (value is not a function)"));
        };
        let mut scope = BTreeMap::new();
        let mut n = 0;
        for a in args {
            let v = self.eval(&a.value, None)?;
            match &a.name {
                Some(name) => {
                    scope.insert(name.clone(), v);
                }
                None => {
                    n += 1;
                    scope.insert(n.to_string(), v);
                }
            }
        }
        self.run_code(body, scope)
    }

    fn run_code(&mut self, body: &Block, scope: BTreeMap<String, Value>) -> Res<Value> {
        if self.calls >= MAX_CALLS {
            return Err(rt("failure: too many nested calls"));
        }
        self.calls += 1;
        let saved = std::mem::replace(&mut self.scopes, vec![scope]);
        let r = self.block(body, false);
        self.scopes = saved;
        self.calls -= 1;
        match r {
            Err(Flow::Return(v)) => Ok(v),
            other => other,
        }
    }

    fn run_code_value(&mut self, code: &Value) -> Res<Value> {
        match code {
            Value::Code(b, _) => {
                let b = b.clone();
                self.block(&b, true)
            }
            Value::Nothing | Value::Nil => Ok(Value::Nil),
            other => {
                let src = other.to_string();
                self.run_source(&src)
            }
        }
    }

    /// Parses and runs source text (a stored script, `:execute`) at the root menu.
    fn run_source(&mut self, src: &str) -> Res<Value> {
        let parsed = parser::parse(&self.tree, "", src)?;
        self.run_code(&parsed.block, BTreeMap::new())
    }

    // ---- global commands ----

    fn positional(&mut self, g: &GlobalCmd, idx: usize) -> Res<Option<Value>> {
        match g.positional().nth(idx) {
            Some(e) => {
                let e = e.clone();
                Ok(Some(self.eval(&e, None)?))
            }
            None => Ok(None),
        }
    }

    fn named(&mut self, g: &GlobalCmd, name: &str) -> Res<Option<Value>> {
        match g.named(name) {
            Some(e) => {
                let e = e.clone();
                Ok(Some(self.eval(&e, None)?))
            }
            None => Ok(None),
        }
    }

    /// A positional argument or its named equivalent (`:put message=…`).
    fn arg(&mut self, g: &GlobalCmd, idx: usize, name: &str) -> Res<Option<Value>> {
        match self.named(g, name)? {
            Some(v) => Ok(Some(v)),
            None => self.positional(g, idx),
        }
    }

    fn name_arg(&self, g: &GlobalCmd, idx: usize) -> Res<String> {
        match g.positional().nth(idx) {
            Some(Expr::Word(w, _)) => Ok(w.clone()),
            Some(Expr::Str(pieces)) => Ok(pieces
                .iter()
                .map(|p| match p {
                    StrPiece::Text(t) => t.clone(),
                    _ => String::new(),
                })
                .collect()),
            _ => Err(CliError::ExpectedInputValue(g.pos).into()),
        }
    }

    fn global(&mut self, g: &GlobalCmd) -> Res<Value> {
        match g.name.as_str() {
            "put" => {
                let v = self.arg(g, 0, "message")?.unwrap_or(Value::Nothing);
                self.out.push_str(&v.to_string());
                self.out.push('\n');
                Ok(Value::Nil)
            }
            "local" | "global" => {
                let name = self.name_arg(g, 0)?;
                // `:global f do={…}` defines a function.
                let v = match self.named(g, "do")? {
                    Some(code) => Some(code),
                    None => self.arg(g, 1, "value")?,
                };
                if g.name == "local" {
                    self.declare_local(&name, v.unwrap_or(Value::Nothing));
                } else {
                    match v {
                        Some(v) => self.session.globals.set(&name, Some(v)),
                        None => self.session.globals.declare(&name),
                    }
                }
                Ok(Value::Nil)
            }
            "set" => {
                let name = self.name_arg(g, 0)?;
                let v = self.arg(g, 1, "value")?;
                self.assign(&name, v);
                Ok(Value::Nil)
            }
            "if" => {
                let cond = self.arg(g, 0, "condition")?.unwrap_or(Value::Nothing);
                let branch = if cond.truthy() {
                    self.named(g, "do")?
                } else {
                    self.named(g, "else")?
                };
                match branch {
                    Some(code) => self.run_code_value(&code),
                    None => Ok(Value::Nil),
                }
            }
            "do" => {
                let body = self.arg(g, 0, "command")?.unwrap_or(Value::Nothing);
                if let Some(handler) = g.named("on-error").cloned() {
                    return match self.run_code_value(&body) {
                        Err(Flow::Error(_)) => {
                            let h = self.eval(&handler, None)?;
                            self.run_code_value(&h)
                        }
                        other => other,
                    };
                }
                if let Some(cond) = g.named("while").cloned() {
                    for _ in 0..MAX_LOOP {
                        match self.run_code_value(&body) {
                            Err(Flow::Break) => break,
                            Err(Flow::Continue) | Ok(_) => {}
                            Err(e) => return Err(e),
                        }
                        if !self.eval(&cond, None)?.truthy() {
                            break;
                        }
                    }
                    return Ok(Value::Nil);
                }
                self.run_code_value(&body)
            }
            "while" => {
                let cond = g
                    .positional()
                    .next()
                    .cloned()
                    .ok_or(Flow::Error(CliError::ExpectedInputValue(g.pos)))?;
                let body = self.named(g, "do")?.unwrap_or(Value::Nothing);
                for _ in 0..MAX_LOOP {
                    if !self.eval(&cond, None)?.truthy() {
                        break;
                    }
                    match self.run_code_value(&body) {
                        Err(Flow::Break) => break,
                        Err(Flow::Continue) | Ok(_) => {}
                        Err(e) => return Err(e),
                    }
                }
                Ok(Value::Nil)
            }
            "for" => {
                let var = self.name_arg(g, 0)?;
                let from = self.named(g, "from")?.and_then(|v| v.as_num()).unwrap_or(0);
                let to = self.named(g, "to")?.and_then(|v| v.as_num()).unwrap_or(0);
                let step = self
                    .named(g, "step")?
                    .and_then(|v| v.as_num())
                    .unwrap_or(if to >= from { 1 } else { -1 });
                let body = self.named(g, "do")?.unwrap_or(Value::Nothing);
                if step == 0 {
                    return Err(rt("invalid value for argument step"));
                }
                let mut i = from;
                let mut count = 0;
                while (step > 0 && i <= to) || (step < 0 && i >= to) {
                    count += 1;
                    if count > MAX_LOOP {
                        break;
                    }
                    self.scopes
                        .push(BTreeMap::from([(var.clone(), Value::Num(i))]));
                    let r = self.run_code_value(&body);
                    self.scopes.pop();
                    match r {
                        Err(Flow::Break) => break,
                        Err(Flow::Continue) | Ok(_) => {}
                        Err(e) => return Err(e),
                    }
                    i += step;
                }
                Ok(Value::Nil)
            }
            "foreach" => {
                let vars = self.name_arg(g, 0)?;
                let (kvar, vvar) = match vars.split_once(',') {
                    Some((k, v)) => (Some(k.to_string()), v.to_string()),
                    None => (None, vars.clone()),
                };
                let list = self.named(g, "in")?.unwrap_or(Value::Nothing);
                let body = self.named(g, "do")?.unwrap_or(Value::Nothing);
                for (idx, (k, v)) in list.elements().into_iter().enumerate() {
                    let mut scope = BTreeMap::new();
                    scope.insert(vvar.clone(), v);
                    if let Some(kv) = &kvar {
                        scope.insert(kv.clone(), k.map_or(Value::Num(idx as i64), Value::Str));
                    }
                    self.scopes.push(scope);
                    let r = self.run_code_value(&body);
                    self.scopes.pop();
                    match r {
                        Err(Flow::Break) => break,
                        Err(Flow::Continue) | Ok(_) => {}
                        Err(e) => return Err(e),
                    }
                }
                Ok(Value::Nil)
            }
            "onerror" => {
                let var = self.name_arg(g, 0)?;
                let body = self.named(g, "in")?.unwrap_or(Value::Nothing);
                match self.run_code_value(&body) {
                    Err(Flow::Error(e)) => {
                        let handler = self.named(g, "do")?.unwrap_or(Value::Nothing);
                        self.scopes
                            .push(BTreeMap::from([(var, Value::Str(e.to_string()))]));
                        let r = self.run_code_value(&handler);
                        self.scopes.pop();
                        r.map(|_| Value::Bool(true))
                    }
                    Err(other) => Err(other),
                    Ok(_) => Ok(Value::Bool(false)),
                }
            }
            "delay" => {
                let d = self
                    .arg(g, 0, "delay-time")?
                    .unwrap_or(Value::Time(1_000_000_000));
                let ns = match d {
                    Value::Time(t) => t,
                    Value::Num(n) => n.saturating_mul(1_000_000_000),
                    other => parse_time(&other.to_string()).unwrap_or(0),
                };
                self.delay(Duration::from_nanos(u64::try_from(ns).unwrap_or(0)))?;
                Ok(Value::Nil)
            }
            "log" => {
                let topic = match g.positional().next() {
                    Some(Expr::Word(w, _))
                        if g.named("message").is_some() || g.positional().count() > 1 =>
                    {
                        w.clone()
                    }
                    _ => "info".to_string(),
                };
                let msg = match self.named(g, "message")? {
                    Some(m) => m,
                    None => self.positional(g, 1)?.unwrap_or(Value::Nothing),
                };
                if !matches!(topic.as_str(), "debug" | "error" | "info" | "warning") {
                    return Err(rt(format!("bad command name {topic}")));
                }
                let msg = msg.to_string();
                self.dev.write(|s| s.log(&format!("script,{topic}"), &msg));
                Ok(Value::Nil)
            }
            "error" => {
                let msg = self.arg(g, 0, "message")?.unwrap_or(Value::Nothing);
                Err(Flow::Error(CliError::Raised(msg.to_string())))
            }
            "return" => {
                let v = self.arg(g, 0, "value")?.unwrap_or(Value::Nothing);
                Err(Flow::Return(v))
            }
            "break" => Err(Flow::Break),
            "continue" => Err(Flow::Continue),
            "exit" => Err(Flow::Exit),
            "nothing" => Ok(Value::Nothing),
            "beep" => Ok(Value::Nil),
            "jobname" => Ok(Value::Str(self.session.job_name.clone())),
            "typeof" => Ok(Value::Str(
                self.arg(g, 0, "value")?
                    .unwrap_or(Value::Nothing)
                    .type_name()
                    .into(),
            )),
            "len" => Ok(Value::Num(
                match self.arg(g, 0, "value")?.unwrap_or(Value::Nothing) {
                    Value::Array(items) => items.len() as i64,
                    Value::Nothing | Value::Nil => 0,
                    other => other.to_string().chars().count() as i64,
                },
            )),
            "pick" => {
                let v = self.positional(g, 0)?.unwrap_or(Value::Nothing);
                let start = self
                    .positional(g, 1)?
                    .and_then(|v| v.as_num())
                    .unwrap_or(0)
                    .max(0) as usize;
                let end = self
                    .positional(g, 2)?
                    .and_then(|v| v.as_num())
                    .map(|e| e.max(0) as usize);
                Ok(match v {
                    Value::Array(items) => match end {
                        None => items.get(start).map_or(Value::Nothing, |(_, v)| v.clone()),
                        Some(e) => Value::Array(
                            items
                                .into_iter()
                                .skip(start)
                                .take(e.saturating_sub(start))
                                .collect(),
                        ),
                    },
                    other => {
                        let chars: Vec<char> = other.to_string().chars().collect();
                        let e = end.unwrap_or(start + 1).min(chars.len());
                        if start >= e {
                            Value::Str(String::new())
                        } else {
                            Value::Str(chars[start..e].iter().collect())
                        }
                    }
                })
            }
            "find" => {
                let hay = self.positional(g, 0)?.unwrap_or(Value::Nothing);
                let needle = self.positional(g, 1)?.unwrap_or(Value::Nothing);
                let from = self
                    .positional(g, 2)?
                    .and_then(|v| v.as_num())
                    .unwrap_or(-1);
                let start = usize::try_from(from + 1).unwrap_or(0);
                Ok(match hay {
                    Value::Array(items) => items
                        .iter()
                        .enumerate()
                        .skip(start)
                        .find(|(_, (_, v))| v.loose_eq(&needle))
                        .map_or(Value::Nothing, |(i, _)| Value::Num(i as i64)),
                    other => {
                        let chars: Vec<char> = other.to_string().chars().collect();
                        let n: Vec<char> = needle.to_string().chars().collect();
                        (start..chars.len())
                            .find(|&i| chars[i..].starts_with(&n))
                            .map_or(Value::Nothing, |i| Value::Num(i as i64))
                    }
                })
            }
            "tostr" => Ok(Value::Str(
                self.arg(g, 0, "value")?
                    .unwrap_or(Value::Nothing)
                    .to_string(),
            )),
            "tonum" => Ok(self
                .arg(g, 0, "value")?
                .and_then(|v| v.as_num())
                .map_or(Value::Nothing, Value::Num)),
            "tobool" => Ok(match self.arg(g, 0, "value")?.unwrap_or(Value::Nothing) {
                Value::Bool(b) => Value::Bool(b),
                Value::Num(n) => Value::Bool(n != 0),
                Value::Str(s) => match s.as_str() {
                    "true" | "yes" => Value::Bool(true),
                    "false" | "no" => Value::Bool(false),
                    _ => Value::Nothing,
                },
                _ => Value::Nothing,
            }),
            "toid" | "toip" | "toip6" | "totime" => {
                let v = self.arg(g, 0, "value")?.unwrap_or(Value::Nothing);
                let lit = parse_literal(&v.to_string());
                Ok(match (g.name.as_str(), lit) {
                    ("toid", Some(v @ Value::Id(_))) => v,
                    ("toip", Some(v @ Value::Ip(_))) => v,
                    ("toip6", Some(v @ Value::Ip6(_))) => v,
                    ("totime", Some(v @ Value::Time(_))) => v,
                    ("totime", Some(Value::Num(n))) => Value::Time(n.saturating_mul(1_000_000_000)),
                    _ => Value::Nothing,
                })
            }
            "toarray" => Ok(match self.arg(g, 0, "value")?.unwrap_or(Value::Nothing) {
                v @ Value::Array(_) => v,
                Value::Nothing | Value::Nil => Value::Array(Vec::new()),
                Value::Str(s) if s.is_empty() => Value::Array(Vec::new()),
                Value::Str(s) => Value::list(
                    s.split(',')
                        .map(|p| parse_literal(p).unwrap_or_else(|| Value::Str(p.to_string()))),
                ),
                other => Value::list([other]),
            }),
            "range" => {
                let from = self.positional(g, 0)?.and_then(|v| v.as_num()).unwrap_or(0);
                let to = self
                    .positional(g, 1)?
                    .and_then(|v| v.as_num())
                    .unwrap_or(from);
                let n = (to - from).clamp(0, MAX_LOOP as i64);
                Ok(Value::list((0..=n).map(|i| Value::Num(from + i))))
            }
            "serialize" => {
                let v = self.arg(g, 0, "value")?.unwrap_or(Value::Nothing);
                let to = self
                    .named(g, "to")?
                    .map(|v| v.to_string())
                    .unwrap_or_default();
                let options = self
                    .named(g, "options")?
                    .map(|v| v.to_string())
                    .unwrap_or_default();
                match to.as_str() {
                    "json" => {
                        let json = to_json(&v);
                        let text = if options.split(',').any(|o| o == "json.pretty") {
                            serde_json::to_string_pretty(&json).unwrap_or_default()
                        } else {
                            json.to_string()
                        };
                        Ok(Value::Str(text))
                    }
                    _ => Err(rt("invalid value for argument to")),
                }
            }
            "deserialize" => {
                let v = self.arg(g, 0, "value")?.unwrap_or(Value::Nothing);
                let from = self
                    .named(g, "from")?
                    .map(|v| v.to_string())
                    .unwrap_or_default();
                if from != "json" {
                    return Err(rt("invalid value for argument from"));
                }
                let json: serde_json::Value = serde_json::from_str(&v.to_string())
                    .map_err(|_| rt("failure: invalid json"))?;
                Ok(from_json(&json))
            }
            "parse" => {
                let src = self
                    .arg(g, 0, "value")?
                    .unwrap_or(Value::Nothing)
                    .to_string();
                let parsed = parser::parse(&self.tree, "", &src)?;
                Ok(Value::Code(Arc::new(parsed.block), Arc::from(src.as_str())))
            }
            "execute" => {
                let code = self.arg(g, 0, "script")?.unwrap_or(Value::Nothing);
                let as_string = g.args.iter().any(|a| {
                    matches!(&a.value, Expr::Word(w, _) if w == "as-string")
                        || a.name.as_deref() == Some("as-string")
                });
                let saved = std::mem::take(&mut self.out);
                let r = self.run_code_value(&code);
                let printed = std::mem::replace(&mut self.out, saved);
                match r {
                    Ok(_) | Err(Flow::Return(_) | Flow::Exit | Flow::Break | Flow::Continue) => {}
                    Err(Flow::Error(e)) if as_string => return Err(Flow::Error(e)),
                    Err(Flow::Error(_)) => {}
                    Err(Flow::Quit) => {}
                }
                if as_string {
                    Ok(Value::Str(printed))
                } else {
                    self.out.push_str(&printed);
                    Ok(Value::Id(next_job_id()))
                }
            }
            "time" => {
                let code = self.arg(g, 0, "command")?.unwrap_or(Value::Nothing);
                let started = self.dev.read(|s| s.clock().now());
                self.run_code_value(&code)?;
                let ended = self.dev.read(|s| s.clock().now());
                let ns = (ended - started).num_nanoseconds().unwrap_or(0);
                Ok(Value::Time(ns))
            }
            "timestamp" => {
                let now = self.dev.read(|s| s.clock().now());
                Ok(Value::Time(now.timestamp_nanos_opt().unwrap_or(0)))
            }
            "environment" => {
                let vars = self
                    .session
                    .globals
                    .vars
                    .lock()
                    .unwrap_or_else(std::sync::PoisonError::into_inner)
                    .clone();
                for (k, v) in vars {
                    self.out.push_str(&format!("{k}={v}\n"));
                }
                Ok(Value::Nil)
            }
            "rndnum" => {
                let from = self.named(g, "from")?.and_then(|v| v.as_num()).unwrap_or(0);
                let to = self
                    .named(g, "to")?
                    .and_then(|v| v.as_num())
                    .unwrap_or(from);
                let span = (to - from).max(0) as u64 + 1;
                let x = JOB_IDS
                    .fetch_add(7919, Ordering::Relaxed)
                    .wrapping_mul(0x9E37_79B9_7F4A_7C15)
                    % span;
                Ok(Value::Num(from + x as i64))
            }
            "rndstr" => {
                let len = self
                    .named(g, "length")?
                    .and_then(|v| v.as_num())
                    .unwrap_or(16)
                    .clamp(0, 4096) as usize;
                let alphabet: Vec<char> = self
                    .named(g, "from")?
                    .map(|v| v.to_string())
                    .unwrap_or_else(|| {
                        "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789".into()
                    })
                    .chars()
                    .collect();
                if alphabet.is_empty() {
                    return Ok(Value::Str(String::new()));
                }
                let mut seed = JOB_IDS.fetch_add(104_729, Ordering::Relaxed);
                let s: String = (0..len)
                    .map(|_| {
                        seed = seed
                            .wrapping_mul(6_364_136_223_846_793_005)
                            .wrapping_add(1_442_695_040_888_963_407);
                        alphabet[(seed >> 33) as usize % alphabet.len()]
                    })
                    .collect();
                Ok(Value::Str(s))
            }
            "resolve" => Err(rt("failure: dns server failure")),
            other => Err(rt(format!("bad command name {other}"))),
        }
    }

    fn delay(&mut self, sim: Duration) -> Res<()> {
        let real = self.dev.read(|s| s.clock().to_real(sim));
        let deadline = std::time::Instant::now() + real;
        loop {
            self.check_cancel()?;
            let now = std::time::Instant::now();
            if now >= deadline {
                return Ok(());
            }
            std::thread::sleep((deadline - now).min(DELAY_SLICE));
        }
    }

    // ---- menu commands ----

    fn need(&self, policy: &str) -> Res<()> {
        if self.session.has(policy) {
            Ok(())
        } else {
            Err(RosError::NotEnoughPermissions.into())
        }
    }

    fn menu_cmd(&mut self, m: &MenuCmd) -> Res<Value> {
        if let Some(e) = &m.deferred {
            return Err(e.clone().into());
        }
        match (m.menu.as_str(), m.cmd.as_str()) {
            ("", "quit") => return Err(Flow::Quit),
            ("system", "reboot") => return self.cmd_reboot(),
            ("system", "shutdown") => {
                return Err(rt("failure: shutdown is not available on this device"));
            }
            (_, "export") => return self.cmd_export(m),
            ("", "ping") => return self.cmd_tool(Tool::Ping, m),
            ("tool", "traceroute") => return self.cmd_tool(Tool::Traceroute, m),
            ("interface", "monitor-traffic") => return self.cmd_tool(Tool::MonitorTraffic, m),
            ("system/script", "run") => return self.cmd_script_run(m),
            ("system/backup", "save") => return self.cmd_backup_save(m),
            _ => {}
        }
        let spec = spec_of(&m.menu)?;
        match m.cmd.as_str() {
            "print" => self.cmd_print(spec, m),
            "find" => self.cmd_find(spec, m),
            "get" => self.cmd_get(spec, m),
            "add" => self.cmd_add(spec, m),
            "set" => self.cmd_set(spec, m),
            "unset" => self.cmd_unset(spec, m),
            "make-static" => {
                self.need("write")?;
                let ids = self.numbers(spec, m)?;
                self.dev.write(|s| s.make_static(spec, &ids))?;
                Ok(Value::Nil)
            }
            "comment" => {
                self.need("write")?;
                let ids = self.numbers(spec, m)?;
                let comment = self.arg_text(m, "comment")?.unwrap_or_default();
                self.dev.write(|s| -> Result<(), RosError> {
                    for id in &ids {
                        s.set(spec, Some(*id), &[("comment", comment.as_str())])?;
                    }
                    Ok(())
                })?;
                Ok(Value::Nil)
            }
            "remove" => {
                self.need("write")?;
                let ids = self.numbers(spec, m)?;
                self.dev.write(|s| s.remove(spec, &ids))?;
                Ok(Value::Nil)
            }
            "enable" | "disable" => {
                self.need("write")?;
                let ids = self.numbers(spec, m)?;
                let enable = m.cmd == "enable";
                self.dev.write(|s| {
                    if enable {
                        s.enable(spec, &ids)
                    } else {
                        s.disable(spec, &ids)
                    }
                })?;
                Ok(Value::Nil)
            }
            "move" => {
                self.need("write")?;
                let ids = self.numbers(spec, m)?;
                let dest = match self.arg_text(m, "destination")? {
                    Some(d) if !d.is_empty() => self.resolve_numbers(spec, &d)?.first().copied(),
                    _ => None,
                };
                self.dev.write(|s| s.move_items(spec, &ids, dest))?;
                Ok(Value::Nil)
            }
            other => Err(rt(format!("bad command name {other}"))),
        }
    }

    /// The text of a named argument.
    fn arg_text(&mut self, m: &MenuCmd, name: &str) -> Res<Option<String>> {
        match m.arg(name).and_then(|a| a.value.clone()) {
            Some(e) => Ok(Some(self.eval_arg_text(&e, None)?)),
            None => Ok(None),
        }
    }

    /// Resolves item references: console numbers from the last `print`, ids, names.
    fn resolve_numbers(&mut self, spec: &'static MenuSpec, text: &str) -> Res<Vec<RosId>> {
        let mut ids = Vec::new();
        for part in text.split(',').map(str::trim).filter(|p| !p.is_empty()) {
            if part.chars().all(|c| c.is_ascii_digit()) {
                let n: usize = part.parse().map_err(|_| rt("no such item"))?;
                let numbering = match self.session.numbering.get(spec.path) {
                    Some(list) => list.clone(),
                    None => self.dev.read(|s| s.ids(spec)),
                };
                let id = numbering
                    .get(n)
                    .copied()
                    .ok_or_else(|| rt("no such item"))?;
                ids.push(id);
            } else {
                let id = self.dev.read(|s| s.resolve(spec, part))?;
                ids.push(id);
            }
        }
        Ok(ids)
    }

    fn numbers(&mut self, spec: &'static MenuSpec, m: &MenuCmd) -> Res<Vec<RosId>> {
        match self.arg_text(m, "numbers")? {
            Some(t) => self.resolve_numbers(spec, &t),
            None => Err(RosError::MissingValues(vec!["numbers".into()]).into()),
        }
    }

    /// `name=value` pairs for `add`/`set` (values in argument spelling), and the names to unset.
    fn write_args(&mut self, spec: &'static MenuSpec, m: &MenuCmd) -> Res<WriteArgs> {
        let mut set = Vec::new();
        let mut unset = Vec::new();
        for a in &m.args {
            if matches!(a.name.as_str(), "numbers" | "copy-from") {
                continue;
            }
            if a.unset {
                unset.push(a.name.clone());
                continue;
            }
            let text = match &a.value {
                Some(e) => self.eval_arg_text(e, None)?,
                None => String::new(),
            };
            let text = if a.name == "place-before" && !text.is_empty() {
                let ids = self.resolve_numbers(spec, &text)?;
                ids.first().map(|i| i.to_string()).unwrap_or(text)
            } else {
                text
            };
            set.push((a.name.clone(), text));
        }
        Ok((set, unset))
    }

    fn cmd_add(&mut self, spec: &'static MenuSpec, m: &MenuCmd) -> Res<Value> {
        self.need("write")?;
        let (mut args, _) = self.write_args(spec, m)?;
        if let Some(src) = self.arg_text(m, "copy-from")? {
            let from = self.resolve_numbers(spec, &src)?;
            let id = from.first().copied().ok_or_else(|| rt("no such item"))?;
            let stored: Vec<(String, String)> = self.dev.read(|s| {
                s.item(spec, id)
                    .map(|it| {
                        it.stored()
                            .filter(|(k, _)| spec.prop(k).is_some_and(|p| p.writable()))
                            .map(|(k, v)| (k.to_string(), v.to_string()))
                            .collect()
                    })
                    .unwrap_or_default()
            });
            for (k, v) in stored {
                if !args.iter().any(|(n, _)| *n == k) {
                    args.push((k, v));
                }
            }
        }
        let id = self.dev.write(|s| s.add(spec, &args))?;
        Ok(Value::Id(u64::from(id.get())))
    }

    fn cmd_set(&mut self, spec: &'static MenuSpec, m: &MenuCmd) -> Res<Value> {
        self.need("write")?;
        let (args, unset) = self.write_args(spec, m)?;
        let targets: Vec<Option<RosId>> = if spec.kind == MenuKind::Singleton {
            vec![None]
        } else {
            self.numbers(spec, m)?.into_iter().map(Some).collect()
        };
        self.dev.write(|s| -> Result<(), RosError> {
            for t in &targets {
                if !args.is_empty() {
                    s.set(spec, *t, &args)?;
                }
                if !unset.is_empty() {
                    s.unset(spec, *t, &unset)?;
                }
            }
            Ok(())
        })?;
        Ok(Value::Nil)
    }

    fn cmd_unset(&mut self, spec: &'static MenuSpec, m: &MenuCmd) -> Res<Value> {
        self.need("write")?;
        let name = self
            .arg_text(m, "value-name")?
            .ok_or_else(|| Flow::from(RosError::MissingValues(vec!["value-name".into()])))?;
        let targets: Vec<Option<RosId>> = if spec.kind == MenuKind::Singleton {
            vec![None]
        } else {
            self.numbers(spec, m)?.into_iter().map(Some).collect()
        };
        self.dev.write(|s| -> Result<(), RosError> {
            for t in &targets {
                s.unset(spec, *t, &[name.as_str()])?;
            }
            Ok(())
        })?;
        Ok(Value::Nil)
    }

    fn cmd_get(&mut self, spec: &'static MenuSpec, m: &MenuCmd) -> Res<Value> {
        let id = if spec.kind == MenuKind::Singleton {
            None
        } else {
            let ids = self.numbers(spec, m)?;
            match ids.as_slice() {
                [one] => Some(*one),
                [] => return Err(rt("no such item")),
                _ => return Err(rt("invalid internal item number")),
            }
        };
        let rec = self.dev.read(|s| s.get(spec, id))?;
        match self.arg_text(m, "value-name")? {
            None => Ok(record_value(spec, &rec)),
            Some(name) => {
                if name == ".id" {
                    return Ok(rec
                        .id
                        .map_or(Value::Nothing, |i| Value::Id(u64::from(i.get()))));
                }
                match spec.prop(&name) {
                    Some(p) if p.printable() => Ok(rec
                        .get(&name)
                        .map_or(Value::Nothing, |v| typed(spec, &name, &v))),
                    _ => Err(rt("input does not match any value of value-name")),
                }
            }
        }
    }

    fn filtered(
        &mut self,
        spec: &'static MenuSpec,
        filter: Option<&Expr>,
    ) -> Res<Vec<(usize, Record)>> {
        let all = self.dev.read(|s| s.print(spec, None, None));
        let mut out = Vec::new();
        for (i, rec) in all.into_iter().enumerate() {
            let keep = match filter {
                Some(f) => self
                    .eval(
                        f,
                        Some(ItemCtx {
                            menu: spec,
                            record: &rec,
                        }),
                    )?
                    .truthy(),
                None => true,
            };
            if keep {
                out.push((i, rec));
            }
        }
        Ok(out)
    }

    fn cmd_find(&mut self, spec: &'static MenuSpec, m: &MenuCmd) -> Res<Value> {
        let rows = self.filtered(spec, m.filter.as_ref())?;
        Ok(Value::list(
            rows.into_iter()
                .filter_map(|(_, r)| r.id)
                .map(|id| Value::Id(u64::from(id.get()))),
        ))
    }

    fn cmd_print(&mut self, spec: &'static MenuSpec, m: &MenuCmd) -> Res<Value> {
        if m.flag("follow") || m.flag("follow-only") || m.arg("interval").is_some() {
            return Err(rt("failure: continuous print is not supported here"));
        }
        let proplist: Option<Vec<String>> = self.arg_text(m, "proplist")?.map(|p| {
            p.split(',')
                .map(|s| s.trim().to_string())
                .filter(|s| !s.is_empty())
                .collect()
        });
        // One rendering of the menu gives both the console numbering and the rows.
        let unnumbered_dynamic = print::dynamic_unnumbered(spec);
        let all = self.dev.read(|s| s.print(spec, None, None));
        let mut numbering = Vec::with_capacity(all.len());
        let mut numbered: Vec<(Option<usize>, Record)> = Vec::with_capacity(all.len());
        for rec in all {
            let number = if unnumbered_dynamic && rec.is_true("dynamic") {
                None
            } else {
                numbering.extend(rec.id);
                Some(numbering.len().saturating_sub(1))
            };
            numbered.push((number, rec));
        }
        if spec.kind != MenuKind::Singleton {
            self.session.numbering.insert(spec.path, numbering);
        }
        let mut rows = Vec::new();
        for (number, rec) in numbered {
            let keep = match m.filter.as_ref() {
                Some(f) => self
                    .eval(
                        f,
                        Some(ItemCtx {
                            menu: spec,
                            record: &rec,
                        }),
                    )?
                    .truthy(),
                None => true,
            };
            if keep {
                rows.push((number, rec));
            }
        }
        if let Some(from) = self.arg_text(m, "from")? {
            let ids = self.resolve_numbers(spec, &from)?;
            rows.retain(|(_, r)| r.id.is_some_and(|i| ids.contains(&i)));
        }
        // `dynamic` / `static` keep the items the router made / the configured ones; `all`
        // (firewall menus: built-in rules too) has nothing more to show here.
        if m.flag("dynamic") {
            rows.retain(|(_, r)| r.is_true("dynamic"));
        }
        if m.flag("static") {
            rows.retain(|(_, r)| !r.is_true("dynamic"));
        }
        if m.flag("without-paging") {
            self.without_paging = true;
        }
        if m.flag("as-value") {
            let values = rows
                .iter()
                .map(|(_, r)| {
                    let mut r = r.clone();
                    if let Some(pl) = &proplist {
                        let mut pl = pl.clone();
                        pl.push(".id".into());
                        r.project(&pl);
                    }
                    record_value(spec, &r)
                })
                .collect::<Vec<_>>();
            if spec.kind == MenuKind::Singleton {
                return Ok(values.into_iter().next().unwrap_or(Value::Nothing));
            }
            return Ok(Value::list(values));
        }
        if m.flag("count-only") {
            // Like `as-value`, the count is shown only when the command is not inside `[ ]`.
            if self.depth == 0 {
                self.out.push_str(&format!("{}\n", rows.len()));
            }
            return Ok(Value::Num(rows.len() as i64));
        }
        let stats = m.flag("stats") || m.flag("stats-detail");
        let style = Style {
            width: self.session.width,
            show_ids: m.flag("show-ids"),
            stats,
        };
        let (naming, counters) = print::stats_props(spec);
        // `stats-detail` is the detail layout of the naming properties and every counter.
        let stats_list: Option<Vec<String>> = (m.flag("stats-detail") && !counters.is_empty())
            .then(|| {
                naming
                    .iter()
                    .chain(counters)
                    .map(|s| s.to_string())
                    .collect()
            });
        let proplist = proplist.or(stats_list);
        let pl = proplist.as_deref();
        if spec.kind == MenuKind::Singleton {
            if let Some((_, rec)) = rows.first() {
                self.out.push_str(&print::singleton(spec, rec, pl));
            }
            return Ok(Value::Nil);
        }
        let rows: Vec<Row> = rows
            .into_iter()
            .map(|(number, record)| Row { number, record })
            .collect();
        let text = if m.flag("stats") && !counters.is_empty() && !m.flag("stats-detail") {
            let cols = match pl {
                Some(pl) => pl.iter().map(String::as_str).collect(),
                None => print::stats_columns(spec),
            };
            print::table(spec, &rows, &cols, &style)
        } else if m.flag("detail")
            || m.flag("stats-detail")
            || (print::detail_layout(spec) && !m.flag("terse") && pl.is_none())
        {
            print::detail_with(spec, &rows, &style, pl)
        } else if spec.path == "/log" && !m.flag("terse") && pl.is_none() {
            print::log(spec, &rows)
        } else if m.flag("terse") {
            print::terse(spec, &rows, &style, pl)
        } else if let Some(pl) = pl {
            let cols: Vec<&str> = pl.iter().map(String::as_str).collect();
            print::table(spec, &rows, &cols, &style)
        } else {
            print::table(spec, &rows, spec.columns, &style)
        };
        self.out.push_str(&text);
        Ok(Value::Nil)
    }

    fn cmd_reboot(&mut self) -> Res<Value> {
        self.need("reboot")?;
        if let Some(ask) = self.session.confirm.clone()
            && !ask("Reboot, yes? [y/N]: ")
        {
            return Ok(Value::Nil);
        }
        self.dev.reboot();
        Ok(Value::Nil)
    }

    fn cmd_script_run(&mut self, m: &MenuCmd) -> Res<Value> {
        let spec = spec_of("system/script")?;
        let target = self
            .arg_text(m, "number")?
            .ok_or_else(|| Flow::from(RosError::MissingValues(vec!["number".into()])))?;
        let ids = self.resolve_numbers(spec, &target)?;
        let id = ids.first().copied().ok_or_else(|| rt("no such item"))?;
        let (name, source) = self.dev.read(|s| {
            let rec = s.get(spec, Some(id));
            rec.map(|r| {
                (
                    r.get("name").map(|v| v.to_string()).unwrap_or_default(),
                    s.item(spec, id)
                        .and_then(|it| it.get("source"))
                        .unwrap_or("")
                        .to_string(),
                )
            })
        })?;
        self.bump_run_count(spec, id);
        let saved = std::mem::replace(&mut self.session.job_name, name);
        let r = self.run_source(&source);
        self.session.job_name = saved;
        match r {
            Err(Flow::Exit) => Ok(Value::Nil),
            other => other,
        }
    }

    fn bump_run_count(&mut self, spec: &'static MenuSpec, id: RosId) {
        if spec.prop("run-count").is_none() {
            return;
        }
        self.dev.write(|s| {
            let n = s
                .item(spec, id)
                .and_then(|it| it.get("run-count"))
                .and_then(|v| v.parse::<u64>().ok())
                .unwrap_or(0);
            let _ = s.set_raw(spec, Some(id), "run-count", &(n + 1).to_string());
        });
    }

    fn cmd_export(&mut self, m: &MenuCmd) -> Res<Value> {
        self.need("read")?;
        let opts = super::export::ExportOptions {
            verbose: m.flag("verbose"),
            show_sensitive: m.flag("show-sensitive"),
            terse: m.flag("terse"),
            under: if m.menu.is_empty() {
                None
            } else {
                Some(format!("/{}", m.menu))
            },
        };
        let text = self.dev.read(|s| super::export::export(s, &opts));
        self.out.push_str(&text);
        Ok(Value::Nil)
    }

    /// `/system backup save`: writes the backup file (see [`crate::backup`]).
    fn cmd_backup_save(&mut self, m: &MenuCmd) -> Res<Value> {
        self.need("write")?;
        self.need("sensitive")?;
        let mut args: Vec<(String, String)> = Vec::new();
        for a in &m.args {
            let v = match &a.value {
                Some(e) => self.eval_arg_text(e, None)?,
                None => String::new(),
            };
            args.push((a.name.clone(), v));
        }
        let req = crate::backup::SaveRequest::parse(&args)?;
        self.dev.write(|s| crate::backup::save(s, &req))?;
        self.out.push_str("Configuration backup saved\n");
        Ok(Value::Nil)
    }

    /// `/ping`, `/tool traceroute`, `/interface monitor-traffic`: the model computes the
    /// replies; the console prints them as they arrive, one per pacing interval.
    fn cmd_tool(&mut self, tool: Tool, m: &MenuCmd) -> Res<Value> {
        let mut args: Vec<(String, String)> = Vec::new();
        for a in &m.args {
            let v = match &a.value {
                Some(e) => self.eval_arg_text(e, None)?,
                None => String::new(),
            };
            args.push((a.name.clone(), v));
        }
        let out = self.dev.read(|s| s.run_tool(tool, &args))?;
        match tool {
            Tool::Ping => {
                let mut rows: Vec<[String; 6]> = Vec::new();
                let mut last: Option<Record> = None;
                for (i, rec) in out.records.iter().enumerate() {
                    if i > 0 && !out.pacing.is_zero() {
                        self.delay(out.pacing)?;
                    }
                    let g = |k: &str| rec.get(k).map(|v| v.to_string()).unwrap_or_default();
                    rows.push([
                        g("seq"),
                        g("host"),
                        g("size"),
                        g("ttl"),
                        g("time"),
                        g("status"),
                    ]);
                    last = Some(rec.clone());
                }
                let time_w = rows.iter().map(|r| r[4].len()).max().unwrap_or(0).max(4);
                self.out.push_str(&format!(
                    "  SEQ HOST                                     SIZE TTL {:<time_w$} STATUS\n",
                    "TIME"
                ));
                for r in &rows {
                    let (size, ttl) = if r[5].is_empty() {
                        (r[2].as_str(), r[3].as_str())
                    } else {
                        ("", "")
                    };
                    let line = format!(
                        "{:>5} {:<40} {:>4} {:>3} {:<time_w$} {}",
                        r[0], r[1], size, ttl, r[4], r[5]
                    );
                    self.out.push_str(line.trim_end());
                    self.out.push('\n');
                }
                if let Some(l) = last {
                    let mut summary = Vec::new();
                    for k in [
                        "sent",
                        "received",
                        "packet-loss",
                        "min-rtt",
                        "avg-rtt",
                        "max-rtt",
                    ] {
                        if let Some(v) = l.get(k) {
                            summary.push(if k == "packet-loss" {
                                format!("{k}={v}%")
                            } else {
                                format!("{k}={v}")
                            });
                        }
                    }
                    self.out.push_str(&format!("    {}\n", summary.join(" ")));
                }
            }
            Tool::Reboot => {}
            _ => {
                for (i, rec) in out.records.iter().enumerate() {
                    if i > 0 && !out.pacing.is_zero() {
                        self.delay(out.pacing)?;
                    }
                    let w = rec.props.iter().map(|(k, _)| k.len()).max().unwrap_or(0);
                    for (k, v) in &rec.props {
                        self.out.push_str(&format!("  {k:>w$}: {v}\n"));
                    }
                    self.out.push('\n');
                }
            }
        }
        if out.effect == Some(Effect::Reboot) {
            self.dev.reboot();
        }
        Ok(Value::Nil)
    }
}

/// Arguments of a write: values to set and property names to unset.
type WriteArgs = (Vec<(String, String)>, Vec<String>);

/// Upper bound of iterations of one loop (a runaway script must not spin forever).
const MAX_LOOP: usize = 1_000_000;

fn arith(op: BinOp, a: &Value, b: &Value) -> Value {
    // An unset variable counts as 0 (`:set n ($n + 1)` starts counting from nothing).
    let zero = Value::Num(0);
    let a = if a.is_empty_value() && b.as_num().is_some() {
        &zero
    } else {
        a
    };
    let b = if b.is_empty_value() && a.as_num().is_some() {
        &zero
    } else {
        b
    };
    match (a, b) {
        (Value::Time(x), Value::Time(y)) => match op {
            BinOp::Add => Value::Time(x.saturating_add(*y)),
            BinOp::Sub => Value::Time(x.saturating_sub(*y)),
            _ => Value::Nothing,
        },
        (Value::Time(x), other) | (other, Value::Time(x)) if other.as_num().is_some() => {
            let n = other.as_num().unwrap_or(0);
            match op {
                BinOp::Mul => Value::Time(x.saturating_mul(n)),
                BinOp::Div if n != 0 => Value::Time(x / n),
                _ => Value::Nothing,
            }
        }
        (Value::Ip(ip), other) if other.as_num().is_some() => {
            let n = other.as_num().unwrap_or(0);
            let base = i64::from(u32::from(*ip));
            let r = match op {
                BinOp::Add => base + n,
                BinOp::Sub => base - n,
                _ => return Value::Nothing,
            };
            u32::try_from(r).map_or(Value::Nothing, |r| Value::Ip(std::net::Ipv4Addr::from(r)))
        }
        (Value::Ip(x), Value::Ip(y)) if op == BinOp::Sub => {
            Value::Num(i64::from(u32::from(*x)) - i64::from(u32::from(*y)))
        }
        _ => match (a.as_num(), b.as_num()) {
            (Some(x), Some(y)) => match op {
                BinOp::Add => Value::Num(x.saturating_add(y)),
                BinOp::Sub => Value::Num(x.saturating_sub(y)),
                BinOp::Mul => Value::Num(x.saturating_mul(y)),
                BinOp::Div if y != 0 => Value::Num(x / y),
                BinOp::Mod if y != 0 => Value::Num(x % y),
                _ => Value::Nothing,
            },
            _ => Value::Nothing,
        },
    }
}

fn bitwise(op: BinOp, a: &Value, b: &Value) -> Value {
    let ip = |v: &Value| match v {
        Value::Ip(x) => Some(u32::from(*x)),
        Value::Str(s) => value::parse_ipv4(s).map(u32::from),
        _ => None,
    };
    match (ip(a), ip(b)) {
        (Some(x), Some(y)) => {
            let r = match op {
                BinOp::BitAnd => x & y,
                BinOp::BitOr => x | y,
                _ => x ^ y,
            };
            Value::Ip(std::net::Ipv4Addr::from(r))
        }
        _ => match (a.as_num(), b.as_num()) {
            (Some(x), Some(y)) => Value::Num(match op {
                BinOp::BitAnd => x & y,
                BinOp::BitOr => x | y,
                _ => x ^ y,
            }),
            _ => Value::Nothing,
        },
    }
}

/// `:serialize to=json`: numbers and booleans as JSON types, keyed arrays as objects, other
/// values as strings.
pub fn to_json(v: &Value) -> serde_json::Value {
    use serde_json::Value as J;
    match v {
        Value::Nothing | Value::Nil => J::Null,
        Value::Num(n) => J::from(*n),
        Value::Bool(b) => J::Bool(*b),
        Value::Array(items) => {
            if !items.is_empty() && items.iter().all(|(k, _)| k.is_some()) {
                let mut map = serde_json::Map::new();
                for (k, v) in items {
                    map.insert(k.clone().unwrap_or_default(), to_json(v));
                }
                J::Object(map)
            } else {
                J::Array(items.iter().map(|(_, v)| to_json(v)).collect())
            }
        }
        other => J::String(other.to_string()),
    }
}

/// `:deserialize from=json`.
pub fn from_json(j: &serde_json::Value) -> Value {
    use serde_json::Value as J;
    match j {
        J::Null => Value::Nothing,
        J::Bool(b) => Value::Bool(*b),
        J::Number(n) => n
            .as_i64()
            .map_or_else(|| Value::Str(n.to_string()), Value::Num),
        J::String(s) => Value::Str(s.clone()),
        J::Array(items) => Value::list(items.iter().map(from_json)),
        J::Object(map) => {
            let mut items = Vec::new();
            for (k, v) in map {
                Value::array_set(&mut items, k.clone(), from_json(v));
            }
            Value::Array(items)
        }
    }
}

/// Whether `src` would change configuration (`add`, `set`, `remove`, `move`, …, script runs,
/// reboot), for fault triggers that count writes. Unparsable input counts as a read.
pub fn is_write(session: &Session, src: &str) -> bool {
    parse(session, src).is_ok_and(|p| block_writes(&p.block))
}

fn block_writes(b: &Block) -> bool {
    b.stmts.iter().any(|s| match s {
        Stmt::Nav { .. } => false,
        Stmt::Block(b) => block_writes(b),
        Stmt::Expr(e) => expr_writes(e),
        Stmt::Menu(m) => {
            matches!(
                m.cmd.as_str(),
                "add"
                    | "set"
                    | "remove"
                    | "enable"
                    | "disable"
                    | "move"
                    | "unset"
                    | "comment"
                    | "make-static"
            ) || matches!(
                (m.menu.as_str(), m.cmd.as_str()),
                ("system", "reboot") | ("system/script", "run")
            ) || m
                .args
                .iter()
                .filter_map(|a| a.value.as_ref())
                .any(expr_writes)
                || m.filter.as_ref().is_some_and(expr_writes)
        }
        Stmt::Global(g) => g.name == "execute" || g.args.iter().any(|a| expr_writes(&a.value)),
        Stmt::Call { .. } => true,
    })
}

fn expr_writes(e: &Expr) -> bool {
    match e {
        Expr::Word(..) | Expr::Var(..) => false,
        Expr::Str(pieces) => pieces.iter().any(|p| match p {
            StrPiece::Expr(e) => expr_writes(e),
            StrPiece::Text(_) | StrPiece::Var(_) => false,
        }),
        Expr::Cmd(b) => block_writes(b),
        Expr::Code(b, _) => block_writes(b),
        Expr::Unary(_, e) => expr_writes(e),
        Expr::Binary(_, a, b) => expr_writes(a) || expr_writes(b),
        Expr::Array(items) => items.iter().any(|(_, e)| expr_writes(e)),
        Expr::Concat(parts) => parts.iter().any(expr_writes),
    }
}
