//! How risky a change is, and which changes cannot affect how the server reaches a router.
//!
//! Risk is a pure function of the menu, the action, the item as read (every property, computed
//! ones such as a service's `name` included), what is written, and the [`ManagementPath`] — the
//! one model of how the server reaches the router, built by the planner from what the router
//! reports. The rules:
//!
//! - **Critical** — anything that can cut the server's reach to the router: changing, removing,
//!   disabling or renumbering the management address, or adding an address that overlaps the
//!   management network or covers the server; any route whose destination (before or after)
//!   covers the server, and the routes found carrying its traffic; the state of an interface on
//!   the path (the interface with the address, its VLAN parent, its bridge, the ports of that
//!   bridge, bond slaves) and changes to VLANs and interface-list membership of those interfaces;
//!   any change (other than a comment) to an `/ip/service` the server uses, or moving another
//!   service onto a port the server connects to; filter and raw rules in any chain that drop,
//!   reject, tarpit or jump and could match the server's traffic — input (prerouting in raw) for
//!   what the server sends, output for the router's replies, both for a user chain a rule may
//!   jump to; forward never sees traffic to the router itself; NAT rules that dst-nat or redirect
//!   traffic that could be the server's, or src-nat the management address or port.
//! - **High** — what can still cut traffic to the router or interfere with the path: other
//!   input- and output-chain rules (removing, disabling or moving a rule that accepts the
//!   server's traffic among them), other routes, other interface state, other address changes, an
//!   address-list entry that covers the server or the router's own address, or is a DNS name
//!   (RouterOS resolves it, so it cannot be shown not to), a DHCP lease for the server's
//!   address, mangle rules that could match the server's traffic, and every menu without rules.
//! - **Medium** — forwarding and NAT rules that cannot match the server's traffic, new addresses,
//!   pools, VLANs and list members off the path, services the server does not use, queues.
//! - **Low** — comments, the identity, static DNS entries, DHCP leases, address-list entries
//!   that cover neither the server nor the router's address.
//!
//! A value that cannot be parsed is assumed to hit the server: it never makes a change low.
//! When the server could not work out which interface carries the management address, every
//! interface is treated as on the path.
//!
//! Every plan is applied behind a device-side auto-revert except one whose risk is low and whose
//! every change is on the allow-list of [`cannot_affect_reachability`].

use std::net::IpAddr;

use crate::menus::MenuSpec;
use crate::model::{Action, Change, Props, Risk, Write};

/// What the server knows about how it reaches a device: the one model every rule of this module
/// is checked against.
#[derive(Debug, Clone, Default)]
pub struct ManagementPath {
    /// The device address the server connects to.
    pub device_ip: Option<IpAddr>,
    /// The server's own address as the device sees it.
    pub server_ip: Option<IpAddr>,
    /// Every interface the management traffic depends on, with its part in the path: the
    /// interface carrying the device address, its VLAN parent, the bridge it is a port of, the
    /// ports of the bridge when the address is on the bridge, bond slaves. Empty when the device
    /// address was not found on the device: then every interface may be on the path.
    pub interfaces: Vec<(String, String)>,
    /// RouterOS ids of the routes carrying the server's traffic: the most specific active route
    /// of the main table covering the server, and the default route when it is that route.
    pub routes: Vec<String>,
    /// The `/ip/service` names the server uses (`www-ssl`, `ssh`, `www` with plain HTTP).
    pub services: Vec<String>,
    /// The TCP ports on the device the server connects to (as registered, and as the services
    /// it uses are configured).
    pub ports: Vec<u16>,
}

impl ManagementPath {
    /// What `iface` is to the management path, if it is on it (always, when the path is unknown).
    pub fn role_of(&self, iface: &str) -> Option<String> {
        if self.interfaces.is_empty() {
            return Some(
                "may carry the management address (the server could not tell which interface does)"
                    .into(),
            );
        }
        self.interfaces
            .iter()
            .find(|(name, _)| name == iface)
            .map(|(_, role)| role.clone())
    }

    fn uses_service(&self, name: &str, port: Option<u16>) -> bool {
        self.services.iter().any(|s| s == name) || port.is_some_and(|p| self.ports.contains(&p))
    }
}

/// A set of addresses as RouterOS writes one: an address, a prefix (`10.0.0.0/8`) or a range
/// (`10.0.0.1-10.0.0.9`), IPv4 or IPv6.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum AddrSet {
    Prefix(IpAddr, u8),
    Range(IpAddr, IpAddr),
}

impl AddrSet {
    fn parse(text: &str) -> Option<Self> {
        let text = text.trim();
        if let Some((a, b)) = text.split_once('-') {
            let (a, b) = (a.trim().parse().ok()?, b.trim().parse().ok()?);
            return match (a, b) {
                (IpAddr::V4(_), IpAddr::V4(_)) | (IpAddr::V6(_), IpAddr::V6(_)) => {
                    Some(AddrSet::Range(a, b))
                }
                _ => None,
            };
        }
        let (ip, len) = match text.split_once('/') {
            Some((ip, len)) => (ip.parse::<IpAddr>().ok()?, Some(len.parse::<u8>().ok()?)),
            None => (text.parse::<IpAddr>().ok()?, None),
        };
        let max = if ip.is_ipv4() { 32 } else { 128 };
        let len = len.unwrap_or(max);
        (len <= max).then_some(AddrSet::Prefix(ip, len))
    }

    fn contains(self, ip: IpAddr) -> bool {
        match self {
            AddrSet::Prefix(net, len) => match (net, ip) {
                (IpAddr::V4(n), IpAddr::V4(i)) => {
                    let mask = u32::MAX.checked_shl(32 - u32::from(len)).unwrap_or(0);
                    u32::from(n) & mask == u32::from(i) & mask
                }
                (IpAddr::V6(n), IpAddr::V6(i)) => {
                    let mask = u128::MAX.checked_shl(128 - u32::from(len)).unwrap_or(0);
                    u128::from(n) & mask == u128::from(i) & mask
                }
                _ => false,
            },
            AddrSet::Range(a, b) => match (a, b, ip) {
                (IpAddr::V4(a), IpAddr::V4(b), IpAddr::V4(i)) => {
                    (u32::from(a)..=u32::from(b)).contains(&u32::from(i))
                }
                (IpAddr::V6(a), IpAddr::V6(b), IpAddr::V6(i)) => {
                    (u128::from(a)..=u128::from(b)).contains(&u128::from(i))
                }
                _ => false,
            },
        }
    }
}

/// Whether `value` (an address, prefix or range) contains `ip`: `None` when either is unknown or
/// the value does not parse (a DNS name, say) — the caller assumes the worst.
pub fn covers(value: &str, ip: Option<IpAddr>) -> Option<bool> {
    Some(AddrSet::parse(value)?.contains(ip?))
}

/// Whether `value` is an address, prefix or range (not a DNS name, not garbage).
pub fn is_literal_address(value: &str) -> bool {
    AddrSet::parse(value).is_some()
}

/// Whether a RouterOS port list (`22`, `80,443`, `8000-9000`) contains `port`; `None` when it
/// does not parse.
fn port_list_contains(list: &str, port: u16) -> Option<bool> {
    let mut hit = false;
    for part in list.split(',') {
        let part = part.trim();
        let (lo, hi) = match part.split_once('-') {
            Some((a, b)) => (a.trim().parse::<u16>().ok()?, b.trim().parse::<u16>().ok()?),
            None => {
                let p = part.parse::<u16>().ok()?;
                (p, p)
            }
        };
        hit |= (lo..=hi).contains(&port);
    }
    Some(hit)
}

/// Which way the server's traffic crosses a chain.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Dir {
    /// From the server to the router (input, prerouting, dstnat).
    Inbound,
    /// From the router back to the server (output, srcnat).
    Outbound,
}

/// Whether a rule could match the server's traffic going `dir`: false only when one of its
/// matchers provably excludes it (address, protocol, port, interface, connection state) or it
/// is disabled. Matchers this cannot evaluate (address lists, interface lists, …) never exclude.
fn may_match(spec: &MenuSpec, rule: &Props, dir: Dir, path: &ManagementPath) -> bool {
    if rule.get("disabled").is_some_and(|d| d == "true") {
        return false;
    }
    // The /ip/firewall tables only see IPv4.
    if path.device_ip.is_some_and(|ip| ip.is_ipv6()) {
        return false;
    }
    let (src, dst) = match dir {
        Dir::Inbound => (path.server_ip, path.device_ip),
        Dir::Outbound => (path.device_ip, path.server_ip),
    };
    let ips = |ip: Option<IpAddr>| ip.into_iter().collect::<Vec<_>>();
    let ifaces: Vec<String> = path.interfaces.iter().map(|(n, _)| n.clone()).collect();
    for (key, raw) in rule {
        if spec.is_read_only(key) {
            continue;
        }
        let (negated, value) = match raw.strip_prefix('!') {
            Some(v) => (true, v),
            None => (false, raw.as_str()),
        };
        let hit = match (key.as_str(), dir) {
            ("src-address", _) => some_packet(&ips(src), negated, |ip| covers(value, Some(*ip))),
            ("dst-address", _) => some_packet(&ips(dst), negated, |ip| covers(value, Some(*ip))),
            ("protocol", _) => {
                some_packet(&["tcp"], negated, |p| Some(value == *p || value == "6"))
            }
            ("dst-port", Dir::Inbound) | ("src-port", Dir::Outbound) => {
                some_packet(&path.ports, negated, |p| port_list_contains(value, *p))
            }
            ("in-interface", Dir::Inbound) | ("out-interface", Dir::Outbound) => {
                some_packet(&ifaces, negated, |i| Some(i == value))
            }
            ("connection-state", _) => some_packet(&["new", "established"], negated, |s| {
                Some(value.split(',').any(|v| v.trim() == *s))
            }),
            _ => None,
        };
        if hit == Some(false) {
            return false;
        }
    }
    true
}

/// Whether some packet of the management traffic, whose attribute takes each of `values`,
/// satisfies a matcher (`negated`: its negation): `None` when that cannot be told.
fn some_packet<T>(values: &[T], negated: bool, test: impl Fn(&T) -> Option<bool>) -> Option<bool> {
    if values.is_empty() {
        return None;
    }
    let mut known = true;
    for v in values {
        match test(v) {
            Some(m) if m != negated => return Some(true),
            Some(_) => {}
            None => known = false,
        }
    }
    known.then_some(false)
}

/// Whether a rule names the management traffic itself (for src-nat, which only matters then).
fn names_management(rule: &Props, path: &ManagementPath) -> bool {
    let positive = |k: &str| rule.get(k).filter(|v| !v.starts_with('!'));
    positive("src-address").is_some_and(|v| covers(v, path.device_ip) != Some(false))
        || positive("src-port").is_some_and(|v| {
            path.ports
                .iter()
                .any(|p| port_list_contains(v, *p) != Some(false))
        })
}

/// The directions of the server's traffic a chain of `table` sees.
fn directions(table: &str, chain: &str) -> &'static [Dir] {
    match (table, chain) {
        ("ip/firewall/filter", "input") | ("ip/firewall/raw", "prerouting") => &[Dir::Inbound],
        ("ip/firewall/nat", "dstnat") | ("ip/firewall/mangle", "input" | "prerouting") => {
            &[Dir::Inbound]
        }
        (_, "output") | ("ip/firewall/nat", "srcnat") | ("ip/firewall/mangle", "postrouting") => {
            &[Dir::Outbound]
        }
        (_, "forward") => &[],
        // A user chain: any rule may jump to it.
        _ => &[Dir::Inbound, Dir::Outbound],
    }
}

fn active(props: &Props) -> bool {
    props.get("disabled").is_none_or(|d| d != "true")
}

/// The item as it will be after the change (for an add: what is written).
fn after_state(item: Option<&Props>, write: &Write) -> Props {
    let mut after = item.cloned().unwrap_or_default();
    for (k, v) in &write.props {
        after.insert(k.clone(), v.clone());
    }
    for u in &write.unset {
        after.remove(u);
    }
    after
}

/// Whether a set touches only `comment`.
fn comment_only(action: Action, write: &Write) -> bool {
    action == Action::Set
        && write.command.is_none()
        && write.place_before.is_none()
        && (!write.props.is_empty() || !write.unset.is_empty())
        && write.props.keys().all(|k| k == "comment")
        && write.unset.iter().all(|k| k == "comment")
}

/// The risk of one change and, from medium up, why. `item` is the item as read, with every
/// property RouterOS prints (computed ones included); `None` for adds.
pub fn assess(
    spec: &MenuSpec,
    action: Action,
    item: Option<&Props>,
    write: &Write,
    path: &ManagementPath,
    device: &str,
) -> (Risk, Option<String>) {
    if comment_only(action, write) {
        return (Risk::Low, None);
    }
    let empty = Props::new();
    let before = item.unwrap_or(&empty);
    let after = after_state(item, write);
    // A property as it is after the change (as read for a remove).
    let now = |k: &str| {
        if action == Action::Remove {
            before.get(k)
        } else {
            after.get(k)
        }
        .map(String::as_str)
        .unwrap_or_default()
    };
    let reason = |what: String| Some(format!("{what} on {device}"));
    let verb = match action {
        Action::Remove => "removes",
        Action::Disable => "disables",
        Action::Add => "adds",
        Action::Move => "moves",
        Action::Set | Action::Enable | Action::Command => "changes",
    };
    let was = |k: &str| before.get(k).map(String::as_str);
    match spec.path {
        "system/identity" | "ip/dns/static" => (Risk::Low, None),
        "ip/dhcp-server/lease" => {
            let server = [was("address"), after.get("address").map(String::as_str)]
                .into_iter()
                .flatten()
                .any(|a| covers(a, path.server_ip) == Some(true));
            if server {
                (
                    Risk::High,
                    reason(format!(
                        "{verb} the DHCP lease of {}, the server's own address",
                        now("address")
                    )),
                )
            } else {
                (Risk::Low, None)
            }
        }
        "ip/pool" => (
            Risk::Medium,
            reason(format!("{verb} address pool {}", now("name"))),
        ),
        "ip/firewall/address-list" => {
            let mut addresses: Vec<&str> = Vec::new();
            if let Some(a) = was("address") {
                addresses.push(a);
            }
            if action != Action::Remove {
                addresses.push(now("address"));
            }
            for a in addresses {
                if !is_literal_address(a) {
                    return (
                        Risk::High,
                        reason(format!(
                            "address-list entry {a:?} is not an address, prefix or range (a DNS name RouterOS resolves): it may cover the server's own address"
                        )),
                    );
                }
                let hits = [path.server_ip, path.device_ip]
                    .into_iter()
                    .any(|ip| covers(a, ip) != Some(false));
                if hits {
                    return (
                        Risk::High,
                        reason(format!(
                            "address-list entry {a} (list {}) contains the server's own address or the router's management address",
                            now("list")
                        )),
                    );
                }
            }
            (Risk::Low, None)
        }
        "interface" => {
            let name = was("name").unwrap_or_else(|| now("name"));
            match path.role_of(name) {
                Some(role) => (
                    Risk::Critical,
                    reason(format!("{verb} interface {name}, which {role}")),
                ),
                None => (
                    Risk::High,
                    reason(format!("changes the state of interface {name}")),
                ),
            }
        }
        "interface/vlan" | "interface/list/member" => {
            let field = if spec.path == "interface/vlan" {
                "name"
            } else {
                "interface"
            };
            let names: Vec<&str> = match action {
                Action::Add => vec![now(field)],
                _ => [was(field), Some(now(field))]
                    .into_iter()
                    .flatten()
                    .collect(),
            };
            let on_path = names.iter().find_map(|n| {
                let role = path.role_of(n)?;
                // Adding a VLAN creates a new interface: it cannot already be on the path.
                (spec.path != "interface/vlan" || action != Action::Add).then_some((n, role))
            });
            match on_path {
                Some((n, role)) => (
                    Risk::Critical,
                    reason(format!("{verb} /{} {n}, which {role}", spec.path)),
                ),
                None => (
                    Risk::Medium,
                    reason(format!("{verb} /{} {}", spec.path, now(field))),
                ),
            }
        }
        "ip/address" => assess_address(action, before, &after, path, verb, &reason),
        "ip/route" => {
            let id = was(".id").unwrap_or_default();
            let carries = action != Action::Add && path.routes.iter().any(|r| r == id);
            let main = |p: &Props| {
                p.get("routing-table")
                    .is_none_or(|t| t.is_empty() || t == "main")
            };
            let mut states: Vec<&Props> = vec![&after];
            if action != Action::Add {
                states.push(before);
            }
            let covering = states.iter().find(|s| {
                main(s)
                    && s.get("dst-address")
                        .is_none_or(|d| covers(d, path.server_ip) != Some(false))
            });
            if carries {
                (
                    Risk::Critical,
                    reason(format!(
                        "{verb} route {}, which carries the management traffic to the server",
                        was("dst-address").unwrap_or_default()
                    )),
                )
            } else if let Some(s) = covering {
                (
                    Risk::Critical,
                    reason(format!(
                        "{verb} route {}, which covers the server's address and can carry the management traffic",
                        s.get("dst-address")
                            .map_or("(no dst-address)", String::as_str)
                    )),
                )
            } else {
                (
                    Risk::High,
                    reason(format!("{verb} route {}", now("dst-address"))),
                )
            }
        }
        "ip/service" => assess_service(action, before, &after, path, verb, &reason),
        "ip/firewall/filter" | "ip/firewall/raw" => {
            assess_rule(spec, action, before, &after, path, verb, &reason)
        }
        "ip/firewall/nat" => {
            // What the rule does to a packet it matches: rewrite its destination (dstnat), its
            // source (srcnat), or hand it to a chain that may do either.
            let verdict = after.get("action").map_or("accept", String::as_str);
            let to_destination =
                matches!(verdict, "dst-nat" | "redirect" | "netmap" | "same" | "jump");
            let to_source = matches!(
                verdict,
                "src-nat" | "masquerade" | "netmap" | "same" | "jump"
            );
            let cuts = matches!(
                action,
                Action::Add | Action::Set | Action::Enable | Action::Move
            ) && active(&after)
                && directions(spec.path, now("chain")).iter().any(|d| match d {
                    Dir::Inbound => to_destination && may_match(spec, &after, *d, path),
                    Dir::Outbound => {
                        to_source
                            && may_match(spec, &after, *d, path)
                            && names_management(&after, path)
                    }
                });
            if cuts {
                (
                    Risk::Critical,
                    reason(format!(
                        "{verb} a NAT rule chain={} action={} that can rewrite the management traffic (the server's port or the router's address)",
                        now("chain"),
                        now("action")
                    )),
                )
            } else {
                (
                    Risk::Medium,
                    reason(format!("{verb} a NAT rule in chain {}", now("chain"))),
                )
            }
        }
        "ip/firewall/mangle" => {
            let mut states: Vec<&Props> = Vec::new();
            if action != Action::Remove {
                states.push(&after);
            }
            if !before.is_empty() {
                states.push(before);
            }
            let hits = states.iter().any(|s| {
                directions(spec.path, s.get("chain").map_or("", String::as_str))
                    .iter()
                    .any(|d| may_match(spec, s, *d, path))
            });
            if hits {
                (
                    Risk::High,
                    reason(format!(
                        "{verb} a mangle rule in chain {} that can match the management traffic (it can mark or re-route it)",
                        now("chain")
                    )),
                )
            } else {
                (
                    Risk::Medium,
                    reason(format!("{verb} a mangle rule in chain {}", now("chain"))),
                )
            }
        }
        "queue/simple" => (
            Risk::Medium,
            reason(format!("{verb} simple queue {}", now("name"))),
        ),
        _ => (Risk::High, reason(format!("changes /{}", spec.path))),
    }
}

fn assess_address(
    action: Action,
    before: &Props,
    after: &Props,
    path: &ManagementPath,
    verb: &str,
    reason: &dyn Fn(String) -> Option<String>,
) -> (Risk, Option<String>) {
    let ip_of = |p: &Props| {
        p.get("address")
            .and_then(|a| a.split('/').next())
            .and_then(|a| a.parse::<IpAddr>().ok())
    };
    let was = before.get("address").map_or("", String::as_str);
    let new = after.get("address").map_or("", String::as_str);
    if action != Action::Add && ip_of(before).is_some() && ip_of(before) == path.device_ip {
        let what = if action == Action::Set && new != was {
            format!("renumbers {was} to {new}")
        } else {
            format!("{verb} {was}")
        };
        return (
            Risk::Critical,
            reason(format!(
                "{what}, the address the server reaches the device by"
            )),
        );
    }
    let mut states = vec![after];
    if action != Action::Add {
        states.push(before);
    }
    for s in states {
        let a = s.get("address").map_or("", String::as_str);
        let overlaps = [path.server_ip, path.device_ip]
            .into_iter()
            .any(|ip| covers(a, ip) == Some(true));
        if overlaps {
            return (
                Risk::Critical,
                reason(format!(
                    "address {a} overlaps the management network or the server's own address and can reroute the management traffic"
                )),
            );
        }
        if !is_literal_address(a) {
            return (
                Risk::High,
                reason(format!("{verb} address {a:?}, which could not be read")),
            );
        }
    }
    match action {
        Action::Add => (Risk::Medium, reason(format!("adds address {new}"))),
        Action::Set
        | Action::Remove
        | Action::Move
        | Action::Enable
        | Action::Disable
        | Action::Command => (Risk::High, reason(format!("{verb} address {was}"))),
    }
}

fn assess_service(
    action: Action,
    before: &Props,
    after: &Props,
    path: &ManagementPath,
    verb: &str,
    reason: &dyn Fn(String) -> Option<String>,
) -> (Risk, Option<String>) {
    let name = before.get("name").map_or("", String::as_str);
    let port_of = |p: &Props| p.get("port").and_then(|v| v.parse::<u16>().ok());
    let used = name.is_empty() || path.uses_service(name, port_of(before));
    let shown = if name.is_empty() { "(unnamed)" } else { name };
    if !used {
        return match port_of(after) {
            Some(p) if path.ports.contains(&p) && active(after) => (
                Risk::Critical,
                reason(format!(
                    "moves service {shown} to port {p}, which the server connects to"
                )),
            ),
            _ => (
                Risk::Medium,
                reason(format!(
                    "{verb} service {shown}, which the server does not use"
                )),
            ),
        };
    }
    let changed: Vec<&String> = after
        .iter()
        .filter(|(k, v)| before.get(*k) != Some(*v))
        .map(|(k, _)| k)
        .chain(before.keys().filter(|k| !after.contains_key(*k)))
        .collect();
    let restriction_keeps_server = changed.iter().all(|k| *k == "address")
        && after.get("address").is_some_and(|list| {
            list.split(',')
                .any(|a| covers(a.trim(), path.server_ip) == Some(true))
        });
    if !active(after) || action == Action::Disable {
        (
            Risk::Critical,
            reason(format!("disables service {shown}, which the server uses")),
        )
    } else if port_of(after) != port_of(before) {
        (
            Risk::Critical,
            reason(format!(
                "moves service {shown}, which the server uses, from port {} to {}",
                before.get("port").map_or("?", String::as_str),
                after.get("port").map_or("?", String::as_str)
            )),
        )
    } else if changed.iter().any(|k| *k == "address") && !restriction_keeps_server {
        (
            Risk::Critical,
            reason(format!(
                "restricts service {shown}, which the server uses, to {:?}, which may exclude the server",
                after.get("address").map_or("", String::as_str)
            )),
        )
    } else if restriction_keeps_server {
        (
            Risk::High,
            reason(format!(
                "restricts service {shown}, which the server uses (the server's address stays allowed)"
            )),
        )
    } else {
        (
            Risk::Critical,
            reason(format!("changes service {shown}, which the server uses")),
        )
    }
}

fn assess_rule(
    spec: &MenuSpec,
    action: Action,
    before: &Props,
    after: &Props,
    path: &ManagementPath,
    verb: &str,
    reason: &dyn Fn(String) -> Option<String>,
) -> (Risk, Option<String>) {
    let table = if spec.path == "ip/firewall/raw" {
        "raw"
    } else {
        "filter"
    };
    let chain = |p: &Props| p.get("chain").cloned().unwrap_or_default();
    let verdict = |p: &Props| {
        p.get("action")
            .cloned()
            .unwrap_or_else(|| "accept".to_owned())
    };
    let cutting = |p: &Props| matches!(verdict(p).as_str(), "drop" | "reject" | "tarpit" | "jump");
    let hits = |p: &Props| {
        active(p)
            && directions(spec.path, &chain(p))
                .iter()
                .any(|d| may_match(spec, p, *d, path))
    };
    let activates = matches!(
        action,
        Action::Add | Action::Set | Action::Enable | Action::Move
    );
    let takes_away = matches!(
        action,
        Action::Remove | Action::Disable | Action::Set | Action::Move
    );
    if activates && cutting(after) && hits(after) {
        return (
            Risk::Critical,
            reason(format!(
                "{verb} a {table} rule chain={} action={} that can match the management traffic (the server's traffic to or from the router)",
                chain(after),
                verdict(after)
            )),
        );
    }
    if takes_away && !before.is_empty() && !cutting(before) && hits(before) {
        return (
            Risk::High,
            reason(format!(
                "{verb} a {table} rule chain={} action={} that can match the management traffic: the server's traffic may depend on it",
                chain(before),
                verdict(before)
            )),
        );
    }
    let to_router = [after, before]
        .iter()
        .any(|p| matches!(chain(p).as_str(), "input" | "output" | "prerouting"));
    if to_router {
        (
            Risk::High,
            reason(format!(
                "{verb} a {table} rule in chain {} (traffic to or from the router itself)",
                chain(after)
            )),
        )
    } else {
        (
            Risk::Medium,
            reason(format!("{verb} a {table} rule in chain {}", chain(after))),
        )
    }
}

/// Whether a change is on the short allow-list of changes that cannot affect how the server
/// reaches a router: a `set` of `comment` only, the identity, static DNS entries, DHCP leases,
/// and address-list entries given as addresses, prefixes or ranges (never DNS names). Whether
/// an address-list entry covers the server is in the plan's risk (such an entry is never low),
/// so a plan skips the auto-revert only when this holds for every change and its risk is low.
pub fn cannot_affect_reachability(change: &Change) -> bool {
    if comment_only(change.action, &change.write) {
        return true;
    }
    match change.menu.as_str() {
        "system/identity" | "ip/dns/static" | "ip/dhcp-server/lease" => true,
        "ip/firewall/address-list" => {
            let written = change.write.props.get("address");
            let read = change.state_read.as_ref().and_then(|s| s.get("address"));
            (written.is_some() || read.is_some())
                && [written, read]
                    .into_iter()
                    .flatten()
                    .all(|a| is_literal_address(a))
        }
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn addresses_prefixes_and_ranges_cover_what_they_say() {
        let ip = Some("127.0.0.1".parse().unwrap_or_else(|_| unreachable!()));
        assert_eq!(covers("127.0.0.0-127.255.255.255", ip), Some(true));
        assert_eq!(covers("127.0.0.2-127.0.0.9", ip), Some(false));
        assert_eq!(covers("0.0.0.0/0", ip), Some(true));
        assert_eq!(covers("127.1.0.0/16", ip), Some(false));
        assert_eq!(covers("127.0.0.1", ip), Some(true));
        assert_eq!(covers("fd00::/8", ip), Some(false));
        assert_eq!(covers("mgmt.example.net", ip), None);
        assert_eq!(covers("127.0.0.0/33", ip), None);
        let v6 = Some("fd00::10".parse().unwrap_or_else(|_| unreachable!()));
        assert_eq!(covers("fd00::/64", v6), Some(true));
        assert_eq!(covers("fd00::1-fd00::f", v6), Some(false));
        assert_eq!(port_list_contains("80,443,8000-9000", 8443), Some(true));
        assert_eq!(port_list_contains("80,443", 22), Some(false));
        assert_eq!(port_list_contains("ssh", 22), None);
    }
}
