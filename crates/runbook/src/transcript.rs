//! Turning the tool calls that solved a problem into a draft runbook: which calls become steps and
//! in which section, which values become variables, and markdown that cannot be made to say more
//! than the calls did — checked like every runbook before it is handed back.
//!
//! The rules, in the order they apply:
//!
//! - At most [`MAX_CALLS`] calls. A tool name that is not `category.action` (a newline, a
//!   backtick, spaces) refuses the whole transcript, whatever the call's outcome: the name would
//!   be written into the markdown.
//! - Calls that failed are left out, and so are the calls of the approval workflow (`plan.*`
//!   except `plan.create`: they act on one plan id of that moment) and `runbook.*` calls (reading
//!   or writing runbooks is not part of a procedure). The draft's last paragraph lists them.
//! - Every other call must name a catalog tool and have plain arguments: no control characters
//!   (a newline in a value could not stay on the block's one JSON line after a check), nothing a
//!   runbook would read as a placeholder (`{var.x}`), and all of them within
//!   [`MAX_FILE_BYTES`](crate::MAX_FILE_BYTES).
//! - Variables: the value of every `device_id` argument (at any depth) becomes `{var.device}`,
//!   the next distinct one `{var.device_2}`, …; every IPv4 or IPv6 address or prefix inside a
//!   string value becomes `{var.address}`, `{var.address_2}`, … (`0.0.0.0/0` and `::/0` stay:
//!   they mean "any", not a particular network). All are required and none has a default — a
//!   draft must never act on the router or address it was recorded on unless told so. An
//!   address's seen value is its `example` (used only to check the arguments) and is named in its
//!   description; a device's is not written anywhere.
//! - Sections: reads before the first write are Diagnosis; from the first write to the last one
//!   (with the reads between them, in order, since they looked at what the change did) is
//!   Remediation; the reads after the last write are Verify. With no read after the last write —
//!   or no write at all — Verify repeats the last Diagnosis read.
//!
//! Argument values are written as one line of JSON inside the ```` ```tool ```` block, so nothing
//! in a value (backticks, `## Remediation`) can close the block or start a section; symptom lines
//! that would read as a heading or a fence are escaped with a backslash.

use std::fmt;

use catalog::{Catalog, ToolSpec};
use domain::Tier;
use serde::Serialize;
use serde_json::{Map, Value};

use crate::format::{self, Risk, Runbook, VarType};
use crate::substitute;
use crate::validate::{self, rank};
use crate::{MAX_FILE_BYTES, quote};

/// The most calls a transcript may have.
pub const MAX_CALLS: usize = 100;

/// The longest symptom accepted, in characters: a few paragraphs of what was seen.
pub const MAX_SYMPTOM: usize = 8000;

/// One tool call as the assistant made it.
#[derive(Debug, Clone, PartialEq)]
pub struct Call {
    /// `category.action`.
    pub tool: String,
    pub arguments: Map<String, Value>,
    /// The call failed (its result was an error): it is left out.
    pub failed: bool,
}

/// What a draft is made from.
#[derive(Debug, Clone, PartialEq)]
pub struct Transcript {
    pub name: String,
    pub title: String,
    /// The front matter's description; without one, a sentence counting the steps.
    pub description: Option<String>,
    /// What was seen, in the caller's words: the Symptom section.
    pub symptom: String,
    /// Without tags, the categories of the tools the steps call.
    pub tags: Option<Vec<String>>,
    pub calls: Vec<Call>,
}

/// A variable the draft declares in place of a value seen in the calls.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Inferred {
    pub name: String,
    #[serde(rename = "type")]
    pub var_type: VarType,
    pub description: String,
    /// An address's seen value (used to check the arguments); never set for a device.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub example: Option<String>,
    /// The indexes of the calls it replaced a value in.
    pub calls: Vec<usize>,
}

/// Why a call is not a step.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum SkipReason {
    /// The call's result was an error.
    Failed,
    /// The approval workflow on one plan (`plan.apply`, `plan.get`, …), not a procedure step.
    Workflow,
    /// A `runbook.*` call.
    Runbook,
}

impl SkipReason {
    fn says(self) -> &'static str {
        match self {
            SkipReason::Failed => "failed",
            SkipReason::Workflow => "is the approval workflow of one plan",
            SkipReason::Runbook => "is a runbook tool",
        }
    }
}

/// A call that was left out.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Skipped {
    /// Its index in the transcript's calls.
    pub call: usize,
    pub tool: String,
    pub reason: SkipReason,
}

/// Why a transcript cannot make a runbook: the call it is about (an index into the calls), if
/// one, and what is wrong. Text quoted from the transcript is escaped.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Refusal {
    pub call: Option<usize>,
    pub reason: String,
}

impl Refusal {
    fn at(call: usize, reason: impl Into<String>) -> Self {
        Self {
            call: Some(call),
            reason: reason.into(),
        }
    }

    fn whole(reason: impl Into<String>) -> Self {
        Self {
            call: None,
            reason: reason.into(),
        }
    }
}

impl fmt::Display for Refusal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.call {
            Some(i) => write!(f, "calls[{i}]: {}", self.reason),
            None => f.write_str(&self.reason),
        }
    }
}

/// A checked draft.
#[derive(Debug, Clone)]
pub struct Draft {
    /// The markdown file.
    pub content: String,
    /// `content` parsed and validated.
    pub runbook: Runbook,
    pub variables: Vec<Inferred>,
    pub skipped: Vec<Skipped>,
}

/// Makes a draft runbook (`status: draft`, version 0.1.0, last reviewed `today`, `YYYY-MM-DD`)
/// from a transcript, checked against `catalog`; or every reason it cannot.
pub fn convert(t: &Transcript, catalog: &Catalog, today: &str) -> Result<Draft, Vec<Refusal>> {
    let (content, fences, variables, skipped) = render(t, catalog, today)?;
    let file = format!("{}.md", t.name);
    match validate::check(&file, &content, catalog) {
        Ok(runbook) => Ok(Draft {
            content,
            runbook,
            variables,
            skipped,
        }),
        Err(problems) => {
            let mut refusals: Vec<Refusal> = Vec::new();
            for p in problems {
                let r = Refusal {
                    call: fences.iter().find(|f| f.covers(p.line)).map(|f| f.call),
                    reason: p.reason,
                };
                if !refusals.contains(&r) {
                    refusals.push(r);
                }
            }
            Err(refusals)
        }
    }
}

/// Where a call's block is in the markdown: its fence line and its JSON line.
struct Fence {
    line: usize,
    call: usize,
}

impl Fence {
    fn covers(&self, line: usize) -> bool {
        line == self.line || line == self.line + 1
    }
}

type Rendered = (String, Vec<Fence>, Vec<Inferred>, Vec<Skipped>);

/// A call that becomes a step, with its arguments templated.
struct Planned<'c> {
    call: usize,
    spec: &'c ToolSpec,
    arguments: Map<String, Value>,
}

/// The markdown of a transcript (not yet checked), the blocks' lines, the variables and the calls
/// left out.
fn render(t: &Transcript, catalog: &Catalog, today: &str) -> Result<Rendered, Vec<Refusal>> {
    if t.calls.len() > MAX_CALLS {
        return Err(vec![Refusal::whole(format!(
            "{} calls; a transcript has at most {MAX_CALLS} — give the calls that found and fixed \
             the problem",
            t.calls.len()
        ))]);
    }
    let mut refusals = fields(t);
    if t.calls.is_empty() {
        refusals.push(Refusal::whole(
            "no calls; give the tool calls that found and fixed the problem",
        ));
    }
    let mut skipped = Vec::new();
    let mut kept: Vec<(usize, &ToolSpec, &Map<String, Value>)> = Vec::new();
    let mut bytes = t.symptom.len();
    for (i, c) in t.calls.iter().enumerate() {
        if !format::is_tool_name(&c.tool) {
            refusals.push(Refusal::at(
                i,
                format!(
                    "tool {} is not a tool name: category.action in lowercase letters, digits and \
                     '_', such as interface.get",
                    quote(&c.tool, 60)
                ),
            ));
            continue;
        }
        let reason = if c.failed {
            Some(SkipReason::Failed)
        } else if c.tool.starts_with("plan.") && c.tool != "plan.create" {
            Some(SkipReason::Workflow)
        } else if c.tool.starts_with("runbook.") {
            Some(SkipReason::Runbook)
        } else {
            None
        };
        if let Some(reason) = reason {
            skipped.push(Skipped {
                call: i,
                tool: c.tool.clone(),
                reason,
            });
            continue;
        }
        let Some(spec) = catalog.get(&c.tool) else {
            refusals.push(Refusal::at(i, validate::unknown_tool(&c.tool, catalog)));
            continue;
        };
        let before = refusals.len();
        plain(i, &c.arguments, &mut refusals);
        bytes =
            bytes.saturating_add(serde_json::to_vec(&c.arguments).map_or(usize::MAX, |v| v.len()));
        if bytes > MAX_FILE_BYTES {
            refusals.push(Refusal::at(
                i,
                format!(
                    "the symptom and the arguments up to this call come to more than \
                     {MAX_FILE_BYTES} bytes, the most a runbook has (256 KiB); leave out calls \
                     with bulky arguments"
                ),
            ));
            break;
        }
        if refusals.len() == before {
            kept.push((i, spec, &c.arguments));
        }
    }
    if !refusals.is_empty() {
        return Err(refusals);
    }
    if kept.is_empty() {
        return Err(vec![Refusal::whole(format!(
            "no call can be a step ({}); a runbook needs at least one call of a catalog tool that \
             succeeded",
            skipped
                .iter()
                .map(|s| format!("calls[{}] {} {}", s.call, s.tool, s.reason.says()))
                .collect::<Vec<_>>()
                .join(", ")
        ))]);
    }

    let mut vars = Vars::default();
    let mut planned = Vec::with_capacity(kept.len());
    for (call, spec, arguments) in kept {
        let templated: Map<String, Value> = arguments
            .iter()
            .map(|(k, v)| (k.clone(), vars.template(call, Some(k), v)))
            .collect();
        if vars.list.len() > format::MAX_VARIABLES {
            return Err(vec![Refusal::at(
                call,
                format!(
                    "this call brings the number of distinct devices and addresses to {}; a \
                     runbook declares at most {} variables — make a runbook of fewer devices",
                    vars.list.len(),
                    format::MAX_VARIABLES
                ),
            )]);
        }
        planned.push(Planned {
            call,
            spec,
            arguments: templated,
        });
    }

    let (content, fences) = markdown(t, today, &planned, &vars, &skipped);
    if content.len() > MAX_FILE_BYTES {
        return Err(vec![Refusal::whole(format!(
            "the draft would have {} bytes; a runbook has at most {MAX_FILE_BYTES} (256 KiB) — \
             shorten the symptom or leave out calls with bulky arguments",
            content.len()
        ))]);
    }
    let variables = vars
        .list
        .into_iter()
        .map(|v| Inferred {
            description: v.description(),
            example: (v.var_type == VarType::Address).then(|| v.seen.clone()),
            name: v.name,
            var_type: v.var_type,
            calls: v.calls,
        })
        .collect();
    Ok((content, fences, variables, skipped))
}

/// The caller's fields, checked as the front matter and the Symptom section will need them.
fn fields(t: &Transcript) -> Vec<Refusal> {
    let mut out = Vec::new();
    if !format::is_runbook_name(&t.name) {
        out.push(Refusal::whole(format!(
            "name {} is not allowed: 1-64 characters of lowercase letters, digits and '-', \
             starting and ending with a letter or digit",
            quote(&t.name, 64)
        )));
    }
    let mut line = |field: &str, text: &str, max: usize| {
        if text.trim().is_empty() {
            out.push(Refusal::whole(format!("{field} is empty")));
        } else if text.chars().count() > max {
            out.push(Refusal::whole(format!(
                "{field} has {} characters; at most {max}",
                text.chars().count()
            )));
        } else if let Some(c) = domain::text::find_control(text) {
            out.push(Refusal::whole(format!(
                "{field} contains {c}; it is one line of plain text"
            )));
        }
    };
    line("title", &t.title, format::MAX_TITLE);
    if let Some(d) = &t.description {
        line("description", d, format::MAX_DESCRIPTION);
    }
    let symptom = t.symptom.replace("\r\n", "\n");
    if symptom.trim().is_empty() {
        out.push(Refusal::whole(
            "symptom is empty; say what was seen (alerts, metrics, what users reported)",
        ));
    } else if symptom.chars().count() > MAX_SYMPTOM {
        out.push(Refusal::whole(format!(
            "symptom has {} characters; at most {MAX_SYMPTOM}",
            symptom.chars().count()
        )));
    } else if let Some(c) = symptom
        .chars()
        .enumerate()
        .find(|(_, c)| !matches!(c, '\n' | '\t') && domain::text::is_control(*c))
        .map(|(position, ch)| domain::text::ControlChar { ch, position })
    {
        out.push(Refusal::whole(format!(
            "symptom contains {c}; it is plain text (newlines and tabs are allowed)"
        )));
    }
    if let Some(tags) = &t.tags {
        if tags.len() > format::MAX_TAGS {
            out.push(Refusal::whole(format!(
                "{} tags; at most {}",
                tags.len(),
                format::MAX_TAGS
            )));
        }
        for (i, tag) in tags.iter().enumerate() {
            if !(format::is_runbook_name(tag) && tag.len() <= 32) {
                out.push(Refusal::whole(format!(
                    "tag {} is not allowed: 1-32 lowercase letters, digits and '-'",
                    quote(tag, 40)
                )));
            } else if tags[..i].contains(tag) {
                out.push(Refusal::whole(format!(
                    "tag {} is given twice",
                    quote(tag, 32)
                )));
            }
        }
    }
    out
}

/// Refuses arguments a runbook cannot hold as they are: control characters (a value must stay one
/// line of plain text) and text a runbook reads as a placeholder.
fn plain(call: usize, arguments: &Map<String, Value>, out: &mut Vec<Refusal>) {
    let mut strings = Vec::new();
    substitute::strings(
        &Value::Object(arguments.clone()),
        String::new(),
        &mut strings,
    );
    for (pointer, text, is_key) in strings {
        let what = if is_key { "key" } else { "value" };
        let at = quote(&pointer, 60);
        if let Some(c) = domain::text::find_control(&text) {
            out.push(Refusal::at(
                call,
                format!(
                    "the argument {what} at {at} contains {c}; runbook arguments are one line of \
                     plain text"
                ),
            ));
        } else if !substitute::placeholders(&text).is_ok_and(|p| p.is_empty()) {
            out.push(Refusal::at(
                call,
                format!(
                    "the argument {what} at {at} holds {}, which a runbook reads as a placeholder \
                     ({}); a runbook cannot repeat it as it is",
                    quote(&text, 60),
                    substitute::FORMS
                ),
            ));
        }
    }
}

/// A variable standing for a value seen in the calls.
struct Var {
    name: String,
    var_type: VarType,
    /// The value it replaced.
    seen: String,
    calls: Vec<usize>,
    /// Its place among the variables of its type, from 1.
    nth: usize,
}

impl Var {
    fn description(&self) -> String {
        match self.var_type {
            VarType::Device if self.nth == 1 => {
                "The router to work on (device id or name)".to_owned()
            }
            VarType::Device => format!(
                "Router {} of the procedure, not the first one (device id or name)",
                self.nth
            ),
            _ => format!(
                "An address or prefix the procedure uses (it was {} when this was recorded)",
                self.seen
            ),
        }
    }
}

#[derive(Default)]
struct Vars {
    list: Vec<Var>,
}

impl Vars {
    /// The variable for a value, declared on first sight.
    fn name(&mut self, call: usize, var_type: VarType, seen: &str) -> String {
        if let Some(v) = self
            .list
            .iter_mut()
            .find(|v| v.var_type == var_type && v.seen == seen)
        {
            if !v.calls.contains(&call) {
                v.calls.push(call);
            }
            return v.name.clone();
        }
        let nth = self.list.iter().filter(|v| v.var_type == var_type).count() + 1;
        let base = match var_type {
            VarType::Device => "device",
            _ => "address",
        };
        let name = if nth == 1 {
            base.to_owned()
        } else {
            format!("{base}_{nth}")
        };
        self.list.push(Var {
            name: name.clone(),
            var_type,
            seen: seen.to_owned(),
            calls: vec![call],
            nth,
        });
        name
    }

    /// A value with devices and addresses replaced by placeholders.
    fn template(&mut self, call: usize, key: Option<&str>, v: &Value) -> Value {
        match v {
            Value::String(s) if key == Some("device_id") => {
                Value::String(format!("{{var.{}}}", self.name(call, VarType::Device, s)))
            }
            Value::String(s) => {
                let spans = address_spans(s);
                if spans.is_empty() {
                    return v.clone();
                }
                let mut out = String::with_capacity(s.len());
                let mut from = 0;
                for (start, end) in spans {
                    out.push_str(&s[from..start]);
                    let name = self.name(call, VarType::Address, &s[start..end]);
                    out.push_str(&format!("{{var.{name}}}"));
                    from = end;
                }
                out.push_str(&s[from..]);
                Value::String(out)
            }
            Value::Array(items) => {
                Value::Array(items.iter().map(|i| self.template(call, None, i)).collect())
            }
            Value::Object(map) => Value::Object(
                map.iter()
                    .map(|(k, i)| (k.clone(), self.template(call, Some(k), i)))
                    .collect(),
            ),
            Value::Null | Value::Bool(_) | Value::Number(_) => v.clone(),
        }
    }
}

/// Where IPv4 and IPv6 addresses and prefixes are in a text (byte ranges, in order). Runs of the
/// characters addresses are written with are tried whole, then without the dots and colons
/// around them (`at 10.0.0.1.` ends a sentence). The unspecified addresses stay text.
fn address_spans(s: &str) -> Vec<(usize, usize)> {
    let part = |c: char| c.is_ascii_hexdigit() || matches!(c, '.' | ':' | '/');
    let edge = ['.', ':', '/'];
    let mut out = Vec::new();
    let mut start = None;
    for (i, c) in s.char_indices().chain(std::iter::once((s.len(), ' '))) {
        if part(c) && i < s.len() {
            start.get_or_insert(i);
            continue;
        }
        let Some(from) = start.take() else {
            continue;
        };
        let run = &s[from..i];
        let trimmed_end = run.trim_end_matches(edge);
        let trimmed = trimmed_end.trim_start_matches(edge);
        let offset = trimmed_end.len() - trimmed.len();
        for (at, candidate) in [(0, run), (0, trimmed_end), (offset, trimmed)] {
            if !candidate.is_empty() && is_specific_address(candidate) {
                out.push((from + at, from + at + candidate.len()));
                break;
            }
        }
    }
    out
}

fn is_specific_address(t: &str) -> bool {
    format::is_address(t)
        && t.split('/')
            .next()
            .and_then(|ip| ip.parse::<std::net::IpAddr>().ok())
            .is_some_and(|ip| !ip.is_unspecified())
}

/// Markdown being written, counting lines.
struct Md {
    text: String,
    lines: usize,
}

impl Md {
    fn line(&mut self, l: &str) {
        self.text.push_str(l);
        self.text.push('\n');
        self.lines += 1;
    }
}

/// A read (or write) step's list item and block.
fn step(md: &mut Md, fences: &mut Vec<Fence>, n: usize, p: &Planned<'_>, say: &str) {
    md.line(&format!("{n}. {say}"));
    fences.push(Fence {
        line: md.lines + 1,
        call: p.call,
    });
    md.line(&format!("```tool {}", p.spec.name));
    // One line of JSON: a newline or a fence inside a value stays escaped inside its string.
    md.line(&one_line(&p.arguments));
    md.line("```");
    md.line("");
}

fn read_says(spec: &ToolSpec) -> String {
    format!("{} (`{}`).", spec.title, spec.name)
}

fn write_says(spec: &ToolSpec) -> String {
    format!(
        "{} (`{}`): this proposes a plan; nothing changes until a person approves it and \
         plan.apply applies it.",
        spec.title, spec.name
    )
}

/// JSON on one line, spaced like the built-in runbooks' (`{"device_id": "{var.device}"}`).
fn one_line(arguments: &Map<String, Value>) -> String {
    struct Spaced;
    impl serde_json::ser::Formatter for Spaced {
        fn begin_object_key<W: ?Sized + std::io::Write>(
            &mut self,
            w: &mut W,
            first: bool,
        ) -> std::io::Result<()> {
            w.write_all(if first { b"" } else { b", " })
        }

        fn begin_object_value<W: ?Sized + std::io::Write>(
            &mut self,
            w: &mut W,
        ) -> std::io::Result<()> {
            w.write_all(b": ")
        }

        fn begin_array_value<W: ?Sized + std::io::Write>(
            &mut self,
            w: &mut W,
            first: bool,
        ) -> std::io::Result<()> {
            w.write_all(if first { b"" } else { b", " })
        }
    }
    let mut out = Vec::new();
    let mut ser = serde_json::Serializer::with_formatter(&mut out, Spaced);
    match arguments.serialize(&mut ser) {
        // serde_json writes valid UTF-8.
        Ok(()) => String::from_utf8(out).unwrap_or_default(),
        Err(_) => Value::Object(arguments.clone()).to_string(),
    }
}

/// A double-quoted YAML scalar (JSON's string syntax is a subset of it).
fn yaml_text(s: &str) -> String {
    Value::String(s.to_owned()).to_string()
}

/// The Symptom section's lines: trimmed, with a backslash before a line that would read as a
/// heading or a code fence.
fn symptom_lines(symptom: &str) -> Vec<String> {
    let text = symptom.replace("\r\n", "\n");
    let lines: Vec<&str> = text.trim().lines().map(str::trim).collect();
    lines
        .into_iter()
        .map(|l| {
            if l.starts_with('#') || format::fence_open(l).is_some() {
                format!("\\{l}")
            } else {
                l.to_owned()
            }
        })
        .collect()
}

fn markdown(
    t: &Transcript,
    today: &str,
    planned: &[Planned<'_>],
    vars: &Vars,
    skipped: &[Skipped],
) -> (String, Vec<Fence>) {
    let is_write = |p: &Planned<'_>| !p.spec.is_read_only();
    let first_write = planned.iter().position(is_write);
    let last_write = planned.iter().rposition(is_write);
    let (diagnosis, remediation, verify): (&[Planned<'_>], &[Planned<'_>], &[Planned<'_>]) =
        match (first_write, last_write) {
            (Some(first), Some(last)) => (
                &planned[..first],
                &planned[first..=last],
                &planned[last + 1..],
            ),
            _ => (planned, &[], &[]),
        };
    // Nothing read after the last change: confirm with the last read before it.
    let repeat = if verify.is_empty() {
        diagnosis.last()
    } else {
        None
    };
    let reads = planned.iter().filter(|p| !is_write(p)).count();
    let writes = planned.len() - reads;

    let tier = planned
        .iter()
        .map(|p| p.spec.tier)
        .max_by_key(|t| rank(*t))
        .unwrap_or(Tier::Free);
    let risk = match planned
        .iter()
        .filter(|p| is_write(p))
        .map(|p| rank(p.spec.tier))
        .max()
    {
        None => Risk::Low,
        Some(r) if r < rank(Tier::Professional) => Risk::Medium,
        Some(_) => Risk::High,
    };
    let tags: Vec<String> = match &t.tags {
        Some(tags) => tags.clone(),
        None => {
            let mut seen = Vec::new();
            for p in planned {
                let c = p.spec.category().replace('_', "-");
                if !seen.contains(&c) && seen.len() < format::MAX_TAGS {
                    seen.push(c);
                }
            }
            seen
        }
    };
    let description = t.description.clone().unwrap_or_else(|| {
        format!(
            "Drafted from recorded tool calls: {reads} read{}, {writes} change{} proposed as \
             plan{}. Review it before publishing.",
            if reads == 1 { "" } else { "s" },
            if writes == 1 { "" } else { "s" },
            if writes == 1 { "" } else { "s" }
        )
    });

    let mut md = Md {
        text: String::new(),
        lines: 0,
    };
    let mut fences = Vec::new();
    md.line("---");
    md.line(&format!("name: {}", t.name));
    md.line(&format!("title: {}", yaml_text(t.title.trim())));
    md.line(&format!("description: {}", yaml_text(description.trim())));
    md.line("version: 0.1.0");
    md.line("status: draft");
    md.line(&format!("tags: [{}]", tags.join(", ")));
    md.line(&format!("tier: {tier}"));
    md.line(&format!("risk: {risk}"));
    if vars.list.is_empty() {
        md.line("variables: {}");
    } else {
        md.line("variables:");
        for v in &vars.list {
            let example = if v.var_type == VarType::Address {
                format!(", example: {}", yaml_text(&v.seen))
            } else {
                String::new()
            };
            md.line(&format!(
                "  {}: {{type: {}, description: {}, required: true{example}}}",
                v.name,
                v.var_type,
                yaml_text(&v.description())
            ));
        }
    }
    md.line(&format!("last_reviewed: {today}"));
    md.line("---");
    md.line(&format!("# {}", t.title.trim()));
    md.line("");
    md.line("## Symptom");
    for l in symptom_lines(&t.symptom) {
        md.line(&l);
    }
    md.line("");

    md.line("## Diagnosis");
    if diagnosis.is_empty() {
        md.line("Nothing was read before the change when this was recorded.");
        md.line("");
    }
    for (n, p) in diagnosis.iter().enumerate() {
        step(&mut md, &mut fences, n + 1, p, &read_says(p.spec));
    }

    md.line("## Remediation");
    if remediation.is_empty() {
        md.line(
            "Nothing was changed when this was recorded; if a change is needed, propose it here \
             with the tool that plans it.",
        );
        md.line("");
    }
    for (n, p) in remediation.iter().enumerate() {
        let says = if is_write(p) {
            write_says(p.spec)
        } else {
            format!("Check the change so far: {}", read_says(p.spec))
        };
        step(&mut md, &mut fences, n + 1, p, &says);
    }
    if !remediation.is_empty() {
        md.line(&format!(
            "{}. A person reviews each plan (`routeros-mcp plan show ID`) and approves it; \
             plan.apply then applies it with the approval token.",
            remediation.len() + 1
        ));
        md.line("");
    }

    md.line("## Verify");
    for (n, p) in verify.iter().enumerate() {
        step(&mut md, &mut fences, n + 1, p, &read_says(p.spec));
    }
    match repeat {
        Some(p) => step(
            &mut md,
            &mut fences,
            1,
            p,
            &format!(
                "Read again and compare with the diagnosis: {}",
                read_says(p.spec)
            ),
        ),
        None if verify.is_empty() => {
            md.line("Confirm that the symptom is gone.");
            md.line("");
        }
        None => {}
    }
    if !skipped.is_empty() {
        let listed: Vec<String> = skipped
            .iter()
            .map(|s| format!("calls[{}] (`{}`) {}", s.call, s.tool, s.reason.says()))
            .collect();
        md.line(&format!(
            "Left out of these steps when this was recorded: {}.",
            listed.join("; ")
        ));
    }
    (md.text, fences)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]

    use std::sync::OnceLock;

    use serde_json::json;

    use super::*;
    use crate::format::{Section, StepKind};

    fn catalog() -> &'static Catalog {
        static CATALOG: OnceLock<Catalog> = OnceLock::new();
        CATALOG.get_or_init(|| Catalog::embedded().expect("the embedded catalog loads"))
    }

    fn call(tool: &str, arguments: Value) -> Call {
        let Value::Object(arguments) = arguments else {
            panic!("arguments are an object");
        };
        Call {
            tool: tool.to_owned(),
            arguments,
            failed: false,
        }
    }

    fn failed(tool: &str, arguments: Value) -> Call {
        Call {
            failed: true,
            ..call(tool, arguments)
        }
    }

    fn transcript(calls: Vec<Call>) -> Transcript {
        Transcript {
            name: "lan-address-missing".into(),
            title: "LAN address missing".into(),
            description: None,
            symptom: "Hosts on the LAN cannot reach the router.".into(),
            tags: None,
            calls,
        }
    }

    fn convert_ok(t: &Transcript) -> Draft {
        convert(t, catalog(), "2026-12-01").unwrap_or_else(|r| panic!("{r:?}"))
    }

    fn refused(t: &Transcript) -> Vec<Refusal> {
        match convert(t, catalog(), "2026-12-01") {
            Ok(d) => panic!("refused, but made:\n{}", d.content),
            Err(r) => r,
        }
    }

    /// The tool steps of a section: tool name and arguments.
    fn section(r: &Runbook, s: Section) -> Vec<(String, Map<String, Value>)> {
        r.steps
            .iter()
            .filter(|st| st.section == s)
            .filter_map(|st| match &st.kind {
                StepKind::Tool(t) => Some((t.tool.clone(), t.arguments.clone())),
                StepKind::Prose { .. } => None,
            })
            .collect()
    }

    fn tools(r: &Runbook, s: Section) -> Vec<String> {
        section(r, s).into_iter().map(|(t, _)| t).collect()
    }

    /// The usual fix: look, propose a change, look again — with a failed call, an approval and a
    /// runbook search in between.
    fn solved() -> Vec<Call> {
        vec![
            call("ip.list_addresses", json!({"device_id": "r1"})),
            call(
                "diagnostics.ping",
                json!({"device_id": "r1", "address": "192.168.88.10"}),
            ),
            failed(
                "ip.plan_address",
                json!({"device_id": "r1", "action": "add", "address": "bad"}),
            ),
            call(
                "ip.plan_address",
                json!({"device_id": "r1", "action": "add", "address": "192.168.88.1/24",
                       "interface": "bridge", "comment": "gateway 192.168.88.1/24 for the LAN"}),
            ),
            call(
                "plan.apply",
                json!({"plan_id": "p-1", "approval_token": "t"}),
            ),
            call("runbook.search", json!({"query": "lan address"})),
            call("ip.list_addresses", json!({"device_id": "r1"})),
            call(
                "diagnostics.ping",
                json!({"device_id": "r1", "address": "192.168.88.10", "count": 2}),
            ),
        ]
    }

    #[test]
    fn reads_writes_and_checks_land_in_their_sections() {
        let d = convert_ok(&transcript(solved()));
        let r = &d.runbook;
        assert_eq!(
            tools(r, Section::Diagnosis),
            ["ip.list_addresses", "diagnostics.ping"],
            "{}",
            d.content
        );
        assert_eq!(tools(r, Section::Remediation), ["ip.plan_address"]);
        assert_eq!(
            tools(r, Section::Verify),
            ["ip.list_addresses", "diagnostics.ping"]
        );
        assert_eq!(r.meta.status, crate::Status::Draft);
        assert_eq!(r.meta.version, "0.1.0");
        assert_eq!(r.meta.last_reviewed, "2026-12-01");
        assert_eq!(r.meta.tier, Tier::Professional, "ip.plan_address's tier");
        assert_eq!(r.meta.risk, Risk::High);
        assert_eq!(r.meta.tags, ["ip", "diagnostics"]);
        // A read between two changes stays between them.
        let mut calls = solved();
        calls.insert(
            4,
            call(
                "dns.add_static_entry",
                json!({"device_id": "r1", "name": "gw.lan", "address": "192.168.88.1"}),
            ),
        );
        calls.insert(
            4,
            call(
                "interface.get",
                json!({"device_id": "r1", "interface": "bridge"}),
            ),
        );
        let d = convert_ok(&transcript(calls));
        assert_eq!(
            tools(&d.runbook, Section::Remediation),
            ["ip.plan_address", "interface.get", "dns.add_static_entry"],
            "{}",
            d.content
        );
    }

    #[test]
    fn without_a_change_verify_repeats_the_last_read() {
        let d = convert_ok(&transcript(vec![
            call("ip.list_addresses", json!({"device_id": "r1"})),
            call(
                "interface.get",
                json!({"device_id": "r1", "interface": "ether2"}),
            ),
        ]));
        let r = &d.runbook;
        assert_eq!(
            tools(r, Section::Diagnosis),
            ["ip.list_addresses", "interface.get"]
        );
        assert!(tools(r, Section::Remediation).is_empty());
        assert_eq!(
            section(r, Section::Verify),
            section(r, Section::Diagnosis)[1..],
            "{}",
            d.content
        );
        assert_eq!((r.meta.tier, r.meta.risk), (Tier::Free, Risk::Low));
        // With a change and nothing read after it, the last read before it confirms.
        let d = convert_ok(&transcript(vec![
            call(
                "interface.get",
                json!({"device_id": "r1", "interface": "ether2"}),
            ),
            call(
                "interface.set_comment",
                json!({"device_id": "r1", "interface": "ether2", "comment": "uplink"}),
            ),
        ]));
        assert_eq!(tools(&d.runbook, Section::Verify), ["interface.get"]);
        assert_eq!(d.runbook.meta.risk, Risk::Medium, "a basic write");
    }

    #[test]
    fn devices_and_addresses_become_required_variables_without_defaults() {
        let mut calls = solved();
        calls.push(call(
            "routing.plan_route",
            json!({"device_id": "edge-2", "action": "add", "dst_address": "10.50.0.0/16",
                   "gateway": "2001:db8::1"}),
        ));
        calls.push(call(
            "plan.create",
            json!({"title": "route back", "changes": [{"device_id": "r1", "menu": "ip/route",
                   "action": "add", "properties": {"dst-address": "0.0.0.0/0", "gateway": "10.50.0.1."}}]}),
        ));
        let d = convert_ok(&transcript(calls));
        let names: Vec<(&str, VarType)> = d
            .variables
            .iter()
            .map(|v| (v.name.as_str(), v.var_type))
            .collect();
        assert_eq!(
            names,
            [
                ("device", VarType::Device),
                ("address", VarType::Address),
                ("address_2", VarType::Address),
                ("device_2", VarType::Device),
                ("address_3", VarType::Address),
                ("address_4", VarType::Address),
                ("address_5", VarType::Address),
            ],
            "{}",
            d.content
        );
        for v in &d.runbook.meta.variables {
            assert!(v.required && v.default.is_none(), "{v:?}");
        }
        // Devices are never written down; an address is, as an example.
        assert!(!d.content.contains("\"r1\"") && !d.content.contains("edge-2"));
        assert_eq!(d.variables[0].example, None);
        assert_eq!(d.variables[1].example.as_deref(), Some("192.168.88.10"));
        assert!(d.variables[2].description.contains("192.168.88.1/24"));
        assert_eq!(d.variables[0].calls, [0, 1, 3, 6, 7, 9]);
        let remediation = section(&d.runbook, Section::Remediation);
        let args = |tool: &str| {
            let found = remediation.iter().find(|(t, _)| t == tool).unwrap();
            Value::Object(found.1.clone())
        };
        assert_eq!(
            args("ip.plan_address")["comment"],
            "gateway {var.address_2} for the LAN",
            "an address inside a longer value"
        );
        assert_eq!(
            args("routing.plan_route"),
            json!({"device_id": "{var.device_2}", "action": "add",
                   "dst_address": "{var.address_3}", "gateway": "{var.address_4}"})
        );
        assert_eq!(
            args("plan.create")["changes"][0],
            json!({"device_id": "{var.device}", "menu": "ip/route", "action": "add",
                   "properties": {"dst-address": "0.0.0.0/0", "gateway": "{var.address_5}."}}),
            "the default route stays; a sentence's full stop stays outside"
        );
        assert!(
            d.content
                .contains("  device: {type: device, description: \"The router to work on (device id or name)\", required: true}"),
            "{}",
            d.content
        );
    }

    #[test]
    fn failed_workflow_and_runbook_calls_are_left_out_and_said() {
        let d = convert_ok(&transcript(solved()));
        assert_eq!(
            d.skipped,
            [
                Skipped {
                    call: 2,
                    tool: "ip.plan_address".into(),
                    reason: SkipReason::Failed
                },
                Skipped {
                    call: 4,
                    tool: "plan.apply".into(),
                    reason: SkipReason::Workflow
                },
                Skipped {
                    call: 5,
                    tool: "runbook.search".into(),
                    reason: SkipReason::Runbook
                },
            ]
        );
        assert!(
            !d.content.contains("\"bad\""),
            "the failed call's arguments"
        );
        assert!(
            d.content.contains(
                "Left out of these steps when this was recorded: calls[2] (`ip.plan_address`) \
                 failed; calls[4] (`plan.apply`) is the approval workflow of one plan; calls[5] \
                 (`runbook.search`) is a runbook tool."
            ),
            "{}",
            d.content
        );
        // A failed call of a tool that does not exist is left out too.
        let mut calls = solved();
        calls.push(failed("ip.drop_everything", json!({})));
        assert_eq!(convert_ok(&transcript(calls)).skipped.len(), 4);
        // Nothing left: refused.
        let r = refused(&transcript(vec![
            failed("ip.list_addresses", json!({"device_id": "r1"})),
            call("plan.get", json!({"plan_id": "p"})),
        ]));
        assert_eq!(r.len(), 1);
        assert!(
            r[0].reason.contains("calls[0] ip.list_addresses failed"),
            "{r:?}"
        );
    }

    #[test]
    fn the_draft_parses_and_validates_as_returned() {
        let d = convert_ok(&transcript(solved()));
        let again = crate::check("lan-address-missing.md", &d.content, catalog()).unwrap();
        assert_eq!(again.hash, d.runbook.hash);
        assert_eq!(again.symptom, "Hosts on the LAN cannot reach the router.");
        assert_eq!(again.heading.as_deref(), Some("LAN address missing"));
        // It dry-runs with values for its variables.
        let given: std::collections::BTreeMap<String, Value> = d
            .variables
            .iter()
            .map(|v| {
                let value = match v.var_type {
                    VarType::Device => json!("r9"),
                    _ => json!(v.example.clone().unwrap()),
                };
                (v.name.clone(), value)
            })
            .collect();
        let inputs = crate::Inputs::resolve(&again, &given).unwrap();
        let plan = crate::dry_run(&again, catalog(), &inputs, None).unwrap();
        assert!(plan.to_string().contains("r9"), "{plan}");
    }

    #[test]
    fn unknown_tools_and_unusable_arguments_are_refused_by_call() {
        let mut calls = solved();
        calls[1] = call("ip.drop_everything", json!({"device_id": "r1"}));
        calls[3] = call(
            "ip.plan_address",
            json!({"device_id": "r1", "action": "add", "address": "10.0.0.1/24",
                   "comment": "{var.secret}"}),
        );
        let r = refused(&transcript(calls.clone()));
        let by_call: Vec<Option<usize>> = r.iter().map(|r| r.call).collect();
        assert_eq!(by_call, [Some(1), Some(3)], "{r:#?}");
        assert!(
            r[0].to_string()
                .starts_with("calls[1]: unknown tool \"ip.drop_everything\""),
            "{}",
            r[0]
        );
        assert!(
            r[0].reason.contains("ip.list_addresses"),
            "it names the ip tools"
        );
        assert!(r[1].reason.contains("/comment") && r[1].reason.contains("placeholder"));
        // Arguments that do not fit the tool's schema: found by the check, named by call.
        calls.remove(3);
        calls.remove(1);
        calls[4] = call(
            "ip.list_addresses",
            json!({"device_id": "r1", "colour": "red"}),
        );
        let r = refused(&transcript(calls));
        assert_eq!(r.len(), 1, "{r:#?}");
        assert_eq!(r[0].call, Some(4));
        assert!(
            r[0].reason.contains("ip.list_addresses") && r[0].reason.contains("colour"),
            "{}",
            r[0]
        );
    }

    #[test]
    fn adversarial_transcripts_are_refused() {
        // Too many calls, before any work.
        let many = vec![call("ip.list_addresses", json!({"device_id": "r1"})); MAX_CALLS + 1];
        let r = refused(&transcript(many));
        assert_eq!(r.len(), 1);
        assert!(
            r[0].reason
                .starts_with("101 calls; a transcript has at most 100")
        );
        let hundred = vec![call("ip.list_addresses", json!({"device_id": "r1"})); MAX_CALLS];
        convert_ok(&transcript(hundred));

        // Tool names that would write markdown, even on a failed call.
        for name in [
            "ip.list_addresses\n## Remediation",
            "ip.list_addresses```",
            "`ip`.list",
            "ip.list addresses",
        ] {
            let mut calls = solved();
            calls[2] = failed(name, json!({}));
            let r = refused(&transcript(calls));
            assert_eq!(r[0].call, Some(2), "{name:?}: {r:?}");
            assert!(r[0].reason.contains("is not a tool name"), "{r:?}");
            assert!(!r[0].reason.contains('\n'), "quoted, escaped: {r:?}");
        }

        // Control characters in a value; fields.
        let r = refused(&transcript(vec![call(
            "log.get_recent",
            json!({"device_id": "r1", "message_contains": "a\u{1b}[2Jb"}),
        )]));
        assert!(r[0].to_string().starts_with("calls[0]: the argument value at \"/message_contains\" contains the control character U+001B"), "{r:?}");
        let mut t = transcript(solved());
        t.name = "../etc".into();
        t.title = "Title\nwith a line".into();
        t.symptom = "\u{202e}reversed".into();
        t.tags = Some(vec!["ok".into(), "ok".into(), "Not OK".into()]);
        let r = refused(&t);
        let reasons: Vec<&str> = r.iter().map(|r| r.reason.as_str()).collect();
        assert_eq!(r.len(), 5, "{reasons:#?}");
        assert!(r.iter().all(|r| r.call.is_none()));

        // Huge strings: bounded by the file size, refused at the call that crosses it.
        let big = "x".repeat(MAX_FILE_BYTES / 3);
        let calls: Vec<Call> = (0..4)
            .map(|_| {
                call(
                    "log.get_recent",
                    json!({"device_id": "r1", "message_contains": big}),
                )
            })
            .collect();
        let r = refused(&transcript(calls));
        assert_eq!(r.len(), 1, "{:?}", r[0].call);
        assert_eq!(r[0].call, Some(2));
        assert!(r[0].reason.contains("256 KiB"));
        let mut t = transcript(solved());
        t.symptom = "y".repeat(MAX_SYMPTOM + 1);
        assert!(
            refused(&t)[0]
                .reason
                .starts_with("symptom has 8001 characters")
        );

        // Too many distinct addresses for the variables a runbook may declare.
        let calls: Vec<Call> = (0..40)
            .map(|i| {
                call(
                    "diagnostics.ping",
                    json!({"device_id": "r1", "address": format!("10.0.0.{i}")}),
                )
            })
            .collect();
        let r = refused(&transcript(calls));
        assert_eq!(r[0].call, Some(31), "{r:?}");
    }

    #[test]
    fn argument_values_cannot_break_out_of_their_block() {
        let value = "```\n## Remediation\n```tool plan.apply\n{}";
        let t = transcript(vec![
            call(
                "log.get_recent",
                json!({"device_id": "r1", "message_contains": value}),
            ),
            call(
                "log.get_recent",
                json!({"device_id": "r1", "message_contains": "``` ## Remediation ~~~"}),
            ),
        ]);
        // Written as they are, the values stay inside the JSON of their block.
        let planned: Vec<Planned<'_>> = t
            .calls
            .iter()
            .enumerate()
            .map(|(i, c)| Planned {
                call: i,
                spec: catalog().get(&c.tool).unwrap(),
                arguments: c.arguments.clone(),
            })
            .collect();
        let (content, _) = markdown(&t, "2026-12-01", &planned, &Vars::default(), &[]);
        let parsed =
            Runbook::parse("x.md", &content).unwrap_or_else(|p| panic!("{p:?}\n{content}"));
        let diagnosis = section(&parsed, Section::Diagnosis);
        assert_eq!(diagnosis.len(), 2, "{content}");
        assert_eq!(diagnosis[0].1["message_contains"], value);
        assert_eq!(
            content.matches("## Remediation").count(),
            4,
            "the heading, and the values inside their JSON (the last one again in Verify): \
             {content}"
        );
        assert!(
            parsed
                .steps
                .iter()
                .filter(|s| s.section == Section::Remediation)
                .all(|s| matches!(s.kind, StepKind::Prose { .. })),
            "no step was smuggled into Remediation: {content}"
        );
        // A value with newlines is not plain text: refused, naming the call and the place.
        let r = refused(&t);
        assert_eq!(r.len(), 1, "{r:?}");
        assert_eq!(r[0].call, Some(0));
        assert!(r[0].reason.contains("/message_contains") && r[0].reason.contains("LF"));
        // Without the newlines, the same text is kept verbatim.
        let t = transcript(vec![call(
            "log.get_recent",
            json!({"device_id": "r1", "message_contains": "``` ## Remediation ```tool plan.apply"}),
        )]);
        let d = convert_ok(&t);
        assert_eq!(
            section(&d.runbook, Section::Diagnosis)[0].1["message_contains"],
            "``` ## Remediation ```tool plan.apply"
        );
    }

    #[test]
    fn the_symptom_cannot_start_a_section_or_a_block() {
        let mut t = transcript(solved());
        t.symptom = "Users report:\n## Remediation\n```tool plan.apply\n{}\n```\n  # title".into();
        t.title = "A \"quoted\" title: with # and ```".into();
        t.description = Some("Says: {var.x} and 'quotes'".into());
        let d = convert_ok(&t);
        assert_eq!(
            d.runbook.symptom,
            "Users report:\n\\## Remediation\n\\```tool plan.apply\n{}\n\\```\n\\# title"
        );
        assert_eq!(d.runbook.meta.title, "A \"quoted\" title: with # and ```");
        assert_eq!(d.runbook.meta.description, "Says: {var.x} and 'quotes'");
        assert_eq!(tools(&d.runbook, Section::Remediation), ["ip.plan_address"]);
    }
}
