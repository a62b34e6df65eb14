//! RouterOS values into typed JSON, the same way for every tool.
//!
//! RouterOS gives every value as a string. A model reasons better over types, and a client can
//! compare numbers, so results use JSON types — but deterministically per property, never by
//! guessing from one value (a port list `"22"` must not become a number on one row and stay
//! `"22,80"` on the next):
//!
//! - `"true"`/`"false"` become booleans (free-text properties such as `name` or `comment` excepted);
//! - properties known to be counts, sizes or numbers become integers when the value is one;
//! - properties known to be durations become `{"seconds": …, "text": "1d2h"}` when the value is a
//!   RouterOS duration;
//! - `.id` becomes `id`; everything else stays text.

use routeros::Record;
use serde_json::{Map, Value, json};

/// Properties that hold free text: never reinterpreted.
const FREE_TEXT: &[&str] = &[
    "name",
    "comment",
    "list",
    "host-name",
    "default-name",
    "identity",
    "interface",
    "bridge",
    "server",
    "address-list",
    "src-address-list",
    "dst-address-list",
    "log-prefix",
    "group",
    "user",
    "chain",
    "jump-target",
    "in-interface",
    "out-interface",
    "routing-table",
    "topics",
    "message",
    "source",
    "on-event",
    "owner",
    "policy",
    "password",
    "client-id",
    "dhcp-option",
    "interface-name",
    "regexp",
    "text",
];

/// Numeric properties (exact names).
const NUMERIC: &[&str] = &[
    "mtu",
    "actual-mtu",
    "l2mtu",
    "max-l2mtu",
    "distance",
    "scope",
    "target-scope",
    "ttl",
    "size",
    "sent",
    "received",
    "packet-loss",
    "cpu-load",
    "cpu-count",
    "cpu-frequency",
    "free-memory",
    "total-memory",
    "free-hdd-space",
    "total-hdd-space",
    "bad-blocks",
    "write-sect-total",
    "write-sect-since-reboot",
    "listen-port",
    "endpoint-port",
    "current-endpoint-port",
    "link-downs",
    "bytes",
    "packets",
    "rx",
    "tx",
    "run-count",
    "seq",
    "loss",
    "hops",
    "max-sessions",
    "port",
    "priority-num",
    "cache-size",
    "cache-used",
    "max-udp-packet-size",
    "max-concurrent-queries",
    "max-concurrent-tcp-sessions",
    "persistent-keepalive-seconds",
    "voltage",
    "temperature",
    "cpu-temperature",
    "fan1-speed",
    "fan2-speed",
    "power-consumption",
    "count",
    "total-entries",
    "vlan-id",
    "pvid",
    "transmit-hold-count",
    "doh-max-server-connections",
    "doh-max-concurrent-queries",
    "synced-stratum",
];

/// Numeric property name endings.
const NUMERIC_SUFFIXES: &[&str] = &[
    "-byte",
    "-bytes",
    "-packet",
    "-packets",
    "-drop",
    "-drops",
    "-error",
    "-errors",
    "-per-second",
    "-count",
    "-octets",
];

/// Duration properties (exact names).
const DURATIONS: &[&str] = &[
    "uptime",
    "timeout",
    "lease-time",
    "expires-after",
    "last-seen",
    "last-handshake",
    "interval",
    "ageing-time",
    "forward-delay",
    "max-message-age",
    "persistent-keepalive",
    "client-keepalive",
    "delay-threshold",
    "cache-max-ttl",
    "query-server-timeout",
    "query-total-timeout",
    "arp-timeout",
    "time",
    "avg-rtt",
    "min-rtt",
    "max-rtt",
    "ttl-time",
    "delay",
    "keepalive-timeout",
    "session-timeout",
    "idle-timeout",
    "last",
    "avg",
    "best",
    "worst",
    "std-dev",
    "inactivity-timeout",
    "loop-protect-disable-time",
    "loop-protect-send-interval",
    "age",
    "doh-timeout",
    "address-list-extra-time",
];

fn is_numeric_key(key: &str) -> bool {
    NUMERIC.contains(&key) || NUMERIC_SUFFIXES.iter().any(|s| key.ends_with(s))
}

fn is_duration_key(key: &str) -> bool {
    DURATIONS.contains(&key)
}

/// Parses a RouterOS duration (`1w2d3h4m5s`, `453us`, `0.9ms`, or clock form `1d02:03:04`)
/// into seconds (by [`routeros::value::Duration`]).
pub fn duration_seconds(text: &str) -> Option<f64> {
    routeros::value::Duration::parse(text)
        .ok()
        .map(routeros::value::Duration::as_secs_f64)
}

/// A duration as the results show it.
pub fn duration_value(text: &str) -> Value {
    match duration_seconds(text) {
        Some(s) if s.fract() == 0.0 => json!({ "seconds": s as i64, "text": text }),
        Some(s) => json!({ "seconds": (s * 1e6).round() / 1e6, "text": text }),
        None => Value::String(text.to_owned()),
    }
}

/// One property value, typed.
pub fn value(key: &str, raw: &str) -> Value {
    if FREE_TEXT.contains(&key) {
        return Value::String(raw.to_owned());
    }
    match raw {
        "true" => return Value::Bool(true),
        "false" => return Value::Bool(false),
        _ => {}
    }
    if is_numeric_key(key)
        && let Some(n) = raw
            .parse::<i64>()
            .ok()
            .or_else(|| raw.trim_end_matches('%').parse().ok())
    {
        return Value::from(n);
    }
    if is_duration_key(key) && duration_seconds(raw).is_some() {
        return duration_value(raw);
    }
    Value::String(raw.to_owned())
}

/// A record with typed values, `.id` as `id`, keys in RouterOS order (sorted).
///
/// RouterOS 7 also prints a property named `id` on interfaces (a small index, like `ifindex`);
/// where the record has a `.id`, that property is left out so it can never stand in for the
/// item's id.
pub fn record(rec: &Record) -> Map<String, Value> {
    let has_item_id = rec.contains_key(".id");
    rec.iter()
        .filter(|(k, _)| !(has_item_id && k.as_str() == "id"))
        .map(|(k, v)| {
            let key = if k == ".id" {
                "id".to_owned()
            } else {
                k.clone()
            };
            (key, value(k, v))
        })
        .collect()
}

/// Keeps only the requested properties (`id` always stays so an item can be referred to).
pub fn project(item: Map<String, Value>, fields: Option<&[String]>) -> Map<String, Value> {
    match fields {
        None => item,
        Some(fields) => item
            .into_iter()
            .filter(|(k, _)| k == "id" || fields.iter().any(|f| f == k))
            .collect(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_are_typed_per_property() {
        assert_eq!(value("mtu", "1500"), json!(1500));
        assert_eq!(value("disabled", "false"), json!(false));
        assert_eq!(
            value("dst-port", "22"),
            json!("22"),
            "ports stay text: a list is possible"
        );
        assert_eq!(
            value("name", "true"),
            json!("true"),
            "free text is never reinterpreted"
        );
        assert_eq!(value("rx-byte", "123456"), json!(123_456));
        assert_eq!(value("packet-loss", "0"), json!(0));
        assert_eq!(
            value("uptime", "1d2h3m"),
            json!({"seconds": 93_780, "text": "1d2h3m"})
        );
        assert_eq!(
            value("time", "453us"),
            json!({"seconds": 0.000453, "text": "453us"})
        );
        assert_eq!(value("last-seen", "never"), json!("never"));
        assert_eq!(
            value("uptime", "1d02:03:04"),
            json!({"seconds": 93_784, "text": "1d02:03:04"})
        );
        assert_eq!(value("comment", "5m"), json!("5m"));
    }

    #[test]
    fn records_rename_the_id_and_project_fields() {
        let rec = Record::from([
            (".id".into(), "*1".into()),
            ("address".into(), "10.0.0.1/24".into()),
            ("disabled".into(), "false".into()),
        ]);
        let r = record(&rec);
        assert_eq!(
            Value::Object(r.clone()),
            json!({"id": "*1", "address": "10.0.0.1/24", "disabled": false})
        );
        let p = project(r, Some(&["address".to_owned()]));
        assert_eq!(
            Value::Object(p),
            json!({"id": "*1", "address": "10.0.0.1/24"})
        );
    }
}
