//! Reading what the console printed: JSON from `:serialize`, ids from `:put [add …]`, and
//! RouterOS's error lines.
//!
//! The SSH driver must return exactly what the REST API returns for the same state, so values are
//! brought into REST's string forms: `:serialize` prints numbers as floats (`443.000000`) and
//! durations in clock form (`1d02:03:04`), REST prints `443` and `1d2h3m4s`.

use serde_json::Value;

use crate::error::ErrorKind;
use crate::types::Record;

/// Console output with line endings normalised and asynchronous log echoes removed.
pub(crate) fn clean(raw: &[u8]) -> String {
    let text = String::from_utf8_lossy(raw)
        .replace("\r\n", "\n")
        .replace('\r', "\n");
    text.lines()
        .filter(|l| !is_log_echo(l))
        .collect::<Vec<_>>()
        .join("\n")
        .trim()
        .to_owned()
}

/// `17:20:06 echo: system,error,critical login failure …` lines can interleave with output.
fn is_log_echo(line: &str) -> bool {
    let b = line.as_bytes();
    b.len() > 15 && b[2] == b':' && b[5] == b':' && line[8..].starts_with(" echo: ")
}

/// The error a non-JSON, non-empty answer stands for.
pub(crate) fn error_of(text: &str) -> ErrorKind {
    let first = text
        .lines()
        .find(|l| !l.trim().is_empty())
        .unwrap_or(text)
        .trim();
    ErrorKind::from_routeros_detail(first)
}

/// Parses `:serialize to=json` output into records.
pub(crate) fn records(text: &str) -> Result<Vec<Record>, ErrorKind> {
    if !(text.starts_with('[') || text.starts_with('{')) {
        return Err(if text.is_empty() {
            ErrorKind::DeviceError("the console printed nothing".into())
        } else {
            error_of(text)
        });
    }
    let value: Value = serde_json::from_str(text)
        .map_err(|e| ErrorKind::DeviceError(format!("unreadable JSON from the console: {e}")))?;
    match value {
        Value::Array(items) => items
            .iter()
            .map(|item| {
                item.as_object().map(object_record).ok_or_else(|| {
                    ErrorKind::DeviceError("expected JSON objects in the list".into())
                })
            })
            .collect(),
        Value::Object(map) => Ok(vec![object_record(&map)]),
        _ => Err(ErrorKind::DeviceError(
            "unexpected JSON from the console".into(),
        )),
    }
}

fn object_record(map: &serde_json::Map<String, Value>) -> Record {
    map.iter()
        .map(|(k, v)| (k.clone(), rest_text(k, v)))
        .collect()
}

/// A console value in the form the REST API gives it.
fn rest_text(key: &str, v: &Value) -> String {
    match v {
        Value::String(s) if key != "comment" && key != "name" => {
            clock_to_units(s).unwrap_or_else(|| s.clone())
        }
        Value::String(s) => s.clone(),
        Value::Bool(b) => b.to_string(),
        Value::Number(n) => number_text(n),
        Value::Null => String::new(),
        Value::Array(items) => items
            .iter()
            .map(|i| rest_text(key, i))
            .collect::<Vec<_>>()
            .join(","),
        Value::Object(_) => v.to_string(),
    }
}

fn number_text(n: &serde_json::Number) -> String {
    if n.is_i64() || n.is_u64() {
        return n.to_string();
    }
    match n.as_f64() {
        Some(f) if f.fract() == 0.0 && f.abs() < 9.0e15 => format!("{}", f as i64),
        Some(f) => {
            let s = format!("{f}");
            s.trim_end_matches('0').trim_end_matches('.').to_owned()
        }
        None => n.to_string(),
    }
}

/// `1w2d03:04:05.000453` → `1w2d3h4m5s453us`; `None` if `s` is not a clock-form duration.
pub(crate) fn clock_to_units(s: &str) -> Option<String> {
    let (mut rest, mut weeks, mut days) = (s, 0u64, 0u64);
    if let Some((w, tail)) = rest.split_once('w') {
        weeks = w.parse().ok()?;
        rest = tail;
    }
    if let Some((d, tail)) = rest.split_once('d') {
        days = d.parse().ok()?;
        rest = tail;
    }
    let (clock, frac) = match rest.split_once('.') {
        Some((c, f)) => (c, Some(f)),
        None => (rest, None),
    };
    let parts: Vec<&str> = clock.split(':').collect();
    if parts.len() != 3
        || parts
            .iter()
            .any(|p| p.len() != 2 || !p.bytes().all(|b| b.is_ascii_digit()))
    {
        return None;
    }
    let h: u64 = parts[0].parse().ok()?;
    let m: u64 = parts[1].parse().ok()?;
    let sec: u64 = parts[2].parse().ok()?;
    let nanos: u64 = match frac {
        Some(f) if !f.is_empty() && f.len() <= 9 && f.bytes().all(|b| b.is_ascii_digit()) => {
            format!("{f:0<9}").parse().ok()?
        }
        Some(_) => return None,
        None => 0,
    };
    let mut out = String::new();
    for (v, unit) in [
        (weeks, "w"),
        (days, "d"),
        (h, "h"),
        (m, "m"),
        (sec, "s"),
        (nanos / 1_000_000, "ms"),
        (nanos / 1_000 % 1_000, "us"),
        (nanos % 1_000, "ns"),
    ] {
        if v > 0 {
            out.push_str(&format!("{v}{unit}"));
        }
    }
    Some(if out.is_empty() { "0s".into() } else { out })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_take_the_rest_form() {
        assert_eq!(
            clock_to_units("1w2d03:04:05").as_deref(),
            Some("1w2d3h4m5s")
        );
        assert_eq!(clock_to_units("00:00:00").as_deref(), Some("0s"));
        assert_eq!(clock_to_units("00:05:00").as_deref(), Some("5m"));
        assert_eq!(clock_to_units("00:00:00.000453").as_deref(), Some("453us"));
        assert_eq!(clock_to_units("00:00:01.5").as_deref(), Some("1s500ms"));
        for not in ["12:30", "ether1", "1d", "10:00:00x", "1.2.3.4"] {
            assert_eq!(clock_to_units(not), None, "{not}");
        }
    }

    #[test]
    fn serialized_values_become_rest_strings() {
        let r = records(r#"[{".id":"*1","mtu":1500.000000,"disabled":false,"uptime":"1d02:00:00","comment":"00:00:10","allowed-address":["10.0.0.0/8","::/0"],"ratio":0.5}]"#).unwrap();
        let rec = &r[0];
        assert_eq!(rec["mtu"], "1500");
        assert_eq!(rec["disabled"], "false");
        assert_eq!(rec["uptime"], "1d2h");
        assert_eq!(
            rec["comment"], "00:00:10",
            "free text is never reinterpreted"
        );
        assert_eq!(rec["allowed-address"], "10.0.0.0/8,::/0");
        assert_eq!(rec["ratio"], "0.5");
        let single = records(r#"{"uptime":"00:01:00","version":"7.16"}"#).unwrap();
        assert_eq!(single.len(), 1);
    }

    #[test]
    fn console_errors_are_classified() {
        assert_eq!(records("no such item").unwrap_err().code(), "not_found");
        assert_eq!(
            records("failure: already have such address")
                .unwrap_err()
                .code(),
            "conflict"
        );
        assert_eq!(
            records("expected end of command (line 1 column 12)")
                .unwrap_err()
                .code(),
            "invalid_request"
        );
        assert_eq!(
            clean(b"12:00:01 echo: system,info log line here\r\n[]\r\n"),
            "[]"
        );
    }
}
