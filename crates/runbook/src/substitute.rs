//! Placeholders and their values: `{var.name}` from the caller's inputs, `{env[key]}` from an
//! `env.yaml` map, `{step.N./json/pointer}` from the result of an earlier tool step — and the
//! [`Redactor`] that keeps secret values out of plans, logs and results.
//!
//! Substitution is one pass over the template: a value that itself contains `{var.x}` or
//! `{env[k]}` is copied as text and never expanded again. A string that is exactly one
//! placeholder takes the value's JSON type (`"{var.count}"` of an integer variable becomes the
//! number `3`); a placeholder inside a longer string is written as text.
//!
//! `env.yaml` is a mapping of keys to values, either `key: value` or
//! `key: {value: ..., secret: true}`; the form `env: {key: value}` is read too. Secret values
//! (and the values of variables declared `secret: true`) go into the redactor.

use std::borrow::Cow;
use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::path::Path;

use serde::Serialize;
use serde_json::{Map, Value};

use crate::expect::Condition;
use crate::format::Runbook;
use crate::yaml::{self, Node};
use crate::{MAX_FILE_BYTES, Problem, quote};

/// A placeholder found in a template.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case", tag = "kind")]
pub enum Placeholder {
    /// `{var.name}`
    Var { name: String },
    /// `{env[key]}`
    Env { key: String },
    /// `{step.N./pointer}`: the value at `pointer` in step N's result (the whole result for an
    /// empty pointer).
    Step { step: usize, pointer: String },
}

impl fmt::Display for Placeholder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Placeholder::Var { name } => write!(f, "{{var.{name}}}"),
            Placeholder::Env { key } => write!(f, "{{env[{key}]}}"),
            Placeholder::Step { step, pointer } => write!(f, "{{step.{step}.{pointer}}}"),
        }
    }
}

/// How placeholders are written, for messages.
pub const FORMS: &str = "{var.NAME}, {env[KEY]} and {step.N./JSON/POINTER}";

/// A piece of a template.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Segment<'a> {
    Text(&'a str),
    Hole(Placeholder, &'a str),
}

fn is_env_key(k: &str) -> bool {
    !k.is_empty()
        && k.len() <= 64
        && k.bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'-' | b'.'))
}

/// Splits a template into text and placeholders. Something shaped like a placeholder — `{`, a
/// word, then `.` or `[` — that is not one of the three forms is an error; other braces (JSON,
/// PromQL label sets) are text.
pub(crate) fn segments(s: &str) -> Result<Vec<Segment<'_>>, String> {
    let mut out = Vec::new();
    let mut text_start = 0;
    let mut i = 0;
    let bytes = s.as_bytes();
    while i < bytes.len() {
        if bytes[i] != b'{' {
            i += 1;
            continue;
        }
        let word = bytes[i + 1..]
            .iter()
            .take_while(|b| b.is_ascii_alphabetic() || **b == b'_')
            .count();
        let after = bytes.get(i + 1 + word);
        if word == 0 || !matches!(after, Some(b'.' | b'[')) {
            i += 1;
            continue;
        }
        let Some(close) = s[i..].find('}').map(|c| i + c) else {
            return Err(format!(
                "placeholder {} is not closed with }}; placeholders are {FORMS}",
                quote(&s[i..], 40)
            ));
        };
        let inner = &s[i + 1..close];
        let whole = &s[i..=close];
        let bad = || {
            format!(
                "{} is not a placeholder; placeholders are {FORMS}",
                quote(whole, 60)
            )
        };
        let placeholder = if let Some(name) = inner.strip_prefix("var.") {
            if !crate::format::is_variable_name(name) {
                return Err(bad());
            }
            Placeholder::Var {
                name: name.to_owned(),
            }
        } else if let Some(rest) = inner.strip_prefix("env[") {
            match rest.strip_suffix(']') {
                Some(key) if is_env_key(key) => Placeholder::Env {
                    key: key.to_owned(),
                },
                _ => return Err(bad()),
            }
        } else if let Some(rest) = inner.strip_prefix("step.") {
            let (n, pointer) = rest.split_once('.').ok_or_else(bad)?;
            if n.is_empty()
                || n.len() > 4
                || n.starts_with('0')
                || !n.bytes().all(|b| b.is_ascii_digit())
            {
                return Err(bad());
            }
            let step = n.parse::<usize>().map_err(|_| bad())?;
            if !(pointer.is_empty() || pointer.starts_with('/')) {
                return Err(bad());
            }
            Placeholder::Step {
                step,
                pointer: pointer.to_owned(),
            }
        } else {
            return Err(bad());
        };
        if text_start < i {
            out.push(Segment::Text(&s[text_start..i]));
        }
        out.push(Segment::Hole(placeholder, whole));
        i = close + 1;
        text_start = i;
    }
    if text_start < s.len() {
        out.push(Segment::Text(&s[text_start..]));
    }
    Ok(out)
}

/// The placeholders in a template.
pub fn placeholders(s: &str) -> Result<Vec<Placeholder>, String> {
    Ok(segments(s)?
        .into_iter()
        .filter_map(|seg| match seg {
            Segment::Hole(p, _) => Some(p),
            Segment::Text(_) => None,
        })
        .collect())
}

/// Every string (and key) of a JSON value, with the pointer of the value it is in.
pub(crate) fn strings(v: &Value, pointer: String, out: &mut Vec<(String, String, bool)>) {
    match v {
        Value::String(s) => out.push((pointer, s.clone(), false)),
        Value::Array(items) => {
            for (i, item) in items.iter().enumerate() {
                strings(item, format!("{pointer}/{i}"), out);
            }
        }
        Value::Object(map) => {
            for (k, item) in map {
                let p = format!("{pointer}/{}", k.replace('~', "~0").replace('/', "~1"));
                out.push((p.clone(), k.clone(), true));
                strings(item, p, out);
            }
        }
        Value::Null | Value::Bool(_) | Value::Number(_) => {}
    }
}

/// The mask written in place of a secret.
pub const MASK: &str = "(hidden)";

/// Secret values to strip from anything shown or stored.
#[derive(Clone, Default)]
pub struct Redactor {
    /// Longest first, so a secret containing another is masked whole.
    secrets: Vec<String>,
}

impl fmt::Debug for Redactor {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Redactor")
            .field("secrets", &self.secrets.len())
            .finish()
    }
}

impl Redactor {
    pub fn new() -> Self {
        Self::default()
    }

    /// A redactor for these secrets.
    pub fn with<I: IntoIterator<Item = S>, S: AsRef<str>>(secrets: I) -> Self {
        let mut r = Self::new();
        for s in secrets {
            r.add(s.as_ref());
        }
        r
    }

    /// Adds a secret (and its JSON-escaped form, so it is also found inside serialized JSON).
    /// Empty values are ignored.
    pub fn add(&mut self, secret: &str) {
        if secret.is_empty() {
            return;
        }
        let mut forms = vec![secret.to_owned()];
        if let Ok(json) = serde_json::to_string(secret) {
            let inner = &json[1..json.len() - 1];
            if inner != secret {
                forms.push(inner.to_owned());
            }
        }
        for f in forms {
            if !self.secrets.contains(&f) {
                self.secrets.push(f);
            }
        }
        self.secrets
            .sort_by(|a, b| b.len().cmp(&a.len()).then_with(|| a.cmp(b)));
    }

    /// Adds every secret of another redactor.
    pub fn extend(&mut self, other: &Redactor) {
        for s in &other.secrets {
            self.add(s);
        }
    }

    pub fn is_empty(&self) -> bool {
        self.secrets.is_empty()
    }

    /// `text` with every secret replaced by [`MASK`].
    pub fn redact<'a>(&self, text: &'a str) -> Cow<'a, str> {
        let mut out = Cow::Borrowed(text);
        for s in &self.secrets {
            if out.contains(s.as_str()) {
                out = Cow::Owned(out.replace(s.as_str(), MASK));
            }
        }
        out
    }

    /// A JSON value with every secret in its strings and keys replaced.
    pub fn redact_value(&self, v: &Value) -> Value {
        if self.is_empty() {
            return v.clone();
        }
        match v {
            Value::String(s) => Value::String(self.redact(s).into_owned()),
            Value::Array(items) => {
                Value::Array(items.iter().map(|i| self.redact_value(i)).collect())
            }
            Value::Object(map) => Value::Object(
                map.iter()
                    .map(|(k, i)| (self.redact(k).into_owned(), self.redact_value(i)))
                    .collect(),
            ),
            Value::Null | Value::Bool(_) | Value::Number(_) => v.clone(),
        }
    }
}

/// One value of `env.yaml`.
#[derive(Clone, PartialEq, Eq)]
pub struct EnvEntry {
    pub value: String,
    pub secret: bool,
}

impl fmt::Debug for EnvEntry {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let shown: &str = if self.secret { MASK } else { &self.value };
        f.debug_struct("EnvEntry")
            .field("value", &shown)
            .field("secret", &self.secret)
            .finish()
    }
}

/// The `env.yaml` map.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Env {
    entries: BTreeMap<String, EnvEntry>,
}

/// Longest value accepted in `env.yaml`, in characters.
pub const MAX_ENV_VALUE: usize = 4096;

impl Env {
    /// An empty map.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds or replaces a value.
    pub fn insert(&mut self, key: &str, value: &str, secret: bool) {
        self.entries.insert(
            key.to_owned(),
            EnvEntry {
                value: value.to_owned(),
                secret,
            },
        );
    }

    pub fn get(&self, key: &str) -> Option<&EnvEntry> {
        self.entries.get(key)
    }

    pub fn keys(&self) -> impl Iterator<Item = &str> {
        self.entries.keys().map(String::as_str)
    }

    pub fn len(&self) -> usize {
        self.entries.len()
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// Redacts every secret value.
    pub fn redactor(&self) -> Redactor {
        Redactor::with(
            self.entries
                .values()
                .filter(|e| e.secret)
                .map(|e| e.value.as_str()),
        )
    }

    /// Reads and parses `env.yaml`.
    pub fn load(path: &Path) -> Result<Env, Vec<Problem>> {
        let file = path.display().to_string();
        let text = crate::index::read_bounded(path)
            .map_err(|reason| vec![Problem::new(&file, 0, reason)])?;
        Env::parse(&file, &text)
    }

    /// Parses `env.yaml` text; every problem is reported.
    pub fn parse(file: &str, text: &str) -> Result<Env, Vec<Problem>> {
        let problem = |line: usize, reason: String| Problem::new(file, line, reason);
        if text.len() > MAX_FILE_BYTES {
            return Err(vec![problem(
                0,
                format!(
                    "the file has {} bytes; at most {MAX_FILE_BYTES} (256 KiB)",
                    text.len()
                ),
            )]);
        }
        let root = match yaml::parse(text, 1) {
            Ok(None) => return Ok(Env::new()),
            Ok(Some(root)) => root,
            Err(e) => return Err(vec![problem(e.line, e.reason)]),
        };
        let Node::Map { entries, .. } = &root else {
            return Err(vec![problem(
                root.line(),
                "env.yaml must be a mapping of keys to values (key: value)".into(),
            )]);
        };
        // The `env: {key: value}` form.
        let entries = match entries.as_slice() {
            [(k, Node::Map { entries: inner, .. })] if k.text == "env" => inner,
            _ => entries,
        };
        let mut env = Env::new();
        let mut problems = Vec::new();
        for (k, v) in entries {
            if !is_env_key(&k.text) {
                problems.push(problem(
                    k.line,
                    format!(
                        "key {} is not allowed: 1-64 letters, digits, '_', '-' or '.'",
                        quote(&k.text, 64)
                    ),
                ));
                continue;
            }
            let (value, secret) = match v {
                Node::Scalar { .. } if v.is_null() => {
                    problems.push(problem(k.line, format!("{} has no value", k.text)));
                    continue;
                }
                Node::Scalar { text, .. } => (text.clone(), false),
                Node::Map {
                    entries: fields, ..
                } => {
                    let mut value = None;
                    let mut secret = false;
                    for (f, fv) in fields {
                        match (f.text.as_str(), fv) {
                            ("value", Node::Scalar { text, .. }) if !fv.is_null() => {
                                value = Some(text.clone());
                            }
                            ("secret", Node::Scalar { text, plain: true, .. })
                                if text == "true" || text == "false" =>
                            {
                                secret = text == "true";
                            }
                            ("value" | "secret", _) => problems.push(problem(
                                fv.line(),
                                format!(
                                    "{}: value is text, secret is true or false",
                                    k.text
                                ),
                            )),
                            (other, _) => problems.push(problem(
                                f.line,
                                format!(
                                    "{}: unknown field {}; an entry is a value or {{value: ..., secret: true}}",
                                    k.text,
                                    quote(other, 40)
                                ),
                            )),
                        }
                    }
                    match value {
                        Some(v) => (v, secret),
                        None => {
                            problems.push(problem(
                                k.line,
                                format!("{} needs a value: {{value: ..., secret: true}}", k.text),
                            ));
                            continue;
                        }
                    }
                }
                Node::Seq { .. } => {
                    problems.push(problem(
                        v.line(),
                        format!(
                            "{} must be a value or {{value: ..., secret: true}}, not a list",
                            k.text
                        ),
                    ));
                    continue;
                }
            };
            if let Some(c) = domain::text::find_control(&value) {
                problems.push(problem(
                    v.line(),
                    format!("{}: {c} is not allowed in a value", k.text),
                ));
                continue;
            }
            if value.chars().count() > MAX_ENV_VALUE {
                problems.push(problem(
                    v.line(),
                    format!("{}: a value has at most {MAX_ENV_VALUE} characters", k.text),
                ));
                continue;
            }
            env.insert(&k.text, &value, secret);
        }
        if problems.is_empty() {
            Ok(env)
        } else {
            Err(problems)
        }
    }
}

/// A caller's value that does not fit its variable.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct InvalidInput {
    pub name: String,
    /// What is wrong and what the type allows (`expected a whole number such as 5`).
    pub expected: String,
    /// The value given, quoted and cut short (`(hidden)` for a secret variable).
    pub given: String,
}

/// Everything wrong with a caller's inputs, reported at once.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{}", self.describe())]
#[non_exhaustive]
pub struct InputError {
    /// Required variables with no value.
    pub missing: Vec<String>,
    pub invalid: Vec<InvalidInput>,
    /// Names the runbook does not declare (escaped).
    pub unknown: Vec<String>,
    /// The names the runbook declares.
    pub accepted: Vec<String>,
}

impl InputError {
    fn describe(&self) -> String {
        let mut parts = Vec::new();
        if !self.missing.is_empty() {
            parts.push(format!(
                "missing required variables: {}",
                self.missing.join(", ")
            ));
        }
        for i in &self.invalid {
            parts.push(format!(
                "variable {} is {}: {}",
                i.name, i.given, i.expected
            ));
        }
        if !self.unknown.is_empty() {
            parts.push(format!(
                "unknown variables: {} (this runbook takes {})",
                self.unknown.join(", "),
                if self.accepted.is_empty() {
                    "none".to_owned()
                } else {
                    self.accepted.join(", ")
                }
            ));
        }
        parts.join("; ")
    }
}

/// Most unknown input names an error lists.
const MAX_LISTED: usize = 20;

/// The variables' values for one run: checked, typed, defaults applied.
#[derive(Clone, Default)]
pub struct Inputs {
    values: BTreeMap<String, Value>,
    declared: BTreeSet<String>,
    secret: BTreeSet<String>,
}

impl fmt::Debug for Inputs {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let shown: BTreeMap<&str, Cow<'_, Value>> = self
            .values
            .iter()
            .map(|(k, v)| {
                let v = if self.secret.contains(k) {
                    Cow::Owned(Value::from(MASK))
                } else {
                    Cow::Borrowed(v)
                };
                (k.as_str(), v)
            })
            .collect();
        f.debug_struct("Inputs").field("values", &shown).finish()
    }
}

impl Inputs {
    /// Checks a caller's values against the runbook's variables: types checked (text from a
    /// prompt argument is accepted for numbers and booleans), defaults applied, and every
    /// missing required name, wrong value and unknown name listed in one error.
    pub fn resolve(
        runbook: &Runbook,
        given: &BTreeMap<String, Value>,
    ) -> Result<Inputs, InputError> {
        let vars = &runbook.meta.variables;
        let mut inputs = Inputs {
            declared: vars.iter().map(|v| v.name.clone()).collect(),
            secret: vars
                .iter()
                .filter(|v| v.secret)
                .map(|v| v.name.clone())
                .collect(),
            ..Inputs::default()
        };
        let mut err = InputError {
            missing: Vec::new(),
            invalid: Vec::new(),
            unknown: {
                let unknown: Vec<&String> = given
                    .keys()
                    .filter(|k| !inputs.declared.contains(*k))
                    .collect();
                let mut shown: Vec<String> = unknown
                    .iter()
                    .take(MAX_LISTED)
                    .map(|k| {
                        let q = quote(k, 40);
                        q[1..q.len() - 1].to_owned()
                    })
                    .collect();
                if unknown.len() > MAX_LISTED {
                    shown.push(format!("and {} more", unknown.len() - MAX_LISTED));
                }
                shown
            },
            accepted: vars.iter().map(|v| v.name.clone()).collect(),
        };
        for var in vars {
            match given.get(&var.name) {
                Some(value) => match var.var_type.coerce(value) {
                    Ok(v) => {
                        inputs.values.insert(var.name.clone(), v);
                    }
                    Err(expected) => err.invalid.push(InvalidInput {
                        name: var.name.clone(),
                        expected,
                        given: if var.secret {
                            MASK.to_owned()
                        } else {
                            match value {
                                Value::String(s) => quote(s, 60),
                                other => quote(&other.to_string(), 60),
                            }
                        },
                    }),
                },
                None => match &var.default {
                    Some(d) => {
                        inputs.values.insert(var.name.clone(), d.clone());
                    }
                    None if var.required => err.missing.push(var.name.clone()),
                    None => {}
                },
            }
        }
        if err.missing.is_empty() && err.invalid.is_empty() && err.unknown.is_empty() {
            Ok(inputs)
        } else {
            Err(err)
        }
    }

    /// Every variable set to its example value (what validation substitutes).
    pub fn examples(runbook: &Runbook) -> Inputs {
        let vars = &runbook.meta.variables;
        Inputs {
            values: vars
                .iter()
                .map(|v| (v.name.clone(), v.example.clone()))
                .collect(),
            declared: vars.iter().map(|v| v.name.clone()).collect(),
            secret: vars
                .iter()
                .filter(|v| v.secret)
                .map(|v| v.name.clone())
                .collect(),
        }
    }

    pub fn get(&self, name: &str) -> Option<&Value> {
        self.values.get(name)
    }

    /// Whether the runbook declares `name`.
    pub fn is_declared(&self, name: &str) -> bool {
        self.declared.contains(name)
    }

    /// The values as a run's log keeps them: secret ones replaced by a mask.
    pub fn shown(&self) -> BTreeMap<String, Value> {
        self.values
            .iter()
            .map(|(k, v)| {
                let v = if self.secret.contains(k) {
                    Value::from(MASK)
                } else {
                    v.clone()
                };
                (k.clone(), v)
            })
            .collect()
    }

    /// What a run is bound to: SHA-256 of `salt` (the run's id) and every value, secret ones
    /// included, lowercase hex. Continuing a run with other values — a secret one too — gives
    /// another hash; the salt keeps one run's hash from confirming a guessed secret of another.
    pub fn binding(&self, salt: &str) -> String {
        let canonical = serde_json::to_string(&self.values).unwrap_or_default();
        crate::format::content_hash(format!("{salt}\n{canonical}").as_bytes())
    }

    /// The values of variables declared secret.
    pub fn redactor(&self) -> Redactor {
        Redactor::with(
            self.values
                .iter()
                .filter(|(k, _)| self.secret.contains(*k))
                .map(|(_, v)| as_text(v).into_owned()),
        )
    }
}

/// A placeholder that could not be filled.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum SubstituteError {
    #[error("{0}")]
    Malformed(String),
    #[error("{{var.{name}}}: the runbook declares no variable {name}")]
    UnknownVariable { name: String },
    #[error("{{var.{name}}}: variable {name} has no value and no default; give one")]
    Unset { name: String },
    #[error("{{env[{key}]}}: env.yaml has no key {key}{}", known_keys(.known))]
    UnknownEnv { key: String, known: Vec<String> },
    #[error("{{step.{step}...}}: step {step} has not run, or has no result")]
    StepNotRun { step: usize },
    #[error("{{step.{step}.{pointer}}}: step {step}'s result has nothing at {pointer}")]
    StepPointer { step: usize, pointer: String },
}

fn known_keys(known: &[String]) -> String {
    if known.is_empty() {
        " (no env.yaml values are loaded)".to_owned()
    } else {
        format!(" (it has {})", known.join(", "))
    }
}

/// A value written into text: strings as they are, anything else as compact JSON.
pub(crate) fn as_text(v: &Value) -> Cow<'_, str> {
    match v {
        Value::String(s) => Cow::Borrowed(s),
        other => Cow::Owned(other.to_string()),
    }
}

/// Where placeholder values come from.
#[derive(Debug, Clone, Copy)]
pub struct Context<'a> {
    pub inputs: &'a Inputs,
    pub env: Option<&'a Env>,
    /// Results of tool steps already run, by step number. `None` leaves step placeholders as
    /// written (a dry run, before anything ran).
    pub steps: Option<&'a BTreeMap<usize, Value>>,
    /// Leave `{var.name}` of a declared variable with no value as written instead of failing
    /// (a dry run before every input is known).
    pub keep_unset: bool,
}

impl<'a> Context<'a> {
    fn lookup(&self, p: &Placeholder) -> Result<Option<Value>, SubstituteError> {
        match p {
            Placeholder::Var { name } => match self.inputs.get(name) {
                Some(v) => Ok(Some(v.clone())),
                None if self.inputs.is_declared(name) && self.keep_unset => Ok(None),
                None if self.inputs.is_declared(name) => {
                    Err(SubstituteError::Unset { name: name.clone() })
                }
                None => Err(SubstituteError::UnknownVariable { name: name.clone() }),
            },
            Placeholder::Env { key } => match self.env.and_then(|e| e.get(key)) {
                Some(e) => Ok(Some(Value::String(e.value.clone()))),
                None => Err(SubstituteError::UnknownEnv {
                    key: key.clone(),
                    known: self
                        .env
                        .map(|e| e.keys().map(str::to_owned).collect())
                        .unwrap_or_default(),
                }),
            },
            Placeholder::Step { step, pointer } => {
                let Some(results) = self.steps else {
                    return Ok(None);
                };
                let result = results
                    .get(step)
                    .ok_or(SubstituteError::StepNotRun { step: *step })?;
                result.pointer(pointer).cloned().map(Some).ok_or_else(|| {
                    SubstituteError::StepPointer {
                        step: *step,
                        pointer: pointer.clone(),
                    }
                })
            }
        }
    }

    /// Fills the placeholders of a text template.
    pub fn text(&self, template: &str) -> Result<String, SubstituteError> {
        let mut out = String::with_capacity(template.len());
        for seg in segments(template).map_err(SubstituteError::Malformed)? {
            match seg {
                Segment::Text(t) => out.push_str(t),
                Segment::Hole(p, original) => match self.lookup(&p)? {
                    Some(v) => out.push_str(&as_text(&v)),
                    None => out.push_str(original),
                },
            }
        }
        Ok(out)
    }

    /// Fills the placeholders in every string of a JSON value; a string that is exactly one
    /// placeholder takes the value's type.
    pub fn value(&self, template: &Value) -> Result<Value, SubstituteError> {
        Ok(match template {
            Value::String(s) => {
                let segs = segments(s).map_err(SubstituteError::Malformed)?;
                match segs.as_slice() {
                    [Segment::Hole(p, original)] => match self.lookup(p)? {
                        Some(v) => v,
                        None => Value::String((*original).to_owned()),
                    },
                    _ => Value::String(self.text(s)?),
                }
            }
            Value::Array(items) => Value::Array(
                items
                    .iter()
                    .map(|i| self.value(i))
                    .collect::<Result<_, _>>()?,
            ),
            Value::Object(map) => Value::Object(self.arguments(map)?),
            Value::Null | Value::Bool(_) | Value::Number(_) => template.clone(),
        })
    }

    /// Fills a tool step's arguments.
    pub fn arguments(
        &self,
        template: &Map<String, Value>,
    ) -> Result<Map<String, Value>, SubstituteError> {
        template
            .iter()
            .map(|(k, v)| Ok((k.clone(), self.value(v)?)))
            .collect()
    }

    /// Fills the placeholders of an expect condition's literal.
    pub fn condition(&self, c: &Condition) -> Result<Condition, SubstituteError> {
        Ok(Condition {
            literal: self.value(&c.literal)?,
            ..c.clone()
        })
    }
}
