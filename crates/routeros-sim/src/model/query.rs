//! Item selection: REST `?prop=value` filters and the native-API `.query` stack language.
//!
//! `.query` words (with or without the API's leading `?`): `name=v` (also `=name=v`) equals,
//! `>name=v` greater, `<name=v` less, `name` has the property, `-name` lacks it, and `#ops`
//! combining the values on the stack (`|` or, `&` and, `!` not, `.` duplicate top, digits the
//! stack position counted from the top, 0 being the top: followed by another character they push
//! a copy of that value, at the end of the word they replace the whole stack with it). The stack
//! starts as an endless supply of `true`, so an operator short of values takes `true`; the query
//! matches when no `false` is left. Regular expressions are not supported, as on RouterOS's
//! API.

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
            // `?=name=value` is the API's explicit form of `?name=value`.
            let w = w.strip_prefix('=').unwrap_or(w);
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
                QueryWord::Ops(ops) => apply_ops(&mut stack, ops),
            }
        }
        stack.into_iter().all(|b| b)
    }
}

/// Applies the `#` operations of one query word to the stack (see the module documentation).
fn apply_ops(stack: &mut Vec<bool>, ops: &str) {
    // Below the stack lies an endless supply of `true`.
    fn pop(stack: &mut Vec<bool>) -> bool {
        stack.pop().unwrap_or(true)
    }
    let bytes = ops.as_bytes();
    let mut i = 0;
    let mut after_index = false;
    while i < bytes.len() {
        if bytes[i].is_ascii_digit() {
            let start = i;
            while i < bytes.len() && bytes[i].is_ascii_digit() {
                i += 1;
            }
            let index = ops[start..i].parse::<usize>().unwrap_or(usize::MAX);
            let value = stack
                .len()
                .checked_sub(index.saturating_add(1))
                .and_then(|at| stack.get(at).copied())
                .unwrap_or(true);
            if i == bytes.len() {
                stack.clear();
            }
            stack.push(value);
            after_index = true;
            continue;
        }
        match bytes[i] {
            b'|' => {
                let b = pop(stack);
                let a = pop(stack);
                stack.push(a || b);
            }
            b'&' => {
                let b = pop(stack);
                let a = pop(stack);
                stack.push(a && b);
            }
            b'!' => {
                let a = pop(stack);
                stack.push(!a);
            }
            b'.' if !after_index => {
                let top = stack.last().copied().unwrap_or(true);
                stack.push(top);
            }
            // `.` after an index does nothing; parsing admits no other character.
            _ => {}
        }
        after_index = false;
        i += 1;
    }
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

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::model::menu;

    fn rec(distance: &str, gateway: &str) -> Record {
        Record::new()
            .with("distance", distance)
            .with("gateway", gateway)
    }

    fn matches(words: &[&str], r: &Record) -> bool {
        let m = menu("/ip/route").unwrap();
        Query::parse(words).unwrap().matches(m, r)
    }

    #[test]
    fn the_documented_examples_select_what_routeros_selects() {
        // `print where !(distance>1 && gateway=172.16.1.1)`
        let q = ["?>distance=1", "?gateway=172.16.1.1", "?#&!"];
        assert!(!matches(&q, &rec("2", "172.16.1.1")));
        assert!(matches(&q, &rec("1", "172.16.1.1")));
        assert!(matches(&q, &rec("2", "10.0.0.1")));
        // `?=name=value` is the explicit form of `?name=value` (librouteros sends it).
        assert!(matches(&["?=gateway=10.0.0.1"], &rec("1", "10.0.0.1")));
        assert!(!matches(&["?=gateway=10.0.0.2"], &rec("1", "10.0.0.1")));
    }

    #[test]
    fn stack_indexes_count_from_the_top_and_the_stack_starts_true() {
        let r = rec("1", "10.0.0.1");
        // Stack: [false (distance=5), true (gateway)]; index 0 is the top (true).
        let pushed = ["?distance=5", "?gateway=10.0.0.1"];
        // `1` at the end of the word replaces the stack with index 1 (false).
        assert!(!matches(&[pushed[0], pushed[1], "?#1"], &r));
        // `0` at the end replaces it with the top (true): the false below is gone.
        assert!(matches(&[pushed[0], pushed[1], "?#0"], &r));
        // `1|` pushes a copy of index 1 and ORs it with the top: true, the false stays.
        assert!(!matches(&[pushed[0], pushed[1], "?#1|"], &r));
        // Operators short of values take true from below the stack.
        assert!(matches(&["?#&"], &r));
        assert!(!matches(&["?#!"], &r));
        assert!(
            matches(&["?distance=5", "?#|"], &r),
            "false OR (endless) true"
        );
        // `.` duplicates the top, but does nothing right after an index.
        assert!(!matches(&["?distance=5", "?#.|"], &r));
        assert!(matches(&["?gateway=10.0.0.1", "?#0."], &r));
        assert!(Query::parse(&["?#x"]).is_err());
    }
}
