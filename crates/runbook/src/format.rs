//! The runbook file format: YAML front matter between `---` lines, then markdown with the
//! sections `## Symptom`, `## Diagnosis`, `## Remediation` and `## Verify`, in that order.
//!
//! ````text
//! ---
//! name: dhcp-pool-exhausted
//! title: DHCP pool exhausted
//! description: Clients get no address because the pool has none left.
//! version: 1.2.0
//! status: published
//! tags: [dhcp, lan]
//! tier: free
//! risk: low
//! variables:
//!   device: {type: device, description: The router, required: true}
//! last_reviewed: 2026-11-01
//! ---
//! # DHCP pool exhausted
//! ## Symptom
//! Clients on the LAN get no address.
//! ## Diagnosis
//! 1. List the leases.
//! ```tool dhcp.list_leases
//! {"device_id": "{var.device}"}
//! ```
//! ```expect
//! /total < 250
//! ```
//! ## Remediation
//! ## Verify
//! ````
//!
//! This module owns parsing: the front matter into [`Meta`] (every field checked, unknown keys
//! refused), the body into the symptom text and numbered [`Step`]s — prose (a paragraph or a list
//! item) or a tool call (a ```` ```tool NAME ```` block whose body is a JSON object of arguments,
//! optionally followed by an ```` ```expect ```` block, which makes it a verify gate) — each
//! with its source line. A paragraph or list item directly before a tool block is that step's
//! description, so "1. List the leases." and its block are one step, step 1. Steps are numbered
//! across Diagnosis, Remediation and Verify; the Symptom section is text only. Whether the tools
//! exist and the arguments fit their schemas is [`crate::validate`](mod@crate::validate)'s job.
//!
//! Variables have a type — `string`, `integer`, `number`, `boolean`, `device` (a device id or
//! name), `address` (an IP address, optionally with a prefix length) or `interface` — with a
//! checker ([`VarType::coerce`]) and an example value used for validation (the variable's
//! `example`, else its `default`, else [`VarType::example`]). A variable may be `required`, have
//! a `default` (not both), and be `secret` (its value is redacted wherever it is shown).

use std::fmt;
use std::net::IpAddr;

use domain::Tier;
use serde::Serialize;
use serde_json::{Map, Value};
use sha2::{Digest, Sha256};

use crate::expect::{self, Condition};
use crate::yaml::{self, Node};
use crate::{MAX_FILE_BYTES, Problem, quote};

macro_rules! word_enum {
    ($(#[$meta:meta])* $name:ident, $what:literal { $($variant:ident = $text:literal),+ $(,)? }) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
        #[serde(rename_all = "lowercase")]
        pub enum $name {
            $($variant),+
        }

        impl $name {
            /// Every value, in order.
            pub const ALL: &'static [$name] = &[$($name::$variant),+];

            pub fn as_str(self) -> &'static str {
                match self {
                    $($name::$variant => $text),+
                }
            }

            /// The accepted words, for messages.
            pub fn allowed() -> String {
                [$($text),+].join(" | ")
            }

            /// Parses the written form (exact, lowercase).
            pub fn parse(s: &str) -> Result<Self, String> {
                match s {
                    $($text => Ok($name::$variant),)+
                    _ => Err(format!("{} is not a {}; allowed: {}", quote(s, 40), $what, Self::allowed())),
                }
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.as_str())
            }
        }
    };
}

word_enum! {
    /// Where a runbook is in its life: only `published` runbooks are offered by default.
    Status, "status" { Draft = "draft", Published = "published", Deprecated = "deprecated" }
}

word_enum! {
    /// How much harm following the runbook can do.
    Risk, "risk" { Low = "low", Medium = "medium", High = "high", Critical = "critical" }
}

word_enum! {
    /// A variable's type: what a caller's value must look like.
    VarType, "variable type" {
        String = "string",
        Integer = "integer",
        Number = "number",
        Boolean = "boolean",
        Device = "device",
        Address = "address",
        Interface = "interface",
    }
}

word_enum! {
    /// A section of the body, in the order they must appear.
    Section, "section" {
        Symptom = "symptom",
        Diagnosis = "diagnosis",
        Remediation = "remediation",
        Verify = "verify",
    }
}

impl Section {
    /// The heading as written (`Diagnosis`).
    pub fn heading(self) -> &'static str {
        match self {
            Section::Symptom => "Symptom",
            Section::Diagnosis => "Diagnosis",
            Section::Remediation => "Remediation",
            Section::Verify => "Verify",
        }
    }
}

/// The longest string value a variable accepts, in characters.
pub const MAX_STRING_VALUE: usize = 1024;

impl VarType {
    /// The value used to check a runbook's tool arguments when no example or default is given.
    pub fn example(self) -> Value {
        match self {
            VarType::String => Value::from("example"),
            VarType::Integer => Value::from(1),
            VarType::Number => Value::from(1.5),
            VarType::Boolean => Value::Bool(true),
            VarType::Device => Value::from("r1"),
            VarType::Address => Value::from("192.0.2.1"),
            VarType::Interface => Value::from("ether1"),
        }
    }

    /// What a value of this type looks like, for messages.
    pub fn describe(self) -> &'static str {
        match self {
            VarType::String => "text without control characters, at most 1024 characters",
            VarType::Integer => "a whole number such as 5",
            VarType::Number => "a number such as 2.5",
            VarType::Boolean => "true or false",
            VarType::Device => "a device id (UUID) or name (letters, digits, '.', '_', '-')",
            VarType::Address => {
                "an IPv4 or IPv6 address, optionally with a prefix length (192.0.2.1, 10.0.0.0/24)"
            }
            VarType::Interface => {
                "an interface name such as ether1 (letters, digits, spaces and . _ : @ + / -, at most 64 characters)"
            }
        }
    }

    /// Checks a value (a JSON value, or text from a prompt argument) and returns it in its typed
    /// form: integers and numbers become JSON numbers, booleans JSON booleans, the rest strings.
    pub fn coerce(self, given: &Value) -> Result<Value, String> {
        let text = match given {
            Value::String(s) => Some(s.as_str()),
            _ => None,
        };
        let fail = || format!("expected {}", self.describe());
        match self {
            VarType::Integer => match given {
                Value::Number(n) if n.is_i64() || n.is_u64() => Ok(given.clone()),
                _ => text
                    .and_then(|t| t.trim().parse::<i64>().ok())
                    .map(Value::from)
                    .ok_or_else(fail),
            },
            VarType::Number => match given {
                Value::Number(_) => Ok(given.clone()),
                _ => text
                    .and_then(|t| t.trim().parse::<f64>().ok())
                    .filter(|f| f.is_finite())
                    .and_then(serde_json::Number::from_f64)
                    .map(Value::Number)
                    .ok_or_else(fail),
            },
            VarType::Boolean => match given {
                Value::Bool(_) => Ok(given.clone()),
                _ => match text.map(|t| t.trim().to_ascii_lowercase()).as_deref() {
                    Some("true") => Ok(Value::Bool(true)),
                    Some("false") => Ok(Value::Bool(false)),
                    _ => Err(fail()),
                },
            },
            VarType::String | VarType::Device | VarType::Address | VarType::Interface => {
                let owned;
                let t = match given {
                    Value::String(s) => s.as_str(),
                    Value::Number(n) if self == VarType::String => {
                        owned = n.to_string();
                        owned.as_str()
                    }
                    Value::Bool(b) if self == VarType::String => {
                        owned = b.to_string();
                        owned.as_str()
                    }
                    _ => return Err(fail()),
                };
                if let Some(c) = domain::text::find_control(t) {
                    return Err(format!("{c} is not allowed; {}", fail()));
                }
                let ok = match self {
                    VarType::String => t.chars().count() <= MAX_STRING_VALUE,
                    VarType::Device => {
                        t.parse::<domain::DeviceId>().is_ok()
                            || t.parse::<domain::DeviceName>().is_ok()
                    }
                    VarType::Address => is_address(t),
                    VarType::Interface => is_interface(t),
                    VarType::Integer | VarType::Number | VarType::Boolean => false,
                };
                if ok {
                    Ok(Value::String(t.to_owned()))
                } else {
                    Err(fail())
                }
            }
        }
    }
}

pub(crate) fn is_address(t: &str) -> bool {
    let (ip, prefix) = match t.split_once('/') {
        Some((ip, p)) => (ip, Some(p)),
        None => (t, None),
    };
    let Ok(ip) = ip.parse::<IpAddr>() else {
        return false;
    };
    let max = if ip.is_ipv4() { 32 } else { 128 };
    match prefix {
        None => true,
        Some(p) => {
            !p.is_empty()
                && p.chars().all(|c| c.is_ascii_digit())
                && p.parse::<u32>().is_ok_and(|n| n <= max)
        }
    }
}

fn is_interface(t: &str) -> bool {
    !t.is_empty()
        && t.chars().count() <= 64
        && !t.starts_with(' ')
        && !t.ends_with(' ')
        && t.chars()
            .all(|c| c.is_ascii_alphanumeric() || " ._:@+/-".contains(c))
}

/// One declared variable.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Variable {
    pub name: String,
    #[serde(rename = "type")]
    pub var_type: VarType,
    pub description: String,
    pub required: bool,
    /// Used when the caller gives no value (already checked against the type).
    pub default: Option<Value>,
    /// Used to check tool arguments: the declared example, else the default, else the type's.
    pub example: Value,
    /// A secret value is redacted from plans, logs and outcomes.
    pub secret: bool,
    /// The line the variable is declared on.
    pub line: usize,
}

/// How long to wait before the runbook runs again for the same device.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Cooldown {
    /// As written (`10m`, `1h30m`).
    pub text: String,
    pub seconds: u64,
}

/// The front matter.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Meta {
    /// `[a-z0-9-]`, unique; also the MCP prompt's name.
    pub name: String,
    pub title: String,
    pub description: String,
    /// Semantic version (`1.2.0`).
    pub version: String,
    pub status: Status,
    pub tags: Vec<String>,
    /// The highest tool tier a step needs.
    pub tier: Tier,
    pub risk: Risk,
    /// In declaration order.
    pub variables: Vec<Variable>,
    /// `YYYY-MM-DD`.
    pub last_reviewed: String,
    pub cooldown: Option<Cooldown>,
}

/// A step: prose for a person (or the assistant) to follow, or a tool call (with the paragraph or
/// list item right before its block as its description).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Step {
    /// 1-based, in document order across Diagnosis, Remediation and Verify; `{step.N/…}` refers
    /// to it.
    pub number: usize,
    pub section: Section,
    /// The file line the step starts on (a tool step's description, else its block).
    pub line: usize,
    pub kind: StepKind,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "snake_case", tag = "kind")]
pub enum StepKind {
    /// A paragraph, a list item (without its marker) or a code block that is not a tool call.
    Prose {
        text: String,
    },
    Tool(ToolStep),
}

/// A ```` ```tool NAME ```` block.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ToolStep {
    /// `category.action`.
    pub tool: String,
    /// The line of the ```` ```tool ```` fence.
    pub line: usize,
    /// The paragraph or list item right before the block, which says what the call is for.
    pub description: Option<String>,
    /// The arguments as written: strings may hold placeholders.
    pub arguments: Map<String, Value>,
    /// The conditions of the following ```` ```expect ```` block; a step with any is a gate.
    pub expect: Vec<Condition>,
}

impl ToolStep {
    /// Whether the step is a verify gate.
    pub fn is_gate(&self) -> bool {
        !self.expect.is_empty()
    }
}

/// A parsed runbook.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Runbook {
    /// Where it came from (`runbooks/interface-down.md`, or the operator's path).
    pub file: String,
    pub meta: Meta,
    /// The `# ` title line, if any.
    pub heading: Option<String>,
    /// The Symptom section's text.
    pub symptom: String,
    pub steps: Vec<Step>,
    /// SHA-256 of the file's bytes, lowercase hex: identifies this version.
    pub hash: String,
    /// The file's text.
    #[serde(skip)]
    pub source: String,
}

impl Runbook {
    /// Parses a file's text; every problem found is reported.
    pub fn parse(file: &str, text: &str) -> Result<Runbook, Vec<Problem>> {
        parse(file, text)
    }

    pub fn name(&self) -> &str {
        &self.meta.name
    }

    pub fn variable(&self, name: &str) -> Option<&Variable> {
        self.meta.variables.iter().find(|v| v.name == name)
    }

    pub fn step(&self, number: usize) -> Option<&Step> {
        number.checked_sub(1).and_then(|i| self.steps.get(i))
    }

    /// The tool steps with their step.
    pub fn tool_steps(&self) -> impl Iterator<Item = (&Step, &ToolStep)> {
        self.steps.iter().filter_map(|s| match &s.kind {
            StepKind::Tool(t) => Some((s, t)),
            StepKind::Prose { .. } => None,
        })
    }
}

/// SHA-256 of some bytes, lowercase hex.
pub fn content_hash(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

const FRONT_KEYS: &[&str] = &[
    "name",
    "title",
    "description",
    "version",
    "status",
    "tags",
    "tier",
    "risk",
    "variables",
    "last_reviewed",
    "cooldown",
];
const VARIABLE_KEYS: &[&str] = &[
    "type",
    "description",
    "required",
    "default",
    "example",
    "secret",
];
pub(crate) const MAX_TAGS: usize = 20;
pub(crate) const MAX_VARIABLES: usize = 32;
pub(crate) const MAX_TITLE: usize = 120;
pub(crate) const MAX_DESCRIPTION: usize = 1000;

/// Parses a runbook file.
pub fn parse(file: &str, text: &str) -> Result<Runbook, Vec<Problem>> {
    let mut p = Problems {
        file,
        list: Vec::new(),
    };
    if text.len() > MAX_FILE_BYTES {
        p.add(
            0,
            format!(
                "the file has {} bytes; a runbook may have at most {MAX_FILE_BYTES} (256 KiB)",
                text.len()
            ),
        );
        return Err(p.list);
    }
    let hash = content_hash(text.as_bytes());
    let body_text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let lines: Vec<&str> = body_text
        .split('\n')
        .map(|l| l.strip_suffix('\r').unwrap_or(l))
        .collect();
    for (i, l) in lines.iter().enumerate() {
        if let Some(c) = l
            .chars()
            .enumerate()
            .find(|(_, c)| *c != '\t' && domain::text::is_control(*c))
            .map(|(position, ch)| domain::text::ControlChar { ch, position })
        {
            p.add(
                i + 1,
                format!(
                    "{c}; runbooks are plain text (tabs are the only control character allowed)"
                ),
            );
        }
    }
    if lines.first().map(|l| l.trim_end()) != Some("---") {
        p.add(
            1,
            "a runbook starts with YAML front matter: a line \"---\", the fields, and another \"---\"",
        );
        return Err(p.list);
    }
    let Some(end) = lines
        .iter()
        .skip(1)
        .position(|l| matches!(l.trim_end(), "---" | "..."))
        .map(|i| i + 1)
    else {
        p.add(
            1,
            "the front matter is not closed: add a line \"---\" after its last field",
        );
        return Err(p.list);
    };
    let front = lines[1..end].join("\n");
    let meta = match yaml::parse(&front, 2) {
        Ok(Some(node)) => front_matter(&node, &mut p),
        Ok(None) => {
            p.add(1, "the front matter is empty; it needs name, title, description, version, status, tags, tier, risk, variables and last_reviewed");
            None
        }
        Err(e) => {
            p.add(e.line, format!("front matter: {}", e.reason));
            None
        }
    };
    let body = body(&lines, end + 1, &mut p);
    match (meta, p.list.is_empty()) {
        (Some(meta), true) => Ok(Runbook {
            file: file.to_owned(),
            meta,
            heading: body.heading,
            symptom: body.symptom,
            steps: body.steps,
            hash,
            source: text.to_owned(),
        }),
        _ => Err(p.list),
    }
}

struct Problems<'a> {
    file: &'a str,
    list: Vec<Problem>,
}

impl Problems<'_> {
    fn add(&mut self, line: usize, reason: impl Into<String>) {
        self.list.push(Problem::new(self.file, line, reason));
    }
}

fn front_matter(node: &Node, p: &mut Problems<'_>) -> Option<Meta> {
    let Node::Map { entries, line } = node else {
        p.add(
            node.line(),
            format!(
                "the front matter must be a mapping of fields, not {}",
                node.kind()
            ),
        );
        return None;
    };
    let before = p.list.len();
    for (k, _) in entries {
        if !FRONT_KEYS.contains(&k.text.as_str()) {
            p.add(
                k.line,
                format!(
                    "unknown field {}; the front matter takes {}",
                    quote(&k.text, 40),
                    FRONT_KEYS.join(", ")
                ),
            );
        }
    }
    let get = |key: &str| entries.iter().find(|(k, _)| k.text == key).map(|(_, v)| v);
    let text = |key: &str, max: usize, p: &mut Problems<'_>| -> Option<String> {
        let Some(v) = get(key) else {
            p.add(*line, format!("the front matter needs {key}"));
            return None;
        };
        match v.as_text() {
            Some(t) if v.is_null() || t.trim().is_empty() => {
                p.add(v.line(), format!("{key} is empty"));
                None
            }
            Some(t) if t.chars().count() > max => {
                p.add(
                    v.line(),
                    format!("{key} has {} characters; at most {max}", t.chars().count()),
                );
                None
            }
            Some(t) => match domain::text::find_control(t) {
                Some(c) => {
                    p.add(
                        v.line(),
                        format!("{key} contains {c}; it must be plain text"),
                    );
                    None
                }
                None => Some(t.trim().to_owned()),
            },
            None => {
                p.add(v.line(), format!("{key} must be text, not {}", v.kind()));
                None
            }
        }
    };
    let name = text("name", 64, p);
    if let Some(n) = &name
        && !is_runbook_name(n)
    {
        let at = get("name").map_or(*line, Node::line);
        p.add(
            at,
            format!(
                "name {} is not allowed: 1-64 characters of lowercase letters, digits and '-', starting and ending with a letter or digit",
                quote(n, 64)
            ),
        );
    }
    let title = text("title", MAX_TITLE, p);
    let description = text("description", MAX_DESCRIPTION, p);
    let version = text("version", 64, p);
    if let Some(v) = &version
        && !is_semver(v)
    {
        let at = get("version").map_or(*line, Node::line);
        p.add(
            at,
            format!(
                "version {} is not a semantic version MAJOR.MINOR.PATCH such as 1.2.0",
                quote(v, 40)
            ),
        );
    }
    let word = |key: &str, p: &mut Problems<'_>| -> Option<(String, usize)> {
        text(key, 40, p).map(|t| (t, get(key).map_or(*line, Node::line)))
    };
    let status = word("status", p).and_then(|(t, l)| {
        Status::parse(&t)
            .map_err(|e| p.add(l, format!("status: {e}")))
            .ok()
    });
    let tier = word("tier", p).and_then(|(t, l)| match t.as_str() {
        "free" => Some(Tier::Free),
        "basic" => Some(Tier::Basic),
        "professional" => Some(Tier::Professional),
        _ => {
            p.add(
                l,
                format!(
                    "tier {} is not a tool tier; allowed: free | basic | professional (the highest tier of the tools its steps call)",
                    quote(&t, 40)
                ),
            );
            None
        }
    });
    let risk = word("risk", p).and_then(|(t, l)| {
        Risk::parse(&t)
            .map_err(|e| p.add(l, format!("risk: {e}")))
            .ok()
    });
    let last_reviewed = word("last_reviewed", p).and_then(|(t, l)| {
        if is_date(&t) {
            Some(t)
        } else {
            p.add(
                l,
                format!("last_reviewed {} is not a date YYYY-MM-DD", quote(&t, 40)),
            );
            None
        }
    });
    let tags = tags(get("tags"), *line, p);
    let cooldown = match get("cooldown") {
        None => None,
        Some(v) if v.is_null() => None,
        Some(v) => match v.as_text().and_then(|t| parse_duration(t.trim())) {
            Some(seconds) => Some(Cooldown {
                text: v.as_text().unwrap_or_default().trim().to_owned(),
                seconds,
            }),
            None => {
                p.add(
                    v.line(),
                    "cooldown must be a duration such as 30s, 10m, 1h or 1h30m (units s, m, h, d, w)",
                );
                None
            }
        },
    };
    let variables = variables(get("variables"), p);
    if p.list.len() != before {
        return None;
    }
    Some(Meta {
        name: name?,
        title: title?,
        description: description?,
        version: version?,
        status: status?,
        tags,
        tier: tier?,
        risk: risk?,
        variables,
        last_reviewed: last_reviewed?,
        cooldown,
    })
}

fn tags(node: Option<&Node>, line: usize, p: &mut Problems<'_>) -> Vec<String> {
    let Some(node) = node else {
        p.add(
            line,
            "the front matter needs tags: a list such as [dhcp, lan] that search can match",
        );
        return Vec::new();
    };
    let Node::Seq { items, line } = node else {
        p.add(node.line(), "tags must be a list such as [dhcp, lan]");
        return Vec::new();
    };
    if items.len() > MAX_TAGS {
        p.add(*line, format!("at most {MAX_TAGS} tags"));
    }
    let mut out = Vec::new();
    for item in items {
        match item.as_text() {
            Some(t) if is_runbook_name(t) && t.len() <= 32 => {
                if out.iter().any(|o| o == t) {
                    p.add(item.line(), format!("tag {} is listed twice", quote(t, 32)));
                } else {
                    out.push(t.to_owned());
                }
            }
            _ => p.add(
                item.line(),
                format!(
                    "tag {} is not allowed: 1-32 lowercase letters, digits and '-'",
                    quote(item.as_text().unwrap_or(item.kind()), 40)
                ),
            ),
        }
    }
    out
}

fn variables(node: Option<&Node>, p: &mut Problems<'_>) -> Vec<Variable> {
    let Some(node) = node else {
        return Vec::new();
    };
    if node.is_null() {
        return Vec::new();
    }
    let Node::Map { entries, line } = node else {
        p.add(
            node.line(),
            "variables must be a mapping: NAME: {type: TYPE, description: ..., required: true}",
        );
        return Vec::new();
    };
    if entries.len() > MAX_VARIABLES {
        p.add(*line, format!("at most {MAX_VARIABLES} variables"));
    }
    let mut out = Vec::new();
    for (key, spec) in entries {
        if !is_variable_name(&key.text) {
            p.add(
                key.line,
                format!(
                    "variable name {} is not allowed: a lowercase letter, then lowercase letters, digits or '_' (at most 40)",
                    quote(&key.text, 40)
                ),
            );
            continue;
        }
        if let Some(v) = variable(&key.text, key.line, spec, p) {
            out.push(v);
        }
    }
    out
}

fn variable(name: &str, line: usize, spec: &Node, p: &mut Problems<'_>) -> Option<Variable> {
    let Node::Map { entries, .. } = spec else {
        p.add(
            spec.line(),
            format!(
                "variable {name} must be a mapping such as {{type: string, description: ..., required: true}}"
            ),
        );
        return None;
    };
    let before = p.list.len();
    for (k, _) in entries {
        if !VARIABLE_KEYS.contains(&k.text.as_str()) {
            p.add(
                k.line,
                format!(
                    "variable {name}: unknown field {}; a variable takes {}",
                    quote(&k.text, 40),
                    VARIABLE_KEYS.join(", ")
                ),
            );
        }
    }
    let get = |key: &str| entries.iter().find(|(k, _)| k.text == key).map(|(_, v)| v);
    let var_type = match get("type").and_then(Node::as_text) {
        Some(t) => VarType::parse(t)
            .map_err(|e| {
                p.add(
                    get("type").map_or(line, Node::line),
                    format!("variable {name}: {e}"),
                )
            })
            .ok(),
        None => {
            p.add(
                line,
                format!("variable {name} needs a type: {}", VarType::allowed()),
            );
            None
        }
    };
    let description = match get("description").and_then(Node::as_text) {
        Some(d)
            if !d.trim().is_empty()
                && d.chars().count() <= 500
                && domain::text::find_control(d).is_none() =>
        {
            d.trim().to_owned()
        }
        _ => {
            p.add(
                line,
                format!("variable {name} needs a description (plain text, at most 500 characters) saying what to give"),
            );
            String::new()
        }
    };
    let flag = |key: &str, p: &mut Problems<'_>| -> bool {
        match get(key) {
            None => false,
            Some(Node::Scalar {
                text, plain: true, ..
            }) if text == "true" => true,
            Some(Node::Scalar {
                text, plain: true, ..
            }) if text == "false" => false,
            Some(v) => {
                p.add(
                    v.line(),
                    format!("variable {name}: {key} must be true or false"),
                );
                false
            }
        }
    };
    let required = flag("required", p);
    let secret = flag("secret", p);
    let var_type = var_type?;
    let value = |key: &str, p: &mut Problems<'_>| -> Option<Value> {
        let v = get(key)?;
        let Some(text) = v.as_text() else {
            p.add(
                v.line(),
                format!(
                    "variable {name}: {key} must be a single value, not {}",
                    v.kind()
                ),
            );
            return None;
        };
        var_type
            .coerce(&Value::String(text.to_owned()))
            .map_err(|e| {
                p.add(
                    v.line(),
                    format!("variable {name}: {key} {}: {e}", quote(text, 60)),
                );
            })
            .ok()
    };
    let default = value("default", p);
    let example = value("example", p);
    if required && default.is_some() {
        p.add(
            line,
            format!("variable {name} is required and has a default; drop one (a default makes it optional)"),
        );
    }
    if p.list.len() != before {
        return None;
    }
    Some(Variable {
        name: name.to_owned(),
        var_type,
        description,
        required,
        example: example
            .or_else(|| default.clone())
            .unwrap_or_else(|| var_type.example()),
        default,
        secret,
        line,
    })
}

/// `[a-z0-9-]`, 1-64, starting and ending with a letter or digit.
pub fn is_runbook_name(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 64
        && s.bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        && !s.starts_with('-')
        && !s.ends_with('-')
}

/// A lowercase letter, then lowercase letters, digits or `_`; at most 40.
pub fn is_variable_name(s: &str) -> bool {
    s.len() <= 40
        && s.bytes().next().is_some_and(|b| b.is_ascii_lowercase())
        && s.bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_')
}

/// `MAJOR.MINOR.PATCH`, with an optional `-pre.release` and `+build`.
pub fn is_semver(s: &str) -> bool {
    let (core, build) = match s.split_once('+') {
        Some((c, b)) => (c, Some(b)),
        None => (s, None),
    };
    let (core, pre) = match core.split_once('-') {
        Some((c, p)) => (c, Some(p)),
        None => (core, None),
    };
    let number = |n: &str| {
        !n.is_empty()
            && n.bytes().all(|b| b.is_ascii_digit())
            && (n == "0" || !n.starts_with('0'))
            && n.len() <= 9
    };
    let ident = |i: &str| {
        !i.is_empty()
            && i.split('.').all(|part| {
                !part.is_empty() && part.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
            })
    };
    let parts: Vec<&str> = core.split('.').collect();
    parts.len() == 3
        && parts.iter().all(|n| number(n))
        && pre.is_none_or(ident)
        && build.is_none_or(ident)
}

fn is_date(s: &str) -> bool {
    let b = s.as_bytes();
    if b.len() != 10 || b[4] != b'-' || b[7] != b'-' {
        return false;
    }
    let num = |r: std::ops::Range<usize>| -> Option<u32> {
        let part = s.get(r)?;
        if part.bytes().all(|c| c.is_ascii_digit()) {
            part.parse().ok()
        } else {
            None
        }
    };
    let (Some(y), Some(m), Some(d)) = (num(0..4), num(5..7), num(8..10)) else {
        return false;
    };
    let leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
    let days = match m {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        2 if leap => 29,
        2 => 28,
        _ => return false,
    };
    (2000..=2999).contains(&y) && (1..=days).contains(&d)
}

/// `30s`, `10m`, `1h30m`, `2d`, `1w` → seconds; at most 90 days.
pub fn parse_duration(s: &str) -> Option<u64> {
    if s.is_empty() {
        return None;
    }
    let mut total: u64 = 0;
    let mut digits = String::new();
    for c in s.chars() {
        if c.is_ascii_digit() {
            digits.push(c);
            if digits.len() > 7 {
                return None;
            }
            continue;
        }
        let unit = match c {
            's' => 1,
            'm' => 60,
            'h' => 3600,
            'd' => 86_400,
            'w' => 604_800,
            _ => return None,
        };
        let n: u64 = digits.parse().ok()?;
        digits.clear();
        total = total.checked_add(n.checked_mul(unit)?)?;
    }
    (digits.is_empty() && total > 0 && total <= 90 * 86_400).then_some(total)
}

/// What the body holds.
struct Body {
    heading: Option<String>,
    symptom: String,
    steps: Vec<Step>,
}

/// A paragraph or list item being collected.
struct Pending {
    line: usize,
    text: String,
    list_item: bool,
}

struct BodyParser<'p, 'f> {
    p: &'p mut Problems<'f>,
    section: Option<(Section, usize)>,
    seen: Vec<Section>,
    heading: Option<String>,
    symptom: Vec<String>,
    symptom_line: usize,
    steps: Vec<Step>,
    pending: Option<Pending>,
    /// The last paragraph or list item of a step section: a tool block right after it takes it
    /// as its description; anything else makes it a prose step.
    held: Option<(Section, usize, String)>,
    /// The index in `steps` of a tool step an expect block may still attach to.
    last_tool: Option<usize>,
}

impl BodyParser<'_, '_> {
    fn flush(&mut self) {
        let Some(pending) = self.pending.take() else {
            return;
        };
        self.last_tool = None;
        let text = pending.text.trim().to_owned();
        if text.is_empty() {
            return;
        }
        match self.section {
            None => self.p.add(
                pending.line,
                "text before the first section; put it under ## Symptom or in the front matter's description",
            ),
            Some((Section::Symptom, _)) => self.symptom.push(if pending.list_item {
                format!("- {text}")
            } else {
                text
            }),
            Some((section, _)) => {
                self.release();
                self.held = Some((section, pending.line, text));
            }
        }
    }

    /// Makes the held paragraph a prose step.
    fn release(&mut self) {
        if let Some((section, line, text)) = self.held.take() {
            self.push_step(section, line, StepKind::Prose { text });
        }
    }

    fn push_step(&mut self, section: Section, line: usize, kind: StepKind) {
        let number = self.steps.len() + 1;
        self.steps.push(Step {
            number,
            section,
            line,
            kind,
        });
    }

    fn heading(&mut self, level: usize, title: &str, line: usize) {
        self.flush();
        self.release();
        self.last_tool = None;
        if level == 1 {
            if self.heading.is_some() || self.section.is_some() {
                self.p.add(
                    line,
                    "a runbook has one # title, before its sections; use ## for the sections",
                );
            } else {
                self.heading = Some(title.to_owned());
            }
            return;
        }
        let Ok(section) = Section::parse(&title.to_ascii_lowercase()) else {
            self.p.add(
                line,
                format!(
                    "unknown section {}; a runbook has ## Symptom, ## Diagnosis, ## Remediation and ## Verify, in that order",
                    quote(title, 40)
                ),
            );
            return;
        };
        if self.seen.contains(&section) {
            self.p.add(
                line,
                format!("section ## {} appears twice", section.heading()),
            );
            return;
        }
        if let Some(last) = self.seen.last()
            && *last > section
        {
            self.p.add(
                line,
                format!(
                    "section ## {} comes after ## {}; the order is Symptom, Diagnosis, Remediation, Verify",
                    section.heading(),
                    last.heading()
                ),
            );
        }
        self.seen.push(section);
        if section == Section::Symptom {
            self.symptom_line = line;
        }
        self.section = Some((section, line));
    }

    fn fence(&mut self, info: &str, body: &str, open_line: usize) {
        self.flush();
        let (kind, rest) = info.split_once(char::is_whitespace).unwrap_or((info, ""));
        match kind {
            "tool" => {
                self.last_tool = None;
                self.tool(rest.trim(), body, open_line);
            }
            "expect" => {
                self.release();
                let Some(index) = self.last_tool.take() else {
                    self.p.add(
                        open_line,
                        "an expect block must directly follow a ```tool block (only blank lines between)",
                    );
                    return;
                };
                match expect::parse_block(body, open_line + 1) {
                    Ok(conditions) => {
                        if let Some(Step {
                            kind: StepKind::Tool(t),
                            ..
                        }) = self.steps.get_mut(index)
                        {
                            t.expect = conditions;
                        }
                    }
                    Err(errors) => {
                        for (line, reason) in errors {
                            self.p.add(line.max(open_line), format!("expect: {reason}"));
                        }
                    }
                }
            }
            _ => {
                self.release();
                self.last_tool = None;
                let text = format!("```{info}\n{body}\n```");
                match self.section {
                    None => self.p.add(
                        open_line,
                        "a code block before the first section; put it under a section",
                    ),
                    Some((Section::Symptom, _)) => self.symptom.push(text),
                    Some((section, _)) => {
                        self.push_step(section, open_line, StepKind::Prose { text });
                    }
                }
            }
        }
    }

    fn tool(&mut self, name: &str, body: &str, line: usize) {
        let section = match self.section {
            None | Some((Section::Symptom, _)) => {
                self.p.add(
                    line,
                    "tool steps belong under ## Diagnosis, ## Remediation or ## Verify",
                );
                return;
            }
            Some((section, _)) => section,
        };
        if !is_tool_name(name) {
            self.p.add(
                line,
                format!(
                    "```tool needs a tool name category.action (lowercase letters, digits, '_'), such as interface.get; found {}",
                    quote(name, 60)
                ),
            );
            return;
        }
        let arguments = if body.trim().is_empty() {
            Map::new()
        } else {
            match serde_json::from_str::<Value>(body) {
                Ok(Value::Object(map)) => map,
                Ok(other) => {
                    self.p.add(
                        line + 1,
                        format!(
                            "the arguments of {name} must be a JSON object such as {{\"device_id\": \"{{var.device}}\"}}, not {}",
                            json_kind(&other)
                        ),
                    );
                    return;
                }
                Err(e) => {
                    self.p.add(
                        line + e.line().max(1),
                        format!("the arguments of {name} are not valid JSON: {e}"),
                    );
                    return;
                }
            }
        };
        // The paragraph or list item right before the block describes it.
        let (start, description) = match self.held.take() {
            Some((_, l, text)) => (l, Some(text)),
            None => (line, None),
        };
        self.push_step(
            section,
            start,
            StepKind::Tool(ToolStep {
                tool: name.to_owned(),
                line,
                description,
                arguments,
                expect: Vec::new(),
            }),
        );
        self.last_tool = Some(self.steps.len() - 1);
    }
}

fn json_kind(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "a list",
        Value::Object(_) => "an object",
    }
}

/// `category.action`, each part a lowercase letter then lowercase letters, digits or `_`.
pub fn is_tool_name(s: &str) -> bool {
    let part = |p: &str| {
        p.bytes().next().is_some_and(|b| b.is_ascii_lowercase())
            && p.bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_')
    };
    s.len() <= 64 && s.split_once('.').is_some_and(|(c, a)| part(c) && part(a))
}

/// A list item's marker (`- `, `* `, `+ `, `1. `, `1) `) and the text after it.
fn list_item(trimmed: &str) -> Option<&str> {
    for marker in ["- ", "* ", "+ "] {
        if let Some(rest) = trimmed.strip_prefix(marker) {
            return Some(rest);
        }
    }
    if matches!(trimmed, "-" | "*" | "+") {
        return Some("");
    }
    let digits = trimmed.bytes().take_while(u8::is_ascii_digit).count();
    if (1..=3).contains(&digits) {
        let rest = &trimmed[digits..];
        for marker in [". ", ") "] {
            if let Some(r) = rest.strip_prefix(marker) {
                return Some(r);
            }
        }
    }
    None
}

/// An opening fence: its character, length and info string.
pub(crate) fn fence_open(trimmed: &str) -> Option<(char, usize, &str)> {
    let c = trimmed.chars().next().filter(|c| matches!(c, '`' | '~'))?;
    let n = trimmed.chars().take_while(|x| *x == c).count();
    if n < 3 {
        return None;
    }
    let info = trimmed[n..].trim();
    if c == '`' && info.contains('`') {
        return None;
    }
    Some((c, n, info))
}

fn body(lines: &[&str], start: usize, p: &mut Problems<'_>) -> Body {
    let mut b = BodyParser {
        p,
        section: None,
        seen: Vec::new(),
        heading: None,
        symptom: Vec::new(),
        symptom_line: 0,
        steps: Vec::new(),
        pending: None,
        held: None,
        last_tool: None,
    };
    let mut i = start;
    while i < lines.len() {
        let line = lines[i];
        let number = i + 1;
        let indent = line.len() - line.trim_start().len();
        let trimmed = line.trim();
        i += 1;
        if trimmed.is_empty() {
            // A blank line ends a paragraph or list item (an expect block may still follow a
            // tool block across blank lines: flushing only forgets the tool when text came
            // after it).
            b.flush();
            continue;
        }
        if let Some((c, n, info)) = fence_open(trimmed) {
            let mut body_lines = Vec::new();
            let mut closed = false;
            while i < lines.len() {
                let l = lines[i];
                i += 1;
                let t = l.trim();
                if t.len() >= n && t.chars().all(|x| x == c) {
                    closed = true;
                    break;
                }
                let strip = l.len() - l.trim_start().len();
                body_lines.push(&l[strip.min(indent)..]);
            }
            if !closed {
                b.flush();
                b.p.add(
                    number,
                    format!(
                        "this code block is not closed: add a line {}",
                        c.to_string().repeat(n)
                    ),
                );
                break;
            }
            b.fence(info, &body_lines.join("\n"), number);
            continue;
        }
        if indent <= 3 && trimmed.starts_with('#') {
            let level = trimmed.bytes().take_while(|x| *x == b'#').count();
            let rest = &trimmed[level..];
            if (level == 1 || level == 2) && (rest.starts_with(' ') || rest.is_empty()) {
                b.heading(level, rest.trim(), number);
                continue;
            }
        }
        if let Some(rest) = list_item(trimmed) {
            let nested = indent >= 2 && b.pending.as_ref().is_some_and(|p| p.list_item);
            if nested {
                if let Some(p) = b.pending.as_mut() {
                    p.text.push('\n');
                    p.text.push_str(trimmed);
                }
            } else {
                b.flush();
                b.last_tool = None;
                b.pending = Some(Pending {
                    line: number,
                    text: rest.to_owned(),
                    list_item: true,
                });
            }
            continue;
        }
        match b.pending.as_mut() {
            Some(p) => {
                p.text.push('\n');
                p.text.push_str(trimmed);
            }
            None => {
                b.last_tool = None;
                b.pending = Some(Pending {
                    line: number,
                    text: trimmed.to_owned(),
                    list_item: false,
                });
            }
        }
    }
    b.flush();
    b.release();
    let symptom = b.symptom.join("\n");
    for section in Section::ALL {
        if !b.seen.contains(section) {
            b.p.add(
                0,
                format!(
                    "section ## {} is missing; a runbook has ## Symptom, ## Diagnosis, ## Remediation and ## Verify, in that order",
                    section.heading()
                ),
            );
        }
    }
    if b.seen.contains(&Section::Symptom) && symptom.trim().is_empty() {
        b.p.add(
            b.symptom_line,
            "## Symptom is empty; say what is seen (alerts, metrics, what users report)",
        );
    }
    if b.steps.is_empty() {
        b.p.add(
            0,
            "the runbook has no steps; Diagnosis, Remediation and Verify hold prose steps (paragraphs, list items) and ```tool blocks",
        );
    }
    Body {
        heading: b.heading,
        symptom,
        steps: b.steps,
    }
}
