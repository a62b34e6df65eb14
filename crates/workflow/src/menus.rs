//! The RouterOS menus a plan may change, and what the engine must know about each: whether it
//! is a list, an ordered list or a singleton, which properties RouterOS computes (never written
//! back, never compared), which actions and commands it takes — and how written values are
//! normalised to the form RouterOS prints, so that what was planned can be found and verified.
//!
//! Scripts and the scheduler are deliberately absent: a plan that could write a script could do
//! anything, and the device-side auto-revert lives there.

use std::net::Ipv4Addr;

use routeros::secret;

use crate::model::{Action, Props};

/// How a menu holds its items.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MenuKind {
    List,
    /// Order matters (firewall rules, simple queues): adds and moves take a place.
    Ordered,
    /// One item, no ids (`/system/identity`).
    Singleton,
}

/// A menu a plan may change.
#[derive(Debug)]
pub struct MenuSpec {
    pub path: &'static str,
    pub kind: MenuKind,
    /// Properties that name an item to a person (descriptions).
    pub key: &'static [&'static str],
    /// Properties RouterOS computes, beyond the common ones (`dynamic`, counters, …).
    pub read_only: &'static [&'static str],
    /// When set, the only properties a plan may write.
    pub writable: Option<&'static [&'static str]>,
    pub actions: &'static [Action],
    pub commands: &'static [&'static str],
}

use Action::{Add, Command, Disable, Enable, Move, Remove, Set};

const LIST: &[Action] = &[Add, Set, Remove, Enable, Disable];
const ORDERED: &[Action] = &[Add, Set, Remove, Move, Enable, Disable];

/// Properties RouterOS computes in every menu.
const COMMON_READ_ONLY: &[&str] = &[
    ".id",
    ".nextid",
    "dynamic",
    "invalid",
    "running",
    "bytes",
    "packets",
    "rate",
    "slave",
    "builtin",
    "creation-time",
    "status",
    "actual-interface",
    "actual-mtu",
];

const MENUS: &[MenuSpec] = &[
    MenuSpec {
        path: "system/identity",
        kind: MenuKind::Singleton,
        key: &["name"],
        read_only: &[],
        writable: Some(&["name"]),
        actions: &[Set],
        commands: &[],
    },
    MenuSpec {
        path: "ip/dns/static",
        kind: MenuKind::List,
        key: &["name", "address", "cname", "forward-to", "text"],
        read_only: &[],
        writable: None,
        actions: LIST,
        commands: &[],
    },
    MenuSpec {
        path: "ip/firewall/address-list",
        kind: MenuKind::List,
        key: &["list", "address"],
        read_only: &[],
        writable: None,
        actions: LIST,
        commands: &[],
    },
    MenuSpec {
        path: "ip/dns",
        kind: MenuKind::Singleton,
        key: &["servers"],
        read_only: &["dynamic-servers", "cache-used"],
        writable: None,
        actions: &[Set],
        commands: &[],
    },
    MenuSpec {
        path: "system/ntp/client",
        kind: MenuKind::Singleton,
        key: &["servers"],
        read_only: &[],
        writable: None,
        actions: &[Set],
        commands: &[],
    },
    MenuSpec {
        path: "ip/dhcp-server/lease",
        kind: MenuKind::List,
        key: &["mac-address", "address"],
        read_only: &[
            "active-address",
            "active-mac-address",
            "active-client-id",
            "active-server",
            "host-name",
            "expires-after",
            "last-seen",
            "age",
            "radius",
            "blocked",
            "agent-circuit-id",
            "agent-remote-id",
        ],
        writable: None,
        actions: &[Add, Set, Remove, Enable, Disable, Command],
        commands: &["make-static"],
    },
    MenuSpec {
        path: "interface",
        kind: MenuKind::List,
        key: &["name"],
        read_only: &[
            "type",
            "default-name",
            "l2mtu",
            "max-l2mtu",
            "mac-address",
            "link-downs",
            "fast-path",
        ],
        writable: Some(&["comment", "disabled", "mtu"]),
        actions: &[Set, Enable, Disable],
        commands: &[],
    },
    MenuSpec {
        path: "interface/vlan",
        kind: MenuKind::List,
        key: &["name", "vlan-id"],
        read_only: &["l2mtu", "mac-address", "loop-protect-status"],
        writable: None,
        actions: LIST,
        commands: &[],
    },
    MenuSpec {
        path: "interface/bridge/vlan",
        kind: MenuKind::List,
        key: &["bridge", "vlan-ids"],
        read_only: &["current-tagged", "current-untagged"],
        writable: None,
        actions: LIST,
        commands: &[],
    },
    MenuSpec {
        path: "interface/wireguard/peers",
        kind: MenuKind::List,
        key: &["name", "interface", "allowed-address"],
        read_only: &[
            "current-endpoint-address",
            "current-endpoint-port",
            "last-handshake",
            "rx",
            "tx",
        ],
        writable: None,
        actions: LIST,
        commands: &[],
    },
    MenuSpec {
        path: "interface/list/member",
        kind: MenuKind::List,
        key: &["list", "interface"],
        read_only: &[],
        writable: None,
        actions: LIST,
        commands: &[],
    },
    MenuSpec {
        path: "ip/address",
        kind: MenuKind::List,
        key: &["address", "interface"],
        read_only: &[],
        writable: None,
        actions: LIST,
        commands: &[],
    },
    MenuSpec {
        path: "ip/route",
        kind: MenuKind::List,
        key: &["dst-address", "gateway", "routing-table"],
        read_only: &[
            "immediate-gw",
            "local-address",
            "active",
            "inactive",
            "static",
            "connect",
            "hw-offloaded",
            "ecmp",
            "origin",
            "gateway-status",
        ],
        writable: None,
        actions: LIST,
        commands: &[],
    },
    MenuSpec {
        path: "ip/pool",
        kind: MenuKind::List,
        key: &["name"],
        read_only: &[],
        writable: None,
        actions: &[Add, Set, Remove],
        commands: &[],
    },
    MenuSpec {
        path: "ip/service",
        kind: MenuKind::List,
        key: &["name"],
        read_only: &["name"],
        writable: None,
        actions: &[Set, Enable, Disable],
        commands: &[],
    },
    MenuSpec {
        path: "ip/firewall/filter",
        kind: MenuKind::Ordered,
        key: &["chain", "action", "comment"],
        read_only: &[],
        writable: None,
        actions: ORDERED,
        commands: &[],
    },
    MenuSpec {
        path: "ip/firewall/nat",
        kind: MenuKind::Ordered,
        key: &["chain", "action", "comment"],
        read_only: &[],
        writable: None,
        actions: ORDERED,
        commands: &[],
    },
    MenuSpec {
        path: "ip/firewall/mangle",
        kind: MenuKind::Ordered,
        key: &["chain", "action", "comment"],
        read_only: &[],
        writable: None,
        actions: ORDERED,
        commands: &[],
    },
    MenuSpec {
        path: "ip/firewall/raw",
        kind: MenuKind::Ordered,
        key: &["chain", "action", "comment"],
        read_only: &[],
        writable: None,
        actions: ORDERED,
        commands: &[],
    },
    MenuSpec {
        path: "queue/simple",
        kind: MenuKind::Ordered,
        key: &["name"],
        read_only: &[],
        writable: None,
        actions: ORDERED,
        commands: &[],
    },
];

/// Properties that are written but change by themselves on the router, so they are never
/// compared: an address-list entry's `timeout` counts down from the moment it is added.
const VOLATILE: &[(&str, &str)] = &[("ip/firewall/address-list", "timeout")];

/// Whether `prop` of `menu` changes by itself (written, restored, never compared).
pub fn is_volatile(menu: &str, prop: &str) -> bool {
    let menu = menu.trim_matches('/');
    VOLATILE.iter().any(|(m, p)| *m == menu && *p == prop)
}

/// The spec of `path` (`ip/dns/static`, leading slash allowed), if plans may change it.
pub fn spec(path: &str) -> Option<&'static MenuSpec> {
    let path = path.trim_matches('/');
    MENUS.iter().find(|m| m.path == path)
}

/// Every menu plans may change, for error messages and documentation.
pub fn allowed() -> Vec<&'static str> {
    MENUS.iter().map(|m| m.path).collect()
}

impl MenuSpec {
    /// Whether RouterOS computes `prop` here (so it is never written or compared).
    pub fn is_read_only(&self, prop: &str) -> bool {
        COMMON_READ_ONLY.contains(&prop)
            || self.read_only.contains(&prop)
            || ["rx-", "tx-", "fp-", "last-link-", "active-"]
                .iter()
                .any(|p| prop.starts_with(p))
    }

    /// Whether a plan may write `prop`. Never a secret (a WireGuard peer's `preshared-key`):
    /// a plan is stored and shown for review, so it must not carry one.
    pub fn is_writable(&self, prop: &str) -> bool {
        !self.is_read_only(prop)
            && !self.is_secret(prop)
            && self.writable.is_none_or(|w| w.contains(&prop))
    }

    /// Whether `prop` holds a secret or a script body here (`routeros::secret`).
    pub fn is_secret(&self, prop: &str) -> bool {
        secret::classify(self.path, prop) != secret::Sensitivity::Plain
    }

    /// The configuration of an item as read: its properties minus the computed ones and minus
    /// secrets, which a plan never records (in its preconditions, state or undo).
    pub fn config(&self, record: &Props) -> Props {
        record
            .iter()
            .filter(|(k, _)| !self.is_read_only(k) && !self.is_secret(k))
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect()
    }

    /// The secret properties `record` has a value for (a plan cannot re-create it exactly).
    pub fn secrets_of(&self, record: &Props) -> Vec<String> {
        record
            .iter()
            .filter(|(k, v)| self.is_secret(k) && !v.is_empty())
            .map(|(k, _)| k.clone())
            .collect()
    }

    /// How a person recognises the item: its key properties, else its id.
    pub fn label(&self, record: &Props) -> String {
        let parts: Vec<String> = self
            .key
            .iter()
            .filter_map(|k| record.get(*k).map(|v| format!("{k}={v}")))
            .collect();
        if parts.is_empty() {
            record.get(".id").cloned().unwrap_or_default()
        } else {
            parts.join(" ")
        }
    }
}

/// A written value in the form RouterOS prints it, so the item can be found and verified:
/// `yes`/`no` become `true`/`false`, MAC addresses are upper case with colons, an address
/// without a prefix gets `/32` in `/ip/address`, and route destinations lose their host bits.
pub fn normalize(menu: &str, prop: &str, value: &str) -> String {
    let v = value.trim();
    match v {
        "yes" => return "true".into(),
        "no" => return "false".into(),
        _ => {}
    }
    if prop == "mac-address" || prop.ends_with("-mac-address") {
        let hex: String = v.chars().filter(char::is_ascii_hexdigit).collect();
        if hex.len() == 12 {
            let upper = hex.to_ascii_uppercase();
            return upper
                .as_bytes()
                .chunks(2)
                .map(|c| String::from_utf8_lossy(c).into_owned())
                .collect::<Vec<_>>()
                .join(":");
        }
    }
    match (menu, prop) {
        ("ip/address", "address") if !v.contains('/') && v.parse::<Ipv4Addr>().is_ok() => {
            format!("{v}/32")
        }
        ("ip/route", "dst-address") => network_of(v).unwrap_or_else(|| v.to_owned()),
        _ => v.to_owned(),
    }
}

/// `10.1.2.3/24` → `10.1.2.0/24`; a bare address → `/32`.
pub fn network_of(cidr: &str) -> Option<String> {
    let (ip, len) = match cidr.split_once('/') {
        Some((ip, len)) => (ip.parse::<Ipv4Addr>().ok()?, len.parse::<u8>().ok()?),
        None => (cidr.parse::<Ipv4Addr>().ok()?, 32),
    };
    if len > 32 {
        return None;
    }
    let mask = if len == 0 {
        0
    } else {
        u32::MAX << (32 - u32::from(len))
    };
    Some(format!("{}/{len}", Ipv4Addr::from(u32::from(ip) & mask)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_are_written_the_way_routeros_prints_them() {
        assert_eq!(normalize("ip/dns/static", "disabled", "yes"), "true");
        assert_eq!(
            normalize("ip/dhcp-server/lease", "mac-address", "aa-bb-cc-dd-ee-0f"),
            "AA:BB:CC:DD:EE:0F"
        );
        assert_eq!(
            normalize("ip/address", "address", "10.0.0.1"),
            "10.0.0.1/32"
        );
        assert_eq!(
            normalize("ip/address", "address", "10.0.0.1/24"),
            "10.0.0.1/24"
        );
        assert_eq!(
            normalize("ip/route", "dst-address", "10.1.2.3/16"),
            "10.1.0.0/16"
        );
        assert_eq!(normalize("ip/dns/static", "name", "nas.lan"), "nas.lan");
    }

    #[test]
    fn computed_properties_are_never_written() {
        let s = spec("/ip/firewall/filter").unwrap_or_else(|| unreachable!());
        assert!(s.is_read_only("bytes") && s.is_read_only("dynamic"));
        assert!(s.is_writable("comment") && s.is_writable("chain"));
        let i = spec("interface").unwrap_or_else(|| unreachable!());
        assert!(i.is_writable("comment") && !i.is_writable("name"));
        assert!(i.is_read_only("rx-byte") && i.is_read_only("mac-address"));
        assert!(spec("system/script").is_none(), "scripts are never planned");
    }
}
