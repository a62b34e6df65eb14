//! Script values: the data types of the RouterOS scripting language (`str`, `num`, `bool`, `ip`,
//! `ip-prefix`, `ip6`, `ip6-prefix`, `id`, `time`, `array`, `code`, `nil`, `nothing`), how bare
//! words become typed literals, and how values print with `:put`.
//!
//! The configuration model stores every property as a string (as REST shows it); these types only
//! exist while a script runs, for comparisons, arithmetic and `:typeof`. Their textual forms follow
//! RouterOS (`:put 1d` prints `1d00:00:00`, `:put 1.1` prints `1.0.0.1`, arrays print joined with
//! `;`).

use std::cmp::Ordering;
use std::fmt;
use std::net::{Ipv4Addr, Ipv6Addr};
use std::sync::Arc;

use super::ast::Block;

/// Nanoseconds per unit, for time literals.
const NS_PER_US: i64 = 1_000;
const NS_PER_MS: i64 = 1_000_000;
const NS_PER_S: i64 = 1_000_000_000;
const NS_PER_M: i64 = 60 * NS_PER_S;
const NS_PER_H: i64 = 60 * NS_PER_M;
const NS_PER_D: i64 = 24 * NS_PER_H;
const NS_PER_W: i64 = 7 * NS_PER_D;

/// A value of the scripting language.
#[derive(Debug, Clone, Default)]
pub enum Value {
    /// An uninitialised variable or a failed conversion.
    #[default]
    Nothing,
    /// The result of a command that returns nothing.
    Nil,
    /// A string.
    Str(String),
    /// A 64-bit signed integer.
    Num(i64),
    /// A boolean.
    Bool(bool),
    /// An IPv4 address.
    Ip(Ipv4Addr),
    /// An IPv4 prefix (address as written, prefix length).
    IpPrefix(Ipv4Addr, u8),
    /// An IPv6 address.
    Ip6(Ipv6Addr),
    /// An IPv6 prefix.
    Ip6Prefix(Ipv6Addr, u8),
    /// An internal item id (`*1A`).
    Id(u64),
    /// A time interval in nanoseconds.
    Time(i64),
    /// An array: elements with an optional key. Keyed elements are kept sorted by key, as
    /// RouterOS does.
    Array(Vec<(Option<String>, Value)>),
    /// A piece of code (`do={…}`, `[:parse …]`), with its source text.
    Code(Arc<Block>, Arc<str>),
}

impl Value {
    /// The `:typeof` name of this value.
    pub fn type_name(&self) -> &'static str {
        match self {
            Value::Nothing => "nothing",
            Value::Nil => "nil",
            Value::Str(_) => "str",
            Value::Num(_) => "num",
            Value::Bool(_) => "bool",
            Value::Ip(_) => "ip",
            Value::IpPrefix(..) => "ip-prefix",
            Value::Ip6(_) => "ip6",
            Value::Ip6Prefix(..) => "ip6-prefix",
            Value::Id(_) => "id",
            Value::Time(_) => "time",
            Value::Array(_) => "array",
            Value::Code(..) => "code",
        }
    }

    /// Whether the value is nothing or nil (prints as an empty string).
    pub fn is_empty_value(&self) -> bool {
        matches!(self, Value::Nothing | Value::Nil)
    }

    /// Builds an array from plain elements.
    pub fn list(items: impl IntoIterator<Item = Value>) -> Value {
        Value::Array(items.into_iter().map(|v| (None, v)).collect())
    }

    /// Inserts or replaces a keyed element, keeping keyed elements sorted.
    pub fn array_set(items: &mut Vec<(Option<String>, Value)>, key: String, value: Value) {
        for (k, v) in items.iter_mut() {
            if k.as_deref() == Some(key.as_str()) {
                *v = value;
                return;
            }
        }
        let at = items
            .iter()
            .position(|(k, _)| k.as_deref().is_some_and(|k| k > key.as_str()))
            .unwrap_or(items.len());
        items.insert(at, (Some(key), value));
    }

    /// Elements of an array; a scalar counts as a one-element list, nothing as an empty one.
    pub fn elements(&self) -> Vec<(Option<String>, Value)> {
        match self {
            Value::Array(items) => items.clone(),
            Value::Nothing | Value::Nil => Vec::new(),
            other => vec![(None, other.clone())],
        }
    }

    /// Truthiness for `:if`, `:while` and `where`.
    pub fn truthy(&self) -> bool {
        match self {
            Value::Bool(b) => *b,
            Value::Num(n) => *n != 0,
            Value::Str(s) => matches!(s.as_str(), "true" | "yes"),
            Value::Array(items) => !items.is_empty(),
            _ => false,
        }
    }

    /// The value as a number, if it is one (or a string holding one).
    pub fn as_num(&self) -> Option<i64> {
        match self {
            Value::Num(n) => Some(*n),
            Value::Str(s) => parse_num(s),
            Value::Bool(b) => Some(i64::from(*b)),
            Value::Time(t) => Some(t / NS_PER_S),
            _ => None,
        }
    }

    /// The text used when the value is passed to a configuration command: like `:put`, except
    /// that times use RouterOS's compact duration form (`1d2h`), which every property accepts.
    pub fn to_arg_string(&self) -> String {
        match self {
            Value::Time(ns) => format_duration_compact(*ns),
            Value::Array(items) => items
                .iter()
                .map(|(_, v)| v.to_arg_string())
                .collect::<Vec<_>>()
                .join(","),
            other => other.to_string(),
        }
    }

    /// Equality as the `=` operator sees it: typed where both sides are typed, otherwise by
    /// text (so `name=ether1` compares a property string with a bare word).
    pub fn loose_eq(&self, other: &Value) -> bool {
        match (self, other) {
            (Value::Nothing | Value::Nil, Value::Nothing | Value::Nil) => true,
            (Value::Nothing | Value::Nil, Value::Str(s))
            | (Value::Str(s), Value::Nothing | Value::Nil) => s.is_empty(),
            (Value::Bool(a), b) | (b, Value::Bool(a)) => match b {
                Value::Bool(b) => a == b,
                Value::Str(s) => match s.as_str() {
                    "true" | "yes" => *a,
                    "false" | "no" => !*a,
                    _ => false,
                },
                _ => false,
            },
            (Value::Num(a), Value::Num(b)) => a == b,
            (Value::Num(a), Value::Str(s)) | (Value::Str(s), Value::Num(a)) => {
                parse_num(s) == Some(*a) || s == &a.to_string()
            }
            (Value::Array(a), Value::Array(b)) => {
                a.len() == b.len()
                    && a.iter()
                        .zip(b)
                        .all(|((ka, va), (kb, vb))| ka == kb && va.loose_eq(vb))
            }
            (a, b) => {
                if let (Some(x), Some(y)) = (a.as_typed_ip_like(), b.as_typed_ip_like()) {
                    return x == y;
                }
                a.to_string() == b.to_string()
            }
        }
    }

    fn as_typed_ip_like(&self) -> Option<String> {
        match self {
            Value::Ip(_) | Value::IpPrefix(..) | Value::Ip6(_) | Value::Ip6Prefix(..) => {
                Some(self.to_string())
            }
            Value::Str(s) => match parse_literal(s) {
                Some(
                    v @ (Value::Ip(_) | Value::IpPrefix(..) | Value::Ip6(_) | Value::Ip6Prefix(..)),
                ) => Some(v.to_string()),
                _ => None,
            },
            _ => None,
        }
    }

    /// Ordering for `<`, `>`, `<=`, `>=`: numeric when both sides are numbers (or numeric
    /// strings), by time, by address, otherwise by text.
    pub fn compare(&self, other: &Value) -> Ordering {
        match (self, other) {
            (Value::Time(a), Value::Time(b)) => a.cmp(b),
            (Value::Ip(a), Value::Ip(b)) => a.cmp(b),
            _ => {
                if let (Some(a), Some(b)) = (self.as_num_strict(), other.as_num_strict()) {
                    return a.cmp(&b);
                }
                if let (Some(a), Some(b)) = (self.as_time_like(), other.as_time_like()) {
                    return a.cmp(&b);
                }
                if let (Some(a), Some(b)) = (self.as_ip_like(), other.as_ip_like()) {
                    return a.cmp(&b);
                }
                self.to_string().cmp(&other.to_string())
            }
        }
    }

    fn as_num_strict(&self) -> Option<i64> {
        match self {
            Value::Num(n) => Some(*n),
            Value::Str(s) => parse_num(s),
            _ => None,
        }
    }

    fn as_time_like(&self) -> Option<i64> {
        match self {
            Value::Time(t) => Some(*t),
            Value::Str(s) => parse_time(s),
            _ => None,
        }
    }

    fn as_ip_like(&self) -> Option<Ipv4Addr> {
        match self {
            Value::Ip(a) => Some(*a),
            Value::Str(s) => parse_ipv4(s),
            _ => None,
        }
    }
}

impl fmt::Display for Value {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Value::Nothing | Value::Nil => Ok(()),
            Value::Str(s) => f.write_str(s),
            Value::Num(n) => write!(f, "{n}"),
            Value::Bool(b) => write!(f, "{b}"),
            Value::Ip(a) => write!(f, "{a}"),
            Value::IpPrefix(a, l) => write!(f, "{a}/{l}"),
            Value::Ip6(a) => write!(f, "{a}"),
            Value::Ip6Prefix(a, l) => write!(f, "{a}/{l}"),
            Value::Id(id) => write!(f, "*{id:X}"),
            Value::Time(ns) => f.write_str(&format_time(*ns)),
            Value::Array(items) => {
                let mut first = true;
                for (k, v) in items {
                    if !first {
                        f.write_str(";")?;
                    }
                    first = false;
                    if let Some(k) = k {
                        write!(f, "{k}=")?;
                    }
                    write!(f, "{v}")?;
                }
                Ok(())
            }
            Value::Code(_, src) => f.write_str(src),
        }
    }
}

/// Parses a decimal (`-12`, `007`) or hexadecimal (`0x1F`) number the way RouterOS does
/// (decimal values beyond 64 bits saturate).
pub fn parse_num(s: &str) -> Option<i64> {
    let (neg, body) = match s.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, s),
    };
    if body.is_empty() {
        return None;
    }
    let magnitude: i128 = if let Some(hex) = body.strip_prefix("0x") {
        if hex.is_empty() || !hex.chars().all(|c| c.is_ascii_hexdigit()) {
            return None;
        }
        i128::from_str_radix(hex, 16).ok()?
    } else {
        if !body.chars().all(|c| c.is_ascii_digit()) {
            return None;
        }
        body.parse::<i128>().unwrap_or(i128::MAX)
    };
    let clamped = magnitude.min(i128::from(i64::MAX));
    let v = i64::try_from(clamped).unwrap_or(i64::MAX);
    Some(if neg { -v } else { v })
}

/// Parses RouterOS's short IPv4 forms: `1.1` is `1.0.0.1`, `2.1.1` is `2.1.0.1`.
pub fn parse_ipv4(s: &str) -> Option<Ipv4Addr> {
    let parts: Vec<&str> = s.split('.').collect();
    if parts.len() < 2 || parts.len() > 4 {
        return None;
    }
    let mut octets = Vec::with_capacity(4);
    for p in &parts {
        if p.is_empty() || p.len() > 3 || !p.chars().all(|c| c.is_ascii_digit()) {
            return None;
        }
        octets.push(p.parse::<u8>().ok()?);
    }
    let last = octets.pop()?;
    while octets.len() < 3 {
        octets.push(0);
    }
    Some(Ipv4Addr::new(octets[0], octets[1], octets[2], last))
}

/// Parses a time literal: unit form (`1w2d3h4m5s`, `200ms`, units may repeat and add up) or
/// clock form (`[Nw][Nd]HH:MM[:SS[.fff]]`).
pub fn parse_time(s: &str) -> Option<i64> {
    if s.is_empty() {
        return None;
    }
    if s.contains(':') {
        return parse_clock_time(s);
    }
    let bytes = s.as_bytes();
    let mut i = 0;
    let mut total: i64 = 0;
    let mut any = false;
    while i < bytes.len() {
        let start = i;
        while i < bytes.len() && bytes[i].is_ascii_digit() {
            i += 1;
        }
        if start == i {
            return None;
        }
        let n: i64 = s[start..i].parse().ok()?;
        let unit_start = i;
        while i < bytes.len() && bytes[i].is_ascii_alphabetic() {
            i += 1;
        }
        let mult = match &s[unit_start..i] {
            "w" => NS_PER_W,
            "d" => NS_PER_D,
            "h" => NS_PER_H,
            "m" => NS_PER_M,
            "s" | "" => NS_PER_S,
            "ms" => NS_PER_MS,
            "us" => NS_PER_US,
            "ns" => 1,
            _ => return None,
        };
        if unit_start == i && i != bytes.len() {
            return None;
        }
        total = total.checked_add(n.checked_mul(mult)?)?;
        any = true;
    }
    any.then_some(total)
}

fn parse_clock_time(s: &str) -> Option<i64> {
    let mut rest = s;
    let mut total: i64 = 0;
    for (unit, mult) in [('w', NS_PER_W), ('d', NS_PER_D)] {
        if let Some(idx) = rest.find(unit) {
            let n: i64 = rest[..idx].parse().ok()?;
            total = total.checked_add(n.checked_mul(mult)?)?;
            rest = &rest[idx + 1..];
        }
    }
    let parts: Vec<&str> = rest.split(':').collect();
    if parts.len() < 2 || parts.len() > 3 {
        return None;
    }
    let h: i64 = parts[0].parse().ok()?;
    let m: i64 = parts[1].parse().ok()?;
    let (sec, frac_ns) = match parts.get(2) {
        Some(sp) => match sp.split_once('.') {
            Some((whole, frac)) => {
                if frac.is_empty() || frac.len() > 9 || !frac.chars().all(|c| c.is_ascii_digit()) {
                    return None;
                }
                let mut padded = frac.to_string();
                while padded.len() < 9 {
                    padded.push('0');
                }
                (whole.parse::<i64>().ok()?, padded.parse::<i64>().ok()?)
            }
            None => (sp.parse::<i64>().ok()?, 0),
        },
        None => (0, 0),
    };
    Some(total + h * NS_PER_H + m * NS_PER_M + sec * NS_PER_S + frac_ns)
}

/// Formats a time as `:put` prints it: `[Nw][Nd]HH:MM:SS[.fff]`.
pub fn format_time(ns: i64) -> String {
    let neg = ns < 0;
    let mut n = ns.unsigned_abs();
    let w = n / NS_PER_W as u64;
    n %= NS_PER_W as u64;
    let d = n / NS_PER_D as u64;
    n %= NS_PER_D as u64;
    let h = n / NS_PER_H as u64;
    n %= NS_PER_H as u64;
    let m = n / NS_PER_M as u64;
    n %= NS_PER_M as u64;
    let s = n / NS_PER_S as u64;
    let frac = n % NS_PER_S as u64;
    let mut out = String::new();
    if neg {
        out.push('-');
    }
    if w > 0 {
        out.push_str(&format!("{w}w"));
    }
    if d > 0 {
        out.push_str(&format!("{d}d"));
    }
    out.push_str(&format!("{h:02}:{m:02}:{s:02}"));
    if frac > 0 {
        if frac.is_multiple_of(NS_PER_MS as u64) {
            out.push_str(&format!(".{:03}", frac / NS_PER_MS as u64));
        } else if frac.is_multiple_of(NS_PER_US as u64) {
            out.push_str(&format!(".{:06}", frac / NS_PER_US as u64));
        } else {
            out.push_str(&format!(".{frac:09}"));
        }
    }
    out
}

/// Formats a time in RouterOS's compact duration form (`1w2d3h4m5s`, `150ms`, `0s`), the form
/// configuration properties print and accept.
pub fn format_duration_compact(ns: i64) -> String {
    if ns == 0 {
        return "0s".to_string();
    }
    let mut out = String::new();
    if ns < 0 {
        out.push('-');
    }
    let mut n = ns.unsigned_abs();
    for (unit, size) in [
        ("w", NS_PER_W),
        ("d", NS_PER_D),
        ("h", NS_PER_H),
        ("m", NS_PER_M),
        ("s", NS_PER_S),
        ("ms", NS_PER_MS),
        ("us", NS_PER_US),
        ("ns", 1),
    ] {
        let size = size as u64;
        if n >= size {
            out.push_str(&format!("{}{unit}", n / size));
            n %= size;
        }
    }
    out
}

/// Interprets a bare word as a typed literal, as RouterOS does in expressions and variable
/// assignments. Returns `None` for words that are no literal (they stay strings).
pub fn parse_literal(word: &str) -> Option<Value> {
    match word {
        "true" | "yes" => return Some(Value::Bool(true)),
        "false" | "no" => return Some(Value::Bool(false)),
        _ => {}
    }
    if let Some(n) = parse_num(word) {
        return Some(Value::Num(n));
    }
    if let Some(hex) = word.strip_prefix('*')
        && !hex.is_empty()
        && hex.chars().all(|c| c.is_ascii_hexdigit())
    {
        return u64::from_str_radix(hex, 16).ok().map(Value::Id);
    }
    if let Some((addr, len)) = word.split_once('/') {
        let len: u8 = len.parse().ok()?;
        if let Some(a) = parse_ipv4(addr) {
            return (len <= 32).then_some(Value::IpPrefix(a, len));
        }
        if let Ok(a) = addr.parse::<Ipv6Addr>() {
            return (len <= 128).then(|| Value::Ip6Prefix(mask_v6(a, len), len));
        }
        return None;
    }
    if let Some(a) = parse_ipv4(word) {
        return Some(Value::Ip(a));
    }
    if word.contains(':')
        && let Ok(a) = word.parse::<Ipv6Addr>()
    {
        return Some(Value::Ip6(a));
    }
    if let Some(t) = parse_time(word) {
        return Some(Value::Time(t));
    }
    if let Some((whole, frac)) = word.split_once('.') {
        // `1.256` that is no address is a time in seconds.
        if !whole.is_empty()
            && whole.chars().all(|c| c.is_ascii_digit())
            && !frac.is_empty()
            && frac.len() <= 9
            && frac.chars().all(|c| c.is_ascii_digit())
        {
            let mut padded = frac.to_string();
            while padded.len() < 9 {
                padded.push('0');
            }
            let s: i64 = whole.parse().ok()?;
            let f: i64 = padded.parse().ok()?;
            return Some(Value::Time(s * NS_PER_S + f));
        }
    }
    None
}

fn mask_v6(a: Ipv6Addr, len: u8) -> Ipv6Addr {
    let bits = u128::from(a);
    let mask = if len == 0 {
        0
    } else {
        u128::MAX << (128 - u32::from(len))
    };
    Ipv6Addr::from(bits & mask)
}

/// Whether `addr` lies inside `net` (for the `in` operator).
pub fn ip_in(addr: &Value, net: &Value) -> bool {
    let a = match addr {
        Value::Ip(a) => Some((*a, 32u8)),
        Value::IpPrefix(a, l) => Some((*a, *l)),
        Value::Str(s) => match parse_literal(s) {
            Some(Value::Ip(a)) => Some((a, 32)),
            Some(Value::IpPrefix(a, l)) => Some((a, l)),
            _ => None,
        },
        _ => None,
    };
    let n = match net {
        Value::IpPrefix(a, l) => Some((*a, *l)),
        Value::Ip(a) => Some((*a, 32)),
        Value::Str(s) => match parse_literal(s) {
            Some(Value::IpPrefix(a, l)) => Some((a, l)),
            Some(Value::Ip(a)) => Some((a, 32)),
            _ => None,
        },
        _ => None,
    };
    match (a, n) {
        (Some((a, al)), Some((n, nl))) => {
            if al < nl {
                return false;
            }
            let mask = if nl == 0 {
                0
            } else {
                u32::MAX << (32 - u32::from(nl))
            };
            (u32::from(a) & mask) == (u32::from(n) & mask)
        }
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;

    #[test]
    fn literals_type_like_routeros() {
        let t = |w: &str| parse_literal(w).map(|v| (v.type_name(), v.to_string()));
        assert_eq!(t("1.1"), Some(("ip", "1.0.0.1".into())));
        assert_eq!(t("2.1.1"), Some(("ip", "2.1.0.1".into())));
        assert_eq!(t("1.1.1.1/24"), Some(("ip-prefix", "1.1.1.1/24".into())));
        assert_eq!(t("*1A"), Some(("id", "*1A".into())));
        assert_eq!(t("200ms"), Some(("time", "00:00:00.200".into())));
        assert_eq!(t("1w7h2s"), Some(("time", "1w07:00:02".into())));
        assert_eq!(t("1d"), Some(("time", "1d00:00:00".into())));
        assert_eq!(t("1m1m"), Some(("time", "00:02:00".into())));
        assert_eq!(t("9:00"), Some(("time", "09:00:00".into())));
        assert_eq!(t("0x10"), Some(("num", "16".into())));
        assert_eq!(t("007"), Some(("num", "7".into())));
        assert_eq!(t("yes"), Some(("bool", "true".into())));
        assert_eq!(t("1::1"), Some(("ip6", "1::1".into())));
        assert_eq!(t("1.256"), Some(("time", "00:00:01.256".into())));
        assert_eq!(t("ether1"), None);
        assert_eq!(t("Yes"), None);
    }

    #[test]
    fn compact_durations() {
        assert_eq!(format_duration_compact(90 * NS_PER_S), "1m30s");
        assert_eq!(format_duration_compact(NS_PER_W + 2 * NS_PER_H), "1w2h");
        assert_eq!(format_duration_compact(0), "0s");
    }

    #[test]
    fn arrays_print_joined_and_keys_sorted() {
        let mut items = Vec::new();
        Value::array_set(&mut items, "b".into(), Value::Num(2));
        Value::array_set(&mut items, "a".into(), Value::Num(1));
        assert_eq!(Value::Array(items).to_string(), "a=1;b=2");
        assert_eq!(
            Value::list([Value::Num(1), Value::Str("x".into())]).to_string(),
            "1;x"
        );
    }

    #[test]
    fn membership_and_loose_equality() {
        assert!(ip_in(
            &Value::Str("10.1.2.3".into()),
            &parse_literal("10.0.0.0/8").unwrap()
        ));
        assert!(!ip_in(
            &Value::Str("11.1.2.3".into()),
            &parse_literal("10.0.0.0/8").unwrap()
        ));
        assert!(Value::Str("true".into()).loose_eq(&Value::Bool(true)));
        assert!(Value::Str("1500".into()).loose_eq(&Value::Num(1500)));
        assert!(Value::Str("ether1".into()).loose_eq(&Value::Str("ether1".into())));
    }
}
