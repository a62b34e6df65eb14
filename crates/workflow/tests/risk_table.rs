//! Risk as a table: changes and the risk (and reason) each must get against one management path
//! — an address on a VLAN of a bridge with a bonded port, reached over the default route — and
//! against an IPv6-only path and an unknown one; which plans skip the device-side auto-revert;
//! and, against simulated routers, that the planner assesses the item as the router reports it,
//! that a medium plan is applied behind an auto-revert that restores a router it cut off, and
//! that a plan of static DNS entries arms none.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use routeros_sim::model::RouterState;
use routeros_sim::profiles::Profile;
use support::{Lab, props, quick_config};
use workflow::menus;
use workflow::model::Write;
use workflow::risk::{self, ManagementPath};
use workflow::{
    Action, Change, ChangeRequest, DeviceRequest, Op, PlanRequest, PlanStatus, Props, Risk,
    Selector,
};

/// The server (127.0.0.1) reaches 127.91.1.1/24 on `vlan99`, a VLAN of `bridge1`, whose ports
/// are `ether2` and `bond1` (slaves `ether7`, `ether8`), over the default route `*R1`, on
/// `www-ssl` (443) and `ssh` (22).
fn path() -> ManagementPath {
    let iface = |n: &str, role: &str| (n.to_owned(), role.to_owned());
    ManagementPath {
        device_ip: Some("127.91.1.1".parse().unwrap()),
        server_ip: Some("127.0.0.1".parse().unwrap()),
        interfaces: vec![
            iface("vlan99", "carries the management address"),
            iface(
                "bridge1",
                "is the parent of VLAN vlan99 on the management path",
            ),
            iface(
                "ether2",
                "is a port of bridge bridge1 on the management path",
            ),
            iface(
                "bond1",
                "is a port of bridge bridge1 on the management path",
            ),
            iface("ether7", "is a slave of bond bond1 on the management path"),
            iface("ether8", "is a slave of bond bond1 on the management path"),
        ],
        routes: vec!["*R1".into()],
        services: vec!["www-ssl".into(), "ssh".into()],
        ports: vec![443, 22],
    }
}

/// The server reaches fd00::1 on `ether1` over IPv6 only.
fn path_v6() -> ManagementPath {
    ManagementPath {
        device_ip: Some("fd00::1".parse().unwrap()),
        server_ip: Some("fd00::99".parse().unwrap()),
        interfaces: vec![("ether1".into(), "carries the management address".into())],
        routes: vec![],
        services: vec!["www-ssl".into(), "ssh".into()],
        ports: vec![443, 22],
    }
}

/// The device address was not found on the device (it is reached through NAT, say).
fn path_unknown() -> ManagementPath {
    ManagementPath {
        interfaces: vec![],
        ..path()
    }
}

struct Row {
    menu: &'static str,
    action: Action,
    item: &'static [(&'static str, &'static str)],
    write: &'static [(&'static str, &'static str)],
    risk: Risk,
    /// A fragment of the reason (none for low).
    why: &'static str,
}

const fn row(
    menu: &'static str,
    action: Action,
    item: &'static [(&'static str, &'static str)],
    write: &'static [(&'static str, &'static str)],
    risk: Risk,
    why: &'static str,
) -> Row {
    Row {
        menu,
        action,
        item,
        write,
        risk,
        why,
    }
}

use Action::{Add, Disable, Move, Remove, Set};
use Risk::{Critical, High, Low, Medium};

const WWW_SSL: &[(&str, &str)] = &[
    (".id", "*5"),
    ("name", "www-ssl"),
    ("port", "443"),
    ("disabled", "false"),
    ("invalid", "false"),
];
const SSH: &[(&str, &str)] = &[(".id", "*4"), ("name", "ssh"), ("port", "22")];
const TELNET: &[(&str, &str)] = &[(".id", "*2"), ("name", "telnet"), ("port", "23")];
const API: &[(&str, &str)] = &[(".id", "*6"), ("name", "api"), ("port", "8728")];
const MGMT_ADDRESS: &[(&str, &str)] = &[
    (".id", "*A"),
    ("address", "127.91.1.1/24"),
    ("interface", "vlan99"),
    ("network", "127.91.1.0"),
];
const DEFAULT_ROUTE: &[(&str, &str)] = &[
    (".id", "*R1"),
    ("dst-address", "0.0.0.0/0"),
    ("gateway", "127.91.1.254"),
    ("routing-table", "main"),
    ("active", "true"),
];
const OTHER_ROUTE: &[(&str, &str)] = &[
    (".id", "*R9"),
    ("dst-address", "10.0.0.0/8"),
    ("gateway", "10.1.1.1"),
];
const FORWARD_DROP: &[(&str, &str)] = &[
    (".id", "*F1"),
    ("chain", "forward"),
    ("action", "drop"),
    ("bytes", "0"),
];
const INPUT_ACCEPT_HTTPS: &[(&str, &str)] = &[
    (".id", "*F2"),
    ("chain", "input"),
    ("action", "accept"),
    ("protocol", "tcp"),
    ("dst-port", "443"),
];
const INPUT_DROP: &[(&str, &str)] = &[(".id", "*F3"), ("chain", "input"), ("action", "drop")];

/// Every case the risk model must get right. Rows marked "was …" were rated otherwise before the
/// management path became one model (all lower but the comment-only set).
#[rustfmt::skip]
fn table() -> Vec<Row> {
    vec![
        // /ip/service: the service's name is a computed property; it is assessed all the same.
        row("ip/service", Disable, WWW_SSL, &[("disabled", "true")], Critical, "disables service www-ssl, which the server uses"), // was medium
        row("ip/service", Disable, SSH, &[("disabled", "true")], Critical, "disables service ssh, which the server uses"), // was medium
        row("ip/service", Set, SSH, &[("port", "2200")], Critical, "moves service ssh, which the server uses, from port 22 to 2200"), // was medium
        row("ip/service", Set, WWW_SSL, &[("address", "10.0.0.0/8")], Critical, "restricts service www-ssl"), // was medium
        row("ip/service", Set, WWW_SSL, &[("certificate", "other")], Critical, "changes service www-ssl, which the server uses"), // was medium
        row("ip/service", Set, WWW_SSL, &[("address", "127.0.0.0/8,10.0.0.0/8")], High, "the server's address stays allowed"), // was medium
        row("ip/service", Set, API, &[("port", "443")], Critical, "moves service api to port 443"), // was medium
        row("ip/service", Disable, TELNET, &[("disabled", "true")], Medium, "telnet, which the server does not use"),
        // Address-list entries: ranges, prefixes, addresses and DNS names.
        row("ip/firewall/address-list", Add, &[], &[("list", "blocked"), ("address", "127.0.0.0-127.255.255.255")], High, "contains the server's own address"), // was low
        row("ip/firewall/address-list", Add, &[], &[("list", "blocked"), ("address", "mgmt.example.net")], High, "DNS name"), // was low
        row("ip/firewall/address-list", Add, &[], &[("list", "blocked"), ("address", "127.91.1.1")], High, "management address"), // was low
        row("ip/firewall/address-list", Add, &[], &[("list", "blocked"), ("address", "127.91.0.0-127.91.255.255")], High, "management address"), // was low
        row("ip/firewall/address-list", Add, &[], &[("list", "blocked"), ("address", "10.0.0.0/8")], Low, ""),
        row("ip/firewall/address-list", Add, &[], &[("list", "blocked"), ("address", "10.0.0.1-10.0.0.9")], Low, ""),
        row("ip/firewall/address-list", Set, &[(".id", "*L1"), ("list", "ok"), ("address", "10.0.0.5")], &[("address", "127.0.0.0/8")], High, "contains the server's own address"),
        // Filter and raw rules in every chain.
        row("ip/firewall/filter", Add, &[], &[("chain", "output"), ("action", "drop")], Critical, "adds a filter rule chain=output action=drop that can match the management traffic"), // was medium
        row("ip/firewall/filter", Add, &[], &[("chain", "output"), ("action", "reject"), ("protocol", "tcp"), ("src-port", "443")], Critical, "chain=output action=reject"), // was medium
        row("ip/firewall/filter", Add, &[], &[("chain", "output"), ("action", "drop"), ("dst-address", "10.0.0.0/8")], High, "traffic to or from the router itself"), // was medium
        row("ip/firewall/filter", Set, FORWARD_DROP, &[("chain", "input")], Critical, "changes a filter rule chain=input action=drop"), // was high
        row("ip/firewall/filter", Add, &[], &[("chain", "forward"), ("action", "drop")], Medium, "adds a filter rule in chain forward"),
        row("ip/firewall/filter", Add, &[], &[("chain", "input"), ("action", "drop"), ("protocol", "tcp"), ("dst-port", "443")], Critical, "chain=input action=drop"), // was high
        row("ip/firewall/filter", Add, &[], &[("chain", "input"), ("action", "drop"), ("protocol", "tcp"), ("dst-port", "!8291")], Critical, "chain=input action=drop"), // was high
        row("ip/firewall/filter", Add, &[], &[("chain", "input"), ("action", "jump"), ("jump-target", "mgmt")], Critical, "chain=input action=jump"), // was high
        row("ip/firewall/filter", Add, &[], &[("chain", "mgmt"), ("action", "tarpit")], Critical, "chain=mgmt action=tarpit"), // was medium
        row("ip/firewall/filter", Add, &[], &[("chain", "input"), ("action", "drop"), ("in-interface", "ether2")], Critical, "chain=input action=drop"), // was high
        row("ip/firewall/filter", Add, &[], &[("chain", "input"), ("action", "drop"), ("protocol", "udp")], High, "traffic to or from the router itself"),
        row("ip/firewall/filter", Add, &[], &[("chain", "input"), ("action", "drop"), ("protocol", "tcp"), ("dst-port", "8291")], High, "traffic to or from the router itself"),
        row("ip/firewall/filter", Add, &[], &[("chain", "input"), ("action", "drop"), ("src-address", "!127.0.0.0/8")], High, "traffic to or from the router itself"),
        row("ip/firewall/filter", Add, &[], &[("chain", "input"), ("action", "drop"), ("in-interface", "ether5")], High, "traffic to or from the router itself"),
        row("ip/firewall/filter", Add, &[], &[("chain", "input"), ("action", "drop"), ("connection-state", "invalid")], High, "traffic to or from the router itself"),
        row("ip/firewall/filter", Add, &[], &[("chain", "input"), ("action", "drop"), ("src-address-list", "blocked")], Critical, "chain=input action=drop"), // was high
        row("ip/firewall/filter", Add, &[], &[("chain", "input"), ("action", "drop"), ("disabled", "true")], High, "traffic to or from the router itself"),
        row("ip/firewall/filter", Remove, INPUT_ACCEPT_HTTPS, &[], High, "the server's traffic may depend on it"),
        row("ip/firewall/filter", Move, INPUT_DROP, &[], Critical, "chain=input action=drop"), // was high
        row("ip/firewall/filter", Set, INPUT_DROP, &[("comment", "keep out")], Low, ""), // was high: a comment cannot cut anything
        row("ip/firewall/raw", Add, &[], &[("chain", "prerouting"), ("action", "drop")], Critical, "raw rule chain=prerouting action=drop"), // was medium
        row("ip/firewall/raw", Add, &[], &[("chain", "output"), ("action", "drop"), ("protocol", "tcp")], Critical, "raw rule chain=output action=drop"), // was medium
        row("ip/firewall/raw", Add, &[], &[("chain", "prerouting"), ("action", "drop"), ("src-address", "192.168.0.0/16")], High, "traffic to or from the router itself"), // was medium
        // NAT of the management port or address.
        row("ip/firewall/nat", Add, &[], &[("chain", "dstnat"), ("action", "dst-nat"), ("protocol", "tcp"), ("dst-port", "443"), ("to-addresses", "10.0.0.9")], Critical, "adds a NAT rule chain=dstnat action=dst-nat that can rewrite the management traffic"), // was medium
        row("ip/firewall/nat", Add, &[], &[("chain", "dstnat"), ("action", "redirect"), ("to-ports", "8080")], Critical, "chain=dstnat action=redirect"), // was medium
        row("ip/firewall/nat", Add, &[], &[("chain", "dstnat"), ("action", "dst-nat"), ("protocol", "tcp"), ("dst-port", "8080"), ("to-addresses", "10.0.0.9")], Medium, "adds a NAT rule in chain dstnat"),
        row("ip/firewall/nat", Add, &[], &[("chain", "srcnat"), ("action", "src-nat"), ("src-address", "127.91.1.1"), ("to-addresses", "10.0.0.1")], Critical, "chain=srcnat action=src-nat"), // was medium
        row("ip/firewall/nat", Add, &[], &[("chain", "srcnat"), ("action", "masquerade"), ("out-interface", "vlan99")], Medium, "adds a NAT rule in chain srcnat"),
        // Addresses and routes, renumbering included.
        row("ip/address", Set, MGMT_ADDRESS, &[("address", "127.91.2.1/24")], Critical, "renumbers 127.91.1.1/24 to 127.91.2.1/24, the address the server reaches the device by"), // was high
        row("ip/address", Set, MGMT_ADDRESS, &[("interface", "ether5")], Critical, "the address the server reaches the device by"),
        row("ip/address", Remove, MGMT_ADDRESS, &[], Critical, "the address the server reaches the device by"),
        row("ip/address", Add, &[], &[("address", "127.91.1.7/24"), ("interface", "ether5")], Critical, "overlaps the management network"), // was medium
        row("ip/address", Add, &[], &[("address", "127.0.0.2/8"), ("interface", "ether5")], Critical, "overlaps the management network"),
        row("ip/address", Add, &[], &[("address", "10.9.9.1/24"), ("interface", "ether5")], Medium, "adds address 10.9.9.1/24"),
        row("ip/route", Set, DEFAULT_ROUTE, &[("dst-address", "10.0.0.0/8")], Critical, "carries the management traffic"), // was high
        row("ip/route", Set, DEFAULT_ROUTE, &[("gateway", "10.1.1.1")], Critical, "carries the management traffic"),
        row("ip/route", Disable, DEFAULT_ROUTE, &[("disabled", "true")], Critical, "carries the management traffic"),
        row("ip/route", Add, &[], &[("dst-address", "127.0.0.0/24"), ("gateway", "10.1.1.1")], Critical, "covers the server's address"),
        row("ip/route", Set, OTHER_ROUTE, &[("gateway", "10.1.1.2")], High, "route 10.0.0.0/8"),
        row("ip/route", Add, &[], &[("dst-address", "10.0.0.0/8"), ("gateway", "10.1.1.1")], High, "route 10.0.0.0/8"),
        // Interfaces on the path: the address's, its VLAN parent, bridge ports, bond slaves.
        row("interface", Disable, &[(".id", "*9"), ("name", "vlan99"), ("type", "vlan")], &[("disabled", "true")], Critical, "carries the management address"),
        row("interface", Disable, &[(".id", "*1"), ("name", "bridge1"), ("type", "bridge")], &[("disabled", "true")], Critical, "parent of VLAN vlan99"),
        row("interface", Disable, &[(".id", "*2"), ("name", "ether2"), ("type", "ether")], &[("disabled", "true")], Critical, "is a port of bridge bridge1"), // was high
        row("interface", Set, &[(".id", "*7"), ("name", "ether7"), ("type", "ether")], &[("mtu", "1400")], Critical, "is a slave of bond bond1"), // was high
        row("interface", Disable, &[(".id", "*5"), ("name", "ether5"), ("type", "ether")], &[("disabled", "true")], High, "changes the state of interface ether5"),
        row("interface", Set, &[(".id", "*2"), ("name", "ether2"), ("type", "ether")], &[("comment", "uplink")], Low, ""),
        row("interface/vlan", Remove, &[(".id", "*V"), ("name", "vlan99"), ("vlan-id", "99"), ("interface", "bridge1")], &[], Critical, "carries the management address"),
        row("interface/vlan", Set, &[(".id", "*V"), ("name", "vlan99"), ("vlan-id", "99"), ("interface", "bridge1")], &[("vlan-id", "98")], Critical, "carries the management address"),
        row("interface/vlan", Add, &[], &[("name", "vlan50"), ("vlan-id", "50"), ("interface", "bridge1")], Medium, "vlan50"),
        row("interface/list/member", Add, &[], &[("list", "WAN"), ("interface", "ether2")], Critical, "is a port of bridge bridge1"), // was medium
        row("interface/list/member", Add, &[], &[("list", "WAN"), ("interface", "ether5")], Medium, "ether5"),
        // The rest.
        row("ip/pool", Add, &[], &[("name", "guests"), ("ranges", "10.5.0.10-10.5.0.200")], Medium, "address pool guests"), // was low
        row("ip/dns/static", Add, &[], &[("name", "nas.lan"), ("address", "10.0.0.5")], Low, ""),
        row("system/identity", Set, &[("name", "core-1")], &[("name", "core-2")], Low, ""),
        row("ip/dhcp-server/lease", Add, &[], &[("address", "10.0.0.50"), ("mac-address", "AA:BB:CC:DD:EE:01")], Low, ""),
        row("ip/dhcp-server/lease", Set, &[(".id", "*D"), ("address", "10.0.0.50")], &[("address", "127.0.0.1")], High, "the server's own address"), // was low
        row("ip/firewall/mangle", Add, &[], &[("chain", "prerouting"), ("action", "mark-routing"), ("new-routing-mark", "vpn")], High, "can match the management traffic"), // was medium
        row("ip/firewall/mangle", Add, &[], &[("chain", "forward"), ("action", "mark-packet"), ("new-packet-mark", "p")], Medium, "adds a mangle rule in chain forward"),
        row("queue/simple", Add, &[], &[("name", "q1"), ("target", "10.0.0.0/24")], Medium, "simple queue q1"),
    ]
}

fn p(pairs: &[(&str, &str)]) -> Props {
    props(pairs)
}

fn assess(row: &Row, path: &ManagementPath) -> (Risk, Option<String>) {
    let spec = menus::spec(row.menu).unwrap_or_else(|| panic!("{} is a plannable menu", row.menu));
    let item = (!row.item.is_empty()).then(|| p(row.item));
    let write = Write {
        props: p(row.write),
        ..Write::default()
    };
    risk::assess(spec, row.action, item.as_ref(), &write, path, "core-switch")
}

#[test]
fn every_change_gets_the_risk_of_what_it_can_cut() {
    let rows = table();
    assert!(rows.len() >= 30, "{} rows", rows.len());
    let mut wrong = Vec::new();
    for row in &rows {
        let (risk, why) = assess(row, &path());
        let why = why.unwrap_or_default();
        let ok = risk == row.risk
            && (row.risk == Low || why.contains(row.why))
            && (row.risk != Low || why.is_empty())
            && (row.risk == Low || why.ends_with(" on core-switch"));
        if !ok {
            wrong.push(format!(
                "{} {} {:?} {:?}: got {risk} ({why}), want {} ({})",
                row.menu, row.action, row.item, row.write, row.risk, row.why
            ));
        }
    }
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
}

#[test]
fn an_ipv6_only_management_path_is_protected_too() {
    let cases: &[(Row, Risk)] = &[
        (
            row(
                "interface",
                Disable,
                &[(".id", "*1"), ("name", "ether1")],
                &[("disabled", "true")],
                Critical,
                "carries the management address",
            ),
            Critical,
        ),
        (
            row(
                "ip/service",
                Disable,
                WWW_SSL,
                &[("disabled", "true")],
                Critical,
                "disables service www-ssl",
            ),
            Critical,
        ),
        // The /ip/firewall tables see IPv4 only: an input drop cannot reach the IPv6 path.
        (
            row(
                "ip/firewall/filter",
                Add,
                &[],
                &[("chain", "input"), ("action", "drop")],
                High,
                "traffic to or from the router itself",
            ),
            High,
        ),
        (
            row(
                "ip/firewall/address-list",
                Add,
                &[],
                &[("list", "x"), ("address", "127.0.0.0/8")],
                Low,
                "",
            ),
            Low,
        ),
    ];
    for (row, want) in cases {
        let (risk, why) = assess(row, &path_v6());
        assert_eq!(risk, *want, "{} {:?}: {why:?}", row.menu, row.write);
        assert!(why.unwrap_or_default().contains(row.why));
    }
}

#[test]
fn an_unknown_management_interface_makes_every_interface_critical() {
    let r = row(
        "interface",
        Disable,
        &[(".id", "*9"), ("name", "ether9")],
        &[("disabled", "true")],
        Critical,
        "could not tell which interface",
    );
    let (risk, why) = assess(&r, &path_unknown());
    assert_eq!(risk, Critical);
    assert!(why.unwrap().contains(r.why));
    let unknown_server = ManagementPath {
        server_ip: None,
        ..path()
    };
    let entry = row(
        "ip/firewall/address-list",
        Add,
        &[],
        &[("list", "x"), ("address", "10.0.0.0/8")],
        High,
        "",
    );
    assert_eq!(
        assess(&entry, &unknown_server).0,
        High,
        "never low when unsure"
    );
}

fn change(menu: &str, action: Action, state: &[(&str, &str)], write: &[(&str, &str)]) -> Change {
    Change {
        seq: 1,
        device_id: domain::DeviceId::new(),
        device_order: 0,
        menu: menu.into(),
        action,
        target: None,
        write: Write {
            props: p(write),
            ..Write::default()
        },
        state_read: (!state.is_empty()).then(|| p(state)),
        preconditions: vec![],
        inverse: vec![],
        description: String::new(),
    }
}

#[test]
fn only_changes_that_cannot_affect_reachability_skip_the_auto_revert() {
    let allowed = [
        change(
            "ip/dns/static",
            Add,
            &[],
            &[("name", "a.lan"), ("address", "10.0.0.1")],
        ),
        change("system/identity", Set, &[("name", "a")], &[("name", "b")]),
        change(
            "ip/dhcp-server/lease",
            Remove,
            &[("address", "10.0.0.50")],
            &[],
        ),
        change(
            "ip/firewall/address-list",
            Add,
            &[],
            &[("list", "x"), ("address", "10.0.0.0/8")],
        ),
        change(
            "ip/firewall/address-list",
            Remove,
            &[("list", "x"), ("address", "10.0.0.1-10.0.0.9")],
            &[],
        ),
        change(
            "ip/firewall/filter",
            Set,
            &[("chain", "input"), ("action", "drop")],
            &[("comment", "x")],
        ),
        change(
            "interface",
            Set,
            &[("comment", "old")],
            &[("comment", "uplink")],
        ),
    ];
    for c in &allowed {
        assert!(
            risk::cannot_affect_reachability(c),
            "{} {:?}",
            c.menu,
            c.write
        );
    }
    let armed = [
        change(
            "ip/firewall/address-list",
            Add,
            &[],
            &[("list", "x"), ("address", "mgmt.example.net")],
        ),
        change(
            "ip/firewall/filter",
            Add,
            &[],
            &[("chain", "forward"), ("action", "drop")],
        ),
        change(
            "ip/firewall/filter",
            Set,
            &[("chain", "input")],
            &[("comment", "x"), ("action", "drop")],
        ),
        change(
            "ip/pool",
            Add,
            &[],
            &[("name", "p"), ("ranges", "10.0.0.2-10.0.0.9")],
        ),
        change(
            "ip/service",
            Set,
            &[],
            &[("comment", "x"), ("port", "2200")],
        ),
        change("interface", Disable, &[], &[("disabled", "true")]),
        change("queue/simple", Add, &[], &[("name", "q")]),
    ];
    for c in &armed {
        assert!(
            !risk::cannot_affect_reachability(c),
            "{} {:?}",
            c.menu,
            c.write
        );
    }
}

fn request(device: &str, changes: Vec<ChangeRequest>) -> PlanRequest {
    PlanRequest {
        title: "risk".into(),
        tool: "test".into(),
        devices: vec![DeviceRequest {
            device: device.into(),
            changes,
        }],
    }
}

fn add(menu: &str, pairs: &[(&str, &str)]) -> ChangeRequest {
    ChangeRequest {
        menu: menu.into(),
        op: Op::Add {
            props: props(pairs),
            place_before: None,
        },
    }
}

async fn journal_steps(lab: &Lab, plan: &str) -> Vec<String> {
    lab.workflow
        .journal(plan)
        .await
        .unwrap()
        .into_iter()
        .map(|e| e.step)
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_planner_assesses_what_the_router_reports() {
    let lab = Lab::start(&[Profile::Home]).await;
    // The service's name is computed by RouterOS: it must still decide the risk.
    let service = lab
        .workflow
        .propose(
            &request(
                "r1",
                vec![ChangeRequest {
                    menu: "ip/service".into(),
                    op: Op::Disable {
                        target: Selector::Where(props(&[("name", "www-ssl")])),
                    },
                }],
            ),
            &lab.ctx(),
        )
        .await
        .unwrap();
    assert_eq!(
        service.plan.risk,
        Risk::Critical,
        "{:?}",
        service.plan.risk_reasons
    );
    assert!(
        service.plan.risk_reasons[0].contains("disables service www-ssl, which the server uses"),
        "{:?}",
        service.plan.risk_reasons
    );
    assert!(service.auto_approval.is_none());
    // A range covering the server is never low, so never auto-approved in lab.
    let range = lab
        .workflow
        .propose(
            &request(
                "r1",
                vec![add(
                    "ip/firewall/address-list",
                    &[
                        ("list", "blocked"),
                        ("address", "127.0.0.0-127.255.255.255"),
                    ],
                )],
            ),
            &lab.ctx(),
        )
        .await
        .unwrap();
    assert_eq!(range.plan.risk, Risk::High, "{:?}", range.plan.risk_reasons);
    assert!(range.auto_approval.is_none());
    // The default route carries the server's traffic to the router: renumbering it is critical.
    let route = lab
        .workflow
        .propose(
            &request(
                "r1",
                vec![ChangeRequest {
                    menu: "ip/route".into(),
                    op: Op::Set {
                        target: Selector::Where(props(&[("dst-address", "0.0.0.0/0")])),
                        props: props(&[("dst-address", "10.0.0.0/8")]),
                        unset: vec![],
                    },
                }],
            ),
            &lab.ctx(),
        )
        .await
        .unwrap();
    assert_eq!(
        route.plan.risk,
        Risk::Critical,
        "{:?}",
        route.plan.risk_reasons
    );
    assert!(
        route.plan.risk_reasons[0].contains("carries the management traffic"),
        "{:?}",
        route.plan.risk_reasons
    );
    // An output-chain drop sees the router's replies to the server.
    let output = lab
        .workflow
        .propose(
            &request(
                "r1",
                vec![add(
                    "ip/firewall/filter",
                    &[("chain", "output"), ("action", "drop")],
                )],
            ),
            &lab.ctx(),
        )
        .await
        .unwrap();
    assert_eq!(
        output.plan.risk,
        Risk::Critical,
        "{:?}",
        output.plan.risk_reasons
    );
    lab.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_medium_plan_that_cuts_the_router_off_is_reverted_by_the_router() {
    let config = workflow::WorkflowConfig {
        // Changes are sent only while more than 3 s of it is left (the 2 s a lab call may take,
        // and the second RouterOS rounds the entry's start time down by): 2 s for one change.
        confirm_timeout: Duration::from_secs(5),
        rollback_timeout: Duration::from_secs(1),
        ..quick_config()
    };
    let lab = Lab::start_with(
        &[Profile::Home],
        store::testing::TestDatabase::sqlite(),
        config,
        domain::Environment::Lab,
    )
    .await;
    let before = lab.config("r1");
    let p = lab
        .workflow
        .propose(
            &request(
                "r1",
                vec![add(
                    "ip/firewall/filter",
                    &[
                        ("chain", "forward"),
                        ("action", "drop"),
                        ("src-address", "198.51.100.0/24"),
                        ("comment", "risk-table"),
                    ],
                )],
            ),
            &lab.ctx(),
        )
        .await
        .unwrap();
    assert_eq!(p.plan.risk, Risk::Medium, "{:?}", p.plan.risk_reasons);
    assert!(p.plan.arms_auto_revert());
    let token = lab.approve(&p.plan.id).await;
    // The guess was wrong: the rule cuts the server off. The simulator filters no packet, so
    // the rule's presence is made a cut: from the write that adds it, the router answers the
    // server nothing (not that write either) until something on the router removes it.
    let sim = lab.sim("r1");
    let (cut, was_cut) = cut_while(|s| {
        s.items_of("/ip/firewall/filter")
            .any(|r| r.get("comment") == Some("risk-table"))
    });
    sim.set_path_cut(Some(cut));
    let report = lab
        .workflow
        .apply(&p.plan.id, &token, &lab.ctx())
        .await
        .unwrap();
    assert!(was_cut.load(Ordering::SeqCst), "the rule was added");
    assert_ne!(report.status, PlanStatus::Applied, "{report:?}");
    let steps = journal_steps(&lab, &p.plan.id).await;
    assert!(
        steps.starts_with(&[
            "lock".into(),
            "drift_ok".into(),
            "arm".into(),
            "armed".into()
        ]),
        "{steps:?}"
    );
    // The router's own auto-revert removes the rule (the server cannot: the rule cuts it off),
    // and then the router answers again.
    let rule_gone = || {
        !sim.read_state(|s| {
            s.items_of("/ip/firewall/filter")
                .any(|r| r.get("comment") == Some("risk-table"))
        })
    };
    assert!(
        until(revert_deadline(&lab, &p.plan.id).await, rule_gone).await,
        "the auto-revert removed the rule"
    );
    assert!(sim.answering(std::net::Ipv4Addr::LOCALHOST));
    assert_eq!(lab.config("r1"), before, "the router restored itself");
    let full: serde_json::Value =
        serde_json::from_str(&sim.state_dump(true).to_json_string()).unwrap();
    let log: Vec<String> = full["/log"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|l| l["message"].as_str().map(str::to_owned))
        .collect();
    assert!(
        log.iter()
            .any(|m| m.contains("was not confirmed; reverting it")),
        "{log:?}"
    );
    lab.stop().await;
}

/// How late, past its slot, the simulator's scheduler may start a run on a loaded machine and
/// the run remove what it undoes: its task sleeps until the slot (it wakes at each change of
/// the configuration and at least once a second anyway) and runs the script on a blocking
/// thread, both of which share two cores with the other tests of this file. With ten copies of
/// this file's tests and two busy loops on two cores, 240 runs started 1 to 44 ms after their
/// slot; ten seconds leaves room for stalls two orders of magnitude longer, and a revert that
/// never comes still fails the test.
const SCHEDULER_SLACK: Duration = Duration::from_secs(10);

/// A path cut that holds while `cut` does, and a flag raised the first time it held.
fn cut_while(
    cut: impl Fn(&RouterState) -> bool + Send + Sync + 'static,
) -> (routeros_sim::PathCut, Arc<AtomicBool>) {
    let seen = Arc::new(AtomicBool::new(false));
    let flag = Arc::clone(&seen);
    let cut = Arc::new(move |s: &RouterState| {
        let holds = cut(s);
        if holds {
            flag.store(true, Ordering::SeqCst);
        }
        holds
    });
    (cut, seen)
}

/// When the plan's auto-revert must have run: the router starts it at most the confirm timeout
/// after creating the entry, which it did before the server journaled the entry `armed`.
async fn revert_deadline(lab: &Lab, plan: &str) -> std::time::Instant {
    let window = lab.workflow.config().confirm_timeout;
    let journal = lab.workflow.journal(plan).await.unwrap();
    let armed = journal.iter().find(|e| e.step == "armed").unwrap();
    let armed: chrono::DateTime<chrono::Utc> = armed.at.parse().unwrap();
    let since = (chrono::Utc::now() - armed).to_std().unwrap_or_default();
    std::time::Instant::now() + (window + SCHEDULER_SLACK).saturating_sub(since)
}

/// Waits until `done` holds or `deadline` passes; whether it held.
async fn until(deadline: std::time::Instant, done: impl Fn() -> bool) -> bool {
    loop {
        if done() {
            return true;
        }
        if std::time::Instant::now() >= deadline {
            return false;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_plan_of_dns_entries_arms_no_auto_revert() {
    let lab = Lab::start(&[Profile::Home]).await;
    let p = lab
        .workflow
        .propose(
            &request(
                "r1",
                vec![
                    add(
                        "ip/dns/static",
                        &[("name", "nas.lan"), ("address", "10.0.0.5")],
                    ),
                    add(
                        "ip/firewall/address-list",
                        &[("list", "guests"), ("address", "10.77.0.0/16")],
                    ),
                ],
            ),
            &lab.ctx(),
        )
        .await
        .unwrap();
    assert_eq!(p.plan.risk, Risk::Low);
    assert!(!p.plan.arms_auto_revert());
    let token = match &p.auto_approval {
        Some(t) => t.approval_token.clone(),
        None => lab.approve(&p.plan.id).await,
    };
    let report = lab
        .workflow
        .apply(&p.plan.id, &token, &lab.ctx())
        .await
        .unwrap();
    assert_eq!(report.status, PlanStatus::Applied, "{report:?}");
    let steps = journal_steps(&lab, &p.plan.id).await;
    assert!(
        !steps.iter().any(|s| s == "arm" || s == "armed"),
        "{steps:?}"
    );
    lab.stop().await;
}

fn set(menu: &str, by: &[(&str, &str)], to: &[(&str, &str)]) -> ChangeRequest {
    ChangeRequest {
        menu: menu.into(),
        op: Op::Set {
            target: Selector::Where(props(by)),
            props: props(to),
            unset: vec![],
        },
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_auto_revert_script_restores_every_menu_a_plan_can_now_arm() {
    let config = workflow::WorkflowConfig {
        // Changes are sent only while more than 3 s of it is left (the 2 s a lab call may take,
        // and the second RouterOS rounds the entry's start time down by): 5 s for twelve.
        confirm_timeout: Duration::from_secs(8),
        rollback_timeout: Duration::from_secs(1),
        ..quick_config()
    };
    let lab = Lab::start_with(
        &[Profile::Home],
        store::testing::TestDatabase::sqlite(),
        config,
        domain::Environment::Lab,
    )
    .await;
    let before = lab.config("r1");
    // One change in each menu that used to be applied without an auto-revert, adds, sets and a
    // remove, plus allow-listed ones riding along: the router's script must undo all of them.
    let changes = vec![
        add(
            "ip/dns/static",
            &[("name", "rt.lan"), ("address", "10.0.0.5")],
        ),
        ChangeRequest {
            menu: "ip/dns/static".into(),
            op: Op::Remove {
                target: Selector::Where(props(&[("name", "router.lan")])),
            },
        },
        add(
            "ip/firewall/address-list",
            &[("list", "rt"), ("address", "10.77.0.0/16")],
        ),
        add(
            "ip/pool",
            &[("name", "rt-pool"), ("ranges", "10.66.0.10-10.66.0.20")],
        ),
        set(
            "ip/pool",
            &[("name", "default-dhcp")],
            &[("ranges", "192.168.88.100-192.168.88.200")],
        ),
        add(
            "interface/vlan",
            &[
                ("name", "rt-vlan"),
                ("vlan-id", "77"),
                ("interface", "ether4"),
            ],
        ),
        add(
            "interface/list/member",
            &[("list", "LAN"), ("interface", "ether5")],
        ),
        set("ip/service", &[("name", "telnet")], &[("port", "2323")]),
        add(
            "ip/firewall/nat",
            &[
                ("chain", "dstnat"),
                ("action", "dst-nat"),
                ("protocol", "tcp"),
                ("dst-port", "8080"),
                ("to-addresses", "192.168.88.9"),
                ("comment", "rt"),
            ],
        ),
        add(
            "ip/firewall/mangle",
            &[
                ("chain", "forward"),
                ("action", "mark-packet"),
                ("new-packet-mark", "rt"),
                ("comment", "rt"),
            ],
        ),
        add(
            "ip/firewall/raw",
            &[
                ("chain", "prerouting"),
                ("action", "drop"),
                ("src-address", "198.51.100.0/24"),
                ("comment", "rt"),
            ],
        ),
        add(
            "queue/simple",
            &[
                ("name", "rt-queue"),
                ("target", "192.168.88.50/32"),
                ("max-limit", "10M/10M"),
            ],
        ),
    ];
    let p = lab
        .workflow
        .propose(&request("r1", changes), &lab.ctx())
        .await
        .unwrap();
    assert!(p.plan.arms_auto_revert(), "{:?}", p.plan.risk);
    let token = lab.approve(&p.plan.id).await;
    // Once the last change is in, the router answers the server nothing (not that change
    // either) until its own auto-revert has run to its end (it removes its entry last).
    let sim = lab.sim("r1");
    let entry = workflow::script::entry_name(&p.plan.id);
    let revert_entry = move |s: &RouterState, running: bool| {
        s.items_of("/system/scheduler").any(|e| {
            e.get("name") == Some(entry.as_str())
                && (!running || e.get("run-count").is_some_and(|n| n != "0"))
        })
    };
    let (cut, was_cut) = cut_while({
        let revert_entry = revert_entry.clone();
        move |s| {
            let queued = s
                .items_of("/queue/simple")
                .any(|q| q.get("name") == Some("rt-queue"));
            queued || revert_entry(s, true)
        }
    });
    sim.set_path_cut(Some(cut));
    let report = lab
        .workflow
        .apply(&p.plan.id, &token, &lab.ctx())
        .await
        .unwrap();
    assert!(
        was_cut.load(Ordering::SeqCst),
        "every change was written, the last one cut the router off"
    );
    let reverted = || {
        sim.read_state(|s| {
            !revert_entry(s, false)
                && !s
                    .items_of("/queue/simple")
                    .any(|q| q.get("name") == Some("rt-queue"))
        })
    };
    assert!(
        until(revert_deadline(&lab, &p.plan.id).await, reverted).await,
        "the auto-revert ran to its end"
    );
    assert_ne!(report.status, PlanStatus::Applied, "{report:?}");
    let full: serde_json::Value =
        serde_json::from_str(&sim.state_dump(true).to_json_string()).unwrap();
    let log: Vec<String> = full["/log"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|l| l["message"].as_str().map(str::to_owned))
        .collect();
    assert!(
        log.iter()
            .any(|m| m.contains("was not confirmed; reverting it")),
        "{log:?}"
    );
    assert_eq!(
        lab.config("r1"),
        before,
        "the router's own script restored every menu"
    );
    lab.stop().await;
}
