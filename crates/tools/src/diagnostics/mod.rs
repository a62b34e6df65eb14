//! The `diagnostics` tools: ping and traceroute run by the router itself, so a model sees the
//! network from the device's point of view.

crate::toolkit::tools! {
    ping,
    traceroute,
}

use crate::ToolError;

/// A ping or traceroute target: an IPv4/IPv6 address or a host name. Only the characters
/// those can contain are accepted, so nothing else ever reaches the device's console.
pub(crate) fn target(address: &str) -> Result<String, ToolError> {
    let a = address.trim();
    let ok = (1..=253).contains(&a.len())
        && a.chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | ':' | '-' | '_'));
    if ok {
        Ok(a.to_owned())
    } else {
        Err(ToolError::InvalidArguments(format!(
            "address \"{address}\" is not an IP address or host name (letters, digits, '.', ':', '-', '_'; at most 253 characters)"
        )))
    }
}

/// A RouterOS round-trip time (`12ms492us`, `0.3ms`) in milliseconds, or `null` when the
/// probe has none (it timed out).
pub(crate) fn ms(raw: Option<&String>) -> serde_json::Value {
    raw.and_then(|t| crate::normalize::duration_seconds(t))
        .map_or(serde_json::Value::Null, |s| {
            serde_json::json!((s * 1e6).round() / 1e3)
        })
}

/// A RouterOS percentage (`"25"`, `"25%"`) as a number.
pub(crate) fn percent(raw: Option<&String>) -> Option<f64> {
    raw.and_then(|t| t.trim().trim_end_matches('%').parse::<f64>().ok())
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    #[test]
    fn targets_are_addresses_or_names_only() {
        assert_eq!(super::target(" 9.9.9.9 ").unwrap(), "9.9.9.9");
        assert!(super::target("2001:db8::1").is_ok());
        assert!(super::target("router.lan").is_ok());
        for bad in ["", "1.1.1.1; /system reboot", "a\"b", "x y"] {
            let e = super::target(bad).unwrap_err().to_string();
            assert!(e.contains("not an IP address or host name"), "{bad}: {e}");
        }
    }

    #[test]
    fn rtts_become_milliseconds() {
        assert_eq!(super::ms(Some(&"12ms492us".to_owned())), json!(12.492));
        assert_eq!(super::ms(Some(&"0.3ms".to_owned())), json!(0.3));
        assert_eq!(super::ms(Some(&"453us".to_owned())), json!(0.453));
        assert_eq!(super::ms(None), json!(null));
        assert_eq!(super::percent(Some(&"25%".to_owned())), Some(25.0));
    }
}
