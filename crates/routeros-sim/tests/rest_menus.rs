//! REST round trips for every menu of the table: create, read, update, print with
//! `.proplist`/`.query`, filter, delete — and the right refusals where RouterOS has no such
//! command. A menu added to the table without a sample here fails
//! `every_addable_menu_has_a_round_trip_sample`.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod rest_support;

use reqwest::StatusCode;
use rest_support::{all_strings, home};
use routeros_sim::model::{MenuKind, menus};
use serde_json::{Value, json};

const KEY: &str = "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=";

/// `(menu, add body, patch body)` with values already in RouterOS's canonical form.
fn samples() -> Vec<(&'static str, Value, Value)> {
    vec![
        (
            "/system/scheduler",
            json!({"name": "t1", "interval": "1h", "on-event": ":log info hi"}),
            json!({"interval": "30m"}),
        ),
        (
            "/system/script",
            json!({"name": "s1", "source": ":put 1"}),
            json!({"source": ":put 2"}),
        ),
        (
            "/system/logging",
            json!({"topics": "firewall", "action": "memory"}),
            json!({"prefix": "fw"}),
        ),
        (
            "/system/logging/action",
            json!({"name": "remote1", "target": "remote", "remote": "192.0.2.10"}),
            json!({"remote-port": "1514"}),
        ),
        (
            "/interface/bridge",
            json!({"name": "br-test"}),
            json!({"vlan-filtering": "true"}),
        ),
        (
            "/interface/bridge/port",
            json!({"interface": "ether1", "bridge": "bridge"}),
            json!({"pvid": "5"}),
        ),
        (
            "/interface/bridge/vlan",
            json!({"bridge": "bridge", "vlan-ids": "50", "tagged": "bridge,ether2"}),
            json!({"untagged": "ether3"}),
        ),
        (
            "/interface/vlan",
            json!({"name": "vlan77", "interface": "ether2", "vlan-id": "77"}),
            json!({"mtu": "1400"}),
        ),
        (
            "/interface/wireguard",
            json!({"name": "wg9", "listen-port": "51820"}),
            json!({"mtu": "1380"}),
        ),
        (
            "/interface/wireguard/peers",
            json!({"interface": "wg0", "public-key": KEY, "allowed-address": "10.100.0.9/32"}),
            json!({"endpoint-port": "51000"}),
        ),
        (
            "/interface/list",
            json!({"name": "MGMT"}),
            json!({"comment": "c"}),
        ),
        (
            "/interface/list/member",
            json!({"list": "LAN", "interface": "ether3"}),
            json!({"comment": "c"}),
        ),
        (
            "/ip/address",
            json!({"address": "10.77.0.1/24", "interface": "ether3"}),
            json!({"comment": "c"}),
        ),
        (
            "/ip/route",
            json!({"dst-address": "10.200.0.0/16", "gateway": "192.168.88.2"}),
            json!({"distance": "5"}),
        ),
        (
            "/ip/arp",
            json!({"address": "192.168.88.77", "mac-address": "02:00:00:00:00:77", "interface": "bridge"}),
            json!({"comment": "c"}),
        ),
        (
            "/ip/dns/static",
            json!({"name": "nas.lan", "address": "192.168.88.50"}),
            json!({"ttl": "1h"}),
        ),
        (
            "/ip/dhcp-server",
            json!({"name": "dhcp-test", "interface": "ether3"}),
            json!({"lease-time": "1h"}),
        ),
        (
            "/ip/dhcp-server/lease",
            json!({"address": "192.168.88.60", "mac-address": "02:00:00:00:00:60", "server": "defconf"}),
            json!({"comment": "c"}),
        ),
        (
            "/ip/dhcp-server/network",
            json!({"address": "10.77.0.0/24", "gateway": "10.77.0.1"}),
            json!({"dns-server": "10.77.0.1"}),
        ),
        (
            "/ip/dhcp-client",
            json!({"interface": "ether4"}),
            json!({"use-peer-dns": "false"}),
        ),
        (
            "/ip/pool",
            json!({"name": "pool-test", "ranges": "10.77.0.10-10.77.0.99"}),
            json!({"comment": "c"}),
        ),
        (
            "/ip/firewall/filter",
            json!({"chain": "input", "action": "drop", "protocol": "tcp", "dst-port": "23"}),
            json!({"comment": "no telnet"}),
        ),
        (
            "/ip/firewall/nat",
            json!({"chain": "dstnat", "action": "dst-nat", "protocol": "tcp", "dst-port": "8080", "to-addresses": "192.168.88.10", "to-ports": "80"}),
            json!({"comment": "c"}),
        ),
        (
            "/ip/firewall/mangle",
            json!({"chain": "prerouting", "action": "mark-connection", "new-connection-mark": "m1"}),
            json!({"passthrough": "false"}),
        ),
        (
            "/ip/firewall/raw",
            json!({"chain": "prerouting", "action": "notrack", "src-address": "10.0.0.0/8"}),
            json!({"comment": "c"}),
        ),
        (
            "/ip/firewall/address-list",
            json!({"list": "test", "address": "203.0.113.5"}),
            json!({"comment": "c"}),
        ),
        (
            "/ip/hotspot",
            json!({"name": "hs1", "interface": "ether4"}),
            json!({"idle-timeout": "10m"}),
        ),
        (
            "/ipv6/address",
            json!({"address": "2001:db8::1/64", "interface": "bridge"}),
            json!({"advertise": "false"}),
        ),
        (
            "/ipv6/route",
            json!({"dst-address": "2001:db8:1::/48", "gateway": "fe80::1"}),
            json!({"distance": "3"}),
        ),
        (
            "/queue/simple",
            json!({"name": "q1", "target": "192.168.88.10/32", "max-limit": "10M/10M"}),
            json!({"max-limit": "20M/20M"}),
        ),
        (
            "/ppp/secret",
            json!({"name": "u1", "password": "p1", "service": "pppoe"}),
            json!({"remote-address": "10.9.0.2"}),
        ),
        (
            "/ppp/profile",
            json!({"name": "prof1"}),
            json!({"rate-limit": "1M/1M"}),
        ),
        (
            "/certificate",
            json!({"name": "c1", "common-name": "test"}),
            json!({"trusted": "true"}),
        ),
        (
            "/routing/bgp/connection",
            json!({"name": "peer1", "local.role": "ebgp", "remote.address": "192.0.2.1", "remote.as": "65001"}),
            json!({"hold-time": "2m"}),
        ),
        (
            "/snmp/community",
            json!({"name": "monitor", "addresses": "10.0.0.0/8"}),
            json!({"read-access": "false"}),
        ),
        (
            "/user",
            json!({"name": "u2", "group": "read", "password": "x"}),
            json!({"comment": "c"}),
        ),
        (
            "/user/group",
            json!({"name": "g1", "policy": "read,api,rest-api"}),
            json!({"skin": "custom"}),
        ),
        (
            "/routing/ospf/instance",
            json!({"name": "v2-lab", "router-id": "10.9.9.9"}),
            json!({"originate-default": "always"}),
        ),
        (
            "/routing/ospf/area",
            json!({"name": "a1", "instance": "lab", "area-id": "0.0.0.1"}),
            json!({"type": "stub"}),
        ),
        (
            "/routing/ospf/interface-template",
            json!({"area": "lab-area", "interfaces": "ether3"}),
            json!({"cost": "20"}),
        ),
        (
            "/routing/bgp/template",
            json!({"name": "peers", "as": "65001"}),
            json!({"multihop": "true"}),
        ),
        (
            "/routing/table",
            json!({"name": "vpn", "fib": "true"}),
            json!({"comment": "c"}),
        ),
        (
            "/routing/rule",
            json!({"src-address": "10.8.0.0/24", "table": "vpn"}),
            json!({"action": "lookup-only-in-table"}),
        ),
        (
            "/routing/filter/rule",
            json!({"chain": "bgp-in", "rule": "accept"}),
            json!({"rule": "reject"}),
        ),
        (
            "/ip/vrf",
            json!({"name": "vrf-lab", "interfaces": "ether5"}),
            json!({"comment": "c"}),
        ),
        (
            "/ipv6/nd",
            json!({"interface": "bridge", "ra-lifetime": "1h"}),
            json!({"advertise-dns": "false"}),
        ),
        (
            "/ipv6/pool",
            json!({"name": "p6", "prefix": "2001:db8:100::/48", "prefix-length": "64"}),
            json!({"comment": "c"}),
        ),
        (
            "/ipv6/dhcp-client",
            json!({"interface": "ether1", "request": "prefix", "pool-name": "isp6"}),
            json!({"add-default-route": "true"}),
        ),
        (
            "/queue/tree",
            json!({"name": "q-down", "parent": "global", "max-limit": "100M"}),
            json!({"priority": "2"}),
        ),
        (
            "/queue/type",
            json!({"name": "pcq-lab", "kind": "pcq", "pcq-rate": "10M"}),
            json!({"pcq-classifier": "dst-address"}),
        ),
        (
            "/tool/netwatch",
            json!({"host": "192.168.88.10", "type": "icmp"}),
            json!({"interval": "1m"}),
        ),
        (
            "/interface/wifi/configuration",
            json!({"name": "guest", "ssid": "Guest", "security": "home-sec"}),
            json!({"hide-ssid": "true"}),
        ),
        (
            "/interface/wifi/security",
            json!({"name": "guest-sec", "authentication-types": "wpa2-psk"}),
            json!({"ft": "true"}),
        ),
        (
            "/interface/wifi/channel",
            json!({"name": "ch-36", "band": "5ghz-ax", "frequency": "5180"}),
            json!({"width": "20mhz"}),
        ),
    ]
}

#[test]
fn every_addable_menu_has_a_round_trip_sample() {
    let covered: Vec<&str> = samples().iter().map(|s| s.0).collect();
    for m in menus() {
        if m.can_add {
            assert!(
                covered.contains(&m.path),
                "no REST round-trip sample for {}",
                m.path
            );
        }
    }
}

#[tokio::test]
async fn add_read_update_print_delete_every_addable_menu() {
    let sim = home().await;
    // What samples refer to (each sample's own item is removed after its round trip).
    for (path, body) in [
        ("/routing/ospf/instance", json!({"name": "lab"})),
        (
            "/routing/ospf/area",
            json!({"name": "lab-area", "instance": "lab"}),
        ),
    ] {
        let (st, got) = sim.put(path, body).await;
        assert_eq!(st, StatusCode::CREATED, "PUT {path}: {got}");
    }
    for (path, add, patch) in samples() {
        let (st, created) = sim.put(path, add.clone()).await;
        assert_eq!(st, StatusCode::CREATED, "PUT {path}: {created}");
        all_strings(&created);
        let id = created[".id"].as_str().unwrap().to_string();
        for (k, v) in add.as_object().unwrap() {
            if path == "/user" && k == "password" {
                assert!(created.get(k).is_none(), "{path} must not return {k}");
            } else {
                assert_eq!(&created[k], v, "{path} {k}");
            }
        }

        let item = format!("{path}/{id}");
        let (st, got) = sim.get(&item).await;
        assert_eq!(st, StatusCode::OK, "GET {item}");
        for (k, v) in add.as_object().unwrap() {
            if !(path == "/user" && k == "password") {
                assert_eq!(&got[k], v, "GET {item} {k}");
            }
        }

        let (st, patched) = sim.patch(&item, patch.clone()).await;
        assert_eq!(st, StatusCode::OK, "PATCH {item}: {patched}");
        let (pk, pv) = patch.as_object().unwrap().iter().next().unwrap();
        assert_eq!(&patched[pk], pv, "PATCH {item}");
        let (_, reread) = sim.get(&item).await;
        assert_eq!(&reread[pk], pv, "re-read {item}");

        let first_key = add
            .as_object()
            .unwrap()
            .keys()
            .find(|k| *k != pk && k.as_str() != "password")
            .cloned();
        let (st, printed) = sim
            .post(
                &format!("{path}/print"),
                json!({".proplist": [".id", pk], ".query": [format!(".id={id}")]}),
            )
            .await;
        assert_eq!(st, StatusCode::OK, "print {path}");
        let printed = printed.as_array().unwrap();
        assert_eq!(printed.len(), 1, "print {path} by .id");
        assert_eq!(printed[0].as_object().unwrap().len(), 2, "proplist {path}");
        assert_eq!(&printed[0][pk.as_str()], pv);

        if let Some(first_key) = first_key {
            let value = add[&first_key].as_str().unwrap();
            let url =
                reqwest::Url::parse_with_params(&sim.http(path), &[(first_key.as_str(), value)])
                    .unwrap();
            let resp = sim
                .client
                .get(url)
                .basic_auth(&sim.dev.username, Some(&sim.dev.password))
                .send()
                .await
                .unwrap();
            let list: Value = resp.json().await.unwrap();
            assert!(
                list.as_array()
                    .unwrap()
                    .iter()
                    .any(|r| r[".id"] == json!(id)),
                "GET {path}?{first_key}={value}"
            );
        }

        let (st, _) = sim.delete(&item).await;
        assert_eq!(st, StatusCode::NO_CONTENT, "DELETE {item}");
        let (st, _) = sim.get(&item).await;
        assert_eq!(st, StatusCode::NOT_FOUND, "GET after DELETE {item}");
    }
}

#[tokio::test]
async fn every_menu_answers_get() {
    let sim = home().await;
    for m in menus() {
        let (st, got) = sim.get(m.path).await;
        assert_eq!(st, StatusCode::OK, "GET {}", m.path);
        match m.kind {
            MenuKind::Singleton => all_strings(&got),
            MenuKind::List | MenuKind::Ordered => {
                for item in got.as_array().unwrap() {
                    all_strings(item);
                    assert!(item[".id"].as_str().unwrap().starts_with('*'));
                }
            }
        }
    }
}

#[tokio::test]
async fn singletons_set_and_read_back() {
    let sim = home().await;
    for (path, prop, value) in [
        ("/system/identity", "name", "core-router"),
        ("/system/clock", "time-zone-name", "Europe/Riga"),
        ("/system/ntp/client", "servers", "time.cloudflare.com"),
        ("/ip/dns", "servers", "9.9.9.9"),
        ("/ip/cloud", "ddns-enabled", "yes"),
        ("/snmp", "contact", "noc@example.net"),
    ] {
        let (st, got) = sim.patch(path, json!({ prop: value })).await;
        assert_eq!(st, StatusCode::OK, "PATCH {path}: {got}");
        assert_eq!(got[prop], json!(value));
        let (_, got) = sim.get(path).await;
        assert_eq!(got[prop], json!(value));
    }
    // POST <menu>/set on a singleton, as clients of the console API do.
    let (st, got) = sim
        .post("/system/identity/set", json!({"name": "edge-1"}))
        .await;
    assert_eq!((st, got), (StatusCode::OK, json!([])));
    let (_, got) = sim.get("/system/identity").await;
    assert_eq!(got, json!({"name": "edge-1"}));

    for path in ["/system/resource", "/system/routerboard"] {
        let (st, got) = sim.patch(path, json!({"cpu": "x"})).await;
        assert_eq!(st, StatusCode::NOT_ACCEPTABLE, "{path}: {got}");
    }
}

#[tokio::test]
async fn fixed_and_status_menus_refuse_add_and_remove() {
    let sim = home().await;
    for path in [
        "/log",
        "/ip/neighbor",
        "/system/health",
        "/ppp/active",
        "/ip/firewall/connection",
    ] {
        let (st, got) = sim.put(path, json!({"name": "x"})).await;
        assert_eq!(st, StatusCode::NOT_ACCEPTABLE, "PUT {path}");
        assert_eq!(got["detail"], json!("no such command or directory (add)"));
    }
    let (st, got) = sim.delete("/ip/service/www").await;
    assert_eq!(st, StatusCode::NOT_ACCEPTABLE);
    assert_eq!(
        got["detail"],
        json!("no such command or directory (remove)")
    );
    // Fixed menus still take `set`, by name.
    let (st, got) = sim
        .patch("/interface/ethernet/ether3", json!({"comment": "spare"}))
        .await;
    assert_eq!(st, StatusCode::OK, "{got}");
    assert_eq!(got["comment"], json!("spare"));
    let (st, got) = sim
        .post(
            "/ip/service/set",
            json!({"numbers": "telnet", "port": "2323"}),
        )
        .await;
    assert_eq!((st, got), (StatusCode::OK, json!([])));
    let (_, got) = sim.get("/ip/service/telnet").await;
    assert_eq!(got["port"], json!("2323"));
}
