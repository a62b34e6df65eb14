//! What a REST request means, and RouterOS's answer to it.
//!
//! RouterOS maps HTTP verbs onto console commands: `GET` prints (a list, one item by id or
//! name, or a singleton's bare object), `PUT` adds and returns the created object with 201,
//! `PATCH` sets and returns the updated object, `DELETE` removes with 204, and `POST
//! /rest/<menu>/<command>` runs any command with JSON arguments. Every value in both directions
//! is a string, keys come back alphabetically with `.id` first, and failures carry the
//! console's own wording in `{"detail","error","message"}`.

use std::sync::Arc;
use std::time::Duration;

use hyper::Method;
use serde_json::{Map, Value};

use super::SESSION_LIMIT;
use super::cli_hooks::{self, HookReply};
use crate::faults::RequestKind;
use crate::fleet::SimDevice;
use crate::model::{
    Effect, MenuKind, MenuSpec, Query, Record, RosError, RosId, Tool, UserInfo, menus,
};

/// The HTTP reason phrase RouterOS puts in `message`.
pub fn reason(status: u16) -> &'static str {
    match status {
        400 => "Bad Request",
        401 => "Unauthorized",
        403 => "Forbidden",
        404 => "Not Found",
        406 => "Not Acceptable",
        500 => "Internal Server Error",
        _ => "Error",
    }
}

/// A RouterOS error body: `{"detail":…,"error":N,"message":…}` (keys alphabetical; no
/// `detail` when there is none, as for 401 and 404).
pub fn error_body(status: u16, detail: Option<&str>) -> Vec<u8> {
    let mut out = String::from("{");
    if let Some(d) = detail {
        out.push_str("\"detail\":");
        out.push_str(&Value::String(d.to_string()).to_string());
        out.push(',');
    }
    out.push_str(&format!(
        "\"error\":{status},\"message\":{}}}",
        Value::String(reason(status).to_string())
    ));
    out.into_bytes()
}

/// A parsed REST request.
#[derive(Debug)]
pub struct RestRequest {
    method: Method,
    /// Path segments after `/rest`, percent-decoded; `None` for paths outside `/rest`.
    segments: Option<Vec<String>>,
    query: Vec<(String, String)>,
    body: Result<Map<String, Value>, String>,
}

/// The reply to a REST request.
#[derive(Debug)]
pub struct RestReply {
    /// HTTP status.
    pub status: u16,
    /// JSON body, `None` for an empty body (204).
    pub body: Option<Vec<u8>>,
    /// A device action to perform once replied.
    pub effect: Option<Effect>,
}

impl RestReply {
    fn json(status: u16, body: Vec<u8>) -> Self {
        RestReply {
            status,
            body: Some(body),
            effect: None,
        }
    }

    fn error(err: &RosError) -> Self {
        let status = err.rest_status();
        RestReply::json(status, error_body(status, Some(&err.detail())))
    }

    fn not_found() -> Self {
        RestReply::json(404, error_body(404, None))
    }

    fn empty_list() -> Self {
        RestReply::json(200, b"[]".to_vec())
    }

    fn ret(value: &str) -> Self {
        let mut m = Map::new();
        m.insert("ret".into(), Value::String(value.to_string()));
        RestReply::json(200, Value::Object(m).to_string().into_bytes())
    }

    fn records(records: &[Record]) -> Self {
        let objs: Vec<_> = records.iter().map(Record::to_json).collect();
        RestReply::json(
            200,
            serde_json::to_vec(&objs).unwrap_or_else(|_| b"[]".to_vec()),
        )
    }

    fn object(status: u16, record: &Record) -> Self {
        RestReply::json(
            status,
            serde_json::to_vec(&record.to_json()).unwrap_or_else(|_| b"{}".to_vec()),
        )
    }
}

fn percent_decode(s: &str, plus_is_space: bool) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let b = bytes[i];
        let escaped = (b == b'%')
            .then(|| bytes.get(i + 1..i + 3))
            .flatten()
            .and_then(|h| std::str::from_utf8(h).ok())
            .and_then(|h| u8::from_str_radix(h, 16).ok());
        match escaped {
            Some(v) => {
                out.push(v);
                i += 3;
            }
            None => {
                out.push(if plus_is_space && b == b'+' { b' ' } else { b });
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// Converts a JSON argument to the string RouterOS would see. Strings pass through; numbers and
/// booleans are accepted in their text form; arrays of scalars become comma-separated lists.
fn json_arg(name: &str, v: &Value) -> Result<String, RosError> {
    match v {
        Value::String(s) => Ok(s.clone()),
        Value::Number(n) => Ok(n.to_string()),
        Value::Bool(b) => Ok(if *b { "true" } else { "false" }.into()),
        Value::Null => Ok(String::new()),
        Value::Array(items) => {
            let mut parts = Vec::with_capacity(items.len());
            for it in items {
                match it {
                    Value::Array(_) | Value::Object(_) => {
                        return Err(RosError::InvalidValue(name.to_string()));
                    }
                    other => parts.push(json_arg(name, other)?),
                }
            }
            Ok(parts.join(","))
        }
        Value::Object(_) => Err(RosError::InvalidValue(name.to_string())),
    }
}

const WRITE_COMMANDS: &[&str] = &[
    "add",
    "set",
    "unset",
    "remove",
    "move",
    "enable",
    "disable",
    "comment",
    "make-static",
    "reset-counters",
    "reset-counters-all",
    "run",
    "reboot",
    "execute",
    "import",
];

impl RestRequest {
    /// Parses the parts of an HTTP request.
    pub fn parse(method: &Method, path: &str, query: &str, body: &[u8]) -> Self {
        let segments = path
            .strip_prefix("/rest")
            .filter(|rest| rest.is_empty() || rest.starts_with('/'))
            .map(|rest| {
                rest.split('/')
                    .filter(|s| !s.is_empty())
                    .map(|seg| percent_decode(seg, false))
                    .collect()
            });
        let query = query
            .split('&')
            .filter(|p| !p.is_empty())
            .map(|p| match p.split_once('=') {
                Some((k, v)) => (percent_decode(k, true), percent_decode(v, true)),
                None => (percent_decode(p, true), String::new()),
            })
            .collect();
        let body = if body.iter().all(u8::is_ascii_whitespace) {
            Ok(Map::new())
        } else {
            match serde_json::from_slice::<Value>(body) {
                Ok(Value::Object(m)) => Ok(m),
                Ok(_) => Err("expected a JSON object".to_string()),
                Err(e) => Err(format!("JSON parse error: {e}")),
            }
        };
        RestRequest {
            method: method.clone(),
            segments,
            query,
            body,
        }
    }

    /// Whether the request changes configuration (for fault triggers such as `fail_write`).
    pub fn kind(&self) -> RequestKind {
        let is_write = match self.method {
            Method::PUT | Method::PATCH | Method::DELETE => true,
            Method::POST => self
                .segments
                .as_ref()
                .and_then(|s| s.last())
                .is_some_and(|c| WRITE_COMMANDS.contains(&c.as_str())),
            _ => false,
        };
        if is_write {
            RequestKind::Write
        } else {
            RequestKind::Read
        }
    }
}

enum Target<'a> {
    Menu(&'static MenuSpec),
    /// A menu and one more path word: an item reference of a list menu, or (POST) a command.
    Sub(&'static MenuSpec, &'a str),
    /// A directory with submenus only (`/rest/ip`).
    Dir,
    /// The first path word that names nothing on this device.
    Unknown(&'a str),
}

/// Resolves a REST path the way RouterOS does: word by word through the menus this device
/// has; a word after a list menu is an item reference; any other word that names nothing is
/// `no such command or directory (<word>)`.
fn target<'a>(device: &SimDevice, segments: &'a [String]) -> Target<'a> {
    device.read_state(|s| {
        let mut path = String::new();
        for (i, seg) in segments.iter().enumerate() {
            let parent = s.menu(&path);
            path.push('/');
            path.push_str(seg);
            let exists = s.menu(&path).is_some()
                || menus()
                    .iter()
                    .filter(|m| s.has_menu(m))
                    .any(|m| m.path.starts_with(&format!("{path}/")));
            if exists {
                continue;
            }
            return match parent {
                Some(m) if i + 1 == segments.len() => Target::Sub(m, seg.as_str()),
                Some(_) | None => Target::Unknown(seg.as_str()),
            };
        }
        match s.menu(&path) {
            Some(m) => Target::Menu(m),
            None => Target::Dir,
        }
    })
}

fn prefix_error() -> RestReply {
    RestReply::error(&RosError::NoSuchCommandPrefix)
}

/// The answer to a path that names nothing: `no such command or directory (<word>)` for an
/// unknown word, `no such command prefix` for a bare directory.
fn path_error(target: &Target<'_>) -> RestReply {
    match target {
        Target::Unknown(word) | Target::Sub(_, word) => {
            RestReply::error(&RosError::NoSuchDirectory((*word).to_string()))
        }
        Target::Menu(_) | Target::Dir => prefix_error(),
    }
}

/// Commands RouterOS refuses as item references in a GET path (`/rest/ip/address/print`).
const COMMAND_WORDS: &[&str] = &[
    "add", "comment", "disable", "enable", "export", "find", "get", "move", "print", "remove",
    "set", "unset",
];

/// An item reference in a URL: unknown ids and names are 404; a word that is neither an id nor
/// a name the menu can have (a menu without names) is `no such command prefix`.
fn resolve_ref(
    device: &SimDevice,
    m: &'static MenuSpec,
    reference: &str,
) -> Result<RosId, RestReply> {
    if COMMAND_WORDS.contains(&reference) {
        return Err(RestReply::error(&RosError::NoSuchCommand));
    }
    if !m.named && RosId::parse(reference.trim()).is_none() {
        return Err(prefix_error());
    }
    device
        .read_state(|s| s.resolve(m, reference))
        .map_err(|_| RestReply::not_found())
}

/// The body's arguments as strings, plus the ones REST treats specially.
struct Args {
    plain: Vec<(String, String)>,
    proplist: Option<Vec<String>>,
    query: Option<Vec<String>>,
    id: Option<String>,
}

fn split_args(body: &Map<String, Value>) -> Result<Args, RosError> {
    let mut out = Args {
        plain: Vec::new(),
        proplist: None,
        query: None,
        id: None,
    };
    for (k, v) in body {
        match k.as_str() {
            ".proplist" => {
                let s = json_arg(k, v)?;
                out.proplist = Some(
                    s.split(',')
                        .map(|p| p.trim().to_string())
                        .filter(|p| !p.is_empty())
                        .collect(),
                );
            }
            ".query" => {
                let words = match v {
                    Value::Array(items) => items
                        .iter()
                        .map(|w| json_arg(k, w))
                        .collect::<Result<Vec<_>, _>>()?,
                    other => vec![json_arg(k, other)?],
                };
                out.query = Some(words);
            }
            ".id" | "numbers" | "number" => out.id = Some(json_arg(k, v)?),
            _ => out.plain.push((k.clone(), json_arg(k, v)?)),
        }
    }
    Ok(out)
}

fn need(user: &UserInfo, policy: &str) -> Result<(), RosError> {
    if user.has(policy) {
        Ok(())
    } else {
        Err(RosError::NotEnoughPermissions)
    }
}

fn need_write(user: &UserInfo, m: &MenuSpec) -> Result<(), RosError> {
    need(user, "write")?;
    if m.path == "/user" || m.path == "/user/group" {
        need(user, "policy")?;
    }
    Ok(())
}

/// Hides sensitive values from users whose group lacks the `sensitive` policy.
fn redact(user: &UserInfo, m: &MenuSpec, records: &mut [Record]) {
    if user.has("sensitive") {
        return;
    }
    for r in records {
        r.props
            .retain(|(k, _)| m.prop(k).is_none_or(|p| !p.sensitive));
    }
}

fn proplist_from_query(query: &[(String, String)]) -> (Option<Vec<String>>, Vec<(String, String)>) {
    let mut proplist = None;
    let mut filters = Vec::new();
    for (k, v) in query {
        if k == ".proplist" {
            proplist = Some(
                v.split(',')
                    .map(|p| p.trim().to_string())
                    .filter(|p| !p.is_empty())
                    .collect(),
            );
        } else if !k.starts_with('.') || k == ".id" {
            filters.push((k.clone(), v.clone()));
        }
    }
    (proplist, filters)
}

/// Answers a request from an authenticated `user`.
pub async fn dispatch(device: &Arc<SimDevice>, user: &UserInfo, req: &RestRequest) -> RestReply {
    let Some(segments) = &req.segments else {
        return RestReply::not_found();
    };
    let body = match &req.body {
        Ok(b) => b,
        Err(e) => return RestReply::json(400, error_body(400, Some(e))),
    };
    if !user.has("read") {
        return RestReply::error(&RosError::NotEnoughPermissions);
    }
    match req.method {
        Method::GET => get(device, user, segments, &req.query),
        Method::PUT => put(device, user, segments, body),
        Method::PATCH => patch(device, user, segments, body),
        Method::DELETE => delete(device, user, segments),
        Method::POST => post(device, user, segments, body).await,
        _ => RestReply::error(&RosError::NoSuchCommand),
    }
}

fn get(
    device: &SimDevice,
    user: &UserInfo,
    segments: &[String],
    query: &[(String, String)],
) -> RestReply {
    let (proplist, filters) = proplist_from_query(query);
    match target(device, segments) {
        Target::Menu(m) => device.read_state(|s| match m.kind {
            MenuKind::Singleton => match s.get(m, None) {
                Ok(mut rec) => {
                    if let Some(p) = &proplist {
                        rec.project(p);
                    }
                    redact(user, m, std::slice::from_mut(&mut rec));
                    RestReply::object(200, &rec)
                }
                Err(e) => RestReply::error(&e),
            },
            MenuKind::List | MenuKind::Ordered => {
                let q = Query::equals(&filters);
                let mut recs = s.print(m, Some(&q), proplist.as_deref());
                redact(user, m, &mut recs);
                RestReply::records(&recs)
            }
        }),
        Target::Sub(m, reference) if m.kind != MenuKind::Singleton => {
            let id = match resolve_ref(device, m, reference) {
                Ok(id) => id,
                Err(reply) => return reply,
            };
            device.read_state(|s| match s.get(m, Some(id)) {
                Ok(mut rec) => {
                    if let Some(p) = &proplist {
                        rec.project(p);
                    }
                    redact(user, m, std::slice::from_mut(&mut rec));
                    RestReply::object(200, &rec)
                }
                Err(_) => RestReply::not_found(),
            })
        }
        other @ (Target::Sub(..) | Target::Dir | Target::Unknown(_)) => path_error(&other),
    }
}

fn put(
    device: &SimDevice,
    user: &UserInfo,
    segments: &[String],
    body: &Map<String, Value>,
) -> RestReply {
    let m = match target(device, segments) {
        Target::Menu(m) => m,
        other @ (Target::Sub(..) | Target::Dir | Target::Unknown(_)) => return path_error(&other),
    };
    let result = (|| {
        need_write(user, m)?;
        let args = split_args(body)?;
        if args.id.is_some() {
            return Err(RosError::UnknownParameter(".id".into()));
        }
        device.write_state(|s| {
            let id = s.add(m, &args.plain)?;
            s.get(m, Some(id))
        })
    })();
    match result {
        Ok(mut rec) => {
            redact(user, m, std::slice::from_mut(&mut rec));
            RestReply::object(201, &rec)
        }
        Err(e) => RestReply::error(&e),
    }
}

fn patch(
    device: &SimDevice,
    user: &UserInfo,
    segments: &[String],
    body: &Map<String, Value>,
) -> RestReply {
    let (m, reference) = match target(device, segments) {
        Target::Menu(m) if m.kind == MenuKind::Singleton => (m, None),
        Target::Sub(m, r) if m.kind != MenuKind::Singleton => (m, Some(r)),
        Target::Menu(_) => return RestReply::error(&RosError::NoSuchCommand),
        other @ (Target::Sub(..) | Target::Dir | Target::Unknown(_)) => return path_error(&other),
    };
    let id = match reference {
        Some(r) => match resolve_ref(device, m, r) {
            Ok(id) => Some(id),
            Err(reply) => return reply,
        },
        None => None,
    };
    let result = (|| {
        need_write(user, m)?;
        let args = split_args(body)?;
        device.write_state(|s| {
            s.set(m, id, &args.plain)?;
            s.get(m, id)
        })
    })();
    match result {
        Ok(mut rec) => {
            redact(user, m, std::slice::from_mut(&mut rec));
            RestReply::object(200, &rec)
        }
        Err(e) => RestReply::error(&e),
    }
}

fn delete(device: &SimDevice, user: &UserInfo, segments: &[String]) -> RestReply {
    let (m, reference) = match target(device, segments) {
        Target::Sub(m, r) if m.kind != MenuKind::Singleton => (m, r),
        Target::Menu(_) => return RestReply::error(&RosError::NoSuchCommand),
        other @ (Target::Sub(..) | Target::Dir | Target::Unknown(_)) => return path_error(&other),
    };
    let id = match resolve_ref(device, m, reference) {
        Ok(id) => id,
        Err(reply) => return reply,
    };
    let result = need_write(user, m).and_then(|()| device.write_state(|s| s.remove(m, &[id])));
    match result {
        Ok(()) => RestReply {
            status: 204,
            body: None,
            effect: None,
        },
        Err(e) => RestReply::error(&e),
    }
}

async fn post(
    device: &Arc<SimDevice>,
    user: &UserInfo,
    segments: &[String],
    body: &Map<String, Value>,
) -> RestReply {
    let args = match split_args(body) {
        Ok(a) => a,
        Err(e) => return RestReply::error(&e),
    };
    let full = format!("/{}", segments.join("/"));
    if let Some(tool) = Tool::from_path(&full) {
        return run_tool(device, user, tool, args).await;
    }
    let joined: Vec<&str> = segments.iter().map(String::as_str).collect();
    match joined.as_slice() {
        ["execute"] => return execute(device, user, &args).await,
        ["export"] => return hook(cli_hooks::export(device, user, None, &args.plain).await),
        ["system", "backup", "save"] => return backup_save(device, user, &args),
        ["system", "script", "run"] => {
            let script = args
                .id
                .clone()
                .or_else(|| lookup(&args.plain, "script").map(str::to_string));
            let Some(script) = script else {
                return RestReply::error(&RosError::MissingValues(vec!["number".into()]));
            };
            if let Err(e) = need(user, "write") {
                return RestReply::error(&e);
            }
            return hook(cli_hooks::run_script(device, user, &script).await);
        }
        _ => {}
    }
    match target(device, segments) {
        Target::Sub(m, cmd) => menu_command(device, user, m, cmd, args).await,
        Target::Menu(_) => RestReply::error(&RosError::NoSuchCommand),
        other @ (Target::Dir | Target::Unknown(_)) => path_error(&other),
    }
}

/// `POST /rest/system/backup/save`: writes the backup file and answers `[]`.
fn backup_save(device: &SimDevice, user: &UserInfo, args: &Args) -> RestReply {
    let result = need(user, "write")
        .and_then(|()| need(user, "sensitive"))
        .and_then(|()| crate::backup::SaveRequest::parse(&args.plain))
        .and_then(|req| device.write_state(|s| crate::backup::save(s, &req)));
    match result {
        Ok(_) => RestReply::empty_list(),
        Err(e) => RestReply::error(&e),
    }
}

fn lookup<'a>(args: &'a [(String, String)], name: &str) -> Option<&'a str> {
    args.iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.as_str())
}

fn hook(result: Result<HookReply, RosError>) -> RestReply {
    match result {
        Ok(HookReply::Ret(s)) => RestReply::ret(&s),
        Ok(HookReply::Records(r)) => RestReply::records(&r),
        Ok(HookReply::Empty) => RestReply::empty_list(),
        Err(e) => RestReply::error(&e),
    }
}

async fn execute(device: &Arc<SimDevice>, user: &UserInfo, args: &Args) -> RestReply {
    let Some(script) = lookup(&args.plain, "script") else {
        return RestReply::error(&RosError::MissingValues(vec!["script".into()]));
    };
    for (k, _) in &args.plain {
        if k != "script" && k != "as-string" {
            return RestReply::error(&RosError::UnknownParameter(k.clone()));
        }
    }
    // Valueless flags arrive as empty strings; any value except "false" sets them.
    let as_string = lookup(&args.plain, "as-string").is_some_and(|v| v != "false");
    hook(cli_hooks::execute(device, user, script, as_string).await)
}

async fn run_tool(device: &Arc<SimDevice>, user: &UserInfo, tool: Tool, args: Args) -> RestReply {
    let policy = match tool {
        Tool::Reboot => "reboot",
        Tool::Ping | Tool::Traceroute | Tool::MonitorTraffic => "test",
    };
    if let Err(e) = need(user, policy) {
        return RestReply::error(&e);
    }
    let mut plain = args.plain;
    if let Some(id) = args.id {
        plain.push(("numbers".into(), id));
    }
    let out = match device.read_state(|s| s.run_tool(tool, &plain)) {
        Ok(o) => o,
        Err(e) => return RestReply::error(&e),
    };
    let span = out
        .pacing
        .checked_mul(u32::try_from(out.records.len().saturating_sub(1)).unwrap_or(u32::MAX))
        .unwrap_or(Duration::MAX);
    if out.unbounded || span > SESSION_LIMIT {
        // RouterOS ends a REST request that runs for a minute.
        device.clock().sleep(SESSION_LIMIT).await;
        return RestReply::json(400, error_body(400, Some("Session closed")));
    }
    if !span.is_zero() {
        device.clock().sleep(span).await;
    }
    let mut reply = if out.records.is_empty() {
        RestReply::empty_list()
    } else {
        RestReply::records(&out.records)
    };
    reply.effect = out.effect;
    reply
}

fn ids_of(
    s: &crate::model::RouterState,
    m: &'static MenuSpec,
    id: &Option<String>,
) -> Result<Vec<RosId>, RosError> {
    match id {
        Some(refs) => {
            let ids = s.resolve_list(m, refs)?;
            if ids.is_empty() {
                Err(RosError::NoSuchItem)
            } else {
                Ok(ids)
            }
        }
        None => Err(RosError::MissingValues(vec!["numbers".into()])),
    }
}

async fn menu_command(
    device: &Arc<SimDevice>,
    user: &UserInfo,
    m: &'static MenuSpec,
    cmd: &str,
    args: Args,
) -> RestReply {
    if cmd == "export" {
        let mut plain = args.plain;
        if let Some(id) = args.id {
            plain.push(("numbers".into(), id));
        }
        return hook(cli_hooks::export(device, user, Some(m), &plain).await);
    }
    if cmd == "print" {
        return print(device, user, m, args);
    }
    if WRITE_COMMANDS.contains(&cmd)
        && let Err(e) = need_write(user, m)
    {
        return RestReply::error(&e);
    }
    let singleton = m.kind == MenuKind::Singleton;
    let result: Result<RestReply, RosError> = device.write_state(|s| match cmd {
        "add" => {
            if args.id.is_some() {
                return Err(RosError::UnknownParameter(".id".into()));
            }
            let id = s.add(m, &args.plain)?;
            Ok(RestReply::ret(&id.to_string()))
        }
        "set" => {
            if singleton {
                s.set(m, None, &args.plain)?;
            } else {
                for id in ids_of(s, m, &args.id)? {
                    s.set(m, Some(id), &args.plain)?;
                }
            }
            Ok(RestReply::empty_list())
        }
        "comment" => {
            let comment = lookup(&args.plain, "comment").unwrap_or("").to_string();
            for id in ids_of(s, m, &args.id)? {
                s.set(m, Some(id), &[("comment", comment.as_str())])?;
            }
            Ok(RestReply::empty_list())
        }
        "unset" => {
            let names: Vec<String> = lookup(&args.plain, "value-name")
                .ok_or_else(|| RosError::MissingValues(vec!["value-name".into()]))?
                .split(',')
                .map(|n| n.trim().to_string())
                .collect();
            if singleton {
                s.unset(m, None, &names)?;
            } else {
                for id in ids_of(s, m, &args.id)? {
                    s.unset(m, Some(id), &names)?;
                }
            }
            Ok(RestReply::empty_list())
        }
        "remove" => {
            let ids = ids_of(s, m, &args.id)?;
            if let Some((k, _)) = args.plain.first() {
                return Err(RosError::UnknownParameter(k.clone()));
            }
            s.remove(m, &ids)?;
            Ok(RestReply::empty_list())
        }
        "enable" | "disable" => {
            let ids = ids_of(s, m, &args.id)?;
            if cmd == "enable" {
                s.enable(m, &ids)?;
            } else {
                s.disable(m, &ids)?;
            }
            Ok(RestReply::empty_list())
        }
        "move" => {
            let ids = ids_of(s, m, &args.id)?;
            let destination = match lookup(&args.plain, "destination") {
                Some(d) if !d.is_empty() => Some(s.resolve(m, d)?),
                _ => None,
            };
            s.move_items(m, &ids, destination)?;
            Ok(RestReply::empty_list())
        }
        "get" => {
            let name = lookup(&args.plain, "value-name")
                .ok_or_else(|| RosError::MissingValues(vec!["value-name".into()]))?;
            let rec = if singleton {
                s.get(m, None)?
            } else {
                let ids = ids_of(s, m, &args.id)?;
                s.get(m, ids.first().copied())?
            };
            let prop = m
                .prop(name)
                .filter(|p| p.printable())
                .ok_or_else(|| RosError::InvalidValue("value-name".into()))?;
            if prop.sensitive && !user.has("sensitive") {
                return Err(RosError::NotEnoughPermissions);
            }
            Ok(RestReply::ret(rec.get(name).as_deref().unwrap_or("")))
        }
        "make-static" => {
            let ids = ids_of(s, m, &args.id)?;
            s.make_static(m, &ids)?;
            Ok(RestReply::empty_list())
        }
        "reset-counters" | "reset-counters-all" => Ok(RestReply::empty_list()),
        _ => Err(RosError::NoSuchCommand),
    });
    result.unwrap_or_else(|e| RestReply::error(&e))
}

const PRINT_FLAGS: &[&str] = &[
    "detail",
    "terse",
    "brief",
    "without-paging",
    "stats",
    "count-only",
    "show-ids",
    "value-list",
    "as-value",
];

fn print(device: &SimDevice, user: &UserInfo, m: &'static MenuSpec, args: Args) -> RestReply {
    for (k, _) in &args.plain {
        if !PRINT_FLAGS.contains(&k.as_str()) {
            return RestReply::error(&RosError::UnknownParameter(k.clone()));
        }
    }
    let query = match args.query.as_deref().map(Query::parse).transpose() {
        Ok(q) => q,
        Err(e) => return RestReply::error(&e),
    };
    let count_only = lookup(&args.plain, "count-only").is_some();
    device.read_state(|s| {
        let mut recs = match (m.kind, &args.id) {
            (MenuKind::Singleton, _) => match s.get(m, None) {
                Ok(r) => vec![r],
                Err(e) => return RestReply::error(&e),
            },
            (_, Some(refs)) => {
                let ids = match s.resolve_list(m, refs) {
                    Ok(ids) => ids,
                    Err(e) => return RestReply::error(&e),
                };
                let mut out = Vec::new();
                for id in ids {
                    match s.get(m, Some(id)) {
                        Ok(r) if query.as_ref().is_none_or(|q| q.matches(m, &r)) => out.push(r),
                        Ok(_) => {}
                        Err(e) => return RestReply::error(&e),
                    }
                }
                out
            }
            (_, None) => s.print(m, query.as_ref(), None),
        };
        if count_only {
            return RestReply::ret(&recs.len().to_string());
        }
        if let Some(p) = &args.proplist {
            for r in &mut recs {
                r.project(p);
            }
        }
        redact(user, m, &mut recs);
        RestReply::records(&recs)
    })
}
