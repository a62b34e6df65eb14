//! Item selection: REST `?prop=value` filters and the native-API `.query` stack language.
//!
//! `.query` words (without the API's leading `?`): `name=v` equals, `>name=v` greater,
//! `<name=v` less, `name` has the property, `-name` lacks it, and `#ops` combining the values
//! on the stack (`|` or, `&` and, `!` not, `.` duplicate top, digits push a copy of that stack
//! position). Whatever remains on the stack at the end is AND-ed. Regular expressions are not
//! supported, as on RouterOS's REST API.

use super::error::RosError;
use super::render::Record;
use super::spec::MenuSpec;
use super::value::{PropType, bool_str, parse_bool, parse_duration, parse_int};

/// One query word.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum QueryWord {
    /// `name=value`
    Eq(String, String),
    /// `>name=value`
    Gt(String, String),
    /// `<name=value`
    Lt(String, String),
    /// `name`
    Has(String),
    /// `-name`
    Absent(String),
    /// `#ops`
    Ops(String),
}

/// A parsed selection.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Query {
    words: Vec<QueryWord>,
}

impl Query {
    /// Everything matches.
    pub fn all() -> Self {
        Query::default()
    }

    /// Parses `.query` words.
    pub fn parse<S: AsRef<str>>(words: &[S]) -> Result<Self, RosError> {
        let mut out = Vec::with_capacity(words.len());
        for w in words {
            let w = w.as_ref().trim();
            let w = w.strip_prefix('?').unwrap_or(w);
            if w.is_empty() {
                continue;
            }
            let word = if let Some(ops) = w.strip_prefix('#') {
                if !ops
                    .chars()
                    .all(|c| matches!(c, '|' | '&' | '!' | '.') || c.is_ascii_digit())
                {
                    return Err(RosError::InvalidValue(".query".into()));
                }
                QueryWord::Ops(ops.to_string())
            } else if let Some(rest) = w.strip_prefix('>') {
                let (k, v) = rest
                    .split_once('=')
                    .ok_or_else(|| RosError::InvalidValue(".query".into()))?;
                QueryWord::Gt(k.into(), v.into())
            } else if let Some(rest) = w.strip_prefix('<') {
                let (k, v) = rest
                    .split_once('=')
                    .ok_or_else(|| RosError::InvalidValue(".query".into()))?;
                QueryWord::Lt(k.into(), v.into())
            } else if let Some(rest) = w.strip_prefix('-') {
                QueryWord::Absent(rest.into())
            } else if let Some((k, v)) = w.split_once('=') {
                QueryWord::Eq(k.into(), v.into())
            } else {
                QueryWord::Has(w.into())
            };
            out.push(word);
        }
        Ok(Query { words: out })
    }

    /// Equality filters AND-ed together (REST `GET ?a=1&b=2`).
    pub fn equals<K: AsRef<str>, V: AsRef<str>>(pairs: &[(K, V)]) -> Self {
        Query {
            words: pairs
                .iter()
                .map(|(k, v)| QueryWord::Eq(k.as_ref().into(), v.as_ref().into()))
                .collect(),
        }
    }

    /// Whether nothing is filtered.
    pub fn is_empty(&self) -> bool {
        self.words.is_empty()
    }

    /// Evaluates the query against a printed record of `menu`.
    pub fn matches(&self, menu: &MenuSpec, rec: &Record) -> bool {
        let mut stack: Vec<bool> = Vec::with_capacity(self.words.len());
        for w in &self.words {
            match w {
                QueryWord::Eq(k, v) => {
                    stack.push(rec.get(k).is_some_and(|actual| equal(menu, k, &actual, v)))
                }
                QueryWord::Gt(k, v) => stack.push(
                    rec.get(k)
                        .is_some_and(|a| compare(&a, v) == Some(std::cmp::Ordering::Greater)),
                ),
                QueryWord::Lt(k, v) => stack.push(
                    rec.get(k)
                        .is_some_and(|a| compare(&a, v) == Some(std::cmp::Ordering::Less)),
                ),
                QueryWord::Has(k) => stack.push(rec.get(k).is_some()),
                QueryWord::Absent(k) => stack.push(rec.get(k).is_none()),
                QueryWord::Ops(ops) => {
                    let mut digits = String::new();
                    for c in ops.chars() {
                        if c.is_ascii_digit() {
                            digits.push(c);
                            continue;
                        }
                        push_index(&mut stack, &mut digits);
                        match c {
                            '|' => {
                                let b = stack.pop().unwrap_or(false);
                                let a = stack.pop().unwrap_or(false);
                                stack.push(a || b);
                            }
                            '&' => {
                                let b = stack.pop().unwrap_or(true);
                                let a = stack.pop().unwrap_or(true);
                                stack.push(a && b);
                            }
                            '!' => {
                                let a = stack.pop().unwrap_or(true);
                                stack.push(!a);
                            }
                            '.' => {
                                let top = stack.last().copied().unwrap_or(true);
                                stack.push(top);
                            }
                            _ => {}
                        }
                    }
                    push_index(&mut stack, &mut digits);
                }
            }
        }
        stack.into_iter().all(|b| b)
    }
}

fn push_index(stack: &mut Vec<bool>, digits: &mut String) {
    if digits.is_empty() {
        return;
    }
    let v = digits
        .parse::<usize>()
        .ok()
        .and_then(|i| stack.get(i).copied())
        .unwrap_or(false);
    stack.push(v);
    digits.clear();
}

fn equal(menu: &MenuSpec, key: &str, actual: &str, wanted: &str) -> bool {
    if actual == wanted {
        return true;
    }
    match menu.prop(key).map(|p| p.ty) {
        Some(PropType::Bool) => parse_bool(wanted).map(bool_str) == Some(actual),
        Some(PropType::Duration) => {
            parse_duration(wanted).is_some() && parse_duration(wanted) == parse_duration(actual)
        }
        _ => false,
    }
}

fn compare(actual: &str, wanted: &str) -> Option<std::cmp::Ordering> {
    if let (Some(a), Some(b)) = (parse_int(actual), parse_int(wanted)) {
        return Some(a.cmp(&b));
    }
    if let (Some(a), Some(b)) = (
        actual
            .strip_prefix('*')
            .and_then(|h| u32::from_str_radix(h, 16).ok()),
        wanted
            .strip_prefix('*')
            .and_then(|h| u32::from_str_radix(h, 16).ok()),
    ) {
        return Some(a.cmp(&b));
    }
    if let (Some(a), Some(b)) = (parse_duration(actual), parse_duration(wanted)) {
        return Some(a.cmp(&b));
    }
    Some(actual.cmp(wanted))
}
