//! What the configuration means for forwarding: which interfaces run, which networks are
//! connected, which routes are active, and where a packet to an address would go.
//!
//! Printing `/ip/route` (the `active` flag), printing `/interface` (`running`, `slave`), ping,
//! traceroute and the management-path rule all derive from the same [`Routing`] snapshot, so
//! they can never disagree about whether a path exists.

use std::collections::HashMap;
use std::net::Ipv4Addr;

use super::ids::RosId;
use super::item::Item;
use super::state::RouterState;
use super::value::{contains, mask, parse_prefix};

/// Forwarding-relevant facts about one interface.
#[derive(Debug, Clone)]
pub struct IfaceInfo {
    /// Its id in `/interface`.
    pub id: RosId,
    /// RouterOS type (`ether`, `bridge`, `vlan`, `wg`).
    pub kind: String,
    /// Disabled by configuration.
    pub disabled: bool,
    /// Enabled, has link, and (for a VLAN) its parent runs.
    pub running: bool,
    /// A port of an enabled bridge.
    pub slave: bool,
}

/// A network attached through an enabled address.
#[derive(Debug, Clone)]
pub struct Connected {
    /// The id of the `/ip/address` item.
    pub address_id: RosId,
    /// The router's own address.
    pub address: Ipv4Addr,
    /// Prefix length.
    pub len: u8,
    /// Network address.
    pub network: Ipv4Addr,
    /// The interface holding the address.
    pub iface: String,
    /// The interface runs, so the network is reachable.
    pub active: bool,
}

/// Where a packet to some address leaves the router.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Egress {
    /// Directly attached network on this interface.
    Connected {
        /// The outgoing interface.
        iface: String,
    },
    /// Through a gateway reachable on this interface.
    Via {
        /// The next hop.
        gateway: Ipv4Addr,
        /// The outgoing interface.
        iface: String,
    },
    /// Dropped by a blackhole route.
    Blackhole,
}

/// A snapshot of interfaces and connected networks.
#[derive(Debug, Clone)]
pub struct Routing {
    ifaces: HashMap<String, IfaceInfo>,
    /// Every enabled address on an existing interface.
    pub connected: Vec<Connected>,
}

impl Routing {
    /// Derives the snapshot from the configuration.
    pub fn build(state: &RouterState) -> Self {
        let ifaces_raw: Vec<&Item> = state.items_of("/interface").collect();
        let mut bridges_enabled: HashMap<&str, bool> = HashMap::new();
        for it in &ifaces_raw {
            if it.get("type") == Some("bridge")
                && let Some(name) = it.get("name")
            {
                bridges_enabled.insert(name, !it.is_true("disabled"));
            }
        }
        let mut slaves: HashMap<&str, bool> = HashMap::new();
        for port in state.items_of("/interface/bridge/port") {
            if port.is_true("disabled") {
                continue;
            }
            let bridge_ok = port
                .get("bridge")
                .and_then(|b| bridges_enabled.get(b))
                .copied()
                .unwrap_or(false);
            if let (true, Some(iface)) = (bridge_ok, port.get("interface")) {
                slaves.insert(iface, true);
            }
        }
        let by_name: HashMap<&str, &Item> = ifaces_raw
            .iter()
            .filter_map(|it| it.get("name").map(|n| (n, *it)))
            .collect();
        let mut ifaces = HashMap::with_capacity(by_name.len());
        for (name, it) in &by_name {
            let running = running(&by_name, it, 0);
            ifaces.insert(
                (*name).to_string(),
                IfaceInfo {
                    id: it.id(),
                    kind: it.get("type").unwrap_or_default().to_string(),
                    disabled: it.is_true("disabled"),
                    running,
                    slave: slaves.contains_key(name),
                },
            );
        }
        let mut connected = Vec::new();
        for a in state.items_of("/ip/address") {
            if a.is_true("disabled") {
                continue;
            }
            let (Some(addr), Some(iface)) = (a.get("address"), a.get("interface")) else {
                continue;
            };
            let Some((ip, len)) = parse_prefix(addr) else {
                continue;
            };
            let Some(info) = ifaces.get(iface) else {
                continue;
            };
            connected.push(Connected {
                address_id: a.id(),
                address: ip,
                len,
                network: mask(ip, len),
                iface: iface.to_string(),
                active: info.running,
            });
        }
        Routing { ifaces, connected }
    }

    /// The facts about interface `name`, if it exists.
    pub fn iface(&self, name: &str) -> Option<&IfaceInfo> {
        self.ifaces.get(name)
    }

    /// Whether interface `name` exists and runs.
    pub fn running(&self, name: &str) -> bool {
        self.ifaces.get(name).is_some_and(|i| i.running)
    }

    /// The interface through which `gw` (one gateway word: `a.b.c.d`, `a.b.c.d%iface` or an
    /// interface name) is reachable right now.
    pub fn resolve_gateway(&self, gw: &str) -> Option<(Option<Ipv4Addr>, String)> {
        if let Some((ip, iface)) = gw.split_once('%') {
            let ip: Ipv4Addr = ip.parse().ok()?;
            return self.running(iface).then(|| (Some(ip), iface.to_string()));
        }
        if let Ok(ip) = gw.parse::<Ipv4Addr>() {
            return self
                .connected
                .iter()
                .filter(|c| c.active && contains(c.network, c.len, ip))
                .max_by_key(|c| c.len)
                .map(|c| (Some(ip), c.iface.clone()));
        }
        self.running(gw).then(|| (None, gw.to_string()))
    }

    /// Whether a `/ip/route` item is active (usable for forwarding).
    pub fn route_active(&self, route: &Item) -> bool {
        if route.is_true("disabled") {
            return false;
        }
        if route.is_true("blackhole") {
            return true;
        }
        if route.is_true("connect") {
            return route.get("gateway").is_some_and(|g| self.running(g));
        }
        route.get("gateway").is_some_and(|g| {
            g.split(',')
                .any(|w| self.resolve_gateway(w.trim()).is_some())
        })
    }

    /// Longest-prefix match over connected networks and active routes of the `main` table:
    /// where a packet to `dst` leaves, or `None` when no route covers it.
    pub fn egress(&self, state: &RouterState, dst: Ipv4Addr) -> Option<Egress> {
        // (prefix length, distance, egress); longer prefix wins, then lower distance.
        let mut best: Option<(u8, i64, Egress)> = None;
        let mut consider = |len: u8, distance: i64, e: Egress| {
            let better = match &best {
                None => true,
                Some((bl, bd, _)) => len > *bl || (len == *bl && distance < *bd),
            };
            if better {
                best = Some((len, distance, e));
            }
        };
        for c in &self.connected {
            if c.active && contains(c.network, c.len, dst) {
                consider(
                    c.len,
                    0,
                    Egress::Connected {
                        iface: c.iface.clone(),
                    },
                );
            }
        }
        for r in state.items_of("/ip/route") {
            if r.is_true("connect") || r.is_true("disabled") {
                continue;
            }
            if r.get("routing-table").is_some_and(|t| t != "main") {
                continue;
            }
            let Some((net, len)) = parse_prefix(r.get("dst-address").unwrap_or("0.0.0.0/0")) else {
                continue;
            };
            if !contains(net, len, dst) {
                continue;
            }
            let distance = r
                .get("distance")
                .and_then(|d| d.parse::<i64>().ok())
                .unwrap_or(1);
            if r.is_true("blackhole") {
                consider(len, distance, Egress::Blackhole);
                continue;
            }
            let resolved = r
                .get("gateway")
                .and_then(|g| g.split(',').find_map(|w| self.resolve_gateway(w.trim())));
            if let Some((gw, iface)) = resolved {
                let e = match gw {
                    Some(gateway) => Egress::Via { gateway, iface },
                    None => Egress::Connected { iface },
                };
                consider(len, distance, e);
            }
        }
        best.map(|(_, _, e)| e)
    }
}

fn running(by_name: &HashMap<&str, &Item>, it: &Item, depth: u8) -> bool {
    if it.is_true("disabled") || depth > 8 {
        return false;
    }
    match it.get("type") {
        Some("ether") => it.get("link") != Some("false"),
        Some("vlan") => it
            .get("interface")
            .and_then(|p| by_name.get(p))
            .is_some_and(|parent| running(by_name, parent, depth + 1)),
        _ => true,
    }
}
