//! What the write tools share before planning: checking the arguments people and assistants
//! give (RouterOS ids, MAC and IP addresses, prefixes, durations, properties) with errors that
//! say what is allowed, and choosing the item a change is about. Durations and ids are read by
//! [`routeros::value`].

use std::net::IpAddr;

use serde_json::{Map, Value};
use workflow::{Props, Selector};

use crate::ToolError;

fn invalid(message: String) -> ToolError {
    ToolError::InvalidArguments(message)
}

/// A RouterOS item id as printed (`*1A`): `*` then hex digits (by [`routeros::value::RosId`]).
pub(crate) fn item_id(field: &str, value: &str) -> Result<String, ToolError> {
    routeros::value::RosId::parse(value.trim())
        .map(|id| id.as_str().to_owned())
        .map_err(|_| invalid(format!(
            "{field} \"{value}\" is not a RouterOS id: expected * followed by hex digits, such as *1A (the .id the list tools print)"
        )))
}

/// The item a change is about: by its id when one is given, else by properties that must match
/// exactly one item. `how` says, for the error, which arguments can name it.
pub(crate) fn choose(
    id_field: &str,
    id: Option<&str>,
    matching: Props,
    how: &str,
) -> Result<Selector, ToolError> {
    match (id, matching.is_empty()) {
        (Some(i), true) => Ok(Selector::Id(item_id(id_field, i)?)),
        (None, false) => Ok(Selector::Where(matching)),
        (Some(_), false) => Err(invalid(format!("give {id_field} or {how}, not both"))),
        (None, true) => Err(invalid(format!("say which item: give {id_field} or {how}"))),
    }
}

/// An argument that names an item by one property: (argument, RouterOS property, checked value).
pub(crate) type Named<'a> = (&'a str, &'a str, Option<String>);

/// The properties naming an item: `main`, plus `narrowing` ones that only pick among items
/// sharing it — so they are refused without it. `id_field` is the alternative, for the error.
pub(crate) fn matching(
    main: Named,
    narrowing: &[Named],
    id_field: &str,
) -> Result<Props, ToolError> {
    let (main_arg, main_prop, main_value) = main;
    let given: Vec<&Named> = narrowing.iter().filter(|(_, _, v)| v.is_some()).collect();
    let Some(main_value) = main_value else {
        if given.is_empty() {
            return Ok(Props::new());
        }
        let names: Vec<&str> = given.iter().map(|(a, _, _)| *a).collect();
        let verb = if names.len() == 1 {
            "narrows"
        } else {
            "narrow"
        };
        return Err(invalid(format!(
            "{} {verb} {main_arg}: give {main_arg} too (or {id_field} alone)",
            names.join(" and ")
        )));
    };
    let mut props = Props::from([(main_prop.to_owned(), main_value)]);
    for (_, prop, value) in given {
        if let Some(v) = value {
            props.insert((*prop).to_owned(), v.clone());
        }
    }
    Ok(props)
}

/// An IPv4 or IPv6 address.
pub(crate) fn ip(field: &str, value: &str) -> Result<String, ToolError> {
    let v = value.trim();
    v.parse::<IpAddr>().map(|_| v.to_owned()).map_err(|_| {
        invalid(format!(
            "{field} \"{value}\" is not an IPv4 or IPv6 address, such as 192.168.88.20 or 2001:db8::1"
        ))
    })
}

/// An address with a prefix length (`192.168.88.1/24`); a bare address means a host (`/32`,
/// `/128`) when `bare_is_host`.
pub(crate) fn prefix(field: &str, value: &str, bare_is_host: bool) -> Result<String, ToolError> {
    let v = value.trim();
    let bad = || {
        invalid(format!(
            "{field} \"{value}\" is not an address with a prefix length, such as 192.168.88.1/24 or 2001:db8::1/64"
        ))
    };
    let (addr, len) = match v.split_once('/') {
        Some((a, l)) => (a, Some(l)),
        None if bare_is_host => (v, None),
        None => return Err(bad()),
    };
    let ip: IpAddr = addr.parse().map_err(|_| bad())?;
    let max = if ip.is_ipv4() { 32 } else { 128 };
    match len {
        None => Ok(format!("{ip}/{max}")),
        Some(l) => match l.parse::<u8>() {
            Ok(n) if n <= max => Ok(format!("{ip}/{n}")),
            _ => Err(bad()),
        },
    }
}

/// A RouterOS duration as a setting may be written: `1w2d3h4m5s` (any of the parts, in that
/// order) or `hh:mm:ss` (by [`routeros::value::Duration::parse_setting`]). Returns the text as
/// given, trimmed.
pub(crate) fn duration(field: &str, value: &str) -> Result<String, ToolError> {
    routeros::value::Duration::parse_setting(value)
        .map(|_| value.trim().to_owned())
        .map_err(|e| invalid(format!("{field} \"{value}\" is {e}")))
}

/// A MAC address in RouterOS's form (`AA:BB:CC:DD:EE:FF`), from the forms people type: any
/// case, `:` or `-` separators, Cisco dots (`aabb.ccdd.eeff`) or bare hex. RouterOS compares
/// MACs as text, so a filter must use exactly its form to match anything.
pub(crate) fn parse_mac(text: &str) -> Result<String, ToolError> {
    let hex: String = text
        .trim()
        .chars()
        .filter(|c| !matches!(c, ':' | '-' | '.'))
        .collect();
    if hex.len() != 12 || !hex.chars().all(|c| c.is_ascii_hexdigit()) {
        return Err(ToolError::InvalidArguments(format!(
            "\"{text}\" is not a MAC address: expected six hex pairs such as AA:BB:CC:DD:EE:FF (\"-\" or \".\" separators and any case are fine)"
        )));
    }
    let upper = hex.to_ascii_uppercase();
    let pairs: Vec<&str> = (0..6).map(|i| &upper[i * 2..i * 2 + 2]).collect();
    Ok(pairs.join(":"))
}

/// Free-form properties (`plan.create`, firewall rules) as text: RouterOS takes every value
/// as text.
pub(crate) fn text_props(map: &Map<String, Value>) -> Result<Props, ToolError> {
    map.iter()
        .map(|(k, v)| {
            let text = match v {
                Value::String(s) => s.clone(),
                Value::Bool(b) => b.to_string(),
                Value::Number(n) => n.to_string(),
                other => {
                    return Err(ToolError::InvalidArguments(format!(
                        "{k}: expected text, a number or a boolean, got {other}"
                    )));
                }
            };
            Ok((k.clone(), text))
        })
        .collect()
}

/// Text RouterOS takes as a name or a comment: not empty where required, one line.
pub(crate) fn text(field: &str, value: &str, required: bool) -> Result<String, ToolError> {
    let v = value.trim();
    if required && v.is_empty() {
        return Err(invalid(format!("{field} must not be empty")));
    }
    if v.chars().any(char::is_control) {
        return Err(invalid(format!(
            "{field} must be one line of text without control characters"
        )));
    }
    Ok(v.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_addresses_prefixes_and_durations_are_checked_with_what_is_allowed() {
        assert_eq!(item_id("rule_id", "*1a").unwrap(), "*1A");
        for bad in ["1A", "*", "*xyz", "rule"] {
            let e = item_id("rule_id", bad).unwrap_err().to_string();
            assert!(e.contains("rule_id") && e.contains("*1A"), "{e}");
        }
        assert_eq!(ip("address", " 10.0.0.1 ").unwrap(), "10.0.0.1");
        assert!(
            ip("address", "10.0.0.300")
                .unwrap_err()
                .to_string()
                .contains("address \"10.0.0.300\"")
        );
        assert_eq!(
            prefix("address", "10.1.1.1/24", false).unwrap(),
            "10.1.1.1/24"
        );
        assert_eq!(prefix("dst", "10.9.0.0", true).unwrap(), "10.9.0.0/32");
        assert!(prefix("address", "10.1.1.1", false).is_err());
        assert!(prefix("address", "10.1.1.1/33", false).is_err());
        assert_eq!(
            prefix("dst", "2001:db8::/32", false).unwrap(),
            "2001:db8::/32"
        );
        for ok in ["30m", "1d", "1w2d3h4m5s", "12:00:00", "45s"] {
            assert_eq!(duration("timeout", ok).unwrap(), ok);
        }
        for bad in ["", "10", "1x", "m5", "1h1d", "1:2", "soon"] {
            let e = duration("timeout", bad).unwrap_err().to_string();
            assert!(e.contains("not a RouterOS duration"), "{bad}: {e}");
        }
        assert!(text("comment", "a\nb", false).is_err());
        assert!(
            text("name", "  ", true)
                .unwrap_err()
                .to_string()
                .contains("must not be empty")
        );
    }

    #[test]
    fn macs_in_every_common_form_become_routeros_form() {
        for form in [
            "aa:bb:cc:0d:ee:ff",
            "AA-BB-CC-0D-EE-FF",
            "aabb.cc0d.eeff",
            "aabbcc0deeff",
        ] {
            assert_eq!(parse_mac(form).unwrap(), "AA:BB:CC:0D:EE:FF", "{form}");
        }
        for bad in ["", "aa:bb:cc:dd:ee", "gg:bb:cc:dd:ee:ff", "10.0.0.1"] {
            let e = parse_mac(bad).unwrap_err().to_string();
            assert!(e.contains("not a MAC address"), "{bad}: {e}");
        }
    }

    #[test]
    fn narrowing_properties_need_the_main_one() {
        let props = matching(
            ("dst_address", "dst-address", Some("10.0.0.0/8".into())),
            &[
                ("gateway", "gateway", Some("10.1.1.1".into())),
                ("routing_table", "routing-table", None),
            ],
            "route_id",
        )
        .unwrap();
        assert_eq!(props.len(), 2);
        assert_eq!(props["gateway"], "10.1.1.1");
        let e = matching(
            ("dst_address", "dst-address", None),
            &[("gateway", "gateway", Some("10.1.1.1".into()))],
            "route_id",
        )
        .unwrap_err()
        .to_string();
        assert!(
            e.contains("gateway narrows dst_address: give dst_address too (or route_id alone)"),
            "{e}"
        );
        assert!(
            matching(("name", "name", None), &[], "entry_id")
                .unwrap()
                .is_empty()
        );
    }

    #[test]
    fn an_item_is_named_once() {
        let by_id = choose("entry_id", Some("*3"), Props::new(), "name").unwrap();
        assert_eq!(by_id, Selector::Id("*3".into()));
        let props = Props::from([("name".to_owned(), "x".to_owned())]);
        assert!(matches!(
            choose("entry_id", None, props.clone(), "name").unwrap(),
            Selector::Where(_)
        ));
        let both = choose("entry_id", Some("*3"), props, "name")
            .unwrap_err()
            .to_string();
        assert!(both.contains("not both"), "{both}");
        let none = choose("entry_id", None, Props::new(), "name")
            .unwrap_err()
            .to_string();
        assert!(none.contains("give entry_id or name"), "{none}");
    }
}
