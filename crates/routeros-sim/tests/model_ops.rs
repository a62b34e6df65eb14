//! Behaviour of the configuration model as RouterOS users see it: ids, validation, failures,
//! ordering, references, derived routes and the management-path rule.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::net::Ipv4Addr;

use routeros_sim::clock::SimClock;
use routeros_sim::model::{
    MenuKind, Query, RosError, RosId, RouterState, management_path_ok, menu, menus,
};
use routeros_sim::profiles::{Profile, ProfileParams};

fn home() -> RouterState {
    let params = ProfileParams::standalone(1, Ipv4Addr::new(127, 0, 1, 1), "secret");
    Profile::Home.build(&params, SimClock::new(1.0)).unwrap()
}

fn m(path: &str) -> &'static routeros_sim::model::MenuSpec {
    menu(path).unwrap_or_else(|| panic!("menu {path}"))
}

#[test]
fn every_required_menu_exists() {
    for path in [
        "/system/identity",
        "/system/resource",
        "/system/routerboard",
        "/system/health",
        "/system/clock",
        "/system/package",
        "/system/scheduler",
        "/system/script",
        "/system/logging",
        "/interface",
        "/interface/ethernet",
        "/interface/bridge",
        "/interface/bridge/port",
        "/interface/vlan",
        "/interface/wireguard",
        "/interface/wireguard/peers",
        "/ip/address",
        "/ip/route",
        "/ip/arp",
        "/ip/neighbor",
        "/ip/dns",
        "/ip/dns/static",
        "/ip/dhcp-server",
        "/ip/dhcp-server/lease",
        "/ip/pool",
        "/ip/service",
        "/ip/firewall/filter",
        "/ip/firewall/nat",
        "/ip/firewall/mangle",
        "/ip/firewall/address-list",
        "/ip/firewall/connection",
        "/log",
        "/user",
        "/ipv6/address",
        "/ipv6/route",
        "/queue/simple",
        "/interface/bridge/vlan",
        "/ppp/secret",
        "/ppp/active",
        "/certificate",
        "/routing/bgp/connection",
        "/routing/ospf/neighbor",
        "/ip/hotspot",
        "/system/history",
        "/ip/firewall/raw",
        "/ip/cloud",
        "/system/ntp/client",
        "/snmp",
    ] {
        assert!(menu(path).is_some(), "{path} missing");
    }
    assert!(menu("ip address").is_some(), "console form resolves");
    assert!(menu("/ip/nothing").is_none());
}

#[test]
fn every_menu_prints_on_every_profile() {
    for profile in Profile::ALL {
        let params = ProfileParams::standalone(3, Ipv4Addr::new(127, 0, 2, 9), "pw");
        let state = profile.build(&params, SimClock::new(1.0)).unwrap();
        for spec in menus() {
            let recs = state.print(spec, None, None);
            if spec.kind == MenuKind::Singleton {
                assert_eq!(recs.len(), 1, "{} on {profile}", spec.path);
                assert!(recs[0].id.is_none());
            }
            for r in &recs {
                for (k, _) in &r.props {
                    assert!(spec.prop(k).is_some(), "{} prints unknown {k}", spec.path);
                }
            }
        }
    }
}

#[test]
fn add_normalises_like_routeros_and_ids_are_never_reused() {
    let mut s = home();
    let addr = m("/ip/address");
    let a = s
        .add(
            addr,
            &[("address", "192.168.111.111"), ("interface", "bridge")],
        )
        .unwrap();
    let rec = s.get(addr, Some(a)).unwrap();
    assert_eq!(rec.get("address").as_deref(), Some("192.168.111.111/32"));
    assert_eq!(rec.get("network").as_deref(), Some("192.168.111.111"));
    assert_eq!(rec.get("actual-interface").as_deref(), Some("bridge"));
    assert_eq!(rec.get("disabled").as_deref(), Some("false"));
    assert_eq!(rec.get("dynamic").as_deref(), Some("false"));
    assert_eq!(rec.get("invalid").as_deref(), Some("false"));
    assert!(rec.get("comment").is_none(), "unset properties are omitted");

    s.remove(addr, &[a]).unwrap();
    let b = s
        .add(
            addr,
            &[("address", "192.168.111.111"), ("interface", "bridge")],
        )
        .unwrap();
    assert!(b.get() > a.get(), "{b} must not reuse {a}");
    assert_eq!(s.remove(addr, &[a]), Err(RosError::NoSuchItem));
}

#[test]
fn failures_use_routeros_wording() {
    let mut s = home();
    let addr = m("/ip/address");
    let err = s
        .add(
            addr,
            &[("address", "192.168.88.1/24"), ("interface", "bridge")],
        )
        .unwrap_err();
    assert_eq!(err.detail(), "failure: already have such address");
    let err = s.add(addr, &[("address", "10.9.9.9/24")]).unwrap_err();
    assert_eq!(err.detail(), "missing value(s) of argument(s) interface");
    let err = s
        .add(
            addr,
            &[("address", "10.9.9.300/24"), ("interface", "bridge")],
        )
        .unwrap_err();
    assert_eq!(err.detail(), "invalid value for argument address");
    let err = s
        .add(addr, &[("address", "10.9.9.3/24"), ("interface", "nope0")])
        .unwrap_err();
    assert_eq!(err.detail(), "input does not match any value of interface");
    let err = s
        .add(
            addr,
            &[
                ("address", "10.9.9.3/24"),
                ("interface", "bridge"),
                ("colour", "red"),
            ],
        )
        .unwrap_err();
    assert_eq!(err.detail(), "unknown parameter colour");
    let err = s
        .set(addr, Some(RosId::new(0x999)), &[("comment", "x")])
        .unwrap_err();
    assert_eq!(err.detail(), "no such item");
    let iface = m("/interface");
    let ether2 = s.resolve(iface, "ether2").unwrap();
    assert_eq!(
        s.remove(iface, &[ether2]).unwrap_err().detail(),
        "no such command or directory (remove)"
    );
    let list = m("/ip/firewall/address-list");
    let err = s
        .add(list, &[("list", "trusted"), ("address", "192.168.88.0/24")])
        .unwrap_err();
    assert_eq!(err.detail(), "failure: already have such entry");
    let dns = m("/ip/dns/static");
    let err = s
        .add(dns, &[("name", "router.lan"), ("address", "192.168.88.1")])
        .unwrap_err();
    assert_eq!(err.detail(), "failure: entry already exists");
    let running = s
        .set(iface, Some(ether2), &[("running", "false")])
        .unwrap_err();
    assert_eq!(running.detail(), "unknown parameter running");
    let vlan = m("/interface/vlan");
    let err = s
        .add(vlan, &[("interface", "ether2"), ("vlan-id", "5000")])
        .unwrap_err();
    assert_eq!(err.detail(), "value of vlan-id out of range (1..4095)");
}

#[test]
fn booleans_accept_yes_no_and_print_true_false() {
    let mut s = home();
    let addr = m("/ip/address");
    let id = s
        .add(
            addr,
            &[
                ("address", "10.1.1.1/24"),
                ("interface", "bridge"),
                ("disabled", "yes"),
            ],
        )
        .unwrap();
    assert_eq!(
        s.get(addr, Some(id)).unwrap().get("disabled").as_deref(),
        Some("true")
    );
    s.enable(addr, &[id]).unwrap();
    assert_eq!(
        s.get(addr, Some(id)).unwrap().get("disabled").as_deref(),
        Some("false")
    );
}

#[test]
fn an_address_list_timeout_counts_down_as_routeros_prints_it() {
    let mut s = home();
    let list = m("/ip/firewall/address-list");
    let id = s
        .add(
            list,
            &[
                ("list", "blocked"),
                ("address", "203.0.113.9"),
                ("timeout", "1h"),
            ],
        )
        .unwrap();
    let timeout = |s: &RouterState| {
        s.get(list, Some(id))
            .unwrap()
            .get("timeout")
            .map(std::borrow::Cow::into_owned)
    };
    assert_eq!(timeout(&s).as_deref(), Some("1h"));
    s.clock()
        .set_now(s.clock().now() + chrono::Duration::seconds(90));
    assert_eq!(timeout(&s).as_deref(), Some("58m30s"));
}

#[test]
fn ordered_menus_keep_order_place_before_and_move() {
    let mut s = home();
    let filter = m("/ip/firewall/filter");
    let before = s.ids(filter);
    let first = before[0];
    let new = s
        .add(
            filter,
            &[
                ("chain", "input"),
                ("action", "drop"),
                ("place-before", &first.to_string()),
            ],
        )
        .unwrap();
    let ids = s.ids(filter);
    assert_eq!(ids[0], new);
    assert_eq!(ids[1], first);

    // Move the new rule to the end, then two rules before the third.
    s.move_items(filter, &[new], None).unwrap();
    assert_eq!(*s.ids(filter).last().unwrap(), new);
    let ids = s.ids(filter);
    s.move_items(filter, &[ids[5], ids[4]], Some(ids[1]))
        .unwrap();
    let after = s.ids(filter);
    assert_eq!(&after[..4], &[ids[0], ids[5], ids[4], ids[1]]);
    assert_eq!(after.len(), ids.len());

    let addr = m("/ip/address");
    let a = s.ids(addr);
    assert_eq!(
        s.move_items(addr, &[a[0]], None).unwrap_err().detail(),
        "no such command or directory (move)"
    );
}

#[test]
fn views_share_ids_with_interface_and_renames_follow_references() {
    let mut s = home();
    let vlan = m("/interface/vlan");
    let id = s
        .add(vlan, &[("interface", "ether2"), ("vlan-id", "42")])
        .unwrap();
    let iface = m("/interface");
    let rec = s.get(iface, Some(id)).unwrap();
    assert_eq!(rec.get("name").as_deref(), Some("vlan1"), "default name");
    assert_eq!(rec.get("type").as_deref(), Some("vlan"));
    let err = s
        .add(
            vlan,
            &[
                ("name", "bridge"),
                ("interface", "ether2"),
                ("vlan-id", "43"),
            ],
        )
        .unwrap_err();
    assert_eq!(
        err.detail(),
        "failure: already have interface with such name"
    );

    let addr = m("/ip/address");
    let a = s
        .add(addr, &[("address", "10.42.0.1/24"), ("interface", "vlan1")])
        .unwrap();
    s.set(iface, Some(id), &[("name", "vlan42")]).unwrap();
    assert_eq!(
        s.get(addr, Some(a)).unwrap().get("interface").as_deref(),
        Some("vlan42")
    );
    let eth = m("/interface/ethernet");
    let e2 = s.resolve(eth, "ether2").unwrap();
    s.set(eth, Some(e2), &[("name", "lan2")]).unwrap();
    assert_eq!(
        s.get(vlan, Some(id)).unwrap().get("interface").as_deref(),
        Some("lan2")
    );
    let port = m("/interface/bridge/port");
    assert!(
        s.print(port, None, None)
            .iter()
            .any(|r| r.get("interface").as_deref() == Some("lan2"))
    );
    assert!(
        s.print(m("/interface/ethernet"), None, None)
            .iter()
            .all(|r| r.get("type").is_none())
    );
}

#[test]
fn connected_routes_follow_addresses_and_interfaces() {
    let mut s = home();
    let route = m("/ip/route");
    let connected = |s: &RouterState, dst: &str| {
        s.print(route, Some(&Query::equals(&[("dst-address", dst)])), None)
            .into_iter()
            .find(|r| r.is_true("connect"))
    };
    let r = connected(&s, "192.168.88.0/24").expect("connected route for the LAN");
    assert!(r.is_true("dynamic") && r.is_true("active"));
    assert!(r.id.unwrap().get() >= RosId::DYNAMIC_BASE);

    let addr = m("/ip/address");
    let id = s
        .add(
            addr,
            &[("address", "172.20.1.5/16"), ("interface", "ether2")],
        )
        .unwrap();
    assert!(connected(&s, "172.20.0.0/16").is_some());
    s.disable(addr, &[id]).unwrap();
    assert!(connected(&s, "172.20.0.0/16").is_none());
    s.enable(addr, &[id]).unwrap();
    let eth = m("/interface/ethernet");
    let e2 = s.resolve(eth, "ether2").unwrap();
    s.disable(eth, &[e2]).unwrap();
    let r = connected(&s, "172.20.0.0/16").unwrap();
    assert!(
        !r.is_true("active"),
        "route stays but is inactive while its interface is down"
    );
    assert_eq!(
        s.remove(route, &[r.id.unwrap()]).unwrap_err().detail(),
        "failure: can not remove dynamic entry"
    );
}

#[test]
fn management_path_rule() {
    let mut s = home();
    let mgmt = Ipv4Addr::new(127, 0, 1, 1);
    let client = Ipv4Addr::LOCALHOST;
    assert!(management_path_ok(&s, mgmt, client));

    // Disabling the interface cuts the path.
    let eth = m("/interface/ethernet");
    let e1 = s.resolve(eth, "ether1").unwrap();
    s.disable(eth, &[e1]).unwrap();
    assert!(!management_path_ok(&s, mgmt, client));
    s.enable(eth, &[e1]).unwrap();
    assert!(management_path_ok(&s, mgmt, client));

    // Removing the default route cuts the path for clients outside the /24 only.
    let route = m("/ip/route");
    let default = s.find(route, |r| {
        r.get("dst-address").as_deref() == Some("0.0.0.0/0") && !r.is_true("dynamic")
    });
    s.disable(route, &default).unwrap();
    assert!(!management_path_ok(&s, mgmt, client));
    assert!(management_path_ok(&s, mgmt, Ipv4Addr::new(127, 0, 1, 77)));
    s.enable(route, &default).unwrap();

    // A more specific blackhole wins over the default route.
    let bh = s
        .add(
            route,
            &[("dst-address", "127.0.0.0/8"), ("blackhole", "yes")],
        )
        .unwrap();
    assert!(!management_path_ok(&s, mgmt, client));
    s.remove(route, &[bh]).unwrap();

    // Changing the address removes the path too.
    let addr = m("/ip/address");
    let a = s.find(addr, |r| {
        r.get("address").as_deref() == Some("127.0.1.1/24")
    });
    s.set(addr, Some(a[0]), &[("address", "127.0.1.2/24")])
        .unwrap();
    assert!(!management_path_ok(&s, mgmt, client));
}

#[test]
fn users_authenticate_from_the_user_menu() {
    let mut s = home();
    assert!(s.authenticate("admin", "secret", "rest-api").is_ok());
    assert!(s.authenticate("admin", "wrong", "rest-api").is_err());
    let user = m("/user");
    let id = s
        .add(
            user,
            &[
                ("name", "viewer"),
                ("group", "read"),
                ("password", "v-pass"),
            ],
        )
        .unwrap();
    let info = s.authenticate("viewer", "v-pass", "rest-api").unwrap();
    assert!(info.has("read") && !info.has("write"));
    let rec = s.get(user, Some(id)).unwrap();
    assert!(rec.get("password").is_none(), "passwords are never printed");
    s.disable(user, &[id]).unwrap();
    assert!(s.authenticate("viewer", "v-pass", "rest-api").is_err());
    let err = s
        .add(user, &[("name", "x"), ("group", "nosuch")])
        .unwrap_err();
    assert_eq!(err.detail(), "input does not match any value of group");
}

#[test]
fn query_language_matches_routeros_semantics() {
    let s = home();
    let addr = m("/ip/address");
    let q = Query::parse(&["network=192.168.88.0", "interface=wg0", "#|"]).unwrap();
    let recs = s.print(
        addr,
        Some(&q),
        Some(&[".id".to_string(), "address".to_string()]),
    );
    let got: Vec<_> = recs
        .iter()
        .map(|r| r.get("address").unwrap().into_owned())
        .collect();
    assert_eq!(got, vec!["192.168.88.1/24", "10.100.0.1/24"]);
    assert!(recs.iter().all(|r| r.id.is_some() && r.props.len() == 1));
    let q = Query::parse(&["comment", "#!"]).unwrap();
    assert!(
        s.print(addr, Some(&q), None)
            .iter()
            .all(|r| r.get("comment").is_none())
    );
    let q = Query::parse(&["disabled=no"]).unwrap();
    assert_eq!(s.print(addr, Some(&q), None).len(), 3);
}

#[test]
fn same_seed_same_dump_different_seed_different_dump() {
    let build = |seed| {
        let params = ProfileParams::standalone(seed, Ipv4Addr::new(127, 0, 1, 1), "pw");
        Profile::Switch48
            .build(&params, SimClock::new(1.0))
            .unwrap()
    };
    let a = build(5).dump(false).to_json_string();
    let b = build(5).dump(false).to_json_string();
    assert_eq!(a, b);
    assert_ne!(a, build(6).dump(false).to_json_string());
    assert!(!a.contains("\"/log\""));
    assert!(build(5).dump(true).to_json_string().contains("\"/log\""));
}

#[test]
fn edge_profile_has_production_scale() {
    let params = ProfileParams::standalone(9, Ipv4Addr::new(127, 0, 3, 1), "pw");
    let s = Profile::Edge.build(&params, SimClock::new(1.0)).unwrap();
    let count = |p: &str| s.items(m(p)).count();
    assert!(count("/ip/firewall/filter") >= 5_000);
    let blocklist = Query::equals(&[("list", "blocklist")]);
    assert_eq!(
        s.print(m("/ip/firewall/address-list"), Some(&blocklist), None)
            .len(),
        10_000
    );
    assert_eq!(count("/ip/dhcp-server/lease"), 500);
    assert!(count("/ip/route") >= 20_000);
    assert!(management_path_ok(
        &s,
        Ipv4Addr::new(127, 0, 3, 1),
        Ipv4Addr::LOCALHOST
    ));
}

#[test]
fn tools_follow_the_routing_table() {
    use routeros_sim::model::Tool;
    let mut s = home();
    let out = s
        .run_tool(Tool::Ping, &[("address", "192.168.88.254"), ("count", "4")])
        .unwrap();
    assert_eq!(out.records.len(), 4);
    let last = out.records.last().unwrap();
    assert_eq!(last.get("sent").as_deref(), Some("4"));
    assert_eq!(last.get("received").as_deref(), Some("4"));
    assert_eq!(last.get("packet-loss").as_deref(), Some("0"));
    let route = m("/ip/route");
    s.add(
        route,
        &[("dst-address", "8.8.8.0/24"), ("blackhole", "true")],
    )
    .unwrap();
    let out = s
        .run_tool(Tool::Ping, &[("address", "8.8.8.8"), ("count", "2")])
        .unwrap();
    assert!(
        out.records
            .iter()
            .all(|r| r.get("status").as_deref() == Some("timeout"))
    );
    assert_eq!(out.records[1].get("packet-loss").as_deref(), Some("100"));
    let out = s.run_tool(Tool::Ping, &[("address", "1.1.1.1")]).unwrap();
    assert!(out.unbounded);
    let out = s
        .run_tool(
            Tool::MonitorTraffic,
            &[("interface", "ether1"), ("once", "")],
        )
        .unwrap();
    assert_eq!(out.records.len(), 1);
    assert_eq!(out.records[0].get("name").as_deref(), Some("ether1"));
    let err = s.run_tool(Tool::Ping, &[("count", "1")]).unwrap_err();
    assert_eq!(err.detail(), "missing value(s) of argument(s) address");
}

#[test]
fn debug_output_never_shows_secrets() {
    let s = home();
    let dbg = format!("{s:?}");
    assert!(
        !dbg.contains("secret"),
        "the admin password leaked into Debug"
    );
    let wg = s.print(m("/interface/wireguard"), None, None);
    let key = wg[0].get("private-key").unwrap().into_owned();
    assert!(!format!("{wg:?}").contains(&key));
    assert!(!dbg.contains(&key));
}
