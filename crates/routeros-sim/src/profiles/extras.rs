//! Content of the menus every profile shares beyond its own configuration — licence, routing
//! tables, BGP template, queue types, VRF, IPv6 ND, package update — and the profile-specific
//! parts of routing protocols, IPv6 neighbours, queue trees, netwatch and (on `home`) wifi.
//!
//! It runs after a profile's own builder, so it can read what the profile configured: BGP
//! sessions follow the BGP connections (one established session per enabled connection),
//! OSPF's instance and area are the ones the neighbours name, and `/routing/table` lists every
//! table a route or connection names.

use std::collections::BTreeSet;

use super::{Builder, Profile};
use crate::model::{RosError, WIFI_PACKAGE};

/// Adds the shared and profile-specific content.
pub(super) fn build(profile: Profile, b: &mut Builder<'_>) -> Result<(), RosError> {
    let level = match profile {
        Profile::Home => "4",
        Profile::Switch48 => "5",
        Profile::Edge => "6",
    };
    common(b, level)?;
    match profile {
        Profile::Home => home(b)?,
        Profile::Switch48 => switch48(b)?,
        Profile::Edge => edge(b)?,
    }
    routing_tables(b)
}

fn common(b: &mut Builder<'_>, level: &str) -> Result<(), RosError> {
    let software_id = crate::cli::export::software_id(b.state.seed());
    b.add(
        "/system/license",
        &[("software-id", &software_id), ("nlevel", level)],
    )?;
    b.add(
        "/system/package/update",
        &[
            ("channel", "stable"),
            ("installed-version", super::ROUTEROS_VERSION),
            ("latest-version", super::ROUTEROS_VERSION),
            ("status", "System is already up to date"),
        ],
    )?;
    for (name, kind) in [
        ("default", "pfifo"),
        ("ethernet-default", "pfifo"),
        ("wireless-default", "sfq"),
        ("synchronous-default", "red"),
        ("hotspot-default", "sfq"),
        ("pcq-upload-default", "pcq"),
        ("pcq-download-default", "pcq"),
        ("only-hardware-queue", "none"),
        ("multi-queue-ethernet-default", "mq-pfifo"),
        ("default-small", "pfifo"),
    ] {
        b.add(
            "/queue/type",
            &[("name", name), ("kind", kind), ("default", "true")],
        )?;
    }
    b.add(
        "/ip/vrf",
        &[("name", "main"), ("interfaces", "all"), ("builtin", "true")],
    )?;
    b.add("/ipv6/nd", &[("interface", "all"), ("default", "true")])?;
    Ok(())
}

/// `/routing/table`: the built-in `main` and every other table a route or connection names.
fn routing_tables(b: &mut Builder<'_>) -> Result<(), RosError> {
    let mut names = BTreeSet::new();
    for path in ["/ip/route", "/ipv6/route", "/routing/bgp/connection"] {
        for it in b.state.items_of(path) {
            if let Some(t) = it.get("routing-table") {
                names.insert(t.to_string());
            }
        }
    }
    names.remove("main");
    b.add(
        "/routing/table",
        &[("name", "main"), ("fib", "true"), ("dynamic", "true")],
    )?;
    for name in names {
        b.add("/routing/table", &[("name", &name), ("fib", "true")])?;
    }
    Ok(())
}

/// The default BGP template every RouterOS 7 device has.
fn bgp_default_template(
    b: &mut Builder<'_>,
    asn: &str,
    router_id: Option<&str>,
) -> Result<(), RosError> {
    let mut props = vec![("name", "default"), ("as", asn), ("default", "true")];
    if let Some(id) = router_id {
        props.push(("router-id", id));
    }
    b.add("/routing/bgp/template", &props)?;
    Ok(())
}

fn ipv6_neighbors(
    b: &mut Builder<'_>,
    iface: &str,
    count: u32,
    purpose: &str,
    router: Option<&str>,
) -> Result<(), RosError> {
    let mut rng = b.params.rng(purpose);
    if let Some(addr) = router {
        let mac = Builder::client_mac(&mut rng);
        b.add(
            "/ipv6/neighbor",
            &[
                ("address", addr),
                ("interface", iface),
                ("mac-address", &mac),
                ("status", "reachable"),
                ("router", "true"),
            ],
        )?;
    }
    for _ in 0..count {
        let mac = Builder::client_mac(&mut rng);
        let bytes: Vec<u8> = mac
            .split(':')
            .filter_map(|h| u8::from_str_radix(h, 16).ok())
            .collect();
        if bytes.len() != 6 {
            continue;
        }
        // The EUI-64 link-local address of that MAC address.
        let addr = format!(
            "fe80::{:x}:{:x}:{:x}:{:x}",
            u16::from_be_bytes([bytes[0] ^ 0x02, bytes[1]]),
            u16::from_be_bytes([bytes[2], 0xFF]),
            u16::from_be_bytes([0xFE, bytes[3]]),
            u16::from_be_bytes([bytes[4], bytes[5]]),
        );
        let status = *rng.pick(&["reachable", "stale", "delay"]);
        b.add(
            "/ipv6/neighbor",
            &[
                ("address", &addr),
                ("interface", iface),
                ("mac-address", &mac),
                ("status", status),
            ],
        )?;
    }
    Ok(())
}

fn home(b: &mut Builder<'_>) -> Result<(), RosError> {
    b.state.install_package(WIFI_PACKAGE);
    bgp_default_template(b, "65530", None)?;
    let mut rng = b.params.rng("home-wifi");
    let pass: [u8; 8] = rng.bytes();
    let passphrase = hex::encode(pass);
    let ssid = format!("MikroTik-{}", &hex::encode(rng.bytes::<3>()).to_uppercase());
    b.add(
        "/interface/wifi/security",
        &[
            ("name", "home-sec"),
            ("authentication-types", "wpa2-psk,wpa3-psk"),
            ("passphrase", &passphrase),
        ],
    )?;
    b.add(
        "/interface/wifi/channel",
        &[
            ("name", "ch-5ghz"),
            ("band", "5ghz-ax"),
            ("width", "20/40/80mhz"),
            ("skip-dfs-channels", "10min-cac"),
        ],
    )?;
    b.add(
        "/interface/wifi/channel",
        &[
            ("name", "ch-2ghz"),
            ("band", "2ghz-ax"),
            ("width", "20/40mhz"),
        ],
    )?;
    for (cfg, channel) in [("cfg-5ghz", "ch-5ghz"), ("cfg-2ghz", "ch-2ghz")] {
        b.add(
            "/interface/wifi/configuration",
            &[
                ("name", cfg),
                ("mode", "ap"),
                ("ssid", &ssid),
                ("country", "Latvia"),
                ("security", "home-sec"),
                ("channel", channel),
            ],
        )?;
    }
    for (name, cfg, band, width) in [
        ("wifi1", "cfg-5ghz", "5ghz-ax", "20/40/80mhz"),
        ("wifi2", "cfg-2ghz", "2ghz-ax", "20/40mhz"),
    ] {
        let mac = b.mac();
        b.add(
            "/interface/wifi",
            &[
                ("name", name),
                ("default-name", name),
                ("mac-address", &mac),
                ("radio-mac", &mac),
                ("l2mtu", "1560"),
                ("configuration", cfg),
                ("configuration.mode", "ap"),
                ("configuration.ssid", &ssid),
                ("configuration.country", "Latvia"),
                ("channel.band", band),
                ("channel.width", width),
                ("security.authentication-types", "wpa2-psk,wpa3-psk"),
            ],
        )?;
    }
    // defconf bridges both radios with the wired LAN ports.
    for radio in ["wifi1", "wifi2"] {
        b.add(
            "/interface/bridge/port",
            &[
                ("bridge", "bridge"),
                ("interface", radio),
                ("comment", "defconf"),
            ],
        )?;
    }
    // The wireless clients among the DHCP clients are associated: phones and laptops on
    // 5 GHz, the TV on 2.4 GHz.
    let stations: Vec<(String, String)> = b
        .state
        .items_of("/ip/dhcp-server/lease")
        .filter_map(|l| {
            Some((
                l.get("host-name")?.to_string(),
                l.get("mac-address")?.to_string(),
            ))
        })
        .filter(|(h, _)| ["laptop", "phone", "tv"].iter().any(|k| h.contains(k)))
        .collect();
    let mut rng = b.params.rng("home-wifi-stations");
    for (host, mac) in stations {
        let (radio, band, rate) = if host.contains("tv") {
            ("wifi2", "2ghz-n", "144.4Mbps-20MHz/2S/SGI")
        } else {
            ("wifi1", "5ghz-ax", "1200.9Mbps-80MHz/2S")
        };
        let signal = format!("-{}", 45 + rng.below(30));
        b.add(
            "/interface/wifi/registration-table",
            &[
                ("interface", radio),
                ("ssid", &ssid),
                ("mac-address", &mac),
                ("signal", &signal),
                ("auth-type", "wpa2-psk"),
                ("band", band),
                ("tx-rate", rate),
                ("rx-rate", rate),
            ],
        )?;
    }
    ipv6_neighbors(b, "bridge", 4, "home-ipv6-neighbors", Some("fe80::1"))?;
    b.add(
        "/tool/netwatch",
        &[
            ("host", "1.1.1.1"),
            ("type", "icmp"),
            ("interval", "30s"),
            ("comment", "internet"),
        ],
    )?;
    Ok(())
}

fn switch48(b: &mut Builder<'_>) -> Result<(), RosError> {
    bgp_default_template(b, "65530", None)?;
    Ok(())
}

fn edge(b: &mut Builder<'_>) -> Result<(), RosError> {
    bgp_default_template(b, "64512", Some("203.0.113.2"))?;
    b.add(
        "/routing/ospf/instance",
        &[
            ("name", "default-v2"),
            ("version", "2"),
            ("router-id", "10.0.0.1"),
            ("redistribute", "connected,static"),
            ("originate-default", "if-installed"),
        ],
    )?;
    b.add(
        "/routing/ospf/area",
        &[
            ("name", "backbone"),
            ("instance", "default-v2"),
            ("area-id", "0.0.0.0"),
        ],
    )?;
    b.add(
        "/routing/ospf/interface-template",
        &[
            ("area", "backbone"),
            ("interfaces", "sfp-sfpplus2"),
            ("networks", "10.0.0.0/22"),
            ("type", "broadcast"),
        ],
    )?;
    // One session per enabled connection; it is established.
    let conns: Vec<(String, String, String, String)> = b
        .state
        .items_of("/routing/bgp/connection")
        .filter(|c| !c.is_true("disabled"))
        .map(|c| {
            let get = |k: &str| c.get(k).unwrap_or("").to_string();
            (
                get("name"),
                get("remote.address"),
                get("remote.as"),
                get("local.role"),
            )
        })
        .collect();
    let mut rng = b.params.rng("edge-bgp");
    for (name, remote, remote_as, role) in conns {
        let prefixes = (900_000 + rng.below(100_000)).to_string();
        b.add(
            "/routing/bgp/session",
            &[
                ("name", &format!("{name}-1")),
                ("remote.address", &remote),
                ("remote.as", &remote_as),
                ("remote.id", &remote),
                ("remote.capabilities", "mp,rr,gr,as4"),
                ("local.address", "203.0.113.2"),
                ("local.as", "64512"),
                ("local.id", "203.0.113.2"),
                ("local.role", &role),
                ("prefix-count", &prefixes),
                ("hold-time", "3m"),
                ("keepalive-time", "1m"),
                ("established", "true"),
            ],
        )?;
    }
    ipv6_neighbors(b, "sfp-sfpplus2", 6, "edge-ipv6-neighbors", None)?;
    b.add(
        "/tool/netwatch",
        &[
            ("host", "203.0.113.1"),
            ("type", "icmp"),
            ("interval", "10s"),
            ("comment", "upstream-a"),
        ],
    )?;
    b.add(
        "/tool/netwatch",
        &[
            ("host", "198.51.100.1"),
            ("type", "icmp"),
            ("interval", "10s"),
            ("comment", "upstream-b"),
        ],
    )?;
    b.add(
        "/queue/tree",
        &[
            ("name", "uplink"),
            ("parent", "sfp-sfpplus1"),
            ("max-limit", "10G"),
            ("queue", "default"),
        ],
    )?;
    for (name, mark, prio, limit) in [
        ("voice", "voice", "1", "200M"),
        ("business", "business", "3", "4G"),
        ("bulk", "bulk", "8", "1G"),
    ] {
        b.add(
            "/queue/tree",
            &[
                ("name", name),
                ("parent", "uplink"),
                ("packet-mark", mark),
                ("priority", prio),
                ("limit-at", limit),
                ("max-limit", "10G"),
                ("queue", "pcq-upload-default"),
            ],
        )?;
    }
    Ok(())
}
