//! How risky a change is. Low: names, comments, DNS entries, address-list entries. Medium:
//! forwarding and NAT rules, addresses and pools. High: what can cut traffic to the device itself
//! (input-chain filter rules, routes, disabling interfaces). Critical: what touches the
//! management path — the address, route, interface or service the server reaches the device by.
//! High and critical changes are applied behind a device-side auto-revert.

use std::net::Ipv4Addr;

use crate::menus::{self, MenuSpec};
use crate::model::{Action, Props, Risk};

/// What the server knows about how it reaches a device.
#[derive(Debug, Clone, Default)]
pub struct ManagementPath {
    /// The device address the server connects to.
    pub device_ip: Option<Ipv4Addr>,
    /// The server's own address as the device sees it.
    pub server_ip: Option<Ipv4Addr>,
    /// The interface(s) carrying the device address (a VLAN's parent too).
    pub interfaces: Vec<String>,
    /// The `/ip/service` names the server uses (`www-ssl`, `ssh`, `www`).
    pub services: Vec<&'static str>,
}

/// The risk of one change and, from medium up, why.
pub fn assess(
    spec: &MenuSpec,
    action: Action,
    item: Option<&Props>,
    write: &Props,
    path: &ManagementPath,
    device: &str,
) -> (Risk, Option<String>) {
    let get = |k: &str| {
        write
            .get(k)
            .or_else(|| item.and_then(|i| i.get(k)))
            .map(String::as_str)
            .unwrap_or_default()
    };
    let disables = action == Action::Disable
        || action == Action::Remove
        || write.get("disabled").is_some_and(|v| v == "true");
    let reason = |what: String| Some(format!("{what} on {device}"));
    match spec.path {
        "system/identity" | "ip/dns/static" | "ip/pool" => (Risk::Low, None),
        "ip/dhcp-server/lease" => (Risk::Low, None),
        "ip/firewall/address-list" => {
            let address = get("address");
            let hits_server = path
                .server_ip
                .is_some_and(|ip| menus::contains(address, ip));
            if hits_server {
                (
                    Risk::High,
                    reason(format!(
                        "address-list entry {address} contains the server's own address"
                    )),
                )
            } else {
                (Risk::Low, None)
            }
        }
        "interface" => {
            let name = get("name");
            let touches_state = matches!(action, Action::Enable | Action::Disable)
                || write.contains_key("disabled")
                || write.contains_key("mtu");
            if !touches_state {
                (Risk::Low, None)
            } else if path.interfaces.iter().any(|i| i == name) && disables {
                (
                    Risk::Critical,
                    reason(format!(
                        "disables interface {name}, which carries the management address"
                    )),
                )
            } else if path.interfaces.iter().any(|i| i == name) {
                (
                    Risk::Critical,
                    reason(format!(
                        "changes interface {name}, which carries the management address"
                    )),
                )
            } else {
                (
                    Risk::High,
                    reason(format!("changes the state of interface {name}")),
                )
            }
        }
        "interface/vlan" | "interface/list/member" => {
            let iface = if spec.path == "interface/vlan" {
                get("name")
            } else {
                get("interface")
            };
            if path.interfaces.iter().any(|i| i == iface) && action != Action::Add {
                (
                    Risk::Critical,
                    reason(format!(
                        "changes {iface}, which carries the management address"
                    )),
                )
            } else {
                (
                    Risk::Medium,
                    reason(format!("changes {} {iface}", spec.path)),
                )
            }
        }
        "ip/address" => {
            let address = get("address");
            let ip = address
                .split('/')
                .next()
                .and_then(|a| a.parse::<Ipv4Addr>().ok());
            let is_management = ip.is_some() && ip == path.device_ip;
            let covers_server = path.server_ip.is_some_and(|s| menus::contains(address, s));
            if is_management && action != Action::Add {
                (
                    Risk::Critical,
                    reason(format!(
                        "changes {address}, the address the server reaches the device by"
                    )),
                )
            } else if covers_server {
                (
                    Risk::Critical,
                    reason(format!(
                        "address {address} covers the server's own address and can reroute the management traffic"
                    )),
                )
            } else if action == Action::Add {
                (Risk::Medium, reason(format!("adds address {address}")))
            } else {
                (Risk::High, reason(format!("changes address {address}")))
            }
        }
        "ip/route" => {
            let dst = get("dst-address");
            let table = get("routing-table");
            let main = table.is_empty() || table == "main";
            if main && path.server_ip.is_some_and(|s| menus::contains(dst, s)) {
                (
                    Risk::Critical,
                    reason(format!(
                        "route {dst} carries the management traffic to the server"
                    )),
                )
            } else {
                (Risk::High, reason(format!("changes route {dst}")))
            }
        }
        "ip/service" => {
            let name = get("name");
            if path.services.contains(&name) {
                (
                    Risk::Critical,
                    reason(format!("changes service {name}, which the server uses")),
                )
            } else {
                (Risk::Medium, reason(format!("changes service {name}")))
            }
        }
        "ip/firewall/filter" => {
            if get("chain") == "input" {
                (
                    Risk::High,
                    reason(
                        "changes an input-chain filter rule (traffic to the device itself)".into(),
                    ),
                )
            } else {
                (
                    Risk::Medium,
                    reason(format!("changes a {} filter rule", get("chain"))),
                )
            }
        }
        "ip/firewall/nat" | "ip/firewall/mangle" | "ip/firewall/raw" | "queue/simple" => {
            (Risk::Medium, reason(format!("changes /{}", spec.path)))
        }
        _ => (Risk::High, reason(format!("changes /{}", spec.path))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn path() -> ManagementPath {
        ManagementPath {
            device_ip: Some(Ipv4Addr::new(127, 91, 1, 1)),
            server_ip: Some(Ipv4Addr::new(127, 0, 0, 1)),
            interfaces: vec!["ether1".into()],
            services: vec!["www-ssl", "ssh"],
        }
    }

    fn p(pairs: &[(&str, &str)]) -> Props {
        pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect()
    }

    fn risk(menu: &str, action: Action, item: &[(&str, &str)], write: &[(&str, &str)]) -> Risk {
        let spec = menus::spec(menu).unwrap_or_else(|| unreachable!());
        assess(spec, action, Some(&p(item)), &p(write), &path(), "r1").0
    }

    #[test]
    fn the_management_path_is_critical() {
        assert_eq!(
            risk("interface", Action::Disable, &[("name", "ether1")], &[]),
            Risk::Critical
        );
        assert_eq!(
            risk("interface", Action::Disable, &[("name", "ether3")], &[]),
            Risk::High
        );
        assert_eq!(
            risk(
                "interface",
                Action::Set,
                &[("name", "ether1")],
                &[("comment", "uplink")]
            ),
            Risk::Low
        );
        assert_eq!(
            risk(
                "ip/address",
                Action::Remove,
                &[("address", "127.91.1.1/24")],
                &[]
            ),
            Risk::Critical
        );
        assert_eq!(
            risk(
                "ip/address",
                Action::Add,
                &[],
                &[("address", "10.9.9.1/24")]
            ),
            Risk::Medium
        );
        assert_eq!(
            risk(
                "ip/address",
                Action::Add,
                &[],
                &[("address", "127.0.0.2/8")]
            ),
            Risk::Critical
        );
        assert_eq!(
            risk(
                "ip/route",
                Action::Remove,
                &[("dst-address", "0.0.0.0/0")],
                &[]
            ),
            Risk::Critical
        );
        assert_eq!(
            risk(
                "ip/route",
                Action::Add,
                &[],
                &[("dst-address", "10.0.0.0/8")]
            ),
            Risk::High
        );
        assert_eq!(
            risk("ip/service", Action::Disable, &[("name", "www-ssl")], &[]),
            Risk::Critical
        );
        assert_eq!(
            risk(
                "ip/firewall/filter",
                Action::Add,
                &[],
                &[("chain", "input")]
            ),
            Risk::High
        );
        assert_eq!(
            risk(
                "ip/firewall/filter",
                Action::Add,
                &[],
                &[("chain", "forward")]
            ),
            Risk::Medium
        );
        assert_eq!(
            risk("ip/dns/static", Action::Add, &[], &[("name", "a")]),
            Risk::Low
        );
        assert_eq!(
            risk(
                "ip/firewall/address-list",
                Action::Add,
                &[],
                &[("address", "127.0.0.0/8")]
            ),
            Risk::High
        );
    }
}
