//! `expect` blocks: the conditions a tool step's result must meet, one per line as
//! `JSON-POINTER OP LITERAL` (`/summary/loss_percent < 50`, `/interface/running == true`), and
//! their evaluation on a result.
//!
//! Every line must hold. A pointer that finds nothing fails its line (never silently passes).
//! `<`, `<=`, `>`, `>=` compare numbers; `==` and `!=` compare JSON values (`3 == 3.0`);
//! `contains` finds a substring in a string, an element in a list, or a key in an object. The
//! outcome names each failed line and the value found there, cut short, with secrets redacted
//! and control characters escaped — it is shown to people and stored in run logs.

use std::fmt;

use serde::Serialize;
use serde_json::Value;

use crate::substitute::Redactor;

/// How a condition compares.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum Op {
    #[serde(rename = "==")]
    Eq,
    #[serde(rename = "!=")]
    Ne,
    #[serde(rename = "<")]
    Lt,
    #[serde(rename = "<=")]
    Le,
    #[serde(rename = ">")]
    Gt,
    #[serde(rename = ">=")]
    Ge,
    #[serde(rename = "contains")]
    Contains,
}

impl Op {
    /// Every operator as written.
    pub const ALLOWED: &'static str = "==, !=, <, <=, >, >=, contains";

    pub fn as_str(self) -> &'static str {
        match self {
            Op::Eq => "==",
            Op::Ne => "!=",
            Op::Lt => "<",
            Op::Le => "<=",
            Op::Gt => ">",
            Op::Ge => ">=",
            Op::Contains => "contains",
        }
    }

    fn parse(s: &str) -> Option<Op> {
        Some(match s {
            "==" => Op::Eq,
            "!=" => Op::Ne,
            "<" => Op::Lt,
            "<=" => Op::Le,
            ">" => Op::Gt,
            ">=" => Op::Ge,
            "contains" => Op::Contains,
            _ => return None,
        })
    }

    fn is_ordering(self) -> bool {
        match self {
            Op::Lt | Op::Le | Op::Gt | Op::Ge => true,
            Op::Eq | Op::Ne | Op::Contains => false,
        }
    }
}

impl fmt::Display for Op {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One line of an `expect` block.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Condition {
    /// The file line it is on.
    pub line: usize,
    /// A JSON pointer into the result (`/summary/received`).
    pub pointer: String,
    pub op: Op,
    /// The value compared with; strings may hold placeholders until substituted.
    pub literal: Value,
}

impl fmt::Display for Condition {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {} {}", self.pointer, self.op, self.literal)
    }
}

const FORM: &str = "expected JSON-POINTER OP LITERAL, with OP one of ==, !=, <, <=, >, >=, contains and LITERAL in JSON (true, 3, \"up\")";

/// Parses one line.
pub fn parse_line(text: &str, line: usize) -> Result<Condition, String> {
    let text = text.trim();
    let (pointer, rest) = text.split_once(char::is_whitespace).unwrap_or((text, ""));
    if !pointer.starts_with('/') {
        return Err(format!(
            "{} does not start with a JSON pointer such as /summary/received; {FORM}",
            crate::quote(text, 80)
        ));
    }
    if let Some(bad) = bad_escape(pointer) {
        return Err(format!(
            "JSON pointer {} has \"~\" not followed by 0 or 1 (at position {bad}); write ~0 for ~ and ~1 for /",
            crate::quote(pointer, 80)
        ));
    }
    let rest = rest.trim_start();
    let (op_text, literal_text) = rest.split_once(char::is_whitespace).unwrap_or((rest, ""));
    let Some(op) = Op::parse(op_text) else {
        return Err(format!(
            "unknown operator {}; {FORM}",
            crate::quote(op_text, 20)
        ));
    };
    let literal_text = literal_text.trim();
    if literal_text.is_empty() {
        return Err(format!("nothing to compare with after {op}; {FORM}"));
    }
    let literal: Value = serde_json::from_str(literal_text).map_err(|_| {
        format!(
            "{} is not a JSON literal (strings need double quotes: \"up\"); {FORM}",
            crate::quote(literal_text, 60)
        )
    })?;
    // A number, or a string that is one placeholder (`"{var.threshold}"` of a numeric variable).
    let placeholder = literal.as_str().is_some_and(|s| {
        matches!(
            crate::substitute::segments(s).as_deref(),
            Ok([crate::substitute::Segment::Hole(..)])
        )
    });
    if op.is_ordering() && !literal.is_number() && !placeholder {
        return Err(format!(
            "{op} compares numbers, and {} is not one (nor one placeholder such as \"{{var.threshold}}\")",
            crate::quote(literal_text, 60)
        ));
    }
    Ok(Condition {
        line,
        pointer: pointer.to_owned(),
        op,
        literal,
    })
}

/// Parses a block's body; `first_line` is the file line of its first body line. Blank lines and
/// `#` comments are skipped. Every bad line is reported.
pub fn parse_block(body: &str, first_line: usize) -> Result<Vec<Condition>, Vec<(usize, String)>> {
    let mut conditions = Vec::new();
    let mut errors = Vec::new();
    for (i, text) in body.lines().enumerate() {
        let t = text.trim();
        if t.is_empty() || t.starts_with('#') {
            continue;
        }
        match parse_line(t, first_line + i) {
            Ok(c) => conditions.push(c),
            Err(e) => errors.push((first_line + i, e)),
        }
    }
    if conditions.is_empty() && errors.is_empty() {
        errors.push((
            first_line.saturating_sub(1),
            format!("an expect block needs at least one condition; {FORM}"),
        ));
    }
    if errors.is_empty() {
        Ok(conditions)
    } else {
        Err(errors)
    }
}

fn bad_escape(pointer: &str) -> Option<usize> {
    let b = pointer.as_bytes();
    (0..b.len()).find(|&i| b[i] == b'~' && !matches!(b.get(i + 1), Some(b'0' | b'1')))
}

/// How one condition fared.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Check {
    pub line: usize,
    /// The condition as evaluated (placeholders filled, secrets redacted).
    pub condition: String,
    pub held: bool,
    /// What the pointer found (compact JSON, at most [`MAX_ACTUAL`] characters, redacted), or
    /// `(nothing)`.
    pub actual: String,
    /// Why a line failed beyond the mismatch itself (`not a number`), if there is more to say.
    pub note: Option<String>,
}

/// The result of a gate.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Outcome {
    pub passed: bool,
    pub checks: Vec<Check>,
}

impl Outcome {
    /// The checks that failed.
    pub fn failures(&self) -> impl Iterator<Item = &Check> {
        self.checks.iter().filter(|c| !c.held)
    }
}

impl fmt::Display for Outcome {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.passed {
            return write!(f, "all {} conditions hold", self.checks.len());
        }
        let failed: Vec<String> = self
            .failures()
            .map(|c| {
                format!(
                    "line {}: {} does not hold (found {}{})",
                    c.line,
                    c.condition,
                    c.actual,
                    c.note
                        .as_deref()
                        .map(|n| format!("; {n}"))
                        .unwrap_or_default()
                )
            })
            .collect();
        f.write_str(&failed.join("; "))
    }
}

/// Longest rendering of a found value in an outcome, in characters.
pub const MAX_ACTUAL: usize = 200;

/// Evaluates conditions (placeholders already substituted) on a result.
pub fn evaluate(conditions: &[Condition], result: &Value, redactor: &Redactor) -> Outcome {
    let checks: Vec<Check> = conditions
        .iter()
        .map(|c| {
            let found = result.pointer(&c.pointer);
            let (held, note) = match found {
                None => (false, Some(format!("nothing at {}", c.pointer))),
                Some(v) => holds(c.op, v, &c.literal),
            };
            Check {
                line: c.line,
                condition: domain::text::escape(&redactor.redact(&c.to_string())).into_owned(),
                held,
                actual: found.map_or_else(|| "(nothing)".to_owned(), |v| render(v, redactor)),
                note,
            }
        })
        .collect();
    Outcome {
        passed: checks.iter().all(|c| c.held),
        checks,
    }
}

fn holds(op: Op, actual: &Value, literal: &Value) -> (bool, Option<String>) {
    match op {
        Op::Eq => (json_eq(actual, literal), None),
        Op::Ne => (!json_eq(actual, literal), None),
        Op::Lt | Op::Le | Op::Gt | Op::Ge => {
            let (Some(a), Some(b)) = (actual.as_f64(), literal.as_f64()) else {
                return (false, Some("not a number".into()));
            };
            let held = match op {
                Op::Lt => a < b,
                Op::Le => a <= b,
                Op::Gt => a > b,
                Op::Ge => a >= b,
                Op::Eq | Op::Ne | Op::Contains => false,
            };
            (held, None)
        }
        Op::Contains => match actual {
            Value::String(s) => match literal.as_str() {
                Some(needle) => (s.contains(needle), None),
                None => (false, Some("a string contains only a string".into())),
            },
            Value::Array(items) => (items.iter().any(|i| json_eq(i, literal)), None),
            Value::Object(map) => match literal.as_str() {
                Some(key) => (map.contains_key(key), None),
                None => (
                    false,
                    Some("an object contains keys, given as strings".into()),
                ),
            },
            Value::Null | Value::Bool(_) | Value::Number(_) => (
                false,
                Some("contains applies to strings, lists and objects".into()),
            ),
        },
    }
}

/// JSON equality with numbers compared by value (`3 == 3.0`).
fn json_eq(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Number(x), Value::Number(y)) => match (x.as_i64(), y.as_i64()) {
            (Some(i), Some(j)) => i == j,
            _ => x.as_f64() == y.as_f64(),
        },
        (Value::Array(x), Value::Array(y)) => {
            x.len() == y.len() && x.iter().zip(y).all(|(p, q)| json_eq(p, q))
        }
        (Value::Object(x), Value::Object(y)) => {
            x.len() == y.len()
                && x.iter()
                    .all(|(k, v)| y.get(k).is_some_and(|w| json_eq(v, w)))
        }
        _ => a == b,
    }
}

fn render(v: &Value, redactor: &Redactor) -> String {
    let text = v.to_string();
    let redacted = redactor.redact(&text);
    let escaped = domain::text::escape(&redacted);
    if escaped.chars().count() <= MAX_ACTUAL {
        escaped.into_owned()
    } else {
        let mut cut: String = escaped.chars().take(MAX_ACTUAL).collect();
        cut.push('…');
        cut
    }
}
