//! Reading what the console printed: JSON from `:serialize`, ids from `:put [add …]`, and
//! RouterOS's error lines.
//!
//! The SSH driver must return exactly what the REST API returns for the same state, so values are
//! brought into REST's string forms: `:serialize` prints numbers as floats (`443.000000`) and
//! durations in clock form (`1d02:03:04`), REST prints `443` and `1d2h3m4s` (read and written by
//! [`crate::value`]).

use std::collections::BTreeMap;

use serde_json::Value;

use crate::error::ErrorKind;
use crate::types::Record;
use crate::value::{Duration, clock_to_units};

/// Console output with line endings normalised and asynchronous log echoes removed.
pub(crate) fn clean(raw: &[u8]) -> String {
    let text = String::from_utf8_lossy(raw)
        .replace("\r\n", "\n")
        .replace('\r', "\n");
    // Leading spaces of the first line are kept: tables are aligned by column position.
    text.lines()
        .filter(|l| !is_log_echo(l))
        .collect::<Vec<_>>()
        .join("\n")
        .trim_start_matches('\n')
        .trim_end()
        .to_owned()
}

/// `17:20:06 echo: system,error,critical login failure …` lines can interleave with output.
fn is_log_echo(line: &str) -> bool {
    let b = line.as_bytes();
    b.len() > 15 && b[2] == b':' && b[5] == b':' && line[8..].starts_with(" echo: ")
}

/// The error a non-JSON, non-empty answer stands for.
pub(crate) fn error_of(text: &str) -> ErrorKind {
    let text = text.trim();
    let first = text
        .lines()
        .find(|l| !l.trim().is_empty())
        .unwrap_or(text)
        .trim();
    ErrorKind::from_routeros_detail(first)
}

/// Parses `:serialize to=json` output into records.
pub(crate) fn records(text: &str) -> Result<Vec<Record>, ErrorKind> {
    let text = text.trim_start();
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

/// Records printed by `script::print_lines`: `key LENGTH value` lines (a value may continue on
/// following lines until LENGTH bytes are read), each record ended by `--`.
pub(crate) fn line_records(text: &str) -> Result<Vec<Record>, ErrorKind> {
    let mut records = Vec::new();
    let mut current = Record::new();
    let mut rest = text;
    let mut saw_separator = false;
    while !rest.is_empty() {
        let (line, after) = rest.split_once('\n').unwrap_or((rest, ""));
        if line.trim_end() == "--" {
            saw_separator = true;
            if !current.is_empty() {
                records.push(std::mem::take(&mut current));
            }
            rest = after;
            continue;
        }
        let mut parts = line.splitn(3, ' ');
        let (Some(key), Some(len), value_start) = (parts.next(), parts.next(), parts.next()) else {
            return Err(error_of(text));
        };
        let Ok(len) = len.parse::<usize>() else {
            return Err(error_of(text));
        };
        // The value starts after "key LEN " and runs for LEN bytes, possibly across lines.
        let offset = line.len() - value_start.map_or(0, str::len);
        let value_and_more = &rest[offset.min(rest.len())..];
        if value_and_more.len() < len || !value_and_more.is_char_boundary(len) {
            return Err(ErrorKind::DeviceError("truncated console output".into()));
        }
        let value = &value_and_more[..len];
        current.insert(key.to_owned(), console_text(key, value));
        rest = value_and_more[len..]
            .strip_prefix('\n')
            .unwrap_or(&value_and_more[len..]);
    }
    if !saw_separator {
        return Err(error_of(text));
    }
    if !current.is_empty() {
        records.push(current);
    }
    Ok(records)
}

/// A console string value in REST's form (durations in units; free text untouched).
fn console_text(key: &str, value: &str) -> String {
    rest_text(key, &Value::String(value.to_owned()))
}

/// Records printed as `key: value` lines, one block per record, blocks separated by blank lines
/// (how the console shows `monitor-traffic once` and the items of `print detail`-style output).
pub(crate) fn key_value_blocks(text: &str) -> Result<Vec<Record>, ErrorKind> {
    let mut records = Vec::new();
    let mut current = Record::new();
    for line in text.lines() {
        if line.trim().is_empty() {
            if !current.is_empty() {
                records.push(std::mem::take(&mut current));
            }
            continue;
        }
        let Some((key, value)) = line.split_once(':') else {
            return Err(error_of(text));
        };
        let key = key.trim();
        if key.is_empty() || key.contains(' ') {
            return Err(error_of(text));
        }
        current.insert(key.to_owned(), value.trim().to_owned());
    }
    if !current.is_empty() {
        records.push(current);
    }
    if records.is_empty() {
        return Err(error_of(text));
    }
    Ok(records)
}

/// Splits a console table into its header columns and rows, assigning each value to the
/// column its position overlaps (columns are padded, numbers right-aligned, text left-aligned,
/// and absent values leave a gap).
fn table(lines: &[&str], header: &str) -> Vec<BTreeMap<String, String>> {
    let spans = |line: &str| -> Vec<(usize, usize, String)> {
        let mut out = Vec::new();
        let mut start = None;
        for (i, c) in line
            .char_indices()
            .chain(std::iter::once((line.len(), ' ')))
        {
            match (c.is_whitespace(), start) {
                (false, None) => start = Some(i),
                (true, Some(s)) => {
                    out.push((s, i, line[s..i].to_owned()));
                    start = None;
                }
                _ => {}
            }
        }
        out
    };
    let columns = spans(header);
    lines
        .iter()
        .map(|line| {
            let mut row = BTreeMap::new();
            for (ts, te, token) in spans(line) {
                let best = columns
                    .iter()
                    .map(|(hs, he, name)| {
                        let overlap = te.min(*he) as isize - ts.max(*hs) as isize;
                        let distance = if overlap > 0 {
                            -overlap
                        } else {
                            (ts as isize - *he as isize)
                                .abs()
                                .min((*hs as isize - te as isize).abs())
                        };
                        (distance, name)
                    })
                    .min_by_key(|(d, _)| *d)
                    .map(|(_, name)| name.to_ascii_lowercase());
                if let Some(col) = best {
                    row.entry(col)
                        .and_modify(|v: &mut String| {
                            v.push(' ');
                            v.push_str(&token);
                        })
                        .or_insert(token);
                }
            }
            row
        })
        .collect()
}

/// The console's `/ping` table turned into the records REST returns: one per probe, with the
/// running totals (`sent`, `received`, `packet-loss`, `min-rtt`, `avg-rtt`, `max-rtt`).
pub(crate) fn ping_table(text: &str) -> Result<Vec<Record>, ErrorKind> {
    let lines: Vec<&str> = text.lines().collect();
    let Some(header_at) = lines
        .iter()
        .position(|l| l.contains("SEQ") && l.contains("HOST"))
    else {
        return Err(error_of(text));
    };
    let header = lines[header_at];
    let rows: Vec<&str> = lines[header_at + 1..]
        .iter()
        .copied()
        .filter(|l| {
            let t = l.trim_start();
            let repeated_header = t.starts_with("SEQ") && t.contains("HOST");
            !(t.is_empty() || t.starts_with("sent=") || repeated_header)
        })
        .collect();
    let mut records = Vec::new();
    let (mut sent, mut received) = (0u64, 0u64);
    let (mut min, mut max, mut sum) = (u128::MAX, 0u128, 0u128);
    for row in table(&rows, header) {
        sent += 1;
        let mut rec = Record::new();
        for (k, v) in &row {
            if k != "status" || !v.is_empty() {
                rec.insert(k.clone(), v.clone());
            }
        }
        if let Some(t) = row
            .get("time")
            .and_then(|t| Duration::parse(t).ok())
            .map(Duration::as_nanos)
        {
            received += 1;
            min = min.min(t);
            max = max.max(t);
            sum += t;
        }
        rec.insert("sent".into(), sent.to_string());
        rec.insert("received".into(), received.to_string());
        rec.insert(
            "packet-loss".into(),
            ((sent - received) * 100 / sent).to_string(),
        );
        if received > 0 {
            rec.insert("min-rtt".into(), Duration::from_nanos(min).to_rtt_text());
            rec.insert("max-rtt".into(), Duration::from_nanos(max).to_rtt_text());
            rec.insert(
                "avg-rtt".into(),
                Duration::from_nanos(sum / u128::from(received)).to_rtt_text(),
            );
        }
        records.push(rec);
    }
    Ok(records)
}

/// Traceroute hops: the table older consoles print (`# ADDRESS LOSS SENT LAST AVG …`) or the
/// `key: value` blocks of current ones, both as the records REST returns.
pub(crate) fn traceroute(text: &str) -> Result<Vec<Record>, ErrorKind> {
    let lines: Vec<&str> = text.lines().collect();
    let Some(header_at) = lines
        .iter()
        .position(|l| l.contains("ADDRESS") && l.contains("LOSS"))
    else {
        return key_value_blocks(text);
    };
    let rows: Vec<&str> = lines[header_at + 1..]
        .iter()
        .copied()
        .filter(|l| !l.trim().is_empty() && !l.trim_start().starts_with("Columns:"))
        .collect();
    Ok(table(&rows, lines[header_at])
        .into_iter()
        .map(|mut row| {
            if let Some(loss) = row.get_mut("loss") {
                *loss = loss.trim_end_matches('%').to_owned();
            }
            row.remove("#");
            row.insert(".section".into(), "0".into());
            row
        })
        .collect())
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

#[cfg(test)]
mod tests {
    use super::*;

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
    fn the_ping_table_becomes_rest_records() {
        // As recorded on a real router (routeros-fixtures/cli/ping-address.ntc.txt).
        let text = "  SEQ HOST                                     SIZE TTL TIME  STATUS\n    0 8.8.8.8                                    56  64 157ms\n    1 8.8.8.8                                    56  64 64ms\n    2 8.8.8.8                                                timeout\n    sent=3 received=2 packet-loss=33% min-rtt=64ms avg-rtt=110ms max-rtt=157ms";
        let r = ping_table(text).unwrap();
        assert_eq!(r.len(), 3);
        assert_eq!(r[0]["host"], "8.8.8.8");
        assert_eq!(r[0]["size"], "56");
        assert_eq!(r[0]["ttl"], "64");
        assert_eq!(r[0]["time"], "157ms");
        assert_eq!(r[1]["avg-rtt"], "110ms500us");
        assert_eq!(r[1]["min-rtt"], "64ms");
        assert_eq!(r[2]["status"], "timeout");
        assert!(!r[2].contains_key("time"));
        assert_eq!(
            (
                r[2]["sent"].as_str(),
                r[2]["received"].as_str(),
                r[2]["packet-loss"].as_str()
            ),
            ("3", "2", "33")
        );
    }

    #[test]
    fn line_records_read_lengths_across_lines() {
        let text = "name 6 ether1\ncomment 9 two\nlines\nmtu 4 1500\nuptime 8 01:02:03\n--\n.id 2 *2\n--\n";
        let r = line_records(text).unwrap();
        assert_eq!(r.len(), 2);
        assert_eq!(r[0]["comment"], "two\nlines");
        assert_eq!(r[0]["uptime"], "1h2m3s");
        assert_eq!(r[1][".id"], "*2");
        assert_eq!(line_records("--").unwrap(), Vec::<Record>::new());
        assert_eq!(
            line_records("bad command name foo (line 1 column 2)")
                .unwrap_err()
                .code(),
            "not_found"
        );
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
