//! Which RouterOS 7.19 menus each profile's hardware has, and that each answers a console
//! `print` and a REST `GET` with the same data; menus the hardware lacks answer as RouterOS
//! answers a path that names nothing. Then the behaviour of the menus added for RouterOS 7.19
//! fidelity: `/user/active` follows real sessions, routing protocol menus match the
//! connections and neighbours, read-only menus refuse writes, wifi exists only on `home`.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod cli_support;
mod rest_support;
mod ssh_support;

use std::net::SocketAddr;
use std::time::Duration;

use cli_support::TestDevice;
use reqwest::{Method, StatusCode};
use rest_support::{Sim, start};
use routeros_sim::fleet::FleetOptions;
use routeros_sim::model::{MenuKind, menu};
use routeros_sim::profiles::Profile;
use serde_json::{Value, json};

/// `(menu, home = hAP ax², switch48 = CRS354, edge = CCR2004)`: whether RouterOS 7.19 on that
/// hardware has the menu. Everything but the `wifi` package's menus is part of the `routeros`
/// package every device runs; only the hAP ax² has radios (`wifi-qcom`).
const MENUS_7_19: &[(&str, bool, bool, bool)] = &[
    ("interface", true, true, true),
    ("interface/ethernet", true, true, true),
    ("interface/bridge", true, true, true),
    ("interface/bridge/port", true, true, true),
    ("interface/bridge/vlan", true, true, true),
    ("interface/vlan", true, true, true),
    ("interface/wireguard", true, true, true),
    ("interface/wireguard/peers", true, true, true),
    ("interface/list", true, true, true),
    ("interface/list/member", true, true, true),
    ("interface/wifi", true, false, false),
    ("interface/wifi/configuration", true, false, false),
    ("interface/wifi/security", true, false, false),
    ("interface/wifi/channel", true, false, false),
    ("ip/address", true, true, true),
    ("ip/route", true, true, true),
    ("ip/dns", true, true, true),
    ("ip/dns/static", true, true, true),
    ("ip/firewall/filter", true, true, true),
    ("ip/firewall/nat", true, true, true),
    ("ip/firewall/mangle", true, true, true),
    ("ip/firewall/raw", true, true, true),
    ("ip/firewall/address-list", true, true, true),
    ("ip/firewall/connection", true, true, true),
    ("ip/dhcp-server", true, true, true),
    ("ip/dhcp-server/lease", true, true, true),
    ("ip/dhcp-server/network", true, true, true),
    ("ip/dhcp-client", true, true, true),
    ("ip/pool", true, true, true),
    ("ip/service", true, true, true),
    ("ip/settings", true, true, true),
    ("ip/neighbor", true, true, true),
    ("ip/neighbor/discovery-settings", true, true, true),
    ("ip/arp", true, true, true),
    ("ip/hotspot", true, true, true),
    ("ip/cloud", true, true, true),
    ("ip/ssh", true, true, true),
    ("ip/upnp", true, true, true),
    ("ip/vrf", true, true, true),
    ("ipv6/address", true, true, true),
    ("ipv6/route", true, true, true),
    ("ipv6/neighbor", true, true, true),
    ("ipv6/settings", true, true, true),
    ("ipv6/nd", true, true, true),
    ("ipv6/pool", true, true, true),
    ("ipv6/dhcp-client", true, true, true),
    ("routing/bgp/connection", true, true, true),
    ("routing/bgp/template", true, true, true),
    ("routing/bgp/session", true, true, true),
    ("routing/ospf/instance", true, true, true),
    ("routing/ospf/area", true, true, true),
    ("routing/ospf/interface-template", true, true, true),
    ("routing/ospf/neighbor", true, true, true),
    ("routing/table", true, true, true),
    ("routing/rule", true, true, true),
    ("routing/filter/rule", true, true, true),
    ("system/identity", true, true, true),
    ("system/resource", true, true, true),
    ("system/routerboard", true, true, true),
    ("system/routerboard/settings", true, true, true),
    ("system/health", true, true, true),
    ("system/clock", true, true, true),
    ("system/package", true, true, true),
    ("system/package/update", true, true, true),
    ("system/scheduler", true, true, true),
    ("system/script", true, true, true),
    ("system/logging", true, true, true),
    ("system/logging/action", true, true, true),
    ("system/history", true, true, true),
    ("system/ntp/client", true, true, true),
    ("system/license", true, true, true),
    ("system/note", true, true, true),
    ("system/watchdog", true, true, true),
    ("user", true, true, true),
    ("user/group", true, true, true),
    ("user/active", true, true, true),
    ("queue/simple", true, true, true),
    ("queue/tree", true, true, true),
    ("queue/type", true, true, true),
    ("ppp/secret", true, true, true),
    ("ppp/profile", true, true, true),
    ("ppp/active", true, true, true),
    ("tool/netwatch", true, true, true),
    ("tool/mac-server", true, true, true),
    ("tool/bandwidth-server", true, true, true),
    ("certificate", true, true, true),
    ("snmp", true, true, true),
    ("snmp/community", true, true, true),
    ("log", true, true, true),
];

fn has(row: &(&str, bool, bool, bool), profile: Profile) -> bool {
    match profile {
        Profile::Home => row.1,
        Profile::Switch48 => row.2,
        Profile::Edge => row.3,
    }
}

async fn sim_of(profile: Profile) -> Sim {
    start(FleetOptions {
        seed: 7,
        profiles: vec![profile],
        password: Some("secret".into()),
        ..FleetOptions::default()
    })
    .await
}

#[test]
fn the_table_lists_89_distinct_menus() {
    let mut paths: Vec<&str> = MENUS_7_19.iter().map(|r| r.0).collect();
    assert_eq!(paths.len(), 89);
    paths.sort_unstable();
    paths.dedup();
    assert_eq!(paths.len(), 89, "a menu is listed twice");
}

/// The console's answer to `print` of every menu: present menus print without an error line
/// (count-only agrees with REST below); absent ones are `bad command name <word>`.
#[tokio::test(start_paused = true)]
async fn every_menu_the_hardware_has_answers_print_and_get_and_they_agree() {
    for profile in [Profile::Home, Profile::Switch48, Profile::Edge] {
        let dev = TestDevice::new(profile);
        let sim = sim_of(profile).await;
        let mut present = 0;
        for row in MENUS_7_19 {
            let path = row.0;
            let console_path = path.replace('/', " ");
            let (st, body) = sim.get(&format!("/{path}")).await;
            if !has(row, profile) {
                // The only menus some hardware lacks are the wifi package's.
                assert!(path.starts_with("interface/wifi"), "{path}");
                let missing = "wifi";
                let out = dev.run1(&format!("/{console_path} print"));
                assert!(
                    out.starts_with(&format!("bad command name {missing} (line 1 column")),
                    "{profile} console /{path}: {out}"
                );
                // `interface/wifi` is one word after a named list menu: an item reference,
                // which RouterOS answers 404; deeper paths are an unknown word.
                let item_ref = path.matches('/').count() == 1;
                if item_ref {
                    assert_eq!(st, StatusCode::NOT_FOUND, "{profile} GET /{path}: {body}");
                } else {
                    assert_eq!(st, StatusCode::BAD_REQUEST, "{profile} GET /{path}: {body}");
                    assert_eq!(
                        body["detail"],
                        json!("no such command or directory (wifi)"),
                        "{profile} GET /{path}"
                    );
                }
                continue;
            }
            present += 1;
            assert_eq!(st, StatusCode::OK, "{profile} GET /{path}: {body}");
            let spec = menu(&format!("/{path}")).unwrap();
            let printed = dev.run1(&format!("/{console_path} print"));
            assert!(
                !printed.contains("bad command name") && !printed.contains("failure:"),
                "{profile} console /{path} print: {printed}"
            );
            match spec.kind {
                MenuKind::Singleton => {
                    let obj = body.as_object().unwrap();
                    for key in obj.keys().filter(|k| !k.starts_with('.')) {
                        assert!(
                            printed.contains(&format!("{key}:")),
                            "{profile} /{path}: console print lacks {key}: {printed}"
                        );
                    }
                }
                MenuKind::List | MenuKind::Ordered => {
                    let mut n = body.as_array().unwrap().len();
                    if path == "user/active" {
                        // The REST request is a session of its own; the console device has none.
                        n -= 1;
                    }
                    let counted = dev.run1(&format!("/{console_path} print count-only"));
                    if path == "log" {
                        // Every REST request logs its login on the fleet's device.
                        let c: usize = counted.trim().parse().unwrap();
                        assert!(n >= c, "{profile} /log: {n} < {c}");
                    } else {
                        assert_eq!(
                            counted.trim(),
                            n.to_string(),
                            "{profile} /{path}: console count and REST list differ"
                        );
                    }
                }
            }
        }
        let expected = MENUS_7_19.iter().filter(|r| has(r, profile)).count();
        assert_eq!(present, expected, "{profile}");
        sim.fleet.shutdown().await;
    }
}

#[tokio::test]
async fn unknown_paths_answer_like_routeros() {
    let sim = sim_of(Profile::Switch48).await;
    for (method, path, status, detail) in [
        (
            Method::GET,
            "/nonexistent/path",
            400,
            Some("no such command or directory (nonexistent)"),
        ),
        (
            Method::GET,
            "/ip/nothing",
            400,
            Some("no such command or directory (nothing)"),
        ),
        (
            Method::GET,
            "/routing/ospf/nothing/deeper",
            400,
            Some("no such command or directory (nothing)"),
        ),
        (
            Method::POST,
            "/interface/wifi/print",
            400,
            Some("no such command or directory (wifi)"),
        ),
        (
            Method::PUT,
            "/interface/wifi/security",
            400,
            Some("no such command or directory (wifi)"),
        ),
        (
            Method::GET,
            "/system/identity/extra",
            400,
            Some("no such command or directory (extra)"),
        ),
        // One word after a list menu is an item reference.
        (Method::GET, "/interface/ether99", 404, None),
        (Method::GET, "/ip/address/*FFFF", 404, None),
        (
            Method::GET,
            "/ip/firewall/filter/some-comment",
            400,
            Some("no such command prefix"),
        ),
        (
            Method::GET,
            "/ip/address/print",
            400,
            Some("no such command"),
        ),
        (
            Method::DELETE,
            "/ip/route/not-an-id",
            400,
            Some("no such command prefix"),
        ),
    ] {
        let (st, body) = sim.call(method.clone(), path, None).await;
        assert_eq!(st.as_u16(), status, "{method} {path}: {body}");
        assert_eq!(body["error"], json!(status), "{method} {path}");
        match detail {
            Some(d) => assert_eq!(body["detail"], json!(d), "{method} {path}"),
            None => assert!(body.get("detail").is_none(), "{method} {path}: {body}"),
        }
    }
    // Nothing was changed by any of them.
    let dump = sim.fleet.device(&sim.dev.name).unwrap().state_dump(false);
    assert!(dump.menu("/interface/wifi").is_none());
    sim.fleet.shutdown().await;
}

/// Connection tracking in the console as recorded on 7.x (`print terse`): each port after its
/// address, the fasttrack counters, counters grouped by thousands, rates in bits per second;
/// REST keeps `ip:port`.
#[tokio::test]
async fn connections_print_ports_counters_and_rates_as_routeros_7_prints_them() {
    // An hour passes every second: the counters have grown past a thousand.
    let sim = start(FleetOptions {
        seed: 7,
        profiles: vec![Profile::Edge],
        password: Some("secret".into()),
        time_scale: 3600.0,
        ..FleetOptions::default()
    })
    .await;
    tokio::time::sleep(Duration::from_millis(1500)).await;
    let addr = SocketAddr::new(sim.dev.address.parse().unwrap(), sim.dev.ssh_port);
    let conn = ssh_support::connect(addr, "admin", "secret", Duration::from_secs(20))
        .await
        .unwrap();
    let (out, _) = conn.exec("/ip firewall connection print terse").await;
    let first = out.lines().next().unwrap();
    let keys: Vec<&str> = first
        .split(' ')
        .filter_map(|t| t.split_once('=').map(|(k, _)| k))
        .collect();
    assert_eq!(
        keys,
        [
            "protocol",
            "src-address",
            "src-port",
            "dst-address",
            "dst-port",
            "reply-src-address",
            "reply-src-port",
            "reply-dst-address",
            "reply-dst-port",
            "tcp-state",
            "timeout",
            "orig-packets",
            "orig-bytes",
            "orig-fasttrack-packets",
            "orig-fasttrack-bytes",
            "repl-packets",
            "repl-bytes",
            "repl-fasttrack-packets",
            "repl-fasttrack-bytes",
            "orig-rate",
            "repl-rate",
        ],
        "{first}"
    );
    assert!(first.contains("reply-dst-address=203.0.113.2 "), "{first}");
    let rate = first.split("orig-rate=").nth(1).unwrap();
    assert!(rate.split(' ').next().unwrap().ends_with("bps"), "{first}");
    // Grouped digits (`orig-bytes=47 603`) make the value two blank-separated words.
    let bytes = first.split("orig-bytes=").nth(1).unwrap();
    assert!(
        bytes.split(' ').nth(1).is_some_and(|w| !w.contains('=')),
        "{first}"
    );
    let (detail, _) = conn.exec("/ip firewall connection print detail").await;
    assert!(detail.contains(" src-port="), "{detail}");
    let (_, rest) = sim.get("/ip/firewall/connection").await;
    let src = rest[0]["src-address"].as_str().unwrap();
    assert!(src.contains(':'), "REST keeps ip:port: {src}");
    sim.fleet.shutdown().await;
}

#[test]
fn console_names_the_missing_menu_like_routeros() {
    let dev = TestDevice::new(Profile::Edge);
    assert_eq!(
        dev.run1("/interface wifi print"),
        "bad command name wifi (line 1 column 12)\n"
    );
    assert_eq!(
        dev.run1("/routing ospf nothing print"),
        "bad command name nothing (line 1 column 15)\n"
    );
    let home = TestDevice::new(Profile::Home);
    assert!(home.run1("/interface wifi print").contains("wifi1"));
}

fn names(v: &Value) -> Vec<String> {
    v.as_array()
        .unwrap()
        .iter()
        .map(|r| r["name"].as_str().unwrap_or("").to_string())
        .collect()
}

#[tokio::test(start_paused = true)]
async fn edge_routing_menus_match_its_neighbours_and_connections() {
    let sim = sim_of(Profile::Edge).await;
    let (_, neighbors) = sim.get("/routing/ospf/neighbor").await;
    let (_, instances) = sim.get("/routing/ospf/instance").await;
    let (_, areas) = sim.get("/routing/ospf/area").await;
    for n in neighbors.as_array().unwrap() {
        assert!(names(&instances).contains(&n["instance"].as_str().unwrap().to_string()));
        let area = areas
            .as_array()
            .unwrap()
            .iter()
            .find(|a| a["name"] == n["area"])
            .expect("the neighbour's area exists");
        assert_eq!(area["instance"], n["instance"]);
        assert_eq!(area["area-id"], json!("0.0.0.0"));
    }
    let (_, conns) = sim.get("/routing/bgp/connection").await;
    let (_, templates) = sim.get("/routing/bgp/template").await;
    let (_, sessions) = sim.get("/routing/bgp/session").await;
    for c in conns.as_array().unwrap() {
        assert!(names(&templates).contains(&c["templates"].as_str().unwrap().to_string()));
        let session = sessions
            .as_array()
            .unwrap()
            .iter()
            .find(|s| s["remote.address"] == c["remote.address"]);
        if c["disabled"] == json!("true") {
            assert!(session.is_none(), "a disabled connection has no session");
        } else {
            let s = session.expect("an enabled connection has a session");
            assert_eq!(s["established"], json!("true"));
            assert_eq!(s["remote.as"], c["remote.as"]);
            assert!(s["uptime"].as_str().is_some());
        }
    }
    // Every routing table a route names is listed.
    let (_, tables) = sim.get("/routing/table").await;
    assert!(names(&tables).contains(&"main".to_string()));
    let (_, nw) = sim.get("/tool/netwatch").await;
    assert!(
        nw.as_array()
            .unwrap()
            .iter()
            .all(|e| e["status"] == json!("up"))
    );
    sim.fleet.shutdown().await;
}

fn one<'a>(list: &'a Value, key: &str, value: &str) -> Option<&'a Value> {
    list.as_array()
        .unwrap()
        .iter()
        .find(|r| r[key] == json!(value))
}

#[tokio::test]
async fn edge_ospf_interfaces_follow_templates_addresses_and_links() {
    let sim = sim_of(Profile::Edge).await;
    // The template for sfp-sfpplus2 and 10.0.0.0/22: one entry, and the neighbours elected
    // 10.0.0.2 and 10.0.0.3, so this router is neither DR nor BDR.
    let (_, ifs) = sim.get("/routing/ospf/interface").await;
    assert_eq!(ifs.as_array().unwrap().len(), 1, "{ifs}");
    let lan = &ifs[0];
    assert_eq!(lan["address"], json!("10.0.0.1%sfp-sfpplus2"));
    assert_eq!(lan["area"], json!("backbone"));
    assert_eq!(lan["state"], json!("dr-other"));
    assert_eq!(lan["network-type"], json!("broadcast"));
    assert_eq!(lan["priority"], json!("128"));
    assert_eq!(lan["dynamic"], json!("true"));
    let (st, body) = sim
        .put("/routing/ospf/interface", json!({"area": "x"}))
        .await;
    assert_eq!(st.as_u16(), 406, "filled by the router: {body}");

    // A point-to-point template on the uplink adds an entry without a priority; the old
    // entry keeps its id.
    let (_, addrs) = sim.get("/ip/address").await;
    let uplink = addrs
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["interface"] == json!("sfp-sfpplus1"))
        .expect("the uplink has an address");
    let ip = uplink["address"]
        .as_str()
        .unwrap()
        .split('/')
        .next()
        .unwrap();
    let (st, body) = sim
        .put(
            "/routing/ospf/interface-template",
            json!({"area": "backbone", "interfaces": "sfp-sfpplus1", "type": "ptp", "cost": "100"}),
        )
        .await;
    assert_eq!(st, StatusCode::CREATED, "{body}");
    let ptp_template = body[".id"].as_str().unwrap().to_string();
    let (_, ifs) = sim.get("/routing/ospf/interface").await;
    let ptp = one(&ifs, "address", &format!("{ip}%sfp-sfpplus1")).expect("uplink entry");
    assert_eq!(ptp["state"], json!("ptp"));
    assert_eq!(ptp["cost"], json!("100"));
    assert!(ptp.get("priority").is_none(), "{ptp}");
    assert_eq!(
        one(&ifs, "address", "10.0.0.1%sfp-sfpplus2").unwrap()[".id"],
        lan[".id"]
    );

    // A link that stops running shows `down`; a disabled template takes its entries away.
    let (st, body) = sim
        .patch("/interface/sfp-sfpplus2", json!({"disabled": "true"}))
        .await;
    assert!(st.is_success(), "{body}");
    let (_, ifs) = sim.get("/routing/ospf/interface").await;
    assert_eq!(
        one(&ifs, "address", "10.0.0.1%sfp-sfpplus2").unwrap()["state"],
        json!("down")
    );
    let (st, body) = sim
        .patch(
            &format!("/routing/ospf/interface-template/{ptp_template}"),
            json!({"disabled": "true"}),
        )
        .await;
    assert!(st.is_success(), "{body}");
    let (_, ifs) = sim.get("/routing/ospf/interface").await;
    assert!(
        one(&ifs, "address", &format!("{ip}%sfp-sfpplus1")).is_none(),
        "{ifs}"
    );
    assert_eq!(ifs.as_array().unwrap().len(), 1);
    sim.fleet.shutdown().await;
}

#[tokio::test]
async fn home_peers_and_leases_print_what_routeros_7_15_prints() {
    let sim = sim_of(Profile::Home).await;
    let (_, peers) = sim.get("/interface/wireguard/peers").await;
    for peer in peers.as_array().unwrap() {
        // Road warriors: no endpoint of their own, connected from somewhere, handshaking.
        assert_eq!(peer["endpoint-address"], json!(""), "{peer}");
        assert!(
            peer["current-endpoint-address"]
                .as_str()
                .unwrap()
                .starts_with("192.0.2.")
        );
        assert_ne!(peer["current-endpoint-port"], json!("0"));
        assert!(peer["last-handshake"].is_string(), "{peer}");
        assert_eq!(peer["client-address"], peer["allowed-address"]);
        assert_eq!(peer["preshared-key"], json!(""));
        assert!(peer.get("persistent-keepalive").is_none(), "{peer}");
        assert!(peer.get("responder").is_none(), "{peer}");
    }
    // A peer with an endpoint of its own shows it as the current one once it handshakes.
    let (st, body) = sim
        .put(
            "/interface/wireguard/peers",
            json!({"interface": "wg0", "name": "office", "allowed-address": "10.100.1.0/24",
                   "public-key": "dcKiJ0TpLjtSWZh3G0ILJ9cL56fTIfHBAsZsXdDIlFM=",
                   "endpoint-address": "198.51.100.10", "endpoint-port": "51820"}),
        )
        .await;
    assert_eq!(st, StatusCode::CREATED, "{body}");
    let (_, peers) = sim.get("/interface/wireguard/peers").await;
    let office = one(&peers, "name", "office").unwrap();
    assert_eq!(office["current-endpoint-address"], json!("198.51.100.10"));
    assert_eq!(office["current-endpoint-port"], json!("51820"));

    // Dynamic leases run on their server's lease time (30m) and have an age; static ones
    // carry no age.
    let (_, leases) = sim.get("/ip/dhcp-server/lease").await;
    let mut dynamic = 0;
    for l in leases.as_array().unwrap() {
        let left = l["expires-after"].as_str().unwrap();
        assert!(!left.contains('h'), "a 30m lease expires within 30m: {l}");
        if l["dynamic"] == json!("true") {
            dynamic += 1;
            assert!(l["age"].is_string(), "{l}");
        } else {
            assert!(l.get("age").is_none(), "{l}");
        }
    }
    assert!(dynamic >= 2, "{leases}");

    // The radios are bridged with the LAN ports as defconf does, and the wireless clients
    // among the DHCP clients are associated with them.
    let (_, ports) = sim.get("/interface/bridge/port").await;
    for radio in ["wifi1", "wifi2"] {
        let port = one(&ports, "interface", radio).expect("radio bridged");
        assert_eq!(port["bridge"], json!("bridge"));
    }
    let (_, stations) = sim.get("/interface/wifi/registration-table").await;
    let stations = stations.as_array().unwrap();
    assert!(!stations.is_empty());
    for st in stations {
        let mac = st["mac-address"].as_str().unwrap();
        let lease = one(&leases, "mac-address", mac).expect("a station has a lease");
        let host = lease["host-name"].as_str().unwrap();
        assert!(
            ["laptop", "phone", "tv"].iter().any(|k| host.contains(k)),
            "{host}"
        );
        let radio = if host.contains("tv") {
            "wifi2"
        } else {
            "wifi1"
        };
        assert_eq!(st["interface"], json!(radio), "{st}");
        assert!(st["signal"].as_str().unwrap().starts_with('-'));
        assert!(st["uptime"].is_string() && st["bytes"].is_string());
    }
    let (st, body) = sim
        .put(
            "/interface/wifi/registration-table",
            json!({"interface": "wifi1"}),
        )
        .await;
    assert_eq!(st.as_u16(), 406, "filled by the router: {body}");
    sim.fleet.shutdown().await;
}

#[tokio::test]
async fn routing_menus_validate_their_input() {
    let sim = sim_of(Profile::Home).await;
    let (st, body) = sim
        .put("/routing/table", json!({"name": "vpn", "fib": "maybe"}))
        .await;
    assert_eq!(st, StatusCode::BAD_REQUEST, "{body}");
    assert_eq!(body["detail"], json!("invalid value for argument fib"));
    let (st, body) = sim.put("/routing/table", json!({"name": "main"})).await;
    assert_eq!(st, StatusCode::BAD_REQUEST, "{body}");
    assert_eq!(
        body["detail"],
        json!("failure: table with such name already exists")
    );
    let (st, body) = sim
        .put(
            "/routing/ospf/area",
            json!({"name": "a", "instance": "missing"}),
        )
        .await;
    assert_eq!(st, StatusCode::BAD_REQUEST, "{body}");
    assert_eq!(
        body["detail"],
        json!("input does not match any value of instance")
    );
    sim.fleet.shutdown().await;
}

#[tokio::test]
async fn status_menus_refuse_writes_and_settings_menus_take_them() {
    let sim = sim_of(Profile::Home).await;
    for path in [
        "/user/active",
        "/routing/bgp/session",
        "/ipv6/neighbor",
        "/system/license",
    ] {
        let (st, body) = sim.put(path, json!({"name": "x"})).await;
        assert_eq!(st.as_u16(), 406, "PUT {path}: {body}");
        assert_eq!(body["detail"], json!("no such command or directory (add)"));
    }
    let (st, body) = sim.patch("/system/license", json!({"nlevel": "6"})).await;
    assert!(st.is_client_error(), "PATCH license: {body}");
    let (_, lic) = sim.get("/system/license").await;
    assert_eq!(lic["nlevel"], json!("4"), "the hAP ax² is level 4");

    let (st, body) = sim
        .patch("/ip/settings", json!({"rp-filter": "strict"}))
        .await;
    assert_eq!(st, StatusCode::OK, "{body}");
    assert_eq!(body["rp-filter"], json!("strict"));
    let (st, body) = sim
        .patch("/ip/settings", json!({"rp-filter": "sometimes"}))
        .await;
    assert_eq!(st, StatusCode::BAD_REQUEST);
    assert_eq!(
        body["detail"],
        json!("invalid value for argument rp-filter")
    );
    let (st, body) = sim
        .patch("/ip/settings", json!({"ipv4-fast-path-active": "false"}))
        .await;
    assert_eq!(st, StatusCode::BAD_REQUEST);
    assert_eq!(
        body["detail"],
        json!("unknown parameter ipv4-fast-path-active")
    );

    // wifi: interfaces are built in; security passphrases are sensitive.
    let (st, body) = sim.put("/interface/wifi", json!({"name": "wifi3"})).await;
    assert_eq!(st.as_u16(), 406, "{body}");
    let (st, body) = sim
        .patch("/interface/wifi/wifi1", json!({"configuration": "missing"}))
        .await;
    assert_eq!(st, StatusCode::BAD_REQUEST);
    assert_eq!(
        body["detail"],
        json!("input does not match any value of configuration")
    );
    let (st, body) = sim
        .patch("/interface/wifi/wifi2", json!({"disabled": "true"}))
        .await;
    assert_eq!(st, StatusCode::OK, "{body}");
    let (_, iface) = sim.get("/interface/wifi2").await;
    assert_eq!(iface["running"], json!("false"));
    let (_, sec) = sim.get("/interface/wifi/security").await;
    assert!(sec[0]["passphrase"].as_str().is_some_and(|p| p.len() >= 8));
    sim.fleet.shutdown().await;
}

fn ssh_addr(sim: &Sim) -> SocketAddr {
    SocketAddr::new(sim.dev.address.parse().unwrap(), sim.dev.ssh_port)
}

#[tokio::test]
async fn user_active_lists_the_sessions_really_open() {
    let sim = sim_of(Profile::Switch48).await;
    // The REST request itself is a session while it is served.
    let (_, active) = sim.get("/user/active").await;
    let rows = active.as_array().unwrap();
    assert_eq!(rows.len(), 1, "{active}");
    assert_eq!(rows[0]["via"], json!("rest-api"));
    assert_eq!(rows[0]["name"], json!(sim.dev.username));
    assert_eq!(rows[0]["address"], json!("127.0.0.1"));
    assert_eq!(rows[0]["group"], json!("full"));

    let conn = ssh_support::connect(
        ssh_addr(&sim),
        &sim.dev.username,
        "secret",
        Duration::from_secs(20),
    )
    .await
    .unwrap();
    let (out, _) = conn.exec("/user active print count-only").await;
    assert_eq!(out.trim(), "1", "the console sees its own session");
    let (_, active) = sim.get("/user/active").await;
    let vias: Vec<&str> = active
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["via"].as_str().unwrap())
        .collect();
    assert_eq!(vias, ["ssh", "rest-api"]);

    drop(conn);
    let mut gone = false;
    for _ in 0..100 {
        let (_, active) = sim.get("/user/active").await;
        if active.as_array().unwrap().len() == 1 {
            gone = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(gone, "the SSH session left /user/active when it closed");
    // A failed login opens nothing.
    assert!(
        ssh_support::connect(
            ssh_addr(&sim),
            &sim.dev.username,
            "wrong",
            Duration::from_secs(20)
        )
        .await
        .is_err()
    );
    let (_, active) = sim.get("/user/active").await;
    assert_eq!(active.as_array().unwrap().len(), 1);
    sim.fleet.shutdown().await;
}
