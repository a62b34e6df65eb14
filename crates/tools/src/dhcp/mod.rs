//! The `dhcp` tools: DHCP servers and their leases, read from `/ip/dhcp-server`.

mod list_leases;
mod list_servers;
mod make_lease_static;

use crate::ToolError;
use crate::registry::{Handler, handler, handler_as_caller};

pub(crate) fn register(all: &mut Vec<Handler>) {
    all.push(handler!("dhcp.list_servers", list_servers::run));
    all.push(handler!("dhcp.list_leases", list_leases::run));
    all.push(handler_as_caller!(
        "dhcp.make_lease_static",
        make_lease_static::run
    ));
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

#[cfg(test)]
mod tests {
    use super::parse_mac;

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
}
